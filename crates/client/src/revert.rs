//! Turns a contract's revert data into words: the custom errors of the bindings' error enums,
//! `Error(string)`, `Panic(uint256)`; anything else shows its selector and raw data.

use std::fmt;

use alloy::{
    primitives::{Bytes, U256, hex},
    sol_types::{Panic, Revert as RevertReason, SolError, SolInterface},
};
use claystack_bindings::{
    access_registry::AccessRegistry::AccessRegistryErrors,
    bond_manager::BondManager::BondManagerErrors,
    deposit_security::DepositSecurity::DepositSecurityErrors,
    exit_enforcer::ExitEnforcer::ExitEnforcerErrors,
    operator_registry::OperatorRegistry::OperatorRegistryErrors,
    stake_pool::StakePool::StakePoolErrors,
    withdrawal_queue::WithdrawalQueue::WithdrawalQueueErrors,
};
use claystack_consensus::Wei;

use crate::amount::format_eth;

/// A decoded revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// A `StakePool` error (also the pool's token errors).
    Pool(StakePoolErrors),
    /// A `WithdrawalQueue` error.
    Queue(WithdrawalQueueErrors),
    /// An `AccessRegistry` error, bubbled up through a pool's access policy.
    Access(AccessRegistryErrors),
    /// An `OperatorRegistry` error.
    Registry(OperatorRegistryErrors),
    /// A `BondManager` error.
    Bonds(BondManagerErrors),
    /// A `DepositSecurity` error.
    Deposits(DepositSecurityErrors),
    /// An `ExitEnforcer` error.
    Exits(ExitEnforcerErrors),
    /// `require(…, "reason")` / `revert("reason")`.
    Reason(String),
    /// A Solidity panic (assert, arithmetic, …) with its code.
    Panic(U256),
    /// A revert without data.
    Empty,
    /// Data that matches no known error.
    Unknown {
        /// The first four bytes (absent when shorter).
        selector: Option<[u8; 4]>,
        /// The whole revert data.
        data: Bytes,
    },
}

impl Revert {
    /// Decodes revert data; never fails (unknown data becomes [`Revert::Unknown`]).
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        if data.is_empty() {
            return Self::Empty;
        }
        if let Ok(e) = StakePoolErrors::abi_decode(data) {
            return Self::Pool(e);
        }
        if let Ok(e) = WithdrawalQueueErrors::abi_decode(data) {
            return Self::Queue(e);
        }
        if let Ok(e) = AccessRegistryErrors::abi_decode(data) {
            return Self::Access(e);
        }
        if let Ok(e) = OperatorRegistryErrors::abi_decode(data) {
            return Self::Registry(e);
        }
        if let Ok(e) = BondManagerErrors::abi_decode(data) {
            return Self::Bonds(e);
        }
        if let Ok(e) = DepositSecurityErrors::abi_decode(data) {
            return Self::Deposits(e);
        }
        if let Ok(e) = ExitEnforcerErrors::abi_decode(data) {
            return Self::Exits(e);
        }
        if let Ok(r) = RevertReason::abi_decode(data) {
            return Self::Reason(r.reason);
        }
        if let Ok(p) = Panic::abi_decode(data) {
            return Self::Panic(p.code);
        }
        let selector = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        Self::Unknown { selector, data: Bytes::copy_from_slice(data) }
    }

    /// Whether this is the given `StakePool` / queue / access error by its Solidity name.
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        self.name() == name
    }

    /// The Solidity error name (`DepositBelowMinimum`, `Error`, `Panic`, `unknown`).
    #[must_use]
    pub fn name(&self) -> String {
        let debug = match self {
            Self::Pool(e) => format!("{e:?}"),
            Self::Queue(e) => format!("{e:?}"),
            Self::Access(e) => format!("{e:?}"),
            Self::Registry(e) => format!("{e:?}"),
            Self::Bonds(e) => format!("{e:?}"),
            Self::Deposits(e) => format!("{e:?}"),
            Self::Exits(e) => format!("{e:?}"),
            Self::Reason(_) => return "Error".into(),
            Self::Panic(_) => return "Panic".into(),
            Self::Empty => return "empty".into(),
            Self::Unknown { .. } => return "unknown".into(),
        };
        debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned()
    }
}

