//! The ABI types the oracle signs and submits: the version-1 `Report` of `IOracleReport` (its
//! EIP-712 type string is the contract's `REPORT_TYPEHASH`) and the `OperatorsReport` of
//! `IOperatorsReport.sol`, delivered as a hash chain of chunks (docs/adr/0008):
//! `chunk_i = abi.encode(bytes32 nextChunkHash, OperatorsReport part_i)`, `Report.extraDataHash =
//! keccak256(chunk_0)`, each `nextChunkHash = keccak256(chunk_{i+1})`, zero in the last chunk.
//! Chunk 0 goes with `OracleReport.submitReport`, the others (anyone may send them) with
//! `OracleReport.submitExtraDataChunk`, before the report's frame ends.

use alloy::primitives::{Address, B256, U256, keccak256};
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
        /// A validator the operator must exit; in `exitsStarted`, a requested validator seen
        /// exiting or exited on the beacon chain (its request is closed).
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
            ExitRequest[] exitsStarted;
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

/// The whole operators report as one chunk, `abi.encode(bytes32(0), operatorsReport)`: the extra
/// data of a report that fits one transaction. See [`split_into_chunks`] for larger ones.
#[must_use]
pub fn extra_data(report: &OperatorsReport) -> Vec<u8> {
    encode_chunk(B256::ZERO, report)
}

/// `abi.encode(bytes32 nextChunkHash, OperatorsReport part)`: one chunk of the extra data.
#[must_use]
pub fn encode_chunk(next_chunk_hash: B256, part: &OperatorsReport) -> Vec<u8> {
    (next_chunk_hash, part.clone()).abi_encode_params()
}

/// Chains `parts` into chunks, last to first: each chunk carries the hash of the next one (zero
/// in the last). `keccak256` of the first chunk is the report's `extraDataHash`; no parts, no
/// chunks (`extraDataHash = 0`).
#[must_use]
pub fn encode_chain(parts: &[OperatorsReport]) -> Vec<Vec<u8>> {
    let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(parts.len());
    let mut next = B256::ZERO;
    for part in parts.iter().rev() {
        let chunk = encode_chunk(next, part);
        next = keccak256(&chunk);
        chunks.push(chunk);
    }
    chunks.reverse();
    chunks
}

/// Gas the splitter counts per entry: the contracts' measured cost with cold storage (forge test
/// `OperatorsReportChunksGasTest::test_gas_perEntry`, BENCHMARKS.md) with a margin, plus the entry's
/// calldata at 16 gas a byte. The forge benchmark splits with the same numbers.
pub mod chunk_gas {
    /// A pre-deposit result whose key is valid (confirmation).
    pub const PRE_DEPOSIT: u64 = 30_000 + 96 * 16;
    /// A front-run pre-deposit result (flag, stop, 1 ETH through the loss waterfall).
    pub const FRONT_RUN: u64 = 160_000 + 96 * 16;
    /// A score.
    pub const SCORE: u64 = 12_000 + 64 * 16;
    /// A penalty (the loss waterfall, up to every layer).
    pub const PENALTY: u64 = 100_000 + 96 * 16;
    /// An exited/stuck entry (including the bond settlement of the previous report's exits).
    pub const EXITED: u64 = 55_000 + 96 * 16;
    /// An exit request (a fresh deadline slot).
    pub const EXIT_REQUEST: u64 = 45_000 + 64 * 16;
    /// An exit started: a pending request closed (12.2k measured, before the refund of the
    /// cleared slot; the gas cap applies before refunds).
    pub const EXIT_STARTED: u64 = 16_000 + 64 * 16;
}

/// Bytes an entry takes in a chunk (its ABI encoding: one word per field).
mod entry_bytes {
    pub(super) const PRE_DEPOSIT: usize = 96;
    pub(super) const SCORE: usize = 64;
    pub(super) const PENALTY: usize = 96;
    pub(super) const EXITED: usize = 96;
    pub(super) const EXIT_REQUEST: usize = 64;
    pub(super) const EXIT_STARTED: usize = 64;
    /// Chunk head (next hash, offset), the part's head (refSlot, six offsets, root, cumulative
    /// shares) and the six list lengths.
    pub(super) const FIXED: usize = 2 * 32 + 9 * 32 + 6 * 32;
}

