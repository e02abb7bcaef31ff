//! Operator actions: registration (Home and Dvt post a bond; Professional and Kyc are admitted
//! by governance), deposit data for the pool's withdrawal credentials and key upload in batches,
//! bond top-up and excess claims, and a status view with exit requests.

use std::path::Path;

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use claystack_bindings::{bond_manager::BondManager, operator_registry::OperatorRegistry};
use claystack_consensus::{Gwei, Wei};
use claystack_keys::{
    DepositDataJson, DepositNetwork, Mnemonic, WithdrawalTarget, decrypt_keystore_file,
    deposit_data_for, derive_validators,
};

use crate::{
    error::{CallContext as _, ClientError},
    staker::wei,
    tx::{Mined, Progress, wait},
};

/// Most keys per `addKeys` call (the registry's `MAX_BATCH`).
pub const KEY_BATCH: usize = 100;

/// Operator category, as the registry numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    /// Admitted by governance, no bond.
    Professional = 0,
    /// Admitted by governance after KYC, no bond.
    Kyc = 1,
    /// A DVT cluster: registers itself with a bond.
    Dvt = 2,
    /// A home staker: registers itself with a bond.
    Home = 3,
}

impl OperatorKind {
    /// The registry's enum value.
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Name by code.
    #[must_use]
    pub const fn name(code: u8) -> &'static str {
        match code {
            0 => "professional",
            1 => "kyc",
            2 => "dvt",
            3 => "home",
            _ => "unknown",
        }
    }
}

/// The key lifecycle counters of one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorStatus {
    /// The operator.
    pub id: U256,
    /// Type name.
    pub kind: &'static str,
    /// Manager address.
    pub manager: Address,
    /// Reward address.
    pub reward_address: Address,
    /// Stopped by governance.
    pub stopped: bool,
    /// Performance score (bps).
    pub score: u16,
    /// Keys uploaded.
    pub total_keys: u32,
    /// Vetted limit.
    pub vetted_limit: u32,
    /// Keys with a 1 ETH pre-deposit.
    pub pre_deposited: u32,
    /// Pre-deposits confirmed by a report.
    pub confirmed: u32,
    /// Keys topped up to 32 ETH.
    pub deposited: u32,
    /// Exited.
    pub exited: u32,
    /// Stuck.
    pub stuck: u32,
    /// Front-run keys.
    pub front_run: u32,
    /// Keys ready for the next deposit.
    pub depositable: U256,
    /// Bond value now.
    pub bond: Wei,
    /// Bond required for its keys.
    pub required_bond: Wei,
    /// Bond shares claimable above the requirement.
    pub claimable_shares: U256,
    /// Open exit requests: key index and deadline (unix seconds).
    pub exit_requests: Vec<(U256, U256)>,
}

/// Deposit data for the pool's 0x01 withdrawal credentials (`0x01 ‖ 11 zero bytes ‖ vault`).
#[must_use]
pub fn withdrawal_target(withdrawal_vault: Address) -> WithdrawalTarget {
    WithdrawalTarget::Execution(withdrawal_vault.into_array())
}

/// Deposit data for keys `start..start + count` of a mnemonic.
pub fn deposit_data_from_mnemonic(
    phrase: &str,
    start: u32,
    count: u32,
    withdrawal_vault: Address,
    amount: Gwei,
    network: &DepositNetwork,
) -> Result<Vec<DepositDataJson>, ClientError> {
    let mnemonic = Mnemonic::parse(phrase.trim())
        .map_err(|e| ClientError::Config(format!("read mnemonic: {e}")))?;
    let seed = mnemonic.to_seed("");
    let keys = derive_validators(seed.as_ref(), start, count, &|_| {})
        .map_err(|e| ClientError::Config(format!("derive validator keys: {e}")))?;
    Ok(deposit_data_for(&keys, withdrawal_target(withdrawal_vault), amount, network, &|_| {}))
}

