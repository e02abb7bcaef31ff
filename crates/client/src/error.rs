//! The client's error type: every failure names the action that failed.

use alloy::primitives::TxHash;

use crate::{amount::AmountError, revert::Revert};

/// Why a client action failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The contract refused: the call (or the gas estimate before sending) reverted.
    #[error("{action}: {revert}")]
    Reverted {
        /// What was attempted.
        action: &'static str,
        /// The decoded revert.
        revert: Box<Revert>,
    },
    /// The account cannot pay value plus gas.
    #[error("{action}: insufficient ETH balance to pay the amount and gas ({detail})")]
    InsufficientFunds {
        /// What was attempted.
        action: &'static str,
        /// The node's message.
        detail: String,
    },
    /// JSON-RPC or transport failure.
    #[error("{action}: {source}")]
    Rpc {
        /// What was attempted.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// Waiting for the receipt failed.
    #[error("{action}: wait for transaction {hash}: {detail}")]
    Pending {
        /// What was attempted.
        action: &'static str,
        /// The transaction.
        hash: TxHash,
        /// The underlying error.
        detail: String,
    },
    /// The transaction was mined but failed.
    #[error("{action}: transaction {hash} failed in block {block}")]
    TxFailed {
        /// What was attempted.
        action: &'static str,
        /// The transaction.
        hash: TxHash,
        /// The block it was mined in.
        block: u64,
    },
    /// The receipt lacks the event the action expects.
    #[error("{action}: the receipt of {hash} has no {event} event")]
    MissingEvent {
        /// What was attempted.
        action: &'static str,
        /// The transaction.
        hash: TxHash,
        /// The event's name.
        event: &'static str,
    },
    /// A value read from chain does not fit the client's types.
    #[error("{what} is out of range: {value}")]
    OutOfRange {
        /// The quantity.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// A bad amount.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// The Flash Exit fee is above what the caller accepts.
    #[error(
        "Flash Exit fee too high: {fee_bps} bps ({fee}) is above your maximum of {max_bps} bps; \
         raise --max-fee-bps or use `unstake` (the queue, free)"
    )]
    FeeAboveMaximum {
        /// Quoted fee in basis points of the gross amount.
        fee_bps: u64,
        /// Quoted fee, formatted.
        fee: String,
        /// The caller's maximum.
        max_bps: u64,
    },
    /// Nothing to unstake or exit.
    #[error("{0}")]
    Nothing(String),
    /// The deployment file lacks something.
    #[error(transparent)]
    Deployment(#[from] claystack_bindings::DeploymentError),
    /// An action needs a configuration it does not have.
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// Classifies an alloy contract error: decodes revert data, recognises "insufficient funds".
    pub fn from_call(action: &'static str, source: alloy::contract::Error) -> Self {
        if let Some(data) = source.as_revert_data() {
            return Self::Reverted { action, revert: Box::new(Revert::decode(&data)) };
        }
        let text = source.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("insufficient funds") {
            return Self::InsufficientFunds { action, detail: text };
        }
        if lower.contains("execution reverted") {
            return Self::Reverted { action, revert: Box::new(Revert::Empty) };
        }
        Self::Rpc { action, source: Box::new(source) }
    }

    /// The decoded revert, when the contract refused.
    #[must_use]
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }
}

/// Maps a contract call error to [`ClientError`] with the action named.
pub(crate) trait CallContext<T> {
    /// Attaches the action.
    fn action(self, action: &'static str) -> Result<T, ClientError>;
}

impl<T> CallContext<T> for Result<T, alloy::contract::Error> {
    fn action(self, action: &'static str) -> Result<T, ClientError> {
        self.map_err(|e| ClientError::from_call(action, e))
    }
}
