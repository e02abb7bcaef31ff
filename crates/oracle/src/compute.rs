//! The pure report computation. See [`compute`].

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, U256};
use claystack_balancer::{OperatorData, select_exits_off_chain};
use claystack_beacon::ValidatorStatus;

use crate::error::ComputeError;
use crate::math::{add, div, gwei_to_wei, mul, mul_div, mul_div_ceil, sat_sub, sub};
use crate::merkle::RewardsTree;
use crate::sol::{
    CONSENSUS_VERSION, ChunkBudget, ExitRequest, OperatorExited, OperatorPenalty, OperatorScore,
    OperatorsReport, PRE_DEPOSIT_WEI, PreDepositResult, Report, encode_chain, extra_data_hash,
    front_run_loss, split_parts,
};
use crate::types::{
    BeaconValidator, KeyState, MAX_LIST_ENTRIES, OracleInput, RegistryState, SanityLimits,
    ValidatorCounts,
};

const PPM: u64 = 1_000_000;
const BPS: u64 = 10_000;
const SECONDS_PER_YEAR: u64 = 365 * 24 * 3600;
const RATE_PRECISION: u128 = 1_000_000_000_000_000_000_000_000_000;
const ETH_32: u128 = 32_000_000_000_000_000_000;

/// Penalty kinds of `OperatorPenalty.kind`.
pub mod penalty_kind {
    /// Slashing (the initial penalty the spec charges: effective balance / 32).
    pub const SLASHING: u8 = 0;
    /// Missed duties or other.
    pub const OTHER: u8 = 1;
    /// Exit request ignored past its deadline.
    pub const MISSED_EXIT: u8 = 2;
}

/// What the pool will look like once the report is applied (for logs, the daemon's checks and
/// the rewards computation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostReport {
    /// `totalPooledEther` after the report (before finalization).
    pub total_pooled_ether: U256,
    /// Share supply after the reward-fee mint.
    pub total_shares: U256,
    /// `shareRate()` after the report, 1e27.
    pub share_rate: U256,
    /// EL rewards the pool will pull (the smoothing cap applied).
    pub el_rewards_pull: U256,
    /// Shares minted to `OperatorRewards` (T of this frame).
    pub operator_fee_shares: U256,
    /// ETH the finalization locks.
    pub ether_to_lock: U256,
    /// Validators selected for exit (count).
    pub exits_requested: u64,
    /// Shares the loss waterfall burns while chunk 0 is applied, before the accounting (front-run
    /// pre-deposits and penalties of chunk 0, converted at the pre-report rate).
    pub cover_shares_burned: U256,
    /// Front-run pre-deposit results left out of this report because they did not fit chunk 0
    /// (their keys stay pre-deposited on chain; a later report carries them in its chunk 0).
    pub front_runs_withheld: u64,
    /// What `SanityChecker.checkAccounting` is given for this report.
    pub accounting: AccountingInput,
}

/// The arguments of `SanityChecker.checkAccounting` (wei and seconds), as `StakePool` passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountingInput {
    /// `totalPooledEther()` before the report.
    pub pre_total_pooled_ether: U256,
    /// Last reported CL balance plus the deposits the CL processed since.
    pub pre_cl_value: U256,
    /// Reported CL balance plus the withdrawal-vault pull.
    pub post_cl_value: U256,
    /// Seconds since the last reference slot.
    pub time_elapsed: U256,
    /// Validators slashed since the last report.
    pub newly_slashed: U256,
    /// 1 ETH per front-run pre-deposit result in chunk 0 (`OperatorsModule` returns it).
    pub front_run_loss: U256,
    /// The EL rewards vault balance the report names.
    pub el_rewards_available: U256,
}

/// The result of [`compute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedReport {
    /// The report to sign.
    pub report: Report,
    /// The operators report (empty without a registry): every chunk's part together.
    pub operators: OperatorsReport,
    /// The extra data committed by `report.extraDataHash`, as a hash chain of chunks
    /// (docs/adr/0008): `keccak256(chunks[0]) == extraDataHash`, each chunk carries the hash of
    /// the next. Empty when nothing is committed (`extraDataHash = 0`).
    pub chunks: Vec<Vec<u8>>,
    /// The rewards tree when this report sets a new root.
    pub rewards_tree: Option<RewardsTree>,
    /// Post-report projection.
    pub post: PostReport,
}

#[derive(Debug, Default, Clone)]
struct OperatorAcc {
    performed: u64,
    expected: u64,
    exited: u64,
    stuck: u64,
    slashing_gwei: u128,
    missed_exits: u64,
    exit_candidates: Vec<u64>,
    /// Keys with a pending exit request whose validator is exiting or exited: to close.
    exits_started: Vec<u64>,
}

fn is_exited(s: ValidatorStatus) -> bool {
    matches!(
        s,
        ValidatorStatus::ExitedUnslashed
            | ValidatorStatus::ExitedSlashed
            | ValidatorStatus::WithdrawalPossible
            | ValidatorStatus::WithdrawalDone
    )
}

/// The validator's exit was initiated (exit epoch set: exiting, slashed, exited or withdrawn):
/// an exit request of its key is fulfilled.
fn exit_started(s: ValidatorStatus) -> bool {
    is_leaving(s) || is_exited(s)
}

/// Exiting or exited but not yet swept: the balance will reach the WithdrawalVault.
fn is_leaving(s: ValidatorStatus) -> bool {
    matches!(
        s,
        ValidatorStatus::ActiveExiting
            | ValidatorStatus::ActiveSlashed
            | ValidatorStatus::ExitedUnslashed
            | ValidatorStatus::ExitedSlashed
            | ValidatorStatus::WithdrawalPossible
    )
}

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn sanity(
    bound: &'static str,
    value: impl std::fmt::Display,
    limit: impl std::fmt::Display,
) -> ComputeError {
    ComputeError::SanityBound { bound, value: value.to_string(), limit: limit.to_string() }
}

impl ComputedReport {
    /// Chunk 0 (what goes with `submitReport`), or empty.
    #[must_use]
    pub fn first_chunk(&self) -> &[u8] {
        self.chunks.first().map_or(&[], Vec::as_slice)
    }
}

