//! Inputs of the report computation: the frame, what the Beacon API says about the protocol's
//! validators at the reference slot, and the chain state at the reference block.

use alloy::primitives::{Address, U256};
use claystack_balancer::{AllocationParams, OperatorType};
use claystack_beacon::ValidatorStatus;
use claystack_consensus::{Epoch, Gwei, Slot, ValidatorIndex};

/// Hard cap of every list of the operators report (bounded gas of one submission).
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// The frame being reported and the consensus-layer constants the computation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameParams {
    /// Reference slot of this report (`currentFrame().refSlot`).
    pub ref_slot: Slot,
    /// Reference slot of the last applied report (`lastRefSlot()`).
    pub last_ref_slot: Slot,
    /// `SECONDS_PER_SLOT`.
    pub seconds_per_slot: u64,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// `EPOCHS_PER_SLASHINGS_VECTOR` (a slashed validator is withdrawable this many epochs after
    /// its slashing: that is how the slashing epoch is read back from the state).
    pub epochs_per_slashings_vector: u64,
    /// `MIN_SLASHING_PENALTY_QUOTIENT` (initial penalty = effective balance / this).
    pub min_slashing_penalty_quotient: u64,
    /// `MAX_EFFECTIVE_BALANCE` (a validator that reached it has had its deposits processed).
    pub max_effective_balance: Gwei,
}

/// One validator as the Beacon API reports it at the reference slot, plus its attestation record
/// over the frame (from `/eth/v1/validator/liveness`, one duty per epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconValidator {
    /// Registry index.
    pub index: ValidatorIndex,
    /// BLS public key.
    pub pubkey: [u8; 48],
    /// Actual balance.
    pub balance: Gwei,
    /// Effective balance.
    pub effective_balance: Gwei,
    /// Status.
    pub status: ValidatorStatus,
    /// Slashed flag.
    pub slashed: bool,
    /// Withdrawal credentials.
    pub withdrawal_credentials: [u8; 32],
    /// Withdrawable epoch (`u64::MAX`: none).
    pub withdrawable_epoch: Epoch,
    /// Attestation duties the validator had in the frame (epochs it was active).
    pub duties_expected: u32,
    /// Duties it performed.
    pub duties_performed: u32,
}

/// The bounds of the `SanityChecker` (its `limits()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SanityLimits {
    /// `maxClAprBps`.
    pub max_cl_apr_bps: u64,
    /// `maxPositiveRateChangePpm`.
    pub max_positive_rate_change_ppm: u64,
    /// `maxUnexplainedClDropPpm`.
    pub max_unexplained_cl_drop_ppm: u64,
    /// `maxAppearedValidatorsPerReport`.
    pub max_appeared_validators_per_report: u64,
    /// `slashingAllowanceGwei`.
    pub slashing_allowance_gwei: u64,
    /// `maxFinalizationRateDeviationBps`.
    pub max_finalization_rate_deviation_bps: u64,
}

impl SanityLimits {
    /// The defaults `SanityChecker.initialize` sets.
    #[must_use]
    pub const fn defaults() -> Self {
        Self {
            max_cl_apr_bps: 1_000,
            max_positive_rate_change_ppm: 750,
            max_unexplained_cl_drop_ppm: 3_000,
            max_appeared_validators_per_report: 1_800,
            slashing_allowance_gwei: 1_000_000_000,
            max_finalization_rate_deviation_bps: 10,
        }
    }
}

/// Cumulative validator counts (`lastValidatorCounts()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidatorCounts {
    /// Validators that appeared on the CL.
    pub deposited: u64,
    /// Active validators.
    pub active: u64,
    /// Exited validators.
    pub exited: u64,
    /// Slashed validators.
    pub slashed: u64,
}

/// Reward fee split of the pool (`fees()`), bps of positive rewards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fees {
    /// Treasury part.
    pub treasury_bps: u64,
    /// Operators part (minted to `OperatorRewards`).
    pub operators_bps: u64,
    /// Insurance part.
    pub insurance_bps: u64,
}

/// The pool's state at the reference block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolState {
    /// `totalSupply()` (shares).
    pub total_shares: U256,
    /// `bufferedEther()`.
    pub buffered_ether: U256,
    /// `clBalance()`: the last reported CL balance.
    pub cl_balance: U256,
    /// `clDepositsProcessed()`.
    pub cl_deposits_processed: U256,
    /// `depositedEther()`.
    pub deposited_ether: U256,
    /// Balance of the WithdrawalVault.
    pub withdrawal_vault_balance: U256,
    /// Balance of the ElRewardsVault.
    pub el_rewards_vault_balance: U256,
    /// Reward fee split.
    pub fees: Fees,
    /// The pool's 0x01 withdrawal credentials (`0x01 ‖ 0×11 ‖ WithdrawalVault`).
    pub withdrawal_credentials: [u8; 32],
    /// `OracleReport.lastValidatorCounts()`.
    pub last_counts: ValidatorCounts,
    /// `SanityChecker.limits()`.
    pub limits: SanityLimits,
}

