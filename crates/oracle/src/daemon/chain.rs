//! Reads of the execution chain at the reference block, and the transactions a member sends.
//!
//! Every receipt is awaited at most [`RECEIPT_TIMEOUT`]: a transaction the node dropped (evicted
//! from its pool, underpriced) must not freeze the member's single loop. After a timeout the next
//! tick re-reads the chain and decides again; if the node still holds a transaction of ours
//! (its pending nonce is above the mined one), the next transaction takes that nonce with fees
//! raised by 12.5 % over the stuck one ([`TxSender`]), so it replaces it instead of queueing
//! behind it.

use std::time::Duration;

use alloy::eips::BlockId;
use alloy::network::TransactionBuilder as _;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolValue;
use claystack_bindings::deployment::PoolAddresses;
use claystack_bindings::oracle_report::{IOracleReport, OracleReport};
use claystack_bindings::sanity_checker::SanityChecker;
use claystack_bindings::stake_pool::StakePool;
use claystack_bindings::withdrawal_queue::WithdrawalQueue;

use super::DaemonError;
use crate::types::{Fees, PoolState, QueueState, SanityLimits, ValidatorCounts, WithdrawalRequest};

fn rpc<E: std::error::Error + Send + Sync + 'static>(
    action: &'static str,
) -> impl FnOnce(E) -> DaemonError {
    move |e| DaemonError::Rpc { action, source: Box::new(e) }
}

fn to_u64(action: &'static str, v: U256) -> Result<u64, DaemonError> {
    u64::try_from(v).map_err(|_| DaemonError::OutOfRange { action, value: v.to_string() })
}

/// The oracle's view of the current frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameView {
    /// `currentFrame().refSlot`.
    pub ref_slot: u64,
    /// `currentFrame().deadline` (unix seconds).
    pub deadline: u64,
    /// `lastRefSlot()`.
    pub last_ref_slot: u64,
    /// Members.
    pub members: Vec<Address>,
    /// Quorum.
    pub quorum: u64,
    /// Genesis time, seconds per slot, slots per epoch, epochs per frame.
    pub genesis_time: u64,
    /// Seconds per slot.
    pub seconds_per_slot: u64,
    /// Slots per epoch.
    pub slots_per_epoch: u64,
    /// Epochs per frame.
    pub epochs_per_frame: u64,
}

/// Reads the oracle's frame state at the latest block. `Ok(None)`: no reportable frame yet.
pub async fn frame_view(
    provider: &DynProvider,
    oracle: Address,
) -> Result<Option<FrameView>, DaemonError> {
    let o = OracleReport::new(oracle, provider.clone());
    let frame = match o.currentFrame().call().await {
        Ok(f) => f,
        Err(e) => {
            if e.as_decoded_error::<OracleReport::NoReportableFrame>().is_some() {
                return Ok(None);
            }
            return Err(rpc("read the current frame")(e));
        }
    };
    let cfg = o.frameConfig().call().await.map_err(rpc("read the frame config"))?;
    let last = o.lastRefSlot().call().await.map_err(rpc("read the last ref slot"))?;
    let members = o.getMembers().call().await.map_err(rpc("read the members"))?;
    let quorum = o.quorum().call().await.map_err(rpc("read the quorum"))?;
    Ok(Some(FrameView {
        ref_slot: to_u64("ref slot", frame.refSlot)?,
        deadline: to_u64("deadline", frame.deadline)?,
        last_ref_slot: to_u64("last ref slot", last)?,
        members,
        quorum: to_u64("quorum", quorum)?,
        genesis_time: cfg.genesisTime,
        seconds_per_slot: u64::from(cfg.secondsPerSlot),
        slots_per_epoch: u64::from(cfg.slotsPerEpoch),
        epochs_per_frame: u64::from(cfg.epochsPerFrame),
    }))
}

