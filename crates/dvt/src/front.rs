//! The cluster's signing front: a Web3Signer-compatible endpoint that validator clients use as
//! their remote signer. It fans each request out to every node, waits for `t` partial
//! signatures that verify under their members' public shares, combines them, checks the group
//! signature and answers. Nodes that are down, slow, refusing or lying are tolerated as long
//! as `t` honest nodes answer before the timeout.

use crate::bls::{PublicKey, Signature};
use crate::cluster::{ClusterDescription, ClusterError};
use crate::metrics::FrontMetrics;
use crate::node::{ErrorBody, PARTIAL_SIGN_PATH, PartialResponse};
use crate::request::{RequestError, RequestEvaluator};
use crate::threshold::{PartialSignature, PublicKeySet, combine_partials};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use claystack_consensus::Root;
use claystack_signer::{BackendError, NetworkSpec, SignerState, SigningBackend};
use claystack_slashing::SlashingDatabase;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Largest request body the front buffers (the signer's own limit).
const MAX_BODY_BYTES: usize = 64 * 1024;

tokio::task_local! {
    /// The typed request body of the HTTP request being served, for [`FrontBackend`]: the
    /// signer's router hands a backend only the signing root, but nodes must receive the whole
    /// typed request to recompute that root and check their own slashing databases.
    static REQUEST_BODY: Bytes;
}

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
    /// The signing root computed by the HTTP layer differs from the front's (a bug).
    #[error("signing root disagreement between the http layer and the cluster front")]
    RootDisagreement,
    /// The backend was called without the typed request in scope (only [`front_router`]
    /// provides it).
    #[error("the cluster front signs typed requests only, through its http router")]
    NoTypedRequest,
    /// Valid partials combined into an invalid signature (a bug; never returned to clients as
    /// a signature).
    #[error("combined signature does not verify under the group key")]
    Combination,
}

/// Settings of the front.
#[derive(Debug, Clone)]
pub struct FrontConfig {
    /// How long to wait for `t` valid partials.
    pub timeout: Duration,
    /// Bearer token sent to the nodes.
    pub node_token: Option<String>,
}

/// One distributed validator served by the front.
#[derive(Debug)]
struct Validator {
    description: ClusterDescription,
    set: PublicKeySet,
}

/// The fan-out / combine logic behind the front's HTTP API, for one or more distributed
/// validators.
pub struct Front {
    validators: BTreeMap<[u8; 48], Validator>,
    evaluator: Box<dyn RequestEvaluator>,
    client: reqwest::Client,
    config: FrontConfig,
    metrics: FrontMetrics,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front").field("validators", &self.validators.len()).finish_non_exhaustive()
    }
}

enum NodeOutcome {
    Partial(Box<PartialResponse>),
    Refused(String),
    Failed(String),
}

