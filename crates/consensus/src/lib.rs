//! Consensus-layer primitives shared by the off-chain parts of ClayStack: unit newtypes with
//! checked arithmetic, SSZ merkleization, signing domains and signing roots.
//!
//! Everything here is pure: data in, data out. Larger SSZ containers (blocks, attestations,
//! deposit messages) live with the crate that needs them and are built from [`ssz`] helpers.

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

pub mod domain;
pub mod hexutil;
pub mod ssz;
pub mod units;

pub use domain::{
    ChainSpecForks, DomainType, ForkVersion, compute_domain, compute_fork_data_root,
    compute_signing_root,
};
pub use ssz::{HashTreeRoot, Root};
pub use units::{ArithmeticError, Epoch, Gwei, Slot, ValidatorIndex, Wei};
