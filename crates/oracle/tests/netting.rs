//! The extra data as a chain of chunks and the front-run netting of the accounting
//! (docs/adr/0008), against hand-computed expectations: a front-run pre-deposit in chunk 0 is an
//! explained CL drop (1 ETH) and is charged to the loss waterfall before the pool books the
//! report; one outside chunk 0 explains nothing; chunks link by hash, carry the whole report and
//! are byte-identical for identical input. The statement-by-statement agreement of
//! `check_accounting` with `SanityChecker.checkAccounting` is `forge_vector.rs`.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use claystack_oracle::generate::{Rng, VAULT, credentials, synthetic};
use claystack_oracle::sol::{ChunkBudget, OperatorsReport, front_run_loss};
use claystack_oracle::{
    AccountingInput, BeaconValidator, ComputeError, KeyInput, KeyState, OperatorInput, OracleInput,
    RegistryState, check_accounting, compute, compute_with,
};

const ETH: u128 = 1_000_000_000_000_000_000;
const RATE_ONE: u128 = 1_000_000_000_000_000_000_000_000_000;

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

fn validator(index: u64, pubkey: [u8; 48], gwei: u64, creds: [u8; 32]) -> BeaconValidator {
    let active = gwei >= 32_000_000_000;
    BeaconValidator {
        index: ValidatorIndex(index),
        pubkey,
        balance: Gwei(gwei),
        effective_balance: Gwei(gwei.min(32_000_000_000)),
        status: if active {
            ValidatorStatus::ActiveOngoing
        } else {
            ValidatorStatus::PendingInitialized
        },
        slashed: false,
        withdrawal_credentials: creds,
        withdrawable_epoch: Epoch(u64::MAX),
        duties_expected: if active { 225 } else { 0 },
        duties_performed: if active { 225 } else { 0 },
    }
}

/// A small pool: `n` active 32 ETH validators of one Home operator, already reported, 10 ETH
/// buffered, rate exactly 1; then the operator's pre-deposits, each 1 ETH from the pool: when
/// `valid_first`, key `n` with the pool's credentials, and always key `n + 1`, front-run (its
/// validator has someone else's credentials, so the pool's 1 ETH is gone: a 1 ETH CL drop).
fn front_run_pool(n: u64, valid_first: bool) -> OracleInput {
    let mut input = synthetic(0, 1, 1);
    let ours = credentials(VAULT);
    let foreign = credentials(Address::repeat_byte(0x66));
    let mut keys = Vec::new();
    input.validators.clear();
    for i in 0..n {
        let pk = [u8::try_from(i % 200).unwrap(); 48];
        input.validators.push(validator(i, pk, 32_000_000_000, ours));
        keys.push(KeyInput {
            index: i,
            pubkey: pk,
            state: KeyState::Deposited,
            pool_deposited_wei: eth(32),
            exit_deadline_slot: None,
        });
    }
    let mut pre = 0u128;
    if valid_first {
        input.validators.push(validator(n, [0xE0; 48], 1_000_000_000, ours));
        keys.push(KeyInput {
            index: n,
            pubkey: [0xE0; 48],
            state: KeyState::PreDeposited,
            pool_deposited_wei: eth(1),
            exit_deadline_slot: None,
        });
        pre += 1;
    }
    input.validators.push(validator(n + 1, [0xE1; 48], 1_000_000_000, foreign));
    keys.push(KeyInput {
        index: n + 1,
        pubkey: [0xE1; 48],
        state: KeyState::PreDeposited,
        pool_deposited_wei: eth(1),
        exit_deadline_slot: None,
    });
    pre += 1;
    let n128 = u128::from(n);
    input.registry = Some(RegistryState {
        operators: vec![OperatorInput {
            id: 0,
            operator_type: OperatorType::Home,
            reward_address: Address::repeat_byte(0x42),
            is_active: true,
            vfp_funded: false,
            score: 10_000,
            exited_total: 0,
            stuck_total: 0,
            settled_exits: 0,
            bond_shares: eth(2),
            vfp_backing_shares: U256::ZERO,
            keys,
        }],
        type_factor_bps: [10_000; 4],
        vfp_pool: Address::repeat_byte(0xF0),
        vfp_share_bps: 0,
        missed_exit_penalty_wei: U256::ZERO,
        insurance_fund_shares: U256::ZERO,
        allocation: AllocationParams::public_pool(),
    });
    input.rewards = claystack_oracle::RewardsState::default();
    let p = &mut input.pool;
    p.cl_balance = eth(32 * n128);
    p.cl_deposits_processed = eth(32 * n128);
    p.deposited_ether = eth(32 * n128 + pre);
    p.buffered_ether = eth(10);
    p.total_shares = eth(32 * n128 + 10 + pre);
    p.withdrawal_vault_balance = U256::ZERO;
    p.el_rewards_vault_balance = U256::ZERO;
    p.last_counts =
        claystack_oracle::ValidatorCounts { deposited: n, active: n, exited: 0, slashed: 0 };
    input.queue =
        claystack_oracle::QueueState { max_finalize_per_report: 1_000, ..Default::default() };
    input
}

