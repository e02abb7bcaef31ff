//! The execution-node adapter: plain JSON-RPC over HTTP (`eth_blockNumber`, `eth_getLogs`,
//! `anvil_addBalance`). It reads deposit logs and EIP-7002 request logs, and applies the
//! consensus layer's withdrawals and priority fees to execution balances.
//!
//! Credits are increments (`anvil_addBalance`), never a read of the balance followed by a write
//! of `balance + credit`: between those two calls a transaction can move the balance (an oracle
//! report pulling from the WithdrawalVault), and the write would undo it — paying the pulled ETH
//! a second time. anvil implements `anvil_addBalance` as a read and a write of its own database
//! under two lock acquisitions, so a block mined in exactly that window could still be
//! overwritten: the window shrinks from two HTTP round trips (and, during a warp, a day of
//! grouped credits) to an in-process lock hand-over, but it is not zero. A fully atomic credit
//! needs a transaction (ordered with the others by the block); see the crate README.
//!
//! EIP-7002 reading hook: the system contract at `0x00000961Ef480Eb55e80D19ad83579A64c007002`
//! emits, for every request, an anonymous `LOG0` whose data is the 76-byte record
//! `source_address (20) ‖ validator_pubkey (48) ‖ amount (uint64 big-endian)`. The follower reads
//! logs with exactly that data length from the configured `exit_request_contract` (the real system
//! contract address on a chain that has it, or a mock installed by the devnet on anvil, which does
//! not). Any contract that emits the same `LOG0` records works.

use crate::core::ElCredit;
use crate::core::deposit::{
    DEPOSIT_EVENT_TOPIC, Deposit, WithdrawalRequest, decode_deposit_event,
    decode_withdrawal_request,
};
use claystack_consensus::hexutil;
use serde_json::{Value, json};
use std::time::Duration;

/// The EIP-7002 system contract address (Prague).
pub const EIP7002_ADDRESS: [u8; 20] = [
    0x00, 0x00, 0x09, 0x61, 0xef, 0x48, 0x0e, 0xb5, 0x5e, 0x80, 0xd1, 0x9a, 0xd8, 0x35, 0x79, 0xa6,
    0x4c, 0x00, 0x70, 0x02,
];

/// Blocks per `eth_getLogs` request.
const LOG_RANGE: u64 = 2_000;

