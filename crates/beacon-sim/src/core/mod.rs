//! The pure state-transition core: `BeaconState` + inputs (deposits, withdrawal requests, admin
//! operations, slot ticks) → new `BeaconState`. No I/O, no clock, no randomness but seeded draws:
//! the same config, inputs and seed give the same state, byte for byte.
//!
//! The rules follow the consensus specs (phase0 → Deneb) where ClayStack depends on them —
//! first-deposit withdrawal credentials, top-ups, effective-balance hysteresis, activation
//! eligibility gated by finality, activation and exit churn, slashing (initial and correlated
//! penalty), the Capella withdrawal sweep — and replace the attestation machinery by a seeded
//! model: each epoch an active validator "attests" with its performance probability, earns the
//! configured APR when it does and is penalised when it does not.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod deposit;
pub mod rng;

use crate::config::{ChainConfig, ConfigError, SECONDS_PER_YEAR};
use claystack_beacon::{
    BlsPubkey, Checkpoint, Root32, Validator, ValidatorData, ValidatorStatus, execution_address,
};
use claystack_consensus::ssz;
use claystack_consensus::{ArithmeticError, Epoch, Gwei, Slot, ValidatorIndex};
use deposit::{Deposit, WithdrawalRequest};
use rng::Purpose;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// `FAR_FUTURE_EPOCH`.
pub const FAR_FUTURE: Epoch = Epoch(u64::MAX);
/// `VALIDATOR_REGISTRY_LIMIT`.
const VALIDATOR_REGISTRY_LIMIT: usize = 1 << 40;
/// How many recent proposals and withdrawals are kept for the admin API.
const RECENT_LOG: usize = 4096;
/// `MAX_VOLUNTARY_EXITS`: signed exits a block includes at most.
pub const MAX_VOLUNTARY_EXITS: usize = 16;
/// Signed exits the operation pool holds at most (one per validator; the rest is refused).
pub const MAX_EXIT_POOL: usize = 65_536;

/// Why a transition or an admin operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A balance or counter overflowed (a bug or an absurd input; the state is unchanged).
    #[error("arithmetic: {0}")]
    Arithmetic(#[from] ArithmeticError),
    /// A deposit log skipped an index: logs were missed.
    #[error("deposit index gap: expected {expected}, got {got}")]
    DepositGap {
        /// Next index expected.
        expected: u64,
        /// Index received.
        got: u64,
    },
    /// No validator with this index or pubkey.
    #[error("unknown validator {0}")]
    UnknownValidator(String),
    /// An admin operation is not valid for the validator in its current state.
    #[error("cannot {action} validator {index}: {reason}")]
    Rejected {
        /// What was attempted.
        action: &'static str,
        /// The validator.
        index: u64,
        /// Why not.
        reason: String,
    },
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Checks a first deposit's BLS signature. Mainnet ignores a new validator whose deposit signature
/// is invalid (top-ups are not checked). Plug a real BLS verifier in through this trait.
pub trait DepositVerifier: Send + Sync {
    /// Whether the deposit's signature over its `DepositMessage` is valid.
    fn verify(&self, deposit: &Deposit) -> bool;
}

/// Accepts every deposit (used while `verify_deposit_signatures` is off).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAllDeposits;

impl DepositVerifier for AcceptAllDeposits {
    fn verify(&self, _deposit: &Deposit) -> bool {
        true
    }
}

/// A validator record plus the simulator's own knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimValidator {
    /// The consensus record.
    pub record: Validator,
    /// Actual balance.
    pub balance: Gwei,
    /// Probability (ppm) of performing duties; 0 = offline.
    pub performance_ppm: u32,
    /// Where priority fees of its proposals go.
    #[serde(default, with = "crate::config::opt_address")]
    pub fee_recipient: Option<[u8; 20]>,
}

/// A produced block (synthetic roots; no body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Slot.
    pub slot: Slot,
    /// Proposer.
    pub proposer_index: ValidatorIndex,
    /// Block root.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub root: Root32,
    /// Parent root.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub parent_root: Root32,
    /// State root.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub state_root: Root32,
    /// Body root.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub body_root: Root32,
}

/// Why the execution layer is credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CreditReason {
    /// An EIP-4895 withdrawal with this withdrawal index.
    Withdrawal {
        /// Withdrawal index.
        index: u64,
        /// Validator.
        validator_index: ValidatorIndex,
    },
    /// Priority fees of a proposed block.
    PriorityFee {
        /// Proposer.
        validator_index: ValidatorIndex,
    },
}

/// An execution-layer balance increase the adapter must apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElCredit {
    /// Slot of the block that carried it.
    pub slot: Slot,
    /// Credited address.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub address: [u8; 20],
    /// Amount.
    pub amount: Gwei,
    /// Why.
    #[serde(flatten)]
    pub reason: CreditReason,
}

/// A proposal, for the admin API and the oracle's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Slot.
    pub slot: Slot,
    /// Proposer.
    pub proposer_index: ValidatorIndex,
    /// Whether the block was produced (false: missed).
    pub produced: bool,
    /// Fee recipient (None: unknown / not credited).
    #[serde(default, with = "crate::config::opt_address")]
    pub fee_recipient: Option<[u8; 20]>,
    /// Priority fees credited to the fee recipient.
    pub priority_fees: Gwei,
    /// Consensus-layer proposer reward.
    pub cl_reward: Gwei,
}

/// Which validators performed their duties in an ended epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochParticipation {
    /// The epoch.
    pub epoch: Epoch,
    /// One bit per validator index (little-endian bit order within bytes).
    #[serde(with = "claystack_consensus::hexutil::bytes")]
    pub bits: Vec<u8>,
}

impl EpochParticipation {
    /// Whether validator `index` was live in the epoch.
    #[must_use]
    pub fn is_live(&self, index: u64) -> bool {
        let Ok(i) = usize::try_from(index) else { return false };
        self.bits.get(i / 8).is_some_and(|b| b & (1u8 << (i % 8)) != 0)
    }
}

/// Ended epochs of participation the state itself keeps (the node archives what it serves for
/// `liveness_epochs` outside the state, so that a long catch-up does not copy them).
pub const PARTICIPATION_EPOCHS: usize = 64;