/// `SanityChecker.checkAccounting`, statement for statement: the bounds on the CL change and the
/// EL rewards the pool may pull. A CL drop is explained up to `newlySlashed × slashingAllowance`
/// plus the front-run loss chunk 0 charged to operator collateral (docs/adr/0008); the EL room
/// is `maxRewards − gain`, or `maxRewards + drop` after a drop. Returns the EL rewards to pull,
/// or the bound the contract would revert with (checked arithmetic where Solidity's is).
pub fn check_accounting(limits: &SanityLimits, a: &AccountingInput) -> Result<U256, ComputeError> {
    let pre_cl = a.pre_cl_value;
    let max_rewards =
        div(mul(a.pre_total_pooled_ether, u(limits.max_positive_rate_change_ppm))?, u(PPM))?;
    let room = if a.post_cl_value >= pre_cl {
        let gain = sub(a.post_cl_value, pre_cl)?;
        if !gain.is_zero() {
            let apr = if pre_cl.is_zero() || a.time_elapsed.is_zero() {
                U256::MAX
            } else {
                mul_div(gain, mul(u(SECONDS_PER_YEAR), u(BPS))?, mul(pre_cl, a.time_elapsed)?)?
            };
            if apr > u(limits.max_cl_apr_bps) {
                return Err(sanity("ClAprExceeded", apr, limits.max_cl_apr_bps));
            }
            if gain > max_rewards {
                let ppm = mul_div(gain, u(PPM), a.pre_total_pooled_ether).unwrap_or(U256::MAX);
                return Err(sanity(
                    "PositiveRateChangeExceeded",
                    ppm,
                    limits.max_positive_rate_change_ppm,
                ));
            }
        }
        sub(max_rewards, gain)?
    } else {
        let drop = sub(pre_cl, a.post_cl_value)?;
        let explained = add(
            mul(mul(a.newly_slashed, u(limits.slashing_allowance_gwei))?, u(1_000_000_000))?,
            a.front_run_loss,
        )?;
        let unexplained = sat_sub(drop, explained);
        if mul(unexplained, u(PPM))? > mul(u(limits.max_unexplained_cl_drop_ppm), pre_cl)? {
            let ppm = mul_div(unexplained, u(PPM), pre_cl).unwrap_or(U256::MAX);
            return Err(sanity(
                "UnexplainedClDropExceeded",
                ppm,
                limits.max_unexplained_cl_drop_ppm,
            ));
        }
        add(max_rewards, drop)?
    };
    Ok(a.el_rewards_available.min(room))
}

/// Computes the report of `input`'s frame, with the default [`ChunkBudget`]; see
/// [`compute_with`].
pub fn compute(input: &OracleInput, with_extra_data: bool) -> Result<ComputedReport, ComputeError> {
    compute_with(input, with_extra_data, &ChunkBudget::default())
}

