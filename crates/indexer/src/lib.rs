//! ClayStack indexer: follows the chain over JSON-RPC, decodes every protocol event of both pools
//! with the contract bindings, and stores raw logs, decoded events and the derived tables the API
//! serves (rates, reports, pool state, positions, tickets, operators) into SQLite (default) or
//! PostgreSQL. Derived tables are append-only, keyed by block: a reorg deletes everything past the
//! fork point in one transaction and the follower re-indexes from there.

pub mod db;
pub mod decode;
pub mod follow;
pub mod metrics;
pub mod store;

pub use db::{Db, DbError, Dialect, PgDb, SqliteDb, Val};
pub use follow::{FollowConfig, FollowError, Follower};
pub use metrics::IndexerMetrics;
pub use store::{IndexedLog, Store, StoreError};
