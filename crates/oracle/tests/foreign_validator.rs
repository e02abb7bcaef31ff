//! Regression (auditor finding: phantom CL gain from validators that are not the pool's keys).
//!
//! Anyone can point a validator at the pool's WithdrawalVault (a fresh deposit with the pool's
//! 0x01 credentials, or a 0x00 validator's BLS-to-execution change). Counted as the pool's, its
//! 32 ETH was a CL gain that broke the APR / rate bounds on any pool below ~117k ETH: no member
//! could sign, a 32 ETH denial of service on reports. With a registry, only validators of the
//! pool's keys (pre-deposited or deposited by the pool) count (ADR 0009); without one, every
//! validator with the pool's credentials still does.

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolValue as _;
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use claystack_oracle::generate::{VAULT, credentials, synthetic};
use claystack_oracle::{
    BeaconValidator, ComputeError, KeyInput, KeyState, OperatorInput, OperatorsReport, OracleInput,
    RegistryState, compute,
};

const ETH: u128 = 1_000_000_000_000_000_000;
const N: u64 = 10;

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

fn pk(tag: u8, i: u64) -> [u8; 48] {
    let mut p = [tag; 48];
    p[..8].copy_from_slice(&i.to_be_bytes());
    p
}

fn validator(index: u64, pubkey: [u8; 48], gwei: u64, status: ValidatorStatus) -> BeaconValidator {
    let active = status.is_active();
    BeaconValidator {
        index: ValidatorIndex(index),
        pubkey,
        balance: Gwei(gwei),
        effective_balance: Gwei(gwei.min(32_000_000_000)),
        status,
        slashed: false,
        withdrawal_credentials: credentials(VAULT),
        withdrawable_epoch: Epoch(u64::MAX),
        duties_expected: if active { 225 } else { 0 },
        duties_performed: if active { 220 } else { 0 },
    }
}

