//! The member daemon: each frame, wait until the reference slot is final (or a number of slots
//! past it), read the Beacon API and the chain at the reference block, compute the report, record
//! and sign its digest, gossip the signature, and submit once a quorum of members signed the
//! digest this member computed, with chunk 0 of its extra data; then, while the frame lasts,
//! deliver the report's later chunks in order (docs/adr/0008). Restart-safe: the per-frame
//! record in the state directory (every chunk included) is written before the signature leaves
//! the process, and a member never signs a second digest for a frame it has a record of.

pub mod chain;
pub mod gossip;
pub mod liveness;
pub mod metrics;
pub mod operators;
pub mod rewards;
pub mod store;
pub mod vfp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::Bytes;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use claystack_beacon::{BeaconClient, ClientConfig, StateId};
use claystack_bindings::deployment::PoolAddresses;
use claystack_consensus::Slot;
use tokio::sync::watch;

use crate::duties::{DutiesError, DutyTally, ValidatorSpan, frame_epochs};
use crate::rewards::{TreeDocument, TreeError};
use crate::types::{BeaconValidator, FrameParams, OracleInput, RewardsState};
use crate::{ComputeError, Report, compute_with, report_digest};
use gossip::{GossipState, SignatureMessage};
use metrics::{Metrics, inc};
use store::{FrameRecord, Store, StoreError};

/// Delay between members' submission attempts, by rank (lowest address first).
pub const SUBMIT_STAGGER: Duration = Duration::from_secs(4);
/// Most extra-data chunks one member delivers in one tick (bounds a tick's work).
const CHUNKS_PER_TICK: usize = 16;

/// Settings of a member that every member of the committee must share (they change the report's
/// bytes, so members with different values sign different digests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberOptions {
    /// How the operators report is split into extra-data chunks (docs/adr/0008). The default is
    /// the one the ADR budgets; smaller budgets are for tests that need several chunks.
    pub chunk_budget: crate::ChunkBudget,
}

/// When a reference slot may be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finality {
    /// Once the beacon node's finalized checkpoint is past the reference slot's epoch.
    Finalized,
    /// Once the head is this many slots past the reference slot (simulators, devnets).
    SlotsAfter(u64),
}

/// Settings of one member.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// The member's key (signs reports and pays for submissions).
    pub member_key: PrivateKeySigner,
    /// Beacon API base URL.
    pub beacon_url: String,
    /// Execution JSON-RPC URL.
    pub rpc_url: String,
    /// Chain id (part of the EIP-712 domain).
    pub chain_id: u64,
    /// The pool this oracle reports for.
    pub pool: PoolAddresses,
    /// Other members' gossip base URLs.
    pub peers: Vec<String>,
    /// Per-frame records.
    pub state_dir: PathBuf,
    /// How often the loop wakes up.
    pub poll_interval: Duration,
    /// When a reference slot counts as final.
    pub finality: Finality,
    /// Kept for source compatibility: the operators report is committed whenever the pool has an
    /// operators module (`OracleReport.operatorsModule()` set), whatever this says; without one
    /// the contract refuses extra data, so nothing is committed either way.
    pub with_extra_data: bool,
}

