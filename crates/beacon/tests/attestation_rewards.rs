//! `POST /eth/v1/beacon/rewards/attestations/{epoch}` against a local mock node: batching,
//! merging, negative amounts, and every malformed answer refused with a reason.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use claystack_beacon::{ATTESTATION_REWARDS_BATCH, BeaconClient, ClientConfig, Error};
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use std::sync::Arc;
use std::sync::Mutex;

/// What the mock saw: the size of every request body (in validators).
#[derive(Default)]
struct Mock {
    batches: Mutex<Vec<usize>>,
}

fn json(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The recorded shape of a Lighthouse answer (inclusion_delay absent after phase 0).
fn entry(i: u64, head: &str, target: &str, source: &str) -> String {
    format!(
        r#"{{"validator_index":"{i}","head":"{head}","target":"{target}","source":"{source}","inactivity":"0"}}"#
    )
}

fn answer(ideal_target: i64, entries: &[String], finalized: bool) -> String {
    format!(
        r#"{{"execution_optimistic":false,"finalized":{finalized},"data":{{"ideal_rewards":[{{"effective_balance":"32000000000","head":"2500","target":"{ideal_target}","source":"5000","inactivity":"0"}}],"total_rewards":[{}]}}}}"#,
        entries.join(",")
    )
}

/// Epoch 1 answers everyone (odd indices missed: negative source and target, zero head); 2 adds a
/// validator nobody asked for; 3 lists one twice; 4 has a fractional amount; 5 is a 404, 6 a 400;
/// 7 leaves out the first asked validator; 8 lacks `target`; 9 answers batches with different
/// ideal rewards; 10 answers a phase-0 shape with numbers and `inclusion_delay`.
async fn rewards(State(m): State<Arc<Mock>>, Path(epoch): Path<u64>, body: Bytes) -> Response {
    let ids: Vec<String> = serde_json::from_slice(&body).unwrap();
    let ids: Vec<u64> = ids.iter().map(|s| s.parse().unwrap()).collect();
    m.batches.lock().unwrap().push(ids.len());
    let normal = |i: &u64| {
        if i % 2 == 1 {
            entry(*i, "0", "-5000", "-2700")
        } else {
            entry(*i, "2500", "5000", "2700")
        }
    };
    let mut entries: Vec<String> = ids.iter().map(normal).collect();
    match epoch {
        1 => json(answer(5000, &entries, true)),
        2 => {
            entries.push(entry(1_000_000, "1", "1", "1"));
            json(answer(5000, &entries, true))
        }
        3 => {
            entries.push(normal(&ids[0]));
            json(answer(5000, &entries, true))
        }
        4 => {
            entries[0] = entry(ids[0], "1", "1.5", "1");
            json(answer(5000, &entries, true))
        }
        5 => (
            StatusCode::NOT_FOUND,
            r#"{"code":404,"message":"NOT_FOUND: beacon state at slot 224"}"#,
        )
            .into_response(),
        6 => (StatusCode::BAD_REQUEST, r#"{"code":400,"message":"epoch 6 is in the future"}"#)
            .into_response(),
        7 => {
            entries.remove(0);
            json(answer(5000, &entries, false))
        }
        8 => json(answer(
            5000,
            &[format!(
                r#"{{"validator_index":"{}","head":"0","source":"0","inactivity":"0"}}"#,
                ids[0]
            )],
            true,
        )),
        9 => json(answer(i64::try_from(ids[0]).unwrap(), &entries, true)),
        10 => json(format!(
            r#"{{"data":{{"ideal_rewards":[],"total_rewards":[{{"validator_index":{},"head":-1,"target":2,"source":3,"inclusion_delay":"4","inactivity":"-7"}}]}}}}"#,
            ids[0]
        )),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "no").into_response(),
    }
}

async fn start() -> (BeaconClient, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    let app = Router::new()
        .route("/eth/v1/beacon/rewards/attestations/{epoch}", post(rewards))
        .with_state(Arc::clone(&mock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cfg = ClientConfig { max_retries: 0, ..ClientConfig::default() };
    (BeaconClient::new(&format!("http://{addr}"), cfg).unwrap(), mock)
}

fn ids(range: std::ops::Range<u64>) -> Vec<ValidatorIndex> {
    range.map(ValidatorIndex).collect()
}

#[tokio::test]
async fn batches_are_bounded_and_merged_with_signed_amounts() {
    let (c, mock) = start().await;
    // 2,500 validators, given unsorted and with a duplicate: three bounded requests, one answer
    let mut asked = ids(0..2_500);
    asked.reverse();
    asked.push(ValidatorIndex(7));
    let r = c.attestation_rewards(Epoch(1), &asked).await.unwrap();
    let mut batches = mock.batches.lock().unwrap().clone();
    batches.sort_unstable();
    assert_eq!(batches, vec![500, ATTESTATION_REWARDS_BATCH, ATTESTATION_REWARDS_BATCH]);
    assert_eq!(r.data.total_rewards.len(), 2_500);
    assert_eq!((r.finalized, r.execution_optimistic), (Some(true), Some(false)));
    assert_eq!(r.data.ideal_rewards.len(), 1, "the batches' identical ideal rewards merged");
    assert_eq!(r.data.ideal_rewards[0].effective_balance, Gwei(32_000_000_000));
    let seven = r.data.total_rewards.iter().find(|t| t.validator_index == ValidatorIndex(7));
    let seven = seven.unwrap();
    assert_eq!((seven.head, seven.target, seven.source), (0, -5_000, -2_700));
    assert_eq!(seven.inclusion_delay, None);
    let eight = r.data.total_rewards.iter().find(|t| t.validator_index == ValidatorIndex(8));
    assert_eq!(eight.unwrap().target, 5_000);
}

#[tokio::test]
async fn no_indices_send_no_request() {
    let (c, mock) = start().await;
    let r = c.attestation_rewards(Epoch(1), &[]).await.unwrap();
    assert!(r.data.total_rewards.is_empty() && r.data.ideal_rewards.is_empty());
    assert_eq!((r.finalized, r.execution_optimistic), (None, None));
    assert!(mock.batches.lock().unwrap().is_empty(), "an empty list means every validator");
}

#[tokio::test]
async fn malformed_answers_are_refused_with_the_reason() {
    let (c, _) = start().await;
    let asked = ids(10..14);
    let invalid = |e: Error, want: &str| match e {
        Error::Invalid { reason, .. } => assert!(reason.contains(want), "{reason}"),
        other => panic!("expected an invalid answer ({want}), got {other}"),
    };
    invalid(c.attestation_rewards(Epoch(2), &asked).await.unwrap_err(), "not asked");
    invalid(c.attestation_rewards(Epoch(3), &asked).await.unwrap_err(), "listed twice");
    let e = c.attestation_rewards(Epoch(4), &asked).await.unwrap_err();
    assert!(matches!(&e, Error::Decode { .. }), "{e}");
    assert!(e.to_string().contains("1.5"), "{e}");
    let e = c.attestation_rewards(Epoch(8), &asked).await.unwrap_err();
    assert!(matches!(&e, Error::Decode { .. }) && e.to_string().contains("target"), "{e}");
    // two batches disagreeing on the ideal rewards of one effective balance
    let e = c.attestation_rewards(Epoch(9), &ids(0..1_500)).await.unwrap_err();
    invalid(e, "disagree");
}

#[tokio::test]
async fn an_unserved_epoch_is_a_refusal() {
    let (c, _) = start().await;
    let e = c.attestation_rewards(Epoch(5), &ids(0..3)).await.unwrap_err();
    assert!(e.is_refused() && e.is_not_found(), "{e}");
    let e = c.attestation_rewards(Epoch(6), &ids(0..3)).await.unwrap_err();
    assert!(e.is_refused() && !e.is_not_found(), "{e}");
    assert!(e.to_string().contains("in the future"), "{e}");
    // a 500 is not a refusal (retry later)
    let e = c.attestation_rewards(Epoch(99), &ids(0..3)).await.unwrap_err();
    assert!(!e.is_refused(), "{e}");
}

#[tokio::test]
async fn omissions_are_returned_and_other_shapes_parse() {
    let (c, _) = start().await;
    // a node may leave out a validator: the client returns what it got, the caller checks
    let r = c.attestation_rewards(Epoch(7), &ids(20..24)).await.unwrap();
    let got: Vec<u64> = r.data.total_rewards.iter().map(|t| t.validator_index.get()).collect();
    assert_eq!(got, vec![21, 22, 23]);
    assert_eq!(r.finalized, Some(false));
    // numbers instead of strings, a phase-0 inclusion delay, no flags
    let r = c.attestation_rewards(Epoch(10), &ids(5..6)).await.unwrap();
    let t = r.data.total_rewards[0];
    assert_eq!(
        (t.head, t.target, t.source, t.inclusion_delay, t.inactivity),
        (-1, 2, 3, Some(4), -7)
    );
    assert_eq!((r.finalized, r.execution_optimistic), (None, None));
    // the types write what they read
    let back = serde_json::to_value(r.data.total_rewards[0]).unwrap();
    assert_eq!(back["inclusion_delay"], "4");
    assert_eq!(back["head"], "-1");
}
