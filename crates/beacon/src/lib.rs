//! Typed async client of the standard Ethereum Beacon API (ethereum/beacon-APIs), built for what
//! real nodes do: integers as decimal strings, `execution_optimistic`/`finalized` flags, 404 vs
//! 503 vs timeouts (bounded retries with exponential backoff), a cap on buffered bodies, and a
//! streaming reader of the all-validators response that keeps a million validators in bounded
//! memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), claystack_beacon::Error> {
//! use claystack_beacon::{BeaconClient, ClientConfig, StateId};
//! let client = BeaconClient::new("http://127.0.0.1:5052", ClientConfig::default())?;
//! let mut total = 0u64;
//! client
//!     .stream_validators(StateId::Finalized, &[], |v| {
//!         total = total.saturating_add(v.balance.get());
//!         Ok::<(), std::convert::Infallible>(())
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

pub mod client;
pub mod de;
pub mod error;
pub mod stream;
pub mod types;

pub use client::{
    ATTESTATION_REWARDS_BATCH, ATTESTATION_REWARDS_CONCURRENCY, BeaconClient, ClientConfig,
    ValidatorQuery, parse_spec, validate_validator,
};
pub use error::Error;
pub use types::*;
