//! Threshold BLS (Feldman VSS, DKG, partial signature combination) and distributed validator
//! clusters.
//!
//! Pure core (no I/O):
//! - [`bls`]: Ethereum BLS signatures (keys, sign, verify, aggregate) over `blst`, checked
//!   against the official vectors.
//! - [`threshold`]: Shamir sharing with Feldman commitments, Lagrange combination of partial
//!   signatures, verified combination that identifies and excludes wrong partials.
//! - [`dkg`]: a Joint-Feldman DKG with complaints and proofs of possession, as a
//!   message-passing state machine per participant.
//! - [`curve`]: the only module touching raw `blst` (field and group arithmetic).
//! - [`request`]: the signing root and slashing check of a typed Web3Signer request (the
//!   remote signer's parser).
//! - [`export`]: Obol cluster-lock and SSV keyshares views of a cluster's public parts;
//!   [`obol`] computes the lock's SSZ hashes, [`ssv`] builds `sharesData` from the operators'
//!   encrypted shares and ownership partials.
//!
//! Around it:
//! - [`cluster`]: the public cluster description, cluster creation (DKG or split) with
//!   threshold-signed deposit data, share keystores.
//! - [`node`]: one operator's node (one share, its own slashing database, partials over HTTP).
//! - [`front`]: the cluster's Web3Signer-compatible signing front (fan-out, verify, combine).
//! - [`local`]: a whole cluster in one process, for the devnet and tests.
//! - [`metrics`]: Prometheus counters of the node and the front (`GET /metrics`).
//! - [`netdkg`]: the networked DKG (one participant per operator, signed and sealed messages,
//!   broadcast-consistency checks).

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
pub mod local;
pub mod metrics;
pub mod netdkg;
pub mod node;
pub mod obol;
pub mod request;
pub mod ssv;
pub mod threshold;

pub use bls::{BlsError, PublicKey, SecretKey, Signature};
pub use threshold::{
    Combined, Commitments, PartialSignature, PublicKeySet, SecretShare, ShareIndex, ThresholdError,
    split,
};
