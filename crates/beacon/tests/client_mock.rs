//! The client against a local mock node that misbehaves the ways real nodes do.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use claystack_beacon::{
    BeaconClient, ClientConfig, Error, StateId, ValidatorId, ValidatorQuery, ValidatorStatus,
};
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Default)]
struct Mock {
    hits: AtomicU32,
}

fn validator_json(i: u64, balance_as_number: bool) -> String {
    let balance = if balance_as_number {
        format!("{}", 32_000_000_000u64 + i)
    } else {
        format!("\"{}\"", 32_000_000_000u64 + i)
    };
    format!(
        r#"{{"index":"{i}","balance":{balance},"status":"active_ongoing","validator":{{"pubkey":"0x{pk}","withdrawal_credentials":"0x01{z}{addr}","effective_balance":"32000000000","slashed":false,"activation_eligibility_epoch":"0","activation_epoch":"0","exit_epoch":"18446744073709551615","withdrawable_epoch":"18446744073709551615"}}}}"#,
        pk = format!("{:02x}", i % 256).repeat(48),
        z = "00".repeat(11),
        addr = "ab".repeat(20),
    )
}

fn json(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn genesis() -> Response {
    json(format!(
        r#"{{"data":{{"genesis_time":"1606824023","genesis_validators_root":"0x{}","genesis_fork_version":"0x00000000"}}}}"#,
        "4b".repeat(32)
    ))
}

/// 503 twice (syncing), then success.
async fn flaky(State(m): State<Arc<Mock>>) -> Response {
    if m.hits.fetch_add(1, Ordering::SeqCst) < 2 {
        return (StatusCode::SERVICE_UNAVAILABLE, r#"{"code":503,"message":"node is syncing"}"#)
            .into_response();
    }
    json(r#"{"data":{"head_slot":"100","sync_distance":"0","is_syncing":false,"is_optimistic":false,"el_offline":false}}"#.into())
}

async fn always_503(State(m): State<Arc<Mock>>) -> Response {
    m.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::SERVICE_UNAVAILABLE, r#"{"code":503,"message":"node is syncing"}"#).into_response()
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(5)).await;
    json("{}".into())
}

async fn header(Path(id): Path<String>) -> Response {
    if id != "head" {
        return (StatusCode::NOT_FOUND, r#"{"code":404,"message":"block not found"}"#)
            .into_response();
    }
    json(format!(
        r#"{{"execution_optimistic":true,"finalized":false,"data":{{"root":"0x{r}","canonical":true,"header":{{"message":{{"slot":12,"proposer_index":"3","parent_root":"0x{r}","state_root":"0x{r}","body_root":"0x{r}"}},"signature":"0x{s}"}}}}}}"#,
        r = "11".repeat(32),
        s = "22".repeat(96)
    ))
}

async fn spec() -> Response {
    json(r#"{"data":{"SECONDS_PER_SLOT":"12","SLOTS_PER_EPOCH":"32","MAX_EFFECTIVE_BALANCE":"32000000000","EFFECTIVE_BALANCE_INCREMENT":"1000000000","DEPOSIT_CONTRACT_ADDRESS":"0x00000000219ab540356cBB839Cbe05303d7705Fa","CONFIG_NAME":"mainnet"}}"#.into())
}

async fn huge() -> Response {
    json(format!(r#"{{"data":{{"version":"{}"}}}}"#, "x".repeat(10_000)))
}

/// All validators, streamed in small chunks, with a mix of number encodings.
async fn validators(Path(state): Path<String>, RawQuery(q): RawQuery) -> Response {
    match state.as_str() {
        "1" => {
            return json(r#"{"data":[{"index":"0","balance":"1","status":"active_ongoing","validator":{"pubkey":"0x12","withdrawal_credentials":"0x00","effective_balance":"1","slashed":false,"activation_eligibility_epoch":"0","activation_epoch":"0","exit_epoch":"0","withdrawable_epoch":"0"}}]}"#.into());
        }
        "3" => {
            // The first element, then silence.
            let first = format!(r#"{{"data":[{}"#, validator_json(0, false)).into_bytes();
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(first) })
                .chain(futures::stream::once(async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(b"]}".to_vec())
                }));
            return Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap();
        }
        "2" => {
            return json(format!(
                r#"{{"data":[{},{}"#,
                validator_json(0, false),
                &validator_json(1, false)[..50]
            ));
        }
        _ => {}
    }
    if let Some(q) = q {
        // By id: echo the requested indices.
        let ids: Vec<u64> =
            q.trim_start_matches("id=").split(',').filter_map(|s| s.parse().ok()).collect();
        let items: Vec<String> = ids.iter().map(|i| validator_json(*i, false)).collect();
        return json(format!(
            r#"{{"execution_optimistic":false,"finalized":true,"data":[{}]}}"#,
            items.join(",")
        ));
    }
    let n = 2_000u64;
    let mut body = String::from(r#"{"finalized":true,"data":["#);
    for i in 0..n {
        if i > 0 {
            body.push_str(",\n  ");
        }
        body.push_str(&validator_json(i, i % 2 == 0));
    }
    body.push_str(r#"],"execution_optimistic":false}"#);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.into_bytes().chunks(777).map(|c| Ok(c.to_vec())).collect();
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

async fn start() -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    let app = Router::new()
        .route("/eth/v1/beacon/genesis", get(genesis))
        .route("/eth/v1/node/syncing", get(flaky))
        .route("/eth/v1/node/version", get(huge))
        .route("/eth/v1/config/spec", get(spec))
        .route("/eth/v1/beacon/headers/{id}", get(header))
        .route("/eth/v1/beacon/states/{state}/fork", get(always_503))
        .route("/eth/v1/beacon/states/{state}/finality_checkpoints", get(slow))
        .route("/eth/v1/beacon/states/{state}/validators", get(validators))
        .with_state(Arc::clone(&mock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), mock)
}

fn fast_cfg() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(300),
        max_retries: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        max_response_bytes: 4096,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn typed_endpoints_and_string_numbers() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    let g = c.genesis().await.unwrap();
    assert_eq!(g.genesis_time, 1_606_824_023);
    assert_eq!(g.genesis_validators_root, [0x4b; 32]);
    let s = c.spec().await.unwrap();
    assert_eq!((s.seconds_per_slot, s.slots_per_epoch), (12, 32));
    assert_eq!(s.deposit_contract_address.unwrap()[19], 0xfa);
    let h = c.header(StateId::Head).await.unwrap();
    assert_eq!(h.execution_optimistic, Some(true));
    assert_eq!(h.finalized, Some(false));
    assert_eq!(h.data.header.message.slot.get(), 12, "a JSON number is accepted too");
    assert_eq!(h.data.header.message.proposer_index, ValidatorIndex(3));
}

#[tokio::test]
async fn not_found_is_not_retried() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    let e = c.header(StateId::Finalized).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("block not found"), "{e}");
}

#[tokio::test]
async fn unavailable_is_retried_with_backoff() {
    let (url, mock) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    let s = c.syncing().await.unwrap();
    assert_eq!(s.head_slot.get(), 100);
    assert_eq!(mock.hits.load(Ordering::SeqCst), 3, "two 503s then success");

    let mock_before = mock.hits.load(Ordering::SeqCst);
    let e = c.fork(StateId::Head).await.unwrap_err();
    match &e {
        Error::Unavailable { status: 503, attempts: 4, message, .. } => {
            assert_eq!(message, "node is syncing");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(mock.hits.load(Ordering::SeqCst) - mock_before, 4, "one attempt plus three retries");
}

#[tokio::test]
async fn timeouts_are_bounded() {
    let (url, _) = start().await;
    let cfg = ClientConfig { max_retries: 1, ..fast_cfg() };
    let c = BeaconClient::new(&url, cfg).unwrap();
    let started = std::time::Instant::now();
    let e = c.finality_checkpoints(StateId::Head).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { attempts: 2, .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    let e = c.node_version().await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 4096, .. }), "{e:?}");
    assert!(e.to_string().contains("4096-byte cap"));
}

#[tokio::test]
async fn invalid_fields_name_the_problem() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, ClientConfig { max_response_bytes: 1 << 20, ..fast_cfg() })
        .unwrap();
    let bad = StateId::Slot(claystack_consensus::Slot(1));
    let e = c.validators(bad, &ValidatorQuery::default()).await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("expected 48 bytes, got 1"), "{e}");
    let e = c.stream_validators(bad, &[], |_| Ok::<(), String>(())).await.unwrap_err();
    assert!(e.to_string().contains("expected 48 bytes, got 1"), "{e}");
}

#[tokio::test]
async fn streams_all_validators_in_chunks() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    let mut n = 0u64;
    let mut sum = 0u128;
    let meta = c
        .stream_validators(StateId::Head, &[], |v| {
            assert_eq!(v.index.get(), n);
            assert_eq!(v.status, ValidatorStatus::ActiveOngoing);
            assert_eq!(v.validator.exit_epoch, Epoch::MAX);
            n += 1;
            sum += u128::from(v.balance.get());
            Ok::<(), String>(())
        })
        .await
        .unwrap();
    assert_eq!(n, 2_000);
    assert_eq!(sum, 2_000 * 32_000_000_000 + (0..2_000u128).sum::<u128>());
    assert_eq!(meta.finalized, Some(true));
    assert_eq!(meta.execution_optimistic, Some(false));
}

