//! Properties of the pure report computation against hand-computed expectations and a simple
//! reference model of the contracts' accounting.

use alloy::primitives::{Address, B256, U256, keccak256};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use claystack_oracle::generate::{Rng, VAULT, credentials, synthetic};
use claystack_oracle::merkle::verify;
use claystack_oracle::{
    BeaconValidator, ComputeError, KeyState, OracleInput, compute, extra_data, report_digest,
};
use proptest::prelude::*;

const ETH: u128 = 1_000_000_000_000_000_000;

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

/// A tiny pool: `n` active validators of 32 ETH already reported, nothing else moving.
fn small(n: u64) -> OracleInput {
    let mut input = synthetic(0, 4, 1);
    let creds = credentials(VAULT);
    input.validators = (0..n)
        .map(|i| BeaconValidator {
            index: ValidatorIndex(i),
            pubkey: [u8::try_from(i % 251).unwrap(); 48],
            balance: Gwei(32_000_000_000),
            effective_balance: Gwei(32_000_000_000),
            status: ValidatorStatus::ActiveOngoing,
            slashed: false,
            withdrawal_credentials: creds,
            withdrawable_epoch: Epoch(u64::MAX),
            duties_expected: 225,
            duties_performed: 225,
        })
        .collect();
    input.registry = None;
    input.pool.cl_balance = eth(32 * u128::from(n));
    input.pool.deposited_ether = eth(32 * u128::from(n));
    input.pool.cl_deposits_processed = eth(32 * u128::from(n));
    input.pool.buffered_ether = eth(10);
    input.pool.total_shares = eth(32 * u128::from(n) + 10);
    input.pool.withdrawal_vault_balance = U256::ZERO;
    input.pool.el_rewards_vault_balance = U256::ZERO;
    input.pool.last_counts =
        claystack_oracle::ValidatorCounts { deposited: n, active: n, exited: 0, slashed: 0 };
    input.queue =
        claystack_oracle::QueueState { max_finalize_per_report: 1_000, ..Default::default() };
    input
}

#[test]
fn unchanged_pool_reports_its_state_and_rate() {
    let input = small(10);
    let out = compute(&input, true).unwrap();
    let r = &out.report;
    assert_eq!(r.validatorsDeposited, U256::from(10u8));
    assert_eq!(r.validatorsActive, U256::from(10u8));
    assert_eq!(r.clBalance, eth(320));
    assert_eq!(r.clDepositsProcessed, eth(320));
    assert_eq!(r.withdrawalVaultPull, U256::ZERO);
    assert_eq!(r.finalizeUpToRequestId, U256::ZERO);
    // 330 ETH over 330 shares: rate exactly 1e27
    assert_eq!(r.finalizationShareRate, U256::from(10u128.pow(27)));
    assert_eq!(r.extraDataHash, B256::ZERO);
    assert!(out.chunks.is_empty());
}

#[test]
fn rewards_mint_the_fee_at_the_post_report_rate() {
    let mut input = small(10);
    // +0.01 ETH on the CL, 0.005 ETH of EL rewards
    input.validators[0].balance = Gwei(32_010_000_000);
    input.pool.el_rewards_vault_balance = U256::from(5 * ETH / 1000);
    let out = compute(&input, true).unwrap();
    let rewards = U256::from(15 * ETH / 1000);
    let post_total = eth(330) + rewards;
    let fee_eth = rewards * U256::from(1_000u64) / U256::from(10_000u64);
    let fee_shares = fee_eth * eth(330) / (post_total - fee_eth);
    let parts = fee_shares * U256::from(400u64) / U256::from(1_000u64)
        + fee_shares * U256::from(500u64) / U256::from(1_000u64)
        + fee_shares * U256::from(100u64) / U256::from(1_000u64);
    let supply = eth(330) + parts;
    assert_eq!(out.post.el_rewards_pull, U256::from(5 * ETH / 1000));
    assert_eq!(out.post.total_pooled_ether, post_total);
    assert_eq!(out.post.total_shares, supply);
    assert_eq!(out.report.finalizationShareRate, post_total * U256::from(10u128.pow(27)) / supply);
    assert!(out.report.finalizationShareRate > U256::from(10u128.pow(27)));
}

