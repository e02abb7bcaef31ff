//! Threshold BLS (Feldman VSS, DKG, partial signature combination) and distributed validator
//! clusters.
//!
//! - [`bls`]: Ethereum BLS signatures (keys, sign, verify, aggregate) over `blst`.
//! - [`threshold`]: Shamir sharing with Feldman commitments, Lagrange combination of partial
//!   signatures, verified combination that excludes wrong partials.
//! - [`dkg`]: a Joint-Feldman DKG with complaints as a message-passing state machine.
//! - [`curve`]: the only module touching raw `blst` (field and group arithmetic).

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

pub mod bls;
pub mod cluster;
pub mod curve;
pub mod dkg;
pub mod export;
pub mod front;
pub mod node;
pub mod request;
pub mod threshold;

pub use bls::{BlsError, PublicKey, SecretKey, Signature};
pub use threshold::{
    Combined, Commitments, PartialSignature, PublicKeySet, SecretShare, ShareIndex, ThresholdError,
    split,
};
