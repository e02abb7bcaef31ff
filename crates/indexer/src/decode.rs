//! The decoder table: which contracts the indexer follows and how their logs become typed
//! [`Effect`]s. Every event of every listed contract is decoded with the bindings' generated event
//! types (an undecodable log is kept raw and counted, see the store); the ones that move state the API
//! serves also yield an effect. Adding a contract = a [`Contract`] variant, its deployment key in
//! [`sources`], and one arm in [`decode`].

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEventInterface,
};
use claystack_bindings::{
    Deployment, access_registry::AccessRegistry, allocator::Allocator, bond_manager::BondManager,
    deposit_security::DepositSecurity, el_rewards_vault::ElRewardsVault,
    exit_enforcer::ExitEnforcer, insurance_fund::InsuranceFund,
    operator_registry::OperatorRegistry, operator_rewards::OperatorRewards,
    operators_module::OperatorsModule, oracle_report::OracleReport, sanity_checker::SanityChecker,
    stake_pool::StakePool, vfp_pool::VfpPool, withdrawal_queue::WithdrawalQueue,
    withdrawal_vault::WithdrawalVault,
};

/// A contract kind the indexer knows how to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `StakePool` (also the csETH / kcsETH token).
    StakePool,
    /// `WithdrawalQueue` (ERC-721 tickets).
    WithdrawalQueue,
    /// `OracleReport`.
    OracleReport,
    /// `SanityChecker`.
    SanityChecker,
    /// `WithdrawalVault` (the 0x01 withdrawal credentials; sends EIP-7002 exit requests).
    WithdrawalVault,
    /// `ElRewardsVault` (the fee recipient for priority fees and MEV).
    ElRewardsVault,
    /// `AccessRegistry` (shared by both pools).
    AccessRegistry,
    /// `Allocator` (per pool).
    Allocator,
    /// `OperatorRegistry` (per pool).
    OperatorRegistry,
    /// `BondManager` (per pool).
    BondManager,
    /// `OperatorRewards` (per pool).
    OperatorRewards,
    /// `ExitEnforcer` (per pool).
    ExitEnforcer,
    /// `VfpPool` (per pool): the second loss layer, funding good operators' bonds.
    VfpPool,
    /// `InsuranceFund` (per pool): the third loss layer.
    InsuranceFund,
    /// `OperatorsModule` (per pool): applies the operators part of oracle reports.
    OperatorsModule,
    /// `DepositSecurity` (per pool): 1 ETH pre-deposits and 31 ETH top-ups.
    DepositSecurity,
}

impl Contract {
    /// The contract's name as in the bindings.
    pub fn name(self) -> &'static str {
        match self {
            Self::StakePool => "StakePool",
            Self::WithdrawalQueue => "WithdrawalQueue",
            Self::OracleReport => "OracleReport",
            Self::SanityChecker => "SanityChecker",
            Self::WithdrawalVault => "WithdrawalVault",
            Self::ElRewardsVault => "ElRewardsVault",
            Self::AccessRegistry => "AccessRegistry",
            Self::Allocator => "Allocator",
            Self::OperatorRegistry => "OperatorRegistry",
            Self::BondManager => "BondManager",
            Self::OperatorRewards => "OperatorRewards",
            Self::ExitEnforcer => "ExitEnforcer",
            Self::VfpPool => "VfpPool",
            Self::InsuranceFund => "InsuranceFund",
            Self::OperatorsModule => "OperatorsModule",
            Self::DepositSecurity => "DepositSecurity",
        }
    }
}

/// One followed contract instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Its address.
    pub address: Address,
    /// What it is.
    pub contract: Contract,
    /// `public`, `kyc`, or `shared` for contracts serving both pools.
    pub pool: &'static str,
}

/// The contracts of a deployment the indexer follows (both pools, shared contracts when deployed).
pub fn sources(d: &Deployment) -> Vec<Source> {
    let mut out = Vec::new();
    let mut pools = vec![("public", d.public)];
    if let Some(k) = d.kyc {
        pools.push(("kyc", k));
    }
    for (pool, a) in pools {
        out.extend([
            Source { address: a.stake_pool, contract: Contract::StakePool, pool },
            Source { address: a.withdrawal_queue, contract: Contract::WithdrawalQueue, pool },
            Source { address: a.oracle_report, contract: Contract::OracleReport, pool },
            Source { address: a.sanity_checker, contract: Contract::SanityChecker, pool },
            Source { address: a.withdrawal_vault, contract: Contract::WithdrawalVault, pool },
            Source { address: a.el_rewards_vault, contract: Contract::ElRewardsVault, pool },
        ]);
    }
    // Shared contracts, followed when the deployment names them.
    if let Ok(address) = d.address("accessRegistry") {
        out.push(Source { address, contract: Contract::AccessRegistry, pool: "shared" });
    }
    // Per-pool operator contracts (keys `operatorRegistry`, `kycOperatorRegistry`, …), followed
    // when the deployment names them.
    for (prefix, pool) in [("", "public"), ("kyc", "kyc")] {
        for (key, contract) in [
            ("operatorRegistry", Contract::OperatorRegistry),
            ("bondManager", Contract::BondManager),
            ("operatorRewards", Contract::OperatorRewards),
            ("exitEnforcer", Contract::ExitEnforcer),
            ("allocator", Contract::Allocator),
            ("vfpPool", Contract::VfpPool),
            ("insuranceFund", Contract::InsuranceFund),
            ("operatorsModule", Contract::OperatorsModule),
            ("depositSecurity", Contract::DepositSecurity),
        ] {
            let key = if prefix.is_empty() {
                key.to_owned()
            } else {
                let mut c = key.chars();
                let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
                format!("{prefix}{first}{}", c.as_str())
            };
            if let Ok(address) = d.address(&key) {
                out.push(Source { address, contract, pool });
            }
        }
    }
    out
}

