//! Unit tests: every rule of ADR 0004 on a hand-computed example (the same examples as
//! `Allocator.t.sol`), every error, and the parameter bounds.

use crate::{
    Allocation, AllocationEntry, AllocationError, AllocationParams, MAX_OFF_CHAIN_OPERATORS,
    MAX_REQUEST, OperatorData, OperatorType, TargetShares, allocate_deposits, select_exits,
    select_exits_off_chain,
};
use OperatorType::{Dvt, Home, Kyc, Professional as Pro};

fn op(
    id: u64,
    t: OperatorType,
    is_active: bool,
    active: u64,
    available: u64,
    score: u16,
) -> OperatorData {
    OperatorData {
        id,
        operator_type: t,
        is_active,
        active_validators: active,
        available_keys: available,
        score,
    }
}

fn uncapped() -> AllocationParams {
    AllocationParams { operator_cap_bps: 10_000, ..AllocationParams::public_pool() }
}

fn alloc(entries: &[(u64, u64)]) -> Allocation {
    Allocation {
        entries: entries
            .iter()
            .map(|&(operator_id, count)| AllocationEntry { operator_id, count })
            .collect(),
        total: entries.iter().map(|e| e.1).sum(),
    }
}

#[test]
fn deposits_go_to_type_furthest_below_target() {
    let ops = [
        op(1, Pro, true, 35, 100, 10_000),
        op(2, Kyc, true, 10, 100, 10_000),
        op(3, Dvt, true, 30, 100, 10_000),
        op(4, Home, true, 20, 100, 10_000),
    ];
    let p = uncapped();
    assert_eq!(allocate_deposits(&p, &ops, 1).unwrap(), alloc(&[(3, 1)]));
    assert_eq!(allocate_deposits(&p, &ops, 5).unwrap(), alloc(&[(3, 5)]));
    // Sixth step: Professional/Dvt tie at 3,500, broken by type order.
    assert_eq!(allocate_deposits(&p, &ops, 6).unwrap(), alloc(&[(1, 1), (3, 5)]));
}

#[test]
fn deposits_go_to_lowest_active_per_weight() {
    let ops = [op(1, Dvt, true, 10, 100, 10_000), op(2, Dvt, true, 5, 100, 2_500)];
    let p = uncapped();
    assert_eq!(allocate_deposits(&p, &ops, 11).unwrap(), alloc(&[(1, 11)]));
    assert_eq!(allocate_deposits(&p, &ops, 12).unwrap(), alloc(&[(1, 11), (2, 1)]));
}

#[test]
fn deposit_ties_go_to_lowest_id() {
    let ops = [op(7, Home, true, 0, 5, 8_000), op(9, Home, true, 0, 5, 8_000)];
    let p = AllocationParams::public_pool();
    assert_eq!(allocate_deposits(&p, &ops, 1).unwrap(), alloc(&[(7, 1)]));
    assert_eq!(allocate_deposits(&p, &ops, 2).unwrap(), alloc(&[(7, 1), (9, 1)]));
}

#[test]
fn capacity_weight_saturates_at_k() {
    let ops = [op(1, Pro, true, 10, 1_000, 10_000), op(2, Pro, true, 10, 32, 10_000)];
    let p = uncapped();
    assert_eq!(allocate_deposits(&p, &ops, 2).unwrap(), alloc(&[(1, 1), (2, 1)]));
    let p = AllocationParams { capacity_saturation: 1_024, ..p };
    assert_eq!(allocate_deposits(&p, &ops, 2).unwrap(), alloc(&[(1, 2)]));
}

#[test]
fn score_zero_counts_as_one() {
    let ops = [op(1, Pro, true, 0, 10, 0), op(2, Pro, true, 1, 10, 10_000)];
    assert_eq!(allocate_deposits(&uncapped(), &ops, 3).unwrap(), alloc(&[(1, 1), (2, 2)]));
}

#[test]
fn deposits_skip_inactive_and_keyless_operators() {
    let ops = [
        op(1, Home, false, 0, 10, 10_000),
        op(2, Home, true, 0, 0, 10_000),
        op(3, Home, true, 50, 10, 10_000),
    ];
    assert_eq!(allocate_deposits(&uncapped(), &ops, 2).unwrap(), alloc(&[(3, 2)]));
}

#[test]
fn deposits_never_go_to_a_zero_target_type() {
    let p = AllocationParams {
        target_bps: TargetShares { professional: 5_000, kyc: 0, dvt: 5_000, home: 0 },
        ..uncapped()
    };
    let ops = [op(1, Kyc, true, 0, 10, 10_000), op(2, Pro, true, 10, 10, 10_000)];
    assert_eq!(allocate_deposits(&p, &ops, 3).unwrap(), alloc(&[(2, 3)]));
}