/// Failure of the daemon (the loop logs per-frame failures and carries on; only set-up errors
/// stop it).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A JSON-RPC call failed.
    #[error("{action}: {source}")]
    Rpc {
        /// What failed.
        action: &'static str,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value does not fit.
    #[error("{action}: value {value} out of range")]
    OutOfRange {
        /// What was read.
        action: &'static str,
        /// The value.
        value: String,
    },
    /// The submission was mined but reverted.
    #[error("report transaction {tx} reverted")]
    Reverted {
        /// Its hash.
        tx: alloy::primitives::B256,
    },
    /// The Beacon API.
    #[error("read the beacon chain: {0}")]
    Beacon(#[from] claystack_beacon::Error),
    /// The computation.
    #[error(transparent)]
    Compute(#[from] ComputeError),
    /// The state directory.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding the HTTP endpoint.
    #[error("bind {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Something else in the set-up.
    #[error("set up the member: {0}")]
    Setup(String),
    /// An epoch of the frame has active pool validators whose liveness was neither recorded nor
    /// can be read from the node any more: the frame is not signed (no guessed scores).
    #[error(
        "liveness of epoch {epoch} unknown for {missing} active pool validator(s): not recorded          and not served ({source}); the frame cannot be signed"
    )]
    Liveness {
        /// The epoch.
        epoch: u64,
        /// Validators without liveness.
        missing: usize,
        /// Why the node did not answer.
        #[source]
        source: liveness::LivenessError,
    },
    /// Tallying duties failed.
    #[error(transparent)]
    Duties(#[from] DutiesError),
    /// A rewards tree does not match the chain.
    #[error(transparent)]
    Tree(TreeError),
    /// The on-chain root's tree is neither stored nor served by a peer.
    #[error(transparent)]
    TreeUnavailable(rewards::TreeFetchError),
}

/// A running member.
#[derive(Debug)]
pub struct Member {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Member {
    /// Starts the HTTP endpoint on `listener` and the frame loop, with the default
    /// [`MemberOptions`].
    pub fn start(
        cfg: DaemonConfig,
        listener: tokio::net::TcpListener,
    ) -> Result<Self, DaemonError> {
        Self::start_with(cfg, listener, MemberOptions::default())
    }

    /// Starts the HTTP endpoint on `listener` and the frame loop.
    pub fn start_with(
        cfg: DaemonConfig,
        listener: tokio::net::TcpListener,
        options: MemberOptions,
    ) -> Result<Self, DaemonError> {
        let addr = listener
            .local_addr()
            .map_err(|source| DaemonError::Bind { addr: "listener".into(), source })?;
        let metrics = Arc::new(Metrics::default());
        let gossip = Arc::new(GossipState::new(Arc::clone(&metrics)));
        let store = Store::open(&cfg.state_dir)?;
        let liveness = liveness::LivenessStore::open(&cfg.state_dir)?;
        let trees = Arc::new(rewards::TreeStore::open(&cfg.state_dir)?);
        let wallet = EthereumWallet::from(cfg.member_key.clone());
        let url = cfg.rpc_url.parse().map_err(|e| DaemonError::Setup(format!("rpc url: {e}")))?;
        // Each nonce from the node's pending count, not alloy's cached manager: that one reserves
        // a nonce before the gas estimate, and members' submissions and chunk deliveries are
        // refused by design when another member was first — a reserved nonce would leave a gap
        // that queues every later transaction of this member forever.
        let provider = ProviderBuilder::default()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(wallet)
            .connect_http(url)
            .erased();
        let beacon = BeaconClient::new(&cfg.beacon_url, ClientConfig::default())?;
        let http = gossip::client().map_err(|e| DaemonError::Setup(format!("http client: {e}")))?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let app = gossip::router(Arc::clone(&gossip), Arc::clone(&metrics))
            .merge(rewards::router(Arc::clone(&trees)));
        let mut server_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _closed = server_stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(target: "oracle::daemon", error = %e, "gossip server stopped");
            }
        }));
        let worker = Worker {
            cfg,
            provider,
            beacon,
            http,
            gossip,
            metrics: Arc::clone(&metrics),
            store,
            liveness,
            trees,
            quorum_seen: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            chunk_seen: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            key_cache: tokio::sync::Mutex::new(operators::KeyCache::new()),
            options,
            vfp: std::sync::Mutex::new(vfp::BookingState::default()),
        };
        let mut loop_stop = stop_rx;
        tasks.push(tokio::spawn(async move { worker.run(&mut loop_stop).await }));
        tracing::info!(target: "oracle::daemon", %addr, "oracle member listening");
        Ok(Self { addr, metrics, stop, tasks })
    }

    /// The gossip/metrics address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics.
    #[must_use]
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Stops the loop and the server and waits for them.
    pub async fn shutdown(self) {
        let _sent = self.stop.send(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(target: "oracle::daemon", error = %e, "member task failed");
            }
        }
    }
}