/// One unfinalized withdrawal request (`getRequest(id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalRequest {
    /// Request id.
    pub id: u64,
    /// Shares locked.
    pub shares: U256,
    /// ETH value when requested (the payout cap).
    pub ether_at_request: U256,
}

/// The withdrawal queue at the reference block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueState {
    /// `lastFinalizedRequestId()`.
    pub last_finalized_request_id: u64,
    /// `maxFinalizePerReport` (from `parameters()`).
    pub max_finalize_per_report: u64,
    /// `unfinalizedEther()`.
    pub unfinalized_ether: U256,
    /// Unfinalized requests in id order from `last_finalized_request_id + 1`, at least up to
    /// `max_finalize_per_report` of them (or all there are).
    pub requests: Vec<WithdrawalRequest>,
}

/// Lifecycle of a registry key, as far as the oracle cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Uploaded, not yet deposited.
    Unused,
    /// 1 ETH pre-deposited from the bond, waiting for the oracle's confirmation.
    PreDeposited,
    /// Confirmed and topped up by the pool.
    Deposited,
    /// Pre-deposit seen with foreign credentials (front-run); the key is dead.
    Invalid,
}

/// One key of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInput {
    /// Index of the key in the operator's key list.
    pub index: u64,
    /// BLS public key.
    pub pubkey: [u8; 48],
    /// State in the registry.
    pub state: KeyState,
    /// Pool ETH deposited for this key: 1 ETH once pre-deposited, 32 ETH once topped up.
    pub pool_deposited_wei: U256,
    /// Slot by which a requested exit must have started (None: no exit requested).
    pub exit_deadline_slot: Option<u64>,
}

/// One operator of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorInput {
    /// Registry id (inputs sorted by strictly increasing id).
    pub id: u64,
    /// Type.
    pub operator_type: OperatorType,
    /// Address its rewards are credited to.
    pub reward_address: Address,
    /// Active (not paused/stopped).
    pub is_active: bool,
    /// Whether the VfpPool funds part of its bond (then the VFP gets `vfp_share_bps` of its R).
    pub vfp_funded: bool,
    /// Score stored in the registry (what the Allocator uses), bps.
    pub score: u16,
    /// Exited validators the registry has recorded.
    pub exited_total: u64,
    /// Stuck validators the registry has recorded.
    pub stuck_total: u64,
    /// `BondManager.settledExits(id)`: exited validators whose bond was released. While it is
    /// below `exited_total` the report carries an exited entry for the operator (the module
    /// settles on an exited entry only).
    pub settled_exits: u64,
    /// `BondManager.bondShares(id)`: the own bond, first layer of the loss waterfall (shares).
    pub bond_shares: U256,
    /// `VfpPool.allocatedShares(id)`: the VFP backing, second layer (shares).
    pub vfp_backing_shares: U256,
    /// Keys, by increasing index.
    pub keys: Vec<KeyInput>,
}

/// Registry and reward parameters (the operators part of the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryState {
    /// Operators by increasing id.
    pub operators: Vec<OperatorInput>,
    /// Type factor `F` per type (bps), indexed by the Solidity enum value.
    pub type_factor_bps: [u16; 4],
    /// The VfpPool's address (its rewards leaf).
    pub vfp_pool: Address,
    /// Share of a funded operator's R that goes to the VfpPool, bps.
    pub vfp_share_bps: u16,
    /// Penalty for an exit request ignored past its deadline, wei.
    pub missed_exit_penalty_wei: U256,
    /// Shares the InsuranceFund holds: the last layer of the loss waterfall.
    pub insurance_fund_shares: U256,
    /// Allocator parameters (exit selection).
    pub allocation: AllocationParams,
}

/// The operator-rewards distribution so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RewardsState {
    /// Shares `OperatorRewards` has ever received, up to the reference block (this report's fee
    /// mint happens after the root is set, so the next report distributes it).
    pub shares_received_total: U256,
    /// `rewardsCumulativeShares` of the current root.
    pub cumulative_shares: U256,
    /// Every leaf of the current root: `(account, cumulativeShares)`.
    pub accounts: Vec<(Address, U256)>,
}

/// Everything [`crate::compute`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleInput {
    /// Frame.
    pub frame: FrameParams,
    /// Pool.
    pub pool: PoolState,
    /// Queue.
    pub queue: QueueState,
    /// Registry (None until the operator contracts are deployed: no operators report).
    pub registry: Option<RegistryState>,
    /// Rewards distribution so far.
    pub rewards: RewardsState,
    /// Validators with the pool's credentials, plus any validator whose pubkey is a registry key
    /// (to catch front-runs). Any order. With a registry, only those of its pre-deposited or
    /// deposited keys count as the pool's (ADR 0009); the others are ignored.
    pub validators: Vec<BeaconValidator>,
}
