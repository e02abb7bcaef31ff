//! Per-epoch attestation duties of the pool's validators ("liveness": one performed bit per
//! validator and epoch), read from the [`DutiesSource`] and kept in the state directory. The
//! sources: the attestation rewards (`POST /eth/v1/beacon/rewards/attestations/{epoch}`, the
//! default; performed = a target reward that is not negative, [`performed`]) and the liveness
//! endpoint (`POST /eth/v1/validator/liveness/{epoch}`; performed = `is_live`).
//!
//! Beacon nodes answer for recent epochs only (liveness from what they keep in memory, rewards
//! from states they still hold), while a frame is 225 epochs long. So the member records each
//! epoch's answer once the epoch is **final for this source**: the head is at least two epochs
//! past it ([`final_epoch`]; the rewards of epoch *e* need the state at the end of *e + 1*, which
//! this rule waits for anyway). Attestations of epoch *e* can be included in blocks
//! until the end of epoch *e + 1* (EIP-7045), so an answer taken while the head is in *e + 1*
//! could still change, and two members recording seconds apart (or one recording after a
//! restart) would sign different digests. The same rule holds at compute time: a frame is
//! computed only once its last epoch is final ([`super::Worker`] waits for it). Records are
//! durable and atomic, one file per epoch (`liveness/epoch-<n>.json`); at compute time the member
//! reads the records and asks the node only for what is missing. An epoch whose liveness can be
//! neither read nor was recorded fails the frame: a member never signs guessed scores. Records of
//! epochs at or before the last reported reference epoch are deleted (the next report never needs
//! them); at most [`MAX_RECORDED_EPOCHS`] per-epoch records are kept.
//!
//! Only validators of registry keys in state `Deposited` are scored (their duties are required):
//! such a key was confirmed by an earlier report with the pool's credentials, which never change
//! afterwards, so every member recording after the last reference slot saw it as the pool's. A
//! validator that takes the pool's credentials later (a 0x00 validator's BLS-to-execution change
//! to the vault, or a front-runner's) is not a registry key in that state and needs no liveness;
//! requiring it would leave every member without records it could not have made.
//!
//! At compute time the frame's epochs are taken in windows ([`tally_frame`]): what is missing in
//! a window is fetched with bounded concurrency, the window's new records are written durably in
//! one segment file per run of consecutive epochs (`liveness/segment-<first>-<last>.json`: one
//! fsync per run, not two per epoch; an epoch without duties is written as an empty record, an
//! epoch that cannot be read splits the run, so a segment's name lists exactly what it holds),
//! then tallied. A window holds at most [`WINDOW_INDICES`] validator entries, so memory stays
//! bounded whatever the frame's length (a day-long gap after a clock warp is 21,600 four-slot
//! epochs).
//!
//! Sources (mainnet). The liveness endpoint reports what *this* node observed (gossip and
//! blocks), not a consensus value, so members on different nodes can disagree about a validator
//! whose attestation one node saw and the other did not; and Lighthouse and Lodestar answer
//! liveness only for the current and previous wall-clock epoch, so on them an epoch is never both
//! final and served: such a member records nothing and cannot sign frames with scored
//! validators. The attestation rewards derive from the state's participation flags, identical on
//! every node that holds the same chain, and every client serves them for any epoch whose state
//! (the end of *e + 1*) it still holds — recent epochs on any node, all of them on an archive
//! node; hence [`DutiesSource::Rewards`] is the default. The finality rule is the same two-epoch
//! rule for both, not the finalized checkpoint: a record taken two epochs on could still change
//! with a reorg deeper than that (then members recording before and after it disagree), which
//! finality would exclude but at the cost of recording only ~2 epochs later in good times and
//! nothing during a long non-finality; with [`super::Finality::Finalized`] the frame itself is
//! computed only once finalized. A validator is required from the answer exactly when the member
//! thinks it had a duty (active in the epoch, and not slashed before it: [`ValidatorSpan`]); such
//! a validator is eligible for the epoch's rewards. Clients differ about ineligible validators
//! (Lighthouse answers them with zero rewards, which would read as performed; others leave them
//! out), but none is asked; a rewards answer that leaves out an asked validator fails the epoch
//! rather than guessing.
//!
//! Every member of a committee must use the same source: where the two disagree (a vote for the
//! wrong target is live but its target reward is negative) their digests differ. Each record
//! names the source that answered (records from before the field are liveness records), and a
//! member never tallies records of another source: when it switches (say, by upgrading to a
//! binary whose default is rewards), [`LivenessStore::open`] deletes them, so their epochs are
//! missing — recorded again while the node still serves them, fetched at compute time otherwise,
//! and a frame with an epoch the node no longer serves fails as for any missing epoch, never
//! mixing the two sources.
//!
//! [`ValidatorSpan`]: crate::duties::ValidatorSpan

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use alloy::primitives::Bytes;
use claystack_beacon::BeaconClient;
use claystack_consensus::{Epoch, ValidatorIndex};
use futures::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use super::store::{StoreError, read_capped, write_atomic};
use crate::duties::{DutiesError, DutyTally, EpochLiveness};

/// Validator indices per liveness request (bounded request and response bodies; the attestation
/// rewards client batches by as many, [`claystack_beacon::ATTESTATION_REWARDS_BATCH`]).
pub const LIVENESS_BATCH: usize = claystack_beacon::ATTESTATION_REWARDS_BATCH;
/// Liveness requests in flight at once (as many as the attestation rewards client sends).
const LIVENESS_CONCURRENCY: usize = claystack_beacon::ATTESTATION_REWARDS_CONCURRENCY;
/// Most epoch records kept (18 days of mainnet epochs; 18 frames).
pub const MAX_RECORDED_EPOCHS: usize = 4_096;
/// Largest epoch record read back (4 M validators' indices in JSON fit).
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;
/// Largest segment read back (a window of records).
const MAX_SEGMENT_BYTES: u64 = 512 * 1024 * 1024;
/// Validator entries (required liveness) one window of [`tally_frame`] holds at most: with their
/// records about 16 bytes each, so about 128 MiB.
pub const WINDOW_INDICES: usize = 8_000_000;
/// Most epochs in one window (one segment file).
pub const MAX_WINDOW_EPOCHS: u64 = 1_024;
/// Liveness requests in flight at compute time (epochs in flight × batches per epoch).
pub const MAX_REQUESTS_IN_FLIGHT: usize = 16;

/// Why liveness could not be read from the node.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    /// The request failed (the node no longer serves the epoch, or is down).
    #[error("read the liveness of epoch {epoch}: {source}")]
    Beacon {
        /// The epoch.
        epoch: u64,
        /// Cause.
        #[source]
        source: claystack_beacon::Error,
    },
    /// The answer does not match the question.
    #[error("read the liveness of epoch {epoch}: {reason}")]
    Answer {
        /// The epoch.
        epoch: u64,
        /// What is wrong.
        reason: String,
    },
    /// The answers do not form a record.
    #[error(transparent)]
    Duties(#[from] DutiesError),
}

/// Epochs the head must be past an epoch before its liveness is final: attestations of epoch
/// *e* are included until the end of *e + 1* (EIP-7045).
pub const FINALITY_LAG_EPOCHS: u64 = 2;

/// The newest epoch whose liveness is final when the head is at `head_slot`: the head is at least
/// [`FINALITY_LAG_EPOCHS`] epochs past it. `None` before that (or with zero-slot epochs).
#[must_use]
pub fn final_epoch(head_slot: u64, slots_per_epoch: u64) -> Option<u64> {
    head_slot.checked_div(slots_per_epoch)?.checked_sub(FINALITY_LAG_EPOCHS)
}