fn decode(chunk: &[u8]) -> (B256, OperatorsReport) {
    <(B256, OperatorsReport)>::abi_decode_params(chunk).unwrap()
}

fn bound(r: &Result<claystack_oracle::ComputedReport, ComputeError>) -> Option<&'static str> {
    match r {
        Err(ComputeError::SanityBound { bound, .. }) => Some(bound),
        _ => None,
    }
}

/// 10 validators: a 1 ETH front-run is a 1 ETH CL drop on 321 ETH, above the 0.3 % bound (0.963
/// ETH); in chunk 0 it is explained, and its charge to the bond leaves the rate exactly 1.
#[test]
fn a_front_run_in_chunk_0_is_explained_on_a_small_pool() {
    let input = front_run_pool(10, false);
    let out = compute(&input, true).unwrap();
    let a = out.post.accounting;
    assert_eq!(a.pre_cl_value, eth(321));
    assert_eq!(a.post_cl_value, eth(320));
    assert_eq!(a.front_run_loss, eth(1));
    let (next, part0) = decode(out.first_chunk());
    assert_eq!(next, B256::ZERO);
    assert_eq!(front_run_loss(&part0), eth(1));
    assert!(part0.preDeposits.iter().any(|r| !r.valid));
    // the bond pays 1 ETH of shares at the pre-report rate (1): the holders' rate is unchanged
    assert_eq!(out.post.cover_shares_burned, eth(1));
    assert_eq!(out.post.total_pooled_ether, eth(330));
    assert_eq!(out.post.total_shares, eth(330));
    assert_eq!(out.report.finalizationShareRate, U256::from(RATE_ONE));
    // the same figures without the netting are refused: the test above can fail
    let plain = AccountingInput { front_run_loss: U256::ZERO, ..a };
    assert!(matches!(
        check_accounting(&input.pool.limits, &plain),
        Err(ComputeError::SanityBound { bound: "UnexplainedClDropExceeded", .. })
    ));
    // contracts without the operators module charge nothing: the front-run's 1 ETH stays
    // transient (not processed), so there is no drop to explain
    let plain = compute(&input, false).unwrap();
    assert_eq!(plain.post.accounting.front_run_loss, U256::ZERO);
    assert_eq!(plain.post.accounting.pre_cl_value, eth(320));
    assert_eq!(plain.report.clDepositsProcessed, eth(320));
    assert_eq!(plain.post.front_runs_withheld, 1);
}

