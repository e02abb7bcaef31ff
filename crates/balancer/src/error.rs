//! Errors of the allocation functions, one per revert of the Solidity library.

use crate::types::OperatorType;

/// Why an allocation or exit selection was refused; mirrors the custom errors of `IAllocator`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// The target shares do not sum to 10,000 bps (`InvalidTargets(sum)`).
    #[error("check target shares: they sum to {sum} bps, not 10000")]
    InvalidTargets {
        /// Sum of the four target shares.
        sum: u64,
    },
    /// A parameter is outside its hard bounds (`ParameterOutOfBounds(name, value, min, max)`).
    #[error("check parameter {parameter}: {value} is outside [{min}, {max}]")]
    ParameterOutOfBounds {
        /// Name of the parameter, as in the contract.
        parameter: &'static str,
        /// The rejected value.
        value: u64,
        /// Lowest accepted value.
        min: u64,
        /// Highest accepted value.
        max: u64,
    },
    /// Operators are not sorted by strictly increasing id (`UnsortedOperators(index, previousId, id)`).
    #[error("check operator order: id {id} at index {index} does not follow id {previous_id}")]
    UnsortedOperators {
        /// Position of the offending operator in the input.
        index: usize,
        /// Id of the operator before it.
        previous_id: u64,
        /// Its id.
        id: u64,
    },
    /// A performance score is above 10,000 bps (`ScoreOutOfRange(id, score)`).
    #[error("check score of operator {id}: {score} is above 10000")]
    ScoreOutOfRange {
        /// Operator id.
        id: u64,
        /// The rejected score.
        score: u64,
    },
    /// More operators of one type than `max_operators_per_type` (`TooManyOperators(opType, count, max)`).
    #[error("check operator count of type {operator_type:?}: {count} is above {max}")]
    TooManyOperators {
        /// The operator type.
        operator_type: OperatorType,
        /// How many operators of that type the input holds.
        count: u64,
        /// The governance bound.
        max: u64,
    },
    /// More validators requested than one call may allocate (`RequestTooLarge(requested, max)`).
    #[error("check request size: {requested} is above {max}")]
    RequestTooLarge {
        /// Requested number of validators.
        requested: u64,
        /// The hard bound.
        max: u64,
    },
    /// More operators than the off-chain exit selection takes (no contract counterpart: the
    /// contract's bound is per type).
    #[error("check operator count: {operators} is above the off-chain bound {max}")]
    InputTooLarge {
        /// Operators in the input.
        operators: u64,
        /// [`crate::MAX_OFF_CHAIN_OPERATORS`].
        max: u64,
    },
}
