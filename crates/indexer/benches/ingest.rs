//! Indexing throughput: feeds a generated history of decoded-ready logs (1,000,000 by default:
//! deposits = `Transfer` mint + `Deposited`, one `OracleReportApplied` per 1,000 blocks, across
//! 10,000 stakers) straight into `Store::apply` in ranges of 100 blocks, and reports events/s.
//! It measures decoding + derived-table maintenance + storage, not JSON-RPC.
//!
//! `cargo bench -p claystack-indexer --bench ingest` (SQLite file in a temp dir); set
//! `CLAYSTACK_BENCH_PG_URL=postgres://…` to measure PostgreSQL too, `CLAYSTACK_BENCH_EVENTS` to
//! change the size.

#![allow(clippy::print_stderr, missing_docs)]

use std::time::Instant;

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use claystack_bindings::stake_pool::StakePool;
use claystack_indexer::{
    Db, PgDb, SqliteDb, Store,
    decode::{Contract, Source},
    store::{Batch, IndexedLog},
};

const LOGS_PER_BLOCK: u64 = 20;
const BLOCKS_PER_BATCH: u64 = 100;

fn history(total: u64, pool: Address) -> impl Iterator<Item = Batch> {
    let blocks = total.div_ceil(LOGS_PER_BLOCK);
    let mut supply = U256::ZERO;
    (0..blocks.div_ceil(BLOCKS_PER_BATCH)).map(move |b| {
        let first = b * BLOCKS_PER_BATCH + 1;
        let last = (first + BLOCKS_PER_BATCH - 1).min(blocks);
        let mut logs = Vec::new();
        for n in first..=last {
            let hash = B256::from(U256::from(n));
            let mut push = |i: u64, data: alloy::primitives::LogData| {
                logs.push(IndexedLog {
                    block_number: n,
                    block_hash: hash,
                    block_time: 1_700_000_000 + n * 12,
                    log_index: i,
                    tx_hash: B256::from(U256::from(n * 1_000 + i)),
                    address: pool,
                    topics: data.topics().to_vec(),
                    data: data.data.to_vec(),
                    tx_input: None,
                });
            };
            let mut i = 0;
            while i + 1 < LOGS_PER_BLOCK {
                let staker = Address::from_word(B256::from(U256::from((n * 31 + i) % 10_000 + 1)));
                let amount = U256::from(10u64).pow(U256::from(18u64)) * U256::from(1 + i % 3);
                supply += amount;
                push(
                    i,
                    StakePool::Transfer { from: Address::ZERO, to: staker, value: amount }
                        .encode_log_data(),
                );
                push(
                    i + 1,
                    StakePool::Deposited {
                        sender: staker,
                        recipient: staker,
                        amount,
                        shares: amount,
                    }
                    .encode_log_data(),
                );
                i += 2;
            }
            if n % 1_000 == 0 {
                let post = supply + supply / U256::from(10_000u64);
                push(
                    i,
                    StakePool::OracleReportApplied {
                        refSlot: U256::from(n),
                        preTotalPooledEther: supply,
                        postTotalPooledEther: post,
                        totalShares: supply,
                        elRewardsPulled: U256::ZERO,
                        withdrawalsPulled: U256::ZERO,
                    }
                    .encode_log_data(),
                );
            }
        }
        Batch {
            to_block: last,
            to_hash: B256::from(U256::from(last)),
            to_time: 1_700_000_000 + last * 12,
            logs,
        }
    })
}

fn run(name: &str, db: Box<dyn Db>, total: u64) {
    let pool = Address::repeat_byte(0x11);
    let mut store =
        Store::open(db, &[Source { address: pool, contract: Contract::StakePool, pool: "public" }])
            .expect("open store");
    let start = Instant::now();
    let mut events = 0u64;
    for batch in history(total, pool) {
        events += batch.logs.len() as u64;
        store.apply(&batch).expect("apply");
    }
    let secs = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = events as f64 / secs;
    eprintln!("ingest/{name}: {events} events in {secs:.1} s = {rate:.0} events/s");
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes; nothing to list
    }
    let total: u64 = std::env::var("CLAYSTACK_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    run(
        "sqlite",
        Box::new(SqliteDb::open(&dir.path().join("bench.sqlite")).expect("sqlite")),
        total,
    );
    if let Ok(url) = std::env::var("CLAYSTACK_BENCH_PG_URL") {
        run("postgres", Box::new(PgDb::connect(&url).expect("postgres")), total);
    }
}
