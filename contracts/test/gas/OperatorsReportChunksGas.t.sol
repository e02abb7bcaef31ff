// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice Report submission for 1,000 operators (issue 6, docs/adr/0008): a registry of 1,000
/// operators with validators, a realistic frame and the worst case (every list full), delivered as
/// a chain of chunks. Records the gas of the main transaction and of every chunk transaction
/// (execution + intrinsic + calldata, the figure EIP-7825 caps at 2^24) and the per-entry cost of
/// every list. Run: `forge test --match-contract OperatorsReportChunksGasTest -vv`.
/// Every top-level call runs as its own transaction (`isolate`), so storage starts cold in each
/// transaction as it does on chain.
/// forge-config: default.isolate = true
contract OperatorsReportChunksGasTest is OperatorsSystemFixture {
    uint256 internal constant OPERATORS = 1000;
    /// EIP-7825 (Fusaka): no transaction may use more gas
    uint256 internal constant TX_GAS_CAP = 16_777_216;
    /// gas the entries of one chunk may use: chunk 0 leaves room for the accounting, finalization
    /// and signatures of the report; later chunks for the fixed cost of a chunk (about 0.2 M)
    uint256 internal constant MAIN_BUDGET = 10_000_000;
    uint256 internal constant CHUNK_BUDGET = 15_000_000;
    /// geth's txpool refuses transactions above 128 KiB; keep every chunk below
    uint256 internal constant MAX_CHUNK_BYTES = 120_000;

    /// per-entry gas the splitter budgets with: the measured cost (test_gas_perEntry, cold storage)
    /// with a margin, plus the entry's calldata at 16 gas a byte; the same numbers as the Rust
    /// splitter (crates/oracle/src/sol.rs)
    uint256 internal constant W_PRE_DEPOSIT = 30_000 + 96 * 16;
    uint256 internal constant W_FRONT_RUN = 160_000 + 96 * 16;
    uint256 internal constant W_SCORE = 12_000 + 64 * 16;
    uint256 internal constant W_PENALTY = 100_000 + 96 * 16;
    uint256 internal constant W_EXITED = 55_000 + 96 * 16;
    uint256 internal constant W_EXIT_REQUEST = 45_000 + 64 * 16;
    uint256 internal constant W_EXIT_STARTED = 16_000 + 64 * 16;

    struct Lists {
        IOperatorsReport.PreDepositResult[] pre;
        IOperatorsReport.OperatorScore[] scores;
        IOperatorsReport.OperatorPenalty[] penalties;
        IOperatorsReport.OperatorExited[] exited;
        IOperatorsReport.ExitRequest[] exits;
        IOperatorsReport.ExitRequest[] started;
    }

    function setUp() public override {
        super.setUp();
        _deposit(alice, 5000 ether);
        // a funded insurance fund, so penalties beyond the bond burn its shares too (worst case)
        uint256 fundShares = pool.convertToShares(4000 ether);
        vm.prank(alice);
        pool.transfer(address(fund), fundShares);
        vm.deal(address(this), OPERATORS * 3 ether);
        for (uint256 i; i < OPERATORS; ++i) {
            // one external call per operator: each starts with fresh memory (a single setUp frame
            // holding every operator's key bytes runs out of memory gas)
            this.addOperator(i);
        }
        _warpToNextFrame();
    }

    /// @dev Operator `i` with keys 0 and 1 topped up (running validators), key 1 asked to exit by
    /// an earlier report, key 2 pre-deposited and waiting for the report. Setup only.
    function addOperator(uint256 i) external {
        require(msg.sender == address(this), "setup only");
        address m = address(uint160(0x10000 + i));
        uint256 id = _admit(IOperatorRegistry.OperatorType.Professional, m);
        _addAndVet(id, m, 10 * i + 1, 3);
        bonds.depositBond{value: 3 ether}(id);
        registry.markPreDeposited(id, 3);
        vm.prank(reporter);
        registry.confirmPreDeposits(id, 2);
        registry.markDeposited(id, 2);
        vm.prank(reporter);
        registry.requestExit(id, 1, block.timestamp + 30 days);
    }

    // ------------------------------------------------------------------ frames

    /// @dev A realistic frame: every score changes, 5 % of operators report an exit, 1 % a penalty,
    /// 50 pre-deposit results (one front-run), 20 exit requests and 20 exits started.
    function _realistic() internal pure returns (Lists memory l) {
        l.scores = new IOperatorsReport.OperatorScore[](OPERATORS);
        for (uint256 i; i < OPERATORS; ++i) {
            l.scores[i] = IOperatorsReport.OperatorScore(uint64(i), uint32(9000 + i % 1000));
        }
        l.exited = new IOperatorsReport.OperatorExited[](50);
        for (uint256 i; i < 50; ++i) {
            l.exited[i] = IOperatorsReport.OperatorExited(uint64(i * 20), 1, 0);
        }
        l.penalties = new IOperatorsReport.OperatorPenalty[](10);
        for (uint256 i; i < 10; ++i) {
            l.penalties[i] = IOperatorsReport.OperatorPenalty(uint64(i * 100 + 7), 0.05 ether, 1);
        }
        l.pre = new IOperatorsReport.PreDepositResult[](50);
        for (uint256 i; i < 50; ++i) {
            l.pre[i] = IOperatorsReport.PreDepositResult(uint64(i * 20 + 3), 2, i != 25);
        }
        l.exits = new IOperatorsReport.ExitRequest[](20);
        l.started = new IOperatorsReport.ExitRequest[](20);
        for (uint256 i; i < 20; ++i) {
            l.exits[i] = IOperatorsReport.ExitRequest(uint64(i * 50 + 11), 0);
            l.started[i] = IOperatorsReport.ExitRequest(uint64(i * 50 + 13), 1);
        }
    }

    /// @dev Every list at its cap of 1,000: every pre-deposit result (10 front-runs), score, penalty
    /// (each larger than the operator's bond, so it runs through every layer of the waterfall),
    /// exited count, exit request and exit started.
    function _worst() internal pure returns (Lists memory l) {
        l.pre = new IOperatorsReport.PreDepositResult[](OPERATORS);
        l.scores = new IOperatorsReport.OperatorScore[](OPERATORS);
        l.penalties = new IOperatorsReport.OperatorPenalty[](OPERATORS);
        l.exited = new IOperatorsReport.OperatorExited[](OPERATORS);
        l.exits = new IOperatorsReport.ExitRequest[](OPERATORS);
        l.started = new IOperatorsReport.ExitRequest[](OPERATORS);
        for (uint256 i; i < OPERATORS; ++i) {
            uint64 id = uint64(i);
            l.pre[i] = IOperatorsReport.PreDepositResult(id, 2, i % 100 != 0);
            l.scores[i] = IOperatorsReport.OperatorScore(id, uint32(5000 + i));
            l.penalties[i] = IOperatorsReport.OperatorPenalty(id, 4 ether, 0);
            l.exited[i] = IOperatorsReport.OperatorExited(id, 1, 0);
            l.exits[i] = IOperatorsReport.ExitRequest(id, 0);
            l.started[i] = IOperatorsReport.ExitRequest(id, 1);
        }
    }

    // ------------------------------------------------------------------ tests

    function test_gas_realisticFrame1000Operators() public {
        _run(_realistic(), "realistic");
    }

    function test_gas_worstCase1000Operators() public {
        _run(_worst(), "worst");
    }

    /// @dev Gas of a one-chunk report carrying `l` (execution of submitReport).
    function _single(Lists memory l) internal returns (uint256) {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOperatorsReport.OperatorsReport memory p;
        p.refSlot = r.refSlot;
        p.preDeposits = l.pre;
        p.scores = l.scores;
        p.penalties = l.penalties;
        p.exited = l.exited;
        p.exitRequests = l.exits;
        p.exitsStarted = l.started;
        bytes memory chunk = abi.encode(bytes32(0), p);
        r.extraDataHash = keccak256(chunk);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        oracle.submitReport(r, chunk, sigs);
        return vm.lastCallGas().gasTotalUsed;
    }

    /// @dev 100 entries of one list, operators `from .. from + 99`.
    function _hundred(uint256 list, uint256 from, uint256 value) internal pure returns (Lists memory l) {
        uint256 n = 100;
        if (list == 0) l.pre = new IOperatorsReport.PreDepositResult[](n);
        if (list == 1) l.scores = new IOperatorsReport.OperatorScore[](n);
        if (list == 2) l.penalties = new IOperatorsReport.OperatorPenalty[](n);
        if (list == 3) l.exited = new IOperatorsReport.OperatorExited[](n);
        if (list == 4) l.exits = new IOperatorsReport.ExitRequest[](n);
        if (list == 5) l.started = new IOperatorsReport.ExitRequest[](n);
        for (uint256 i; i < n; ++i) {
            uint64 id = uint64(from + i);
            if (list == 0) l.pre[i] = IOperatorsReport.PreDepositResult(id, 2, value != 0);
            if (list == 1) l.scores[i] = IOperatorsReport.OperatorScore(id, uint32(value));
            if (list == 2) l.penalties[i] = IOperatorsReport.OperatorPenalty(id, uint128(value), 1);
            if (list == 3) l.exited[i] = IOperatorsReport.OperatorExited(id, uint64(value), 0);
            if (list == 4) l.exits[i] = IOperatorsReport.ExitRequest(id, 0);
            if (list == 5) l.started[i] = IOperatorsReport.ExitRequest(id, 1);
        }
    }

    /// Per-entry gas of every list (100 entries each, against an empty report), in the order the
    /// oracle meets them; the splitter's weights must stay above these.
    function test_gas_perEntry() public {
        Lists memory none;
        uint256 base = _single(none);
        uint256[11] memory g;
        g[0] = _single(_hundred(0, 0, 1)); // valid pre-deposit results
        g[1] = _single(_hundred(0, 100, 0)); // front-run results (1 ETH through the waterfall)
        g[2] = _single(_hundred(1, 0, 7000)); // scores that change
        g[3] = _single(_hundred(1, 0, 7000)); // scores that do not change
        g[4] = _single(_hundred(2, 200, 0.05 ether)); // penalties the bond covers
        g[5] = _single(_hundred(2, 300, 10 ether)); // penalties beyond bond, VFP and insurance
        g[6] = _single(_hundred(3, 400, 1)); // exited counts that change
        g[7] = _single(_hundred(3, 400, 1)); // the same counts a report later: bond settlement
        g[8] = _single(_hundred(3, 400, 1)); // unchanged and settled
        g[9] = _single(_hundred(4, 500, 0)); // exit requests
        g[10] = _single(_hundred(5, 600, 0)); // exits started (pending requests closed)
        string[11] memory names = [
            "per entry: pre-deposit result (valid)",
            "per entry: pre-deposit result (front-run)",
            "per entry: score (changed)",
            "per entry: score (unchanged)",
            "per entry: penalty (bond covers)",
            "per entry: penalty (every layer)",
            "per entry: exited (changed)",
            "per entry: exited (settles the previous report's exits)",
            "per entry: exited (unchanged, settled)",
            "per entry: exit request",
            "per entry: exit started (request closed)"
        ];
        for (uint256 i; i < 11; ++i) {
            vm.snapshotValue(names[i], (g[i] - base) / 100);
        }
        vm.snapshotValue("per report: empty operators report (execution)", base);
    }

    // ------------------------------------------------------------------ splitter and delivery

    /// @dev Splits `l` into parts in the priority order the oracle uses (docs/adr/0008): the
    /// pre-deposit runs that hold a front-run (netted only in chunk 0), then penalties (one-shot),
    /// then the other pre-deposit results, exited counts, exits started, exit requests and scores;
    /// each list
    /// continues in the next part where it stopped. (Runs are one key long here.)
    function _split(Lists memory l, uint256 refSlot)
        internal
        pure
        returns (IOperatorsReport.OperatorsReport[] memory parts)
    {
        parts = new IOperatorsReport.OperatorsReport[](64);
        // pre-deposit entries in priority order: front-runs first
        uint256[] memory order = new uint256[](l.pre.length);
        uint256 k;
        for (uint256 i; i < l.pre.length; ++i) {
            if (!l.pre[i].valid) order[k++] = i;
        }
        uint256 frontRuns = k;
        for (uint256 i; i < l.pre.length; ++i) {
            if (l.pre[i].valid) order[k++] = i;
        }
        uint256[6] memory at; // next entry of each list (pre: position in `order`)
        bool[] memory taken = new bool[](l.pre.length);
        uint256 n;
        while (
            at[0] < order.length || at[1] < l.penalties.length || at[2] < l.exited.length
                || at[3] < l.exits.length || at[4] < l.scores.length || at[5] < l.started.length
        ) {
            uint256 budget = n == 0 ? MAIN_BUDGET : CHUNK_BUDGET;
            uint256 bytesLeft = MAX_CHUNK_BYTES - 22 * 32; // head and empty lists
            uint256[6] memory from = [at[0], at[1], at[2], at[3], at[4], at[5]]; // a copy, not an alias
            // front-run runs, then penalties, then the rest, while the budget allows
            while (at[0] < frontRuns && W_FRONT_RUN <= budget && bytesLeft >= 96) {
                budget -= W_FRONT_RUN;
                bytesLeft -= 96;
                taken[order[at[0]++]] = true;
            }
            while (at[1] < l.penalties.length && W_PENALTY <= budget && bytesLeft >= 96) {
                budget -= W_PENALTY;
                bytesLeft -= 96;
                ++at[1];
            }
            while (at[0] >= frontRuns && at[0] < order.length && W_PRE_DEPOSIT <= budget && bytesLeft >= 96) {
                budget -= W_PRE_DEPOSIT;
                bytesLeft -= 96;
                taken[order[at[0]++]] = true;
            }
            while (at[2] < l.exited.length && W_EXITED <= budget && bytesLeft >= 96) {
                budget -= W_EXITED;
                bytesLeft -= 96;
                ++at[2];
            }
            while (at[5] < l.started.length && W_EXIT_STARTED <= budget && bytesLeft >= 64) {
                budget -= W_EXIT_STARTED;
                bytesLeft -= 64;
                ++at[5];
            }
            while (at[3] < l.exits.length && W_EXIT_REQUEST <= budget && bytesLeft >= 64) {
                budget -= W_EXIT_REQUEST;
                bytesLeft -= 64;
                ++at[3];
            }
            while (at[4] < l.scores.length && W_SCORE <= budget && bytesLeft >= 64) {
                budget -= W_SCORE;
                bytesLeft -= 64;
                ++at[4];
            }
            IOperatorsReport.OperatorsReport memory p;
            p.refSlot = refSlot;
            // the pre-deposit entries taken for this part, in list order (sorted by operator, key)
            p.preDeposits = new IOperatorsReport.PreDepositResult[](at[0] - from[0]);
            uint256 j;
            for (uint256 i; i < l.pre.length; ++i) {
                if (taken[i]) {
                    p.preDeposits[j++] = l.pre[i];
                    taken[i] = false;
                }
            }
            p.penalties = new IOperatorsReport.OperatorPenalty[](at[1] - from[1]);
            for (uint256 i; i < p.penalties.length; ++i) {
                p.penalties[i] = l.penalties[from[1] + i];
            }
            p.exited = new IOperatorsReport.OperatorExited[](at[2] - from[2]);
            for (uint256 i; i < p.exited.length; ++i) {
                p.exited[i] = l.exited[from[2] + i];
            }
            p.exitRequests = new IOperatorsReport.ExitRequest[](at[3] - from[3]);
            for (uint256 i; i < p.exitRequests.length; ++i) {
                p.exitRequests[i] = l.exits[from[3] + i];
            }
            p.exitsStarted = new IOperatorsReport.ExitRequest[](at[5] - from[5]);
            for (uint256 i; i < p.exitsStarted.length; ++i) {
                p.exitsStarted[i] = l.started[from[5] + i];
            }
            p.scores = new IOperatorsReport.OperatorScore[](at[4] - from[4]);
            for (uint256 i; i < p.scores.length; ++i) {
                p.scores[i] = l.scores[from[4] + i];
            }
            parts[n++] = p;
        }
        assembly ("memory-safe") {
            mstore(parts, n)
        }
    }

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

    /// @dev Intrinsic gas of a transaction with `data` as calldata: 21,000 + 4 per zero byte + 16
    /// per non-zero byte, or the EIP-7623 floor (21,000 + 10 per token) when that is higher and
    /// execution is small (the floor applies to the whole transaction: max(standard + execution,
    /// floor)).
    function _txGas(bytes memory data, uint256 execution) internal pure returns (uint256) {
        uint256 zeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
        }
        uint256 tokens = zeros + (data.length - zeros) * 4;
        uint256 standard = 21_000 + tokens * 4 + execution;
        uint256 floor = 21_000 + tokens * 10;
        return standard > floor ? standard : floor;
    }

    function _run(Lists memory l, string memory name) internal {
        IOracleReport.Report memory r = _emptyReport();
        IOperatorsReport.OperatorsReport[] memory parts = _split(l, r.refSlot);
        bytes[] memory c = _chain(parts);
        r.extraDataHash = keccak256(c[0]);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());

        uint256 frontRuns;
        for (uint256 i; i < l.pre.length; ++i) {
            if (!l.pre[i].valid) ++frontRuns;
        }
        uint256 inChunk0;
        for (uint256 i; i < parts[0].preDeposits.length; ++i) {
            if (!parts[0].preDeposits[i].valid) ++inChunk0;
        }
        vm.assertEq(inChunk0, frontRuns, "every front-run in chunk 0 (netted)");
        oracle.submitReport(r, c[0], sigs);
        uint256 exec = vm.lastCallGas().gasTotalUsed;
        uint256 total = _txGas(abi.encodeCall(oracle.submitReport, (r, c[0], sigs)), exec);
        vm.snapshotValue(string.concat(name, ": chunks"), c.length);
        vm.snapshotValue(string.concat(name, ": main tx (report + chunk 0)"), total);
        vm.assertLe(total, TX_GAS_CAP, "main tx within EIP-7825");
        uint256 sum = total;
        for (uint256 i = 1; i < c.length; ++i) {
            oracle.submitExtraDataChunk(c[i]);
            exec = vm.lastCallGas().gasTotalUsed;
            uint256 t = _txGas(abi.encodeCall(oracle.submitExtraDataChunk, (c[i])), exec);
            vm.snapshotValue(string.concat(name, ": chunk ", vm.toString(i)), t);
            vm.assertLe(t, TX_GAS_CAP, "chunk within EIP-7825");
            vm.assertLe(c[i].length, MAX_CHUNK_BYTES, "chunk below the txpool size limit");
            sum += t;
        }
        vm.snapshotValue(string.concat(name, ": all transactions"), sum);
        vm.assertEq(oracle.extraDataState().nextHash, bytes32(0), "whole chain applied");
        // the chain applied everything: last score, last pre-deposit, last exit request
        IOperatorsReport.OperatorScore memory s = l.scores[l.scores.length - 1];
        vm.assertEq(registry.getOperator(s.operatorId).score, s.score, "last score applied");
        IOperatorsReport.PreDepositResult memory p = l.pre[l.pre.length - 1];
        vm.assertEq(registry.getOperator(p.operatorId).confirmed, 3, "last pre-deposit confirmed");
        IOperatorsReport.ExitRequest memory e = l.exits[l.exits.length - 1];
        vm.assertGt(registry.exitRequestDeadline(e.operatorId, e.keyIndex), 0, "last exit requested");
        e = l.started[l.started.length - 1];
        vm.assertEq(registry.exitRequestDeadline(e.operatorId, e.keyIndex), 0, "last exit started closed");
    }
}
