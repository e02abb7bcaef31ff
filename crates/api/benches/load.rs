//! API latency under load: an open-loop generator sends 1,000 requests/s for 10 s over loopback
//! to the real router (SQLite store holding 200,000 generated events: deposits by 10,000 stakers
//! and 200 oracle reports), spread over `/api/v1/summary`, `/api/v1/rates?limit=100` and
//! `/api/v1/stakers/{address}`, and reports p50/p90/p99/max. Latency is measured from each
//! request's *scheduled* send time, so a stalled server cannot hide its queueing (no coordinated
//! omission). A small reqwest-based generator stands in for `oha`/`wrk`, which are not installed.
//!
//! `cargo bench -p claystack-api --bench load` (`CLAYSTACK_BENCH_RPS`, `CLAYSTACK_BENCH_SECS`).

#![allow(clippy::print_stderr, missing_docs)]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use claystack_api::{ApiMetrics, AppState};
use claystack_bindings::stake_pool::StakePool;
use claystack_indexer::{
    SqliteDb, Store,
    decode::{Contract, Source},
    store::{Batch, IndexedLog},
};

fn staker(i: u64) -> Address {
    Address::from_word(B256::from(U256::from(i % 10_000 + 1)))
}

fn seed(store: &mut Store, pool: Address) {
    let mut supply = U256::ZERO;
    for b in 0..100u64 {
        let mut logs = Vec::new();
        for n in b * 100 + 1..=b * 100 + 100 {
            let mut i = 0;
            let mut push = |data: alloy::primitives::LogData| {
                logs.push(IndexedLog {
                    block_number: n,
                    block_hash: B256::from(U256::from(n)),
                    block_time: 1_700_000_000 + n * 12,
                    log_index: i,
                    tx_hash: B256::from(U256::from(n * 1_000 + i)),
                    address: pool,
                    topics: data.topics().to_vec(),
                    data: data.data.to_vec(),
                    tx_input: None,
                });
                i += 1;
            };
            for k in 0..10 {
                let who = staker(n * 10 + k);
                let amount = U256::from(10u64).pow(U256::from(18u64));
                supply += amount;
                push(
                    StakePool::Transfer { from: Address::ZERO, to: who, value: amount }
                        .encode_log_data(),
                );
                push(
                    StakePool::Deposited { sender: who, recipient: who, amount, shares: amount }
                        .encode_log_data(),
                );
            }
            if n % 50 == 0 {
                push(
                    StakePool::OracleReportApplied {
                        refSlot: U256::from(n),
                        preTotalPooledEther: supply,
                        postTotalPooledEther: supply
                            + U256::from(n) * U256::from(10u64).pow(U256::from(15u64)),
                        totalShares: supply,
                        elRewardsPulled: U256::ZERO,
                        withdrawalsPulled: U256::ZERO,
                    }
                    .encode_log_data(),
                );
            }
        }
        let to = b * 100 + 100;
        store
            .apply(&Batch {
                to_block: to,
                to_hash: B256::from(U256::from(to)),
                to_time: 1_700_000_000 + to * 12,
                logs,
            })
            .expect("seed");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let rps: u64 =
        std::env::var("CLAYSTACK_BENCH_RPS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let secs: u64 =
        std::env::var("CLAYSTACK_BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = Address::repeat_byte(0x11);
    let mut store = Store::open(
        Box::new(SqliteDb::open(&dir.path().join("api.sqlite")).expect("sqlite")),
        &[Source { address: pool, contract: Contract::StakePool, pool: "public" }],
    )
    .expect("store");
    seed(&mut store, pool);
    let state = AppState {
        store: Arc::new(Mutex::new(store)),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: None,
        frame_seconds: Some(86_400),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(axum::serve(listener, claystack_api::router(state)).into_future());
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
        let paths: Vec<String> = (0..3_000u64)
            .map(|i| match i % 3 {
                0 => "/api/v1/summary".to_owned(),
                1 => "/api/v1/rates?limit=100".to_owned(),
                _ => format!("/api/v1/stakers/{:#x}", staker(i * 7)),
            })
            .collect();
        // Warm-up.
        for p in paths.iter().take(300) {
            let r = client.get(format!("{base}{p}")).send().await.expect("warm-up");
            assert!(r.status().is_success(), "{p}: {}", r.status());
        }
        let total = rps * secs;
        let interval = Duration::from_secs(1) / u32::try_from(rps).expect("rps");
        let start = Instant::now() + Duration::from_millis(50);
        let mut tasks = Vec::with_capacity(usize::try_from(total).expect("total"));
        for i in 0..total {
            let at = start + interval * u32::try_from(i).expect("index");
            let url = format!("{base}{}", paths[usize::try_from(i % 3_000).expect("i")]);
            let c = client.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let ok = c.get(url).send().await.map(|r| r.status().is_success()).unwrap_or(false);
                (at.elapsed(), ok)
            }));
        }
        let mut lat = Vec::with_capacity(tasks.len());
        let mut errors = 0u64;
        for t in tasks {
            let (d, ok) = t.await.expect("join");
            if !ok {
                errors += 1;
            }
            lat.push(d);
        }
        let wall = start.elapsed();
        lat.sort();
        eprintln!(
            "api/load: {total} requests at {rps}/s over {:.1} s, {errors} errors: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            wall.as_secs_f64(),
            percentile(&lat, 0.50).as_secs_f64() * 1e3,
            percentile(&lat, 0.90).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    });
}
