//! Execution credits applied at most once across crashes.
//!
//! The state transition leaves execution-layer credits (withdrawals, priority fees) in the
//! state's outbox. The node applies them in numbered batches:
//!
//! 1. the outbox is taken into a [`CreditBatch`] with the next id, and a snapshot holding the
//!    advanced state *and* the batch is written before any credit is sent — so a restart never
//!    replays the slots that produced them (which would pay them again);
//! 2. the [`Journal`] (a small file beside the snapshot) is emptied, then for each address of the
//!    batch (its credits summed, in a fixed order) it records `begin`, the node sends one
//!    `anvil_addBalance`, and it records `done` — or `not-applied` when the call certainly had no
//!    effect (the address is tried again later), or `skipped` when it may have had one;
//! 3. when the last address is done the batch is dropped from memory; the next snapshot no longer
//!    holds it.
//!
//! At a restart the snapshot's batch resumes after the last journal line of its id. A `begin`
//! with nothing after it is a credit whose call was in flight at the crash: anvil may or may not
//! have applied it, and nothing on the execution node tells which. It is not sent again (at most
//! once: a missing credit shows as a loss the oracle reports; a doubled one would be ETH from
//! nowhere) and the node says so in its log and `/admin/status` with the address and amount.

use crate::core::ElCredit;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Credits taken from the outbox together, applied by address in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditBatch {
    /// Sequence number (1 for the first batch of a chain).
    pub id: u64,
    /// The credits, in outbox order.
    pub credits: Vec<ElCredit>,
}

/// The batch being applied and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCredits {
    /// The batch.
    pub batch: CreditBatch,
    /// The next address group to apply (groups of `follower::group_by_address`).
    pub next: usize,
    /// Whether a snapshot holding the batch is on disk (always true after a restart).
    pub recorded: bool,
}

/// What one journal line says about one address group of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The call is about to be sent.
    Begin {
        /// Batch id.
        batch: u64,
        /// Group position.
        group: usize,
    },
    /// The node confirmed the credit.
    Done {
        /// Batch id.
        batch: u64,
        /// Group position.
        group: usize,
    },
    /// The call certainly had no effect: send it again later.
    NotApplied {
        /// Batch id.
        batch: u64,
        /// Group position.
        group: usize,
    },
    /// The call may have had an effect: never sent again.
    Skipped {
        /// Batch id.
        batch: u64,
        /// Group position.
        group: usize,
    },
}

impl Entry {
    fn line(self) -> String {
        let (word, batch, group) = match self {
            Self::Begin { batch, group } => ("begin", batch, group),
            Self::Done { batch, group } => ("done", batch, group),
            Self::NotApplied { batch, group } => ("not-applied", batch, group),
            Self::Skipped { batch, group } => ("skipped", batch, group),
        };
        format!("{word} {batch} {group}\n")
    }

    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split(' ');
        let word = parts.next()?;
        let batch = parts.next()?.parse().ok()?;
        let group = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(match word {
            "begin" => Self::Begin { batch, group },
            "done" => Self::Done { batch, group },
            "not-applied" => Self::NotApplied { batch, group },
            "skipped" => Self::Skipped { batch, group },
            _ => return None,
        })
    }

    fn batch(self) -> u64 {
        match self {
            Self::Begin { batch, .. }
            | Self::Done { batch, .. }
            | Self::NotApplied { batch, .. }
            | Self::Skipped { batch, .. } => batch,
        }
    }
}

/// Where a batch resumes after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The next group to apply.
    pub next: usize,
    /// A group whose call was in flight at the crash (not sent again).
    pub uncertain: Option<usize>,
}

