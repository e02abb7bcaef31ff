//! Deposit allocation and exit selection (ADR 0004), step by step exactly as `AllocationLib`.
//!
//! All arithmetic is on `u128`/`i128` widened from `u64` inputs. With at most
//! `4 × MAX_OPERATORS_PER_TYPE` operators (on chain) or `MAX_OFF_CHAIN_OPERATORS` = 2^20 operators
//! (off-chain exits) of at most `u64::MAX` validators each, totals stay below 2^84, every product
//! with 10,000 below 2^98 and every `active × weight` product below 2^88 (weight ≤ 10,000 ×
//! 1,024), so the `saturating_*` calls below never saturate: they are
//! exact, like the checked `uint256` arithmetic of the contract.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;

use crate::error::AllocationError;
use crate::types::{
    Allocation, AllocationEntry, AllocationParams, BPS, MAX_OFF_CHAIN_OPERATORS, MAX_REQUEST,
    MAX_SCORE, OperatorData, OperatorType,
};

/// One value per operator type, addressed by type (no runtime indexing).
#[derive(Debug, Default, Clone)]
struct PerType<T>([T; 4]);

impl<T> PerType<T> {
    const fn get(&self, t: OperatorType) -> &T {
        match t {
            OperatorType::Professional => &self.0[0],
            OperatorType::Kyc => &self.0[1],
            OperatorType::Dvt => &self.0[2],
            OperatorType::Home => &self.0[3],
        }
    }

    const fn get_mut(&mut self, t: OperatorType) -> &mut T {
        match t {
            OperatorType::Professional => &mut self.0[0],
            OperatorType::Kyc => &mut self.0[1],
            OperatorType::Dvt => &mut self.0[2],
            OperatorType::Home => &mut self.0[3],
        }
    }
}

/// An operator while a request is being served.
#[derive(Debug, Clone, Copy)]
struct Working {
    id: u64,
    active: u128,
    available: u128,
    /// Deposits: `max(score, 1)`; exits: the raw score.
    score: u128,
    /// Deposits: `score × min(available, K)`, kept up to date.
    weight: u128,
    given: u64,
}

impl Working {
    fn new(op: &OperatorData, score: u16, saturation: u128) -> Self {
        let available = u128::from(op.available_keys);
        let score = u128::from(score);
        Self {
            id: op.id,
            active: op.active_validators.into(),
            available,
            score,
            weight: score.saturating_mul(available.min(saturation)),
            given: 0,
        }
    }
}

/// Heap order of eligible deposit candidates: the greatest comes first, i.e. the lowest
/// `active / weight` (cross-multiplied), then the lowest id. A total order: ids are unique.
#[derive(Debug)]
struct ByRatio(Working);

impl Ord for ByRatio {
    fn cmp(&self, other: &Self) -> Ordering {
        let lhs = self.0.active.saturating_mul(other.0.weight);
        let rhs = other.0.active.saturating_mul(self.0.weight);
        rhs.cmp(&lhs).then(other.0.id.cmp(&self.0.id))
    }
}

/// Heap order of candidates held back by the share cap: lowest active first, then lowest id.
#[derive(Debug)]
struct ByActive(Working);

impl Ord for ByActive {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.active.cmp(&self.0.active).then(other.0.id.cmp(&self.0.id))
    }
}

/// Heap order of exit candidates: lowest score first, then most active, then lowest id.
#[derive(Debug)]
struct ByExit(Working);

impl Ord for ByExit {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .score
            .cmp(&self.0.score)
            .then(self.0.active.cmp(&other.0.active))
            .then(other.0.id.cmp(&self.0.id))
    }
}

macro_rules! order_by_cmp {
    ($($t:ty),*) => {$(
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $t {}
    )*};
}
order_by_cmp!(ByRatio, ByActive, ByExit);

