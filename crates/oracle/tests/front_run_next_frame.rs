//! Regression (security review, finding 1): the frame AFTER a front-run was confirmed.
//!
//! The daemon passes `compute` only the validators with the pool's credentials plus those of keys
//! still `PreDeposited` (`daemon/operators.rs`, `daemon/mod.rs`). Once the front-run is confirmed
//! the key is `KeyState::Invalid` and the front-runner's validator is no longer streamed; its
//! 1 ETH (still in `StakePool.depositedEther`, which never decreases) must stay processed, or the
//! next deposit hides the gap: `clDepositsProcessed` 1 ETH short for good, a phantom 1 ETH of
//! transient ETH, a phantom CL gain with fees minted on it, and on a small pool `ClAprExceeded`.

use alloy::primitives::{Address, U256};
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use claystack_oracle::generate::{VAULT, credentials, synthetic};
use claystack_oracle::{
    BeaconValidator, KeyInput, KeyState, OperatorInput, OracleInput, RegistryState, compute,
};

const ETH: u128 = 1_000_000_000_000_000_000;

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

/// `n` topped-up validators; key `n` was front-run and confirmed by the previous report
/// (`Invalid`, its 1 ETH counted in `clDepositsProcessed` then); key `n + 1` is a new pool
/// pre-deposit now visible with 1 ETH. `with_foreign`: also pass the front-runner's validator.
fn next_frame(n: u64, with_foreign: bool) -> OracleInput {
    let mut input = synthetic(0, 1, 1);
    let ours = credentials(VAULT);
    let foreign = credentials(Address::repeat_byte(0x66));
    input.validators.clear();
    let mut keys = Vec::new();
    for i in 0..n {
        let pk = {
            let mut p = [0u8; 48];
            p[..8].copy_from_slice(&i.to_be_bytes());
            p
        };
        input.validators.push(validator(i, pk, 32_000_000_000, ours));
        keys.push(KeyInput {
            index: i,
            pubkey: pk,
            state: KeyState::Deposited,
            pool_deposited_wei: eth(32),
            exit_deadline_slot: None,
        });
    }
    // the front-run key, confirmed front-run by the previous report
    keys.push(KeyInput {
        index: n,
        pubkey: [0xE1; 48],
        state: KeyState::Invalid,
        pool_deposited_wei: eth(1),
        exit_deadline_slot: None,
    });
    if with_foreign {
        input.validators.push(validator(n, [0xE1; 48], 33_000_000_000, foreign));
    }
    // a new pool pre-deposit, seen with the pool's credentials
    input.validators.push(validator(n + 1, [0xE2; 48], 1_000_000_000, ours));
    keys.push(KeyInput {
        index: n + 1,
        pubkey: [0xE2; 48],
        state: KeyState::PreDeposited,
        pool_deposited_wei: eth(1),
        exit_deadline_slot: None,
    });
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
            bond_shares: eth(1),
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
    let n128 = u128::from(n);
    let p = &mut input.pool;
    // after the previous report: CL 32·n, processed 32·n + 1 (the front-run's 1 ETH), 10 ETH
    // buffered, then 1 ETH of it pre-deposited for key n + 1; rate exactly 1
    p.cl_balance = eth(32 * n128);
    p.cl_deposits_processed = eth(32 * n128 + 1);
    p.deposited_ether = eth(32 * n128 + 2);
    p.buffered_ether = eth(9);
    p.total_shares = eth(32 * n128 + 10);
    p.withdrawal_vault_balance = U256::ZERO;
    p.el_rewards_vault_balance = U256::ZERO;
    p.last_counts =
        claystack_oracle::ValidatorCounts { deposited: n, active: n, exited: 0, slashed: 0 };
    input.queue =
        claystack_oracle::QueueState { max_finalize_per_report: 1_000, ..Default::default() };
    input
}

/// Every pool deposit has reached the CL (or the front-runner's validator): all 32·n + 2 ETH are
/// processed, and the pool holds 32·n + 10 ETH (the front-run's 1 ETH is gone, paid by the bond).
#[test]
fn the_report_after_a_front_run_keeps_counting_its_deposit_as_processed() {
    let n = 1_000u64;
    let n128 = u128::from(n);
    // what the daemon passes (the front-runner's validator is not streamed any more)
    let daemon = compute(&next_frame(n, false), true).unwrap();
    // the same frame with the front-runner's validator passed as well
    let fixed = compute(&next_frame(n, true), true).unwrap();
    assert_eq!(fixed.report.clDepositsProcessed, eth(32 * n128 + 2));
    assert_eq!(fixed.post.total_pooled_ether, eth(32 * n128 + 10));
    // was: 32·n + 1 processed, 1 ETH phantom transient, 32·n + 11 ETH pooled
    assert_eq!(
        daemon.report.clDepositsProcessed,
        eth(32 * n128 + 2),
        "clDepositsProcessed short by the front-run's 1 ETH; pooled ether {}",
        daemon.post.total_pooled_ether,
    );
    assert_eq!(daemon.post.total_pooled_ether, eth(32 * n128 + 10));
    assert_eq!(daemon.report, fixed.report);
}

/// On a small pool the phantom 1 ETH gain broke the APR bound: no member could sign.
#[test]
fn on_a_small_pool_the_next_report_can_be_signed() {
    let r = compute(&next_frame(10, false), true);
    assert!(r.is_ok(), "{r:?}");
    let r = r.unwrap();
    assert_eq!(r.report.clDepositsProcessed, eth(32 * 10 + 2));
    // passing the front-runner's validator or not changes nothing (the 1 ETH is counted once)
    assert_eq!(compute(&next_frame(10, true), true).unwrap(), r);
}
