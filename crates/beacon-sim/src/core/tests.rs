//! Unit tests of the state transition.

use super::deposit::{Deposit, WithdrawalRequest};
use super::*;

#[allow(clippy::cast_possible_truncation)]
const fn b(k: u64) -> u8 {
    k as u8
}

const ETH: u64 = 1_000_000_000;

fn cfg() -> ChainConfig {
    ChainConfig {
        genesis_validators: 4,
        default_performance_ppm: 1_000_000,
        performance_jitter_ppm: 0,
        seed: 42,
        ..ChainConfig::devnet()
    }
}

fn creds(addr_byte: u8) -> [u8; 32] {
    let mut c = [0u8; 32];
    c[0] = 0x01;
    c[12..].copy_from_slice(&[addr_byte; 20]);
    c
}

fn dep(pk: u8, wc: [u8; 32], eth: u64, index: u64) -> Deposit {
    Deposit {
        pubkey: [pk; 48],
        withdrawal_credentials: wc,
        amount: Gwei(eth * ETH),
        signature: vec![0; 96],
        index,
    }
}

fn step(s: &mut BeaconState, c: &ChainConfig) -> SlotOutcome {
    s.process_slot(c, &AcceptAllDeposits).unwrap()
}

fn run_epochs(s: &mut BeaconState, c: &ChainConfig, epochs: u64) {
    for _ in 0..epochs * c.slots_per_epoch {
        step(s, c);
    }
}

fn status(s: &BeaconState, c: &ChainConfig, i: u64) -> ValidatorStatus {
    s.validator_data(c, i).unwrap().status
}

/// Runs slot by slot until `pred` holds; returns the epoch at which it did.
fn run_until(
    s: &mut BeaconState,
    c: &ChainConfig,
    max_epochs: u64,
    pred: impl Fn(&BeaconState) -> bool,
) -> Epoch {
    for _ in 0..max_epochs * c.slots_per_epoch {
        if pred(s) {
            return s.current_epoch(c).unwrap();
        }
        step(s, c);
    }
    panic!("condition not reached within {max_epochs} epochs");
}

#[test]
fn genesis_is_deterministic_and_active() {
    let c = cfg();
    let a = BeaconState::genesis(&c).unwrap();
    let b = BeaconState::genesis(&c).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.validators.len(), 4);
    for i in 0..4 {
        assert_eq!(status(&a, &c, i), ValidatorStatus::ActiveOngoing);
    }
    let other = BeaconState::genesis(&ChainConfig { seed: 43, ..c.clone() }).unwrap();
    assert_ne!(a.genesis_validators_root, other.genesis_validators_root);
    assert!(BeaconState::genesis(&ChainConfig { genesis_validators: 0, ..c }).is_err());
}

#[test]
fn deposit_goes_pending_then_active_after_finality() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    assert!(s.enqueue_deposit(dep(1, creds(0xaa), 32, 0)).unwrap());
    step(&mut s, &c);
    let i = s.index_of(&[1; 48]).unwrap();
    assert_eq!(i, 4);
    assert_eq!(status(&s, &c, i), ValidatorStatus::PendingInitialized);
    assert_eq!(s.validator(i).unwrap().record.effective_balance, Gwei(32 * ETH));
    let queued = run_until(&mut s, &c, 5, |s| status(s, &c, i) == ValidatorStatus::PendingQueued);
    assert_eq!(queued, Epoch(1));
    let active = run_until(&mut s, &c, 10, |s| status(s, &c, i) == ValidatorStatus::ActiveOngoing);
    // Eligible at 1, finalized 1 at the end of epoch 2, activation = 2 + 1 + lookahead(1) = 4.
    assert_eq!(active, Epoch(4));
    assert_eq!(s.validator(i).unwrap().record.activation_epoch, Epoch(4));
}

