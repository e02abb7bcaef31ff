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
//! finalizes the request → claimed exactly once → the oracle closed the exit request once the
//! validator was exiting (`exitsStarted`: `ExitRequestCleared`, no deadline left) → the
//! ExitEnforcer refuses to force that key (`NoPendingExitRequest`; no `ExitEnforced`, no missed
//! exit) → the report after the one that recorded the exit settles it (`ExitsSettled`), which
//! releases the bond the key held → the VfpPool, which the set-up made back a Home operator,
//! booked its share of that operator's rewards (its assets are the deposit plus the bookings).
//!
//! The adversarial scenarios run in `e2e_adversarial.rs`.

use std::time::Duration;

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_bindings::{
    bond_manager::BondManager, exit_enforcer::ExitEnforcer, operator_registry::OperatorRegistry,
    operator_rewards::OperatorRewards, oracle_report::OracleReport, stake_pool::StakePool,
    vfp_pool::VfpPool,
};
use claystack_client::{
    U256, Wei,
    staker::{Pool, PoolKind, UnstakeAmount},
    tx::quiet,
};
use claystack_devnet::{
    Devnet, DevnetConfig,
    alloy::{eips::BlockId, providers::Provider},
    setup,
    status::FrameStatus,
    testing::{devnet_home, events, events_with_blocks, free_port, poll},
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
        "warn,devnet=info,devnet::exits=info,oracle::daemon=info,client::exits=info,devnet::test=info"
            .into()
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
    let vfp = devnet.population.vfp.clone().expect("the set-up funded the VfpPool");
    assert_eq!(vfp.deposit_wei, U256::from(setup::VFP_DEPOSIT_ETH * ETH));
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
    let requests = poll(Duration::from_secs(150), "an exit request in a report", || async {
        let e = events_with_blocks::<OperatorRegistry::ExitRequested>(
            &provider,
            registry_addr,
            from_block,
        )
        .await?;
        if e.is_empty() { Err("no ExitRequested yet".to_owned()) } else { Ok(e) }
    })
    .await
    .unwrap();
    assert_eq!(requests.len(), 1, "10 ETH missing needs one exit: {requests:?}");
    let (request_block, ref request) = requests[0];
    let (op_id, key_index) = (request.operatorId, request.keyIndex);
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
    // its whole balance: 32 ETH and the rewards since the last skim, less the penalties of duties
    // missed while it waited to exit (a loaded machine skips simulator slots): more than 31 ETH
    assert!(full > 31_000_000_000, "the sweep paid {full} gwei of validator {index} to the vault");

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

    // ---- the oracle closed the request once the validator was exiting (exitsStarted)
    let cleared =
        poll(Duration::from_secs(90), "an ExitRequestCleared for the request", || async {
            let c = events_with_blocks::<OperatorRegistry::ExitRequestCleared>(
                &provider,
                registry_addr,
                from_block,
            )
            .await?;
            if c.is_empty() { Err("no ExitRequestCleared yet".to_owned()) } else { Ok(c) }
        })
        .await
        .unwrap();
    assert_eq!(cleared.len(), 1, "one request, closed once: {cleared:?}");
    let (cleared_block, ref closed) = cleared[0];
    assert_eq!((closed.operatorId, closed.keyIndex), (op_id, key_index), "{closed:?}");
    assert!(
        cleared_block > request_block,
        "closed at block {cleared_block}, not by a report after the request (block {request_block})"
    );
    assert_eq!(
        registry.exitRequestDeadline(op_id, key_index).call().await.unwrap(),
        U256::ZERO,
        "the registry still holds a deadline for the closed request"
    );
    assert_eq!(registry.getOperator(op_id).call().await.unwrap().pendingExitRequests, 0);

    // ---- so the ExitEnforcer refuses the key: no request is pending (the first check, before
    // the deadline's: a still-pending request would be refused with ExitDeadlineNotPassed)
    let enforcer_addr = d.address("exitEnforcer").unwrap();
    let enforcer = ExitEnforcer::new(
        enforcer_addr,
        setup::provider(&devnet.rpc, &setup::account("staker-2")).unwrap(),
    );
    let fee = enforcer.exitFee().call().await.unwrap();
    let refused = enforcer
        .enforceExit(op_id, key_index)
        .value(fee)
        .call()
        .await
        .expect_err("enforceExit of a closed request was accepted");
    assert_eq!(
        refused.as_decoded_interface_error::<ExitEnforcer::ExitEnforcerErrors>(),
        Some(ExitEnforcer::ExitEnforcerErrors::NoPendingExitRequest(
            ExitEnforcer::NoPendingExitRequest { operatorId: op_id, keyIndex: key_index }
        )),
        "{refused}"
    );
    // sent as a transaction (a fixed gas limit skips the estimate): mined, reverted
    let sent = enforcer
        .enforceExit(op_id, key_index)
        .value(fee)
        .gas(300_000)
        .send()
        .await
        .expect("send enforceExit")
        .get_receipt()
        .await
        .expect("mine enforceExit");
    assert!(!sent.status(), "enforceExit of a closed request succeeded: {sent:?}");
    let forced =
        events::<ExitEnforcer::ExitEnforced>(&provider, enforcer_addr, from_block).await.unwrap();
    assert!(forced.is_empty(), "an exit was forced: {forced:?}");
    assert_eq!(enforcer.missedExits(op_id).call().await.unwrap(), U256::ZERO, "a missed exit");
    assert_eq!(enforcer.enforcedDeadline(op_id, key_index).call().await.unwrap(), U256::ZERO);

    // ---- the exit's bond is settled by the report after the one that recorded the exit
    let bonds_addr = d.address("bondManager").unwrap();
    let bonds = BondManager::new(bonds_addr, provider.clone());
    let exited = u64::from(registry.getOperator(op_id).call().await.unwrap().exited);
    assert_eq!(exited, 1, "operator {op_id} has one exited validator");
    let recorded =
        events_with_blocks::<OperatorRegistry::ExitedAndStuckUpdated>(&provider, registry_addr, 0)
            .await
            .unwrap();
    let exited_block = recorded
        .iter()
        .find(|(_, e)| e.operatorId == op_id && e.exited == U256::from(exited))
        .map(|(b, _)| *b)
        .unwrap_or_else(|| panic!("no ExitedAndStuckUpdated of operator {op_id}: {recorded:?}"));
    let settlement =
        poll(Duration::from_secs(120), "the settlement of the exit's bond", || async {
            let s =
                events_with_blocks::<BondManager::ExitsSettled>(&provider, bonds_addr, 0).await?;
            s.into_iter().find(|(_, e)| e.operatorId == op_id).ok_or_else(|| {
                format!(
                    "no ExitsSettled of operator {op_id} (exit recorded at block {exited_block})"
                )
            })
        })
        .await
        .unwrap();
    let (settled_block, ref settled_event) = settlement;
    assert_eq!(settled_event.settledExits, U256::from(exited), "{settled_event:?}");
    assert_eq!(bonds.settledExits(op_id).call().await.unwrap(), U256::from(exited));
    let reports =
        events_with_blocks::<OracleReport::ReportSubmitted>(&provider, d.public.oracle_report, 0)
            .await
            .unwrap();
    let in_between: Vec<_> =
        reports.iter().filter(|(b, _)| *b > exited_block && *b <= settled_block).collect();
    assert_eq!(
        in_between.len(),
        1,
        "exit recorded at block {exited_block}, settled at block {settled_block}: not by the next \
         report ({in_between:?})"
    );
    assert_eq!(in_between[0].0, settled_block, "settled outside a report");
    // the key no longer counts as bonded: the bond it held (the Home first-key bond, discounted
    // by the score) is no longer required, and an unbacked operator can claim its whole bond
    let (pre, at) = (BlockId::number(settled_block - 1), BlockId::number(settled_block));
    let keys_before = bonds.bondedKeys(op_id).block(pre).call().await.unwrap();
    let keys_after = bonds.bondedKeys(op_id).block(at).call().await.unwrap();
    assert_eq!((keys_before, keys_after), (U256::from(1u64), U256::ZERO), "bonded keys");
    let locked_before = bonds.requiredBond(op_id).block(pre).call().await.unwrap();
    let locked_after = bonds.requiredBond(op_id).block(at).call().await.unwrap();
    let params = bonds.bondParams().call().await.unwrap();
    assert!(
        (U256::from(params.floor)..=U256::from(params.homeFirstKey)).contains(&locked_before),
        "the exited key held {locked_before} wei of bond before its settlement"
    );
    assert_eq!(locked_after, U256::ZERO, "bond still required after the settlement");
    let vfp_pool = VfpPool::new(vfp.pool, provider.clone());
    let backing = vfp_pool.backingValue(op_id).block(at).call().await.unwrap();
    let own_shares = bonds.bondShares(op_id).block(at).call().await.unwrap();
    let claimable_before = bonds.claimableShares(op_id).block(pre).call().await.unwrap();
    let claimable_after = bonds.claimableShares(op_id).block(at).call().await.unwrap();
    if backing.is_zero() {
        assert!(
            own_shares - claimable_after <= U256::from(2u64),
            "claimable {claimable_after} of a free bond of {own_shares} shares"
        );
        let released = StakePool::new(d.public.stake_pool, provider.clone())
            .convertToShares(locked_before)
            .block(pre)
            .call()
            .await
            .unwrap();
        let gained = claimable_after - claimable_before;
        assert!(
            gained.max(released) - gained.min(released) <= U256::from(3u64),
            "claimable grew by {gained} shares for {released} shares released"
        );
    } else {
        // a backed operator keeps own bond ≥ backing / maxMatchBps (ADR 0005): what it can claim
        // does not shrink, whatever the requirement
        assert!(claimable_after >= claimable_before, "{claimable_before} → {claimable_after}");
    }

    // ---- the VfpPool earned its share of the backed operator's rewards, booked by the members
    assert!(!vfp_pool.allocatedShares(U256::from(vfp.operator_id)).call().await.unwrap().is_zero());
    let rewards_addr = d.address("operatorRewards").unwrap();
    let booked = poll(Duration::from_secs(120), "a VfpPool rewards booking", || async {
        let head = provider.get_block_number().await.map_err(|e| e.to_string())?;
        let b = events_with_blocks::<VfpPool::RewardsReceived>(&provider, vfp.pool, 0).await?;
        let b: Vec<_> = b.into_iter().filter(|(n, _)| *n <= head).collect();
        if b.is_empty() { Err("no RewardsReceived yet".to_owned()) } else { Ok((head, b)) }
    })
    .await
    .unwrap();
    let (head, bookings) = booked;
    let total = bookings.iter().fold(U256::ZERO, |t, (_, b)| t + b.csShares);
    assert!(!total.is_zero(), "{bookings:?}");
    assert!(bookings.iter().all(|(_, b)| b.from == rewards_addr), "{bookings:?}");
    let at = BlockId::number(head);
    assert_eq!(
        vfp_pool.totalAssets().block(at).call().await.unwrap(),
        vfp.deposit_wei + total,
        "the VfpPool's assets are the deposit (1:1 at the set-up's rate) plus its bookings"
    );
    assert_eq!(
        OperatorRewards::new(rewards_addr, provider.clone())
            .claimed(vfp.pool)
            .block(at)
            .call()
            .await
            .unwrap(),
        total,
        "booked what OperatorRewards paid the pool"
    );
    tracing::info!(
        target: "devnet::test",
        operator = %op_id, key = %key_index, request_block, cleared_block, exited_block,
        settled_block, locked_before = %locked_before, backed = !backing.is_zero(),
        vfp_bookings = bookings.len(), vfp_booked = %total,
        "exit request closed, exit settled, VfpPool rewards booked"
    );
    devnet.shutdown().await;
}
