//! The REST API against a real devnet: every endpoint, pagination, caching headers, bad input,
//! 404s, the OpenAPI document against the live routes, feeds, signed webhooks and metrics.

mod indexer_suite;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use claystack_api::{ApiMetrics, AppState};
use claystack_indexer::{FollowConfig, IndexerMetrics, SqliteDb, Store, Val};
use indexer_suite::{Devnet, anvil_address, honest_member, index_to_head, runtime};
use serde_json::{Value, json};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn get(&self, path: &str) -> (u16, HashMap<String, String>, String) {
        self.get_with(path, &[]).await
    }

    async fn get_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, HashMap<String, String>, String) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let h = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        (status, h, resp.text().await.unwrap())
    }

    async fn json(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// A 400 with a JSON error naming `needle`.
    async fn bad(&self, path: &str, needle: &str) {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, 400, "GET {path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "bad_request", "{body}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{path}: {body}");
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self.http.post(format!("{}{path}", self.base)).json(body).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// Deliveries seen by a receiver: headers and body of each.
type Deliveries = Arc<Mutex<Vec<(HashMap<String, String>, Vec<u8>)>>>;

/// A webhook receiver recording every delivery; answers `status`.
async fn receiver(status: u16) -> (String, Deliveries) {
    let got: Deliveries = Arc::default();
    let sink = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                let h = headers
                    .iter()
                    .map(|(k, v)| {
                        (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())
                    })
                    .collect();
                sink.lock().unwrap().push((h, body.to_vec()));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[test]
fn api_serves_every_endpoint_from_a_real_devnet() {
    let devnet = Devnet::start();
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(&dir.path().join("index.sqlite")).unwrap();
    let store = Arc::new(Mutex::new(Store::open(Box::new(db), &devnet.sources()).unwrap()));
    let metrics = Arc::new(IndexerMetrics::default());
    index_to_head(&rt, &devnet, &store, &metrics, FollowConfig::default());
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: Some(Arc::clone(&metrics)),
        frame_seconds: Some(devnet.deployment.frame_seconds()),
    };
    let pool = format!("{:#x}", devnet.deployment.public.stake_pool);
    let tvl = devnet.call_uint(&pool, "totalPooledEther()(uint256)", &[]);
    let alice = anvil_address(8);
    let alice_shares = devnet.call_uint(&pool, "balanceOf(address)(uint256)", &[&alice]);

    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(axum::serve(listener, claystack_api::router(state.clone())).into_future());
        let api = Api { base, http: reqwest::Client::new() };

        // Summary: figures equal the chain's views.
        let s = api.json("/api/v1/summary").await;
        assert_eq!(s["tvlWei"], tvl);
        assert!(s["rate"].as_f64().unwrap() > 1.0, "{s}");
        assert!(s["reports"].as_u64().unwrap() >= 2);
        assert!(s["validators"]["byStatus"]["active"].is_string(), "{s}");
        assert_eq!(s["queue"]["length"], 0);
        assert!(s["insurance"]["coverageRatio"].as_f64().unwrap() > 0.0, "{s}");
        assert!(s["apr7d"].as_f64().is_some(), "{s}");
        let kyc = api.json("/api/v1/summary?pool=kyc").await;
        assert_eq!(kyc["pool"], "kyc");
        api.bad("/api/v1/summary?pool=main", "bad pool").await;

        // Caching: ETag round trip.
        let (_, h, _) = api.get("/api/v1/summary").await;
        assert_eq!(h["cache-control"], "public, max-age=5");
        let etag = h["etag"].clone();
        let (status, h2, body) =
            api.get_with("/api/v1/summary", &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.as_str()), (304, ""));
        assert_eq!(h2["etag"], etag);
        let (status, _, _) = api.get_with("/api/v1/summary", &[("if-none-match", "\"x\"")]).await;
        assert_eq!(status, 200);

        // Rates: pagination walks every point exactly once, in order.
        let all = api.json("/api/v1/rates").await["items"].as_array().unwrap().clone();
        assert!(all.len() >= 2);
        let mut walked = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = api.json(&format!("/api/v1/rates?limit=1{cursor}")).await;
            walked.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["nextCursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(walked, all);
        assert!(all.windows(2).all(|w| w[0]["block"].as_i64() <= w[1]["block"].as_i64()));
        api.bad("/api/v1/rates?limit=0", "bad limit").await;
        api.bad("/api/v1/rates?limit=501", "bad limit").await;
        api.bad("/api/v1/rates?limit=ten", "bad limit").await;
        api.bad("/api/v1/rates?cursor=zz", "bad cursor").await;
        api.bad("/api/v1/rates?cursor=-1-2", "bad cursor").await;
        assert_eq!(api.json("/api/v1/rates?limit=500").await["items"], json!(all));

        // Reports carry validator counts and the rate they produced.
        let reports = api.json("/api/v1/reports").await;
        let items = reports["items"].as_array().unwrap();
        assert!(items.len() >= 2, "{reports}");
        assert!(items[0]["validators"]["deposited"].is_string(), "{reports}");
        assert!(items.iter().any(|r| r["rateE27"].is_string()), "{reports}");
        api.bad("/api/v1/reports?pool=x", "bad pool").await;

        // A staker: position equals balanceOf, the claimed ticket is listed.
        let st = api.json(&format!("/api/v1/stakers/{alice}")).await;
        assert_eq!(st["shares"], alice_shares);
        assert_eq!(st["tickets"][0]["id"], 1);
        assert_eq!(st["tickets"][0]["status"], "claimed");
        api.bad("/api/v1/stakers/0x123", "bad address").await;
        api.bad("/api/v1/stakers/alice", "bad address").await;
        api.bad(&format!("/api/v1/stakers/0x{}", "g".repeat(40)), "bad address").await;
        let nobody = api.json(&format!("/api/v1/stakers/0x{}", "1".repeat(40))).await;
        assert_eq!((nobody["shares"].as_str(), nobody["tickets"].as_array().map(Vec::len)), (Some("0"), Some(0)));

        // Operators: none indexed from this chain yet → empty list, 404 for one.
        assert_eq!(api.json("/api/v1/operators").await["items"], json!([]));
        let (status, _, body) = api.get("/api/v1/operators/1").await;
        assert_eq!(status, 404, "{body}");
        api.bad("/api/v1/operators/one", "bad operator id").await;
        api.bad("/api/v1/operators/-1/feed", "bad operator id").await;
        let (status, _, _) = api.get("/api/v1/operators/9/feed.atom").await;
        assert_eq!(status, 404);

        // Seed an operator and a notice as the operator decoders write them.
        {
            let mut s = store.lock().unwrap();
            s.db().exec(
                "INSERT INTO operators (operator_id, block_number, log_index, data) VALUES (1, 1, 0, $1)",
                &[Val::Text(json!({"name": "Acme", "type": "Professional", "validators": 4, "score": 9500, "bondWei": "0", "penaltiesWei": "0", "rewardsWei": "10", "exitRequests": 1}).to_string())],
            ).unwrap();
            s.db().exec(
                "INSERT INTO operator_notices (operator_id, block_number, log_index, block_time, kind, data) VALUES (1, 1, 0, 1700000000, 'exit_request', $1)",
                &[Val::Text(json!({"validator": 7, "deadline": 1700086400}).to_string())],
            ).unwrap();
        }
        let ops = api.json("/api/v1/operators").await;
        assert_eq!(ops["items"][0]["name"], "Acme");
        assert_eq!(ops["items"][0]["id"], 1);
        let op = api.json("/api/v1/operators/1").await;
        assert_eq!(op["notices"][0]["kind"], "exit_request");
        let feed = api.json("/api/v1/operators/1/feed").await;
        assert_eq!(feed["items"][0]["data"]["deadline"], 1_700_086_400);
        let (status, h, atom) = api.get("/api/v1/operators/1/feed.atom").await;
        assert_eq!(status, 200);
        assert_eq!(h["content-type"], "application/atom+xml");
        assert!(atom.contains("<title>exit_request</title>") && atom.contains("2023-11-14T22:13:20Z"), "{atom}");
        let s = api.json("/api/v1/summary").await;
        assert_eq!(s["validators"]["byType"]["Professional"], 4);

        // Webhooks: validation, signed delivery, failure with backoff, delivery log.
        let (ok_url, got) = receiver(200).await;
        let (fail_url, failed) = receiver(500).await;
        let secret = "0123456789abcdef-secret";
        let path = "/api/v1/operators/1/webhooks";
        assert_eq!(api.post(path, &json!({"url": "ftp://x", "secret": secret})).await.0, 400);
        assert_eq!(api.post(path, &json!({"url": ok_url, "secret": "short"})).await.0, 400);
        assert_eq!(api.post(path, &json!({"nope": 1})).await.0, 400);
        assert_eq!(api.post("/api/v1/operators/5/webhooks", &json!({"url": ok_url, "secret": secret})).await.0, 404);
        let (status, created) = api.post(path, &json!({"url": ok_url, "secret": secret})).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(api.post(path, &json!({"url": fail_url, "secret": secret})).await.0, 201);
        let client = reqwest::Client::new();
        assert_eq!(claystack_api::webhooks::deliver_once(&state, &client).await.unwrap(), 2);
        {
            let got = got.lock().unwrap();
            assert_eq!(got.len(), 1);
            let (headers, body) = &got[0];
            assert_eq!(headers["x-claystack-signature"], claystack_api::webhooks::sign(secret.as_bytes(), body));
            let v: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["notice"]["kind"], "exit_request");
        }
        assert_eq!(failed.lock().unwrap().len(), 1);
        // Delivered: not sent again. Failed: backing off (1 s), so nothing due right now.
        assert_eq!(claystack_api::webhooks::deliver_once(&state, &client).await.unwrap(), 0);
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        assert_eq!(claystack_api::webhooks::deliver_once(&state, &client).await.unwrap(), 1);
        assert_eq!(failed.lock().unwrap().len(), 2);
        assert_eq!(got.lock().unwrap().len(), 1);
        let log = api.json(path).await;
        let hooks = log["webhooks"].as_array().unwrap();
        assert_eq!(hooks[0]["deliveries"][0]["status"], "delivered");
        assert_eq!(hooks[1]["deliveries"][0]["status"], "failed: http 500");
        assert_eq!(hooks[1]["deliveries"][0]["attempt"], 2);
        assert!(!log.to_string().contains(secret), "secrets are never served");

        // The OpenAPI document: every described operation answers on the live server.
        let doc = api.json("/openapi.json").await;
        assert_eq!(doc["openapi"], "3.1.0");
        let first_slot = items[0]["refSlot"].to_string();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{address}", &alice)
                .replace("{refSlot}", &first_slot);
            for method in ops.as_object().unwrap().keys() {
                let status = if method == "post" {
                    api.post(&concrete, &json!({"url": ok_url, "secret": secret})).await.0
                } else {
                    api.get(&concrete).await.0
                };
                assert!((200..300).contains(&status), "{method} {path} → {status}");
            }
        }

        // Unknown routes are JSON 404s; metrics cover API and indexer.
        let (status, _, body) = api.get("/api/v2/nothing").await;
        assert_eq!(status, 404);
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "not_found");
        let (_, _, m) = api.get("/metrics").await;
        for name in [
            "claystack_api_requests_total{route=\"/api/v1/summary\",status=\"200\"}",
            "claystack_api_requests_total{route=\"/api/v1/summary\",status=\"304\"}",
            "claystack_api_request_duration_seconds_bucket{route=\"/api/v1/rates\"",
            "claystack_api_webhook_deliveries_total{outcome=\"failed\"} 2",
            "claystack_indexer_head_block",
            "claystack_indexer_events_total",
        ] {
            assert!(m.contains(name), "missing {name} in\n{m}");
        }
        let (_, h, html) = api.get("/").await;
        assert!(h["content-type"].starts_with("text/html") && html.contains("/app.js"));
    });
    drop(state);
    drop(store);
}

