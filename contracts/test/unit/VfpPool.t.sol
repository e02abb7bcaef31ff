// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorRewards} from "../../src/interfaces/IOperatorRewards.sol";
import {IVfpPool} from "../../src/interfaces/IVfpPool.sol";
import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {VfpPool} from "../../src/operators/VfpPool.sol";
import {MockShareToken} from "../mocks/RewardsExitsMocks.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice An OperatorRewards stand-in that pays the pool's csETH and reports any claimed amount:
/// a broken (or malicious) contract that governance might set by mistake.
contract LyingOperatorRewards {
    address public immutable token;
    uint256 public reported;

    constructor(address token_) {
        token = token_;
    }

    function setReported(uint256 value) external {
        reported = value;
    }

    function claimed(address) external view returns (uint256) {
        return reported;
    }
}

/// @notice An OperatorRewards stand-in that calls back into the VfpPool while paying it.
contract ReentrantOperatorRewards {
    address public immutable token;
    VfpPool internal immutable vfp;
    uint256 public claimedTotal;

    constructor(address token_, VfpPool vfp_) {
        token = token_;
        vfp = vfp_;
    }

    function claimed(address) external view returns (uint256) {
        return claimedTotal;
    }

    function claim(address, uint256 cumulativeShares, bytes32[] calldata) external returns (uint256) {
        claimedTotal = cumulativeShares;
        vfp.syncRewards();
        return cumulativeShares;
    }
}

