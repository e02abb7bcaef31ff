// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Per-operator data of an oracle report (its "extra data", docs/adr/0007 and 0008), delivered
/// as a hash chain of chunks: `chunk_i = abi.encode(bytes32 nextChunkHash, OperatorsReport part_i)`,
/// `Report.extraDataHash == keccak256(chunk_0)` (zero: no extra data) and each chunk's
/// `nextChunkHash == keccak256(chunk_{i+1})`, zero in the last one. Every part carries the report's
/// refSlot; concatenated in chain order, the parts' lists obey the ordering and caps below as one
/// report would, except that pre-deposit results are ordered within each part only (each
/// operator's results must still continue from its first unconfirmed key, chunk after chunk).
interface IOperatorsReport {
    /// @notice Outcome of one 1 ETH pre-deposit; `valid == false`: the key was seen on the consensus
    /// layer with foreign withdrawal credentials (front-run).
    struct PreDepositResult {
        uint64 operatorId;
        uint64 keyIndex;
        bool valid;
    }

    /// @notice Performance score, 0..10,000 bps.
    struct OperatorScore {
        uint64 operatorId;
        uint32 score;
    }

    /// @notice A penalty in wei; kind 0 slashing, 1 missed duties / other, 2 missed exit.
    struct OperatorPenalty {
        uint64 operatorId;
        uint128 amountWei;
        uint8 kind;
    }

    /// @notice Cumulative exited and current stuck validators of one operator.
    struct OperatorExited {
        uint64 operatorId;
        uint64 exitedTotal;
        uint64 stuckTotal;
    }

    /// @notice A validator the operator must exit (deadline: now + `exitDeadline`); in
    /// `exitsStarted`, a requested validator the oracle saw exiting or exited (its request is closed).
    struct ExitRequest {
        uint64 operatorId;
        uint64 keyIndex;
    }

    /// @notice The operators report (or one chunk's part of it). Lists are sorted as documented, also
    /// across the chunks of one report, and each part is capped (constants of the module).
    struct OperatorsReport {
        uint256 refSlot; // must equal Report.refSlot
        PreDepositResult[] preDeposits; // sorted strictly by (operatorId, keyIndex) within a part
        OperatorScore[] scores; // sorted strictly by operatorId
        OperatorPenalty[] penalties; // sorted by operatorId (non-decreasing), amount > 0
        OperatorExited[] exited; // sorted strictly by operatorId
        ExitRequest[] exitRequests; // sorted strictly by (operatorId, keyIndex)
        // requested validators seen exiting or exited on the beacon chain: their pending exit
        // requests are closed (applied after exitRequests); sorted strictly by (operatorId, keyIndex)
        ExitRequest[] exitsStarted;
        bytes32 rewardsRoot; // Merkle root of cumulative per-account operator rewards; 0 = unchanged
        uint256 rewardsCumulativeShares; // sum of the leaves under rewardsRoot (non-decreasing)
    }

    /// @notice Which list an error is about.
    enum ReportList {
        PreDeposits,
        Scores,
        Penalties,
        Exited,
        ExitRequests,
        ExitsStarted
    }

    /// @notice The report carries operator data but no operators module is set.
    error OperatorsModuleNotSet();
    /// @notice The operators report's refSlot differs from the accounting report's.
    error OperatorsReportRefSlotMismatch(uint256 reported, uint256 expected);
    /// @notice A list is longer than its cap.
    error ReportListTooLong(ReportList list, uint256 length, uint256 max);
    /// @notice A list is not sorted as required (or holds a duplicate) at `index`.
    error ReportListUnsorted(ReportList list, uint256 index);
    /// @notice A penalty of zero wei, or a kind above 2.
    error InvalidPenalty(uint256 index, uint256 amountWei, uint256 kind);
    /// @notice The pre-deposit results of an operator do not start at its first unconfirmed key or
    /// are not contiguous, or name a key that is not an unconfirmed pre-deposit.
    error PreDepositResultOutOfRange(
        uint256 operatorId, uint256 keyIndex, uint256 expected, uint256 preDeposited
    );
}

/// @notice Receives the operators report, chunk by chunk, from the oracle (the pool's operators module).
interface IOperatorsReportReceiver {
    /// @notice Applies one chunk's part of the operators report of the report for `refSlot`. Only
    /// the oracle calls it: chunk 0 inside `submitReport` before the pool books the accounting,
    /// later chunks from `submitExtraDataChunk` after it. `lossRate` is the share rate before the
    /// report (1e27) at which the chunk's losses are charged, for chunk 0 too (`0`, what the oracle
    /// passed for chunk 0 before 2026-12-06, charges at the current rate). Returns the CL loss of
    /// the front-run pre-deposits it charged (wei), which the accounting of chunk 0 treats as
    /// explained (docs/adr/0008).
    function handleOperatorsReport(
        uint256 refSlot,
        uint256 lossRate,
        IOperatorsReport.OperatorsReport calldata report
    ) external returns (uint256 frontRunLoss);
}