struct Worker {
    cfg: DaemonConfig,
    provider: DynProvider,
    beacon: BeaconClient,
    http: reqwest::Client,
    gossip: Arc<GossipState>,
    metrics: Arc<Metrics>,
    store: Store,
    /// Per-epoch liveness records.
    liveness: liveness::LivenessStore,
    /// Rewards trees (also served over HTTP).
    trees: Arc<rewards::TreeStore>,
    /// When this member first held a quorum for a frame.
    quorum_seen: std::sync::Mutex<std::collections::BTreeMap<u64, Instant>>,
    /// When this member first saw chunk `i` of frame `ref_slot` pending, by `(ref_slot, i)`.
    chunk_seen: std::sync::Mutex<std::collections::BTreeMap<(u64, u32), Instant>>,
    /// Final key data of the operator registry (pubkeys below the confirmed cursor).
    key_cache: tokio::sync::Mutex<operators::KeyCache>,
    /// Committee-wide settings.
    options: MemberOptions,
    /// Booking of the VfpPool's rewards leaf after each report ([`vfp`]).
    vfp: std::sync::Mutex<vfp::BookingState>,
}

impl Worker {
    async fn run(&self, stop: &mut watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(target: "oracle::daemon", error = %e, "frame step failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.poll_interval) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    async fn tick(&self) -> Result<(), DaemonError> {
        let oracle = self.cfg.pool.oracle_report;
        let Some(view) = chain::frame_view(&self.provider, oracle).await? else {
            return Ok(());
        };
        let step = self.frame_step(&view).await;
        // after the frame's own work (a report and its chunks come first); logs its failures
        self.book_vfp_rewards(&view).await;
        step
    }

    /// The frame's work: record liveness, then compute, sign, gossip and submit the current
    /// frame, or deliver the chunks of its report once it is on chain.
    async fn frame_step(&self, view: &chain::FrameView) -> Result<(), DaemonError> {
        let oracle = self.cfg.pool.oracle_report;
        if let Err(e) = self.record_liveness(view).await {
            tracing::warn!(target: "oracle::liveness", error = %e, "recording liveness failed; retrying");
        }
        let frame_slots = view.slots_per_epoch.saturating_mul(view.epochs_per_frame);
        self.gossip.configure(
            &view.members,
            view.last_ref_slot.saturating_add(1),
            view.ref_slot.saturating_add(frame_slots),
        );
        let mut record = self.store.load(view.ref_slot)?;
        if view.last_ref_slot >= view.ref_slot {
            if let Some(rec) = record.as_mut().filter(|r| !r.done) {
                rec.done = true;
                self.store.save(rec)?;
                if rec.submitted_tx.is_none() {
                    inc(&self.metrics.frames_done_by_others);
                }
                tracing::info!(target: "oracle::daemon", ref_slot = view.ref_slot, "frame settled");
            }
            // the report of this frame is on chain: its later chunks, while the frame lasts
            if let Some(rec) = &record {
                self.deliver_chunks(view, rec).await;
            }
            return Ok(());
        }
        if !self.is_final(view.ref_slot, view.slots_per_epoch).await? {
            return Ok(());
        }
        let me = self.cfg.member_key.address();
        if !view.members.contains(&me) {
            tracing::warn!(target: "oracle::daemon", member = %me, "this key is not an oracle member");
            return Ok(());
        }
        let rec = match record {
            Some(r) => r,
            None => {
                let rec = self.compute_and_sign(view).await?;
                // recorded before the signature is sent anywhere
                self.store.save(&rec)?;
                rec
            }
        };
        self.metrics.last_signed_ref_slot.store(rec.ref_slot, Ordering::Relaxed);
        self.gossip.restore(rec.ref_slot, &rec.signatures);
        self.gossip.set_own(rec.ref_slot, rec.digest, me, rec.own_signature.clone());
        let msg = SignatureMessage {
            ref_slot: rec.ref_slot,
            digest: rec.digest,
            signature: rec.own_signature.clone(),
        };
        gossip::broadcast(&self.http, &self.cfg.peers, &msg).await;

        let agreed = self.gossip.agreed(rec.ref_slot);
        let mut rec = rec;
        if agreed != rec.signatures {
            rec.signatures = agreed.clone();
            self.store.save(&rec)?;
        }
        let have = u64::try_from(agreed.len()).unwrap_or(u64::MAX);
        if have < view.quorum || rec.submitted_tx.is_some() {
            tracing::debug!(target: "oracle::daemon", ref_slot = rec.ref_slot, have, quorum = view.quorum, "waiting for signatures");
            return Ok(());
        }
        // Stagger submissions by the member's rank so that usually one transaction is sent:
        // rank r waits r × 4 s after it first saw the quorum (time for the first member's
        // transaction to be mined; the others then see the frame settled).
        let rank = view.members.iter().filter(|m| **m < me).count();
        let since = {
            let mut q = self.quorum_seen.lock().map_err(|_| DaemonError::Setup("lock".into()))?;
            *q.entry(rec.ref_slot).or_insert_with(Instant::now)
        };
        let wait = SUBMIT_STAGGER.saturating_mul(u32::try_from(rank).unwrap_or(u32::MAX));
        if since.elapsed() < wait {
            return Ok(());
        }
        let report = Report::abi_decode(&rec.report_abi)
            .map_err(|e| DaemonError::Setup(format!("decode recorded report: {e}")))?;
        // the contract wants exactly members' signatures in increasing signer order: BTreeMap order
        match chain::submit(&self.provider, oracle, &report, &rec.first_chunk(), &agreed).await {
            Ok(tx) => {
                rec.submitted_tx = Some(tx);
                rec.done = true;
                self.store.save(&rec)?;
                inc(&self.metrics.frames_submitted);
                tracing::info!(target: "oracle::daemon", ref_slot = rec.ref_slot, %tx, signatures = agreed.len(), chunks = rec.chunks.len(), "report submitted");
                self.deliver_chunks(view, &rec).await;
            }
            Err(e) => {
                // another member may have won the race; the next tick sees the frame settled
                inc(&self.metrics.submit_failures);
                tracing::info!(target: "oracle::daemon", ref_slot = rec.ref_slot, error = %e, "submission failed");
            }
        }
        Ok(())
    }

    /// Delivers the pending chunks of this frame's report that match our record, in order, while
    /// the frame lasts (`OracleReport.extraDataState()` names the next hash; the contract refuses
    /// anything else). Staggered like the submission: the member that submitted the report goes
    /// first, the others wait `(rank + 1) × SUBMIT_STAGGER` after first seeing a chunk pending. A
    /// failed delivery (usually: another member was first) is logged and retried next tick.
    async fn deliver_chunks(&self, view: &chain::FrameView, rec: &FrameRecord) {
        if rec.chunks.len() < 2 || rec.ref_slot != view.ref_slot {
            return;
        }
        let oracle = self.cfg.pool.oracle_report;
        let me = self.cfg.member_key.address();
        let rank = view.members.iter().filter(|m| **m < me).count();
        let wait = if rec.submitted_tx.is_some() {
            Duration::ZERO
        } else {
            SUBMIT_STAGGER.saturating_mul(u32::try_from(rank.saturating_add(1)).unwrap_or(u32::MAX))
        };
        for _ in 0..CHUNKS_PER_TICK {
            let state = match chain::extra_data_state(&self.provider, oracle).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(target: "oracle::extra_data", error = %e, "reading the pending chunks failed; retrying");
                    return;
                }
            };
            if state.ref_slot != rec.ref_slot || state.next_hash.is_zero() {
                return;
            }
            let index = state.chunks_applied;
            let Some(chunk) = usize::try_from(index).ok().and_then(|i| rec.chunks.get(i)) else {
                tracing::warn!(target: "oracle::extra_data", ref_slot = rec.ref_slot, index, chunks = rec.chunks.len(), "the pending chunk is beyond our record");
                return;
            };
            if alloy::primitives::keccak256(chunk) != state.next_hash {
                tracing::warn!(target: "oracle::extra_data", ref_slot = rec.ref_slot, index, pending = %state.next_hash, "the pending chunk is not ours (the report on chain has another digest)");
                return;
            }
            let since = match self.chunk_seen.lock() {
                Ok(mut seen) => {
                    seen.retain(|(slot, _), _| *slot >= rec.ref_slot);
                    *seen.entry((rec.ref_slot, index)).or_insert_with(Instant::now)
                }
                Err(_) => return,
            };
            if since.elapsed() < wait {
                return;
            }
            match chain::submit_chunk(&self.provider, oracle, chunk).await {
                Ok(tx) => {
                    inc(&self.metrics.chunks_delivered);
                    tracing::info!(target: "oracle::extra_data", ref_slot = rec.ref_slot, index, of = rec.chunks.len(), %tx, "extra data chunk delivered");
                }
                Err(e) => {
                    inc(&self.metrics.chunk_delivery_failures);
                    tracing::info!(target: "oracle::extra_data", ref_slot = rec.ref_slot, index, error = %e, "chunk delivery failed; retrying next tick");
                    return;
                }
            }
        }
    }

    async fn is_final(&self, ref_slot: u64, slots_per_epoch: u64) -> Result<bool, DaemonError> {
        match self.cfg.finality {
            Finality::SlotsAfter(n) => {
                let head = self.beacon.header(claystack_beacon::BlockId::Head).await?;
                Ok(head.data.header.message.slot.get() >= ref_slot.saturating_add(n))
            }
            Finality::Finalized => {
                let cp = self.beacon.finality_checkpoints(StateId::Head).await?;
                let ref_epoch = ref_slot.checked_div(slots_per_epoch).unwrap_or(u64::MAX);
                Ok(cp.data.finalized.epoch.get() > ref_epoch)
            }
        }
    }

    async fn compute_and_sign(&self, view: &chain::FrameView) -> Result<FrameRecord, DaemonError> {
        let started = Instant::now();
        let result = self.compute_frame(view).await;
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                inc(&self.metrics.compute_failures);
                match &e {
                    DaemonError::Liveness { .. } => inc(&self.metrics.liveness_missing),
                    DaemonError::Tree(_) | DaemonError::TreeUnavailable(_) => {
                        inc(&self.metrics.rewards_tree_missing);
                    }
                    _ => {}
                }
                return Err(e);
            }
        };
        // the tree this report commits is kept before the signature exists: the next report
        // extends its leaves, and peers and operators fetch it from us
        if let Some(tree) = &report.rewards_tree {
            let doc = TreeDocument::new(view.ref_slot, &tree.leaves())
                .map_err(|e| DaemonError::Setup(format!("store the rewards tree: {e}")))?;
            self.trees.save(&doc)?;
            tracing::info!(target: "oracle::rewards", ref_slot = view.ref_slot, root = %doc.root, cumulative = %doc.cumulative_shares, leaves = doc.leaves.len(), "rewards tree stored");
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.metrics.compute_micros.store(micros, Ordering::Relaxed);
        let digest = report_digest(&report.report, self.cfg.chain_id, self.cfg.pool.oracle_report);
        let sig = self
            .cfg
            .member_key
            .sign_hash_sync(&digest)
            .map_err(|e| DaemonError::Setup(format!("sign the report: {e}")))?;
        let own = Bytes::from(sig.as_bytes().to_vec());
        let mut signatures = std::collections::BTreeMap::new();
        signatures.insert(self.cfg.member_key.address(), own.clone());
        tracing::info!(
            target: "oracle::report",
            ref_slot = view.ref_slot, %digest,
            cl_balance = %report.report.clBalance,
            validators = %report.report.validatorsDeposited,
            rate = %report.report.finalizationShareRate,
            finalize_up_to = %report.report.finalizeUpToRequestId,
            compute_us = micros,
            chunks = report.chunks.len(),
            front_run_loss = %report.post.accounting.front_run_loss,
            "report computed and signed"
        );
        Ok(FrameRecord {
            ref_slot: view.ref_slot,
            digest,
            report_abi: Bytes::from(report.report.abi_encode()),
            chunks: report.chunks.into_iter().map(Bytes::from).collect(),
            own_signature: own,
            signatures,
            submitted_tx: None,
            done: false,
        })
    }

    async fn compute_frame(
        &self,
        view: &chain::FrameView,
    ) -> Result<crate::ComputedReport, DaemonError> {
        let block = chain::ref_block(&self.provider, view).await?;
        let (pool, queue) = chain::pool_state(&self.provider, &self.cfg.pool, block).await?;
        let spec = self.beacon.spec().await?;
        let raw_u64 = |k: &str, d: u64| spec_u64(&spec.raw, k, d);
        let frame = FrameParams {
            ref_slot: Slot(view.ref_slot),
            last_ref_slot: Slot(view.last_ref_slot),
            seconds_per_slot: view.seconds_per_slot,
            slots_per_epoch: spec.slots_per_epoch,
            epochs_per_slashings_vector: raw_u64("EPOCHS_PER_SLASHINGS_VECTOR", 8_192)?,
            min_slashing_penalty_quotient: raw_u64("MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX", 32)?,
            max_effective_balance: spec.max_effective_balance,
        };
        if spec.slots_per_epoch != view.slots_per_epoch {
            return Err(DaemonError::Setup(format!(
                "the beacon node has {}-slot epochs, the oracle contract {}",
                spec.slots_per_epoch, view.slots_per_epoch
            )));
        }
        let ops = {
            let mut cache = self.key_cache.lock().await;
            operators::read_operators(
                &self.provider,
                self.cfg.pool.oracle_report,
                block,
                view.genesis_time,
                view.seconds_per_slot,
                &mut cache,
            )
            .await?
        };
        let pending = ops.as_ref().map(|o| &o.pending_pubkeys);
        let creds = pool.withdrawal_credentials;
        let mut validators = Vec::new();
        let mut spans = Vec::new();
        self.beacon
            .stream_validators(StateId::Slot(Slot(view.ref_slot)), &[], |v| {
                // ours, or a pre-deposited key seen with other credentials (front-run)
                let ours = v.validator.withdrawal_credentials == creds;
                if ours {
                    spans.push(ValidatorSpan {
                        index: v.index.get(),
                        activation_epoch: v.validator.activation_epoch.get(),
                        exit_epoch: v.validator.exit_epoch.get(),
                    });
                }
                if ours || pending.is_some_and(|p| p.contains(&v.validator.pubkey)) {
                    validators.push(BeaconValidator {
                        index: v.index,
                        pubkey: v.validator.pubkey,
                        balance: v.balance,
                        effective_balance: v.validator.effective_balance,
                        status: v.status,
                        slashed: v.validator.slashed,
                        withdrawal_credentials: v.validator.withdrawal_credentials,
                        withdrawable_epoch: v.validator.withdrawable_epoch,
                        duties_expected: 0,
                        duties_performed: 0,
                    });
                }
                Ok::<(), std::convert::Infallible>(())
            })
            .await?;
        // N: attestation duties of the pool's validators over the frame
        let duties = self.frame_duties(view, spans).await?;
        for v in &mut validators {
            if let Some(d) = duties.get(&v.index.get()) {
                v.duties_expected = d.expected;
                v.duties_performed = d.performed;
            }
        }
        // the previous root's leaves (the new root extends them)
        let rewards = match ops.as_ref().map(|o| o.operator_rewards) {
            Some(addr) if !addr.is_zero() => {
                let on_chain = rewards::read_chain(&self.provider, addr, block).await?;
                rewards::rewards_state(
                    &self.trees,
                    &self.http,
                    &self.cfg.peers,
                    on_chain,
                    &self.metrics,
                )
                .await?
            }
            // no OperatorRewards: a root would be refused, so none is computed
            _ => RewardsState::default(),
        };
        let input = OracleInput {
            frame,
            pool,
            queue,
            // no operators module: no registry, no operators report
            registry: ops.map(|o| o.registry),
            rewards,
            validators,
        };
        let with_extra_data = input.registry.is_some();
        Ok(compute_with(&input, with_extra_data, &self.options.chunk_budget)?)
    }
}

