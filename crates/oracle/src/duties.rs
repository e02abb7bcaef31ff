//! Attestation duties of the pool's validators over a frame: which validators had a duty in an
//! epoch (they were active in it, from the activation and exit epochs of the reference state, and
//! not slashed by the end of the next epoch: [`ValidatorSpan::from_registry`]) and
//! which performed it (the liveness a beacon node reported for the epoch). The tally feeds `N` of
//! R = T·F·N/A − P and the performance scores.
//!
//! Pure and deterministic: the same spans and the same per-epoch liveness give the same tally,
//! whatever order the liveness was fetched or recorded in. A duty whose liveness is unknown is an
//! error, never a guess.

use std::collections::BTreeMap;

/// The frame's epochs `(last_ref_epoch, ref_epoch]`, as `first..=last` (empty when `first > last`).
#[must_use]
pub fn frame_epochs(last_ref_slot: u64, ref_slot: u64, slots_per_epoch: u64) -> (u64, u64) {
    let last_ref_epoch = last_ref_slot.checked_div(slots_per_epoch).unwrap_or(0);
    let ref_epoch = ref_slot.checked_div(slots_per_epoch).unwrap_or(0);
    (last_ref_epoch.saturating_add(1), ref_epoch)
}

/// Why duties could not be tallied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DutiesError {
    /// The liveness of `missing` validators active in `epoch` is unknown (first: `first`).
    #[error(
        "tally duties of epoch {epoch}: the liveness of {missing} active validator(s) is unknown \
         (first: {first})"
    )]
    Missing {
        /// The epoch.
        epoch: u64,
        /// How many active validators have no liveness.
        missing: usize,
        /// The lowest such index.
        first: u64,
    },
    /// A validator index is listed twice (in the spans or in one epoch's liveness).
    #[error("tally duties: validator {index} listed twice{context}")]
    Duplicate {
        /// The index.
        index: u64,
        /// Where.
        context: String,
    },
    /// Two sources disagree about one validator's liveness in one epoch.
    #[error("merge liveness of epoch {epoch}: validator {index} is both live and not live")]
    Conflict {
        /// The epoch.
        epoch: u64,
        /// The index.
        index: u64,
    },
    /// Liveness records of different epochs were merged.
    #[error("merge liveness: epoch {a} with epoch {b}")]
    EpochMismatch {
        /// One epoch.
        a: u64,
        /// The other.
        b: u64,
    },
    /// A counter overflowed.
    #[error("tally duties: counter overflow")]
    Overflow,
    /// A stored liveness record is malformed.
    #[error("read the stored liveness of epoch {epoch}: {reason}")]
    Malformed {
        /// The epoch.
        epoch: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Which of a set of validators performed their duties in one epoch: `indices` strictly
/// increasing, bit `i` of `live` (little-endian within bytes) for `indices[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EpochLiveness {
    /// The epoch.
    pub epoch: u64,
    indices: Vec<u64>,
    live: Vec<u8>,
}

impl EpochLiveness {
    /// A record of `epoch` covering nobody.
    #[must_use]
    pub fn empty(epoch: u64) -> Self {
        Self { epoch, indices: Vec::new(), live: Vec::new() }
    }