#[tokio::test]
async fn stream_errors_are_typed() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, fast_cfg()).unwrap();
    // A body cut in the middle of an element.
    let e = c
        .stream_validators(StateId::Slot(claystack_consensus::Slot(2)), &[], |_| {
            Ok::<(), String>(())
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Stream { .. }), "{e:?}");
    assert!(e.to_string().contains("ended"), "{e}");
    // A node that stalls mid-body hits the idle timeout.
    let c2 = BeaconClient::new(
        &url,
        ClientConfig { stream_idle_timeout: Duration::from_millis(200), ..fast_cfg() },
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut seen = 0;
    let e = c2
        .stream_validators(StateId::Slot(claystack_consensus::Slot(3)), &[], |_| {
            seen += 1;
            Ok::<(), String>(())
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Timeout { .. }), "{e:?}");
    assert_eq!(seen, 1);
    assert!(started.elapsed() < Duration::from_secs(3));
    // Handler errors stop the stream.
    let e = c
        .stream_validators(StateId::Head, &[], |v| {
            if v.index.get() == 5 { Err("stop here") } else { Ok(()) }
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Handler { message, .. } if message == "stop here"), "{e:?}");
}

#[tokio::test]
async fn by_id_query_uses_get_for_few_ids() {
    let (url, _) = start().await;
    let c = BeaconClient::new(&url, ClientConfig { max_response_bytes: 1 << 20, ..fast_cfg() })
        .unwrap();
    let q = ValidatorQuery {
        ids: vec![ValidatorId::Index(ValidatorIndex(7)), ValidatorId::Index(ValidatorIndex(9))],
        statuses: vec![],
    };
    let r = c.validators(StateId::Finalized, &q).await.unwrap();
    assert_eq!(r.finalized, Some(true));
    assert_eq!(r.data.iter().map(|v| v.index.get()).collect::<Vec<_>>(), vec![7, 9]);
    assert_eq!(r.data[0].balance, Gwei(32_000_000_007));
}
