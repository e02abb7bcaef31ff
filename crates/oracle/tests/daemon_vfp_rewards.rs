//! The VfpPool's rewards are booked by the members after every report that sets a root, on a real
//! chain: the devnet (anvil with 1 s blocks, the forge deployment, the sample operators and
//! stakers, the beacon simulator) with three oracle members run by this test (quorum 2).
//!
//! The devnet funds no operator through the VfpPool, so the test does: governance (the devnet's
//! zero-delay timelock) lowers the VfpPool's score threshold to 0 (the sample operators have no
//! score before their first report), a VFP deposits 20 ETH, and the `home-1` operator's manager
//! takes 2 ETH of backing. From then on every rewards tree the members compute gives the VfpPool
//! `rewardShareBps` of `home-1`'s rewards as the leaf `(vfpPool, cumulative)`.
//!
//! What must hold, for each of the first two roots with a VfpPool leaf `L_k`:
//! - the leaf is booked while that root is current (before the next report), by a transaction
//!   of an oracle member (nobody else calls `claimRewards` here);
//! - the booking's `RewardsReceived` is exactly `L_k − L_{k−1}`, and `totalAssets` grows by
//!   exactly that in its block, while `OperatorRewards.claimed(vfpPool)` becomes `L_k` (so after
//!   two roots `totalAssets` is the deposit plus `L_2`, to the share);
//! - no loss reached the pool (else the equalities above would not be the whole story).

use std::time::Duration;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use claystack_bindings::{
    deposit_security::DepositSecurity, operator_registry::OperatorRegistry,
    operator_rewards::OperatorRewards, stake_pool::StakePool, vfp_pool::VfpPool,
};
use claystack_devnet::testing::{devnet_home, free_port, poll};
use claystack_devnet::{
    Devnet, DevnetConfig, DevnetOptions, KEEPER_KEY, ORACLE_MEMBER_KEYS, setup,
};
use claystack_oracle::daemon::{DaemonConfig, Finality, Member};
use claystack_oracle::rewards::TreeDocument;

const ETH: u128 = 1_000_000_000_000_000_000;

async fn metric(url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no metric {name}"))
        .parse()
        .unwrap()
}

async fn mined(
    what: &str,
    sent: Result<
        alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
        alloy::contract::Error,
    >,
) -> alloy::rpc::types::TransactionReceipt {
    let receipt = sent
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .get_receipt()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(receipt.status(), "{what} reverted");
    receipt
}

