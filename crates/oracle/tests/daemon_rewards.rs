//! Scores, rewards and missed-exit penalties on a real chain: the devnet (anvil with 1 s blocks,
//! the forge deployment, operators of every type, stakers, the beacon simulator) with three
//! oracle members run by this test (quorum 2):
//! - pre-deposits are confirmed and topped up, validators activate, the members record each
//!   epoch's liveness in their state dirs and report scores from it;
//! - once the reward fee has reached `OperatorRewards`, a report sets a non-zero rewards root; an
//!   operator's reward account claims with the proof a member serves, verified locally first,
//!   and receives exactly the leaf's shares;
//! - a member that lost its rewards trees fetches the on-chain root's tree from a peer, checks it
//!   and signs the same digest as the others on the next frame;
//! - an exit request that passes its deadline while the validator stays active is charged once
//!   (penalty kind 2, `OperatorsModule.missedExitPenalty()`), in the frame the deadline passes;
//! - the members split their operators reports into small extra-data chunks (a test budget of a
//!   few entries per chunk, docs/adr/0008): a report of several chunks lands whole — chunk 0 with
//!   the report, every later one through `submitExtraDataChunk` in order within the frame
//!   (`ExtraDataChunkApplied` for every index, the chain complete), each chunk the one the
//!   members recorded, and no chain is ever dropped.

use std::{net::TcpListener, path::PathBuf, time::Duration};

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_bindings::{
    deposit_security::DepositSecurity, operator_registry::OperatorRegistry,
    operator_rewards::OperatorRewards, operators_module::OperatorsModule,
    oracle_report::OracleReport, stake_pool::StakePool,
};
use claystack_devnet::{
    Devnet, DevnetConfig, DevnetOptions, KEEPER_KEY, ORACLE_MEMBER_KEYS, setup,
};
use claystack_oracle::daemon::liveness::DutiesSource;
use claystack_oracle::daemon::rewards::TreeStore;
use claystack_oracle::daemon::store::Store;
use claystack_oracle::daemon::{DaemonConfig, Finality, Member, MemberOptions};
use claystack_oracle::rewards::TreeDocument;
use claystack_oracle::sol::ChunkBudget;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_until<F, Fut, T>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < timeout, "{what} did not happen within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn metric(url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no metric {name}"))
        .parse()
        .unwrap()
}

/// A few entries per chunk: chunk 0 takes about three pre-deposit results (or one penalty and
/// some), every later chunk about five, so the reports of this test span several chunks.
/// Duties are read from the attestation rewards (the default source, named here so this test
/// keeps covering it).
const SMALL_CHUNKS: MemberOptions = MemberOptions {
    chunk_budget: ChunkBudget { first_gas: 100_000, gas: 160_000, max_bytes: 120_000 },
    duties_source: DutiesSource::Rewards,
};

/// Trees put in each member's state dir before it starts.
const SEEDED_TREES: u8 = 20;
/// Most trees a member holds after pruning: the 16 newest and the on-chain root's kept when the
/// last frame settled, plus the tree of a frame computed since (pruned after it settles). Without
/// pruning the 20 seeded trees and every computed one stay.
const KEPT_TREES: usize = 16 + 1 + 1;

struct Members {
    urls: Vec<String>,
    dirs: Vec<tempfile::TempDir>,
    running: Vec<Option<Member>>,
    cfgs: Vec<DaemonConfig>,
}