/// The last block whose timestamp is before the end of `ref_slot` (`genesis + (ref_slot + 1) ×
/// secondsPerSlot`): every member picks the same block from the same chain.
pub async fn ref_block(provider: &DynProvider, view: &FrameView) -> Result<u64, DaemonError> {
    let end = view
        .ref_slot
        .checked_add(1)
        .and_then(|s| s.checked_mul(view.seconds_per_slot))
        .and_then(|s| s.checked_add(view.genesis_time))
        .ok_or(DaemonError::OutOfRange {
            action: "ref slot end",
            value: view.ref_slot.to_string(),
        })?;
    let latest = provider.get_block_number().await.map_err(rpc("read the block number"))?;
    let ts = |n: u64| async move {
        let b = provider
            .get_block_by_number(n.into())
            .await
            .map_err(rpc("read a block"))?
            .ok_or(DaemonError::OutOfRange { action: "block", value: n.to_string() })?;
        Ok::<u64, DaemonError>(b.header.timestamp)
    };
    if ts(latest).await? < end {
        return Ok(latest);
    }
    // invariant: ts(lo) < end <= ts(hi) (block 0 may be after `end`: then block 0)
    let (mut lo, mut hi) = (0u64, latest);
    if ts(0).await? >= end {
        return Ok(0);
    }
    while hi.saturating_sub(lo) > 1 {
        let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
        if ts(mid).await? < end { lo = mid } else { hi = mid }
    }
    Ok(lo)
}

/// The pool's 0x01 withdrawal credentials: `0x01 ‖ 0×11 ‖ vault`.
#[must_use]
pub fn withdrawal_credentials(vault: Address) -> [u8; 32] {
    let mut creds = [0u8; 32];
    if let Some(c) = creds.first_mut() {
        *c = 1;
    }
    if let Some(tail) = creds.get_mut(12..) {
        tail.copy_from_slice(vault.as_slice());
    }
    creds
}

/// The pool and queue state at `block`.
pub async fn pool_state(
    provider: &DynProvider,
    addrs: &PoolAddresses,
    block: u64,
) -> Result<(PoolState, QueueState), DaemonError> {
    let at = BlockId::number(block);
    let pool = StakePool::new(addrs.stake_pool, provider.clone());
    let queue = WithdrawalQueue::new(addrs.withdrawal_queue, provider.clone());
    let oracle = OracleReport::new(addrs.oracle_report, provider.clone());
    let sanity = SanityChecker::new(addrs.sanity_checker, provider.clone());
    let fees = pool.fees().block(at).call().await.map_err(rpc("read fees"))?;
    let limits = sanity.limits().block(at).call().await.map_err(rpc("read sanity limits"))?;
    let counts =
        oracle.lastValidatorCounts().block(at).call().await.map_err(rpc("read last counts"))?;
    let creds = withdrawal_credentials(addrs.withdrawal_vault);
    let state = PoolState {
        total_shares: pool
            .totalSupply()
            .block(at)
            .call()
            .await
            .map_err(rpc("read total supply"))?,
        buffered_ether: pool.bufferedEther().block(at).call().await.map_err(rpc("read buffer"))?,
        cl_balance: pool.clBalance().block(at).call().await.map_err(rpc("read cl balance"))?,
        cl_deposits_processed: pool
            .clDepositsProcessed()
            .block(at)
            .call()
            .await
            .map_err(rpc("read processed deposits"))?,
        deposited_ether: pool
            .depositedEther()
            .block(at)
            .call()
            .await
            .map_err(rpc("read deposited"))?,
        withdrawal_vault_balance: provider
            .get_balance(addrs.withdrawal_vault)
            .block_id(at)
            .await
            .map_err(rpc("read withdrawal vault balance"))?,
        el_rewards_vault_balance: provider
            .get_balance(addrs.el_rewards_vault)
            .block_id(at)
            .await
            .map_err(rpc("read EL rewards vault balance"))?,
        fees: Fees {
            treasury_bps: u64::from(fees.treasuryBps),
            operators_bps: u64::from(fees.operatorsBps),
            insurance_bps: u64::from(fees.insuranceBps),
        },
        withdrawal_credentials: creds,
        last_counts: ValidatorCounts {
            deposited: counts.deposited,
            active: counts.active,
            exited: counts.exited,
            slashed: counts.slashed,
        },
        limits: SanityLimits {
            max_cl_apr_bps: u64::from(limits.maxClAprBps),
            max_positive_rate_change_ppm: u64::from(limits.maxPositiveRateChangePpm),
            max_unexplained_cl_drop_ppm: u64::from(limits.maxUnexplainedClDropPpm),
            max_appeared_validators_per_report: u64::from(limits.maxAppearedValidatorsPerReport),
            slashing_allowance_gwei: limits.slashingAllowanceGwei,
            max_finalization_rate_deviation_bps: u64::from(limits.maxFinalizationRateDeviationBps),
        },
    };
    let last_finalized = to_u64(
        "last finalized request",
        queue.lastFinalizedRequestId().block(at).call().await.map_err(rpc("read finalized id"))?,
    )?;
    let last_request = to_u64(
        "last request",
        queue.lastRequestId().block(at).call().await.map_err(rpc("read last request id"))?,
    )?;
    let params = queue.parameters().block(at).call().await.map_err(rpc("read queue parameters"))?;
    let max_per_report = to_u64("max finalize per report", params._2)?;
    let end = last_request.min(last_finalized.saturating_add(max_per_report));
    let mut requests = Vec::new();
    let mut id = last_finalized.saturating_add(1);
    while id <= end {
        let r = queue
            .getRequest(U256::from(id))
            .block(at)
            .call()
            .await
            .map_err(rpc("read a request"))?;
        requests.push(WithdrawalRequest {
            id,
            shares: U256::from(r.shares),
            ether_at_request: U256::from(r.etherAtRequest),
        });
        id = id.saturating_add(1);
    }
    let queue_state = QueueState {
        last_finalized_request_id: last_finalized,
        max_finalize_per_report: max_per_report,
        unfinalized_ether: queue
            .unfinalizedEther()
            .block(at)
            .call()
            .await
            .map_err(rpc("read unfinalized ether"))?,
        requests,
    };
    Ok((state, queue_state))
}