#[test]
fn activation_respects_the_churn_limit() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    for k in 0..10u64 {
        s.enqueue_deposit(dep(10 + b(k), creds(0xaa), 32, k)).unwrap();
    }
    run_epochs(&mut s, &c, 10);
    let mut per_epoch: std::collections::BTreeMap<u64, u64> = Default::default();
    for i in 4..14 {
        *per_epoch.entry(s.validator(i).unwrap().record.activation_epoch.get()).or_default() += 1;
    }
    // MIN_PER_EPOCH_CHURN_LIMIT = 4 with 4 active validators: 4, 4, then 2.
    let counts: Vec<u64> = per_epoch.values().copied().collect();
    assert_eq!(counts, vec![4, 4, 2], "{per_epoch:?}");
    let epochs: Vec<u64> = per_epoch.keys().copied().collect();
    assert_eq!(epochs[1], epochs[0] + 1);
    // Queue order is by index.
    assert!(
        s.validator(4).unwrap().record.activation_epoch
            <= s.validator(13).unwrap().record.activation_epoch
    );
}

#[test]
fn one_eth_pre_deposit_then_top_up_activates_and_first_credentials_win() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    let protocol = creds(0xaa);
    let attacker = creds(0xee);
    // Pre-deposit of 1 ETH with the protocol's credentials.
    s.enqueue_deposit(dep(7, protocol, 1, 0)).unwrap();
    run_epochs(&mut s, &c, 6);
    let i = s.index_of(&[7; 48]).unwrap();
    assert_eq!(status(&s, &c, i), ValidatorStatus::PendingInitialized, "1 ETH must never activate");
    assert_eq!(s.validator(i).unwrap().record.effective_balance, Gwei(ETH));
    // The 31 ETH top-up carries different credentials: they are ignored.
    s.enqueue_deposit(dep(7, attacker, 31, 1)).unwrap();
    let active = run_until(&mut s, &c, 12, |s| status(s, &c, i) == ValidatorStatus::ActiveOngoing);
    assert!(active > Epoch(6));
    let v = s.validator(i).unwrap();
    assert_eq!(v.record.withdrawal_credentials, protocol);
    assert_eq!(v.record.effective_balance, Gwei(32 * ETH));
}

#[test]
fn front_run_deposit_keeps_the_front_runners_credentials() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    s.enqueue_deposit(dep(9, creds(0xee), 1, 0)).unwrap(); // operator front-runs
    s.enqueue_deposit(dep(9, creds(0xaa), 1, 1)).unwrap(); // protocol's pre-deposit
    step(&mut s, &c);
    let i = s.index_of(&[9; 48]).unwrap();
    let v = s.validator(i).unwrap();
    assert_eq!(v.record.withdrawal_credentials, creds(0xee));
    assert_eq!(v.balance, Gwei(2 * ETH));
    assert_eq!(s.validators.len(), 5, "a top-up never creates a second record");
    // What the oracle sees through the API: credentials not the protocol's, so the 31 ETH are
    // never sent.
    assert_eq!(
        s.validator_data(&c, i).unwrap().validator.execution_withdrawal_address(),
        Some([0xee; 20])
    );
}

#[test]
fn deposit_indices_must_be_contiguous() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    assert!(s.enqueue_deposit(dep(1, creds(1), 32, 0)).unwrap());
    assert!(!s.enqueue_deposit(dep(1, creds(1), 32, 0)).unwrap(), "re-read log is ignored");
    assert_eq!(
        s.enqueue_deposit(dep(2, creds(1), 32, 2)),
        Err(SimError::DepositGap { expected: 1, got: 2 })
    );
    step(&mut s, &c);
    assert_eq!(s.deposits_processed, 1);
    assert!(!s.enqueue_deposit(dep(1, creds(1), 32, 0)).unwrap());
}

