//! The deployment file written by `contracts/script/Deploy.s.sol` (`contracts/deployments/<chainId>.json`).

use std::{collections::BTreeMap, path::Path};

use alloy::primitives::Address;
use serde_json::Value;

/// Why a deployment file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The file could not be read.
    #[error("read deployment file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a JSON object.
    #[error("parse deployment file: {0}")]
    Json(#[from] serde_json::Error),
    /// The top level is not an object.
    #[error("deployment file is not a JSON object")]
    NotAnObject,
    /// A required key is absent.
    #[error("deployment file has no `{0}`")]
    Missing(String),
    /// A key holds something else than what it should.
    #[error("deployment file: `{key}` is not {expected}")]
    Invalid {
        /// The key.
        key: String,
        /// What it should have been.
        expected: &'static str,
    },
}

/// Addresses of one pool's contracts (the public pool or the KYC pool: same code, two instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolAddresses {
    /// `StakePool` (also the csETH / kcsETH token).
    pub stake_pool: Address,
    /// `WithdrawalQueue` (ERC-721 tickets).
    pub withdrawal_queue: Address,
    /// `OracleReport`.
    pub oracle_report: Address,
    /// `SanityChecker`.
    pub sanity_checker: Address,
    /// The 0x01 withdrawal-credential vault.
    pub withdrawal_vault: Address,
    /// The execution-layer rewards vault (fee recipient).
    pub el_rewards_vault: Address,
}

/// A parsed deployment file. Unknown keys are kept and reachable through [`Deployment::address`],
/// so that a newer deploy script never breaks an older reader.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Chain id the contracts live on.
    pub chain_id: u64,
    /// Beacon genesis time the oracle frames are computed from.
    pub genesis_time: u64,
    /// Seconds per slot.
    pub seconds_per_slot: u64,
    /// Slots per epoch.
    pub slots_per_epoch: u64,
    /// Epochs per oracle frame.
    pub epochs_per_frame: u64,
    /// The governance timelock.
    pub timelock: Address,
    /// The beacon deposit contract.
    pub deposit_contract: Address,
    /// The public pool.
    pub public: PoolAddresses,
    /// The KYC pool, when deployed.
    pub kyc: Option<PoolAddresses>,
    /// Oracle members (addresses) of the public pool.
    pub oracle_members: Vec<Address>,
    /// Oracle quorum of the public pool.
    pub oracle_quorum: u64,
    /// Oracle members of the KYC pool (`kycOracleMembers`; files written before the KYC pool had
    /// its own members fall back to `oracle_members`).
    pub kyc_oracle_members: Vec<Address>,
    /// Oracle quorum of the KYC pool (`kycOracleQuorum`, else `oracle_quorum`).
    pub kyc_oracle_quorum: u64,
    raw: BTreeMap<String, Value>,
}

impl Deployment {
    /// Reads and validates a deployment file.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| DeploymentError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Parses and validates the JSON text of a deployment file.
    pub fn parse(text: &str) -> Result<Self, DeploymentError> {
        let Value::Object(map) = serde_json::from_str::<Value>(text)? else {
            return Err(DeploymentError::NotAnObject);
        };
        let raw: BTreeMap<String, Value> = map.into_iter().collect();
        let pool = |prefix: &str| -> Result<PoolAddresses, DeploymentError> {
            let key = |name: &str| {
                if prefix.is_empty() {
                    name.to_owned()
                } else {
                    let mut chars = name.chars();
                    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default();
                    format!("{prefix}{first}{}", chars.as_str())
                }
            };
            Ok(PoolAddresses {
                stake_pool: addr(&raw, &key("stakePool"))?,
                withdrawal_queue: addr(&raw, &key("withdrawalQueue"))?,
                oracle_report: addr(&raw, &key("oracleReport"))?,
                sanity_checker: addr(&raw, &key("sanityChecker"))?,
                withdrawal_vault: addr(&raw, &key("withdrawalVault"))?,
                el_rewards_vault: addr(&raw, &key("elRewardsVault"))?,
            })
        };
        let public = pool("")?;
        let kyc = if raw.contains_key("kycStakePool") { Some(pool("kyc")?) } else { None };
        let oracle_members = addresses(&raw, "oracleMembers")?;
        let oracle_quorum = uint(&raw, "oracleQuorum")?;
        let kyc_oracle_members = if raw.contains_key("kycOracleMembers") {
            addresses(&raw, "kycOracleMembers")?
        } else {
            oracle_members.clone()
        };
        let kyc_oracle_quorum = if raw.contains_key("kycOracleQuorum") {
            uint(&raw, "kycOracleQuorum")?
        } else {
            oracle_quorum
        };
        Ok(Self {
            chain_id: uint(&raw, "chainId")?,
            genesis_time: uint(&raw, "genesisTime")?,
            seconds_per_slot: uint(&raw, "secondsPerSlot")?,
            slots_per_epoch: uint(&raw, "slotsPerEpoch")?,
            epochs_per_frame: uint(&raw, "epochsPerFrame")?,
            timelock: addr(&raw, "timelock")?,
            deposit_contract: addr(&raw, "depositContract")?,
            oracle_quorum,
            public,
            kyc,
            oracle_members,
            kyc_oracle_members,
            kyc_oracle_quorum,
            raw,
        })
    }

    /// Any address in the file by its key (e.g. `"operatorRegistry"`, `"kycDepositSecurity"`).
    pub fn address(&self, key: &str) -> Result<Address, DeploymentError> {
        addr(&self.raw, key)
    }

