//! The one line printed per reported frame: reference slot, csETH rate, APR since the previous
//! frame, validators by operator type, withdrawal queue and buffer, the VfpPool's assets (when it
//! holds any) — and, when they happen since the previous line, exit requests, voluntary exits the
//! operators' agents submitted, exits forced through EIP-7002, penalties and the VfpPool's rewards
//! bookings.

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use claystack_bindings::{
    exit_enforcer::ExitEnforcer, operator_registry::OperatorRegistry,
    operators_module::OperatorsModule, oracle_report::OracleReport, stake_pool::StakePool,
    vfp_pool::VfpPool, withdrawal_queue::WithdrawalQueue,
};

use crate::DevnetError;

/// `RATE_PRECISION` of the pool (1e27).
const RATE_PRECISION: u128 = 1_000_000_000_000_000_000_000_000_000;

/// Seconds in a (365-day) year.
const YEAR: u64 = 365 * 24 * 3600;

/// Validators of one type: pre-deposited (1 ETH), confirmed, topped up (32 ETH), exited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Keys with a 1 ETH pre-deposit.
    pub pre_deposited: u64,
    /// Pre-deposits confirmed by a report.
    pub confirmed: u64,
    /// Keys topped up to 32 ETH.
    pub deposited: u64,
    /// Exited.
    pub exited: u64,
}

/// The contracts of one pool the status reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolContracts {
    /// `OracleReport`.
    pub oracle: Address,
    /// `StakePool`.
    pub pool: Address,
    /// `WithdrawalQueue`.
    pub queue: Address,
    /// `OperatorRegistry`.
    pub registry: Address,
    /// `OperatorsModule` (penalties), when deployed.
    pub module: Option<Address>,
    /// `ExitEnforcer` (forced exits), when deployed.
    pub enforcer: Option<Address>,
    /// `VfpPool` (assets and rewards bookings), when deployed.
    pub vfp_pool: Option<Address>,
}

/// What happened between two frame lines (shown only when non-zero).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameEvents {
    /// `ExitRequested` events (oracle reports asking operators to exit validators).
    pub exit_requests: u64,
    /// Voluntary exits the operators' agents submitted to the beacon node.
    pub voluntary_exits: u64,
    /// `ExitEnforced` events (EIP-7002 exits after a missed deadline).
    pub forced_exits: u64,
    /// `PenaltyApplied` events.
    pub penalties: u64,
    /// Their total amount, wei.
    pub penalties_wei: U256,
    /// `VfpPool.RewardsReceived` events (the pool's rewards leaf booked, by an oracle member).
    pub vfp_bookings: u64,
    /// The csETH shares they booked.
    pub vfp_rewards_shares: U256,
}

/// What one frame line shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameStatus {
    /// The block the status was read at.
    pub block: u64,
    /// Events since the previous line (empty for the first).
    pub events: FrameEvents,
    /// The oracle's last reported reference slot.
    pub ref_slot: u64,
    /// ETH per csETH, 1e27.
    pub share_rate: U256,
    /// Total pooled ETH, wei.
    pub total_pooled: U256,
    /// Buffered ETH, wei.
    pub buffered: U256,
    /// Unfinalized withdrawal requests.
    pub queue_length: U256,
    /// The VfpPool's `totalAssets`, csETH shares (0 without a VfpPool).
    pub vfp_assets: U256,
    /// Per type: Professional, Kyc, Dvt, Home.
    pub by_type: [TypeCounts; 4],
}