#[test]
fn rewards_follow_apr_and_offline_validators_lose() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    s.apply_admin(&c, &AdminOp::SetPerformance { index: 1, ppm: 0 }).unwrap();
    run_epochs(&mut s, &c, 1); // the first transition happens at the start of epoch 1
    let before: Vec<Gwei> = s.validators.iter().map(|v| v.balance).collect();
    // Step until just before the next epoch transition, excluding proposer rewards: compare
    // validator 1 (offline, never proposes a produced block) against the exact penalty.
    run_epochs(&mut s, &c, 1);
    let base = mul_div(
        mul_div(32 * ETH, c.apr_bps, 10_000).unwrap(),
        c.seconds_per_epoch(),
        SECONDS_PER_YEAR,
    )
    .unwrap();
    assert!(base > 0);
    assert_eq!(
        s.validators[1].balance,
        before[1].saturating_sub(Gwei(mul_div(base, 40, 64).unwrap()))
    );
    // Liveness of the ended epoch: the offline validator is the only one not live.
    let last = s.participation.back().unwrap();
    assert!(last.is_live(0) && !last.is_live(1) && last.is_live(2) && !last.is_live(99));
    // Online validators gain at least the attestation reward.
    let gain = s.validators[0].balance.get() - before[0].get();
    assert!(gain >= mul_div(base, 54, 64).unwrap(), "gain {gain}");
    // Expected APR within bounds: over a simulated year of epochs the gain is ~apr.
    let epochs_per_year = SECONDS_PER_YEAR / c.seconds_per_epoch();
    let yearly = u128::from(mul_div(base, 54, 64).unwrap()) * u128::from(epochs_per_year);
    let apr_bps = yearly * 10_000 / u128::from(32 * ETH);
    assert!((250..=300).contains(&apr_bps), "{apr_bps}");
}

#[test]
fn proposers_credit_priority_fees_to_their_fee_recipient() {
    let c = ChainConfig { default_fee_recipient: Some([0x77; 20]), ..cfg() };
    let mut s = BeaconState::genesis(&c).unwrap();
    s.apply_admin(&c, &AdminOp::SetFeeRecipient { index: 2, address: Some([0x55; 20]) }).unwrap();
    run_epochs(&mut s, &c, 3);
    let credits = s.take_el_credits();
    let to_55: Vec<_> = credits.iter().filter(|c| c.address == [0x55; 20]).collect();
    assert!(!to_55.is_empty());
    for cr in &to_55 {
        assert_eq!(cr.reason, CreditReason::PriorityFee { validator_index: ValidatorIndex(2) });
        assert!(cr.amount.get() > 0);
    }
    // Genesis fillers have no fee recipient: their fees are not credited anywhere.
    assert!(credits.iter().all(|c| c.address == [0x55; 20]));
    assert!(s.recent_proposals.iter().any(|p| p.produced && p.proposer_index == ValidatorIndex(0)));
    assert!(s.take_el_credits().is_empty(), "credits are taken once");
}

fn active_validator(c: &ChainConfig, wc: [u8; 32]) -> (BeaconState, u64) {
    let mut s = BeaconState::genesis(c).unwrap();
    s.enqueue_deposit(dep(5, wc, 32, 0)).unwrap();
    step(&mut s, c);
    let i = s.index_of(&[5; 48]).unwrap();
    run_until(&mut s, c, 10, |s| status(s, c, i) == ValidatorStatus::ActiveOngoing);
    (s, i)
}

#[test]
fn voluntary_exit_then_full_withdrawal_to_the_credentials_address() {
    let c = cfg();
    let (mut s, i) = active_validator(&c, creds(0xaa));
    s.take_el_credits();
    s.apply_admin(&c, &AdminOp::VoluntaryExit { index: i }).unwrap();
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveExiting);
    assert!(matches!(
        s.apply_admin(&c, &AdminOp::VoluntaryExit { index: i }),
        Err(SimError::Rejected { .. })
    ));
    let v = s.validator(i).unwrap().record.clone();
    let epoch = s.current_epoch(&c).unwrap();
    assert_eq!(v.exit_epoch, Epoch(epoch.get() + 2));
    assert_eq!(v.withdrawable_epoch, Epoch(v.exit_epoch.get() + 2));
    run_until(&mut s, &c, 10, |s| status(s, &c, i) == ValidatorStatus::ExitedUnslashed);
    run_until(&mut s, &c, 10, |s| status(s, &c, i) == ValidatorStatus::WithdrawalDone);
    let credits = s.take_el_credits();
    let full: Vec<_> = credits
        .iter()
        .filter(|c| matches!(c.reason, CreditReason::Withdrawal { validator_index, .. } if validator_index.get() == i))
        .collect();
    let last = full.last().unwrap();
    assert_eq!(last.address, [0xaa; 20]);
    assert!(last.amount.get() > 31 * ETH, "{}", last.amount);
    assert_eq!(s.validator(i).unwrap().balance, Gwei::ZERO);
}