#[test]
fn deposits_stop_at_the_absolute_cap() {
    let p = AllocationParams { operator_cap_absolute: 12, ..uncapped() };
    let ops = [op(1, Pro, true, 10, 100, 10_000), op(2, Pro, true, 11, 100, 10_000)];
    assert_eq!(allocate_deposits(&p, &ops, 5).unwrap(), alloc(&[(1, 2), (2, 1)]));
}

#[test]
fn deposits_respect_the_share_cap() {
    let ops = [
        op(1, Pro, true, 30, 100, 10_000),
        op(2, Pro, true, 10, 100, 1_000),
        op(3, Pro, true, 10, 100, 1_000),
        op(4, Pro, true, 10, 100, 1_000),
    ];
    let capped = AllocationParams::public_pool();
    assert_eq!(allocate_deposits(&capped, &ops, 3).unwrap(), alloc(&[(2, 1), (3, 1), (4, 1)]));
    assert_eq!(allocate_deposits(&uncapped(), &ops, 3).unwrap(), alloc(&[(1, 3)]));
    // Exactly at the cap (15 of 60 = 25 %) is still eligible.
    let ops = [op(1, Pro, true, 15, 100, 10_000), op(2, Pro, true, 45, 100, 10_000)];
    assert_eq!(allocate_deposits(&capped, &ops, 1).unwrap(), alloc(&[(1, 1)]));
}

#[test]
fn share_capped_operator_returns_when_the_pool_grows() {
    // Four operators at exactly 25 % of 100. Each one that receives a deposit goes over the cap
    // (26 of 101..103) and waits; after the fourth deposit the pool is 104 and 26/104 = 25 %,
    // so all four are eligible again and operator 1 (best score) is first once more.
    let ops = [
        op(1, Pro, true, 25, 100, 10_000),
        op(2, Pro, true, 25, 100, 1_000),
        op(3, Pro, true, 25, 100, 1_000),
        op(4, Pro, true, 25, 100, 1_000),
    ];
    let p = AllocationParams::public_pool();
    assert_eq!(allocate_deposits(&p, &ops, 4).unwrap(), alloc(&[(1, 1), (2, 1), (3, 1), (4, 1)]));
    assert_eq!(allocate_deposits(&p, &ops, 5).unwrap(), alloc(&[(1, 2), (2, 1), (3, 1), (4, 1)]));
}

#[test]
fn deposits_fall_back_when_the_neediest_type_is_capped() {
    let p = AllocationParams { operator_cap_absolute: 5, ..uncapped() };
    let ops = [
        op(1, Pro, true, 4, 10, 10_000),
        op(2, Pro, true, 4, 10, 10_000),
        op(3, Dvt, true, 5, 10, 10_000),
    ];
    assert_eq!(allocate_deposits(&p, &ops, 1).unwrap(), alloc(&[(1, 1)]));
}

#[test]
fn empty_inputs_allocate_nothing() {
    let p = AllocationParams::public_pool();
    assert_eq!(allocate_deposits(&p, &[], 10).unwrap(), Allocation::default());
    assert_eq!(select_exits(&p, &[], 10).unwrap(), Allocation::default());
    let ops = [op(1, Pro, true, 0, 10, 10_000)];
    assert_eq!(allocate_deposits(&p, &ops, 0).unwrap(), Allocation::default());
}

#[test]
fn max_request_is_accepted() {
    let ops = [op(1, Pro, true, 0, 300, 10_000)];
    assert_eq!(allocate_deposits(&uncapped(), &ops, MAX_REQUEST).unwrap(), alloc(&[(1, 256)]));
}

#[test]
fn exits_come_from_type_furthest_above_target() {
    let ops = [
        op(1, Pro, true, 36, 0, 10_000),
        op(2, Kyc, true, 10, 0, 10_000),
        op(3, Dvt, true, 34, 0, 10_000),
        op(4, Home, true, 20, 0, 10_000),
    ];
    let p = AllocationParams::public_pool();
    assert_eq!(select_exits(&p, &ops, 2).unwrap(), alloc(&[(1, 2)]));
    assert_eq!(select_exits(&p, &ops, 3).unwrap(), alloc(&[(1, 2), (4, 1)]));
    assert_eq!(select_exits(&p, &ops, 4).unwrap(), alloc(&[(1, 3), (4, 1)]));
}

