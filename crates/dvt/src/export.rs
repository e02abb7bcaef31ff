//! Export of a cluster's public parts in the formats of other DVT stacks:
//!
//! - an **Obol-style cluster-lock** v1.8.0 (`cluster_definition` + `distributed_validators`
//!   with `distributed_public_key`, `public_shares`, `partial_deposit_data`,
//!   `builder_registration`, field names as charon's lock files use), with `config_hash`,
//!   `definition_hash` and `lock_hash` computed as charon's SSZ hash tree roots
//!   ([`crate::obol`]);
//! - an **SSV keyshares file** (`version`, `createdAt`, `shares[{data, payload}]`), with
//!   `sharesData` when every operator's part is given ([`crate::ssv`]).
//!
//! What cannot be produced from a ClayStack cluster is left empty and listed in
//! [`OBOL_GAPS`] / [`SSV_GAPS`] (and in the crate README).

use crate::cluster::ClusterDescription;
use crate::threshold::ShareIndex;
use claystack_consensus::hexutil;
use claystack_keys::deposit::DepositDataJson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why an export is impossible for this cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Obol numbers shares 1..=n in operator order.
    #[error("obol requires share indices 1..=n in order, found {0:?}")]
    ObolIndices(Vec<u64>),
    /// SSV clusters are 4, 7, 10 or 13 operators with threshold n − ⌊(n−1)/3⌋.
    #[error("ssv supports 3-of-4, 5-of-7, 7-of-10 and 9-of-13 clusters, not {threshold}-of-{n}")]
    SsvShape {
        /// Threshold.
        threshold: usize,
        /// Members.
        n: usize,
    },
    /// The withdrawal credentials are not of the 0x01/0x02 (execution address) kind.
    #[error("withdrawal credentials do not name an execution address")]
    WithdrawalAddress,
    /// A lock field does not fit its SSZ type (hex, length or list limit).
    #[error("obol lock field {0} does not fit its ssz type")]
    ObolField(&'static str),
}

/// Fields of the Obol lock this export cannot fill (left empty; they hash as zeros, as charon
/// hashes empty fields). Charon also refuses a lock without them, so the lock documents the
/// cluster but does not run a charon cluster.
pub const OBOL_GAPS: &[&str] = &[
    "cluster_definition.creator (address, config_signature): no secp256k1 creator key",
    "cluster_definition.operators[] (address, enr, config_signature, enr_signature): no charon ENRs",
    "distributed_validators[].builder_registration: not signed at export (empty)",
    "signature_aggregate",
    "node_signatures",
];

/// Fields of the SSV keyshares this export cannot fill without the operators' parts.
pub const SSV_GAPS: &[&str] = &[
    "shares[].payload.sharesData (needs every operator's `claystack dvt ssv-share` part)",
    "shares[].data.operators[].operatorKey (unless given)",
];

/// Names of the gaps, for reports (see [`OBOL_GAPS`]).
pub type ObolGaps = &'static [&'static str];
/// Names of the gaps, for reports (see [`SSV_GAPS`]).
pub type SsvGaps = &'static [&'static str];

/// Obol `creator`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolCreator {
    /// Creator's execution address.
    pub address: String,
    /// EIP-712 signature of the config hash.
    pub config_signature: String,
}

/// Obol `operators[]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolOperator {
    /// Operator's execution address.
    pub address: String,
    /// Charon node ENR.
    pub enr: String,
    /// EIP-712 signature of the config hash.
    pub config_signature: String,
    /// EIP-712 signature of the ENR.
    pub enr_signature: String,
}

/// Obol `validators[]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolValidator {
    /// Fee recipient.
    pub fee_recipient_address: String,
    /// Withdrawal address.
    pub withdrawal_address: String,
}

/// Obol `cluster_definition`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolDefinition {
    /// Cluster name.
    pub name: String,
    /// Creator.
    pub creator: ObolCreator,
    /// Operators, in share-index order.
    pub operators: Vec<ObolOperator>,
    /// Unique id.
    pub uuid: String,
    /// Lock schema version.
    pub version: String,
    /// RFC 3339 creation time.
    pub timestamp: String,
    /// Number of distributed validators.
    pub num_validators: usize,
    /// Threshold.
    pub threshold: usize,
    /// Per-validator addresses.
    pub validators: Vec<ObolValidator>,
    /// Key generation algorithm.
    pub dkg_algorithm: String,
    /// Genesis fork version.
    pub fork_version: String,
    /// Deposit amount of each validator's (partial) deposits, Gwei as decimal strings.
    pub deposit_amounts: Vec<String>,
    /// SSZ hash of the config (charon v1.8 `hashDefinition(configOnly)`).
    pub config_hash: String,
    /// SSZ hash of the whole definition.
    pub definition_hash: String,
}