/// The epochs to record now, newest first, at most `max`: those in `first..=last_final` that are
/// neither recorded (`recorded`, increasing) nor at or below `refused_up_to` (where the node's
/// window of served epochs ends, [`ProbeOutcome::refused_up_to`]: everything older is refused
/// too).
#[must_use]
pub fn plan_recording(
    first: u64,
    last_final: u64,
    refused_up_to: Option<u64>,
    recorded: &[u64],
    max: usize,
) -> Vec<u64> {
    let first = refused_up_to.map_or(first, |r| first.max(r.saturating_add(1)));
    if first > last_final {
        return Vec::new();
    }
    (first..=last_final).rev().filter(|e| recorded.binary_search(e).is_err()).take(max).collect()
}

/// What probing the epochs due for recording found ([`probe_due`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// The epochs the node serves, newest first.
    pub served: Vec<u64>,
    /// An epoch refused where the node's window of served epochs ends: it and every older epoch
    /// are not asked again until the next report.
    pub refused_up_to: Option<u64>,
    /// Epochs refused without saying anything about older ones: asked again after a backoff.
    pub refused: Vec<u64>,
    /// The node did not answer a probe: the rest of the epochs were not probed.
    pub unavailable: bool,
}

/// Probes `todo` (newest first, [`plan_recording`]) one by one through `probe`. A refusal ends
/// the node's window of served epochs, so everything older is refused too, when the source is
/// [`DutiesSource::Liveness`] (a node keeps the liveness of recent epochs only) or when a newer
/// epoch of `todo` was served just before it. Otherwise (the rewards of the newest epochs
/// refused: Prysm answers 400 on an internal failure, Lighthouse 404 on a state it lost to a
/// reorg) the refusal says nothing about older epochs: it is listed in
/// [`ProbeOutcome::refused`], to be asked again after a backoff, and the older epochs are probed.
pub async fn probe_due<F, Fut>(source: DutiesSource, todo: &[u64], probe: F) -> ProbeOutcome
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Availability>,
{
    let mut out = ProbeOutcome::default();
    for &epoch in todo {
        match probe(epoch).await {
            Availability::Served => out.served.push(epoch),
            Availability::Refused if source == DutiesSource::Liveness || !out.served.is_empty() => {
                out.refused_up_to = Some(epoch);
                break;
            }
            Availability::Refused => out.refused.push(epoch),
            Availability::Unavailable => {
                out.unavailable = true;
                break;
            }
        }
    }
    out
}

/// What the node says about an epoch's duties, asked cheaply (one validator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// The node answers for the epoch.
    Served,
    /// The node refused the epoch (400 or 404: not retained, or outside its window).
    Refused,
    /// The node did not answer (down, syncing, timeout): try again later.
    Unavailable,
}

/// Where a member reads whether its validators performed their attestation duties in an epoch.
/// Every member of a committee must use the same source: where the two disagree about a
/// validator (a vote for the wrong target is live but penalised), members on different sources
/// sign different digests. Each record names its source, and a member never tallies a record of
/// the other source ([`LivenessStore::open`] deletes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DutiesSource {
    /// `POST /eth/v1/beacon/rewards/attestations/{epoch}`: the state's participation flags, the
    /// same on every node. Performed = the target reward is not negative ([`performed`]).
    #[default]
    Rewards,
    /// `POST /eth/v1/validator/liveness/{epoch}`: what this node observed (gossip and blocks);
    /// Lighthouse and Lodestar serve only the current and previous epoch.
    Liveness,
}

impl DutiesSource {
    /// The name used by the CLI and the logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rewards => "rewards",
            Self::Liveness => "liveness",
        }
    }
}

impl std::fmt::Display for DutiesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duties source name that is neither `rewards` nor `liveness`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse the duties source {0:?}: expected rewards or liveness")]
pub struct UnknownDutiesSource(pub String);

impl std::str::FromStr for DutiesSource {
    type Err = UnknownDutiesSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "rewards" => Ok(Self::Rewards),
            "liveness" => Ok(Self::Liveness),
            other => Err(UnknownDutiesSource(other.to_owned())),
        }
    }
}

/// Whether a validator performed its attestation duty, from its attestation rewards in the
/// epoch: the target component is not negative. By the Altair rules a validator whose timely
/// target flag is set (and that is not slashed) gets a positive target reward, or zero during an
/// inactivity leak; one whose flag is not set pays a target penalty, which is never zero (a base
/// reward is never zero). The target vote is the one that counts for justification and needs the
/// correct checkpoint within 32 slots; a timely source alone is weaker (a vote for the wrong
/// target still earns the source reward), and the head reward is zero for a late but correct
/// attestation, so neither is used. A slashed validator is penalised as a miss from the epoch
/// before its slashing epoch on; those epochs are no duty
/// ([`crate::duties::ValidatorSpan::from_registry`]).
#[must_use]
pub fn performed(r: &claystack_beacon::TotalAttestationRewards) -> bool {
    r.target >= 0
}

/// Asks the node about validator 0 in `epoch` (it exists on every chain with a validator), from
/// `source`, to learn whether the epoch is served before streaming the validator set or reading
/// the chain.
pub async fn probe(beacon: &BeaconClient, source: DutiesSource, epoch: u64) -> Availability {
    let one = [ValidatorIndex(0)];
    let result = match source {
        DutiesSource::Liveness => beacon.liveness(Epoch(epoch), &one).await.map(drop),
        DutiesSource::Rewards => beacon.attestation_rewards(Epoch(epoch), &one).await.map(drop),
    };
    match result {
        Ok(()) => Availability::Served,
        Err(e) if e.is_refused() => Availability::Refused,
        Err(_) => Availability::Unavailable,
    }
}

/// Reads from `source` whether `indices` (any order, distinct) performed their duties in
/// `epoch`. Every asked index must be answered exactly once, and nothing else.
pub async fn fetch(
    beacon: &BeaconClient,
    source: DutiesSource,
    epoch: u64,
    indices: &[u64],
) -> Result<EpochLiveness, LivenessError> {
    match source {
        DutiesSource::Liveness => fetch_liveness(beacon, epoch, indices).await,
        DutiesSource::Rewards => fetch_rewards(beacon, epoch, indices).await,
    }
}

/// [`fetch`] from the attestation rewards (the client batches the request).
async fn fetch_rewards(
    beacon: &BeaconClient,
    epoch: u64,
    indices: &[u64],
) -> Result<EpochLiveness, LivenessError> {
    if indices.is_empty() {
        return Ok(EpochLiveness::empty(epoch));
    }
    let asked: Vec<ValidatorIndex> = indices.iter().copied().map(ValidatorIndex).collect();
    let answer = beacon
        .attestation_rewards(Epoch(epoch), &asked)
        .await
        .map_err(|source| LivenessError::Beacon { epoch, source })?;
    if answer.execution_optimistic == Some(true) {
        return Err(LivenessError::Answer {
            epoch,
            reason: "the node's attestation rewards are execution-optimistic".into(),
        });
    }
    let pairs = check_rewards(epoch, indices, &answer.data.total_rewards)?;
    Ok(EpochLiveness::from_pairs(epoch, pairs)?)
}

/// The `(index, performed)` pairs of an attestation-rewards answer, which must cover exactly the
/// asked validators. Only validators active in the epoch are asked, and those are eligible;
/// clients differ only about ineligible ones (Lighthouse answers them with zeros, others leave
/// them out), so a validator left out means the node's chain differs from the member's: the
/// record would be guessed.
fn check_rewards(
    epoch: u64,
    asked: &[u64],
    got: &[claystack_beacon::TotalAttestationRewards],
) -> Result<Vec<(u64, bool)>, LivenessError> {
    let asked_set: BTreeSet<u64> = asked.iter().copied().collect();
    let mut seen = BTreeSet::new();
    for r in got {
        let i = r.validator_index.get();
        if !asked_set.contains(&i) {
            return Err(LivenessError::Answer {
                epoch,
                reason: format!("validator {i} not asked"),
            });
        }
        if !seen.insert(i) {
            return Err(LivenessError::Answer { epoch, reason: format!("validator {i} twice") });
        }
    }
    if let Some(first) = asked_set.difference(&seen).next() {
        return Err(LivenessError::Answer {
            epoch,
            reason: format!(
                "attestation rewards of {} of {} validators answered (first missing: {first})",
                seen.len(),
                asked_set.len()
            ),
        });
    }
    Ok(got.iter().map(|r| (r.validator_index.get(), performed(r))).collect())
}

