//! The follower: polls a JSON-RPC node, indexes block ranges with batched `eth_getLogs` over an
//! adaptive range (halved on error or on too many results, doubled on success), and detects reorgs
//! by re-reading the hash of its cursor block before every range.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use claystack_bindings::oracle_report::OracleReport;

use crate::{
    metrics::IndexerMetrics,
    store::{Batch, IndexedLog, Store, StoreError},
};

/// A follower failure.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The RPC URL is not a URL.
    #[error("parse rpc url {0}")]
    Url(String),
    /// A JSON-RPC call failed.
    #[error("rpc {call}: {message}")]
    Rpc {
        /// The call.
        call: &'static str,
        /// The error.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's lock was poisoned by a panic elsewhere.
    #[error("store lock poisoned")]
    Poisoned,
    /// A blocking store task was cancelled.
    #[error("store task: {0}")]
    Join(String),
}

/// Tunables of the follower.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// First block to index when the store is empty.
    pub start_block: u64,
    /// Initial `eth_getLogs` range.
    pub initial_range: u64,
    /// Largest `eth_getLogs` range.
    pub max_range: u64,
    /// A range returning more logs than this is halved and retried (bounds memory).
    pub max_logs_per_range: usize,
    /// How many stored block hashes the fork-point search looks back through.
    pub reorg_window: u64,
    /// Sleep between polls once at the head.
    pub poll_interval: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        Self {
            start_block: 0,
            initial_range: 1_000,
            max_range: 50_000,
            max_logs_per_range: 20_000,
            reorg_window: 1_024,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one [`Follower::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Indexed blocks up to this one.
    Indexed(u64),
    /// Rolled back to this fork point.
    RolledBack(u64),
    /// Already at the head.
    AtHead,
    /// A range failed and was shrunk; try again.
    Retry,
}

/// Follows one chain into one store.
#[derive(Debug)]
pub struct Follower {
    provider: DynProvider,
    store: Arc<Mutex<Store>>,
    addresses: Vec<Address>,
    cfg: FollowConfig,
    metrics: Arc<IndexerMetrics>,
    range: u64,
    bond_managers: HashMap<&'static str, Address>,
}

fn rpc(call: &'static str) -> impl FnOnce(alloy::transports::TransportError) -> FollowError {
    move |e| FollowError::Rpc { call, message: e.to_string() }
}

impl Follower {
    /// A follower of `rpc_url` for the contracts at `addresses`.
    pub fn new(
        rpc_url: &str,
        store: Arc<Mutex<Store>>,
        addresses: Vec<Address>,
        cfg: FollowConfig,
        metrics: Arc<IndexerMetrics>,
    ) -> Result<Self, FollowError> {
        let url = rpc_url.parse().map_err(|_| FollowError::Url(rpc_url.to_owned()))?;
        let provider = ProviderBuilder::new().connect_http(url).erased();
        let range = cfg.initial_range.max(1);
        metrics.range_blocks.store(range, Ordering::Relaxed);
        Ok(Self { provider, store, addresses, cfg, metrics, range, bond_managers: HashMap::new() })
    }

    /// Checks, after every range, the bond of each operator that range touched against the
    /// `BondManager` of its pool (`requiredBond` / `bondValue` views at the range's last block),
    /// for the `bond_below_requirement` notices. Pass the deployment's sources.
    #[must_use]
    pub fn with_bond_checks(mut self, sources: &[crate::decode::Source]) -> Self {
        self.bond_managers = sources
            .iter()
            .filter(|s| s.contract == crate::decode::Contract::BondManager)
            .map(|s| (s.pool, s.address))
            .collect();
        self
    }

    /// Reads the bond views of the operators the last range touched and records them.
    async fn check_bonds(&self, touched: Vec<(&'static str, u64)>, block: u64, time: u64) {
        use alloy::primitives::U256;
        use claystack_bindings::bond_manager::BondManager;
        for (pool, id) in touched {
            let Some(addr) = self.bond_managers.get(pool) else { continue };
            let bm = BondManager::new(*addr, &self.provider);
            let at = alloy::eips::BlockId::number(block);
            let required = bm.requiredBond(U256::from(id)).block(at).call().await;
            let value = bm.bondValue(U256::from(id)).block(at).call().await;
            let (required, value) = match (required, value) {
                (Ok(r), Ok(v)) => (r, v),
                (Err(e), _) | (_, Err(e)) => {
                    self.metrics.rpc_errors_total.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "indexer::follow", pool, id, error = %e, "read the bond views");
                    continue;
                }
            };
            let recorded = self
                .with_store(move |s| s.record_bond_check(pool, id, block, time, required, value))
                .await;
            if let Err(e) = recorded {
                tracing::warn!(target: "indexer::follow", pool, id, error = %e, "record a bond check");
            }
        }
    }

    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, FollowError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut s = store.lock().map_err(|_| FollowError::Poisoned)?;
            f(&mut s).map_err(FollowError::from)
        })
        .await
        .map_err(|e| FollowError::Join(e.to_string()))?
    }

    async fn block_hash(&self, n: u64) -> Result<Option<(B256, u64)>, FollowError> {
        let b = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .await
            .map_err(rpc("eth_getBlockByNumber"))?;
        Ok(b.map(|b| (b.header.hash, b.header.timestamp)))
    }

    /// Indexes until the store's cursor reaches the chain head.
    pub async fn run_to_head(&mut self) -> Result<u64, FollowError> {
        let mut retries = 0u32;
        loop {
            match self.step().await? {
                Step::AtHead => {
                    return Ok(self.metrics.indexed_block.load(Ordering::Relaxed));
                }
                Step::Retry => {
                    retries = retries.saturating_add(1);
                    if retries > 64 {
                        return Err(FollowError::Rpc {
                            call: "eth_getLogs",
                            message: "range failed 64 times in a row".into(),
                        });
                    }
                }
                Step::Indexed(_) | Step::RolledBack(_) => retries = 0,
            }
        }
    }

    /// Follows the chain until `shutdown` resolves; transient RPC errors are logged and retried.
    pub async fn run(&mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.step().await {
                Ok(Step::AtHead) => self.cfg.poll_interval,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::warn!(target: "indexer::follow", error = %e, "index step");
                    self.cfg.poll_interval
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One iteration: check the cursor for a reorg, then index the next range.
    pub async fn step(&mut self) -> Result<Step, FollowError> {
        let cursor = self.with_store(|s| s.cursor()).await?;
        if let Some((n, hash)) = cursor {
            let on_chain = self.block_hash(n).await?;
            if on_chain.map(|(h, _)| h) != Some(hash) {
                let fork = self.rollback(n).await?;
                return Ok(Step::RolledBack(fork));
            }
        }
        let head = self.provider.get_block_number().await.map_err(rpc("eth_blockNumber"))?;
        self.metrics.head_block.store(head, Ordering::Relaxed);
        let from = match cursor {
            Some((n, _)) => n.saturating_add(1),
            None => self.cfg.start_block,
        };
        if from > head {
            return Ok(Step::AtHead);
        }
        let to = from.saturating_add(self.range - 1).min(head);
        match self.index_range(from, to).await {
            Ok(true) => {
                self.metrics.indexed_block.store(to, Ordering::Relaxed);
                if to.saturating_sub(from).saturating_add(1) == self.range {
                    self.range = self.range.saturating_mul(2).min(self.cfg.max_range.max(1));
                }
                self.metrics.range_blocks.store(self.range, Ordering::Relaxed);
                Ok(Step::Indexed(to))
            }
            Ok(false) => Ok(Step::Retry),
            Err(FollowError::Rpc { call, message }) => {
                self.metrics.rpc_errors_total.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(target: "indexer::follow", call, %message, from, to, "shrink range");
                self.shrink();
                Ok(Step::Retry)
            }
            Err(e) => Err(e),
        }
    }

    fn shrink(&mut self) {
        self.range = (self.range / 2).max(1);
        self.metrics.range_blocks.store(self.range, Ordering::Relaxed);
    }

    /// Finds the newest stored block still on the chain and rolls the store back to it.
    async fn rollback(&mut self, cursor: u64) -> Result<u64, FollowError> {
        self.metrics.reorgs_total.fetch_add(1, Ordering::Relaxed);
        let window = self.cfg.reorg_window;
        let stored = self.with_store(move |s| s.blocks_desc(cursor, window)).await?;
        let mut fork = None;
        for (n, h) in stored {
            if let Some((chain_hash, _)) = self.block_hash(n).await?
                && chain_hash == h
            {
                fork = Some((n, h));
                break;
            }
        }
        // Nothing in the window survived: start over from the configured first block.
        let (fork_n, fork_h) = match fork {
            Some(f) => f,
            None => {
                let n = self.cfg.start_block.saturating_sub(1);
                let h = self.block_hash(n).await?.map(|(h, _)| h).unwrap_or_default();
                (n, h)
            }
        };
        tracing::warn!(target: "indexer::follow", cursor, fork = fork_n, "reorg: rolling back");
        self.with_store(move |s| s.rollback_to(fork_n, fork_h)).await?;
        self.metrics
            .rolled_back_blocks_total
            .fetch_add(cursor.saturating_sub(fork_n), Ordering::Relaxed);
        self.metrics.indexed_block.store(fork_n, Ordering::Relaxed);
        Ok(fork_n)
    }

    /// Fetches and stores `[from, to]`. `Ok(false)`: the range was too big or the chain moved
    /// under us; retry.
    async fn index_range(&mut self, from: u64, to: u64) -> Result<bool, FollowError> {
        let Some((to_hash, to_time)) = self.block_hash(to).await? else { return Ok(false) };
        let filter = Filter::new().address(self.addresses.clone()).from_block(from).to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(rpc("eth_getLogs"))?;
        if logs.len() > self.cfg.max_logs_per_range && to > from {
            self.shrink();
            return Ok(false);
        }
        // The same `to` hash before and after eth_getLogs: the logs belong to that chain.
        if self.block_hash(to).await?.map(|(h, _)| h) != Some(to_hash) {
            return Ok(false);
        }
        let mut times: HashMap<u64, u64> = HashMap::new();
        times.insert(to, to_time);
        let mut out = Vec::with_capacity(logs.len());
        for log in logs {
            let (Some(block_number), Some(block_hash), Some(log_index), Some(tx_hash)) =
                (log.block_number, log.block_hash, log.log_index, log.transaction_hash)
            else {
                continue; // pending logs carry no position; they are indexed once mined
            };
            let block_time = match (log.block_timestamp, times.get(&block_number)) {
                (Some(t), _) | (None, Some(&t)) => t,
                (None, None) => {
                    let t = self.block_hash(block_number).await?.map_or(0, |(_, t)| t);
                    times.insert(block_number, t);
                    t
                }
            };
            let topics = log.topics().to_vec();
            let tx_input = if topics.first() == Some(&OracleReport::ReportSubmitted::SIGNATURE_HASH)
            {
                self.provider
                    .get_transaction_by_hash(tx_hash)
                    .await
                    .map_err(rpc("eth_getTransactionByHash"))?
                    .map(|tx| {
                        use alloy::consensus::Transaction as _;
                        tx.input().to_vec()
                    })
            } else {
                None
            };
            out.push(IndexedLog {
                block_number,
                block_hash,
                block_time,
                log_index,
                tx_hash,
                address: log.address(),
                topics,
                data: log.data().data.to_vec(),
                tx_input,
            });
        }
        let n = out.len() as u64;
        let batch = Batch { to_block: to, to_hash, to_time, logs: out };
        let (unknown, touched) = self
            .with_store(move |s| {
                let before = s.unknown_events();
                s.apply(&batch)?;
                Ok((s.unknown_events().saturating_sub(before), s.touched_operators().to_vec()))
            })
            .await?;
        if !self.bond_managers.is_empty() && !touched.is_empty() {
            self.check_bonds(touched, to, to_time).await;
        }
        self.metrics.unknown_events_total.fetch_add(unknown, Ordering::Relaxed);
        self.metrics.events_total.fetch_add(n, Ordering::Relaxed);
        self.metrics.batches_total.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }
}
