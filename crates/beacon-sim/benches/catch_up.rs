//! A catch-up after a one-day clock warp: 86,400 one-second slots (21,600 four-slot epochs) with
//! the devnet's 128 outside validators and 12 of the pool's, processed in the node's batches
//! (one state copy per 32 slots, history views for the last `history_slots` only, liveness
//! archived for two days), no execution node and no snapshot.

#![allow(missing_docs)]

use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("catch_up");
    group.sample_size(10);
    group.bench_function("one_day_of_1s_slots_140_validators", |b| {
        b.iter(|| {
            rt.block_on(async {
                let node = SimNode::start(
                    NodeConfig {
                        chain: ChainConfig {
                            genesis_validators: 140,
                            genesis_time: 1_700_000_000,
                            liveness_epochs: 43_200,
                            ..ChainConfig::devnet()
                        },
                        listen: "127.0.0.1:0".parse().unwrap(),
                        execution_rpc: None,
                        execution_start_block: 0,
                        follow_distance: 0,
                        exit_request_contract: None,
                        apply_el_credits: false,
                        snapshot_path: None,
                        clock: ClockMode::Manual,
                    },
                    None,
                )
                .await
                .unwrap();
                node.advance(86_400).await.unwrap();
                node.shutdown().await.unwrap();
            });
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
