//! Signed voluntary exits through `POST /eth/v1/beacon/pool/voluntary_exits` (real BLS keys, the
//! EIP-7044 domain, every refusal the Beacon API gives), liveness kept for more than an oracle
//! frame, and the clock warp: a day of one-second slots processed at once, the offset kept across
//! a restart.

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_beacon_sim::core::deposit::Deposit;
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::{
    DomainType, Epoch, Gwei, HashTreeRoot, ValidatorIndex, compute_domain, compute_signing_root,
    hexutil, ssz::container_root,
};
use claystack_keys::SecretKey;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn node_cfg(clock: ClockMode, genesis_time: u64) -> NodeConfig {
    NodeConfig {
        chain: ChainConfig {
            genesis_validators: 6,
            default_performance_ppm: 1_000_000,
            performance_jitter_ppm: 0,
            genesis_time,
            ..ChainConfig::devnet()
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        execution_rpc: None,
        execution_start_block: 0,
        follow_distance: 0,
        exit_request_contract: None,
        apply_el_credits: false,
        snapshot_path: None,
        clock,
    }
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A signed exit as a validator client builds it, from the spec's primitives (not the
/// simulator's own helper): `VoluntaryExit` root under `compute_domain(DOMAIN_VOLUNTARY_EXIT,
/// fork_version, genesis_validators_root)`.
fn signed_exit(sk: &SecretKey, epoch: u64, index: u64, fork: [u8; 4], gvr: [u8; 32]) -> Value {
    let root = container_root(&[epoch.hash_tree_root(), index.hash_tree_root()]);
    let domain = compute_domain(DomainType::VOLUNTARY_EXIT, fork, gvr);
    let sig = sk.sign(&compute_signing_root(root, domain));
    json!({
        "message": {"epoch": epoch.to_string(), "validator_index": index.to_string()},
        "signature": hexutil::encode_prefixed(sig),
    })
}

#[tokio::test]
async fn signed_voluntary_exits_are_checked_pooled_and_included() {
    let node = SimNode::start(node_cfg(ClockMode::Manual, 1_700_000_000), None).await.unwrap();
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();
    let sk = SecretKey::from_bytes(&[7; 32]).unwrap();
    let pk = sk.public_key();
    let mut wc = [0u8; 32];
    wc[0] = 1;
    {
        let mut inner = node.shared().inner.write().unwrap();
        let index = inner.state.deposits_processed;
        inner
            .state
            .enqueue_deposit(Deposit {
                pubkey: pk,
                withdrawal_credentials: wc,
                amount: Gwei(32 * Gwei::PER_ETH),
                signature: vec![0; 96],
                index,
            })
            .unwrap();
    }
    let mut index = None;
    for _ in 0..40 {
        node.advance(4).await.unwrap();
        if let Ok(v) = c.validator(StateId::Head, ValidatorId::Pubkey(pk)).await
            && v.data.status == ValidatorStatus::ActiveOngoing
        {
            index = Some(v.data.index.get());
            break;
        }
    }
    let i = index.expect("the deposited validator did not become active within 40 epochs");

    let spec = c.spec().await.unwrap();
    let capella: [u8; 4] =
        hexutil::decode_fixed(spec.raw["CAPELLA_FORK_VERSION"].as_str().unwrap()).unwrap();
    let genesis = c.genesis().await.unwrap();
    assert_ne!(capella, genesis.genesis_fork_version, "the test needs distinct fork versions");
    let gvr = genesis.genesis_validators_root;
    let epoch = c.syncing().await.unwrap().head_slot.get() / 4;
    let exits = format!("{url}/eth/v1/beacon/pool/voluntary_exits");

    // refusals: each a 400 in the Beacon API's error shape, saying why
    let other = SecretKey::from_bytes(&[8; 32]).unwrap();
    for (body, why) in [
        (signed_exit(&sk, epoch, i, genesis.genesis_fork_version, gvr), "signature"),
        (signed_exit(&other, epoch, i, capella, gvr), "signature"),
        (signed_exit(&sk, epoch + 1, i, capella, gvr), "in the future"),
        (signed_exit(&sk, epoch, 999, capella, gvr), "unknown validator"),
        (signed_exit(&sk, epoch, 0, capella, gvr), "signature"),
        (json!({"message": {"epoch": "1"}, "signature": "0x00"}), "not a SignedVoluntaryExit"),
        (
            json!({"message": {"epoch": "1", "validator_index": "x"}, "signature": "0x00"}),
            "validator_index",
        ),
    ] {
        let (code, err) = post(&exits, body.clone()).await;
        assert_eq!(code, 400, "{body} → {err}");
        assert_eq!(err["code"], 400, "{err}");
        let msg = err["message"].as_str().unwrap();
        assert!(msg.contains("invalid voluntary exit") && msg.contains(why), "{why}: {msg}");
    }
    let status = |n: &SimNode| {
        let inner = n.shared().read().unwrap();
        (
            inner.state.voluntary_exit_pool.len(),
            inner.state.validators[usize::try_from(i).unwrap()].record.exit_epoch,
        )
    };
    assert_eq!(status(&node).0, 0, "nothing refused reached the pool");

    // a valid exit is pooled (200), a second copy too (already known), a block includes it
    let good = signed_exit(&sk, epoch, i, capella, gvr);
    assert_eq!(post(&exits, good.clone()).await.0, 200);
    assert_eq!(post(&exits, good.clone()).await.0, 200);
    let admin: Value =
        reqwest::get(format!("{url}/admin/status")).await.unwrap().json().await.unwrap();
    assert_eq!(admin["voluntary_exits_pending"], 1, "{admin}");
    assert_eq!(status(&node), (1, Epoch(u64::MAX)));
    node.advance(4).await.unwrap();
    let (pooled, exit_epoch) = status(&node);
    assert_eq!(pooled, 0);
    assert!(exit_epoch.get() > epoch && exit_epoch.get() <= epoch + 4, "exit epoch {exit_epoch}");
    let v = c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(i))).await.unwrap();
    assert_eq!(v.data.status, ValidatorStatus::ActiveExiting);
    let (code, err) = post(&exits, good).await;
    assert_eq!(code, 400);
    assert!(err["message"].as_str().unwrap().contains("already exiting"), "{err}");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_warp_processes_a_day_of_slots_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("beacon.snapshot");
    let wall = ClockMode::Wall { slot_duration: Duration::from_secs(1) };
    let genesis_time = unix_now() - 20;
    let mut cfg =
        NodeConfig { snapshot_path: Some(snapshot.clone()), ..node_cfg(wall, genesis_time) };
    // liveness of every warped epoch (a day of 4 s epochs), as an oracle scoring the frame needs
    cfg.chain.liveness_epochs = 22_000;
    let node = SimNode::start(cfg.clone(), None).await.unwrap();
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();

    // a manual node cannot be warped
    let manual = SimNode::start(node_cfg(ClockMode::Manual, 1_700_000_000), None).await.unwrap();
    let (code, err) = post(&format!("{}/admin/warp", manual.url()), json!({"seconds": 60})).await;
    assert_eq!(code, 400, "{err}");
    assert!(err["message"].as_str().unwrap().contains("manual"), "{err}");
    manual.shutdown().await.unwrap();

    let (code, warped) = post(&format!("{url}/admin/warp"), json!({"seconds": 86_400})).await;
    assert_eq!(code, 200, "{warped}");
    let head: u64 = warped["head_slot"].as_str().unwrap().parse().unwrap();
    let expected = unix_now() + 86_400 - genesis_time;
    assert!(head + 5 >= expected && head <= expected + 1, "head {head}, wall slot {expected}");
    assert_eq!(warped["clock_offset_seconds"], "86400");

    // the skipped day was a normal day: finality kept up, rewards accrued, and the liveness of
    // every warped epoch is served
    let fin = c.finality_checkpoints(StateId::Head).await.unwrap().data.finalized.epoch.get();
    assert!(fin + 3 >= head / 4, "finalized {fin}, head epoch {}", head / 4);
    // a genesis validator (0x00 credentials: never swept) earned a day at 3 % APR: ~2.6 M gwei
    let b0 = c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(0))).await.unwrap();
    let earned = b0.data.balance.get() - 32 * Gwei::PER_ETH;
    assert!((2_000_000..3_000_000).contains(&earned), "earned {earned} gwei in a day");
    let last_ended = head / 4 - 1;
    let ids = [ValidatorIndex(0), ValidatorIndex(1)];
    for epoch in [last_ended, last_ended - 10_000, 6] {
        let live = c.liveness(Epoch(epoch), &ids).await.unwrap();
        assert_eq!(live.len(), 2, "epoch {epoch}");
        assert!(live.iter().all(|l| l.is_live), "perfect validators, epoch {epoch}");
    }

    // a restart resumes the warped clock from the snapshot: no catch-up of a day, no rewind
    node.shutdown().await.unwrap();
    let node = SimNode::start(cfg, None).await.unwrap();
    assert_eq!(node.shared().clock_offset(), Duration::from_secs(86_400));
    let head2 = node.shared().wait_caught_up().await.unwrap().get();
    assert!(head2 >= head, "head went back from {head} to {head2}");
    assert!(head2 <= unix_now() + 86_400 - genesis_time + 1);
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn liveness_is_served_for_the_configured_number_of_epochs() {
    let mut cfg = node_cfg(ClockMode::Manual, 1_700_000_000);
    cfg.chain.liveness_epochs = 100;
    let node = SimNode::start(cfg, None).await.unwrap();
    let c = BeaconClient::new(&node.url(), ClientConfig::default()).unwrap();
    // epochs 0..150 end: more than the 64 the state keeps, the last 100 are served
    node.advance(150 * 4).await.unwrap();
    let ids = [ValidatorIndex(0)];
    for epoch in [149, 100, 50] {
        assert_eq!(c.liveness(Epoch(epoch), &ids).await.unwrap().len(), 1, "epoch {epoch}");
    }
    let err = c.liveness(Epoch(49), &ids).await.unwrap_err().to_string();
    assert!(err.contains("no longer retained"), "{err}");
    let err = c.liveness(Epoch(150), &ids).await.unwrap_err().to_string();
    assert!(err.contains("not ended yet"), "{err}");
    node.shutdown().await.unwrap();
}