/// [`fetch`] from the liveness endpoint, in batches of [`LIVENESS_BATCH`].
async fn fetch_liveness(
    beacon: &BeaconClient,
    epoch: u64,
    indices: &[u64],
) -> Result<EpochLiveness, LivenessError> {
    let batches: Vec<Vec<ValidatorIndex>> = indices
        .chunks(LIVENESS_BATCH)
        .map(|c| c.iter().copied().map(ValidatorIndex).collect())
        .collect();
    let answers: Vec<Vec<(u64, bool)>> = futures::stream::iter(batches)
        .map(|batch| async move {
            let got = beacon
                .liveness(Epoch(epoch), &batch)
                .await
                .map_err(|source| LivenessError::Beacon { epoch, source })?;
            check_answer(epoch, &batch, &got)
        })
        .buffered(LIVENESS_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(EpochLiveness::from_pairs(epoch, answers.into_iter().flatten().collect())?)
}

fn check_answer(
    epoch: u64,
    asked: &[ValidatorIndex],
    got: &[claystack_beacon::ValidatorLiveness],
) -> Result<Vec<(u64, bool)>, LivenessError> {
    let asked_set: BTreeSet<u64> = asked.iter().map(|i| i.get()).collect();
    let mut seen = BTreeSet::new();
    for l in got {
        let i = l.index.get();
        if !asked_set.contains(&i) {
            return Err(LivenessError::Answer {
                epoch,
                reason: format!("validator {i} not asked"),
            });
        }
        if !seen.insert(i) {
            return Err(LivenessError::Answer { epoch, reason: format!("validator {i} twice") });
        }
    }
    if seen.len() != asked_set.len() {
        return Err(LivenessError::Answer {
            epoch,
            reason: format!("{} of {} validators answered", seen.len(), asked_set.len()),
        });
    }
    Ok(got.iter().map(|l| (l.index.get(), l.is_live)).collect())
}

/// An epoch record on disk: the indices as runs `[start, length]` (a pool's validators come in
/// deposit batches, so runs keep a mainnet-size record small), the liveness bitmap, and the
/// source that answered (records written before the field existed were all liveness records).
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    epoch: u64,
    runs: Vec<(u64, u64)>,
    live: Bytes,
    #[serde(default = "legacy_source")]
    source: DutiesSource,
}

/// The source of a record written before records named theirs.
fn legacy_source() -> DutiesSource {
    DutiesSource::Liveness
}

/// Increasing indices as runs of consecutive values.
fn to_runs(indices: &[u64]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for i in indices {
        match runs.last_mut() {
            Some((start, len)) if start.checked_add(*len) == Some(*i) => {
                *len = len.saturating_add(1);
            }
            _ => runs.push((*i, 1)),
        }
    }
    runs
}

/// The indices of `runs`, refusing more than `max` in total.
fn from_runs(runs: &[(u64, u64)], max: usize) -> Option<Vec<u64>> {
    let total = runs.iter().try_fold(0u64, |t, (_, len)| t.checked_add(*len))?;
    if usize::try_from(total).ok()? > max {
        return None;
    }
    let mut out = Vec::with_capacity(usize::try_from(total).ok()?);
    for (start, len) in runs {
        let Some(back) = len.checked_sub(1) else { continue };
        out.extend(*start..=start.checked_add(back)?);
    }
    Some(out)
}

/// Most validators one stored record may list.
const MAX_RECORD_INDICES: usize = 8_000_000;

/// The `liveness/` directory of the state dir, holding the records of one [`DutiesSource`].
#[derive(Debug, Clone)]
pub struct LivenessStore {
    dir: PathBuf,
    source: DutiesSource,
}