/// Deposit data for every EIP-2335 keystore (`*.json`) in `dir`, decrypted with `password`.
pub fn deposit_data_from_keystores(
    dir: &Path,
    password: &str,
    withdrawal_vault: Address,
    amount: Gwei,
    network: &DepositNetwork,
) -> Result<Vec<DepositDataJson>, ClientError> {
    let read = |e: std::io::Error| ClientError::Config(format!("read {}: {e}", dir.display()));
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let sk = decrypt_keystore_file(&path, password)
            .map_err(|e| ClientError::Config(format!("decrypt {}: {e}", path.display())))?;
        let message = claystack_keys::DepositMessage {
            pubkey: sk.public_key(),
            withdrawal_credentials: claystack_keys::WithdrawalCredentials::execution(
                &withdrawal_vault.into_array(),
                false,
            ),
            amount,
        };
        out.push(message.sign(&sk, network.fork_version).to_json(network));
    }
    if out.is_empty() {
        return Err(ClientError::Config(format!("no keystore (*.json) in {}", dir.display())));
    }
    Ok(out)
}

/// Concatenated pubkeys and signatures of `entries`, as `addKeys` takes them.
#[must_use]
pub fn key_batch(entries: &[DepositDataJson]) -> (Bytes, Bytes) {
    let mut pubkeys = Vec::with_capacity(entries.len() * 48);
    let mut signatures = Vec::with_capacity(entries.len() * 96);
    for e in entries {
        pubkeys.extend_from_slice(&e.pubkey);
        signatures.extend_from_slice(&e.signature);
    }
    (pubkeys.into(), signatures.into())
}

/// What governance must do to admit a Professional or Kyc operator.
#[must_use]
pub fn admission_instructions(
    registry: Address,
    timelock: Address,
    kind: OperatorKind,
    manager: Address,
    reward_address: Address,
) -> String {
    let call = OperatorRegistry::admitOperatorCall {
        operatorType: kind.code(),
        manager,
        rewardAddress: reward_address,
    };
    format!(
        "{kind:?} operators do not register themselves: governance admits them, without a bond.\n\
         Ask governance to schedule and execute through the timelock {timelock}:\n  \
         target   {registry} (OperatorRegistry)\n  \
         call     admitOperator({}, {manager}, {reward_address})\n  \
         calldata 0x{}{}",
        kind.code(),
        alloy::primitives::hex::encode(call.abi_encode()),
        if kind == OperatorKind::Kyc {
            format!("\nThe manager {manager} needs a valid KYC attestation first.")
        } else {
            String::new()
        }
    )
}

/// An operator registry and its bond manager, seen through a provider.
#[derive(Debug, Clone)]
pub struct Operators {
    provider: DynProvider,
    registry: Address,
    bonds: Address,
}

impl Operators {
    /// The registry at `registry` with its bond manager at `bonds`.
    #[must_use]
    pub fn new(provider: DynProvider, registry: Address, bonds: Address) -> Self {
        Self { provider, registry, bonds }
    }

    fn reg(&self) -> OperatorRegistry::OperatorRegistryInstance<DynProvider> {
        OperatorRegistry::new(self.registry, self.provider.clone())
    }

    fn bm(&self) -> BondManager::BondManagerInstance<DynProvider> {
        BondManager::new(self.bonds, self.provider.clone())
    }

    /// The bond registration of one validator of `kind` needs.
    pub async fn registration_bond(&self, kind: OperatorKind) -> Result<Wei, ClientError> {
        let v = self
            .bm()
            .requiredBondFor(kind.code(), U256::from(1u64), U256::ZERO)
            .call()
            .await
            .action("read required bond")?;
        wei("required bond", v)
    }