#[test]
fn pooled_voluntary_exits_are_checked_then_included_by_the_next_block() {
    let c = ChainConfig { shard_committee_period: 3, ..cfg() };
    let (mut s, i) = active_validator(&c, creds(0xaa));
    let epoch = s.current_epoch(&c).unwrap();
    let exit =
        |e: u64, index: u64| PooledExit { epoch: Epoch(e), validator_index: ValidatorIndex(index) };
    let reason = |r: Result<ExitAcceptance, SimError>| match r {
        Err(SimError::Rejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    };
    // active too recently (SHARD_COMMITTEE_PERIOD), then valid once the period has passed
    assert!(reason(s.pool_voluntary_exit(&c, exit(epoch.get(), i))).contains("too recently"));
    run_epochs(&mut s, &c, 3);
    let epoch = s.current_epoch(&c).unwrap();
    // an epoch in the future, an unknown validator, a pending (not yet active) one
    assert!(reason(s.pool_voluntary_exit(&c, exit(epoch.get() + 1, i))).contains("in the future"));
    assert!(matches!(
        s.pool_voluntary_exit(&c, exit(epoch.get(), 999)),
        Err(SimError::UnknownValidator(_))
    ));
    s.enqueue_deposit(dep(6, creds(0xaa), 32, 1)).unwrap();
    step(&mut s, &c);
    let pending = s.index_of(&[6; 48]).unwrap();
    assert!(reason(s.pool_voluntary_exit(&c, exit(0, pending))).contains("not active"));

    // accepted (an older epoch is fine), a duplicate is already known; nothing changes yet
    assert_eq!(s.pool_voluntary_exit(&c, exit(1, i)).unwrap(), ExitAcceptance::Accepted);
    assert_eq!(
        s.pool_voluntary_exit(&c, exit(epoch.get(), i)).unwrap(),
        ExitAcceptance::AlreadyKnown
    );
    assert_eq!(s.voluntary_exit_pool.len(), 1);
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveOngoing);
    // the next produced block includes it: exit queue as for any exit
    let out = loop {
        let out = step(&mut s, &c);
        if out.block.is_some() {
            break out;
        }
    };
    assert_eq!(out.exits, vec![i]);
    assert!(s.voluntary_exit_pool.is_empty());
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveExiting);
    let now = s.current_epoch(&c).unwrap();
    assert_eq!(s.validator(i).unwrap().record.exit_epoch, Epoch(now.get() + 2));
    assert!(reason(s.pool_voluntary_exit(&c, exit(now.get(), i))).contains("already exiting"));
}

#[test]
fn a_pooled_exit_whose_validator_exits_meanwhile_is_dropped_at_inclusion() {
    let c = cfg();
    let (mut s, i) = active_validator(&c, creds(0xaa));
    let epoch = s.current_epoch(&c).unwrap();
    let e = PooledExit { epoch, validator_index: ValidatorIndex(i) };
    assert_eq!(s.pool_voluntary_exit(&c, e).unwrap(), ExitAcceptance::Accepted);
    // slashed before a block includes the exit
    s.apply_admin(&c, &AdminOp::Slash { index: i }).unwrap();
    let exit_epoch = s.validator(i).unwrap().record.exit_epoch;
    let out = loop {
        let out = step(&mut s, &c);
        if out.block.is_some() {
            break out;
        }
    };
    assert!(out.exits.is_empty());
    assert_eq!(out.ignored_exits.len(), 1, "{out:?}");
    assert!(out.ignored_exits[0].contains("already exiting"), "{out:?}");
    assert_eq!(s.validator(i).unwrap().record.exit_epoch, exit_epoch);
}

