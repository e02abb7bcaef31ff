//! Per-epoch liveness of the pool's validators (`POST /eth/v1/validator/liveness/{epoch}`), kept
//! in the state directory.
//!
//! Beacon nodes answer liveness only for recent epochs, while a frame is 225 epochs long. So the
//! member records each epoch's answer as soon as the epoch is settled (the next epoch has ended:
//! late attestations can no longer be included), durably and atomically, one file per epoch
//! (`liveness/epoch-<n>.json`); at compute time it reads the records and asks the node only for
//! what is missing. An epoch whose liveness can be neither read nor was recorded fails the frame:
//! a member never signs guessed scores. Records of epochs at or before the last reported
//! reference epoch are deleted (the next report never needs them); at most
//! [`MAX_RECORDED_EPOCHS`] are kept.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alloy::primitives::Bytes;
use claystack_beacon::BeaconClient;
use claystack_consensus::{Epoch, ValidatorIndex};
use futures::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use super::store::{StoreError, read_capped, write_atomic};
use crate::duties::{DutiesError, EpochLiveness};

/// Validator indices per liveness request (bounded request and response bodies).
pub const LIVENESS_BATCH: usize = 1_000;
/// Liveness requests in flight at once.
const LIVENESS_CONCURRENCY: usize = 4;
/// Most epoch records kept (18 days of mainnet epochs; 18 frames).
pub const MAX_RECORDED_EPOCHS: usize = 4_096;
/// Largest epoch record read back (4 M validators' indices in JSON fit).
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

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

/// Asks the node for the liveness of `indices` (any order, distinct) in `epoch`, in batches of
/// [`LIVENESS_BATCH`]. Every asked index must be answered exactly once, and nothing else.
pub async fn fetch(
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
/// deposit batches, so runs keep a mainnet-size record small) and the liveness bitmap.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    epoch: u64,
    runs: Vec<(u64, u64)>,
    live: Bytes,
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

/// The `liveness/` directory of the state dir.
#[derive(Debug, Clone)]
pub struct LivenessStore {
    dir: PathBuf,
}

impl LivenessStore {
    /// Opens (creates) `state_dir/liveness`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let dir = state_dir.join("liveness");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError {
            action: "create liveness dir",
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    fn path(&self, epoch: u64) -> PathBuf {
        self.dir.join(format!("epoch-{epoch:020}.json"))
    }

    /// Whether `epoch` has a record.
    #[must_use]
    pub fn has(&self, epoch: u64) -> bool {
        self.path(epoch).exists()
    }

    /// The record of `epoch`, if any. A record that does not parse is an error (never silently
    /// replaced: it may hold what the node no longer serves).
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
        let indices = from_runs(&r.runs, MAX_RECORD_INDICES)
            .ok_or_else(|| bad("index runs overflow or exceed the cap".to_owned()))?;
        EpochLiveness::from_parts(r.epoch, indices, r.live.to_vec())
            .map(Some)
            .map_err(|e| bad(e.to_string()))
    }

    /// Writes `record` atomically (replacing the epoch's previous record).
    pub fn save(&self, record: &EpochLiveness) -> Result<(), StoreError> {
        let path = self.path(record.epoch);
        let stored = StoredRecord {
            epoch: record.epoch,
            runs: to_runs(record.indices()),
            live: Bytes::from(record.bitmap().to_vec()),
        };
        let body = serde_json::to_vec(&stored).map_err(|e| StoreError {
            action: "encode liveness record",
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.dir, &path, &body)
    }

    /// The epochs recorded, increasing.
    pub fn epochs(&self) -> Result<Vec<u64>, StoreError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| StoreError {
            action: "list liveness records",
            path: self.dir.clone(),
            source,
        })?;
        let mut out: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix("epoch-")?.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// Deletes the records of epochs `<= up_to`; returns how many.
    pub fn prune(&self, up_to: u64) -> Result<usize, StoreError> {
        let mut n = 0usize;
        for e in self.epochs()?.into_iter().take_while(|e| *e <= up_to) {
            let path = self.path(e);
            std::fs::remove_file(&path).map_err(|source| StoreError {
                action: "delete liveness record",
                path,
                source,
            })?;
            n = n.saturating_add(1);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_prune_and_refuse_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = LivenessStore::open(dir.path()).unwrap();
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
}