/// Allocates `n` new validators (deposits) to operators.
///
/// Step by step: the type with the largest `target × (total + 1) − 10,000 × active_of_type` among
/// types with an eligible operator (ties: lowest type), then inside it the eligible operator with
/// the lowest `active / weight`, `weight = max(score, 1) × min(available, K)` (ties: lowest id).
/// Eligible: active, target of its type > 0, keys available, `active < cap_absolute` and
/// `10,000 × active ≤ cap_bps × total`. Stops early when nobody is eligible.
///
/// Per type, a heap of eligible operators and a heap of operators held back only by the share
/// cap (released when `total` has grown enough): O((operators + n) × log(operators per type)).
pub fn allocate_deposits(
    params: &AllocationParams,
    operators: &[OperatorData],
    n: u64,
) -> Result<Allocation, AllocationError> {
    validate(params, operators, n, PerTypeBound::Enforced)?;
    let bps = u128::from(BPS);
    let cap_bps = u128::from(params.operator_cap_bps);
    let cap_abs = u128::from(params.operator_cap_absolute);
    let saturation = u128::from(params.capacity_saturation);

    let (mut total, mut type_active) = totals(operators);
    let mut eligible = PerType::<BinaryHeap<ByRatio>>::default();
    let mut waiting = PerType::<BinaryHeap<ByActive>>::default();
    for op in operators {
        let active = u128::from(op.active_validators);
        if !op.is_active
            || op.available_keys == 0
            || params.target_bps.of(op.operator_type) == 0
            || active >= cap_abs
        {
            continue; // can never become eligible during this call
        }
        let w = Working::new(op, op.score.max(1), saturation);
        if active.saturating_mul(bps) > cap_bps.saturating_mul(total) {
            waiting.get_mut(op.operator_type).push(ByActive(w));
        } else {
            eligible.get_mut(op.operator_type).push(ByRatio(w));
        }
    }

    let mut done = Vec::new();
    let mut allocated: u64 = 0;
    while allocated < n {
        let cap_share = cap_bps.saturating_mul(total);
        for t in OperatorType::ALL {
            let wait = waiting.get_mut(t);
            while wait.peek().is_some_and(|top| top.0.active.saturating_mul(bps) <= cap_share) {
                if let Some(ByActive(w)) = wait.pop() {
                    eligible.get_mut(t).push(ByRatio(w));
                }
            }
        }
        let mut best: Option<(OperatorType, i128)> = None;
        for t in OperatorType::ALL {
            if eligible.get(t).is_empty() {
                continue;
            }
            let target = u128::from(params.target_bps.of(t));
            let deficit = signed(target.saturating_mul(total.saturating_add(1)))
                .saturating_sub(signed(bps.saturating_mul(*type_active.get(t))));
            if best.is_none_or(|(_, d)| deficit > d) {
                best = Some((t, deficit));
            }
        }
        let Some((t, _)) = best else { break };
        let Some(mut top) = eligible.get_mut(t).peek_mut() else { break };
        let c = &mut top.0;
        c.active = c.active.saturating_add(1);
        c.available = c.available.saturating_sub(1);
        c.given = c.given.saturating_add(1);
        c.weight = c.score.saturating_mul(c.available.min(saturation));
        let slot = type_active.get_mut(t);
        *slot = slot.saturating_add(1);
        total = total.saturating_add(1);
        allocated = allocated.saturating_add(1);
        if c.available == 0 || c.active >= cap_abs {
            done.push(PeekMut::pop(top).0);
        } else if c.active.saturating_mul(bps) > cap_bps.saturating_mul(total) {
            let w = PeekMut::pop(top).0;
            waiting.get_mut(t).push(ByActive(w));
        }
        // Otherwise dropping `top` sifts the (now later) operator down.
    }
    let rest = eligible.0.into_iter().flatten().map(|e| e.0);
    let held = waiting.0.into_iter().flatten().map(|e| e.0);
    Ok(collect(done.into_iter().chain(rest).chain(held), allocated))
}

/// Selects `m` validators to exit for withdrawal demand.
///
/// Step by step: the type with the largest `10,000 × active_of_type − target × (total − 1)` among
/// types with active validators (ties: lowest type), then inside it the operator with active
/// validators and the lowest score (ties: most active, then lowest id). Paused and stopped
/// operators are included. Stops early when no validator is left.
///
/// Refuses an input the contract refuses, among others one with more than
/// `max_operators_per_type` operators of a type; see [`select_exits_off_chain`] for the same rule
/// over any number of operators.
pub fn select_exits(
    params: &AllocationParams,
    operators: &[OperatorData],
    m: u64,
) -> Result<Allocation, AllocationError> {
    validate(params, operators, m, PerTypeBound::Enforced)?;
    Ok(exits(params, operators, m))
}

/// [`select_exits`] without the per-type bound: the same rule over every operator given, for
/// callers that are not limited by the contract's gas (the oracle plans exit requests over all
/// candidates, ADR 0006). `max_operators_per_type` bounds what the contract accepts, never the
/// choice, so whenever every type has at most that many operators the result is exactly
/// [`select_exits`]'s (and `AllocationLib.selectExits`'); with more, it is what the contract's
/// rule gives over the whole set (the contract at its hard bound of 200 per type, or the rule
/// itself beyond).
///
/// Bounded by its input: at most [`MAX_OFF_CHAIN_OPERATORS`] operators and [`MAX_REQUEST`]
/// validators, O((operators + m) × log(operators)) work; every other check of [`select_exits`]
/// applies, in the same order.
pub fn select_exits_off_chain(
    params: &AllocationParams,
    operators: &[OperatorData],
    m: u64,
) -> Result<Allocation, AllocationError> {
    validate(params, operators, m, PerTypeBound::Ignored)?;
    Ok(exits(params, operators, m))
}