/// What one slot did, for logging by the node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotOutcome {
    /// An epoch transition ran before this slot.
    pub epoch_transition: bool,
    /// The block, if one was produced.
    pub block: Option<BlockInfo>,
    /// Deposits included.
    pub deposits: u64,
    /// Withdrawals swept.
    pub withdrawals: u64,
    /// Withdrawal requests ignored, with the reason.
    pub ignored_requests: Vec<String>,
    /// Deposits ignored (invalid signature on a first deposit).
    pub ignored_deposits: Vec<u64>,
    /// Voluntary exits included in the block (validator indices).
    pub exits: Vec<u64>,
    /// Pooled voluntary exits dropped at inclusion, with the reason.
    pub ignored_exits: Vec<String>,
}

/// A signed voluntary exit accepted into the operation pool. The node checked its BLS signature
/// (EIP-7044 domain) before handing it over; the core re-checks the state conditions when a block
/// includes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooledExit {
    /// `VoluntaryExit.epoch`: the earliest epoch it is valid at.
    pub epoch: Epoch,
    /// `VoluntaryExit.validator_index`.
    pub validator_index: ValidatorIndex,
}

/// What the pool did with a submitted voluntary exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitAcceptance {
    /// Added; a coming block includes it.
    Accepted,
    /// An exit of this validator is already waiting in the pool (the Beacon API answers 200).
    AlreadyKnown,
}

/// An admin operation on the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum AdminOp {
    /// Sets a validator's performance (0 = offline, 1000000 = perfect).
    SetPerformance {
        /// Validator.
        index: u64,
        /// Parts per million.
        ppm: u32,
    },
    /// Sets a validator's fee recipient.
    SetFeeRecipient {
        /// Validator.
        index: u64,
        /// Address (None: priority fees recorded only).
        #[serde(default, with = "crate::config::opt_address")]
        address: Option<[u8; 20]>,
    },
    /// Slashes a validator (proposer/attester slashing included in the current head).
    Slash {
        /// Validator.
        index: u64,
    },
    /// Processes a signed voluntary exit of a validator.
    VoluntaryExit {
        /// Validator.
        index: u64,
    },
    /// Stops (true) or resumes (false) justification and finalization.
    HaltFinality {
        /// Halted?
        halted: bool,
    },
}

/// The simulated beacon state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconState {
    /// Current slot.
    pub slot: Slot,
    /// Root of the genesis registry.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub genesis_validators_root: Root32,
    /// The registry.
    pub validators: Vec<SimValidator>,
    /// Deposits seen on the execution layer, not yet included in a block.
    pub deposit_queue: VecDeque<Deposit>,
    /// Deposits included so far (`eth1_deposit_index`).
    pub deposits_processed: u64,
    /// EIP-7002 requests seen, not yet included.
    pub withdrawal_requests: VecDeque<WithdrawalRequest>,
    /// Previous justified checkpoint.
    pub previous_justified: Checkpoint,
    /// Current justified checkpoint.
    pub current_justified: Checkpoint,
    /// Finalized checkpoint.
    pub finalized: Checkpoint,
    /// Whether justification is halted by the admin API.
    pub finality_halted: bool,
    /// Latest produced block.
    pub latest_block: BlockInfo,
    /// Recent produced blocks, oldest first.
    pub recent_blocks: VecDeque<BlockInfo>,
    /// Effective balance slashed per epoch (ring of `epochs_per_slashings_vector`).
    pub slashings: Vec<Gwei>,
    /// Next withdrawal index.
    pub next_withdrawal_index: u64,
    /// Where the withdrawal sweep resumes.
    pub next_withdrawal_validator_index: u64,
    /// Execution-layer credits not yet applied by the adapter.
    pub el_outbox: Vec<ElCredit>,
    /// Recent withdrawals, oldest first.
    pub recent_withdrawals: VecDeque<ElCredit>,
    /// Recent proposals, oldest first.
    pub recent_proposals: VecDeque<Proposal>,
    /// Who attested in each recent ended epoch (for `/eth/v1/validator/liveness`), oldest first.
    #[serde(default)]
    pub participation: VecDeque<EpochParticipation>,
    /// Signed voluntary exits waiting for a block, oldest first.
    #[serde(default)]
    pub voluntary_exit_pool: VecDeque<PooledExit>,
    /// Proposer reward per block in the current epoch.
    pub proposer_reward: Gwei,
    /// Priority fees per block in the current epoch.
    pub priority_fee: Gwei,
    #[serde(skip)]
    index: HashMap<BlsPubkey, usize>,
}

fn to_usize(i: u64) -> Result<usize, SimError> {
    usize::try_from(i).map_err(|_| SimError::UnknownValidator(i.to_string()))
}

fn to_u64(i: usize) -> u64 {
    u64::try_from(i).unwrap_or(u64::MAX)
}

fn mul_div(a: u64, b: u64, c: u64) -> Result<u64, ArithmeticError> {
    let err = ArithmeticError { op: "mul_div", unit: "gwei" };
    let n = u128::from(a).checked_mul(u128::from(b)).ok_or(err)?;
    let q = n.checked_div(u128::from(c)).ok_or(err)?;
    u64::try_from(q).map_err(|_| err)
}

/// The synthetic public key of genesis filler validator `i`.
#[must_use]
pub fn filler_pubkey(seed: u64, i: u64) -> BlsPubkey {
    let a = rng::root(seed, b"pubkey", i, 0);
    let b = rng::root(seed, b"pubkey", i, 1);
    let mut pk = [0u8; 48];
    for (dst, src) in pk.iter_mut().zip(a.iter().chain(b.iter())) {
        *dst = *src;
    }
    // Compressed-point flag, so the key looks like a BLS key.
    if let Some(first) = pk.first_mut() {
        *first = 0x80 | (*first & 0x1f);
    }
    pk
}