impl Front {
    /// Builds a front for validated cluster descriptions (one per distributed validator).
    pub fn new(
        descriptions: Vec<ClusterDescription>,
        evaluator: Box<dyn RequestEvaluator>,
        config: FrontConfig,
    ) -> Result<Self, ClusterError> {
        let mut validators = BTreeMap::new();
        for description in descriptions {
            let set = description.validate()?;
            let pk = set.group_public_key.to_bytes();
            if validators.insert(pk, Validator { description, set }).is_some() {
                return Err(ClusterError::Inconsistent(format!(
                    "validator {} listed twice",
                    PublicKey::from_bytes(&pk).map(|p| p.to_hex()).unwrap_or_default()
                )));
            }
        }
        // No per-request timeout: the fan-out deadline governs, and pending calls are aborted.
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ClusterError::Inconsistent(format!("http client: {e}")))?;
        let metrics = FrontMetrics::default();
        metrics.register_nodes(
            validators.values().flat_map(|v| v.description.members.iter().map(|m| m.index.get())),
        );
        Ok(Self { validators, evaluator, client, config, metrics })
    }

    /// The fan-out and combination counters served on `GET /metrics`.
    pub fn metrics(&self) -> &FrontMetrics {
        &self.metrics
    }

    /// The validator keys served.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.validators.values().map(|v| v.set.group_public_key).collect()
    }

    /// Signs a Web3Signer request body for `pubkey` with its cluster; returns the group
    /// signature and the signing root it is over.
    pub async fn sign(
        &self,
        pubkey: &PublicKey,
        body: Bytes,
    ) -> Result<(Signature, Root), FrontError> {
        let Validator { description, set } = self
            .validators
            .get(&pubkey.to_bytes())
            .ok_or_else(|| FrontError::UnknownKey(pubkey.to_hex()))?;
        // The front computes the root itself too, to verify partials against it.
        let ev = self.evaluator.evaluate(&body)?;
        let root = ev.signing_root;
        let started = std::time::Instant::now();
        let result = self.fan_out(pubkey, body, description, set, root).await;
        self.metrics.finished(result.is_ok(), started.elapsed());
        result
    }

    async fn fan_out(
        &self,
        pubkey: &PublicKey,
        body: Bytes,
        description: &ClusterDescription,
        set: &PublicKeySet,
        root: Root,
    ) -> Result<(Signature, Root), FrontError> {
        let need = set.threshold;
        let mut pending: BTreeSet<u64> = BTreeSet::new();
        let mut tasks = JoinSet::new();
        for m in &description.members {
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
            pending.insert(index.get());
            tasks.spawn(async move { (index, call_node(req).await) });
        }
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(self.config.timeout).unwrap_or(now);
        // Partials are checked in batches (one signature verification for all that arrived,
        // see `PublicKeySet::filter_valid`) once enough have arrived to reach the threshold.
        let mut valid: Vec<PartialSignature> = Vec::with_capacity(need);
        let mut unverified: Vec<PartialSignature> = Vec::with_capacity(need);
        let mut refusals: Vec<String> = Vec::new();
        let mut failures: Vec<String> = Vec::new();
        let mut timed_out = false;
        while valid.len() < need
            && valid.len().saturating_add(unverified.len()).saturating_add(tasks.len()) >= need
        {
            if valid.len().saturating_add(unverified.len()) >= need {
                let (good, bad) = set.filter_valid(&root, std::mem::take(&mut unverified));
                for index in bad {
                    self.metrics.partial_failed(index.get(), true);
                    tracing::warn!(target: "dvt::front", %index, "excluded an invalid partial signature");
                    failures.push(format!("node {index} sent an invalid partial signature"));
                }
                valid.extend(good);
                continue;
            }
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
            pending.remove(&index.get());
            match outcome {
                NodeOutcome::Partial(p) if p.index == index => {
                    self.metrics.node_answered(index.get());
                    unverified.push(PartialSignature { index, signature: p.partial_signature });
                }
                NodeOutcome::Partial(p) => {
                    self.metrics.partial_failed(index.get(), true);
                    failures.push(format!("node {index} answered as {}", p.index));
                }
                NodeOutcome::Refused(msg) => {
                    self.metrics.node_answered(index.get());
                    refusals.push(format!("node {index}: {msg}"));
                }
                NodeOutcome::Failed(msg) => {
                    self.metrics.partial_failed(index.get(), false);
                    failures.push(format!("node {index}: {msg}"));
                }
            }
        }
        tasks.abort_all();
        if valid.len() >= need {
            valid.truncate(need);
            let sig = combine_partials(&valid).map_err(|_| FrontError::Combination)?;
            if !set.group_public_key.verify(&root, &sig) {
                return Err(FrontError::Combination);
            }
            return Ok((sig, root));
        }
        if let Some(first) = refusals.first() {
            return Err(FrontError::Slashable { refusals: refusals.len(), detail: first.clone() });
        }
        if timed_out {
            for index in &pending {
                self.metrics.partial_failed(*index, false);
            }
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

/// The front as a [`SigningBackend`] of `claystack-signer`, so that its HTTP surface is the
/// remote signer's own (same routes, status codes, error bodies and authentication).
#[derive(Debug, Clone)]
pub struct FrontBackend(Arc<Front>);

impl FrontBackend {
    /// Wraps a front.
    pub fn new(front: Front) -> Self {
        Self(Arc::new(front))
    }

    /// The front.
    pub fn front(&self) -> &Front {
        &self.0
    }
}

fn unavailable(e: FrontError) -> BackendError {
    BackendError::Unavailable(Box::new(e))
}

impl SigningBackend for FrontBackend {
    fn public_keys(&self) -> Vec<[u8; 48]> {
        self.0.public_keys().iter().map(PublicKey::to_bytes).collect()
    }

    async fn sign(&self, pubkey: &[u8; 48], signing_root: Root) -> Result<[u8; 96], BackendError> {
        let body = REQUEST_BODY
            .try_with(Bytes::clone)
            .map_err(|_| unavailable(FrontError::NoTypedRequest))?;
        let pk = PublicKey::from_bytes(pubkey).map_err(|_| BackendError::UnknownKey(*pubkey))?;
        let (sig, root) = self.0.sign(&pk, body).await.map_err(|e| match e {
            FrontError::UnknownKey(_) => BackendError::UnknownKey(*pubkey),
            other => unavailable(other),
        })?;
        if root != signing_root {
            return Err(unavailable(FrontError::RootDisagreement));
        }
        Ok(sig.to_bytes())
    }

    fn render_metrics(&self) -> String {
        self.0.metrics.render()
    }
}

/// The signer state of a front: with `slashing`, the front itself refuses slashable requests
/// (HTTP 412) before fanning out, on top of every node's own database; without it, node
/// refusals surface as 503 with their reason. `api_token` is the bearer token validator
/// clients must present.
pub fn front_state(
    front: Front,
    spec: NetworkSpec,
    slashing: Option<Arc<SlashingDatabase>>,
    api_token: Option<String>,
) -> Result<Arc<SignerState<FrontBackend>>, claystack_slashing::Error> {
    let backend = FrontBackend::new(front);
    let state = match slashing {
        Some(db) => SignerState::new(backend, db, spec)?,
        None => SignerState::without_slashing_protection(backend, spec),
    };
    Ok(Arc::new(state.with_auth_token(api_token)))
}

/// The Web3Signer-compatible HTTP API of the cluster: `claystack-signer`'s router over a
/// [`FrontBackend`], with a layer that keeps the typed request body in scope for the backend.
pub fn front_router(state: Arc<SignerState<FrontBackend>>) -> Router {
    claystack_signer::router(state).layer(middleware::from_fn(keep_body))
}

async fn keep_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        let body =
            serde_json::json!({ "code": status.as_u16(), "message": "request body too large" });
        return (status, axum::Json(body)).into_response();
    };
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    REQUEST_BODY.scope(bytes, next.run(request)).await
}

/// Serves the front's Web3Signer API on `listener` until `shutdown` completes. Refuses a
/// non-loopback address without an API token.
pub async fn serve_front(
    listener: tokio::net::TcpListener,
    state: Arc<SignerState<FrontBackend>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), claystack_signer::ServeError> {
    claystack_signer::check_bind(listener.local_addr()?, state.auth_token())?;
    axum::serve(listener, front_router(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