/// An execution-node call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Transport or HTTP failure.
    #[error("{method}: {source}")]
    Transport {
        /// JSON-RPC method.
        method: &'static str,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The node returned a JSON-RPC error.
    #[error("{method}: node error {code}: {message}")]
    Node {
        /// JSON-RPC method.
        method: &'static str,
        /// Error code.
        code: i64,
        /// Error message.
        message: String,
    },
    /// The result has an unexpected shape.
    #[error("{method}: unexpected result: {reason}")]
    Shape {
        /// JSON-RPC method.
        method: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl RpcError {
    /// Whether the call certainly had no effect on the node: the connection was never made, the
    /// HTTP layer refused it, or the node answered with a JSON-RPC error. Anything else (a
    /// timeout, a connection dropped mid-answer, an unreadable answer) may have been applied.
    #[must_use]
    pub fn certainly_not_applied(&self) -> bool {
        match self {
            Self::Transport { source, .. } => source.is_connect() || source.is_status(),
            Self::Node { .. } => true,
            Self::Shape { .. } => false,
        }
    }
}

/// A minimal JSON-RPC client of an execution node.
#[derive(Debug, Clone)]
pub struct ExecutionClient {
    url: String,
    http: reqwest::Client,
}

/// A log returned by `eth_getLogs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Block number.
    pub block_number: u64,
    /// Topics.
    pub topics: Vec<[u8; 32]>,
    /// Data.
    pub data: Vec<u8>,
}

/// Parses a JSON-RPC hex quantity (`0x1a`).
pub fn parse_quantity(v: &Value) -> Option<u128> {
    let s = v.as_str()?.strip_prefix("0x")?;
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

impl ExecutionClient {
    /// A client of the node at `url`.
    pub fn new(url: &str) -> Result<Self, RpcError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| RpcError::Transport { method: "connect", source })?;
        Ok(Self { url: url.to_string(), http })
    }

    /// Performs one JSON-RPC call.
    pub async fn call(&self, method: &'static str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|source| RpcError::Transport { method, source })?;
        let mut v: Value =
            resp.json().await.map_err(|source| RpcError::Transport { method, source })?;
        if let Some(err) = v.get("error") {
            return Err(RpcError::Node {
                method,
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
            });
        }
        v.get_mut("result")
            .map(Value::take)
            .ok_or_else(|| RpcError::Shape { method, reason: "no result".into() })
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64, RpcError> {
        let v = self.call("eth_blockNumber", json!([])).await?;
        parse_quantity(&v)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| RpcError::Shape { method: "eth_blockNumber", reason: v.to_string() })
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        let v = self.call("eth_chainId", json!([])).await?;
        parse_quantity(&v)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| RpcError::Shape { method: "eth_chainId", reason: v.to_string() })
    }

    /// `eth_getBalance` at `latest`, in wei.
    pub async fn balance(&self, address: &[u8; 20]) -> Result<u128, RpcError> {
        let v = self
            .call("eth_getBalance", json!([hexutil::encode_prefixed(address), "latest"]))
            .await?;
        parse_quantity(&v)
            .ok_or_else(|| RpcError::Shape { method: "eth_getBalance", reason: v.to_string() })
    }

    /// `anvil_addBalance` (wei): adds to the balance in one call, so that nothing moving the
    /// balance between a read and a write is undone (see the module notes for what remains).
    pub async fn add_balance(&self, address: &[u8; 20], wei: u128) -> Result<(), RpcError> {
        self.call(
            "anvil_addBalance",
            json!([hexutil::encode_prefixed(address), format!("{wei:#x}")]),
        )
        .await
        .map(|_| ())
    }

    /// `anvil_setBalance` (wei). Not used for credits: a read followed by this write races
    /// with transactions (see [`Self::add_balance`]).
    pub async fn set_balance(&self, address: &[u8; 20], wei: u128) -> Result<(), RpcError> {
        self.call(
            "anvil_setBalance",
            json!([hexutil::encode_prefixed(address), format!("{wei:#x}")]),
        )
        .await
        .map(|_| ())
    }

    /// `eth_getLogs` of `address` in `[from, to]`, optionally filtered by topic 0.
    pub async fn logs(
        &self,
        address: &[u8; 20],
        topic0: Option<[u8; 32]>,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, RpcError> {
        let mut filter = json!({
            "address": hexutil::encode_prefixed(address),
            "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"),
        });
        if let (Some(t), Some(obj)) = (topic0, filter.as_object_mut()) {
            obj.insert("topics".into(), json!([hexutil::encode_prefixed(t)]));
        }
        let v = self.call("eth_getLogs", json!([filter])).await?;
        let shape = |reason: String| RpcError::Shape { method: "eth_getLogs", reason };
        let arr = v.as_array().ok_or_else(|| shape("not an array".into()))?;
        let mut out = Vec::with_capacity(arr.len());
        for l in arr {
            if l.get("removed").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let block_number = l
                .get("blockNumber")
                .and_then(parse_quantity)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| shape("log without blockNumber".into()))?;
            let data = l
                .get("data")
                .and_then(Value::as_str)
                .and_then(|s| hexutil::decode(s).ok())
                .ok_or_else(|| shape("log without valid data".into()))?;
            let mut topics = Vec::new();
            for t in l.get("topics").and_then(Value::as_array).into_iter().flatten() {
                let t = t
                    .as_str()
                    .and_then(|s| hexutil::decode_fixed::<32>(s).ok())
                    .ok_or_else(|| shape("invalid topic".into()))?;
                topics.push(t);
            }
            out.push(Log { block_number, topics, data });
        }
        Ok(out)
    }
}

/// What one poll of the execution node found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Poll {
    /// Deposits in log order.
    pub deposits: Vec<Deposit>,
    /// EIP-7002 requests in log order.
    pub requests: Vec<WithdrawalRequest>,
    /// Logs that could not be decoded (reported, skipped).
    pub malformed: Vec<String>,
    /// Last block read (the next poll starts after it).
    pub last_block: u64,
    /// The execution head at the time of the poll.
    pub head: u64,
}

/// Reads deposits and exit requests from the execution node.
#[derive(Debug, Clone)]
pub struct Follower {
    /// The JSON-RPC client.
    pub client: ExecutionClient,
    /// Deposit contract address.
    pub deposit_contract: [u8; 20],
    /// Where EIP-7002 request logs are read from (None: no reading).
    pub exit_request_contract: Option<[u8; 20]>,
    /// Blocks behind the head that are considered final enough to read.
    pub follow_distance: u64,
}