#[test]
fn vault_pulls_stay_within_the_smoothing_cap() {
    let mut input = small(10);
    input.pool.withdrawal_vault_balance = eth(5);
    input.pool.el_rewards_vault_balance = eth(5);
    let out = compute(&input, true).unwrap();
    // the whole gain is capped at 0.075 % of the pre-report pool (and by the 10 % APR bound)
    let max_rewards = eth(330) * U256::from(750u64) / U256::from(1_000_000u64);
    let pull = out.report.withdrawalVaultPull;
    assert!(pull > U256::ZERO && pull <= max_rewards, "pull {pull}");
    assert!(pull + out.post.el_rewards_pull <= max_rewards);
    // the reported EL amount is the full vault balance: the contract applies the cap itself
    assert_eq!(out.report.elRewardsVaultAvailable, eth(5));
}

#[test]
fn a_full_withdrawal_is_pulled_without_counting_as_a_gain() {
    let mut input = small(10);
    input.validators[3].status = ValidatorStatus::WithdrawalDone;
    input.validators[3].balance = Gwei(0);
    input.pool.withdrawal_vault_balance = eth(32);
    let out = compute(&input, true).unwrap();
    assert_eq!(out.report.withdrawalVaultPull, eth(32));
    assert_eq!(out.report.validatorsExited, U256::from(1u8));
    assert_eq!(out.post.total_pooled_ether, eth(330));
}

#[test]
fn an_unexplained_drop_is_refused() {
    let mut input = small(10);
    for v in &mut input.validators {
        v.balance = Gwei(31_000_000_000);
    }
    match compute(&input, true) {
        Err(ComputeError::SanityBound { bound, .. }) => {
            assert_eq!(bound, "UnexplainedClDropExceeded");
        }
        other => panic!("expected a sanity error, got {other:?}"),
    }
}

#[test]
fn decreasing_counts_are_refused() {
    let mut input = small(10);
    input.validators.pop();
    input.pool.cl_balance = eth(288);
    assert!(matches!(
        compute(&input, true),
        Err(ComputeError::SanityBound { bound: "ValidatorCountDecreased", .. })
    ));
}

#[test]
fn the_queue_is_finalized_up_to_what_the_buffer_pays() {
    let mut input = small(10);
    input.queue.unfinalized_ether = eth(12);
    input.queue.requests = (1..=4)
        .map(|id| claystack_oracle::WithdrawalRequest {
            id,
            shares: eth(3),
            ether_at_request: eth(3),
        })
        .collect();
    let out = compute(&input, true).unwrap();
    // 10 ETH buffered pays three requests of 3 ETH at rate 1
    assert_eq!(out.report.finalizeUpToRequestId, U256::from(3u8));
    assert_eq!(out.post.ether_to_lock, eth(9));
}

#[test]
fn operators_report_is_committed_by_the_extra_data_hash() {
    let input = synthetic(2_000, 12, 7);
    let out = compute(&input, true).unwrap();
    assert!(!out.operators.is_empty());
    // a report this size fits one chunk: the whole operators report, no successor
    assert_eq!(out.chunks, vec![extra_data(&out.operators)]);
    assert_eq!(out.report.extraDataHash, keccak256(out.first_chunk()));
    assert_eq!(out.operators.refSlot, out.report.refSlot);
    let without = compute(&input, false).unwrap();
    assert_eq!(without.report.extraDataHash, B256::ZERO);
    assert!(without.chunks.is_empty());
}

#[test]
fn lists_are_sorted_and_bounded() {
    let input = synthetic(5_000, 40, 3);
    let o = compute(&input, true).unwrap().operators;
    assert!(
        o.preDeposits
            .windows(2)
            .all(|w| (w[0].operatorId, w[0].keyIndex) < (w[1].operatorId, w[1].keyIndex))
    );
    assert!(o.scores.windows(2).all(|w| w[0].operatorId < w[1].operatorId));
    assert!(o.penalties.windows(2).all(|w| w[0].operatorId <= w[1].operatorId));
    assert!(o.penalties.iter().all(|p| p.amountWei > 0));
    assert!(o.exited.windows(2).all(|w| w[0].operatorId < w[1].operatorId));
    assert!(
        o.exitRequests
            .windows(2)
            .all(|w| (w[0].operatorId, w[0].keyIndex) < (w[1].operatorId, w[1].keyIndex))
    );
    assert!(o.scores.iter().all(|s| s.score <= 10_000));
}