#[test]
fn the_state_keeps_the_last_64_epochs_of_participation() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    run_epochs(&mut s, &c, 70);
    let epochs: Vec<u64> = s.participation.iter().map(|p| p.epoch.get()).collect();
    assert_eq!(epochs, (6..70).collect::<Vec<_>>(), "epochs 0..70 ended, the last 64 kept");
    assert!(ChainConfig { liveness_epochs: 0, ..cfg() }.validate().is_err());
    assert_eq!(ChainConfig::mainnet().liveness_epochs, 256, "more than a 225-epoch frame");
}

#[test]
fn capella_fork_version_defaults_like_mainnet_and_holesky() {
    assert_eq!(ChainConfig::mainnet().capella_fork_version(), [3, 0, 0, 0]);
    let holesky = ChainConfig { genesis_fork_version: [1, 1, 0x70, 0], ..ChainConfig::mainnet() };
    assert_eq!(holesky.capella_fork_version(), [4, 1, 0x70, 0]);
    let set = ChainConfig { capella_fork_version: Some([9; 4]), ..ChainConfig::devnet() };
    assert_eq!(set.capella_fork_version(), [9; 4]);
    // old snapshots' configs (without the new fields) read back with the defaults
    let mut v = serde_json::to_value(ChainConfig::devnet()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("capella_fork_version");
    o.remove("liveness_epochs");
    let back: ChainConfig = serde_json::from_value(v).unwrap();
    assert_eq!(back, ChainConfig::devnet());
}

#[test]
fn bls_credentials_are_never_swept() {
    let c = cfg();
    let (mut s, i) = active_validator(&c, [0u8; 32]);
    s.apply_admin(&c, &AdminOp::VoluntaryExit { index: i }).unwrap();
    run_until(&mut s, &c, 10, |s| status(s, &c, i) == ValidatorStatus::WithdrawalPossible);
    run_epochs(&mut s, &c, 2);
    assert_eq!(status(&s, &c, i), ValidatorStatus::WithdrawalPossible);
    assert!(
        s.take_el_credits().iter().all(|c| !matches!(c.reason, CreditReason::Withdrawal { .. }))
    );
}

#[test]
fn slashing_applies_initial_and_correlated_penalties() {
    let c = cfg();
    let (mut s, i) = active_validator(&c, creds(0xaa));
    let eb = s.validator(i).unwrap().record.effective_balance;
    let before = s.validator(i).unwrap().balance;
    let proposer = s.latest_block.proposer_index.get();
    let proposer_before = s.validator(proposer).unwrap().balance;
    let epoch = s.current_epoch(&c).unwrap();
    s.apply_admin(&c, &AdminOp::Slash { index: i }).unwrap();
    let v = s.validator(i).unwrap();
    assert!(v.record.slashed);
    let whistleblower = Gwei(eb.get() / 512);
    let own_reward = if proposer == i { whistleblower } else { Gwei::ZERO };
    assert_eq!(
        v.balance,
        before.checked_sub(Gwei(eb.get() / 32)).unwrap().checked_add(own_reward).unwrap()
    );
    assert_eq!(v.record.withdrawable_epoch, Epoch(epoch.get() + c.epochs_per_slashings_vector));
    if proposer != i {
        assert_eq!(
            s.validator(proposer).unwrap().balance,
            proposer_before.checked_add(whistleblower).unwrap()
        );
    }
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveSlashed);
    assert!(s.apply_admin(&c, &AdminOp::Slash { index: i }).is_err());
    // Correlated penalty at the middle of the vector: eb/inc × min(3 × slashed, total) / total,
    // in whole increments (spec `process_slashings`).
    let midpoint = Epoch(epoch.get() + c.epochs_per_slashings_vector / 2);
    run_until(&mut s, &c, 20, |s| s.current_epoch(&c).unwrap() == midpoint);
    let just_before = s.validator(i).unwrap().balance;
    let total: u64 = s
        .validators
        .iter()
        .filter(|v| v.record.activation_epoch <= midpoint && midpoint < v.record.exit_epoch)
        .map(|v| v.record.effective_balance.get())
        .sum();
    let units = s.validator(i).unwrap().record.effective_balance.get() / ETH;
    let expected = units * (3 * eb.get()).min(total) / total * ETH;
    assert!(expected >= 20 * ETH, "{expected}");
    run_epochs(&mut s, &c, 1);
    let drop = just_before.get() - s.validator(i).unwrap().balance.get();
    assert!(
        drop >= expected && drop < expected + ETH / 100,
        "correlated penalty {drop}, expected {expected}"
    );
    assert_eq!(status(&s, &c, i), ValidatorStatus::ExitedSlashed);
    run_until(&mut s, &c, 20, |s| status(s, &c, i) == ValidatorStatus::WithdrawalDone);
}

