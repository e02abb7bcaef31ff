//! Cross-language vectors: `tests/vectors/allocation.json` holds random inputs and the outputs of
//! this crate; the Solidity test `AllocatorDifferential.t.sol` replays them through
//! `AllocationLib`. This test fails when the committed file differs from what the current code
//! produces, so neither side drifts silently. Regenerate deliberately with
//! `CLAYSTACK_BLESS_VECTORS=1 cargo test -p claystack-balancer --test vectors`.
//!
//! `tests/vectors/exits_off_chain.json` holds exit selections by `select_exits_off_chain` (the
//! oracle's) over inputs with more operators of a type than their `maxOperatorsPerType`: the
//! contract refuses those inputs as they are, and `AllocatorDifferential.t.sol` checks both that
//! it does and that `AllocationLib.selectExits` at its hard bound of 200 per type chooses exactly
//! these exits (ADR 0006: the bound limits the input, never the choice).

mod common;

use std::path::PathBuf;

use claystack_balancer::{
    Allocation, AllocationParams, MAX_OPERATORS_PER_TYPE, MAX_REQUEST, OperatorData, OperatorType,
    allocate_deposits, select_exits, select_exits_off_chain,
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

fn off_chain_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/exits_off_chain.json")
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

const OFF_CHAIN_SEED: u64 = 0xC1A5_0E0C;
const OFF_CHAIN_CASES: usize = 48;

/// An exit selection over more operators of a type than the parameters' bound.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffChainCase {
    targets: [u16; 4],
    cap_bps: u16,
    cap_absolute: u64,
    saturation: u64,
    max_per_type: u16,
    /// Most operators of one type in the input (above `max_per_type`, at most 200).
    crowded: u64,
    ids: Vec<u64>,
    types: Vec<u8>,
    is_active: Vec<u8>,
    active: Vec<u64>,
    available: Vec<u64>,
    scores: Vec<u16>,
    m: u64,
    exit_ids: Vec<u64>,
    exit_counts: Vec<u64>,
    exit_total: u64,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct OffChainFile {
    description: String,
    count: usize,
    cases: Vec<OffChainCase>,
}

fn generate_off_chain() -> OffChainFile {
    let mut rng = SplitMix64(OFF_CHAIN_SEED);
    let mut cases = Vec::with_capacity(OFF_CHAIN_CASES);
    while cases.len() < OFF_CHAIN_CASES {
        let count = usize::try_from(rng.range(8, 400)).unwrap();
        let ops = random_operators(&mut rng, count);
        let crowded = OperatorType::ALL
            .iter()
            .map(|t| ops.iter().filter(|o| o.operator_type == *t).count() as u64)
            .max()
            .unwrap();
        if !(2..=MAX_OPERATORS_PER_TYPE).contains(&crowded) {
            continue; // the contract must be able to replay it at its hard bound
        }
        let max = u16::try_from(rng.range(1, crowded - 1)).unwrap();
        let params = AllocationParams { max_operators_per_type: max, ..random_params(&mut rng) };
        let m = if cases.len() % 4 == 0 { MAX_REQUEST } else { rng.range(1, MAX_REQUEST) };
        assert!(select_exits(&params, &ops, m).is_err(), "the contract's bound refuses it");
        let exits = select_exits_off_chain(&params, &ops, m).unwrap();
        let (exit_ids, exit_counts) =
            exits.entries.iter().map(|e| (e.operator_id, e.count)).unzip();
        let t = params.target_bps;
        cases.push(OffChainCase {
            targets: [t.professional, t.kyc, t.dvt, t.home],
            cap_bps: params.operator_cap_bps,
            cap_absolute: params.operator_cap_absolute,
            saturation: params.capacity_saturation,
            max_per_type: max,
            crowded,
            ids: ops.iter().map(|o| o.id).collect(),
            types: ops.iter().map(|o| o.operator_type as u8).collect(),
            is_active: ops.iter().map(|o| u8::from(o.is_active)).collect(),
            active: ops.iter().map(|o| o.active_validators).collect(),
            available: ops.iter().map(|o| o.available_keys).collect(),
            scores: ops.iter().map(|o| o.score).collect(),
            m,
            exit_ids,
            exit_counts,
            exit_total: exits.total,
        });
    }
    OffChainFile {
        description: "claystack-balancer off-chain exit vectors (ADR 0006): inputs with more \
                      operators of a type than maxPerType (the contract refuses them) and the \
                      outputs of select_exits_off_chain(m), which AllocationLib.selectExits must \
                      reproduce at maxOperatorsPerType = 200"
            .to_owned(),
        count: cases.len(),
        cases,
    }
}

/// One case per line: small, and a change shows up as a one-line diff per case.
fn render_cases<T: Serialize>(description: &str, count: usize, cases: &[T]) -> String {
    let cases: Vec<String> = cases.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    format!(
        "{{\n\"description\": {},\n\"count\": {},\n\"cases\": [\n{}\n]\n}}\n",
        serde_json::to_string(description).unwrap(),
        count,
        cases.join(",\n")
    )
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
fn committed_off_chain_vectors_match_the_current_code() {
    let file = generate_off_chain();
    let expected = render_cases(&file.description, file.count, &file.cases);
    if std::env::var_os("CLAYSTACK_BLESS_VECTORS").is_some() {
        std::fs::write(off_chain_path(), &expected).unwrap();
    }
    let committed = std::fs::read_to_string(off_chain_path())
        .expect("tests/vectors/exits_off_chain.json is missing: bless it (see module docs)");
    assert!(committed == expected, "exits_off_chain.json differs from the current code's outputs");
    let parsed: OffChainFile = serde_json::from_str(&committed).unwrap();
    assert_eq!(parsed, file);
    // every case is beyond its bound, most of them select from several operators and some
    // exhaust the request
    assert!(file.cases.iter().all(|c| c.crowded > u64::from(c.max_per_type)));
    assert!(file.cases.iter().filter(|c| c.exit_ids.len() > 1).count() >= 40);
    assert!(file.cases.iter().filter(|c| c.exit_total == MAX_REQUEST).count() >= 10);
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