/// How much one chunk may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkBudget {
    /// Entry gas chunk 0 may use: it shares its transaction with the report's accounting,
    /// finalization and signatures.
    pub first_gas: u64,
    /// Entry gas every later chunk may use (a chunk's own fixed cost is about 0.2 M gas).
    pub gas: u64,
    /// Largest chunk in bytes (geth's txpool refuses transactions above 128 KiB).
    pub max_bytes: usize,
}

impl Default for ChunkBudget {
    /// 10 M / 15 M gas of entries and 120,000 bytes: every transaction stays below EIP-7825's
    /// 16,777,216 gas with room to spare (BENCHMARKS.md).
    fn default() -> Self {
        Self { first_gas: 10_000_000, gas: 15_000_000, max_bytes: 120_000 }
    }
}

#[derive(Clone, Copy)]
enum Item {
    Pre(usize),
    Penalty(usize),
    Exited(usize),
    ExitStarted(usize),
    ExitRequest(usize),
    Score(usize),
}

/// Splits an operators report into parts, one per chunk, within `budget`, in the order that
/// matters when not every chunk arrives (docs/adr/0008):
/// 1. the pre-deposit runs (an operator's results) that hold a front-run: only front-runs of
///    chunk 0 are charged before the accounting, so only they explain the CL drop (`compute`
///    withholds the front-runs that do not fit chunk 0 for a later report, ADR 0009);
/// 2. penalties, which no later report repeats;
/// 3. the other pre-deposit results, then exited counts, exits started (pending requests to
///    close: a late close leaves an operator that obeyed exposed to a forced exit for one more
///    frame), exit requests and scores, which the next report derives again if they are lost.
///
/// Every list continues in the next part where it stopped, so the parts together are the report
/// (pre-deposit results are sorted within each part; an operator's run may continue in the next
/// part). The rewards root goes in part 0. A part takes items while they fit; an item that fits no
/// empty part goes alone. An empty report gives no parts.
#[must_use]
pub fn split_parts(report: &OperatorsReport, budget: &ChunkBudget) -> Vec<OperatorsReport> {
    if report.is_empty() {
        return Vec::new();
    }
    // pre-deposit results in priority order: the runs with a front-run first
    let pre = &report.preDeposits;
    let mut front: Vec<usize> = Vec::new();
    let mut rest: Vec<usize> = Vec::new();
    let mut start = 0usize;
    while let Some(first) = pre.get(start) {
        let end = pre
            .iter()
            .skip(start)
            .position(|r| r.operatorId != first.operatorId)
            .map_or(pre.len(), |n| start.saturating_add(n));
        let run = start..end;
        let has_front_run = pre.get(run.clone()).is_some_and(|r| r.iter().any(|e| !e.valid));
        if has_front_run {
            front.extend(run);
        } else {
            rest.extend(run);
        }
        start = end;
    }
    let items: Vec<Item> = front
        .into_iter()
        .map(Item::Pre)
        .chain((0..report.penalties.len()).map(Item::Penalty))
        .chain(rest.into_iter().map(Item::Pre))
        .chain((0..report.exited.len()).map(Item::Exited))
        .chain((0..report.exitsStarted.len()).map(Item::ExitStarted))
        .chain((0..report.exitRequests.len()).map(Item::ExitRequest))
        .chain((0..report.scores.len()).map(Item::Score))
        .collect();

    let mut parts = Vec::new();
    let mut next = 0usize;
    loop {
        let first = parts.is_empty();
        let mut gas_left = if first { budget.first_gas } else { budget.gas };
        let mut bytes_left = budget.max_bytes.saturating_sub(entry_bytes::FIXED);
        let mut part = OperatorsReport { refSlot: report.refSlot, ..OperatorsReport::default() };
        if first {
            part.rewardsRoot = report.rewardsRoot;
            part.rewardsCumulativeShares = report.rewardsCumulativeShares;
        }
        let mut taken = 0usize;
        while let Some(item) = items.get(next) {
            let (gas, bytes) = match item {
                Item::Pre(i) => {
                    let valid = pre.get(*i).is_none_or(|r| r.valid);
                    let gas = if valid { chunk_gas::PRE_DEPOSIT } else { chunk_gas::FRONT_RUN };
                    (gas, entry_bytes::PRE_DEPOSIT)
                }
                Item::Penalty(_) => (chunk_gas::PENALTY, entry_bytes::PENALTY),
                Item::Exited(_) => (chunk_gas::EXITED, entry_bytes::EXITED),
                Item::ExitStarted(_) => (chunk_gas::EXIT_STARTED, entry_bytes::EXIT_STARTED),
                Item::ExitRequest(_) => (chunk_gas::EXIT_REQUEST, entry_bytes::EXIT_REQUEST),
                Item::Score(_) => (chunk_gas::SCORE, entry_bytes::SCORE),
            };
            if taken != 0 && (gas > gas_left || bytes > bytes_left) {
                break;
            }
            gas_left = gas_left.saturating_sub(gas);
            bytes_left = bytes_left.saturating_sub(bytes);
            match item {
                Item::Pre(i) => part.preDeposits.extend(pre.get(*i).cloned()),
                Item::Penalty(i) => part.penalties.extend(report.penalties.get(*i).cloned()),
                Item::Exited(i) => part.exited.extend(report.exited.get(*i).cloned()),
                Item::ExitStarted(i) => {
                    part.exitsStarted.extend(report.exitsStarted.get(*i).cloned());
                }
                Item::ExitRequest(i) => {
                    part.exitRequests.extend(report.exitRequests.get(*i).cloned());
                }
                Item::Score(i) => part.scores.extend(report.scores.get(*i).cloned()),
            }
            taken = taken.saturating_add(1);
            next = next.saturating_add(1);
        }
        // front-run runs came first: restore the (operatorId, keyIndex) order within the part
        part.preDeposits.sort_by_key(|r| (r.operatorId, r.keyIndex));
        parts.push(part);
        if next >= items.len() {
            return parts;
        }
    }
}

