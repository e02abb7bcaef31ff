//! EIP-3076 slashing protection: a SQLite database that refuses double proposals, double votes
//! and surround votes, with interchange (format v5) import and export.
//!
//! Every check-and-record runs in one `IMMEDIATE` transaction on one exclusive connection with
//! `synchronous=FULL`, and returns only after the commit: a caller that signs only after
//! [`SlashingDatabase::check_and_insert_block_proposal`] or
//! [`SlashingDatabase::check_and_insert_attestation`] returned `Ok` can never hand out a
//! signature the database has not durably recorded, whatever moment the process is killed at.
//!
//! Lower bounds: besides the minimum signed slot and epochs the specification names, each
//! validator has watermarks raised by [`SlashingDatabase::import_interchange`] (to the maximum
//! imported values: the file may be minified, so nothing below its maximum is known to be safe)
//! and by [`SlashingDatabase::prune`] (to the maximum pruned values).

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

mod db;
mod error;
pub mod interchange;

pub use db::{ImportSummary, Safe, SlashingDatabase};
pub use error::{Error, NotSafe};
pub use interchange::{
    Interchange, InterchangeError, InterchangeMetadata, InterchangeRecord, SignedAttestation,
    SignedBlock,
};

/// A compressed BLS12-381 public key (48 bytes), the identity of a validator here.
pub type PublicKeyBytes = [u8; 48];

/// A 32-byte root (signing root, genesis validators root).
pub type Root = claystack_consensus::Root;
