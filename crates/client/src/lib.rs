//! Typed, testable ClayStack actions over the contract bindings: exact ether amounts, revert
//! decoding into words, transactions with progress, staker actions and the keeper. The
//! `claystack` binary only maps flags onto these.

pub mod amount;
pub mod error;
pub mod exits;
pub mod keeper;
pub mod metrics;
pub mod operator;
pub mod revert;
pub mod rewards;
pub mod staker;
pub mod tx;
pub mod wallet;

pub use amount::{AmountError, format_eth, format_ether, parse_amount};
pub use claystack_bindings::Deployment;
pub use claystack_consensus::Wei;
pub use error::ClientError;
pub use revert::Revert;

/// Re-exported so that callers need no direct alloy dependency for addresses and amounts.
pub use alloy::primitives::{Address, U256};

/// Hex encoding without a prefix (for the CLI's output).
#[must_use]
pub fn hex_encode(bytes: &[u8]) -> String {
    alloy::primitives::hex::encode(bytes)
}

/// Decodes hex (with or without 0x).
pub fn hex_decode(text: &str) -> Result<Vec<u8>, alloy::primitives::hex::FromHexError> {
    alloy::primitives::hex::decode(text)
}