/// A read-only provider for `rpc_url`.
pub fn read_provider(rpc_url: &str) -> Result<DynProvider, DaemonError> {
    let url = rpc_url.parse().map_err(|e| DaemonError::Setup(format!("rpc url: {e}")))?;
    Ok(alloy::providers::ProviderBuilder::new().connect_http(url).erased())
}

/// The contract's digest of `report` (for the self-check at start and tests).
pub async fn contract_digest(
    provider: &DynProvider,
    oracle: Address,
    report: &crate::Report,
) -> Result<B256, DaemonError> {
    let r = to_binding(report)?;
    OracleReport::new(oracle, provider.clone())
        .reportDigest(r)
        .call()
        .await
        .map_err(rpc("read the report digest"))
}

/// Converts our report type to the binding's (same ABI).
pub fn to_binding(report: &crate::Report) -> Result<IOracleReport::Report, DaemonError> {
    IOracleReport::Report::abi_decode(&report.abi_encode())
        .map_err(|e| DaemonError::Rpc { action: "convert the report", source: Box::new(e) })
}

/// Compact EIP-2098 form of a 65-byte signature.
pub fn compact(signature: &[u8]) -> Option<IOracleReport::Signature> {
    let sig = alloy::primitives::Signature::try_from(signature).ok()?;
    let mut vs = sig.s();
    // EIP-2098: the y parity goes into the top bit of s (low-s signatures leave it clear)
    vs.set_bit(255, sig.v());
    Some(IOracleReport::Signature { r: sig.r().into(), vs: vs.into() })
}

/// How long a member waits for a receipt before it leaves the transaction to the next tick.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A transaction a member sent, for replacing it while it is still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentTx {
    /// Its nonce.
    pub nonce: u64,
    /// Its `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// Its `maxPriorityFeePerGas`.
    pub max_priority_fee_per_gas: u128,
}

/// A fee raised enough for a node to accept a replacement (geth and reth want +10 %): +12.5 %, +1.
#[must_use]
pub fn bump_fee(fee: u128) -> u128 {
    fee.saturating_add(fee.checked_div(8).unwrap_or(0)).saturating_add(1)
}

/// The nonce and fees of the next transaction: a fresh nonce when nothing of ours is pending
/// (`pending_nonce == mined_nonce`); otherwise the stuck nonce again, with fees above both the
/// current estimate and the stuck transaction's bumped fees (`last`, when it is the one at that
/// nonce; else twice the estimate).
#[must_use]
pub fn next_tx(
    mined_nonce: u64,
    pending_nonce: u64,
    estimate: (u128, u128),
    last: Option<SentTx>,
) -> SentTx {
    let (max_fee, priority) = estimate;
    if pending_nonce <= mined_nonce {
        return SentTx {
            nonce: pending_nonce.max(mined_nonce),
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority.min(max_fee),
        };
    }
    let (max_fee, priority) = match last.filter(|l| l.nonce == mined_nonce) {
        Some(l) => (
            max_fee.max(bump_fee(l.max_fee_per_gas)),
            priority.max(bump_fee(l.max_priority_fee_per_gas)),
        ),
        None => (max_fee.saturating_mul(2), priority.saturating_mul(2)),
    };
    SentTx {
        nonce: mined_nonce,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority.min(max_fee),
    }
}