    /// Seconds in one oracle frame.
    pub fn frame_seconds(&self) -> u64 {
        self.seconds_per_slot
            .saturating_mul(self.slots_per_epoch)
            .saturating_mul(self.epochs_per_frame)
    }
}

fn addr(raw: &BTreeMap<String, Value>, key: &str) -> Result<Address, DeploymentError> {
    let value = raw.get(key).ok_or_else(|| DeploymentError::Missing(key.to_owned()))?;
    value
        .as_str()
        .and_then(|s| s.parse::<Address>().ok())
        .ok_or_else(|| DeploymentError::Invalid { key: key.to_owned(), expected: "an address" })
}

fn addresses(raw: &BTreeMap<String, Value>, key: &str) -> Result<Vec<Address>, DeploymentError> {
    let invalid =
        || DeploymentError::Invalid { key: key.to_owned(), expected: "a list of addresses" };
    match raw.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().and_then(|s| s.parse::<Address>().ok()).ok_or_else(invalid))
            .collect(),
        Some(_) => Err(invalid()),
        None => Err(DeploymentError::Missing(key.to_owned())),
    }
}

fn uint(raw: &BTreeMap<String, Value>, key: &str) -> Result<u64, DeploymentError> {
    let value = raw.get(key).ok_or_else(|| DeploymentError::Missing(key.to_owned()))?;
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| DeploymentError::Invalid { key: key.to_owned(), expected: "an integer" })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "chainId": 31337, "genesisTime": 1795541172, "secondsPerSlot": 1, "slotsPerEpoch": 4,
      "epochsPerFrame": 75, "timelock": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      "depositContract": "0xc6e7DF5E7b4f2A278906862b61205850344D4e7d",
      "stakePool": "0x8A791620dd6260079BF849Dc5567aDC3F2FdC318",
      "withdrawalQueue": "0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e",
      "oracleReport": "0x3Aa5ebB10DC797CAC828524e59A333d0A371443c",
      "sanityChecker": "0x9A9f2CCfdE556A7E9Ff0848998Aa4a0CFD8863AE",
      "withdrawalVault": "0x0DCd1Bf9A1b36cE34237eEaFef220932846BCD82",
      "elRewardsVault": "0x0B306BF915C4d645ff596e518fAf3F9669b97016",
      "oracleMembers": ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"], "oracleQuorum": 1,
      "operatorRegistry": "0x0165878A594ca255338adfa4d48449f69242Eb8F"
    }"#;

    #[test]
    fn parses_public_pool_and_extra_keys() {
        let d = Deployment::parse(SAMPLE).unwrap();
        assert_eq!(d.chain_id, 31337);
        assert!(d.kyc.is_none());
        assert_eq!(d.frame_seconds(), 300);
        assert_eq!(
            d.public.stake_pool,
            "0x8A791620dd6260079BF849Dc5567aDC3F2FdC318".parse::<Address>().unwrap()
        );
        assert_eq!(
            d.address("operatorRegistry").unwrap(),
            "0x0165878A594ca255338adfa4d48449f69242Eb8F".parse::<Address>().unwrap()
        );
        assert!(matches!(d.address("nope"), Err(DeploymentError::Missing(k)) if k == "nope"));
    }

    #[test]
    fn kyc_oracle_members_default_to_the_public_ones() {
        let d = Deployment::parse(SAMPLE).unwrap();
        assert_eq!(d.kyc_oracle_members, d.oracle_members);
        assert_eq!(d.kyc_oracle_quorum, 1);
        let own = SAMPLE.replace(
            "\"oracleQuorum\": 1,",
            "\"oracleQuorum\": 1, \"kycOracleMembers\": [\"0xBcd4042DE499D14e55001CcbB24a551F3b954096\", \
             \"0x71bE63f3384f5fb98995898A86B02Fb2426c5788\"], \"kycOracleQuorum\": 2,",
        );
        let d = Deployment::parse(&own).unwrap();
        assert_eq!(d.kyc_oracle_members.len(), 2);
        assert_eq!(
            d.kyc_oracle_members[0],
            "0xBcd4042DE499D14e55001CcbB24a551F3b954096".parse::<Address>().unwrap()
        );
        assert_eq!(d.kyc_oracle_quorum, 2);
        assert_eq!(d.oracle_members.len(), 1, "public members unchanged");
        let bad =
            SAMPLE.replace("\"oracleQuorum\": 1,", "\"oracleQuorum\": 1, \"kycOracleMembers\": 7,");
        let err = Deployment::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("kycOracleMembers"), "{err}");
    }

    #[test]
    fn rejects_bad_values_with_the_key_named() {
        let bad = SAMPLE.replace("\"0x8A791620dd6260079BF849Dc5567aDC3F2FdC318\"", "\"0x12\"");
        let err = Deployment::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("stakePool"), "{err}");
        let missing = SAMPLE.replace("\"oracleQuorum\": 1,", "");
        assert!(
            matches!(Deployment::parse(&missing), Err(DeploymentError::Missing(k)) if k == "oracleQuorum")
        );
        assert!(matches!(Deployment::parse("[1]"), Err(DeploymentError::NotAnObject)));
    }

    #[test]
    fn bindings_expose_the_pool_calls() {
        // The generated types exist and encode like the ABI says (selector of deposit()).
        use alloy::sol_types::SolCall;
        assert_eq!(crate::stake_pool::StakePool::depositCall::SELECTOR, [0xd0, 0xe3, 0x0d, 0xb0]);
    }
}