/// Computes the report of `input`'s frame.
///
/// With `with_extra_data`, the operators report is committed by `extraDataHash` (when it carries
/// anything) as a chain of chunks split within `budget` (docs/adr/0008; every member must use the
/// same budget, or their digests differ); without, `extraDataHash = 0` (contracts without the
/// operators module).
///
/// The accounting mirrors the contracts' order inside `submitReport`: chunk 0 is applied first
/// (its front-run results and penalties burn cover shares at the pre-report rate), then the pool
/// books the report, whose CL drop is explained up to the front-run loss of chunk 0. Front-run
/// results that do not fit chunk 0 are withheld for a later report, and their pre-deposits stay
/// transient (ADR 0009).
///
/// With a registry, only validators of its pre-deposited or deposited keys that carry the pool's
/// credentials count as the pool's; any other validator pointed at the vault is ignored (ADR 0009).
///
/// Errors when the input is inconsistent or when the contracts would reject the result (a
/// sanity bound, a decreasing count): a member never signs a report that cannot pass.
pub fn compute_with(
    input: &OracleInput,
    with_extra_data: bool,
    budget: &ChunkBudget,
) -> Result<ComputedReport, ComputeError> {
    let frame = &input.frame;
    let pool = &input.pool;
    if frame.ref_slot <= frame.last_ref_slot {
        return Err(ComputeError::InvalidInput(format!(
            "ref slot {} does not follow the last ref slot {}",
            frame.ref_slot, frame.last_ref_slot
        )));
    }
    if frame.slots_per_epoch == 0 || frame.min_slashing_penalty_quotient == 0 {
        return Err(ComputeError::InvalidInput("zero chain constant".into()));
    }
    check_unique_indices(&input.validators)?;

    // ---- registry lookups
    let registry = input.registry.as_ref();
    let mut key_map: HashMap<[u8; 48], (usize, usize)> = HashMap::new();
    if let Some(reg) = registry {
        check_registry(reg)?;
        let total_keys: usize = reg.operators.iter().map(|o| o.keys.len()).sum();
        key_map.reserve(total_keys);
        for (oi, op) in reg.operators.iter().enumerate() {
            for (ki, k) in op.keys.iter().enumerate() {
                if k.state != KeyState::Unused && key_map.insert(k.pubkey, (oi, ki)).is_some() {
                    return Err(ComputeError::InvalidInput(format!(
                        "pubkey 0x{} is registered twice",
                        hex::encode(k.pubkey)
                    )));
                }
            }
        }
    }
    let mut acc: Vec<OperatorAcc> =
        vec![OperatorAcc::default(); registry.map_or(0, |r| r.operators.len())];

    // ---- one pass over the validators
    let ref_epoch = frame.ref_slot.get().checked_div(frame.slots_per_epoch).unwrap_or(0);
    let last_ref_epoch = frame.last_ref_slot.get().checked_div(frame.slots_per_epoch).unwrap_or(0);
    let mut counts = ValidatorCounts::default();
    let mut cl_gwei: u128 = 0;
    let mut leaving_gwei: u128 = 0;
    let mut processed = U256::ZERO;
    let mut pre_seen: HashMap<(usize, usize), bool> = HashMap::new();
    // pool ETH of front-run keys still pre-deposited, by (operator id, key index): processed only
    // if this report charges the front-run in chunk 0 (below)
    let mut front_run_credit: HashMap<(u64, u64), U256> = HashMap::new();
    let ov = |_: ()| ComputeError::Arithmetic("validator sums");
    for v in &input.validators {
        let ours = v.withdrawal_credentials == pool.withdrawal_credentials;
        let deposits_processed = v.status != ValidatorStatus::PendingInitialized
            || v.effective_balance >= frame.max_effective_balance;
        let entry = key_map.get(&v.pubkey).copied();
        let key = match (registry, entry) {
            (Some(reg), Some((oi, ki))) => Some(
                reg.operators
                    .get(oi)
                    .and_then(|op| op.keys.get(ki))
                    .ok_or(ComputeError::Arithmetic("key lookup"))?,
            ),
            _ => None,
        };
        // The pool's validators. With a registry: validators of its keys the pool deposited to
        // (pre-deposited or deposited) that carry its credentials. Anyone can point another
        // validator at the vault (a deposit with the pool's credentials, a BLS-to-execution
        // change, a front-runner's validator after its key was written off): its balance is not
        // the pool's stake and would show as a phantom CL gain (ADR 0009). Its ETH reaches the
        // pool only through the WithdrawalVault, pulled within the smoothing cap. Without a
        // registry every validator with the pool's credentials counts.
        let counted = ours
            && match registry {
                None => true,
                Some(_) => key.is_some_and(|k| {
                    matches!(k.state, KeyState::PreDeposited | KeyState::Deposited)
                }),
            };
        if counted {
            counts.deposited = counts.deposited.checked_add(1).ok_or(()).map_err(ov)?;
            if v.status.is_active() {
                counts.active = counts.active.checked_add(1).ok_or(()).map_err(ov)?;
            }
            if is_exited(v.status) {
                counts.exited = counts.exited.checked_add(1).ok_or(()).map_err(ov)?;
            }
            if v.slashed {
                counts.slashed = counts.slashed.checked_add(1).ok_or(()).map_err(ov)?;
            }
            // A key the pool has not topped up holds at most what the pool put in (1 ETH):
            // anyone can add to a known pubkey's validator without a signature, and that
            // surplus is not the pool's stake. Counted, it would be a CL gain no report could
            // pass (a validator at or below 32 ETH is never skimmed, so it would stay), ADR 0009.
            let balance = match key {
                Some(k) if k.pool_deposited_wei < U256::from(ETH_32) => {
                    let cap = div(k.pool_deposited_wei, U256::from(1_000_000_000u64))?;
                    u64::try_from(cap).unwrap_or(u64::MAX).min(v.balance.get())
                }
                _ => v.balance.get(),
            };
            cl_gwei = cl_gwei.checked_add(u128::from(balance)).ok_or(()).map_err(ov)?;
            if is_leaving(v.status) {
                leaving_gwei =
                    leaving_gwei.checked_add(u128::from(balance)).ok_or(()).map_err(ov)?;
            }
        }
        let (Some(key), Some((oi, ki))) = (key, entry) else {
            if counted && deposits_processed {
                // without a registry every validator of ours is a full pool deposit
                processed = add(processed, U256::from(ETH_32))?;
            }
            continue;
        };
        let (Some(op), Some(a)) = (registry.and_then(|r| r.operators.get(oi)), acc.get_mut(oi))
        else {
            return Err(ComputeError::Arithmetic("operator lookup"));
        };
        if key.state == KeyState::PreDeposited {
            pre_seen.insert((oi, ki), ours);
        }
        // Pool ETH the CL has credited for this key: everything once the validator is past
        // pending_initialized (or at full effective balance); before that, what its effective
        // balance shows (the 1 ETH pre-deposit; a 31 ETH top-up still pending is not counted).
        // A front-run key's pre-deposit was processed too, into someone else's validator: it
        // leaves transient ETH and shows as a CL drop that only the front-run charged in chunk 0
        // explains, so it is counted only for the front-runs chunk 0 carries (a withheld one
        // stays transient, as the chain still has its key pre-deposited).
        // An `Invalid` key's deposit is credited below, whether or not its validator is passed.
        let credited = if key.state == KeyState::Invalid {
            U256::ZERO
        } else if deposits_processed {
            key.pool_deposited_wei
        } else {
            key.pool_deposited_wei.min(gwei_to_wei(v.effective_balance.get()))
        };
        if key.state == KeyState::PreDeposited && !ours {
            front_run_credit.insert((op.id, key.index), credited);
        } else {
            processed = add(processed, credited)?;
        }
        if !counted {
            continue;
        }
        a.performed =
            a.performed.checked_add(u64::from(v.duties_performed)).ok_or(()).map_err(ov)?;
        a.expected = a.expected.checked_add(u64::from(v.duties_expected)).ok_or(()).map_err(ov)?;
        if is_exited(v.status) {
            a.exited = a.exited.checked_add(1).ok_or(()).map_err(ov)?;
        }
        if v.slashed {
            let slashed_epoch =
                v.withdrawable_epoch.get().checked_sub(frame.epochs_per_slashings_vector);
            if slashed_epoch.is_some_and(|e| e > last_ref_epoch && e <= ref_epoch) {
                // The initial penalty is the effective balance *at the slashing* / quotient.
                // The state at the reference slot shows it lowered already (the penalty itself
                // and the slashed validator's per-epoch penalties bring it down at each epoch
                // boundary), by how much depends on where in the frame the slashing fell. A pool
                // validator's effective balance at the slashing is its deposit (capped at the
                // maximum) unless it had leaked below it: charge on that, never below what the
                // state still shows. Deterministic, and any excess is the leak, in the pool's
                // favour.
                let deposited = div(key.pool_deposited_wei, U256::from(1_000_000_000u64))?;
                let deposited = u64::try_from(deposited)
                    .unwrap_or(u64::MAX)
                    .min(frame.max_effective_balance.get());
                let penalty = v
                    .effective_balance
                    .get()
                    .max(deposited)
                    .checked_div(frame.min_slashing_penalty_quotient)
                    .ok_or_else(|| {
                        ComputeError::InvalidInput("min slashing penalty quotient is 0".into())
                    })?;
                a.slashing_gwei =
                    a.slashing_gwei.checked_add(u128::from(penalty)).ok_or(()).map_err(ov)?;
            }
        }
        match key.exit_deadline_slot {
            Some(deadline) if v.status == ValidatorStatus::ActiveOngoing => {
                // an exit was requested and has not started: its ETH is still expected
                leaving_gwei =
                    leaving_gwei.checked_add(u128::from(v.balance.get())).ok_or(()).map_err(ov)?;
                if deadline <= frame.ref_slot.get() {
                    a.stuck = a.stuck.checked_add(1).ok_or(()).map_err(ov)?;
                    if deadline > frame.last_ref_slot.get() {
                        a.missed_exits = a.missed_exits.checked_add(1).ok_or(()).map_err(ov)?;
                    }
                }
            }
            Some(_) if exit_started(v.status) => {
                // the operator obeyed (or was slashed, which exits it too): close the request,
                // so the ExitEnforcer no longer accepts the key and the registry stops counting it
                a.exits_started.push(key.index);
            }
            // only keys the pool topped up (the registry refuses an exit request for a key at or
            // past its top-up cursor, which would revert the report): a key activated by someone
            // else's top-up is not a candidate
            None if v.status == ValidatorStatus::ActiveOngoing
                && !v.slashed
                && key.state == KeyState::Deposited
                && key.pool_deposited_wei >= U256::from(ETH_32) =>
            {
                a.exit_candidates.push(key.index);
            }
            _ => {}
        }
    }

    // A key confirmed front-run (`Invalid`) was seen on the CL under foreign credentials when the
    // report that confirmed it was computed: its pre-deposit is processed for good, whether or not
    // the front-runner's validator is in the input (the daemon streams only validators with the
    // pool's credentials and the unconfirmed keys). Counted once per key.
    if let Some(reg) = registry {
        for key in reg.operators.iter().flat_map(|o| &o.keys) {
            if key.state == KeyState::Invalid {
                processed = add(processed, key.pool_deposited_wei)?;
            }
        }
    }

    // ---- counts (SanityChecker.checkValidatorCounts)
    let last = pool.last_counts;
    for (name, now, before) in [
        ("deposited", counts.deposited, last.deposited),
        ("exited", counts.exited, last.exited),
        ("slashed", counts.slashed, last.slashed),
    ] {
        if now < before {
            return Err(sanity("ValidatorCountDecreased", format!("{name} {now}"), before));
        }
    }
    let active_plus_exited = counts.active.checked_add(counts.exited).ok_or(()).map_err(ov)?;
    if active_plus_exited > counts.deposited || counts.slashed > counts.deposited {
        return Err(sanity(
            "ValidatorCountsInconsistent",
            format!("active+exited {active_plus_exited}, slashed {}", counts.slashed),
            counts.deposited,
        ));
    }
    let appeared = counts.deposited.saturating_sub(last.deposited);
    if appeared > pool.limits.max_appeared_validators_per_report {
        return Err(sanity(
            "AppearedValidatorsExceeded",
            appeared,
            pool.limits.max_appeared_validators_per_report,
        ));
    }

    // ---- the operator data that does not depend on the accounting: pre-deposit results,
    // penalties, scores, exited counts. Chunk 0 (front-run runs, then penalties, first) is applied
    // before the pool books the report, so its losses enter the accounting below.
    let mut operators = OperatorsReport { refSlot: u(frame.ref_slot.get()), ..Default::default() };
    operators.rewardsCumulativeShares = input.rewards.cumulative_shares;
    if let Some(reg) = registry {
        operator_lists(reg, &acc, &pre_seen, &mut operators)?;
    }
    let front_runs_found = count_front_runs(&operators.preDeposits);
    let first_part = if with_extra_data {
        // withhold first, then cap: results withheld (and the results queued behind them) must
        // not crowd other operators' confirmations out of the list. Capping only removes
        // entries, so what chunk 0 held stays in it; the second pass recomputes chunk 0.
        withhold_late_front_runs(&mut operators, budget);
        operators.preDeposits.truncate(MAX_LIST_ENTRIES);
        withhold_late_front_runs(&mut operators, budget)
    } else {
        // no extra data is delivered: no front-run is charged
        operators.preDeposits.truncate(MAX_LIST_ENTRIES);
        None
    };
    let front_runs_withheld = front_runs_found.saturating_sub(count_front_runs(
        first_part.as_ref().map_or(&[][..], |p| p.preDeposits.as_slice()),
    ));
    if front_runs_withheld > 0 {
        tracing::info!(
            target: "oracle::report",
            withheld = front_runs_withheld,
            reported = front_runs_found.saturating_sub(front_runs_withheld),
            "front-run pre-deposits beyond chunk 0 wait for a later report"
        );
    }
    let chunk0_front_run_loss = first_part.as_ref().map_or(U256::ZERO, front_run_loss);
    // the pre-deposits of the front-runs this report charges are processed (they left the pool
    // into the front-runners' validators); the others stay transient until they are charged
    for r in first_part.iter().flat_map(|p| &p.preDeposits).filter(|r| !r.valid) {
        let credit = front_run_credit
            .get(&(r.operatorId, r.keyIndex))
            .ok_or(ComputeError::Arithmetic("front-run result without its validator"))?;
        processed = add(processed, *credit)?;
    }

    // ---- accounting (StakePool.handleOracleReport + SanityChecker.checkAccounting)
    let cl_balance = U256::from(cl_gwei)
        .checked_mul(U256::from(1_000_000_000u64))
        .ok_or(ComputeError::Arithmetic("cl balance"))?;
    let prev_processed = pool.cl_deposits_processed;
    let cl_processed = processed.min(pool.deposited_ether).max(prev_processed);
    let transient = sub(pool.deposited_ether, prev_processed)?;
    let pre_total = add(add(pool.buffered_ether, pool.cl_balance)?, transient)?;
    // chunk 0's cover burns happen before the pool books the report (totalPooledEther unchanged)
    let cover_burned = match (registry, &first_part) {
        (Some(reg), Some(part)) => chunk0_cover_burns(reg, part, pre_total, pool.total_shares)?,
        _ => U256::ZERO,
    };
    let pre_cl = add(pool.cl_balance, sub(cl_processed, prev_processed)?)?;
    let time_elapsed = mul(
        u(frame.ref_slot.get().saturating_sub(frame.last_ref_slot.get())),
        u(frame.seconds_per_slot),
    )?;
    let newly_slashed = counts.slashed.saturating_sub(last.slashed);
    let lim = pool.limits;
    let max_rewards = div(mul(pre_total, u(lim.max_positive_rate_change_ppm))?, u(PPM))?;
    // largest CL gain the APR bound accepts: mulDiv(g, Y·BPS, preCl·t) <= maxApr
    let apr_gain = if pre_cl.is_zero() || time_elapsed.is_zero() {
        U256::ZERO
    } else {
        let d = mul(pre_cl, time_elapsed)?;
        let top = sub(mul(add(u(lim.max_cl_apr_bps), u(1))?, d)?, u(1))?;
        div(top, mul(u(SECONDS_PER_YEAR), u(BPS))?)?
    };
    let max_gain = max_rewards.min(apr_gain);
    // withdrawal-vault pull within the smoothing cap (the rest waits for the next report)
    let vault = pool.withdrawal_vault_balance;
    let pull = if cl_balance >= pre_cl {
        vault.min(sat_sub(add(pre_cl, max_gain)?, cl_balance))
    } else {
        vault.min(add(sub(pre_cl, cl_balance)?, max_gain)?)
    };
    let post_cl = add(cl_balance, pull)?;
    let el_available = pool.el_rewards_vault_balance;
    let accounting = AccountingInput {
        pre_total_pooled_ether: pre_total,
        pre_cl_value: pre_cl,
        post_cl_value: post_cl,
        time_elapsed,
        newly_slashed: u(newly_slashed),
        front_run_loss: chunk0_front_run_loss,
        el_rewards_available: el_available,
    };
    let el_pull = check_accounting(&lim, &accounting)?;

    let buffered = add(add(pool.buffered_ether, pull)?, el_pull)?;
    let post_total = add(add(buffered, cl_balance)?, sub(pool.deposited_ether, cl_processed)?)?;
    let mut supply = sub(pool.total_shares, cover_burned)?;
    let mut operator_fee_shares = U256::ZERO;
    let gross = add(post_cl, el_pull)?;
    if gross > pre_cl {
        let rewards = sub(gross, pre_cl)?;
        let f = pool.fees;
        let total_bps = f
            .treasury_bps
            .checked_add(f.operators_bps)
            .and_then(|x| x.checked_add(f.insurance_bps))
            .ok_or(ComputeError::Arithmetic("fee bps"))?;
        if total_bps != 0 {
            let fee_eth = div(mul(rewards, u(total_bps))?, u(BPS))?;
            let fee_shares = mul_div(fee_eth, supply, sub(post_total, fee_eth)?)?;
            let part = |bps: u64| -> Result<U256, ComputeError> {
                div(mul(fee_shares, u(bps))?, u(total_bps))
            };
            let (t, o, i) = (part(f.treasury_bps)?, part(f.operators_bps)?, part(f.insurance_bps)?);
            operator_fee_shares = o;
            supply = add(add(add(supply, t)?, o)?, i)?;
        }
    }
    if supply.is_zero() {
        return Err(ComputeError::InvalidInput("the pool has no shares".into()));
    }
    let share_rate = mul_div(post_total, U256::from(RATE_PRECISION), supply)?;

    // ---- finalization (WithdrawalQueue.finalize with maxEther = buffered)
    let q = &input.queue;
    let end = q.last_finalized_request_id.saturating_add(q.max_finalize_per_report);
    let mut to_lock = U256::ZERO;
    let mut finalized_at_request = U256::ZERO;
    let mut finalize_up_to = 0u64;
    let mut expect_id = q.last_finalized_request_id.saturating_add(1);
    for r in q.requests.iter().take_while(|r| r.id <= end) {
        if r.id != expect_id {
            return Err(ComputeError::InvalidInput(format!(
                "withdrawal request {} where {expect_id} was expected",
                r.id
            )));
        }
        let payout =
            r.ether_at_request.min(mul_div(r.shares, share_rate, U256::from(RATE_PRECISION))?);
        let next = add(to_lock, payout)?;
        if next > buffered {
            break;
        }
        to_lock = next;
        finalized_at_request = add(finalized_at_request, r.ether_at_request)?;
        finalize_up_to = r.id;
        expect_id = expect_id.saturating_add(1);
    }
    let buffered_after = sub(buffered, to_lock)?;
    let demand_after = sat_sub(q.unfinalized_ether, finalized_at_request);

    // ---- the operator data that depends on the accounting: exit requests, rewards
    let mut rewards_tree = None;
    let mut exits_requested = 0u64;
    if let Some(reg) = registry {
        // exits for the queue demand not covered by the buffer and the ETH already leaving
        let leaving = mul(U256::from(leaving_gwei), u(1_000_000_000))?;
        let missing = sat_sub(demand_after, add(buffered_after, leaving)?);
        if !missing.is_zero() {
            let m = div(add(missing, U256::from(ETH_32 - 1))?, U256::from(ETH_32))?;
            let m = u64::try_from(m.min(u(claystack_balancer::MAX_REQUEST))).unwrap_or(0);
            operators.exitRequests = choose_exits(reg, &mut acc, m)?;
            exits_requested = u64::try_from(operators.exitRequests.len()).unwrap_or(u64::MAX);
        }

        // rewards: R = T·F·N/A − P + O (O = 0), VFP share, cumulative leaves. The contract sets
        // the root before this report's fee mint, so T is what OperatorRewards already holds
        // undistributed (earlier frames' fees and dust); this frame's fee goes to the next root.
        let available = sub(input.rewards.shares_received_total, input.rewards.cumulative_shares)
            .map_err(|_| {
            ComputeError::InvalidInput(
                "rewards cumulative shares exceed the shares received".into(),
            )
        })?;
        let (root, cumulative, tree) = distribute(
            reg,
            &acc,
            &operators.penalties,
            &input.rewards,
            available,
            post_total,
            supply,
        )?;
        operators.rewardsRoot = root;
        operators.rewardsCumulativeShares = cumulative;
        rewards_tree = tree;
    }

    let chunks = if with_extra_data && !operators.is_empty() {
        let parts = split_parts(&operators, budget);
        // the accounting assumed chunk 0's front-runs and penalties: they must be the ones sent
        let lists = |p: Option<&OperatorsReport>| {
            p.map(|p| (p.preDeposits.clone(), p.penalties.clone())).unwrap_or_default()
        };
        if lists(parts.first()) != lists(first_part.as_ref()) {
            return Err(ComputeError::Arithmetic("chunk 0 differs from the accounted one"));
        }
        if parts.iter().skip(1).flat_map(|p| &p.preDeposits).any(|r| !r.valid) {
            return Err(ComputeError::Arithmetic("a front-run result outside chunk 0"));
        }
        encode_chain(&parts)
    } else {
        Vec::new()
    };
    let report = Report {
        consensusVersion: u(CONSENSUS_VERSION),
        refSlot: u(frame.ref_slot.get()),
        validatorsDeposited: u(counts.deposited),
        validatorsActive: u(counts.active),
        validatorsExited: u(counts.exited),
        validatorsSlashed: u(counts.slashed),
        clBalance: cl_balance,
        clDepositsProcessed: cl_processed,
        withdrawalVaultPull: pull,
        elRewardsVaultAvailable: el_available,
        finalizeUpToRequestId: u(finalize_up_to),
        finalizationShareRate: share_rate,
        extraDataHash: chunks.first().map_or(B256::ZERO, |c| extra_data_hash(c)),
    };
    Ok(ComputedReport {
        report,
        operators,
        chunks,
        rewards_tree,
        post: PostReport {
            total_pooled_ether: post_total,
            total_shares: supply,
            share_rate,
            el_rewards_pull: el_pull,
            operator_fee_shares,
            ether_to_lock: to_lock,
            exits_requested,
            cover_shares_burned: cover_burned,
            front_runs_withheld,
            accounting,
        },
    })
}

