//! The cluster's signing front: a Web3Signer-compatible endpoint that validator clients use as
//! their remote signer. It fans each request out to every node, waits for `t` partial
//! signatures that verify under their members' public shares, combines them, checks the group
//! signature and answers. Nodes that are down, slow, refusing or lying are tolerated as long
//! as `t` honest nodes answer before the timeout.

use crate::bls::{PublicKey, Signature};
use crate::cluster::{ClusterDescription, ClusterError};
use crate::node::{ErrorBody, PARTIAL_SIGN_PATH, PartialResponse, authorized};
use crate::request::{RequestError, RequestEvaluator};
use crate::threshold::{PartialSignature, PublicKeySet, combine_partials};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Why the front could not produce a group signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontError {
    /// The validator key is not this cluster's.
    #[error("unknown public key {0}")]
    UnknownKey(String),
    /// The request is malformed or unsupported.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Nodes refused on slashing grounds and not enough others signed.
    #[error("slashing protection refused by {refusals} node(s): {detail}")]
    Slashable {
        /// Number of refusing nodes.
        refusals: usize,
        /// First refusal message.
        detail: String,
    },
    /// Not enough valid partial signatures before the timeout.
    #[error(
        "cluster unavailable: {valid} of {need} required partial signatures within {timeout_ms} ms ({detail})"
    )]
    Unavailable {
        /// Valid partials received.
        valid: usize,
        /// Threshold.
        need: usize,
        /// The timeout.
        timeout_ms: u128,
        /// What went wrong with the other nodes.
        detail: String,
    },
    /// The caller did not present the API token.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// Valid partials combined into an invalid signature (a bug; never returned to clients as
    /// a signature).
    #[error("combined signature does not verify under the group key")]
    Combination,
}

impl FrontError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownKey(_) => StatusCode::NOT_FOUND,
            Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::Slashable { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Combination => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for FrontError {
    fn into_response(self) -> Response {
        (self.status(), axum::Json(ErrorBody { error: self.to_string() })).into_response()
    }
}

/// Settings of the front.
#[derive(Debug, Clone)]
pub struct FrontConfig {
    /// How long to wait for `t` valid partials.
    pub timeout: Duration,
    /// Bearer token sent to the nodes.
    pub node_token: Option<String>,
}

/// The fan-out / combine logic behind the front's HTTP API.
pub struct Front {
    description: ClusterDescription,
    set: PublicKeySet,
    evaluator: Box<dyn RequestEvaluator>,
    client: reqwest::Client,
    config: FrontConfig,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front").field("group", &self.set.group_public_key).finish_non_exhaustive()
    }
}

enum NodeOutcome {
    Partial(Box<PartialResponse>),
    Refused(String),
    Failed(String),
}