impl Worker {
    /// The last ended epoch: the Beacon API says a node SHOULD serve liveness for the current
    /// and the previous epoch only, so the previous epoch is recorded as soon as it has ended.
    async fn settled_epoch(&self, slots_per_epoch: u64) -> Result<Option<u64>, DaemonError> {
        let head = self.beacon.header(claystack_beacon::BlockId::Head).await?;
        let head_epoch =
            head.data.header.message.slot.get().checked_div(slots_per_epoch).unwrap_or(0);
        Ok(head_epoch.checked_sub(1))
    }

    /// Records the liveness of settled epochs after the last reported reference epoch that have
    /// no record yet (a few per tick), and deletes records the next report cannot need.
    async fn record_liveness(&self, view: &chain::FrameView) -> Result<(), DaemonError> {
        /// Epochs recorded per tick at most (bounds one tick's work).
        const EPOCHS_PER_TICK: usize = 8;
        let spe = view.slots_per_epoch;
        let last_ref_epoch = view.last_ref_slot.checked_div(spe).unwrap_or(0);
        let pruned = self.liveness.prune(last_ref_epoch)?;
        if pruned > 0 {
            tracing::debug!(target: "oracle::liveness", pruned, up_to = last_ref_epoch, "old liveness records deleted");
        }
        let Some(settled) = self.settled_epoch(spe).await? else { return Ok(()) };
        let first = last_ref_epoch.saturating_add(1);
        if first > settled {
            return Ok(());
        }
        let files = self.liveness.record_files()?;
        if files >= liveness::MAX_RECORDED_EPOCHS {
            tracing::warn!(target: "oracle::liveness", kept = files, "liveness record cap reached; not recording more");
            return Ok(());
        }
        let recorded = self.liveness.epochs()?;
        // newest first: those are the ones a node stops serving last; older gaps follow
        let todo: Vec<u64> = (first..=settled)
            .rev()
            .filter(|e| recorded.binary_search(e).is_err())
            .take(EPOCHS_PER_TICK)
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let creds = chain::withdrawal_credentials(self.cfg.pool.withdrawal_vault);
        let mut spans = Vec::new();
        self.beacon
            .stream_validators(StateId::Head, &[], |v| {
                if v.validator.withdrawal_credentials == creds {
                    spans.push(ValidatorSpan {
                        index: v.index.get(),
                        activation_epoch: v.validator.activation_epoch.get(),
                        exit_epoch: v.validator.exit_epoch.get(),
                    });
                }
                Ok::<(), std::convert::Infallible>(())
            })
            .await?;
        let tally = DutyTally::new(spans)?;
        for epoch in todo {
            let required = tally.required(epoch);
            match liveness::fetch(&self.beacon, epoch, &required).await {
                Ok(record) => {
                    self.liveness.save(&record)?;
                    inc(&self.metrics.liveness_epochs_recorded);
                    tracing::debug!(target: "oracle::liveness", epoch, validators = record.len(), "liveness recorded");
                }
                Err(e) => {
                    inc(&self.metrics.liveness_fetch_failures);
                    tracing::warn!(target: "oracle::liveness", epoch, error = %e, "liveness not recorded");
                }
            }
        }
        Ok(())
    }