/// Pre-deposit results, scores (only those that change), penalties, exited/stuck counts (those
/// that change, or whose exits are not settled yet) and exits started (pending requests whose
/// validator left) of every operator, from the validators pass.
fn operator_lists(
    reg: &RegistryState,
    acc: &[OperatorAcc],
    pre_seen: &HashMap<(usize, usize), bool>,
    operators: &mut OperatorsReport,
) -> Result<(), ComputeError> {
    // The module confirms each operator's pre-deposits in key order from its cursor: report
    // the contiguous run of pre-deposited keys already visible on the beacon chain.
    let mut pre_deposits: Vec<PreDepositResult> = Vec::new();
    for (oi, op) in reg.operators.iter().enumerate() {
        let pre = op.keys.iter().enumerate().filter(|(_, k)| k.state == KeyState::PreDeposited);
        for (ki, key) in pre {
            let Some(valid) = pre_seen.get(&(oi, ki)) else { break };
            pre_deposits.push(PreDepositResult {
                operatorId: op.id,
                keyIndex: key.index,
                valid: *valid,
            });
        }
    }
    // capped to MAX_LIST_ENTRIES by the caller, after withholding (withheld results take no room)
    operators.preDeposits = pre_deposits;
    let mut settle_only: Vec<OperatorExited> = Vec::new();
    for (op, a) in reg.operators.iter().zip(acc) {
        if a.expected > 0 {
            let score = a
                .performed
                .min(a.expected)
                .checked_mul(BPS)
                .and_then(|x| x.checked_div(a.expected))
                .ok_or(ComputeError::Arithmetic("score"))?;
            let score = u32::try_from(score).map_err(|_| ComputeError::Arithmetic("score"))?;
            // the registry skips an unchanged score (no write, no event): leaving it out only
            // makes the report smaller
            if score != u32::from(op.score) {
                operators.scores.push(OperatorScore { operatorId: op.id, score });
            }
        }
        let slash_wei = mul(U256::from(a.slashing_gwei), u(1_000_000_000))?;
        let missed_wei = mul(reg.missed_exit_penalty_wei, u(a.missed_exits))?;
        for (kind, amount) in
            [(penalty_kind::SLASHING, slash_wei), (penalty_kind::MISSED_EXIT, missed_wei)]
        {
            if !amount.is_zero() {
                let amount_wei = u128::try_from(amount)
                    .map_err(|_| ComputeError::Arithmetic("penalty above 2^128"))?;
                operators.penalties.push(OperatorPenalty {
                    operatorId: op.id,
                    amountWei: amount_wei,
                    kind,
                });
            }
        }
        // An entry when the counts changed, and also while exits the registry recorded are not
        // settled: the module settles (releases their bond) only on an exited entry, so an
        // operator whose counts stopped changing would otherwise keep its last exits' bond
        // locked for good. Such an entry repeats the unchanged counts (no write, one settlement)
        // and can wait: it only takes room the changed counts leave under the cap.
        let entry =
            OperatorExited { operatorId: op.id, exitedTotal: a.exited, stuckTotal: a.stuck };
        if (a.exited, a.stuck) != (op.exited_total, op.stuck_total) {
            operators.exited.push(entry);
        } else if op.exited_total > op.settled_exits {
            settle_only.push(entry);
        }
    }
    let room = MAX_LIST_ENTRIES.saturating_sub(operators.exited.len());
    settle_only.truncate(room);
    operators.exited.append(&mut settle_only);
    operators.exited.sort_unstable_by_key(|e| e.operatorId);
    // requests whose validator left, by (operator, key); a report closes at most the cap, the
    // next one the rest (they stay pending on chain until then)
    let mut started: Vec<ExitRequest> = Vec::new();
    for (op, a) in reg.operators.iter().zip(acc) {
        let mut keys = a.exits_started.clone();
        keys.sort_unstable();
        started.extend(keys.into_iter().map(|k| ExitRequest { operatorId: op.id, keyIndex: k }));
        if started.len() >= MAX_LIST_ENTRIES {
            break;
        }
    }
    started.truncate(MAX_LIST_ENTRIES);
    operators.exitsStarted = started;
    for (list, len) in [
        ("scores", operators.scores.len()),
        ("penalties", operators.penalties.len()),
        ("exited", operators.exited.len()),
    ] {
        if len > MAX_LIST_ENTRIES {
            return Err(ComputeError::ListTooLong { list, len, cap: MAX_LIST_ENTRIES });
        }
    }
    Ok(())
}