    /// From `(index, is_live)` pairs in any order; a repeated index is an error.
    pub fn from_pairs(epoch: u64, mut pairs: Vec<(u64, bool)>) -> Result<Self, DutiesError> {
        pairs.sort_unstable_by_key(|p| p.0);
        if let Some(w) = pairs.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
            let index = w.first().map_or(0, |p| p.0);
            return Err(DutiesError::Duplicate { index, context: format!(" in epoch {epoch}") });
        }
        let mut live = vec![0u8; pairs.len().div_ceil(8)];
        for (i, (_, is_live)) in pairs.iter().enumerate() {
            if *is_live && let Some(b) = live.get_mut(i / 8) {
                *b |= 1u8 << (i % 8);
            }
        }
        Ok(Self { epoch, indices: pairs.into_iter().map(|p| p.0).collect(), live })
    }

    /// From the stored form (checked: strictly increasing indices, a bitmap of the right length).
    pub fn from_parts(epoch: u64, indices: Vec<u64>, live: Vec<u8>) -> Result<Self, DutiesError> {
        if indices.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
            return Err(DutiesError::Malformed {
                epoch,
                reason: "indices not strictly increasing",
            });
        }
        if live.len() != indices.len().div_ceil(8) {
            return Err(DutiesError::Malformed { epoch, reason: "bitmap length mismatch" });
        }
        Ok(Self { epoch, indices, live })
    }

    /// The indices covered, increasing.
    #[must_use]
    pub fn indices(&self) -> &[u64] {
        &self.indices
    }

    /// The bitmap.
    #[must_use]
    pub fn bitmap(&self) -> &[u8] {
        &self.live
    }

    /// How many validators are covered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether no validator is covered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    fn bit(&self, pos: usize) -> bool {
        self.live.get(pos / 8).is_some_and(|b| b & (1u8 << (pos % 8)) != 0)
    }

    /// The liveness of `index`, if covered.
    #[must_use]
    pub fn get(&self, index: u64) -> Option<bool> {
        self.indices.binary_search(&index).ok().map(|pos| self.bit(pos))
    }

    /// The indices of `required` (increasing) this record does not cover.
    #[must_use]
    pub fn missing(&self, required: &[u64]) -> Vec<u64> {
        required.iter().copied().filter(|i| self.indices.binary_search(i).is_err()).collect()
    }

    /// The union of two records of the same epoch; a validator both live and not live is an error.
    pub fn merge(&self, other: &Self) -> Result<Self, DutiesError> {
        if self.epoch != other.epoch {
            return Err(DutiesError::EpochMismatch { a: self.epoch, b: other.epoch });
        }
        let mut pairs: Vec<(u64, bool)> =
            Vec::with_capacity(self.len().saturating_add(other.len()));
        pairs.extend(self.indices.iter().enumerate().map(|(p, i)| (*i, self.bit(p))));
        for (p, i) in other.indices.iter().enumerate() {
            let v = other.bit(p);
            match self.get(*i) {
                Some(mine) if mine != v => {
                    return Err(DutiesError::Conflict { epoch: self.epoch, index: *i });
                }
                Some(_) => {}
                None => pairs.push((*i, v)),
            }
        }
        Self::from_pairs(self.epoch, pairs)
    }
}

/// When a validator had attestation duties: `activation_epoch <= e < exit_epoch` (the spec's
/// `is_active`; for a slashed validator [`Self::from_registry`] ends the span earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorSpan {
    /// Registry index.
    pub index: u64,
    /// Activation epoch (`u64::MAX`: not activated).
    pub activation_epoch: u64,
    /// The first epoch without a duty: the exit epoch (`u64::MAX`: not exiting), or earlier for
    /// a slashed validator.
    pub exit_epoch: u64,
}

impl ValidatorSpan {
    /// The span of a registry entry. A slashed validator has no duty from the epoch before its
    /// slashing epoch on (the slashing epoch is `withdrawable_epoch −
    /// epochs_per_slashings_vector`, set by `slash_validator`): the rewards of epoch *e* are
    /// computed with the state at the end of *e + 1*, where a validator slashed by then is never
    /// in the unslashed participating set, so its target reward is negative whatever it did,
    /// from epoch *slashing − 1* until it exits (days to weeks in the exit queue). Counting
    /// those as misses would charge its operator on top of the slashing penalty (which is the
    /// charge), and the liveness source would count them as performed; with no duty both
    /// sources agree. If the validator's exit was already scheduled so far ahead that its
    /// withdrawable epoch did not move when it was slashed, the derived slashing epoch is later
    /// than the real one, and the epochs between count as they come.
    #[must_use]
    pub fn from_registry(
        index: u64,
        activation_epoch: u64,
        exit_epoch: u64,
        slashed: bool,
        withdrawable_epoch: u64,
        epochs_per_slashings_vector: u64,
    ) -> Self {
        let exit_epoch = if slashed {
            let slashing_epoch = withdrawable_epoch.saturating_sub(epochs_per_slashings_vector);
            exit_epoch.min(slashing_epoch.saturating_sub(1))
        } else {
            exit_epoch
        };
        Self { index, activation_epoch, exit_epoch }
    }

    /// Whether the validator had duties in `epoch`.
    #[must_use]
    pub fn active_in(&self, epoch: u64) -> bool {
        self.activation_epoch <= epoch && epoch < self.exit_epoch
    }
}

/// Duties of one validator over the frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duties {
    /// Epochs it was active in.
    pub expected: u32,
    /// Epochs it was live in.
    pub performed: u32,
}

/// The running tally of a frame, fed one epoch at a time (so that only one epoch's liveness is
/// held in memory).
#[derive(Debug, Clone)]
pub struct DutyTally {
    spans: Vec<ValidatorSpan>,
    duties: Vec<Duties>,
}