/// Obol `deposit_data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolDepositData {
    /// Validator key.
    pub pubkey: String,
    /// Withdrawal credentials.
    pub withdrawal_credentials: String,
    /// Amount in Gwei, decimal string.
    pub amount: String,
    /// Deposit data root.
    pub deposit_data_root: String,
    /// Deposit signature.
    pub signature: String,
}

/// Obol `builder_registration.message`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObolRegistration {
    /// Fee recipient.
    pub fee_recipient: String,
    /// Gas limit.
    pub gas_limit: u64,
    /// Unix time.
    pub timestamp: u64,
    /// Validator key.
    pub pubkey: String,
}

/// Obol `builder_registration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObolBuilderRegistration {
    /// The registration.
    pub message: ObolRegistration,
    /// The validator's signature of it.
    pub signature: String,
}

/// Obol `distributed_validators[]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolDistributedValidator {
    /// The group public key.
    pub distributed_public_key: String,
    /// Public shares, in operator order.
    pub public_shares: Vec<String>,
    /// Builder registration (empty: see [`OBOL_GAPS`]).
    pub builder_registration: ObolBuilderRegistration,
    /// Deposit data of the group key, when known.
    pub partial_deposit_data: Vec<ObolDepositData>,
}

/// An Obol-style cluster lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObolClusterLock {
    /// The definition.
    pub cluster_definition: ObolDefinition,
    /// The validators.
    pub distributed_validators: Vec<ObolDistributedValidator>,
    /// BLS aggregate of the shares' signatures of the lock hash (not computed).
    pub signature_aggregate: String,
    /// Lock hash (charon v1.8 SSZ hash tree root of definition and validators).
    pub lock_hash: String,
    /// Operators' signatures of the lock hash (not computed).
    pub node_signatures: Vec<String>,
}

fn withdrawal_address(wc: &[u8; 32]) -> Result<String, ExportError> {
    match wc.split_first() {
        Some((prefix, rest)) if (*prefix == 1 || *prefix == 2) => {
            let addr = rest.get(11..).ok_or(ExportError::WithdrawalAddress)?;
            Ok(hexutil::encode_prefixed(addr))
        }
        _ => Err(ExportError::WithdrawalAddress),
    }
}

/// Builds an Obol-style lock of the cluster's public parts. `fee_recipient` defaults to the
/// withdrawal address; `timestamp` is RFC 3339.
pub fn obol_cluster_lock(
    d: &ClusterDescription,
    deposit: Option<&DepositDataJson>,
    fee_recipient: Option<&str>,
    timestamp: &str,
) -> Result<ObolClusterLock, ExportError> {
    let indices: Vec<u64> = d.members.iter().map(|m| m.index.get()).collect();
    if !indices.iter().copied().eq(1..=u64::try_from(indices.len()).unwrap_or(u64::MAX)) {
        return Err(ExportError::ObolIndices(indices));
    }
    let withdrawal = withdrawal_address(&d.withdrawal_credentials)?;
    let uuid = match &d.key_generation.session {
        Some(s) => s.trim_start_matches("0x").get(..32).unwrap_or_default().to_owned(),
        None => String::new(),
    };
    let definition = ObolDefinition {
        name: d.name.clone(),
        creator: ObolCreator { address: String::new(), config_signature: String::new() },
        operators: d
            .members
            .iter()
            .map(|_| ObolOperator {
                address: String::new(),
                enr: String::new(),
                config_signature: String::new(),
                enr_signature: String::new(),
            })
            .collect(),
        uuid,
        version: "v1.8.0".into(),
        timestamp: timestamp.to_owned(),
        num_validators: 1,
        threshold: d.threshold,
        validators: vec![ObolValidator {
            fee_recipient_address: fee_recipient.map_or_else(|| withdrawal.clone(), str::to_owned),
            withdrawal_address: withdrawal,
        }],
        dkg_algorithm: "default".into(),
        fork_version: hexutil::encode_prefixed(d.genesis_fork_version),
        deposit_amounts: deposit.map(|dd| vec![dd.amount.to_string()]).unwrap_or_default(),
        config_hash: String::new(),
        definition_hash: String::new(),
    };
    let deposit_data = deposit.map(|dd| ObolDepositData {
        pubkey: hexutil::encode_prefixed(dd.pubkey),
        withdrawal_credentials: hexutil::encode_prefixed(dd.withdrawal_credentials),
        amount: dd.amount.to_string(),
        deposit_data_root: hexutil::encode_prefixed(dd.deposit_data_root),
        signature: hexutil::encode_prefixed(dd.signature),
    });
    let mut lock = ObolClusterLock {
        cluster_definition: definition,
        distributed_validators: vec![ObolDistributedValidator {
            distributed_public_key: d.group_public_key.to_hex(),
            public_shares: d.members.iter().map(|m| m.public_share.to_hex()).collect(),
            builder_registration: ObolBuilderRegistration::default(),
            partial_deposit_data: deposit_data.into_iter().collect(),
        }],
        signature_aggregate: String::new(),
        lock_hash: String::new(),
        node_signatures: vec![],
    };
    crate::obol::fill_hashes(&mut lock)?;
    Ok(lock)
}

