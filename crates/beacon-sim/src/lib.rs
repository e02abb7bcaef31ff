//! Deterministic beacon-chain simulator for devnets and tests. It follows an execution node
//! (anvil) over JSON-RPC, reads the deposit contract's `DepositEvent` logs, models the consensus
//! layer (pending deposits, top-ups, activation churn, seeded rewards and penalties, proposals and
//! fee recipients, slashing, exits, the withdrawal sweep crediting execution balances) and serves
//! the standard Beacon API, so the oracle cannot tell it from a real node.
//!
//! Layers: [`core`] is the pure state transition; [`follower`] the execution-node adapter;
//! [`server`] the Beacon API and `/admin/` HTTP server; [`clock`] the slot clock; [`snapshot`]
//! the atomic on-disk snapshots; [`credits`] the journal that applies execution credits at most
//! once across crashes; [`node`] wires them together.

pub mod config;
pub mod core;

pub use config::ChainConfig;
pub mod api_json;
pub mod bls;
pub mod clock;
pub mod credits;
pub mod follower;
pub mod node;
pub mod server;
pub mod snapshot;

pub use clock::ClockMode;
pub use node::{NodeConfig, NodeError, SimNode};
