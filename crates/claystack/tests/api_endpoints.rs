//! The REST API against a real devnet: every endpoint, pagination, caching headers, bad input,
//! 404s, the OpenAPI document against the live routes, feeds, signed webhooks and metrics.

mod indexer_suite;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use claystack_api::{ApiMetrics, AppState};
use claystack_indexer::{FollowConfig, IndexerMetrics, SqliteDb, Store, Val};
use indexer_suite::{Devnet, anvil_address, index_to_head, runtime};
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
        for (path, ops) in doc["paths"].as_object().unwrap() {
            let concrete = path.replace("{id}", "1").replace("{address}", &alice);
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