#[test]
fn pre_deposits_are_confirmed_only_with_our_credentials() {
    let mut input = synthetic(20_000, 8, 11);
    // front-run the first pre-deposited key: same pubkey, someone else's credentials
    let reg = input.registry.as_ref().unwrap();
    let first = reg
        .operators
        .iter()
        .flat_map(|o| &o.keys)
        .find(|k| k.state == KeyState::PreDeposited)
        .unwrap()
        .pubkey;
    let v = input.validators.iter_mut().find(|v| v.pubkey == first).unwrap();
    v.withdrawal_credentials = credentials(Address::repeat_byte(0x66));
    let out = compute(&input, true).unwrap();
    let reg = input.registry.as_ref().unwrap();
    let mut seen = 0;
    for p in &out.operators.preDeposits {
        let op = reg.operators.iter().find(|o| o.id == p.operatorId).unwrap();
        let key = op.keys.iter().find(|k| k.index == p.keyIndex).unwrap();
        assert_eq!(key.state, KeyState::PreDeposited);
        let v = input.validators.iter().find(|v| v.pubkey == key.pubkey).unwrap();
        assert_eq!(p.valid, v.withdrawal_credentials == credentials(VAULT));
        seen += 1;
    }
    assert!(seen > 0);
    assert!(
        out.operators.preDeposits.iter().any(|p| !p.valid),
        "the generator front-runs some keys"
    );
}

#[test]
fn slashing_penalty_is_the_initial_spec_penalty_inside_the_frame_only() {
    let mut input = synthetic(3_000, 3, 5);
    let out = compute(&input, true).unwrap();
    let slashed: Vec<&BeaconValidator> = input.validators.iter().filter(|v| v.slashed).collect();
    assert!(!slashed.is_empty());
    let total: u128 =
        out.operators.penalties.iter().filter(|p| p.kind == 0).map(|p| p.amountWei).sum();
    let want: u128 =
        slashed.iter().map(|v| u128::from(v.effective_balance.get() / 32) * 1_000_000_000).sum();
    assert_eq!(total, want);
    // the state at the reference slot shows the effective balance already lowered (the penalty
    // itself and the per-epoch penalties of a slashed validator, at each epoch boundary after the
    // slashing): the charge stays the deposit's 1/32, wherever in the frame the slashing fell
    let mut later = input.clone();
    for v in later.validators.iter_mut().filter(|v| v.slashed) {
        assert_eq!(
            v.effective_balance.get(),
            32_000_000_000,
            "the generator slashes 32 ETH validators"
        );
        v.effective_balance = claystack_consensus::Gwei(30_000_000_000);
    }
    let out = compute(&later, true).unwrap();
    let total_later: u128 =
        out.operators.penalties.iter().filter(|p| p.kind == 0).map(|p| p.amountWei).sum();
    assert_eq!(total_later, want, "1 ETH per slashed 32 ETH validator, not 30/32");
    // moved before the previous ref slot: already penalised, not again
    for v in &mut input.validators {
        if v.slashed {
            v.withdrawable_epoch = Epoch(100 + 8_192);
        }
    }
    let again = compute(&input, true).unwrap();
    assert!(again.operators.penalties.iter().all(|p| p.kind != 0));
}