/// A state change the derived tables care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// ETH staked, shares minted.
    Deposited {
        /// Who receives the shares.
        recipient: Address,
        /// ETH in (wei).
        amount: U256,
        /// Shares minted.
        shares: U256,
    },
    /// Pool-token (share) transfer, mint (`from` zero) or burn (`to` zero).
    ShareTransfer {
        /// Sender.
        from: Address,
        /// Receiver.
        to: Address,
        /// Shares.
        value: U256,
    },
    /// Instant exit from the buffer.
    FlashExited {
        /// ETH paid out.
        eth_out: U256,
    },
    /// An oracle report applied to the pool.
    ReportApplied {
        /// Reference slot.
        ref_slot: U256,
        /// Total pooled ether after the report.
        post_total: U256,
        /// Total shares after the report (fee shares included).
        total_shares: U256,
    },
    /// Withdrawals finalized from the pool's side: ether left the pool for the queue.
    PoolFinalized {
        /// Ether locked for the queue.
        ether_locked: U256,
    },
    /// Fee recipients set.
    FeeRecipients {
        /// The insurance fund's address.
        insurance_fund: Address,
    },
    /// Reward fee shares minted.
    FeeMinted {
        /// Shares minted to the insurance fund.
        insurance_shares: U256,
    },
    /// A quorum report submitted to the oracle.
    ReportSubmitted {
        /// Reference slot.
        ref_slot: U256,
        /// Hash of the report.
        report_hash: B256,
        /// Who submitted it.
        submitter: Address,
        /// Signatures carried.
        signatures: U256,
    },
    /// A withdrawal request (ticket minted).
    WithdrawalRequested {
        /// Ticket id.
        id: U256,
        /// Owner of the ticket.
        owner: Address,
        /// Shares locked.
        shares: U256,
        /// ETH value at request time.
        ether: U256,
    },
    /// Queue finalization of a request range.
    QueueFinalized {
        /// Last request finalized.
        to: U256,
    },
    /// A finalized request claimed.
    WithdrawalClaimed {
        /// Ticket id.
        id: U256,
        /// ETH paid.
        amount: U256,
    },
    /// A change to one node operator (per pool).
    Operator {
        /// Operator id in its pool's registry.
        id: U256,
        /// What changed.
        change: OperatorChange,
    },
    /// Operator rewards claimed by an address (matched to operators by reward address).
    RewardsClaimed {
        /// Claiming address.
        account: Address,
        /// Shares paid.
        shares: U256,
        /// The address's claimed total after this claim.
        cumulative_shares: U256,
    },
    /// A rewards root published for a report (`OperatorRewards`).
    RewardsRoot {
        /// The Merkle root of cumulative per-operator rewards.
        root: B256,
        /// Cumulative shares of all leaves.
        cumulative_shares: U256,
        /// The report's reference slot.
        ref_slot: U256,
    },
    /// Rewards booked into the VFP pool's assets (`VfpPool.RewardsReceived`).
    VfpRewardsBooked {
        /// Who paid: a depositor of rewards, or the OperatorRewards contract.
        from: Address,
        /// csETH shares booked.
        shares: U256,
    },
    /// The insurance fund burned csETH to cover a loss (`InsuranceFund.LossCovered`).
    InsuranceBurned {
        /// Shares the loss needed from the fund.
        shares_requested: U256,
        /// Shares burned.
        shares_burned: U256,
    },
    /// ETH forced into DepositSecurity went to the EL rewards vault (`DepositSecurity.Swept`).
    Swept {
        /// Receiving vault.
        to: Address,
        /// Wei.
        amount: U256,
    },
    /// A vault paid its pool (`EtherPulled`).
    VaultPulled {
        /// Wei.
        amount: U256,
    },
    /// The withdrawal vault sent an EIP-7002 full-exit request (`WithdrawalRequestAdded`).
    Eip7002Request {
        /// Validator public key.
        pubkey: alloy::primitives::Bytes,
        /// Fee paid to the system contract (wei).
        fee: U256,
    },
    /// A chunk of a report's extra data applied (`OracleReport`, ADR 0008).
    ExtraDataChunk {
        /// The report's reference slot.
        ref_slot: U256,
        /// Chunk index (0: delivered with the report).
        index: U256,
        /// Its hash.
        chunk_hash: B256,
        /// Hash of the next chunk (zero: it was the last).
        next_hash: B256,
    },
    /// The undelivered chunks of a report were dropped by the next report.
    ExtraDataDropped {
        /// The report's reference slot.
        ref_slot: U256,
        /// Chunks applied before the drop.
        chunks_applied: U256,
        /// Hash of the first dropped chunk.
        next_hash: B256,
    },
    /// The operators part of one chunk applied (`OperatorsModule.OperatorsReportApplied`).
    OperatorsPart {
        /// The report's reference slot.
        ref_slot: U256,
        /// Pre-deposit results in the part.
        pre_deposits: U256,
        /// Front-run keys among them.
        front_run: U256,
        /// Penalties in the part.
        penalties: U256,
        /// Exit requests in the part.
        exit_requests: U256,
        /// Rewards root (zero: none in this part).
        rewards_root: B256,
    },
    /// Governance parameters or wiring of a contract (name, value as text), in emission order.
    Parameters(Vec<(String, String)>),
    /// Ticket (ERC-721) transfer; mints and burns included.
    TicketTransfer {
        /// New owner (zero on burn).
        to: Address,
        /// Ticket id.
        id: U256,
    },
}

/// What happened to an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorChange {
    /// Registered with a type (0 Professional, 1 Kyc, 2 Dvt, 3 Home) and addresses.
    Registered {
        /// `OperatorType` as a number.
        kind: u8,
        /// Manager address.
        manager: Address,
        /// Reward address.
        reward_address: Address,
    },
    /// New reward address.
    RewardAddress(Address),
    /// Keys deposited (cumulative).
    Deposited(U256),
    /// Exited and stuck validators (cumulative).
    ExitedStuck {
        /// Exited.
        exited: U256,
        /// Stuck.
        stuck: U256,
    },
    /// Performance score.
    Score(U256),
    /// Stopped or resumed.
    Stopped(bool),
    /// Total keys uploaded.
    TotalKeys(U256),
    /// An exit request with its deadline.
    ExitRequested {
        /// Key index.
        key: U256,
        /// Deadline (Unix time).
        deadline: U256,
    },
    /// An exit request cleared.
    ExitCleared {
        /// Key index.
        key: U256,
    },
    /// A key was front-run (bond pays).
    FrontRun {
        /// Key index.
        key: U256,
    },
    /// Bond added (ether value).
    BondDeposited(U256),
    /// Bond withdrawn (ether value).
    BondClaimed(U256),
    /// Penalty charged to the bond.
    Penalized {
        /// Ether requested.
        requested: U256,
        /// Ether covered by the bond.
        covered: U256,
    },
    /// A loss through the waterfall, with what each layer paid (`BondManager.LossCovered`).
    Loss {
        /// Total loss (wei).
        loss: U256,
        /// Paid by the operator's bond (wei).
        from_bond: U256,
        /// Paid by the VFP pool (wei).
        from_vfp: U256,
        /// Paid by the insurance fund (wei).
        from_insurance: U256,
        /// Not covered by any layer: borne by the holders (wei).
        uncovered: U256,
    },
    /// Exits up to this count were settled and their bond released (`BondManager`).
    ExitsSettled(U256),
    /// Keys below this index had their pre-deposit confirmed (`OperatorRegistry`).
    PreDepositsConfirmed(U256),
    /// Vetted limit (`OperatorRegistry`).
    VettedLimit(U256),
    /// New manager (`OperatorRegistry`).
    ManagerChanged(Address),
    /// The manager asked to exit a key (`ExitEnforcer.VoluntaryExitRequested`).
    VoluntaryExitRequested {
        /// Key index.
        key: U256,
    },
    /// An oracle-reported penalty sent through the loss waterfall (`OperatorsModule`).
    PenaltyReported {
        /// Penalty kind as reported.
        kind: U256,
        /// Penalty (wei).
        amount: U256,
        /// Covered by the operator's bond (wei).
        from_bond: U256,
        /// Not covered by any layer (wei).
        uncovered: U256,
    },
    /// A front-run pre-deposit forfeited (`OperatorsModule`).
    PreDepositForfeited {
        /// Key index.
        key: U256,
        /// Covered by the operator's bond (wei).
        from_bond: U256,
        /// Not covered by any layer (wei).
        uncovered: U256,
    },
    /// 1 ETH pre-deposits made from the bond (`DepositSecurity`).
    PreDeposited {
        /// Keys pre-deposited.
        count: U256,
    },
    /// Confirmed keys topped up with 31 ETH (`DepositSecurity`).
    ToppedUp {
        /// Keys topped up in this call (front-run keys are skipped).
        deposited: U256,
        /// Confirmed keys processed in this call.
        processed: U256,
    },
    /// Joined or left `DepositSecurity`'s deposit set.
    DepositListed(bool),
    /// The VFP pool funded part of the bond (`VfpPool`).
    VfpFunded {
        /// csETH shares.
        shares: U256,
        /// Their ether value (wei).
        ether: U256,
    },
    /// The VFP pool took its funding back (`VfpPool`).
    VfpReleased(U256),
    /// The VFP pool absorbed part of a loss (`VfpPool`).
    VfpLossAbsorbed {
        /// csETH shares requested.
        requested: U256,
        /// csETH shares burned.
        burned: U256,
    },
    /// An overdue exit forced through EIP-7002.
    ExitEnforced {
        /// Key index.
        key: U256,
        /// The missed deadline.
        deadline: U256,
        /// Missed exits so far.
        missed: U256,
        /// Who forced it (a keeper).
        caller: Address,
        /// EIP-7002 fee paid (wei).
        fee: U256,
    },
}

/// How the indexer treats an event of a followed contract, beyond keeping every decoded log in
/// the `events` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// It yields an [`Effect`]: the derived tables (and the API) use it.
    Derived,
    /// Only kept in `events` (decoded arguments), for the reason given.
    EventsOnly(&'static str),
}

/// Events every upgradeable contract emits (initialisation, roles, upgrades, pauses, EIP-712
/// domain): kept in `events` only.
pub const COMMON_EVENTS: &[&str] = &[
    "Initialized",
    "RoleAdminChanged",
    "RoleGranted",
    "RoleRevoked",
    "Upgraded",
    "Paused",
    "Unpaused",
    "EIP712DomainChanged",
];

