//! Reads of the operator contracts at the reference block: the registry's operators and their
//! keys (what [`crate::compute`] needs for the operators report), through the pool's
//! `OracleReport.operatorsModule()` → `OperatorsModule.contracts()`.
//!
//! Calls are sequential `eth_call`s pinned to the reference block (no multicall on anvil); keys
//! are read with `OperatorRegistry.getKeys` in batches of 500 (pubkeys, statuses, exit
//! deadlines). Key pubkeys of keys below an operator's `confirmed` cursor never change (and
//! neither does their front-run flag), so they are cached across frames; the
//! pre-deposited-but-unconfirmed range (bounded by the keys in flight) is read every frame, and
//! so are the topped-up keys of an operator with pending exit requests (their deadlines). The
//! type factors `F`, the missed-exit penalty (`OperatorsModule`), the VfpPool's reward share and
//! which operators it funds are read at the reference block too, and so is the loss waterfall
//! (each operator's bond shares and VFP backing, the InsuranceFund's shares): chunk 0's losses
//! burn them before the accounting, which moves the post-report share rate. So is each operator's
//! `BondManager.settledExits` (below its exited count, the report carries an exited entry, on
//! which the module releases the bond of those exits). The exit rule's
//! parameters (target shares, per-operator caps, most operators per type) are the pool's
//! Allocator's `params()` at the reference block, found through `DepositSecurity.allocator()`
//! ([`read_allocation`]).

use std::collections::{HashMap, HashSet};

use alloy::eips::BlockId;
use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use claystack_balancer::{AllocationParams, OperatorType, TargetShares};
use claystack_bindings::allocator::Allocator;
use claystack_bindings::bond_manager::BondManager;
use claystack_bindings::deposit_security::DepositSecurity;
use claystack_bindings::insurance_fund::InsuranceFund;
use claystack_bindings::operator_registry::OperatorRegistry;
use claystack_bindings::operators_module::OperatorsModule;
use claystack_bindings::oracle_report::OracleReport;
use claystack_bindings::stake_pool::StakePool;
use claystack_bindings::vfp_pool::VfpPool;

use super::DaemonError;
use crate::types::{KeyInput, KeyState, OperatorInput, RegistryState};

/// Pool ETH behind a pre-deposited (or confirmed, not yet topped-up) key.
const PRE_DEPOSIT_WEI: u64 = 1_000_000_000_000_000_000;
/// Pool ETH behind a topped-up key.
const FULL_DEPOSIT_WEI: u128 = 32_000_000_000_000_000_000;
/// `IOperatorRegistry.KeyStatus.FrontRun`.
const KEY_STATUS_FRONT_RUN: u8 = 4;
/// `OperatorRegistry.MAX_KEYS_PER_READ`: most keys one `getKeys` call returns.
pub const MAX_KEYS_PER_READ: u64 = 500;

/// The key ranges `(start, count)` to read with `getKeys` (each at most [`MAX_KEYS_PER_READ`]),
/// in increasing order: every key at or above `confirmed` (it may still be marked front-run),
/// every confirmed key not in the cache, and, while the operator has pending exit requests,
/// every topped-up key (its deadline may change).
pub fn read_ranges(
    pre_deposited: u64,
    confirmed: u64,
    top_up: u64,
    pending_exits: bool,
    cached: impl Fn(u64) -> bool,
) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for index in 0..pre_deposited {
        let needed = index >= confirmed || !cached(index) || (pending_exits && index < top_up);
        if !needed {
            continue;
        }
        match out.last_mut() {
            Some((start, n)) if start.saturating_add(*n) == index && *n < MAX_KEYS_PER_READ => {
                *n = n.saturating_add(1);
            }
            _ => out.push((index, 1)),
        }
    }
    out
}

/// A cached key below the operator's `confirmed` cursor: pubkey and front-run flag are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedKey {
    /// BLS public key.
    pub pubkey: [u8; 48],
    /// Marked front-run by the operators module.
    pub front_run: bool,
}

/// Per-member cache of final key data, keyed by `(registry, operator id, key index)`.
pub type KeyCache = HashMap<(Address, u64, u64), CachedKey>;