#[test]
fn withdrawal_sweep_is_ordered_and_resumes() {
    let c = ChainConfig { max_withdrawals_per_payload: 2, ..cfg() };
    let mut s = BeaconState::genesis(&c).unwrap();
    for k in 0..5u64 {
        s.enqueue_deposit(dep(20 + b(k), creds(0x30 + b(k)), 32, k)).unwrap();
    }
    run_until(&mut s, &c, 12, |s| {
        s.validators.len() == 9
            && (4..9).all(|i| status(s, &c, i) == ValidatorStatus::ActiveOngoing)
    });
    // Give each one 1 ETH of excess and let the sweep run.
    for i in 4..9 {
        s.validators[i].balance = Gwei(33 * ETH);
    }
    s.take_el_credits();
    s.recent_withdrawals.clear();
    let first_index = s.next_withdrawal_index;
    let start = s.next_withdrawal_validator_index;
    let expected: Vec<u64> = (start..9).chain(0..start).filter(|i| (4..9).contains(i)).collect();
    run_epochs(&mut s, &c, 2);
    let ws: Vec<_> = s.recent_withdrawals.iter().copied().collect();
    let order: Vec<u64> = ws
        .iter()
        .map(|w| match w.reason {
            CreditReason::Withdrawal { validator_index, .. } => validator_index.get(),
            CreditReason::PriorityFee { .. } => unreachable!(),
        })
        .collect();
    // The sweep visits validators in index order from where it stopped, wrapping around.
    assert_eq!(&order[..5], expected.as_slice(), "{order:?} from {start}");
    for (k, w) in ws.iter().enumerate() {
        match w.reason {
            CreditReason::Withdrawal { index, .. } => assert_eq!(index, first_index + k as u64),
            CreditReason::PriorityFee { .. } => unreachable!(),
        }
    }
    assert!(ws[0].amount.get() >= ETH && ws[0].amount.get() < ETH + ETH / 10);
    assert_eq!(ws[0].address, [0x30 + b(expected[0] - 4); 20]);
    for i in 4..9 {
        assert!(s.validators[i].balance.get() <= 32 * ETH + ETH / 100);
    }
}

#[test]
fn halted_finality_blocks_activation_until_resumed() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    s.apply_admin(&c, &AdminOp::HaltFinality { halted: true }).unwrap();
    s.enqueue_deposit(dep(3, creds(1), 32, 0)).unwrap();
    run_epochs(&mut s, &c, 8);
    let i = s.index_of(&[3; 48]).unwrap();
    assert_eq!(status(&s, &c, i), ValidatorStatus::PendingQueued);
    assert_eq!(s.finalized.epoch, Epoch(0));
    s.apply_admin(&c, &AdminOp::HaltFinality { halted: false }).unwrap();
    run_until(&mut s, &c, 10, |s| status(s, &c, i) == ValidatorStatus::ActiveOngoing);
    assert!(s.finalized.epoch > Epoch(0));
}

#[test]
fn offline_majority_stops_finality_and_leaks() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    for i in 0..3 {
        s.apply_admin(&c, &AdminOp::SetPerformance { index: i, ppm: 0 }).unwrap();
    }
    run_epochs(&mut s, &c, 10);
    assert_eq!(s.finalized.epoch, Epoch(0));
    // The online validator earns nothing during the leak except proposals; offline ones lose more
    // than the plain missed-attestation penalty.
    assert!(s.validators[0].balance < Gwei(32 * ETH));
}

