//! The running simulator: owns the state, drives the clock, polls the execution node, applies
//! execution-layer credits, keeps a short history of states for the Beacon API, and snapshots.

use crate::clock::{self, ClockMode};
use crate::config::ChainConfig;
use crate::core::{
    AcceptAllDeposits, AdminOp, BeaconState, BlockInfo, DepositVerifier, ExitAcceptance,
    PooledExit, SimError, SimValidator, deposit::WithdrawalRequest, rng,
};
use crate::credits::{CreditBatch, Entry, Journal, PendingCredits};
use crate::follower::{ExecutionClient, Follower, RpcError, group_by_address};
use crate::snapshot::{self, Snapshot, SnapshotError};
use claystack_beacon::{Checkpoint, Root32};
use claystack_consensus::{Epoch, Slot};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::{Mutex, watch};

/// Most slots a wall-clock node catches up at start (a day of 1-second slots, ×10).
pub const MAX_CATCH_UP_SLOTS: u64 = 864_000;

/// Slots processed on one clone of the state under one write lock (readers are served between
/// batches).
const SLOTS_PER_LOCK: u64 = 32;

/// While the wall clock is this many slots ahead of the head, the node is catching up (after a
/// start or a warp): it advances in batches of this size and snapshots only before applying a
/// batch's execution credits and at the end.
const CATCH_UP_BATCH: u64 = 4_096;

/// How long [`Shared::wait_caught_up`] waits without the head moving before it gives up.
pub const CATCH_UP_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// First pause of the wall clock after a failed advance; it doubles up to
/// [`MAX_ADVANCE_BACKOFF`] while advances keep failing.
const FIRST_ADVANCE_BACKOFF: Duration = Duration::from_millis(100);

/// Longest pause of the wall clock between failed advances.
const MAX_ADVANCE_BACKOFF: Duration = Duration::from_secs(5);

/// Settings of a [`SimNode`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Chain parameters. `genesis_time == 0` means "now", or the snapshot's when one exists.
    pub chain: ChainConfig,
    /// Address to serve the Beacon API on (port 0: any free port).
    pub listen: SocketAddr,
    /// Execution node JSON-RPC URL (None: no deposits are read, no credits applied).
    pub execution_rpc: Option<String>,
    /// First execution block to read logs from.
    pub execution_start_block: u64,
    /// Blocks behind the execution head before logs are read.
    pub follow_distance: u64,
    /// Contract whose `LOG0` 76-byte records are EIP-7002 requests (see [`crate::follower`]).
    pub exit_request_contract: Option<[u8; 20]>,
    /// Whether to credit execution balances with `anvil_setBalance` (else credits are recorded).
    pub apply_el_credits: bool,
    /// Snapshot file (None: state is not persisted).
    pub snapshot_path: Option<PathBuf>,
    /// Wall or manual clock.
    pub clock: ClockMode,
}

/// A node operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// State transition or admin operation.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Snapshot.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Execution node.
    #[error("execution node: {0}")]
    Rpc(#[from] RpcError),
    /// Network set-up.
    #[error("{action}: {source}")]
    Io {
        /// What failed.
        action: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A snapshot made with other chain parameters.
    #[error(
        "snapshot {path} was made with a different chain config ({fields}); use the same flags or move the snapshot away"
    )]
    ConfigMismatch {
        /// The file.
        path: PathBuf,
        /// Differing fields.
        fields: String,
    },
    /// Manual advance requested on a wall clock.
    #[error("the clock is not manual; slots advance with wall time")]
    NotManual,
    /// Deposit verification requested without a verifier.
    #[error("verify_deposit_signatures is on but no BLS deposit verifier was supplied")]
    NoVerifier,
    /// A voluntary exit with a signature that does not verify under the EIP-7044 domain.
    #[error("invalid voluntary exit signature for validator {index}: {reason}")]
    BadExitSignature {
        /// The validator.
        index: u64,
        /// Why.
        reason: String,
    },
    /// A clock warp that cannot be applied.
    #[error("cannot warp the clock: {0}")]
    Warp(String),
    /// The wall clock is further ahead of the state than a catch-up can cover.
    #[error(
        "the wall clock is {behind} slots ahead of the state (limit {limit}); check genesis_time and the slot duration"
    )]
    TooFarBehind {
        /// Slots to catch up.
        behind: u64,
        /// The limit.
        limit: u64,
    },
    /// The head stopped following the clock (a catch-up after a start or a warp).
    #[error(
        "the simulator did not catch up with its clock: head slot {head}, clock slot {target}, \
         no progress for {stalled_s} s (last error: {})",
        last_error.as_deref().unwrap_or("none")
    )]
    CatchUpStalled {
        /// The head slot.
        head: u64,
        /// The clock's slot.
        target: u64,
        /// Seconds without progress.
        stalled_s: u64,
        /// The last advance, follower or credit error.
        last_error: Option<String>,
    },
    /// The state lock was poisoned by a panic.
    #[error("simulator state lock poisoned")]
    Poisoned,
}