/// What the daemon read from the operator contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorsView {
    /// The registry as `compute` wants it.
    pub registry: RegistryState,
    /// Pubkeys pre-deposited but not confirmed yet: the beacon validators to look at whatever
    /// their withdrawal credentials (a foreign credential means the key was front-run). Keys
    /// already confirmed front-run are not here: `compute` credits their deposit without their
    /// validator.
    pub pending_pubkeys: HashSet<[u8; 48]>,
    /// `OperatorsModule.operatorRewards()` (zero: rewards roots are refused, none is computed).
    pub operator_rewards: Address,
}

fn rpc<E: std::error::Error + Send + Sync + 'static>(
    action: &'static str,
) -> impl FnOnce(E) -> DaemonError {
    move |e| DaemonError::Rpc { action, source: Box::new(e) }
}

fn pubkey48(action: &'static str, bytes: &[u8]) -> Result<[u8; 48], DaemonError> {
    <[u8; 48]>::try_from(bytes)
        .map_err(|_| DaemonError::OutOfRange { action, value: format!("{} bytes", bytes.len()) })
}

/// Maps the Solidity `OperatorType` enum value.
pub fn operator_type(value: u8) -> Result<OperatorType, DaemonError> {
    match value {
        0 => Ok(OperatorType::Professional),
        1 => Ok(OperatorType::Kyc),
        2 => Ok(OperatorType::Dvt),
        3 => Ok(OperatorType::Home),
        v => Err(DaemonError::OutOfRange { action: "operator type", value: v.to_string() }),
    }
}

/// Slot of a unix timestamp (the slot that contains it); 0 before genesis.
#[must_use]
pub fn slot_of(timestamp: u64, genesis_time: u64, seconds_per_slot: u64) -> u64 {
    timestamp.saturating_sub(genesis_time).checked_div(seconds_per_slot).unwrap_or(0)
}

/// The Allocator parameters of `pool` at `at`: `StakePool.depositModule()` (the DepositSecurity)
/// → `DepositSecurity.allocator()` → `params()`, mapped to the balancer's type and checked against
/// the same hard bounds as the contract's setters.
///
/// The deposit module must say it serves `pool` and `registry` (`pool()`, `registry()`): a module
/// wired to other contracts is refused rather than trusted for the exit rule.
pub async fn read_allocation(
    provider: &DynProvider,
    pool: Address,
    registry: Address,
    block: u64,
) -> Result<AllocationParams, DaemonError> {
    let at = BlockId::number(block);
    let module = StakePool::new(pool, provider.clone())
        .depositModule()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the pool's deposit module"))?;
    if module.is_zero() {
        return Err(DaemonError::Setup(
            "the pool has an operators module but no deposit module: no Allocator to take the exit rule from".into(),
        ));
    }
    let ds = DepositSecurity::new(module, provider.clone());
    let stored_pool =
        ds.pool().block(at).call().await.map_err(rpc("read the deposit module's pool"))?;
    let stored_registry =
        ds.registry().block(at).call().await.map_err(rpc("read the deposit module's registry"))?;
    let allocator = ds
        .allocator()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the deposit module's Allocator"))?;
    if stored_pool != pool || stored_registry != registry || allocator.is_zero() {
        return Err(DaemonError::Setup(format!(
            "DepositSecurity {module} serves pool {stored_pool} and registry {stored_registry} (Allocator {allocator}), not pool {pool} and registry {registry}: cannot take the exit rule from it"
        )));
    }
    let p = Allocator::new(allocator, provider.clone())
        .params()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the Allocator parameters"))?;
    let [professional, kyc, dvt, home] = p.targetBps;
    let params = AllocationParams {
        target_bps: TargetShares { professional, kyc, dvt, home },
        operator_cap_bps: p.operatorCapBps,
        operator_cap_absolute: p.operatorCapAbsolute,
        capacity_saturation: p.capacitySaturation,
        max_operators_per_type: p.maxOperatorsPerType,
    };
    params.validate().map_err(|e| DaemonError::OutOfRange {
        action: "Allocator parameters",
        value: e.to_string(),
    })?;
    Ok(params)
}

