//! The oracle's exit path on the pure core: which validators it asks to exit (the published rule
//! of ADR 0006 over every candidate, whatever `maxOperatorsPerType` is), when it settles an
//! operator's exits (releases their bond), and when it closes an exit request whose validator
//! left (docs/adr/0007).

use std::collections::BTreeMap;

use alloy::primitives::U256;
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_oracle::generate::synthetic;
use claystack_oracle::{OracleInput, compute};

const ETH: u128 = 1_000_000_000_000_000_000;

/// Per operator: the validators the oracle may still ask to exit (active, unslashed, no exit
/// requested), counted from the input independently of `compute`.
fn candidates(input: &OracleInput) -> BTreeMap<u64, (OperatorType, u16, i128)> {
    let reg = input.registry.as_ref().unwrap();
    let status: std::collections::HashMap<[u8; 48], (ValidatorStatus, bool)> =
        input.validators.iter().map(|v| (v.pubkey, (v.status, v.slashed))).collect();
    let mut out = BTreeMap::new();
    for op in &reg.operators {
        let n = op
            .keys
            .iter()
            .filter(|k| k.exit_deadline_slot.is_none())
            .filter(|k| status.get(&k.pubkey) == Some(&(ValidatorStatus::ActiveOngoing, false)))
            .count();
        if n > 0 {
            out.insert(op.id, (op.operator_type, op.score, i128::try_from(n).unwrap()));
        }
    }
    out
}

/// ADR 0006's exit rule, one validator per step, over every candidate: the type with the largest
/// `10,000 × A_t − target_t × (T − 1)` (ties: lowest type), then the lowest score, most active,
/// lowest id. Written from the ADR's text, not from either implementation.
fn rule(
    p: &AllocationParams,
    ops: &BTreeMap<u64, (OperatorType, u16, i128)>,
    m: u64,
) -> BTreeMap<u64, u64> {
    let mut ops = ops.clone();
    let mut taken = BTreeMap::new();
    for _ in 0..m {
        let total: i128 = ops.values().map(|o| o.2).sum();
        let mut best: Option<(OperatorType, i128)> = None;
        for t in OperatorType::ALL {
            let a: i128 = ops.values().filter(|o| o.0 == t).map(|o| o.2).sum();
            if a == 0 {
                continue;
            }
            let surplus = 10_000 * a - i128::from(p.target_bps.of(t)) * (total - 1);
            if best.is_none_or(|(_, s)| surplus > s) {
                best = Some((t, surplus));
            }
        }
        let Some((t, _)) = best else { break };
        let id = *ops
            .iter()
            .filter(|(_, o)| o.0 == t && o.2 > 0)
            .min_by(|(ia, a), (ib, b)| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(ia.cmp(ib)))
            .unwrap()
            .0;
        ops.get_mut(&id).unwrap().2 -= 1;
        *taken.entry(id).or_insert(0) += 1;
    }
    taken
}

/// The oracle's exit requests, counted per operator.
fn requested(out: &claystack_oracle::ComputedReport) -> BTreeMap<u64, u64> {
    let mut m = BTreeMap::new();
    for e in &out.operators.exitRequests {
        *m.entry(e.operatorId).or_insert(0) += 1;
    }
    m
}

/// 48 Home and 12 Kyc operators with spread scores, `maxOperatorsPerType = 5`, and a queue
/// demand that needs `MAX_REQUEST` exits: the case where keeping only the five lowest-scored
/// candidates per type changed which type was furthest above target.
fn skewed(seed: u64) -> OracleInput {
    let mut input = synthetic(6_000, 60, seed);
    let reg = input.registry.as_mut().unwrap();
    reg.allocation.max_operators_per_type = 5;
    for (i, op) in reg.operators.iter_mut().enumerate() {
        let i = i as u64;
        op.operator_type = if i.is_multiple_of(5) { OperatorType::Kyc } else { OperatorType::Home };
        op.score = u16::try_from((i * 7_919 + seed * 31) % 10_000).unwrap();
    }
    input.queue.unfinalized_ether = input.pool.buffered_ether + U256::from(20_000 * ETH);
    input
}