/// Sends a member's transactions: nonce and fees chosen by [`next_tx`] from the node's mined and
/// pending nonce, the receipt awaited at most `timeout`.
#[derive(Debug)]
pub struct TxSender {
    from: Address,
    timeout: Duration,
    last: std::sync::Mutex<Option<SentTx>>,
}

impl TxSender {
    /// A sender for the account `from` (the provider's wallet).
    #[must_use]
    pub fn new(from: Address, timeout: Duration) -> Self {
        Self { from, timeout, last: std::sync::Mutex::new(None) }
    }

    /// The last transaction sent (or attempted).
    #[must_use]
    pub fn last(&self) -> Option<SentTx> {
        self.last.lock().ok().and_then(|l| *l)
    }

    /// Sends `tx` and waits for its receipt (at most the timeout); a reverted transaction is an
    /// error. `action` names the transaction in errors.
    pub async fn send(
        &self,
        provider: &DynProvider,
        tx: TransactionRequest,
        action: &'static str,
    ) -> Result<TransactionReceipt, DaemonError> {
        let mined = provider
            .get_transaction_count(self.from)
            .latest()
            .await
            .map_err(rpc("read the mined nonce"))?;
        let pending = provider
            .get_transaction_count(self.from)
            .pending()
            .await
            .map_err(rpc("read the pending nonce"))?;
        let fees = provider.estimate_eip1559_fees().await.map_err(rpc("estimate the fees"))?;
        let next = next_tx(
            mined,
            pending,
            (fees.max_fee_per_gas, fees.max_priority_fee_per_gas),
            self.last(),
        );
        if pending > mined {
            tracing::warn!(target: "oracle::tx", nonce = next.nonce, max_fee = next.max_fee_per_gas, priority_fee = next.max_priority_fee_per_gas, action, "a transaction of this member is still pending: replacing it");
        }
        if let Ok(mut l) = self.last.lock() {
            *l = Some(next);
        }
        let tx = tx
            .from(self.from)
            .with_nonce(next.nonce)
            .with_max_fee_per_gas(next.max_fee_per_gas)
            .with_max_priority_fee_per_gas(next.max_priority_fee_per_gas);
        wait_receipt(provider, tx, action, self.timeout).await
    }
}

/// Sends `tx` (nonce and fees from the provider's fillers) and waits at most `timeout` for its
/// receipt; a reverted transaction is an error.
pub async fn wait_receipt(
    provider: &DynProvider,
    tx: TransactionRequest,
    action: &'static str,
    timeout: Duration,
) -> Result<TransactionReceipt, DaemonError> {
    let pending = provider.send_transaction(tx).await.map_err(rpc(action))?;
    let hash = *pending.tx_hash();
    let receipt =
        pending.with_timeout(Some(timeout)).get_receipt().await.map_err(|e| DaemonError::Rpc {
            action: "wait for a receipt",
            source: format!("{action} {hash}: {e} (left to the next tick)").into(),
        })?;
    if !receipt.status() {
        return Err(DaemonError::Reverted { tx: receipt.transaction_hash });
    }
    Ok(receipt)
}

/// The `submitReport` transaction of `report` with chunk 0 of its extra data (`first_chunk`,
/// empty when none) and `signatures` (sorted by signer, as the contract requires).
pub fn submit_tx(
    provider: &DynProvider,
    oracle: Address,
    report: &crate::Report,
    first_chunk: &Bytes,
    signatures: &std::collections::BTreeMap<Address, Bytes>,
) -> Result<TransactionRequest, DaemonError> {
    let sigs: Vec<IOracleReport::Signature> = signatures
        .values()
        .map(|s| {
            compact(s).ok_or(DaemonError::OutOfRange { action: "signature", value: s.to_string() })
        })
        .collect::<Result<_, _>>()?;
    Ok(OracleReport::new(oracle, provider.clone())
        .submitReport(to_binding(report)?, first_chunk.clone(), sigs)
        .into_transaction_request())
}

