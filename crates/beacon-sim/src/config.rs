//! Chain parameters of the simulated consensus layer. `mainnet()` mirrors the mainnet preset
//! (Deneb-era values); `devnet()` shortens every delay so a lifecycle fits in minutes.

use claystack_consensus::Gwei;
use serde::{Deserialize, Serialize};

/// Seconds in a (Julian) year, for APR conversion.
pub const SECONDS_PER_YEAR: u64 = 31_557_600;

/// Every parameter of the model. Serialized into snapshots so a restart with different values is
/// detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// Preset name reported by `/eth/v1/config/spec` as `PRESET_BASE`.
    pub preset: String,
    /// Nominal seconds per slot (`SECONDS_PER_SLOT`; also the APR time base).
    pub seconds_per_slot: u64,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// Unix time of slot 0.
    pub genesis_time: u64,
    /// `GENESIS_FORK_VERSION`.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub genesis_fork_version: [u8; 4],
    /// Seed of every random draw.
    pub seed: u64,
    /// `MAX_EFFECTIVE_BALANCE`.
    pub max_effective_balance: Gwei,
    /// `EFFECTIVE_BALANCE_INCREMENT`.
    pub effective_balance_increment: Gwei,
    /// `EJECTION_BALANCE`.
    pub ejection_balance: Gwei,
    /// `MIN_PER_EPOCH_CHURN_LIMIT`.
    pub min_per_epoch_churn_limit: u64,
    /// `CHURN_LIMIT_QUOTIENT`.
    pub churn_limit_quotient: u64,
    /// `MAX_PER_EPOCH_ACTIVATION_CHURN_LIMIT`.
    pub max_per_epoch_activation_churn_limit: u64,
    /// `MAX_SEED_LOOKAHEAD` (activation/exit delay is 1 + this many epochs).
    pub max_seed_lookahead: u64,
    /// `MIN_VALIDATOR_WITHDRAWABILITY_DELAY` in epochs.
    pub min_validator_withdrawability_delay: u64,
    /// `SHARD_COMMITTEE_PERIOD`: epochs a validator must be active before a voluntary exit.
    pub shard_committee_period: u64,
    /// `EPOCHS_PER_SLASHINGS_VECTOR`.
    pub epochs_per_slashings_vector: u64,
    /// `MIN_SLASHING_PENALTY_QUOTIENT` (Bellatrix: 32).
    pub min_slashing_penalty_quotient: u64,
    /// `PROPORTIONAL_SLASHING_MULTIPLIER` (Bellatrix: 3).
    pub proportional_slashing_multiplier: u64,
    /// `WHISTLEBLOWER_REWARD_QUOTIENT`.
    pub whistleblower_reward_quotient: u64,
    /// `MIN_EPOCHS_TO_INACTIVITY_PENALTY`.
    pub min_epochs_to_inactivity_penalty: u64,
    /// `INACTIVITY_PENALTY_QUOTIENT` (Bellatrix: 2^24).
    pub inactivity_penalty_quotient: u64,
    /// `MAX_DEPOSITS` per block.
    pub max_deposits_per_block: u64,
    /// `MAX_WITHDRAWALS_PER_PAYLOAD`.
    pub max_withdrawals_per_payload: u64,
    /// `MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP`.
    pub max_validators_per_withdrawals_sweep: u64,
    /// Consensus-layer reward rate of a perfect validator, basis points per year.
    pub apr_bps: u64,
    /// Priority fees paid to a proposer's fee recipient, basis points per year of the total
    /// active stake (spread over blocks).
    pub el_apr_bps: u64,
    /// Default probability (ppm) that a validator performs its duty.
    pub default_performance_ppm: u32,
    /// Seeded spread (ppm) subtracted from the default per validator, for variety.
    pub performance_jitter_ppm: u32,
    /// Validators (0x00 credentials, synthetic keys) active from genesis so blocks exist.
    pub genesis_validators: u64,
    /// Deposit contract followed on the execution node.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub deposit_contract: [u8; 20],
    /// Chain id of the execution node (`DEPOSIT_CHAIN_ID`).
    pub deposit_chain_id: u64,
    /// Fee recipient of validators that did not set one (None: priority fees are recorded only).
    #[serde(default, with = "opt_address")]
    pub default_fee_recipient: Option<[u8; 20]>,
    /// Whether first deposits must carry a valid BLS signature (mainnet ignores invalid ones).
    /// This build has no BLS verifier wired in; `true` requires one to be passed to the node
    /// (see [`crate::core::DepositVerifier`]).
    pub verify_deposit_signatures: bool,
    /// How many past slots' states are kept for `/eth/v1/beacon/states/{slot}` queries.
    pub history_slots: u64,
    /// `CAPELLA_FORK_VERSION`, the fork version voluntary exits are signed under from Deneb on
    /// (EIP-7044). `None`: the genesis fork version with its first byte raised by 3 (mainnet
    /// `0x00000000` → `0x03000000`, Holešky `0x01017000` → `0x04017000`).
    #[serde(default, with = "opt_version")]
    pub capella_fork_version: Option<[u8; 4]>,
    /// Ended epochs whose participation `/eth/v1/validator/liveness/{epoch}` can answer for (at
    /// least one oracle frame: 225 epochs on mainnet; a devnet that warps its clock needs the
    /// warped epochs too). Memory: one bit per validator and epoch; not kept in snapshots.
    #[serde(default = "default_liveness_epochs")]
    pub liveness_epochs: u64,
}

