//! Allocation and exit selection at the contract's bounds (the same shapes as the forge gas tests).

#![allow(missing_docs)]

use claystack_balancer::{
    AllocationParams, OperatorData, OperatorType, allocate_deposits, select_exits,
};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

fn operators(count: u64, one_type: bool) -> Vec<OperatorData> {
    (0..count)
        .map(|i| OperatorData {
            id: i + 1,
            operator_type: if one_type {
                OperatorType::Professional
            } else {
                OperatorType::ALL[usize::try_from(i % 4).unwrap()]
            },
            is_active: true,
            active_validators: 10 + (i * 7) % 30,
            available_keys: 300,
            score: u16::try_from(5_000 + (i * 37) % 5_001).unwrap(),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let params = AllocationParams {
        operator_cap_bps: 10_000,
        max_operators_per_type: 200,
        ..AllocationParams::public_pool()
    };
    for (count, n, one_type) in
        [(50, 100, false), (200, 100, false), (200, 256, true), (800, 256, false)]
    {
        let ops = operators(count, one_type);
        c.bench_function(&format!("allocate_deposits/{n}keys_{count}ops"), |b| {
            b.iter(|| allocate_deposits(black_box(&params), black_box(&ops), n));
        });
        c.bench_function(&format!("select_exits/{n}keys_{count}ops"), |b| {
            b.iter(|| select_exits(black_box(&params), black_box(&ops), n));
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
