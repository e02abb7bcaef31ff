// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {ICoverablePool} from "../../src/interfaces/ICoverablePool.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {BondManager} from "../../src/operators/BondManager.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

contract BondManagerTest is OperatorsFixture {
    IOperatorRegistry.OperatorType internal constant HOME = IOperatorRegistry.OperatorType.Home;
    IOperatorRegistry.OperatorType internal constant DVT = IOperatorRegistry.OperatorType.Dvt;
    IOperatorRegistry.OperatorType internal constant PRO = IOperatorRegistry.OperatorType.Professional;
    IOperatorRegistry.OperatorType internal constant KYC = IOperatorRegistry.OperatorType.Kyc;

    uint256 internal home;

    function setUp() public {
        _deploy();
        home = _registerHome(alice, 5 ether);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ================================================================== init, storage

    function test_initialize_SetsDefaults() public view {
        IBondManager.BondParams memory p = bonds.bondParams();
        vm.assertEq(p.homeFirstKey, 2 ether, "home first");
        vm.assertEq(p.homeNextKey, 1.3 ether, "home next");
        vm.assertEq(p.dvtPerValidator, 1 ether, "dvt");
        vm.assertEq(p.floor, 0.5 ether, "floor");
        vm.assertEq(p.discountStartScore, 5000, "discount start");
        (address p_, address r, address v, address f) = bonds.contracts();
        vm.assertEq(p_, address(pool), "pool");
        vm.assertEq(r, address(registry), "registry");
        vm.assertEq(v, address(vfp), "vfp");
        vm.assertEq(f, address(fund), "fund");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        bonds.initialize(admin, guardian, address(pool), address(registry), address(vfp), address(fund));
    }

    function test_initialize_RevertWhen_LayerZero() public {
        BondManager b = BondManager(address(new ERC1967Proxy(address(new BondManager()), "")));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        b.initialize(admin, guardian, address(pool), address(registry), address(0), address(fund));
    }

    function test_initialize_RevertWhen_PoolZero() public {
        BondManager b = BondManager(address(new ERC1967Proxy(address(new BondManager()), "")));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        b.initialize(admin, guardian, address(0), address(registry), address(vfp), address(fund));
    }

    function test_storageSlot_MatchesErc7201Formula() public view {
        bytes32 slot = _slot("claystack.storage.BondManager");
        vm.assertEq(slot, 0x84b0017aa12be520c46dce299ce8eb7ab8b1808deba3d01a99b992fb068b5000, "constant");
        vm.assertEq(
            address(uint160(uint256(vm.load(address(bonds), slot)))), address(pool), "pool at field 0"
        );
        // field 5 is totalBondShares (params fill slots 4 and 5? no: 4 x uint96 + uint16 = 2 slots: 4, 5)
        vm.assertEq(
            uint256(vm.load(address(bonds), bytes32(uint256(slot) + 6))), bonds.totalBondShares(), "total"
        );
    }

    // ================================================================== formula

    function test_requiredBondFor_Defaults() public view {
        vm.assertEq(bonds.requiredBondFor(HOME, 0, 0), 0, "no keys");
        vm.assertEq(bonds.requiredBondFor(HOME, 1, 0), 2 ether, "home 1");
        vm.assertEq(bonds.requiredBondFor(HOME, 3, 0), 4.6 ether, "home 3");
        vm.assertEq(bonds.requiredBondFor(DVT, 2, 0), 2 ether, "dvt 2");
        vm.assertEq(bonds.requiredBondFor(PRO, 100, 0), 0, "professional");
        vm.assertEq(bonds.requiredBondFor(KYC, 100, 0), 0, "kyc");
    }

    function test_requiredBondFor_ScoreDiscount() public view {
        vm.assertEq(bonds.requiredBondFor(HOME, 3, 5000), 4.6 ether, "no discount at start");
        // half way: first 2 - 1.5/2 = 1.25, next 1.3 - 0.8/2 = 0.9
        vm.assertEq(bonds.requiredBondFor(HOME, 3, 7500), 1.25 ether + 2 * 0.9 ether, "half discount");
        vm.assertEq(bonds.requiredBondFor(HOME, 3, 10_000), 1.5 ether, "floor");
        vm.assertEq(bonds.requiredBondFor(DVT, 4, 10_000), 2 ether, "dvt floor");
        vm.assertEq(bonds.requiredBondFor(HOME, 3, 60_000), 1.5 ether, "score clamped");
    }

    function test_keysCoveredBy_Defaults() public view {
        vm.assertEq(bonds.keysCoveredBy(HOME, 1.99 ether, 0), 0, "below first");
        vm.assertEq(bonds.keysCoveredBy(HOME, 2 ether, 0), 1, "first");
        vm.assertEq(bonds.keysCoveredBy(HOME, 4.6 ether, 0), 3, "three");
        vm.assertEq(bonds.keysCoveredBy(DVT, 2.5 ether, 0), 2, "dvt");
        vm.assertEq(bonds.keysCoveredBy(PRO, 0, 0), type(uint256).max, "unbounded");
    }

    function test_requiredBondPerMember_SplitsAcrossMembers() public {
        uint256 dvt = _registerDvt(bob, 3 ether);
        _depositKeys(dvt, bob, 500, 3);
        vm.assertEq(bonds.requiredBond(dvt), 3 ether, "cluster");
        vm.assertEq(bonds.requiredBondPerMember(dvt), 0.75 ether, "per member");
    }

    function test_freeBondedCapacity_TracksBondedKeys() public {
        vm.assertEq(bonds.freeBondedCapacity(home), 3, "5 ETH covers 3");
        _depositKeys(home, alice, 1, 2);
        vm.assertEq(bonds.bondedKeys(home), 2, "bonded");
        vm.assertEq(bonds.freeBondedCapacity(home), 1, "one left");
        uint256 pro = _admitProfessional(bob);
        vm.assertEq(
            bonds.freeBondedCapacity(pro), 0, "professional: no pre-deposit collateral yet (ADR 0007)"
        );
        vm.prank(bob);
        bonds.depositBond{value: 3 ether}(pro);
        vm.assertEq(bonds.freeBondedCapacity(pro), 3, "1 ETH collateral per pre-deposit in flight");
    }

    // ================================================================== deposits

    function test_depositBond_MintsShares() public {
        vm.expectEmit();
        emit IBondManager.BondDeposited(home, bob, 1 ether, 1 ether);
        vm.prank(bob);
        uint256 shares = bonds.depositBond{value: 1 ether}(home);
        vm.assertEq(shares, 1 ether, "shares at rate 1");
        vm.assertEq(bonds.bondShares(home), 6 ether, "bond shares");
        vm.assertEq(bonds.totalBondShares(), 6 ether, "total");
        vm.assertEq(pool.balanceOf(address(bonds)), 6 ether, "held as csETH");
    }

    function test_depositBond_RevertWhen_Zero() public {
        vm.expectRevert(IBondManager.ZeroAmount.selector);
        bonds.depositBond{value: 0}(home);
    }

    function test_depositBond_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IBondManager.OperatorNotFound.selector, 7));
        vm.prank(bob);
        bonds.depositBond{value: 1 ether}(7);
    }

    function test_depositBondShares_PullsCsEth() public {
        vm.prank(bob);
        uint256 shares = pool.depositFor{value: 2 ether}(bob);
        vm.startPrank(bob);
        pool.approve(address(bonds), shares);
        bonds.depositBondShares(home, shares);
        vm.stopPrank();
        vm.assertEq(bonds.bondShares(home), 5 ether + shares, "bond");
        vm.assertEq(pool.balanceOf(bob), 0, "pulled");
    }

    function test_depositBondShares_RevertWhen_NoAllowance() public {
        vm.prank(bob);
        pool.depositFor{value: 2 ether}(bob);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(bonds), 0, 1 ether
            )
        );
        vm.prank(bob);
        bonds.depositBondShares(home, 1 ether);
    }

    function test_depositBondShares_RevertWhen_Zero() public {
        vm.expectRevert(IBondManager.ZeroAmount.selector);
        bonds.depositBondShares(home, 0);
    }

    // ================================================================== claims, lock after exit

    function test_claimExcess_PaysRewardAddress() public {
        vm.prank(alice);
        registry.setRewardAddress(home, carol);
        _depositKeys(home, alice, 1, 2); // requires 3.3 of 5
        vm.assertEq(bonds.claimableShares(home), 1.7 ether, "excess");
        vm.expectEmit();
        emit IBondManager.BondClaimed(home, carol, 1.7 ether, 1.7 ether);
        vm.prank(alice);
        bonds.claimExcess(home, 1.7 ether);
        vm.assertEq(pool.balanceOf(carol), 1.7 ether, "paid in csETH");
        vm.assertEq(bonds.bondValue(home), 3.3 ether, "requirement left");
        vm.assertEq(bonds.claimableShares(home), 0, "nothing more");
    }

    function test_claimExcess_RewardsAccrueToBond() public {
        _depositKeys(home, alice, 1, 3); // requires 4.6 of 5
        // +10 % rate: bond worth 5.5
        pool.setTotalPooledEther(pool.totalPooledEther() * 11 / 10);
        vm.assertApproxEqAbs(bonds.bondValue(home), 5.5 ether, 1, "bond grew");
        uint256 claimable = bonds.claimableShares(home);
        vm.assertApproxEqAbs(pool.convertToAssets(claimable), 0.9 ether, 2, "excess grew");
    }

    function test_claimExcess_BondOfExitedKeysLockedUntilSettled() public {
        _depositKeys(home, alice, 1, 3);
        uint256 before = bonds.claimableShares(home);
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 2, 0);
        vm.assertEq(bonds.claimableShares(home), before, "still locked after exit");
        vm.prank(reporter);
        bonds.settleExits(home, 2);
        vm.assertEq(bonds.bondedKeys(home), 1, "one bonded");
        vm.assertEq(bonds.claimableShares(home), 3 ether, "released after the final report");
    }

    /// A later chunk of a pending extra-data chain may still charge the bond (auditor finding 4):
    /// the excess stays until the chain lands, then it is claimable again.
    function test_claimExcess_RevertWhen_ExtraDataPending() public {
        _depositKeys(home, alice, 1, 2);
        pool.setPendingExtraData(7199);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.BondHeldForExtraData.selector, home, 7199));
        vm.prank(alice);
        bonds.claimExcess(home, 1 ether);
        pool.setPendingExtraData(0);
        vm.prank(alice);
        bonds.claimExcess(home, 1 ether);
        vm.assertEq(bonds.claimableShares(home), 0.7 ether, "claimed once the chain landed");
    }

    /// Who may claim is checked first: a stranger learns nothing about the window.
    function test_claimExcess_RevertWhen_NotManagerDuringExtraData() public {
        pool.setPendingExtraData(7199);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        bonds.claimExcess(home, 1 ether);
    }

    function test_claimExcess_RevertWhen_AboveExcess() public {
        _depositKeys(home, alice, 1, 3);
        vm.expectRevert(
            abi.encodeWithSelector(IBondManager.ClaimExceedsExcess.selector, home, 0.5 ether, 0.4 ether)
        );
        vm.prank(alice);
        bonds.claimExcess(home, 0.5 ether);
    }

    function test_claimExcess_RevertWhen_NotManager() public {
        vm.expectRevert(abi.encodeWithSelector(IBondManager.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        bonds.claimExcess(home, 1);
    }

    function test_claimExcess_RevertWhen_Stopped() public {
        vm.prank(admin);
        registry.setStopped(home, true);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.ClaimExceedsExcess.selector, home, 1, 0));
        vm.prank(alice);
        bonds.claimExcess(home, 1);
    }

    function test_claimExcess_RevertWhen_Paused() public {
        vm.prank(guardian);
        bonds.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(alice);
        bonds.claimExcess(home, 1);
    }

    function test_claimExcess_RevertWhen_Zero() public {
        vm.expectRevert(IBondManager.ZeroAmount.selector);
        vm.prank(alice);
        bonds.claimExcess(home, 0);
    }

    function test_settleExits_RevertWhen_AboveExited() public {
        _depositKeys(home, alice, 1, 2);
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.SettlementOutOfRange.selector, home, 2, 0, 1));
        vm.prank(reporter);
        bonds.settleExits(home, 2);
    }

    function test_settleExits_RevertWhen_NotIncreasing() public {
        vm.expectRevert(abi.encodeWithSelector(IBondManager.SettlementOutOfRange.selector, home, 0, 0, 0));
        vm.prank(reporter);
        bonds.settleExits(home, 0);
    }

    function test_settleExits_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, bonds.REPORTER_ROLE()));
        vm.prank(alice);
        bonds.settleExits(home, 1);
    }

    // ================================================================== penalties

    function test_penalize_TakesFromBond() public {
        vm.expectEmit();
        emit IBondManager.BondPenalized(home, 1 ether, 1 ether, 1 ether);
        vm.prank(reporter);
        uint256 uncovered = bonds.penalize(home, 1 ether);
        vm.assertEq(uncovered, 0, "covered");
        vm.assertEq(bonds.bondShares(home), 4 ether, "bond shrank");
        vm.assertEq(pool.balanceOf(address(bonds)), 4 ether, "burned");
    }

    function test_penalize_ReturnsRemainderAboveBond() public {
        vm.prank(reporter);
        uint256 uncovered = bonds.penalize(home, 7 ether);
        vm.assertEq(uncovered, 2 ether, "remainder");
        vm.assertEq(bonds.bondShares(home), 0, "bond emptied");
        vm.prank(reporter);
        vm.assertEq(bonds.penalize(home, 1 ether), 1 ether, "empty bond covers nothing");
    }

    function test_penalize_RoundsAgainstTheOperator() public {
        // odd rate: 3 ETH for 2 shares of the seed
        pool.setTotalPooledEther(pool.totalPooledEther() + uint256(1 ether) / 3);
        uint256 sharesBefore = bonds.bondShares(home);
        uint256 tpe = pool.totalPooledEther();
        uint256 supply = pool.totalSupply();
        vm.prank(reporter);
        bonds.penalize(home, 1 ether);
        uint256 burned = sharesBefore - bonds.bondShares(home);
        vm.assertGe(burned * tpe / supply, 1 ether, "burned at least the penalty at the pre-burn rate");
        vm.assertLe((burned - 1) * tpe / supply, 1 ether, "and at most one share more");
    }

    function test_penalize_Zero() public {
        vm.prank(reporter);
        vm.assertEq(bonds.penalize(home, 0), 0, "nothing");
        vm.assertEq(bonds.bondShares(home), 5 ether, "untouched");
    }

    function test_penalize_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, bonds.REPORTER_ROLE()));
        vm.prank(alice);
        bonds.penalize(home, 1);
    }

    function test_penalize_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IBondManager.OperatorNotFound.selector, 3));
        vm.prank(reporter);
        bonds.penalize(3, 1);
    }

    function test_penalize_WorksWhilePaused() public {
        vm.prank(guardian);
        bonds.pause();
        vm.prank(reporter);
        bonds.penalize(home, 1 ether);
        vm.assertEq(bonds.bondShares(home), 4 ether, "penalized");
    }

    // ================================================================== governance

    function test_setBondParams_Sets() public {
        IBondManager.BondParams memory p = IBondManager.BondParams(3 ether, 2 ether, 1.5 ether, 0.25 ether, 0);
        vm.prank(admin);
        bonds.setBondParams(p);
        vm.assertEq(bonds.bondParams().homeFirstKey, 3 ether, "set");
        vm.assertEq(bonds.requiredBondFor(HOME, 2, 10_000), 0.5 ether, "floor 0.25 x 2");
    }

    function test_setBondParams_RevertWhen_FloorOutOfBounds() public {
        IBondManager.BondParams memory p =
            IBondManager.BondParams(2 ether, 1.3 ether, 1 ether, 1.1 ether, 5000);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("floor"), 1.1 ether, 0.1 ether, 1 ether
            )
        );
        vm.prank(admin);
        bonds.setBondParams(p);
    }

    function test_setBondParams_RevertWhen_KeyBondOutOfBounds() public {
        IBondManager.BondParams memory p =
            IBondManager.BondParams(33 ether, 1.3 ether, 1 ether, 0.5 ether, 5000);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("homeFirstKey"), 33 ether, 1 ether, 32 ether
            )
        );
        vm.prank(admin);
        bonds.setBondParams(p);
    }

    function test_setBondParams_RevertWhen_DiscountStartOutOfBounds() public {
        IBondManager.BondParams memory p =
            IBondManager.BondParams(2 ether, 1.3 ether, 1 ether, 0.5 ether, 9001);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("discountStartScore"), 9001, 0, 9000
            )
        );
        vm.prank(admin);
        bonds.setBondParams(p);
    }

    function test_setBondParams_RevertWhen_NotAdmin() public {
        IBondManager.BondParams memory p = bonds.bondParams();
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        bonds.setBondParams(p);
    }

    function test_setLayers_Sets() public {
        vm.prank(admin);
        bonds.setLayers(carol, bob);
        (,, address v, address f) = bonds.contracts();
        vm.assertEq(v, carol, "vfp");
        vm.assertEq(f, bob, "fund");
    }

    function test_setLayers_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(admin);
        bonds.setLayers(address(0), bob);
    }

    function test_setLayers_RevertWhen_NotAdmin() public {
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        bonds.setLayers(carol, bob);
    }

    function test_upgradeToAndCall_RevertWhen_NotAdmin() public {
        address impl = address(new BondManager());
        vm.expectRevert(_unauthorized(alice, bytes32(0)));
        vm.prank(alice);
        bonds.upgradeToAndCall(impl, "");
    }

    function test_burnSharesForCover_RevertWhen_NotCoverProvider() public {
        vm.prank(bob);
        pool.depositFor{value: 1 ether}(bob);
        vm.expectRevert(abi.encodeWithSelector(ICoverablePool.NotCoverProvider.selector, bob));
        vm.prank(bob);
        pool.burnSharesForCover(1);
    }

    function test_requiredBondPerMember_RevertWhen_NotDvt() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.WrongOperatorType.selector, home, IOperatorRegistry.OperatorType.Home
            )
        );
        bonds.requiredBondPerMember(home);
    }

    function test_settleExits_EmitsAndReleases() public {
        _depositKeys(home, alice, 1, 2);
        vm.prank(reporter);
        registry.updateExitedAndStuck(home, 1, 0);
        vm.expectEmit();
        emit IBondManager.ExitsSettled(home, 1);
        vm.prank(reporter);
        bonds.settleExits(home, 1);
        vm.assertEq(bonds.settledExits(home), 1, "settled");
        vm.assertEq(bonds.bondedKeys(home), 1, "bonded");
    }

    function test_freeBondedCapacity_FallsWhenScoreDrops() public {
        vm.prank(reporter);
        registry.setScore(home, 10_000); // 0.5 ETH per key: 5 ETH covers 10
        // 0.5 ETH per key covers 10, but only 5 pre-deposits can be in flight at once (1 ETH each)
        vm.assertEq(bonds.freeBondedCapacity(home), 5, "perfect score, collateral-capped");
        _depositKeys(home, alice, 1, 5);
        vm.prank(reporter);
        registry.setScore(home, 0); // 5 keys now need 7.2 ETH
        vm.assertEq(bonds.freeBondedCapacity(home), 0, "under-bonded: no new keys");
        vm.assertEq(bonds.claimableShares(home), 0, "and nothing to claim");
    }

    // ------------------------------------------------------------------ front-run collateral

    /// @dev A Professional operator (no formula bond) with `bond` ETH of own bond and `n` keys
    /// pre-deposited.
    function _proInFlight(uint256 bond, uint256 n) internal returns (uint256 id) {
        id = _admitProfessional(bob);
        vm.prank(bob);
        bonds.depositBond{value: bond}(id);
        _addKeys(id, bob, 500, n);
        vm.prank(vetter);
        registry.setVettedLimit(id, n);
        vm.prank(depositor);
        registry.markPreDeposited(id, n);
    }

    function test_lockedCollateral_KeepsAFrontRunKeyLockedUntilCharged() public {
        uint256 id = _proInFlight(2 ether, 2);
        vm.assertEq(bonds.lockedCollateral(id), 2 ether, "two in flight");
        // the report marks key 1 front-run and confirms the range before charging it: the old
        // lock (preDeposited - confirmed) dropped to zero here and let the operator claim it
        vm.startPrank(reporter);
        registry.markFrontRun(id, 1);
        registry.confirmPreDeposits(id, 2);
        vm.stopPrank();
        vm.assertEq(bonds.lockedCollateral(id), 1 ether, "the front-run key's 1 ETH stays locked");
        vm.prank(admin);
        registry.setStopped(id, false);
        vm.assertLe(bonds.claimableShares(id), pool.convertToShares(1 ether), "cannot claim the collateral");

        uint256 before = bonds.bondShares(id);
        uint256 oneEther = pool.convertToShares(1 ether);
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.chargeFrontRun(id, 0);
        vm.assertEq(c.fromBond, 1 ether, "1 ETH from the bond");
        vm.assertApproxEqAbs(before - bonds.bondShares(id), oneEther, 1, "burned at the current rate");
        vm.assertEq(bonds.frontRunsCharged(id), 1, "charged");
        vm.assertEq(bonds.lockedCollateral(id), 0, "released once charged");
    }

    function test_chargeFrontRun_AtTheGivenRate() public {
        uint256 id = _proInFlight(3 ether, 1);
        vm.prank(reporter);
        registry.markFrontRun(id, 0);
        uint256 before = bonds.bondShares(id);
        vm.prank(reporter);
        bonds.chargeFrontRun(id, 2e27); // 2 ETH per share: half a share-ether burned
        vm.assertEq(before - bonds.bondShares(id), 0.5 ether, "1 ETH at 2 ETH per share");
    }

    function test_chargeFrontRun_RevertWhen_NothingToCharge() public {
        uint256 id = _proInFlight(2 ether, 1);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.NoUnchargedFrontRun.selector, id, 0, 0));
        vm.prank(reporter);
        bonds.chargeFrontRun(id, 0);
        vm.prank(reporter);
        registry.markFrontRun(id, 0);
        vm.prank(reporter);
        bonds.chargeFrontRun(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.NoUnchargedFrontRun.selector, id, 1, 1));
        vm.prank(reporter);
        bonds.chargeFrontRun(id, 0);
    }

    function test_chargeFrontRun_RevertWhen_NotReporter() public {
        vm.expectRevert(_unauthorized(alice, bonds.REPORTER_ROLE()));
        vm.prank(alice);
        bonds.chargeFrontRun(home, 0);
    }

    function test_chargeFrontRun_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IBondManager.OperatorNotFound.selector, 9));
        vm.prank(reporter);
        bonds.chargeFrontRun(9, 0);
    }
}