/// The operator's run is [valid key, front-run key]; a chunk-0 budget that takes one entry would
/// put the front-run into chunk 1, charged after the accounting, where it explains nothing (the
/// contract would refuse the report). So it is withheld: its 1 ETH stays transient, the valid
/// key is confirmed, and a later report charges the front-run in its chunk 0. With room for the
/// run, it is charged now.
#[test]
fn a_front_run_outside_chunk_0_is_withheld() {
    let input = front_run_pool(10, true);
    let tight = ChunkBudget { first_gas: 0, gas: 15_000_000, max_bytes: 120_000 };
    let late = compute_with(&input, true, &tight).unwrap();
    assert_eq!(late.post.front_runs_withheld, 1);
    assert_eq!(late.post.accounting.front_run_loss, U256::ZERO);
    assert_eq!(late.post.accounting.pre_cl_value, eth(321));
    assert_eq!(late.post.accounting.post_cl_value, eth(321));
    let sent: Vec<_> = late.chunks.iter().flat_map(|c| decode(c).1.preDeposits).collect();
    assert_eq!(sent.len(), 1, "only the valid key");
    assert!(sent.iter().all(|r| r.valid && r.keyIndex == 10));
    // had the front-run gone into chunk 1, its 1 ETH drop would be refused
    let charged_late =
        AccountingInput { pre_cl_value: eth(322), post_cl_value: eth(321), ..late.post.accounting };
    assert!(matches!(
        check_accounting(&input.pool.limits, &charged_late),
        Err(ComputeError::SanityBound { bound: "UnexplainedClDropExceeded", .. })
    ));
    let out = compute(&input, true).unwrap();
    assert_eq!(out.post.front_runs_withheld, 0);
    assert_eq!(out.chunks.len(), 1);
    assert_eq!(out.post.accounting.front_run_loss, eth(1));
    // two pre-deposits processed (one ours on the CL, one in the front-runner's validator)
    assert_eq!(out.post.accounting.pre_cl_value, eth(322));
    assert_eq!(out.post.accounting.post_cl_value, eth(321));
}

/// Beyond the front-run, the drop may still reach 0.3 % of the pre-report CL value, not a wei
/// (a gwei on the beacon chain) more.
#[test]
fn the_netted_drop_bound_is_exact() {
    // pre-report CL value 321 ETH: 0.3 % = 0.963 ETH = 963,000,000 gwei
    for (extra_gwei, ok) in [(963_000_000u64, true), (963_000_001, false)] {
        let mut input = front_run_pool(10, false);
        input.validators[0].balance = Gwei(32_000_000_000 - extra_gwei);
        let r = compute(&input, true);
        if ok {
            assert!(r.is_ok(), "{extra_gwei} gwei: {:?}", r.err());
        } else {
            assert_eq!(bound(&r), Some("UnexplainedClDropExceeded"), "{extra_gwei} gwei");
        }
    }
}

/// Chunk 0's losses go through the waterfall before the accounting: bond, then VFP backing, then
/// the insurance fund, each up to what it holds; what they cannot pay stays with the holders
/// (the rate drops by exactly that).
#[test]
fn chunk_0_losses_burn_cover_before_the_accounting() {
    let mut input = front_run_pool(10, false);
    let reg = input.registry.as_mut().unwrap();
    reg.operators[0].bond_shares = eth(1) / U256::from(5u8); // 0.2
    reg.operators[0].vfp_backing_shares = eth(1) / U256::from(10u8); // 0.1
    reg.insurance_fund_shares = eth(1) / U256::from(5u8); // 0.2
    let out = compute(&input, true).unwrap();
    let burned = eth(1) / U256::from(2u8);
    assert_eq!(out.post.cover_shares_burned, burned);
    let supply = eth(331) - burned;
    assert_eq!(out.post.total_shares, supply);
    let rate = eth(330) * U256::from(RATE_ONE) / supply;
    assert_eq!(out.report.finalizationShareRate, rate);
    assert!(rate < U256::from(RATE_ONE));
    // a penalty in chunk 0 burns after the front-run at the same pre-report rate (1 ETH per
    // share here), not at the 331/330 the front-run's burn left (ADR 0008, 2026-12-06):
    // ceil(0.1 ETH × 1e27 / 1e27) = 0.1 ETH of shares; at the raised rate it would be less
    let mut input = front_run_pool(10, false);
    let reg = input.registry.as_mut().unwrap();
    reg.missed_exit_penalty_wei = eth(1) / U256::from(10u8);
    reg.operators[0].keys[0].exit_deadline_slot = Some(input.frame.ref_slot.get() - 1);
    let out = compute(&input, true).unwrap();
    let (_, part0) = decode(out.first_chunk());
    assert_eq!(part0.penalties.len(), 1);
    let want = eth(1) / U256::from(10u8);
    let raised = want * eth(330) / eth(331);
    assert!(raised < want, "the old conversion burned less");
    assert_eq!(out.post.cover_shares_burned, eth(1) + want);
}