/// Logs of `event` emitted by `address`, oldest first.
async fn logs<E: SolEvent>(reader: &DynProvider, address: Address) -> Vec<(u64, B256, E)> {
    let filter = Filter::new().address(address).event_signature(E::SIGNATURE_HASH).from_block(0u64);
    reader
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|l| {
            let e = l.log_decode::<E>().unwrap().inner.data;
            (l.block_number.unwrap(), l.transaction_hash.unwrap(), e)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[allow(clippy::too_many_lines)] // one scenario on one chain: set-up is the expensive part
async fn members_book_the_vfp_pools_leaf_after_every_report_with_a_root() {
    let _tracing = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("oracle=info,warn"))
        .with_test_writer()
        .try_init();
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
            // 32 s frames
            epochs_per_frame: 8,
            populate: true,
            oracle_members: 0,
            keeper: false,
        },
        DevnetOptions::default(),
    )
    .await
    .expect("bring the devnet up");
    let d = &devnet.deployment;
    let reader = ProviderBuilder::new().connect_http(devnet.rpc.parse().unwrap()).erased();
    let rewards_addr = d.address("operatorRewards").unwrap();
    let vfp_addr = d.address("vfpPool").unwrap();
    let vfp = VfpPool::new(vfp_addr, reader.clone());
    let rewards = OperatorRewards::new(rewards_addr, reader.clone());
    assert_eq!(
        vfp.operatorRewards().call().await.unwrap(),
        rewards_addr,
        "the deployment wires the VfpPool to the public OperatorRewards"
    );

    // ---- a VfpPool that funds an operator: threshold 0, a VFP deposit, home-1 backed by 2 ETH
    let gov = setup::provider(&devnet.rpc, &setup::deployer()).unwrap();
    let mut params = vfp.params().call().await.unwrap();
    assert!(params.rewardShareBps > 0, "the VfpPool takes a share of rewards");
    params.scoreThresholdBps = 0;
    setup::timelock_batch(
        &gov,
        d.timelock,
        vec![(vfp_addr, VfpPool::setParamsCall { p: params }.abi_encode().into())],
        "vfp test: fund before the first score",
    )
    .await
    .expect("lower the VfpPool's score threshold");
    let depositor = setup::account("vfp-depositor");
    reader
        .raw_request::<_, ()>(
            "anvil_setBalance".into(),
            (depositor.address(), U256::from(100 * ETH)),
        )
        .await
        .unwrap();
    let as_depositor = setup::provider(&devnet.rpc, &depositor).unwrap();
    mined(
        "VFP deposit",
        VfpPool::new(vfp_addr, as_depositor)
            .depositEth(depositor.address())
            .value(U256::from(20 * ETH))
            .send()
            .await,
    )
    .await;
    let registry = OperatorRegistry::new(d.address("operatorRegistry").unwrap(), reader.clone());
    let home = devnet
        .population
        .operators
        .iter()
        .find(|(label, kyc, _)| label == "home-1" && !kyc)
        .map(|(_, _, id)| U256::from(*id))
        .expect("the devnet has home-1");
    let manager = setup::provider(&devnet.rpc, &setup::account("home-1")).unwrap();
    mined(
        "fund home-1",
        VfpPool::new(vfp_addr, manager).fundOperator(home, U256::from(2 * ETH)).send().await,
    )
    .await;
    assert!(!vfp.allocatedShares(home).call().await.unwrap().is_zero());
    let assets0 = vfp.totalAssets().call().await.unwrap();
    assert_eq!(vfp.pendingRewards().call().await.unwrap(), U256::ZERO);

    // ---- three members
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let urls: Vec<String> =
        listeners.iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut members = Vec::new();
    let mut member_addrs = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        let key: PrivateKeySigner = ORACLE_MEMBER_KEYS[i].parse().unwrap();
        member_addrs.push(key.address());
        let cfg = DaemonConfig {
            member_key: key,
            beacon_url: devnet.beacon_url.clone(),
            rpc_url: devnet.rpc.clone(),
            chain_id: d.chain_id,
            pool: d.public,
            peers: urls
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, u)| u.clone())
                .collect(),
            state_dir: dirs[i].path().to_path_buf(),
            poll_interval: Duration::from_millis(500),
            finality: Finality::SlotsAfter(2),
            with_extra_data: false,
        };
        members.push(Member::start(cfg, l).unwrap());
    }

    // ---- deposits: pre-deposits, confirmation, top-ups; home-1's validator activates
    let long = Duration::from_secs(240);
    devnet
        .wait_status(false, long, "a first report", |s| s.ref_slot > 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");
    poll(long, "home-1's pre-deposit confirmed", || async {
        let o = registry.getOperator(home).call().await.map_err(|e| e.to_string())?;
        if o.preDeposited > 0 && o.confirmed == o.preDeposited {
            Ok(())
        } else {
            Err(format!("{}/{}", o.confirmed, o.preDeposited))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let keeper =
        setup::provider(&devnet.rpc, &KEEPER_KEY.parse::<PrivateKeySigner>().unwrap()).unwrap();
    let ds =
        StakePool::new(d.public.stake_pool, keeper.clone()).depositModule().call().await.unwrap();
    mined(
        "depositBuffered",
        DepositSecurity::new(ds, keeper).depositBuffered(U256::from(50u64)).send().await,
    )
    .await;
    let o = registry.getOperator(home).call().await.unwrap();
    assert!(o.topUpCursor > 0, "home-1's key was not topped up");

    // ---- two bookings of the VfpPool's leaf, each while its root is current
    let bookings = poll(Duration::from_secs(480), "two VfpPool rewards bookings", || async {
        let b = logs::<VfpPool::RewardsReceived>(&reader, vfp_addr).await;
        if b.len() >= 2 { Ok(b) } else { Err(b.len()) }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let roots = logs::<OperatorRewards::RewardsRootSet>(&reader, rewards_addr).await;
    let http = reqwest::Client::new();
    let mut previous_leaf = U256::ZERO;
    for (k, (block, tx, booked)) in bookings.iter().take(2).enumerate() {
        assert_eq!(booked.from, rewards_addr, "booking {k} is not from OperatorRewards");
        // the root current at the booking, and the VfpPool's leaf in the members' tree of it
        let (root_block, _, root_set) = roots
            .iter()
            .rfind(|(b, _, _)| b <= block)
            .unwrap_or_else(|| panic!("booking {k} at block {block} before any root"));
        let next_root = roots.iter().find(|(b, _, _)| b > root_block).map(|(b, _, _)| *b);
        assert!(
            next_root.is_none_or(|n| n > *block),
            "booking {k} at block {block} came after the next root (block {next_root:?})"
        );
        let doc: TreeDocument = http
            .get(format!("{}/rewards/tree/{}", urls[0], root_set.root))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        doc.verify(root_set.root, root_set.cumulativeShares).expect("the tree is the chain's");
        let leaf = doc
            .leaves
            .iter()
            .find(|l| l.account == vfp_addr)
            .unwrap_or_else(|| panic!("root {} has no VfpPool leaf", root_set.root))
            .cumulative_shares;
        assert!(leaf > previous_leaf, "the VfpPool's leaf did not grow");
        // exactly the increment of the leaf, and totalAssets grows by exactly that
        assert_eq!(
            booked.csShares,
            leaf - previous_leaf,
            "booking {k} is not the leaf's increment"
        );
        let at = BlockId::number(*block);
        let before = BlockId::number(block - 1);
        let assets = vfp.totalAssets().block(at).call().await.unwrap();
        let assets_before = vfp.totalAssets().block(before).call().await.unwrap();
        assert_eq!(assets - assets_before, booked.csShares, "totalAssets grew by another amount");
        assert_eq!(assets, assets0 + leaf, "totalAssets is not the deposit plus the leaf");
        assert_eq!(rewards.claimed(vfp_addr).block(at).call().await.unwrap(), leaf);
        assert_eq!(vfp.rewardsBooked(rewards_addr).block(at).call().await.unwrap(), leaf);
        assert_eq!(vfp.pendingRewards().block(at).call().await.unwrap(), U256::ZERO);
        // sent by a member
        let sender = reader.get_transaction_by_hash(*tx).await.unwrap().unwrap().inner.signer();
        assert!(member_addrs.contains(&sender), "booking {k} was sent by {sender}, not a member");
        previous_leaf = leaf;
    }
    // no root with a new VfpPool leaf was left unbooked: up to the second booking the roots'
    // VfpPool leaves take exactly two distinct values (a leaf is cumulative: once the pool has
    // one, every later tree carries it; an unbooked root would add a third value)
    let second = bookings[1].0;
    let mut leaves = std::collections::BTreeSet::new();
    for (_, _, r) in roots.iter().filter(|(b, _, _)| *b <= second) {
        let doc: TreeDocument = http
            .get(format!("{}/rewards/tree/{}", urls[1], r.root))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(l) = doc.leaves.iter().find(|l| l.account == vfp_addr) {
            leaves.insert(l.cumulative_shares);
        }
    }
    assert_eq!(leaves.len(), 2, "VfpPool leaves up to the second booking: {leaves:?}");
    let losses = reader
        .get_logs(
            &Filter::new()
                .address(vfp_addr)
                .event_signature(VfpPool::LossAbsorbed::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await
        .unwrap();
    assert!(losses.is_empty(), "the VfpPool absorbed a loss: {losses:?}");

    // the members counted their bookings (a member counts once it has the receipt, which can be
    // a moment after the event is visible here)
    let claims = poll(Duration::from_secs(30), "the members counting two bookings", || async {
        let mut claims = 0.0;
        for url in &urls {
            claims += metric(url, "claystack_oracle_vfp_rewards_claims_total").await;
        }
        if claims >= 2.0 { Ok(claims) } else { Err(claims) }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    tracing::info!(target: "oracle::test", claims, bookings = bookings.len(), "VfpPool bookings");

    for m in members {
        m.shutdown().await;
    }
    devnet.shutdown().await;
}
