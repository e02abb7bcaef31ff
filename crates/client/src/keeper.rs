//! The permissionless keeper: each run observes the chain, plans, and sends only transactions
//! whose gas estimate succeeds (so never one that would revert). It keeps no state between
//! runs, so any number of keepers may run at once: a second one's estimate simply fails or
//! finds nothing to do.
//!
//! Duties, nothing else: `depositBuffered(maxKeys)` on the pool's deposit module when the pool
//! holds at least 1 ETH of depositable buffer and operators have depositable keys; forcing
//! overdue exits through EIP-7002 once an exit enforcer is deployed.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use claystack_bindings::{
    deposit_security::DepositSecurity, exit_enforcer::ExitEnforcer,
    operator_registry::OperatorRegistry, stake_pool::StakePool,
};
use claystack_consensus::Wei;

use crate::{
    amount::{WEI_PER_ETH, format_eth},
    error::{CallContext as _, ClientError},
    metrics::KeeperMetrics,
};

/// Most keys `depositBuffered` accepts per call (the contract's bound).
pub const MAX_KEYS_PER_CALL: u64 = 50;

/// Least depositable buffer worth a deposit round.
pub const MIN_DEPOSITABLE: Wei = Wei(WEI_PER_ETH);

/// Keeper settings.
#[derive(Debug, Clone)]
pub struct KeeperConfig {
    /// Most keys one `depositBuffered` call may use.
    pub max_keys: u64,
    /// Highest gas price (wei) at which the keeper sends; `None`: no cap.
    pub max_gas_price: Option<u128>,
    /// Most operators read per run (bounds the work on a large registry).
    pub max_operators: u64,
    /// First block scanned for exit requests.
    pub from_block: u64,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        Self { max_keys: 16, max_gas_price: None, max_operators: 1_000, from_block: 0 }
    }
}

/// An exit request past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OverdueExit {
    /// The operator.
    pub operator_id: u64,
    /// Its key.
    pub key_index: u64,
    /// The deadline that passed (unix seconds).
    pub deadline: u64,
}

/// What one run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Buffer not owed to the withdrawal queue.
    pub depositable: Wei,
    /// The pool's deposit module (`None`: not set).
    pub deposit_module: Option<Address>,
    /// Keys ready for a deposit, summed over operators.
    pub depositable_keys: u64,
    /// Current gas price (wei).
    pub gas_price: u128,
    /// Exit requests past their deadline.
    pub overdue_exits: Vec<OverdueExit>,
    /// The exit enforcer (`None`: not deployed).
    pub exit_enforcer: Option<Address>,
}

/// Something the keeper will try (after a successful gas estimate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `depositBuffered(max_keys)` on the deposit module.
    Deposit {
        /// The module.
        module: Address,
        /// Keys to use at most.
        max_keys: u64,
    },
    /// `enforceExit(operator_id, key_index)` paying the EIP-7002 fee.
    EnforceExit {
        /// The enforcer.
        enforcer: Address,
        /// The request.
        exit: OverdueExit,
    },
}

/// A plan and why other duties were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Actions to attempt, in order.
    pub actions: Vec<Action>,
    /// Why nothing (or less) was done, for the log.
    pub notes: Vec<String>,
}

/// Decides what to do from an observation (pure; the I/O is in [`Keeper`]).
#[must_use]
pub fn plan(cfg: &KeeperConfig, obs: &Observation) -> Plan {
    let mut p = Plan::default();
    if let Some(cap) = cfg.max_gas_price
        && obs.gas_price > cap
    {
        p.notes
            .push(format!("gas price {} wei above the cap of {cap} wei: waiting", obs.gas_price));
        return p;
    }
    match (obs.deposit_module, obs.depositable >= MIN_DEPOSITABLE, obs.depositable_keys) {
        (None, _, _) => p.notes.push("no deposit module set on the pool".into()),
        (Some(_), false, _) => p.notes.push(format!(
            "depositable buffer {} is below {}",
            format_eth(obs.depositable),
            format_eth(MIN_DEPOSITABLE)
        )),
        (Some(_), true, 0) => p.notes.push("no depositable keys".into()),
        (Some(module), true, keys) => {
            let max_keys = keys.min(cfg.max_keys).clamp(1, MAX_KEYS_PER_CALL);
            p.actions.push(Action::Deposit { module, max_keys });
        }
    }
    if !obs.overdue_exits.is_empty() {
        match obs.exit_enforcer {
            Some(enforcer) => p.actions.extend(
                obs.overdue_exits.iter().map(|&exit| Action::EnforceExit { enforcer, exit }),
            ),
            None => p.notes.push(format!(
                "{} overdue exit request(s), but no exit enforcer is deployed",
                obs.overdue_exits.len()
            )),
        }
    }
    p
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// What was observed.
    pub observation: Observation,
    /// Transactions mined, described.
    pub done: Vec<String>,
    /// Skipped duties and refused estimates.
    pub notes: Vec<String>,
}

