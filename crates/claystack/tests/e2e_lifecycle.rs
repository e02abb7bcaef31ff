//! End-to-end lifecycle against a real anvil (1 s blocks) and the beacon simulator on wall-clock
//! slots, with the devnet's population (operators of every type registered through the timelock
//! and with bonds, stakers in both pools):
//! stake → oracle report with one member of three offline (quorum 2 still reached) → KYC-pool
//! staker ringfenced → withdrawal request → finalization by the next report (from the buffer) →
//! claim → keeper pre-deposits (1 ETH per key, allocated over every type) → Flash Exit → oracle
//! confirmation of every pre-deposit → keeper top-ups (31 ETH) → consensus rewards: rate up.
//!
//! Not covered yet: exit requests chosen by the balancer, exits, the withdrawal sweep and a claim
//! paid from exited validators; the adversarial scenarios beyond the offline member.

use std::{net::TcpListener, path::PathBuf, time::Duration};

use claystack_bindings::stake_pool::StakePool;
use claystack_client::{
    U256, Wei,
    staker::{Pool, PoolKind, UnstakeAmount},
    tx::quiet,
};
use claystack_devnet::{Devnet, DevnetConfig, setup, status::FrameStatus};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const ETH: u128 = 1_000_000_000_000_000_000;

/// Polls `status(kyc)` until `done` holds, failing with `what` after `timeout`.
async fn wait_for(
    devnet: &Devnet,
    kyc: bool,
    timeout: Duration,
    what: &str,
    done: impl Fn(&FrameStatus) -> bool,
) -> FrameStatus {
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        let s = devnet.status(kyc).await.expect("read the pool status");
        if done(&s) {
            return s;
        }
        last = Some(s);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{what} did not happen within {timeout:?}; last status: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_stake_claim_kyc_predeposit_confirm_top_up_rate_up_with_a_member_offline() {
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
        // 32 s frames: the finalizing report comes soon after the request
        epochs_per_frame: 8,
        populate: true,
        // member 3 of 3 is offline: the two others still make the quorum of 2
        oracle_members: 2,
        keeper: false,
    })
    .await
    .expect("bring the devnet up");
    let d = devnet.deployment.clone();
    let kyc = d.kyc.expect("the KYC pool is deployed");
    let provider = devnet.provider().unwrap();

    // stake: both pools hold the stakers' ETH (and the bonds, as csETH, in the public pool)
    let public = devnet.status(false).await.unwrap();
    assert_eq!(public.total_pooled, U256::from(343 * ETH + ETH / 1000), "{public:?}");
    assert_eq!(public.buffered, public.total_pooled, "nothing deposited before the keeper runs");
    let staker = setup::account("staker-1").address();
    let shares = StakePool::new(d.public.stake_pool, provider.clone())
        .balanceOf(staker)
        .call()
        .await
        .unwrap();
    assert_eq!(shares, U256::from(200 * ETH), "first stakes mint 1:1");

    // a report lands with two of three members (quorum 2)
    let reported =
        wait_for(&devnet, false, Duration::from_secs(150), "a public-pool report", |s| {
            s.ref_slot > 0
        })
        .await;
    assert_eq!(reported.share_rate, U256::from(10u128.pow(27)), "no rewards yet: rate 1");
    wait_for(&devnet, true, Duration::from_secs(60), "a KYC-pool report", |s| s.ref_slot > 0).await;

    // KYC pool: the attested institution holds kcsETH; an unattested account cannot deposit
    let kpool = StakePool::new(kyc.stake_pool, provider.clone());
    let institution = setup::account("institution").address();
    assert_eq!(kpool.balanceOf(institution).call().await.unwrap(), U256::from(70 * ETH));
    let outsider = setup::provider(&devnet.rpc, &setup::account("staker-2")).unwrap();
    let refused =
        StakePool::new(kyc.stake_pool, outsider).deposit().value(U256::from(ETH)).call().await;
    assert!(refused.is_err(), "an unattested staker deposited into the KYC pool");

    // withdrawal request → finalized by the next report (from the buffer) → claimed once
    let key1 = setup::account("staker-1");
    let pool1 = Pool::new(setup::provider(&devnet.rpc, &key1).unwrap(), d.public, PoolKind::Public);
    let ticket = pool1
        .unstake(key1.address(), UnstakeAmount::Ether(Wei(5 * ETH)), &quiet)
        .await
        .expect("request a withdrawal")
        .ticket;
    let queued = devnet.status(false).await.unwrap();
    assert_eq!(queued.queue_length, U256::from(1u64), "{queued:?}");
    let finalized = wait_for(
        &devnet,
        false,
        Duration::from_secs(120),
        "the finalization of the withdrawal request",
        |s| s.queue_length.is_zero() && s.ref_slot > queued.ref_slot,
    )
    .await;
    let claim = pool1.claim(key1.address(), &[ticket], &quiet).await.expect("claim");
    assert_eq!(claim.claimed.len(), 1, "{claim:?}");
    let paid = claim.claimed[0].1.0;
    assert!((5 * ETH - 1_000..=5 * ETH).contains(&paid), "paid {paid} for a 5 ETH request");
    let again = pool1.claim(key1.address(), &[ticket], &quiet).await;
    assert!(
        again.as_ref().map_or(true, |o| o.claimed.is_empty()),
        "a ticket was claimed twice: {again:?}"
    );
    assert_eq!(finalized.total_pooled, public.total_pooled - U256::from(paid), "{finalized:?}");

    // keeper: 1 ETH pre-deposits, allocated over every operator type of the public pool
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");
    let public = devnet.status(false).await.unwrap();
    let pre: u64 = public.by_type.iter().map(|t| t.pre_deposited).sum();
    assert!(pre >= 1, "no pre-deposit: {public:?}");
    for (i, t) in public.by_type.iter().enumerate() {
        assert!(t.pre_deposited <= [4, 0, 2, 3][i], "type {i} got more keys than it has: {t:?}");
    }
    assert_eq!(
        public.buffered,
        public.total_pooled - U256::from(u128::from(pre) * ETH),
        "1 ETH left the buffer per pre-deposit: {public:?}"
    );
    let kyc_status = devnet.status(true).await.unwrap();
    assert_eq!(kyc_status.by_type[1].pre_deposited, 2, "the Kyc operator's keys: {kyc_status:?}");
    assert_eq!(kyc_status.by_type[0], Default::default(), "the KYC pool deposits to Kyc only");

    // Flash Exit: staker-2 leaves at once for a fee that stays in the pool
    let key = setup::account("staker-2");
    let p2 = StakePool::new(d.public.stake_pool, setup::provider(&devnet.rpc, &key).unwrap());
    let before = devnet.status(false).await.unwrap();
    let exit_shares = U256::from(10 * ETH);
    let quote = p2.flashExitQuote(exit_shares).call().await.expect("quote a flash exit");
    assert!(quote.ethOut < U256::from(10 * ETH) && quote.ethOut > U256::from(9 * ETH), "{quote:?}");
    let receipt = p2
        .flashExit(exit_shares, quote.ethOut)
        .send()
        .await
        .expect("send the flash exit")
        .get_receipt()
        .await
        .expect("mine the flash exit");
    assert!(receipt.status(), "flash exit reverted");
    let after = devnet.status(false).await.unwrap();
    assert!(after.share_rate > before.share_rate, "the fee stays in the pool: {after:?}");
    assert_eq!(
        p2.balanceOf(key.address()).call().await.unwrap(),
        U256::from(110 * ETH),
        "the exited shares were burned"
    );

    // oracle confirmation of every pre-deposit → keeper top-ups (31 ETH each) → rewards: rate up
    let confirmed = wait_for(
        &devnet,
        false,
        Duration::from_secs(120),
        "the oracle's confirmation of the pre-deposits",
        |s| s.by_type.iter().map(|t| t.confirmed).sum::<u64>() == pre,
    )
    .await;
    devnet.keeper_once().await.expect("run the keeper");
    let topped = devnet.status(false).await.unwrap();
    let deposited: u64 = topped.by_type.iter().map(|t| t.deposited).sum();
    assert_eq!(deposited, pre, "every confirmed key was topped up: {topped:?}");
    assert_eq!(
        topped.buffered,
        confirmed.buffered - U256::from(u128::from(pre) * 31 * ETH),
        "31 ETH left the buffer per top-up"
    );
    wait_for(&devnet, false, Duration::from_secs(180), "a rate rise from consensus rewards", |s| {
        s.share_rate > after.share_rate
    })
    .await;
    devnet.shutdown().await;
}