#[test]
fn eip7002_requests_exit_only_from_the_withdrawal_address() {
    let c = cfg();
    let (mut s, i) = active_validator(&c, creds(0xaa));
    s.enqueue_withdrawal_request(WithdrawalRequest {
        source_address: [0xbb; 20],
        validator_pubkey: [5; 48],
        amount: Gwei(0),
    });
    let out = step(&mut s, &c);
    let out = if out.block.is_some() { out } else { step(&mut s, &c) };
    assert!(out.ignored_requests.iter().any(|r| r.contains("source address")), "{out:?}");
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveOngoing);
    s.enqueue_withdrawal_request(WithdrawalRequest {
        source_address: [0xaa; 20],
        validator_pubkey: [5; 48],
        amount: Gwei(0),
    });
    run_epochs(&mut s, &c, 1);
    assert_eq!(status(&s, &c, i), ValidatorStatus::ActiveExiting);
}

#[test]
fn invalid_first_deposit_signature_is_ignored_when_verification_is_on() {
    struct RejectZeroSig;
    impl DepositVerifier for RejectZeroSig {
        fn verify(&self, d: &Deposit) -> bool {
            d.signature.iter().any(|b| *b != 0)
        }
    }
    let c = ChainConfig { verify_deposit_signatures: true, ..cfg() };
    let mut s = BeaconState::genesis(&c).unwrap();
    s.enqueue_deposit(dep(1, creds(1), 32, 0)).unwrap();
    let mut good = dep(2, creds(2), 32, 1);
    good.signature = vec![1; 96];
    s.enqueue_deposit(good).unwrap();
    let mut ignored = Vec::new();
    for _ in 0..4 {
        ignored.extend(s.process_slot(&c, &RejectZeroSig).unwrap().ignored_deposits);
    }
    assert_eq!(ignored, vec![0]);
    assert_eq!(s.index_of(&[1; 48]), None);
    assert!(s.index_of(&[2; 48]).is_some());
    assert_eq!(s.deposits_processed, 2);
}

#[test]
fn transitions_are_deterministic() {
    let c =
        ChainConfig { performance_jitter_ppm: 50_000, default_performance_ppm: 950_000, ..cfg() };
    let run = || {
        let mut s = BeaconState::genesis(&c).unwrap();
        for k in 0..6u64 {
            s.enqueue_deposit(dep(40 + b(k), creds(b(k)), 32, k)).unwrap();
        }
        run_epochs(&mut s, &c, 12);
        s.apply_admin(&c, &AdminOp::Slash { index: 5 }).unwrap();
        run_epochs(&mut s, &c, 4);
        serde_json::to_string(&s).unwrap()
    };
    assert_eq!(run(), run());
}

#[test]
fn admin_rejects_unknown_validators_and_bad_values() {
    let c = cfg();
    let mut s = BeaconState::genesis(&c).unwrap();
    assert!(matches!(
        s.apply_admin(&c, &AdminOp::Slash { index: 99 }),
        Err(SimError::UnknownValidator(_))
    ));
    assert!(matches!(
        s.apply_admin(&c, &AdminOp::SetPerformance { index: 0, ppm: 2_000_000 }),
        Err(SimError::Rejected { .. })
    ));
    let snapshot = s.clone();
    assert!(s.apply_admin(&c, &AdminOp::VoluntaryExit { index: 77 }).is_err());
    assert_eq!(s, snapshot, "a failed operation leaves the state unchanged");
}

