//! The optimized implementation against the naive reference model, plus batch-split and
//! conservation properties.

mod common;

use claystack_balancer::{
    Allocation, AllocationError, allocate_deposits, select_exits, select_exits_off_chain,
};
use common::{
    SplitMix64, apply_deposits, apply_exits, naive_deposits, naive_exits, random_operators,
    random_params,
};
use proptest::prelude::*;

fn merge(a: &Allocation, b: &Allocation) -> Allocation {
    let mut map = std::collections::BTreeMap::new();
    for e in a.entries.iter().chain(&b.entries) {
        *map.entry(e.operator_id).or_insert(0u64) += e.count;
    }
    Allocation {
        entries: map
            .into_iter()
            .map(|(operator_id, count)| claystack_balancer::AllocationEntry { operator_id, count })
            .collect(),
        total: a.total + b.total,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn deposits_match_reference(seed in any::<u64>(), count in 0usize..40, n in 0u64..=96) {
        let mut rng = SplitMix64(seed);
        let params = random_params(&mut rng);
        let ops = random_operators(&mut rng, count);
        let fast = allocate_deposits(&params, &ops, n).unwrap();
        prop_assert_eq!(&fast, &naive_deposits(&params, &ops, n));
        prop_assert!(fast.total <= n);
        for e in &fast.entries {
            let op = ops.iter().find(|o| o.id == e.operator_id).unwrap();
            prop_assert!(op.is_active && e.count <= op.available_keys);
        }
    }

    #[test]
    fn exits_match_reference(seed in any::<u64>(), count in 0usize..40, m in 0u64..=96) {
        let mut rng = SplitMix64(seed);
        let params = random_params(&mut rng);
        let ops = random_operators(&mut rng, count);
        let fast = select_exits(&params, &ops, m).unwrap();
        prop_assert_eq!(&fast, &naive_exits(&params, &ops, m));
        let active: u64 = ops.iter().map(|o| o.active_validators).sum();
        prop_assert_eq!(fast.total, m.min(active));
    }

    /// The off-chain exit selection is the rule over every operator: beyond the per-type bound
    /// (the contract refuses those inputs) it equals the naive model, within it `select_exits`.
    #[test]
    fn off_chain_exits_match_reference_beyond_the_bound(seed in any::<u64>(), count in 0usize..500, max in 1u16..40, m in 0u64..=256) {
        let mut rng = SplitMix64(seed);
        let params = claystack_balancer::AllocationParams {
            max_operators_per_type: max,
            ..random_params(&mut rng)
        };
        let ops = random_operators(&mut rng, count);
        let off = select_exits_off_chain(&params, &ops, m).unwrap();
        prop_assert_eq!(&off, &naive_exits(&params, &ops, m));
        match select_exits(&params, &ops, m) {
            Ok(on) => prop_assert_eq!(on, off),
            Err(AllocationError::TooManyOperators { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn deposits_in_two_batches_equal_one(seed in any::<u64>(), count in 0usize..30, n1 in 0u64..48, n2 in 0u64..48) {
        let mut rng = SplitMix64(seed);
        let params = random_params(&mut rng);
        let mut ops = random_operators(&mut rng, count);
        let whole = allocate_deposits(&params, &ops, n1 + n2).unwrap();
        let first = allocate_deposits(&params, &ops, n1).unwrap();
        apply_deposits(&mut ops, &first);
        let second = allocate_deposits(&params, &ops, n2).unwrap();
        prop_assert_eq!(merge(&first, &second), whole);
    }

    #[test]
    fn exits_in_two_batches_equal_one(seed in any::<u64>(), count in 0usize..30, m1 in 0u64..48, m2 in 0u64..48) {
        let mut rng = SplitMix64(seed);
        let params = random_params(&mut rng);
        let mut ops = random_operators(&mut rng, count);
        let whole = select_exits(&params, &ops, m1 + m2).unwrap();
        let first = select_exits(&params, &ops, m1).unwrap();
        apply_exits(&mut ops, &first);
        let second = select_exits(&params, &ops, m2).unwrap();
        prop_assert_eq!(merge(&first, &second), whole);
    }
}