/// The exit rule on a validated input.
fn exits(params: &AllocationParams, operators: &[OperatorData], m: u64) -> Allocation {
    let bps = u128::from(BPS);

    let (mut total, mut type_active) = totals(operators);
    let mut heaps = PerType::<BinaryHeap<ByExit>>::default();
    for op in operators.iter().filter(|op| op.active_validators > 0) {
        heaps.get_mut(op.operator_type).push(ByExit(Working::new(op, op.score, 0)));
    }

    let mut done = Vec::new();
    let mut selected: u64 = 0;
    while selected < m {
        let mut best: Option<(OperatorType, i128)> = None;
        for t in OperatorType::ALL {
            if *type_active.get(t) == 0 {
                continue;
            }
            let target = u128::from(params.target_bps.of(t));
            let surplus = signed(bps.saturating_mul(*type_active.get(t)))
                .saturating_sub(signed(target.saturating_mul(total.saturating_sub(1))));
            if best.is_none_or(|(_, s)| surplus > s) {
                best = Some((t, surplus));
            }
        }
        let Some((t, _)) = best else { break };
        let Some(mut top) = heaps.get_mut(t).peek_mut() else { break };
        let c = &mut top.0;
        c.active = c.active.saturating_sub(1);
        c.given = c.given.saturating_add(1);
        let slot = type_active.get_mut(t);
        *slot = slot.saturating_sub(1);
        total = total.saturating_sub(1);
        selected = selected.saturating_add(1);
        if c.active == 0 {
            done.push(PeekMut::pop(top).0);
        }
    }
    let rest = heaps.0.into_iter().flatten().map(|e| e.0);
    collect(done.into_iter().chain(rest), selected)
}

/// Active validators of the pool and per type.
fn totals(operators: &[OperatorData]) -> (u128, PerType<u128>) {
    let mut total: u128 = 0;
    let mut type_active = PerType::<u128>::default();
    for op in operators {
        let active = u128::from(op.active_validators);
        total = total.saturating_add(active);
        let slot = type_active.get_mut(op.operator_type);
        *slot = slot.saturating_add(active);
    }
    (total, type_active)
}

/// Whether an input may hold more than `max_operators_per_type` operators of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PerTypeBound {
    /// As the contract: refused (`TooManyOperators`).
    Enforced,
    /// Off chain: any number, up to [`MAX_OFF_CHAIN_OPERATORS`] in all.
    Ignored,
}

/// The checks of `AllocationLib._load`, in the same order (so both reject with the same error);
/// off chain, the per-type bound is replaced by [`MAX_OFF_CHAIN_OPERATORS`] on the whole input.
fn validate(
    params: &AllocationParams,
    operators: &[OperatorData],
    requested: u64,
    bound: PerTypeBound,
) -> Result<(), AllocationError> {
    params.validate()?;
    if requested > MAX_REQUEST {
        return Err(AllocationError::RequestTooLarge { requested, max: MAX_REQUEST });
    }
    if bound == PerTypeBound::Ignored {
        let len = u64::try_from(operators.len()).unwrap_or(u64::MAX);
        if len > MAX_OFF_CHAIN_OPERATORS {
            return Err(AllocationError::InputTooLarge {
                operators: len,
                max: MAX_OFF_CHAIN_OPERATORS,
            });
        }
    }
    let max = u64::from(params.max_operators_per_type);
    let mut counts = PerType::<u64>::default();
    let mut previous: Option<u64> = None;
    for (index, op) in operators.iter().enumerate() {
        if let Some(previous_id) = previous
            && op.id <= previous_id
        {
            return Err(AllocationError::UnsortedOperators { index, previous_id, id: op.id });
        }
        if u64::from(op.score) > MAX_SCORE {
            return Err(AllocationError::ScoreOutOfRange { id: op.id, score: op.score.into() });
        }
        let count = counts.get_mut(op.operator_type);
        *count = count.saturating_add(1);
        if bound == PerTypeBound::Enforced && *count > max {
            return Err(AllocationError::TooManyOperators {
                operator_type: op.operator_type,
                count: *count,
                max,
            });
        }
        previous = Some(op.id);
    }
    Ok(())
}

fn collect(operators: impl Iterator<Item = Working>, total: u64) -> Allocation {
    let mut entries: Vec<AllocationEntry> = operators
        .filter(|c| c.given > 0)
        .map(|c| AllocationEntry { operator_id: c.id, count: c.given })
        .collect();
    entries.sort_unstable_by_key(|e| e.operator_id);
    Allocation { entries, total }
}

/// Values here are below 2^128 / 2 by the bounds in the module docs.
fn signed(value: u128) -> i128 {
    i128::try_from(value).unwrap_or(i128::MAX)
}
