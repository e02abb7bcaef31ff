//! Errors and refusals.

use crate::Root;
use claystack_consensus::{Epoch, Slot, hexutil::encode_prefixed};

/// Why a message was refused: signing it could be slashable (or the request is invalid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotSafe {
    /// The public key is not registered in this database.
    #[error("validator {} is not registered in the slashing protection database", encode_prefixed(.0))]
    UnregisteredValidator(crate::PublicKeyBytes),
    /// The request is for another chain than the one the database is pinned to.
    #[error(
        "genesis validators root {} differs from the database's {}",
        encode_prefixed(.request),
        encode_prefixed(.database)
    )]
    GenesisValidatorsRootMismatch {
        /// Root pinned in the database.
        database: Root,
        /// Root of the request.
        request: Root,
    },
    /// A different block (or one whose signing root is unknown) was signed at this slot.
    #[error("double proposal at slot {slot}")]
    DoubleBlockProposal {
        /// The slot.
        slot: Slot,
    },
    /// The slot is at or below the validator's lower bound for blocks.
    #[error("block slot {slot} is at or below the lower bound {bound}")]
    BlockSlotAtOrBelowLowerBound {
        /// The slot requested.
        slot: Slot,
        /// The lower bound (minimum signed slot or imported watermark).
        bound: Slot,
    },
    /// The attestation's source epoch is after its target epoch.
    #[error("attestation source {source_epoch} is after its target {target_epoch}")]
    SourceExceedsTarget {
        /// Source epoch.
        source_epoch: Epoch,
        /// Target epoch.
        target_epoch: Epoch,
    },
    /// A different attestation (or one whose signing root is unknown) has the same target.
    #[error("double vote for target epoch {target_epoch}")]
    DoubleVote {
        /// The target epoch.
        target_epoch: Epoch,
    },
    /// The new attestation surrounds one already signed.
    #[error(
        "attestation {source_epoch}->{target_epoch} surrounds the signed {prev_source}->{prev_target}"
    )]
    SurroundingVote {
        /// New source.
        source_epoch: Epoch,
        /// New target.
        target_epoch: Epoch,
        /// Signed source.
        prev_source: Epoch,
        /// Signed target.
        prev_target: Epoch,
    },
    /// The new attestation is surrounded by one already signed.
    #[error(
        "attestation {source_epoch}->{target_epoch} is surrounded by the signed {prev_source}->{prev_target}"
    )]
    SurroundedVote {
        /// New source.
        source_epoch: Epoch,
        /// New target.
        target_epoch: Epoch,
        /// Signed source.
        prev_source: Epoch,
        /// Signed target.
        prev_target: Epoch,
    },
    /// The source epoch is below the validator's lower bound for sources.
    #[error("attestation source {source_epoch} is below the lower bound {bound}")]
    SourceBelowLowerBound {
        /// Source requested.
        source_epoch: Epoch,
        /// The lower bound.
        bound: Epoch,
    },
    /// The target epoch is at or below the validator's lower bound for targets.
    #[error("attestation target {target_epoch} is at or below the lower bound {bound}")]
    TargetAtOrBelowLowerBound {
        /// Target requested.
        target_epoch: Epoch,
        /// The lower bound.
        bound: Epoch,
    },
}

/// Errors of the slashing protection database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message was refused (see [`NotSafe`]).
    #[error("slashing protection refused: {0}")]
    NotSafe(#[from] NotSafe),
    /// SQLite failed.
    #[error("slashing protection database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A value does not fit in SQLite's signed 64-bit integers.
    #[error("{what} {value} is out of range for the database")]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A stored value is malformed (the file was edited or corrupted).
    #[error("corrupt slashing protection database: {0}")]
    Corrupt(&'static str),
    /// The file was written with a schema this version does not know.
    #[error("unsupported slashing protection database schema version {0}")]
    UnsupportedSchema(i64),
    /// Nothing has pinned the database to a chain yet (no signature, no import).
    #[error("the slashing protection database has no genesis validators root yet")]
    NoGenesisValidatorsRoot,
    /// Another thread panicked while holding the connection.
    #[error("slashing protection database lock poisoned")]
    Poisoned,
    /// An interchange file is invalid or does not apply to this database.
    #[error("interchange: {0}")]
    Interchange(#[from] crate::interchange::InterchangeError),
}

impl Error {
    /// The refusal, if this error is one.
    #[must_use]
    pub fn not_safe(&self) -> Option<&NotSafe> {
        match self {
            Self::NotSafe(n) => Some(n),
            _ => None,
        }
    }
}
