// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport, IOperatorsReportReceiver} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice A module that tries to have the oracle apply the chunk it is applying a second time.
contract ReentrantModule is IOperatorsReportReceiver {
    OracleReport internal immutable oracle;
    bytes internal replay;
    uint256 public calls;
    bool public replayAccepted;

    constructor(OracleReport oracle_) {
        oracle = oracle_;
    }

    function setReplay(bytes memory chunk) external {
        replay = chunk;
    }

    function handleOperatorsReport(uint256, uint256, IOperatorsReport.OperatorsReport calldata)
        external
        returns (uint256)
    {
        ++calls;
        if (replay.length != 0) {
            bytes memory chunk = replay;
            delete replay;
            try oracle.submitExtraDataChunk(chunk) {
                replayAccepted = true;
            } catch {}
        }
        return 0;
    }
}

/// @notice The extra data as a hash chain of chunks (docs/adr/0008): chunk 0 in submitReport,
/// later chunks by anyone through submitExtraDataChunk, in order, once, within the report's frame.
contract ExtraDataChunksTest is OperatorsSystemFixture {
    uint256 internal home;
    uint256 internal pro;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 100 ether);
        home = _registerHome(bob, 6 ether);
        _addAndVet(home, bob, 100, 4);
        pro = _admit(IOperatorRegistry.OperatorType.Professional, carol);
        _addAndVet(pro, carol, 200, 4);
        vm.deal(carol, 3 ether);
        vm.prank(carol);
        bonds.depositBond{value: 3 ether}(pro);
        registry.markPreDeposited(home, 3);
        registry.markPreDeposited(pro, 2);
        _warpToNextFrame();
    }

    // ------------------------------------------------------------------ helpers

    function _part() internal view returns (IOperatorsReport.OperatorsReport memory o) {
        (o.refSlot,) = oracle.currentFrame();
    }

    /// @dev Chains `parts`: chunk i = abi.encode(keccak256(chunk i+1), part i), the last with zero.
    function _chain(IOperatorsReport.OperatorsReport[] memory parts)
        internal
        pure
        returns (bytes[] memory c)
    {
        c = new bytes[](parts.length);
        bytes32 next;
        for (uint256 i = parts.length; i > 0; --i) {
            c[i - 1] = abi.encode(next, parts[i - 1]);
            next = keccak256(c[i - 1]);
        }
    }

    function _two(IOperatorsReport.OperatorsReport memory a, IOperatorsReport.OperatorsReport memory b)
        internal
        pure
        returns (IOperatorsReport.OperatorsReport[] memory parts)
    {
        parts = new IOperatorsReport.OperatorsReport[](2);
        parts[0] = a;
        parts[1] = b;
    }

    function _pre(uint256 op, uint256 key, bool valid)
        internal
        pure
        returns (IOperatorsReport.PreDepositResult[] memory l)
    {
        l = new IOperatorsReport.PreDepositResult[](1);
        l[0] = IOperatorsReport.PreDepositResult(uint64(op), uint64(key), valid);
    }

    function _score(uint256 op, uint256 score)
        internal
        pure
        returns (IOperatorsReport.OperatorScore[] memory l)
    {
        l = new IOperatorsReport.OperatorScore[](1);
        l[0] = IOperatorsReport.OperatorScore(uint64(op), uint32(score));
    }

    function _penalty(uint256 op, uint256 amount)
        internal
        pure
        returns (IOperatorsReport.OperatorPenalty[] memory l)
    {
        l = new IOperatorsReport.OperatorPenalty[](1);
        l[0] = IOperatorsReport.OperatorPenalty(uint64(op), uint128(amount), 1);
    }

    function _sorted(IOperatorsReport.ReportList list, uint256 index) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IOperatorsReport.ReportListUnsorted.selector, list, index);
    }

    /// @dev Submits the report with chunk 0 of `chunks`.
    function _submitChain(bytes[] memory chunks) internal returns (IOracleReport.Report memory r) {
        r = _emptyReport();
        _submitWith(r, chunks[0]);
    }

    // ------------------------------------------------------------------ chunk 0

    function test_submitReport_SingleChunkLeavesNothingPending() public {
        IOperatorsReport.OperatorsReport memory o = _part();
        o.preDeposits = _pre(home, 0, true);
        bytes memory chunk = abi.encode(bytes32(0), o);
        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataChunkApplied(o.refSlot, 0, keccak256(chunk), bytes32(0));
        _submitWith(_emptyReport(), chunk);
        IOracleReport.ExtraDataState memory x = oracle.extraDataState();
        vm.assertEq(x.nextHash, bytes32(0), "nothing pending");
        vm.assertEq(registry.getOperator(home).confirmed, 1, "applied");
        vm.expectRevert(IOracleReport.NoExtraDataPending.selector);
        oracle.submitExtraDataChunk(chunk);
    }

    function test_submitReport_RecordsTheChainAndThePreReportRate() public {
        bytes[] memory c = _chain(_two(_part(), _part()));
        uint256 rate = pool.shareRate();
        IOracleReport.Report memory r = _submitChain(c);
        IOracleReport.ExtraDataState memory x = oracle.extraDataState();
        vm.assertEq(x.refSlot, r.refSlot, "refSlot");
        vm.assertEq(x.chunksApplied, 1, "chunk 0 applied");
        vm.assertEq(x.lossRate, rate, "pre-report rate");
        vm.assertEq(x.nextHash, keccak256(c[1]), "next hash");
    }

    function test_submitReport_RevertWhen_ChunkHeadMalformed() public {
        IOracleReport.Report memory r = _emptyReport();
        // the format of ADR 0007 (the bare struct) is not a chunk: its second word is not 0x40
        bytes memory old = abi.encode(_part());
        r.extraDataHash = keccak256(old);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataChunkMalformed.selector, old.length));
        oracle.submitReport(r, old, sigs);
        // shorter than the head
        bytes memory short = abi.encodePacked(bytes32(0));
        r.extraDataHash = keccak256(short);
        sigs = _sign(r, _quorumKeys());
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataChunkMalformed.selector, 32));
        oracle.submitReport(r, short, sigs);
    }

    function test_submitReport_RevertWhen_PartTruncated() public {
        IOperatorsReport.OperatorsReport memory o = _part();
        o.scores = _score(home, 100);
        bytes memory chunk = abi.encode(bytes32(0), o);
        // cut the last word (the score entry's second field): the module's calldata read reverts
        assembly ("memory-safe") {
            mstore(chunk, sub(mload(chunk), 32))
        }
        IOracleReport.Report memory r = _emptyReport();
        r.extraDataHash = keccak256(chunk);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert();
        oracle.submitReport(r, chunk, sigs);
    }

    // ------------------------------------------------------------------ later chunks

    function test_submitExtraDataChunk_AppliesTheChainInOrder() public {
        IOperatorsReport.OperatorsReport[] memory parts = new IOperatorsReport.OperatorsReport[](3);
        parts[0] = _part();
        parts[0].preDeposits = _pre(home, 0, true);
        parts[1] = _part();
        // home's run continues in the next chunk: key 1 follows key 0
        parts[1].preDeposits = new IOperatorsReport.PreDepositResult[](2);
        parts[1].preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(home), 1, true);
        parts[1].preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        parts[1].scores = _score(home, 7000);
        parts[2] = _part();
        parts[2].scores = _score(pro, 9000);
        bytes[] memory c = _chain(parts);
        IOracleReport.Report memory r = _submitChain(c);
        vm.assertEq(registry.getOperator(home).confirmed, 1, "chunk 0 only");
        vm.assertEq(registry.getOperator(home).score, 0, "score not yet");

        address courier = makeAddr("anyone");
        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataChunkApplied(r.refSlot, 1, keccak256(c[1]), keccak256(c[2]));
        vm.prank(courier);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(registry.getOperator(home).confirmed, 2, "run continued");
        vm.assertEq(registry.getOperator(pro).confirmed, 1, "next operator");
        vm.assertEq(registry.getOperator(home).score, 7000, "chunk 1 score");
        vm.assertEq(oracle.extraDataState().chunksApplied, 2, "two applied");

        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataChunkApplied(r.refSlot, 2, keccak256(c[2]), bytes32(0));
        vm.prank(courier);
        oracle.submitExtraDataChunk(c[2]);
        vm.assertEq(registry.getOperator(pro).score, 9000, "chunk 2 score");
        IOracleReport.ExtraDataState memory x = oracle.extraDataState();
        vm.assertEq(x.nextHash, bytes32(0), "chain done");
        vm.assertEq(x.chunksApplied, 3, "three applied");
    }

    function test_submitExtraDataChunk_RevertWhen_NothingPending() public {
        bytes memory chunk = abi.encode(bytes32(0), _part());
        vm.expectRevert(IOracleReport.NoExtraDataPending.selector);
        oracle.submitExtraDataChunk(chunk);
    }

    function test_submitExtraDataChunk_RevertWhen_OutOfOrder() public {
        IOperatorsReport.OperatorsReport[] memory parts = new IOperatorsReport.OperatorsReport[](3);
        parts[0] = _part();
        parts[1] = _part();
        parts[2] = _part();
        parts[2].scores = _score(home, 1);
        bytes[] memory c = _chain(parts);
        _submitChain(c);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleReport.ExtraDataHashMismatch.selector, keccak256(c[1]), keccak256(c[2])
            )
        );
        oracle.submitExtraDataChunk(c[2]);
    }

    function test_submitExtraDataChunk_RevertWhen_Replayed() public {
        IOperatorsReport.OperatorsReport[] memory parts = new IOperatorsReport.OperatorsReport[](3);
        parts[0] = _part();
        parts[1] = _part();
        parts[1].penalties = _penalty(home, 0.1 ether);
        parts[2] = _part();
        bytes[] memory c = _chain(parts);
        _submitChain(c);
        oracle.submitExtraDataChunk(c[1]);
        uint256 shares = bonds.bondShares(home);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleReport.ExtraDataHashMismatch.selector, keccak256(c[2]), keccak256(c[1])
            )
        );
        oracle.submitExtraDataChunk(c[1]);
        oracle.submitExtraDataChunk(c[2]);
        vm.expectRevert(IOracleReport.NoExtraDataPending.selector);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(bonds.bondShares(home), shares, "penalty charged once");
    }

    function test_submitExtraDataChunk_RevertWhen_FrameOver() public {
        bytes[] memory c = _chain(_two(_part(), _part()));
        IOracleReport.Report memory r = _submitChain(c);
        _warpToNextFrame();
        (uint256 current,) = oracle.currentFrame();
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataExpired.selector, r.refSlot, current));
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_submitExtraDataChunk_DeliveredAtTheLastMomentOfTheFrame() public {
        bytes[] memory c = _chain(_two(_part(), _part()));
        _submitChain(c);
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline - 1);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(oracle.extraDataState().nextHash, bytes32(0), "applied");
    }

    function test_submitReport_DropsUndeliveredChunks() public {
        IOperatorsReport.OperatorsReport memory second = _part();
        second.penalties = _penalty(home, 0.1 ether);
        bytes[] memory c = _chain(_two(_part(), second));
        IOracleReport.Report memory r = _submitChain(c);
        uint256 shares = bonds.bondShares(home);
        _warpToNextFrame();
        vm.expectEmit(address(oracle));
        emit IOracleReport.ExtraDataDropped(r.refSlot, 1, keccak256(c[1]));
        _submit(_emptyReport());
        vm.assertEq(oracle.extraDataState().nextHash, bytes32(0), "chain dropped");
        vm.expectRevert(IOracleReport.NoExtraDataPending.selector);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(bonds.bondShares(home), shares, "dropped penalty never charged");
    }

    function test_submitReport_NewChainReplacesTheUndeliveredOne() public {
        bytes[] memory c = _chain(_two(_part(), _part()));
        _submitChain(c);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory tail = _part();
        tail.scores = _score(pro, 4242);
        bytes[] memory d = _chain(_two(_part(), tail));
        _submitChain(d);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleReport.ExtraDataHashMismatch.selector, keccak256(d[1]), keccak256(c[1])
            )
        );
        oracle.submitExtraDataChunk(c[1]);
        oracle.submitExtraDataChunk(d[1]);
        vm.assertEq(registry.getOperator(pro).score, 4242, "the new chain applies");
    }

    function test_submitExtraDataChunk_RevertWhen_Malformed() public {
        bytes memory bad = abi.encodePacked(bytes32(0), uint256(0x20), abi.encode(_part()));
        IOperatorsReport.OperatorsReport memory first = _part();
        bytes memory c0 = abi.encode(keccak256(bad), first);
        _submitChain(_one(c0));
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.ExtraDataChunkMalformed.selector, bad.length));
        oracle.submitExtraDataChunk(bad);
    }

    function _one(bytes memory chunk) internal pure returns (bytes[] memory c) {
        c = new bytes[](1);
        c[0] = chunk;
    }

    function test_submitExtraDataChunk_RevertWhen_PartRefSlotDiffers() public {
        IOperatorsReport.OperatorsReport memory wrong = _part();
        wrong.refSlot -= 1;
        bytes[] memory c = _chain(_two(_part(), wrong));
        IOracleReport.Report memory r = _submitChain(c);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorsReport.OperatorsReportRefSlotMismatch.selector, r.refSlot - 1, r.refSlot
            )
        );
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_submitExtraDataChunk_RevertWhen_ModuleUnset() public {
        bytes[] memory c = _chain(_two(_part(), _part()));
        _submitChain(c);
        vm.prank(tl);
        oracle.setOperatorsModule(address(0));
        vm.expectRevert(IOperatorsReport.OperatorsModuleNotSet.selector);
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_submitExtraDataChunk_RevertWhen_PartInvalid() public {
        // a failing part reverts its transaction and leaves the chain where it was
        IOperatorsReport.OperatorsReport memory bad = _part();
        bad.scores = _score(home, 10_001);
        bytes[] memory c = _chain(_two(_part(), bad));
        _submitChain(c);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.ScoreOutOfRange.selector, 10_001));
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(oracle.extraDataState().nextHash, keccak256(c[1]), "still pending");
    }

    function test_submitExtraDataChunk_ReentryCannotApplyAChunkTwice() public {
        ReentrantModule evil = new ReentrantModule(oracle);
        vm.prank(tl);
        oracle.setOperatorsModule(address(evil));
        IOperatorsReport.OperatorsReport[] memory parts = new IOperatorsReport.OperatorsReport[](3);
        parts[0] = _part();
        parts[1] = _part();
        parts[2] = _part();
        bytes[] memory c = _chain(parts);
        _submitChain(c);
        evil.setReplay(c[1]);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(evil.calls(), 2, "chunk 0 and chunk 1, once each");
        vm.assertFalse(evil.replayAccepted(), "the replay inside the call was refused");
        vm.assertEq(oracle.extraDataState().nextHash, keccak256(c[2]), "chain advanced once");
    }

    // ------------------------------------------------------------------ losses at the pre-report rate

    function test_submitExtraDataChunk_ChargesLossesAtThePreReportRate() public {
        IOperatorsReport.OperatorsReport memory second = _part();
        second.penalties = _penalty(home, 0.5 ether);
        bytes[] memory c = _chain(_two(_part(), second));
        // the report also books EL rewards, so the rate after it differs from the rate before
        vm.deal(address(elVault), 0.05 ether);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = 0.05 ether;
        uint256 preRate = pool.shareRate();
        _submitWith(r, c[0]);
        vm.assertGt(pool.shareRate(), preRate, "rate rose");
        uint256 shares = bonds.bondShares(home);
        oracle.submitExtraDataChunk(c[1]);
        uint256 expected = Math.mulDiv(0.5 ether, 1e27, preRate, Math.Rounding.Ceil);
        vm.assertEq(shares - bonds.bondShares(home), expected, "burned at the pre-report rate");
    }

    function test_handleOperatorsReport_RevertWhen_CalledByAnyoneButTheOracle() public {
        IOperatorsReport.OperatorsReport memory o = _part();
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, address(this), address(oracle))
        );
        module.handleOperatorsReport(o.refSlot, 1e27, o);
    }

    // ------------------------------------------------------------------ ordering across chunks

    function test_chunks_RevertWhen_ScoresGoBackAcrossChunks() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.scores = _score(pro, 1);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.scores = _score(home, 1); // home < pro
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.Scores, 0));
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_RevertWhen_ExitedRepeatsAcrossChunks() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.exited = new IOperatorsReport.OperatorExited[](1);
        a.exited[0] = IOperatorsReport.OperatorExited(uint64(home), 0, 0);
        bytes[] memory c = _chain(_two(a, a));
        _submitChain(c);
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.Exited, 0));
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_PenaltiesOfOneOperatorMaySpanChunks() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.penalties = _penalty(home, 0.1 ether);
        bytes[] memory c = _chain(_two(a, a));
        _submitChain(c);
        uint256 shares = bonds.bondShares(home);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertLt(bonds.bondShares(home), shares, "second penalty charged");
    }

    function test_chunks_RevertWhen_PenaltiesGoBackAcrossChunks() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.penalties = _penalty(pro, 0.1 ether);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.penalties = _penalty(home, 0.1 ether);
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.Penalties, 0));
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_PreDepositRunsMayComeInAnyOperatorOrderAcrossChunks() public {
        // chunk 0 carries pro's run (say it holds a front-run), chunk 1 home's lower id
        IOperatorsReport.OperatorsReport memory a = _part();
        a.preDeposits = _pre(pro, 0, false);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.preDeposits = _pre(home, 0, true);
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(registry.getOperator(pro).frontRun, 1, "chunk 0");
        vm.assertEq(registry.getOperator(home).confirmed, 1, "chunk 1");
    }

    function test_chunks_RevertWhen_PreDepositRepeatedInALaterChunk() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.preDeposits = _pre(home, 0, true);
        bytes[] memory c = _chain(_two(a, a));
        _submitChain(c);
        // key 0 is confirmed: the operator's results must continue at key 1
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorsReport.PreDepositResultOutOfRange.selector, home, 0, 1, 3)
        );
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_RevertWhen_PreDepositsUnsortedWithinAChunk() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        a.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        a.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(home), 0, true);
        bytes[] memory c = _chain(_two(_part(), a));
        _submitChain(c);
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.PreDeposits, 1));
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_RevertWhen_ExitRequestsRepeatAcrossChunks() public {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory a = _part();
        a.exitRequests = new IOperatorsReport.ExitRequest[](1);
        a.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.exitRequests = new IOperatorsReport.ExitRequest[](1);
        b.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0); // (home, 0) < (home, 1)
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.ExitRequests, 0));
        oracle.submitExtraDataChunk(c[1]);
    }

    /// @dev Tops up keys 0 and 1 of `home` and asks both to exit through a report; the next frame.
    function _requestTwoExits() internal {
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 2);
        registry.markDeposited(home, 2);
        IOperatorsReport.OperatorsReport memory o = _part();
        o.exitRequests = new IOperatorsReport.ExitRequest[](2);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        o.exitRequests[1] = IOperatorsReport.ExitRequest(uint64(home), 1);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
        _warpToNextFrame();
    }

    function test_chunks_RevertWhen_ExitsStartedRepeatAcrossChunks() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory a = _part();
        a.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        a.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        b.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0); // (home, 0) < (home, 1)
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        vm.assertEq(registry.exitRequestDeadline(home, 1), 0, "chunk 0 closed key 1");
        vm.expectRevert(_sorted(IOperatorsReport.ReportList.ExitsStarted, 0));
        oracle.submitExtraDataChunk(c[1]);
        vm.assertGt(registry.exitRequestDeadline(home, 0), 0, "key 0 still pending");
    }

    function test_chunks_ExitsStartedContinueAcrossChunks() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory a = _part();
        a.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        a.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        b.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 1);
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(registry.getOperator(home).pendingExitRequests, 0, "both closed");
    }

    /// The cursor's fields for exitsStarted were added without moving the earlier ones: slot 0
    /// still starts with refSlot and seen, slot 2 holds the last exit request in its low half and
    /// the last exit started in its high half.
    function test_cursor_ExitsStartedFieldsKeepTheLayout() public {
        _requestTwoExits();
        IOperatorsReport.OperatorsReport memory a = _part();
        a.exitRequests = new IOperatorsReport.ExitRequest[](1);
        a.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(home), 1); // a no-op: pending
        a.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        a.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(home), 0);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), a));
        // ModuleStorage: oracle, registry, bonds, operatorRewards + exitDeadline, typeFactorBps,
        // missedExitPenalty, then the cursor (slots 6, 7, 8)
        uint256 base = uint256(0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00) + 6;
        uint256 s0 = uint256(vm.load(address(module), bytes32(base)));
        uint256 s2 = uint256(vm.load(address(module), bytes32(base + 2)));
        vm.assertEq(s0 & type(uint64).max, a.refSlot, "refSlot at bit 0");
        vm.assertEq((s0 >> 64) & 0xff, (1 << 4) | (1 << 5), "seen: exit requests and exits started");
        vm.assertEq((s0 >> 72 + 4 * 16) & 0xffff, 1, "exitRequests count unmoved");
        vm.assertEq((s0 >> 152) & type(uint64).max, 0, "penaltyOp unmoved at bit 152 (no penalty)");
        vm.assertEq((s0 >> 216) & 0xffff, 1, "exitsStarted count after penaltyOp, in the free bits");
        vm.assertEq(s2 & type(uint128).max, (home << 64) | 1, "last exit request, low half");
        vm.assertEq(s2 >> 128, home << 64, "last exit started, high half");
    }

    function _penalties(uint256 op, uint256 n)
        internal
        pure
        returns (IOperatorsReport.OperatorPenalty[] memory l)
    {
        l = new IOperatorsReport.OperatorPenalty[](n);
        for (uint256 i; i < n; ++i) {
            l[i] = IOperatorsReport.OperatorPenalty(uint64(op), 1, 1);
        }
    }

    function test_chunks_RevertWhen_CapExceededOverTheWholeReport() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.penalties = _penalties(home, 600);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.penalties = _penalties(home, 401);
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorsReport.ReportListTooLong.selector, IOperatorsReport.ReportList.Penalties, 1001, 1000
            )
        );
        oracle.submitExtraDataChunk(c[1]);
    }

    function test_chunks_CapCountsAFullReportAcrossChunks() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.penalties = _penalties(home, 600);
        IOperatorsReport.OperatorsReport memory b = _part();
        b.penalties = _penalties(home, 400);
        bytes[] memory c = _chain(_two(a, b));
        _submitChain(c);
        oracle.submitExtraDataChunk(c[1]);
        vm.assertEq(oracle.extraDataState().nextHash, bytes32(0), "1,000 penalties over two chunks");
    }

    function test_chunks_CursorStartsAfreshWithTheNextReport() public {
        IOperatorsReport.OperatorsReport memory a = _part();
        a.scores = _score(pro, 1);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), a));
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory b = _part();
        b.scores = _score(home, 2); // below the last report's pro: fine, a new report
        _submitWith(_emptyReport(), abi.encode(bytes32(0), b));
        vm.assertEq(registry.getOperator(home).score, 2, "applied");
    }
}