contract VfpPoolTest is OperatorsFixture {
    uint256 internal home;

    function setUp() public {
        _deploy();
        home = _registerHome(alice, 4 ether);
        vm.prank(reporter);
        registry.setScore(home, 9000);
        vm.prank(bob);
        vfp.depositEth{value: 10 ether}(bob);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ================================================================== init, storage

    function test_initialize_SetsDefaults() public view {
        IVfpPool.VfpParams memory p = vfp.params();
        vm.assertEq(p.scoreThresholdBps, 7000, "threshold");
        vm.assertEq(p.rewardShareBps, 1000, "reward share");
        vm.assertEq(p.totalCapBps, 8000, "total cap");
        vm.assertEq(p.maxMatchBps, 10_000, "match");
        vm.assertEq(p.perOperatorCap, 32 ether, "per operator");
        vm.assertEq(p.withdrawalDelay, 7 days, "delay");
        vm.assertEq(vfp.symbol(), "VEF", "symbol");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vfp.initialize(admin, guardian, address(pool), address(registry), address(bonds));
    }

    function test_initialize_RevertWhen_BondManagerZero() public {
        VfpPool v = VfpPool(address(new ERC1967Proxy(address(new VfpPool()), "")));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        v.initialize(admin, guardian, address(pool), address(registry), address(0));
    }

    function test_storageSlot_MatchesErc7201Formula() public {
        bytes32 slot = _slot("claystack.storage.VfpPool");
        vm.assertEq(slot, 0x29c276aaf98274dc54423ef7ec41854a1cbee317939b4570964546ba0666f500, "constant");
        vm.assertEq(address(uint160(uint256(vm.load(address(vfp), slot)))), address(pool), "pool at field 0");
        // fields: pool, registry, bondManager, params (1 slot), totalAssets
        vm.assertEq(
            uint256(vm.load(address(vfp), bytes32(uint256(slot) + 4))), vfp.totalAssets(), "totalAssets"
        );
        // appended after totalAllocated, nextRequestId and the two mappings (fields 5-8)
        OperatorRewards r = _wireRewards();
        vm.assertEq(
            address(uint160(uint256(vm.load(address(vfp), bytes32(uint256(slot) + 9))))),
            address(r),
            "operatorRewards at field 9"
        );
    }

    // ================================================================== deposits

    function test_depositEth_MintsVef() public view {
        vm.assertEq(vfp.totalAssets(), 10 ether, "assets");
        vm.assertEq(vfp.balanceOf(bob), 10 ether * 1e3, "first deposit: 1e3 VEF per csETH wei (offset)");
        vm.assertEq(pool.balanceOf(address(vfp)), 10 ether, "held as csETH");
    }

    function test_depositEth_SecondDepositorSamePrice() public {
        vm.prank(carol);
        uint256 vef = vfp.depositEth{value: 5 ether}(carol);
        vm.assertApproxEqAbs(vef, 5 ether * 1e3, 1e3, "same price");
        vm.assertApproxEqAbs(vfp.convertToCs(vef), 5 ether, 1, "worth its deposit");
        vm.assertLe(vfp.convertToCs(vef), 5 ether, "never more");
    }

    function test_depositEth_RevertWhen_Zero() public {
        vm.expectRevert(IVfpPool.ZeroAmount.selector);
        vfp.depositEth{value: 0}(bob);
    }

    function test_depositEth_RevertWhen_ReceiverZero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(bob);
        vfp.depositEth{value: 1}(address(0));
    }

    function test_depositEth_RevertWhen_Paused() public {
        vm.prank(guardian);
        vfp.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(bob);
        vfp.depositEth{value: 1 ether}(bob);
    }

    function test_depositShares_PullsCsEth() public {
        vm.startPrank(carol);
        uint256 cs = pool.depositFor{value: 2 ether}(carol);
        pool.approve(address(vfp), cs);
        uint256 vef = vfp.depositShares(cs, carol);
        vm.stopPrank();
        vm.assertEq(vfp.balanceOf(carol), vef, "vef");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
        vm.assertEq(pool.balanceOf(carol), 0, "pulled");
    }

    function test_depositEth_RevertWhen_Dust() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.DepositTooSmall.selector, 1e15 - 1, 1e15));
        vm.prank(carol);
        vfp.depositEth{value: 1e15 - 1}(carol);
    }

    function test_depositShares_RevertWhen_Zero() public {
        vm.expectRevert(IVfpPool.ZeroAmount.selector);
        vm.prank(carol);
        vfp.depositShares(0, carol);
    }

    function test_depositRewards_RaisesShareValue() public {
        pool.mintFor(distributor, 1 ether);
        vm.startPrank(distributor);
        pool.approve(address(vfp), 1 ether);
        vfp.depositRewards(1 ether);
        vm.stopPrank();
        vm.assertEq(vfp.totalAssets(), 11 ether, "assets");
        vm.assertApproxEqAbs(vfp.convertToCs(vfp.balanceOf(bob)), 11 ether, 1, "bob earns it");
    }

    function test_depositRewards_RevertWhen_NotDistributor() public {
        vm.expectRevert(_unauthorized(bob, vfp.REWARDS_ROLE()));
        vm.prank(bob);
        vfp.depositRewards(1);
    }

    function test_donation_DoesNotChangeSharePrice() public {
        uint256 before = vfp.convertToCs(1e21);
        pool.mintFor(address(vfp), 5 ether); // csETH sent directly
        vm.assertEq(vfp.convertToCs(1e21), before, "tracked assets ignore donations");
    }

    // ================================================================== withdrawals

    function test_requestWithdrawal_EscrowsVef() public {
        uint256 vef = vfp.balanceOf(bob) / 2;
        vm.prank(bob);
        uint256 id = vfp.requestWithdrawal(vef);
        IVfpPool.WithdrawalRequest memory r = vfp.withdrawalRequest(id);
        vm.assertEq(id, 1, "first id");
        vm.assertEq(r.owner, bob, "owner");
        vm.assertEq(r.vefShares, vef, "vef");
        vm.assertApproxEqAbs(r.maxCsShares, 5 ether, 1, "value at request");
        vm.assertEq(r.claimableAt, block.timestamp + 7 days, "delay");
        vm.assertEq(vfp.balanceOf(address(vfp)), vef, "escrowed");
    }

    function test_requestWithdrawal_RevertWhen_Zero() public {
        vm.expectRevert(IVfpPool.ZeroAmount.selector);
        vm.prank(bob);
        vfp.requestWithdrawal(0);
    }

    function test_requestWithdrawal_RevertWhen_Paused() public {
        vm.prank(guardian);
        vfp.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(bob);
        vfp.requestWithdrawal(1);
    }

    function _request(uint256 vef) internal returns (uint256 id) {
        vm.prank(bob);
        id = vfp.requestWithdrawal(vef);
    }

    function test_claimWithdrawal_PaysAfterDelay() public {
        uint256 id = _request(vfp.balanceOf(bob));
        vm.warp(block.timestamp + 7 days);
        vm.prank(bob);
        uint256 cs = vfp.claimWithdrawal(id);
        vm.assertApproxEqAbs(cs, 10 ether, 1, "all back");
        vm.assertEq(pool.balanceOf(bob), cs, "paid in csETH");
        vm.assertEq(vfp.totalSupply(), 0, "vef burned");
    }

    function test_claimWithdrawal_GainsDuringDelayStayInPool() public {
        vm.prank(carol);
        vfp.depositEth{value: 10 ether}(carol);
        uint256 id = _request(vfp.balanceOf(bob));
        pool.mintFor(distributor, 2 ether);
        vm.startPrank(distributor);
        pool.approve(address(vfp), 2 ether);
        vfp.depositRewards(2 ether);
        vm.stopPrank();
        vm.warp(block.timestamp + 7 days);
        vm.prank(bob);
        uint256 cs = vfp.claimWithdrawal(id);
        vm.assertApproxEqAbs(cs, 10 ether, 1, "capped at the value when requested");
        vm.assertApproxEqAbs(vfp.convertToCs(vfp.balanceOf(carol)), 12 ether, 2, "carol keeps the gain");
    }

    function test_claimWithdrawal_LossesDuringDelayShared() public {
        vm.prank(alice);
        vfp.fundOperator(home, 4 ether);
        uint256 id = _request(vfp.balanceOf(bob));
        vm.prank(reporter);
        bonds.coverLoss(home, 6 ether); // bond 4, VFP 2
        vm.warp(block.timestamp + 7 days);
        uint256 left = vfp.allocatedShares(home);
        vm.prank(admin);
        vfp.releaseFunding(home, left);
        vm.prank(bob);
        uint256 cs = vfp.claimWithdrawal(id);
        vm.assertApproxEqAbs(cs, 8 ether, 1, "a request does not escape the loss");
    }

    function test_claimWithdrawal_RevertWhen_BeforeDelay() public {
        uint256 id = _request(1e18);
        vm.warp(block.timestamp + 7 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IVfpPool.RequestNotClaimable.selector, id, block.timestamp + 1)
        );
        vm.prank(bob);
        vfp.claimWithdrawal(id);
    }

    function test_claimWithdrawal_RevertWhen_NotOwner() public {
        uint256 id = _request(1e18);
        vm.warp(block.timestamp + 7 days);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.RequestInvalid.selector, id, carol));
        vm.prank(carol);
        vfp.claimWithdrawal(id);
    }

    function test_claimWithdrawal_RevertWhen_ClaimedTwice() public {
        uint256 id = _request(1e18);
        vm.warp(block.timestamp + 7 days);
        vm.startPrank(bob);
        vfp.claimWithdrawal(id);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.RequestInvalid.selector, id, bob));
        vfp.claimWithdrawal(id);
        vm.stopPrank();
    }

    function test_claimWithdrawal_RevertWhen_AssetsAllocated() public {
        vm.prank(alice);
        vfp.fundOperator(home, 4 ether);
        uint256 id = _request(vfp.balanceOf(bob));
        vm.warp(block.timestamp + 7 days);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.InsufficientIdleShares.selector, 10 ether, 6 ether));
        vm.prank(bob);
        vfp.claimWithdrawal(id);
    }

    function test_claimWithdrawal_RevertWhen_Paused() public {
        uint256 id = _request(1e18);
        vm.warp(block.timestamp + 7 days);
        vm.prank(guardian);
        vfp.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(bob);
        vfp.claimWithdrawal(id);
    }

    // ================================================================== funding

    function test_fundOperator_AddsBackingToBond() public {
        uint256 before =
            bonds.keysCoveredBy(IOperatorRegistry.OperatorType.Home, bonds.totalBondValue(home), 0);
        vm.expectEmit();
        emit IVfpPool.OperatorFunded(home, 3 ether, 3 ether);
        vm.prank(alice);
        uint256 cs = vfp.fundOperator(home, 3 ether);
        vm.assertEq(cs, 3 ether, "shares");
        vm.assertEq(vfp.allocatedShares(home), 3 ether, "allocated");
        vm.assertEq(vfp.totalAllocated(), 3 ether, "total");
        vm.assertEq(vfp.idleShares(), 7 ether, "idle");
        vm.assertEq(bonds.totalBondValue(home), 7 ether, "own + backing");
        // the bond formula counts the backing; the pre-deposit collateral (own bond only) still caps
        // how many keys may be in flight at once (ADR 0007)
        vm.assertGt(
            bonds.keysCoveredBy(IOperatorRegistry.OperatorType.Home, bonds.totalBondValue(home), 0),
            before,
            "more capacity"
        );
    }

    function test_fundOperator_RevertWhen_ScoreBelowThreshold() public {
        vm.prank(reporter);
        registry.setScore(home, 6999);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.ScoreBelowThreshold.selector, home, 6999, 7000));
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
    }

    function test_fundOperator_RevertWhen_NotManager() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        vfp.fundOperator(home, 1 ether);
    }

    function test_fundOperator_RevertWhen_Professional() public {
        uint256 pro = _admitProfessional(carol);
        vm.prank(reporter);
        registry.setScore(pro, 9000);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.NotFundable.selector, pro));
        vm.prank(carol);
        vfp.fundOperator(pro, 1 ether);
    }

    function test_fundOperator_RevertWhen_Stopped() public {
        vm.prank(admin);
        registry.setStopped(home, true);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.NotFundable.selector, home));
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
    }

    function test_fundOperator_RevertWhen_AboveOwnBond() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.FundingCapExceeded.selector, home, 5 ether, 4 ether));
        vm.prank(alice);
        vfp.fundOperator(home, 5 ether);
    }

    function test_fundOperator_RevertWhen_AbovePerOperatorCap() public {
        IVfpPool.VfpParams memory p = vfp.params();
        p.perOperatorCap = 1 ether;
        vm.prank(admin);
        vfp.setParams(p);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.FundingCapExceeded.selector, home, 2 ether, 1 ether));
        vm.prank(alice);
        vfp.fundOperator(home, 2 ether);
    }

    function test_fundOperator_RevertWhen_AboveTotalCap() public {
        vm.prank(alice);
        bonds.depositBond{value: 20 ether}(home);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.FundingCapExceeded.selector, home, 9 ether, 8 ether));
        vm.prank(alice);
        vfp.fundOperator(home, 9 ether);
    }

    function test_fundOperator_RevertWhen_Paused() public {
        vm.prank(guardian);
        vfp.pause();
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
    }

    function test_fundOperator_RevertWhen_Zero() public {
        vm.expectRevert(IVfpPool.ZeroAmount.selector);
        vm.prank(alice);
        vfp.fundOperator(home, 0);
    }

    function test_releaseFunding_ByManagerWhenBondStillCovers() public {
        vm.prank(alice);
        vfp.fundOperator(home, 2 ether);
        vm.prank(alice);
        vfp.releaseFunding(home, 1 ether);
        vm.assertEq(vfp.allocatedShares(home), 1 ether, "released");
        vm.assertEq(vfp.totalAllocated(), 1 ether, "total");
    }

    function test_releaseFunding_RevertWhen_ManagerLeavesBondShort() public {
        vm.prank(alice);
        vfp.fundOperator(home, 4 ether);
        vm.prank(reporter);
        registry.setScore(home, 0);
        _depositKeys(home, alice, 1, 4); // needs 2 + 3 x 1.3 = 5.9 > 4 ETH own
        uint256 required = bonds.requiredBond(home);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.ReleaseUnderBonds.selector, home, 4 ether, required));
        vm.prank(alice);
        vfp.releaseFunding(home, 4 ether);
    }

    function test_releaseFunding_ByGovernanceUnconditionally() public {
        vm.prank(alice);
        vfp.fundOperator(home, 4 ether);
        vm.prank(reporter);
        registry.setScore(home, 0);
        _depositKeys(home, alice, 1, 4);
        vm.prank(admin);
        vfp.releaseFunding(home, 4 ether);
        vm.assertEq(vfp.allocatedShares(home), 0, "released");
    }

    /// Auditor finding 4: between chunk 0 and the chunk that penalises the operator, its manager
    /// could pull the VFP backing (the bond still covering the requirement) and push the loss
    /// past the VFP layer to the insurance fund and the holders. Refused while a chain is pending.
    function test_releaseFunding_RevertWhen_ExtraDataPending() public {
        vm.prank(alice);
        vfp.fundOperator(home, 2 ether);
        pool.setPendingExtraData(7199);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.BondHeldForExtraData.selector, home, 7199));
        vm.prank(alice);
        vfp.releaseFunding(home, 1 ether);
        pool.setPendingExtraData(0);
        vm.prank(alice);
        vfp.releaseFunding(home, 1 ether);
        vm.assertEq(vfp.allocatedShares(home), 1 ether, "released once the chain landed");
    }

    /// Governance's release stays unconditional (an emergency tool), window or not.
    function test_releaseFunding_ByGovernanceDuringExtraData() public {
        vm.prank(alice);
        vfp.fundOperator(home, 2 ether);
        pool.setPendingExtraData(7199);
        vm.prank(admin);
        vfp.releaseFunding(home, 2 ether);
        vm.assertEq(vfp.allocatedShares(home), 0, "released");
    }

    function test_releaseFunding_RevertWhen_NotManagerDuringExtraData() public {
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
        pool.setPendingExtraData(7199);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        vfp.releaseFunding(home, 1 ether);
    }

    function test_releaseFunding_RevertWhen_NotManager() public {
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.NotOperatorManager.selector, home, bob));
        vm.prank(bob);
        vfp.releaseFunding(home, 1 ether);
    }

    function test_releaseFunding_RevertWhen_AboveAllocation() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.FundingCapExceeded.selector, home, 1, 0));
        vm.prank(alice);
        vfp.releaseFunding(home, 1);
    }

    function test_absorbLoss_RevertWhen_NotBondManager() public {
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, reporter, address(bonds))
        );
        vm.prank(reporter);
        vfp.absorbLoss(home, 1 ether);
    }

    function test_absorbLoss_AtMostTheBacking() public {
        vm.prank(alice);
        vfp.fundOperator(home, 1 ether);
        vm.prank(address(bonds));
        uint256 burned = vfp.absorbLoss(home, 3 ether);
        vm.assertEq(burned, 1 ether, "backing only");
        vm.assertEq(vfp.totalAssets(), 9 ether, "assets");
        vm.assertEq(vfp.totalAllocated(), 0, "allocation");
    }

    // ================================================================== governance

    function test_setParams_RevertWhen_DelayOutOfBounds() public {
        IVfpPool.VfpParams memory p = vfp.params();
        p.withdrawalDelay = 31 days;
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("withdrawalDelay"), 31 days, 1 days, 30 days
            )
        );
        vm.prank(admin);
        vfp.setParams(p);
    }

    function test_setParams_RevertWhen_RewardShareOutOfBounds() public {
        IVfpPool.VfpParams memory p = vfp.params();
        p.rewardShareBps = 5001;
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("rewardShareBps"), 5001, 0, 5000
            )
        );
        vm.prank(admin);
        vfp.setParams(p);
    }

    function test_setParams_RevertWhen_NotAdmin() public {
        IVfpPool.VfpParams memory p = vfp.params();
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        vfp.setParams(p);
    }

    function test_claimExcess_OwnBondKeepsTheMatchRatio() public {
        vm.prank(alice);
        vfp.fundOperator(home, 4 ether); // backing = own bond (match cap 100 %)
        // no keys: the requirement is 0, yet the own bond may not fall below the backing
        vm.assertEq(bonds.claimableShares(home), 0, "nothing claimable below the match");
        vm.prank(alice);
        bonds.depositBond{value: 1 ether}(home);
        vm.assertEq(bonds.claimableShares(home), 1 ether, "only the part above the match");
    }

    // ================================================================== rewards from the oracle's tree

    address internal module = makeAddr("operatorsModule");
    address internal keeper = makeAddr("keeper");

    /// @dev A real OperatorRewards paying the pool's csETH, set on the VfpPool by governance.
    function _wireRewards() internal returns (OperatorRewards r) {
        r = _newRewards();
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
    }

    function _newRewards() internal returns (OperatorRewards r) {
        r = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (admin, address(pool), module))
                )
            )
        );
    }

    /// @dev The pool mints `vfpCumulative + otherCumulative - published` fee shares to `r`, and the
    /// module publishes a root with the VfpPool's leaf and one operator's leaf.
    function _publish(OperatorRewards r, uint256 vfpCumulative, uint256 otherCumulative, uint256 refSlot)
        internal
        returns (bytes32[] memory tree)
    {
        uint256 total = vfpCumulative + otherCumulative;
        uint256 have = r.totalReceived();
        if (total > have) _mintShares(address(r), total - have);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = MerkleBuilder.leaf(address(vfp), vfpCumulative);
        leaves[1] = MerkleBuilder.leaf(alice, otherCumulative);
        tree = MerkleBuilder.build(leaves);
        vm.prank(module);
        r.setRewardsRoot(tree[0], total, refSlot);
    }

    /// @dev Mints exactly `shares` csETH shares to `to` (MockPool converts ETH at its rate).
    function _mintShares(address to, uint256 shares) internal {
        pool.mintFor(distributor, pool.convertToAssets(shares) + 1 ether);
        vm.prank(distributor);
        vm.assertTrue(pool.transfer(to, shares), "transfer");
    }

    function _vfpProof(bytes32[] memory tree, uint256 cumulative) internal view returns (bytes32[] memory) {
        return MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(address(vfp), cumulative));
    }

    function test_setOperatorRewards_SetsAndEmits() public {
        OperatorRewards r = _newRewards();
        vm.expectEmit(address(vfp));
        emit IVfpPool.OperatorRewardsSet(address(r));
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
        vm.assertEq(vfp.operatorRewards(), address(r), "set");
    }

    function test_setOperatorRewards_RevertWhen_NotAdmin() public {
        OperatorRewards r = _newRewards();
        vm.expectRevert(_unauthorized(guardian, bytes32(0)));
        vm.prank(guardian);
        vfp.setOperatorRewards(address(r));
    }

    function test_setOperatorRewards_RevertWhen_Zero() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.OperatorRewardsInvalid.selector, address(0)));
        vm.prank(admin);
        vfp.setOperatorRewards(address(0));
    }

    function test_setOperatorRewards_RevertWhen_NoCode() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.OperatorRewardsInvalid.selector, carol));
        vm.prank(admin);
        vfp.setOperatorRewards(carol);
    }

    function test_setOperatorRewards_RevertWhen_NoTokenFunction() public {
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.OperatorRewardsInvalid.selector, address(registry)));
        vm.prank(admin);
        vfp.setOperatorRewards(address(registry));
    }

    function test_setOperatorRewards_RevertWhen_OtherToken() public {
        MockShareToken other = new MockShareToken();
        OperatorRewards r = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (admin, address(other), module))
                )
            )
        );
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.OperatorRewardsInvalid.selector, address(r)));
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
    }

    function test_claimRewards_BooksTheLeafAndHoldersEarnIt() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        uint256 bobBefore = vfp.convertToCs(vfp.balanceOf(bob));
        vm.expectEmit(address(vfp));
        emit IVfpPool.RewardsReceived(address(r), 2 ether);
        vm.prank(keeper); // anyone
        uint256 booked = vfp.claimRewards(2 ether, _vfpProof(tree, 2 ether));
        vm.assertEq(booked, 2 ether, "booked");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
        vm.assertEq(pool.balanceOf(address(vfp)), 12 ether, "held");
        vm.assertEq(vfp.rewardsBooked(address(r)), 2 ether, "booked total");
        vm.assertEq(r.claimed(address(vfp)), 2 ether, "claimed");
        vm.assertEq(pool.balanceOf(keeper), 0, "the caller gets nothing");
        vm.assertApproxEqAbs(vfp.convertToCs(vfp.balanceOf(bob)), bobBefore + 2 ether, 1, "bob earns it");
    }

    function test_claimRewards_IncrementsAcrossRoots() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 1 ether, 1 ether, 1);
        vfp.claimRewards(1 ether, _vfpProof(tree, 1 ether));
        tree = _publish(r, 3 ether, 2 ether, 2);
        uint256 booked = vfp.claimRewards(3 ether, _vfpProof(tree, 3 ether));
        vm.assertEq(booked, 2 ether, "only the increment");
        vm.assertEq(vfp.totalAssets(), 13 ether, "assets");
        vm.assertEq(vfp.rewardsBooked(address(r)), 3 ether, "booked total");
    }

    /// @dev The front-run the design must survive: the pool's leaf claimed on OperatorRewards
    /// directly. The shares arrive unbooked, and the keeper's claimRewards (same leaf, now already
    /// paid) books them instead of reverting.
    function test_claimRewards_AfterDirectClaimBooksThePayment() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        bytes32[] memory proof = _vfpProof(tree, 2 ether);
        vm.prank(carol);
        r.claim(address(vfp), 2 ether, proof);
        vm.assertEq(vfp.totalAssets(), 10 ether, "not booked yet");
        vm.assertEq(vfp.pendingRewards(), 2 ether, "pending");
        vm.prank(keeper);
        uint256 booked = vfp.claimRewards(2 ether, proof);
        vm.assertEq(booked, 2 ether, "booked");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
        vm.assertEq(vfp.pendingRewards(), 0, "nothing pending");
        vm.assertEq(r.claimed(address(vfp)), 2 ether, "claimed once");
    }

    function test_claimRewards_NothingNewBooksNothing() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        vfp.claimRewards(2 ether, _vfpProof(tree, 2 ether));
        uint256 booked = vfp.claimRewards(2 ether, _vfpProof(tree, 2 ether));
        vm.assertEq(booked, 0, "nothing twice");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
    }

    function test_claimRewards_WhilePaused() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        vm.prank(guardian);
        vfp.pause();
        vfp.claimRewards(2 ether, _vfpProof(tree, 2 ether));
        vm.assertEq(vfp.totalAssets(), 12 ether, "booked while paused");
    }

    function test_claimRewards_RevertWhen_OperatorRewardsNotSet() public {
        vm.expectRevert(IVfpPool.OperatorRewardsNotSet.selector);
        vfp.claimRewards(1, new bytes32[](0));
    }

    function test_claimRewards_RevertWhen_InvalidProof() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        bytes32[] memory proof = _vfpProof(tree, 2 ether);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, address(vfp), 3 ether));
        vfp.claimRewards(3 ether, proof);
        vm.assertEq(vfp.totalAssets(), 10 ether, "nothing booked");
    }

    function test_claimRewards_RevertWhen_Reentered() public {
        ReentrantOperatorRewards r = new ReentrantOperatorRewards(address(pool), vfp);
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vfp.claimRewards(1 ether, new bytes32[](0));
    }

    function test_syncRewards_BooksADirectClaim() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        r.claim(address(vfp), 2 ether, _vfpProof(tree, 2 ether));
        vm.expectEmit(address(vfp));
        emit IVfpPool.RewardsReceived(address(r), 2 ether);
        vm.prank(keeper);
        uint256 booked = vfp.syncRewards();
        vm.assertEq(booked, 2 ether, "booked");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
        vm.assertEq(vfp.syncRewards(), 0, "booked once");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets unchanged");
    }

    function test_syncRewards_IgnoresDonations() public {
        _wireRewards();
        _mintShares(address(vfp), 3 ether); // csETH sent directly
        uint256 price = vfp.convertToCs(1e21);
        vm.assertEq(vfp.pendingRewards(), 0, "a donation is no payment");
        vm.assertEq(vfp.syncRewards(), 0, "nothing booked");
        vm.assertEq(vfp.totalAssets(), 10 ether, "assets");
        vm.assertEq(vfp.convertToCs(1e21), price, "price unchanged");
    }

    function test_syncRewards_BooksThePaymentNotADonation() public {
        OperatorRewards r = _wireRewards();
        bytes32[] memory tree = _publish(r, 2 ether, 5 ether, 1);
        _mintShares(address(vfp), 3 ether); // csETH sent directly
        r.claim(address(vfp), 2 ether, _vfpProof(tree, 2 ether));
        vm.assertEq(vfp.syncRewards(), 2 ether, "the payment only");
        vm.assertEq(vfp.totalAssets(), 12 ether, "assets");
        vm.assertEq(pool.balanceOf(address(vfp)), 15 ether, "the donation stays outside the assets");
    }

    function test_syncRewards_RevertWhen_OperatorRewardsNotSet() public {
        vm.expectRevert(IVfpPool.OperatorRewardsNotSet.selector);
        vfp.syncRewards();
    }

    /// @dev A broken OperatorRewards reporting a payment the pool never received: refused, even
    /// when a donation sits in the balance (only what is held beyond the booked assets can be booked).
    function test_syncRewards_RevertWhen_PaymentNotReceived() public {
        LyingOperatorRewards r = new LyingOperatorRewards(address(pool));
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
        _mintShares(address(vfp), 1 ether);
        r.setReported(1 ether + 1);
        vm.expectRevert(abi.encodeWithSelector(IVfpPool.RewardsNotReceived.selector, 1 ether + 1, 1 ether));
        vfp.syncRewards();
        vm.assertEq(vfp.pendingRewards(), 1 ether + 1, "what it claims");
    }

    function test_pendingRewards_ZeroWhenNotSet() public view {
        vm.assertEq(vfp.pendingRewards(), 0, "not set");
    }

    /// @dev Switching OperatorRewards keeps the booked amount per contract: nothing is booked
    /// twice when governance switches back, and a payment made by the old contract after the
    /// switch is booked once it is current again.
    function test_setOperatorRewards_SwitchKeepsBookingsPerContract() public {
        OperatorRewards a = _wireRewards();
        bytes32[] memory tree = _publish(a, 2 ether, 1 ether, 1);
        vfp.claimRewards(2 ether, _vfpProof(tree, 2 ether));
        OperatorRewards b = _newRewards();
        vm.prank(admin);
        vfp.setOperatorRewards(address(b));
        bytes32[] memory treeB = _publish(b, 1 ether, 1 ether, 1);
        vm.assertEq(vfp.claimRewards(1 ether, _vfpProof(treeB, 1 ether)), 1 ether, "b's payment");
        // a pays again after the switch (its next root, claimed directly)
        tree = _publish(a, 5 ether, 1 ether, 2);
        a.claim(address(vfp), 5 ether, _vfpProof(tree, 5 ether));
        vm.assertEq(vfp.syncRewards(), 0, "b has nothing new");
        vm.prank(admin);
        vfp.setOperatorRewards(address(a));
        vm.assertEq(vfp.syncRewards(), 3 ether, "a's later payment, once");
        vm.assertEq(vfp.totalAssets(), 16 ether, "10 + 2 + 1 + 3");
        vm.assertEq(pool.balanceOf(address(vfp)), 16 ether, "all held");
    }
}