#[test]
fn exit_requests_cover_the_uncovered_queue_demand() {
    let mut input = synthetic(4_000, 8, 9);
    // one 2,000 ETH request: the buffer (100 ETH + pulls) cannot pay it
    input.queue.unfinalized_ether = eth(2_000);
    input.queue.requests = vec![claystack_oracle::WithdrawalRequest {
        id: 1,
        shares: eth(1_900),
        ether_at_request: eth(2_000),
    }];
    let out = compute(&input, true).unwrap();
    assert_eq!(out.report.finalizeUpToRequestId, U256::ZERO);
    let leaving: u64 = input
        .validators
        .iter()
        .filter(|v| v.status == ValidatorStatus::ActiveSlashed)
        .map(|v| v.balance.get())
        .sum();
    let buffered = eth(100) + out.report.withdrawalVaultPull + out.post.el_rewards_pull;
    let missing = eth(2_000) - buffered - U256::from(leaving) * U256::from(1_000_000_000u64);
    let want = missing.div_ceil(eth(32));
    let n = out.operators.exitRequests.len();
    assert_eq!(U256::from(n), want);
    // every requested key is active, ours and not already asked to exit
    let reg = input.registry.as_ref().unwrap();
    for e in &out.operators.exitRequests {
        let op = reg.operators.iter().find(|o| o.id == e.operatorId).unwrap();
        let key = op.keys.iter().find(|k| k.index == e.keyIndex).unwrap();
        assert!(key.exit_deadline_slot.is_none());
        let v = input.validators.iter().find(|v| v.pubkey == key.pubkey).unwrap();
        assert_eq!(v.status, ValidatorStatus::ActiveOngoing);
    }
    // with a buffer that covers the demand, nothing is requested
    let mut rich = input.clone();
    rich.pool.buffered_ether = eth(1_000_000);
    rich.pool.total_shares += eth(1_000_000);
    rich.pool.limits.max_positive_rate_change_ppm = 10_000;
    let out = compute(&rich, true).unwrap();
    assert!(out.operators.exitRequests.is_empty());
}

#[test]
fn rewards_tree_distributes_at_most_what_was_received() {
    let input = synthetic(4_000, 9, 13);
    let out = compute(&input, true).unwrap();
    let tree = out.rewards_tree.as_ref().expect("a frame with rewards sets a root");
    assert_eq!(tree.root(), out.operators.rewardsRoot);
    let received = input.rewards.shares_received_total;
    assert!(out.operators.rewardsCumulativeShares <= received);
    // dust only: less than one share per operator plus the penalties
    let reg = input.registry.as_ref().unwrap();
    let mut sum = U256::ZERO;
    let mut accounts: Vec<Address> = reg.operators.iter().map(|o| o.reward_address).collect();
    accounts.push(reg.vfp_pool);
    accounts.sort();
    accounts.dedup();
    for a in accounts {
        if let Some((shares, proof)) = tree.proof(a) {
            assert!(verify(tree.root(), a, shares, &proof));
            sum += shares;
        }
    }
    assert_eq!(sum, out.operators.rewardsCumulativeShares);
    // a second frame is cumulative: no account goes down
    let mut next = input.clone();
    next.frame.last_ref_slot = input.frame.ref_slot;
    next.frame.ref_slot = claystack_consensus::Slot(input.frame.ref_slot.get() + 7_200);
    next.rewards.shares_received_total = received + out.post.operator_fee_shares;
    next.rewards.cumulative_shares = out.operators.rewardsCumulativeShares;
    next.rewards.accounts = reg
        .operators
        .iter()
        .map(|o| o.reward_address)
        .chain([reg.vfp_pool])
        .filter_map(|a| tree.proof(a).map(|(s, _)| (a, s)))
        .collect();
    next.rewards.accounts.sort();
    next.rewards.accounts.dedup();
    next.pool.last_counts = claystack_oracle::ValidatorCounts {
        deposited: out.report.validatorsDeposited.to::<u64>(),
        active: out.report.validatorsActive.to::<u64>(),
        exited: out.report.validatorsExited.to::<u64>(),
        slashed: out.report.validatorsSlashed.to::<u64>(),
    };
    next.pool.cl_balance = out.report.clBalance;
    let out2 = compute(&next, true).unwrap();
    let tree2 = out2.rewards_tree.unwrap();
    for (a, s) in &next.rewards.accounts {
        assert!(tree2.proof(*a).unwrap().0 >= *s);
    }
}

