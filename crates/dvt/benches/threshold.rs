//! Threshold combination (with per-partial verification) and DKG time.
//!
//! `cargo bench -p claystack-dvt --bench threshold`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use claystack_dvt::SecretKey;
use claystack_dvt::dkg::{DkgConfig, run_local};
use claystack_dvt::threshold::{PartialSignature, ShareIndex, combine_partials, split};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::{SeedableRng, rngs::StdRng};
use std::hint::black_box;

const MSG: &[u8] = b"a 32-byte signing root, roughly.";

fn combination(c: &mut Criterion) {
    let mut group = c.benchmark_group("combine");
    for (t, n) in [(3usize, 4u64), (9, 13)] {
        let mut rng = StdRng::seed_from_u64(1);
        let sk = SecretKey::random(&mut rng);
        let idx = ShareIndex::range(n);
        let (shares, commitments) = split(&sk, t, &idx, &mut rng).unwrap();
        let set = commitments.public_key_set(&idx).unwrap();
        let partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
        let label = format!("{t}-of-{n}");
        // What the front does per request: verify t partials, interpolate, verify the result.
        group.bench_function(BenchmarkId::new("verify_and_combine", &label), |b| {
            b.iter(|| set.combine(black_box(MSG), black_box(&partials)).unwrap());
        });
        // Interpolation alone.
        group.bench_function(BenchmarkId::new("interpolate_only", &label), |b| {
            b.iter(|| combine_partials(black_box(&partials[..t])).unwrap());
        });
    }
    group.finish();
}

fn dkg(c: &mut Criterion) {
    let mut group = c.benchmark_group("dkg");
    group.sample_size(10);
    for (t, n) in [(3usize, 4u64), (9, 13)] {
        let config = DkgConfig::new([1; 32], t, ShareIndex::range(n)).unwrap();
        let mut rng = StdRng::seed_from_u64(2);
        // All n participants' work, run in one process (total CPU time of the ceremony).
        group.bench_function(BenchmarkId::new("all_participants", format!("{t}-of-{n}")), |b| {
            b.iter(|| run_local(black_box(&config), &mut rng).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, combination, dkg);
criterion_main!(benches);