/// SSZ `hash_tree_root` of a validator record.
#[must_use]
pub fn validator_root(v: &Validator) -> Root32 {
    let u = |x: u64| {
        let mut c = [0u8; 32];
        for (dst, src) in c.iter_mut().zip(x.to_le_bytes()) {
            *dst = src;
        }
        c
    };
    ssz::container_root(&[
        ssz::bytes_root(&v.pubkey),
        v.withdrawal_credentials,
        u(v.effective_balance.get()),
        u(u64::from(v.slashed)),
        u(v.activation_eligibility_epoch.get()),
        u(v.activation_epoch.get()),
        u(v.exit_epoch.get()),
        u(v.withdrawable_epoch.get()),
    ])
}

/// The Beacon API status of a record at `epoch`.
#[must_use]
pub fn status_at(v: &Validator, balance: Gwei, epoch: Epoch) -> ValidatorStatus {
    if v.activation_epoch > epoch {
        if v.activation_eligibility_epoch == FAR_FUTURE {
            ValidatorStatus::PendingInitialized
        } else {
            ValidatorStatus::PendingQueued
        }
    } else if epoch < v.exit_epoch {
        if v.exit_epoch == FAR_FUTURE {
            ValidatorStatus::ActiveOngoing
        } else if v.slashed {
            ValidatorStatus::ActiveSlashed
        } else {
            ValidatorStatus::ActiveExiting
        }
    } else if epoch < v.withdrawable_epoch {
        if v.slashed { ValidatorStatus::ExitedSlashed } else { ValidatorStatus::ExitedUnslashed }
    } else if balance.get() != 0 {
        ValidatorStatus::WithdrawalPossible
    } else {
        ValidatorStatus::WithdrawalDone
    }
}

fn is_active(v: &Validator, epoch: Epoch) -> bool {
    v.activation_epoch <= epoch && epoch < v.exit_epoch
}

impl BeaconState {
    /// The genesis state: `genesis_validators` filler validators, active from epoch 0.
    pub fn genesis(cfg: &ChainConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        let mut validators = Vec::new();
        for i in 0..cfg.genesis_validators {
            let pubkey = filler_pubkey(cfg.seed, i);
            let mut wc = ssz::sha256(&pubkey);
            if let Some(first) = wc.first_mut() {
                *first = 0x00;
            }
            validators.push(SimValidator {
                record: Validator {
                    pubkey,
                    withdrawal_credentials: wc,
                    effective_balance: cfg.max_effective_balance,
                    slashed: false,
                    activation_eligibility_epoch: Epoch(0),
                    activation_epoch: Epoch(0),
                    exit_epoch: FAR_FUTURE,
                    withdrawable_epoch: FAR_FUTURE,
                },
                balance: cfg.max_effective_balance,
                performance_ppm: initial_performance(cfg, i),
                fee_recipient: None,
            });
        }
        let roots: Vec<Root32> = validators.iter().map(|v| validator_root(&v.record)).collect();
        let genesis_validators_root = ssz::list_root(&roots, VALIDATOR_REGISTRY_LIMIT)
            .map_err(|e| ConfigError(format!("genesis registry: {e}")))?;
        let genesis_block = BlockInfo {
            slot: Slot(0),
            proposer_index: ValidatorIndex(0),
            root: rng::root(cfg.seed, b"block", 0, 0),
            parent_root: [0; 32],
            state_root: rng::root(cfg.seed, b"state", 0, 0),
            body_root: rng::root(cfg.seed, b"body", 0, 0),
        };
        let genesis_cp = Checkpoint { epoch: Epoch(0), root: genesis_block.root };
        let mut state = Self {
            slot: Slot(0),
            genesis_validators_root,
            validators,
            deposit_queue: VecDeque::new(),
            deposits_processed: 0,
            withdrawal_requests: VecDeque::new(),
            previous_justified: genesis_cp,
            current_justified: genesis_cp,
            finalized: genesis_cp,
            finality_halted: false,
            latest_block: genesis_block,
            recent_blocks: VecDeque::from([genesis_block]),
            slashings: vec![Gwei::ZERO; to_usize(cfg.epochs_per_slashings_vector)?],
            next_withdrawal_index: 0,
            next_withdrawal_validator_index: 0,
            el_outbox: Vec::new(),
            recent_withdrawals: VecDeque::new(),
            recent_proposals: VecDeque::new(),
            participation: VecDeque::new(),
            voluntary_exit_pool: VecDeque::new(),
            proposer_reward: Gwei::ZERO,
            priority_fee: Gwei::ZERO,
            index: HashMap::new(),
        };
        state.rebuild_index();
        state.update_block_rewards(cfg)?;
        Ok(state)
    }

    /// Rebuilds the pubkey index (after deserializing a snapshot).
    pub fn rebuild_index(&mut self) {
        self.index =
            self.validators.iter().enumerate().map(|(i, v)| (v.record.pubkey, i)).collect();
    }

    /// Checks a deserialized state against the config it will run with.
    pub fn check_consistency(&self, cfg: &ChainConfig) -> Result<(), SimError> {
        if to_u64(self.slashings.len()) != cfg.epochs_per_slashings_vector {
            return Err(ConfigError(format!(
                "state has a slashings vector of {} epochs, config says {}",
                self.slashings.len(),
                cfg.epochs_per_slashings_vector
            ))
            .into());
        }
        if self.index.len() != self.validators.len() {
            return Err(ConfigError("state has duplicate validator pubkeys".into()).into());
        }
        Ok(())
    }

    /// The current epoch.
    pub fn current_epoch(&self, cfg: &ChainConfig) -> Result<Epoch, SimError> {
        Ok(self.slot.epoch(cfg.slots_per_epoch)?)
    }

    /// Index of the validator with this pubkey.
    #[must_use]
    pub fn index_of(&self, pubkey: &BlsPubkey) -> Option<u64> {
        self.index.get(pubkey).map(|i| to_u64(*i))
    }

    /// The validator at `index`.
    pub fn validator(&self, index: u64) -> Result<&SimValidator, SimError> {
        self.validators
            .get(to_usize(index)?)
            .ok_or_else(|| SimError::UnknownValidator(index.to_string()))
    }

    fn validator_mut(&mut self, index: u64) -> Result<&mut SimValidator, SimError> {
        self.validators
            .get_mut(to_usize(index)?)
            .ok_or_else(|| SimError::UnknownValidator(index.to_string()))
    }

