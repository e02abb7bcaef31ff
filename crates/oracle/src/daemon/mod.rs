//! The member daemon: each frame, wait until the reference slot is final (or a number of slots
//! past it), read the Beacon API and the chain at the reference block, compute the report, record
//! and sign its digest, gossip the signature, and submit once a quorum of members signed the
//! digest this member computed, with chunk 0 of its extra data; then, while the frame lasts,
//! deliver the report's later chunks in order (docs/adr/0008). Restart-safe: the per-frame
//! record in the state directory (every chunk included) is written before the signature leaves
//! the process, and a member never signs a second digest for a frame it has a record of.

pub mod backoff;
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
    /// Where the attestation duties of the pool's validators are read (the attestation rewards
    /// by default; [`liveness::DutiesSource`]). Members whose sources disagree about a
    /// validator sign different digests.
    pub duties_source: liveness::DutiesSource,
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
        let liveness = liveness::LivenessStore::open(&cfg.state_dir, options.duties_source)?;
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
        let cfg_member = cfg.member_key.address();
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
            sender: chain::TxSender::new(cfg_member, chain::RECEIPT_TIMEOUT),
            recorder: std::sync::Mutex::new(Recorder::default()),
            attempt: std::sync::Mutex::new(None),
            legacy_logged: std::sync::Mutex::new(None),
            trees_pruned_at: std::sync::Mutex::new(None),
        };
        let mut loop_stop = stop_rx;
        tasks.push(tokio::spawn(async move { worker.run(&mut loop_stop).await }));
        tracing::info!(target: "oracle::daemon", %addr, duties_source = %options.duties_source, "oracle member listening");
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
    /// Sends this member's transactions (receipt timeout, replacement of a stuck one).
    sender: chain::TxSender,
    /// Liveness recording between ticks (refused epochs, backoff).
    recorder: std::sync::Mutex<Recorder>,
    /// Failed attempts at computing the current frame (backoff, the epoch that was missing).
    attempt: std::sync::Mutex<Option<FrameAttempt>>,
    /// The frame whose record was found in the format before chunks (logged once).
    legacy_logged: std::sync::Mutex<Option<u64>>,
    /// The last settled frame after which the rewards trees were pruned.
    trees_pruned_at: std::sync::Mutex<Option<u64>>,
}

/// What [`Worker::record_liveness`] remembers between ticks.
#[derive(Debug, Default)]
struct Recorder {
    /// Where the node's window of served epochs ends ([`liveness::ProbeOutcome::refused_up_to`]):
    /// it and every older epoch are not asked again.
    refused_up_to: Option<u64>,
    /// Backoff after a tick whose recording failed.
    backoff: backoff::Backoff,
}

