// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Per-operator data of an oracle report (its "extra data", docs/adr/0007):
/// `Report.extraDataHash == keccak256(abi.encode(OperatorsReport))`, or zero with empty extra data.
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

    /// @notice A validator the operator must exit (deadline: now + `exitDeadline`).
    struct ExitRequest {
        uint64 operatorId;
        uint64 keyIndex;
    }

    /// @notice The operators report. Lists are sorted as documented and capped (constants below).
    struct OperatorsReport {
        uint256 refSlot; // must equal Report.refSlot
        PreDepositResult[] preDeposits; // sorted strictly by (operatorId, keyIndex)
        OperatorScore[] scores; // sorted strictly by operatorId
        OperatorPenalty[] penalties; // sorted by operatorId (non-decreasing), amount > 0
        OperatorExited[] exited; // sorted strictly by operatorId
        ExitRequest[] exitRequests; // sorted strictly by (operatorId, keyIndex)
        bytes32 rewardsRoot; // Merkle root of cumulative per-account operator rewards; 0 = unchanged
        uint256 rewardsCumulativeShares; // sum of the leaves under rewardsRoot (non-decreasing)
    }

    /// @notice Which list an error is about.
    enum ReportList {
        PreDeposits,
        Scores,
        Penalties,
        Exited,
        ExitRequests
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

/// @notice Receives the decoded operators report from the oracle (the pool's operators module).
interface IOperatorsReportReceiver {
    /// @notice Applies `report`. Only the oracle calls it, inside `submitReport`.
    function handleOperatorsReport(IOperatorsReport.OperatorsReport calldata report) external;
}
