//! Typed shapes of the standard Beacon API responses (ethereum/beacon-APIs). Every integer is a
//! decimal string on the wire (numbers are accepted too), every byte string `0x`-hex of a fixed
//! length; a field that does not validate makes the whole response an error.

use claystack_consensus::hexutil;
use claystack_consensus::units::{Epoch, Gwei, Slot, ValidatorIndex};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A BLS public key (48 bytes).
pub type BlsPubkey = [u8; 48];
/// A 32-byte root or hash.
pub type Root32 = [u8; 32];
/// A 4-byte fork version.
pub type Version4 = [u8; 4];

/// The `{ "data": … }` envelope, with the metadata flags real nodes add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response<T> {
    /// Whether the data was computed from an optimistically imported (unverified) block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_optimistic: Option<bool>,
    /// Whether the data is finalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized: Option<bool>,
    /// The payload.
    pub data: T,
}

/// Metadata flags of a response whose payload was streamed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseMeta {
    /// `execution_optimistic`, when the node sent it.
    pub execution_optimistic: Option<bool>,
    /// `finalized`, when the node sent it.
    pub finalized: Option<bool>,
}

/// `GET /eth/v1/beacon/genesis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Unix time of genesis, seconds.
    #[serde(with = "hexutil::u64_string")]
    pub genesis_time: u64,
    /// Root of the genesis validator registry (part of every signing domain).
    #[serde(with = "hexutil::fixed")]
    pub genesis_validators_root: Root32,
    /// Fork version at genesis.
    #[serde(with = "hexutil::fixed")]
    pub genesis_fork_version: Version4,
}

/// `GET /eth/v1/config/spec`: the raw key/value map plus the values ClayStack relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Every key the node returned, verbatim.
    pub raw: BTreeMap<String, serde_json::Value>,
    /// `SECONDS_PER_SLOT`.
    pub seconds_per_slot: u64,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// `MAX_EFFECTIVE_BALANCE` (gwei).
    pub max_effective_balance: Gwei,
    /// `EFFECTIVE_BALANCE_INCREMENT` (gwei).
    pub effective_balance_increment: Gwei,
    /// `DEPOSIT_CONTRACT_ADDRESS`, when present.
    pub deposit_contract_address: Option<[u8; 20]>,
}

/// `GET /eth/v1/node/syncing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Head slot of the node.
    pub head_slot: Slot,
    /// How many slots behind the wall clock the head is.
    #[serde(with = "hexutil::u64_string")]
    pub sync_distance: u64,
    /// Whether the node is syncing.
    pub is_syncing: bool,
    /// Whether the head is optimistic.
    #[serde(default)]
    pub is_optimistic: bool,
    /// Whether the execution client is offline.
    #[serde(default)]
    pub el_offline: bool,
}

/// `GET /eth/v1/node/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeVersion {
    /// Client version string.
    pub version: String,
}

/// A beacon block header as served by `/eth/v1/beacon/headers/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconBlockHeader {
    /// Slot of the block.
    pub slot: Slot,
    /// Index of the proposer.
    pub proposer_index: ValidatorIndex,
    /// Parent block root.
    #[serde(with = "hexutil::fixed")]
    pub parent_root: Root32,
    /// Post-state root.
    #[serde(with = "hexutil::fixed")]
    pub state_root: Root32,
    /// Body root.
    #[serde(with = "hexutil::fixed")]
    pub body_root: Root32,
}

/// A signed header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBeaconBlockHeader {
    /// The header.
    pub message: BeaconBlockHeader,
    /// Proposer's BLS signature (96 bytes).
    #[serde(with = "hexutil::bytes")]
    pub signature: Vec<u8>,
}

/// `GET /eth/v1/beacon/headers/{block_id}` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderData {
    /// Block root.
    #[serde(with = "hexutil::fixed")]
    pub root: Root32,
    /// Whether the block is on the canonical chain.
    pub canonical: bool,
    /// The signed header.
    pub header: SignedBeaconBlockHeader,
}

/// An epoch and a block root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Epoch of the checkpoint.
    pub epoch: Epoch,
    /// Block root at the epoch's first slot.
    #[serde(with = "hexutil::fixed")]
    pub root: Root32,
}

/// `GET /eth/v1/beacon/states/{state_id}/finality_checkpoints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityCheckpoints {
    /// Previous justified checkpoint.
    pub previous_justified: Checkpoint,
    /// Current justified checkpoint.
    pub current_justified: Checkpoint,
    /// Finalized checkpoint.
    pub finalized: Checkpoint,
}

