//! Adversarial end-to-end run against a real anvil (1 s blocks) and the beacon simulator, on one
//! devnet with the sample population, two honest oracle members per pool (the third member's key
//! is played by the test) and every Home operator negligent (no exit agent):
//!
//! 1. a lying member: the third member's key signs another digest for a frame and the test gossips
//!    it to the honest members; both count a disagreement, the report lands with the honest digest
//!    and two signatures;
//! 2. a slashing covered by bond then insurance: a Professional operator keeps 0.4 ETH of bond,
//!    the insurance fund holds csETH, one of the operator's validators is slashed; the report's
//!    1 ETH penalty takes the bond, then the insurance fund (`LossCovered` per layer) and the
//!    stakers' rate is restored;
//! 3. a negligent operator: a withdrawal larger than the buffer makes the next report ask a Home
//!    validator to exit; nobody answers; past the deadline (one day, reached with a time warp of
//!    anvil and the simulator together) the keeper calls `ExitEnforcer.enforceExit`, the EIP-7002
//!    system contract logs the request, the simulator exits the validator, and a report charges
//!    the missed-exit penalty.
//!
//! The withdrawal-credential front-run has its own run (`e2e_front_run.rs`).

use std::time::Duration;

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_bindings::{
    Deployment, bond_manager::BondManager, exit_enforcer::ExitEnforcer,
    insurance_fund::InsuranceFund, operator_registry::OperatorRegistry,
    operators_module::OperatorsModule, oracle_report::OracleReport, stake_pool::StakePool,
};
use claystack_client::{
    U256, Wei,
    staker::{Pool, PoolKind, UnstakeAmount},
    tx::quiet,
};
use claystack_devnet::{
    Devnet, DevnetConfig, DevnetOptions, ORACLE_MEMBER_KEYS,
    alloy::{
        primitives::{B256, Bytes},
        providers::Provider,
    },
    setup,
    testing::{devnet_home, events, free_port, operator_id, poll, wait_validator},
};

const ETH: u128 = 1_000_000_000_000_000_000;