impl Members {
    async fn start(devnet: &Devnet) -> Self {
        let mut listeners = Vec::new();
        for _ in 0..3 {
            listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let urls: Vec<String> =
            listeners.iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        // old trees of earlier frames: pruned once a frame settles (16 newest and the
        // on-chain root's kept)
        for dir in &dirs {
            let trees = TreeStore::open(dir.path()).unwrap();
            for i in 0..SEEDED_TREES {
                let leaf = (Address::repeat_byte(0x50 + i), U256::from(1_000 + u64::from(i)));
                trees.save(&TreeDocument::new(u64::from(i), &[leaf]).unwrap()).unwrap();
            }
        }
        let mut cfgs = Vec::new();
        let mut running = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            let cfg = DaemonConfig {
                member_key: ORACLE_MEMBER_KEYS[i].parse().unwrap(),
                beacon_url: devnet.beacon_url.clone(),
                rpc_url: devnet.rpc.clone(),
                chain_id: devnet.deployment.chain_id,
                pool: devnet.deployment.public,
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
            running.push(Some(Member::start_with(cfg.clone(), l, SMALL_CHUNKS).unwrap()));
            cfgs.push(cfg);
        }
        Self { urls, dirs, running, cfgs }
    }

    async fn restart(&mut self, i: usize) {
        if let Some(m) = self.running[i].take() {
            m.shutdown().await;
        }
        let addr = self.urls[i].trim_start_matches("http://").to_owned();
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        self.running[i] = Some(Member::start_with(self.cfgs[i].clone(), l, SMALL_CHUNKS).unwrap());
    }

    async fn shutdown(self) {
        for m in self.running.into_iter().flatten() {
            m.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[allow(clippy::too_many_lines)] // one scenario on one chain: set-up is the expensive part
async fn scores_rewards_claims_and_missed_exits_on_the_devnet() {
    let _tracing = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("oracle=info,warn"))
        .with_test_writer()
        .try_init();
    // CLAYSTACK_DEVNET_HOME: deploy another checkout's contracts (e.g. an export of the last
    // commit while the working tree's contracts are mid-change); node_modules must be there too
    let root = std::env::var_os("CLAYSTACK_DEVNET_HOME").map_or_else(repo_root, PathBuf::from);
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
        // nobody answers exit requests: the requested validator stays active past its deadline
        DevnetOptions {
            negligent_operators: setup::sample_operators().into_iter().map(|o| o.label).collect(),
        },
    )
    .await
    .expect("bring the devnet up");
    let mut members = Members::start(&devnet).await;
    let d = &devnet.deployment;
    let reader = ProviderBuilder::new().connect_http(devnet.rpc.parse().unwrap()).erased();
    let keeper =
        setup::provider(&devnet.rpc, &KEEPER_KEY.parse::<PrivateKeySigner>().unwrap()).unwrap();
    let registry = OperatorRegistry::new(d.address("operatorRegistry").unwrap(), reader.clone());
    let module_addr = d.address("operatorsModule").unwrap();
    let module = OperatorsModule::new(module_addr, reader.clone());
    let rewards_addr = d.address("operatorRewards").unwrap();
    let rewards = OperatorRewards::new(rewards_addr, reader.clone());
    let beacon = BeaconClient::new(&devnet.beacon_url, ClientConfig::default()).unwrap();
    let long = Duration::from_secs(240);

    // ---- deposits: pre-deposit, confirmation, 31 ETH top-ups
    wait_until("a first report", long, || async {
        (devnet.status(false).await.unwrap().ref_slot > 0).then_some(())
    })
    .await;
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");
    let operators: Vec<u64> = devnet
        .population
        .operators
        .iter()
        .filter(|(_, kyc, _)| !kyc)
        .map(|(_, _, id)| *id)
        .collect();
    wait_until("the confirmation of the pre-deposits", long, || async {
        let mut all = true;
        for id in &operators {
            let o = registry.getOperator(U256::from(*id)).call().await.unwrap();
            all &= o.confirmed == o.preDeposited;
        }
        all.then_some(())
    })
    .await;
    // ---- the confirmations came in a report of several chunks, every one applied in order
    let oracle = OracleReport::new(d.public.oracle_report, reader.clone());
    let applied = chunk_events(&reader, *oracle.address()).await;
    let (&multi_slot, chain) = applied
        .iter()
        .find(|(_, c)| c.len() >= 2)
        .unwrap_or_else(|| panic!("no report needed two chunks: {applied:?}"));
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.index, U256::from(i), "chunks of {multi_slot} out of order: {chain:?}");
        let next = chain.get(i + 1).map_or(B256::ZERO, |n| n.chunkHash);
        assert_eq!(e.nextHash, next, "chunk {i} of {multi_slot} does not link to the next one");
    }
    let rec = (0..3)
        .find_map(|m| Store::open(members.dirs[m].path()).unwrap().load(multi_slot).unwrap())
        .expect("a member recorded the multi-chunk frame");
    assert_eq!(rec.chunks.len(), chain.len(), "not every recorded chunk landed");
    for (c, e) in rec.chunks.iter().zip(chain) {
        assert_eq!(keccak256(c), e.chunkHash, "a chunk on chain is not the recorded one");
    }
    let mut delivered = 0.0;
    for url in &members.urls {
        delivered += metric(url, "claystack_oracle_extra_data_chunks_delivered_total").await;
    }
    assert!(delivered >= 1.0, "no member delivered a chunk");