/// Every other event of every followed contract and how it is handled. A test checks this table
/// against the ABIs in `crates/bindings/abi` in both directions, and that `Derived` events yield an
/// effect and the others do not: an event added to a contract fails the test until it is
/// classified here and, if derived, decoded.
pub const EVENT_HANDLING: &[(Contract, &str, Handling)] = &[
    (Contract::StakePool, "AccessPolicyUpdated", Handling::Derived),
    (Contract::StakePool, "Approval", Handling::EventsOnly("allowances are not served")),
    (Contract::StakePool, "ContractsUpdated", Handling::Derived),
    (Contract::StakePool, "CoverProviderUpdated", Handling::Derived),
    (Contract::StakePool, "DepositModuleUpdated", Handling::Derived),
    (Contract::StakePool, "Deposited", Handling::Derived),
    (
        Contract::StakePool,
        "EtherSentToDepositModule",
        Handling::EventsOnly("buffer movements: the report and pool state carry the totals"),
    ),
    (Contract::StakePool, "FeeRecipientsUpdated", Handling::Derived),
    (Contract::StakePool, "FeesUpdated", Handling::Derived),
    (Contract::StakePool, "FlashExited", Handling::Derived),
    (Contract::StakePool, "OracleReportApplied", Handling::Derived),
    (Contract::StakePool, "ParameterUpdated", Handling::Derived),
    (
        Contract::StakePool,
        "RewardFeeForgone",
        Handling::EventsOnly("fee shares not minted: RewardFeeMinted carries the minted ones"),
    ),
    (Contract::StakePool, "RewardFeeMinted", Handling::Derived),
    (
        Contract::StakePool,
        "SharesBurnedForCover",
        Handling::EventsOnly("the burn Transfer moves the insurance/VFP positions"),
    ),
    (
        Contract::StakePool,
        "SharesLockedForWithdrawal",
        Handling::EventsOnly("the queue WithdrawalRequested carries the same request"),
    ),
    (Contract::StakePool, "Transfer", Handling::Derived),
    (Contract::StakePool, "WithdrawalsFinalized", Handling::Derived),
    (
        Contract::WithdrawalQueue,
        "Approval",
        Handling::EventsOnly("ticket approvals are not served"),
    ),
    (
        Contract::WithdrawalQueue,
        "ApprovalForAll",
        Handling::EventsOnly("ticket approvals are not served"),
    ),
    (Contract::WithdrawalQueue, "ParameterUpdated", Handling::Derived),
    (Contract::WithdrawalQueue, "Transfer", Handling::Derived),
    (Contract::WithdrawalQueue, "WithdrawalClaimed", Handling::Derived),
    (Contract::WithdrawalQueue, "WithdrawalRequested", Handling::Derived),
    (Contract::WithdrawalQueue, "WithdrawalsFinalized", Handling::Derived),
    (Contract::OracleReport, "ExtraDataChunkApplied", Handling::Derived),
    (Contract::OracleReport, "ExtraDataDropped", Handling::Derived),
    (Contract::OracleReport, "FrameConfigUpdated", Handling::Derived),
    (Contract::OracleReport, "MemberAdded", Handling::Derived),
    (Contract::OracleReport, "MemberRemoved", Handling::Derived),
    (Contract::OracleReport, "OperatorsModuleSet", Handling::Derived),
    (Contract::OracleReport, "ParameterUpdated", Handling::Derived),
    (Contract::OracleReport, "QuorumUpdated", Handling::Derived),
    (Contract::OracleReport, "ReportSubmitted", Handling::Derived),
    (Contract::SanityChecker, "LimitsUpdated", Handling::Derived),
    (Contract::SanityChecker, "ParameterUpdated", Handling::Derived),
    (Contract::WithdrawalVault, "EtherPulled", Handling::Derived),
    (Contract::WithdrawalVault, "ExitEnforcerSet", Handling::Derived),
    (Contract::WithdrawalVault, "ParameterUpdated", Handling::Derived),
    (Contract::WithdrawalVault, "WithdrawalRequestAdded", Handling::Derived),
    (Contract::ElRewardsVault, "EtherPulled", Handling::Derived),
    (Contract::ElRewardsVault, "ParameterUpdated", Handling::Derived),
    (
        Contract::AccessRegistry,
        "Attested",
        Handling::EventsOnly("KYC attestations are per account; the AccessRegistry serves them"),
    ),
    (
        Contract::AccessRegistry,
        "DenylistUpdated",
        Handling::EventsOnly("KYC attestations are per account; the AccessRegistry serves them"),
    ),
    (Contract::AccessRegistry, "ParameterUpdated", Handling::Derived),
    (
        Contract::AccessRegistry,
        "Revoked",
        Handling::EventsOnly("KYC attestations are per account; the AccessRegistry serves them"),
    ),
    (Contract::Allocator, "OperatorCapUpdated", Handling::Derived),
    (Contract::Allocator, "ParameterUpdated", Handling::Derived),
    (Contract::Allocator, "TargetsUpdated", Handling::Derived),
    (Contract::OperatorRegistry, "AccessRegistrySet", Handling::Derived),
    (Contract::OperatorRegistry, "BondManagerSet", Handling::Derived),
    (
        Contract::OperatorRegistry,
        "DvtClusterRegistered",
        Handling::EventsOnly("cluster composition: not served yet"),
    ),
    (Contract::OperatorRegistry, "ExitRequestCleared", Handling::Derived),
    (Contract::OperatorRegistry, "ExitRequested", Handling::Derived),
    (Contract::OperatorRegistry, "ExitedAndStuckUpdated", Handling::Derived),
    (
        Contract::OperatorRegistry,
        "KeyAdded",
        Handling::EventsOnly("keys: served by OperatorRegistry.getKeys"),
    ),
    (Contract::OperatorRegistry, "KeyFrontRun", Handling::Derived),
    (
        Contract::OperatorRegistry,
        "KeyRemoved",
        Handling::EventsOnly("keys: served by OperatorRegistry.getKeys"),
    ),
    (Contract::OperatorRegistry, "KeysDeposited", Handling::Derived),
    (
        Contract::OperatorRegistry,
        "KeysPreDeposited",
        Handling::EventsOnly("DepositSecurity.PreDeposited carries the same count"),
    ),
    (Contract::OperatorRegistry, "ManagerChanged", Handling::Derived),
    (
        Contract::OperatorRegistry,
        "ManagerProposed",
        Handling::EventsOnly("a proposal only; ManagerChanged is derived"),
    ),
    (Contract::OperatorRegistry, "OperatorRegistered", Handling::Derived),
    (Contract::OperatorRegistry, "OperatorStoppedSet", Handling::Derived),
    (Contract::OperatorRegistry, "ParameterUpdated", Handling::Derived),
    (Contract::OperatorRegistry, "PreDepositsConfirmed", Handling::Derived),
    (Contract::OperatorRegistry, "RewardAddressSet", Handling::Derived),
    (Contract::OperatorRegistry, "ScoreSet", Handling::Derived),
    (Contract::OperatorRegistry, "TotalKeysChanged", Handling::Derived),
    (Contract::OperatorRegistry, "VettedLimitSet", Handling::Derived),
    (Contract::BondManager, "BondClaimed", Handling::Derived),
    (Contract::BondManager, "BondDeposited", Handling::Derived),
    (Contract::BondManager, "BondParamsSet", Handling::Derived),
    (Contract::BondManager, "BondPenalized", Handling::Derived),
    (Contract::BondManager, "ExitsSettled", Handling::Derived),
    (
        Contract::BondManager,
        "FrontRunChargesMigrated",
        Handling::EventsOnly(
            "an upgrade step's record of front-runs charged before the counter existed; each \
             charge was already served from its KeyFrontRun and LossCovered",
        ),
    ),
    (Contract::BondManager, "LayersSet", Handling::Derived),
    (Contract::BondManager, "LossCovered", Handling::Derived),
    (
        Contract::BondManager,
        "LossLayerApplied",
        Handling::EventsOnly("the same amounts arrive together in LossCovered"),
    ),
    (Contract::BondManager, "ParameterUpdated", Handling::Derived),
    (Contract::OperatorRewards, "ParameterUpdated", Handling::Derived),
    (Contract::OperatorRewards, "RewardsClaimed", Handling::Derived),
    (Contract::OperatorRewards, "RewardsRootSet", Handling::Derived),
    (Contract::ExitEnforcer, "ExitEnforced", Handling::Derived),
    (Contract::ExitEnforcer, "ParameterUpdated", Handling::Derived),
    (Contract::ExitEnforcer, "VoluntaryExitRequested", Handling::Derived),
    (Contract::VfpPool, "Approval", Handling::EventsOnly("VEF allowances are not served")),
    (
        Contract::VfpPool,
        "Deposited",
        Handling::EventsOnly("VFP depositor positions: not served yet"),
    ),
    (Contract::VfpPool, "LossAbsorbed", Handling::Derived),
    (Contract::VfpPool, "OperatorFunded", Handling::Derived),
    (Contract::VfpPool, "OperatorReleased", Handling::Derived),
    (Contract::VfpPool, "OperatorRewardsSet", Handling::Derived),
    (Contract::VfpPool, "ParameterUpdated", Handling::Derived),
    (Contract::VfpPool, "RewardsReceived", Handling::Derived),
    (
        Contract::VfpPool,
        "Transfer",
        Handling::EventsOnly("VFP depositor positions: not served yet"),
    ),
    (Contract::VfpPool, "VfpParamsSet", Handling::Derived),
    (
        Contract::VfpPool,
        "WithdrawalClaimed",
        Handling::EventsOnly("VFP depositor positions: not served yet"),
    ),
    (
        Contract::VfpPool,
        "WithdrawalRequested",
        Handling::EventsOnly("VFP depositor positions: not served yet"),
    ),
    (Contract::InsuranceFund, "LossCovered", Handling::Derived),
    (Contract::InsuranceFund, "ParameterUpdated", Handling::Derived),
    (Contract::OperatorsModule, "OperatorRewardsSet", Handling::Derived),
    (Contract::OperatorsModule, "OperatorsReportApplied", Handling::Derived),
    (Contract::OperatorsModule, "ParameterUpdated", Handling::Derived),
    (Contract::OperatorsModule, "PenaltyApplied", Handling::Derived),
    (Contract::OperatorsModule, "PreDepositForfeited", Handling::Derived),
    (Contract::OperatorsModule, "TypeFactorSet", Handling::Derived),
    (Contract::DepositSecurity, "OperatorListedSet", Handling::Derived),
    (Contract::DepositSecurity, "ParameterUpdated", Handling::Derived),
    (Contract::DepositSecurity, "PreDeposited", Handling::Derived),
    (Contract::DepositSecurity, "Swept", Handling::Derived),
    (Contract::DepositSecurity, "ToppedUp", Handling::Derived),
];