#[test]
fn zero_target_type_exits_first() {
    let p = AllocationParams {
        target_bps: TargetShares { professional: 5_000, kyc: 0, dvt: 5_000, home: 0 },
        ..AllocationParams::public_pool()
    };
    let ops = [
        op(1, Pro, true, 50, 0, 10_000),
        op(2, Kyc, true, 2, 0, 10_000),
        op(3, Dvt, true, 50, 0, 10_000),
    ];
    assert_eq!(select_exits(&p, &ops, 3).unwrap(), alloc(&[(1, 1), (2, 2)]));
}

#[test]
fn exits_take_lowest_score_then_most_active_then_lowest_id() {
    let ops = [
        op(1, Home, true, 10, 0, 9_000),
        op(2, Home, true, 3, 0, 5_000),
        op(3, Home, true, 5, 0, 5_000),
    ];
    let p = AllocationParams::public_pool();
    assert_eq!(select_exits(&p, &ops, 3).unwrap(), alloc(&[(2, 1), (3, 2)]));
    assert_eq!(select_exits(&p, &ops, 9).unwrap(), alloc(&[(1, 1), (2, 3), (3, 5)]));
}

#[test]
fn exits_include_inactive_operators_and_stop_when_empty() {
    let p = AllocationParams::public_pool();
    let ops = [op(1, Dvt, false, 3, 0, 1_000), op(2, Dvt, true, 3, 0, 9_000)];
    assert_eq!(select_exits(&p, &ops, 1).unwrap(), alloc(&[(1, 1)]));
    assert_eq!(select_exits(&p, &ops, 10).unwrap(), alloc(&[(1, 3), (2, 3)]));
}

#[test]
fn errors_mirror_the_contract() {
    let p = AllocationParams::public_pool();
    assert_eq!(
        allocate_deposits(&p, &[], 257),
        Err(AllocationError::RequestTooLarge { requested: 257, max: 256 })
    );
    assert_eq!(
        select_exits(&p, &[], 1_000),
        Err(AllocationError::RequestTooLarge { requested: 1_000, max: 256 })
    );
    let unsorted = [op(2, Pro, true, 0, 10, 10_000), op(1, Pro, true, 0, 10, 10_000)];
    assert_eq!(
        allocate_deposits(&p, &unsorted, 1),
        Err(AllocationError::UnsortedOperators { index: 1, previous_id: 2, id: 1 })
    );
    let duplicate = [op(1, Pro, true, 0, 10, 10_000), op(1, Dvt, true, 0, 10, 10_000)];
    assert_eq!(
        select_exits(&p, &duplicate, 1),
        Err(AllocationError::UnsortedOperators { index: 1, previous_id: 1, id: 1 })
    );
    let bad_score = [op(4, Pro, true, 0, 10, 10_001)];
    assert_eq!(
        allocate_deposits(&p, &bad_score, 1),
        Err(AllocationError::ScoreOutOfRange { id: 4, score: 10_001 })
    );
    let small = AllocationParams { max_operators_per_type: 2, ..p };
    let crowded = [
        op(1, Home, true, 0, 10, 10_000),
        op(2, Pro, true, 0, 10, 10_000),
        op(3, Home, true, 0, 10, 10_000),
        op(4, Home, true, 0, 10, 10_000),
    ];
    assert_eq!(
        allocate_deposits(&small, &crowded, 1),
        Err(AllocationError::TooManyOperators { operator_type: Home, count: 3, max: 2 })
    );
}

/// The case the oracle met: only the bound differs. Five Home operators at the bound plus one
/// more of the lowest score: the contract refuses the input, the off-chain variant applies the
/// same rule to all six (and equals the contract at a bound that admits them).
#[test]
fn off_chain_exits_apply_the_rule_beyond_the_per_type_bound() {
    let small = AllocationParams { max_operators_per_type: 5, ..uncapped() };
    let mut ops: Vec<OperatorData> = (1..=5).map(|i| op(i, Home, true, 10, 0, 9_000)).collect();
    ops.push(op(6, Home, true, 3, 0, 100));
    ops.push(op(7, Pro, true, 10, 0, 0));
    assert_eq!(
        select_exits(&small, &ops, 4),
        Err(AllocationError::TooManyOperators { operator_type: Home, count: 6, max: 5 })
    );
    // Home holds 53 of 63 validators (target 20 %): its lowest score (id 6) goes first
    assert_eq!(select_exits_off_chain(&small, &ops, 4).unwrap(), alloc(&[(1, 1), (6, 3)]));
    let wide = AllocationParams { max_operators_per_type: 200, ..small };
    assert_eq!(select_exits_off_chain(&small, &ops, 4), select_exits(&wide, &ops, 4));
    // within the bound both variants are the same function
    let fits = &ops[1..];
    assert_eq!(select_exits_off_chain(&small, fits, 40), select_exits(&small, fits, 40));
}

