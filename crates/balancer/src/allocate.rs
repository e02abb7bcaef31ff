//! Deposit allocation and exit selection (ADR 0004), step by step exactly as `AllocationLib`.
//!
//! All arithmetic is on `u128`/`i128` widened from `u64` inputs. With at most
//! `4 × MAX_OPERATORS_PER_TYPE` operators of at most `u64::MAX` validators each, totals stay below
//! 2^74 and every product below 2^128, so the `saturating_*` calls below never saturate: they are
//! exact, like the checked `uint256` arithmetic of the contract.

use crate::error::AllocationError;
use crate::types::{
    Allocation, AllocationEntry, AllocationParams, BPS, MAX_REQUEST, MAX_SCORE, OperatorData,
    OperatorType,
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
    score: u128,
    given: u64,
}

impl Working {
    fn new(op: &OperatorData) -> Self {
        Self {
            id: op.id,
            active: op.active_validators.into(),
            available: op.available_keys.into(),
            score: op.score.into(),
            given: 0,
        }
    }
}

/// Allocates `n` new validators (deposits) to operators.
///
/// Step by step: the type with the largest `target × (total + 1) − 10,000 × active_of_type` among
/// types with an eligible operator (ties: lowest type), then inside it the eligible operator with
/// the lowest `active / weight`, `weight = max(score, 1) × min(available, K)` (ties: lowest id).
/// Eligible: active, target of its type > 0, keys available, `active < cap_absolute` and
/// `10,000 × active ≤ cap_bps × total`. Stops early when nobody is eligible.
pub fn allocate_deposits(
    params: &AllocationParams,
    operators: &[OperatorData],
    n: u64,
) -> Result<Allocation, AllocationError> {
    validate(params, operators, n)?;
    let bps = u128::from(BPS);
    let cap_bps = u128::from(params.operator_cap_bps);
    let cap_abs = u128::from(params.operator_cap_absolute);
    let saturation = u128::from(params.capacity_saturation);

    let mut total: u128 = 0;
    let mut type_active = PerType::<u128>::default();
    let mut groups = PerType::<Vec<Working>>::default();
    for op in operators {
        let active = u128::from(op.active_validators);
        total = total.saturating_add(active);
        let slot = type_active.get_mut(op.operator_type);
        *slot = slot.saturating_add(active);
        if op.is_active && op.available_keys > 0 && params.target_bps.of(op.operator_type) > 0 {
            groups.get_mut(op.operator_type).push(Working::new(op));
        }
    }

    let mut allocated: u64 = 0;
    while allocated < n {
        let mut tried = PerType::<bool>::default();
        let mut chosen = None;
        loop {
            let mut best: Option<(OperatorType, i128)> = None;
            for t in OperatorType::ALL {
                if *tried.get(t) || groups.get(t).is_empty() {
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
            let found = groups.get(t).iter().enumerate().fold(
                None,
                |best: Option<(usize, u128, u128)>, (i, c)| {
                    if c.available == 0
                        || c.active >= cap_abs
                        || c.active.saturating_mul(bps) > cap_bps.saturating_mul(total)
                    {
                        return best;
                    }
                    let weight = c.score.max(1).saturating_mul(c.available.min(saturation));
                    match best {
                        Some((_, best_active, best_weight))
                            if c.active.saturating_mul(best_weight)
                                >= best_active.saturating_mul(weight) =>
                        {
                            best
                        }
                        _ => Some((i, c.active, weight)),
                    }
                },
            );
            if let Some((i, _, _)) = found {
                chosen = Some((t, i));
                break;
            }
            *tried.get_mut(t) = true;
        }
        let Some((t, i)) = chosen else { break };
        let Some(c) = groups.get_mut(t).get_mut(i) else { break };
        c.active = c.active.saturating_add(1);
        c.available = c.available.saturating_sub(1);
        c.given = c.given.saturating_add(1);
        let slot = type_active.get_mut(t);
        *slot = slot.saturating_add(1);
        total = total.saturating_add(1);
        allocated = allocated.saturating_add(1);
    }
    Ok(collect(groups, allocated))
}

/// Selects `m` validators to exit for withdrawal demand.
///
/// Step by step: the type with the largest `10,000 × active_of_type − target × (total − 1)` among
/// types with active validators (ties: lowest type), then inside it the operator with active
/// validators and the lowest score (ties: most active, then lowest id). Paused and stopped
/// operators are included. Stops early when no validator is left.
pub fn select_exits(
    params: &AllocationParams,
    operators: &[OperatorData],
    m: u64,
) -> Result<Allocation, AllocationError> {
    validate(params, operators, m)?;
    let bps = u128::from(BPS);

    let mut total: u128 = 0;
    let mut type_active = PerType::<u128>::default();
    let mut groups = PerType::<Vec<Working>>::default();
    for op in operators {
        let active = u128::from(op.active_validators);
        total = total.saturating_add(active);
        let slot = type_active.get_mut(op.operator_type);
        *slot = slot.saturating_add(active);
        if op.active_validators > 0 {
            groups.get_mut(op.operator_type).push(Working::new(op));
        }
    }

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
        let found = groups.get(t).iter().enumerate().fold(
            None,
            |best: Option<(usize, u128, u128)>, (i, c)| {
                if c.active == 0 {
                    return best;
                }
                match best {
                    Some((_, best_score, best_active))
                        if c.score > best_score
                            || (c.score == best_score && c.active <= best_active) =>
                    {
                        best
                    }
                    _ => Some((i, c.score, c.active)),
                }
            },
        );
        let Some((i, _, _)) = found else { break };
        let Some(c) = groups.get_mut(t).get_mut(i) else { break };
        c.active = c.active.saturating_sub(1);
        c.given = c.given.saturating_add(1);
        let slot = type_active.get_mut(t);
        *slot = slot.saturating_sub(1);
        total = total.saturating_sub(1);
        selected = selected.saturating_add(1);
    }
    Ok(collect(groups, selected))
}

/// The checks of `AllocationLib._validate`, in the same order (so both reject with the same error).
fn validate(
    params: &AllocationParams,
    operators: &[OperatorData],
    requested: u64,
) -> Result<(), AllocationError> {
    params.validate()?;
    if requested > MAX_REQUEST {
        return Err(AllocationError::RequestTooLarge { requested, max: MAX_REQUEST });
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
        if op.score > MAX_SCORE {
            return Err(AllocationError::ScoreOutOfRange { id: op.id, score: op.score });
        }
        let count = counts.get_mut(op.operator_type);
        *count = count.saturating_add(1);
        if *count > max {
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

fn collect(groups: PerType<Vec<Working>>, total: u64) -> Allocation {
    let mut entries: Vec<AllocationEntry> = groups
        .0
        .into_iter()
        .flatten()
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
