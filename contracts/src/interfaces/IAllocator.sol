// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "./IGoverned.sol";

/// @notice Types, errors, events and functions of the Allocator (the algorithmic network
/// balancing, ADR 0004).
interface IAllocator is IGoverned {
    /// @notice Operator type; the enum order is the order used to break ties between types.
    enum OperatorType {
        Professional,
        Kyc,
        Dvt,
        Home
    }

    /// @notice What the allocator knows about one operator (fed by the OperatorRegistry).
    /// @param id registry id; inputs are sorted by strictly increasing id
    /// @param operatorType the operator's type
    /// @param isActive not paused or stopped: only active operators receive deposits (any may exit)
    /// @param activeValidators deposited minus exited validators
    /// @param availableKeys keys that are vetted, undeposited and covered by free bond
    /// @param score performance score in bps, 0..10,000
    struct OperatorData {
        uint64 id;
        OperatorType operatorType;
        bool isActive;
        uint64 activeValidators;
        uint64 availableKeys;
        uint16 score;
    }

    /// @notice Governance parameters of one allocator (one deployment per pool).
    /// @param targetBps target share of the pool's active validators per type, in OperatorType
    /// order, summing to 10,000; a type with target 0 never receives deposits
    /// @param operatorCapBps per-operator cap as a share of the pool's active validators, [100, 10,000]
    /// @param operatorCapAbsolute per-operator cap on active validators, [1, 2^64 - 1]
    /// @param capacitySaturation K in `weight = max(score, 1) * min(availableKeys, K)`, [1, 1,024]
    /// @param maxOperatorsPerType most operators of one type an input may hold, [1, 200]
    struct AllocationParams {
        uint16[4] targetBps;
        uint16 operatorCapBps;
        uint64 operatorCapAbsolute;
        uint64 capacitySaturation;
        uint16 maxOperatorsPerType;
    }

    /// @notice Result of a deposit allocation or an exit selection: one entry per operator with a
    /// non-zero count, by increasing operator id; `total` is the sum of the counts.
    struct Allocation {
        uint64[] operatorIds;
        uint256[] counts;
        uint256 total;
    }

    /// @notice The target shares do not sum to 10,000 bps.
    error InvalidTargets(uint256 sum);
    /// @notice Operators are not sorted by strictly increasing id.
    error UnsortedOperators(uint256 index, uint256 previousId, uint256 id);
    /// @notice A performance score is above 10,000 bps.
    error ScoreOutOfRange(uint256 id, uint256 score);
    /// @notice The input holds more operators of one type than `maxOperatorsPerType`.
    error TooManyOperators(OperatorType operatorType, uint256 count, uint256 max);
    /// @notice More validators requested than one call may allocate or select.
    error RequestTooLarge(uint256 requested, uint256 max);

    /// @notice Governance changed the target shares.
    event TargetsUpdated(uint16[4] targetBps);
    /// @notice Governance changed the per-operator cap.
    event OperatorCapUpdated(uint16 capBps, uint64 capAbsolute);

    /// @notice Sets the target shares (bps, OperatorType order, sum 10,000). Timelock only.
    function setTargets(uint16[4] calldata targetBps) external;

    /// @notice Sets the per-operator cap: share of the pool in bps and absolute count. Timelock only.
    function setOperatorCap(uint16 capBps, uint64 capAbsolute) external;

    /// @notice Sets K, the available-key count above which capacity no longer adds weight. Timelock only.
    function setCapacitySaturation(uint64 saturation) external;

    /// @notice Sets the most operators of one type an input may hold (the gas bound). Timelock only.
    function setMaxOperatorsPerType(uint16 max) external;

    /// @notice The current parameters.
    function params() external view returns (AllocationParams memory);

    /// @notice Where `n` new validators go (ADR 0004); may allocate fewer if no operator can take more.
    function allocateDeposits(OperatorData[] memory operators, uint256 n)
        external
        view
        returns (Allocation memory);

    /// @notice Which operators exit `m` validators (ADR 0004); fewer only if fewer are active.
    function selectExits(OperatorData[] memory operators, uint256 m) external view returns (Allocation memory);
}