impl Front {
    /// Builds a front for a validated cluster description.
    pub fn new(
        description: ClusterDescription,
        evaluator: Box<dyn RequestEvaluator>,
        config: FrontConfig,
    ) -> Result<Self, ClusterError> {
        let set = description.validate()?;
        // No per-request timeout: the fan-out deadline governs, and pending calls are aborted.
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ClusterError::Inconsistent(format!("http client: {e}")))?;
        Ok(Self { description, set, evaluator, client, config })
    }

    /// The validator keys served (one per cluster).
    pub fn public_keys(&self) -> Vec<PublicKey> {
        vec![self.set.group_public_key]
    }

    /// Signs a Web3Signer request body for `pubkey` with the cluster.
    pub async fn sign(&self, pubkey: &PublicKey, body: Bytes) -> Result<Signature, FrontError> {
        if *pubkey != self.set.group_public_key {
            return Err(FrontError::UnknownKey(pubkey.to_hex()));
        }
        // The front computes the root itself too, to verify partials against it.
        let ev = self.evaluator.evaluate(&body)?;
        let root = ev.signing_root;
        let need = self.set.threshold;
        let mut tasks = JoinSet::new();
        for m in &self.description.members {
            let url = format!(
                "{}{PARTIAL_SIGN_PATH}/{}",
                m.address.trim_end_matches('/'),
                pubkey.to_hex()
            );
            let mut req = self.client.post(url).header(header::CONTENT_TYPE, "application/json");
            if let Some(t) = &self.config.node_token {
                req = req.bearer_auth(t);
            }
            let req = req.body(body.clone());
            let index = m.index;
            tasks.spawn(async move { (index, call_node(req).await) });
        }
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(self.config.timeout).unwrap_or(now);
        let mut valid: Vec<PartialSignature> = Vec::with_capacity(need);
        let mut refusals: Vec<String> = Vec::new();
        let mut failures: Vec<String> = Vec::new();
        let mut timed_out = false;
        while valid.len() < need && valid.len().saturating_add(tasks.len()) >= need {
            let next = match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Err(_) => {
                    timed_out = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(next)) => next,
            };
            let (index, outcome) = match next {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("node task failed: {e}"));
                    continue;
                }
            };
            match outcome {
                NodeOutcome::Partial(p) => {
                    let partial = PartialSignature { index, signature: p.partial_signature };
                    if p.index != index {
                        failures.push(format!("node {index} answered as {}", p.index));
                    } else if self.set.verify_partial(&root, &partial).is_err() {
                        tracing::warn!(target: "dvt::front", %index, "excluded an invalid partial signature");
                        failures.push(format!("node {index} sent an invalid partial signature"));
                    } else {
                        valid.push(partial);
                    }
                }
                NodeOutcome::Refused(msg) => refusals.push(format!("node {index}: {msg}")),
                NodeOutcome::Failed(msg) => failures.push(format!("node {index}: {msg}")),
            }
        }
        tasks.abort_all();
        if valid.len() >= need {
            let sig = combine_partials(&valid).map_err(|_| FrontError::Combination)?;
            if !self.set.group_public_key.verify(&root, &sig) {
                return Err(FrontError::Combination);
            }
            return Ok(sig);
        }
        if let Some(first) = refusals.first() {
            return Err(FrontError::Slashable { refusals: refusals.len(), detail: first.clone() });
        }
        if timed_out {
            failures.push(format!("{} node(s) did not answer in time", tasks.len()));
        }
        Err(FrontError::Unavailable {
            valid: valid.len(),
            need,
            timeout_ms: self.config.timeout.as_millis(),
            detail: failures.join("; "),
        })
    }
}

async fn call_node(req: reqwest::RequestBuilder) -> NodeOutcome {
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return NodeOutcome::Failed(format!("unreachable: {e}")),
    };
    let status = resp.status();
    if status == reqwest::StatusCode::OK {
        return match resp.json::<PartialResponse>().await {
            Ok(p) => NodeOutcome::Partial(Box::new(p)),
            Err(e) => NodeOutcome::Failed(format!("bad answer: {e}")),
        };
    }
    let msg = match resp.json::<ErrorBody>().await {
        Ok(b) => b.error,
        Err(_) => String::from("no error body"),
    };
    if status == reqwest::StatusCode::PRECONDITION_FAILED {
        NodeOutcome::Refused(msg)
    } else {
        NodeOutcome::Failed(format!("{status}: {msg}"))
    }
}

#[derive(Clone)]
struct FrontState {
    front: Arc<Front>,
    token: Option<Arc<str>>,
}

/// The Web3Signer-compatible HTTP API of the cluster: `GET /upcheck`,
/// `GET /api/v1/eth2/publicKeys`, `POST /api/v1/eth2/sign/{identifier}` (JSON
/// `{"signature": …}` when the client accepts `application/json`, the bare hex signature as
/// `text/plain` otherwise). With `api_token`, signing requests must carry that bearer token.
pub fn front_router(front: Arc<Front>, api_token: Option<String>) -> Router {
    let state = FrontState { front, token: api_token.map(Arc::from) };
    Router::new()
        .route("/upcheck", get(|| async { "OK" }))
        .route("/api/v1/eth2/publicKeys", get(public_keys))
        .route("/api/v1/eth2/sign/{identifier}", post(sign))
        .with_state(state)
}

async fn public_keys(State(state): State<FrontState>) -> axum::Json<Vec<String>> {
    axum::Json(state.front.public_keys().iter().map(PublicKey::to_hex).collect())
}

async fn sign(
    State(state): State<FrontState>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FrontError> {
    if !authorized(&headers, state.token.as_deref()) {
        return Err(FrontError::Unauthorized);
    }
    let pk =
        PublicKey::from_hex(&identifier).map_err(|_| FrontError::UnknownKey(identifier.clone()))?;
    let sig = state.front.sign(&pk, body).await?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    Ok(if wants_json {
        axum::Json(serde_json::json!({ "signature": sig.to_hex() })).into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/plain")], sig.to_hex()).into_response()
    })
}

/// Serves the front's Web3Signer API on `listener` until `shutdown` completes.
pub async fn serve_front(
    listener: tokio::net::TcpListener,
    front: Arc<Front>,
    api_token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, front_router(front, api_token)).with_graceful_shutdown(shutdown).await
}