impl DutyTally {
    /// A tally over `spans` (any order; a repeated index is an error).
    pub fn new(mut spans: Vec<ValidatorSpan>) -> Result<Self, DutiesError> {
        spans.sort_unstable_by_key(|s| s.index);
        if let Some(w) = spans.windows(2).find(|w| matches!(w, [a, b] if a.index == b.index)) {
            let index = w.first().map_or(0, |s| s.index);
            return Err(DutiesError::Duplicate { index, context: String::new() });
        }
        let duties = vec![Duties::default(); spans.len()];
        Ok(Self { spans, duties })
    }

    /// The validators active in `epoch`, increasing: the indices whose liveness is needed.
    #[must_use]
    pub fn required(&self, epoch: u64) -> Vec<u64> {
        self.spans.iter().filter(|s| s.active_in(epoch)).map(|s| s.index).collect()
    }

    /// How many validators the tally follows.
    #[must_use]
    pub fn validators(&self) -> usize {
        self.spans.len()
    }

    /// The lowest activation epoch (epochs before it need no liveness); `None` without spans.
    #[must_use]
    pub fn first_active_epoch(&self) -> Option<u64> {
        self.spans.iter().map(|s| s.activation_epoch).min()
    }

    /// Counts `record`'s epoch: a duty for every validator active in it, performed if live. Every
    /// active validator must be covered by `record` (it may cover more).
    pub fn add_epoch(&mut self, record: &EpochLiveness) -> Result<(), DutiesError> {
        let epoch = record.epoch;
        let mut missing = 0usize;
        let mut first = None;
        let mut pos = 0usize;
        for (span, d) in self.spans.iter().zip(self.duties.iter_mut()) {
            if !span.active_in(epoch) {
                continue;
            }
            // merge-join: both lists are increasing
            while record.indices.get(pos).is_some_and(|i| *i < span.index) {
                pos = pos.saturating_add(1);
            }
            if record.indices.get(pos) != Some(&span.index) {
                missing = missing.saturating_add(1);
                first.get_or_insert(span.index);
                continue;
            }
            d.expected = d.expected.checked_add(1).ok_or(DutiesError::Overflow)?;
            if record.bit(pos) {
                d.performed = d.performed.checked_add(1).ok_or(DutiesError::Overflow)?;
            }
        }
        match first {
            Some(first) => Err(DutiesError::Missing { epoch, missing, first }),
            None => Ok(()),
        }
    }