fn eth(v: U256) -> String {
    u128::try_from(v).map_or_else(|_| format!("{v} wei"), |w| format_eth(Wei(w)))
}

/// Formats share amounts (18 decimals like ETH) as token units.
fn tokens(v: U256) -> String {
    u128::try_from(v).map_or_else(
        |_| format!("{v} share units"),
        |w| format!("{} shares", crate::amount::format_ether(Wei(w))),
    )
}

fn panic_meaning(code: U256) -> &'static str {
    match u8::try_from(code).unwrap_or(0) {
        0x01 => "assertion failed",
        0x11 => "arithmetic overflow or underflow",
        0x12 => "division by zero",
        0x21 => "invalid enum value",
        0x32 => "array index out of bounds",
        0x41 => "out of memory",
        _ => "unexpected panic",
    }
}

fn pool_message(e: &StakePoolErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use StakePoolErrors as E;
    match e {
        E::ZeroDeposit(_) => write!(f, "nothing to deposit: the amount is zero"),
        E::DepositBelowMinimum(x) => write!(
            f,
            "deposit below minimum: {} is less than the pool's minimum deposit of {}",
            eth(x.amount),
            eth(x.minimum)
        ),
        E::DailyStakeLimitExceeded(x) => write!(
            f,
            "daily stake limit reached: {} requested, only {} can still be staked today",
            eth(x.requested),
            eth(x.remaining)
        ),
        E::ZeroShares(x) => write!(f, "{} is too small to mint any shares", eth(x.amount)),
        E::UnstakeAboveMaximum(x) => write!(
            f,
            "unstake too large: {} requested, at most {} may leave at once",
            tokens(x.shares),
            tokens(x.maxShares)
        ),
        E::InsufficientFlashLiquidity(x) => write!(
            f,
            "Flash Exit liquidity too low: it needs {}, the pool has {} available now; \
             use `unstake` (the withdrawal queue) instead",
            eth(x.needed),
            eth(x.available)
        ),
        E::SlippageExceeded(x) => write!(
            f,
            "slippage: the Flash Exit would pay {}, below your minimum of {}",
            eth(x.ethOut),
            eth(x.minEthOut)
        ),
        E::InsufficientBuffer(x) => write!(
            f,
            "buffer too small: {} requested, {} available",
            eth(x.requested),
            eth(x.available)
        ),
        E::EnforcedPause(_) => write!(f, "paused: the guardian has paused this contract"),
        E::ERC20InsufficientBalance(x) => write!(
            f,
            "insufficient balance: {} holds {}, {} needed",
            x.sender,
            tokens(x.balance),
            tokens(x.needed)
        ),
        E::ERC20InsufficientAllowance(x) => write!(
            f,
            "insufficient allowance: {} may spend {}, {} needed",
            x.spender,
            tokens(x.allowance),
            tokens(x.needed)
        ),
        E::InsufficientBalance(x) => write!(
            f,
            "insufficient ETH balance: {} available, {} needed",
            eth(x.balance),
            eth(x.needed)
        ),
        E::EmptyPool(_) => write!(f, "the pool is empty"),
        E::ExtraDataPending(x) => write!(
            f,
            "deposits are on hold: the oracle report for slot {} still has extra-data chunks to \
             deliver (they restore losses the report booked); try again after they land, at the \
             latest when the oracle frame ends",
            x.refSlot
        ),
        E::UnauthorizedCaller(x) => {
            write!(f, "unauthorized caller {}: only {} may call this", x.caller, x.expected)
        }
        E::AccessControlUnauthorizedAccount(x) => {
            write!(f, "{} lacks the role {} this call needs", x.account, x.neededRole)
        }
        E::ZeroAddress(_) => write!(f, "an address argument is zero"),
        other => write!(f, "{other:?}"),
    }
}

