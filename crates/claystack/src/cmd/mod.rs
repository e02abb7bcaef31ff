//! One module per subsystem; each exposes its clap arguments and an async `run`.

pub(crate) mod api;
pub(crate) mod beacon_sim;
pub(crate) mod devnet;
pub(crate) mod dvt;
pub(crate) mod indexer;
pub(crate) mod keeper;
pub(crate) mod keys;
pub(crate) mod operator;
pub(crate) mod oracle;
pub(crate) mod serve;
pub(crate) mod signer;
pub(crate) mod stake;