fn pubkey_of(b: &Bytes) -> [u8; 48] {
    b.as_ref().try_into().expect("a 48-byte pubkey")
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
async fn e2e_lying_member_slashing_cover_and_forced_exit() {
    init_tracing();
    let root = devnet_home();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {}",
        root.display()
    );
    let state = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_with(
        DevnetConfig {
            home: root,
            port: free_port(),
            beacon_listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: state.path().to_path_buf(),
            persistent: false,
            epochs_per_frame: 8,
            populate: true,
            // members 1 and 2 run; member 3's key is the liar the test plays
            oracle_members: 2,
            keeper: false,
        },
        DevnetOptions {
            negligent_operators: vec!["home-1".into(), "home-2".into(), "home-3".into()],
        },
    )
    .await
    .expect("bring the devnet up");
    let d: Deployment = devnet.deployment.clone();
    let provider = devnet.provider().unwrap();
    let beacon = BeaconClient::new(&devnet.beacon_url, ClientConfig::default()).unwrap();
    let registry_addr = d.address("operatorRegistry").unwrap();
    let registry = OperatorRegistry::new(registry_addr, provider.clone());
    let start_block = provider.get_block_number().await.unwrap();

    // the keeper pre-deposits every key
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");

    // ---- 1. a lying member: member 3 signs another digest for the next public frame
    let oracle = OracleReport::new(d.public.oracle_report, provider.clone());
    let fc = oracle.frameConfig().call().await.unwrap();
    let frame_slots = u64::from(fc.slotsPerEpoch) * u64::from(fc.epochsPerFrame);
    let last = u64::try_from(oracle.lastRefSlot().call().await.unwrap()).unwrap();
    let current = u64::try_from(oracle.currentFrame().call().await.unwrap().refSlot).unwrap();
    // the frame after the current one: the honest members have not signed it yet, and their
    // gossip window (last reported slot, current ref slot + one frame] takes it
    assert!(current + frame_slots > last);
    let target = current + frame_slots;
    let liar: claystack_devnet::alloy::signers::local::PrivateKeySigner =
        ORACLE_MEMBER_KEYS[2].parse().unwrap();
    let lie = B256::repeat_byte(0x42);
    let msg = claystack_oracle::daemon::gossip::sign_message(&liar, target, lie).unwrap();
    let http = reqwest::Client::new();
    let members = devnet.oracle_member_addrs(false);
    assert_eq!(members.len(), 2);
    for m in &members {
        let accepted = poll(Duration::from_secs(60), "an honest member taking the gossip", || {
            let (http, msg) = (http.clone(), msg.clone());
            async move {
                let r = http
                    .post(format!("http://{m}/v1/signatures"))
                    .json(&msg)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let code = r.status();
                let body = r.text().await.unwrap_or_default();
                if code.as_u16() == 202 { Ok(()) } else { Err(format!("{code}: {body}")) }
            }
        })
        .await;
        accepted.unwrap();
    }
    devnet
        .wait_status(false, Duration::from_secs(150), "the report of the lied-about frame", |s| {
            s.ref_slot >= target
        })
        .await
        .unwrap();
    let submitted =
        events::<OracleReport::ReportSubmitted>(&provider, d.public.oracle_report, start_block)
            .await
            .unwrap();
    let landed = submitted
        .iter()
        .find(|e| e.refSlot == U256::from(target))
        .unwrap_or_else(|| panic!("no report for ref slot {target}: {submitted:?}"));
    assert_ne!(landed.reportHash, lie, "the liar's digest landed");
    assert_eq!(landed.signatures, U256::from(2u64), "only the two honest signatures count");
    for m in &members {
        let honest: Vec<claystack_oracle::daemon::gossip::SignatureMessage> = http
            .get(format!("http://{m}/v1/signatures/{target}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            honest.iter().all(|h| h.digest == landed.reportHash) && !honest.is_empty(),
            "member {m} holds other digests than the landed one: {honest:?}"
        );
        let metrics =
            http.get(format!("http://{m}/metrics")).send().await.unwrap().text().await.unwrap();
        let disagreements: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("claystack_oracle_peer_disagreements_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no disagreement metric at {m}:\n{metrics}"));
        assert!(disagreements >= 1, "member {m} did not count the liar:\n{metrics}");
    }

    // the public pre-deposits are confirmed → the keeper tops them up
    let confirmed = devnet
        .wait_status(
            false,
            Duration::from_secs(150),
            "the confirmation of the public pre-deposits",
            |s| {
                let pre: u64 = s.by_type.iter().map(|t| t.pre_deposited).sum();
                pre > 0 && s.by_type.iter().map(|t| t.confirmed).sum::<u64>() == pre
            },
        )
        .await
        .unwrap();
    assert!(confirmed.by_type[3].confirmed == 3, "every Home key is confirmed: {confirmed:?}");
    devnet.keeper_once().await.expect("run the keeper");

    // ---- 2. slashing covered by bond, then insurance
    // every public validator is active
    let mut pro2_keys = Vec::new();
    let pro2 = operator_id(&provider, registry_addr, "pro-2").await.unwrap();
    for k in 0..2u64 {
        pro2_keys
            .push(pubkey_of(&registry.getKey(pro2, U256::from(k)).call().await.unwrap().pubkey));
    }
    for pk in &pro2_keys {
        wait_validator(&beacon, *pk, Duration::from_secs(120), "pro-2's validators active", |s| {
            s == ValidatorStatus::ActiveOngoing
        })
        .await
        .unwrap();
    }
    let bonds = BondManager::new(
        d.address("bondManager").unwrap(),
        setup::provider(&devnet.rpc, &setup::account("pro-2")).unwrap(),
    );
    // the operator takes its bond back down to 0.4 ETH worth of csETH
    let pool_ro = StakePool::new(d.public.stake_pool, provider.clone());
    let keep_shares = pool_ro.convertToShares(U256::from(4 * ETH / 10)).call().await.unwrap();
    let claimable = bonds.claimableShares(pro2).call().await.unwrap();
    let held = bonds.bondShares(pro2).call().await.unwrap();
    assert!(
        held > keep_shares && claimable >= held - keep_shares,
        "bond {held}, claimable {claimable}"
    );
    let r = bonds
        .claimExcess(pro2, held - keep_shares)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status(), "claimExcess reverted");
    // the insurance fund holds 2 csETH (a staker's gift; its fee share alone is dust on a devnet)
    let fund = d.address("insuranceFund").unwrap();
    let staker2 = StakePool::new(
        d.public.stake_pool,
        setup::provider(&devnet.rpc, &setup::account("staker-2")).unwrap(),
    );
    let r = staker2
        .transfer(fund, U256::from(2 * ETH))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status(), "funding the insurance fund reverted");
    let bond_left = bonds.bondValue(pro2).call().await.unwrap();
    let fund_before = InsuranceFund::new(fund, provider.clone()).fundValue().call().await.unwrap();
    let rate_before_slash = devnet.status(false).await.unwrap().share_rate;
    let slash_block = provider.get_block_number().await.unwrap();
    let slashed_key = claystack_client::hex_encode(&pro2_keys[0]);
    let r = http
        .post(format!("{}/admin/validators/0x{slashed_key}/slash", devnet.beacon_url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "slash: {}", r.text().await.unwrap_or_default());
    let covered = poll(Duration::from_secs(150), "the slashing report's LossCovered", || async {
        let l = events::<BondManager::LossCovered>(
            &provider,
            d.address("bondManager").unwrap(),
            slash_block,
        )
        .await
        .unwrap();
        l.into_iter().find(|l| l.operatorId == pro2).ok_or("no LossCovered yet")
    })
    .await
    .unwrap();
    assert_eq!(covered.loss, U256::from(ETH), "eb / 32 of a 32 ETH validator: {covered:?}");
    // the whole bond, valued at the report's rate (a little above the rate it was read at)
    let near = |a: U256, b: U256, tol: U256| a.max(b) - a.min(b) <= tol;
    assert!(
        near(covered.fromBond, bond_left, bond_left / U256::from(1_000u64)),
        "bond first, all of it: {covered:?} (bond {bond_left})"
    );
    assert!(covered.fromVfp.is_zero(), "the VFP pool funds no Professional operator: {covered:?}");
    assert_eq!(
        covered.fromBond + covered.fromInsurance,
        covered.loss,
        "insurance pays the rest: {covered:?}"
    );
    assert!(covered.uncovered.is_zero(), "{covered:?}");
    // the fund burned that much csETH (it also earns its fee share meanwhile: 0.001 ETH slack)
    let fund_after = InsuranceFund::new(fund, provider.clone()).fundValue().call().await.unwrap();
    assert!(
        fund_after < fund_before
            && near(fund_before - fund_after, covered.fromInsurance, U256::from(ETH / 1_000)),
        "fund {fund_before} → {fund_after} for {covered:?}"
    );
    let after_slash = devnet.status(false).await.unwrap();
    assert!(
        after_slash.share_rate >= rate_before_slash,
        "stakers' rate not restored: {rate_before_slash} → {}",
        after_slash.share_rate
    );
    // the slashed validator's balance comes back through the sweep and a report pulls it, so
    // that the withdrawal below needs exactly one more exit
    wait_validator(
        &beacon,
        pro2_keys[0],
        Duration::from_secs(150),
        "the slashed validator's withdrawal",
        |s| s == ValidatorStatus::WithdrawalDone,
    )
    .await
    .unwrap();
    // a report whose reference slot is at or after the sweep: its state has the swept ETH in the
    // vault, and it pulls it into the buffer (a report of an earlier slot would leave it for the
    // next one, which would then pay the withdrawal below from the buffer, without an exit)
    let swept = beacon
        .header(claystack_beacon::BlockId::Head)
        .await
        .unwrap()
        .data
        .header
        .message
        .slot
        .get();
    let after_slash = devnet
        .wait_status(
            false,
            Duration::from_secs(180),
            "the report pulling the slashed balance",
            |s| s.ref_slot >= swept,
        )
        .await
        .unwrap();

    // ---- 3. a negligent operator's validator is exited through EIP-7002
    let exit_block = provider.get_block_number().await.unwrap();
    let key1 = setup::account("staker-1");
    let pool1 = Pool::new(setup::provider(&devnet.rpc, &key1).unwrap(), d.public, PoolKind::Public);
    let want = u128::try_from(after_slash.buffered).unwrap() + 10 * ETH;
    pool1
        .unstake(key1.address(), UnstakeAmount::Ether(Wei(want)), &quiet)
        .await
        .expect("request a withdrawal larger than the buffer");
    let requested =
        poll(Duration::from_secs(150), "an exit request for the withdrawal", || async {
            let e = events::<OperatorRegistry::ExitRequested>(&provider, registry_addr, exit_block)
                .await
                .unwrap();
            if e.is_empty() { Err("none yet") } else { Ok(e) }
        })
        .await;
    let requested = match requested {
        Ok(r) => r,
        Err(e) => {
            let status = devnet.status(false).await;
            panic!("{e}; want {want} wei; after_slash {after_slash:?}; now {status:?}");
        }
    };
    assert_eq!(requested.len(), 1, "{requested:?}");
    let req = &requested[0];
    let op = registry.getOperator(req.operatorId).call().await.unwrap();
    assert_eq!(op.operatorType, 3, "the balancer asks Home (most above its target): {op:?}");
    let target_key =
        pubkey_of(&registry.getKey(req.operatorId, req.keyIndex).call().await.unwrap().pubkey);
    let v = beacon.validator(StateId::Head, ValidatorId::Pubkey(target_key)).await.unwrap();
    assert_eq!(v.data.status, ValidatorStatus::ActiveOngoing, "a negligent operator does not exit");
    let deadline = u64::try_from(req.deadline).unwrap();
    let now = provider
        .get_block_by_number(claystack_devnet::alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    assert!(deadline >= now + 86_000, "a deadline of a day: {deadline} at {now}");
    // before the deadline the keeper has nothing to force
    let notes = devnet.keeper_once().await.unwrap();
    assert!(!notes.iter().any(|l| l.contains("enforceExit(")), "{notes:?}");

    // a day passes (anvil and the simulator together), past the deadline by more than a frame.
    // The keeper forces the exit only once a report's reference slot is past the deadline: that
    // report saw the validator still active after its deadline and charges the missed exit.
    // (A keeper faster than the oracle would have the validator exiting by the next reference
    // slot; the ExitEnforcer then records the missed exit on chain, but the oracle's penalty
    // needs a reference slot between the deadline and the exit — on a loaded machine the
    // day-long frame right after the warp can take longer than its own window to compute.)
    let frame_seconds = d.frame_seconds();
    devnet
        .warp(Duration::from_secs(deadline - now + frame_seconds + 30))
        .await
        .expect("warp past the deadline");
    let deadline_slot = (deadline - d.genesis_time) / d.seconds_per_slot;
    let past = poll(
        Duration::from_secs(240),
        "a report whose reference slot is past the exit deadline",
        || async {
            let s = devnet.status(false).await.map_err(|e| e.to_string())?;
            if s.ref_slot >= deadline_slot {
                Ok(s.ref_slot)
            } else {
                Err(format!("ref slot {}", s.ref_slot))
            }
        },
    )
    .await
    .unwrap();
    tracing::info!(target: "devnet::test", ref_slot = past, deadline_slot, "reported past the deadline");
    let forced = poll(Duration::from_secs(60), "the keeper's enforceExit", || async {
        let done = devnet.keeper_once().await.map_err(|e| e.to_string())?;
        if done.iter().any(|l| l.contains("enforceExit(")) {
            Ok(done)
        } else {
            Err(format!("{done:?}"))
        }
    })
    .await
    .unwrap();
    let enforced = events::<ExitEnforcer::ExitEnforced>(
        &provider,
        d.address("exitEnforcer").unwrap(),
        exit_block,
    )
    .await
    .unwrap();
    assert_eq!(enforced.len(), 1, "{enforced:?} after {forced:?}");
    assert_eq!((enforced[0].operatorId, enforced[0].keyIndex), (req.operatorId, req.keyIndex));
    // the system contract's record reaches the simulator, which exits the validator
    wait_validator(
        &beacon,
        target_key,
        Duration::from_secs(60),
        "the EIP-7002 exit on the beacon chain",
        |s| s != ValidatorStatus::ActiveOngoing,
    )
    .await
    .unwrap();
    // a later report charges the missed exit (penalty kind 2) to the operator
    let penalty = poll(Duration::from_secs(240), "the missed-exit penalty in a report", || async {
        let p = events::<OperatorsModule::PenaltyApplied>(
            &provider,
            d.address("operatorsModule").unwrap(),
            exit_block,
        )
        .await
        .unwrap();
        p.into_iter()
            .find(|p| p.operatorId == req.operatorId && p.kind == U256::from(2u64))
            .ok_or("none yet")
    })
    .await
    .unwrap();
    assert!(!penalty.amountWei.is_zero(), "{penalty:?}");
    devnet.shutdown().await;
}
