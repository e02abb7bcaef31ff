// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorsReport, IOperatorsReportReceiver} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {Fixture} from "../utils/Fixture.sol";
import {TestBase} from "../utils/TestBase.sol";

/// @notice Records every part the oracle hands over: how often each chunk was applied, whether it
/// came in chain order, whether its report's frame was current and whether its loss rate was the
/// rate before its report.
contract RecordingModule is IOperatorsReportReceiver {
    OracleReport internal immutable oracle;
    StakePool internal immutable pool;
    /// chunk id (refSlot << 32 | index, carried in rewardsCumulativeShares) => applications
    mapping(uint256 => uint256) public applied;
    mapping(uint256 refSlot => uint256) public nextIndex;
    uint256 public maxApplications;
    uint256 public staleApplications;
    uint256 public outOfOrder;
    uint256 public wrongRate;
    /// later chunks applied while the pool's rate differed from the pre-report rate (the report
    /// moved it): without these the loss-rate check could not tell the two apart
    uint256 public rateMoved;
    uint256 public total;
    mapping(uint256 refSlot => uint256) public preRate;

    constructor(OracleReport oracle_, StakePool pool_) {
        oracle = oracle_;
        pool = pool_;
    }

    function expectRate(uint256 refSlot, uint256 rate) external {
        preRate[refSlot] = rate;
    }

    function handleOperatorsReport(
        uint256 refSlot,
        uint256 lossRate,
        IOperatorsReport.OperatorsReport calldata r
    ) external returns (uint256) {
        uint256 id = r.rewardsCumulativeShares;
        uint256 n = ++applied[id];
        if (n > maxApplications) maxApplications = n;
        (uint256 current,) = oracle.currentFrame();
        if (current != refSlot || r.refSlot != refSlot || id >> 32 != refSlot) ++staleApplications;
        if (uint32(id) != nextIndex[refSlot]) ++outOfOrder;
        nextIndex[refSlot] = uint32(id) + 1;
        // every chunk, chunk 0 included, charges at the rate before the report
        if (lossRate != preRate[refSlot]) ++wrongRate;
        if (uint32(id) != 0 && pool.shareRate() != preRate[refSlot]) ++rateMoved;
        ++total;
        return 0;
    }
}

/// @notice Submits reports with random chains and delivers random chunks (current, replayed,
/// skipped ahead, from older reports), across frame boundaries.
contract ChunkHandler is TestBase {
    OracleReport internal oracle;
    StakePool internal pool;
    RecordingModule internal module;
    uint256[] internal keys;
    /// every chunk ever announced, with its report's refSlot
    bytes[] internal chunks;
    uint256[] internal chunkRefSlot;
    uint256 public reports;
    uint256 public deliveries;
    uint256 public accepted;
    uint256 public acceptedWhileStale;

    constructor(OracleReport oracle_, StakePool pool_, RecordingModule module_, uint256[] memory sortedKeys) {
        oracle = oracle_;
        pool = pool_;
        module = module_;
        keys = sortedKeys;
    }

    /// @dev A report with a chain of 1 to 5 chunks; it also pulls EL rewards (up to the
    /// rate cap), so the rate after it differs from the rate before.
    function report(uint8 length, uint8 warpSlots, uint256 elRewards) external {
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline + 1 + uint256(warpSlots) * 12);
        (uint256 refSlot,) = oracle.currentFrame();
        if (refSlot <= oracle.lastRefSlot()) return;
        uint256 n = bound(length, 1, 5);
        bytes[] memory c = new bytes[](n);
        bytes32 next;
        for (uint256 i = n; i > 0; --i) {
            IOperatorsReport.OperatorsReport memory part;
            part.refSlot = refSlot;
            part.rewardsCumulativeShares = (refSlot << 32) | (i - 1);
            c[i - 1] = abi.encode(next, part);
            next = keccak256(c[i - 1]);
        }
        for (uint256 i = 1; i < n; ++i) {
            chunks.push(c[i]);
            chunkRefSlot.push(refSlot);
        }
        IOracleReport.Report memory r;
        ISanityChecker.ValidatorCounts memory counts = oracle.lastValidatorCounts();
        r.consensusVersion = 1;
        r.refSlot = refSlot;
        r.validatorsDeposited = counts.deposited;
        r.validatorsActive = counts.active;
        r.validatorsExited = counts.exited;
        r.validatorsSlashed = counts.slashed;
        r.clBalance = pool.clBalance();
        r.clDepositsProcessed = pool.clDepositsProcessed();
        address elVault = pool.contracts().elRewardsVault;
        vm.deal(elVault, elVault.balance + bound(elRewards, 0, 0.05 ether));
        r.elRewardsVaultAvailable = elVault.balance;
        r.extraDataHash = keccak256(c[0]);
        module.expectRate(refSlot, pool.shareRate());
        oracle.submitReport(r, c[0], _sign(r));
        ++reports;
    }

    function deliver(uint256 pick) external {
        if (chunks.length == 0) return;
        uint256 i = bound(pick, 0, chunks.length - 1);
        ++deliveries;
        (uint256 current,) = oracle.currentFrame();
        try oracle.submitExtraDataChunk(chunks[i]) {
            ++accepted;
            if (chunkRefSlot[i] != current) ++acceptedWhileStale;
        } catch {}
    }

    function deliverLatest(uint8 back) external {
        if (chunks.length == 0) return;
        uint256 i = chunks.length - 1 - bound(back, 0, chunks.length - 1);
        try oracle.submitExtraDataChunk(chunks[i]) {
            ++accepted;
        } catch {}
    }

    function warp(uint16 secondsAhead) external {
        vm.warp(block.timestamp + secondsAhead);
    }

    function _sign(IOracleReport.Report memory r)
        internal
        view
        returns (IOracleReport.Signature[] memory sigs)
    {
        bytes32 digest = oracle.reportDigest(r);
        sigs = new IOracleReport.Signature[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
    }
}

