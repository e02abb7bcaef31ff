//! A Web3Signer-compatible remote signer (eth2 API) guarded by EIP-3076 slashing protection.
//!
//! The signer never signs a root it did not compute: [`request`] turns a typed request and its
//! fork info into the signing root (and refuses a mismatching `signingRoot`), [`service`] checks
//! and records blocks and attestations in the slashing database before asking the
//! [`SigningBackend`] for a signature, and [`http`] exposes it as Web3Signer does.
//! Layers: [`messages`] and [`request`] are pure; [`backend`] holds keys; [`http`] does I/O.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod backend;
pub mod block;
pub mod http;
pub mod messages;
pub mod metrics;
pub mod request;
pub mod service;
pub mod spec;

pub use backend::{
    BackendError, KeyLoadError, LocalKeystoreBackend, PasswordSource, SigningBackend,
    load_keystores_dir,
};
pub use http::{ServeError, check_bind, router, serve};
pub use metrics::{Outcome, SignerMetrics};
pub use request::{MessageType, RequestError, SignRequest, SigningPlan, SlashingCheck};
pub use service::{SignError, SignerState};
pub use spec::NetworkSpec;
