//! End-to-end lifecycle against a real anvil (1 s blocks) and the beacon simulator on wall-clock
//! slots, with the devnet's population (operators of every type registered through the timelock
//! and with bonds, stakers in both pools):
//! stake → oracle report with one member of three offline (quorum 2 still reached) → KYC-pool
//! staker ringfenced → withdrawal request → finalization by the next report (from the buffer) →
//! claim → keeper pre-deposits (1 ETH per key, allocated over every type) → Flash Exit → oracle
//! confirmation of every pre-deposit → keeper top-ups (31 ETH) → consensus rewards: rate up →
//! a withdrawal request larger than the buffer → the next report's exit request, chosen by the
//! balancer → the operator's exit agent signs a voluntary exit → the simulator exits the
//! validator and the withdrawal sweep credits the WithdrawalVault → a report pulls it and
//! finalizes the request → claimed exactly once.
//!
//! The adversarial scenarios run in `e2e_adversarial.rs`.

use std::time::Duration;

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_bindings::{operator_registry::OperatorRegistry, stake_pool::StakePool};
use claystack_client::{
    U256, Wei,
    staker::{Pool, PoolKind, UnstakeAmount},
    tx::quiet,
};
use claystack_devnet::{
    Devnet, DevnetConfig,
    alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent},
    setup,
    status::FrameStatus,
    testing::{devnet_home, free_port, poll},
};

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

/// Logs of the devnet's daemons in the test output (shown when a test fails); `RUST_LOG`
/// overrides the default filter.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        "warn,devnet=info,devnet::exits=info,oracle::daemon=info,client::exits=info".into()
    });
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_stake_claim_kyc_predeposit_confirm_top_up_rate_up_with_a_member_offline() {
    init_tracing();
    let root = devnet_home();
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

    // stake: both pools hold the stakers' ETH (and the bonds, as csETH, in the public pool):
    // stakes 200 + 120, bonds 3 + 3 + 5 + 3 × 4, the VFP's deposit 10, the deployment's seed
    let public = devnet.status(false).await.unwrap();
    assert_eq!(public.total_pooled, U256::from(353 * ETH + ETH / 1000), "{public:?}");
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

    // ---- a withdrawal larger than the buffer: the next report asks a validator to exit
    let registry_addr = d.address("operatorRegistry").unwrap();
    let registry = OperatorRegistry::new(registry_addr, provider.clone());
    let from_block = provider.get_block_number().await.unwrap();
    let before = devnet.status(false).await.unwrap();
    // 10 ETH more than the buffer: one validator's exit covers it
    let want = before.buffered + U256::from(10 * ETH);
    let want_wei = u128::try_from(want).unwrap();
    let big = pool1
        .unstake(key1.address(), UnstakeAmount::Ether(Wei(want_wei)), &quiet)
        .await
        .expect("request a withdrawal larger than the buffer")
        .ticket;
    let requests = poll(Duration::from_secs(150), "an exit request in a report", || {
        let filter = Filter::new()
            .address(registry_addr)
            .event_signature(OperatorRegistry::ExitRequested::SIGNATURE_HASH)
            .from_block(from_block);
        let provider = provider.clone();
        async move {
            let logs = provider.get_logs(&filter).await.map_err(|e| e.to_string())?;
            let decoded: Vec<_> = logs
                .iter()
                .filter_map(|l| l.log_decode::<OperatorRegistry::ExitRequested>().ok())
                .map(|l| (l.inner.data.operatorId, l.inner.data.keyIndex))
                .collect();
            if decoded.is_empty() { Err("no ExitRequested yet".to_owned()) } else { Ok(decoded) }
        }
    })
    .await
    .unwrap();
    assert_eq!(requests.len(), 1, "10 ETH missing needs one exit: {requests:?}");
    let (op_id, key_index) = requests[0];
    // the balancer's rule: the type furthest above its target share — Home, 3 of the 9
    // validators (33 %) for a 20 % target (Professional 4/9 for 35 %, DVT 2/9 for 35 %)
    let op = registry.getOperator(op_id).call().await.unwrap();
    assert_eq!(op.operatorType, 3, "exit asked of operator {op_id} of type {}", op.operatorType);
    let pubkey: [u8; 48] =
        registry.getKey(op_id, key_index).call().await.unwrap().pubkey.as_ref().try_into().unwrap();

    // its exit agent signs a voluntary exit; the simulator exits the validator and the sweep
    // pays its whole balance to the WithdrawalVault
    let beacon = BeaconClient::new(&devnet.beacon_url, ClientConfig::default()).unwrap();
    let index = poll(Duration::from_secs(120), "the exit and the full withdrawal", || {
        let beacon = beacon.clone();
        async move {
            let v = beacon
                .validator(StateId::Head, ValidatorId::Pubkey(pubkey))
                .await
                .map_err(|e| e.to_string())?;
            if v.data.status == ValidatorStatus::WithdrawalDone {
                Ok(v.data.index.get())
            } else {
                Err(format!("validator {} is {}", v.data.index, v.data.status.as_str()))
            }
        }
    })
    .await
    .unwrap();
    let withdrawals: serde_json::Value =
        reqwest::get(format!("{}/admin/withdrawals", devnet.beacon_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let vault = format!("{:#x}", d.public.withdrawal_vault);
    let full: u64 = withdrawals["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            w["validator_index"].as_str().and_then(|v| v.parse::<u64>().ok()) == Some(index)
        })
        .filter(|w| w["address"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(&vault)))
        .map(|w| w["amount"].as_str().unwrap().parse::<u64>().unwrap())
        .max()
        .unwrap_or(0);
    assert!(full >= 32_000_000_000, "the sweep paid {full} gwei of validator {index} to the vault");

    // a report pulls the vault, finalizes the request; the registry counts the exit
    let settled = wait_for(
        &devnet,
        false,
        Duration::from_secs(150),
        "the finalization of the request from the exited validator's ETH",
        |s| s.queue_length.is_zero() && s.by_type[3].exited == 1,
    )
    .await;
    let claim = pool1.claim(key1.address(), &[big], &quiet).await.expect("claim");
    assert_eq!(claim.claimed.len(), 1, "{claim:?}");
    let paid = claim.claimed[0].1.0;
    assert!((want_wei - 1_000..=want_wei).contains(&paid), "paid {paid} for {want_wei}");
    let again = pool1.claim(key1.address(), &[big], &quiet).await;
    assert!(
        again.as_ref().map_or(true, |o| o.claimed.is_empty()),
        "a ticket was claimed twice: {again:?}"
    );
    assert!(settled.share_rate >= before.share_rate, "the exit cost stakers: {settled:?}");
    devnet.shutdown().await;
}