/// The pubkeys whose validators are scored (their attestation duties count, and so their
/// liveness is required), sorted: registry keys in state `Deposited`. Such a key was confirmed by
/// an earlier report that saw its validator with the pool's credentials, and 0x01 credentials
/// never change, so every member recording liveness after the last reference slot saw it as the
/// pool's. A validator that takes the pool's credentials later (a 0x00 validator's
/// BLS-to-execution change, a front-runner's) is never in this list: requiring its liveness would
/// ask members for epochs they had no reason to record, and no member could sign.
#[must_use]
pub fn scored_pubkeys(registry: &RegistryState) -> Vec<[u8; 48]> {
    let mut keys: Vec<[u8; 48]> = registry
        .operators
        .iter()
        .flat_map(|o| &o.keys)
        .filter(|k| k.state == KeyState::Deposited)
        .map(|k| k.pubkey)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Reads the registry behind `oracle`'s operators module at `block`. `Ok(None)`: the pool has no
/// operators module (then no operators report may be submitted).
pub async fn read_operators(
    provider: &DynProvider,
    oracle: Address,
    block: u64,
    genesis_time: u64,
    seconds_per_slot: u64,
    cache: &mut KeyCache,
) -> Result<Option<OperatorsView>, DaemonError> {
    let at = BlockId::number(block);
    let module = OracleReport::new(oracle, provider.clone())
        .operatorsModule()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module"))?;
    if module.is_zero() {
        return Ok(None);
    }
    let module = OperatorsModule::new(module, provider.clone());
    let contracts = module
        .contracts()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module's contracts"))?;
    let operator_rewards = module
        .operatorRewards()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module's OperatorRewards"))?;
    // the loss waterfall behind the bonds: the VfpPool (its share of funded operators' rewards,
    // which operators it funds and by how much) and the InsuranceFund (its shares)
    let bonds = BondManager::new(contracts.bonds, provider.clone());
    let layers = bonds
        .contracts()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the bond manager's contracts"))?;
    let vfp_addr = layers.vfpPool;
    let vfp = (!vfp_addr.is_zero()).then(|| VfpPool::new(vfp_addr, provider.clone()));
    let insurance_fund_shares = if layers.fund.is_zero() {
        U256::ZERO
    } else {
        InsuranceFund::new(layers.fund, provider.clone())
            .fundShares()
            .block(at)
            .call()
            .await
            .map_err(rpc("read the insurance fund's shares"))?
    };
    let vfp_share_bps = match &vfp {
        Some(v) => {
            v.params()
                .block(at)
                .call()
                .await
                .map_err(rpc("read the VfpPool parameters"))?
                .rewardShareBps
        }
        None => 0,
    };
    let factors = module
        .typeFactorsBps()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operator type factors"))?;
    let mut type_factor_bps = [0u16; 4];
    for (slot, f) in type_factor_bps.iter_mut().zip(factors.iter()) {
        *slot = u16::try_from(*f)
            .ok()
            .filter(|v| *v <= 10_000)
            .ok_or(DaemonError::OutOfRange { action: "type factor", value: f.to_string() })?;
    }
    let missed_exit_penalty_wei = module
        .missedExitPenalty()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the missed-exit penalty"))?;
    let registry_addr = contracts.registry;
    let pool = OracleReport::new(oracle, provider.clone())
        .pool()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the oracle's pool"))?;
    let allocation = read_allocation(provider, pool, registry_addr, block).await?;
    let registry = OperatorRegistry::new(registry_addr, provider.clone());
    let count =
        registry.operatorCount().block(at).call().await.map_err(rpc("read the operator count"))?;
    let count = u64::try_from(count).map_err(|_| DaemonError::OutOfRange {
        action: "operator count",
        value: count.to_string(),
    })?;
    let mut operators = Vec::new();
    let mut pending_pubkeys = HashSet::new();
    for id in 0..count {
        let info = registry
            .getOperator(U256::from(id))
            .block(at)
            .call()
            .await
            .map_err(rpc("read an operator"))?;
        let pre_deposited = u64::from(info.preDeposited);
        let confirmed = u64::from(info.confirmed);
        let top_up = u64::from(info.topUpCursor);
        // one getKeys call per run of at most MAX_KEYS_PER_READ keys that must be read: the
        // unconfirmed range every frame, uncached confirmed keys once, and every topped-up key
        // while the operator has pending exit requests (their deadlines)
        let pending_exits = info.pendingExitRequests > 0;
        let ranges = read_ranges(pre_deposited, confirmed, top_up, pending_exits, |i| {
            cache.contains_key(&(registry_addr, id, i))
        });
        let mut read: HashMap<u64, (CachedKey, u64)> = HashMap::new();
        for (start, n) in ranges {
            let batch = registry
                .getKeys(U256::from(id), U256::from(start), U256::from(n))
                .block(at)
                .call()
                .await
                .map_err(rpc("read a batch of keys"))?;
            let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
            if batch.statuses.len() != n_usize
                || batch.exitDeadlines.len() != n_usize
                || batch.pubkeys.len() != n_usize.saturating_mul(48)
            {
                return Err(DaemonError::OutOfRange {
                    action: "key batch length",
                    value: format!("{} keys asked, {} statuses", n, batch.statuses.len()),
                });
            }
            let rows = batch.pubkeys.chunks(48).zip(&batch.statuses).zip(&batch.exitDeadlines);
            for (index, ((pk, status), deadline)) in (start..).zip(rows) {
                let key = CachedKey {
                    pubkey: pubkey48("key pubkey", pk)?,
                    front_run: *status == KEY_STATUS_FRONT_RUN,
                };
                let deadline = u64::try_from(*deadline).map_err(|_| DaemonError::OutOfRange {
                    action: "exit deadline",
                    value: deadline.to_string(),
                })?;
                if index < confirmed {
                    cache.insert((registry_addr, id, index), key);
                }
                read.insert(index, (key, deadline));
            }
        }
        let mut keys = Vec::new();
        for index in 0..pre_deposited {
            let (key, deadline) = match read.get(&index) {
                Some(r) => *r,
                None => match cache.get(&(registry_addr, id, index)) {
                    Some(k) => (*k, 0),
                    None => {
                        return Err(DaemonError::OutOfRange {
                            action: "key read plan",
                            value: format!("operator {id} key {index} neither read nor cached"),
                        });
                    }
                },
            };
            let (state, wei) = if key.front_run {
                (KeyState::Invalid, U256::from(PRE_DEPOSIT_WEI))
            } else if index < top_up {
                (KeyState::Deposited, U256::from(FULL_DEPOSIT_WEI))
            } else if index < confirmed {
                // confirmed, waiting for its 31 ETH top-up
                (KeyState::Deposited, U256::from(PRE_DEPOSIT_WEI))
            } else {
                pending_pubkeys.insert(key.pubkey);
                (KeyState::PreDeposited, U256::from(PRE_DEPOSIT_WEI))
            };
            // the registry reports a deadline only for topped-up keys with a pending request
            let exit_deadline_slot = (pending_exits && index < top_up && deadline != 0)
                .then(|| slot_of(deadline, genesis_time, seconds_per_slot));
            keys.push(KeyInput {
                index,
                pubkey: key.pubkey,
                state,
                pool_deposited_wei: wei,
                exit_deadline_slot,
            });
        }
        let kind = operator_type(info.operatorType)?;
        // only Home and Dvt operators can be funded (VfpPool.fundOperator)
        let vfp_backing_shares = match &vfp {
            Some(v) if matches!(kind, OperatorType::Home | OperatorType::Dvt) => v
                .allocatedShares(U256::from(id))
                .block(at)
                .call()
                .await
                .map_err(rpc("read an operator's VFP backing"))?,
            _ => U256::ZERO,
        };
        let bond_shares = bonds
            .bondShares(U256::from(id))
            .block(at)
            .call()
            .await
            .map_err(rpc("read an operator's bond shares"))?;
        // exits whose bond is still locked get an exited entry (the module settles on one);
        // settledExits <= exited, so nothing to read while nothing exited
        let exited = u64::from(info.exited);
        let settled_exits = if exited == 0 {
            0
        } else {
            let settled = bonds
                .settledExits(U256::from(id))
                .block(at)
                .call()
                .await
                .map_err(rpc("read an operator's settled exits"))?;
            u64::try_from(settled).map_err(|_| DaemonError::OutOfRange {
                action: "settled exits",
                value: settled.to_string(),
            })?
        };
        operators.push(OperatorInput {
            id,
            operator_type: kind,
            reward_address: info.rewardAddress,
            is_active: !info.stopped,
            vfp_funded: !vfp_backing_shares.is_zero(),
            score: info.score,
            exited_total: exited,
            stuck_total: u64::from(info.stuck),
            settled_exits,
            bond_shares,
            vfp_backing_shares,
            keys,
        });
    }
    Ok(Some(OperatorsView {
        registry: RegistryState {
            operators,
            type_factor_bps,
            vfp_pool: vfp_addr,
            vfp_share_bps,
            missed_exit_penalty_wei,
            insurance_fund_shares,
            allocation,
        },
        pending_pubkeys,
        operator_rewards,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_type_maps_the_solidity_enum_and_refuses_unknown_values() {
        assert_eq!(operator_type(0).unwrap(), OperatorType::Professional);
        assert_eq!(operator_type(1).unwrap(), OperatorType::Kyc);
        assert_eq!(operator_type(2).unwrap(), OperatorType::Dvt);
        assert_eq!(operator_type(3).unwrap(), OperatorType::Home);
        assert!(matches!(operator_type(4), Err(DaemonError::OutOfRange { .. })));
    }

    #[test]
    fn slot_of_floors_and_clamps_before_genesis() {
        assert_eq!(slot_of(1_000, 1_000, 12), 0);
        assert_eq!(slot_of(1_011, 1_000, 12), 0);
        assert_eq!(slot_of(1_012, 1_000, 12), 1);
        assert_eq!(slot_of(999, 1_000, 12), 0);
        assert_eq!(slot_of(5_000, 1_000, 0), 0);
    }

    #[test]
    fn key_reads_cover_what_can_change_and_batch_by_500() {
        // cold cache: everything pre-deposited, in runs of at most 500
        assert_eq!(
            read_ranges(1_200, 1_000, 900, false, |_| false),
            vec![(0, 500), (500, 500), (1_000, 200)]
        );
        // warm cache, no exits: only the unconfirmed range
        assert_eq!(read_ranges(1_200, 1_000, 900, false, |_| true), vec![(1_000, 200)]);
        // a cache hole is read once
        assert_eq!(read_ranges(20, 10, 10, false, |i| i != 3), vec![(3, 1), (10, 10)]);
        // pending exits: every topped-up key again (deadlines), the confirmed-not-topped-up
        // ones from the cache
        assert_eq!(read_ranges(20, 12, 8, true, |_| true), vec![(0, 8), (12, 8)]);
        assert!(read_ranges(0, 0, 0, true, |_| false).is_empty());
    }

    /// Only `Deposited` keys are scored: a front-run key (even if its validator later takes the
    /// pool's credentials), a pre-deposited one and a validator outside the registry (a 0x00
    /// validator changed to the vault) need no liveness.
    #[test]
    fn only_confirmed_pool_keys_are_scored() {
        let key = |index: u64, byte: u8, state: KeyState| KeyInput {
            index,
            pubkey: [byte; 48],
            state,
            pool_deposited_wei: U256::ZERO,
            exit_deadline_slot: None,
        };
        let op = |id: u64, keys: Vec<KeyInput>| OperatorInput {
            id,
            operator_type: OperatorType::Home,
            reward_address: Address::ZERO,
            is_active: true,
            vfp_funded: false,
            score: 0,
            exited_total: 0,
            stuck_total: 0,
            settled_exits: 0,
            bond_shares: U256::ZERO,
            vfp_backing_shares: U256::ZERO,
            keys,
        };
        let registry = RegistryState {
            operators: vec![
                op(
                    0,
                    vec![
                        key(0, 9, KeyState::Deposited),
                        key(1, 2, KeyState::Invalid),
                        key(2, 3, KeyState::PreDeposited),
                    ],
                ),
                op(1, vec![key(0, 1, KeyState::Deposited), key(1, 4, KeyState::Unused)]),
            ],
            type_factor_bps: [10_000; 4],
            vfp_pool: Address::ZERO,
            vfp_share_bps: 0,
            missed_exit_penalty_wei: U256::ZERO,
            insurance_fund_shares: U256::ZERO,
            allocation: AllocationParams::public_pool(),
        };
        let scored = scored_pubkeys(&registry);
        assert_eq!(scored, vec![[1u8; 48], [9u8; 48]]);
        for outside in [[2u8; 48], [3u8; 48], [4u8; 48], [0x66u8; 48]] {
            assert!(scored.binary_search(&outside).is_err());
        }
    }

    #[test]
    fn pubkey48_needs_exactly_48_bytes() {
        assert_eq!(pubkey48("k", &[7u8; 48]).unwrap(), [7u8; 48]);
        assert!(pubkey48("k", &[7u8; 47]).is_err());
    }
}