/// SSV `data.operators[]`.
#[derive(Debug, Clone, Serialize)]
pub struct SsvOperator {
    /// Operator id (the share index).
    pub id: u64,
    /// Operator's RSA public key (base64 PEM), when given.
    #[serde(rename = "operatorKey")]
    pub operator_key: String,
}

/// SSV `shares[].data`.
#[derive(Debug, Clone, Serialize)]
pub struct SsvData {
    /// Cluster owner's nonce in the SSV contract.
    #[serde(rename = "ownerNonce")]
    pub owner_nonce: u64,
    /// Cluster owner address.
    #[serde(rename = "ownerAddress")]
    pub owner_address: String,
    /// Validator key.
    #[serde(rename = "publicKey")]
    pub public_key: String,
    /// Operators, by ascending id.
    pub operators: Vec<SsvOperator>,
}

/// SSV `shares[].payload` (the `registerValidator` arguments).
#[derive(Debug, Clone, Serialize)]
pub struct SsvPayload {
    /// Validator key.
    #[serde(rename = "publicKey")]
    pub public_key: String,
    /// Operator ids, ascending.
    #[serde(rename = "operatorIds")]
    pub operator_ids: Vec<u64>,
    /// Ownership signature ‖ public shares ‖ encrypted shares ([`crate::ssv`]; empty without
    /// the operators' parts, see [`SSV_GAPS`]).
    #[serde(rename = "sharesData")]
    pub shares_data: String,
}

/// SSV `shares[]`.
#[derive(Debug, Clone, Serialize)]
pub struct SsvShare {
    /// Descriptive data.
    pub data: SsvData,
    /// Contract payload.
    pub payload: SsvPayload,
}

/// An SSV keyshares file.
#[derive(Debug, Clone, Serialize)]
pub struct SsvKeyshares {
    /// Format version.
    pub version: String,
    /// ISO 8601 creation time.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// One entry per validator.
    pub shares: Vec<SsvShare>,
}

/// Builds an SSV keyshares file of the cluster's public parts. Share indices are SSV operator
/// ids; `operator_keys` maps ids to operators' RSA keys (missing ones are left empty);
/// `shares_data` comes from [`crate::ssv::ssv_shares_data`] (empty when `None`).
pub fn ssv_keyshares(
    d: &ClusterDescription,
    owner_address: &str,
    owner_nonce: u64,
    operator_keys: &BTreeMap<ShareIndex, String>,
    shares_data: Option<String>,
    created_at: &str,
) -> Result<SsvKeyshares, ExportError> {
    let n = d.members.len();
    let faulty = n.saturating_sub(1).checked_div(3).unwrap_or(0);
    if ![4, 7, 10, 13].contains(&n) || d.threshold != n.saturating_sub(faulty) {
        return Err(ExportError::SsvShape { threshold: d.threshold, n });
    }
    let mut ids: Vec<ShareIndex> = d.members.iter().map(|m| m.index).collect();
    ids.sort();
    let pk = d.group_public_key.to_hex();
    let share = SsvShare {
        data: SsvData {
            owner_nonce,
            owner_address: owner_address.to_owned(),
            public_key: pk.clone(),
            operators: ids
                .iter()
                .map(|i| SsvOperator {
                    id: i.get(),
                    operator_key: operator_keys.get(i).cloned().unwrap_or_default(),
                })
                .collect(),
        },
        payload: SsvPayload {
            public_key: pk,
            operator_ids: ids.iter().map(|i| i.get()).collect(),
            shares_data: shares_data.unwrap_or_default(),
        },
    };
    Ok(SsvKeyshares {
        version: "v1.1.0".into(),
        created_at: created_at.to_owned(),
        shares: vec![share],
    })
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
// Every intermediate is bounded by `days <= u64::MAX / 86_400` times small constants, far
// below u64::MAX, and every subtraction is of a smaller quantity derived from the larger.
#[allow(clippy::arithmetic_side_effects)]
pub fn rfc3339_utc(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let secs = unix_seconds % 86_400;
    // Howard Hinnant's civil-from-days, for dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_764_000_000), "2025-11-24T16:00:00Z");
    }
}
