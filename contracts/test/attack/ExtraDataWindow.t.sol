// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

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
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        IOperatorsReport.OperatorsReport memory b;
        b.refSlot = a.refSlot;
        b.penalties = new IOperatorsReport.OperatorPenalty[](1);
        b.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), uint128(LOSS), 1);
        c1 = abi.encode(bytes32(0), b);
        c0 = abi.encode(keccak256(c1), a);
        r = _emptyReport();
        r.clBalance -= LOSS;
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
}