/// Logs the chain cannot produce without validators (exit requests need topped-up keys, a forced
/// exit an overdue one), encoded with the bindings and indexed through the store after the real
/// chain's head, at the deployment's addresses: three exit requests of `op` (one forced after its
/// deadline, one closed by the oracle, one not yet due), a VfpPool rewards booking, a
/// DepositSecurity sweep and the withdrawal vault's EIP-7002 request.
fn index_exit_scenario(devnet: &Devnet, store: &Arc<Mutex<Store>>, op: u64) -> u64 {
    use claystack_bindings::{
        deposit_security::DepositSecurity, exit_enforcer::ExitEnforcer,
        operator_registry::OperatorRegistry, vfp_pool::VfpPool, withdrawal_vault::WithdrawalVault,
    };
    use claystack_devnet::alloy::{
        primitives::{Address, B256, LogData, U256},
        sol_types::SolEvent,
    };
    use claystack_indexer::store::{Batch, IndexedLog};
    let d = &devnet.deployment;
    let at = |k: &str| d.address(k).unwrap();
    let (head, now) = {
        let mut s = store.lock().unwrap();
        let (head, _) = s.cursor().unwrap().unwrap();
        let rows =
            s.db().query("SELECT time FROM blocks ORDER BY number DESC LIMIT 1", &[]).unwrap();
        (head, u64::try_from(rows[0][0].int().unwrap()).unwrap())
    };
    let id = U256::from(op);
    let n = U256::from;
    let overdue = now + 60;
    let logs: Vec<(u64, Address, LogData)> = vec![
        (
            1,
            at("operatorRegistry"),
            OperatorRegistry::ExitRequested {
                operatorId: id,
                keyIndex: n(4),
                deadline: n(overdue),
            }
            .encode_log_data(),
        ),
        (
            1,
            at("operatorRegistry"),
            OperatorRegistry::ExitRequested {
                operatorId: id,
                keyIndex: n(5),
                deadline: n(now + 86_400 * 30),
            }
            .encode_log_data(),
        ),
        (
            1,
            at("operatorRegistry"),
            OperatorRegistry::ExitRequested {
                operatorId: id,
                keyIndex: n(6),
                deadline: n(now + 86_400 * 20),
            }
            .encode_log_data(),
        ),
        (
            2,
            at("operatorRegistry"),
            OperatorRegistry::ExitRequestCleared { operatorId: id, keyIndex: n(6) }
                .encode_log_data(),
        ),
        (
            3,
            at("exitEnforcer"),
            ExitEnforcer::ExitEnforced {
                operatorId: id,
                keyIndex: n(4),
                pubkey: vec![0x44; 48].into(),
                caller: Address::repeat_byte(0x0e),
                fee: n(1),
                deadline: n(overdue),
                missedExits: n(1),
            }
            .encode_log_data(),
        ),
        (
            3,
            d.public.withdrawal_vault,
            WithdrawalVault::WithdrawalRequestAdded { pubkey: vec![0x44; 48].into(), fee: n(1) }
                .encode_log_data(),
        ),
        (
            3,
            at("vfpPool"),
            VfpPool::RewardsReceived { from: at("operatorRewards"), csShares: n(50) }
                .encode_log_data(),
        ),
        (
            3,
            at("depositSecurity"),
            DepositSecurity::Swept { to: d.public.el_rewards_vault, amount: n(7) }
                .encode_log_data(),
        ),
    ];
    let mut last = head;
    for step in 1..=3u64 {
        let block = head + step;
        let time = now + 100 * step;
        let hash = B256::from(U256::from(block) | (U256::from(0xfeedu64) << 128));
        let logs = logs
            .iter()
            .filter(|(s, ..)| *s == step)
            .enumerate()
            .map(|(i, (_, address, data))| IndexedLog {
                block_number: block,
                block_hash: hash,
                block_time: time,
                log_index: i as u64,
                tx_hash: B256::from(U256::from(block)),
                address: *address,
                topics: data.topics().to_vec(),
                data: data.data.to_vec(),
                tx_input: None,
            })
            .collect();
        store
            .lock()
            .unwrap()
            .apply(&Batch { to_block: block, to_hash: hash, to_time: time, logs })
            .unwrap();
        last = block;
    }
    last
}

