//! ClayStack REST API over the indexer's store: protocol summary, rate history, oracle reports with
//! their extra-data chunks, losses through the waterfall, rewards, governance parameters, pool
//! events, operators (exit requests and whether their deadlines were met, penalties by layer,
//! rewards, and their cumulative allocation from the oracle members' trees, checked against the
//! on-chain root) and their notification feeds (JSON, Atom, signed webhooks), stakers' positions
//! and tickets, an OpenAPI 3.1 document, Prometheus metrics, and the dashboard (embedded assets).

mod error;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod stack;
pub mod trees;
pub mod webhooks;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use alloy::primitives::{Address, U256};
use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use claystack_indexer::{IndexerMetrics, Store};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

pub use error::ApiError;
pub use metrics::ApiMetrics;
use query::Page;
pub use stack::{StackConfig, StackError, run_stack};
pub use trees::RewardsTrees;

/// The dashboard page.
const INDEX_HTML: &str = include_str!("dashboard/index.html");
/// The dashboard script.
const APP_JS: &str = include_str!("dashboard/app.js");

/// Largest page size.
pub const MAX_LIMIT: u64 = 500;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u64 = 100;

/// Shared state of the API handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The indexer's store.
    pub store: Arc<Mutex<Store>>,
    /// API metrics.
    pub metrics: Arc<ApiMetrics>,
    /// The indexer's metrics, when it runs in the same process.
    pub indexer_metrics: Option<Arc<IndexerMetrics>>,
    /// Seconds per oracle frame (queue ETA), from the deployment.
    pub frame_seconds: Option<u64>,
}

impl AppState {
    /// Runs a read on a blocking thread with the store locked.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut s =
                store.lock().map_err(|_| ApiError::Internal("store lock poisoned".into()))?;
            f(&mut s)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("store task: {e}")))?
    }
}

/// Every route: method, path (axum syntax) and handler. `openapi::document` describes exactly
/// these (a test checks both directions).
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/api/v1/summary", get(summary)),
        (Method::GET, "/api/v1/rates", get(rates)),
        (Method::GET, "/api/v1/reports", get(reports)),
        (Method::GET, "/api/v1/reports/{refSlot}", get(report)),
        (Method::GET, "/api/v1/losses", get(losses)),
        (Method::GET, "/api/v1/rewards", get(rewards)),
        (Method::GET, "/api/v1/rewards/accounts/{address}", get(reward_account)),
        (Method::GET, "/api/v1/parameters", get(parameters)),
        (Method::GET, "/api/v1/pool-events", get(pool_events)),
        (Method::GET, "/api/v1/operators", get(operators)),
        (Method::GET, "/api/v1/operators/{id}", get(operator)),
        (Method::GET, "/api/v1/operators/{id}/exit-requests", get(operator_exit_requests)),
        (Method::GET, "/api/v1/operators/{id}/penalties", get(operator_penalties)),
        (Method::GET, "/api/v1/operators/{id}/rewards", get(operator_rewards)),
        (Method::GET, "/api/v1/operators/{id}/feed", get(feed_json)),
        (Method::GET, "/api/v1/operators/{id}/feed.atom", get(feed_atom)),
        (Method::POST, "/api/v1/operators/{id}/webhooks", axum::routing::post(webhooks::subscribe)),
        (Method::GET, "/api/v1/operators/{id}/webhooks", get(webhooks::list)),
        (Method::GET, "/api/v1/stakers/{address}", get(staker)),
        (Method::GET, "/openapi.json", get(openapi_json)),
        (Method::GET, "/metrics", get(metrics_text)),
        (Method::GET, "/health", get(health)),
        (Method::GET, "/", get(index)),
        (Method::GET, "/app.js", get(app_js)),
    ]
}

/// The full router: API, documents, metrics and dashboard, without oracle members (reward
/// allocations are served as unavailable, with the reason).
pub fn router(state: AppState) -> Router {
    router_with(state, Arc::new(RewardsTrees::disabled()))
}

/// The full router, serving reward allocations from the trees of `trees`' oracle members.
pub fn router_with(state: AppState, trees: Arc<RewardsTrees>) -> Router {
    let mut r = Router::new();
    for (_, path, handler) in routes() {
        // Each route is labelled with its template (not the raw path: bounded label values).
        let label = (Arc::clone(&state.metrics), path);
        r = r.route(path, handler.route_layer(middleware::from_fn_with_state(label, track)));
    }
    r.fallback(not_found).layer(Extension(trees)).with_state(state)
}