fn count_front_runs(list: &[PreDepositResult]) -> u64 {
    u64::try_from(list.iter().filter(|r| !r.valid).count()).unwrap_or(u64::MAX)
}

/// Withholds the front-run results chunk 0 cannot carry and returns chunk 0's part (of the
/// pre-deposit results and penalties, the lists the accounting depends on).
///
/// Only chunk 0 is applied before the pool books the report, so a front-run in a later chunk
/// would leave its CL drop unexplained (docs/adr/0008). A front-run that does not fit chunk 0 is
/// left out of this report with every later result of its operator (the module takes an
/// operator's results contiguously from its first unconfirmed key); the key stays pre-deposited
/// on chain and a later report carries it in its chunk 0. `split_parts` puts the runs holding a
/// front-run first, by operator id, so every member withholds the same results: the front-runs
/// after the first ones in `(operatorId, keyIndex)` order that fill chunk 0.
///
/// Cutting results only moves the remaining entries earlier (a cut run that no longer holds a
/// front-run moves behind the penalties), so what was in chunk 0 stays there; the loop ends once
/// no front-run is left outside chunk 0, after at most one pass per removed result.
fn withhold_late_front_runs(
    operators: &mut OperatorsReport,
    budget: &ChunkBudget,
) -> Option<OperatorsReport> {
    loop {
        let prefix = OperatorsReport {
            refSlot: operators.refSlot,
            preDeposits: operators.preDeposits.clone(),
            penalties: operators.penalties.clone(),
            ..OperatorsReport::default()
        };
        let first = split_parts(&prefix, budget).into_iter().next();
        let in_first: std::collections::HashSet<(u64, u64)> = first
            .iter()
            .flat_map(|p| &p.preDeposits)
            .filter(|r| !r.valid)
            .map(|r| (r.operatorId, r.keyIndex))
            .collect();
        // per operator, its first front-run outside chunk 0 (the list is sorted by key)
        let mut cut: BTreeMap<u64, u64> = BTreeMap::new();
        for r in operators.preDeposits.iter().filter(|r| !r.valid) {
            if !in_first.contains(&(r.operatorId, r.keyIndex)) {
                cut.entry(r.operatorId).or_insert(r.keyIndex);
            }
        }
        if cut.is_empty() {
            return first;
        }
        operators.preDeposits.retain(|r| cut.get(&r.operatorId).is_none_or(|k| r.keyIndex < *k));
    }
}