    /// The duties by validator index.
    #[must_use]
    pub fn into_map(self) -> BTreeMap<u64, Duties> {
        self.spans.into_iter().map(|s| s.index).zip(self.duties).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn span(index: u64, activation_epoch: u64, exit_epoch: u64) -> ValidatorSpan {
        ValidatorSpan { index, activation_epoch, exit_epoch }
    }

    #[test]
    fn frame_epochs_are_last_ref_exclusive_ref_inclusive() {
        // slots 0..=31 → epochs 0..=7 with 4-slot epochs; frame (7, 15]
        assert_eq!(frame_epochs(31, 63, 4), (8, 15));
        assert_eq!(frame_epochs(0, 31, 4), (1, 7));
        assert_eq!(frame_epochs(0, 31, 0), (1, 0));
    }

    #[test]
    fn only_active_epochs_are_duties_and_unknown_liveness_is_an_error() {
        let mut t = DutyTally::new(vec![span(9, 2, 4), span(3, 0, u64::MAX)]).unwrap();
        assert_eq!(t.required(1), vec![3]);
        assert_eq!(t.required(2), vec![3, 9]);
        assert_eq!(t.first_active_epoch(), Some(0));
        t.add_epoch(&EpochLiveness::from_pairs(1, vec![(3, true), (9, true)]).unwrap()).unwrap();
        t.add_epoch(&EpochLiveness::from_pairs(2, vec![(9, false), (3, true)]).unwrap()).unwrap();
        t.add_epoch(&EpochLiveness::from_pairs(3, vec![(9, true), (3, false)]).unwrap()).unwrap();
        // epoch 4: validator 9 has exited, 3 is not covered
        let err = t.add_epoch(&EpochLiveness::from_pairs(4, vec![(9, true)]).unwrap()).unwrap_err();
        assert_eq!(err, DutiesError::Missing { epoch: 4, missing: 1, first: 3 });
        let m = t.into_map();
        assert_eq!(m[&3], Duties { expected: 3, performed: 2 });
        assert_eq!(m[&9], Duties { expected: 2, performed: 1 });
    }

    /// A validator slashed in epoch 10 (withdrawable 10 + 16) has duties until epoch 8: the
    /// rewards of epoch 9 already see it slashed (state at the end of 10), so they are not a
    /// miss; an unslashed one keeps its exit epoch, and an earlier exit stays.
    #[test]
    fn a_slashed_validator_has_no_duty_from_the_epoch_before_its_slashing() {
        let slashed = ValidatorSpan::from_registry(5, 2, 30, true, 26, 16);
        assert_eq!(slashed, span(5, 2, 9));
        assert!(slashed.active_in(8) && !slashed.active_in(9) && !slashed.active_in(20));
        assert_eq!(ValidatorSpan::from_registry(5, 2, 30, false, 26, 16), span(5, 2, 30));
        assert_eq!(ValidatorSpan::from_registry(5, 2, 7, true, 26, 16), span(5, 2, 7));
        // the frame 1..=20: penalised (missed) target rewards from epoch 9 on are not counted
        let mut t = DutyTally::new(vec![slashed, span(6, 0, u64::MAX)]).unwrap();
        for e in 1..=20u64 {
            let pairs = t.required(e).into_iter().map(|i| (i, i == 6 || e < 9)).collect();
            t.add_epoch(&EpochLiveness::from_pairs(e, pairs).unwrap()).unwrap();
        }
        let m = t.into_map();
        assert_eq!(m[&5], Duties { expected: 7, performed: 7 }, "epochs 2..=8");
        assert_eq!(m[&6], Duties { expected: 20, performed: 20 });
    }

    #[test]
    fn duplicates_and_conflicts_are_refused() {
        assert!(DutyTally::new(vec![span(1, 0, 9), span(1, 0, 9)]).is_err());
        assert!(EpochLiveness::from_pairs(5, vec![(1, true), (1, false)]).is_err());
        let a = EpochLiveness::from_pairs(5, vec![(1, true), (2, false)]).unwrap();
        let b = EpochLiveness::from_pairs(5, vec![(2, true)]).unwrap();
        assert_eq!(a.merge(&b), Err(DutiesError::Conflict { epoch: 5, index: 2 }));
        let c = EpochLiveness::from_pairs(6, vec![(3, true)]).unwrap();
        assert!(matches!(a.merge(&c), Err(DutiesError::EpochMismatch { .. })));
        assert!(EpochLiveness::from_parts(5, vec![2, 1], vec![0]).is_err());
        assert!(EpochLiveness::from_parts(5, vec![1, 2], vec![0, 0]).is_err());
        let stored = EpochLiveness::from_parts(5, a.indices().to_vec(), a.bitmap().to_vec());
        assert_eq!(stored.unwrap(), a);
    }

    proptest! {
        /// The tally equals a naive count, and does not depend on how an epoch's liveness was
        /// split into batches or merged (recorded during the frame vs fetched at compute time).
        #[test]
        fn tally_matches_a_naive_count_whatever_the_batching(
            spans in proptest::collection::btree_map(0u64..200, (0u64..12, 0u64..14), 0..40),
            seed in any::<u64>(),
            split in 0usize..40,
        ) {
            let spans: Vec<ValidatorSpan> =
                spans.into_iter().map(|(i, (a, len))| span(i, a, a.saturating_add(len))).collect();
            let live = |e: u64, i: u64| !(e.wrapping_mul(31) ^ i.wrapping_mul(17) ^ seed).is_multiple_of(3);
            let mut tally = DutyTally::new(spans.iter().rev().copied().collect()).unwrap();
            for e in 0..14u64 {
                let pairs: Vec<(u64, bool)> =
                    tally.required(e).into_iter().map(|i| (i, live(e, i))).collect();
                let cut = split.min(pairs.len());
                let (x, y) = pairs.split_at(cut);
                let a = EpochLiveness::from_pairs(e, y.to_vec()).unwrap();
                let b = EpochLiveness::from_pairs(e, x.iter().rev().copied().collect()).unwrap();
                let whole = EpochLiveness::from_pairs(e, pairs.clone()).unwrap();
                prop_assert_eq!(&a.merge(&b).unwrap(), &whole);
                prop_assert_eq!(&b.merge(&a).unwrap(), &whole);
                tally.add_epoch(&whole).unwrap();
            }
            let got = tally.into_map();
            for s in &spans {
                let expected = (0..14u64).filter(|e| s.active_in(*e)).count();
                let performed = (0..14u64).filter(|e| s.active_in(*e) && live(*e, s.index)).count();
                prop_assert_eq!(got[&s.index].expected as usize, expected);
                prop_assert_eq!(got[&s.index].performed as usize, performed);
            }
        }
    }
}