    fn registered_id(action: &'static str, tx: &Mined) -> Result<U256, ClientError> {
        tx.receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<OperatorRegistry::OperatorRegistered>().ok())
            .map(|l| l.inner.data.operatorId)
            .ok_or(ClientError::MissingEvent { action, hash: tx.hash, event: "OperatorRegistered" })
    }

    /// Registers a Home operator with `bond` (the registration minimum when `None`).
    pub async fn register_home(
        &self,
        reward_address: Address,
        bond: Option<Wei>,
        progress: &dyn Progress,
    ) -> Result<(U256, Wei, Mined), ClientError> {
        const ACTION: &str = "register home operator";
        let bond = match bond {
            Some(b) => b,
            None => self.registration_bond(OperatorKind::Home).await?,
        };
        let pending = self
            .reg()
            .registerHomeOperator(reward_address)
            .value(U256::from(bond.0))
            .send()
            .await
            .action(ACTION)?;
        let tx = wait(ACTION, pending, progress).await?;
        Ok((Self::registered_id(ACTION, &tx)?, bond, tx))
    }

    /// Registers a DVT cluster of `members` (t-of-n `threshold`) with `bond`.
    pub async fn register_dvt(
        &self,
        members: Vec<Address>,
        threshold: u8,
        platform: u8,
        reward_address: Address,
        bond: Option<Wei>,
        progress: &dyn Progress,
    ) -> Result<(U256, Wei, Mined), ClientError> {
        const ACTION: &str = "register DVT cluster";
        let bond = match bond {
            Some(b) => b,
            None => self.registration_bond(OperatorKind::Dvt).await?,
        };
        let pending = self
            .reg()
            .registerDvtCluster(members, threshold, platform, reward_address)
            .value(U256::from(bond.0))
            .send()
            .await
            .action(ACTION)?;
        let tx = wait(ACTION, pending, progress).await?;
        Ok((Self::registered_id(ACTION, &tx)?, bond, tx))
    }

    /// Operators managed by `manager` (from `OperatorRegistered` logs).
    pub async fn operators_of(&self, manager: Address) -> Result<Vec<U256>, ClientError> {
        let filter = Filter::new()
            .address(self.registry)
            .event_signature(OperatorRegistry::OperatorRegistered::SIGNATURE_HASH)
            .topic2(manager.into_word())
            .from_block(0);
        let logs = self.provider.get_logs(&filter).await.map_err(|e| ClientError::Rpc {
            action: "read operator registrations",
            source: Box::new(alloy::contract::Error::TransportError(e)),
        })?;
        Ok(logs
            .iter()
            .filter_map(|l| l.log_decode::<OperatorRegistry::OperatorRegistered>().ok())
            .map(|l| l.inner.data.operatorId)
            .collect())
    }

    /// Uploads keys in batches of [`KEY_BATCH`]; each batch is estimated (checked) before it is sent.
    pub async fn add_keys(
        &self,
        operator_id: U256,
        entries: &[DepositDataJson],
        progress: &dyn Progress,
    ) -> Result<Vec<Mined>, ClientError> {
        const ACTION: &str = "add keys";
        let mut txs = Vec::new();
        for chunk in entries.chunks(KEY_BATCH) {
            let (pubkeys, signatures) = key_batch(chunk);
            let pending =
                self.reg().addKeys(operator_id, pubkeys, signatures).send().await.action(ACTION)?;
            txs.push(wait(ACTION, pending, progress).await?);
        }
        Ok(txs)
    }

    /// Adds `amount` ETH to the operator's bond (held as csETH).
    pub async fn top_up(
        &self,
        operator_id: U256,
        amount: Wei,
        progress: &dyn Progress,
    ) -> Result<Mined, ClientError> {
        const ACTION: &str = "top up bond";
        let pending = self
            .bm()
            .depositBond(operator_id)
            .value(U256::from(amount.0))
            .send()
            .await
            .action(ACTION)?;
        wait(ACTION, pending, progress).await
    }

    /// Claims `shares` of bond above the requirement (all claimable when `None`).
    pub async fn claim_excess(
        &self,
        operator_id: U256,
        shares: Option<U256>,
        progress: &dyn Progress,
    ) -> Result<(U256, Mined), ClientError> {
        const ACTION: &str = "claim excess bond";
        let shares = match shares {
            Some(s) => s,
            None => self.bm().claimableShares(operator_id).call().await.action("read claimable")?,
        };
        if shares.is_zero() {
            return Err(ClientError::Nothing(format!(
                "claim-excess: operator #{operator_id} has no bond above its requirement"
            )));
        }
        let pending = self.bm().claimExcess(operator_id, shares).send().await.action(ACTION)?;
        Ok((shares, wait(ACTION, pending, progress).await?))
    }

    /// Keys by state, bond against requirement, open exit requests.
    pub async fn status(&self, operator_id: U256) -> Result<OperatorStatus, ClientError> {
        let reg = self.reg();
        let info = reg.getOperator(operator_id).call().await.action("read operator")?;
        let depositable =
            reg.depositableKeys(operator_id).call().await.action("read depositable keys")?;
        let bm = self.bm();
        let bond = wei("bond", bm.bondValue(operator_id).call().await.action("read bond")?)?;
        let required_bond = wei(
            "required bond",
            bm.requiredBond(operator_id).call().await.action("read required bond")?,
        )?;
        let claimable_shares =
            bm.claimableShares(operator_id).call().await.action("read claimable bond")?;
        let exit_requests = self.exit_requests(operator_id).await?;
        Ok(OperatorStatus {
            id: operator_id,
            kind: OperatorKind::name(info.operatorType),
            manager: info.manager,
            reward_address: info.rewardAddress,
            stopped: info.stopped,
            score: info.score,
            total_keys: info.totalKeys,
            vetted_limit: info.vettedLimit,
            pre_deposited: info.preDeposited,
            confirmed: info.confirmed,
            deposited: info.deposited,
            exited: info.exited,
            stuck: info.stuck,
            front_run: info.frontRun,
            depositable,
            bond,
            required_bond,
            claimable_shares,
            exit_requests,
        })
    }

    /// The public key of key `key_index` of the operator.
    pub async fn key_pubkey(
        &self,
        operator_id: U256,
        key_index: U256,
    ) -> Result<Bytes, ClientError> {
        let k = self.reg().getKey(operator_id, key_index).call().await.action("read key")?;
        Ok(k.pubkey)
    }

    /// Open exit requests of the operator: (key index, deadline).
    pub async fn exit_requests(&self, operator_id: U256) -> Result<Vec<(U256, U256)>, ClientError> {
        let filter = Filter::new()
            .address(self.registry)
            .event_signature(OperatorRegistry::ExitRequested::SIGNATURE_HASH)
            .topic1(operator_id)
            .from_block(0);
        let logs = self.provider.get_logs(&filter).await.map_err(|e| ClientError::Rpc {
            action: "read exit requests",
            source: Box::new(alloy::contract::Error::TransportError(e)),
        })?;
        let mut keys: Vec<U256> = logs
            .iter()
            .filter_map(|l| l.log_decode::<OperatorRegistry::ExitRequested>().ok())
            .map(|l| l.inner.data.keyIndex)
            .collect();
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for key in keys {
            let deadline = self
                .reg()
                .exitRequestDeadline(operator_id, key)
                .call()
                .await
                .action("read exit deadline")?;
            if !deadline.is_zero() {
                out.push((key, deadline));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn devnet() -> DepositNetwork {
        DepositNetwork { name: "devnet".into(), fork_version: [0, 0, 0, 0] }
    }

    #[test]
    fn deposit_data_targets_the_vault_and_verifies() {
        let vault: Address = "0x0DCd1Bf9A1b36cE34237eEaFef220932846BCD82".parse().unwrap();
        let entries =
            deposit_data_from_mnemonic(MNEMONIC, 0, 2, vault, Gwei(Gwei::PER_ETH), &devnet())
                .unwrap();
        assert_eq!(entries.len(), 2);
        for e in &entries {
            assert_eq!(e.withdrawal_credentials[0], 0x01);
            assert_eq!(&e.withdrawal_credentials[1..12], &[0u8; 11]);
            assert_eq!(&e.withdrawal_credentials[12..], vault.as_slice());
            assert_eq!(e.amount, Gwei::PER_ETH);
            let root = e.message().signing_root([0, 0, 0, 0]);
            assert!(claystack_keys::bls::verify(&e.pubkey, &root, &e.signature).unwrap());
        }
        assert_ne!(entries[0].pubkey, entries[1].pubkey);
        let (pk, sig) = key_batch(&entries);
        assert_eq!((pk.len(), sig.len()), (96, 192));
        assert_eq!(&pk[48..], &entries[1].pubkey[..]);
        assert!(
            deposit_data_from_mnemonic("not a mnemonic", 0, 1, vault, Gwei(1), &devnet()).is_err()
        );
    }

    #[test]
    fn admission_instructions_carry_the_calldata() {
        let reg = Address::repeat_byte(1);
        let manager = Address::repeat_byte(2);
        let text = admission_instructions(
            reg,
            Address::repeat_byte(3),
            OperatorKind::Kyc,
            manager,
            manager,
        );
        assert!(text.contains("governance admits them"), "{text}");
        assert!(text.contains("calldata 0x"), "{text}");
        let call = OperatorRegistry::admitOperatorCall {
            operatorType: 1,
            manager,
            rewardAddress: manager,
        };
        assert!(text.contains(&alloy::primitives::hex::encode(call.abi_encode())));
        assert!(text.contains("KYC attestation"));
    }
}