/// A router serving only `/metrics` of a stand-alone indexer.
pub fn metrics_router(indexer: Arc<IndexerMetrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let m = Arc::clone(&indexer);
            async move { prometheus(m.render()) }
        }),
    )
}

async fn track(
    State((m, route)): State<(Arc<ApiMetrics>, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let resp = next.run(req).await;
    m.observe(route, resp.status().as_u16(), start.elapsed());
    resp
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

fn prometheus(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// A cacheable response: `Cache-Control`, a strong `ETag` over the body, `304` on a match.
fn cached(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", hex::encode(&digest[..16]));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=5"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

fn cached_json(headers: &HeaderMap, v: &Value) -> Response {
    cached(headers, "application/json", v.to_string().into_bytes())
}

type Params = Query<HashMap<String, String>>;

/// `pool`: `public` (default) or `kyc`.
fn pool_param(q: &HashMap<String, String>) -> Result<&'static str, ApiError> {
    match q.get("pool").map(String::as_str) {
        None | Some("public") => Ok("public"),
        Some("kyc") => Ok("kyc"),
        Some(other) => {
            Err(ApiError::BadRequest(format!("bad pool {other:?}: expected \"public\" or \"kyc\"")))
        }
    }
}

/// `limit` (1..=500) and `cursor` (as returned in `nextCursor`).
fn page_param(q: &HashMap<String, String>, id_cursor: bool) -> Result<Page, ApiError> {
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "bad limit {s:?}: expected an integer from 1 to {MAX_LIMIT}"
                )));
            }
        },
    };
    let after = match q.get("cursor") {
        None => None,
        Some(c) => {
            let bad = || ApiError::BadRequest(format!("bad cursor {c:?}: pass back nextCursor"));
            if id_cursor {
                Some((c.parse::<i64>().map_err(|_| bad())?, 0))
            } else {
                let (b, l) = c.split_once('-').ok_or_else(bad)?;
                let b = b.parse::<i64>().map_err(|_| bad())?;
                let l = l.parse::<i64>().map_err(|_| bad())?;
                if b < 0 || l < 0 {
                    return Err(bad());
                }
                Some((b, l))
            }
        }
    };
    Ok(Page { limit, after })
}

fn operator_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().ok().filter(|v| i64::try_from(*v).is_ok()).ok_or_else(|| {
        ApiError::BadRequest(format!("bad operator id {raw:?}: expected a non-negative integer"))
    })
}

fn ref_slot_param(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().ok().filter(|v| i64::try_from(*v).is_ok()).ok_or_else(|| {
        ApiError::BadRequest(format!("bad ref slot {raw:?}: expected a non-negative integer"))
    })
}

/// An optional `kind` filter from a closed set.
fn kind_param(
    q: &HashMap<String, String>,
    allowed: &'static [&'static str],
) -> Result<Option<&'static str>, ApiError> {
    match q.get("kind") {
        None => Ok(None),
        Some(k) => allowed.iter().find(|a| **a == k.as_str()).copied().map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!("bad kind {k:?}: expected one of {}", allowed.join(", ")))
        }),
    }
}

/// `kind` values of `/api/v1/rewards`.
pub const REWARD_KINDS: &[&str] = &["root", "claim", "vfp_booked"];
/// `kind` values of `/api/v1/pool-events`.
pub const POOL_EVENT_KINDS: &[&str] =
    &["insurance_burn", "swept", "vault_pulled", "eip7002_request"];

fn address_param(raw: &str) -> Result<Address, ApiError> {
    let ok = raw.len() == 42
        && raw.starts_with("0x")
        && raw.get(2..).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !ok {
        return Err(ApiError::BadRequest(format!(
            "bad address {raw:?}: expected 0x followed by 40 hex digits"
        )));
    }
    raw.parse().map_err(|_| ApiError::BadRequest(format!("bad address {raw:?}")))
}

async fn summary(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let frame = st.frame_seconds;
    let v = st.read(move |s| query::summary(s, pool, frame)).await?;
    Ok(cached_json(&headers, &v))
}

