// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsModule} from "../../src/interfaces/IOperatorsModule.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract RewardsSink {
    bytes32 public root;
    uint256 public cumulative;
    uint256 public refSlot;

    function setRewardsRoot(bytes32 r, uint256 c, uint256 s) external {
        root = r;
        cumulative = c;
        refSlot = s;
    }
}

/// @notice The operators report through OracleReport.submitReport into the OperatorsModule.
contract OperatorsModuleTest is OperatorsSystemFixture {
    uint256 internal home;
    uint256 internal pro;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 100 ether);
        home = _registerHome(bob, 6 ether);
        _addAndVet(home, bob, 100, 4);
        pro = _admit(IOperatorRegistry.OperatorType.Professional, carol);
        _addAndVet(pro, carol, 200, 4);
        // three pre-deposits for home (the deposit flow of DepositSecurity, by hand)
        registry.markPreDeposited(home, 3);
        _warpToNextFrame();
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _ops() internal view returns (IOperatorsReport.OperatorsReport memory o) {
        (o.refSlot,) = oracle.currentFrame();
    }

    function _submitOps(IOperatorsReport.OperatorsReport memory o) internal {
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
    }

    function _expectSubmitRevert(IOperatorsReport.OperatorsReport memory o, bytes memory err) internal {
        IOracleReport.Report memory r = _emptyReport();
        bytes memory data = abi.encode(bytes32(0), o);
        r.extraDataHash = keccak256(data);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(err);
        oracle.submitReport(r, data, sigs);
    }

    // ------------------------------------------------------------------ oracle: extra data binding

    function test_submitReport_RevertWhen_ExtraDataHashMismatch() public {
        IOracleReport.Report memory r = _emptyReport();
        bytes memory data = abi.encode(bytes32(0), _ops());
        r.extraDataHash = keccak256("other");
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleReport.ExtraDataHashMismatch.selector, r.extraDataHash, keccak256(data)
            )
        );
        oracle.submitReport(r, data, sigs);
    }

    function test_submitReport_RevertWhen_HashSetButDataEmpty() public {
        IOracleReport.Report memory r = _emptyReport();
        r.extraDataHash = keccak256("x");
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(IOracleReport.ExtraDataHashMismatch.selector, r.extraDataHash, bytes32(0))
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_DataWithoutHash() public {
        IOracleReport.Report memory r = _emptyReport();
        bytes memory data = abi.encode(bytes32(0), _ops());
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(IOracleReport.ExtraDataHashMismatch.selector, bytes32(0), keccak256(data))
        );
        oracle.submitReport(r, data, sigs);
    }

    function test_submitReport_RevertWhen_OperatorsRefSlotMismatch() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.refSlot -= 1;
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.OperatorsReportRefSlotMismatch.selector, o.refSlot, o.refSlot + 1
            )
        );
    }

    function test_submitReport_RevertWhen_ModuleNotSet() public {
        vm.prank(tl);
        oracle.setOperatorsModule(address(0));
        _expectSubmitRevert(_ops(), abi.encodeWithSelector(IOperatorsReport.OperatorsModuleNotSet.selector));
    }

    function test_setOperatorsModule_RevertWhen_NotGovernance() public {
        vm.expectRevert();
        vm.prank(guardian);
        oracle.setOperatorsModule(address(0));
    }

    function test_handleOperatorsReport_RevertWhen_NotOracle() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, address(this), address(oracle))
        );
        module.handleOperatorsReport(o.refSlot, 0, o);
    }

    // ------------------------------------------------------------------ pre-deposits

    function test_handleOperatorsReport_ConfirmsPreDeposits() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(home), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(home), 1, true);
        _submitOps(o);
        vm.assertEq(registry.getOperator(home).confirmed, 2, "confirmed two of three");
    }

    function test_handleOperatorsReport_FrontRunForfeitsBondAndKeepsRate() public {
        uint256 sharesBefore = bonds.bondShares(home);
        uint256 forfeit = pool.convertToShares(1 ether);
        uint256 rateBefore = pool.shareRate();
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(home), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(home), 1, false);
        _submitOps(o);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(home);
        vm.assertEq(op.confirmed, 2, "range confirmed");
        vm.assertEq(op.frontRun, 1, "one front-run");
        vm.assertTrue(op.stopped, "operator stopped");
        vm.assertApproxEqAbs(sharesBefore - bonds.bondShares(home), forfeit, 1, "1 ETH of bond shares burned");
        vm.assertGe(pool.shareRate(), rateBefore, "holders not worse off (no CL change booked)");
        (,, IOperatorRegistry.KeyStatus st) = registry.getKey(home, 1);
        vm.assertEq(uint256(st), uint256(IOperatorRegistry.KeyStatus.FrontRun), "flagged");
    }

    function test_handleOperatorsReport_RevertWhen_PreDepositGap() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](1);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(home), 1, true);
        _expectSubmitRevert(
            o, abi.encodeWithSelector(IOperatorsReport.PreDepositResultOutOfRange.selector, home, 1, 0, 3)
        );
    }

    function test_handleOperatorsReport_RevertWhen_KeyNotPreDeposited() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](1);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        _expectSubmitRevert(
            o, abi.encodeWithSelector(IOperatorsReport.PreDepositResultOutOfRange.selector, pro, 0, 0, 0)
        );
    }

    function test_handleOperatorsReport_RevertWhen_UnknownOperator() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.scores = new IOperatorsReport.OperatorScore[](1);
        o.scores[0] = IOperatorsReport.OperatorScore(99, 100);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 99));
    }

    function test_handleOperatorsReport_RevertWhen_PreDepositsUnsorted() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(home), 0, true);
        // pro (id 2) > home (id 1): the second group starts below the first
        _expectSubmitRevert(
            o, abi.encodeWithSelector(IOperatorsReport.PreDepositResultOutOfRange.selector, pro, 0, 0, 0)
        );
    }

    // ------------------------------------------------------------------ scores, penalties, exits

    function test_handleOperatorsReport_SetsScores() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.scores = new IOperatorsReport.OperatorScore[](2);
        o.scores[0] = IOperatorsReport.OperatorScore(uint64(home), 8000);
        o.scores[1] = IOperatorsReport.OperatorScore(uint64(pro), 10_000);
        _submitOps(o);
        vm.assertEq(registry.getOperator(home).score, 8000, "home");
        vm.assertEq(registry.getOperator(pro).score, 10_000, "pro");
    }

    function test_handleOperatorsReport_RevertWhen_ScoreAbove10000() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.scores = new IOperatorsReport.OperatorScore[](1);
        o.scores[0] = IOperatorsReport.OperatorScore(uint64(home), 10_001);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorRegistry.ScoreOutOfRange.selector, 10_001));
    }

    function test_handleOperatorsReport_RevertWhen_ScoresUnsorted() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.scores = new IOperatorsReport.OperatorScore[](2);
        o.scores[0] = IOperatorsReport.OperatorScore(uint64(pro), 1);
        o.scores[1] = IOperatorsReport.OperatorScore(uint64(pro), 2);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.Scores, 1
            )
        );
    }

    function test_handleOperatorsReport_RevertWhen_ListTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.scores = new IOperatorsReport.OperatorScore[](1001);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListTooLong.selector, IOperatorsReport.ReportList.Scores, 1001, 1000
            )
        );
    }

    function test_handleOperatorsReport_RevertWhen_PreDepositsTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](1001);
        _expectTooLong(o, IOperatorsReport.ReportList.PreDeposits);
    }

    function test_handleOperatorsReport_RevertWhen_PenaltiesTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.penalties = new IOperatorsReport.OperatorPenalty[](1001);
        _expectTooLong(o, IOperatorsReport.ReportList.Penalties);
    }

    function test_handleOperatorsReport_RevertWhen_ExitedTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exited = new IOperatorsReport.OperatorExited[](1001);
        _expectTooLong(o, IOperatorsReport.ReportList.Exited);
    }

    function test_handleOperatorsReport_RevertWhen_ExitRequestsTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exitRequests = new IOperatorsReport.ExitRequest[](1001);
        _expectTooLong(o, IOperatorsReport.ReportList.ExitRequests);
    }

    function _expectTooLong(IOperatorsReport.OperatorsReport memory o, IOperatorsReport.ReportList list)
        internal
    {
        _expectSubmitRevert(
            o, abi.encodeWithSelector(IOperatorsReport.ReportListTooLong.selector, list, 1001, 1000)
        );
    }

    function test_handleOperatorsReport_PenaltyAboveAllCoverNeverReverts() public {
        uint256 tpe = pool.totalPooledEther();
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.penalties = new IOperatorsReport.OperatorPenalty[](2);
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), 50 ether, 0);
        o.penalties[1] = IOperatorsReport.OperatorPenalty(uint64(home), 1 ether, 1);
        _submitOps(o);
        vm.assertEq(bonds.bondShares(home), 0, "bond burned");
        vm.assertEq(pool.totalPooledEther(), tpe, "the penalty itself books no ETH");
    }

    function test_handleOperatorsReport_RevertWhen_PenaltyZeroOrBadKind() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.penalties = new IOperatorsReport.OperatorPenalty[](1);
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), 0, 0);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorsReport.InvalidPenalty.selector, 0, 0, 0));
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), 1, 3);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorsReport.InvalidPenalty.selector, 0, 1, 3));
    }

    function test_handleOperatorsReport_RevertWhen_PenaltiesUnsorted() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.penalties = new IOperatorsReport.OperatorPenalty[](2);
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(pro), 1, 0);
        o.penalties[1] = IOperatorsReport.OperatorPenalty(uint64(home), 1, 0);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.Penalties, 1
            )
        );
    }

    function test_handleOperatorsReport_RevertWhen_ExitedUnsortedOrInvalid() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exited = new IOperatorsReport.OperatorExited[](1);
        o.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 1, 0);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorRegistry.CountersInvalid.selector, 1, 0, 0, 0));
        o.exited = new IOperatorsReport.OperatorExited[](2);
        o.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 0, 0);
        o.exited[1] = IOperatorsReport.OperatorExited(uint64(home), 0, 0);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.Exited, 1
            )
        );
    }

    function test_handleOperatorsReport_ExitRequestsGetDeadline() public {
        // confirm and top up two keys (by hand) so they can be asked to exit
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exitRequests = new IOperatorsReport.ExitRequest[](2);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        o.exitRequests[1] = IOperatorsReport.ExitRequest(uint64(home), 1);
        _submitOps(o);
        vm.assertEq(registry.exitRequestDeadline(home, 0), block.timestamp + 4 days, "deadline key 0");
        vm.assertEq(registry.exitRequestDeadline(home, 1), block.timestamp + 4 days, "deadline key 1");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 2, "pending");
    }

    function test_handleOperatorsReport_SettlesExitsOneReportLater() public {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exited = new IOperatorsReport.OperatorExited[](1);
        o.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 1, 0);
        _submitOps(o);
        vm.assertEq(bonds.settledExits(home), 0, "not in the report that saw the exit");
        _warpToNextFrame();
        o = _ops();
        o.exited = new IOperatorsReport.OperatorExited[](1);
        o.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 1, 0);
        _submitOps(o);
        vm.assertEq(bonds.settledExits(home), 1, "released one report later");
    }

    function test_handleOperatorsReport_UpdatesExitedAndStuck() public {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exited = new IOperatorsReport.OperatorExited[](1);
        o.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 1, 1);
        _submitOps(o);
        vm.assertEq(registry.getOperator(home).exited, 1, "exited");
        vm.assertEq(registry.getOperator(home).stuck, 1, "stuck");
    }

    function test_handleOperatorsReport_RevertWhen_ExitRequestsUnsorted() public {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exitRequests = new IOperatorsReport.ExitRequest[](2);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        o.exitRequests[1] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.ExitRequests, 1
            )
        );
    }

    // ------------------------------------------------------------------ exits started

    /// @dev Tops up keys 0 and 1 of `home` and asks both to exit through a report; the next frame.
    function _requestTwoExits() internal {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.exitRequests = new IOperatorsReport.ExitRequest[](2);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        o.exitRequests[1] = IOperatorsReport.ExitRequest(uint64(home), 1);
        _submitOps(o);
        _warpToNextFrame();
    }

    function _exitsStarted(uint256 n) internal view returns (IOperatorsReport.OperatorsReport memory o) {
        o = _ops();
        o.exitsStarted = new IOperatorsReport.ExitRequest[](n);
    }

    function test_handleOperatorsReport_ExitsStartedCloseTheirRequests() public {
        _requestTwoExits();
        uint256 deadline1 = registry.exitRequestDeadline(home, 1);
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(1);
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.ExitRequestCleared(home, 0);
        _submitOps(o);
        vm.assertEq(registry.exitRequestDeadline(home, 0), 0, "key 0 closed");
        vm.assertEq(registry.exitRequestDeadline(home, 1), deadline1, "key 1 still pending");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 1, "one pending");
        (,, uint256[] memory deadlines) = registry.getKeys(home, 0, 2);
        vm.assertEq(deadlines[0], 0, "getKeys shows key 0 closed");
    }

    function test_handleOperatorsReport_RevertWhen_ExitStartedWithoutRequest() public {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(1);
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorRegistry.NoExitRequest.selector, home, 1));
    }

    function test_handleOperatorsReport_RevertWhen_ExitStartedOfUnknownOperator() public {
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(1);
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(99, 0);
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 99));
    }

    function test_handleOperatorsReport_RevertWhen_ExitsStartedUnsorted() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(2);
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        o.exitsStarted[1] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.ExitsStarted, 1
            )
        );
        // a repeated key is unsorted too (strict order)
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.ExitsStarted, 1
            )
        );
    }

    function test_handleOperatorsReport_RevertWhen_ExitsStartedTooLong() public {
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(1001);
        _expectTooLong(o, IOperatorsReport.ReportList.ExitsStarted);
    }

    /// A request and a close of the same key in one report: the request (a no-op on a pending
    /// key) is applied first, then the close, so one report can never renew a deadline.
    function test_handleOperatorsReport_OneReportCannotRenewADeadline() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory o = _exitsStarted(1);
        o.exitRequests = new IOperatorsReport.ExitRequest[](1);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        o.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _submitOps(o);
        vm.assertEq(registry.exitRequestDeadline(home, 0), 0, "closed, not renewed");
    }

    /// Auditor PoC 4: chunk 0 closes a pending request (exitsStarted) and chunk 1 of the same report
    /// requests the key again. Before the per-refSlot marker this gave the key a fresh deadline; now
    /// the chunk reverts and the key stays closed.
    function test_chunks_RevertWhen_ALaterChunkRequestsAKeyAnEarlierChunkClosed() public {
        _requestTwoExits();
        uint256 deadline = registry.exitRequestDeadline(home, 0);
        vm.assertGt(deadline, 0, "pending");
        IOperatorsReport.OperatorsReport memory a = _exitsStarted(1);
        a.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        IOperatorsReport.OperatorsReport memory b = _ops();
        b.exitRequests = new IOperatorsReport.ExitRequest[](1);
        b.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        bytes memory c1 = abi.encode(bytes32(0), b);
        _submitWith(_emptyReport(), abi.encode(keccak256(c1), a));
        vm.assertEq(registry.exitRequestClosedAt(home, 0), block.timestamp, "closed now");
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorsModule.ExitRequestClosedInReport.selector, home, 0, a.refSlot)
        );
        oracle.submitExtraDataChunk(c1);
        vm.assertEq(registry.exitRequestDeadline(home, 0), 0, "closed, not renewed");
        vm.assertEq(oracle.extraDataState().nextHash, keccak256(c1), "the chunk is still pending");
    }

    /// The marker is per report: a key closed by one report may be requested by a later one (a
    /// fresh request, ADR 0007), and a request in chunk 0 followed by a close in chunk 1 is fine.
    function test_chunks_KeyClosedByAnEarlierReportCanBeRequestedAgain() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory a = _exitsStarted(1);
        a.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _submitOps(a);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory b = _ops();
        b.exitRequests = new IOperatorsReport.ExitRequest[](1);
        b.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        IOperatorsReport.OperatorsReport memory c = _exitsStarted(1);
        c.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        bytes memory c1 = abi.encode(bytes32(0), c);
        _submitWith(_emptyReport(), abi.encode(keccak256(c1), b));
        vm.assertEq(registry.exitRequestDeadline(home, 0), block.timestamp + 4 days, "requested again");
        oracle.submitExtraDataChunk(c1);
        vm.assertEq(registry.exitRequestDeadline(home, 1), 0, "key 1 closed in chunk 1");
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 1, "key 0 pending");
    }

    // ------------------------------------------------------------------ rewards root

    function test_handleOperatorsReport_RevertWhen_RewardsRootWithoutContract() public {
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.rewardsRoot = keccak256("root");
        _expectSubmitRevert(o, abi.encodeWithSelector(IOperatorsModule.OperatorRewardsNotSet.selector));
    }

    function test_handleOperatorsReport_HandsRewardsRoot() public {
        RewardsSink sink = new RewardsSink();
        vm.prank(tl);
        module.setOperatorRewards(address(sink));
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.rewardsRoot = keccak256("root");
        o.rewardsCumulativeShares = 7;
        _submitOps(o);
        vm.assertEq(sink.root(), o.rewardsRoot, "root");
        vm.assertEq(sink.cumulative(), 7, "cumulative");
        vm.assertEq(sink.refSlot(), o.refSlot, "refSlot");
    }

    // ------------------------------------------------------------------ governance

    function test_setExitDeadline_Bounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("exitDeadline"), 31 days, 1 days, 30 days
            )
        );
        vm.prank(tl);
        module.setExitDeadline(31 days);
        vm.prank(tl);
        module.setExitDeadline(2 days);
        vm.assertEq(module.exitDeadline(), 2 days, "set");
    }

    function test_setExitDeadline_RevertWhen_NotGovernance() public {
        vm.expectRevert();
        vm.prank(guardian);
        module.setExitDeadline(2 days);
    }

    function test_setOperatorRewards_RevertWhen_ZeroOrNoCode() public {
        // zero used to be accepted, and every later report with a rewards root reverted
        vm.expectRevert(abi.encodeWithSelector(IOperatorsModule.OperatorRewardsInvalid.selector, address(0)));
        vm.prank(tl);
        module.setOperatorRewards(address(0));
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(IOperatorsModule.OperatorRewardsInvalid.selector, eoa));
        vm.prank(tl);
        module.setOperatorRewards(eoa);
    }

    function test_handleOperatorsReport_RevertWhen_PreDepositsUnsortedAcrossOperators() public {
        // two operators with pending pre-deposits, listed pro (id 2) before home (id 1)
        vm.deal(carol, 1 ether);
        vm.prank(carol);
        bonds.depositBond{value: 1 ether}(pro);
        registry.markPreDeposited(pro, 1);
        IOperatorsReport.OperatorsReport memory o = _ops();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(home), 0, true);
        _expectSubmitRevert(
            o,
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.PreDeposits, 1
            )
        );
    }

    function test_setOperatorRewards_RevertWhen_NotGovernance() public {
        vm.expectRevert();
        vm.prank(guardian);
        module.setOperatorRewards(address(1));
    }

    function test_typeFactors_DefaultToFullFactor() public view {
        uint256[4] memory f = module.typeFactorsBps();
        for (uint256 t; t < 4; ++t) {
            vm.assertEq(f[t], 10_000, "default 100 %");
            vm.assertEq(module.typeFactorBps(IOperatorRegistry.OperatorType(t)), 10_000, "single view");
        }
    }

    function test_setTypeFactor_SetsOneTypeAndEmits() public {
        vm.expectEmit(address(module));
        emit IOperatorsModule.TypeFactorSet(IOperatorRegistry.OperatorType.Dvt, 7500);
        vm.prank(tl);
        module.setTypeFactor(IOperatorRegistry.OperatorType.Dvt, 7500);
        uint256[4] memory f = module.typeFactorsBps();
        vm.assertEq(f[uint256(IOperatorRegistry.OperatorType.Dvt)], 7500, "dvt");
        vm.assertEq(f[uint256(IOperatorRegistry.OperatorType.Home)], 10_000, "home unchanged");
        vm.assertEq(f[uint256(IOperatorRegistry.OperatorType.Professional)], 10_000, "pro unchanged");
        vm.prank(tl);
        module.setTypeFactor(IOperatorRegistry.OperatorType.Home, 0); // a type can earn nothing
        vm.assertEq(module.typeFactorBps(IOperatorRegistry.OperatorType.Home), 0, "zero allowed");
    }

    function test_setTypeFactor_RevertWhen_Above10000() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("typeFactorBps"), 10_001, 0, 10_000
            )
        );
        vm.prank(tl);
        module.setTypeFactor(IOperatorRegistry.OperatorType.Kyc, 10_001);
    }

    function test_setTypeFactor_RevertWhen_NotGovernance() public {
        bytes32 adminRole = module.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(_unauthorized(guardian, adminRole));
        vm.prank(guardian);
        module.setTypeFactor(IOperatorRegistry.OperatorType.Kyc, 1);
        vm.expectRevert(_unauthorized(address(oracle), adminRole));
        vm.prank(address(oracle));
        module.setTypeFactor(IOperatorRegistry.OperatorType.Kyc, 1);
    }

    function test_setTypeFactor_RevertWhen_TypeOutOfEnum() public {
        // the ABI decoder rejects an enum value above Home (3)
        vm.prank(tl);
        (bool ok,) = address(module)
            .call(abi.encodeWithSelector(module.setTypeFactor.selector, uint256(4), uint256(1)));
        vm.assertFalse(ok, "type 4 rejected");
    }

    function test_missedExitPenalty_Default() public view {
        vm.assertEq(module.missedExitPenalty(), 0.1 ether, "default");
        vm.assertEq(module.DEFAULT_MISSED_EXIT_PENALTY(), 0.1 ether, "constant");
    }

    function test_setMissedExitPenalty_SetsBoundsAndEmits() public {
        vm.expectEmit(address(module));
        emit IGoverned.ParameterUpdated("missedExitPenalty", 1 ether);
        vm.prank(tl);
        module.setMissedExitPenalty(1 ether);
        vm.assertEq(module.missedExitPenalty(), 1 ether, "max");
        vm.prank(tl);
        module.setMissedExitPenalty(0);
        vm.assertEq(module.missedExitPenalty(), 0, "zero: penalties suspended");
    }

    function test_setMissedExitPenalty_RevertWhen_AboveOneEther() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("missedExitPenalty"), 1 ether + 1, 0, 1 ether
            )
        );
        vm.prank(tl);
        module.setMissedExitPenalty(1 ether + 1);
    }

    function test_setMissedExitPenalty_RevertWhen_NotGovernance() public {
        vm.expectRevert(_unauthorized(guardian, module.DEFAULT_ADMIN_ROLE()));
        vm.prank(guardian);
        module.setMissedExitPenalty(0.2 ether);
    }

    function test_parameters_StoredAfterExistingFields() public view {
        // ERC-7201 struct: oracle, registry, bonds, operatorRewards + exitDeadline packed (slots 0..3),
        // then typeFactorBps (slot 4, packed uint16[4]) and missedExitPenalty (slot 5)
        bytes32 base = 0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00;
        vm.assertEq(
            uint256(vm.load(address(module), base)), uint256(uint160(address(oracle))), "oracle slot 0"
        );
        vm.assertEq(
            uint256(vm.load(address(module), bytes32(uint256(base) + 3))) >> 160,
            module.exitDeadline(),
            "deadline in slot 3"
        );
        uint256 packed = uint256(vm.load(address(module), bytes32(uint256(base) + 4)));
        vm.assertEq(packed, 10_000 | (10_000 << 16) | (10_000 << 32) | (10_000 << 48), "factors slot 4");
        vm.assertEq(uint256(vm.load(address(module), bytes32(uint256(base) + 5))), 0.1 ether, "penalty 5");
    }

    function test_storageSlot_MatchesErc7201() public pure {
        bytes32 slot = keccak256(abi.encode(uint256(keccak256("claystack.storage.OperatorsModule")) - 1))
            & ~bytes32(uint256(0xff));
        vm.assertEq(slot, 0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00, "slot");
    }
}