/// The parts of a state the Beacon API serves, kept for recent slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateView {
    /// Slot.
    pub slot: Slot,
    /// Synthetic state root.
    pub state_root: Root32,
    /// Registry with balances.
    pub validators: Vec<SimValidator>,
    /// Previous justified checkpoint.
    pub previous_justified: Checkpoint,
    /// Current justified checkpoint.
    pub current_justified: Checkpoint,
    /// Finalized checkpoint.
    pub finalized: Checkpoint,
}

impl StateView {
    fn of(s: &BeaconState, seed: u64) -> Self {
        Self {
            slot: s.slot,
            state_root: rng::root(seed, b"state-root", s.slot.get(), s.deposits_processed),
            validators: s.validators.clone(),
            previous_justified: s.previous_justified,
            current_justified: s.current_justified,
            finalized: s.finalized,
        }
    }
}

/// Mutable part of the node.
#[derive(Debug)]
pub struct Inner {
    /// The head state.
    pub state: BeaconState,
    /// Views of recent slots, oldest first; the last is the head.
    pub history: VecDeque<Arc<StateView>>,
    /// Last execution block read.
    pub el_cursor: u64,
    /// Last follower or credit error, for `/admin/status`.
    pub last_error: Option<String>,
    /// Participation of the last `liveness_epochs` ended epochs, oldest first (what
    /// `/eth/v1/validator/liveness` serves; rebuilt from the state's last 64 after a restart).
    pub liveness: VecDeque<crate::core::EpochParticipation>,
    /// The execution-credit batch being applied (see [`crate::credits`]).
    pub pending_credits: Option<PendingCredits>,
    /// Id of the last credit batch.
    pub credit_batches: u64,
}

impl Inner {
    /// Appends the state's newly ended epochs to the liveness archive and trims it to `keep`.
    fn archive_liveness(&mut self, keep: u64) {
        let last = self.liveness.back().map(|p| p.epoch);
        for p in &self.state.participation {
            if last.is_none_or(|l| p.epoch > l) {
                self.liveness.push_back(p.clone());
            }
        }
        let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
        while self.liveness.len() > keep {
            self.liveness.pop_front();
        }
    }

    /// The participation of ended epoch `epoch`, when retained.
    #[must_use]
    pub fn liveness_of(&self, epoch: Epoch) -> Option<&crate::core::EpochParticipation> {
        let i = self.liveness.partition_point(|p| p.epoch < epoch);
        self.liveness.get(i).filter(|p| p.epoch == epoch)
    }
}

/// State shared by the clock task, the server and the handle.
pub struct Shared {
    /// Chain parameters.
    pub cfg: ChainConfig,
    /// The genesis view (always served).
    pub genesis_view: Arc<StateView>,
    /// The genesis block.
    pub genesis_block: BlockInfo,
    /// The mutable part.
    pub inner: RwLock<Inner>,
    advance_lock: Mutex<()>,
    /// Whether the clock is manual.
    pub manual: bool,
    /// The real duration of a slot (wall clock; `None` for a manual clock).
    wall_slot: Option<Duration>,
    follower: Option<Follower>,
    apply_el_credits: bool,
    snapshot_path: Option<PathBuf>,
    verifier: Arc<dyn DepositVerifier>,
    /// Milliseconds added to the wall clock (the devnet's time warp; kept in snapshots).
    clock_offset_ms: AtomicU64,
    /// The credit journal (with a snapshot path only).
    journal: Option<Journal>,
    /// Wall-clock advances that failed in a row.
    clock_failures: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cfg", &self.cfg)
            .field("manual", &self.manual)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Read access to the mutable part.
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Inner>, NodeError> {
        self.inner.read().map_err(|_| NodeError::Poisoned)
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Inner>, NodeError> {
        self.inner.write().map_err(|_| NodeError::Poisoned)
    }

    /// The head view.
    pub fn head(&self) -> Result<Arc<StateView>, NodeError> {
        let inner = self.read()?;
        Ok(inner.history.back().cloned().unwrap_or_else(|| Arc::clone(&self.genesis_view)))
    }

    /// Applies an admin operation to the head state.
    pub fn admin(&self, op: &AdminOp) -> Result<(), NodeError> {
        let mut inner = self.write()?;
        inner.state.apply_admin(&self.cfg, op)?;
        let view = Arc::new(StateView::of(&inner.state, self.cfg.seed));
        if let Some(last) = inner.history.back_mut() {
            *last = view;
        }
        Ok(())
    }

    /// The simulator's notion of now: the wall clock plus the warp offset.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        SystemTime::now()
            .checked_add(Duration::from_millis(self.clock_offset_ms.load(Ordering::Relaxed)))
            .unwrap_or_else(SystemTime::now)
    }

