//! The ClayStack oracle.
//!
//! [`compute`] is the pure core: the frame, the protocol's beacon validators and the chain state at
//! the reference block go in; the version-1 [`Report`] (exactly as `OracleReport` and
//! `SanityChecker` check it) and the [`OperatorsReport`] (pre-deposit confirmations, scores,
//! penalties, exited/stuck counts, exit requests, the operator-rewards Merkle root) come out.
//! Integer math, deterministic ordering: the same input always gives byte-identical output, so
//! members that read the same chain sign the same digest.
//!
//! [`daemon`] is the member process around it: Beacon API and JSON-RPC reads, EIP-712 signing,
//! an authenticated HTTP gossip of signatures, submission once a quorum signed our own digest,
//! a crash-safe per-frame record and Prometheus metrics.

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

pub mod compute;
pub mod daemon;
pub mod duties;
pub mod error;
pub mod generate;
pub mod math;
pub mod merkle;
pub mod rewards;
pub mod sol;
pub mod types;

pub use compute::{AccountingInput, ComputedReport, check_accounting, compute, compute_with};
pub use error::ComputeError;
pub use sol::{ChunkBudget, OperatorsReport, Report, extra_data, report_digest};
pub use types::*;