fn queue_message(e: &WithdrawalQueueErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use WithdrawalQueueErrors as E;
    match e {
        E::RequestTooSmall(x) => write!(
            f,
            "withdrawal below minimum: {} is less than the queue's minimum of {}",
            eth(x.etherAmount),
            eth(x.minimum)
        ),
        E::RequestTooLarge(x) => write!(
            f,
            "withdrawal above maximum: {} is more than the queue's maximum of {} per request",
            eth(x.etherAmount),
            eth(x.maximum)
        ),
        E::NotRequestOwner(x) => {
            write!(f, "ticket #{} does not belong to {}", x.requestId, x.caller)
        }
        E::RequestNotFinalized(x) => write!(
            f,
            "ticket #{} is not finalized yet (the queue is finalized up to #{})",
            x.requestId, x.lastFinalizedRequestId
        ),
        E::RequestNotFound(x) => write!(f, "ticket #{} does not exist", x.requestId),
        E::RequestAlreadyClaimed(x) => write!(f, "ticket #{} was already claimed", x.requestId),
        E::EnforcedPause(_) => write!(f, "paused: the guardian has paused withdrawals"),
        E::InsufficientBalance(x) => write!(
            f,
            "insufficient ETH balance: {} available, {} needed",
            eth(x.balance),
            eth(x.needed)
        ),
        other => write!(f, "{other:?}"),
    }
}

fn access_message(e: &AccessRegistryErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use AccessRegistryErrors as E;
    match e {
        E::NotAttested(x) => write!(
            f,
            "not attested: {} has no valid KYC attestation of tier {} or higher; \
             ask a KYC provider to attest it first",
            x.account, x.minTier
        ),
        E::AttestationExpired(x) => write!(
            f,
            "attestation expired: the KYC attestation of {} expired at unix time {}; \
             ask a KYC provider to renew it",
            x.account, x.expiredAt
        ),
        E::Denied(x) => write!(f, "denied: {} is on the sanctions denylist", x.account),
        other => write!(f, "{other:?}"),
    }
}

fn registry_message(e: &OperatorRegistryErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use OperatorRegistryErrors as E;
    match e {
        E::OperatorNotFound(x) => write!(f, "operator #{} does not exist", x.operatorId),
        E::NotOperatorManager(x) => {
            write!(f, "{} is not the manager of operator #{}", x.caller, x.operatorId)
        }
        E::NotAdmissible(x) => write!(
            f,
            "operators of type {} cannot register themselves: governance admits them",
            x.operatorType
        ),
        E::NotAttested(x) => write!(
            f,
            "not attested: {} has no valid KYC attestation of tier {} or higher",
            x.account, x.minTier
        ),
        E::RegistrationBondTooLow(x) => write!(
            f,
            "bond too low: {} sent, registration needs at least {}",
            eth(x.sent),
            eth(x.required)
        ),
        E::InvalidCluster(x) => {
            write!(f, "invalid cluster: {} members with threshold {}", x.members, x.threshold)
        }
        E::OperatorStopped(x) => write!(f, "operator #{} is stopped by governance", x.operatorId),
        E::InvalidBatchSize(x) => {
            write!(f, "batch of {} keys: between 1 and {} per call", x.count, x.max)
        }
        E::KeyAlreadyRegistered(x) => {
            write!(f, "key already registered (operator #{}, key {})", x.operatorId, x.keyIndex)
        }
        E::EnforcedPause(_) => write!(f, "paused: the guardian has paused the operator registry"),
        other => write!(f, "{other:?}"),
    }
}

fn bonds_message(e: &BondManagerErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use BondManagerErrors as E;
    match e {
        E::NotOperatorManager(x) => {
            write!(f, "{} is not the manager of operator #{}", x.caller, x.operatorId)
        }
        E::ZeroAmount(_) => write!(f, "the amount is zero"),
        E::BondHeldForExtraData(x) => write!(
            f,
            "operator #{}'s bond and VFP backing are held: the oracle report for slot {} still has \
             extra-data chunks to deliver (a later chunk may charge the operator); try again after \
             they land, at the latest when the oracle frame ends",
            x.operatorId, x.refSlot
        ),
        E::ClaimExceedsExcess(x) => write!(
            f,
            "claim too large: {} requested, {} of bond is above the requirement",
            tokens(x.requested),
            tokens(x.available)
        ),
        other => write!(f, "{other:?}"),
    }
}