    /// Seconds the clock was warped forward in total.
    #[must_use]
    pub fn clock_offset(&self) -> Duration {
        Duration::from_millis(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the wall clock `by` forward (wall clock only): the clock task then processes every
    /// skipped slot, in batches, as if that time had passed — rewards, finality, the sweep,
    /// exits — so that the execution node, warped by the same amount (`evm_increaseTime`), and
    /// this chain keep one timeline. The offset is kept in snapshots. Returns the new offset.
    pub fn warp(&self, by: Duration) -> Result<Duration, NodeError> {
        if self.manual {
            return Err(NodeError::Warp(
                "the clock is manual: advance it with /admin/advance".into(),
            ));
        }
        let ms = u64::try_from(by.as_millis())
            .map_err(|_| NodeError::Warp(format!("{by:?} is too long")))?;
        let slot_ms = self.cfg.seconds_per_slot.saturating_mul(1_000).max(1);
        let slots = ms.checked_div(slot_ms).unwrap_or(0);
        if slots > MAX_CATCH_UP_SLOTS {
            return Err(NodeError::Warp(format!(
                "{slots} slots is more than a catch-up covers ({MAX_CATCH_UP_SLOTS})"
            )));
        }
        let before = self.clock_offset_ms.fetch_add(ms, Ordering::SeqCst);
        let after = before.saturating_add(ms);
        tracing::info!(target: "beacon_sim::clock", seconds = by.as_secs(), offset_s = after / 1_000, "clock warped forward");
        Ok(Duration::from_millis(after))
    }

    /// Waits until the head is at the (warped) wall clock's slot; wall clock only. Gives up
    /// with [`NodeError::CatchUpStalled`] when the head has not moved for
    /// [`CATCH_UP_STALL_TIMEOUT`] (the clock task keeps failing to advance).
    pub async fn wait_caught_up(&self) -> Result<Slot, NodeError> {
        self.wait_caught_up_within(CATCH_UP_STALL_TIMEOUT).await
    }

    /// [`Self::wait_caught_up`], giving up after `stall` without progress of the head (a long
    /// catch-up that keeps moving is waited for).
    pub async fn wait_caught_up_within(&self, stall: Duration) -> Result<Slot, NodeError> {
        let Some(slot_duration) = self.wall_slot else {
            return Err(NodeError::Warp("the clock is manual: nothing to catch up with".into()));
        };
        let mut last = self.read()?.state.slot;
        let mut since = tokio::time::Instant::now();
        loop {
            let target = clock::wall_slot(self.cfg.genesis_time, slot_duration, self.now());
            let head = self.read()?.state.slot;
            if head.get() >= target {
                return Ok(head);
            }
            if head != last {
                last = head;
                since = tokio::time::Instant::now();
            } else if since.elapsed() >= stall {
                let last_error = self.read()?.last_error.clone();
                return Err(NodeError::CatchUpStalled {
                    head: head.get(),
                    target,
                    stalled_s: since.elapsed().as_secs(),
                    last_error,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wall-clock advances that failed in a row (0 while the clock follows).
    #[must_use]
    pub fn clock_failures(&self) -> u64 {
        self.clock_failures.load(Ordering::Relaxed)
    }

    /// Checks a signed voluntary exit against the head state and its BLS signature under the
    /// EIP-7044 domain (`CAPELLA_FORK_VERSION`, genesis validators root), then adds it to the
    /// operation pool; a coming block includes it (`process_voluntary_exit`).
    pub fn submit_voluntary_exit(
        &self,
        epoch: Epoch,
        index: u64,
        signature: &[u8],
    ) -> Result<ExitAcceptance, NodeError> {
        let (pubkey, gvr) = {
            let inner = self.read()?;
            inner.state.check_voluntary_exit(&self.cfg, epoch, index)?;
            (inner.state.validator(index)?.record.pubkey, inner.state.genesis_validators_root)
        };
        let root = crate::bls::voluntary_exit_signing_root(
            epoch,
            index,
            self.cfg.capella_fork_version(),
            gvr,
        );
        match claystack_keys::bls::verify(&pubkey, &root, signature) {
            Ok(true) => {}
            Ok(false) => {
                return Err(NodeError::BadExitSignature {
                    index,
                    reason: "the signature does not verify (signed under another domain or key?)"
                        .into(),
                });
            }
            Err(e) => return Err(NodeError::BadExitSignature { index, reason: e.to_string() }),
        }
        let exit =
            PooledExit { epoch, validator_index: claystack_consensus::ValidatorIndex(index) };
        let mut inner = self.write()?;
        let accepted = inner.state.pool_voluntary_exit(&self.cfg, exit)?;
        if accepted == ExitAcceptance::Accepted {
            tracing::info!(target: "beacon_sim::node", validator = index, %epoch, "voluntary exit pooled");
        }
        Ok(accepted)
    }

    /// Queues an EIP-7002 request as if read from the execution layer.
    pub fn inject_withdrawal_request(&self, r: WithdrawalRequest) -> Result<(), NodeError> {
        self.write()?.state.enqueue_withdrawal_request(r);
        Ok(())
    }

    /// Advances `slots` slots: polls the execution node, runs the transitions, applies credits
    /// (a snapshot before each credit batch) and snapshots after epoch transitions. Returns the
    /// new head slot.
    pub async fn advance(&self, slots: u64) -> Result<Slot, NodeError> {
        self.advance_with(slots, true).await
    }

    /// [`Self::advance`]; `snapshot_epochs: false` (a catch-up batch) snapshots only before
    /// crediting the execution layer, not after every epoch transition.
    async fn advance_with(&self, slots: u64, snapshot_epochs: bool) -> Result<Slot, NodeError> {
        let _guard = self.advance_lock.lock().await;
        self.poll_execution().await?;
        let mut epoch_done = false;
        let keep = usize::try_from(self.cfg.history_slots.max(1)).unwrap_or(usize::MAX);
        let mut left = slots;
        // slots still to process after the current one
        let mut left_after = slots;
        while left > 0 {
            let n = left.min(SLOTS_PER_LOCK);
            left = left.saturating_sub(n);
            {
                // One clone per batch: a failing transition discards the batch and leaves the
                // state as it was; the write lock is released between batches so the Beacon API
                // is served during a long catch-up.
                let mut inner = self.write()?;
                let mut next = inner.state.clone();
                let mut views = Vec::new();
                for _ in 0..n {
                    let out = next.process_slot_unchecked(&self.cfg, self.verifier.as_ref())?;
                    epoch_done |= out.epoch_transition;
                    log_outcome(&out);
                    left_after = left_after.saturating_sub(1);
                    // only the views the history keeps (a catch-up skips the rest)
                    if usize::try_from(left_after).is_ok_and(|l| l < keep) {
                        views.push(Arc::new(StateView::of(&next, self.cfg.seed)));
                    }
                }
                inner.state = next;
                inner.archive_liveness(self.cfg.liveness_epochs);
                inner.history.extend(views);
                while inner.history.len() > keep {
                    inner.history.pop_front();
                }
            }
            tokio::task::yield_now().await;
        }
        // A credit batch is on disk (a snapshot of the state that produced it) before it is
        // applied, so a restart never replays slots whose credits were paid.
        self.apply_credits().await?;
        if epoch_done && snapshot_epochs {
            self.save_snapshot().await?;
        }
        Ok(self.read()?.state.slot)
    }

    async fn poll_execution(&self) -> Result<(), NodeError> {
        let Some(f) = &self.follower else { return Ok(()) };
        let from = self.read()?.el_cursor.saturating_add(1);
        match f.poll(from).await {
            Ok(poll) => {
                let mut inner = self.write()?;
                if poll.head.saturating_add(1) < from {
                    // The execution chain is shorter than what the state has read: it was reset.
                    let msg = format!(
                        "execution head {} is behind block {} already read: was the execution \
                         node reset? (move the snapshot away to start a fresh beacon chain)",
                        poll.head,
                        from.saturating_sub(1)
                    );
                    tracing::error!(target: "beacon_sim::follower", "{msg}");
                    inner.last_error = Some(msg);
                    return Ok(());
                }
                for m in &poll.malformed {
                    tracing::warn!(target: "beacon_sim::follower", log = %m, "malformed log skipped");
                }
                for d in poll.deposits {
                    let index = d.index;
                    match inner.state.enqueue_deposit(d) {
                        Ok(true) => {
                            tracing::info!(target: "beacon_sim::follower", index, "deposit seen");
                        }
                        Ok(false) => {}
                        Err(e) => {
                            // Missing logs: do not advance the cursor, so the range is re-read.
                            inner.last_error = Some(format!("read deposits: {e}"));
                            tracing::error!(target: "beacon_sim::follower", error = %e, "read deposits");
                            return Ok(());
                        }
                    }
                }
                for r in poll.requests {
                    inner.state.enqueue_withdrawal_request(r);
                }
                inner.el_cursor = poll.last_block;
            }
            Err(e) => {
                tracing::warn!(target: "beacon_sim::follower", error = %e, "poll execution node");
                self.write()?.last_error = Some(format!("poll execution node: {e}"));
            }
        }
        Ok(())
    }

    /// Applies the execution-layer credits at most once (see [`crate::credits`]): the batch in
    /// progress, then the outbox's credits as a new batch recorded in a snapshot first; one
    /// `anvil_addBalance` per address, each step in the journal. A credit the node certainly
    /// did not apply stays pending for the next call; one that it may have applied (a timeout)
    /// is not sent again, and said so.
    async fn apply_credits(&self) -> Result<(), NodeError> {
        let Some(f) = self.follower.as_ref().filter(|_| self.apply_el_credits) else {
            // Recorded only: drop the outbox (the state keeps recent withdrawals and proposals).
            self.write()?.state.take_el_credits();
            return Ok(());
        };
        // the batch left by a failure or a crash first, then the outbox's credits
        for _ in 0..2 {
            if !self.apply_batch(f).await? {
                break;
            }
        }
        Ok(())
    }

    /// One batch of [`Self::apply_credits`]: `true` when a batch was completed (another may
    /// follow), `false` when there was nothing to apply or the batch stays pending.
    async fn apply_batch(&self, f: &Follower) -> Result<bool, NodeError> {
        let (batch, next, recorded) = {
            let mut inner = self.write()?;
            if inner.pending_credits.is_none() {
                let credits = inner.state.take_el_credits();
                if credits.is_empty() {
                    return Ok(false);
                }
                let id = inner.credit_batches.saturating_add(1);
                inner.credit_batches = id;
                inner.pending_credits = Some(PendingCredits {
                    batch: CreditBatch { id, credits },
                    next: 0,
                    recorded: false,
                });
            }
            match inner.pending_credits.as_ref() {
                Some(p) => (p.batch.clone(), p.next, p.recorded),
                None => return Ok(false),
            }
        };
        if let Some(journal) = &self.journal
            && !recorded
        {
            // the batch and the state that produced it on disk before the first credit; then a
            // journal of this batch only
            self.save_snapshot().await?;
            let j = journal.clone();
            blocking("empty the credit journal", move || j.reset()).await?;
            self.set_progress(batch.id, |p| p.recorded = true)?;
        }
        let groups = group_by_address(batch.credits.clone());
        for (group, (address, wei, _)) in groups.iter().enumerate().skip(next) {
            self.journal(Entry::Begin { batch: batch.id, group }).await?;
            match f.client.add_balance(address, *wei).await {
                Ok(()) => {
                    self.journal_or_log(Entry::Done { batch: batch.id, group }).await;
                    self.set_progress(batch.id, |p| p.next = group.saturating_add(1))?;
                }
                Err(e) if e.certainly_not_applied() => {
                    tracing::warn!(target: "beacon_sim::node", error = %e, batch = batch.id, group, "apply execution credits; will retry");
                    self.journal_or_log(Entry::NotApplied { batch: batch.id, group }).await;
                    self.write()?.last_error = Some(format!("apply execution credits: {e}"));
                    return Ok(false);
                }
                Err(e) => {
                    let msg = format!(
                        "execution credit of {wei} wei to {} (batch {}) may or may not have been \
                         applied ({e}): not sent again; check the balance",
                        claystack_consensus::hexutil::encode_prefixed(address),
                        batch.id
                    );
                    tracing::error!(target: "beacon_sim::node", "{msg}");
                    self.journal_or_log(Entry::Skipped { batch: batch.id, group }).await;
                    self.set_progress(batch.id, |p| p.next = group.saturating_add(1))?;
                    self.write()?.last_error = Some(msg);
                }
            }
        }
        let mut inner = self.write()?;
        if inner.pending_credits.as_ref().is_some_and(|p| p.batch.id == batch.id) {
            inner.pending_credits = None;
        }
        Ok(true)
    }

    /// Updates the pending batch `id` (no-op when another one is pending).
    fn set_progress(&self, id: u64, f: impl FnOnce(&mut PendingCredits)) -> Result<(), NodeError> {
        if let Some(p) = self.write()?.pending_credits.as_mut().filter(|p| p.batch.id == id) {
            f(p);
        }
        Ok(())
    }

    /// Appends `entry` to the credit journal (no-op without one).
    async fn journal(&self, entry: Entry) -> Result<(), NodeError> {
        let Some(j) = self.journal.clone() else { return Ok(()) };
        blocking("write the credit journal", move || j.append(entry)).await
    }

    /// [`Self::journal`] for a step after the call: a line that cannot be written only makes a
    /// later restart treat the credit as uncertain (never sent again), so it is logged.
    async fn journal_or_log(&self, entry: Entry) {
        if let Err(e) = self.journal(entry).await {
            tracing::error!(target: "beacon_sim::node", error = %e, ?entry, "credit journal line lost: a restart will not send this credit again");
        }
    }

    /// Writes a snapshot now (no-op without a snapshot path).
    pub async fn save_snapshot(&self) -> Result<(), NodeError> {
        let Some(path) = self.snapshot_path.clone() else { return Ok(()) };
        let snap = {
            let inner = self.read()?;
            Snapshot {
                config: self.cfg.clone(),
                el_cursor: inner.el_cursor,
                clock_offset_ms: self.clock_offset_ms.load(Ordering::SeqCst),
                state: inner.state.clone(),
                pending_credits: inner.pending_credits.as_ref().map(|p| p.batch.clone()),
                credit_batches: inner.credit_batches,
            }
        };
        tokio::task::spawn_blocking(move || snapshot::save(&path, &snap)).await.map_err(
            |e| NodeError::Io { action: "join snapshot task", source: std::io::Error::other(e) },
        )??;
        Ok(())
    }
}

/// A running simulator: the Beacon API server plus (for a wall clock) the slot ticker.
#[derive(Debug)]
pub struct SimNode {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn config_diff(a: &ChainConfig, b: &ChainConfig) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return "unknown".into();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl SimNode {
    /// Loads or creates the state, binds the server and starts the clock.
    pub async fn start(
        mut cfg: NodeConfig,
        verifier: Option<Arc<dyn DepositVerifier>>,
    ) -> Result<Self, NodeError> {
        let verifier: Arc<dyn DepositVerifier> = match verifier {
            Some(v) => v,
            None if cfg.chain.verify_deposit_signatures => return Err(NodeError::NoVerifier),
            None => Arc::new(AcceptAllDeposits),
        };
        let loaded = match &cfg.snapshot_path {
            Some(p) => snapshot::load(p)?,
            None => None,
        };
        if let Some(snap) = &loaded {
            if cfg.chain.genesis_time == 0 {
                cfg.chain.genesis_time = snap.config.genesis_time;
            }
            if snap.config != cfg.chain {
                return Err(NodeError::ConfigMismatch {
                    path: cfg.snapshot_path.clone().unwrap_or_default(),
                    fields: config_diff(&snap.config, &cfg.chain),
                });
            }
        } else if cfg.chain.genesis_time == 0 {
            cfg.chain.genesis_time = clock::unix_now();
        }
        let chain = cfg.chain.clone();
        let genesis = BeaconState::genesis(&chain)?;
        let genesis_view = Arc::new(StateView::of(&genesis, chain.seed));
        let genesis_block = genesis.latest_block;
        let journal = cfg.snapshot_path.as_deref().map(Journal::beside);
        let mut last_error = None;
        let (state, el_cursor, clock_offset_ms, pending_credits, credit_batches) = match loaded {
            Some(s) => {
                s.state.check_consistency(&chain)?;
                tracing::info!(target: "beacon_sim::node", slot = %s.state.slot, offset_ms = s.clock_offset_ms, "resumed from snapshot");
                let pending = match (s.pending_credits, &journal) {
                    (Some(batch), Some(j)) => {
                        let (pending, uncertain) = resume_credits(j, batch)?;
                        last_error = uncertain;
                        Some(pending)
                    }
                    _ => None,
                };
                (s.state, s.el_cursor, s.clock_offset_ms, pending, s.credit_batches)
            }
            None => (genesis, cfg.execution_start_block.saturating_sub(1), 0, None, 0),
        };
        let follower = match &cfg.execution_rpc {
            Some(url) => Some(Follower {
                client: ExecutionClient::new(url)?,
                deposit_contract: chain.deposit_contract,
                exit_request_contract: cfg.exit_request_contract,
                follow_distance: cfg.follow_distance,
            }),
            None => None,
        };
        let head_view = Arc::new(StateView::of(&state, chain.seed));
        let shared = Arc::new(Shared {
            cfg: chain,
            genesis_view,
            genesis_block,
            inner: RwLock::new(Inner {
                liveness: state.participation.clone(),
                state,
                history: VecDeque::from([head_view]),
                el_cursor,
                last_error,
                pending_credits,
                credit_batches,
            }),
            advance_lock: Mutex::new(()),
            manual: cfg.clock == ClockMode::Manual,
            wall_slot: match cfg.clock {
                ClockMode::Wall { slot_duration } => Some(slot_duration),
                ClockMode::Manual => None,
            },
            follower,
            apply_el_credits: cfg.apply_el_credits,
            snapshot_path: cfg.snapshot_path.clone(),
            verifier,
            clock_offset_ms: AtomicU64::new(clock_offset_ms),
            journal,
            clock_failures: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| NodeError::Io { action: "bind the beacon API", source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| NodeError::Io { action: "read the bound address", source })?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let app = crate::server::router(Arc::clone(&shared));
        let mut server_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // A dropped sender also means stop.
                let _closed = server_stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(target: "beacon_sim::server", error = %e, "beacon API server stopped");
            }
        }));
        if let ClockMode::Wall { slot_duration } = cfg.clock {
            let head = shared.read()?.state.slot.get();
            let target = clock::wall_slot(shared.cfg.genesis_time, slot_duration, shared.now());
            let behind = target.saturating_sub(head);
            if behind > MAX_CATCH_UP_SLOTS {
                return Err(NodeError::TooFarBehind { behind, limit: MAX_CATCH_UP_SLOTS });
            }
            let shared = Arc::clone(&shared);
            let mut stop_rx = stop_rx;
            tasks.push(tokio::spawn(async move {
                run_wall_clock(shared, slot_duration, &mut stop_rx).await;
            }));
        }
        tracing::info!(target: "beacon_sim::node", %addr, "beacon simulator listening");
        Ok(Self { shared, addr, stop, tasks })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the Beacon API.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shared state (for embedding and tests).
    #[must_use]
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Warps the wall clock `by` forward (see [`Shared::warp`]) and waits until the chain has
    /// caught up with it; returns the head slot.
    pub async fn warp(&self, by: Duration) -> Result<Slot, NodeError> {
        self.shared.warp(by)?;
        self.shared.wait_caught_up().await
    }

    /// Advances `slots` slots (manual clock only).
    pub async fn advance(&self, slots: u64) -> Result<Slot, NodeError> {
        if !self.shared.manual {
            return Err(NodeError::NotManual);
        }
        self.shared.advance(slots).await
    }

    /// Stops the clock and the server and writes a final snapshot.
    pub async fn shutdown(self) -> Result<(), NodeError> {
        self.stop.send_replace(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::warn!(target: "beacon_sim::node", error = %e, "task ended abnormally");
            }
        }
        let _guard = self.shared.advance_lock.lock().await;
        self.shared.save_snapshot().await
    }
}

async fn run_wall_clock(
    shared: Arc<Shared>,
    slot_duration: Duration,
    stop: &mut watch::Receiver<bool>,
) {
    let genesis_time = shared.cfg.genesis_time;
    loop {
        if *stop.borrow() {
            return;
        }
        let head = match shared.read() {
            Ok(i) => i.state.slot.get(),
            Err(e) => {
                tracing::error!(target: "beacon_sim::clock", error = %e, "clock stopped");
                return;
            }
        };
        let target = clock::wall_slot(genesis_time, slot_duration, shared.now());
        if target > head {
            // Far behind (start, warp): big batches snapshotting only when credits were paid;
            // otherwise a slot or two at a time with the usual per-epoch snapshots. The state
            // lock is released every few slots either way, so the server stays responsive.
            let behind = target.saturating_sub(head);
            let catching_up = behind > CATCH_UP_BATCH / 16;
            let n = if catching_up { behind.min(CATCH_UP_BATCH) } else { behind };
            if let Err(e) = shared.advance_with(n, !catching_up).await {
                // a transition or a snapshot that keeps failing: back off instead of spinning
                let failures =
                    shared.clock_failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
                let pause = advance_backoff(failures);
                tracing::error!(target: "beacon_sim::clock", error = %e, failures, retry_ms = pause.as_millis(), "advance slots");
                if let Ok(mut inner) = shared.write() {
                    inner.last_error = Some(format!("advance slots: {e}"));
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
            shared.clock_failures.store(0, Ordering::Relaxed);
            if catching_up && target.saturating_sub(head) <= CATCH_UP_BATCH {
                // the end of a catch-up: one snapshot of where it landed
                if let Err(e) = shared.save_snapshot().await {
                    tracing::error!(target: "beacon_sim::clock", error = %e, "snapshot after catch-up");
                }
            }
            continue;
        }
        let wait =
            clock::until_slot(genesis_time, slot_duration, head.saturating_add(1), shared.now());
        tokio::select! {
            () = tokio::time::sleep(wait.max(Duration::from_millis(5))) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The pause after `failures` failed advances in a row: 100 ms, doubling, at most 5 s.
fn advance_backoff(failures: u64) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1).min(16)).unwrap_or(16);
    FIRST_ADVANCE_BACKOFF.saturating_mul(1u32 << doublings).min(MAX_ADVANCE_BACKOFF)
}

/// The pending batch of a snapshot, resumed after the journal's last line for it; the message
/// for a credit that was in flight at the crash (not sent again).
fn resume_credits(
    journal: &Journal,
    batch: CreditBatch,
) -> Result<(PendingCredits, Option<String>), NodeError> {
    let r = journal
        .resume(batch.id)
        .map_err(|source| NodeError::Io { action: "read the credit journal", source })?;
    let groups = group_by_address(batch.credits.clone());
    let uncertain = r.uncertain.and_then(|g| groups.get(g)).map(|(address, wei, _)| {
        format!(
            "execution credit of {wei} wei to {} (batch {}) was being applied at the crash: \
             anvil may or may not have applied it; not sent again (at most once) — check the \
             balance and add it by hand if it is missing",
            claystack_consensus::hexutil::encode_prefixed(address),
            batch.id
        )
    });
    if let (Some(msg), Some(group)) = (&uncertain, r.uncertain) {
        tracing::error!(target: "beacon_sim::node", "{msg}");
        if let Err(e) = journal.append(Entry::Skipped { batch: batch.id, group }) {
            tracing::warn!(target: "beacon_sim::node", error = %e, "record the uncertain credit as skipped");
        }
    }
    tracing::info!(target: "beacon_sim::node", batch = batch.id, next = r.next, groups = groups.len(), "resuming execution credits");
    Ok((PendingCredits { batch, next: r.next, recorded: true }, uncertain))
}

/// Runs blocking file I/O off the async workers.
async fn blocking(
    action: &'static str,
    f: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> Result<(), NodeError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NodeError::Io { action, source: std::io::Error::other(e) })?
        .map_err(|source| NodeError::Io { action, source })
}

/// The epoch of the head.
pub fn head_epoch(shared: &Shared) -> Result<Epoch, NodeError> {
    let inner = shared.read()?;
    Ok(inner.state.current_epoch(&shared.cfg)?)
}

/// Logs what one slot did.
fn log_outcome(out: &crate::core::SlotOutcome) {
    for r in &out.ignored_requests {
        tracing::info!(target: "beacon_sim::node", request = %r, "withdrawal request ignored");
    }
    for d in &out.ignored_deposits {
        tracing::warn!(target: "beacon_sim::node", deposit = d, "first deposit with invalid signature ignored");
    }
    for i in &out.exits {
        tracing::info!(target: "beacon_sim::node", validator = i, "voluntary exit included");
    }
    for r in &out.ignored_exits {
        tracing::info!(target: "beacon_sim::node", exit = %r, "pooled voluntary exit dropped");
    }
    if let Some(b) = out.block {
        tracing::debug!(target: "beacon_sim::node", slot = %b.slot, proposer = %b.proposer_index, deposits = out.deposits, withdrawals = out.withdrawals, "block");
    }
}