/// A small pool (330 ETH): `N` topped-up validators of one operator with a little CL reward, one
/// confirmed front-run key (`Invalid`), one new valid pre-deposit seen on the CL.
fn pool() -> OracleInput {
    let mut input = synthetic(0, 1, 1);
    input.validators.clear();
    let mut keys = Vec::new();
    for i in 0..N {
        input.validators.push(validator(
            i,
            pk(0x11, i),
            32_001_000_000,
            ValidatorStatus::ActiveOngoing,
        ));
        keys.push(KeyInput {
            index: i,
            pubkey: pk(0x11, i),
            state: KeyState::Deposited,
            pool_deposited_wei: eth(32),
            exit_deadline_slot: None,
        });
    }
    keys.push(KeyInput {
        index: N,
        pubkey: pk(0xE1, 0),
        state: KeyState::Invalid,
        pool_deposited_wei: eth(1),
        exit_deadline_slot: None,
    });
    input.validators.push(validator(
        N,
        pk(0x11, N + 1),
        1_000_000_000,
        ValidatorStatus::PendingInitialized,
    ));
    keys.push(KeyInput {
        index: N + 1,
        pubkey: pk(0x11, N + 1),
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
            score: 9_000,
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
    input.rewards =
        claystack_oracle::RewardsState { shares_received_total: eth(1), ..Default::default() };
    let n = u128::from(N);
    let p = &mut input.pool;
    p.cl_balance = eth(32 * n);
    p.cl_deposits_processed = eth(32 * n + 1);
    p.deposited_ether = eth(32 * n + 2);
    p.buffered_ether = eth(9);
    p.total_shares = eth(32 * n + 10);
    p.withdrawal_vault_balance = eth(1) / U256::from(10u8);
    p.el_rewards_vault_balance = eth(1) / U256::from(100u8);
    p.last_counts =
        claystack_oracle::ValidatorCounts { deposited: N, active: N, exited: 0, slashed: 0 };
    input.queue =
        claystack_oracle::QueueState { max_finalize_per_report: 1_000, ..Default::default() };
    input
}

/// Validators with the pool's credentials that are not the pool's: each must leave the report
/// exactly as it is without it.
fn foreign() -> Vec<(&'static str, BeaconValidator)> {
    let mut exited = validator(900, pk(0xF0, 3), 0, ValidatorStatus::WithdrawalDone);
    exited.effective_balance = Gwei(0);
    let mut slashed = validator(901, pk(0xF0, 4), 31_000_000_000, ValidatorStatus::ActiveSlashed);
    slashed.slashed = true;
    vec![
        // a fresh 32 ETH deposit with the pool's credentials, activated
        ("active", validator(800, pk(0xF0, 1), 32_000_000_000, ValidatorStatus::ActiveOngoing)),
        // one still waiting for activation
        ("pending", validator(801, pk(0xF0, 2), 32_000_000_000, ValidatorStatus::PendingQueued)),
        ("exited", exited),
        ("slashed", slashed),
        // the front-runner's validator of the Invalid key, moved to the pool's credentials by a
        // BLS-to-execution change after the pool wrote its 1 ETH off
        (
            "front-runner",
            validator(802, pk(0xE1, 0), 33_000_000_000, ValidatorStatus::ActiveOngoing),
        ),
    ]
}

#[test]
fn a_foreign_validator_with_the_pools_credentials_changes_nothing() {
    let base = compute(&pool(), true).unwrap();
    assert!(!base.chunks.is_empty(), "the fixture reports operator data");
    for (what, v) in foreign() {
        let mut input = pool();
        input.validators.push(v);
        // was: ClAprExceeded (32 ETH of phantom gain), or other counts and another digest
        let out = compute(&input, true).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out, base, "{what}: the report changed");
        assert_eq!(out.chunks, base.chunks, "{what}");
    }
}

/// The denial of service itself: one 32 ETH deposit made every member refuse the frame.
#[test]
fn a_32_eth_deposit_to_the_vault_no_longer_blocks_reports() {
    let mut input = pool();
    input.validators.push(validator(
        800,
        pk(0xF0, 1),
        32_000_000_000,
        ValidatorStatus::ActiveOngoing,
    ));
    match compute(&input, true) {
        Ok(out) => assert_eq!(out.report.validatorsDeposited, U256::from(N + 1)),
        Err(ComputeError::SanityBound { bound, value, limit }) => {
            panic!("refused: {bound} {value} > {limit}")
        }
        Err(e) => panic!("{e}"),
    }
}

/// Without a registry (no operators module yet) every validator with the pool's credentials is
/// still the pool's, as before.
#[test]
fn without_a_registry_every_validator_with_the_pools_credentials_counts() {
    let mut input = pool();
    input.registry = None;
    // (no pending pre-deposit: without a registry only full deposits are known)
    input.validators.retain(|v| v.pubkey != pk(0x11, N + 1));
    input.pool.cl_deposits_processed = eth(32 * u128::from(N));
    input.pool.deposited_ether = eth(32 * u128::from(N));
    let base = compute(&input, true).unwrap();
    // a 32 ETH pool deposit seen on the CL: with no keys to tell, any validator with the pool's
    // credentials is taken for one
    input.validators.push(validator(
        801,
        pk(0xF0, 2),
        32_000_000_000,
        ValidatorStatus::PendingQueued,
    ));
    input.pool.deposited_ether += eth(32);
    let out = compute(&input, true).unwrap();
    assert_eq!(out.report.clDepositsProcessed, base.report.clDepositsProcessed + eth(32));
    assert_eq!(out.report.validatorsDeposited, base.report.validatorsDeposited + U256::from(1u8));
    assert_eq!(out.report.clBalance, base.report.clBalance + eth(32));
}

/// A third party tops up a key the pool has not topped up (auditor review, 2026-12-06): a deposit
/// to a known pubkey needs no signature, and the validator stays at or below 32 ETH, so it is
/// never skimmed. Counted in full, its surplus was a CL gain every later report carried too —
/// reports refused for good. The pool's part (1 ETH) is all that counts.
#[test]
fn a_third_party_top_up_of_a_key_the_pool_has_not_topped_up_counts_only_the_pools_ether() {
    let base = compute(&pool(), true).unwrap();
    for (what, state, status) in [
        // the pending pre-deposit, topped up to activation by someone else
        ("pre-deposited", KeyState::PreDeposited, ValidatorStatus::ActiveOngoing),
        // 8 ETH added, still pending
        ("pre-deposited, pending", KeyState::PreDeposited, ValidatorStatus::PendingQueued),
        // confirmed by an earlier report, waiting for the pool's 31 ETH top-up
        ("confirmed", KeyState::Deposited, ValidatorStatus::ActiveOngoing),
    ] {
        let mut input = pool();
        let key_pk = pk(0x11, N + 1);
        let reg = input.registry.as_mut().unwrap();
        let key = reg.operators[0].keys.iter_mut().find(|k| k.pubkey == key_pk).unwrap();
        key.state = state;
        let v = input.validators.iter_mut().find(|v| v.pubkey == key_pk).unwrap();
        let gwei =
            if status == ValidatorStatus::PendingQueued { 9_000_000_000 } else { 32_000_000_000 };
        *v = validator(v.index.get(), key_pk, gwei, status);
        // withdrawals the buffer cannot pay: every candidate may be asked to exit
        input.queue.unfinalized_ether = eth(1_000);
        // was: a sanity refusal (the surplus as CL gain) — every member, every frame
        let out = compute(&input, true).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out.report.clBalance, base.report.clBalance, "{what}: surplus counted");
        assert_eq!(
            out.report.clDepositsProcessed, base.report.clDepositsProcessed,
            "{what}: processed"
        );
        // an active key the pool has not topped up is never an exit candidate (the registry
        // refuses a request for it, which would revert the whole report)
        let requested: Vec<u64> = out
            .chunks
            .iter()
            .flat_map(|c| <(B256, OperatorsReport)>::abi_decode_params(c).unwrap().1.exitRequests)
            .map(|r| r.keyIndex)
            .collect();
        assert!(!requested.is_empty(), "{what}: the queue's demand asks for exits");
        assert!(!requested.contains(&(N + 1)), "{what}: exit requested for {requested:?}");
    }
}