/// Shares of a loss `amount` at the pre-report rate `rate` (1e27), rounded up, as
/// `BondManager.coverLossAtRate` / `chargeFrontRun(op, rate)`: `⌈amount · 1e27 / rate⌉`.
fn shares_at_rate(amount: U256, rate: U256) -> Result<U256, ComputeError> {
    if rate.is_zero() {
        // coverLossAtRate reverts ZeroAmount for a zero rate
        return Err(ComputeError::InvalidInput("a loss to cover in a pool without ether".into()));
    }
    let num = mul(amount, U256::from(RATE_PRECISION))?;
    let q = div(num, rate)?;
    if q.checked_mul(rate).is_some_and(|p| p == num) { Ok(q) } else { add(q, u(1)) }
}

/// Shares burned by the loss waterfall while chunk 0 (`part`) is applied, before the accounting:
/// per front-run result (`BondManager.chargeFrontRun`, 1 ETH) then per penalty
/// (`coverLossAtRate(op, amount, rate)`), in the module's order. Every loss is converted at the
/// rate before the report, `rate = ⌊T · 1e27 / S⌋` as `StakePool.shareRate()` reads it when the
/// oracle applies chunk 0 (ADR 0008, since 2026-12-06: not at a rate each burn raises), then
/// burned from the operator's bond, its VFP backing and the insurance fund, each up to what it
/// holds.
fn chunk0_cover_burns(
    reg: &RegistryState,
    part: &OperatorsReport,
    total_pooled: U256,
    supply: U256,
) -> Result<U256, ComputeError> {
    let losses = part
        .preDeposits
        .iter()
        .filter(|r| !r.valid)
        .map(|r| (r.operatorId, U256::from(PRE_DEPOSIT_WEI)))
        .chain(part.penalties.iter().map(|p| (p.operatorId, U256::from(p.amountWei))));
    if supply.is_zero() {
        // shareRate() divides by the supply and the report reverts
        return Err(ComputeError::InvalidInput("a loss to cover in a pool without shares".into()));
    }
    let rate = mul_div(total_pooled, U256::from(RATE_PRECISION), supply)?;
    let mut layers: BTreeMap<u64, (U256, U256)> = BTreeMap::new();
    let mut insurance = reg.insurance_fund_shares;
    let mut s = supply;
    let mut burned = U256::ZERO;
    for (id, amount) in losses {
        let op = reg
            .operators
            .binary_search_by_key(&id, |o| o.id)
            .ok()
            .and_then(|i| reg.operators.get(i))
            .ok_or(ComputeError::Arithmetic("loss of an unknown operator"))?;
        let (bond, vfp) = layers.entry(id).or_insert((op.bond_shares, op.vfp_backing_shares));
        let loss = shares_at_rate(amount, rate)?;
        let from_bond = loss.min(*bond);
        *bond = sub(*bond, from_bond)?;
        let rest = sub(loss, from_bond)?;
        let from_vfp = rest.min(*vfp);
        *vfp = sub(*vfp, from_vfp)?;
        let rest = sub(rest, from_vfp)?;
        let from_insurance = rest.min(insurance);
        insurance = sub(insurance, from_insurance)?;
        let now = add(add(from_bond, from_vfp)?, from_insurance)?;
        s = sub(s, now).map_err(|_| ComputeError::InvalidInput("cover above the supply".into()))?;
        burned = add(burned, now)?;
    }
    Ok(burned)
}

