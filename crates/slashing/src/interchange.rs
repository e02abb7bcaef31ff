//! The EIP-3076 slashing protection interchange format, version 5.

use crate::{PublicKeyBytes, Root};
use claystack_consensus::{Epoch, Slot, hexutil};
use serde::{Deserialize, Serialize};

/// The only interchange format version this crate reads and writes.
pub const INTERCHANGE_FORMAT_VERSION: u64 = 5;

/// Why an interchange file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterchangeError {
    /// The JSON does not match the format (the message names the field and position).
    #[error("parse interchange json: {0}")]
    Json(String),
    /// A format version other than 5.
    #[error("unsupported interchange format version {0}, expected 5")]
    UnsupportedVersion(u64),
    /// The file is for another chain than the database.
    #[error(
        "interchange genesis validators root {} differs from the database's {}",
        hexutil::encode_prefixed(.file),
        hexutil::encode_prefixed(.database)
    )]
    GenesisValidatorsRootMismatch {
        /// Root pinned in the database.
        database: Root,
        /// Root in the file.
        file: Root,
    },
    /// An attestation whose source is after its target.
    #[error(
        "validator {} attestation #{index}: source epoch {source_epoch} is after target epoch {target_epoch}",
        hexutil::encode_prefixed(.pubkey)
    )]
    SourceExceedsTarget {
        /// The validator.
        pubkey: PublicKeyBytes,
        /// Position in `signed_attestations`.
        index: usize,
        /// Source epoch.
        source_epoch: Epoch,
        /// Target epoch.
        target_epoch: Epoch,
    },
}

/// A whole interchange file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interchange {
    /// Format version and chain.
    pub metadata: InterchangeMetadata,
    /// Per-validator history.
    pub data: Vec<InterchangeRecord>,
}

/// The `metadata` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterchangeMetadata {
    /// Always 5 (written as the string `"5"`).
    #[serde(with = "hexutil::u64_string")]
    pub interchange_format_version: u64,
    /// The chain the history belongs to.
    #[serde(with = "hexutil::fixed")]
    pub genesis_validators_root: Root,
}

/// One validator's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterchangeRecord {
    /// The validator's public key.
    #[serde(with = "hexutil::fixed")]
    pub pubkey: PublicKeyBytes,
    /// Blocks signed.
    pub signed_blocks: Vec<SignedBlock>,
    /// Attestations signed.
    pub signed_attestations: Vec<SignedAttestation>,
}

/// A signed block proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBlock {
    /// The block's slot.
    pub slot: Slot,
    /// The signing root, when known.
    #[serde(default, with = "opt_root", skip_serializing_if = "Option::is_none")]
    pub signing_root: Option<Root>,
}

/// A signed attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAttestation {
    /// Source checkpoint epoch.
    pub source_epoch: Epoch,
    /// Target checkpoint epoch.
    pub target_epoch: Epoch,
    /// The signing root, when known.
    #[serde(default, with = "opt_root", skip_serializing_if = "Option::is_none")]
    pub signing_root: Option<Root>,
}

impl Interchange {
    /// Parses and validates an interchange file.
    pub fn from_json_str(json: &str) -> Result<Self, InterchangeError> {
        let interchange: Self =
            serde_json::from_str(json).map_err(|e| InterchangeError::Json(e.to_string()))?;
        interchange.validate()?;
        Ok(interchange)
    }

    /// Serializes to pretty JSON.
    pub fn to_json_string(&self) -> Result<String, InterchangeError> {
        serde_json::to_string_pretty(self).map_err(|e| InterchangeError::Json(e.to_string()))
    }

    /// Checks what serde cannot: the version and that every source is at most its target.
    pub fn validate(&self) -> Result<(), InterchangeError> {
        if self.metadata.interchange_format_version != INTERCHANGE_FORMAT_VERSION {
            return Err(InterchangeError::UnsupportedVersion(
                self.metadata.interchange_format_version,
            ));
        }
        for record in &self.data {
            for (index, a) in record.signed_attestations.iter().enumerate() {
                if a.source_epoch > a.target_epoch {
                    return Err(InterchangeError::SourceExceedsTarget {
                        pubkey: record.pubkey,
                        index,
                        source_epoch: a.source_epoch,
                        target_epoch: a.target_epoch,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Serde for `Option<Root>` as `0x…` hex or absent/null.
mod opt_root {
    use super::Root;
    use claystack_consensus::hexutil;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(v: &Option<Root>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(r) => s.serialize_str(&hexutil::encode_prefixed(r)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Root>, D::Error> {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.map(|s| hexutil::decode_fixed::<32>(&s).map_err(D::Error::custom)).transpose()
    }
}