    /// The Beacon API view of validator `index` at the current epoch.
    pub fn validator_data(&self, cfg: &ChainConfig, index: u64) -> Result<ValidatorData, SimError> {
        let epoch = self.current_epoch(cfg)?;
        let v = self.validator(index)?;
        Ok(ValidatorData {
            index: ValidatorIndex(index),
            balance: v.balance,
            status: status_at(&v.record, v.balance, epoch),
            validator: v.record.clone(),
        })
    }

    /// Queues a deposit seen in the execution layer's logs. Returns `false` for an index already
    /// known (logs re-read after a restart), an error for a gap.
    pub fn enqueue_deposit(&mut self, d: Deposit) -> Result<bool, SimError> {
        let expected = self
            .deposits_processed
            .checked_add(to_u64(self.deposit_queue.len()))
            .ok_or(ArithmeticError { op: "add", unit: "deposit index" })?;
        if d.index < expected {
            return Ok(false);
        }
        if d.index > expected {
            return Err(SimError::DepositGap { expected, got: d.index });
        }
        self.deposit_queue.push_back(d);
        Ok(true)
    }

    /// Queues an EIP-7002 withdrawal request seen on the execution layer.
    pub fn enqueue_withdrawal_request(&mut self, r: WithdrawalRequest) {
        self.withdrawal_requests.push_back(r);
    }

    /// Takes the execution-layer credits produced so far (the adapter applies them).
    pub fn take_el_credits(&mut self) -> Vec<ElCredit> {
        std::mem::take(&mut self.el_outbox)
    }

    /// Puts credits that could not be applied back at the front of the outbox.
    pub fn return_el_credits(&mut self, mut credits: Vec<ElCredit>) {
        credits.append(&mut self.el_outbox);
        self.el_outbox = credits;
    }

    /// Advances one slot: the epoch transition when an epoch ends, then the block of the new
    /// slot if its proposer shows up.
    pub fn process_slot(
        &mut self,
        cfg: &ChainConfig,
        verifier: &dyn DepositVerifier,
    ) -> Result<SlotOutcome, SimError> {
        // Work on a copy so a failing transition leaves the state untouched.
        let mut next = self.clone();
        let outcome = next.process_slot_in_place(cfg, verifier)?;
        *self = next;
        Ok(outcome)
    }

    /// [`Self::process_slot`] without the copy: on an error the state may be partly updated, so
    /// the caller must work on a clone it discards then (the node clones once per batch of
    /// slots, which keeps a day of one-second slots fast).
    pub fn process_slot_unchecked(
        &mut self,
        cfg: &ChainConfig,
        verifier: &dyn DepositVerifier,
    ) -> Result<SlotOutcome, SimError> {
        self.process_slot_in_place(cfg, verifier)
    }

    fn process_slot_in_place(
        &mut self,
        cfg: &ChainConfig,
        verifier: &dyn DepositVerifier,
    ) -> Result<SlotOutcome, SimError> {
        let mut outcome = SlotOutcome::default();
        let next = Slot(
            self.slot.get().checked_add(1).ok_or(ArithmeticError { op: "add", unit: "slot" })?,
        );
        if next.get().checked_rem(cfg.slots_per_epoch) == Some(0) {
            self.process_epoch(cfg)?;
            outcome.epoch_transition = true;
        }
        self.slot = next;
        let Some(proposer) = self.select_proposer(cfg)? else {
            return Ok(outcome);
        };
        let perf = self.validator(proposer)?.performance_ppm;
        let shows_up = rng::draw_ppm(cfg.seed, Purpose::Propose, next.get(), 0) < perf;
        if !shows_up {
            self.log_proposal(Proposal {
                slot: next,
                proposer_index: ValidatorIndex(proposer),
                produced: false,
                fee_recipient: None,
                priority_fees: Gwei::ZERO,
                cl_reward: Gwei::ZERO,
            });
            return Ok(outcome);
        }
        self.process_block(cfg, proposer, verifier, &mut outcome)?;
        Ok(outcome)
    }

    fn select_proposer(&self, cfg: &ChainConfig) -> Result<Option<u64>, SimError> {
        let epoch = self.current_epoch(cfg)?;
        let active: Vec<usize> = self
            .validators
            .iter()
            .enumerate()
            .filter(|(_, v)| is_active(&v.record, epoch) && !v.record.slashed)
            .map(|(i, _)| i)
            .collect();
        let n = to_u64(active.len());
        let Some(pick) = rng::draw(cfg.seed, Purpose::Proposer, self.slot.get(), 0).checked_rem(n)
        else {
            return Ok(None);
        };
        Ok(active.get(to_usize(pick)?).map(|i| to_u64(*i)))
    }

    fn log_proposal(&mut self, p: Proposal) {
        self.recent_proposals.push_back(p);
        while self.recent_proposals.len() > RECENT_LOG {
            self.recent_proposals.pop_front();
        }
    }