/// How `name` of `contract` is handled, if the table knows it.
pub fn handling(contract: Contract, name: &str) -> Option<Handling> {
    if COMMON_EVENTS.contains(&name) {
        return Some(Handling::EventsOnly("initialisation, roles, upgrades and pauses"));
    }
    EVENT_HANDLING.iter().find(|(c, n, _)| *c == contract && *n == name).map(|(_, _, h)| *h)
}

/// A decoded log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Event name (`Deposited`).
    pub name: &'static str,
    /// The decoded event, rendered (field names and values).
    pub args: String,
    /// Its state change, when the derived tables track it.
    pub effect: Option<Effect>,
}

/// Why a log could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("decode {contract} log (topic0 {topic0}): {message}")]
pub struct DecodeError {
    /// Contract name.
    pub contract: &'static str,
    /// The first topic.
    pub topic0: String,
    /// The ABI error, rendered (alloy's error type is large).
    pub message: String,
}

macro_rules! decode_with {
    ($events:ty, $contract:expr, $topics:expr, $data:expr, |$ev:ident| $effect:expr) => {{
        let $ev = <$events>::decode_raw_log($topics, $data).map_err(|e| DecodeError {
            contract: $contract.name(),
            topic0: $topics.first().map(|t| t.to_string()).unwrap_or_default(),
            message: e.to_string(),
        })?;
        let name =
            $topics.first().and_then(|t| <$events>::name_by_selector(t.0)).unwrap_or("unknown");
        Ok(Decoded { name, args: format!("{:?}", $ev), effect: $effect })
    }};
}

/// The name of a `ParameterUpdated` parameter: its bytes32 as text (`bytes32("exitDeadline")`),
/// or hex when it is not printable ASCII.
pub fn parameter_name(raw: B256) -> String {
    let trimmed: &[u8] = {
        let end = raw.0.iter().rposition(|b| *b != 0).map_or(0, |i| i.saturating_add(1));
        raw.0.get(..end).unwrap_or_default()
    };
    if !trimmed.is_empty() && trimmed.iter().all(|b| b.is_ascii_graphic()) {
        String::from_utf8_lossy(trimmed).into_owned()
    } else {
        raw.to_string()
    }
}

/// Operator type names, by `IOperatorRegistry.OperatorType` number.
pub const OPERATOR_TYPES: [&str; 4] = ["Professional", "Kyc", "Dvt", "Home"];

/// The name of an operator type number (`unknown` beyond the four).
pub fn operator_type_name(kind: u8) -> &'static str {
    OPERATOR_TYPES.get(usize::from(kind)).copied().unwrap_or("unknown")
}