/// @notice Extra-data chunks (docs/adr/0008): none is applied twice, none outside its report's
/// frame, always in chain order, and later chunks charge losses at the pre-report rate.
contract ExtraDataChunksInvariantTest is Fixture {
    ChunkHandler internal handler;
    RecordingModule internal recorder;

    function setUp() public override {
        super.setUp();
        recorder = new RecordingModule(oracle, pool);
        _deposit(alice, 100 ether);
        vm.prank(tl);
        oracle.setOperatorsModule(address(recorder));
        handler = new ChunkHandler(oracle, pool, recorder, _quorumKeys());
        targetContract(address(handler));
    }

    function invariant_noChunkAppliedTwice() public view {
        vm.assertLe(recorder.maxApplications(), 1, "a chunk applied twice");
    }

    function invariant_noChunkAppliedForAStaleFrame() public view {
        vm.assertEq(recorder.staleApplications(), 0, "applied outside its report's frame");
        vm.assertEq(handler.acceptedWhileStale(), 0, "oracle accepted a stale chunk");
    }

    function invariant_chunksApplyInChainOrder() public view {
        vm.assertEq(recorder.outOfOrder(), 0, "chunk applied out of order");
    }

    function invariant_lossRateIsThePreReportRate() public view {
        vm.assertEq(recorder.wrongRate(), 0, "loss rate");
    }

    function invariant_stateMatchesTheRecord() public view {
        IOracleReport.ExtraDataState memory x = oracle.extraDataState();
        if (x.refSlot != 0) vm.assertEq(recorder.nextIndex(x.refSlot), x.chunksApplied, "chunks applied");
        vm.assertEq(recorder.total(), handler.reports() + handler.accepted(), "every application accounted");
    }

    function test_handler_ExercisesChains() public {
        handler.report(3, 0, 0.05 ether);
        handler.deliverLatest(1);
        handler.deliverLatest(1); // replay: refused
        handler.deliverLatest(0);
        vm.assertEq(handler.accepted(), 2, "two later chunks");
        vm.assertEq(recorder.total(), 3, "three applications");
        vm.assertEq(recorder.rateMoved(), 2, "the report moved the rate: the loss rate check can fail");
        vm.assertEq(recorder.wrongRate(), 0, "every chunk at the pre-report rate");
        handler.report(2, 0, 0); // nothing pending from the first chain
        handler.report(2, 0, 0); // the second chain's chunk 1 is dropped
        handler.deliver(2); // that dropped chunk: refused
        vm.assertEq(handler.accepted(), 2, "dropped chunk refused");
    }
}