/// Why a keeper action could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// A chain read or transaction failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The simulation says the call would change nothing: not sent.
    #[error("{0}: nothing to do (simulated), not sent")]
    Nothing(&'static str),
}

/// The keeper's chain access.
#[derive(Debug, Clone)]
pub struct Keeper {
    provider: DynProvider,
    pool: Address,
    registry: Option<Address>,
    exit_enforcer: Option<Address>,
    cfg: KeeperConfig,
    metrics: Arc<KeeperMetrics>,
}

impl Keeper {
    /// A keeper for `pool`, reading keys and exit requests from `registry` when deployed.
    #[must_use]
    pub fn new(
        provider: DynProvider,
        pool: Address,
        registry: Option<Address>,
        exit_enforcer: Option<Address>,
        cfg: KeeperConfig,
        metrics: Arc<KeeperMetrics>,
    ) -> Self {
        Self { provider, pool, registry, exit_enforcer, cfg, metrics }
    }

    /// Reads what the plan needs.
    pub async fn observe(&self) -> Result<Observation, ClientError> {
        let pool = StakePool::new(self.pool, self.provider.clone());
        let depositable = crate::staker::wei(
            "depositable ether",
            pool.depositableEther().call().await.action("read depositable ether")?,
        )?;
        let module = pool.depositModule().call().await.action("read deposit module")?;
        let gas_price = self.provider.get_gas_price().await.map_err(|e| ClientError::Rpc {
            action: "read gas price",
            source: Box::new(alloy::contract::Error::TransportError(e)),
        })?;
        let (depositable_keys, overdue_exits) = match self.registry {
            Some(r) => (self.depositable_keys(r).await?, self.overdue_exits(r).await?),
            None => (0, Vec::new()),
        };
        Ok(Observation {
            depositable,
            deposit_module: (module != Address::ZERO).then_some(module),
            depositable_keys,
            gas_price,
            overdue_exits,
            exit_enforcer: self.exit_enforcer,
        })
    }

    async fn depositable_keys(&self, registry: Address) -> Result<u64, ClientError> {
        let reg = OperatorRegistry::new(registry, self.provider.clone());
        let count = reg.operatorCount().call().await.action("read operator count")?;
        let count = u64::try_from(count).unwrap_or(u64::MAX).min(self.cfg.max_operators);
        let mut total: u64 = 0;
        for id in 0..count {
            let keys =
                reg.depositableKeys(U256::from(id)).call().await.action("read depositable keys")?;
            total = total.saturating_add(u64::try_from(keys).unwrap_or(u64::MAX));
            // confirmed pre-deposits waiting for their 31 ETH top-up count as work too
            let op = reg.getOperator(U256::from(id)).call().await.action("read operator")?;
            total = total.saturating_add(u64::from(op.confirmed.saturating_sub(op.topUpCursor)));
        }
        Ok(total)
    }