/// The append-only credit journal (`<snapshot>.credits`), one fsynced line per step.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal beside `snapshot`.
    #[must_use]
    pub fn beside(snapshot: &Path) -> Self {
        Self { path: snapshot.with_extension("credits") }
    }

    /// Its file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Empties the journal (a new batch begins; the snapshot already holds it).
    pub fn reset(&self) -> std::io::Result<()> {
        let f = std::fs::File::create(&self.path)?;
        f.sync_all()
    }

    /// Appends `entry` and waits until it is on disk.
    pub fn append(&self, entry: Entry) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        f.write_all(entry.line().as_bytes())?;
        f.sync_data()
    }

    /// Where batch `batch` resumes: after its last complete line. A torn last line was never
    /// synced, so its step did not happen (a `begin` is on disk before the call is sent); it is
    /// cut off so that the next line starts clean.
    pub fn resume(&self, batch: u64) -> std::io::Result<Resume> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let complete_len =
            bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i.saturating_add(1));
        if complete_len != bytes.len() {
            let f = std::fs::OpenOptions::new().write(true).open(&self.path)?;
            f.set_len(u64::try_from(complete_len).unwrap_or(u64::MAX))?;
            f.sync_all()?;
        }
        let text = String::from_utf8_lossy(bytes.get(..complete_len).unwrap_or_default());
        let last = text.lines().rev().filter_map(Entry::parse).find(|e| e.batch() == batch);
        Ok(match last {
            None => Resume { next: 0, uncertain: None },
            Some(Entry::Begin { group, .. }) => {
                Resume { next: group.saturating_add(1), uncertain: Some(group) }
            }
            Some(Entry::Done { group, .. } | Entry::Skipped { group, .. }) => {
                Resume { next: group.saturating_add(1), uncertain: None }
            }
            Some(Entry::NotApplied { group, .. }) => Resume { next: group, uncertain: None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_resumes_after_its_last_complete_line() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::beside(&dir.path().join("beacon.snapshot"));
        assert_eq!(j.path(), dir.path().join("beacon.credits"));
        // no journal yet: from the start
        assert_eq!(j.resume(1).unwrap(), Resume { next: 0, uncertain: None });
        j.reset().unwrap();
        for e in [
            Entry::Begin { batch: 1, group: 0 },
            Entry::Done { batch: 1, group: 0 },
            Entry::Begin { batch: 1, group: 1 },
        ] {
            j.append(e).unwrap();
        }
        // group 1 was in flight: not sent again
        assert_eq!(j.resume(1).unwrap(), Resume { next: 2, uncertain: Some(1) });
        // another batch's lines do not count
        assert_eq!(j.resume(2).unwrap(), Resume { next: 0, uncertain: None });
        j.append(Entry::NotApplied { batch: 1, group: 1 }).unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 1, uncertain: None });
        j.append(Entry::Begin { batch: 1, group: 1 }).unwrap();
        j.append(Entry::Skipped { batch: 1, group: 1 }).unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 2, uncertain: None });
        j.append(Entry::Done { batch: 1, group: 2 }).unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 3, uncertain: None });
        // a torn line (no newline: never synced) is ignored
        let mut f = std::fs::OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(b"begin 1 3").unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 3, uncertain: None });
        // … and cut off, so the next line is whole
        j.append(Entry::Begin { batch: 1, group: 3 }).unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 4, uncertain: Some(3) });
        j.reset().unwrap();
        assert_eq!(j.resume(1).unwrap(), Resume { next: 0, uncertain: None });
    }

    #[test]
    fn lines_round_trip_and_garbage_is_ignored() {
        for e in [
            Entry::Begin { batch: 7, group: 0 },
            Entry::Done { batch: u64::MAX, group: 3 },
            Entry::NotApplied { batch: 1, group: 9 },
            Entry::Skipped { batch: 2, group: 1 },
        ] {
            assert_eq!(Entry::parse(e.line().trim_end()), Some(e));
        }
        for bad in ["", "begin", "begin 1", "begin x 1", "begin 1 2 3", "end 1 2"] {
            assert_eq!(Entry::parse(bad), None, "{bad}");
        }
    }
}