fn concat(parts: &[OperatorsReport]) -> OperatorsReport {
    let mut all = OperatorsReport::default();
    for p in parts {
        all.preDeposits.extend(p.preDeposits.iter().cloned());
        all.scores.extend(p.scores.iter().cloned());
        all.penalties.extend(p.penalties.iter().cloned());
        all.exited.extend(p.exited.iter().cloned());
        all.exitRequests.extend(p.exitRequests.iter().cloned());
        all.exitsStarted.extend(p.exitsStarted.iter().cloned());
    }
    all
}

/// A report split into chunks: `extraDataHash` is chunk 0's hash, each chunk names the next, the
/// rewards root rides in chunk 0, the parts are the whole report, and members reading the same
/// data in any order produce the same bytes.
#[test]
fn chunks_chain_carry_the_whole_report_and_are_deterministic() {
    let input = synthetic(20_000, 60, 5);
    let budget = ChunkBudget { first_gas: 400_000, gas: 900_000, max_bytes: 10_000 };
    let out = compute_with(&input, true, &budget).unwrap();
    assert!(out.chunks.len() >= 3, "{} chunks", out.chunks.len());
    assert_eq!(out.report.extraDataHash, keccak256(out.first_chunk()));
    let mut parts = Vec::new();
    for (i, c) in out.chunks.iter().enumerate() {
        let (next, part) = decode(c);
        assert_eq!(next, out.chunks.get(i + 1).map_or(B256::ZERO, keccak256), "link {i}");
        assert_eq!(part.refSlot, out.report.refSlot);
        assert_eq!(part.rewardsRoot, if i == 0 { out.operators.rewardsRoot } else { B256::ZERO });
        parts.push(part);
    }
    assert_ne!(out.operators.rewardsRoot, B256::ZERO);
    let all = concat(&parts);
    assert_eq!(all.scores, out.operators.scores);
    assert_eq!(all.penalties, out.operators.penalties);
    assert_eq!(all.exited, out.operators.exited);
    assert_eq!(all.exitRequests, out.operators.exitRequests);
    let mut pre = all.preDeposits;
    pre.sort_by_key(|p| (p.operatorId, p.keyIndex));
    assert_eq!(pre, out.operators.preDeposits);
    // the accounting netted exactly chunk 0's front-runs
    assert_eq!(out.post.accounting.front_run_loss, front_run_loss(&parts[0]));
    // same input, shuffled validators: byte-identical chunks
    let mut shuffled = input.clone();
    let mut rng = Rng::new(77);
    for i in (1..shuffled.validators.len()).rev() {
        let j = usize::try_from(rng.below(u64::try_from(i + 1).unwrap())).unwrap();
        shuffled.validators.swap(i, j);
    }
    let again = compute_with(&shuffled, true, &budget).unwrap();
    assert_eq!(again.chunks, out.chunks);
    assert_eq!(again.report, out.report);
    // another budget is another chain (members must share it)
    let other = compute(&input, true).unwrap();
    assert_ne!(other.report.extraDataHash, out.report.extraDataHash);
}

/// A score equal to the registry's is left out (the registry would skip it); a changed one is
/// reported.
#[test]
fn only_changed_scores_are_reported() {
    let mut input = synthetic(3_000, 6, 9);
    let first = compute(&input, true).unwrap();
    assert!(first.operators.scores.len() >= 2, "{:?}", first.operators.scores);
    let kept = first.operators.scores[0].clone();
    let reg = input.registry.as_mut().unwrap();
    let op = reg.operators.iter_mut().find(|o| o.id == kept.operatorId).unwrap();
    op.score = u16::try_from(kept.score).unwrap();
    let second = compute(&input, true).unwrap();
    assert!(second.operators.scores.iter().all(|s| s.operatorId != kept.operatorId));
    assert_eq!(second.operators.scores.len(), first.operators.scores.len() - 1);
}