/// `GET /eth/v1/beacon/states/{state_id}/fork`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// Version before the last fork.
    #[serde(with = "hexutil::fixed")]
    pub previous_version: Version4,
    /// Current version.
    #[serde(with = "hexutil::fixed")]
    pub current_version: Version4,
    /// Epoch of the last fork.
    pub epoch: Epoch,
}

/// Validator status as the Beacon API names it. The first nine are the fine-grained statuses a
/// node returns; the last four are coarse filters accepted by `?status=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorStatus {
    /// Deposited, not yet eligible for activation (below 32 ETH effective, or just seen).
    PendingInitialized,
    /// Eligible, waiting in the activation queue.
    PendingQueued,
    /// Active, no exit scheduled.
    ActiveOngoing,
    /// Active with an exit scheduled.
    ActiveExiting,
    /// Active, slashed, exit scheduled.
    ActiveSlashed,
    /// Exited, not slashed, not yet withdrawable.
    ExitedUnslashed,
    /// Exited after slashing, not yet withdrawable.
    ExitedSlashed,
    /// Withdrawable, balance not yet swept.
    WithdrawalPossible,
    /// Withdrawable and swept to zero.
    WithdrawalDone,
    /// Filter: any active status.
    Active,
    /// Filter: any pending status.
    Pending,
    /// Filter: any exited status.
    Exited,
    /// Filter: any withdrawal status.
    Withdrawal,
}

impl ValidatorStatus {
    /// The nine statuses a node reports for a validator.
    pub const FINE: [Self; 9] = [
        Self::PendingInitialized,
        Self::PendingQueued,
        Self::ActiveOngoing,
        Self::ActiveExiting,
        Self::ActiveSlashed,
        Self::ExitedUnslashed,
        Self::ExitedSlashed,
        Self::WithdrawalPossible,
        Self::WithdrawalDone,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PendingInitialized => "pending_initialized",
            Self::PendingQueued => "pending_queued",
            Self::ActiveOngoing => "active_ongoing",
            Self::ActiveExiting => "active_exiting",
            Self::ActiveSlashed => "active_slashed",
            Self::ExitedUnslashed => "exited_unslashed",
            Self::ExitedSlashed => "exited_slashed",
            Self::WithdrawalPossible => "withdrawal_possible",
            Self::WithdrawalDone => "withdrawal_done",
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Exited => "exited",
            Self::Withdrawal => "withdrawal",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::FINE.as_slice(), &[Self::Active, Self::Pending, Self::Exited, Self::Withdrawal]]
            .concat()
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Whether a validator in status `self` (fine-grained) matches the filter `filter`.
    #[must_use]
    pub fn matches(self, filter: Self) -> bool {
        if self == filter {
            return true;
        }
        match filter {
            Self::Active => {
                matches!(self, Self::ActiveOngoing | Self::ActiveExiting | Self::ActiveSlashed)
            }
            Self::Pending => matches!(self, Self::PendingInitialized | Self::PendingQueued),
            Self::Exited => matches!(self, Self::ExitedUnslashed | Self::ExitedSlashed),
            Self::Withdrawal => matches!(self, Self::WithdrawalPossible | Self::WithdrawalDone),
            _ => false,
        }
    }

    /// Whether the validator is active (it attests and can be proposer).
    #[must_use]
    pub fn is_active(self) -> bool {
        self.matches(Self::Active)
    }
}

impl fmt::Display for ValidatorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validator record of the beacon state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// BLS public key.
    #[serde(serialize_with = "hexutil::fixed::serialize", deserialize_with = "crate::de::fixed")]
    pub pubkey: BlsPubkey,
    /// Withdrawal credentials (0x00 BLS, 0x01/0x02 execution address).
    #[serde(serialize_with = "hexutil::fixed::serialize", deserialize_with = "crate::de::fixed")]
    pub withdrawal_credentials: Root32,
    /// Effective balance.
    #[serde(deserialize_with = "crate::de::gwei")]
    pub effective_balance: Gwei,
    /// Whether the validator was slashed.
    pub slashed: bool,
    /// Epoch the validator became eligible for activation (`u64::MAX`: not yet).
    #[serde(deserialize_with = "crate::de::epoch")]
    pub activation_eligibility_epoch: Epoch,
    /// Activation epoch (`u64::MAX`: not yet).
    #[serde(deserialize_with = "crate::de::epoch")]
    pub activation_epoch: Epoch,
    /// Exit epoch (`u64::MAX`: none).
    #[serde(deserialize_with = "crate::de::epoch")]
    pub exit_epoch: Epoch,
    /// Epoch from which the balance can be withdrawn (`u64::MAX`: none).
    #[serde(deserialize_with = "crate::de::epoch")]
    pub withdrawable_epoch: Epoch,
}