fn exits_message(e: &ExitEnforcerErrors, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use ExitEnforcerErrors as E;
    match e {
        E::NoPendingExitRequest(x) => write!(
            f,
            "no pending exit request for key {} of operator #{}",
            x.keyIndex, x.operatorId
        ),
        E::ExitDeadlineNotPassed(x) => write!(
            f,
            "the exit deadline (unix {}) of key {} of operator #{} has not passed",
            x.deadline, x.keyIndex, x.operatorId
        ),
        E::ExitAlreadyEnforced(x) => write!(
            f,
            "the exit of key {} of operator #{} was already forced",
            x.keyIndex, x.operatorId
        ),
        E::InsufficientFee(x) => {
            write!(f, "EIP-7002 fee too low: {} wei sent, {} wei needed", x.sent, x.fee)
        }
        other => write!(f, "{other:?}"),
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pool(e) => pool_message(e, f),
            Self::Queue(e) => queue_message(e, f),
            Self::Access(e) => access_message(e, f),
            Self::Registry(e) => registry_message(e, f),
            Self::Bonds(e) => bonds_message(e, f),
            Self::Deposits(e) => write!(f, "{e:?}"),
            Self::Exits(e) => exits_message(e, f),
            Self::Reason(r) => write!(f, "reverted: {r}"),
            Self::Panic(code) => write!(f, "panic 0x{code:x}: {}", panic_meaning(*code)),
            Self::Empty => write!(f, "reverted without a reason"),
            Self::Unknown { selector: Some(s), data } => {
                write!(f, "unknown error (selector 0x{}, data {data})", hex::encode(s))
            }
            Self::Unknown { selector: None, data } => write!(f, "unknown revert data {data}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;
    use claystack_bindings::{
        access_registry::AccessRegistry, stake_pool::StakePool, withdrawal_queue::WithdrawalQueue,
    };

    const ETH: u128 = crate::amount::WEI_PER_ETH;

    fn u(v: u128) -> U256 {
        U256::from(v)
    }

    #[test]
    fn pool_errors_in_words() {
        let data =
            StakePool::DepositBelowMinimum { amount: u(ETH / 10_000), minimum: u(ETH / 1000) }
                .abi_encode();
        let r = Revert::decode(&data);
        assert_eq!(r.name(), "DepositBelowMinimum");
        assert_eq!(
            r.to_string(),
            "deposit below minimum: 0.0001 ETH is less than the pool's minimum deposit of 0.001 ETH"
        );
        let data =
            StakePool::SlippageExceeded { ethOut: u(ETH), minEthOut: u(2 * ETH) }.abi_encode();
        assert_eq!(
            Revert::decode(&data).to_string(),
            "slippage: the Flash Exit would pay 1 ETH, below your minimum of 2 ETH"
        );
        let data = StakePool::EnforcedPause {}.abi_encode();
        assert!(Revert::decode(&data).to_string().starts_with("paused"));
        let data = claystack_bindings::bond_manager::BondManager::BondHeldForExtraData {
            operatorId: u(7),
            refSlot: u(6_400),
        }
        .abi_encode();
        let r = Revert::decode(&data);
        assert!(
            r.to_string().starts_with(
                "operator #7's bond and VFP backing are held: the oracle report for slot 6400"
            ),
            "{r}"
        );
        let data = StakePool::ExtraDataPending { refSlot: u(6_400) }.abi_encode();
        let r = Revert::decode(&data);
        assert_eq!(r.name(), "ExtraDataPending");
        assert!(r.to_string().starts_with("deposits are on hold: the oracle report for slot 6400"));
        let data = StakePool::DailyStakeLimitExceeded { requested: u(5 * ETH), remaining: u(ETH) }
            .abi_encode();
        assert!(Revert::decode(&data).to_string().contains("daily stake limit reached: 5 ETH"));
        let data = StakePool::ERC20InsufficientBalance {
            sender: Address::ZERO,
            balance: u(ETH),
            needed: u(3 * ETH),
        }
        .abi_encode();
        let msg = Revert::decode(&data).to_string();
        assert!(msg.starts_with("insufficient balance") && msg.contains("1 shares"), "{msg}");
    }

    #[test]
    fn access_errors_in_words() {
        let who: Address = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        let r = Revert::decode(&not_attested_data(who, 1));
        assert_eq!(r.name(), "NotAttested");
        let msg = r.to_string();
        assert!(
            msg.starts_with("not attested: 0x00000000000000000000000000000000000000AA"),
            "{msg}"
        );
        assert!(msg.contains("tier 1 or higher"), "{msg}");
        let data = AccessRegistry::AttestationExpired { account: who, expiredAt: 1_700_000_000 }
            .abi_encode();
        assert!(Revert::decode(&data).to_string().contains("expired at unix time 1700000000"));
        let data = AccessRegistry::Denied { account: who }.abi_encode();
        assert!(Revert::decode(&data).to_string().contains("sanctions denylist"));
    }

    #[test]
    fn queue_errors_in_words() {
        let data =
            WithdrawalQueue::RequestNotFinalized { requestId: u(7), lastFinalizedRequestId: u(3) }
                .abi_encode();
        assert_eq!(
            Revert::decode(&data).to_string(),
            "ticket #7 is not finalized yet (the queue is finalized up to #3)"
        );
        let data = WithdrawalQueue::RequestAlreadyClaimed { requestId: u(2) }.abi_encode();
        assert!(Revert::decode(&data).is("RequestAlreadyClaimed"));
    }

    #[test]
    fn operator_errors_in_words() {
        use claystack_bindings::{bond_manager::BondManager, operator_registry::OperatorRegistry};
        let data = OperatorRegistry::RegistrationBondTooLow { sent: u(ETH), required: u(2 * ETH) }
            .abi_encode();
        assert_eq!(
            Revert::decode(&data).to_string(),
            "bond too low: 1 ETH sent, registration needs at least 2 ETH"
        );
        let data = OperatorRegistry::InvalidBatchSize { count: u(101), max: u(100) }.abi_encode();
        assert!(Revert::decode(&data).to_string().contains("between 1 and 100"));
        let data = BondManager::ClaimExceedsExcess {
            operatorId: u(1),
            requested: u(ETH),
            available: u(0),
        }
        .abi_encode();
        assert!(Revert::decode(&data).to_string().starts_with("claim too large: 1 shares"));
    }

    #[test]
    fn reason_panic_empty_and_unknown() {
        let data = RevertReason { reason: "nope".into() }.abi_encode();
        assert_eq!(Revert::decode(&data).to_string(), "reverted: nope");
        let data = Panic { code: u(0x11) }.abi_encode();
        assert_eq!(
            Revert::decode(&data).to_string(),
            "panic 0x11: arithmetic overflow or underflow"
        );
        assert_eq!(Revert::decode(&[]), Revert::Empty);
        let r = Revert::decode(&[0xde, 0xad, 0xbe, 0xef, 0x01]);
        assert_eq!(r.to_string(), "unknown error (selector 0xdeadbeef, data 0xdeadbeef01)");
        assert_eq!(Revert::decode(&[0x01, 0x02]).to_string(), "unknown revert data 0x0102");
    }

    #[test]
    fn truncated_known_error_is_unknown_not_a_panic() {
        let data = StakePool::SlippageExceeded { ethOut: u(1), minEthOut: u(2) }.abi_encode();
        let r = Revert::decode(&data[..20]);
        assert!(matches!(r, Revert::Unknown { selector: Some(_), .. }), "{r:?}");
    }

    fn not_attested_data(account: Address, min_tier: u8) -> Vec<u8> {
        use claystack_bindings::access_registry::AccessRegistry::NotAttested;
        NotAttested { account, minTier: min_tier }.abi_encode()
    }
}