#[test]
fn exits_follow_the_rule_over_every_candidate_not_the_per_type_bound() {
    for seed in 0..20u64 {
        let input = skewed(seed);
        let reg = input.registry.as_ref().unwrap();
        let out = compute(&input, true).unwrap();
        let m = out.operators.exitRequests.len() as u64;
        assert_eq!(m, claystack_balancer::MAX_REQUEST, "seed {seed}: the demand needs 256 exits");
        let c = candidates(&input);
        let per_type = |t| c.values().filter(|o| o.0 == t).count();
        assert!(per_type(OperatorType::Home) > 5 && per_type(OperatorType::Kyc) > 5);
        assert_eq!(requested(&out), rule(&reg.allocation, &c, m), "seed {seed}");
    }
}

fn pick<T: Copy>(rng: &mut claystack_oracle::generate::Rng, from: &[T]) -> T {
    from[usize::try_from(rng.below(from.len() as u64)).unwrap()]
}

#[test]
fn exits_follow_the_rule_on_random_pools() {
    let mut rng = claystack_oracle::generate::Rng::new(0xE417);
    for case in 0..40u64 {
        let ops = 2 + rng.below(80);
        let mut input = synthetic(200 + rng.below(4_000), ops, case);
        let reg = input.registry.as_mut().unwrap();
        reg.allocation.max_operators_per_type = u16::try_from(1 + rng.below(30)).unwrap();
        for op in &mut reg.operators {
            op.operator_type = pick(&mut rng, &OperatorType::ALL);
            let any = u16::try_from(rng.below(10_001)).unwrap();
            op.score = pick(&mut rng, &[0, 5_000, 10_000, any]);
        }
        let demand = U256::from(u128::from(rng.below(10_000)) * ETH);
        input.queue.unfinalized_ether = input.pool.buffered_ether + demand;
        let out = compute(&input, true).unwrap();
        let reg = input.registry.as_ref().unwrap();
        let m = out.operators.exitRequests.len() as u64;
        assert_eq!(requested(&out), rule(&reg.allocation, &candidates(&input), m), "case {case}");
    }
}

/// A small pool whose operators' exits were all reported and settled: no exited entry at all.
fn settled_pool() -> OracleInput {
    let mut input = synthetic(3_000, 6, 4);
    for op in &mut input.registry.as_mut().unwrap().operators {
        op.settled_exits = op.exited_total;
    }
    input.queue.unfinalized_ether = U256::ZERO;
    input.queue.requests.clear();
    input
}

/// The exited entry of `id`, if the report carries one.
fn exited_entry(out: &claystack_oracle::ComputedReport, id: u64) -> Option<(u64, u64)> {
    out.operators.exited.iter().find(|e| e.operatorId == id).map(|e| (e.exitedTotal, e.stuckTotal))
}

/// The module releases an operator's exited validators' bond only when an exited entry names the
/// operator: an operator whose counts stopped changing still gets one while the registry's
/// exited count is above `BondManager.settledExits`, with its unchanged counts.
#[test]
fn an_exited_entry_settles_exits_whose_counts_stopped_changing() {
    let input = settled_pool();
    let out = compute(&input, true).unwrap();
    assert!(out.operators.exited.is_empty(), "counts unchanged and settled: nothing to apply");
    let reg = input.registry.as_ref().unwrap();
    let op = reg.operators.iter().find(|o| o.exited_total > 0).expect("the generator exits some");
    let (id, exited, stuck) = (op.id, op.exited_total, op.stuck_total);

    // the previous report saw the last exit; nothing changed since, one exit not yet settled
    let mut pending = input.clone();
    let o = pending.registry.as_mut().unwrap().operators.iter_mut().find(|o| o.id == id).unwrap();
    o.settled_exits = exited - 1;
    let out = compute(&pending, true).unwrap();
    assert_eq!(exited_entry(&out, id), Some((exited, stuck)), "the same counts, to settle");
    assert_eq!(out.operators.exited.len(), 1, "only the unsettled operator");
    // and it is in the chunks the members sign
    assert_eq!(claystack_oracle::extra_data(&out.operators), out.chunks[0]);

    // settled up to its count: no entry again
    let o = pending.registry.as_mut().unwrap().operators.iter_mut().find(|o| o.id == id).unwrap();
    o.settled_exits = exited;
    assert_eq!(exited_entry(&compute(&pending, true).unwrap(), id), None);
}