#[test]
fn off_chain_exits_keep_every_other_check() {
    let p = AllocationParams { max_operators_per_type: 1, ..AllocationParams::public_pool() };
    assert_eq!(
        select_exits_off_chain(&p, &[], MAX_REQUEST + 1),
        Err(AllocationError::RequestTooLarge { requested: 257, max: 256 })
    );
    let unsorted = [op(2, Pro, true, 1, 0, 10), op(2, Pro, true, 1, 0, 10)];
    assert_eq!(
        select_exits_off_chain(&p, &unsorted, 1),
        Err(AllocationError::UnsortedOperators { index: 1, previous_id: 2, id: 2 })
    );
    let bad_score = [op(4, Pro, true, 1, 0, 10_001)];
    assert_eq!(
        select_exits_off_chain(&p, &bad_score, 1),
        Err(AllocationError::ScoreOutOfRange { id: 4, score: 10_001 })
    );
    let bad_params = AllocationParams { max_operators_per_type: 0, ..p };
    assert!(matches!(
        select_exits_off_chain(&bad_params, &[], 1),
        Err(AllocationError::ParameterOutOfBounds { parameter: "maxOperatorsPerType", .. })
    ));
    let n = MAX_OFF_CHAIN_OPERATORS + 1;
    let huge: Vec<OperatorData> = (0..n).map(|i| op(i, Home, true, 1, 0, 0)).collect();
    assert_eq!(
        select_exits_off_chain(&p, &huge, 1),
        Err(AllocationError::InputTooLarge { operators: n, max: MAX_OFF_CHAIN_OPERATORS })
    );
    // at the bound it runs: every validator of one type, lowest id first among equals
    let at_bound = &huge[1..];
    assert_eq!(select_exits_off_chain(&p, at_bound, 2).unwrap(), alloc(&[(1, 1), (2, 1)]));
}

#[test]
fn parameters_are_bounded() {
    let p = AllocationParams::public_pool();
    assert_eq!(p.validate(), Ok(()));
    assert_eq!(AllocationParams::kyc_pool().validate(), Ok(()));
    let bad_targets = AllocationParams {
        target_bps: TargetShares { professional: 3_500, kyc: 1_000, dvt: 3_500, home: 1_999 },
        ..p
    };
    assert_eq!(bad_targets.validate(), Err(AllocationError::InvalidTargets { sum: 9_999 }));
    assert_eq!(
        allocate_deposits(&bad_targets, &[], 1),
        Err(AllocationError::InvalidTargets { sum: 9_999 })
    );
    let cases: [(AllocationParams, &str, u64, u64, u64); 6] = [
        (AllocationParams { operator_cap_bps: 99, ..p }, "operatorCapBps", 99, 100, 10_000),
        (AllocationParams { operator_cap_bps: 10_001, ..p }, "operatorCapBps", 10_001, 100, 10_000),
        (AllocationParams { operator_cap_absolute: 0, ..p }, "operatorCapAbsolute", 0, 1, u64::MAX),
        (AllocationParams { capacity_saturation: 0, ..p }, "capacitySaturation", 0, 1, 1_024),
        (
            AllocationParams { capacity_saturation: 1_025, ..p },
            "capacitySaturation",
            1_025,
            1,
            1_024,
        ),
        (AllocationParams { max_operators_per_type: 201, ..p }, "maxOperatorsPerType", 201, 1, 200),
    ];
    for (params, parameter, value, min, max) in cases {
        assert_eq!(
            params.validate(),
            Err(AllocationError::ParameterOutOfBounds { parameter, value, min, max })
        );
    }
}

#[test]
fn types_round_trip_through_serde() {
    let op = op(9, Dvt, true, 3, 4, 5_000);
    let json = serde_json::to_string(&op).unwrap();
    assert!(json.contains("\"operator_type\":\"dvt\""), "{json}");
    assert_eq!(serde_json::from_str::<OperatorData>(&json).unwrap(), op);
    let p = AllocationParams::kyc_pool();
    assert_eq!(
        serde_json::from_str::<AllocationParams>(&serde_json::to_string(&p).unwrap()).unwrap(),
        p
    );
    let a = alloc(&[(1, 2), (5, 1)]);
    assert_eq!(serde_json::from_str::<Allocation>(&serde_json::to_string(&a).unwrap()).unwrap(), a);
    for t in OperatorType::ALL {
        assert_eq!(OperatorType::from_u8(t as u8), Some(t));
    }
    assert_eq!(OperatorType::from_u8(4), None);
}

#[test]
fn errors_name_the_failed_check() {
    let e = AllocationError::TooManyOperators { operator_type: Home, count: 3, max: 2 };
    assert_eq!(e.to_string(), "check operator count of type Home: 3 is above 2");
}
