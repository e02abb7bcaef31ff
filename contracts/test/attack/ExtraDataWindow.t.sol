// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice The window between a report and the last chunk of its extra data (auditor finding 2):
/// a loss charged in a later chunk is booked with the report (the CL drop) and restored only when
/// that chunk burns the operator's bond, so the rate is lowered in between. A deposit in the window
/// would buy at the lowered rate and take part of the restoration from the holders; the pool
/// refuses deposits until the last chunk lands or the report's frame ends. Exits in the window are
/// paid at the lowered rate: the exiter bears its share of the pending loss, which then goes to the
/// remaining holders, so nobody can profit from them.
contract ExtraDataWindowTest is OperatorsSystemFixture {
    uint256 internal home;
    uint256 internal constant LOSS = 2.5 ether; // 0.25 % of the CL: within the unexplained-drop bound

    function setUp() public override {
        super.setUp();
        _seedCl(1000 ether);
        home = _registerHome(bob, 10 ether);
        _warpToNextFrame();
    }

    /// @dev Puts `clEth` on the CL through a report (this contract plays the deposit module).
    function _seedCl(uint256 clEth) internal {
        _deposit(alice, clEth + 10 ether);
        vm.prank(tl);
        pool.setDepositModule(address(this));
        pool.withdrawToDepositModule(clEth);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = uint64(clEth / 32 ether);
        r.validatorsActive = uint64(clEth / 32 ether);
        r.clBalance = clEth;
        r.clDepositsProcessed = clEth;
        _submit(r);
    }

    /// @dev The report books the CL drop of the operator's loss; its penalty is in chunk 1.
    function _penaltyInChunk1()
        internal
        view
        returns (IOracleReport.Report memory r, bytes memory c0, bytes memory c1)
    {
        return _chainedPenalty(home, LOSS);
    }

    /// @dev The report books the CL drop `loss` of operator `op`; its penalty is in chunk 1.
    function _chainedPenalty(uint256 op, uint256 loss)
        internal
        view
        returns (IOracleReport.Report memory r, bytes memory c0, bytes memory c1)
    {
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        IOperatorsReport.OperatorsReport memory b;
        b.refSlot = a.refSlot;
        b.penalties = new IOperatorsReport.OperatorPenalty[](1);
        b.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(op), uint128(loss), 1);
        c1 = abi.encode(bytes32(0), b);
        c0 = abi.encode(keccak256(c1), a);
        r = _emptyReport();
        r.clBalance -= loss;
    }

    /// Auditor PoC 2: a 1,000 ETH deposit between the report and chunk 1 gained 1.24 ETH from the
    /// holders. Now it is refused, and the chain brings the holders back to the pre-report rate.
    function test_deposit_RevertWhen_ExtraDataChainPending() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        uint256 rate0 = pool.shareRate();
        _submitWith(r, c0);
        vm.assertLt(pool.shareRate(), rate0, "the window: rate lowered until chunk 1");
        address mev = makeAddr("mev");
        vm.deal(mev, 1000 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ExtraDataPending.selector, r.refSlot));
        vm.prank(mev);
        pool.deposit{value: 1000 ether}();
        oracle.submitExtraDataChunk(c1);
        vm.assertGe(pool.shareRate(), rate0, "restored for the holders");
        // the window closed with the last chunk: deposits resume at the restored rate
        vm.prank(mev);
        uint256 shares = pool.deposit{value: 1000 ether}();
        vm.assertLe(pool.convertToAssets(shares), 1000 ether, "no gain for the depositor");
    }

    /// Every deposit path is held: depositFor, plain transfers, bond deposits (they mint csETH too).
    function test_depositPaths_RevertWhen_ExtraDataChainPending() public {
        (IOracleReport.Report memory r, bytes memory c0,) = _penaltyInChunk1();
        _submitWith(r, c0);
        bytes memory err = abi.encodeWithSelector(IStakePool.ExtraDataPending.selector, r.refSlot);
        vm.deal(carol, 10 ether);
        vm.startPrank(carol);
        vm.expectRevert(err);
        pool.depositFor{value: 1 ether}(alice);
        vm.expectRevert(err);
        (bool ok,) = address(pool).call{value: 1 ether}("");
        ok; // the expected revert makes the call report success
        vm.expectRevert(err);
        bonds.depositBond{value: 1 ether}(home);
        vm.stopPrank();
    }

    /// Undelivered chunks expire with the report's frame: the hold ends with it, whether or not the
    /// next report came (its chunks can no longer restore anything).
    function test_deposit_ResumesWhenTheFrameEnds() public {
        (IOracleReport.Report memory r, bytes memory c0,) = _penaltyInChunk1();
        _submitWith(r, c0);
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline - 1);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ExtraDataPending.selector, r.refSlot));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
        vm.warp(deadline);
        _deposit(alice, 1 ether);
    }

    /// A report whose extra data is one chunk opens no window.
    function test_deposit_SingleChunkReportHoldsNothing() public {
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        a.penalties = new IOperatorsReport.OperatorPenalty[](1);
        a.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), uint128(LOSS), 1);
        IOracleReport.Report memory r = _emptyReport();
        r.clBalance -= LOSS;
        _submitWith(r, abi.encode(bytes32(0), a));
        _deposit(alice, 1 ether);
    }

    /// Flash exits and withdrawal requests stay open in the window: they are paid at the lowered
    /// rate, so the exiter leaves its share of the pending loss behind and the remaining holders
    /// end above the pre-report rate once the chunk lands.
    function test_exitsInTheWindow_FavourTheRemainingHolders() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        uint256 rate0 = pool.shareRate();
        uint256 shares = pool.balanceOf(alice) / 100;
        uint256 fairValue = shares * rate0 / 1e27;
        _submitWith(r, c0);
        vm.prank(alice);
        uint256 out = pool.flashExit(shares, 0);
        vm.prank(alice);
        uint256 requestId = queue.requestWithdrawal(shares, alice);
        requestId;
        oracle.submitExtraDataChunk(c1);
        vm.assertLt(out, fairValue, "the exiter was paid the lowered rate (and the fee)");
        vm.assertGt(pool.shareRate(), rate0, "the remaining holders gained its share of the restoration");
    }

    /// Several covered losses in chunk 0 (found by the LossWindow invariant): converted one after
    /// the other at the current rate, each burn raised the rate the next loss was converted at, so
    /// the chunk burned less than the losses were worth and the holders ended below the pre-report
    /// rate. Every chunk now converts at the rate before the report.
    function test_chunk0_SeveralCoveredLossesKeepThePreReportRate() public {
        uint256 other = _registerHome(carol, 10 ether);
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        a.penalties = new IOperatorsReport.OperatorPenalty[](3);
        a.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), 1 ether, 1);
        a.penalties[1] = IOperatorsReport.OperatorPenalty(uint64(home), 0.7 ether, 1);
        a.penalties[2] = IOperatorsReport.OperatorPenalty(uint64(other), 0.8 ether, 1);
        IOracleReport.Report memory r = _emptyReport();
        r.clBalance -= 2.5 ether;
        uint256 rate0 = pool.shareRate();
        _submitWith(r, abi.encode(bytes32(0), a));
        vm.assertGe(pool.shareRate(), rate0, "covered losses keep the pre-report rate");
        vm.assertEq(oracle.extraDataState().lossRate, rate0, "converted at the pre-report rate");
    }

    function test_setPendingExtraData_RevertWhen_NotOracle() public {
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, tl, address(oracle)));
        vm.prank(tl);
        pool.setPendingExtraData(1, block.timestamp + 1 days);
    }

    /// `extraDataState()` describes the last report whatever it carried (auditor finding 5).
    function test_extraDataState_UpdatedByEveryReport() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        oracle.submitExtraDataChunk(c1);
        IOracleReport.ExtraDataState memory x = oracle.extraDataState();
        vm.assertEq(x.refSlot, r.refSlot, "chained report");
        vm.assertEq(x.chunksApplied, 2, "two chunks");
        // a single-chunk report
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        uint256 rate = pool.shareRate();
        _submitWith(_emptyReport(), abi.encode(bytes32(0), a));
        x = oracle.extraDataState();
        vm.assertEq(x.refSlot, a.refSlot, "single-chunk report");
        vm.assertEq(x.chunksApplied, 1, "one chunk");
        vm.assertEq(x.lossRate, rate, "the rate its chunk charged losses at");
        vm.assertEq(x.nextHash, bytes32(0), "nothing pending");
        // a report without extra data
        _warpToNextFrame();
        IOracleReport.Report memory e = _emptyReport();
        _submit(e);
        x = oracle.extraDataState();
        vm.assertEq(x.refSlot, e.refSlot, "report without extra data");
        vm.assertEq(x.chunksApplied, 0, "no chunk");
        vm.assertEq(x.lossRate, 0, "no loss rate");
        vm.assertEq(x.nextHash, bytes32(0), "nothing pending");
    }

    /// `pendingExtraData()` is the hold deposits, bond claims and VFP releases check: the report's
    /// refSlot from chunk 0 to the last chunk, 0 before and after, and 0 once the frame ends.
    function test_pendingExtraData_FollowsTheChain() public {
        vm.assertEq(pool.pendingExtraData(), 0, "nothing before the report");
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        vm.assertEq(pool.pendingExtraData(), r.refSlot, "pending after chunk 0");
        oracle.submitExtraDataChunk(c1);
        vm.assertEq(pool.pendingExtraData(), 0, "lifted by the last chunk");
        // an undelivered chain: the hold ends with the frame
        _warpToNextFrame();
        (r, c0,) = _penaltyInChunk1();
        _submitWith(r, c0);
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline - 1);
        vm.assertEq(pool.pendingExtraData(), r.refSlot, "pending until the frame ends");
        vm.warp(deadline);
        vm.assertEq(pool.pendingExtraData(), 0, "expired with the frame");
    }

    // ------------------------------------------------------------------ auditor finding 3

    /// A frame change while the chain can still be delivered is refused: it would expire the
    /// chunks and drop the penalties they charge, and the timelock's executor is open, so the
    /// penalised operator could time it. Once the chain lands the same change goes through.
    function test_setFrameConfig_RevertWhen_ExtraDataChainPending() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        IOracleReport.FrameConfig memory f = oracle.frameConfig();
        f.epochsPerFrame = EPOCHS_PER_FRAME / 3;
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataChainPending.selector, r.refSlot));
        vm.prank(tl);
        oracle.setFrameConfig(f);
        // longer frames and a moved genesis too
        IOracleReport.FrameConfig memory g = oracle.frameConfig();
        g.epochsPerFrame = EPOCHS_PER_FRAME * 2;
        g.genesisTime += 12;
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataChainPending.selector, r.refSlot));
        vm.prank(tl);
        oracle.setFrameConfig(g);
        oracle.submitExtraDataChunk(c1);
        vm.prank(tl);
        oracle.setFrameConfig(f);
        vm.assertEq(oracle.frameConfig().epochsPerFrame, EPOCHS_PER_FRAME / 3, "changed");
    }

    /// A chain whose frame ended undelivered: the change drops it (as the next report would) and
    /// lifts the hold, so the next report under the new timing starts clean.
    function test_setFrameConfig_AfterTheChainExpired_DropsItAndLiftsTheHold() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        _warpToNextFrame();
        IOracleReport.FrameConfig memory f = oracle.frameConfig();
        f.epochsPerFrame = EPOCHS_PER_FRAME * 2;
        f.genesisTime += 12;
        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataDropped(r.refSlot, 1, keccak256(c1));
        vm.expectCall(address(pool), abi.encodeWithSelector(IStakePool.setPendingExtraData.selector, 0, 0), 1);
        vm.prank(tl);
        oracle.setFrameConfig(f);
        vm.assertEq(pool.pendingExtraData(), 0, "hold lifted");
        vm.assertEq(oracle.extraDataState().nextHash, bytes32(0), "chain dropped");
        _deposit(alice, 1 ether);
        vm.expectRevert(IOracleReport.NoExtraDataPending.selector);
        oracle.submitExtraDataChunk(c1);
    }

    /// Nothing pending (the chain landed): the change drops nothing and does not call the pool.
    function test_setFrameConfig_WithoutPendingChain_LeavesThePoolAlone() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        oracle.submitExtraDataChunk(c1);
        IOracleReport.FrameConfig memory f = oracle.frameConfig();
        f.epochsPerFrame = EPOCHS_PER_FRAME / 3;
        vm.expectCall(address(pool), abi.encodeWithSelector(IStakePool.setPendingExtraData.selector), 0);
        vm.recordLogs();
        vm.prank(tl);
        oracle.setFrameConfig(f);
        vm.assertEq(vm.getRecordedLogs().length, 1, "FrameConfigUpdated only");
    }

    function test_setFrameConfig_RevertWhen_NotGovernance() public {
        IOracleReport.FrameConfig memory f = oracle.frameConfig();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bytes32(0)
            )
        );
        vm.prank(alice);
        oracle.setFrameConfig(f);
    }

    /// @dev A hold that outlives its chain's frame, as an oracle before the finding-3 fix left it
    /// when governance shortened frames (it kept both the chain and the hold).
    function _holdOutlivingItsChain() internal returns (IOracleReport.Report memory r) {
        bytes memory c0;
        (r, c0,) = _penaltyInChunk1();
        _submitWith(r, c0);
        (, uint256 deadline) = oracle.currentFrame();
        vm.prank(address(oracle));
        pool.setPendingExtraData(r.refSlot, deadline + 10 days);
        _warpToNextFrame();
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ExtraDataPending.selector, r.refSlot));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
    }

    /// A report that drops a chain and opens none lifts whatever hold the chain left on.
    function test_submitReport_DroppingAChainLiftsItsHold() public {
        IOracleReport.Report memory r = _holdOutlivingItsChain();
        IOracleReport.Report memory next = _emptyReport();
        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataDropped(r.refSlot, 1, oracle.extraDataState().nextHash);
        _submit(next);
        vm.assertEq(pool.pendingExtraData(), 0, "lifted");
        _deposit(alice, 1 ether);
    }

    /// The same when the next report's extra data is a single chunk (no new chain).
    function test_submitReport_SingleChunkAfterADroppedChainLiftsItsHold() public {
        _holdOutlivingItsChain();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        _submitWith(_emptyReport(), abi.encode(bytes32(0), a));
        vm.assertEq(pool.pendingExtraData(), 0, "lifted");
        _deposit(alice, 1 ether);
    }

    /// A report that drops a chain and opens its own moves the hold to itself.
    function test_submitReport_NewChainAfterADroppedChainHoldsForItself() public {
        _holdOutlivingItsChain();
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        r.clBalance += LOSS; // the previous report's CL drop is already booked
        _submitWith(r, c0);
        vm.assertEq(pool.pendingExtraData(), r.refSlot, "held for the new chain");
        oracle.submitExtraDataChunk(c1);
        vm.assertEq(pool.pendingExtraData(), 0, "lifted by its last chunk");
    }

    /// The common case costs no pool call: a report without extra data after a chain that landed
    /// drops nothing and opens nothing.
    function test_submitReport_NoPoolCallWhenNothingWasDropped() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        oracle.submitExtraDataChunk(c1);
        _warpToNextFrame();
        IOracleReport.Report memory next = _emptyReport();
        vm.expectCall(address(pool), abi.encodeWithSelector(IStakePool.setPendingExtraData.selector), 0);
        _submit(next);
    }

    /// Nor does a single-chunk report after a chain that landed.
    function test_submitReport_NoPoolCallForASingleChunkWhenNothingWasDropped() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        oracle.submitExtraDataChunk(c1);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        IOracleReport.Report memory next = _emptyReport();
        vm.expectCall(address(pool), abi.encodeWithSelector(IStakePool.setPendingExtraData.selector), 0);
        _submitWith(next, abi.encode(bytes32(0), a));
    }

    // ------------------------------------------------------------------ auditor finding 4

    /// The operator's manager cannot claim excess bond between chunk 0 and the chunk that charges
    /// the operator; once the chain landed it can.
    function test_claimExcess_RevertWhen_ExtraDataChainPending() public {
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _penaltyInChunk1();
        _submitWith(r, c0);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.BondHeldForExtraData.selector, home, r.refSlot));
        vm.prank(bob);
        bonds.claimExcess(home, 1 ether);
        oracle.submitExtraDataChunk(c1);
        // once the chain landed the claim goes through: the bond loses the shares, the reward
        // address receives them
        uint256 bondBefore = bonds.bondShares(home);
        address to = registry.getOperator(home).rewardAddress;
        uint256 heldBefore = pool.balanceOf(to);
        vm.prank(bob);
        bonds.claimExcess(home, 1 ether);
        vm.assertEq(bonds.bondShares(home), bondBefore - 1 ether, "bond shares claimed");
        vm.assertEq(pool.balanceOf(to), heldBefore + 1 ether, "paid to the reward address");
    }

    /// Auditor PoC 4: a Home operator with a small bond and VFP backing is penalised in chunk 1
    /// beyond its bond. Releasing the backing in the window (the bond alone still covers its
    /// requirement) would push the rest past the VFP layer onto the insurance fund and the
    /// holders. Refused: chunk 1 finds the backing, and the holders end at the pre-report rate.
    function test_releaseFunding_RevertWhen_ExtraDataChainPending() public {
        uint256 small = _registerHome(carol, 2 ether); // the least a Home operator registers with
        address provider = makeAddr("provider");
        vm.deal(provider, 10 ether);
        vm.prank(provider);
        vfp.depositEth{value: 10 ether}(provider);
        vm.prank(reporter);
        registry.setScore(small, 9000);
        vm.prank(carol);
        vfp.fundOperator(small, 1.8 ether);
        uint256 backing = vfp.allocatedShares(small);
        uint256 rate0 = pool.shareRate();
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _chainedPenalty(small, 2.8 ether);
        _submitWith(r, c0);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.BondHeldForExtraData.selector, small, r.refSlot));
        vm.prank(carol);
        vfp.releaseFunding(small, backing);
        oracle.submitExtraDataChunk(c1);
        vm.assertLt(vfp.allocatedShares(small), backing, "the VFP layer absorbed what the bond did not");
        vm.assertGe(pool.shareRate(), rate0, "the holders are whole");
    }
}