mod invariants {
    //! Random scripts of deposits, top-ups, admin operations and slots; after every step the
    //! registry must satisfy the invariants ClayStack's oracle relies on.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Deposit { key: u8, cred: u8, eth: u64 },
        Slots(u64),
        Admin(u8, u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0u8..3, prop_oneof![Just(1u64), Just(31), Just(32), 1u64..40])
                .prop_map(|(key, cred, eth)| Op::Deposit { key, cred, eth }),
            (1u64..20).prop_map(Op::Slots),
            (0u8..5, 0u64..12).prop_map(|(k, i)| Op::Admin(k, i)),
        ]
    }

    fn rank(s: ValidatorStatus) -> u8 {
        ValidatorStatus::FINE.iter().position(|x| *x == s).map_or(0, |p| b(p as u64))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn registry_invariants_hold(ops in prop::collection::vec(op(), 1..60)) {
            let c = ChainConfig { performance_jitter_ppm: 100_000, default_performance_ppm: 950_000, ..cfg() };
            let mut s = BeaconState::genesis(&c).unwrap();
            let mut next_index = 0u64;
            let mut first_creds: std::collections::HashMap<[u8; 48], [u8; 32]> = Default::default();
            let mut last_status: Vec<u8> = Vec::new();
            let mut last_withdrawal_index = s.next_withdrawal_index;
            for op in ops {
                match op {
                    Op::Deposit { key, cred, eth } => {
                        let d = dep(100 + key, creds(cred), eth, next_index);
                        first_creds.entry(d.pubkey).or_insert(d.withdrawal_credentials);
                        s.enqueue_deposit(d).unwrap();
                        next_index += 1;
                    }
                    Op::Slots(n) => {
                        for _ in 0..n {
                            s.process_slot(&c, &AcceptAllDeposits).unwrap();
                        }
                        // Every withdrawal goes to its validator's 0x01 address and is positive.
                        for credit in s.take_el_credits() {
                            if let CreditReason::Withdrawal { validator_index, .. } = credit.reason {
                                let v = s.validator(validator_index.get()).unwrap();
                                prop_assert_eq!(execution_address(&v.record.withdrawal_credentials), Some(credit.address));
                                prop_assert!(credit.amount.get() > 0);
                            }
                        }
                    }
                    Op::Admin(kind, i) => {
                        let op = match kind {
                            0 => AdminOp::Slash { index: i },
                            1 => AdminOp::VoluntaryExit { index: i },
                            2 => AdminOp::SetPerformance { index: i, ppm: 0 },
                            3 => AdminOp::HaltFinality { halted: i % 2 == 0 },
                            _ => AdminOp::SetFeeRecipient { index: i, address: Some([7; 20]) },
                        };
                        let snapshot = s.clone();
                        match s.apply_admin(&c, &op) {
                            Ok(()) => {}
                            Err(SimError::Rejected { .. } | SimError::UnknownValidator(_)) => prop_assert_eq!(&s, &snapshot),
                            Err(e) => prop_assert!(false, "unexpected error {e}"),
                        }
                    }
                }
                let epoch = s.current_epoch(&c).unwrap();
                prop_assert!(s.deposits_processed <= next_index);
                prop_assert!(s.next_withdrawal_index >= last_withdrawal_index);
                last_withdrawal_index = s.next_withdrawal_index;
                for (i, v) in s.validators.iter().enumerate() {
                    let r = &v.record;
                    if let Some(first) = first_creds.get(&r.pubkey) {
                        prop_assert_eq!(&r.withdrawal_credentials, first, "credentials changed");
                    }
                    prop_assert!(r.effective_balance <= c.max_effective_balance);
                    prop_assert_eq!(r.effective_balance.get() % ETH, 0);
                    if r.activation_epoch != FAR_FUTURE {
                        prop_assert!(r.activation_eligibility_epoch <= r.activation_epoch);
                        prop_assert_eq!(r.effective_balance.get() >= c.ejection_balance.get() || r.exit_epoch != FAR_FUTURE, true);
                    }
                    if r.exit_epoch != FAR_FUTURE {
                        prop_assert!(r.withdrawable_epoch > r.exit_epoch);
                    }
                    let st = rank(status_at(r, v.balance, epoch));
                    if let Some(prev) = last_status.get(i) {
                        prop_assert!(st >= *prev || (*prev == 7 && st == 8) || (*prev == 8 && st == 7),
                            "status of {} went back from {} to {}", i, prev, st);
                    }
                }
                last_status = s.validators.iter().map(|v| rank(status_at(&v.record, v.balance, epoch))).collect();
            }
        }
    }
}