impl Follower {
    /// Reads logs from block `from` to `head − follow_distance`.
    pub async fn poll(&self, from: u64) -> Result<Poll, RpcError> {
        let head = self.client.block_number().await?;
        let to = head.saturating_sub(self.follow_distance);
        let mut poll = Poll { last_block: from.saturating_sub(1), head, ..Poll::default() };
        if to < from {
            return Ok(poll);
        }
        let mut start = from;
        while start <= to {
            let end = to.min(start.saturating_add(LOG_RANGE - 1));
            for log in self
                .client
                .logs(&self.deposit_contract, Some(DEPOSIT_EVENT_TOPIC), start, end)
                .await?
            {
                match decode_deposit_event(&log.data) {
                    Ok(d) => poll.deposits.push(d),
                    Err(e) => poll
                        .malformed
                        .push(format!("deposit log in block {}: {e}", log.block_number)),
                }
            }
            if let Some(addr) = self.exit_request_contract {
                for log in self.client.logs(&addr, None, start, end).await? {
                    if !log.topics.is_empty() || log.data.len() != 76 {
                        continue;
                    }
                    match decode_withdrawal_request(&log.data) {
                        Ok(r) => poll.requests.push(r),
                        Err(e) => poll
                            .malformed
                            .push(format!("exit request in block {}: {e}", log.block_number)),
                    }
                }
            }
            poll.last_block = end;
            start = end.saturating_add(1);
        }
        Ok(poll)
    }

    /// Adds the credits to their addresses' execution balances (`anvil_addBalance`), the effect
    /// of EIP-4895 withdrawals and of priority fees. Credits to one address are summed first, so
    /// a batch costs one call per address whatever its length (a day of one-second slots after
    /// a warp credits the same few vaults thousands of times). Returns the credits not applied
    /// with the error: those of the failing address (which may have been applied when the error
    /// is not [`RpcError::certainly_not_applied`]) and every later one. Nothing is recorded on
    /// disk: the node journals its batches itself (`crate::node`).
    pub async fn apply_credits(
        &self,
        credits: Vec<ElCredit>,
    ) -> Result<(), (Vec<ElCredit>, RpcError)> {
        let groups = group_by_address(credits);
        let mut it = groups.into_iter();
        while let Some((address, total, group)) = it.next() {
            if let Err(e) = self.client.add_balance(&address, total).await {
                let mut rest = group;
                for (_, _, g) in it {
                    rest.extend(g);
                }
                return Err((rest, e));
            }
        }
        Ok(())
    }
}

/// Credits grouped by address in order of first appearance: `(address, total wei, credits)`.
/// Deterministic: the same credits always give the same groups in the same order (the node's
/// credit journal refers to groups by position).
pub(crate) fn group_by_address(credits: Vec<ElCredit>) -> Vec<([u8; 20], u128, Vec<ElCredit>)> {
    let mut groups: Vec<([u8; 20], u128, Vec<ElCredit>)> = Vec::new();
    for c in credits {
        let wei = c.amount.to_wei().0;
        match groups.iter_mut().find(|g| g.0 == c.address) {
            Some(g) => {
                g.1 = g.1.saturating_add(wei);
                g.2.push(c);
            }
            None => groups.push((c.address, wei, vec![c])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_are_summed_per_address_in_first_seen_order() {
        use crate::core::{CreditReason, ElCredit};
        use claystack_consensus::{Gwei, Slot, ValidatorIndex};
        let c = |a: u8, gwei: u64| ElCredit {
            slot: Slot(1),
            address: [a; 20],
            amount: Gwei(gwei),
            reason: CreditReason::PriorityFee { validator_index: ValidatorIndex(0) },
        };
        let g = group_by_address(vec![c(2, 1), c(1, 5), c(2, 3)]);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].0, g[0].1, g[0].2.len()), ([2; 20], 4_000_000_000, 2));
        assert_eq!((g[1].0, g[1].1, g[1].2.len()), ([1; 20], 5_000_000_000, 1));
        assert!(group_by_address(Vec::new()).is_empty());
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&json!("0x1a")), Some(26));
        assert_eq!(parse_quantity(&json!("0x")), None);
        assert_eq!(parse_quantity(&json!("1a")), None);
        assert_eq!(parse_quantity(&json!(26)), None);
        assert_eq!(
            hexutil::encode_prefixed(EIP7002_ADDRESS),
            "0x00000961ef480eb55e80d19ad83579a64c007002"
        );
    }
}