/// Reads the status of a pool; with `since`, also the events in blocks `(since, now]`.
pub async fn read(
    provider: &DynProvider,
    c: &PoolContracts,
    since: Option<u64>,
) -> Result<FrameStatus, DevnetError> {
    let e = |action: &'static str| {
        move |e: alloy::contract::Error| DevnetError::Chain { action, detail: e.to_string() }
    };
    let block = provider.get_block_number().await.map_err(|err| DevnetError::Chain {
        action: "read the block number",
        detail: err.to_string(),
    })?;
    let at = alloy::eips::BlockId::number(block);
    let o = OracleReport::new(c.oracle, provider.clone());
    let p = StakePool::new(c.pool, provider.clone());
    let q = WithdrawalQueue::new(c.queue, provider.clone());
    let r = OperatorRegistry::new(c.registry, provider.clone());
    let ref_slot = o.lastRefSlot().block(at).call().await.map_err(e("read the last ref slot"))?;
    let last = q.lastRequestId().block(at).call().await.map_err(e("read the last request id"))?;
    let fin = q
        .lastFinalizedRequestId()
        .block(at)
        .call()
        .await
        .map_err(e("read the last finalized id"))?;
    let mut status = FrameStatus {
        block,
        events: match since {
            Some(from) if from < block => {
                events(provider, c, from.saturating_add(1), block).await?
            }
            _ => FrameEvents::default(),
        },
        ref_slot: u64::try_from(ref_slot).unwrap_or(u64::MAX),
        share_rate: p.shareRate().block(at).call().await.map_err(e("read the share rate"))?,
        total_pooled: p
            .totalPooledEther()
            .block(at)
            .call()
            .await
            .map_err(e("read pooled ether"))?,
        buffered: p.bufferedEther().block(at).call().await.map_err(e("read buffered ether"))?,
        queue_length: last.saturating_sub(fin),
        vfp_assets: U256::ZERO,
        by_type: [TypeCounts::default(); 4],
    };
    if let Some(vfp) = c.vfp_pool {
        status.vfp_assets = VfpPool::new(vfp, provider.clone())
            .totalAssets()
            .block(at)
            .call()
            .await
            .map_err(e("read the VfpPool's assets"))?;
    }
    let count = r.operatorCount().block(at).call().await.map_err(e("read the operator count"))?;
    let count = u64::try_from(count).unwrap_or(0).min(1_000);
    for id in 0..count {
        let op =
            r.getOperator(U256::from(id)).block(at).call().await.map_err(e("read an operator"))?;
        let Some(t) = status.by_type.get_mut(usize::from(op.operatorType)) else { continue };
        t.pre_deposited = t.pre_deposited.saturating_add(u64::from(op.preDeposited));
        t.confirmed = t.confirmed.saturating_add(u64::from(op.confirmed));
        t.deposited = t.deposited.saturating_add(u64::from(op.deposited));
        t.exited = t.exited.saturating_add(u64::from(op.exited));
    }
    Ok(status)
}

/// The events of blocks `from..=to`.
async fn events(
    provider: &DynProvider,
    c: &PoolContracts,
    from: u64,
    to: u64,
) -> Result<FrameEvents, DevnetError> {
    let logs = |address: Address, topic: alloy::primitives::B256| {
        let filter =
            Filter::new().address(address).event_signature(topic).from_block(from).to_block(to);
        async move {
            provider.get_logs(&filter).await.map_err(|e| DevnetError::Chain {
                action: "read the frame's events",
                detail: e.to_string(),
            })
        }
    };
    let count = |v: &Vec<alloy::rpc::types::Log>| u64::try_from(v.len()).unwrap_or(u64::MAX);
    let mut ev = FrameEvents {
        exit_requests: count(
            &logs(c.registry, OperatorRegistry::ExitRequested::SIGNATURE_HASH).await?,
        ),
        ..FrameEvents::default()
    };
    if let Some(enforcer) = c.enforcer {
        ev.forced_exits = count(&logs(enforcer, ExitEnforcer::ExitEnforced::SIGNATURE_HASH).await?);
    }
    if let Some(vfp) = c.vfp_pool {
        for log in logs(vfp, VfpPool::RewardsReceived::SIGNATURE_HASH).await? {
            if let Ok(r) = log.log_decode::<VfpPool::RewardsReceived>() {
                ev.vfp_bookings = ev.vfp_bookings.saturating_add(1);
                ev.vfp_rewards_shares = ev.vfp_rewards_shares.saturating_add(r.inner.data.csShares);
            }
        }
    }
    if let Some(module) = c.module {
        for log in logs(module, OperatorsModule::PenaltyApplied::SIGNATURE_HASH).await? {
            if let Ok(p) = log.log_decode::<OperatorsModule::PenaltyApplied>() {
                ev.penalties = ev.penalties.saturating_add(1);
                ev.penalties_wei = ev.penalties_wei.saturating_add(p.inner.data.amountWei);
            }
        }
    }
    Ok(ev)
}

/// Annualised rate change between two reports `seconds` apart, percent (0 when undefined).
#[must_use]
pub fn apr_percent(previous: U256, current: U256, seconds: u64) -> f64 {
    if previous.is_zero() || seconds == 0 {
        return 0.0;
    }
    let (p, c) = (u256_f64(previous), u256_f64(current));
    (c / p - 1.0) * (YEAR as f64 / seconds as f64) * 100.0
}

fn u256_f64(v: U256) -> f64 {
    v.to_string().parse().unwrap_or(0.0)
}