impl Validator {
    /// The 20-byte execution address of 0x01/0x02 credentials, `None` for 0x00 (BLS) ones.
    #[must_use]
    pub fn execution_withdrawal_address(&self) -> Option<[u8; 20]> {
        execution_address(&self.withdrawal_credentials)
    }
}

/// The execution address of 0x01/0x02 withdrawal credentials, `None` otherwise.
#[must_use]
pub fn execution_address(credentials: &Root32) -> Option<[u8; 20]> {
    match credentials.first() {
        Some(0x01 | 0x02) => credentials.get(12..32).and_then(|s| <[u8; 20]>::try_from(s).ok()),
        _ => None,
    }
}

/// One element of `/eth/v1/beacon/states/{state_id}/validators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorData {
    /// Registry index.
    #[serde(deserialize_with = "crate::de::index")]
    pub index: ValidatorIndex,
    /// Actual balance.
    #[serde(deserialize_with = "crate::de::gwei")]
    pub balance: Gwei,
    /// Status.
    pub status: ValidatorStatus,
    /// The record.
    pub validator: Validator,
}

/// One element of `/eth/v1/beacon/states/{state_id}/validator_balances`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorBalance {
    /// Registry index.
    #[serde(deserialize_with = "crate::de::index")]
    pub index: ValidatorIndex,
    /// Balance.
    #[serde(deserialize_with = "crate::de::gwei")]
    pub balance: Gwei,
}

/// One element of `POST /eth/v1/validator/liveness/{epoch}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorLiveness {
    /// Registry index.
    #[serde(deserialize_with = "crate::de::index")]
    pub index: ValidatorIndex,
    /// Whether the validator was seen performing duties in the epoch.
    pub is_live: bool,
}

/// The data of `POST /eth/v1/beacon/rewards/attestations/{epoch}`: what attesting earned or cost
/// the asked validators in the epoch, from the state's participation flags (the same on every
/// node that holds the state). Amounts are gwei and may be negative (penalties).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRewards {
    /// What a perfectly performing validator would have earned, per effective balance.
    pub ideal_rewards: Vec<IdealAttestationRewards>,
    /// What each asked validator earned (a client may leave out validators that were not
    /// eligible in the epoch).
    pub total_rewards: Vec<TotalAttestationRewards>,
}

/// One element of [`AttestationRewards::ideal_rewards`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdealAttestationRewards {
    /// The effective balance these figures are for.
    #[serde(deserialize_with = "crate::de::gwei")]
    pub effective_balance: Gwei,
    /// Reward for a timely correct head vote.
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub head: i64,
    /// Reward for a timely correct target vote.
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub target: i64,
    /// Reward for a timely correct source vote.
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub source: i64,
    /// Inclusion-delay reward (phase 0 only).
    #[serde(
        default,
        deserialize_with = "crate::de::opt_i64_lenient",
        serialize_with = "opt_i64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_delay: Option<i64>,
    /// Inactivity figure (zero for a performing validator).
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub inactivity: i64,
}

/// One element of [`AttestationRewards::total_rewards`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalAttestationRewards {
    /// Registry index.
    #[serde(deserialize_with = "crate::de::index")]
    pub validator_index: ValidatorIndex,
    /// Head reward (0 when missed: there is no head penalty since Altair).
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub head: i64,
    /// Target reward (negative: the timely-target flag is not set, a penalty; zero: set during an
    /// inactivity leak, when participation earns nothing).
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub target: i64,
    /// Source reward (negative when the timely-source flag is not set).
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub source: i64,
    /// Inclusion-delay reward (phase 0 only).
    #[serde(
        default,
        deserialize_with = "crate::de::opt_i64_lenient",
        serialize_with = "opt_i64_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_delay: Option<i64>,
    /// Inactivity penalty (zero or negative).
    #[serde(deserialize_with = "crate::de::i64_lenient", serialize_with = "i64_string")]
    pub inactivity: i64,
}

/// Writes an i64 as the Beacon API does: a decimal string.
fn i64_string<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Writes an optional i64 as a decimal string (`None` is skipped by the field attribute).
#[allow(clippy::ref_option)] // serde's `serialize_with` hands the field by reference
fn opt_i64_string<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// The body of an error response (`{"code": 404, "message": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// HTTP status code repeated.
    pub code: u16,
    /// Human-readable message.
    pub message: String,
}

/// A state identifier (`head`, `genesis`, `finalized`, `justified`, a slot or a state root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateId {
    /// The head state.
    Head,
    /// The genesis state.
    Genesis,
    /// The finalized state.
    Finalized,
    /// The current justified state.
    Justified,
    /// The state at a slot.
    Slot(Slot),
    /// The state with this root.
    Root(Root32),
}