/// The `submitExtraDataChunk(chunk)` transaction.
#[must_use]
pub fn chunk_tx(provider: &DynProvider, oracle: Address, chunk: &Bytes) -> TransactionRequest {
    OracleReport::new(oracle, provider.clone())
        .submitExtraDataChunk(chunk.clone())
        .into_transaction_request()
}

/// Submits `report` with chunk 0 of its extra data (`first_chunk`, empty when none) and
/// `signatures` (sorted by signer, as the contract requires). Returns the transaction hash once
/// mined successfully; waits at most [`RECEIPT_TIMEOUT`]. (The member daemon sends through its
/// [`TxSender`], which also replaces a stuck transaction.)
pub async fn submit(
    provider: &DynProvider,
    oracle: Address,
    report: &crate::Report,
    first_chunk: &Bytes,
    signatures: &std::collections::BTreeMap<Address, Bytes>,
) -> Result<B256, DaemonError> {
    let tx = submit_tx(provider, oracle, report, first_chunk, signatures)?;
    Ok(wait_receipt(provider, tx, "send the report", RECEIPT_TIMEOUT).await?.transaction_hash)
}

/// `OracleReport.extraDataState()`: the chunk chain of the last report (every report writes it;
/// one without later chunks has a zero next hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraDataState {
    /// Reference slot of the report the chain belongs to.
    pub ref_slot: u64,
    /// Chunks applied so far (chunk 0 included): the index of the next one.
    pub chunks_applied: u32,
    /// Hash of the next chunk; zero when the chain is complete (or was dropped).
    pub next_hash: B256,
}

/// Reads `OracleReport.extraDataState()` at the latest block.
pub async fn extra_data_state(
    provider: &DynProvider,
    oracle: Address,
) -> Result<ExtraDataState, DaemonError> {
    let s = OracleReport::new(oracle, provider.clone())
        .extraDataState()
        .call()
        .await
        .map_err(rpc("read the extra data state"))?;
    Ok(ExtraDataState {
        ref_slot: s.refSlot,
        chunks_applied: s.chunksApplied,
        next_hash: s.nextHash,
    })
}

/// Delivers the next chunk of the pending chain (`OracleReport.submitExtraDataChunk`). Returns the
/// transaction hash once mined successfully; waits at most [`RECEIPT_TIMEOUT`].
pub async fn submit_chunk(
    provider: &DynProvider,
    oracle: Address,
    chunk: &Bytes,
) -> Result<B256, DaemonError> {
    let tx = chunk_tx(provider, oracle, chunk);
    Ok(wait_receipt(provider, tx, "send an extra data chunk", RECEIPT_TIMEOUT)
        .await?
        .transaction_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_transaction_is_replaced_at_its_nonce_with_higher_fees() {
        // nothing pending: the next nonce, the estimate
        let t = next_tx(5, 5, (100, 10), None);
        assert_eq!(t, SentTx { nonce: 5, max_fee_per_gas: 100, max_priority_fee_per_gas: 10 });
        // ours at nonce 5 still pending: nonce 5 again, +12.5 % over it (above the estimate)
        let last = SentTx { nonce: 5, max_fee_per_gas: 200, max_priority_fee_per_gas: 20 };
        let t = next_tx(5, 6, (100, 10), Some(last));
        assert_eq!(t, SentTx { nonce: 5, max_fee_per_gas: 226, max_priority_fee_per_gas: 23 });
        assert!(t.max_fee_per_gas * 10 >= last.max_fee_per_gas * 11);
        assert!(t.max_priority_fee_per_gas * 10 >= last.max_priority_fee_per_gas * 11);
        // the estimate rose above the bump: the estimate
        let t = next_tx(5, 6, (1_000, 100), Some(last));
        assert_eq!((t.max_fee_per_gas, t.max_priority_fee_per_gas), (1_000, 100));
        // a pending transaction we did not record (a restart): twice the estimate
        let t = next_tx(5, 6, (100, 10), None);
        assert_eq!(t, SentTx { nonce: 5, max_fee_per_gas: 200, max_priority_fee_per_gas: 20 });
        let other = SentTx { nonce: 4, ..last };
        assert_eq!(next_tx(5, 6, (100, 10), Some(other)).max_fee_per_gas, 200);
        // the priority fee never exceeds the max fee
        let t = next_tx(5, 5, (10, 50), None);
        assert_eq!(t.max_priority_fee_per_gas, 10);
        assert_eq!(bump_fee(u128::MAX), u128::MAX);
    }
}
