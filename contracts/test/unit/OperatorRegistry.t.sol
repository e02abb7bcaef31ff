// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {OperatorRegistry} from "../../src/operators/OperatorRegistry.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

contract OperatorRegistryTest is OperatorsFixture {
    uint256 internal home;

    function setUp() public {
        _deploy();
        home = _registerHome(alice, 5 ether); // covers 3 keys at score 0: 2 + 1.3 + 1.3 = 4.6
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ================================================================== init, storage, upgrades

    function test_initialize_SetsRoles() public view {
        vm.assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin), "admin");
        vm.assertTrue(registry.hasRole(registry.GUARDIAN_ROLE(), guardian), "guardian");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        registry.initialize(admin, guardian);
    }

    function test_initialize_RevertWhen_CalledOnImplementation() public {
        OperatorRegistry impl = new OperatorRegistry();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        impl.initialize(admin, guardian);
    }

    function test_initialize_RevertWhen_AdminZero() public {
        OperatorRegistry r = OperatorRegistry(address(new ERC1967Proxy(address(new OperatorRegistry()), "")));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        r.initialize(address(0), guardian);
    }

    function test_storageSlot_MatchesErc7201Formula() public view {
        bytes32 slot = _slot("claystack.storage.OperatorRegistry");
        vm.assertEq(slot, 0x3675260a22f0b71531e6b9ef7237dffcf1848b7c559b70787b53cb55f8d5f900, "constant");
        // field 0 is operatorCount
        vm.assertEq(
            uint256(vm.load(address(registry), slot)), registry.operatorCount(), "operatorCount at slot"
        );
        vm.assertEq(uint256(vm.load(address(registry), slot)), 1, "one operator");
    }

    function test_pauseSlot_MatchesErc7201Formula() public {
        bytes32 slot = _slot("claystack.storage.GuardianPausable");
        vm.assertEq(uint256(vm.load(address(registry), slot)), 0, "unpaused");
        vm.prank(guardian);
        registry.pause();
        vm.assertEq(uint256(vm.load(address(registry), slot)), 1, "paused flag at the formula's slot");
    }

    function test_upgradeToAndCall_ByAdmin() public {
        address impl = address(new OperatorRegistry());
        vm.prank(admin);
        registry.upgradeToAndCall(impl, "");
        vm.assertEq(registry.operatorCount(), 1, "state kept");
    }

    function test_upgradeToAndCall_RevertWhen_NotAdmin() public {
        address impl = address(new OperatorRegistry());
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        registry.upgradeToAndCall(impl, "");
    }

    function test_pause_RevertWhen_NotGuardian() public {
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        registry.pause();
    }

    function test_unpause_RevertWhen_Guardian() public {
        vm.prank(guardian);
        registry.pause();
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        registry.unpause();
    }

    // ================================================================== admission / registration

    function test_admitOperator_Professional() public {
        vm.expectEmit();
        emit IOperatorRegistry.OperatorRegistered(1, IOperatorRegistry.OperatorType.Professional, bob, carol);
        vm.prank(admin);
        uint256 id = registry.admitOperator(IOperatorRegistry.OperatorType.Professional, bob, carol);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        vm.assertEq(id, 1, "id");
        vm.assertEq(op.manager, bob, "manager");
        vm.assertEq(op.rewardAddress, carol, "reward");
        vm.assertEq(uint256(op.operatorType), uint256(IOperatorRegistry.OperatorType.Professional), "type");
    }

    function test_admitOperator_KycWhenAttested() public {
        access.setTier(bob, 2);
        access.setTier(carol, 1);
        vm.prank(admin);
        uint256 id = registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, carol);
        vm.assertEq(
            uint256(registry.getOperator(id).operatorType), uint256(IOperatorRegistry.OperatorType.Kyc), "kyc"
        );
    }

    function test_admitOperator_RevertWhen_KycManagerNotAttested() public {
        access.setTier(carol, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, bob, uint8(1)));
        vm.prank(admin);
        registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, carol);
    }

    function test_admitOperator_RevertWhen_KycRewardNotAttested() public {
        access.setTier(bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, carol, uint8(1)));
        vm.prank(admin);
        registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, carol);
    }

    function test_admitOperator_RevertWhen_KycAndAccessRegistryUnset() public {
        OperatorRegistry r = OperatorRegistry(address(new ERC1967Proxy(address(new OperatorRegistry()), "")));
        r.initialize(admin, guardian);
        access.setTier(bob, 5);
        vm.expectRevert(IOperatorRegistry.AccessRegistryNotSet.selector);
        vm.prank(admin);
        r.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, bob);
    }

    function test_admitOperator_RevertWhen_NotAdmin() public {
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        registry.admitOperator(IOperatorRegistry.OperatorType.Professional, bob, bob);
    }

    function test_admitOperator_RevertWhen_PermissionlessType() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.NotAdmissible.selector, IOperatorRegistry.OperatorType.Home
            )
        );
        vm.prank(admin);
        registry.admitOperator(IOperatorRegistry.OperatorType.Home, bob, bob);
    }

    function test_admitOperator_RevertWhen_ZeroAddress() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(admin);
        registry.admitOperator(IOperatorRegistry.OperatorType.Professional, bob, address(0));
    }

    function test_admitOperator_RevertWhen_Paused() public {
        vm.prank(guardian);
        registry.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(admin);
        registry.admitOperator(IOperatorRegistry.OperatorType.Professional, bob, bob);
    }

    function test_registerHomeOperator_PostsBond() public {
        uint256 id = _registerHome(bob, 2 ether);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        vm.assertEq(op.manager, bob, "manager");
        vm.assertEq(uint256(op.operatorType), uint256(IOperatorRegistry.OperatorType.Home), "type");
        vm.assertEq(bonds.bondValue(id), 2 ether, "bond");
    }

    function test_registerHomeOperator_RevertWhen_BondBelowOneKey() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.RegistrationBondTooLow.selector, 1.9 ether, 2 ether)
        );
        vm.prank(bob);
        registry.registerHomeOperator{value: 1.9 ether}(bob);
    }

    function test_registerHomeOperator_RevertWhen_BondManagerUnset() public {
        OperatorRegistry r = OperatorRegistry(address(new ERC1967Proxy(address(new OperatorRegistry()), "")));
        r.initialize(admin, guardian);
        vm.expectRevert(IOperatorRegistry.BondManagerNotSet.selector);
        vm.prank(bob);
        r.registerHomeOperator{value: 2 ether}(bob);
    }

    function test_registerHomeOperator_RevertWhen_Paused() public {
        vm.prank(guardian);
        registry.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(bob);
        registry.registerHomeOperator{value: 2 ether}(bob);
    }

    function test_registerDvtCluster_RecordsCluster() public {
        uint256 id = _registerDvt(bob, 1 ether);
        (address[] memory members, uint8 threshold, IOperatorRegistry.DvtPlatform platform) =
            registry.dvtCluster(id);
        vm.assertEq(members.length, 4, "members");
        vm.assertEq(members[2], makeAddr("m2"), "member 2");
        vm.assertEq(uint256(threshold), 3, "threshold");
        vm.assertEq(uint256(platform), uint256(IOperatorRegistry.DvtPlatform.Obol), "platform");
        vm.assertEq(bonds.bondValue(id), 1 ether, "bond");
    }

    function _members(uint256 n) internal returns (address[] memory m) {
        m = new address[](n);
        for (uint256 i; i < n; ++i) {
            m[i] = makeAddr(string(abi.encodePacked("member", vm.toString(i))));
        }
    }

    function test_registerDvtCluster_MaxSize() public {
        vm.prank(bob);
        uint256 id = registry.registerDvtCluster{value: 1 ether}(
            _members(13), 13, IOperatorRegistry.DvtPlatform.Ssv, bob
        );
        (address[] memory members,,) = registry.dvtCluster(id);
        vm.assertEq(members.length, 13, "13 members");
    }

    function test_registerDvtCluster_RevertWhen_TooManyMembers() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidCluster.selector, 14, 10));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(_members(14), 10, IOperatorRegistry.DvtPlatform.Ssv, bob);
    }

    function test_registerDvtCluster_RevertWhen_ThresholdZero() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidCluster.selector, 4, 0));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(_members(4), 0, IOperatorRegistry.DvtPlatform.Ssv, bob);
    }

    function test_registerDvtCluster_RevertWhen_ThresholdAboveSize() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidCluster.selector, 4, 5));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(_members(4), 5, IOperatorRegistry.DvtPlatform.Native, bob);
    }

    function test_registerDvtCluster_RevertWhen_NoMembers() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidCluster.selector, 0, 1));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(
            new address[](0), 1, IOperatorRegistry.DvtPlatform.Native, bob
        );
    }

    function test_registerDvtCluster_RevertWhen_DuplicateMember() public {
        address[] memory m = _members(4);
        m[3] = m[1];
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidClusterMember.selector, m[1]));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(m, 3, IOperatorRegistry.DvtPlatform.Ssv, bob);
    }

    function test_registerDvtCluster_RevertWhen_ZeroMember() public {
        address[] memory m = _members(4);
        m[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidClusterMember.selector, address(0)));
        vm.prank(bob);
        registry.registerDvtCluster{value: 1 ether}(m, 3, IOperatorRegistry.DvtPlatform.Ssv, bob);
    }

    function test_registerDvtCluster_RevertWhen_BondTooLow() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.RegistrationBondTooLow.selector, 0.5 ether, 1 ether)
        );
        vm.prank(bob);
        registry.registerDvtCluster{value: 0.5 ether}(_members(4), 3, IOperatorRegistry.DvtPlatform.Ssv, bob);
    }

    // ================================================================== keys

    function test_addKeys_StoresKeysAndIndex() public {
        _addKeys(home, alice, 100, 3);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(home);
        vm.assertEq(op.totalKeys, 3, "total");
        (bytes memory pk, bytes memory sig, IOperatorRegistry.KeyStatus status) = registry.getKey(home, 1);
        vm.assertEq(pk, _pubkey(101), "pubkey");
        vm.assertEq(sig, _signature(101), "signature");
        vm.assertEq(uint256(status), uint256(IOperatorRegistry.KeyStatus.Added), "status");
        (bool registered, uint256 id, uint256 index) = registry.keyOwner(_pubkey(102));
        vm.assertTrue(registered, "registered");
        vm.assertEq(id, home, "owner");
        vm.assertEq(index, 2, "index");
    }

    function test_addKeys_EmitsKeyAdded() public {
        vm.expectEmit();
        emit IOperatorRegistry.KeyAdded(home, 0, _pubkey(7));
        _addKeys(home, alice, 7, 1);
    }

    function test_addKeys_MaxBatch() public {
        _addKeys(home, alice, 1000, 100);
        vm.assertEq(registry.getOperator(home).totalKeys, 100, "100 keys");
    }

    function test_addKeys_RevertWhen_BatchTooLarge() public {
        (bytes memory pks, bytes memory sigs) = _keys(1, 101);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 101, 100));
        vm.prank(alice);
        registry.addKeys(home, pks, sigs);
    }

    function test_addKeys_RevertWhen_Empty() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        vm.prank(alice);
        registry.addKeys(home, "", "");
    }

    function test_addKeys_RevertWhen_SignatureLengthWrong() public {
        (bytes memory pks, bytes memory sigs) = _keys(1, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidKeysLength.selector, 96, 192 - 1));
        vm.prank(alice);
        registry.addKeys(home, pks, _trim(sigs, 1));
    }

    function test_addKeys_RevertWhen_PubkeyLengthNotMultiple() public {
        (bytes memory pks, bytes memory sigs) = _keys(1, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidKeysLength.selector, 95, 192));
        vm.prank(alice);
        registry.addKeys(home, _trim(pks, 1), sigs);
    }

    function test_addKeys_RevertWhen_EmptyKey() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.EmptyKey.selector, 0));
        vm.prank(alice);
        registry.addKeys(home, new bytes(48), _signature(1));
    }

    function test_addKeys_RevertWhen_DuplicateInBatch() public {
        bytes memory pks = bytes.concat(_pubkey(5), _pubkey(5));
        bytes memory sigs = bytes.concat(_signature(5), _signature(5));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.KeyAlreadyRegistered.selector, keccak256(_pubkey(5)), home, 0
            )
        );
        vm.prank(alice);
        registry.addKeys(home, pks, sigs);
    }

    function test_addKeys_RevertWhen_NotManager() public {
        (bytes memory pks, bytes memory sigs) = _keys(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        registry.addKeys(home, pks, sigs);
    }

    function test_addKeys_RevertWhen_UnknownOperator() public {
        (bytes memory pks, bytes memory sigs) = _keys(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 9));
        vm.prank(alice);
        registry.addKeys(9, pks, sigs);
    }

    function test_addKeys_RevertWhen_Stopped() public {
        vm.prank(admin);
        registry.setStopped(home, true);
        (bytes memory pks, bytes memory sigs) = _keys(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorStopped.selector, home));
        vm.prank(alice);
        registry.addKeys(home, pks, sigs);
    }

    function test_addKeys_RevertWhen_Paused() public {
        vm.prank(guardian);
        registry.pause();
        (bytes memory pks, bytes memory sigs) = _keys(1, 1);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(alice);
        registry.addKeys(home, pks, sigs);
    }

    function _trim(bytes memory b, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(b.length - n);
        for (uint256 i; i < out.length; ++i) {
            out[i] = b[i];
        }
    }

    function test_removeKeys_MovesLastKeysAndUpdatesIndex() public {
        _addKeys(home, alice, 10, 5); // seeds 10..14 at 0..4
        vm.prank(alice);
        registry.removeKeys(home, 1, 2); // remove 11, 12 (from the top of the range): 14 -> 2, 13 -> 1
        vm.assertEq(registry.getOperator(home).totalKeys, 3, "total");
        (bytes memory pk1,,) = registry.getKey(home, 1);
        (bytes memory pk2,,) = registry.getKey(home, 2);
        vm.assertEq(pk1, _pubkey(13), "13 moved into 1");
        vm.assertEq(pk2, _pubkey(14), "14 moved into 2");
        (bool reg11,,) = registry.keyOwner(_pubkey(11));
        vm.assertFalse(reg11, "11 unregistered");
        (, uint256 id14, uint256 index14) = registry.keyOwner(_pubkey(14));
        vm.assertEq(id14, home, "14 owner");
        vm.assertEq(index14, 2, "14 index updated");
    }

    function test_removeKeys_TailRange() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(alice);
        registry.removeKeys(home, 1, 2);
        vm.assertEq(registry.getOperator(home).totalKeys, 1, "total");
        (bool reg,,) = registry.keyOwner(_pubkey(12));
        vm.assertFalse(reg, "12 unregistered");
    }

    function test_removeKeys_LowersVettedLimit() public {
        _addKeys(home, alice, 10, 4);
        vm.prank(vetter);
        registry.setVettedLimit(home, 4);
        vm.prank(alice);
        registry.removeKeys(home, 2, 1);
        vm.assertEq(registry.getOperator(home).vettedLimit, 2, "vetted lowered to the removal point");
    }

    function test_removeKeys_KeyCanBeAddedAgain() public {
        _addKeys(home, alice, 10, 1);
        vm.prank(alice);
        registry.removeKeys(home, 0, 1);
        _addKeys(home, alice, 10, 1);
        vm.assertEq(registry.getOperator(home).totalKeys, 1, "re-added");
    }

    function test_removeKeys_RevertWhen_KeyPreDeposited() public {
        _addKeys(home, alice, 10, 2);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.prank(depositor);
        registry.markPreDeposited(home, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 1, 1, 2));
        vm.prank(alice);
        registry.removeKeys(home, 0, 1);
    }

    function test_removeKeys_RevertWhen_BeyondTotal() public {
        _addKeys(home, alice, 10, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 1, 2, 0, 2));
        vm.prank(alice);
        registry.removeKeys(home, 1, 2);
    }

    function test_removeKeys_RevertWhen_CountZero() public {
        _addKeys(home, alice, 10, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        vm.prank(alice);
        registry.removeKeys(home, 0, 0);
    }

    function test_removeKeys_RevertWhen_NotManager() public {
        _addKeys(home, alice, 10, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        registry.removeKeys(home, 0, 1);
    }

    // ================================================================== vetting, reward, manager, stop

    function test_setVettedLimit_Sets() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.assertEq(registry.getOperator(home).vettedLimit, 2, "vetted");
        vm.assertEq(registry.depositableKeys(home), 2, "depositable");
    }

    function test_setVettedLimit_RevertWhen_AboveTotal() public {
        _addKeys(home, alice, 10, 3);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.VettedLimitOutOfRange.selector, 4, 0, 3));
        vm.prank(vetter);
        registry.setVettedLimit(home, 4);
    }

    function test_setVettedLimit_RevertWhen_BelowPreDeposited() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(vetter);
        registry.setVettedLimit(home, 3);
        vm.prank(depositor);
        registry.markPreDeposited(home, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.VettedLimitOutOfRange.selector, 1, 2, 3));
        vm.prank(vetter);
        registry.setVettedLimit(home, 1);
    }

    function test_setVettedLimit_RevertWhen_NotVetter() public {
        vm.expectRevert(_unauthorized(alice, registry.VETTING_ROLE()));
        vm.prank(alice);
        registry.setVettedLimit(home, 0);
    }

    function test_setRewardAddress_Sets() public {
        vm.prank(alice);
        registry.setRewardAddress(home, carol);
        vm.assertEq(registry.getOperator(home).rewardAddress, carol, "reward");
    }

    function test_setRewardAddress_RevertWhen_NotManager() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        registry.setRewardAddress(home, bob);
    }

    function test_setRewardAddress_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(alice);
        registry.setRewardAddress(home, address(0));
    }

    function test_setRewardAddress_RevertWhen_KycAndNotAttested() public {
        access.setTier(bob, 1);
        vm.prank(admin);
        uint256 id = registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, bob);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, carol, uint8(1)));
        vm.prank(bob);
        registry.setRewardAddress(id, carol);
    }

    function test_acceptManager_TransfersManager() public {
        vm.prank(alice);
        registry.proposeManager(home, bob);
        vm.prank(bob);
        registry.acceptManager(home);
        vm.assertEq(registry.getOperator(home).manager, bob, "manager");
    }

    function test_acceptManager_RevertWhen_NotPending() public {
        vm.prank(alice);
        registry.proposeManager(home, bob);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotPendingManager.selector, home, carol));
        vm.prank(carol);
        registry.acceptManager(home);
    }

    function test_acceptManager_RevertWhen_KycAndNotAttested() public {
        access.setTier(bob, 1);
        vm.prank(admin);
        uint256 id = registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, bob);
        vm.prank(bob);
        registry.proposeManager(id, carol);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, carol, uint8(1)));
        vm.prank(carol);
        registry.acceptManager(id);
    }

    function test_proposeManager_RevertWhen_NotManager() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        registry.proposeManager(home, bob);
    }

    function test_proposeManager_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(alice);
        registry.proposeManager(home, address(0));
    }

    function test_setStopped_StopsDeposits() public {
        _addKeys(home, alice, 10, 2);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.prank(admin);
        registry.setStopped(home, true);
        vm.assertTrue(registry.getOperator(home).stopped, "stopped");
        vm.assertEq(registry.depositableKeys(home), 0, "no deposits");
        vm.prank(admin);
        registry.setStopped(home, false);
        vm.assertEq(registry.depositableKeys(home), 2, "resumed");
    }

    function test_setStopped_RevertWhen_NotAdmin() public {
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        registry.setStopped(home, true);
    }

    // ================================================================== oracle role

    function test_setScore_Sets() public {
        vm.expectEmit();
        emit IOperatorRegistry.ScoreSet(home, 8000);
        vm.prank(reporter);
        registry.setScore(home, 8000);
        vm.assertEq(registry.getOperator(home).score, 8000, "score");
    }

    function test_setScore_UnchangedWritesNothing() public {
        vm.prank(reporter);
        registry.setScore(home, 4321);
        vm.recordLogs();
        vm.prank(reporter);
        registry.setScore(home, 4321);
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event for an unchanged score");
        vm.assertEq(registry.getOperator(home).score, 4321, "kept");
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.ScoreOutOfRange.selector, 10_001));
        registry.setScore(home, 10_001); // the bound is checked before the comparison
    }

    function test_setScore_RevertWhen_Above10000() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.ScoreOutOfRange.selector, 10_001));
        vm.prank(reporter);
        registry.setScore(home, 10_001);
    }

    function test_setScore_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, registry.REPORTER_ROLE()));
        vm.prank(alice);
        registry.setScore(home, 1);
    }

    function test_setScore_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 5));
        vm.prank(reporter);
        registry.setScore(5, 1);
    }

    function test_setScores_SetsBatch() public {
        uint256 other = _registerHome(bob, 2 ether);
        uint256[] memory ids = new uint256[](2);
        uint256[] memory scores = new uint256[](2);
        ids[0] = home;
        ids[1] = other;
        scores[0] = 100;
        scores[1] = 9000;
        vm.prank(reporter);
        registry.setScores(ids, scores);
        vm.assertEq(registry.getOperator(other).score, 9000, "other");
        vm.assertEq(registry.getOperator(home).score, 100, "home");
    }

    function test_setScores_RevertWhen_LengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.LengthMismatch.selector, 1, 2));
        vm.prank(reporter);
        registry.setScores(new uint256[](1), new uint256[](2));
    }

    function test_setScores_RevertWhen_Empty() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        vm.prank(reporter);
        registry.setScores(new uint256[](0), new uint256[](0));
    }

    function test_setScores_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, registry.REPORTER_ROLE()));
        vm.prank(alice);
        registry.setScores(new uint256[](1), new uint256[](1));
    }

    function test_requestExit_Records() public {
        _depositKeys(home, alice, 10, 2);
        vm.prank(reporter);
        registry.requestExit(home, 1, block.timestamp + 4 days);
        vm.assertEq(registry.exitRequestDeadline(home, 1), block.timestamp + 4 days, "deadline");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 1, "pending");
        vm.prank(reporter);
        registry.requestExit(home, 1, block.timestamp + 5 days); // re-request: no double count
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 1, "still one");
    }

    function test_requestExit_KeepsThePendingDeadline() public {
        _depositKeys(home, alice, 10, 2);
        uint256 first = block.timestamp + 4 days;
        vm.prank(reporter);
        registry.requestExit(home, 1, first);
        vm.warp(block.timestamp + 1 days);
        vm.recordLogs();
        vm.prank(reporter);
        registry.requestExit(home, 1, block.timestamp + 4 days);
        // a pending request is never extended: the ExitEnforcer keys enforcement by deadline
        vm.assertEq(registry.exitRequestDeadline(home, 1), first, "first deadline kept");
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event for a repeated request");
        // after the request is closed, a new one gets a new deadline
        vm.startPrank(reporter);
        registry.clearExitRequest(home, 1);
        registry.requestExit(home, 1, block.timestamp + 6 days);
        vm.stopPrank();
        vm.assertEq(registry.exitRequestDeadline(home, 1), block.timestamp + 6 days, "new request");
    }

    function test_requestExit_RevertWhen_KeyNotDeposited() public {
        _depositKeys(home, alice, 10, 1);
        _addKeys(home, alice, 20, 1);
        uint256 deadline = block.timestamp + 1 days;
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.ExitRequestInvalid.selector, home, 1, deadline)
        );
        vm.prank(reporter);
        registry.requestExit(home, 1, deadline);
    }

    function test_requestExit_RevertWhen_DeadlinePassed() public {
        _depositKeys(home, alice, 10, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.ExitRequestInvalid.selector, home, 0, block.timestamp)
        );
        vm.prank(reporter);
        registry.requestExit(home, 0, block.timestamp);
    }

    function test_requestExit_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, registry.REPORTER_ROLE()));
        vm.prank(alice);
        registry.requestExit(home, 0, block.timestamp + 1);
    }

    function test_clearExitRequest_Clears() public {
        _depositKeys(home, alice, 10, 1);
        vm.startPrank(reporter);
        registry.requestExit(home, 0, block.timestamp + 1 days);
        registry.clearExitRequest(home, 0);
        vm.stopPrank();
        vm.assertEq(registry.exitRequestDeadline(home, 0), 0, "cleared");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 0, "none pending");
    }

    /// A closed request records when it was closed (the operators module refuses a new request
    /// for the key within the same report); views show no deadline; a new request replaces it.
    function test_clearExitRequest_RecordsWhenAndARequestReplacesIt() public {
        _depositKeys(home, alice, 10, 1);
        vm.assertEq(registry.exitRequestClosedAt(home, 0), 0, "never closed");
        vm.startPrank(reporter);
        registry.requestExit(home, 0, block.timestamp + 1 days);
        registry.clearExitRequest(home, 0);
        vm.stopPrank();
        vm.assertEq(registry.exitRequestClosedAt(home, 0), block.timestamp, "closed now");
        (,, uint256[] memory deadlines) = registry.getKeys(home, 0, 1);
        vm.assertEq(deadlines[0], 0, "getKeys: no deadline");
        // closing it again: nothing pending
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NoExitRequest.selector, home, 0));
        vm.prank(reporter);
        registry.clearExitRequest(home, 0);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(reporter);
        registry.requestExit(home, 0, block.timestamp + 2 days);
        vm.assertEq(registry.exitRequestDeadline(home, 0), block.timestamp + 2 days, "pending again");
        vm.assertEq(registry.exitRequestClosedAt(home, 0), 0, "no longer closed");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 1, "one pending");
    }

    function test_clearExitRequest_RevertWhen_NoRequest() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NoExitRequest.selector, home, 0));
        vm.prank(reporter);
        registry.clearExitRequest(home, 0);
    }

    function test_clearExitRequest_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, registry.REPORTER_ROLE()));
        vm.prank(alice);
        registry.clearExitRequest(home, 0);
    }

    function test_updateExitedAndStuck_Sets() public {
        _depositKeys(home, alice, 10, 3);
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 1, 2);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(home);
        vm.assertEq(op.exited, 1, "exited");
        vm.assertEq(op.stuck, 2, "stuck");
        vm.assertEq(registry.activeKeys(home), 2, "active");
    }

    function test_updateExitedAndStuck_ReturnsPreviousAndSkipsUnchanged() public {
        _depositKeys(home, alice, 10, 3);
        vm.prank(reporter);
        vm.assertEq(registry.updateExitedAndStuck(home, 1, 1), 0, "previous 0");
        vm.recordLogs();
        vm.prank(reporter);
        vm.assertEq(registry.updateExitedAndStuck(home, 1, 1), 1, "previous 1");
        vm.assertEq(vm.getRecordedLogs().length, 0, "unchanged: no event");
        vm.prank(reporter);
        vm.assertEq(registry.updateExitedAndStuck(home, 1, 0), 1, "stuck changed");
        vm.assertEq(registry.getOperator(home).stuck, 0, "stuck written");
    }

    function test_updateExitedAndStuck_RevertWhen_ExitedDecreases() public {
        _depositKeys(home, alice, 10, 3);
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 2, 0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.CountersInvalid.selector, 1, 0, 2, 3));
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 1, 0);
    }

    function test_updateExitedAndStuck_RevertWhen_ExitedAboveDeposited() public {
        _depositKeys(home, alice, 10, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.CountersInvalid.selector, 2, 0, 0, 1));
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 2, 0);
    }

    function test_updateExitedAndStuck_RevertWhen_StuckAboveActive() public {
        _depositKeys(home, alice, 10, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.CountersInvalid.selector, 1, 2, 0, 2));
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 1, 2);
    }

    function test_updateExitedAndStuck_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, registry.REPORTER_ROLE()));
        vm.prank(alice);
        registry.updateExitedAndStuck(home, 0, 0);
    }

    // ================================================================== deposit-flow hooks

    function test_nextKeys_ReturnsNextVettedKeys() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(vetter);
        registry.setVettedLimit(home, 3);
        vm.prank(depositor);
        registry.markPreDeposited(home, 1);
        (bytes memory pks, bytes memory sigs) = registry.nextKeys(home, 2);
        vm.assertEq(pks, bytes.concat(_pubkey(11), _pubkey(12)), "pubkeys");
        vm.assertEq(sigs, bytes.concat(_signature(11), _signature(12)), "signatures");
    }

    function test_nextKeys_RevertWhen_MoreThanDepositable() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotEnoughDepositableKeys.selector, home, 3, 2)
        );
        registry.nextKeys(home, 3);
    }

    function test_markPreDeposited_AdvancesCounter() public {
        _addKeys(home, alice, 10, 3);
        vm.prank(vetter);
        registry.setVettedLimit(home, 3);
        vm.expectEmit();
        emit IOperatorRegistry.KeysPreDeposited(home, 0, 2);
        vm.prank(depositor);
        uint256 from = registry.markPreDeposited(home, 2);
        vm.assertEq(from, 0, "from");
        vm.assertEq(registry.getOperator(home).preDeposited, 2, "preDeposited");
        (,, IOperatorRegistry.KeyStatus status) = registry.getKey(home, 1);
        vm.assertEq(uint256(status), uint256(IOperatorRegistry.KeyStatus.PreDeposited), "status");
    }

    function test_markPreDeposited_RevertWhen_BondDoesNotCover() public {
        _addKeys(home, alice, 10, 4); // bond 5 ETH covers 3 keys at score 0
        vm.prank(vetter);
        registry.setVettedLimit(home, 4);
        vm.assertEq(registry.depositableKeys(home), 3, "bond-limited");
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotEnoughDepositableKeys.selector, home, 4, 3)
        );
        vm.prank(depositor);
        registry.markPreDeposited(home, 4);
    }

    function test_markPreDeposited_RevertWhen_NotVetted() public {
        _addKeys(home, alice, 10, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotEnoughDepositableKeys.selector, home, 1, 0)
        );
        vm.prank(depositor);
        registry.markPreDeposited(home, 1);
    }

    function test_markPreDeposited_RevertWhen_NotDepositor() public {
        vm.expectRevert(_unauthorized(reporter, registry.DEPOSITOR_ROLE()));
        vm.prank(reporter);
        registry.markPreDeposited(home, 1);
    }

    function test_markPreDeposited_RevertWhen_Paused() public {
        vm.prank(guardian);
        registry.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(depositor);
        registry.markPreDeposited(home, 1);
    }

    function test_markPreDeposited_ProfessionalNeedsOnlyPreDepositCollateral() public {
        uint256 pro = _admitProfessional(bob);
        _addKeys(pro, bob, 10, 50);
        vm.prank(vetter);
        registry.setVettedLimit(pro, 50);
        vm.assertEq(registry.depositableKeys(pro), 0, "no collateral: no pre-deposits (ADR 0007)");
        vm.prank(bob);
        bonds.depositBond{value: 50 ether}(pro);
        vm.prank(depositor);
        registry.markPreDeposited(pro, 50);
        vm.assertEq(registry.getOperator(pro).preDeposited, 50, "1 ETH collateral per key in flight");
        vm.assertEq(registry.depositableKeys(pro), 0, "all collateral locked");
    }

    function test_confirmPreDeposits_Advances() public {
        _addKeys(home, alice, 10, 2);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.prank(depositor);
        registry.markPreDeposited(home, 2);
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 1);
        (,, IOperatorRegistry.KeyStatus status) = registry.getKey(home, 0);
        vm.assertEq(uint256(status), uint256(IOperatorRegistry.KeyStatus.Confirmed), "confirmed");
    }

    function test_confirmPreDeposits_RevertWhen_BeyondPreDeposited() public {
        _addKeys(home, alice, 10, 2);
        vm.prank(vetter);
        registry.setVettedLimit(home, 2);
        vm.prank(depositor);
        registry.markPreDeposited(home, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.ConfirmationOutOfRange.selector, home, 2, 0, 1)
        );
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
    }

    function test_confirmPreDeposits_RevertWhen_NotAdvancing() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.ConfirmationOutOfRange.selector, home, 0, 0, 0)
        );
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 0);
    }

    function test_confirmPreDeposits_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(depositor, registry.REPORTER_ROLE()));
        vm.prank(depositor);
        registry.confirmPreDeposits(home, 1);
    }

    function _preDeposit(uint256 count) internal {
        _addKeys(home, alice, 10, count);
        vm.prank(vetter);
        registry.setVettedLimit(home, count);
        vm.prank(depositor);
        registry.markPreDeposited(home, count);
    }

    function test_markFrontRun_MarksAndStops() public {
        _preDeposit(3);
        vm.expectEmit();
        emit IOperatorRegistry.KeyFrontRun(home, 1, _pubkey(11));
        vm.prank(reporter);
        registry.markFrontRun(home, 1);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(home);
        vm.assertTrue(op.stopped, "stopped");
        vm.assertEq(op.frontRun, 1, "counted");
        (bytes memory pk,, IOperatorRegistry.KeyStatus status) = registry.getKey(home, 1);
        vm.assertEq(uint256(status), uint256(IOperatorRegistry.KeyStatus.FrontRun), "status");
        vm.assertEq(pk, _pubkey(11), "pubkey intact");
    }

    function test_markFrontRun_RevertWhen_AlreadyConfirmed() public {
        _preDeposit(2);
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 1, 1, 2));
        vm.prank(reporter);
        registry.markFrontRun(home, 0);
    }

    function test_markFrontRun_RevertWhen_NotPreDeposited() public {
        _preDeposit(1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 1, 1, 0, 1));
        vm.prank(reporter);
        registry.markFrontRun(home, 1);
    }

    function test_markFrontRun_RevertWhen_Twice() public {
        _preDeposit(1);
        vm.prank(reporter);
        registry.markFrontRun(home, 0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 1, 0, 1));
        vm.prank(reporter);
        registry.markFrontRun(home, 0);
    }

    function test_markFrontRun_RevertWhen_NotReporter() public {
        _preDeposit(1);
        vm.expectRevert(_unauthorized(depositor, registry.REPORTER_ROLE()));
        vm.prank(depositor);
        registry.markFrontRun(home, 0);
    }

    function test_markDeposited_SkipsFrontRunKeys() public {
        _preDeposit(3);
        vm.prank(reporter);
        registry.markFrontRun(home, 1);
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 3);
        (bytes memory pks, bytes memory sigs, uint256 n) = registry.topUpKeys(home, 3);
        vm.assertEq(n, 2, "two to top up");
        vm.assertEq(pks, bytes.concat(_pubkey(10), _pubkey(12)), "front-run key skipped");
        vm.assertEq(sigs, bytes.concat(_signature(10), _signature(12)), "signatures");
        vm.prank(depositor);
        uint256 deposited = registry.markDeposited(home, 3);
        vm.assertEq(deposited, 2, "deposited");
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(home);
        vm.assertEq(op.deposited, 2, "counter");
        vm.assertEq(op.topUpCursor, 3, "cursor");
        (,, IOperatorRegistry.KeyStatus s1) = registry.getKey(home, 1);
        vm.assertEq(uint256(s1), uint256(IOperatorRegistry.KeyStatus.FrontRun), "still front-run");
        (,, IOperatorRegistry.KeyStatus s2) = registry.getKey(home, 2);
        vm.assertEq(uint256(s2), uint256(IOperatorRegistry.KeyStatus.Deposited), "deposited");
    }

    function test_markDeposited_RevertWhen_NotConfirmed() public {
        _preDeposit(2);
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 2, 0, 1));
        vm.prank(depositor);
        registry.markDeposited(home, 2);
    }

    function test_markDeposited_RevertWhen_NotDepositor() public {
        vm.expectRevert(_unauthorized(reporter, registry.DEPOSITOR_ROLE()));
        vm.prank(reporter);
        registry.markDeposited(home, 1);
    }

    function test_topUpKeys_RevertWhen_NotConfirmed() public {
        _preDeposit(1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 1, 0, 0));
        registry.topUpKeys(home, 1);
    }

    // ================================================================== governance setters, views

    function test_setAccessRegistry_RevertWhen_NotAdmin() public {
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        registry.setAccessRegistry(address(access), 1);
    }

    function test_setAccessRegistry_RevertWhen_TierZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.ParameterOutOfBounds.selector, bytes32("kycMinTier"), 0, 1, 255)
        );
        vm.prank(admin);
        registry.setAccessRegistry(address(access), 0);
    }

    function test_setAccessRegistry_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(admin);
        registry.setAccessRegistry(address(0), 1);
    }

    function test_setAccessRegistry_Sets() public {
        vm.prank(admin);
        registry.setAccessRegistry(carol, 3);
        (address r, uint8 tier) = registry.accessRegistry();
        vm.assertEq(r, carol, "registry");
        vm.assertEq(uint256(tier), 3, "tier");
    }

    function test_setBondManager_RevertWhen_NotAdmin() public {
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        registry.setBondManager(carol);
    }

    function test_setBondManager_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(admin);
        registry.setBondManager(address(0));
    }

    function test_getOperator_RevertWhen_Unknown() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 1));
        registry.getOperator(1);
    }

    function test_getKey_RevertWhen_OutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 0, 1, 0, 0));
        registry.getKey(home, 0);
    }

    function test_getKeys_ReturnsPubkeysStatusesAndDeadlines() public {
        vm.prank(alice);
        bonds.depositBond{value: 5 ether}(home);
        _depositKeys(home, alice, 10, 2); // keys 0, 1 topped up
        _addKeys(home, alice, 20, 3); // keys 2, 3, 4
        vm.prank(vetter);
        registry.setVettedLimit(home, 5);
        vm.prank(depositor);
        registry.markPreDeposited(home, 2); // keys 2, 3
        vm.startPrank(reporter);
        registry.markFrontRun(home, 3);
        registry.confirmPreDeposits(home, 3); // key 2 confirmed, key 3 front-run and still unconfirmed
        registry.requestExit(home, 1, block.timestamp + 4 days);
        vm.stopPrank();

        (bytes memory pks, IOperatorRegistry.KeyStatus[] memory st, uint256[] memory dl) =
            registry.getKeys(home, 0, 5);
        vm.assertEq(
            pks, bytes.concat(_pubkey(10), _pubkey(11), _pubkey(20), _pubkey(21), _pubkey(22)), "pubkeys"
        );
        vm.assertEq(st.length, 5, "statuses");
        vm.assertEq(uint256(st[0]), uint256(IOperatorRegistry.KeyStatus.Deposited), "0");
        vm.assertEq(uint256(st[1]), uint256(IOperatorRegistry.KeyStatus.Deposited), "1");
        vm.assertEq(uint256(st[2]), uint256(IOperatorRegistry.KeyStatus.Confirmed), "2");
        vm.assertEq(uint256(st[3]), uint256(IOperatorRegistry.KeyStatus.FrontRun), "3");
        vm.assertEq(uint256(st[4]), uint256(IOperatorRegistry.KeyStatus.Added), "4");
        vm.assertEq(dl[0], 0, "no request on 0");
        vm.assertEq(dl[1], block.timestamp + 4 days, "deadline of 1");
        // every key agrees with getKey
        for (uint256 i; i < 5; ++i) {
            (bytes memory pk,, IOperatorRegistry.KeyStatus s) = registry.getKey(home, i);
            (bytes memory one, IOperatorRegistry.KeyStatus[] memory s1,) = registry.getKeys(home, i, 1);
            vm.assertEq(one, pk, "pubkey as getKey");
            vm.assertEq(uint256(s1[0]), uint256(s), "status as getKey");
        }
    }

    function test_getKeys_PreDepositedStatusAndWindow() public {
        _preDeposit(3);
        (bytes memory pks, IOperatorRegistry.KeyStatus[] memory st, uint256[] memory dl) =
            registry.getKeys(home, 1, 2);
        vm.assertEq(pks, bytes.concat(_pubkey(11), _pubkey(12)), "window");
        vm.assertEq(uint256(st[0]), uint256(IOperatorRegistry.KeyStatus.PreDeposited), "pre-deposited");
        vm.assertEq(dl.length, 2, "deadlines");
    }

    function test_getKeys_MaxBatch() public {
        for (uint256 i; i < 5; ++i) {
            _addKeys(home, alice, 1000 + i * 100, 100);
        }
        (bytes memory pks, IOperatorRegistry.KeyStatus[] memory st,) =
            registry.getKeys(home, 0, registry.MAX_KEYS_PER_READ());
        vm.assertEq(pks.length, 500 * 48, "500 pubkeys");
        vm.assertEq(st.length, 500, "500 statuses");
        (bytes memory last,,) = registry.getKey(home, 499);
        bytes memory tail = new bytes(48);
        for (uint256 i; i < 48; ++i) {
            tail[i] = pks[499 * 48 + i];
        }
        vm.assertEq(tail, last, "last key");
    }

    function test_getKeys_RevertWhen_CountZero() public {
        _addKeys(home, alice, 10, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 500));
        registry.getKeys(home, 0, 0);
    }

    function test_getKeys_RevertWhen_CountAboveMax() public {
        _addKeys(home, alice, 10, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 501, 500));
        registry.getKeys(home, 0, 501);
    }

    function test_getKeys_RevertWhen_BeyondTotal() public {
        _addKeys(home, alice, 10, 3);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 2, 2, 0, 3));
        registry.getKeys(home, 2, 2);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, 4, 1, 0, 3));
        registry.getKeys(home, 4, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.KeyRangeInvalid.selector, type(uint256).max, 1, 0, 3)
        );
        registry.getKeys(home, type(uint256).max, 1);
    }

    function test_getKeys_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 7));
        registry.getKeys(7, 0, 1);
    }

    function test_dvtCluster_RevertWhen_NotDvt() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.WrongOperatorType.selector, home, IOperatorRegistry.OperatorType.Home
            )
        );
        registry.dvtCluster(home);
    }

    function test_keyOwner_Unregistered() public view {
        (bool registered, uint256 id, uint256 index) = registry.keyOwner(_pubkey(999));
        vm.assertFalse(registered, "unregistered");
        vm.assertEq(id + index, 0, "zeros");
    }

    function _admitKyc() internal returns (uint256 id) {
        access.setTier(bob, 1);
        vm.prank(admin);
        id = registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, bob, bob);
    }

    function test_addKeys_RevertWhen_KycAttestationLapsed() public {
        uint256 id = _admitKyc();
        access.setTier(bob, 0);
        (bytes memory pks, bytes memory sigs) = _keys(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, bob, uint8(1)));
        vm.prank(bob);
        registry.addKeys(id, pks, sigs);
    }

    function test_depositableKeys_ZeroWhenKycAttestationLapsed() public {
        uint256 id = _admitKyc();
        _addKeys(id, bob, 1, 2);
        vm.prank(vetter);
        registry.setVettedLimit(id, 2);
        vm.deal(bob, bob.balance + 2 ether);
        vm.prank(bob);
        bonds.depositBond{value: 2 ether}(id); // pre-deposit collateral
        vm.assertEq(registry.depositableKeys(id), 2, "attested");
        access.setTier(bob, 0);
        vm.assertEq(registry.depositableKeys(id), 0, "lapsed: no deposits");
    }

    function test_setScores_RevertWhen_BatchTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 101, 100));
        vm.prank(reporter);
        registry.setScores(new uint256[](101), new uint256[](101));
    }

    function test_markPreDeposited_RevertWhen_CountZero() public {
        _addKeys(home, alice, 10, 1);
        vm.prank(vetter);
        registry.setVettedLimit(home, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        vm.prank(depositor);
        registry.markPreDeposited(home, 0);
    }

    function test_markDeposited_RevertWhen_CountZero() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        vm.prank(depositor);
        registry.markDeposited(home, 0);
    }

    function test_nextKeys_RevertWhen_CountZero() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        registry.nextKeys(home, 0);
    }

    function test_topUpKeys_RevertWhen_CountZero() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidBatchSize.selector, 0, 100));
        registry.topUpKeys(home, 0);
    }

    function test_views_ReportConfiguration() public view {
        vm.assertEq(registry.bondManager(), address(bonds), "bond manager");
        vm.assertEq(registry.operatorCount(), 1, "count");
        vm.assertEq(registry.activeKeys(home), 0, "active");
        vm.assertEq(registry.exitRequestDeadline(home, 0), 0, "no exit request");
    }

    function test_depositableKeys_ZeroWhenBondManagerCapacityExhausted() public {
        _depositKeys(home, alice, 10, 3); // 5 ETH covers exactly 3
        _addKeys(home, alice, 20, 1);
        vm.prank(vetter);
        registry.setVettedLimit(home, 4);
        vm.assertEq(registry.depositableKeys(home), 0, "bond exhausted");
    }
}
