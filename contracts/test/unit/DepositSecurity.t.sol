// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "../../src/interfaces/IAllocator.sol";
import {IDepositSecurity} from "../../src/interfaces/IDepositSecurity.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice DepositSecurity: pre-deposit 1 ETH from the buffer against locked bond collateral, top
/// up 31 ETH only after a report confirmed the key, front-run keys never topped up.
contract DepositSecurityTest is OperatorsSystemFixture {
    DepositSecurity internal ds;
    uint256 internal home;
    uint256 internal pro;

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        _deposit(alice, 200 ether);
        home = _registerHome(bob, 4 ether); // Home: 2 + 1.3 ETH bond for two keys
        _addAndVet(home, bob, 100, 4);
        pro = _admit(IOperatorRegistry.OperatorType.Professional, carol);
        _addAndVet(pro, carol, 200, 4);
        vm.deal(carol, 10 ether);
        vm.prank(carol);
        bonds.depositBond{value: 2 ether}(pro); // collateral for two pre-deposits
        vm.startPrank(tl);
        ds.grantRole(ds.CURATOR_ROLE(), tl);
        ds.addOperator(uint64(home));
        ds.addOperator(uint64(pro));
        vm.stopPrank();
    }

    function _confirm(uint256 id, uint256 from, uint256 n, uint256 frontRunKey) internal {
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](n);
        for (uint256 i; i < n; ++i) {
            o.preDeposits[i] =
                IOperatorsReport.PreDepositResult(uint64(id), uint64(from + i), from + i != frontRunKey);
        }
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
    }

    function test_depositBuffered_PreDepositsOneEtherPerKey() public {
        uint256 buffered = pool.bufferedEther();
        uint256 tpe = pool.totalPooledEther();
        (uint256 up, uint256 pre) = ds.depositBuffered(10);
        vm.assertEq(up, 0, "nothing to top up");
        // collateral: home 4 ETH own bond -> capacity min(bond formula 2 keys, 4), pro 2 keys
        vm.assertEq(
            pre, registry.getOperator(home).preDeposited + registry.getOperator(pro).preDeposited, "sum"
        );
        vm.assertGt(pre, 0, "pre-deposited");
        vm.assertEq(pool.bufferedEther(), buffered - pre * 1 ether, "1 ETH each left the buffer");
        vm.assertEq(pool.transientEther(), pre * 1 ether, "transient");
        vm.assertEq(pool.totalPooledEther(), tpe, "pooled ETH unchanged");
        vm.assertEq(bonds.lockedCollateral(pro), registry.getOperator(pro).preDeposited * 1 ether, "locked");
        vm.assertEq(address(ds).balance, 0, "nothing stays in the module");
    }

    function test_depositBuffered_CollateralLimitsPreDeposits() public {
        for (uint256 i; i < 4; ++i) {
            ds.depositBuffered(10);
        }
        vm.assertEq(registry.getOperator(pro).preDeposited, 2, "2 ETH of bond: two keys in flight");
        vm.assertEq(bonds.freeBondedCapacity(pro), 0, "no more");
        vm.assertEq(bonds.claimableShares(pro), 0, "locked collateral cannot be claimed");
    }

    function test_depositBuffered_TopsUpOnlyConfirmedKeys() public {
        ds.depositBuffered(10);
        uint256 n = registry.getOperator(pro).preDeposited;
        _confirm(pro, 0, n, type(uint256).max);
        vm.assertEq(bonds.lockedCollateral(pro), 0, "collateral released");
        uint256 depositedBefore = pool.depositedEther();
        (uint256 up,) = ds.depositBuffered(n);
        vm.assertEq(up, n, "topped up");
        vm.assertEq(registry.getOperator(pro).deposited, n, "deposited");
        vm.assertEq(pool.depositedEther(), depositedBefore + n * 31 ether, "31 ETH each");
    }

    function test_depositBuffered_FrontRunKeyNeverToppedUp() public {
        for (uint256 i; i < 4; ++i) {
            ds.depositBuffered(10);
        }
        uint256 n = registry.getOperator(pro).preDeposited;
        vm.assertEq(n, 2, "two in flight");
        uint256 bondShares = bonds.bondShares(pro);
        _confirm(pro, 0, n, 0); // key 0 front-run
        vm.assertLt(bonds.bondShares(pro), bondShares, "bond forfeited");
        uint256 depositedBefore = pool.depositedEther();
        (uint256 up,) = ds.depositBuffered(10);
        vm.assertEq(up, n - 1, "only the valid keys");
        vm.assertEq(
            pool.depositedEther() - depositedBefore, (n - 1) * 31 ether, "no ETH to the front-run key"
        );
        (,, IOperatorRegistry.KeyStatus st) = registry.getKey(pro, 0);
        vm.assertEq(uint256(st), uint256(IOperatorRegistry.KeyStatus.FrontRun), "front-run");
        vm.assertEq(registry.getOperator(pro).preDeposited, n, "stopped: no new pre-deposits");
    }

    function test_depositBuffered_NeverUsesQueueEther() public {
        uint256 shares = pool.balanceOf(alice);
        vm.prank(alice);
        queue.requestWithdrawal(shares / 2, alice);
        uint256 depositable = pool.depositableEther();
        ds.depositBuffered(50);
        vm.assertGe(pool.bufferedEther(), queue.unfinalizedEther(), "queue demand stays buffered");
        vm.assertLe(pool.depositedEther(), depositable, "only depositable ether");
    }

    function test_depositBuffered_DepositDataRootMatchesContract() public {
        // the test DepositContract recomputes the root and reverts on a mismatch
        ds.depositBuffered(1);
        vm.assertEq(pool.transientEther(), 1 ether, "one pre-deposit accepted");
    }

    function test_depositBuffered_RevertWhen_MaxKeysOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.InvalidKeyCount.selector, 0, 50));
        ds.depositBuffered(0);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.InvalidKeyCount.selector, 51, 50));
        ds.depositBuffered(51);
    }

    function test_depositBuffered_RevertWhen_Paused() public {
        vm.prank(guardian);
        ds.pause();
        vm.expectRevert();
        ds.depositBuffered(1);
    }

    function test_addOperator_RevertWhen_NotCurator() public {
        vm.expectRevert();
        vm.prank(alice);
        ds.addOperator(uint64(home));
    }

    function test_addOperator_RevertWhen_Listed() public {
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.OperatorListed.selector, home, true));
        vm.prank(tl);
        ds.addOperator(uint64(home));
    }

    function test_removeOperator_KeepsOrder() public {
        uint256 h2 = _registerHome(makeAddr("h2"), 2 ether);
        vm.startPrank(tl);
        ds.addOperator(uint64(h2));
        ds.removeOperator(uint64(home));
        vm.stopPrank();
        uint64[] memory list = ds.operators();
        vm.assertEq(list.length, 2, "two left");
        vm.assertEq(list[0], pro, "sorted");
        vm.assertEq(list[1], h2, "sorted");
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.OperatorListed.selector, home, false));
        vm.prank(tl);
        ds.removeOperator(uint64(home));
    }

    function test_receive_RevertWhen_NotPool() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok,) = address(ds).call{value: 1 ether}("");
        vm.assertFalse(ok, "only the pool sends ETH");
    }

    function test_withdrawalCredentials_Are0x01Vault() public view {
        vm.assertEq(
            ds.withdrawalCredentials(), bytes32(uint256(uint160(address(wVault))) | (uint256(1) << 248)), "wc"
        );
    }

    /// The contracts the module works with, as views (the oracle reads the Allocator's exit-rule
    /// parameters through `allocator()`, not through the storage layout).
    function test_views_ReturnTheWiring() public view {
        vm.assertEq(address(ds.pool()), address(pool), "pool");
        vm.assertEq(address(ds.registry()), address(registry), "registry");
        vm.assertEq(address(ds.allocator()), address(ops.allocator), "allocator");
        vm.assertEq(ds.depositContract(), depositContract, "deposit contract");
    }

    function test_storageSlot_MatchesErc7201() public pure {
        bytes32 slot = keccak256(abi.encode(uint256(keccak256("claystack.storage.DepositSecurity")) - 1))
            & ~bytes32(uint256(0xff));
        vm.assertEq(slot, 0x9bbe19164c8de16a4ff4d221abb2289ffb29287c50736cb04536e26949a5be00, "slot");
    }

    // ------------------------------------------------------------------ initialization, roles

    function _newDs(address vault, uint8 mask) internal returns (DepositSecurity d) {
        d = DepositSecurity(payable(address(new ERC1967Proxy(address(new DepositSecurity()), ""))));
        d.initialize(
            tl,
            guardian,
            address(pool),
            address(registry),
            address(ops.allocator),
            depositContract,
            vault,
            mask
        );
    }

    function test_initialize_RevertWhen_ZeroAddress() public {
        DepositSecurity d =
            DepositSecurity(payable(address(new ERC1967Proxy(address(new DepositSecurity()), ""))));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        d.initialize(
            tl,
            guardian,
            address(pool),
            address(registry),
            address(ops.allocator),
            depositContract,
            address(0),
            1
        );
    }

    function test_initialize_RevertWhen_InvalidTypeMask() public {
        DepositSecurity d =
            DepositSecurity(payable(address(new ERC1967Proxy(address(new DepositSecurity()), ""))));
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.InvalidTypeMask.selector, 0));
        d.initialize(
            tl,
            guardian,
            address(pool),
            address(registry),
            address(ops.allocator),
            depositContract,
            address(wVault),
            0
        );
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.InvalidTypeMask.selector, 0x10));
        d.initialize(
            tl,
            guardian,
            address(pool),
            address(registry),
            address(ops.allocator),
            depositContract,
            address(wVault),
            0x10
        );
    }

    function test_removeOperator_RevertWhen_NotCurator() public {
        vm.expectRevert();
        vm.prank(alice);
        ds.removeOperator(uint64(home));
    }

    function test_upgradeToAndCall_RevertWhen_NotGovernance() public {
        address impl = address(new DepositSecurity());
        vm.expectRevert();
        vm.prank(guardian);
        ds.upgradeToAndCall(impl, "");
    }

    function test_depositBuffered_NothingWithEmptySet() public {
        DepositSecurity d = _newDs(address(wVault), 0x0f);
        vm.startPrank(tl);
        pool.setDepositModule(address(d));
        registry.grantRole(registry.DEPOSITOR_ROLE(), address(d));
        vm.stopPrank();
        (uint256 up, uint256 pre) = d.depositBuffered(10);
        vm.assertEq(up + pre, 0, "no operators, no deposits");
        vm.assertEq(pool.depositedEther(), 0, "no ETH moved");
    }

    /// Issue 4, unit level: with the KYC pool's mask, a mixed set of operators gets deposits only
    /// on its attested Kyc operator; a Kyc operator whose manager lost the attestation gets none.
    function test_depositBuffered_KycMaskOnlyAttestedKycOperators() public {
        DepositSecurity d = _newDs(address(wVault), 0x02);
        vm.startPrank(tl);
        pool.setDepositModule(address(d));
        registry.grantRole(registry.DEPOSITOR_ROLE(), address(d));
        d.grantRole(d.CURATOR_ROLE(), tl);
        vm.stopPrank();
        address k1 = makeAddr("kyc1");
        address k2 = makeAddr("kyc2");
        _attestKyc(k1);
        _attestKyc(k2);
        uint256 kycOk = _admit(IOperatorRegistry.OperatorType.Kyc, k1);
        uint256 kycLapsed = _admit(IOperatorRegistry.OperatorType.Kyc, k2);
        _addAndVet(kycOk, k1, 700, 3);
        _addAndVet(kycLapsed, k2, 800, 3);
        vm.deal(k1, 3 ether);
        vm.deal(k2, 3 ether);
        vm.prank(k1);
        bonds.depositBond{value: 3 ether}(kycOk);
        vm.prank(k2);
        bonds.depositBond{value: 3 ether}(kycLapsed);
        vm.startPrank(tl);
        d.addOperator(uint64(kycOk));
        d.addOperator(uint64(kycLapsed));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDepositSecurity.OperatorTypeNotAllowed.selector,
                home,
                uint8(IOperatorRegistry.OperatorType.Home)
            )
        );
        d.addOperator(uint64(home));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDepositSecurity.OperatorTypeNotAllowed.selector,
                pro,
                uint8(IOperatorRegistry.OperatorType.Professional)
            )
        );
        d.addOperator(uint64(pro));
        vm.stopPrank();
        vm.prank(kycProvider);
        access.revoke(k2);
        for (uint256 i; i < 3; ++i) {
            d.depositBuffered(10);
        }
        vm.assertEq(registry.getOperator(kycOk).preDeposited, 3, "attested Kyc operator served");
        vm.assertEq(registry.getOperator(kycLapsed).preDeposited, 0, "lapsed attestation: nothing");
        vm.assertEq(registry.getOperator(home).preDeposited, 0, "Home: nothing");
        vm.assertEq(registry.getOperator(pro).preDeposited, 0, "Professional: nothing");
    }

    function test_addOperator_RevertWhen_SetFull() public {
        // home and pro are listed; fill the set to 200
        vm.startPrank(tl);
        for (uint256 i; i < 198; ++i) {
            address m = address(uint160(0x100000 + i));
            uint256 id = registry.admitOperator(IOperatorRegistry.OperatorType.Professional, m, m);
            ds.addOperator(uint64(id));
        }
        address last = address(uint160(0x200000));
        uint256 extra = registry.admitOperator(IOperatorRegistry.OperatorType.Professional, last, last);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.TooManyOperators.selector, 200));
        ds.addOperator(uint64(extra));
        vm.stopPrank();
        vm.assertEq(ds.operators().length, 200, "full");
    }

    // ------------------------------------------------------------------ auditor follow-ups

    function test_depositBuffered_RevertWhen_TopUpKeysDisagreeWithMarkDeposited() public {
        ds.depositBuffered(10);
        uint256 n = registry.getOperator(pro).preDeposited;
        _confirm(pro, 0, n, type(uint256).max);
        // a registry bug: markDeposited counts one key fewer than topUpKeys returned. With ETH
        // forced into the module the old code deposited both keys, spending the forced ETH.
        vm.deal(address(ds), 62 ether);
        vm.mockCall(
            address(registry), abi.encodeWithSelector(registry.markDeposited.selector), abi.encode(n - 1)
        );
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.TopUpCountMismatch.selector, pro, n, n - 1));
        ds.depositBuffered(10);
    }

    function _mockAllocation(uint64 id, uint256 count, uint256 total) internal {
        uint64[] memory ids = new uint64[](1);
        ids[0] = id;
        uint256[] memory counts = new uint256[](1);
        counts[0] = count;
        vm.mockCall(
            address(ops.allocator),
            abi.encodeWithSelector(ops.allocator.allocateDeposits.selector),
            abi.encode(IAllocator.Allocation(ids, counts, total))
        );
    }

    function test_depositBuffered_RevertWhen_AllocationTotalDiffersFromCounts() public {
        // total 2, counts 1: the old code withdrew 2 ETH and deposited 1 (1 ETH stranded)
        _mockAllocation(uint64(pro), 1, 2);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.AllocationInvalid.selector, 2, 1, 3));
        ds.depositBuffered(3);
    }

    function test_depositBuffered_RevertWhen_AllocationAboveRequest() public {
        _mockAllocation(uint64(pro), 2, 2);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.AllocationInvalid.selector, 2, 2, 1));
        ds.depositBuffered(1);
    }

    function test_depositBuffered_RevertWhen_AllocationNamesAnUnlistedOperator() public {
        uint256 other = _admit(IOperatorRegistry.OperatorType.Professional, makeAddr("other"));
        _mockAllocation(uint64(other), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.AllocationInvalid.selector, 1, 1, 3));
        ds.depositBuffered(3);
    }

    function test_removeOperator_RevertWhen_PreDepositsAwaitConfirmation() public {
        ds.depositBuffered(10);
        uint256 n = registry.getOperator(pro).preDeposited;
        vm.assertGt(n, 0, "in flight");
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.OperatorHasPendingDeposits.selector, pro, n));
        vm.prank(tl);
        ds.removeOperator(uint64(pro));
    }

    function test_removeOperator_RevertWhen_ConfirmedKeysAwaitTopUp() public {
        ds.depositBuffered(10);
        uint256 n = registry.getOperator(pro).preDeposited;
        _confirm(pro, 0, n, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IDepositSecurity.OperatorHasPendingDeposits.selector, pro, n));
        vm.prank(tl);
        ds.removeOperator(uint64(pro));
        // once the keys are topped up, the operator can leave the set
        ds.depositBuffered(10);
        vm.assertEq(registry.getOperator(pro).topUpCursor, n, "topped up");
        vm.prank(tl);
        ds.removeOperator(uint64(pro));
        vm.assertFalse(_listed(uint64(pro)), "removed");
    }

    function _listed(uint64 id) internal view returns (bool) {
        uint64[] memory list = ds.operators();
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == id) return true;
        }
        return false;
    }

    function test_sweepForcedEther_SendsItToTheElRewardsVault() public {
        vm.deal(address(ds), 3 ether); // forced: selfdestruct or a block reward
        uint256 vaultBefore = address(elVault).balance;
        vm.expectEmit(address(ds));
        emit IDepositSecurity.Swept(address(elVault), 3 ether);
        vm.prank(tl);
        vm.assertEq(ds.sweepForcedEther(), 3 ether, "amount");
        vm.assertEq(address(ds).balance, 0, "module empty");
        vm.assertEq(address(elVault).balance, vaultBefore + 3 ether, "in the EL rewards vault");
    }

    function test_sweepForcedEther_RevertWhen_NotGovernance() public {
        vm.deal(address(ds), 1 ether);
        bytes32 role = ds.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, role)
        );
        vm.prank(guardian);
        ds.sweepForcedEther();
    }

    function test_sweepForcedEther_RevertWhen_Empty() public {
        vm.expectRevert(IDepositSecurity.NothingToSweep.selector);
        vm.prank(tl);
        ds.sweepForcedEther();
    }
}