/// Default of [`ChainConfig::liveness_epochs`]: more than a mainnet oracle frame (225 epochs).
pub const DEFAULT_LIVENESS_EPOCHS: u64 = 256;

fn default_liveness_epochs() -> u64 {
    DEFAULT_LIVENESS_EPOCHS
}

mod opt_version {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<[u8; 4]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_some(&claystack_consensus::hexutil::encode_prefixed(a)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; 4]>, D::Error> {
        let v = Option::<String>::deserialize(d)?;
        v.map(|s| {
            claystack_consensus::hexutil::decode_fixed::<4>(&s).map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

pub(crate) mod opt_address {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<[u8; 20]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_some(&claystack_consensus::hexutil::encode_prefixed(a)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; 20]>, D::Error> {
        let v = Option::<String>::deserialize(d)?;
        v.map(|s| {
            claystack_consensus::hexutil::decode_fixed::<20>(&s).map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_known_keys_only() {
        let base = ChainConfig::devnet();
        let c = base
            .with_toml(
                "slots_per_epoch = 16\napr_bps = 400\ndefault_fee_recipient = \"0x00000000000000000000000000000000000000fe\"\n",
            )
            .unwrap();
        assert_eq!(c.slots_per_epoch, 16);
        assert_eq!(c.apr_bps, 400);
        assert_eq!(c.default_fee_recipient.map(|a| a[19]), Some(0xfe));
        assert_eq!(c.seconds_per_slot, base.seconds_per_slot);
        let e = base.with_toml("slots_per_epok = 16").unwrap_err();
        assert!(e.to_string().contains("unknown key"), "{e}");
        assert!(base.with_toml("slots_per_epoch = \"x\"").is_err());
        assert!(base.with_toml("deposit_contract = \"0x12\"").is_err());
    }
}

/// A configuration value that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid simulator config: {0}")]
pub struct ConfigError(pub String);

impl ChainConfig {
    /// Mainnet preset values (Deneb), 12-second slots, no genesis fillers beyond 64.
    #[must_use]
    pub fn mainnet() -> Self {
        Self {
            preset: "mainnet".into(),
            seconds_per_slot: 12,
            slots_per_epoch: 32,
            genesis_time: 0,
            genesis_fork_version: [0, 0, 0, 0],
            seed: 0,
            max_effective_balance: Gwei(32_000_000_000),
            effective_balance_increment: Gwei(1_000_000_000),
            ejection_balance: Gwei(16_000_000_000),
            min_per_epoch_churn_limit: 4,
            churn_limit_quotient: 65_536,
            max_per_epoch_activation_churn_limit: 8,
            max_seed_lookahead: 4,
            min_validator_withdrawability_delay: 256,
            shard_committee_period: 256,
            epochs_per_slashings_vector: 8192,
            min_slashing_penalty_quotient: 32,
            proportional_slashing_multiplier: 3,
            whistleblower_reward_quotient: 512,
            min_epochs_to_inactivity_penalty: 4,
            inactivity_penalty_quotient: 1 << 24,
            max_deposits_per_block: 16,
            max_withdrawals_per_payload: 16,
            max_validators_per_withdrawals_sweep: 16_384,
            apr_bps: 300,
            el_apr_bps: 50,
            default_performance_ppm: 990_000,
            performance_jitter_ppm: 10_000,
            genesis_validators: 64,
            deposit_contract: [0; 20],
            deposit_chain_id: 31_337,
            default_fee_recipient: None,
            verify_deposit_signatures: false,
            history_slots: 256,
            capella_fork_version: None,
            liveness_epochs: DEFAULT_LIVENESS_EPOCHS,
        }
    }

    /// Short delays for a local devnet: 1-second slots, 4-slot epochs (as the oracle contracts'
    /// devnet frames, `SLOTS_PER_EPOCH=4` in `Deploy.s.sol`), activation two epochs after
    /// eligibility, withdrawable two epochs after exit, a 16-epoch slashings vector.
    #[must_use]
    pub fn devnet() -> Self {
        Self {
            preset: "devnet".into(),
            seconds_per_slot: 1,
            slots_per_epoch: 4,
            genesis_fork_version: [0x10, 0x00, 0x00, 0x38],
            max_seed_lookahead: 1,
            min_validator_withdrawability_delay: 2,
            shard_committee_period: 0,
            epochs_per_slashings_vector: 16,
            genesis_validators: 16,
            history_slots: 512,
            ..Self::mainnet()
        }
    }

    /// Checks the values the transition divides by or relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("seconds_per_slot", self.seconds_per_slot),
            ("slots_per_epoch", self.slots_per_epoch),
            ("effective_balance_increment", self.effective_balance_increment.get()),
            ("max_effective_balance", self.max_effective_balance.get()),
            ("churn_limit_quotient", self.churn_limit_quotient),
            ("epochs_per_slashings_vector", self.epochs_per_slashings_vector),
            ("min_slashing_penalty_quotient", self.min_slashing_penalty_quotient),
            ("whistleblower_reward_quotient", self.whistleblower_reward_quotient),
            ("inactivity_penalty_quotient", self.inactivity_penalty_quotient),
            ("max_withdrawals_per_payload", self.max_withdrawals_per_payload),
            ("max_validators_per_withdrawals_sweep", self.max_validators_per_withdrawals_sweep),
            (
                "genesis_validators (a chain without validators has no blocks)",
                self.genesis_validators,
            ),
            ("min_per_epoch_churn_limit", self.min_per_epoch_churn_limit),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(ConfigError(format!("{name} must be positive")));
            }
        }
        if self.default_performance_ppm > 1_000_000 || self.performance_jitter_ppm > 1_000_000 {
            return Err(ConfigError("performance values are parts per million (≤ 1000000)".into()));
        }
        if self.apr_bps > 100_000 || self.el_apr_bps > 100_000 {
            return Err(ConfigError("APR above 1000 % is not a model of Ethereum".into()));
        }
        if self.genesis_validators > 1_000_000 {
            return Err(ConfigError("genesis_validators above 1000000".into()));
        }
        if self.liveness_epochs == 0 || self.liveness_epochs > 1_000_000 {
            return Err(ConfigError("liveness_epochs must be within 1..=1000000".into()));
        }
        Ok(())
    }

    /// Overrides the fields present in TOML `text` (same names as this struct, e.g.
    /// `slots_per_epoch = 16`, `deposit_contract = "0x…"`); unknown keys are an error.
    pub fn with_toml(&self, text: &str) -> Result<Self, ConfigError> {
        let overrides: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError(format!("config file: {e}")))?;
        let toml::Value::Table(mut base) =
            toml::Value::try_from(self).map_err(|e| ConfigError(format!("config file: {e}")))?
        else {
            return Err(ConfigError("config file: base config is not a table".into()));
        };
        let known: Vec<String> = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        for (k, v) in overrides {
            if !known.contains(&k) {
                return Err(ConfigError(format!("config file: unknown key {k:?}")));
            }
            base.insert(k, v);
        }
        toml::Value::Table(base).try_into().map_err(|e| ConfigError(format!("config file: {e}")))
    }

    /// The fork version voluntary exits are signed under (EIP-7044: Capella's).
    #[must_use]
    pub fn capella_fork_version(&self) -> [u8; 4] {
        self.capella_fork_version.unwrap_or_else(|| {
            let mut v = self.genesis_fork_version;
            if let Some(first) = v.first_mut() {
                *first = first.wrapping_add(3);
            }
            v
        })
    }

    /// Seconds in an epoch.
    #[must_use]
    pub fn seconds_per_epoch(&self) -> u64 {
        self.seconds_per_slot.saturating_mul(self.slots_per_epoch)
    }
}