async fn rates(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let v = st.read(move |s| query::rates(s, pool, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn reports(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let v = st.read(move |s| query::reports(s, pool, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn report(
    State(st): State<AppState>,
    Path(slot): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let slot = ref_slot_param(&slot)?;
    let pool = pool_param(&q)?;
    let v = st.read(move |s| query::report(s, pool, slot)).await?;
    Ok(cached_json(&headers, &v))
}

async fn losses(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let v = st.read(move |s| query::losses(s, pool, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn rewards(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let kind = kind_param(&q, REWARD_KINDS)?;
    let v = st.read(move |s| query::rewards(s, pool, kind, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn parameters(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let v = st.read(move |s| query::parameters(s, pool)).await?;
    Ok(cached_json(&headers, &v))
}

async fn pool_events(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let kind = kind_param(&q, POOL_EVENT_KINDS)?;
    let v = st.read(move |s| query::pool_events(s, pool, kind, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn operator_exit_requests(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let v = st.read(move |s| query::exit_requests(s, pool, id, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn operator_penalties(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let v = st.read(move |s| query::operator_penalties(s, pool, id, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn operator_rewards(
    State(st): State<AppState>,
    Extension(trees): Extension<Arc<RewardsTrees>>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let page = page_param(&q, false)?;
    let (mut v, account, claimed) = st
        .read(move |s| {
            let v = query::operator_rewards(s, pool, id, &page)?;
            let account = v["rewardAddress"].as_str().and_then(|a| a.parse::<Address>().ok());
            let claimed = match account {
                Some(a) => query::account_claimed(s, pool, a)?,
                None => U256::ZERO,
            };
            Ok((v, account, claimed))
        })
        .await?;
    let root = trees::IndexedRoot::from_json(&v["latestRoot"]);
    v["allocation"] = trees::allocation(&trees, account, root, claimed).await;
    Ok(cached_json(&headers, &v))
}

async fn reward_account(
    State(st): State<AppState>,
    Extension(trees): Extension<Arc<RewardsTrees>>,
    Path(address): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = address_param(&address)?;
    let pool = pool_param(&q)?;
    let (root, claimed) = st
        .read(move |s| {
            Ok((query::latest_root(s, pool)?, query::account_claimed(s, pool, account)?))
        })
        .await?;
    let root = trees::IndexedRoot::from_json(&root);
    let mut v = trees::allocation(&trees, Some(account), root, claimed).await;
    v["pool"] = Value::from(pool);
    Ok(cached_json(&headers, &v))
}

async fn operators(
    State(st): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pool = pool_param(&q)?;
    let page = page_param(&q, true)?;
    let v = st.read(move |s| query::operators(s, pool, &page)).await?;
    Ok(cached_json(&headers, &v))
}

async fn operator(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let v = st.read(move |s| query::operator(s, pool, id)).await?;
    Ok(cached_json(&headers, &v))
}

async fn feed_items(
    st: &AppState,
    pool: &'static str,
    id: u64,
    limit: u64,
) -> Result<Vec<Value>, ApiError> {
    st.read(move |s| {
        if !query::operator_exists(s, pool, id)? {
            return Err(ApiError::NotFound(format!("operator {id} not found")));
        }
        query::notices(s, pool, id, limit)
    })
    .await
}

async fn feed_json(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let page = page_param(&q, true)?;
    let items = feed_items(&st, pool, id, page.limit).await?;
    Ok(cached_json(&headers, &serde_json::json!({ "operator": id, "pool": pool, "items": items })))
}

async fn feed_atom(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let items = feed_items(&st, pool, id, 50).await?;
    Ok(cached(&headers, "application/atom+xml", webhooks::atom(id, &items).into_bytes()))
}

async fn staker(
    State(st): State<AppState>,
    Path(address): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = address_param(&address)?;
    let pool = pool_param(&q)?;
    let v = st.read(move |s| query::staker(s, pool, account)).await?;
    Ok(cached_json(&headers, &v))
}

async fn openapi_json(headers: HeaderMap) -> Response {
    cached_json(&headers, &openapi::document())
}

async fn metrics_text(
    State(st): State<AppState>,
    Extension(trees): Extension<Arc<RewardsTrees>>,
) -> Response {
    let mut body = st.metrics.render();
    body.push_str(&trees.render());
    if let Some(m) = &st.indexer_metrics {
        body.push_str(&m.render());
    }
    prometheus(body)
}

async fn health(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let cursor = st.read(|s| Ok(s.cursor()?.map(|(n, _)| n))).await?;
    Ok(Json(serde_json::json!({ "status": "ok", "indexedBlock": cursor })))
}

async fn index(headers: HeaderMap) -> Response {
    cached(&headers, "text/html; charset=utf-8", INDEX_HTML.as_bytes().to_vec())
}

async fn app_js(headers: HeaderMap) -> Response {
    cached(&headers, "text/javascript; charset=utf-8", APP_JS.as_bytes().to_vec())
}

/// Parses a JSON request body into `T`, with a clear 400 on failure.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("bad json body: {e}")))
}
