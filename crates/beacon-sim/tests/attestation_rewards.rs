//! `POST /eth/v1/beacon/rewards/attestations/{epoch}` served from the participation archive the
//! liveness endpoint uses: signs agree with liveness, figures follow the epoch transition's
//! weights, ineligible validators are left out, and unserved epochs are refused like real
//! clients refuse them (400 before the state at the end of `epoch + 1` exists, 404 once pruned).

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId};
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::{Epoch, ValidatorIndex};
use serde_json::{Value, json};

fn node_cfg(liveness_epochs: u64) -> NodeConfig {
    NodeConfig {
        chain: ChainConfig {
            genesis_validators: 6,
            default_performance_ppm: 1_000_000,
            performance_jitter_ppm: 0,
            genesis_time: 1_700_000_000,
            liveness_epochs,
            ..ChainConfig::devnet()
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        execution_rpc: None,
        execution_start_block: 0,
        follow_distance: 0,
        exit_request_contract: None,
        apply_el_credits: false,
        snapshot_path: None,
        clock: ClockMode::Manual,
    }
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(v: &[u64]) -> Vec<ValidatorIndex> {
    v.iter().copied().map(ValidatorIndex).collect()
}

/// 4-slot epochs; validator 2 offline from genesis, validator 4 offline from epoch 3 on.
#[tokio::test]
async fn rewards_follow_participation_and_refuse_unserved_epochs() {
    let node = SimNode::start(node_cfg(10), None).await.unwrap();
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig { max_retries: 0, ..ClientConfig::default() })
        .unwrap();
    let (code, _) = post(&format!("{url}/admin/validators/2/performance"), json!({"ppm": 0})).await;
    assert_eq!(code, 200);
    node.advance(3 * 4).await.unwrap();
    let (code, _) = post(&format!("{url}/admin/validators/4/performance"), json!({"ppm": 0})).await;
    assert_eq!(code, 200);
    // head at slot 26: epoch 6 is current, 5 ended at slot 24, so 5 needs slot 27 (end of 6)
    node.advance(26 - 12).await.unwrap();
    let all = ids(&[0, 1, 2, 3, 4, 5]);
    let e = c.attestation_rewards(Epoch(5), &all).await.unwrap_err();
    assert!(e.is_refused() && !e.is_not_found(), "{e}");
    assert!(e.to_string().contains("end of epoch 6"), "{e}");
    let e = c.attestation_rewards(Epoch(6), &all).await.unwrap_err();
    assert!(e.is_refused(), "the current epoch is refused: {e}");

    for epoch in [2u64, 4] {
        let r = c.attestation_rewards(Epoch(epoch), &all).await.unwrap();
        let live = c.liveness(Epoch(epoch), &all).await.unwrap();
        assert_eq!(r.data.total_rewards.len(), 6, "epoch {epoch}");
        assert_eq!(r.execution_optimistic, Some(false));
        let ideal = r.data.ideal_rewards[0];
        assert_eq!(r.data.ideal_rewards.len(), 1, "one effective balance");
        assert!(ideal.source > 0 && ideal.target > ideal.source && ideal.head == ideal.source);
        for t in &r.data.total_rewards {
            let is_live =
                live.iter().find(|l| l.index == t.validator_index).map(|l| l.is_live).unwrap();
            let i = t.validator_index.get();
            // who missed: 2 always, 4 from epoch 3
            assert_eq!(is_live, !(i == 2 || (i == 4 && epoch >= 3)), "epoch {epoch} validator {i}");
            if is_live {
                assert_eq!((t.source, t.target, t.head), (ideal.source, ideal.target, ideal.head));
            } else {
                // a miss: source and target penalties of the same size, no head penalty
                assert_eq!((t.source, t.target, t.head), (-ideal.source, -ideal.target, 0));
            }
            assert_eq!((t.inactivity, t.inclusion_delay), (0, None));
        }
    }
    // the figures are the epoch transition's: 54/64 of the base reward credited for a hit,
    // 40/64 debited for a miss (both rounded down per component)
    let r = c.attestation_rewards(Epoch(4), &all).await.unwrap();
    let ideal = r.data.ideal_rewards[0];
    let hit = ideal.source + ideal.target + ideal.head;
    let miss = ideal.source + ideal.target;
    assert!(hit * 40 / 54 - miss <= 2 && miss - hit * 40 / 54 <= 2, "hit {hit} miss {miss}");

    // pubkeys as ids; a duplicate is answered once; an unknown validator is a 400
    let pk = c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(3))).await.unwrap();
    let pk = claystack_consensus::hexutil::encode_prefixed(pk.data.validator.pubkey);
    let (code, body) =
        post(&format!("{url}/eth/v1/beacon/rewards/attestations/4"), json!([pk, "3", "0"])).await;
    assert_eq!(code, 200);
    let got: Vec<&str> = body["data"]["total_rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["validator_index"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec!["0", "3"]);
    let (code, body) =
        post(&format!("{url}/eth/v1/beacon/rewards/attestations/4"), json!(["0", "99"])).await;
    assert_eq!(code, 400, "{body}");
    // an empty list is every validator
    let (code, body) =
        post(&format!("{url}/eth/v1/beacon/rewards/attestations/4"), json!([])).await;
    assert_eq!(code, 200);
    assert_eq!(body["data"]["total_rewards"].as_array().unwrap().len(), 6);

    // 10 epochs archived: at slot 88 epochs 0..=21 have ended, 12..=21 are kept; 5 and 11 are
    // pruned (404), 12 is served
    node.advance(22 * 4 - 26).await.unwrap();
    let e = c.attestation_rewards(Epoch(5), &all).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("no longer retained"), "{e}");
    assert!(c.attestation_rewards(Epoch(11), &all).await.unwrap_err().is_not_found());
    assert_eq!(c.attestation_rewards(Epoch(12), &all).await.unwrap().data.total_rewards.len(), 6);
    node.shutdown().await.unwrap();
}