#[test]
fn vfp_gets_its_share_of_funded_operators() {
    let mut input = synthetic(2_000, 3, 17);
    let reg = input.registry.as_mut().unwrap();
    for op in &mut reg.operators {
        op.vfp_funded = op.id == 1;
    }
    reg.vfp_share_bps = 2_000;
    let vfp = reg.vfp_pool;
    let out = compute(&input, true).unwrap();
    let tree = out.rewards_tree.unwrap();
    let (vfp_shares, _) = tree.proof(vfp).unwrap();
    let op1 = input.registry.as_ref().unwrap().operators[0].reward_address;
    let (own, _) = tree.proof(op1).unwrap();
    // vfp = floor(R·20 %), own = R − vfp
    let r = vfp_shares + own;
    assert_eq!(vfp_shares, r * U256::from(2_000u64) / U256::from(10_000u64));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Members reading the same data in any order sign the same bytes.
    #[test]
    fn identical_input_gives_byte_identical_output(seed in any::<u64>(), n in 0u64..600, ops in 1u64..20, shuffle in any::<u64>()) {
        let input = synthetic(n, ops, seed);
        let a = compute(&input, true);
        let mut shuffled = input;
        let mut rng = Rng::new(shuffle);
        for i in (1..shuffled.validators.len()).rev() {
            let j = usize::try_from(rng.below(u64::try_from(i + 1).unwrap())).unwrap();
            shuffled.validators.swap(i, j);
        }
        let b = compute(&shuffled, true);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.report, &b.report);
                prop_assert_eq!(&a.chunks, &b.chunks);
                prop_assert_eq!(
                    report_digest(&a.report, 31337, Address::repeat_byte(9)),
                    report_digest(&b.report, 31337, Address::repeat_byte(9))
                );
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "diverged: {:?} vs {:?}", a.map(|x| x.report), b.map(|x| x.report)),
        }
    }

    /// The report never asks the pool for more than the vaults hold, never reports more
    /// processed deposits than were made, and its rate matches an independent recomputation.
    #[test]
    fn accounting_stays_within_the_contract_bounds(seed in any::<u64>(), n in 1u64..400, vault in 0u64..100, el in 0u64..100) {
        let mut input = synthetic(n, 5, seed);
        input.pool.withdrawal_vault_balance = eth(u128::from(vault));
        input.pool.el_rewards_vault_balance = eth(u128::from(el)) / U256::from(10u8);
        if let Ok(out) = compute(&input, true) {
            let r = &out.report;
            prop_assert!(r.withdrawalVaultPull <= input.pool.withdrawal_vault_balance);
            prop_assert!(r.elRewardsVaultAvailable == input.pool.el_rewards_vault_balance);
            prop_assert!(r.clDepositsProcessed <= input.pool.deposited_ether);
            prop_assert!(r.clDepositsProcessed >= input.pool.cl_deposits_processed);
            let rate = out.post.total_pooled_ether * U256::from(10u128.pow(27)) / out.post.total_shares;
            prop_assert_eq!(rate, r.finalizationShareRate);
            prop_assert!(out.operators.rewardsCumulativeShares <= input.rewards.shares_received_total);
        }
    }
}

#[test]
fn pre_deposit_results_are_contiguous_from_each_operators_cursor() {
    let mut input = synthetic(0, 1, 1);
    let creds = credentials(VAULT);
    let reg = input.registry.as_mut().unwrap();
    let op = &mut reg.operators[0];
    for i in 0..3u8 {
        op.keys.push(claystack_oracle::KeyInput {
            index: u64::from(i),
            pubkey: [0xC0 | i; 48],
            state: KeyState::PreDeposited,
            pool_deposited_wei: U256::ZERO,
            exit_deadline_slot: None,
        });
    }
    // keys 0 and 2 are on the beacon chain, key 1 not yet: only key 0 can be confirmed now
    for (n, k) in [(0u64, 0u8), (1, 2)] {
        input.validators.push(BeaconValidator {
            index: ValidatorIndex(n),
            pubkey: [0xC0 | k; 48],
            balance: Gwei(1_000_000_000),
            effective_balance: Gwei(1_000_000_000),
            status: ValidatorStatus::PendingInitialized,
            slashed: false,
            withdrawal_credentials: creds,
            withdrawable_epoch: Epoch(u64::MAX),
            duties_expected: 0,
            duties_performed: 0,
        });
    }
    input.pool.last_counts.deposited = 0;
    for k in &mut input.registry.as_mut().unwrap().operators[0].keys {
        k.pool_deposited_wei = eth(1);
    }
    input.pool.deposited_ether += eth(3);
    let out = compute(&input, true).unwrap();
    // the two visible pre-deposits are processed; the third is still transient
    assert_eq!(out.report.clDepositsProcessed, input.pool.cl_deposits_processed + eth(2));
    let got: Vec<(u64, u64, bool)> =
        out.operators.preDeposits.iter().map(|p| (p.operatorId, p.keyIndex, p.valid)).collect();
    assert_eq!(got, vec![(1, 0, true)]);
}

