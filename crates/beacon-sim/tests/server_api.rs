//! The simulator's Beacon API and admin API over HTTP, without an execution node: state ids,
//! filters, POST forms, error codes, and scripted failures observed through the client.

use claystack_beacon::{
    BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorQuery, ValidatorStatus,
};
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::{Slot, ValidatorIndex};
use serde_json::{Value, json};

async fn start(clock: ClockMode) -> SimNode {
    start_at(clock, 1_700_000_000).await
}

async fn start_at(clock: ClockMode, genesis_time: u64) -> SimNode {
    SimNode::start(node_cfg(clock, genesis_time), None).await.unwrap()
}

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

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn state_ids_filters_and_errors() {
    let node = start(ClockMode::Manual).await;
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();
    node.advance(40).await.unwrap();

    assert_eq!(c.health().await.unwrap(), 200);
    assert!(c.node_version().await.unwrap().version.starts_with("claystack-beacon-sim/"));
    assert_eq!(c.syncing().await.unwrap().head_slot, Slot(40));
    let fork = c.fork(StateId::Head).await.unwrap().data;
    assert_eq!(fork.current_version, ChainConfig::devnet().genesis_fork_version);

    // Past slots are served from history, the future is a 404.
    let at = c
        .validator_balances(StateId::Slot(Slot(20)), &[ValidatorId::Index(ValidatorIndex(0))])
        .await
        .unwrap();
    let now = c
        .validator_balances(StateId::Head, &[ValidatorId::Index(ValidatorIndex(0))])
        .await
        .unwrap();
    assert!(at.data[0].balance < now.data[0].balance, "rewards accrue between slot 20 and 40");
    assert!(c.finality_checkpoints(StateId::Slot(Slot(41))).await.unwrap_err().is_not_found());
    let genesis = c.validators(StateId::Genesis, &ValidatorQuery::default()).await.unwrap();
    assert_eq!(genesis.data.len(), 6);
    assert_eq!(genesis.finalized, Some(true));

    // Headers: head, by slot, finalized; a slot in the future is a 404.
    let head = c.header(StateId::Head).await.unwrap().data;
    assert_eq!(head.header.message.slot, Slot(40));
    let by_slot = c.header(StateId::Slot(Slot(40))).await.unwrap().data;
    assert_eq!(by_slot.root, head.root);
    let by_root = c.header(StateId::Root(head.root)).await.unwrap().data;
    assert_eq!(by_root.header.message.slot, Slot(40));
    let fin = c.header(StateId::Finalized).await.unwrap();
    assert_eq!(fin.finalized, Some(true));
    assert!(c.header(StateId::Slot(Slot(99))).await.unwrap_err().is_not_found());

    // Filters: GET with ids and statuses, POST with many ids.
    let q = ValidatorQuery {
        ids: vec![ValidatorId::Index(ValidatorIndex(1)), ValidatorId::Index(ValidatorIndex(99))],
        statuses: vec![ValidatorStatus::Active],
    };
    let r = c.validators(StateId::Head, &q).await.unwrap();
    assert_eq!(r.data.len(), 1, "unknown ids are omitted");
    let many = ValidatorQuery {
        ids: (0..100).map(|i| ValidatorId::Index(ValidatorIndex(i))).collect(),
        statuses: vec![],
    };
    assert_eq!(c.validators(StateId::Head, &many).await.unwrap().data.len(), 6);
    let many_ids: Vec<ValidatorId> =
        (0..100).map(|i| ValidatorId::Index(ValidatorIndex(i))).collect();
    assert_eq!(c.validator_balances(StateId::Head, &many_ids).await.unwrap().data.len(), 6);
    let pk = r.data[0].validator.pubkey;
    let one = c.validator(StateId::Head, ValidatorId::Pubkey(pk)).await.unwrap();
    assert_eq!(one.data.index, ValidatorIndex(1));
    let (code, body) =
        get(&format!("{url}/eth/v1/beacon/states/head/validators?status=bogus")).await;
    assert_eq!(code, 400);
    assert_eq!(body["code"], 400);
    assert!(body["message"].as_str().unwrap().contains("bogus"));
    let (code, _) = get(&format!("{url}/eth/v1/beacon/states/nonsense/validators")).await;
    assert_eq!(code, 400);
    let (code, balances) =
        post(&format!("{url}/eth/v1/beacon/states/head/validator_balances"), json!(["0", "2"]))
            .await;
    assert_eq!(code, 200);
    assert_eq!(balances["data"].as_array().unwrap().len(), 2);
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn admin_api_scripts_failures() {
    let node = start(ClockMode::Manual).await;
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();
    let (code, body) = post(&format!("{url}/admin/advance"), json!({"epochs": 3})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["head_slot"], (3 * ChainConfig::devnet().slots_per_epoch).to_string());

    // Halt finality: checkpoints stop moving.
    assert_eq!(post(&format!("{url}/admin/finality"), json!({"halted": true})).await.0, 200);
    let before = c.finality_checkpoints(StateId::Head).await.unwrap().data.finalized;
    post(&format!("{url}/admin/advance"), json!({"epochs": 3})).await;
    assert_eq!(c.finality_checkpoints(StateId::Head).await.unwrap().data.finalized, before);
    post(&format!("{url}/admin/finality"), json!({"halted": false})).await;
    post(&format!("{url}/admin/advance"), json!({"epochs": 3})).await;
    assert!(
        c.finality_checkpoints(StateId::Head).await.unwrap().data.finalized.epoch > before.epoch
    );

    // Slash one, exit another, take a third offline.
    assert_eq!(post(&format!("{url}/admin/validators/2/slash"), json!({})).await.0, 200);
    let (code, body) = post(&format!("{url}/admin/validators/2/slash"), json!({})).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(post(&format!("{url}/admin/validators/3/exit"), json!({})).await.0, 200);
    assert_eq!(
        post(&format!("{url}/admin/validators/4/performance"), json!({"ppm": 0})).await.0,
        200
    );
    assert_eq!(post(&format!("{url}/admin/validators/99/exit"), json!({})).await.0, 404);
    assert_eq!(
        post(&format!("{url}/admin/validators/4/performance"), json!({"ppm": "x"})).await.0,
        400
    );
    let status = |i: u64| {
        let c = c.clone();
        async move {
            c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(i)))
                .await
                .unwrap()
                .data
                .status
        }
    };
    assert_eq!(status(2).await, ValidatorStatus::ActiveSlashed);
    assert_eq!(status(3).await, ValidatorStatus::ActiveExiting);
    let b4 = c
        .validator_balances(StateId::Head, &[ValidatorId::Index(ValidatorIndex(4))])
        .await
        .unwrap()
        .data[0]
        .balance;
    post(&format!("{url}/admin/advance"), json!({"epochs": 2})).await;
    let b4_after = c
        .validator_balances(StateId::Head, &[ValidatorId::Index(ValidatorIndex(4))])
        .await
        .unwrap()
        .data[0]
        .balance;
    assert!(b4_after < b4, "an offline validator loses balance");

    let spe = ChainConfig::devnet().slots_per_epoch;
    let epoch = claystack_consensus::Epoch(c.syncing().await.unwrap().head_slot.get() / spe - 1);
    let live = c.liveness(epoch, &[ValidatorIndex(0), ValidatorIndex(4)]).await.unwrap();
    assert_eq!(live.iter().map(|l| l.is_live).collect::<Vec<_>>(), vec![true, false]);
    let future = claystack_consensus::Epoch(epoch.get() + 5);
    assert!(matches!(
        c.liveness(future, &[ValidatorIndex(0)]).await,
        Err(claystack_beacon::Error::BadRequest { .. })
    ));
    let (_, st) = get(&format!("{url}/admin/status")).await;
    assert_eq!(st["validators"], 6);
    assert_eq!(st["manual_clock"], true);
    let (_, proposals) = get(&format!("{url}/admin/proposals")).await;
    assert!(
        proposals["data"].as_array().unwrap().iter().any(|p| p["produced"] == false),
        "the offline validator misses proposals"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn wall_clock_advances_and_refuses_manual_steps() {
    let wall = ClockMode::Wall { slot_duration: std::time::Duration::from_millis(20) };
    // A genesis far in the past cannot be caught up: a clear error, not a hang.
    let err = SimNode::start(node_cfg(wall, 1_000_000), None).await.unwrap_err();
    assert!(matches!(err, claystack_beacon_sim::NodeError::TooFarBehind { .. }), "{err}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // Genesis one second ago: the clock catches up ~50 slots at once, then ticks.
    let node = start_at(wall, now - 1).await;
    let c = BeaconClient::new(&node.url(), ClientConfig::default()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if c.syncing().await.unwrap().head_slot.get() > 100 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "wall clock did not advance");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(matches!(node.advance(1).await, Err(claystack_beacon_sim::NodeError::NotManual)));
    let (code, _) = post(&format!("{}/admin/advance", node.url()), json!({"slots": 1})).await;
    assert_eq!(code, 409);
    node.shutdown().await.unwrap();
}
