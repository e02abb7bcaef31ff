//! The same indexer suite as `indexer_sqlite.rs`, stored in a real PostgreSQL cluster started in
//! a temporary directory. Fails (never skips) when PostgreSQL is not installed.

mod indexer_suite;

#[test]
fn indexer_suite_on_postgres() {
    let backend = indexer_suite::PgBackend::new();
    indexer_suite::run_suite(&backend);
}