/// Fills `duties_*` of `input`'s pool validators from per-epoch liveness built by `live`, the way
/// the daemon does: a tally over the frame's epochs, each epoch's record assembled from a part
/// "recorded during the frame" and a part "fetched at compute time", split at `cut`.
fn fill_duties(
    input: &mut OracleInput,
    live: impl Fn(u64, u64) -> bool,
    cut: usize,
) -> Result<(), claystack_oracle::duties::DutiesError> {
    use claystack_oracle::duties::{DutyTally, EpochLiveness, ValidatorSpan, frame_epochs};
    let f = input.frame;
    let (first, last) = frame_epochs(f.last_ref_slot.get(), f.ref_slot.get(), f.slots_per_epoch);
    let creds = credentials(VAULT);
    let spans: Vec<ValidatorSpan> = input
        .validators
        .iter()
        .filter(|v| v.withdrawal_credentials == creds && v.status.is_active())
        .map(|v| ValidatorSpan {
            index: v.index.get(),
            // activated inside the frame for some, so that expected duties differ
            activation_epoch: first + v.index.get() % 7,
            exit_epoch: u64::MAX,
        })
        .collect();
    let mut tally = DutyTally::new(spans)?;
    for e in first..=last {
        let required = tally.required(e);
        let pairs: Vec<(u64, bool)> = required.iter().map(|i| (*i, live(e, *i))).collect();
        let (recorded, fetched) = pairs.split_at(cut.min(pairs.len()));
        let recorded = EpochLiveness::from_pairs(e, recorded.to_vec())?;
        let fetched = EpochLiveness::from_pairs(e, fetched.iter().rev().copied().collect())?;
        tally.add_epoch(&recorded.merge(&fetched)?)?;
    }
    let duties = tally.into_map();
    for v in &mut input.validators {
        let d = duties.get(&v.index.get()).copied().unwrap_or_default();
        v.duties_expected = d.expected;
        v.duties_performed = d.performed;
    }
    Ok(())
}

/// Two members with the same liveness sign the same digest, whatever part of it each recorded
/// during the frame and fetched at compute time; the duties reach the scores and the rewards
/// root. A member with one different liveness bit signs another digest (the test can fail).
#[test]
fn members_with_the_same_liveness_sign_the_same_digest_whatever_they_recorded() {
    let live = |e: u64, i: u64| !(e * 7 + i * 13).is_multiple_of(10) || i.is_multiple_of(5);
    let base = synthetic(600, 7, 21);
    let digest = |input: &OracleInput| {
        let out = compute(input, true).unwrap();
        (report_digest(&out.report, 31337, Address::repeat_byte(9)), out)
    };
    let mut a = base.clone();
    fill_duties(&mut a, live, 0).unwrap();
    let mut b = base.clone();
    fill_duties(&mut b, live, 301).unwrap();
    let (da, out_a) = digest(&a);
    let (db, _) = digest(&b);
    assert_eq!(da, db);
    assert!(a.validators.iter().any(|v| v.duties_expected > v.duties_performed));
    assert!(!out_a.operators.scores.is_empty());
    assert!(
        out_a.operators.scores.iter().all(|s| s.score < 10_000),
        "{:?}",
        out_a.operators.scores
    );
    assert_ne!(out_a.operators.rewardsRoot, B256::ZERO);
    // one validator's liveness differs in one epoch: another report
    let mut c = base;
    let odd = a.validators.iter().find(|v| v.duties_expected > 0).unwrap().index.get();
    let first = a.frame.last_ref_slot.get() / a.frame.slots_per_epoch + 1 + odd % 7;
    fill_duties(&mut c, |e, i| if (e, i) == (first, odd) { !live(e, i) } else { live(e, i) }, 0)
        .unwrap();
    assert_ne!(digest(&c).0, da);
}

/// A validator active in an epoch without liveness is an error, not a guess.
#[test]
fn duties_without_liveness_are_refused() {
    use claystack_oracle::duties::{DutiesError, DutyTally, EpochLiveness, ValidatorSpan};
    let mut t =
        DutyTally::new(vec![ValidatorSpan { index: 4, activation_epoch: 0, exit_epoch: 9 }])
            .unwrap();
    let err = t.add_epoch(&EpochLiveness::empty(3)).unwrap_err();
    assert_eq!(err, DutiesError::Missing { epoch: 3, missing: 1, first: 4 });
}