    let ds =
        StakePool::new(d.public.stake_pool, keeper.clone()).depositModule().call().await.unwrap();
    let receipt = DepositSecurity::new(ds, keeper.clone())
        .depositBuffered(U256::from(50u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "depositBuffered reverted");
    // a topped-up key (the missed-exit candidate later)
    let mut exit_key = None;
    for id in &operators {
        let o = registry.getOperator(U256::from(*id)).call().await.unwrap();
        if o.topUpCursor > 0 {
            exit_key = Some((
                *id,
                registry.getKey(U256::from(*id), U256::ZERO).call().await.unwrap().pubkey,
            ));
            break;
        }
    }
    let (exit_op, exit_pubkey) = exit_key.expect("a key was topped up");
    let exit_pubkey: [u8; 48] = exit_pubkey.as_ref().try_into().unwrap();
    wait_until("the topped-up validator to activate", long, || async {
        let v = beacon.validator(StateId::Head, ValidatorId::Pubkey(exit_pubkey)).await.ok()?;
        (v.data.status == ValidatorStatus::ActiveOngoing).then_some(())
    })
    .await;

    // ---- scores from liveness; fee shares reach OperatorRewards; a report sets a root
    let (root, cumulative, ref_slot) =
        wait_until("a non-zero rewards root", Duration::from_secs(360), || async {
            let r = rewards.rewardsRoot().call().await.unwrap();
            if r.is_zero() {
                return None;
            }
            let c = rewards.rewardsCumulativeShares().call().await.unwrap();
            let s = rewards.rewardsRefSlot().call().await.unwrap();
            Some((r, c, s))
        })
        .await;
    assert!(!cumulative.is_zero());
    assert!(cumulative <= rewards.totalReceived().call().await.unwrap());
    // liveness was recorded during the frames, and scores were reported from it
    for url in &members.urls {
        assert!(metric(url, "claystack_oracle_liveness_epochs_recorded_total").await >= 1.0);
        assert!(metric(url, "claystack_oracle_liveness_missing_total").await.abs() < f64::EPSILON);
    }
    let ref_slot = u64::try_from(ref_slot).unwrap();
    let rec = Store::open(members.dirs[0].path()).unwrap().load(ref_slot).unwrap();
    assert!(rec.is_some(), "member 1 has no record of the frame that set the root");
    let scores = reader
        .get_logs(
            &Filter::new()
                .address(*registry.address())
                .event_signature(OperatorRegistry::ScoreSet::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await
        .unwrap();
    assert!(!scores.is_empty(), "no report carried a score");

    // ---- the tree each member serves is the chain's; an operator claims with a member's proof
    let http = reqwest::Client::new();
    let doc: TreeDocument = http
        .get(format!("{}/rewards/tree/{root}", members.urls[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc.verify(root, cumulative).expect("the served tree is the chain's");
    let reward_addresses: Vec<Address> = {
        let mut v = Vec::new();
        for id in &operators {
            v.push(registry.getOperator(U256::from(*id)).call().await.unwrap().rewardAddress);
        }
        v
    };
    let leaf = doc
        .leaves
        .iter()
        .find(|l| reward_addresses.contains(&l.account))
        .copied()
        .expect("an operator has a leaf");
    let client = claystack_client::rewards::Rewards::new(keeper.clone(), rewards_addr);
    let proof =
        claystack_client::rewards::fetch_proof(&members.urls[2], root, leaf.account).await.unwrap();
    assert_eq!(proof.cumulative_shares, leaf.cumulative_shares);
    let token = StakePool::new(d.public.stake_pool, reader.clone());
    let before = token.balanceOf(leaf.account).call().await.unwrap();
    let (paid, _) = client.claim(&proof, &claystack_client::tx::quiet).await.unwrap();
    assert_eq!(paid, leaf.cumulative_shares, "the first claim pays the whole leaf");
    assert_eq!(
        token.balanceOf(leaf.account).call().await.unwrap() - before,
        leaf.cumulative_shares
    );
    assert_eq!(rewards.claimed(leaf.account).call().await.unwrap(), leaf.cumulative_shares);
    // a second claim with the same proof is refused before anything is sent
    assert!(matches!(
        client.claim(&proof, &claystack_client::tx::quiet).await,
        Err(claystack_client::rewards::RewardsError::NothingToClaim { .. })
    ));
    // a forged proof (one more share) is refused locally
    let mut forged = proof.clone();
    forged.cumulative_shares += U256::from(1u8);
    assert!(matches!(
        client.check(&forged).await,
        Err(claystack_client::rewards::RewardsError::Invalid { .. })
    ));

    // ---- member 3 loses its trees; it fetches the root's tree from a peer and agrees again
    let trees3 = members.dirs[2].path().join("rewards");
    if let Some(m) = members.running[2].take() {
        m.shutdown().await;
    }
    std::fs::remove_dir_all(&trees3).unwrap();
    let restart_slot = devnet.status(false).await.unwrap().ref_slot;
    members.restart(2).await;

    // ---- a missed exit: the module's role asks for an exit with a near deadline
    let penalty = module.missedExitPenalty().call().await.unwrap();
    assert!(!penalty.is_zero(), "the deployment sets a missed-exit penalty");
    reader.raw_request::<_, ()>("anvil_impersonateAccount".into(), (module_addr,)).await.unwrap();
    reader
        .raw_request::<_, ()>("anvil_setBalance".into(), (module_addr, U256::from(10u128.pow(18))))
        .await
        .unwrap();
    let now = reader
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let deadline = now + 10;
    let tx = registry
        .requestExit(U256::from(exit_op), U256::ZERO, U256::from(deadline))
        .from(module_addr)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(tx.status(), "requestExit as the module reverted");
    reader
        .raw_request::<_, ()>("anvil_stopImpersonatingAccount".into(), (module_addr,))
        .await
        .unwrap();
    let deadline_slot = (deadline - d.genesis_time) / d.seconds_per_slot;

    // two reports after the deadline's frame: the penalty is charged once
    let frame_slots = d.slots_per_epoch * d.epochs_per_frame;
    let settled_after =
        wait_until("two reports after the deadline", Duration::from_secs(200), || async {
            let s = devnet.status(false).await.unwrap().ref_slot;
            (s >= deadline_slot + frame_slots).then_some(s)
        })
        .await;
    let logs = reader
        .get_logs(
            &Filter::new()
                .address(module_addr)
                .event_signature(OperatorsModule::PenaltyApplied::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await
        .unwrap();
    let missed: Vec<OperatorsModule::PenaltyApplied> = logs
        .iter()
        .map(|l| OperatorsModule::PenaltyApplied::decode_log_data(l.data()).unwrap())
        .filter(|p| p.kind == U256::from(2u8))
        .collect();
    assert_eq!(
        missed.len(),
        1,
        "the missed exit was charged {} times (through slot {settled_after})",
        missed.len()
    );
    assert_eq!(missed[0].operatorId, U256::from(exit_op));
    assert_eq!(missed[0].amountWei, penalty);
    let o = registry.getOperator(U256::from(exit_op)).call().await.unwrap();
    assert_eq!(o.stuck, 1, "the validator that ignored its request is reported stuck");

    // member 3 signed the frames after its restart with the others' digest, using a checked tree
    let last = devnet.status(false).await.unwrap().ref_slot;
    assert!(last > restart_slot);
    let s1 = Store::open(members.dirs[0].path()).unwrap();
    let s3 = Store::open(members.dirs[2].path()).unwrap();
    let mut compared = 0;
    let mut slot = restart_slot + frame_slots;
    while slot <= last {
        if let (Some(a), Some(b)) = (s1.load(slot).unwrap(), s3.load(slot).unwrap()) {
            assert_eq!(a.digest, b.digest, "member 3 disagreed at slot {slot}");
            compared += 1;
        }
        slot += frame_slots;
    }
    assert!(compared >= 1, "member 3 signed nothing after its restart");
    assert!(
        metric(&members.urls[2], "claystack_oracle_rewards_trees_fetched_total").await >= 1.0,
        "member 3 did not fetch the on-chain root's tree from a peer"
    );
    assert!(
        metric(&members.urls[2], "claystack_oracle_rewards_tree_missing_total").await.abs()
            < f64::EPSILON
    );

    // every multi-chunk chain of the run was completed inside its frame: none was dropped
    let dropped = reader
        .get_logs(
            &Filter::new()
                .address(d.public.oracle_report)
                .event_signature(OracleReport::ExtraDataDropped::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await
        .unwrap();
    assert!(dropped.is_empty(), "chunks were dropped: {dropped:?}");
    let state = OracleReport::new(d.public.oracle_report, reader.clone())
        .extraDataState()
        .call()
        .await
        .unwrap();
    let current = devnet.status(false).await.unwrap().ref_slot;
    assert!(
        state.nextHash.is_zero() || state.refSlot == current,
        "a finished frame left a chain pending: {state:?}"
    );
    for (slot, chain) in chunk_events(&reader, d.public.oracle_report).await {
        let ends = chain.last().is_some_and(|e| e.nextHash.is_zero());
        assert!(ends || slot == current, "the chain of {slot} is incomplete: {chain:?}");
        assert!(chain.iter().enumerate().all(|(i, e)| e.index == U256::from(i)), "{chain:?}");
    }

    // ---- a day-long frame after a clock warp: 21,600 epochs of liveness fetched, recorded and
    // tallied at compute time, in seconds, and the members still agree
    devnet.warp(Duration::from_secs(24 * 3600)).await.expect("warp the clocks by a day");
    let day = wait_until("the report of the day-long frame", Duration::from_secs(300), || async {
        let s = devnet.status(false).await.unwrap().ref_slot;
        (s > current + 100 * frame_slots).then_some(s)
    })
    .await;
    let mut signed = 0;
    for url in &members.urls {
        // `last_signed_ref_slot` and the compute time are the same frame's when it is `day`
        #[allow(clippy::cast_precision_loss)] // slots are far below 2^52
        let at_day = (metric(url, "claystack_oracle_last_signed_ref_slot").await - day as f64)
            .abs()
            < f64::EPSILON;
        if at_day {
            signed += 1;
            let secs = metric(url, "claystack_oracle_report_compute_seconds").await;
            assert!(secs < 60.0, "the day-long frame took {secs} s to compute at {url}");
        }
    }
    assert!(signed >= 2, "only {signed} member(s) signed the day-long frame");

    // the seeded trees were pruned after a settled frame (members 1 and 2 kept theirs all along).
    // A member keeps computing frames between its prunes, each adding a tree until the frame
    // settles (a loaded machine can compute more than one before the check): the bound holds
    // right after a prune, so it is awaited (two minutes: several one-minute frames), never
    // skipped — without pruning the 20 seeded trees alone exceed it.
    for dir in &members.dirs[..2] {
        let store = TreeStore::open(dir.path()).unwrap();
        let what = format!("at most {KEPT_TREES} rewards trees in {}", dir.path().display());
        wait_until(&what, Duration::from_secs(120), || {
            let held = store.count().unwrap();
            async move { (held <= KEPT_TREES).then_some(()) }
        })
        .await;
    }

    members.shutdown().await;
    devnet.shutdown().await;
}

/// `ExtraDataChunkApplied` events of `oracle`, by reference slot, in log order.
async fn chunk_events(
    reader: &alloy::providers::DynProvider,
    oracle: Address,
) -> std::collections::BTreeMap<u64, Vec<OracleReport::ExtraDataChunkApplied>> {
    let logs = reader
        .get_logs(
            &Filter::new()
                .address(oracle)
                .event_signature(OracleReport::ExtraDataChunkApplied::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await
        .unwrap();
    let mut out: std::collections::BTreeMap<u64, Vec<OracleReport::ExtraDataChunkApplied>> =
        std::collections::BTreeMap::new();
    for l in &logs {
        let e = OracleReport::ExtraDataChunkApplied::decode_log(&l.inner).unwrap().data;
        out.entry(u64::try_from(e.refSlot).unwrap()).or_default().push(e);
    }
    out
}
