//! The oracle members read the operator contracts and submit the operators report, on the
//! devnet (anvil with 1 s blocks, the forge deployment, operators of every type registered with
//! bonds and keys signed for the vault credentials, stakers, the beacon simulator following the
//! deposit contract, three members with quorum 2):
//! keeper pre-deposits 1 ETH per key → the simulator sees them with the pool's credentials → the
//! members' next report confirms them (`confirmed` catches up with `preDeposited`) → the keeper
//! tops the confirmed keys up with 31 ETH → later reports still pass the sanity checks (the
//! topped-up ETH is accounted as processed deposits).

use std::{net::TcpListener, path::PathBuf, time::Duration};

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use claystack_bindings::{deposit_security::DepositSecurity, stake_pool::StakePool};
use claystack_devnet::{Devnet, DevnetConfig, KEEPER_KEY, setup, status::FrameStatus};

fn parse_key(hex: &str) -> PrivateKeySigner {
    hex.parse().unwrap()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls the public pool's status until `done` holds, failing with `what` after `timeout`.
async fn wait_for(
    devnet: &Devnet,
    timeout: Duration,
    what: &str,
    done: impl Fn(&FrameStatus) -> bool,
) -> FrameStatus {
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        let s = devnet.status(false).await.expect("read the pool status");
        if done(&s) {
            return s;
        }
        last = Some(s);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{what} did not happen within {timeout:?}; last status: {last:?}");
}

fn sum(s: &FrameStatus, f: impl Fn(&claystack_devnet::status::TypeCounts) -> u64) -> u64 {
    s.by_type.iter().map(f).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_confirm_pre_deposits_and_the_keeper_tops_them_up() {
    let _tracing = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("oracle=info,warn"))
        .with_test_writer()
        .try_init();
    let root = repo_root();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {}",
        root.display()
    );
    let state = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig {
        home: root,
        port: free_port(),
        beacon_listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: state.path().to_path_buf(),
        persistent: false,
        // 32 s frames
        epochs_per_frame: 8,
        populate: true,
        oracle_members: 3,
        keeper: false,
    })
    .await
    .expect("bring the devnet up");

    let first =
        wait_for(&devnet, Duration::from_secs(150), "a first report", |s| s.ref_slot > 0).await;
    assert_eq!(sum(&first, |t| t.pre_deposited), 0, "nothing pre-deposited yet: {first:?}");

    // 1 ETH pre-deposits
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");
    let pre = devnet.status(false).await.unwrap();
    let pre_count = sum(&pre, |t| t.pre_deposited);
    assert!(pre_count >= 1, "no pre-deposit: {pre:?}");
    assert_eq!(sum(&pre, |t| t.confirmed), 0, "confirmed before any report saw them: {pre:?}");

    // the members' reports confirm every pre-deposit (all made with the vault credentials)
    let confirmed =
        wait_for(&devnet, Duration::from_secs(150), "the confirmation of the pre-deposits", |s| {
            sum(s, |t| t.confirmed) >= pre_count
        })
        .await;
    assert!(confirmed.ref_slot > pre.ref_slot, "{confirmed:?}");
    assert_eq!(sum(&confirmed, |t| t.deposited), 0, "topped up before the keeper ran");

    // the confirmed keys are topped up with 31 ETH by `depositBuffered` (called directly: the
    // keeper only looks at depositable keys, not at confirmed ones waiting for their top-up)
    let keeper = setup::provider(&devnet.rpc, &parse_key(KEEPER_KEY)).unwrap();
    let module = StakePool::new(devnet.deployment.public.stake_pool, keeper.clone())
        .depositModule()
        .call()
        .await
        .unwrap();
    let receipt = DepositSecurity::new(module, keeper)
        .depositBuffered(U256::from(50u64))
        .send()
        .await
        .expect("send depositBuffered")
        .get_receipt()
        .await
        .expect("mine depositBuffered");
    assert!(receipt.status(), "depositBuffered reverted");
    let topped = devnet.status(false).await.unwrap();
    assert!(sum(&topped, |t| t.deposited) >= 1, "no top-up after the confirmation: {topped:?}");
    assert!(
        topped.buffered < confirmed.buffered,
        "the top-ups came from the buffer: {confirmed:?} -> {topped:?}"
    );

    // a later report still lands with the topped-up keys in the registry view
    wait_for(&devnet, Duration::from_secs(150), "a report after the top-ups", |s| {
        s.ref_slot > topped.ref_slot
    })
    .await;
    devnet.shutdown().await;
}
