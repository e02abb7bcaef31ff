//! The ABI types the oracle signs and submits: the version-1 `Report` of `IOracleReport` (its
//! EIP-712 type string is the contract's `REPORT_TYPEHASH`) and the `OperatorsReport` of the
//! lead's interface (`IOperatorsReport.sol`), committed by `Report.extraDataHash`.

use alloy::primitives::{Address, B256, keccak256};
use alloy::sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain};

#[allow(missing_docs, unreachable_pub)]
mod abi {
    alloy::sol! {
        /// Version-1 oracle report; field order is the EIP-712 type order.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct Report {
            uint256 consensusVersion;
            uint256 refSlot;
            uint256 validatorsDeposited;
            uint256 validatorsActive;
            uint256 validatorsExited;
            uint256 validatorsSlashed;
            uint256 clBalance;
            uint256 clDepositsProcessed;
            uint256 withdrawalVaultPull;
            uint256 elRewardsVaultAvailable;
            uint256 finalizeUpToRequestId;
            uint256 finalizationShareRate;
            bytes32 extraDataHash;
        }

        /// A pre-deposited key seen on the beacon chain; `valid = false`: foreign credentials.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct PreDepositResult { uint64 operatorId; uint64 keyIndex; bool valid; }
        /// Performance score of an operator in the frame (bps).
        #[derive(Debug, Default, PartialEq, Eq)]
        struct OperatorScore { uint64 operatorId; uint32 score; }
        /// A penalty: kind 0 slashing, 1 missed duties/other, 2 missed exit.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct OperatorPenalty { uint64 operatorId; uint128 amountWei; uint8 kind; }
        /// Cumulative exited and stuck validators of an operator.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct OperatorExited { uint64 operatorId; uint64 exitedTotal; uint64 stuckTotal; }
        /// A validator the operator must exit.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct ExitRequest { uint64 operatorId; uint64 keyIndex; }
        /// The extra data of a report.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct OperatorsReport {
            uint256 refSlot;
            PreDepositResult[] preDeposits;
            OperatorScore[] scores;
            OperatorPenalty[] penalties;
            OperatorExited[] exited;
            ExitRequest[] exitRequests;
            bytes32 rewardsRoot;
            uint256 rewardsCumulativeShares;
        }
    }
}

pub use abi::{
    ExitRequest, OperatorExited, OperatorPenalty, OperatorScore, OperatorsReport, PreDepositResult,
    Report,
};

/// Version of the report format the contract accepts today.
pub const CONSENSUS_VERSION: u64 = 1;

/// The EIP-712 domain of an `OracleReport` proxy: `("ClayStack Oracle", "1", chainId, oracle)`.
#[must_use]
pub fn domain(chain_id: u64, oracle: Address) -> Eip712Domain {
    eip712_domain! {
        name: "ClayStack Oracle",
        version: "1",
        chain_id: chain_id,
        verifying_contract: oracle,
    }
}

/// The digest members sign, equal to `OracleReport.reportDigest(report)`.
#[must_use]
pub fn report_digest(report: &Report, chain_id: u64, oracle: Address) -> B256 {
    report.eip712_signing_hash(&domain(chain_id, oracle))
}

/// `abi.encode(operatorsReport)`: the bytes submitted with the report as extra data.
#[must_use]
pub fn extra_data(report: &OperatorsReport) -> Vec<u8> {
    report.abi_encode()
}

/// `keccak256(extraData)`, or zero when the extra data is empty.
#[must_use]
pub fn extra_data_hash(extra: &[u8]) -> B256 {
    if extra.is_empty() { B256::ZERO } else { keccak256(extra) }
}

impl OperatorsReport {
    /// Whether the report carries nothing for operators (then `extraDataHash = 0`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.preDeposits.is_empty()
            && self.scores.is_empty()
            && self.penalties.is_empty()
            && self.exited.is_empty()
            && self.exitRequests.is_empty()
            && self.rewardsRoot.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    #[test]
    fn report_type_hash_is_the_contracts() {
        let want = keccak256(
            "Report(uint256 consensusVersion,uint256 refSlot,uint256 validatorsDeposited,uint256 validatorsActive,\
uint256 validatorsExited,uint256 validatorsSlashed,uint256 clBalance,uint256 clDepositsProcessed,\
uint256 withdrawalVaultPull,uint256 elRewardsVaultAvailable,uint256 finalizeUpToRequestId,\
uint256 finalizationShareRate,bytes32 extraDataHash)",
        );
        assert_eq!(Report::default().eip712_type_hash(), want);
    }

    #[test]
    fn digest_binds_chain_and_contract() {
        let r = Report { refSlot: U256::from(299u64), ..Report::default() };
        let a = report_digest(&r, 31337, Address::repeat_byte(1));
        assert_ne!(a, report_digest(&r, 1, Address::repeat_byte(1)));
        assert_ne!(a, report_digest(&r, 31337, Address::repeat_byte(2)));
        let r2 = Report { refSlot: U256::from(300u64), ..Report::default() };
        assert_ne!(a, report_digest(&r2, 31337, Address::repeat_byte(1)));
    }

    #[test]
    fn empty_extra_data_hashes_to_zero() {
        assert_eq!(extra_data_hash(&[]), B256::ZERO);
        assert!(OperatorsReport::default().is_empty());
    }
}