    /// Exit requests (from `ExitRequested` logs) still pending and past their deadline.
    async fn overdue_exits(&self, registry: Address) -> Result<Vec<OverdueExit>, ClientError> {
        let rpc = |action: &'static str| {
            move |e| ClientError::Rpc {
                action,
                source: Box::new(alloy::contract::Error::TransportError(e)),
            }
        };
        let filter = Filter::new()
            .address(registry)
            .event_signature(OperatorRegistry::ExitRequested::SIGNATURE_HASH)
            .from_block(self.cfg.from_block);
        let logs = self.provider.get_logs(&filter).await.map_err(rpc("read exit requests"))?;
        let mut keys = BTreeSet::new();
        for log in &logs {
            if let Ok(ev) = log.log_decode::<OperatorRegistry::ExitRequested>() {
                let d = ev.inner.data;
                keys.insert((d.operatorId, d.keyIndex));
            }
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let now = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(rpc("read latest block"))?
            .map_or(0, |b| b.header.timestamp);
        let reg = OperatorRegistry::new(registry, self.provider.clone());
        let mut out = Vec::new();
        for (op, key) in keys {
            let deadline =
                reg.exitRequestDeadline(op, key).call().await.action("read exit deadline")?;
            let deadline = u64::try_from(deadline).unwrap_or(u64::MAX);
            if deadline != 0 && deadline < now && !self.already_enforced(op, key, deadline).await? {
                out.push(OverdueExit {
                    operator_id: u64::try_from(op).unwrap_or(u64::MAX),
                    key_index: u64::try_from(key).unwrap_or(u64::MAX),
                    deadline,
                });
            }
        }
        Ok(out)
    }

    /// Whether the exit request due at `deadline` was already forced (no enforcer: never).
    async fn already_enforced(
        &self,
        op: U256,
        key: U256,
        deadline: u64,
    ) -> Result<bool, ClientError> {
        let Some(enforcer) = self.exit_enforcer else { return Ok(false) };
        let ee = ExitEnforcer::new(enforcer, self.provider.clone());
        let done = ee.enforcedDeadline(op, key).call().await.action("read enforced deadline")?;
        Ok(done >= U256::from(deadline))
    }

    /// One run: observe, plan, act. Failures are counted and reported, never fatal.
    pub async fn run_once(&self) -> RunReport {
        let mut report = RunReport::default();
        let obs = match self.observe().await {
            Ok(o) => o,
            Err(e) => {
                KeeperMetrics::inc(&self.metrics.errors_total);
                report.notes.push(format!("observe: {e}"));
                return report;
            }
        };
        let p = plan(&self.cfg, &obs);
        report.notes.extend(p.notes);
        for action in p.actions {
            match self.act(action).await {
                Ok(line) => report.done.push(line),
                // a simulation that changes nothing is not a failure
                Err(e @ KeeperError::Nothing(_)) => report.notes.push(e.to_string()),
                Err(e) => {
                    KeeperMetrics::inc(&self.metrics.errors_total);
                    report.notes.push(e.to_string());
                }
            }
        }
        report.observation = obs;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.metrics.last_run_timestamp_seconds.store(now, std::sync::atomic::Ordering::Relaxed);
        report
    }

    /// Simulates, estimates gas (a call that would revert fails here, unsent), then sends.
    async fn act(&self, action: Action) -> Result<String, KeeperError> {
        match action {
            Action::Deposit { module, max_keys } => {
                const ACTION: &str = "depositBuffered";
                let ds = DepositSecurity::new(module, self.provider.clone());
                let call = ds.depositBuffered(U256::from(max_keys));
                let sim = call.call().await.action(ACTION)?;
                if sim.toppedUp.is_zero() && sim.preDeposited.is_zero() {
                    return Err(KeeperError::Nothing(ACTION));
                }
                let gas = call.estimate_gas().await.action(ACTION)?;
                let pending = call.gas(gas.saturating_add(gas / 5)).send().await.action(ACTION)?;
                let tx = crate::tx::wait(ACTION, pending, &crate::tx::quiet).await?;
                KeeperMetrics::inc(&self.metrics.deposits_total);
                Ok(format!(
                    "depositBuffered({max_keys}): {} topped up, {} pre-deposited, tx {} in block {}",
                    sim.toppedUp, sim.preDeposited, tx.hash, tx.block
                ))
            }
            Action::EnforceExit { enforcer, exit } => {
                const ACTION: &str = "enforceExit";
                let ee = ExitEnforcer::new(enforcer, self.provider.clone());
                let fee = ee.exitFee().call().await.action("read EIP-7002 fee")?;
                let call = ee
                    .enforceExit(U256::from(exit.operator_id), U256::from(exit.key_index))
                    .value(fee);
                let gas = call.estimate_gas().await.action(ACTION)?;
                let pending = call.gas(gas.saturating_add(gas / 5)).send().await.action(ACTION)?;
                let tx = crate::tx::wait(ACTION, pending, &crate::tx::quiet).await?;
                KeeperMetrics::inc(&self.metrics.exits_triggered_total);
                Ok(format!(
                    "enforceExit(operator {}, key {}) past deadline {}: fee {} wei, tx {} in block {}",
                    exit.operator_id, exit.key_index, exit.deadline, fee, tx.hash, tx.block
                ))
            }
        }
    }