#[test]
fn settled_exits_above_the_exited_count_are_refused() {
    let mut input = settled_pool();
    let op = &mut input.registry.as_mut().unwrap().operators[0];
    op.settled_exits = op.exited_total + 1;
    assert!(matches!(
        compute(&input, true),
        Err(claystack_oracle::ComputeError::InvalidInput(m)) if m.contains("settled")
    ));
}

/// Marks key `k` of operator `op` (positions in the input) as asked to exit, due `deadline`, and
/// sets its validator's status; returns the (operator id, key index).
fn request(
    input: &mut OracleInput,
    op: usize,
    k: usize,
    deadline: u64,
    status: ValidatorStatus,
) -> (u64, u64) {
    let reg = input.registry.as_mut().unwrap();
    let o = &mut reg.operators[op];
    let key = &mut o.keys[k];
    key.exit_deadline_slot = Some(deadline);
    let (id, index, pubkey) = (o.id, key.index, key.pubkey);
    let v = input.validators.iter_mut().find(|v| v.pubkey == pubkey).unwrap();
    v.status = status;
    if status == ValidatorStatus::ActiveSlashed {
        v.slashed = true;
    }
    (id, index)
}

/// An active, unslashed, not requested key of operator position `op`, at or after position `from`.
fn active_key(input: &OracleInput, op: usize, from: usize) -> usize {
    let reg = input.registry.as_ref().unwrap();
    let status: std::collections::HashMap<[u8; 48], (ValidatorStatus, bool)> =
        input.validators.iter().map(|v| (v.pubkey, (v.status, v.slashed))).collect();
    (from..)
        .find(|k| {
            let key = &reg.operators[op].keys[*k];
            key.exit_deadline_slot.is_none()
                && status.get(&key.pubkey) == Some(&(ValidatorStatus::ActiveOngoing, false))
        })
        .unwrap()
}

/// A requested validator that started exiting (or exited, or was slashed, which exits it) has its
/// request closed by the report (`exitsStarted`), sorted by (operator, key); one still active is
/// not, and is stuck once its deadline passed. Nothing else produces an entry.
#[test]
fn requests_of_validators_that_left_are_closed() {
    let mut input = settled_pool();
    let out = compute(&input, true).unwrap();
    assert!(out.operators.exitsStarted.is_empty(), "no request pending in the generated pool");
    let refs = input.frame.ref_slot.get();
    let mut want = Vec::new();
    for (op, status) in [
        (1, ValidatorStatus::ActiveExiting),
        (0, ValidatorStatus::ExitedUnslashed),
        (2, ValidatorStatus::WithdrawalDone),
        (0, ValidatorStatus::ActiveSlashed),
        (3, ValidatorStatus::WithdrawalPossible),
    ] {
        let from = want.iter().filter(|(o, _)| *o == op).count();
        let k = active_key(&input, op, from * 50);
        want.push((op, request(&mut input, op, k, refs + 100, status)));
    }
    // still active: requested earlier, deadline passed in an earlier frame -> stuck, not closed
    let k = active_key(&input, 4, 0);
    let (stuck_op, _) = request(&mut input, 4, k, refs - 5_000, ValidatorStatus::ActiveOngoing);
    // not on the beacon chain at all: nothing can be said, the request stays
    let k = active_key(&input, 5, 0);
    request(&mut input, 5, k, refs + 100, ValidatorStatus::ActiveOngoing);
    let pubkey = input.registry.as_ref().unwrap().operators[5].keys[k].pubkey;
    input.validators.retain(|v| v.pubkey != pubkey);

    let out = compute(&input, true).unwrap();
    let mut expected: Vec<(u64, u64)> = want.iter().map(|(_, e)| *e).collect();
    expected.sort_unstable();
    let got: Vec<(u64, u64)> =
        out.operators.exitsStarted.iter().map(|e| (e.operatorId, e.keyIndex)).collect();
    assert_eq!(got, expected);
    let stuck = out.operators.exited.iter().find(|e| e.operatorId == stuck_op).unwrap();
    assert_eq!(stuck.stuckTotal, 1, "the active requested validator is stuck");
    // a closed request is no exit candidate and no new request
    for e in &out.operators.exitRequests {
        assert!(!expected.contains(&(e.operatorId, e.keyIndex)));
    }
    // the chunks carry them, after exited counts and before exit requests
    assert_eq!(claystack_oracle::extra_data(&out.operators), out.chunks[0]);
}