/// A validator that exits has rewards until its exit epoch and is left out from then on.
#[tokio::test]
async fn exited_validators_are_left_out() {
    let node = SimNode::start(node_cfg(64), None).await.unwrap();
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();
    node.advance(4).await.unwrap();
    let (code, body) = post(&format!("{url}/admin/validators/3/exit"), json!({})).await;
    assert_eq!(code, 200, "{body}");
    node.advance(4).await.unwrap();
    let v = c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(3))).await.unwrap();
    let exit = v.data.validator.exit_epoch.get();
    assert!(exit < 20, "exit epoch {exit}");
    node.advance((exit + 2) * 4).await.unwrap();
    let all = ids(&[0, 1, 2, 3, 4, 5]);
    let before = c.attestation_rewards(Epoch(exit - 1), &all).await.unwrap();
    assert_eq!(before.data.total_rewards.len(), 6);
    let at = c.attestation_rewards(Epoch(exit), &all).await.unwrap();
    let got: Vec<u64> = at.data.total_rewards.iter().map(|t| t.validator_index.get()).collect();
    assert_eq!(got, vec![0, 1, 2, 4, 5]);
    assert!(at.data.total_rewards.iter().all(|t| t.target > 0));
    node.shutdown().await.unwrap();
}

/// A slashed validator is penalised as real clients penalise it: from the epoch before its
/// slashing epoch on (whose rewards are computed with the state at the end of the slashing
/// epoch), negative source and target and a zero head, even for that epoch, in which it
/// attested; before that, its rewards are positive.
#[tokio::test]
async fn slashed_validators_are_penalised_from_the_epoch_before_their_slashing() {
    let node = SimNode::start(node_cfg(64), None).await.unwrap();
    let url = node.url();
    let c = BeaconClient::new(&url, ClientConfig::default()).unwrap();
    node.advance(4 * 4).await.unwrap();
    let (code, body) = post(&format!("{url}/admin/validators/1/slash"), json!({})).await;
    assert_eq!(code, 200, "{body}");
    let v = c.validator(StateId::Head, ValidatorId::Index(ValidatorIndex(1))).await.unwrap();
    assert!(v.data.validator.slashed);
    let spec = c.spec().await.unwrap();
    let vector: u64 = spec.raw["EPOCHS_PER_SLASHINGS_VECTOR"].as_str().unwrap().parse().unwrap();
    let slashing = v.data.validator.withdrawable_epoch.get() - vector;
    assert_eq!(slashing, 4, "slashed at the head's epoch");
    node.advance((slashing + 3) * 4).await.unwrap();
    let all = ids(&[0, 1, 2, 3, 4, 5]);
    for epoch in 1..=slashing + 1 {
        let r = c.attestation_rewards(Epoch(epoch), &all).await.unwrap();
        assert_eq!(r.data.total_rewards.len(), 6, "epoch {epoch}: still eligible");
        for t in &r.data.total_rewards {
            // (the slashing lowered validator 1's effective balance: compare signs)
            let got = (t.source.signum(), t.target.signum(), t.head.signum());
            if t.validator_index.get() == 1 && epoch + 1 >= slashing {
                assert_eq!(got, (-1, -1, 0), "epoch {epoch} {t:?}");
            } else {
                assert_eq!(got, (1, 1, 1), "epoch {epoch} {t:?}");
            }
        }
    }
    // in the epoch before its slashing it attested (live), and is penalised all the same
    let live = c.liveness(Epoch(slashing - 1), &ids(&[1])).await.unwrap();
    assert!(live[0].is_live);
    node.shutdown().await.unwrap();
}