    /// The duties of `spans` over the frame `(lastRefEpoch, refEpoch]`: recorded liveness, plus
    /// what the node still serves for anything missing (then recorded too, one segment per
    /// window; [`liveness::tally_frame`]). An epoch with active validators whose liveness is
    /// neither is an error.
    async fn frame_duties(
        &self,
        view: &chain::FrameView,
        spans: Vec<ValidatorSpan>,
    ) -> Result<std::collections::BTreeMap<u64, crate::duties::Duties>, DaemonError> {
        let (first, last) = frame_epochs(view.last_ref_slot, view.ref_slot, view.slots_per_epoch);
        let mut tally = DutyTally::new(spans)?;
        let Some(start) = tally.first_active_epoch().map(|e| e.max(first)) else {
            return Ok(tally.into_map());
        };
        let started = Instant::now();
        let beacon = &self.beacon;
        let metrics = &self.metrics;
        let stats = liveness::tally_frame(
            &self.liveness,
            &mut tally,
            start,
            last,
            |epoch, indices| async move {
                let r = liveness::fetch(beacon, epoch, &indices).await;
                if r.is_err() {
                    inc(&metrics.liveness_fetch_failures);
                }
                r
            },
        )
        .await
        .map_err(|e| match e {
            liveness::FrameLivenessError::Unknown { epoch, missing, source } => {
                DaemonError::Liveness { epoch, missing, source }
            }
            liveness::FrameLivenessError::Store(e) => DaemonError::Store(e),
            liveness::FrameLivenessError::Duties(e) => DaemonError::Duties(e),
        })?;
        tracing::info!(target: "oracle::liveness", ref_slot = view.ref_slot, epochs = stats.epochs, fetched = stats.fetched, windows = stats.windows, ms = started.elapsed().as_millis(), "frame liveness tallied");
        Ok(tally.into_map())
    }
}

