//! The algorithmic network balancing of ClayStack: which operators receive new deposits and which
//! ones exit validators for withdrawals. This is the off-chain mirror of the Solidity
//! `AllocationLib` behind the `Allocator` contract (ADR 0004): same inputs, same integer
//! arithmetic, same tie-breaking, hence the same choices. The oracle uses it to plan exit requests
//! and the dashboards use it to show where the next deposits go.
//!
//! Everything here is pure: operator data in, allocations out.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod allocate;
mod error;
mod types;

pub use allocate::{allocate_deposits, select_exits, select_exits_off_chain};
pub use error::AllocationError;
pub use types::{
    Allocation, AllocationEntry, AllocationParams, BPS, MAX_CAPACITY_SATURATION,
    MAX_OFF_CHAIN_OPERATORS, MAX_OPERATORS_PER_TYPE, MAX_REQUEST, MAX_SCORE, MIN_OPERATOR_CAP_BPS,
    OperatorData, OperatorType, TargetShares,
};

#[cfg(test)]
mod tests;