fn check_unique_indices(validators: &[BeaconValidator]) -> Result<(), ComputeError> {
    let mut idx: Vec<u64> = validators.iter().map(|v| v.index.get()).collect();
    idx.sort_unstable();
    if let Some(w) = idx.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
        return Err(ComputeError::InvalidInput(format!(
            "validator {} listed twice",
            w.first().copied().unwrap_or_default()
        )));
    }
    Ok(())
}

fn check_registry(reg: &RegistryState) -> Result<(), ComputeError> {
    if reg.operators.windows(2).any(|w| matches!(w, [a, b] if a.id >= b.id)) {
        return Err(ComputeError::InvalidInput(
            "operators not sorted by strictly increasing id".into(),
        ));
    }
    for op in &reg.operators {
        if op.settled_exits > op.exited_total {
            return Err(ComputeError::InvalidInput(format!(
                "operator {} has {} settled exits, above its {} exited",
                op.id, op.settled_exits, op.exited_total
            )));
        }
        if op.keys.windows(2).any(|w| matches!(w, [a, b] if a.index >= b.index)) {
            return Err(ComputeError::InvalidInput(format!(
                "keys of operator {} not sorted by strictly increasing index",
                op.id
            )));
        }
    }
    if u64::from(reg.vfp_share_bps) > BPS || reg.type_factor_bps.iter().any(|f| u64::from(*f) > BPS)
    {
        return Err(ComputeError::InvalidInput("a bps parameter above 10000".into()));
    }
    Ok(())
}