    /// Runs until `shutdown` resolves, one run per `poll`, calling `on_run` after each.
    pub async fn run(
        &self,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
        mut on_run: impl FnMut(&RunReport),
    ) {
        tokio::pin!(shutdown);
        loop {
            let report = tokio::select! {
                r = self.run_once() => r,
                () = &mut shutdown => return,
            };
            on_run(&report);
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = &mut shutdown => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Address {
        Address::repeat_byte(0x11)
    }

    fn ready() -> Observation {
        Observation {
            depositable: Wei(40 * WEI_PER_ETH),
            deposit_module: Some(module()),
            depositable_keys: 100,
            gas_price: 1_000_000_000,
            overdue_exits: Vec::new(),
            exit_enforcer: None,
        }
    }

    #[test]
    fn deposits_when_buffer_and_keys_exist() {
        let p = plan(&KeeperConfig::default(), &ready());
        assert_eq!(p.actions, vec![Action::Deposit { module: module(), max_keys: 16 }]);
        let few = Observation { depositable_keys: 3, ..ready() };
        assert_eq!(
            plan(&KeeperConfig::default(), &few).actions,
            vec![Action::Deposit { module: module(), max_keys: 3 }]
        );
    }

    #[test]
    fn does_nothing_otherwise() {
        let cfg = KeeperConfig::default();
        for (obs, why) in [
            (Observation { depositable_keys: 0, ..ready() }, "no depositable keys"),
            (Observation { depositable: Wei(WEI_PER_ETH - 1), ..ready() }, "below 1 ETH"),
            (Observation { deposit_module: None, ..ready() }, "no deposit module"),
        ] {
            let p = plan(&cfg, &obs);
            assert!(p.actions.is_empty(), "{p:?}");
            assert!(p.notes.iter().any(|n| n.contains(why)), "{p:?} lacks {why}");
        }
        // exactly 1 ETH is enough
        let p = plan(&cfg, &Observation { depositable: MIN_DEPOSITABLE, ..ready() });
        assert_eq!(p.actions.len(), 1);
    }

    #[test]
    fn gas_cap_holds_everything_back() {
        let cfg = KeeperConfig { max_gas_price: Some(999_999_999), ..KeeperConfig::default() };
        let exit = OverdueExit { operator_id: 1, key_index: 2, deadline: 3 };
        let obs = Observation {
            overdue_exits: vec![exit],
            exit_enforcer: Some(Address::repeat_byte(2)),
            ..ready()
        };
        let p = plan(&cfg, &obs);
        assert!(p.actions.is_empty());
        assert!(p.notes[0].contains("above the cap"));
        let cfg = KeeperConfig { max_gas_price: Some(1_000_000_000), ..cfg };
        assert_eq!(plan(&cfg, &obs).actions.len(), 2);
    }

    #[test]
    fn overdue_exits_need_an_enforcer() {
        let exit = OverdueExit { operator_id: 1, key_index: 2, deadline: 3 };
        let obs = Observation { overdue_exits: vec![exit], depositable_keys: 0, ..ready() };
        let p = plan(&KeeperConfig::default(), &obs);
        assert!(p.actions.is_empty());
        assert!(p.notes.iter().any(|n| n.contains("no exit enforcer")));
        let enforcer = Address::repeat_byte(2);
        let p =
            plan(&KeeperConfig::default(), &Observation { exit_enforcer: Some(enforcer), ..obs });
        assert_eq!(p.actions, vec![Action::EnforceExit { enforcer, exit }]);
    }
}