impl fmt::Display for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Head => f.write_str("head"),
            Self::Genesis => f.write_str("genesis"),
            Self::Finalized => f.write_str("finalized"),
            Self::Justified => f.write_str("justified"),
            Self::Slot(s) => write!(f, "{s}"),
            Self::Root(r) => f.write_str(&hexutil::encode_prefixed(r)),
        }
    }
}

impl std::str::FromStr for StateId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "head" => Ok(Self::Head),
            "genesis" => Ok(Self::Genesis),
            "finalized" => Ok(Self::Finalized),
            "justified" => Ok(Self::Justified),
            _ if s.starts_with("0x") => hexutil::decode_fixed::<32>(s)
                .map(Self::Root)
                .map_err(|e| format!("invalid state root {s:?}: {e}")),
            _ => s
                .parse::<u64>()
                .map(|n| Self::Slot(Slot(n)))
                .map_err(|_| format!("invalid state id {s:?}")),
        }
    }
}

/// A block identifier (`head`, `genesis`, `finalized`, a slot or a block root). Same syntax as
/// [`StateId`].
pub type BlockId = StateId;

/// A validator identifier in queries: index or public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidatorId {
    /// Registry index.
    Index(ValidatorIndex),
    /// Public key.
    Pubkey(BlsPubkey),
}

impl fmt::Display for ValidatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index(i) => write!(f, "{i}"),
            Self::Pubkey(p) => f.write_str(&hexutil::encode_prefixed(p)),
        }
    }
}

impl std::str::FromStr for ValidatorId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("0x") {
            hexutil::decode_fixed::<48>(s)
                .map(Self::Pubkey)
                .map_err(|e| format!("invalid validator pubkey {s:?}: {e}"))
        } else {
            s.parse::<u64>()
                .map(|n| Self::Index(ValidatorIndex(n)))
                .map_err(|_| format!("invalid validator id {s:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters_and_names() {
        for s in ValidatorStatus::FINE {
            assert_eq!(ValidatorStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(ValidatorStatus::ActiveSlashed.matches(ValidatorStatus::Active));
        assert!(!ValidatorStatus::ExitedSlashed.matches(ValidatorStatus::Active));
        assert!(ValidatorStatus::PendingQueued.matches(ValidatorStatus::Pending));
        assert_eq!(ValidatorStatus::parse("bogus"), None);
    }

    #[test]
    fn ids_parse_and_print() {
        assert_eq!("head".parse::<StateId>().unwrap(), StateId::Head);
        assert_eq!("12".parse::<StateId>().unwrap(), StateId::Slot(Slot(12)));
        assert!("-1".parse::<StateId>().is_err());
        assert!("0x12".parse::<StateId>().is_err());
        let pk = format!("0x{}", "ab".repeat(48));
        assert_eq!(pk.parse::<ValidatorId>().unwrap().to_string(), pk);
        assert_eq!("7".parse::<ValidatorId>().unwrap(), ValidatorId::Index(ValidatorIndex(7)));
    }

    #[test]
    fn validator_rejects_bad_fields() {
        let good = serde_json::json!({
            "index": "3", "balance": "32000000000", "status": "active_ongoing",
            "validator": {
                "pubkey": format!("0x{}", "11".repeat(48)),
                "withdrawal_credentials": format!("0x01{}{}", "00".repeat(11), "22".repeat(20)),
                "effective_balance": "32000000000", "slashed": false,
                "activation_eligibility_epoch": "0", "activation_epoch": "0",
                "exit_epoch": "18446744073709551615", "withdrawable_epoch": "18446744073709551615"
            }
        });
        let v: ValidatorData = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(v.validator.execution_withdrawal_address(), Some([0x22; 20]));
        assert_eq!(v.validator.exit_epoch, Epoch::MAX);

        let mut bad = good.clone();
        bad["validator"]["pubkey"] = serde_json::json!("0x1234");
        let e = serde_json::from_value::<ValidatorData>(bad).unwrap_err().to_string();
        assert!(e.contains("expected 48 bytes"), "{e}");

        let mut bad = good.clone();
        bad["status"] = serde_json::json!("active");
        // Coarse filter names are not valid statuses of a record, but they do parse; the client
        // rejects them in validation.
        assert!(serde_json::from_value::<ValidatorData>(bad).is_ok());

        let mut bad = good;
        bad["balance"] = serde_json::json!("-5");
        assert!(serde_json::from_value::<ValidatorData>(bad).is_err());
    }
}
