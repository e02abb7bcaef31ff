//! The indexer suite (backfill, restart resume, reorg, equality with a fresh index) against a
//! real anvil devnet, stored in SQLite.

mod indexer_suite;

#[test]
fn indexer_suite_on_sqlite() {
    let backend = indexer_suite::SqliteBackend::new();
    indexer_suite::run_suite(&backend);
}