impl LivenessStore {
    /// Opens (creates) `state_dir/liveness` for the records of `source`, and deletes the files
    /// holding records of the other source (written before the member switched sources): a
    /// frame is never tallied from both, since the sources disagree about some validators (a
    /// vote for the wrong target is live but penalised) and members' digests would differ. Their
    /// epochs are then missing: recorded again while the node still serves them, fetched at
    /// compute time otherwise, and a frame with an epoch the node no longer serves fails as for
    /// any missing epoch. A file that does not parse is left alone ([`Self::load`] reports it).
    pub fn open(state_dir: &Path, source: DutiesSource) -> Result<Self, StoreError> {
        let dir = state_dir.join("liveness");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError {
            action: "create liveness dir",
            path: dir.clone(),
            source,
        })?;
        let store = Self { dir, source };
        let removed = store.remove_other_source()?;
        if removed > 0 {
            tracing::warn!(target: "oracle::liveness", files = removed, %source, "liveness records of the other duties source deleted; their epochs are read again from the node");
        }
        Ok(store)
    }

    /// The source whose records this store holds.
    #[must_use]
    pub fn source(&self) -> DutiesSource {
        self.source
    }

    /// Deletes the record and segment files with a record of another source; returns how many.
    fn remove_other_source(&self) -> Result<usize, StoreError> {
        /// The source of a stored record (the other fields are skipped).
        #[derive(Deserialize)]
        struct SourceOnly {
            #[serde(default = "legacy_source")]
            source: DutiesSource,
        }
        let mut n = 0usize;
        for entry in self.entries()? {
            let (path, cap) = match entry {
                Entry::Epoch(e) => (self.path(e), MAX_RECORD_BYTES),
                Entry::Segment(a, b) => (self.segment_path(a, b), MAX_SEGMENT_BYTES),
            };
            let Some(body) = read_capped(&path, cap)? else { continue };
            let foreign = match entry {
                Entry::Epoch(_) => serde_json::from_slice::<SourceOnly>(&body)
                    .is_ok_and(|r| r.source != self.source),
                Entry::Segment(..) => serde_json::from_slice::<Vec<SourceOnly>>(&body)
                    .is_ok_and(|rs| rs.iter().any(|r| r.source != self.source)),
            };
            if foreign {
                std::fs::remove_file(&path).map_err(|source| StoreError {
                    action: "delete liveness record of another source",
                    path,
                    source,
                })?;
                n = n.saturating_add(1);
            }
        }
        Ok(n)
    }

    fn path(&self, epoch: u64) -> PathBuf {
        self.dir.join(format!("epoch-{epoch:020}.json"))
    }

    /// Whether `epoch` has a record.
    #[must_use]
    pub fn has(&self, epoch: u64) -> bool {
        self.path(epoch).exists()
    }

    /// The record of `epoch`, if any (a record of another source is none). A record that does
    /// not parse is an error (never silently replaced: it may hold what the node no longer
    /// serves).
    pub fn load(&self, epoch: u64) -> Result<Option<EpochLiveness>, StoreError> {
        let path = self.path(epoch);
        let Some(body) = read_capped(&path, MAX_RECORD_BYTES)? else { return Ok(None) };
        let bad = |e: String| StoreError {
            action: "parse liveness record",
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        };
        let r: StoredRecord = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        if r.epoch != epoch {
            return Err(bad(format!("holds epoch {}", r.epoch)));
        }
        if r.source != self.source {
            // another source's answer is no answer for this one
            return Ok(None);
        }
        r.into_record().map(Some).map_err(bad)
    }

    /// Writes `record` atomically (replacing the epoch's previous record).
    pub fn save(&self, record: &EpochLiveness) -> Result<(), StoreError> {
        let path = self.path(record.epoch);
        let stored = StoredRecord::of(record, self.source);
        let body = serde_json::to_vec(&stored).map_err(|e| StoreError {
            action: "encode liveness record",
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.dir, &path, &body)
    }

    /// The epochs recorded, increasing: per-epoch records and every epoch of a segment's range
    /// (a segment holds exactly the consecutive epochs its name says, [`Self::save_batch`]; an
    /// epoch without active validators is written as an empty record, an epoch that could not
    /// be read splits the segment).
    pub fn epochs(&self) -> Result<Vec<u64>, StoreError> {
        let mut out: BTreeSet<u64> = BTreeSet::new();
        for entry in self.entries()? {
            match entry {
                Entry::Epoch(e) => {
                    out.insert(e);
                }
                Entry::Segment(first, last) => out.extend(first..=last),
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Deletes the records of epochs `<= up_to`, and the segments that end there; returns how
    /// many files.
    pub fn prune(&self, up_to: u64) -> Result<usize, StoreError> {
        let mut n = 0usize;
        for entry in self.entries()? {
            let path = match entry {
                Entry::Epoch(e) if e <= up_to => self.path(e),
                Entry::Segment(first, last) if last <= up_to => self.segment_path(first, last),
                _ => continue,
            };
            std::fs::remove_file(&path).map_err(|source| StoreError {
                action: "delete liveness record",
                path,
                source,
            })?;
            n = n.saturating_add(1);
        }
        Ok(n)
    }

    /// Per-epoch record files (what the cap [`MAX_RECORDED_EPOCHS`] counts; segments are bounded
    /// by the frame they were written for and pruned with it).
    pub fn record_files(&self) -> Result<usize, StoreError> {
        Ok(self.entries()?.iter().filter(|e| matches!(e, Entry::Epoch(_))).count())
    }

    fn segment_path(&self, first: u64, last: u64) -> PathBuf {
        self.dir.join(format!("segment-{first:020}-{last:020}.json"))
    }

    fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| StoreError {
            action: "list liveness records",
            path: self.dir.clone(),
            source,
        })?;
        Ok(entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".json")?;
                if let Some(n) = stem.strip_prefix("epoch-") {
                    return n.parse().ok().map(Entry::Epoch);
                }
                let (a, b) = stem.strip_prefix("segment-")?.split_once('-')?;
                let (first, last) = (a.parse().ok()?, b.parse().ok()?);
                (first <= last).then_some(Entry::Segment(first, last))
            })
            .collect())
    }

    /// Writes `records` (distinct epochs) durably, one segment file per run of consecutive epochs
    /// (so a segment's name lists exactly the epochs it holds, and [`Self::epochs`] never counts
    /// an epoch that failed inside a window): per file a temporary file, one fsync, rename, one
    /// fsync of the directory. A crash leaves each segment whole or absent. Returns the number of
    /// segment files written.
    pub fn save_batch(&self, records: &[EpochLiveness]) -> Result<usize, StoreError> {
        let mut stored: Vec<StoredRecord> =
            records.iter().map(|r| StoredRecord::of(r, self.source)).collect();
        stored.sort_unstable_by_key(|r| r.epoch);
        let mut written = 0usize;
        let mut rest: &[StoredRecord] = &stored;
        while let Some(first) = rest.first() {
            // the length of the run of consecutive epochs starting at `first`
            let run = rest
                .iter()
                .zip(first.epoch..)
                .take_while(|(r, want)| r.epoch == *want)
                .count()
                .max(1);
            let Some((segment, tail)) = rest.split_at_checked(run.min(rest.len())) else { break };
            rest = tail;
            let last = segment.last().map_or(first.epoch, |r| r.epoch);
            let path = self.segment_path(first.epoch, last);
            let body = serde_json::to_vec(segment).map_err(|e| StoreError {
                action: "encode liveness segment",
                path: path.clone(),
                source: std::io::Error::other(e),
            })?;
            write_atomic(&self.dir, &path, &body)?;
            written = written.saturating_add(1);
        }
        Ok(written)
    }

    /// Every record of the epochs `first..=last`, from per-epoch files and segments (several
    /// records of one epoch are merged; a conflict is an error).
    pub fn load_range(
        &self,
        first: u64,
        last: u64,
    ) -> Result<BTreeMap<u64, EpochLiveness>, StoreError> {
        let mut out: BTreeMap<u64, EpochLiveness> = BTreeMap::new();
        let mut add = |rec: EpochLiveness, path: &Path| -> Result<(), StoreError> {
            let merged = match out.remove(&rec.epoch) {
                Some(prev) => prev.merge(&rec).map_err(|e| StoreError {
                    action: "merge liveness records",
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                })?,
                None => rec,
            };
            out.insert(merged.epoch, merged);
            Ok(())
        };
        for entry in self.entries()? {
            match entry {
                Entry::Epoch(e) if (first..=last).contains(&e) => {
                    if let Some(rec) = self.load(e)? {
                        add(rec, &self.path(e))?;
                    }
                }
                Entry::Segment(a, b) if a <= last && b >= first => {
                    let path = self.segment_path(a, b);
                    for rec in self.load_segment(&path, a, b)? {
                        if (first..=last).contains(&rec.epoch) {
                            add(rec, &path)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn load_segment(
        &self,
        path: &Path,
        first: u64,
        last: u64,
    ) -> Result<Vec<EpochLiveness>, StoreError> {
        let Some(body) = read_capped(path, MAX_SEGMENT_BYTES)? else { return Ok(Vec::new()) };
        let bad = |e: String| StoreError {
            action: "parse liveness segment",
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        };
        let stored: Vec<StoredRecord> =
            serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        let mut out = Vec::with_capacity(stored.len());
        let mut previous = None;
        for r in stored {
            if r.epoch < first || r.epoch > last || previous.is_some_and(|p| p >= r.epoch) {
                return Err(bad(format!("epoch {} out of order or outside the segment", r.epoch)));
            }
            previous = Some(r.epoch);
            if r.source == self.source {
                out.push(r.into_record().map_err(bad)?);
            }
        }
        Ok(out)
    }
}

/// A file of the liveness directory.
enum Entry {
    /// `epoch-<n>.json`.
    Epoch(u64),
    /// `segment-<first>-<last>.json`.
    Segment(u64, u64),
}

impl StoredRecord {
    fn of(record: &EpochLiveness, source: DutiesSource) -> Self {
        Self {
            epoch: record.epoch,
            runs: to_runs(record.indices()),
            live: Bytes::from(record.bitmap().to_vec()),
            source,
        }
    }

    fn into_record(self) -> Result<EpochLiveness, String> {
        let indices = from_runs(&self.runs, MAX_RECORD_INDICES)
            .ok_or_else(|| "index runs overflow or exceed the cap".to_owned())?;
        EpochLiveness::from_parts(self.epoch, indices, self.live.to_vec())
            .map_err(|e| e.to_string())
    }
}

/// Why the liveness of a frame could not be tallied.
#[derive(Debug, thiserror::Error)]
pub enum FrameLivenessError {
    /// An epoch has active validators whose liveness was neither recorded nor served.
    #[error("liveness of epoch {epoch} unknown for {missing} validator(s): {source}")]
    Unknown {
        /// The epoch.
        epoch: u64,
        /// Validators without liveness.
        missing: usize,
        /// Why the node did not answer.
        #[source]
        source: LivenessError,
    },
    /// The state directory.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The records do not form a tally.
    #[error(transparent)]
    Duties(#[from] DutiesError),
}

/// What [`tally_frame`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameLivenessStats {
    /// Epochs with active validators.
    pub epochs: u64,
    /// Epochs whose liveness (or part of it) had to be fetched.
    pub fetched: u64,
    /// Windows of at most [`MAX_WINDOW_EPOCHS`] epochs.
    pub windows: u64,
    /// Segment files written (one per run of consecutive new records: one per window unless an
    /// epoch failed or was already recorded).
    pub segments: u64,
}

/// One epoch of a [`tally_frame`] window.
enum Job {
    /// No validator has a duty: nothing to tally (`Some`: an empty record to write).
    NoDuty(Option<EpochLiveness>),
    /// Everything needed was recorded already.
    Stored(EpochLiveness),
    /// Completed from the node (to write, then tally).
    Fetched(EpochLiveness),
}

/// Feeds `tally` the liveness of `first..=last`: per window of at most [`MAX_WINDOW_EPOCHS`]
/// epochs and [`WINDOW_INDICES`] validator entries, the stored records, what is missing fetched
/// through `fetch(epoch, indices)` with at most [`MAX_REQUESTS_IN_FLIGHT`] requests in flight
/// (each `fetch` sends up to four), the new records written in one segment, then the window
/// tallied in epoch order. Deterministic: the tally does not depend on what was stored or
/// fetched, nor in which order. If an epoch cannot be fetched, the other fetched records of its
/// window are still written (the next attempt does not ask again) and the error names the epoch.
pub async fn tally_frame<F, Fut>(
    store: &LivenessStore,
    tally: &mut DutyTally,
    first: u64,
    last: u64,
    fetch: F,
) -> Result<FrameLivenessStats, FrameLivenessError>
where
    F: Fn(u64, Vec<u64>) -> Fut,
    Fut: std::future::Future<Output = Result<EpochLiveness, LivenessError>>,
{
    let validators = tally.validators().max(1);
    let per_epoch_requests = validators.div_ceil(LIVENESS_BATCH).clamp(1, LIVENESS_CONCURRENCY);
    let in_flight = MAX_REQUESTS_IN_FLIGHT.checked_div(per_epoch_requests).unwrap_or(1).max(1);
    let window = u64::try_from(WINDOW_INDICES.checked_div(validators).unwrap_or(1))
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_WINDOW_EPOCHS);
    let mut stats = FrameLivenessStats::default();
    let mut start = first;
    while start <= last {
        let end = start.saturating_add(window.saturating_sub(1)).min(last);
        let mut stored = store.load_range(start, end)?;
        let jobs: Vec<(u64, Option<EpochLiveness>)> =
            (start..=end).map(|e| (e, stored.remove(&e))).collect();
        drop(stored);
        let shared: &DutyTally = tally;
        let fetch = &fetch;
        let results: Vec<Result<Job, FrameLivenessError>> = futures::stream::iter(jobs)
            .map(|(epoch, stored)| async move {
                let required = shared.required(epoch);
                if required.is_empty() {
                    // no duty: an empty record keeps the window's segment contiguous
                    return Ok(if stored.is_some() {
                        Job::NoDuty(None)
                    } else {
                        Job::NoDuty(Some(EpochLiveness::empty(epoch)))
                    });
                }
                let record = stored.unwrap_or_else(|| EpochLiveness::empty(epoch));
                let missing = record.missing(&required);
                if missing.is_empty() {
                    return Ok(Job::Stored(record));
                }
                let n = missing.len();
                let fetched = fetch(epoch, missing)
                    .await
                    .map_err(|source| FrameLivenessError::Unknown { epoch, missing: n, source })?;
                Ok(Job::Fetched(record.merge(&fetched)?))
            })
            .buffered(in_flight)
            .collect()
            .await;
        let mut fresh: Vec<EpochLiveness> = Vec::new();
        let mut fetched = 0u64;
        for r in &results {
            match r {
                Ok(Job::Fetched(rec)) => {
                    fetched = fetched.saturating_add(1);
                    fresh.push(rec.clone());
                }
                Ok(Job::NoDuty(Some(rec))) => fresh.push(rec.clone()),
                _ => {}
            }
        }
        let written = store.save_batch(&fresh)?;
        stats.fetched = stats.fetched.saturating_add(fetched);
        stats.segments = stats.segments.saturating_add(u64::try_from(written).unwrap_or(u64::MAX));
        drop(fresh);
        stats.windows = stats.windows.saturating_add(1);
        for r in results {
            match r? {
                Job::Stored(rec) | Job::Fetched(rec) => {
                    tally.add_epoch(&rec)?;
                    stats.epochs = stats.epochs.saturating_add(1);
                }
                Job::NoDuty(_) => {}
            }
        }
        start = end.saturating_add(1);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_prune_and_refuse_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
        assert_eq!(store.load(3).unwrap(), None);
        let rec = EpochLiveness::from_pairs(3, vec![(10, true), (4, false), (7, true)]).unwrap();
        store.save(&rec).unwrap();
        store.save(&EpochLiveness::from_pairs(5, vec![]).unwrap()).unwrap();
        store.save(&EpochLiveness::from_pairs(9, vec![(1, true)]).unwrap()).unwrap();
        assert!(store.has(3) && !store.has(4));
        assert_eq!(store.load(3).unwrap(), Some(rec));
        assert_eq!(store.epochs().unwrap(), vec![3, 5, 9]);
        assert_eq!(store.prune(5).unwrap(), 2);
        assert_eq!(store.epochs().unwrap(), vec![9]);
        // a record under another epoch's name, or garbage, is an error
        std::fs::copy(store.path(9), store.path(11)).unwrap();
        assert!(store.load(11).is_err());
        std::fs::write(store.path(12), b"{").unwrap();
        assert!(store.load(12).is_err());
    }

    use crate::duties::ValidatorSpan;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn live(e: u64, i: u64) -> bool {
        !(e.wrapping_mul(7) ^ i.wrapping_mul(13)).is_multiple_of(5)
    }

    /// 140 validators, some activated or exited inside the range.
    fn spans() -> Vec<ValidatorSpan> {
        (0..140u64)
            .map(|i| ValidatorSpan {
                index: i * 3,
                activation_epoch: if i % 10 == 0 { 5_000 } else { 0 },
                exit_epoch: if i % 17 == 0 { 12_000 } else { u64::MAX },
            })
            .collect()
    }

    fn naive(
        spans: &[ValidatorSpan],
        first: u64,
        last: u64,
    ) -> BTreeMap<u64, crate::duties::Duties> {
        spans
            .iter()
            .map(|s| {
                let active = (first..=last).filter(|e| s.active_in(*e));
                let (mut expected, mut performed) = (0u32, 0u32);
                for e in active {
                    expected += 1;
                    performed += u32::from(live(e, s.index));
                }
                (s.index, crate::duties::Duties { expected, performed })
            })
            .collect()
    }

    /// A fetcher that answers `live`, takes a millisecond, and counts calls and concurrency.
    #[derive(Default)]
    struct Node {
        calls: AtomicUsize,
        now: AtomicUsize,
        peak: AtomicUsize,
        asked: AtomicUsize,
    }

    impl Node {
        async fn fetch(
            &self,
            epoch: u64,
            indices: Vec<u64>,
            fail: Option<u64>,
        ) -> Result<EpochLiveness, LivenessError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.asked.fetch_add(indices.len(), Ordering::SeqCst);
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            if fail == Some(epoch) {
                return Err(LivenessError::Answer { epoch, reason: "not served".into() });
            }
            Ok(EpochLiveness::from_pairs(
                epoch,
                indices.iter().map(|i| (*i, live(epoch, *i))).collect(),
            )
            .unwrap())
        }
    }

    /// A day of 4-slot epochs after a clock warp (21,600): fetched with bounded concurrency
    /// (counted: requests, peak in flight), written in one segment per window (22 files, not
    /// 21,600 fsynced records), tallied exactly; a second pass reads everything back and asks the
    /// node nothing.
    #[tokio::test]
    async fn a_warped_day_is_fetched_in_parallel_and_written_in_segments() {
        let dir = tempfile::tempdir().unwrap();
        let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
        let (first, last) = (1u64, 21_600u64);
        let node = Node::default();
        let mut tally = DutyTally::new(spans()).unwrap();
        let stats = tally_frame(&store, &mut tally, first, last, |e, i| node.fetch(e, i, None))
            .await
            .unwrap();
        assert_eq!(stats.epochs, 21_600);
        assert_eq!(stats.fetched, 21_600);
        assert_eq!((stats.windows, stats.segments), (22, 22), "{stats:?}");
        // one request per epoch (140 validators fit one batch), several in flight, never more
        // than the bound (how long it takes is a benchmark's business, not this test's)
        assert_eq!(node.calls.load(Ordering::SeqCst), 21_600);
        let peak = node.peak.load(Ordering::SeqCst);
        assert!(peak > 1 && peak <= MAX_REQUESTS_IN_FLIGHT, "peak concurrency {peak}");
        let files: Vec<String> = std::fs::read_dir(store.dir.clone())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files.len(), 22, "{files:?}");
        assert!(files.iter().all(|f| f.starts_with("segment-")));
        assert_eq!(store.record_files().unwrap(), 0);
        assert_eq!(store.epochs().unwrap().len(), 21_600);
        let want = naive(&spans(), first, last);
        assert_eq!(tally.into_map(), want);

        let again = Node::default();
        let mut tally = DutyTally::new(spans()).unwrap();
        let stats = tally_frame(&store, &mut tally, first, last, |e, i| again.fetch(e, i, None))
            .await
            .unwrap();
        assert_eq!((stats.fetched, again.calls.load(Ordering::SeqCst)), (0, 0));
        assert_eq!(tally.into_map(), want);
        // pruning the reported range removes the segments
        assert_eq!(store.prune(last).unwrap(), 22);
        assert!(store.epochs().unwrap().is_empty());
    }

    /// An epoch the node no longer serves fails the frame with its number; what was fetched
    /// before and beside it is kept, so the retry asks only for that epoch. A partial per-epoch
    /// record (recorded during the frame) is completed, not fetched again.
    #[tokio::test]
    async fn a_missing_epoch_fails_the_frame_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
        let s = spans();
        // epoch 3 recorded during the frame for the first 50 validators
        let part: Vec<(u64, bool)> =
            s.iter().take(50).map(|v| (v.index, live(3, v.index))).collect();
        store.save(&EpochLiveness::from_pairs(3, part).unwrap()).unwrap();
        let node = Node::default();
        let mut tally = DutyTally::new(s.clone()).unwrap();
        let err = tally_frame(&store, &mut tally, 1, 1_500, |e, i| node.fetch(e, i, Some(1_100)))
            .await
            .unwrap_err();
        assert!(matches!(err, FrameLivenessError::Unknown { epoch: 1_100, .. }), "{err}");
        // the failed epoch splits its window's segment: the store does not claim it
        let recorded = store.epochs().unwrap();
        assert!(!recorded.contains(&1_100));
        assert!(recorded.contains(&1_099) && recorded.contains(&1_101));
        assert_eq!(recorded.len(), 1_499, "every epoch of 1..=1_500 but 1_100");
        let active_in_3 = s.iter().filter(|v| v.active_in(3)).count();
        let recorded_active = s.iter().take(50).filter(|v| v.active_in(3)).count();
        assert_eq!((active_in_3, recorded_active), (126, 45));
        let node = Node::default();
        let mut tally = DutyTally::new(s.clone()).unwrap();
        let stats =
            tally_frame(&store, &mut tally, 1, 1_500, |e, i| node.fetch(e, i, None)).await.unwrap();
        assert_eq!(stats.fetched, 1, "only the failed epoch is fetched again");
        assert_eq!(node.calls.load(Ordering::SeqCst), 1);
        assert_eq!(tally.into_map(), naive(&s, 1, 1_500));
        // epoch 3 is completed with the 81 validators the partial record lacks, not all 126
        let node = Node::default();
        let dir2 = tempfile::tempdir().unwrap();
        let store2 = LivenessStore::open(dir2.path(), DutiesSource::Rewards).unwrap();
        let part: Vec<(u64, bool)> =
            s.iter().take(50).map(|v| (v.index, live(3, v.index))).collect();
        store2.save(&EpochLiveness::from_pairs(3, part).unwrap()).unwrap();
        let mut tally = DutyTally::new(s.clone()).unwrap();
        tally_frame(&store2, &mut tally, 3, 3, |e, i| node.fetch(e, i, None)).await.unwrap();
        assert_eq!(node.asked.load(Ordering::SeqCst), active_in_3 - recorded_active);
        assert_eq!(tally.into_map(), naive(&s, 3, 3));
    }

    /// Epochs with no active validator are written as empty records, so the window's segment
    /// stays one contiguous run and the store knows them recorded.
    #[tokio::test]
    async fn epochs_without_duties_keep_the_segment_contiguous() {
        let dir = tempfile::tempdir().unwrap();
        let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
        let spans = vec![ValidatorSpan { index: 1, activation_epoch: 4, exit_epoch: 7 }];
        let node = Node::default();
        let mut tally = DutyTally::new(spans).unwrap();
        let stats =
            tally_frame(&store, &mut tally, 1, 10, |e, i| node.fetch(e, i, None)).await.unwrap();
        assert_eq!((stats.epochs, stats.fetched, stats.segments), (3, 3, 1), "{stats:?}");
        assert_eq!(node.calls.load(Ordering::SeqCst), 3);
        assert_eq!(store.epochs().unwrap(), (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn an_epoch_is_final_two_epochs_later() {
        // head in epoch 11 (4-slot epochs): epoch 9 is final, 10 is not (its attestations can
        // still be included during 11)
        assert_eq!(final_epoch(44, 4), Some(9));
        assert_eq!(final_epoch(47, 4), Some(9));
        assert_eq!(final_epoch(48, 4), Some(10));
        assert_eq!(final_epoch(7, 4), None);
        assert_eq!(final_epoch(8, 4), Some(0));
        assert_eq!(final_epoch(100, 0), None);
    }

    #[test]
    fn recording_skips_recorded_refused_and_unfinal_epochs() {
        // epochs 5..=9 final, 7 recorded: newest first
        assert_eq!(plan_recording(5, 9, None, &[7], 8), vec![9, 8, 6, 5]);
        assert_eq!(plan_recording(5, 9, None, &[7], 2), vec![9, 8]);
        // the node refused 6: 6 and everything older is never asked again
        assert_eq!(plan_recording(5, 9, Some(6), &[7], 8), vec![9, 8]);
        assert!(plan_recording(5, 9, Some(9), &[], 8).is_empty());
        assert!(plan_recording(10, 9, None, &[], 8).is_empty());
    }

    /// Records written by the liveness source (the format before records named their source,
    /// per-epoch and in a segment) on a member now on rewards: deleted when the store opens, so
    /// those epochs are fetched again (from rewards) and never tallied from the liveness
    /// answers; an epoch the node no longer serves fails the frame. The same files on a member
    /// still on liveness are kept and read.
    #[tokio::test]
    async fn records_of_another_source_are_never_tallied() {
        let dir = tempfile::tempdir().unwrap();
        let s = vec![ValidatorSpan { index: 4, activation_epoch: 0, exit_epoch: u64::MAX }];
        let liveness_dir = dir.path().join("liveness");
        std::fs::create_dir_all(&liveness_dir).unwrap();
        // the old format (no source): validator 4 live in epochs 1..=3 (a wrong-target vote)
        let old = |e: u64| serde_json::json!({"epoch": e, "runs": [[4, 1]], "live": "0x01"});
        std::fs::write(
            liveness_dir.join(format!("epoch-{:020}.json", 1)),
            serde_json::to_vec(&old(1)).unwrap(),
        )
        .unwrap();
        std::fs::write(
            liveness_dir.join(format!("segment-{:020}-{:020}.json", 2, 3)),
            serde_json::to_vec(&serde_json::json!([old(2), old(3)])).unwrap(),
        )
        .unwrap();
        let kept = LivenessStore::open(dir.path(), DutiesSource::Liveness).unwrap();
        assert_eq!(kept.epochs().unwrap(), vec![1, 2, 3]);
        assert_eq!(kept.load(1).unwrap().and_then(|r| r.get(4)), Some(true));
        assert_eq!(kept.load_range(1, 3).unwrap().len(), 3);
        // the rewards say the target was missed
        let fetch = |calls: &AtomicUsize, e: u64, i: Vec<u64>, refused: Option<u64>| {
            calls.fetch_add(1, Ordering::SeqCst);
            if refused == Some(e) {
                return Err(LivenessError::Answer { epoch: e, reason: "404".into() });
            }
            Ok(EpochLiveness::from_pairs(e, i.into_iter().map(|i| (i, false)).collect()).unwrap())
        };
        let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
        assert_eq!(store.source(), DutiesSource::Rewards);
        assert!(store.epochs().unwrap().is_empty(), "the liveness records are gone");
        // a node that no longer serves epoch 2: the frame fails, not tallied from liveness
        let calls = AtomicUsize::new(0);
        let mut tally = DutyTally::new(s.clone()).unwrap();
        let err = tally_frame(&store, &mut tally, 1, 3, |e, i| {
            std::future::ready(fetch(&calls, e, i, Some(2)))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, FrameLivenessError::Unknown { epoch: 2, .. }), "{err}");
        // served again: fetched from rewards (only what is missing), tallied as misses
        let calls = AtomicUsize::new(0);
        let mut tally = DutyTally::new(s.clone()).unwrap();
        tally_frame(&store, &mut tally, 1, 3, |e, i| std::future::ready(fetch(&calls, e, i, None)))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "epochs 1 and 3 were fetched before");
        let m = tally.into_map();
        assert_eq!((m[&4].expected, m[&4].performed), (3, 0));
        // the new records name their source: a member back on liveness drops them in turn
        let body = std::fs::read(store.path(1)).unwrap_or_default();
        let files: Vec<_> = std::fs::read_dir(&liveness_dir).unwrap().collect();
        assert!(!files.is_empty() && body.is_empty(), "written as segments");
        let back = LivenessStore::open(dir.path(), DutiesSource::Liveness).unwrap();
        assert!(back.epochs().unwrap().is_empty());
        // a foreign record that appears after opening is not read either
        store.save(&EpochLiveness::from_pairs(7, vec![(4, false)]).unwrap()).unwrap();
        assert_eq!(back.load(7).unwrap(), None);
        assert!(back.load_range(7, 7).unwrap().is_empty());
    }

    /// Liveness: the first refusal ends the node's window (everything older is refused too).
    /// Rewards: a refusal of the newest epochs says nothing about older ones (asked again after
    /// a backoff, older ones probed now); only a refusal after a newer epoch was served ends the
    /// window.
    #[tokio::test]
    async fn a_rewards_refusal_of_the_newest_epochs_is_not_remembered() {
        use Availability::{Refused, Served, Unavailable};
        let node = |answers: Vec<(u64, Availability)>| {
            move |e: u64| {
                let a = answers.iter().find(|(x, _)| *x == e).map_or(Served, |(_, a)| *a);
                std::future::ready(a)
            }
        };
        let todo = [9, 8, 7, 6, 5];
        // the newest epoch refused (a lost state after a reorg, an internal failure)
        let got = probe_due(DutiesSource::Rewards, &todo, node(vec![(9, Refused)])).await;
        assert_eq!(
            got,
            ProbeOutcome {
                served: vec![8, 7, 6, 5],
                refused_up_to: None,
                refused: vec![9],
                unavailable: false
            }
        );
        let got = probe_due(DutiesSource::Liveness, &todo, node(vec![(9, Refused)])).await;
        assert_eq!(got, ProbeOutcome { refused_up_to: Some(9), ..ProbeOutcome::default() });
        // the window's end: served down to 7, refused from 6 on
        let window = vec![(9, Refused), (6, Refused), (5, Refused)];
        let got = probe_due(DutiesSource::Rewards, &todo, node(window)).await;
        assert_eq!(
            got,
            ProbeOutcome {
                served: vec![8, 7],
                refused_up_to: Some(6),
                refused: vec![9],
                unavailable: false
            }
        );
        // every epoch refused: nothing remembered, all retried later
        let all: Vec<_> = todo.iter().map(|e| (*e, Refused)).collect();
        let got = probe_due(DutiesSource::Rewards, &todo, node(all)).await;
        assert_eq!((got.refused_up_to, got.refused.len()), (None, 5));
        // an unanswered probe stops the tick
        let got =
            probe_due(DutiesSource::Rewards, &todo, node(vec![(9, Refused), (7, Unavailable)]))
                .await;
        assert_eq!((got.served, got.refused, got.unavailable), (vec![8], vec![9], true));
        // the refusal of 9 left nothing behind: the next plan asks for 9 again
        assert_eq!(plan_recording(5, 9, None, &[5, 6, 7, 8], 8), vec![9]);
    }

    #[test]
    fn index_runs_round_trip() {
        let idx = vec![1, 2, 3, 7, 9, 10, u64::MAX - 1, u64::MAX];
        let runs = to_runs(&idx);
        assert_eq!(runs, vec![(1, 3), (7, 1), (9, 2), (u64::MAX - 1, 2)]);
        assert_eq!(from_runs(&runs, 100).unwrap(), idx);
        assert!(from_runs(&runs, 7).is_none());
        assert!(from_runs(&[(u64::MAX, 2)], 100).is_none());
        assert!(to_runs(&[]).is_empty());
    }

    #[test]
    fn answers_must_match_the_question() {
        let asked = [ValidatorIndex(1), ValidatorIndex(2)];
        let l = |i: u64, is_live: bool| claystack_beacon::ValidatorLiveness {
            index: ValidatorIndex(i),
            is_live,
        };
        assert_eq!(check_answer(4, &asked, &[l(2, true), l(1, false)]).unwrap().len(), 2);
        assert!(check_answer(4, &asked, &[l(1, true)]).is_err());
        assert!(check_answer(4, &asked, &[l(1, true), l(1, true)]).is_err());
        assert!(check_answer(4, &asked, &[l(1, true), l(3, true)]).is_err());
    }

    fn reward(
        i: u64,
        head: i64,
        target: i64,
        source: i64,
    ) -> claystack_beacon::TotalAttestationRewards {
        claystack_beacon::TotalAttestationRewards {
            validator_index: ValidatorIndex(i),
            head,
            target,
            source,
            inclusion_delay: None,
            inactivity: 0,
        }
    }

    /// A negative target reward is a miss, whatever the source and head say; zero (a correct
    /// target during an inactivity leak) and positive are performed duties.
    #[test]
    fn a_negative_target_reward_records_a_miss() {
        let asked = [4, 5, 6, 7];
        let got = [
            reward(7, 0, -2_600, -1_400), // missed
            reward(4, 1_400, 2_600, 1_400),
            reward(5, 0, 0, 0), // attested during a leak: no reward, no penalty
            reward(6, 0, -2_600, 1_400), // timely source, wrong target: a miss
        ];
        let pairs = check_rewards(9, &asked, &got).unwrap();
        let rec = EpochLiveness::from_pairs(9, pairs).unwrap();
        assert_eq!(
            asked.iter().map(|i| rec.get(*i)).collect::<Vec<_>>(),
            vec![Some(true), Some(true), Some(false), Some(false)]
        );
        // the record tallies as one duty expected, performed only where the target was not
        // penalised
        let spans: Vec<ValidatorSpan> = asked
            .iter()
            .map(|i| ValidatorSpan { index: *i, activation_epoch: 0, exit_epoch: u64::MAX })
            .collect();
        let mut tally = DutyTally::new(spans).unwrap();
        tally.add_epoch(&rec).unwrap();
        let m = tally.into_map();
        assert_eq!((m[&6].expected, m[&6].performed), (1, 0));
        assert_eq!((m[&5].expected, m[&5].performed), (1, 1));
    }

    #[test]
    fn rewards_answers_must_cover_exactly_the_question() {
        let asked = [1, 2];
        assert!(check_rewards(3, &asked, &[reward(2, 1, 1, 1), reward(1, 1, 1, 1)]).is_ok());
        let err = check_rewards(3, &asked, &[reward(1, 1, 1, 1)]).unwrap_err().to_string();
        assert!(err.contains("1 of 2") && err.contains("first missing: 2"), "{err}");
        let err = check_rewards(3, &asked, &[reward(1, 1, 1, 1), reward(1, 1, 1, 1)]);
        assert!(err.unwrap_err().to_string().contains("twice"));
        let err = check_rewards(3, &asked, &[reward(1, 1, 1, 1), reward(3, 1, 1, 1)]);
        assert!(err.unwrap_err().to_string().contains("not asked"));
    }

    #[test]
    fn duties_source_names_round_trip() {
        for s in [DutiesSource::Rewards, DutiesSource::Liveness] {
            assert_eq!(s.to_string().parse::<DutiesSource>().unwrap(), s);
        }
        assert_eq!(DutiesSource::default(), DutiesSource::Rewards);
        let err = "gossip".parse::<DutiesSource>().unwrap_err().to_string();
        assert!(err.contains("rewards or liveness"), "{err}");
    }

    /// A validator slashed on the simulator: with its span from the registry
    /// ([`ValidatorSpan::from_registry`]) its penalised epochs are not duties, so the rewards
    /// source charges it no miss (although its target rewards are negative from the epoch
    /// before its slashing on) and both sources tally the same.
    #[tokio::test]
    async fn a_slashed_validator_is_not_a_miss_after_its_slashing() {
        use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
        let node = SimNode::start(
            NodeConfig {
                chain: ChainConfig {
                    genesis_validators: 6,
                    default_performance_ppm: 1_000_000,
                    performance_jitter_ppm: 0,
                    genesis_time: 1_700_000_000,
                    ..ChainConfig::devnet()
                },
                listen: "127.0.0.1:0".parse().unwrap(),
                execution_rpc: None,
                execution_start_block: 0,
                follow_distance: 0,
                exit_request_contract: None,
                apply_el_credits: false,
                snapshot_path: None,
                clock: ClockMode::Manual,
            },
            None,
        )
        .await
        .unwrap();
        let beacon =
            BeaconClient::new(&node.url(), claystack_beacon::ClientConfig::default()).unwrap();
        node.advance(4 * 4).await.unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/admin/validators/1/slash", node.url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        node.advance(10 * 4).await.unwrap();
        let spec = beacon.spec().await.unwrap();
        let vector: u64 =
            spec.raw["EPOCHS_PER_SLASHINGS_VECTOR"].as_str().unwrap().parse().unwrap();
        let mut spans = Vec::new();
        let mut naive = Vec::new();
        beacon
            .stream_validators(claystack_beacon::StateId::Head, &[], |v| {
                let (a, x) = (v.validator.activation_epoch.get(), v.validator.exit_epoch.get());
                spans.push(ValidatorSpan::from_registry(
                    v.index.get(),
                    a,
                    x,
                    v.validator.slashed,
                    v.validator.withdrawable_epoch.get(),
                    vector,
                ));
                naive.push(ValidatorSpan {
                    index: v.index.get(),
                    activation_epoch: a,
                    exit_epoch: x,
                });
                Ok::<(), std::convert::Infallible>(())
            })
            .await
            .unwrap();
        // slashed in epoch 4: duties in epochs 1..=2 only
        assert_eq!(spans[1].exit_epoch, 3);
        let tally = |spans: Vec<ValidatorSpan>, source: DutiesSource| {
            let beacon = &beacon;
            async move {
                let mut t = DutyTally::new(spans).unwrap();
                for e in 1..=8 {
                    let rec = fetch(beacon, source, e, &t.required(e)).await.unwrap();
                    t.add_epoch(&rec).unwrap();
                }
                t.into_map()
            }
        };
        let rewards = tally(spans.clone(), DutiesSource::Rewards).await;
        assert_eq!(rewards[&1], crate::duties::Duties { expected: 2, performed: 2 });
        assert_eq!(rewards[&0], crate::duties::Duties { expected: 8, performed: 8 });
        assert_eq!(tally(spans, DutiesSource::Liveness).await, rewards);
        // without the slashing rule the rewards would charge it misses from epoch 3 on
        let charged = tally(naive, DutiesSource::Rewards).await;
        assert!(charged[&1].performed < charged[&1].expected, "{:?}", charged[&1]);
        node.shutdown().await.unwrap();
    }

    /// On the simulator both sources give the same records, and both refuse an epoch that is
    /// not yet computable the same way (refused, so the recorder does not retry it every tick
    /// — and the two-epoch finality rule never asks for it).
    #[tokio::test]
    async fn both_sources_agree_on_the_simulator() {
        use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
        let node = SimNode::start(
            NodeConfig {
                chain: ChainConfig {
                    genesis_validators: 8,
                    default_performance_ppm: 700_000,
                    genesis_time: 1_700_000_000,
                    ..ChainConfig::devnet()
                },
                listen: "127.0.0.1:0".parse().unwrap(),
                execution_rpc: None,
                execution_start_block: 0,
                follow_distance: 0,
                exit_request_contract: None,
                apply_el_credits: false,
                snapshot_path: None,
                clock: ClockMode::Manual,
            },
            None,
        )
        .await
        .unwrap();
        let beacon =
            BeaconClient::new(&node.url(), claystack_beacon::ClientConfig::default()).unwrap();
        node.advance(12 * 4).await.unwrap();
        let indices: Vec<u64> = (0..8).collect();
        let (mut hits, mut misses) = (0, 0);
        for epoch in 1..=10 {
            let a = fetch(&beacon, DutiesSource::Rewards, epoch, &indices).await.unwrap();
            let b = fetch(&beacon, DutiesSource::Liveness, epoch, &indices).await.unwrap();
            assert_eq!(a, b, "epoch {epoch}");
            for i in &indices {
                if a.get(*i) == Some(true) {
                    hits += 1;
                } else {
                    misses += 1;
                }
            }
        }
        assert!(hits > 0 && misses > 0, "a 70 % performance gives both ({hits}, {misses})");
        // the head is at the first slot of epoch 12: epoch 10 is final, 11 is not served by the
        // rewards (needs the end of 12) — refused, as real clients refuse it
        assert_eq!(final_epoch(48, 4), Some(10));
        assert_eq!(probe(&beacon, DutiesSource::Rewards, 10).await, Availability::Served);
        assert_eq!(probe(&beacon, DutiesSource::Rewards, 11).await, Availability::Refused);
        assert_eq!(probe(&beacon, DutiesSource::Liveness, 12).await, Availability::Refused);
        node.shutdown().await.unwrap();
    }
}
