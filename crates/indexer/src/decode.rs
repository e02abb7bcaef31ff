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
    deposit_security::DepositSecurity, exit_enforcer::ExitEnforcer, insurance_fund::InsuranceFund,
    operator_registry::OperatorRegistry, operator_rewards::OperatorRewards,
    operators_module::OperatorsModule, oracle_report::OracleReport, pool_vault::PoolVault,
    sanity_checker::SanityChecker, stake_pool::StakePool, vfp_pool::VfpPool,
    withdrawal_queue::WithdrawalQueue,
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
    /// `PoolVault` (withdrawal vault, EL-rewards vault).
    PoolVault,
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
            Self::PoolVault => "PoolVault",
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
            Source { address: a.withdrawal_vault, contract: Contract::PoolVault, pool },
            Source { address: a.el_rewards_vault, contract: Contract::PoolVault, pool },
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
    },
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
    /// A loss through the waterfall.
    Loss {
        /// Total loss.
        loss: U256,
        /// Not covered by any layer.
        uncovered: U256,
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
    },
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
                _ => None,
            })
        }
        Contract::SanityChecker => {
            decode_with!(SanityChecker::SanityCheckerEvents, contract, topics, data, |_ev| None)
        }
        Contract::PoolVault => {
            decode_with!(PoolVault::PoolVaultEvents, contract, topics, data, |_ev| None)
        }
        Contract::AccessRegistry => {
            decode_with!(AccessRegistry::AccessRegistryEvents, contract, topics, data, |_ev| None)
        }
        Contract::Allocator => {
            decode_with!(Allocator::AllocatorEvents, contract, topics, data, |_ev| None)
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
                    E::LossCovered(e) => {
                        op(e.operatorId, C::Loss { loss: e.loss, uncovered: e.uncovered })
                    }
                    _ => None,
                }
            })
        }
        Contract::OperatorRewards => {
            use OperatorRewards::OperatorRewardsEvents as E;
            decode_with!(E, contract, topics, data, |ev| match &ev {
                E::RewardsClaimed(e) => {
                    Some(Effect::RewardsClaimed { account: e.account, shares: e.shares })
                }
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
                    _ => None,
                }
            })
        }
        Contract::InsuranceFund => {
            decode_with!(InsuranceFund::InsuranceFundEvents, contract, topics, data, |_ev| None)
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
                    },
                }),
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

    const ALL: [Contract; 15] = [
        Contract::StakePool,
        Contract::WithdrawalQueue,
        Contract::OracleReport,
        Contract::SanityChecker,
        Contract::PoolVault,
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
        // The report summary is decoded and stored, without an operator effect.
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
        assert_eq!((d.name, d.effect), ("OperatorsReportApplied", None));
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
        assert_eq!((d.name, d.effect), ("LossCovered", None));
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
