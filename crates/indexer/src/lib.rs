//! ClayStack indexer: follows the chain over JSON-RPC, decodes every protocol event of both pools
//! with the contract bindings, and stores raw logs, decoded events and the derived tables the API
//! serves (rates, reports and their extra-data chunks, pool state, positions, tickets, operators,
//! exit requests, losses by waterfall layer, rewards, parameters, pool events) into SQLite (default) or
//! PostgreSQL. Derived tables are append-only, keyed by block: a reorg deletes everything past the
//! fork point in one transaction and the follower re-indexes from there.

pub mod db;
pub mod decode;
pub mod exits;
pub mod follow;
pub mod metrics;
pub mod store;

pub use db::{Db, DbError, Dialect, PgDb, SqliteDb, Val};
pub use follow::{FollowConfig, FollowError, Follower};
pub use metrics::IndexerMetrics;
pub use store::{IndexedLog, Store, StoreError};

/// Opens the configured database: PostgreSQL when `database_url` is given, else SQLite at
/// `sqlite`. Blocking (the PostgreSQL client runs its own runtime): call it from a blocking
/// thread, e.g. through [`open_store`].
pub fn open_db(
    database_url: Option<&str>,
    sqlite: &std::path::Path,
) -> Result<Box<dyn Db>, DbError> {
    match database_url {
        Some(url) => Ok(Box::new(PgDb::connect(url)?)),
        None => Ok(Box::new(SqliteDb::open(sqlite)?)),
    }
}

/// Opens the database and the store on a blocking thread, ready to share with a [`Follower`] and
/// the API. Drop the last handle on a blocking thread too (see [`close_store`]).
pub async fn open_store(
    database_url: Option<String>,
    sqlite: std::path::PathBuf,
    sources: Vec<decode::Source>,
) -> Result<std::sync::Arc<std::sync::Mutex<Store>>, StoreError> {
    tokio::task::spawn_blocking(move || {
        let db = open_db(database_url.as_deref(), &sqlite)?;
        Store::open(db, &sources).map(|s| std::sync::Arc::new(std::sync::Mutex::new(s)))
    })
    .await
    .map_err(|e| StoreError::OutOfRange { what: "store task", value: e.to_string() })?
}

/// Drops a store handle on a blocking thread: the PostgreSQL client owns a runtime that must not
/// be dropped inside async code.
pub async fn close_store(store: std::sync::Arc<std::sync::Mutex<Store>>) {
    if let Err(e) = tokio::task::spawn_blocking(move || drop(store)).await {
        tracing::warn!(target: "indexer", error = %e, "close the store");
    }
}
