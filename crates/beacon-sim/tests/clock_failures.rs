//! A wall clock whose advance keeps failing backs off instead of spinning, and a warp that
//! cannot catch up answers with the error instead of waiting forever — through
//! `Shared::wait_caught_up_within` and `POST /admin/warp`. Once the cause is gone the clock
//! catches up again.
//!
//! The failure is injected into the state: a pooled voluntary exit of a validator that does not
//! exist makes every produced block fail (the batch is discarded, the head stays). A pending
//! deposit checked by a counting verifier before the exits of the same block counts the attempts.

use claystack_beacon_sim::core::deposit::Deposit;
use claystack_beacon_sim::core::{DepositVerifier, PooledExit};
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, NodeError, SimNode};
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Accepts every deposit and counts the calls (one per attempt to produce the block).
struct Counting(Arc<AtomicU64>);

impl DepositVerifier for Counting {
    fn verify(&self, _deposit: &Deposit) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_clock_backs_off_and_a_warp_that_cannot_catch_up_says_why() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let cfg = NodeConfig {
        chain: ChainConfig {
            genesis_validators: 4,
            default_performance_ppm: 1_000_000,
            performance_jitter_ppm: 0,
            genesis_time: now - 2,
            verify_deposit_signatures: true,
            ..ChainConfig::devnet()
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        execution_rpc: None,
        execution_start_block: 0,
        follow_distance: 0,
        exit_request_contract: None,
        apply_el_credits: false,
        snapshot_path: None,
        clock: ClockMode::Wall { slot_duration: Duration::from_millis(100) },
    };
    let calls = Arc::new(AtomicU64::new(0));
    let node = SimNode::start(cfg, Some(Arc::new(Counting(Arc::clone(&calls))))).await.unwrap();
    node.shared().wait_caught_up_within(Duration::from_secs(10)).await.unwrap();
    {
        let mut inner = node.shared().inner.write().unwrap();
        let index = inner.state.deposits_processed;
        let mut wc = [0u8; 32];
        wc[0] = 1;
        inner
            .state
            .enqueue_deposit(Deposit {
                pubkey: [0x5a; 48],
                withdrawal_credentials: wc,
                amount: Gwei(32 * Gwei::PER_ETH),
                signature: vec![0; 96],
                index,
            })
            .unwrap();
        inner
            .state
            .voluntary_exit_pool
            .push_back(PooledExit { epoch: Epoch(0), validator_index: ValidatorIndex(999) });
    }
    let start = calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let attempts = calls.load(Ordering::SeqCst) - start;
    // 100 + 200 + 400 + 800 ms of pauses: about five attempts, not thousands
    assert!((2..=8).contains(&attempts), "{attempts} attempts in 1.6 s");
    assert!(node.shared().clock_failures() >= 2, "{}", node.shared().clock_failures());
    let said = node.shared().read().unwrap().last_error.clone().unwrap_or_default();
    assert!(said.contains("unknown validator 999"), "{said}");

    // a warp cannot catch up: the wait ends with the cause, it does not hang
    node.shared().warp(Duration::from_secs(60)).unwrap();
    let err = node.shared().wait_caught_up_within(Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(err, NodeError::CatchUpStalled { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("did not catch up") && msg.contains("unknown validator 999"), "{msg}");
    let r = reqwest::Client::new()
        .post(format!("{}/admin/warp", node.url()))
        .json(&json!({"seconds": 10, "timeout_seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("did not catch up"), "{body}");

    // the cause gone, the clock catches up with the warped time
    node.shared().inner.write().unwrap().state.voluntary_exit_pool.clear();
    let head = node.shared().wait_caught_up_within(Duration::from_secs(20)).await.unwrap();
    assert!(head.get() >= 700, "head {head} after 70 s of warps at 100 ms slots");
    assert_eq!(node.shared().clock_failures(), 0);
    node.shutdown().await.unwrap();
}