fn params<const N: usize>(pairs: [(&str, String); N]) -> Option<Effect> {
    Some(Effect::Parameters(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn parameter(raw: B256, value: U256) -> Option<Effect> {
    params([(&parameter_name(raw), value.to_string())])
}

fn addr(a: Address) -> String {
    format!("{a:#x}")
}

/// Decodes one log of `contract`.
pub fn decode(contract: Contract, topics: &[B256], data: &[u8]) -> Result<Decoded, DecodeError> {
    match contract {
        Contract::StakePool => {
            use StakePool::StakePoolEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::Deposited(e) => Some(Effect::Deposited {
                    recipient: e.recipient,
                    amount: e.amount,
                    shares: e.shares,
                }),
                E::Transfer(e) => {
                    Some(Effect::ShareTransfer { from: e.from, to: e.to, value: e.value })
                }
                E::FlashExited(e) => Some(Effect::FlashExited { eth_out: e.ethOut }),
                E::OracleReportApplied(e) => Some(Effect::ReportApplied {
                    ref_slot: e.refSlot,
                    post_total: e.postTotalPooledEther,
                    total_shares: e.totalShares,
                }),
                E::WithdrawalsFinalized(e) => {
                    Some(Effect::PoolFinalized { ether_locked: e.etherLocked })
                }
                E::FeeRecipientsUpdated(e) => {
                    Some(Effect::FeeRecipients { insurance_fund: e.recipients.insuranceFund })
                }
                E::RewardFeeMinted(e) => {
                    Some(Effect::FeeMinted { insurance_shares: e.insuranceShares })
                }
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                E::FeesUpdated(e) => params([
                    ("fees.treasuryBps", e.fees.treasuryBps.to_string()),
                    ("fees.operatorsBps", e.fees.operatorsBps.to_string()),
                    ("fees.insuranceBps", e.fees.insuranceBps.to_string()),
                ]),
                E::ContractsUpdated(e) => params([
                    ("oracle", addr(e.contracts.oracle)),
                    ("withdrawalQueue", addr(e.contracts.withdrawalQueue)),
                    ("withdrawalVault", addr(e.contracts.withdrawalVault)),
                    ("elRewardsVault", addr(e.contracts.elRewardsVault)),
                    ("sanityChecker", addr(e.contracts.sanityChecker)),
                ]),
                E::AccessPolicyUpdated(e) => params([("accessPolicy", addr(e.policy))]),
                E::DepositModuleUpdated(e) => params([("depositModule", addr(e.module))]),
                E::CoverProviderUpdated(e) => params([(
                    &format!("coverProvider.{}", addr(e.provider)),
                    e.allowed.to_string(),
                )]),
                _ => None,
            })
        }
        Contract::WithdrawalQueue => {
            use WithdrawalQueue::WithdrawalQueueEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::WithdrawalRequested(e) => Some(Effect::WithdrawalRequested {
                    id: e.requestId,
                    owner: e.owner,
                    shares: e.shares,
                    ether: e.etherAmount,
                }),
                E::WithdrawalsFinalized(e) => Some(Effect::QueueFinalized { to: e.toRequestId }),
                E::WithdrawalClaimed(e) => {
                    Some(Effect::WithdrawalClaimed { id: e.requestId, amount: e.etherAmount })
                }
                E::Transfer(e) => Some(Effect::TicketTransfer { to: e.to, id: e.tokenId }),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::OracleReport => {
            use OracleReport::OracleReportEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::ReportSubmitted(e) => Some(Effect::ReportSubmitted {
                    ref_slot: e.refSlot,
                    report_hash: e.reportHash,
                    submitter: e.submitter,
                    signatures: e.signatures,
                }),
                E::ExtraDataChunkApplied(e) => Some(Effect::ExtraDataChunk {
                    ref_slot: e.refSlot,
                    index: e.index,
                    chunk_hash: e.chunkHash,
                    next_hash: e.nextHash,
                }),
                E::ExtraDataDropped(e) => Some(Effect::ExtraDataDropped {
                    ref_slot: e.refSlot,
                    chunks_applied: e.chunksApplied,
                    next_hash: e.nextHash,
                }),
                E::FrameConfigUpdated(e) => params([
                    ("frame.genesisTime", e.config.genesisTime.to_string()),
                    ("frame.secondsPerSlot", e.config.secondsPerSlot.to_string()),
                    ("frame.slotsPerEpoch", e.config.slotsPerEpoch.to_string()),
                    ("frame.epochsPerFrame", e.config.epochsPerFrame.to_string()),
                ]),
                E::QuorumUpdated(e) => params([("quorum", e.quorum.to_string())]),
                E::MemberAdded(e) => params([
                    (&format!("member.{}", addr(e.member)), "true".to_owned()),
                    ("quorum", e.quorum.to_string()),
                ]),
                E::MemberRemoved(e) => params([
                    (&format!("member.{}", addr(e.member)), "false".to_owned()),
                    ("quorum", e.quorum.to_string()),
                ]),
                E::OperatorsModuleSet(e) => params([("operatorsModule", addr(e.module))]),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::SanityChecker => {
            use SanityChecker::SanityCheckerEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::LimitsUpdated(e) => params([
                    ("limits.maxClAprBps", e.limits.maxClAprBps.to_string()),
                    (
                        "limits.maxPositiveRateChangePpm",
                        e.limits.maxPositiveRateChangePpm.to_string()
                    ),
                    (
                        "limits.maxUnexplainedClDropPpm",
                        e.limits.maxUnexplainedClDropPpm.to_string()
                    ),
                    (
                        "limits.maxAppearedValidatorsPerReport",
                        e.limits.maxAppearedValidatorsPerReport.to_string(),
                    ),
                    ("limits.slashingAllowanceGwei", e.limits.slashingAllowanceGwei.to_string()),
                    (
                        "limits.maxFinalizationRateDeviationBps",
                        e.limits.maxFinalizationRateDeviationBps.to_string(),
                    ),
                ]),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::WithdrawalVault => {
            use WithdrawalVault::WithdrawalVaultEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::EtherPulled(e) => Some(Effect::VaultPulled { amount: e.amount }),
                E::ExitEnforcerSet(e) => params([("exitEnforcer", addr(e.exitEnforcer))]),
                E::WithdrawalRequestAdded(e) => {
                    Some(Effect::Eip7002Request { pubkey: e.pubkey.clone(), fee: e.fee })
                }
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::ElRewardsVault => {
            use ElRewardsVault::ElRewardsVaultEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::EtherPulled(e) => Some(Effect::VaultPulled { amount: e.amount }),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::AccessRegistry => {
            use AccessRegistry::AccessRegistryEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::Allocator => {
            use Allocator::AllocatorEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::TargetsUpdated(e) => {
                    let t =
                        |i: usize| e.targetBps.get(i).map(ToString::to_string).unwrap_or_default();
                    params([
                        ("targetBps.Professional", t(0)),
                        ("targetBps.Kyc", t(1)),
                        ("targetBps.Dvt", t(2)),
                        ("targetBps.Home", t(3)),
                    ])
                }
                E::OperatorCapUpdated(e) => params([
                    ("operatorCapBps", e.capBps.to_string()),
                    ("operatorCapAbsolute", e.capAbsolute.to_string()),
                ]),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::OperatorRegistry => {
            use OperatorChange as C;
            use OperatorRegistry::OperatorRegistryEvents as E;
            decode_with!(E, contract, topics, data, |ev| {
                let op = |id: U256, change| Some(Effect::Operator { id, change });
                match &ev {
                    E::OperatorRegistered(e) => op(
                        e.operatorId,
                        C::Registered {
                            kind: e.operatorType,
                            manager: e.manager,
                            reward_address: e.rewardAddress,
                        },
                    ),
                    E::RewardAddressSet(e) => op(e.operatorId, C::RewardAddress(e.rewardAddress)),
                    E::KeysDeposited(e) => op(e.operatorId, C::Deposited(e.deposited)),
                    E::ExitedAndStuckUpdated(e) => {
                        op(e.operatorId, C::ExitedStuck { exited: e.exited, stuck: e.stuck })
                    }
                    E::ScoreSet(e) => op(e.operatorId, C::Score(e.score)),
                    E::OperatorStoppedSet(e) => op(e.operatorId, C::Stopped(e.stopped)),
                    E::TotalKeysChanged(e) => op(e.operatorId, C::TotalKeys(e.totalKeys)),
                    E::ExitRequested(e) => {
                        op(e.operatorId, C::ExitRequested { key: e.keyIndex, deadline: e.deadline })
                    }
                    E::ExitRequestCleared(e) => {
                        op(e.operatorId, C::ExitCleared { key: e.keyIndex })
                    }
                    E::KeyFrontRun(e) => op(e.operatorId, C::FrontRun { key: e.keyIndex }),
                    E::PreDepositsConfirmed(e) => op(e.operatorId, C::PreDepositsConfirmed(e.upTo)),
                    E::VettedLimitSet(e) => op(e.operatorId, C::VettedLimit(e.vettedLimit)),
                    E::ManagerChanged(e) => op(e.operatorId, C::ManagerChanged(e.manager)),
                    E::AccessRegistrySet(e) => params([
                        ("accessRegistry", addr(e.registry)),
                        ("kycMinTier", e.minTier.to_string()),
                    ]),
                    E::BondManagerSet(e) => params([("bondManager", addr(e.bondManager))]),
                    E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                    _ => None,
                }
            })
        }
        Contract::BondManager => {
            use BondManager::BondManagerEvents as E;
            use OperatorChange as C;
            decode_with!(E, contract, topics, data, |ev| {
                let op = |id: U256, change| Some(Effect::Operator { id, change });
                match &ev {
                    E::BondDeposited(e) => op(e.operatorId, C::BondDeposited(e.etherValue)),
                    E::BondClaimed(e) => op(e.operatorId, C::BondClaimed(e.etherValue)),
                    E::BondPenalized(e) => op(
                        e.operatorId,
                        C::Penalized { requested: e.etherRequested, covered: e.etherCovered },
                    ),
                    E::LossCovered(e) => op(
                        e.operatorId,
                        C::Loss {
                            loss: e.loss,
                            from_bond: e.fromBond,
                            from_vfp: e.fromVfp,
                            from_insurance: e.fromInsurance,
                            uncovered: e.uncovered,
                        },
                    ),
                    E::ExitsSettled(e) => op(e.operatorId, C::ExitsSettled(e.settledExits)),
                    E::LayersSet(e) => params([
                        ("vfpPool", addr(e.vfpPool)),
                        ("insuranceFund", addr(e.insuranceFund)),
                    ]),
                    E::BondParamsSet(e) => params([
                        ("bond.homeFirstKey", e.params.homeFirstKey.to_string()),
                        ("bond.homeNextKey", e.params.homeNextKey.to_string()),
                        ("bond.dvtPerValidator", e.params.dvtPerValidator.to_string()),
                        ("bond.floor", e.params.floor.to_string()),
                        ("bond.discountStartScore", e.params.discountStartScore.to_string()),
                    ]),
                    E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                    _ => None,
                }
            })
        }
        Contract::OperatorRewards => {
            use OperatorRewards::OperatorRewardsEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::RewardsClaimed(e) => Some(Effect::RewardsClaimed {
                    account: e.account,
                    shares: e.shares,
                    cumulative_shares: e.cumulativeShares,
                }),
                E::RewardsRootSet(e) => Some(Effect::RewardsRoot {
                    root: e.root,
                    cumulative_shares: e.cumulativeShares,
                    ref_slot: e.refSlot,
                }),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::VfpPool => {
            use OperatorChange as C;
            use VfpPool::VfpPoolEvents as E;
            decode_with!(E, contract, topics, data, |ev| {
                let op = |id: U256, change| Some(Effect::Operator { id, change });
                match &ev {
                    E::OperatorFunded(e) => {
                        op(e.operatorId, C::VfpFunded { shares: e.csShares, ether: e.etherValue })
                    }
                    E::OperatorReleased(e) => op(e.operatorId, C::VfpReleased(e.csShares)),
                    E::LossAbsorbed(e) => op(
                        e.operatorId,
                        C::VfpLossAbsorbed {
                            requested: e.csSharesRequested,
                            burned: e.csSharesBurned,
                        },
                    ),
                    E::RewardsReceived(e) => {
                        Some(Effect::VfpRewardsBooked { from: e.from, shares: e.csShares })
                    }
                    E::OperatorRewardsSet(e) => {
                        params([("operatorRewards", addr(e.operatorRewards))])
                    }
                    E::VfpParamsSet(e) => params([
                        ("vfp.scoreThresholdBps", e.params.scoreThresholdBps.to_string()),
                        ("vfp.rewardShareBps", e.params.rewardShareBps.to_string()),
                        ("vfp.totalCapBps", e.params.totalCapBps.to_string()),
                        ("vfp.maxMatchBps", e.params.maxMatchBps.to_string()),
                        ("vfp.perOperatorCap", e.params.perOperatorCap.to_string()),
                        ("vfp.withdrawalDelay", e.params.withdrawalDelay.to_string()),
                    ]),
                    E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                    _ => None,
                }
            })
        }
        Contract::InsuranceFund => {
            use InsuranceFund::InsuranceFundEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::LossCovered(e) => Some(Effect::InsuranceBurned {
                    shares_requested: e.sharesRequested,
                    shares_burned: e.sharesBurned,
                }),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
        Contract::OperatorsModule => {
            use OperatorChange as C;
            use OperatorsModule::OperatorsModuleEvents as E;
            decode_with!(E, contract, topics, data, |ev| {
                let op = |id: U256, change| Some(Effect::Operator { id, change });
                match &ev {
                    E::PenaltyApplied(e) => op(
                        e.operatorId,
                        C::PenaltyReported {
                            kind: e.kind,
                            amount: e.amountWei,
                            from_bond: e.fromBond,
                            uncovered: e.uncovered,
                        },
                    ),
                    E::PreDepositForfeited(e) => op(
                        e.operatorId,
                        C::PreDepositForfeited {
                            key: e.keyIndex,
                            from_bond: e.fromBond,
                            uncovered: e.uncovered,
                        },
                    ),
                    E::OperatorsReportApplied(e) => Some(Effect::OperatorsPart {
                        ref_slot: e.refSlot,
                        pre_deposits: e.preDeposits,
                        front_run: e.frontRun,
                        penalties: e.penalties,
                        exit_requests: e.exitRequests,
                        rewards_root: e.rewardsRoot,
                    }),
                    E::TypeFactorSet(e) => params([(
                        &format!("typeFactorBps.{}", operator_type_name(e.operatorType)),
                        e.factorBps.to_string(),
                    )]),
                    E::OperatorRewardsSet(e) => {
                        params([("operatorRewards", addr(e.operatorRewards))])
                    }
                    E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                    _ => None,
                }
            })
        }
        Contract::DepositSecurity => {
            use DepositSecurity::DepositSecurityEvents as E;
            use OperatorChange as C;
            decode_with!(E, contract, topics, data, |ev| {
                let op = |id: U256, change| Some(Effect::Operator { id, change });
                match &ev {
                    E::PreDeposited(e) => op(e.operatorId, C::PreDeposited { count: e.count }),
                    E::ToppedUp(e) => op(
                        e.operatorId,
                        C::ToppedUp { deposited: e.deposited, processed: e.processed },
                    ),
                    E::OperatorListedSet(e) => op(e.operatorId, C::DepositListed(e.listed)),
                    E::Swept(e) => Some(Effect::Swept { to: e.to, amount: e.amount }),
                    E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                    _ => None,
                }
            })
        }
        Contract::ExitEnforcer => {
            use ExitEnforcer::ExitEnforcerEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::ExitEnforced(e) => Some(Effect::Operator {
                    id: e.operatorId,
                    change: OperatorChange::ExitEnforced {
                        key: e.keyIndex,
                        deadline: e.deadline,
                        missed: e.missedExits,
                        caller: e.caller,
                        fee: e.fee,
                    },
                }),
                E::VoluntaryExitRequested(e) => Some(Effect::Operator {
                    id: e.operatorId,
                    change: OperatorChange::VoluntaryExitRequested { key: e.keyIndex },
                }),
                E::ParameterUpdated(e) => parameter(e.parameter, e.value),
                _ => None,
            })
        }
    }
}

/// Decodes the validator counts of an `OracleReport.submitReport` call's input, if it is one.
pub fn report_validators(input: &[u8]) -> Option<serde_json::Value> {
    use alloy::sol_types::SolCall;
    let call = OracleReport::submitReportCall::abi_decode(input).ok()?;
    let r = call.report;
    Some(serde_json::json!({
        "deposited": r.validatorsDeposited.to_string(),
        "active": r.validatorsActive.to_string(),
        "exited": r.validatorsExited.to_string(),
        "slashed": r.validatorsSlashed.to_string(),
        "clBalance": r.clBalance.to_string(),
        "finalizeUpToRequestId": r.finalizeUpToRequestId.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolEvent;
    use proptest::prelude::*;

    const ALL: [Contract; 16] = [
        Contract::StakePool,
        Contract::WithdrawalQueue,
        Contract::OracleReport,
        Contract::SanityChecker,
        Contract::WithdrawalVault,
        Contract::ElRewardsVault,
        Contract::AccessRegistry,
        Contract::Allocator,
        Contract::OperatorRegistry,
        Contract::BondManager,
        Contract::OperatorRewards,
        Contract::ExitEnforcer,
        Contract::VfpPool,
        Contract::InsuranceFund,
        Contract::OperatorsModule,
        Contract::DepositSecurity,
    ];

    #[test]
    fn decodes_a_deposit_into_its_effect() {
        let ev = StakePool::Deposited {
            sender: Address::repeat_byte(1),
            recipient: Address::repeat_byte(2),
            amount: U256::from(5u64),
            shares: U256::from(4u64),
        };
        let log = ev.encode_log_data();
        let d = decode(Contract::StakePool, log.topics(), &log.data).unwrap();
        assert_eq!(d.name, "Deposited");
        assert_eq!(
            d.effect,
            Some(Effect::Deposited {
                recipient: Address::repeat_byte(2),
                amount: U256::from(5u64),
                shares: U256::from(4u64)
            })
        );
        // The same bytes are not a WithdrawalQueue event.
        assert!(decode(Contract::WithdrawalQueue, log.topics(), &log.data).is_err());
    }

    /// Decodes an encoded event of `contract` and returns its operator id and change.
    fn operator_effect(
        contract: Contract,
        log: &alloy::primitives::LogData,
    ) -> (U256, OperatorChange) {
        match decode(contract, log.topics(), &log.data).unwrap().effect {
            Some(Effect::Operator { id, change }) => (id, change),
            other => panic!("{} log without an operator effect: {other:?}", contract.name()),
        }
    }

    #[test]
    fn operators_module_penalties_and_forfeits_are_operator_changes() {
        let id = U256::from(7u64);
        let log = OperatorsModule::PenaltyApplied {
            operatorId: id,
            kind: U256::from(2u64),
            amountWei: U256::from(300u64),
            fromBond: U256::from(200u64),
            uncovered: U256::from(40u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::OperatorsModule, &log),
            (
                id,
                OperatorChange::PenaltyReported {
                    kind: U256::from(2u64),
                    amount: U256::from(300u64),
                    from_bond: U256::from(200u64),
                    uncovered: U256::from(40u64),
                }
            )
        );
        let log = OperatorsModule::PreDepositForfeited {
            operatorId: id,
            keyIndex: U256::from(4u64),
            fromBond: U256::from(9u64),
            uncovered: U256::ZERO,
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::OperatorsModule, &log).1,
            OperatorChange::PreDepositForfeited {
                key: U256::from(4u64),
                from_bond: U256::from(9u64),
                uncovered: U256::ZERO
            }
        );
        // The part summary is a report effect, not an operator one.
        let log = OperatorsModule::OperatorsReportApplied {
            refSlot: U256::from(64u64),
            preDeposits: U256::from(1u64),
            frontRun: U256::ZERO,
            penalties: U256::from(1u64),
            exitRequests: U256::ZERO,
            rewardsRoot: B256::repeat_byte(5),
        }
        .encode_log_data();
        let d = decode(Contract::OperatorsModule, log.topics(), &log.data).unwrap();
        assert_eq!(
            (d.name, d.effect),
            (
                "OperatorsReportApplied",
                Some(Effect::OperatorsPart {
                    ref_slot: U256::from(64u64),
                    pre_deposits: U256::from(1u64),
                    front_run: U256::ZERO,
                    penalties: U256::from(1u64),
                    exit_requests: U256::ZERO,
                    rewards_root: B256::repeat_byte(5),
                })
            )
        );
        // Type factors are parameters named by type.
        let log =
            OperatorsModule::TypeFactorSet { operatorType: 3, factorBps: U256::from(8_000u64) }
                .encode_log_data();
        let d = decode(Contract::OperatorsModule, log.topics(), &log.data).unwrap();
        assert_eq!(
            d.effect,
            Some(Effect::Parameters(vec![("typeFactorBps.Home".into(), "8000".into())]))
        );
    }

    #[test]
    fn deposit_security_pre_deposits_top_ups_and_listing() {
        let id = U256::from(2u64);
        let log = DepositSecurity::PreDeposited {
            operatorId: id,
            fromIndex: U256::from(3u64),
            count: U256::from(2u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::DepositSecurity, &log),
            (id, OperatorChange::PreDeposited { count: U256::from(2u64) })
        );
        let log = DepositSecurity::ToppedUp {
            operatorId: id,
            processed: U256::from(2u64),
            deposited: U256::from(1u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::DepositSecurity, &log).1,
            OperatorChange::ToppedUp { deposited: U256::from(1u64), processed: U256::from(2u64) }
        );
        let log =
            DepositSecurity::OperatorListedSet { operatorId: id, listed: true }.encode_log_data();
        assert_eq!(
            operator_effect(Contract::DepositSecurity, &log).1,
            OperatorChange::DepositListed(true)
        );
        // A DepositSecurity log is not an OperatorsModule one.
        assert!(decode(Contract::OperatorsModule, log.topics(), &log.data).is_err());
    }

    #[test]
    fn vfp_pool_funding_and_losses_and_insurance_fund_cover() {
        let id = U256::from(9u64);
        let log = VfpPool::OperatorFunded {
            operatorId: id,
            csShares: U256::from(10u64),
            etherValue: U256::from(11u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::VfpPool, &log),
            (id, OperatorChange::VfpFunded { shares: U256::from(10u64), ether: U256::from(11u64) })
        );
        let log = VfpPool::OperatorReleased { operatorId: id, csShares: U256::from(3u64) }
            .encode_log_data();
        assert_eq!(
            operator_effect(Contract::VfpPool, &log).1,
            OperatorChange::VfpReleased(U256::from(3u64))
        );
        let log = VfpPool::LossAbsorbed {
            operatorId: id,
            csSharesRequested: U256::from(5u64),
            csSharesBurned: U256::from(4u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::VfpPool, &log).1,
            OperatorChange::VfpLossAbsorbed {
                requested: U256::from(5u64),
                burned: U256::from(4u64)
            }
        );
        let log = InsuranceFund::LossCovered {
            sharesRequested: U256::from(8u64),
            sharesBurned: U256::from(8u64),
        }
        .encode_log_data();
        let d = decode(Contract::InsuranceFund, log.topics(), &log.data).unwrap();
        assert_eq!(
            (d.name, d.effect),
            (
                "LossCovered",
                Some(Effect::InsuranceBurned {
                    shares_requested: U256::from(8u64),
                    shares_burned: U256::from(8u64)
                })
            )
        );
        assert!(d.args.contains("sharesBurned"), "{}", d.args);
    }

    #[test]
    fn sources_follow_the_new_per_pool_keys() {
        let mut json = serde_json::json!({
            "chainId": 31337, "genesisTime": 0, "secondsPerSlot": 12, "slotsPerEpoch": 32,
            "epochsPerFrame": 225, "oracleQuorum": 2, "oracleMembers": [],
            "timelock": Address::repeat_byte(1).to_string(),
            "depositContract": Address::repeat_byte(2).to_string(),
        });
        for (n, k) in [
            "stakePool",
            "withdrawalQueue",
            "oracleReport",
            "sanityChecker",
            "withdrawalVault",
            "elRewardsVault",
        ]
        .into_iter()
        .enumerate()
        {
            let n = u8::try_from(n).unwrap();
            json[k] = serde_json::json!(Address::repeat_byte(0x10 + n).to_string());
            let kyc = format!("kyc{}{}", k[..1].to_uppercase(), &k[1..]);
            json[kyc] = serde_json::json!(Address::repeat_byte(0x20 + n).to_string());
        }
        let keys = ["vfpPool", "insuranceFund", "operatorsModule", "depositSecurity"];
        for (i, k) in keys.iter().enumerate() {
            let b = u8::try_from(i).unwrap();
            json[*k] = serde_json::json!(Address::repeat_byte(0xa0 + b).to_string());
            let kyc = format!("kyc{}{}", k[..1].to_uppercase(), &k[1..]);
            json[kyc] = serde_json::json!(Address::repeat_byte(0xb0 + b).to_string());
        }
        let d = Deployment::parse(&json.to_string()).unwrap();
        let s = sources(&d);
        for (i, c) in [
            Contract::VfpPool,
            Contract::InsuranceFund,
            Contract::OperatorsModule,
            Contract::DepositSecurity,
        ]
        .into_iter()
        .enumerate()
        {
            let b = u8::try_from(i).unwrap();
            for (pool, byte) in [("public", 0xa0 + b), ("kyc", 0xb0 + b)] {
                let want = Source { address: Address::repeat_byte(byte), contract: c, pool };
                assert!(s.contains(&want), "{want:?} not followed");
            }
        }
    }

    /// The ABI file (written by `scripts/bindings`) of a followed contract.
    fn abi_file(c: Contract) -> std::path::PathBuf {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bindings/abi");
        let path = dir.join(format!("{}.json", c.name()));
        assert!(path.exists(), "no ABI for {} at {}", c.name(), path.display());
        path
    }

    /// Canonical type of an ABI parameter (tuples expanded).
    fn canonical(p: &serde_json::Value) -> String {
        let ty = p["type"].as_str().unwrap();
        match ty.strip_prefix("tuple") {
            Some(suffix) => {
                let inner: Vec<String> =
                    p["components"].as_array().unwrap().iter().map(canonical).collect();
                format!("({}){suffix}", inner.join(","))
            }
            None => ty.to_owned(),
        }
    }

    /// ABI encoding of the zero value of a parameter: (dynamic, bytes).
    fn zero(ty: &str, components: Option<&Vec<serde_json::Value>>) -> (bool, Vec<u8>) {
        if let Some(open) = ty.rfind('[') {
            let (elem, dim) = (&ty[..open], &ty[open + 1..ty.len() - 1]);
            if dim.is_empty() {
                return (true, vec![0; 32]); // empty dynamic array: length 0
            }
            let n: usize = dim.parse().unwrap();
            let items: Vec<(bool, Vec<u8>)> = (0..n).map(|_| zero(elem, components)).collect();
            return tuple(items);
        }
        match ty {
            "bytes" | "string" => (true, vec![0; 32]),
            "tuple" => {
                let items = components
                    .unwrap()
                    .iter()
                    .map(|c| zero(c["type"].as_str().unwrap(), c["components"].as_array()))
                    .collect();
                tuple(items)
            }
            _ => (false, vec![0; 32]),
        }
    }

    fn tuple(items: Vec<(bool, Vec<u8>)>) -> (bool, Vec<u8>) {
        let dynamic = items.iter().any(|(d, _)| *d);
        let head_len: usize = items.iter().map(|(d, b)| if *d { 32 } else { b.len() }).sum();
        let (mut head, mut tail) = (Vec::new(), Vec::new());
        for (d, b) in items {
            if d {
                head.extend(U256::from(head_len + tail.len()).to_be_bytes::<32>());
                tail.extend(b);
            } else {
                head.extend(b);
            }
        }
        head.extend(tail);
        (dynamic, head)
    }

    /// A log of `event` (ABI JSON) with zero arguments.
    fn zero_log(event: &serde_json::Value) -> (Vec<B256>, Vec<u8>) {
        let inputs = event["inputs"].as_array().unwrap();
        let sig = format!(
            "{}({})",
            event["name"].as_str().unwrap(),
            inputs.iter().map(canonical).collect::<Vec<_>>().join(",")
        );
        let mut topics = vec![alloy::primitives::keccak256(sig.as_bytes())];
        let mut data = Vec::new();
        for p in inputs {
            if p["indexed"].as_bool() == Some(true) {
                topics.push(B256::ZERO);
            } else {
                data.push(zero(p["type"].as_str().unwrap(), p["components"].as_array()));
            }
        }
        (topics, tuple(data).1)
    }

    /// Decodes a zero log of every event in `events` as `contract` and checks it against the
    /// handling table; returns the names seen.
    fn check_events(contract: Contract, events: &[serde_json::Value], source: &str) -> Vec<String> {
        let mut seen = Vec::new();
        for ev in events {
            let name = ev["name"].as_str().unwrap();
            let (topics, data) = zero_log(ev);
            let d = decode(contract, &topics, &data).unwrap_or_else(|e| {
                panic!("{source}: {}.{name} has no decoder: {e}", contract.name())
            });
            assert_eq!(
                d.name,
                name,
                "{source}: {}.{name} decoded as another event",
                contract.name()
            );
            match handling(contract, name) {
                None => panic!(
                    "{source}: {}.{name} is not classified in decode::EVENT_HANDLING",
                    contract.name()
                ),
                Some(Handling::Derived) => assert!(
                    d.effect.is_some(),
                    "{}.{name} is Derived but yields no effect",
                    contract.name()
                ),
                Some(Handling::EventsOnly(_)) => assert!(
                    d.effect.is_none(),
                    "{}.{name} yields an effect but is classified EventsOnly",
                    contract.name()
                ),
            }
            seen.push(name.to_owned());
        }
        seen
    }

    #[test]
    fn every_abi_event_of_a_followed_contract_is_classified_and_decoded() {
        let mut known: Vec<(Contract, String)> = Vec::new();
        for c in ALL {
            let f = abi_file(c);
            let abi: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let abi = abi.get("abi").cloned().unwrap_or(abi);
            let events: Vec<serde_json::Value> =
                abi.as_array().unwrap().iter().filter(|e| e["type"] == "event").cloned().collect();
            assert!(!events.is_empty(), "{} declares no event", f.display());
            let source = f.display().to_string();
            known.extend(check_events(c, &events, &source).into_iter().map(|n| (c, n)));
        }
        // No stale entries: every classified event exists in an ABI.
        for (c, name, _) in EVENT_HANDLING {
            assert!(
                known.iter().any(|(k, n)| k == c && n == name),
                "decode::EVENT_HANDLING lists {}.{name}, which no ABI declares",
                c.name()
            );
        }
    }

    #[test]
    fn the_zero_log_encoder_matches_the_bindings() {
        // The test's own encoder against alloy's, on an event with a tuple and one with bytes.
        let abi: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../bindings/abi/ExitEnforcer.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let abi = abi.get("abi").cloned().unwrap_or(abi);
        let ev = abi.as_array().unwrap().iter().find(|e| e["name"] == "ExitEnforced").unwrap();
        let (topics, data) = zero_log(ev);
        let log = ExitEnforcer::ExitEnforced {
            operatorId: U256::ZERO,
            keyIndex: U256::ZERO,
            pubkey: Default::default(),
            caller: Address::ZERO,
            fee: U256::ZERO,
            deadline: U256::ZERO,
            missedExits: U256::ZERO,
        }
        .encode_log_data();
        assert_eq!((topics.as_slice(), data.as_slice()), (log.topics(), log.data.as_ref()));
    }

    #[test]
    fn vault_events_are_decoded_on_their_own_vault_only() {
        let log = WithdrawalVault::WithdrawalRequestAdded {
            pubkey: vec![0xab; 48].into(),
            fee: U256::from(3u64),
        }
        .encode_log_data();
        // topic0 0xb0af…: the vault's EIP-7002 request, with its fee.
        let d = decode(Contract::WithdrawalVault, log.topics(), &log.data).unwrap();
        assert_eq!(d.name, "WithdrawalRequestAdded");
        assert_eq!(
            d.effect,
            Some(Effect::Eip7002Request { pubkey: vec![0xab; 48].into(), fee: U256::from(3u64) })
        );
        // The EL-rewards vault has no such event: the same log there is refused (kept raw).
        assert!(decode(Contract::ElRewardsVault, log.topics(), &log.data).is_err());
        let log = WithdrawalVault::ExitEnforcerSet { exitEnforcer: Address::repeat_byte(7) }
            .encode_log_data();
        assert_eq!(
            log.topics()[0].to_string(),
            "0x25733a416c641a381f49eeeabe2fec96d5733c23e27aefbdb55448b73d6f0e70",
            "the topic the devnet logged as unknown"
        );
        let d = decode(Contract::WithdrawalVault, log.topics(), &log.data).unwrap();
        assert_eq!(
            d.effect,
            Some(Effect::Parameters(vec![(
                "exitEnforcer".into(),
                format!("{:#x}", Address::repeat_byte(7))
            )]))
        );
        // The events both vaults inherit from PoolVault decode on either.
        let log = ElRewardsVault::EtherPulled { pool: Address::ZERO, amount: U256::from(9u64) }
            .encode_log_data();
        for c in [Contract::WithdrawalVault, Contract::ElRewardsVault] {
            let d = decode(c, log.topics(), &log.data).unwrap();
            assert_eq!(d.effect, Some(Effect::VaultPulled { amount: U256::from(9u64) }));
        }
    }

    #[test]
    fn report_chunks_drops_rewards_and_parameters() {
        let log = OracleReport::ExtraDataChunkApplied {
            refSlot: U256::from(320u64),
            index: U256::from(1u64),
            chunkHash: B256::repeat_byte(1),
            nextHash: B256::ZERO,
        }
        .encode_log_data();
        assert_eq!(
            decode(Contract::OracleReport, log.topics(), &log.data).unwrap().effect,
            Some(Effect::ExtraDataChunk {
                ref_slot: U256::from(320u64),
                index: U256::from(1u64),
                chunk_hash: B256::repeat_byte(1),
                next_hash: B256::ZERO
            })
        );
        let log = OracleReport::ExtraDataDropped {
            refSlot: U256::from(320u64),
            chunksApplied: U256::from(2u64),
            nextHash: B256::repeat_byte(2),
        }
        .encode_log_data();
        assert_eq!(
            decode(Contract::OracleReport, log.topics(), &log.data).unwrap().effect,
            Some(Effect::ExtraDataDropped {
                ref_slot: U256::from(320u64),
                chunks_applied: U256::from(2u64),
                next_hash: B256::repeat_byte(2)
            })
        );
        let log = OperatorsModule::ParameterUpdated {
            parameter: B256::right_padding_from(b"missedExitPenalty"),
            value: U256::from(5u64),
        }
        .encode_log_data();
        assert_eq!(
            decode(Contract::OperatorsModule, log.topics(), &log.data).unwrap().effect,
            Some(Effect::Parameters(vec![("missedExitPenalty".into(), "5".into())]))
        );
        assert_eq!(parameter_name(B256::repeat_byte(0xff)), B256::repeat_byte(0xff).to_string());
        let log =
            VfpPool::RewardsReceived { from: Address::repeat_byte(3), csShares: U256::from(4u64) }
                .encode_log_data();
        assert_eq!(
            decode(Contract::VfpPool, log.topics(), &log.data).unwrap().effect,
            Some(Effect::VfpRewardsBooked {
                from: Address::repeat_byte(3),
                shares: U256::from(4u64)
            })
        );
        let log = BondManager::LossCovered {
            operatorId: U256::from(2u64),
            loss: U256::from(10u64),
            fromBond: U256::from(4u64),
            fromVfp: U256::from(3u64),
            fromInsurance: U256::from(2u64),
            uncovered: U256::from(1u64),
        }
        .encode_log_data();
        assert_eq!(
            operator_effect(Contract::BondManager, &log).1,
            OperatorChange::Loss {
                loss: U256::from(10u64),
                from_bond: U256::from(4u64),
                from_vfp: U256::from(3u64),
                from_insurance: U256::from(2u64),
                uncovered: U256::from(1u64)
            }
        );
        let log = DepositSecurity::Swept { to: Address::repeat_byte(4), amount: U256::from(6u64) }
            .encode_log_data();
        assert_eq!(
            decode(Contract::DepositSecurity, log.topics(), &log.data).unwrap().effect,
            Some(Effect::Swept { to: Address::repeat_byte(4), amount: U256::from(6u64) })
        );
    }

    proptest! {
        /// Untrusted bytes from the node never panic the decoder: they decode or are refused.
        #[test]
        fn arbitrary_logs_never_panic(
            which in 0usize..ALL.len(),
            topics in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
            data in proptest::collection::vec(any::<u8>(), 0..300),
            real_topic0 in any::<bool>(),
        ) {
            let mut topics: Vec<B256> = topics.into_iter().map(B256::from).collect();
            if real_topic0 && !topics.is_empty() {
                // Aim at real selectors so the data decoders run too.
                topics[0] = StakePool::Deposited::SIGNATURE_HASH;
            }
            let _outcome = decode(ALL[which], &topics, &data);
        }

        /// Truncated calldata never panics the report decoder.
        #[test]
        fn arbitrary_calldata_never_panics(input in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _outcome = report_validators(&input);
        }
    }
}