/// [`split_parts`] then [`encode_chain`]: the chunks of the report's extra data, chunk 0 first.
#[must_use]
pub fn split_into_chunks(report: &OperatorsReport, budget: &ChunkBudget) -> Vec<Vec<u8>> {
    encode_chain(&split_parts(report, budget))
}

/// The CL loss the sanity checker counts as explained for a report whose chunk 0 carries `first`:
/// 1 ETH per front-run pre-deposit result in it (`OperatorsModule.PRE_DEPOSIT`; front-runs in later
/// chunks would be charged after the accounting and explain nothing, so `compute` sends none).
#[must_use]
pub fn front_run_loss(first: &OperatorsReport) -> U256 {
    let n = first.preDeposits.iter().filter(|r| !r.valid).count();
    U256::from(n).saturating_mul(U256::from(PRE_DEPOSIT_WEI))
}

/// One pre-deposit, in wei (the front-run loss per key).
pub const PRE_DEPOSIT_WEI: u128 = 1_000_000_000_000_000_000;

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
            && self.exitsStarted.is_empty()
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

    fn pre(op: u64, key: u64, valid: bool) -> PreDepositResult {
        PreDepositResult { operatorId: op, keyIndex: key, valid }
    }

    fn sample(n: u64) -> OperatorsReport {
        OperatorsReport {
            refSlot: U256::from(7199u64),
            preDeposits: vec![
                pre(1, 0, true),
                pre(1, 1, true),
                pre(2, 4, true),
                pre(2, 5, false),
                pre(3, 0, true),
            ],
            scores: (0..n).map(|i| OperatorScore { operatorId: i, score: 9000 }).collect(),
            penalties: vec![
                OperatorPenalty { operatorId: 4, amountWei: 5, kind: 1 },
                OperatorPenalty { operatorId: 4, amountWei: 6, kind: 2 },
            ],
            exited: (0..n / 2)
                .map(|i| OperatorExited { operatorId: i, exitedTotal: 1, stuckTotal: 0 })
                .collect(),
            exitRequests: vec![ExitRequest { operatorId: 3, keyIndex: 0 }],
            exitsStarted: (0..n / 4).map(|i| ExitRequest { operatorId: i, keyIndex: 7 }).collect(),
            rewardsRoot: B256::repeat_byte(9),
            rewardsCumulativeShares: U256::from(77u64),
        }
    }

    fn decode(chunk: &[u8]) -> (B256, OperatorsReport) {
        <(B256, OperatorsReport)>::abi_decode_params(chunk).unwrap()
    }

    /// The parts' lists, concatenated in chain order.
    fn concat(parts: &[OperatorsReport]) -> OperatorsReport {
        let mut all = OperatorsReport::default();
        for p in parts {
            all.preDeposits.extend(p.preDeposits.iter().cloned());
            all.scores.extend(p.scores.iter().cloned());
            all.penalties.extend(p.penalties.iter().cloned());
            all.exited.extend(p.exited.iter().cloned());
            all.exitRequests.extend(p.exitRequests.iter().cloned());
            all.exitsStarted.extend(p.exitsStarted.iter().cloned());
        }
        all
    }

    #[test]
    fn extra_data_is_one_chunk_with_no_successor() {
        let r = sample(3);
        let chunk = extra_data(&r);
        let (next, part) = decode(&chunk);
        assert_eq!(next, B256::ZERO);
        assert_eq!(part, r);
        // the head the contract checks: next hash, then the part's offset 0x40
        assert_eq!(chunk[32..64], U256::from(0x40).to_be_bytes::<32>());
        assert_eq!(encode_chain(std::slice::from_ref(&r)), vec![chunk]);
    }

    #[test]
    fn a_report_that_fits_is_one_part() {
        let r = sample(10);
        assert_eq!(split_parts(&r, &ChunkBudget::default()), vec![r.clone()]);
        assert_eq!(split_into_chunks(&r, &ChunkBudget::default()), vec![extra_data(&r)]);
        assert!(split_into_chunks(&OperatorsReport::default(), &ChunkBudget::default()).is_empty());
    }

    #[test]
    fn a_root_alone_is_one_chunk() {
        let r = OperatorsReport { rewardsRoot: B256::repeat_byte(1), ..OperatorsReport::default() };
        assert_eq!(split_parts(&r, &ChunkBudget::default()), vec![r]);
    }

    #[test]
    fn chunks_link_by_hash_and_carry_the_whole_report() {
        let r = sample(3000);
        let budget = ChunkBudget { first_gas: 2_000_000, gas: 5_000_000, max_bytes: 20_000 };
        let chunks = split_into_chunks(&r, &budget);
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        let mut parts = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            assert!(chunk.len() <= budget.max_bytes, "chunk {i}: {} bytes", chunk.len());
            let (next, part) = decode(chunk);
            let want = chunks.get(i + 1).map_or(B256::ZERO, keccak256);
            assert_eq!(next, want, "link {i}");
            assert_eq!(part.refSlot, r.refSlot);
            assert_eq!(part.rewardsRoot, if i == 0 { r.rewardsRoot } else { B256::ZERO });
            parts.push(part);
        }
        let all = concat(&parts);
        assert_eq!(all.scores, r.scores, "scores in order");
        assert_eq!(all.penalties, r.penalties);
        assert_eq!(all.exited, r.exited);
        assert_eq!(all.exitRequests, r.exitRequests);
        assert_eq!(all.exitsStarted, r.exitsStarted);
        let mut pre = all.preDeposits;
        pre.sort_by_key(|p| (p.operatorId, p.keyIndex));
        assert_eq!(pre, r.preDeposits, "every pre-deposit result once");
    }

    #[test]
    fn front_run_runs_and_penalties_come_first() {
        let r = sample(50);
        // room for op 2's run (valid + front-run), both penalties and a little more
        let first_gas = chunk_gas::PRE_DEPOSIT
            + chunk_gas::FRONT_RUN
            + 2 * chunk_gas::PENALTY
            + chunk_gas::PRE_DEPOSIT;
        let parts = split_parts(&r, &ChunkBudget { first_gas, gas: 1_000_000, max_bytes: 120_000 });
        let first = parts.first().unwrap();
        // op 2's whole run (key 4 then the front-run key 5), op 1's key 0 after the penalties
        assert_eq!(first.preDeposits, vec![pre(1, 0, true), pre(2, 4, true), pre(2, 5, false)]);
        assert_eq!(first.penalties, r.penalties);
        assert!(first.scores.is_empty() && first.exited.is_empty());
        assert_eq!(front_run_loss(first), U256::from(PRE_DEPOSIT_WEI));
        // op 1's run continues in part 1, key 1 after key 0
        assert_eq!(parts.get(1).unwrap().preDeposits.first(), Some(&pre(1, 1, true)));
        let total = parts.iter().map(front_run_loss).fold(U256::ZERO, |a, b| a + b);
        assert_eq!(total, U256::from(PRE_DEPOSIT_WEI));
    }

    #[test]
    fn parts_stay_within_the_gas_budget() {
        let r = sample(2000);
        let budget = ChunkBudget::default();
        let parts = split_parts(&r, &budget);
        for (i, p) in parts.iter().enumerate() {
            let gas = p
                .preDeposits
                .iter()
                .map(|e| if e.valid { chunk_gas::PRE_DEPOSIT } else { chunk_gas::FRONT_RUN })
                .sum::<u64>()
                + chunk_gas::SCORE * p.scores.len() as u64
                + chunk_gas::PENALTY * p.penalties.len() as u64
                + chunk_gas::EXITED * p.exited.len() as u64
                + chunk_gas::EXIT_REQUEST * p.exitRequests.len() as u64
                + chunk_gas::EXIT_STARTED * p.exitsStarted.len() as u64;
            let cap = if i == 0 { budget.first_gas } else { budget.gas };
            assert!(gas <= cap, "part {i}: {gas} > {cap}");
        }
    }

    #[test]
    fn a_zero_budget_still_makes_progress() {
        let r = sample(4);
        let parts = split_parts(&r, &ChunkBudget { first_gas: 0, gas: 0, max_bytes: 0 });
        let entries = 5 + 4 + 2 + 2 + 1 + 1;
        assert_eq!(parts.len(), entries, "one entry per part");
        assert_eq!(concat(&parts).scores, r.scores);
    }

    #[test]
    fn exits_started_follow_exited_counts_and_precede_exit_requests() {
        let r = sample(8); // 4 exited, 2 exits started, 1 exit request, 8 scores
        let one = |gas| ChunkBudget { first_gas: gas, gas, max_bytes: 120_000 };
        // room for everything before the exits started, then one list item per part
        let before = 4 * chunk_gas::PRE_DEPOSIT
            + chunk_gas::FRONT_RUN
            + 2 * chunk_gas::PENALTY
            + 4 * chunk_gas::EXITED;
        let parts = split_parts(&r, &ChunkBudget { first_gas: before, ..one(0) });
        let first = parts.first().unwrap();
        assert_eq!(first.exited, r.exited);
        assert!(first.exitsStarted.is_empty() && first.exitRequests.is_empty());
        let second = parts.get(1).unwrap();
        assert_eq!(second.exitsStarted.first(), r.exitsStarted.first(), "exits started next");
        assert!(second.exitRequests.is_empty() && second.scores.is_empty());
        let all = concat(&parts);
        assert_eq!(all.exitsStarted, r.exitsStarted);
        // a whole chunk's bytes stay within the budget with the sixth list
        let small = ChunkBudget { first_gas: u64::MAX, gas: u64::MAX, max_bytes: 1_000 };
        for c in split_into_chunks(&sample(40), &small) {
            assert!(c.len() <= 1_000, "{} bytes", c.len());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_split_is_the_report(
            ops in 1u64..40, keys in 0u64..4, scores in 0usize..300, pens in 0usize..30,
            first in 0u64..3_000_000, gas in 0u64..3_000_000, bytes in 0usize..6_000, seed in 0u64..1000
        ) {
            let mut r = OperatorsReport { refSlot: U256::from(100u64), ..OperatorsReport::default() };
            for op in 0..ops {
                for k in 0..keys {
                    r.preDeposits.push(pre(op, 10 + k, (op * 7 + k + seed) % 5 != 0));
                }
            }
            r.scores = (0..scores as u64).map(|i| OperatorScore { operatorId: i, score: 1 }).collect();
            r.penalties = (0..pens as u64).map(|i| OperatorPenalty { operatorId: i / 3, amountWei: 1, kind: 0 }).collect();
            let budget = ChunkBudget { first_gas: first, gas, max_bytes: bytes };
            let parts = split_parts(&r, &budget);
            let all = concat(&parts);
            proptest::prop_assert_eq!(&all.scores, &r.scores);
            proptest::prop_assert_eq!(&all.penalties, &r.penalties);
            let mut pre_all = all.preDeposits.clone();
            pre_all.sort_by_key(|p| (p.operatorId, p.keyIndex));
            proptest::prop_assert_eq!(&pre_all, &r.preDeposits);
            for p in &parts {
                // sorted within a part, and every operator's keys in key order across the chain
                proptest::prop_assert!(p.preDeposits.windows(2).all(|w| (w[0].operatorId, w[0].keyIndex) < (w[1].operatorId, w[1].keyIndex)));
            }
            for op in 0..ops {
                let seq: Vec<u64> = all.preDeposits.iter().filter(|e| e.operatorId == op).map(|e| e.keyIndex).collect();
                proptest::prop_assert!(seq.windows(2).all(|w| w[0] < w[1]), "operator {} out of order", op);
            }
            // the chain decodes back to the parts
            let chunks = encode_chain(&parts);
            for (c, p) in chunks.iter().zip(&parts) {
                proptest::prop_assert_eq!(&decode(c).1, p);
            }
        }
    }
}