/// The allocator's exit rule (lowest score in the most over-target type) over every operator with
/// candidates (active validators not already asked to exit), then within each chosen operator its
/// lowest key indices among those candidates.
///
/// The rule runs over all candidates, whatever `maxOperatorsPerType` is: that parameter bounds the
/// input the contract accepts (gas), not the rule, and keeping a subset changes the per-type
/// totals that decide which type is furthest above target (ADR 0006).
fn choose_exits(
    reg: &RegistryState,
    acc: &mut [OperatorAcc],
    m: u64,
) -> Result<Vec<ExitRequest>, ComputeError> {
    let data: Vec<OperatorData> = reg
        .operators
        .iter()
        .zip(acc.iter())
        .filter(|(_, a)| !a.exit_candidates.is_empty())
        .map(|(op, a)| OperatorData {
            id: op.id,
            operator_type: op.operator_type,
            is_active: op.is_active,
            active_validators: u64::try_from(a.exit_candidates.len()).unwrap_or(u64::MAX),
            available_keys: 0,
            score: op.score,
        })
        .collect();
    let alloc = select_exits_off_chain(&reg.allocation, &data, m)?;
    let mut out = Vec::new();
    for e in alloc.entries {
        let pos = reg
            .operators
            .binary_search_by_key(&e.operator_id, |o| o.id)
            .map_err(|_| ComputeError::Arithmetic("exit entry for an unknown operator"))?;
        let a = acc.get_mut(pos).ok_or(ComputeError::Arithmetic("exit entry"))?;
        a.exit_candidates.sort_unstable();
        let n = usize::try_from(e.count).unwrap_or(usize::MAX);
        for k in a.exit_candidates.iter().take(n) {
            out.push(ExitRequest { operatorId: e.operator_id, keyIndex: *k });
        }
    }
    out.sort_unstable_by_key(|r| (r.operatorId, r.keyIndex));
    out.truncate(MAX_LIST_ENTRIES);
    Ok(out)
}

type Distribution = (B256, U256, Option<RewardsTree>);

fn distribute(
    reg: &RegistryState,
    acc: &[OperatorAcc],
    penalties: &[OperatorPenalty],
    prev: &crate::types::RewardsState,
    available: U256,
    post_total: U256,
    supply: U256,
) -> Result<Distribution, ComputeError> {
    let unchanged = Ok((B256::ZERO, prev.cumulative_shares, None));
    // F·N per operator and A = Σ F·N
    let weights: Vec<U256> = reg
        .operators
        .iter()
        .zip(acc)
        .map(|(op, a)| {
            let f = reg.type_factor_bps.get(op.operator_type as usize).copied().unwrap_or(0);
            U256::from(f).saturating_mul(U256::from(a.performed))
        })
        .collect();
    let total_weight = weights.iter().try_fold(U256::ZERO, |s, w| add(s, *w))?;
    if available.is_zero() || total_weight.is_zero() || post_total.is_zero() {
        return unchanged;
    }
    let mut penalty_wei: BTreeMap<u64, U256> = BTreeMap::new();
    for p in penalties {
        let e = penalty_wei.entry(p.operatorId).or_default();
        *e = add(*e, U256::from(p.amountWei))?;
    }
    let mut accounts: BTreeMap<Address, U256> = BTreeMap::new();
    for (a, s) in &prev.accounts {
        let e = accounts.entry(*a).or_default();
        *e = add(*e, *s)?;
    }
    let mut distributed = U256::ZERO;
    for (op, w) in reg.operators.iter().zip(&weights) {
        if w.is_zero() {
            continue;
        }
        let share = mul_div(available, *w, total_weight)?;
        // penalties at the post-report rate, rounded up (in favour of the stakers)
        let p = penalty_wei.get(&op.id).copied().unwrap_or_default();
        let p_shares = mul_div_ceil(p, supply, post_total)?;
        let r = sat_sub(share, p_shares);
        if r.is_zero() {
            continue;
        }
        let vfp = if op.vfp_funded {
            div(mul(r, U256::from(reg.vfp_share_bps))?, u(BPS))?
        } else {
            U256::ZERO
        };
        let own = sub(r, vfp)?;
        for (account, amount) in [(reg.vfp_pool, vfp), (op.reward_address, own)] {
            if !amount.is_zero() {
                let e = accounts.entry(account).or_default();
                *e = add(*e, amount)?;
            }
        }
        distributed = add(distributed, r)?;
    }
    if distributed.is_zero() {
        return unchanged;
    }
    let leaves: Vec<(Address, U256)> = accounts.into_iter().filter(|(_, s)| !s.is_zero()).collect();
    let cumulative = leaves.iter().try_fold(U256::ZERO, |s, (_, v)| add(s, *v))?;
    let tree = RewardsTree::build(&leaves)?;
    Ok((tree.root(), cumulative, Some(tree)))
}

/// ETH value in wei of `gwei` (re-exported for callers building inputs).
#[must_use]
pub fn wei(gwei: u64) -> U256 {
    gwei_to_wei(gwei)
}