/// Failed attempts at computing one frame.
#[derive(Debug, Clone, Copy)]
struct FrameAttempt {
    ref_slot: u64,
    backoff: backoff::Backoff,
    /// The epoch whose liveness was missing in the last attempt: the next attempt first asks the
    /// node whether it serves it now, before any heavy read.
    liveness_gap: Option<u64>,
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
            self.prune_trees(view.last_ref_slot).await;
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
                let Some(rec) = self.attempt_frame(view).await? else { return Ok(()) };
                // recorded before the signature is sent anywhere
                self.store.save(&rec)?;
                rec
            }
        };
        // a record of the format before chunks (ADR 0008) commits to extra data the contracts
        // refuse as chunk 0: never submitted, never gossiped, and no second digest is signed
        if let Err(reason) = rec.submittable() {
            let first = self
                .legacy_logged
                .lock()
                .map(|mut l| l.replace(rec.ref_slot) != Some(rec.ref_slot))
                .unwrap_or(true);
            if first {
                inc(&self.metrics.compute_failures);
                tracing::error!(target: "oracle::daemon", ref_slot = rec.ref_slot, dir = %self.store.dir().display(), %reason, "the frame record cannot be submitted (OracleReport would revert with ExtraDataChunkMalformed); this member does not sign another digest for the frame and sits it out");
            }
            return Ok(());
        }
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
        let tx = chain::submit_tx(&self.provider, oracle, &report, &rec.first_chunk(), &agreed)?;
        match self
            .sender
            .send(&self.provider, tx, "send the report")
            .await
            .map(|r| r.transaction_hash)
        {
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
            let tx = chain::chunk_tx(&self.provider, oracle, chunk);
            match self
                .sender
                .send(&self.provider, tx, "send an extra data chunk")
                .await
                .map(|r| r.transaction_hash)
            {
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

    /// Whether the reference slot may be reported: final by [`Finality`], and the frame's last
    /// epoch's liveness final too (the head two epochs past it, [`liveness::final_epoch`]), so
    /// every member tallies the same answers.
    async fn is_final(&self, ref_slot: u64, slots_per_epoch: u64) -> Result<bool, DaemonError> {
        let head = self.beacon.header(claystack_beacon::BlockId::Head).await?;
        let head_slot = head.data.header.message.slot.get();
        let ref_epoch = ref_slot.checked_div(slots_per_epoch).unwrap_or(u64::MAX);
        if liveness::final_epoch(head_slot, slots_per_epoch).is_none_or(|e| e < ref_epoch) {
            return Ok(false);
        }
        match self.cfg.finality {
            Finality::SlotsAfter(n) => Ok(head_slot >= ref_slot.saturating_add(n)),
            Finality::Finalized => {
                let cp = self.beacon.finality_checkpoints(StateId::Head).await?;
                Ok(cp.data.finalized.epoch.get() > ref_epoch)
            }
        }
    }

    /// Computes and signs the frame unless an earlier attempt failed less than its backoff ago;
    /// after an attempt that lacked an epoch's liveness, first asks the node (one cheap request)
    /// whether it serves that epoch now, and fails again without the chain reads, the state
    /// stream and the liveness requests if not. `Ok(None)`: waiting.
    async fn attempt_frame(
        &self,
        view: &chain::FrameView,
    ) -> Result<Option<FrameRecord>, DaemonError> {
        let lock = || self.attempt.lock().map_err(|_| DaemonError::Setup("attempt lock".into()));
        let previous = (*lock()?).filter(|a| a.ref_slot == view.ref_slot);
        let now = Instant::now();
        if previous.is_some_and(|a| !a.backoff.ready(now)) {
            return Ok(None);
        }
        let gap = previous.and_then(|a| a.liveness_gap);
        let result = match gap {
            Some(epoch)
                if liveness::probe(&self.beacon, self.options.duties_source, epoch).await
                    != liveness::Availability::Served =>
            {
                inc(&self.metrics.compute_failures);
                inc(&self.metrics.liveness_missing);
                Err(DaemonError::Liveness {
                    epoch,
                    missing: 0,
                    source: liveness::LivenessError::Answer {
                        epoch,
                        reason: "still not served (checked before reading the frame again)".into(),
                    },
                })
            }
            _ => self.compute_and_sign(view).await,
        };
        match result {
            Ok(rec) => {
                *lock()? = None;
                Ok(Some(rec))
            }
            Err(e) => {
                let mut attempt = previous.unwrap_or(FrameAttempt {
                    ref_slot: view.ref_slot,
                    backoff: backoff::Backoff::default(),
                    liveness_gap: None,
                });
                let wait = attempt.backoff.failed(now, self.cfg.poll_interval);
                attempt.liveness_gap = match &e {
                    DaemonError::Liveness { epoch, .. } => Some(*epoch),
                    _ => None,
                };
                *lock()? = Some(attempt);
                tracing::warn!(target: "oracle::daemon", ref_slot = view.ref_slot, failures = attempt.backoff.failures(), retry_in_ms = wait.as_millis(), "the frame could not be computed; backing off");
                Err(e)
            }
        }
    }

    /// Deletes rewards trees beyond the newest ones, once per settled frame, keeping the tree of
    /// the on-chain root (the next report extends it) and of this frame's record. Runs only when
    /// the frame is settled: no tree of a frame in flight exists then (the next frame's is
    /// computed after its reference slot, and is the newest file). Failures are logged.
    async fn prune_trees(&self, settled: u64) {
        let done = self.trees_pruned_at.lock().map(|p| *p == Some(settled)).unwrap_or(true);
        if done {
            return;
        }
        let keep = match rewards::on_chain_root(&self.provider, self.cfg.pool.oracle_report).await {
            Ok(root) => root,
            Err(e) => {
                tracing::warn!(target: "oracle::rewards", error = %e, "reading the rewards root to prune the trees failed; retrying");
                return;
            }
        };
        let mut keeps: Vec<alloy::primitives::B256> = keep.into_iter().collect();
        if let Ok(Some(rec)) = self.store.load(settled) {
            keeps.extend(rec.rewards_root());
        }
        match self.trees.prune_keeping(&keeps) {
            Ok(n) => {
                if let Ok(mut p) = self.trees_pruned_at.lock() {
                    *p = Some(settled);
                }
                if n > 0 {
                    tracing::info!(target: "oracle::rewards", deleted = n, kept = ?keeps, "old rewards trees deleted");
                }
            }
            Err(e) => {
                tracing::warn!(target: "oracle::rewards", error = %e, "pruning the rewards trees failed");
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
        // duties (and so liveness) only of the validators of keys an earlier report confirmed
        // with the pool's credentials (see `liveness`): sorted, searched per streamed validator
        let scored =
            ops.as_ref().map(|o| operators::scored_pubkeys(&o.registry)).unwrap_or_default();
        let creds = pool.withdrawal_credentials;
        let mut validators = Vec::new();
        let mut spans = Vec::new();
        self.beacon
            .stream_validators(StateId::Slot(Slot(view.ref_slot)), &[], |v| {
                // ours, or a pre-deposited key seen with other credentials (front-run)
                let ours = v.validator.withdrawal_credentials == creds;
                if ours && scored.binary_search(&v.validator.pubkey).is_ok() {
                    spans.push(ValidatorSpan::from_registry(
                        v.index.get(),
                        v.validator.activation_epoch.get(),
                        v.validator.exit_epoch.get(),
                        v.validator.slashed,
                        v.validator.withdrawable_epoch.get(),
                        frame.epochs_per_slashings_vector,
                    ));
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
        drop(scored);
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
    /// Records the liveness of final epochs ([`liveness::final_epoch`]) after the last reported
    /// reference epoch that have no record yet, newest first, a few per tick, and deletes records
    /// the next report cannot need. The node is first asked cheaply which of them it serves
    /// ([`liveness::probe_due`]): where its window of served epochs ends is remembered, and
    /// neither that epoch nor any older one is asked again until the next report; a refusal
    /// that says nothing about older epochs (the rewards of the newest ones) is retried after a
    /// backoff. The head's validator set is streamed only when a served epoch is due, so about
    /// once per epoch. A tick whose recording failed or met such a refusal backs off (bounded
    /// exponential).
    async fn record_liveness(&self, view: &chain::FrameView) -> Result<(), DaemonError> {
        /// Epochs recorded per tick at most (bounds one tick's work).
        const EPOCHS_PER_TICK: usize = 8;
        let spe = view.slots_per_epoch;
        let last_ref_epoch = view.last_ref_slot.checked_div(spe).unwrap_or(0);
        let pruned = self.liveness.prune(last_ref_epoch)?;
        if pruned > 0 {
            tracing::debug!(target: "oracle::liveness", pruned, up_to = last_ref_epoch, "old liveness records deleted");
        }
        let lock = || self.recorder.lock().map_err(|_| DaemonError::Setup("recorder lock".into()));
        let (refused_up_to, ready) = {
            let r = lock()?;
            (r.refused_up_to, r.backoff.ready(Instant::now()))
        };
        if !ready {
            return Ok(());
        }
        let head = self.beacon.header(claystack_beacon::BlockId::Head).await?;
        let Some(last_final) = liveness::final_epoch(head.data.header.message.slot.get(), spe)
        else {
            return Ok(());
        };
        let first = last_ref_epoch.saturating_add(1);
        if first > last_final {
            return Ok(());
        }
        let files = self.liveness.record_files()?;
        if files >= liveness::MAX_RECORDED_EPOCHS {
            tracing::warn!(target: "oracle::liveness", kept = files, "liveness record cap reached; not recording more");
            return Ok(());
        }
        let recorded = self.liveness.epochs()?;
        let todo =
            liveness::plan_recording(first, last_final, refused_up_to, &recorded, EPOCHS_PER_TICK);
        if todo.is_empty() {
            return Ok(());
        }
        // which of them the node serves (newest first; `probe_due` says when a refusal covers
        // the older epochs too)
        let source = self.options.duties_source;
        let beacon = &self.beacon;
        let probed =
            liveness::probe_due(source, &todo, |epoch| liveness::probe(beacon, source, epoch))
                .await;
        if let Some(epoch) = probed.refused_up_to {
            inc(&self.metrics.liveness_fetch_failures);
            tracing::warn!(target: "oracle::liveness", epoch, %source, "the node does not serve this epoch's duties (nor older ones): not recorded, not asked again");
            lock()?.refused_up_to = Some(refused_up_to.map_or(epoch, |r| r.max(epoch)));
        }
        for epoch in &probed.refused {
            inc(&self.metrics.liveness_fetch_failures);
            tracing::warn!(target: "oracle::liveness", epoch, %source, "the node refused this epoch's duties: asked again after a backoff");
        }
        if probed.unavailable {
            self.recording_failed("the node did not answer the liveness probe")?;
            return Ok(());
        }
        // a refusal that does not cover older epochs is retried, after a backoff
        let mut failed = !probed.refused.is_empty();
        let served = probed.served;
        if served.is_empty() {
            if failed {
                self.recording_failed("the node refused the newest epochs due")?;
            }
            return Ok(());
        }
        let creds = chain::withdrawal_credentials(self.cfg.pool.withdrawal_vault);
        // a slashed validator has no duty from the epoch before its slashing on
        // (`ValidatorSpan::from_registry`, as at compute time)
        let slashings_vector = match self.beacon.spec().await {
            Ok(spec) => spec_u64(&spec.raw, "EPOCHS_PER_SLASHINGS_VECTOR", 8_192)?,
            Err(e) => {
                self.recording_failed("reading the beacon spec failed")?;
                return Err(e.into());
            }
        };
        let mut spans = Vec::new();
        if let Err(e) = self
            .beacon
            .stream_validators(StateId::Head, &[], |v| {
                if v.validator.withdrawal_credentials == creds {
                    spans.push(ValidatorSpan::from_registry(
                        v.index.get(),
                        v.validator.activation_epoch.get(),
                        v.validator.exit_epoch.get(),
                        v.validator.slashed,
                        v.validator.withdrawable_epoch.get(),
                        slashings_vector,
                    ));
                }
                Ok::<(), std::convert::Infallible>(())
            })
            .await
        {
            self.recording_failed("streaming the head validators failed")?;
            return Err(e.into());
        }
        let tally = DutyTally::new(spans)?;
        for epoch in served {
            let required = tally.required(epoch);
            match liveness::fetch(&self.beacon, source, epoch, &required).await {
                Ok(record) => {
                    self.liveness.save(&record)?;
                    inc(&self.metrics.liveness_epochs_recorded);
                    tracing::debug!(target: "oracle::liveness", epoch, validators = record.len(), %source, "liveness recorded");
                }
                Err(e) => {
                    failed = true;
                    inc(&self.metrics.liveness_fetch_failures);
                    tracing::warn!(target: "oracle::liveness", epoch, error = %e, "liveness not recorded");
                }
            }
        }
        if failed {
            self.recording_failed("an epoch's liveness could not be read")?;
        } else {
            lock()?.backoff.succeeded();
        }
        Ok(())
    }

    fn recording_failed(&self, why: &'static str) -> Result<(), DaemonError> {
        let mut r = self.recorder.lock().map_err(|_| DaemonError::Setup("recorder lock".into()))?;
        let wait = r.backoff.failed(Instant::now(), self.cfg.poll_interval);
        tracing::debug!(target: "oracle::liveness", why, retry_in_ms = wait.as_millis(), "liveness recording backs off");
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
        let source = self.options.duties_source;
        let stats = liveness::tally_frame(
            &self.liveness,
            &mut tally,
            start,
            last,
            |epoch, indices| async move {
                let r = liveness::fetch(beacon, source, epoch, &indices).await;
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
        tracing::info!(target: "oracle::liveness", ref_slot = view.ref_slot, epochs = stats.epochs, fetched = stats.fetched, windows = stats.windows, ms = started.elapsed().as_millis(), %source, "frame liveness tallied");
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
