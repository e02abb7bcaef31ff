//! A naive reference model of ADR 0004 (recomputes everything from scratch at every step, sorts
//! candidates with a comparator) and input generators shared by the property and vector tests.

#![allow(dead_code, clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use claystack_balancer::{
    Allocation, AllocationEntry, AllocationParams, OperatorData, OperatorType, TargetShares,
};

fn target(p: &AllocationParams, t: OperatorType) -> i128 {
    i128::from(p.target_bps.of(t))
}

fn type_active(ops: &[OperatorData], t: OperatorType) -> i128 {
    ops.iter().filter(|o| o.operator_type == t).map(|o| i128::from(o.active_validators)).sum()
}

fn pool_total(ops: &[OperatorData]) -> i128 {
    ops.iter().map(|o| i128::from(o.active_validators)).sum()
}

fn weight(p: &AllocationParams, o: &OperatorData) -> i128 {
    i128::from(o.score.max(1)) * i128::from(o.available_keys.min(p.capacity_saturation))
}

fn deposit_eligible(p: &AllocationParams, o: &OperatorData, total: i128) -> bool {
    o.is_active
        && o.available_keys > 0
        && target(p, o.operator_type) > 0
        && o.active_validators < p.operator_cap_absolute
        && i128::from(o.active_validators) * 10_000 <= i128::from(p.operator_cap_bps) * total
}

fn to_allocation(given: BTreeMap<u64, u64>) -> Allocation {
    let total = given.values().sum();
    Allocation {
        entries: given
            .into_iter()
            .map(|(operator_id, count)| AllocationEntry { operator_id, count })
            .collect(),
        total,
    }
}

/// Deposits one validator at a time, as ADR 0004 words it.
pub(crate) fn naive_deposits(p: &AllocationParams, ops: &[OperatorData], n: u64) -> Allocation {
    let mut ops = ops.to_vec();
    let mut given = BTreeMap::new();
    for _ in 0..n {
        let total = pool_total(&ops);
        let mut best: Option<(OperatorType, i128)> = None;
        for t in OperatorType::ALL {
            if !ops.iter().any(|o| o.operator_type == t && deposit_eligible(p, o, total)) {
                continue;
            }
            let deficit = target(p, t) * (total + 1) - 10_000 * type_active(&ops, t);
            if best.is_none_or(|(_, d)| deficit > d) {
                best = Some((t, deficit));
            }
        }
        let Some((t, _)) = best else { break };
        let mut candidates: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].operator_type == t && deposit_eligible(p, &ops[i], total))
            .collect();
        candidates.sort_by(|&a, &b| {
            let (oa, ob) = (&ops[a], &ops[b]);
            (i128::from(oa.active_validators) * weight(p, ob))
                .cmp(&(i128::from(ob.active_validators) * weight(p, oa)))
                .then(oa.id.cmp(&ob.id))
        });
        let i = candidates[0];
        ops[i].active_validators += 1;
        ops[i].available_keys -= 1;
        *given.entry(ops[i].id).or_insert(0) += 1;
    }
    to_allocation(given)
}

/// Exits one validator at a time, as ADR 0004 words it.
pub(crate) fn naive_exits(p: &AllocationParams, ops: &[OperatorData], m: u64) -> Allocation {
    let mut ops = ops.to_vec();
    let mut given = BTreeMap::new();
    for _ in 0..m {
        let total = pool_total(&ops);
        let mut best: Option<(OperatorType, i128)> = None;
        for t in OperatorType::ALL {
            let active = type_active(&ops, t);
            if active == 0 {
                continue;
            }
            let surplus = 10_000 * active - target(p, t) * (total - 1);
            if best.is_none_or(|(_, s)| surplus > s) {
                best = Some((t, surplus));
            }
        }
        let Some((t, _)) = best else { break };
        let mut candidates: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].operator_type == t && ops[i].active_validators > 0)
            .collect();
        candidates.sort_by(|&a, &b| {
            let (oa, ob) = (&ops[a], &ops[b]);
            oa.score
                .cmp(&ob.score)
                .then(ob.active_validators.cmp(&oa.active_validators))
                .then(oa.id.cmp(&ob.id))
        });
        let i = candidates[0];
        ops[i].active_validators -= 1;
        *given.entry(ops[i].id).or_insert(0) += 1;
    }
    to_allocation(given)
}

/// Applies an allocation to the operators (deposits: `+1` active, `-1` available per validator).
pub(crate) fn apply_deposits(ops: &mut [OperatorData], allocation: &Allocation) {
    for e in &allocation.entries {
        let o = ops.iter_mut().find(|o| o.id == e.operator_id).unwrap();
        o.active_validators += e.count;
        o.available_keys -= e.count;
    }
}

/// Applies an exit selection to the operators.
pub(crate) fn apply_exits(ops: &mut [OperatorData], selection: &Allocation) {
    for e in &selection.entries {
        let o = ops.iter_mut().find(|o| o.id == e.operator_id).unwrap();
        o.active_validators -= e.count;
    }
}

/// SplitMix64: a tiny deterministic generator, so the committed vectors never depend on a crate's
/// RNG algorithm.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `[lo, hi]`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// Random valid targets: four shares summing to 10,000, some of them zero.
pub(crate) fn random_targets(rng: &mut SplitMix64) -> TargetShares {
    match rng.range(0, 5) {
        0 => TargetShares { professional: 3_500, kyc: 1_000, dvt: 3_500, home: 2_000 },
        1 => TargetShares { professional: 0, kyc: 10_000, dvt: 0, home: 0 },
        _ => {
            let mut cuts = [rng.range(0, 10_000), rng.range(0, 10_000), rng.range(0, 10_000)];
            cuts.sort_unstable();
            let s = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], 10_000 - cuts[2]];
            let s: Vec<u16> = s.iter().map(|&v| u16::try_from(v).unwrap()).collect();
            TargetShares { professional: s[0], kyc: s[1], dvt: s[2], home: s[3] }
        }
    }
}

/// Random valid parameters.
pub(crate) fn random_params(rng: &mut SplitMix64) -> AllocationParams {
    AllocationParams {
        target_bps: random_targets(rng),
        operator_cap_bps: if rng.range(0, 2) == 0 {
            10_000
        } else {
            u16::try_from(rng.range(100, 10_000)).unwrap()
        },
        operator_cap_absolute: if rng.range(0, 2) == 0 {
            1_000_000_000_000
        } else {
            rng.range(1, 300)
        },
        capacity_saturation: rng.range(1, 64),
        max_operators_per_type: 200,
    }
}

/// Random operators with strictly increasing ids; values small enough to collide (ties matter).
pub(crate) fn random_operators(rng: &mut SplitMix64, count: usize) -> Vec<OperatorData> {
    let mut id = rng.range(0, 3);
    let spread = rng.range(1, 200);
    (0..count)
        .map(|_| {
            id += rng.range(1, 3);
            let score = match rng.range(0, 4) {
                0 => 0,
                1 => 10_000,
                2 => rng.range(0, 4) * 2_500,
                _ => rng.range(0, 10_000),
            };
            OperatorData {
                id,
                operator_type: OperatorType::from_u8(u8::try_from(rng.range(0, 3)).unwrap())
                    .unwrap(),
                is_active: rng.range(0, 5) != 0,
                active_validators: rng.range(0, spread),
                available_keys: if rng.range(0, 4) == 0 { 0 } else { rng.range(1, 80) },
                score: u16::try_from(score).unwrap(),
            }
        })
        .collect()
}
