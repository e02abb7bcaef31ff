//! Cross-language vectors: `tests/vectors/allocation.json` holds random inputs and the outputs of
//! this crate; the Solidity test `AllocatorDifferential.t.sol` replays them through
//! `AllocationLib`. This test fails when the committed file differs from what the current code
//! produces, so neither side drifts silently. Regenerate deliberately with
//! `CLAYSTACK_BLESS_VECTORS=1 cargo test -p claystack-balancer --test vectors`.

mod common;

use std::path::PathBuf;

use claystack_balancer::{
    Allocation, AllocationParams, MAX_REQUEST, OperatorData, OperatorType, allocate_deposits,
    select_exits,
};
use common::{SplitMix64, random_operators, random_params};
use serde::{Deserialize, Serialize};

const SEED: u64 = 0xC1A5_0004;
const CASES: usize = 160;

/// One case, flattened into arrays of integers so Foundry's `parseJsonUint*` can read it.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VectorCase {
    targets: [u16; 4],
    cap_bps: u16,
    cap_absolute: u64,
    saturation: u64,
    max_per_type: u16,
    ids: Vec<u64>,
    types: Vec<u8>,
    is_active: Vec<u8>,
    active: Vec<u64>,
    available: Vec<u64>,
    scores: Vec<u16>,
    n: u64,
    deposit_ids: Vec<u64>,
    deposit_counts: Vec<u64>,
    deposit_total: u64,
    m: u64,
    exit_ids: Vec<u64>,
    exit_counts: Vec<u64>,
    exit_total: u64,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct VectorFile {
    description: String,
    count: usize,
    cases: Vec<VectorCase>,
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/allocation.json")
}

fn case(params: &AllocationParams, ops: &[OperatorData], n: u64, m: u64) -> VectorCase {
    let deposits = allocate_deposits(params, ops, n).unwrap();
    let exits = select_exits(params, ops, m).unwrap();
    let split = |a: &Allocation| -> (Vec<u64>, Vec<u64>) {
        a.entries.iter().map(|e| (e.operator_id, e.count)).unzip()
    };
    let (deposit_ids, deposit_counts) = split(&deposits);
    let (exit_ids, exit_counts) = split(&exits);
    let t = params.target_bps;
    VectorCase {
        targets: [t.professional, t.kyc, t.dvt, t.home],
        cap_bps: params.operator_cap_bps,
        cap_absolute: params.operator_cap_absolute,
        saturation: params.capacity_saturation,
        max_per_type: params.max_operators_per_type,
        ids: ops.iter().map(|o| o.id).collect(),
        types: ops.iter().map(|o| o.operator_type as u8).collect(),
        is_active: ops.iter().map(|o| u8::from(o.is_active)).collect(),
        active: ops.iter().map(|o| o.active_validators).collect(),
        available: ops.iter().map(|o| o.available_keys).collect(),
        scores: ops.iter().map(|o| o.score).collect(),
        n,
        deposit_ids,
        deposit_counts,
        deposit_total: deposits.total,
        m,
        exit_ids,
        exit_counts,
        exit_total: exits.total,
    }
}

fn generate() -> VectorFile {
    let mut rng = SplitMix64(SEED);
    let mut cases = Vec::with_capacity(CASES);
    // Two fixed corner cases first: the default public pool and the KYC pool, at MAX_REQUEST.
    let mut fixed = SplitMix64(SEED ^ 1);
    let ops = random_operators(&mut fixed, 60);
    cases.push(case(&AllocationParams::public_pool(), &ops, MAX_REQUEST, MAX_REQUEST));
    let kyc_ops: Vec<OperatorData> =
        ops.iter().map(|o| OperatorData { operator_type: OperatorType::Kyc, ..*o }).collect();
    cases.push(case(&AllocationParams::kyc_pool(), &kyc_ops, MAX_REQUEST, MAX_REQUEST));
    while cases.len() < CASES {
        let params = random_params(&mut rng);
        let count =
            if cases.len() % 16 == 0 { 120 } else { usize::try_from(rng.range(1, 40)).unwrap() };
        let ops = random_operators(&mut rng, count);
        let n = rng.range(0, 96);
        let m = rng.range(0, 96);
        cases.push(case(&params, &ops, n, m));
    }
    VectorFile {
        description: "claystack-balancer allocation vectors (ADR 0004): inputs and the outputs of \
                      allocate_deposits(n) and select_exits(m); targets in OperatorType order, \
                      types as Solidity enum values"
            .to_owned(),
        count: cases.len(),
        cases,
    }
}

/// One case per line: small, and a change shows up as a one-line diff per case.
fn render(file: &VectorFile) -> String {
    let cases: Vec<String> = file.cases.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    format!(
        "{{\n\"description\": {},\n\"count\": {},\n\"cases\": [\n{}\n]\n}}\n",
        serde_json::to_string(&file.description).unwrap(),
        file.count,
        cases.join(",\n")
    )
}

#[test]
fn committed_vectors_match_the_current_code() {
    let expected = render(&generate());
    if std::env::var_os("CLAYSTACK_BLESS_VECTORS").is_some() {
        std::fs::write(path(), &expected).unwrap();
    }
    let committed = std::fs::read_to_string(path())
        .expect("tests/vectors/allocation.json is missing: bless it (see module docs)");
    assert!(committed == expected, "allocation.json differs from the current code's outputs");
    let parsed: VectorFile = serde_json::from_str(&committed).unwrap();
    assert_eq!(parsed, generate());
}

#[test]
fn vectors_exercise_every_path() {
    let file = generate();
    assert_eq!(file.count, CASES);
    let partial_deposits =
        file.cases.iter().filter(|c| c.deposit_total > 0 && c.deposit_total < c.n).count();
    let full_deposits = file.cases.iter().filter(|c| c.n > 0 && c.deposit_total == c.n).count();
    let multi_exits = file.cases.iter().filter(|c| c.exit_ids.len() > 1).count();
    assert!(partial_deposits >= 5, "only {partial_deposits} cases stop early");
    assert!(full_deposits >= 50, "only {full_deposits} cases allocate everything");
    assert!(multi_exits >= 50, "only {multi_exits} cases exit from several operators");
}
