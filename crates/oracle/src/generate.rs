//! Deterministic synthetic inputs (benchmarks and property tests): a healthy pool of `validators`
//! validators spread over `operators` operators, with a few slashings, exits, pre-deposits
//! (valid and front-run) and withdrawal demand that needs exits.

use alloy::primitives::{Address, U256};
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, Slot, ValidatorIndex};

use crate::math::gwei_to_wei;
use crate::types::{
    BeaconValidator, FrameParams, KeyInput, KeyState, OperatorInput, OracleInput, PoolState,
    QueueState, RegistryState, RewardsState, SanityLimits, ValidatorCounts, WithdrawalRequest,
};

/// SplitMix64: small, seedable, reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }
}

/// The pool's credentials used by the generator.
pub const VAULT: Address = Address::repeat_byte(0xAA);

/// 0x01 credentials of `vault`.
#[must_use]
pub fn credentials(vault: Address) -> [u8; 32] {
    let mut c = [0u8; 32];
    c[0] = 1;
    c[12..].copy_from_slice(vault.as_slice());
    c
}

fn pubkey(n: u64) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..8].copy_from_slice(&n.to_be_bytes());
    k[8] = 0x5A;
    k
}

/// Mainnet-like frame: 32-slot epochs, 225-epoch frames, 12-second slots.
#[must_use]
pub fn mainnet_frame() -> FrameParams {
    FrameParams {
        ref_slot: Slot(2 * 7_200 - 1),
        last_ref_slot: Slot(7_200 - 1),
        seconds_per_slot: 12,
        slots_per_epoch: 32,
        epochs_per_slashings_vector: 8_192,
        min_slashing_penalty_quotient: 32,
        max_effective_balance: Gwei(32_000_000_000),
    }
}