/// Parses a member key given as 0x-prefixed (or bare) hex.
pub fn parse_member_key(text: &str) -> Result<PrivateKeySigner, DaemonError> {
    text.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|e| DaemonError::Setup(format!("parse the member key: {e}")))
}

/// The address of a member key (for logs).
#[must_use]
pub fn member_address(key: &PrivateKeySigner) -> alloy::primitives::Address {
    key.address()
}

/// A numeric beacon spec value: an absent key takes the mainnet value `default`; a present but
/// unreadable or zero one is an error (a silent default would change slashing penalties, i.e.
/// what operators pay).
fn spec_u64(
    raw: &std::collections::BTreeMap<String, serde_json::Value>,
    key: &str,
    default: u64,
) -> Result<u64, DaemonError> {
    let Some(v) = raw.get(key) else { return Ok(default) };
    v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_u64()).filter(|n| *n != 0).ok_or_else(
        || DaemonError::Setup(format!("beacon spec {key} = {v} is not a positive integer")),
    )
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    #[test]
    fn spec_values_default_only_when_absent() {
        let mut raw = std::collections::BTreeMap::new();
        assert_eq!(spec_u64(&raw, "Q", 32).unwrap(), 32);
        raw.insert("Q".to_owned(), serde_json::json!("64"));
        assert_eq!(spec_u64(&raw, "Q", 32).unwrap(), 64);
        for bad in [serde_json::json!("0"), serde_json::json!("x"), serde_json::json!(-1)] {
            raw.insert("Q".to_owned(), bad);
            let err = spec_u64(&raw, "Q", 32).unwrap_err().to_string();
            assert!(err.contains("beacon spec Q"), "{err}");
        }
    }
}
