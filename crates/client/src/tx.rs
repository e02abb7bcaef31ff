//! Sending a transaction and waiting for its receipt, with progress events for a progress line.

use alloy::{
    network::Ethereum, primitives::TxHash, providers::PendingTransactionBuilder,
    rpc::types::TransactionReceipt,
};

use crate::error::ClientError;

/// What happened to a transaction, for a progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxEvent {
    /// Accepted by the node; now waiting for a receipt.
    Sent {
        /// What the transaction does.
        action: &'static str,
        /// Its hash.
        hash: TxHash,
    },
    /// Included in a block.
    Mined {
        /// Its hash.
        hash: TxHash,
        /// Block number.
        block: u64,
        /// Gas used.
        gas_used: u64,
    },
}

impl std::fmt::Display for TxEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sent { action, hash } => {
                write!(f, "{action}: sent {hash}, waiting for receipt …")
            }
            Self::Mined { block, gas_used, .. } => {
                write!(f, "  mined in block {block}, gas used {gas_used}")
            }
        }
    }
}

/// Receives progress events; `&|e| println!("{e}")` prints one line per event.
pub trait Progress: Send + Sync {
    /// Called for each event.
    fn event(&self, event: &TxEvent);
}

impl<F: Fn(&TxEvent) + Send + Sync> Progress for F {
    fn event(&self, event: &TxEvent) {
        self(event);
    }
}

/// Discards progress events.
pub fn quiet(_: &TxEvent) {}

/// A mined, successful transaction.
#[derive(Debug, Clone)]
pub struct Mined {
    /// Its hash.
    pub hash: TxHash,
    /// Block number.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// The full receipt (logs).
    pub receipt: TransactionReceipt,
}

/// Waits for a sent transaction's receipt, reporting progress; a failed status is an error.
pub async fn wait(
    action: &'static str,
    pending: PendingTransactionBuilder<Ethereum>,
    progress: &dyn Progress,
) -> Result<Mined, ClientError> {
    let hash = *pending.tx_hash();
    progress.event(&TxEvent::Sent { action, hash });
    let receipt = pending.get_receipt().await.map_err(|e| ClientError::Pending {
        action,
        hash,
        detail: e.to_string(),
    })?;
    let block = receipt.block_number.unwrap_or_default();
    if !receipt.status() {
        return Err(ClientError::TxFailed { action, hash, block });
    }
    let gas_used = receipt.gas_used;
    progress.event(&TxEvent::Mined { hash, block, gas_used });
    Ok(Mined { hash, block, gas_used, receipt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_well() {
        let hash = TxHash::repeat_byte(0xab);
        let sent = TxEvent::Sent { action: "stake", hash }.to_string();
        assert!(sent.starts_with("stake: sent 0xabab") && sent.ends_with("waiting for receipt …"));
        let mined = TxEvent::Mined { hash, block: 12, gas_used: 51_234 }.to_string();
        assert_eq!(mined, "  mined in block 12, gas used 51234");
    }

    #[test]
    fn closures_are_progress_sinks() {
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |e: &TxEvent| seen.lock().unwrap().push(e.clone());
        let p: &dyn Progress = &sink;
        p.event(&TxEvent::Mined { hash: TxHash::ZERO, block: 1, gas_used: 2 });
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}