#[test]
fn api_serves_report_chunks_losses_rewards_and_exit_requests() {
    let devnet = Devnet::start();
    let rt = runtime();
    let sc = devnet.operator_scenario(&rt);
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(&dir.path().join("index.sqlite")).unwrap();
    let store = Arc::new(Mutex::new(Store::open(Box::new(db), &devnet.sources()).unwrap()));
    let metrics = Arc::new(IndexerMetrics::default());
    index_to_head(&rt, &devnet, &store, &metrics, FollowConfig::default());
    assert_eq!(
        metrics.unknown_events_total.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "every log of the deployment decodes"
    );
    index_exit_scenario(&devnet, &store, sc.operator);
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: None,
        frame_seconds: Some(devnet.deployment.frame_seconds()),
    };
    let op = sc.operator;
    let big = |v: &Value| -> u128 { v.as_str().unwrap_or("0").parse().unwrap() };

    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(axum::serve(listener, claystack_api::router(state.clone())).into_future());
        let api = Api { base, http: reqwest::Client::new() };

        // Reports: how many chunks each delivered, and which chain was dropped.
        let reports = api.json("/api/v1/reports").await["items"].as_array().unwrap().clone();
        let by_slot = |slot: u64| reports.iter().find(|r| r["refSlot"] == slot).unwrap().clone();
        let x = by_slot(sc.complete)["extraData"].clone();
        assert_eq!(
            (x["status"].as_str(), x["chunksApplied"].as_u64()),
            (Some("complete"), Some(2)),
            "{x}"
        );
        assert_eq!(x["operators"]["penalties"], 2);
        assert!(x["operators"]["rewardsRoot"].is_string(), "{x}");
        let x = by_slot(sc.dropped)["extraData"].clone();
        assert_eq!(
            (x["status"].as_str(), x["chunksApplied"].as_u64()),
            (Some("dropped"), Some(1)),
            "{x}"
        );
        assert_eq!(x["dropped"]["chunksApplied"], 1);
        assert_eq!(by_slot(sc.plain)["extraData"]["status"], "none");
        assert_eq!(by_slot(reports[0]["refSlot"].as_u64().unwrap())["extraData"]["status"], "none");

        // One report: its chunks chained by hash, the losses it charged.
        let r = api.json(&format!("/api/v1/reports/{}", sc.complete)).await;
        let chunks = r["extraData"]["chunks"].as_array().unwrap();
        assert_eq!(chunks.len(), 2, "{r}");
        assert_eq!((chunks[0]["index"].as_u64(), chunks[1]["index"].as_u64()), (Some(0), Some(1)));
        assert_eq!(chunks[0]["nextHash"], chunks[1]["chunkHash"], "chunk 0 commits to chunk 1");
        assert_eq!(chunks[1]["nextHash"], format!("0x{}", "0".repeat(64)));
        assert_ne!(chunks[0]["txHash"], chunks[1]["txHash"], "chunk 1 came in its own transaction");
        assert_eq!(
            (
                chunks[0]["operators"]["penalties"].as_u64(),
                chunks[1]["operators"]["penalties"].as_u64()
            ),
            (Some(1), Some(1))
        );
        let causes: Vec<&str> =
            r["losses"].as_array().unwrap().iter().map(|l| l["cause"].as_str().unwrap()).collect();
        assert_eq!(causes, ["missed_duties", "slashing"]);
        assert!(r["validators"].is_object() && r["rateE27"].is_string(), "{r}");
        let r = api.json(&format!("/api/v1/reports/{}", sc.dropped)).await;
        assert_eq!(r["extraData"]["status"], "dropped");
        assert_eq!(r["extraData"]["chunks"].as_array().unwrap().len(), 1);
        assert_eq!(r["losses"][0]["cause"], "missed_exit");
        let (status, _, body) = api.get("/api/v1/reports/999999999").await;
        assert_eq!(status, 404, "{body}");
        let (status, _, _) = api.get(&format!("/api/v1/reports/{}?pool=kyc", sc.complete)).await;
        assert_eq!(status, 404, "the KYC pool has no report at that slot");
        api.bad("/api/v1/reports/abc", "bad ref slot").await;
        api.bad("/api/v1/reports/-1", "bad ref slot").await;
        api.bad(&format!("/api/v1/reports/{}?pool=main", sc.complete), "bad pool").await;

        // Losses through the waterfall: what each layer covered, the rest on holders.
        let losses = api.json("/api/v1/losses").await["items"].as_array().unwrap().clone();
        let causes: Vec<&str> = losses.iter().map(|l| l["cause"].as_str().unwrap()).collect();
        assert_eq!(causes, ["missed_duties", "slashing", "missed_exit"]);
        for l in &losses {
            let c = &l["covered"];
            let sum = big(&c["bondWei"])
                + big(&c["vfpWei"])
                + big(&c["insuranceWei"])
                + big(&l["uncoveredWei"]);
            assert_eq!(sum, big(&l["amountWei"]), "layers add up: {l}");
            assert_eq!(l["operator"], op);
        }
        let duties = &losses[0];
        assert_eq!(
            big(&duties["covered"]["bondWei"]),
            big(&duties["amountWei"]),
            "the bond covers 0.0001 ETH"
        );
        let slashing = &losses[1];
        assert!(big(&slashing["covered"]["bondWei"]) > 0, "{slashing}");
        assert_eq!(slashing["covered"]["vfpWei"], "0", "the VFP pool did not fund this operator");
        assert!(
            big(&slashing["covered"]["insuranceWei"]) > 0,
            "the insurance fund paid: {slashing}"
        );
        assert!(big(&slashing["uncoveredWei"]) > 0, "beyond the fund: {slashing}");
        assert_eq!(slashing["refSlot"], sc.complete);
        assert_eq!(losses[2]["refSlot"], sc.dropped);
        let page = api.json("/api/v1/losses?limit=2").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let rest = api
            .json(&format!(
                "/api/v1/losses?limit=2&cursor={}",
                page["nextCursor"].as_str().unwrap()
            ))
            .await;
        assert_eq!(rest["items"], json!([losses[2]]));
        assert!(rest["nextCursor"].is_null());
        api.bad("/api/v1/losses?cursor=x", "bad cursor").await;
        assert_eq!(api.json("/api/v1/losses?pool=kyc").await["items"], json!([]));

        // The operator: penalties by kind, exit requests by status, forced exits, notices.
        let o = api.json(&format!("/api/v1/operators/{op}")).await;
        assert_eq!(o["type"], "Home");
        let kinds = o["penaltiesByKind"].as_object().unwrap();
        let mut k: Vec<&String> = kinds.keys().collect();
        k.sort();
        assert_eq!(k, ["missed_duties", "missed_exit", "slashing"]);
        assert_eq!(
            o["penaltiesByKind"]["slashing"]["fromInsuranceWei"],
            slashing["covered"]["insuranceWei"]
        );
        assert_eq!(o["missedExitsCharged"], 2, "the kind-2 penalty is two missed exits");
        assert_eq!(
            (
                o["forcedExits"].as_u64(),
                o["exitRequestsTotal"].as_u64(),
                o["exitRequests"].as_u64()
            ),
            (Some(1), Some(3), Some(2))
        );
        assert_eq!(o["exitRequestsByStatus"], json!({"forced": 1, "pending": 1, "met": 1}));
        let notice_kinds: Vec<&str> =
            o["notices"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
        for kind in [
            "penalty",
            "exit_deadline_missed",
            "exit_request",
            "exit_enforced",
            "exit_request_cleared",
        ] {
            assert!(notice_kinds.contains(&kind), "{kind} missing from {notice_kinds:?}");
        }
        let missed = o["notices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "exit_deadline_missed")
            .unwrap();
        assert_eq!(
            (missed["data"]["missedExits"].as_u64(), missed["data"]["refSlot"].as_u64()),
            (Some(2), Some(sc.dropped))
        );
        let ops = api.json("/api/v1/operators").await;
        assert_eq!(ops["items"][0]["forcedExits"], 1);

        // Exit requests with deadlines and whether they were met.
        let ex = api.json(&format!("/api/v1/operators/{op}/exit-requests")).await;
        let items = ex["items"].as_array().unwrap();
        let st: Vec<(u64, &str)> = items
            .iter()
            .map(|x| (x["keyIndex"].as_u64().unwrap(), x["status"].as_str().unwrap()))
            .collect();
        assert_eq!(st, [(4, "forced"), (5, "pending"), (6, "met")]);
        assert_eq!(items[0]["deadlineMet"], false);
        assert_eq!(items[0]["forcedExit"]["feeWei"], "1");
        assert_eq!(items[0]["forcedExit"]["caller"], format!("0x{}", "0e".repeat(20)));
        assert!(items[1]["secondsLeft"].as_u64().unwrap() > 86_400, "{}", items[1]);
        assert_eq!(
            (items[2]["deadlineMet"].as_bool(), items[2]["closedInRefSlot"].as_u64()),
            (Some(true), Some(sc.plain))
        );
        let first = api.json(&format!("/api/v1/operators/{op}/exit-requests?limit=1")).await;
        assert_eq!(first["items"], json!([items[0]]));
        let next = api
            .json(&format!(
                "/api/v1/operators/{op}/exit-requests?limit=5&cursor={}",
                first["nextCursor"].as_str().unwrap()
            ))
            .await;
        assert_eq!(next["items"], json!(items[1..]));
        let (status, _, _) = api.get("/api/v1/operators/77/exit-requests").await;
        assert_eq!(status, 404);
        api.bad("/api/v1/operators/x/exit-requests", "bad operator id").await;
        api.bad(&format!("/api/v1/operators/{op}/exit-requests?limit=0"), "bad limit").await;

        // Penalties of the operator, front-run charges included (none here).
        let p = api.json(&format!("/api/v1/operators/{op}/penalties")).await;
        assert_eq!(p["items"], json!(losses));
        let (status, _, _) = api.get("/api/v1/operators/77/penalties").await;
        assert_eq!(status, 404);
        api.bad(&format!("/api/v1/operators/{op}/penalties?pool=x"), "bad pool").await;

        // Rewards: the root the report published, the claim of the operator's reward address.
        let rw = api.json(&format!("/api/v1/operators/{op}/rewards")).await;
        assert_eq!(rw["rewardAddress"], sc.reward_address);
        assert_eq!(
            (rw["claimedShares"].as_str(), rw["claimedCumulativeShares"].as_str()),
            (Some(sc.claimed.as_str()), Some(sc.claimed.as_str()))
        );
        assert_eq!(rw["items"][0]["shares"], sc.claimed);
        assert_eq!(rw["latestRoot"]["refSlot"], sc.complete);
        assert_eq!(rw["latestRoot"]["cumulativeShares"], sc.claimed);
        let (status, _, _) = api.get("/api/v1/operators/77/rewards").await;
        assert_eq!(status, 404);
        let all = api.json("/api/v1/rewards").await;
        let kinds: Vec<&str> =
            all["items"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["root", "claim", "vfp_booked"]);
        let vfp = api.json("/api/v1/rewards?kind=vfp_booked").await;
        assert_eq!(
            (vfp["items"][0]["shares"].as_str(), vfp["items"].as_array().map(Vec::len)),
            (Some("50"), Some(1))
        );
        api.bad("/api/v1/rewards?kind=bonus", "bad kind").await;

        // Parameters: type factors, the missed-exit penalty, the frame timing.
        let params = api.json("/api/v1/parameters").await;
        let value = |contract: &str, name: &str| {
            params["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["contract"] == contract && p["name"] == name)
                .map(|p| p["value"].as_str().unwrap().to_owned())
        };
        assert_eq!(
            value("OracleReport", "frame.secondsPerSlot"),
            Some(devnet.deployment.seconds_per_slot.to_string())
        );
        assert_eq!(
            value("OracleReport", "frame.genesisTime"),
            Some(devnet.deployment.genesis_time.to_string())
        );
        let module = format!("{:#x}", devnet.deployment.address("operatorsModule").unwrap());
        assert_eq!(
            value("OperatorsModule", "missedExitPenalty"),
            Some(devnet.call_uint(&module, "missedExitPenalty()(uint256)", &[]))
        );
        assert_eq!(
            value("OperatorsModule", "typeFactorBps.Home"),
            Some(devnet.call_uint(&module, "typeFactorBps(uint8)(uint256)", &["3"]))
        );
        api.bad("/api/v1/parameters?pool=all", "bad pool").await;

        // Pool events: the insurance fund's burn, the vault's EIP-7002 request, the sweep.
        let ev = api.json("/api/v1/pool-events").await;
        let kinds: Vec<&str> =
            ev["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        for k in ["vault_pulled", "insurance_burn", "eip7002_request", "swept"] {
            assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
        }
        let swept = api.json("/api/v1/pool-events?kind=swept").await;
        assert_eq!(swept["items"][0]["amountWei"], "7");
        api.bad("/api/v1/pool-events?kind=everything", "bad kind").await;

        // Summary: loss totals by layer, what the insurance fund paid, rewards and sweeps.
        let s = api.json("/api/v1/summary").await;
        assert_eq!(s["losses"]["count"], 3);
        assert_eq!(s["insurance"]["coveredLossesWei"], slashing["covered"]["insuranceWei"]);
        assert!(big(&s["insurance"]["burnedShares"]) > 0, "{s}");
        assert_eq!(s["rewards"]["claimedShares"], sc.claimed);
        assert_eq!(s["rewards"]["vfpBookedShares"], "50");
        assert_eq!(s["sweptWei"], "7");
        let t = &s["targets"];
        let total = ["Professional", "Dvt", "Home", "Kyc"]
            .iter()
            .map(|k| t[*k].as_f64().unwrap())
            .sum::<f64>();
        assert!((total - 1.0).abs() < 1e-9, "targets from the Allocator: {t}");

        // The feeds: Atom and signed webhooks carry the new notices.
        let (status, _, atom) = api.get(&format!("/api/v1/operators/{op}/feed.atom")).await;
        assert_eq!(status, 200);
        for kind in ["exit_deadline_missed", "exit_enforced", "penalty"] {
            assert!(
                atom.contains(&format!("<title>{kind}</title>")),
                "{kind} not in the Atom feed"
            );
        }
        let (url, got) = receiver(200).await;
        let secret = "0123456789abcdef-secret";
        let (status, _) = api
            .post(
                &format!("/api/v1/operators/{op}/webhooks"),
                &json!({"url": url, "secret": secret}),
            )
            .await;
        assert_eq!(status, 201);
        let sent =
            claystack_api::webhooks::deliver_once(&state, &reqwest::Client::new()).await.unwrap();
        let got = got.lock().unwrap().clone();
        assert_eq!(got.len(), sent);
        let delivered: Vec<String> = got
            .iter()
            .map(|(h, b)| {
                assert_eq!(
                    h["x-claystack-signature"],
                    claystack_api::webhooks::sign(secret.as_bytes(), b)
                );
                serde_json::from_slice::<Value>(b).unwrap()["notice"]["kind"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        for kind in ["exit_deadline_missed", "exit_enforced", "exit_request", "penalty"] {
            assert!(delivered.iter().any(|k| k == kind), "{kind} not delivered: {delivered:?}");
        }

        // Every described operation answers, with this chain's ids.
        let doc = api.json("/openapi.json").await;
        for (path, ops) in doc["paths"].as_object().unwrap() {
            if !ops.as_object().unwrap().contains_key("get") {
                continue;
            }
            let concrete = path
                .replace("{id}", &op.to_string())
                .replace("{address}", &sc.reward_address)
                .replace("{refSlot}", &sc.complete.to_string());
            let (status, _, body) = api.get(&concrete).await;
            assert!((200..300).contains(&status), "GET {path} → {status}: {body}");
        }
    });
    drop(state);
    drop(store);
}

/// A member's tree endpoint serving `doc` whatever root is asked (a lying member).
async fn lying_member(doc: claystack_oracle::rewards::TreeDocument) -> String {
    let app = axum::Router::new().route(
        "/rewards/tree/{root}",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[test]
fn api_serves_operator_reward_allocations_only_from_a_tree_that_matches_the_chain() {
    use claystack_api::RewardsTrees;
    use claystack_devnet::alloy::primitives::U256;
    let devnet = Devnet::start();
    let rt = runtime();
    let sc = devnet.operator_scenario(&rt);
    // A second root: the operator's reward address has `extra` shares left to claim.
    let (doc, extra) = devnet.second_rewards_root(&rt, &sc);
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(&dir.path().join("index.sqlite")).unwrap();
    let store = Arc::new(Mutex::new(Store::open(Box::new(db), &devnet.sources()).unwrap()));
    let metrics = Arc::new(IndexerMetrics::default());
    index_to_head(&rt, &devnet, &store, &metrics, FollowConfig::default());
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: None,
        frame_seconds: Some(devnet.deployment.frame_seconds()),
    };
    let op = sc.operator;
    let claimed: U256 = sc.claimed.parse().unwrap();
    let rewards = format!("{:#x}", devnet.deployment.address("operatorRewards").unwrap());
    let other = anvil_address(7);
    // The lying member moves shares from the other leaf to the operator's, keeping the chain's
    // root and total in its document.
    let mut lie = doc.clone();
    for leaf in &mut lie.leaves {
        if format!("{:#x}", leaf.account) == sc.reward_address {
            leaf.cumulative_shares += U256::from(1_000u64);
        } else {
            leaf.cumulative_shares -= U256::from(1_000u64);
        }
    }

    rt.block_on(async {
        let serve = |trees: RewardsTrees| async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let app = claystack_api::router_with(state.clone(), Arc::new(trees));
            tokio::spawn(axum::serve(listener, app).into_future());
            Api { base, http: reqwest::Client::new() }
        };
        let liar = lying_member(lie).await;
        let honest = honest_member(&doc, &dir.path().join("member")).await;

        // No member configured: the chain's root and the claims, no allocation, and why.
        let api = serve(RewardsTrees::disabled()).await;
        let rw = api.json(&format!("/api/v1/operators/{op}/rewards")).await;
        assert_eq!(rw["latestRoot"]["root"], doc.root.to_string());
        let a = &rw["allocation"];
        assert_eq!(a["status"], "unavailable", "{a}");
        assert!(a["reason"].as_str().unwrap().contains("--oracle-url"), "{a}");
        assert!(a["cumulativeShares"].is_null() && a["claimableShares"].is_null(), "{a}");
        assert_eq!(a["claimedShares"], sc.claimed, "claims are on chain: {a}");

        // Only the liar: its tree does not rebuild to the chain's root, so nothing is served.
        let api = serve(RewardsTrees::new(std::slice::from_ref(&liar)).unwrap()).await;
        let a = api.json(&format!("/api/v1/operators/{op}/rewards")).await["allocation"].clone();
        assert_eq!(a["status"], "unavailable", "{a}");
        let reason = a["reason"].as_str().unwrap();
        assert!(reason.contains(&liar) && reason.contains("refused"), "{a}");
        assert!(a["cumulativeShares"].is_null() && a["proof"].is_null(), "{a}");

        // The liar first, then an honest member: the honest tree is verified and served.
        let api = serve(RewardsTrees::new(&[format!("{liar},{honest}")]).unwrap()).await;
        let rw = api.json(&format!("/api/v1/operators/{op}/rewards")).await;
        let a = &rw["allocation"];
        assert_eq!(a["status"], "verified", "{a}");
        assert_eq!(a["member"], honest);
        assert_eq!(a["account"], sc.reward_address);
        assert_eq!(a["root"], doc.root.to_string());
        assert_eq!(a["refSlot"], doc.ref_slot);
        assert_eq!(a["treeLeaves"], 2);
        assert_eq!(a["cumulativeShares"], (claimed + extra).to_string());
        assert_eq!(a["claimedShares"], sc.claimed);
        assert_eq!(a["claimableShares"], extra.to_string());
        let proof: Vec<String> =
            a["proof"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
        let proof_arg = format!("[{}]", proof.join(","));
        let cumulative = a["cumulativeShares"].as_str().unwrap().to_owned();
        // The contract itself accepts the proof.
        assert_eq!(
            devnet.cast(&[
                "call",
                &rewards,
                "verify(address,uint256,bytes32[])(bool)",
                &sc.reward_address,
                &cumulative,
                &proof_arg,
            ]),
            "true"
        );
        // Any account: the other leaf, and a verified zero for an account without one.
        let b = api.json(&format!("/api/v1/rewards/accounts/{other}")).await;
        assert_eq!(b["status"], "verified", "{b}");
        assert_eq!(
            b["cumulativeShares"].as_str().unwrap().parse::<U256>().unwrap(),
            doc.cumulative_shares - claimed - extra
        );
        assert_eq!(b["claimableShares"], b["cumulativeShares"], "never claimed: {b}");
        let none = api.json(&format!("/api/v1/rewards/accounts/{}", anvil_address(8))).await;
        assert_eq!(
            (none["status"].as_str(), none["cumulativeShares"].as_str()),
            (Some("verified"), Some("0")),
            "{none}"
        );
        assert!(none["reason"].as_str().unwrap().contains("no leaf"), "{none}");
        api.bad("/api/v1/rewards/accounts/0x12", "bad address").await;
        api.bad(&format!("/api/v1/rewards/accounts/{other}?pool=x"), "bad pool").await;
        // The KYC pool has no root: nothing to fetch.
        let k = api.json(&format!("/api/v1/rewards/accounts/{other}?pool=kyc")).await;
        assert_eq!(
            (k["status"].as_str(), k["reason"].as_str()),
            (Some("unavailable"), Some("no rewards root on chain yet"))
        );
        let (_, _, m) = api.get("/metrics").await;
        assert!(m.contains("claystack_api_rewards_trees_total{outcome=\"refused\"} 1"), "{m}");
        assert!(m.contains("claystack_api_rewards_trees_total{outcome=\"verified\"} 1"), "{m}");

        // Claim with the served proof; once indexed, nothing is left to claim.
        devnet.cast(&[
            "send",
            &rewards,
            "claim(address,uint256,bytes32[])",
            &sc.reward_address,
            &cumulative,
            &proof_arg,
            "--private-key",
            &indexer_suite::anvil_key(0),
        ]);
        let addresses = devnet.sources().iter().map(|s| s.address).collect();
        let mut f = claystack_indexer::Follower::new(
            &devnet.rpc,
            Arc::clone(&store),
            addresses,
            FollowConfig::default(),
            Arc::new(IndexerMetrics::default()),
        )
        .unwrap();
        f.run_to_head().await.unwrap();
        let a = api.json(&format!("/api/v1/operators/{op}/rewards")).await["allocation"].clone();
        assert_eq!(
            (a["claimedShares"].as_str(), a["claimableShares"].as_str()),
            (Some(cumulative.as_str()), Some("0")),
            "{a}"
        );
        assert_eq!(
            devnet.call_uint(&rewards, "claimed(address)(uint256)", &[&sc.reward_address]),
            cumulative
        );
    });
    drop(state);
    drop(store);
}

#[test]
fn serve_and_api_serve_refuse_a_bad_oracle_url_from_the_flag_or_the_environment() {
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_claystack"));
        cmd.args(args).env_remove("CLAYSTACK_ORACLE_URL").env("RUST_BACKTRACE", "0");
        if let Some(v) = env {
            cmd.env("CLAYSTACK_ORACLE_URL", v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{args:?} {env:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let serve = [
        "serve",
        "--rpc-url",
        "http://127.0.0.1:1",
        "--deployment",
        "/nonexistent",
        "--listen",
        "127.0.0.1:0",
    ];
    let mut flagged = serve.to_vec();
    flagged.extend(["--oracle-url", "http://127.0.0.1:9", "--oracle-url", "https://m.example"]);
    let err = run(&flagged, None);
    assert!(err.contains("bad oracle member URL \"https://m.example\""), "{err}");
    // The URLs are checked before the deployment file is read.
    assert!(!err.contains("deployment"), "{err}");
    let err =
        run(&["api", "serve", "--deployment", "/nonexistent"], Some("http://127.0.0.1:9,ftp://x"));
    assert!(err.contains("bad oracle member URL \"ftp://x\""), "{err}");
    // Well-formed URLs pass that check: the next error is the missing deployment file.
    let err = run(&serve, Some("http://127.0.0.1:9, http://127.0.0.1:10/"));
    assert!(err.contains("deployment"), "{err}");
}