    fn process_block(
        &mut self,
        cfg: &ChainConfig,
        proposer: u64,
        verifier: &dyn DepositVerifier,
        outcome: &mut SlotOutcome,
    ) -> Result<(), SimError> {
        outcome.withdrawals = self.process_withdrawals(cfg)?;
        let mut included = 0u64;
        while included < cfg.max_deposits_per_block {
            let Some(d) = self.deposit_queue.pop_front() else { break };
            if !self.apply_deposit(cfg, &d, verifier)? {
                outcome.ignored_deposits.push(d.index);
            }
            included = included.saturating_add(1);
        }
        outcome.deposits = included;
        let requests: Vec<WithdrawalRequest> =
            self.withdrawal_requests.drain(..self.withdrawal_requests.len().min(16)).collect();
        for r in requests {
            if let Err(reason) = self.process_withdrawal_request(cfg, &r)? {
                outcome.ignored_requests.push(reason);
            }
        }
        let take = self.voluntary_exit_pool.len().min(MAX_VOLUNTARY_EXITS);
        let exits: Vec<PooledExit> = self.voluntary_exit_pool.drain(..take).collect();
        for e in exits {
            let index = e.validator_index.get();
            match self.check_voluntary_exit(cfg, e.epoch, index) {
                Ok(()) => {
                    self.initiate_exit(cfg, index)?;
                    outcome.exits.push(index);
                }
                Err(SimError::Rejected { reason, .. }) => {
                    outcome.ignored_exits.push(format!("validator {index}: {reason}"));
                }
                Err(e) => return Err(e),
            }
        }
        // Proposer reward and priority fees.
        let reward = self.proposer_reward;
        let fee = self.priority_fee;
        let v = self.validator_mut(proposer)?;
        v.balance = v.balance.checked_add(reward)?;
        let fee_recipient = v.fee_recipient;
        let slot = self.slot;
        if let Some(address) = fee_recipient
            && fee.get() > 0
        {
            self.el_outbox.push(ElCredit {
                slot,
                address,
                amount: fee,
                reason: CreditReason::PriorityFee { validator_index: ValidatorIndex(proposer) },
            });
        }
        self.log_proposal(Proposal {
            slot,
            proposer_index: ValidatorIndex(proposer),
            produced: true,
            fee_recipient,
            priority_fees: if fee_recipient.is_some() { fee } else { Gwei::ZERO },
            cl_reward: reward,
        });
        let parent_root = self.latest_block.root;
        let parent_word = u64::from_le_bytes(
            parent_root.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()).unwrap_or_default(),
        );
        let block = BlockInfo {
            slot,
            proposer_index: ValidatorIndex(proposer),
            root: rng::root(cfg.seed, b"block", slot.get(), parent_word),
            parent_root,
            state_root: rng::root(cfg.seed, b"state", slot.get(), self.deposits_processed),
            body_root: rng::root(cfg.seed, b"body", slot.get(), self.next_withdrawal_index),
        };
        self.latest_block = block;
        self.recent_blocks.push_back(block);
        let keep = to_usize(cfg.history_slots.max(cfg.slots_per_epoch.saturating_mul(4)))?;
        while self.recent_blocks.len() > keep {
            self.recent_blocks.pop_front();
        }
        outcome.block = Some(block);
        Ok(())
    }

    /// Applies one deposit; `false` if it was ignored (invalid signature on a first deposit).
    fn apply_deposit(
        &mut self,
        cfg: &ChainConfig,
        d: &Deposit,
        verifier: &dyn DepositVerifier,
    ) -> Result<bool, SimError> {
        self.deposits_processed = self
            .deposits_processed
            .checked_add(1)
            .ok_or(ArithmeticError { op: "add", unit: "deposit index" })?;
        if let Some(&i) = self.index.get(&d.pubkey) {
            // Top-up: credentials of the first deposit stay, whatever this one says.
            let v = self.validator_mut(to_u64(i))?;
            v.balance = v.balance.checked_add(d.amount)?;
            return Ok(true);
        }
        if cfg.verify_deposit_signatures && !verifier.verify(d) {
            return Ok(false);
        }
        let inc = cfg.effective_balance_increment.get();
        let eb = d.amount.saturating_sub(Gwei(d.amount.get().checked_rem(inc).unwrap_or(0)));
        let index = self.validators.len();
        self.validators.push(SimValidator {
            record: Validator {
                pubkey: d.pubkey,
                withdrawal_credentials: d.withdrawal_credentials,
                effective_balance: eb.min(cfg.max_effective_balance),
                slashed: false,
                activation_eligibility_epoch: FAR_FUTURE,
                activation_epoch: FAR_FUTURE,
                exit_epoch: FAR_FUTURE,
                withdrawable_epoch: FAR_FUTURE,
            },
            balance: d.amount,
            performance_ppm: initial_performance(cfg, to_u64(index)),
            fee_recipient: cfg.default_fee_recipient,
        });
        self.index.insert(d.pubkey, index);
        Ok(true)
    }

    /// EIP-7002: `Ok(Ok(()))` applied, `Ok(Err(reason))` ignored as the spec ignores it.
    fn process_withdrawal_request(
        &mut self,
        cfg: &ChainConfig,
        r: &WithdrawalRequest,
    ) -> Result<Result<(), String>, SimError> {
        let Some(index) = self.index_of(&r.validator_pubkey) else {
            return Ok(Err("unknown pubkey".into()));
        };
        let v = self.validator(index)?;
        if execution_address(&v.record.withdrawal_credentials) != Some(r.source_address) {
            return Ok(Err(format!(
                "validator {index}: source address is not the withdrawal address"
            )));
        }
        if r.amount.get() != 0 {
            return Ok(Err(format!(
                "validator {index}: partial withdrawal requests need 0x02 compounding credentials, \
                 which the simulator does not model"
            )));
        }
        match self.check_exit(cfg, index) {
            Ok(()) => {
                self.initiate_exit(cfg, index)?;
                Ok(Ok(()))
            }
            Err(SimError::Rejected { reason, .. }) => {
                Ok(Err(format!("validator {index}: {reason}")))
            }
            Err(e) => Err(e),
        }
    }

    /// The state conditions of `process_voluntary_exit` for an exit of `index` signed for
    /// `epoch`: known, active, not already exiting, active for `SHARD_COMMITTEE_PERIOD` epochs,
    /// and `epoch` not in the future. The signature is the caller's part.
    pub fn check_voluntary_exit(
        &self,
        cfg: &ChainConfig,
        epoch: Epoch,
        index: u64,
    ) -> Result<(), SimError> {
        let current = self.current_epoch(cfg)?;
        self.validator(index)?;
        if epoch > current {
            return Err(SimError::Rejected {
                action: "exit",
                index,
                reason: format!("exit epoch {epoch} is in the future (current epoch {current})"),
            });
        }
        self.check_exit(cfg, index)
    }

    /// Adds a voluntary exit whose signature the node verified to the operation pool, after
    /// [`Self::check_voluntary_exit`]. A second exit of a validator already in the pool is
    /// `AlreadyKnown` (not an error, as on a real node).
    pub fn pool_voluntary_exit(
        &mut self,
        cfg: &ChainConfig,
        exit: PooledExit,
    ) -> Result<ExitAcceptance, SimError> {
        let index = exit.validator_index.get();
        if self.voluntary_exit_pool.iter().any(|e| e.validator_index == exit.validator_index) {
            return Ok(ExitAcceptance::AlreadyKnown);
        }
        self.check_voluntary_exit(cfg, exit.epoch, index)?;
        if self.voluntary_exit_pool.len() >= MAX_EXIT_POOL {
            return Err(SimError::Rejected {
                action: "exit",
                index,
                reason: "the voluntary exit pool is full".into(),
            });
        }
        self.voluntary_exit_pool.push_back(exit);
        Ok(ExitAcceptance::Accepted)
    }

    fn check_exit(&self, cfg: &ChainConfig, index: u64) -> Result<(), SimError> {
        let epoch = self.current_epoch(cfg)?;
        let v = &self.validator(index)?.record;
        let reject =
            |reason: &str| SimError::Rejected { action: "exit", index, reason: reason.into() };
        if !is_active(v, epoch) {
            return Err(reject("not active"));
        }
        if v.exit_epoch != FAR_FUTURE {
            return Err(reject("already exiting"));
        }
        let eligible = v.activation_epoch.get().saturating_add(cfg.shard_committee_period);
        if epoch.get() < eligible {
            return Err(reject(&format!(
                "active too recently (exits allowed from epoch {eligible})"
            )));
        }
        Ok(())
    }

    fn churn_limit(&self, cfg: &ChainConfig, epoch: Epoch) -> u64 {
        let active = to_u64(self.validators.iter().filter(|v| is_active(&v.record, epoch)).count());
        cfg.min_per_epoch_churn_limit.max(active.checked_div(cfg.churn_limit_quotient).unwrap_or(0))
    }

    fn activation_exit_epoch(cfg: &ChainConfig, epoch: Epoch) -> Result<Epoch, SimError> {
        let e = epoch
            .get()
            .checked_add(1)
            .and_then(|e| e.checked_add(cfg.max_seed_lookahead))
            .ok_or(ArithmeticError { op: "add", unit: "epoch" })?;
        Ok(Epoch(e))
    }

    /// `initiate_validator_exit`: the exit queue with churn.
    fn initiate_exit(&mut self, cfg: &ChainConfig, index: u64) -> Result<(), SimError> {
        if self.validator(index)?.record.exit_epoch != FAR_FUTURE {
            return Ok(());
        }
        let epoch = self.current_epoch(cfg)?;
        let mut queue_epoch = Self::activation_exit_epoch(cfg, epoch)?;
        for v in &self.validators {
            if v.record.exit_epoch != FAR_FUTURE && v.record.exit_epoch > queue_epoch {
                queue_epoch = v.record.exit_epoch;
            }
        }
        let churn =
            to_u64(self.validators.iter().filter(|v| v.record.exit_epoch == queue_epoch).count());
        if churn >= self.churn_limit(cfg, epoch) {
            queue_epoch = queue_epoch.checked_add(Epoch(1))?;
        }
        let withdrawable =
            queue_epoch.checked_add(Epoch(cfg.min_validator_withdrawability_delay))?;
        let v = self.validator_mut(index)?;
        v.record.exit_epoch = queue_epoch;
        v.record.withdrawable_epoch = withdrawable;
        Ok(())
    }

    /// Applies an admin operation at the current slot.
    pub fn apply_admin(&mut self, cfg: &ChainConfig, op: &AdminOp) -> Result<(), SimError> {
        let mut next = self.clone();
        next.apply_admin_in_place(cfg, op)?;
        *self = next;
        Ok(())
    }

    fn apply_admin_in_place(&mut self, cfg: &ChainConfig, op: &AdminOp) -> Result<(), SimError> {
        match *op {
            AdminOp::SetPerformance { index, ppm } => {
                if ppm > 1_000_000 {
                    return Err(SimError::Rejected {
                        action: "set performance of",
                        index,
                        reason: format!("{ppm} ppm is above 1000000"),
                    });
                }
                self.validator_mut(index)?.performance_ppm = ppm;
            }
            AdminOp::SetFeeRecipient { index, address } => {
                self.validator_mut(index)?.fee_recipient = address;
            }
            AdminOp::HaltFinality { halted } => self.finality_halted = halted,
            AdminOp::VoluntaryExit { index } => {
                self.check_exit(cfg, index)?;
                self.initiate_exit(cfg, index)?;
            }
            AdminOp::Slash { index } => self.slash(cfg, index)?,
        }
        Ok(())
    }

    /// `slash_validator` (Bellatrix quotients), whistleblower = proposer of the head block.
    fn slash(&mut self, cfg: &ChainConfig, index: u64) -> Result<(), SimError> {
        let epoch = self.current_epoch(cfg)?;
        {
            let v = &self.validator(index)?.record;
            if v.slashed || v.activation_epoch > epoch || epoch >= v.withdrawable_epoch {
                return Err(SimError::Rejected {
                    action: "slash",
                    index,
                    reason: "not slashable (already slashed, not yet active or withdrawable)"
                        .into(),
                });
            }
        }
        self.initiate_exit(cfg, index)?;
        let vector_end = epoch.checked_add(Epoch(cfg.epochs_per_slashings_vector))?;
        let slot_in_vector =
            to_usize(epoch.get().checked_rem(cfg.epochs_per_slashings_vector).unwrap_or(0))?;
        let v = self.validator_mut(index)?;
        v.record.slashed = true;
        v.record.withdrawable_epoch = v.record.withdrawable_epoch.max(vector_end);
        let eb = v.record.effective_balance;
        v.balance = v.balance.saturating_sub(eb.checked_div(cfg.min_slashing_penalty_quotient)?);
        if let Some(s) = self.slashings.get_mut(slot_in_vector) {
            *s = s.checked_add(eb)?;
        }
        let whistleblower = eb.checked_div(cfg.whistleblower_reward_quotient)?;
        let proposer = self.latest_block.proposer_index.get();
        let p = self.validator_mut(proposer)?;
        p.balance = p.balance.checked_add(whistleblower)?;
        Ok(())
    }

    /// Capella `process_withdrawals`: the sweep from `next_withdrawal_validator_index`.
    fn process_withdrawals(&mut self, cfg: &ChainConfig) -> Result<u64, SimError> {
        let n = self.validators.len();
        if n == 0 {
            return Ok(0);
        }
        let epoch = self.current_epoch(cfg)?;
        let bound = n.min(to_usize(cfg.max_validators_per_withdrawals_sweep)?);
        let max = to_usize(cfg.max_withdrawals_per_payload)?;
        let mut vi = to_usize(self.next_withdrawal_validator_index)?.checked_rem(n).unwrap_or(0);
        let mut found: Vec<(usize, [u8; 20], Gwei)> = Vec::new();
        for _ in 0..bound {
            let v = self
                .validators
                .get(vi)
                .ok_or_else(|| SimError::UnknownValidator(vi.to_string()))?;
            if let Some(addr) = execution_address(&v.record.withdrawal_credentials) {
                if v.record.withdrawable_epoch <= epoch && v.balance.get() > 0 {
                    found.push((vi, addr, v.balance));
                } else if v.record.effective_balance == cfg.max_effective_balance
                    && v.balance > cfg.max_effective_balance
                {
                    found.push((vi, addr, v.balance.checked_sub(cfg.max_effective_balance)?));
                }
            }
            if found.len() == max {
                break;
            }
            vi = vi.checked_add(1).and_then(|x| x.checked_rem(n)).unwrap_or(0);
        }
        let count = found.len();
        for (i, address, amount) in &found {
            let v = self
                .validators
                .get_mut(*i)
                .ok_or_else(|| SimError::UnknownValidator(i.to_string()))?;
            v.balance = v.balance.saturating_sub(*amount);
            let credit = ElCredit {
                slot: self.slot,
                address: *address,
                amount: *amount,
                reason: CreditReason::Withdrawal {
                    index: self.next_withdrawal_index,
                    validator_index: ValidatorIndex(to_u64(*i)),
                },
            };
            self.el_outbox.push(credit);
            self.recent_withdrawals.push_back(credit);
            while self.recent_withdrawals.len() > RECENT_LOG {
                self.recent_withdrawals.pop_front();
            }
            self.next_withdrawal_index = self
                .next_withdrawal_index
                .checked_add(1)
                .ok_or(ArithmeticError { op: "add", unit: "withdrawal index" })?;
        }
        let next = match found.last() {
            Some((last, _, _)) if count == max => last.checked_add(1),
            _ => to_usize(self.next_withdrawal_validator_index)?.checked_add(bound),
        };
        self.next_withdrawal_validator_index =
            to_u64(next.and_then(|x| x.checked_rem(n)).unwrap_or(0));
        Ok(to_u64(count))
    }

    /// Per-validator base reward for one epoch at the configured APR (what the epoch transition
    /// weighs: 54/64 of it for a participant, 40/64 of it as the penalty of a miss).
    pub fn base_reward(cfg: &ChainConfig, eb: Gwei) -> Result<u64, SimError> {
        let per_year = mul_div(eb.get(), cfg.apr_bps, 10_000)?;
        Ok(mul_div(per_year, cfg.seconds_per_epoch(), SECONDS_PER_YEAR)?)
    }

    fn update_block_rewards(&mut self, cfg: &ChainConfig) -> Result<(), SimError> {
        let epoch = self.current_epoch(cfg)?;
        let mut total = Gwei::ZERO;
        for v in &self.validators {
            if is_active(&v.record, epoch) {
                total = total.checked_add(v.record.effective_balance)?;
            }
        }
        // Proposers earn 8/64 of all rewards (PROPOSER_WEIGHT), spread over the epoch's slots.
        let epoch_rewards = Self::base_reward(cfg, total)?;
        self.proposer_reward =
            Gwei(mul_div(epoch_rewards, 8, 64)?.checked_div(cfg.slots_per_epoch).unwrap_or(0));
        let fees_per_year = mul_div(total.get(), cfg.el_apr_bps, 10_000)?;
        let fees_per_epoch = mul_div(fees_per_year, cfg.seconds_per_epoch(), SECONDS_PER_YEAR)?;
        self.priority_fee = Gwei(fees_per_epoch.checked_div(cfg.slots_per_epoch).unwrap_or(0));
        Ok(())
    }

    /// Root of the block at the start of `epoch` (the latest block at or before its first slot).
    fn checkpoint_root(&self, cfg: &ChainConfig, epoch: Epoch) -> Result<Root32, SimError> {
        let start = epoch.start_slot(cfg.slots_per_epoch)?;
        Ok(self
            .recent_blocks
            .iter()
            .rev()
            .find(|b| b.slot <= start)
            .map_or(self.latest_block.root, |b| b.root))
    }

    /// The block with this slot or root among the recent ones.
    #[must_use]
    pub fn find_block(&self, slot: Option<Slot>, root: Option<&Root32>) -> Option<BlockInfo> {
        self.recent_blocks
            .iter()
            .rev()
            .find(|b| slot.is_none_or(|s| b.slot == s) && root.is_none_or(|r| &b.root == r))
            .copied()
    }

    /// The epoch transition at the end of the current epoch.
    fn process_epoch(&mut self, cfg: &ChainConfig) -> Result<(), SimError> {
        let epoch = self.current_epoch(cfg)?;
        // Seeded participation.
        let mut total = Gwei::ZERO;
        let mut attesting = Gwei::ZERO;
        let mut attested = vec![false; self.validators.len()];
        for (i, v) in self.validators.iter().enumerate() {
            if !is_active(&v.record, epoch) {
                continue;
            }
            total = total.checked_add(v.record.effective_balance)?;
            let hit = !v.record.slashed
                && rng::draw_ppm(cfg.seed, Purpose::Attest, epoch.get(), to_u64(i))
                    < v.performance_ppm;
            if hit {
                attesting = attesting.checked_add(v.record.effective_balance)?;
                if let Some(a) = attested.get_mut(i) {
                    *a = true;
                }
            }
        }
        let mut bits = vec![0u8; attested.len().div_ceil(8)];
        for (i, hit) in attested.iter().enumerate() {
            if *hit && let Some(b) = bits.get_mut(i / 8) {
                *b |= 1u8 << (i % 8);
            }
        }
        self.participation.push_back(EpochParticipation { epoch, bits });
        // the node archives older epochs (up to `liveness_epochs`) outside the state
        while self.participation.len() > PARTICIPATION_EPOCHS {
            self.participation.pop_front();
        }
        // Justification and finalization (one-epoch rule: justifying E finalizes E-1).
        let supermajority = u128::from(attesting.get()).saturating_mul(3)
            >= u128::from(total.get()).saturating_mul(2);
        self.previous_justified = self.current_justified;
        if !self.finality_halted && supermajority {
            let old = self.current_justified;
            self.current_justified = Checkpoint { epoch, root: self.checkpoint_root(cfg, epoch)? };
            if old.epoch.get().saturating_add(1) >= epoch.get() {
                self.finalized = old;
            }
        }
        // Rewards and penalties.
        let finality_delay = epoch.get().saturating_sub(self.finalized.epoch.get());
        let leaking = finality_delay > cfg.min_epochs_to_inactivity_penalty;
        for (i, v) in self.validators.iter_mut().enumerate() {
            let r = &v.record;
            let eligible = is_active(r, epoch)
                || (r.slashed && epoch.get().saturating_add(1) < r.withdrawable_epoch.get());
            if !eligible {
                continue;
            }
            let base = Self::base_reward(cfg, r.effective_balance)?;
            if attested.get(i).copied().unwrap_or(false) {
                if !leaking {
                    // Source + target + head weights: 54/64 of the base reward.
                    v.balance = v.balance.checked_add(Gwei(mul_div(base, 54, 64)?))?;
                }
            } else {
                // Missed source + target: 40/64 of the base reward.
                let mut penalty = mul_div(base, 40, 64)?;
                if leaking {
                    let leak = mul_div(
                        r.effective_balance.get(),
                        finality_delay,
                        cfg.inactivity_penalty_quotient,
                    )?;
                    penalty = penalty.saturating_add(leak);
                }
                v.balance = v.balance.saturating_sub(Gwei(penalty));
            }
        }
        self.process_registry_updates(cfg, epoch)?;
        self.process_slashings(cfg, epoch, total)?;
        self.process_effective_balance_updates(cfg);
        let next_slot = to_usize(
            epoch.get().saturating_add(1).checked_rem(cfg.epochs_per_slashings_vector).unwrap_or(0),
        )?;
        if let Some(s) = self.slashings.get_mut(next_slot) {
            *s = Gwei::ZERO;
        }
        // Rewards of the coming epoch are computed from its active set.
        let saved = self.slot;
        self.slot = self.slot.checked_add(Slot(1))?;
        let r = self.update_block_rewards(cfg);
        self.slot = saved;
        r
    }

    fn process_registry_updates(
        &mut self,
        cfg: &ChainConfig,
        epoch: Epoch,
    ) -> Result<(), SimError> {
        let next = epoch.checked_add(Epoch(1))?;
        let mut eject = Vec::new();
        for (i, v) in self.validators.iter_mut().enumerate() {
            let r = &mut v.record;
            if r.activation_eligibility_epoch == FAR_FUTURE
                && r.effective_balance == cfg.max_effective_balance
            {
                r.activation_eligibility_epoch = next;
            }
            if is_active(r, epoch) && r.effective_balance <= cfg.ejection_balance {
                eject.push(to_u64(i));
            }
        }
        for i in eject {
            self.initiate_exit(cfg, i)?;
        }
        let mut queue: Vec<(Epoch, usize)> = self
            .validators
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.record.activation_epoch == FAR_FUTURE
                    && v.record.activation_eligibility_epoch <= self.finalized.epoch
            })
            .map(|(i, v)| (v.record.activation_eligibility_epoch, i))
            .collect();
        queue.sort_unstable();
        let churn = self.churn_limit(cfg, epoch).min(cfg.max_per_epoch_activation_churn_limit);
        let activation = Self::activation_exit_epoch(cfg, epoch)?;
        for (_, i) in queue.into_iter().take(to_usize(churn)?) {
            if let Some(v) = self.validators.get_mut(i) {
                v.record.activation_epoch = activation;
            }
        }
        Ok(())
    }

    fn process_slashings(
        &mut self,
        cfg: &ChainConfig,
        epoch: Epoch,
        total: Gwei,
    ) -> Result<(), SimError> {
        if total.get() == 0 {
            return Ok(());
        }
        let mut sum = Gwei::ZERO;
        for s in &self.slashings {
            sum = sum.checked_add(*s)?;
        }
        let adjusted =
            sum.get().saturating_mul(cfg.proportional_slashing_multiplier).min(total.get());
        let half = cfg.epochs_per_slashings_vector.checked_div(2).unwrap_or(0);
        let target = epoch.get().saturating_add(half);
        let inc = cfg.effective_balance_increment.get();
        for v in &mut self.validators {
            if v.record.slashed && v.record.withdrawable_epoch.get() == target {
                let units = v.record.effective_balance.get().checked_div(inc).unwrap_or(0);
                let penalty = mul_div(units, adjusted, total.get())?.saturating_mul(inc);
                v.balance = v.balance.saturating_sub(Gwei(penalty));
            }
        }
        Ok(())
    }

    fn process_effective_balance_updates(&mut self, cfg: &ChainConfig) {
        let inc = cfg.effective_balance_increment.get();
        let hysteresis = inc.checked_div(4).unwrap_or(0);
        let down = hysteresis;
        let up = hysteresis.saturating_mul(5);
        for v in &mut self.validators {
            let b = v.balance.get();
            let eb = v.record.effective_balance.get();
            if b.saturating_add(down) < eb || eb.saturating_add(up) < b {
                let rounded = b.saturating_sub(b.checked_rem(inc).unwrap_or(0));
                v.record.effective_balance = Gwei(rounded.min(cfg.max_effective_balance.get()));
            }
        }
    }
}

fn initial_performance(cfg: &ChainConfig, i: u64) -> u32 {
    let jitter = rng::draw_ppm(cfg.seed, Purpose::Performance, i, 0)
        .checked_rem(cfg.performance_jitter_ppm.saturating_add(1))
        .unwrap_or(0);
    cfg.default_performance_ppm.saturating_sub(jitter)
}

#[cfg(test)]
mod tests;