/// More closes than a report may carry: the lowest (operator, key) first, the rest next report.
#[test]
fn exits_started_are_capped_per_report() {
    let mut input = synthetic(3_000, 2, 8);
    for op in &mut input.registry.as_mut().unwrap().operators {
        op.settled_exits = op.exited_total;
    }
    let refs = input.frame.ref_slot.get();
    let pubkeys: Vec<[u8; 48]> = {
        let reg = input.registry.as_mut().unwrap();
        let mut p = Vec::new();
        for o in &mut reg.operators {
            for key in &mut o.keys {
                key.exit_deadline_slot = Some(refs + 1);
                p.push(key.pubkey);
            }
        }
        p
    };
    for v in &mut input.validators {
        if pubkeys.contains(&v.pubkey) && v.status == ValidatorStatus::ActiveOngoing {
            v.status = ValidatorStatus::ActiveExiting;
        }
    }
    let out = compute(&input, true).unwrap();
    let started = &out.operators.exitsStarted;
    assert_eq!(started.len(), claystack_oracle::MAX_LIST_ENTRIES);
    assert!(
        started
            .windows(2)
            .all(|w| (w[0].operatorId, w[0].keyIndex) < (w[1].operatorId, w[1].keyIndex))
    );
    assert_eq!(started[0].operatorId, 1, "operator 1's keys first");
}

/// Settlement-only entries (unchanged counts) never push the exited list over its cap: changed
/// counts first, then settlements by operator id in the room left, the rest in a later report.
#[test]
fn settlements_wait_for_room_under_the_cap() {
    let mut input = synthetic(2_400, 1_200, 3);
    // perfect attestations and scores: no score entry (that list has its own cap)
    for v in &mut input.validators {
        v.duties_performed = v.duties_expected;
    }
    for op in &mut input.registry.as_mut().unwrap().operators {
        op.score = 10_000;
    }
    // one validator of every operator exited and was reported (the registry counts it), none of
    // these exits is settled yet
    let reg = input.registry.as_mut().unwrap();
    let mut exited_keys = std::collections::HashSet::new();
    for op in &mut reg.operators {
        let key = op
            .keys
            .iter()
            .find(|k| {
                input.validators.iter().any(|v| {
                    v.pubkey == k.pubkey && v.status == ValidatorStatus::ActiveOngoing && !v.slashed
                })
            })
            .unwrap();
        exited_keys.insert(key.pubkey);
        op.exited_total += 1;
    }
    for v in &mut input.validators {
        if exited_keys.contains(&v.pubkey) {
            v.status = ValidatorStatus::WithdrawalDone;
            v.balance = claystack_consensus::Gwei(0);
            v.duties_expected = 0;
            v.duties_performed = 0;
            input.pool.cl_balance -= U256::from(32_000_000_000u64) * U256::from(1_000_000_000u64);
            input.pool.last_counts.exited += 1;
        }
    }
    let reg = input.registry.as_ref().unwrap();
    let unsettled = reg.operators.iter().filter(|o| o.exited_total > o.settled_exits).count();
    assert_eq!(unsettled, 1_200);
    let out = compute(&input, true).unwrap();
    let exited = &out.operators.exited;
    assert_eq!(exited.len(), claystack_oracle::MAX_LIST_ENTRIES, "capped, not refused");
    assert!(exited.windows(2).all(|w| w[0].operatorId < w[1].operatorId));
    assert_eq!(exited.last().unwrap().operatorId, 1_000, "the lowest ids first");
    for e in exited {
        let op = &reg.operators[usize::try_from(e.operatorId - 1).unwrap()];
        assert_eq!((e.exitedTotal, e.stuckTotal), (op.exited_total, op.stuck_total));
    }
    // operator 1,200's stuck count changes: it gets its entry, a settlement waits instead
    let reg = input.registry.as_mut().unwrap();
    reg.operators.last_mut().unwrap().stuck_total = 1;
    let out = compute(&input, true).unwrap();
    let exited = &out.operators.exited;
    assert_eq!(exited.len(), claystack_oracle::MAX_LIST_ENTRIES);
    assert_eq!(exited.last().unwrap().operatorId, 1_200, "the change is in");
    assert_eq!(exited[exited.len() - 2].operatorId, 999, "one settlement fewer");
}