/// A synthetic input with `validators` validators over `operators` operators.
#[must_use]
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)] // small, bounded synthetic data
pub fn synthetic(validators: u64, operators: u64, seed: u64) -> OracleInput {
    let mut rng = Rng::new(seed);
    let frame = mainnet_frame();
    let ref_epoch = frame.ref_slot.get() / frame.slots_per_epoch;
    let creds = credentials(VAULT);
    let foreign = credentials(Address::repeat_byte(0xBB));
    let operators = operators.max(1);
    let mut ops: Vec<OperatorInput> = (0..operators)
        .map(|i| OperatorInput {
            id: i + 1,
            operator_type: OperatorType::ALL[(i % 4) as usize],
            reward_address: Address::with_last_byte((i % 250) as u8).create(i),
            is_active: true,
            vfp_funded: i % 3 == 0,
            score: 9_000 + (rng.below(1_000) as u16),
            exited_total: 0,
            stuck_total: 0,
            settled_exits: 0,
            // 2 ETH of bond each, 1 ETH of VFP backing for the funded ones (shares ≈ ETH here)
            bond_shares: gwei_to_wei(2_000_000_000),
            vfp_backing_shares: if i % 3 == 0 { gwei_to_wei(1_000_000_000) } else { U256::ZERO },
            keys: Vec::new(),
        })
        .collect();
    let mut vals = Vec::with_capacity(validators as usize);
    let mut prev_cl: u128 = 0;
    let mut last_counts = ValidatorCounts::default();
    let mut deposited = U256::ZERO;
    let top_up = gwei_to_wei(31_000_000_000);
    let pre = gwei_to_wei(1_000_000_000);
    let mut processed_before = U256::ZERO;
    for n in 0..validators {
        let op = &mut ops[(n % operators) as usize];
        let key_index = op.keys.len() as u64;
        let roll = rng.below(10_000);
        // 0.05 % pre-deposited (one in five of them front-run), 0.2 % exited, 0.01 % slashed now
        let (state, status, creds_v, balance, slashed) = match roll {
            0..=4 => {
                let c = if roll == 0 { foreign } else { creds };
                (
                    KeyState::PreDeposited,
                    ValidatorStatus::PendingInitialized,
                    c,
                    1_000_000_000,
                    false,
                )
            }
            5..=24 => (KeyState::Deposited, ValidatorStatus::WithdrawalDone, creds, 0, false),
            25 => {
                (KeyState::Deposited, ValidatorStatus::ActiveSlashed, creds, 31_000_000_000, true)
            }
            _ => {
                (KeyState::Deposited, ValidatorStatus::ActiveOngoing, creds, 32_000_000_000, false)
            }
        };
        let pool_dep = if state == KeyState::Deposited { top_up + pre } else { pre };
        deposited += pool_dep;
        if state == KeyState::Deposited {
            // processed by earlier reports; this frame's pre-deposits are new
            processed_before += pool_dep;
        }
        let reward = if status == ValidatorStatus::ActiveOngoing {
            2_000_000 + rng.below(1_000_000)
        } else {
            0
        };
        if creds_v == creds && state == KeyState::Deposited {
            // seen by the previous report: everything but this frame's pre-deposits and slashing
            last_counts.deposited += 1;
            last_counts.exited += u64::from(status == ValidatorStatus::WithdrawalDone);
        }
        if creds_v == creds
            && state == KeyState::Deposited
            && status != ValidatorStatus::WithdrawalDone
        {
            prev_cl += u128::from(if slashed { 32_000_000_000u64 } else { balance });
        }
        let expected = if status.is_active() { 225 } else { 0 };
        vals.push(BeaconValidator {
            index: ValidatorIndex(n),
            pubkey: pubkey(n),
            balance: Gwei(balance + reward),
            effective_balance: Gwei(if slashed {
                32_000_000_000
            } else {
                balance.min(32_000_000_000)
            }),
            status,
            slashed,
            withdrawal_credentials: creds_v,
            withdrawable_epoch: if slashed {
                Epoch(ref_epoch - 3 + frame.epochs_per_slashings_vector)
            } else {
                Epoch(u64::MAX)
            },
            duties_expected: expected,
            duties_performed: expected.saturating_sub(rng.below(8) as u32),
        });
        let exit_deadline_slot = (roll == 26).then_some(frame.ref_slot.get() - 10);
        op.keys.push(KeyInput {
            index: key_index,
            pubkey: pubkey(n),
            state,
            pool_deposited_wei: pool_dep,
            exit_deadline_slot,
        });
        if status == ValidatorStatus::WithdrawalDone {
            // reported and settled by earlier reports
            op.exited_total += 1;
            op.settled_exits += 1;
        }
    }
    let prev_cl_wei = gwei_to_wei(0) + U256::from(prev_cl) * U256::from(1_000_000_000u64);
    let buffered = gwei_to_wei(100_000_000_000); // 100 ETH
    let total_pooled = prev_cl_wei + buffered;
    let total_shares = total_pooled * U256::from(95u8) / U256::from(100u8);
    // withdrawal demand: 0.1 % of the pool in 100 requests
    let per_request = total_pooled / U256::from(100_000u64);
    let requests: Vec<WithdrawalRequest> = (1..=100)
        .map(|id| WithdrawalRequest {
            id,
            shares: per_request * U256::from(95u8) / U256::from(100u8),
            ether_at_request: per_request,
        })
        .collect();
    let unfinalized = per_request * U256::from(100u8);
    OracleInput {
        frame,
        pool: PoolState {
            total_shares,
            buffered_ether: buffered,
            cl_balance: prev_cl_wei,
            cl_deposits_processed: processed_before,
            deposited_ether: deposited,
            withdrawal_vault_balance: gwei_to_wei(600_000_000_000),
            el_rewards_vault_balance: gwei_to_wei(50_000_000_000),
            fees: crate::types::Fees { treasury_bps: 400, operators_bps: 500, insurance_bps: 100 },
            withdrawal_credentials: creds,
            last_counts,
            limits: SanityLimits {
                max_appeared_validators_per_report: 100_000,
                ..SanityLimits::defaults()
            },
        },
        queue: QueueState {
            last_finalized_request_id: 0,
            max_finalize_per_report: 1_000,
            unfinalized_ether: unfinalized,
            requests,
        },
        registry: Some(RegistryState {
            operators: ops,
            type_factor_bps: [10_000; 4],
            vfp_pool: Address::repeat_byte(0xF0),
            vfp_share_bps: 1_000,
            missed_exit_penalty_wei: gwei_to_wei(100_000_000),
            insurance_fund_shares: gwei_to_wei(50_000_000_000),
            allocation: AllocationParams {
                max_operators_per_type: 200,
                ..AllocationParams::public_pool()
            },
        }),
        // earlier frames' operator fees waiting in OperatorRewards
        rewards: RewardsState {
            shares_received_total: total_shares / U256::from(10_000u64),
            ..RewardsState::default()
        },
        validators: vals,
    }
}