fn eth(v: U256) -> String {
    format!("{:.4}", u256_f64(v) / 1e18)
}

/// To the gwei, so that the VfpPool's assets visibly grow frame by frame on a devnet.
fn eth_gwei(v: U256) -> String {
    format!("{:.9}", u256_f64(v) / 1e18)
}

impl FrameStatus {
    /// The frame line (`label` names the pool).
    #[must_use]
    pub fn line(&self, label: &str, apr: f64) -> String {
        let names = ["professional", "kyc", "dvt", "home"];
        let types: Vec<String> = names
            .iter()
            .zip(self.by_type.iter())
            .filter(|(_, t)| **t != TypeCounts::default())
            .map(|(n, t)| {
                format!("{n} {}/{}/{}/{}", t.pre_deposited, t.confirmed, t.deposited, t.exited)
            })
            .collect();
        let ev = &self.events;
        let mut extra = String::new();
        for (name, n) in [
            ("exit_requests", ev.exit_requests),
            ("voluntary_exits", ev.voluntary_exits),
            ("forced_exits", ev.forced_exits),
        ] {
            if n > 0 {
                extra.push_str(&format!(" {name}={n}"));
            }
        }
        if ev.penalties > 0 {
            extra.push_str(&format!(" penalties={} ({} ETH)", ev.penalties, eth(ev.penalties_wei)));
        }
        if ev.vfp_bookings > 0 {
            // a few gwei per frame on a devnet: scientific notation keeps the digits
            extra.push_str(&format!(
                " vfp_rewards={} (+{:.3e} csETH)",
                ev.vfp_bookings,
                u256_f64(ev.vfp_rewards_shares) / 1e18
            ));
        }
        let vfp = if self.vfp_assets.is_zero() {
            String::new()
        } else {
            format!(" vfp={} csETH", eth_gwei(self.vfp_assets))
        };
        format!(
            "frame [{label}] ref_slot={} rate={:.9} apr={apr:.2}% pooled={} ETH buffer={} ETH queue={}{vfp} validators(pre/confirmed/deposited/exited): {}{extra}",
            self.ref_slot,
            u256_f64(self.share_rate) / RATE_PRECISION as f64,
            eth(self.total_pooled),
            eth(self.buffered),
            self.queue_length,
            if types.is_empty() { "none".to_owned() } else { types.join(", ") },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apr_annualises_the_rate_change() {
        let p = U256::from(RATE_PRECISION);
        let c = p + p / U256::from(10_000u64); // +0.01 % over one day
        let apr = apr_percent(p, c, 24 * 3600);
        assert!((apr - 3.65).abs() < 1e-6, "{apr}");
        assert!(apr_percent(U256::ZERO, c, 60).abs() < f64::EPSILON);
        assert!(apr_percent(p, c, 0).abs() < f64::EPSILON);
    }

    #[test]
    fn the_line_names_every_field() {
        let mut s = FrameStatus {
            ref_slot: 119,
            share_rate: U256::from(RATE_PRECISION),
            total_pooled: U256::from(2_000_000_000_000_000_000u128),
            ..FrameStatus::default()
        };
        s.by_type[3].pre_deposited = 2;
        let line = s.line("csETH", 1.5);
        for want in
            ["ref_slot=119", "rate=1.000000000", "apr=1.50%", "pooled=2.0000 ETH", "home 2/0/0/0"]
        {
            assert!(line.contains(want), "{want} not in {line}");
        }
        // events show only when they happened, the VfpPool only when it holds assets
        for quiet in ["exit_requests", "voluntary_exits", "forced_exits", "penalties", "vfp"] {
            assert!(!line.contains(quiet), "{quiet} in {line}");
        }
        s.events = FrameEvents {
            exit_requests: 2,
            voluntary_exits: 1,
            forced_exits: 1,
            penalties: 1,
            penalties_wei: U256::from(100_000_000_000_000_000u128),
            vfp_bookings: 1,
            vfp_rewards_shares: U256::from(4_812_000_000u128),
        };
        s.vfp_assets = U256::from(10_000_000_012_000_000_000u128);
        let line = s.line("csETH", 1.5);
        for want in [
            "exit_requests=2",
            "voluntary_exits=1",
            "forced_exits=1",
            "penalties=1 (0.1000 ETH)",
            "queue=0 vfp=10.000000012 csETH validators(",
            "vfp_rewards=1 (+4.812e-9 csETH)",
        ] {
            assert!(line.contains(want), "{want} not in {line}");
        }
    }
}
