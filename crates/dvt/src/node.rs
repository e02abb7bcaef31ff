//! A cluster node: holds this operator's share of each distributed validator it takes part in,
//! its own slashing-protection database, and signs partial signatures over HTTP for the front.
//!
//! Signing order (as Anchor does): recompute the signing root from the typed request →
//! check-and-record in the slashing database (committed before returning) → sign with the
//! share. A node never signs a root it did not compute.

use crate::bls::{PublicKey, Signature};
use crate::cluster::{ClusterDescription, ClusterError};
use crate::metrics::NodeMetrics;
use crate::request::{RequestError, RequestEvaluator, SlashingCheck};
use crate::threshold::{SecretShare, ShareIndex};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use claystack_consensus::hexutil;
use claystack_slashing::SlashingDatabase;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest request body a node accepts (the remote signer's limit).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Path of the partial-signing endpoint, relative to a node's base URL.
pub const PARTIAL_SIGN_PATH: &str = "/dvt/v1/partial";

/// Why a node refused or failed to sign.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request names a key this node holds no share of.
    #[error("no share for public key {0}")]
    UnknownKey(String),
    /// The request is malformed or unsupported.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Slashing protection refused: signing could make the validator slashable.
    #[error("slashing protection refused: {0}")]
    Slashable(String),
    /// The slashing database failed.
    #[error("slashing protection database failed: {0}")]
    Database(String),
    /// The caller did not present the cluster token.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// The node's configuration is inconsistent.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl NodeError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownKey(_) => StatusCode::NOT_FOUND,
            Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::Slashable(_) => StatusCode::PRECONDITION_FAILED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Database(_) | Self::Cluster(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for NodeError {
    fn into_response(self) -> Response {
        (self.status(), axum::Json(ErrorBody { error: self.to_string() })).into_response()
    }
}

/// JSON error body of the node and front APIs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable reason.
    pub error: String,
}

/// A node's answer: its partial signature and the root it computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialResponse {
    /// The node's share index.
    pub index: ShareIndex,
    /// The signing root the node computed from the request.
    #[serde(with = "hexutil::fixed")]
    pub signing_root: [u8; 32],
    /// The partial signature over `signing_root`.
    pub partial_signature: Signature,
}

/// One operator's signing service, for one or more distributed validators.
pub struct Node {
    validators: BTreeMap<[u8; 48], SecretShare>,
    slashing: SlashingDatabase,
    evaluator: Box<dyn RequestEvaluator>,
    metrics: NodeMetrics,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("validators", &self.validators.len()).finish_non_exhaustive()
    }
}

impl Node {
    /// Builds a node holding one share of each given cluster; checks every share against its
    /// cluster's commitments and membership, and registers the group keys in the slashing
    /// database.
    pub fn new(
        shares: Vec<(ClusterDescription, SecretShare)>,
        slashing: SlashingDatabase,
        evaluator: Box<dyn RequestEvaluator>,
    ) -> Result<Self, NodeError> {
        let mut validators = BTreeMap::new();
        for (description, share) in shares {
            description.validate()?;
            if description.member(share.index()).is_none()
                || !description.commitments.verify_share(&share)
            {
                return Err(ClusterError::Threshold(
                    crate::threshold::ThresholdError::ShareMismatch(share.index()),
                )
                .into());
            }
            let pk = description.group_public_key.to_bytes();
            if validators.insert(pk, share).is_some() {
                return Err(ClusterError::Inconsistent(format!(
                    "two shares for validator {}",
                    description.group_public_key
                ))
                .into());
            }
        }
        slashing
            .register_validators(validators.keys())
            .map_err(|e| NodeError::Database(e.to_string()))?;
        Ok(Self { validators, slashing, evaluator, metrics: NodeMetrics::default() })
    }

    /// The partial-signature counters served on `GET /metrics`.
    pub fn metrics(&self) -> &NodeMetrics {
        &self.metrics
    }

    /// The validator (group) keys this node holds a share of.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.validators.keys().filter_map(|k| PublicKey::from_bytes(k).ok()).collect()
    }

    /// Evaluates a typed request, checks and records it in the slashing database, and signs the
    /// computed root with the share. Blocking (SQLite): call from a blocking context.
    pub fn sign(&self, pubkey: &PublicKey, body: &[u8]) -> Result<PartialResponse, NodeError> {
        let pk = pubkey.to_bytes();
        let share =
            self.validators.get(&pk).ok_or_else(|| NodeError::UnknownKey(pubkey.to_hex()))?;
        let ev = self.evaluator.evaluate(body)?;
        let checked = match ev.slashing {
            SlashingCheck::None => Ok(()),
            SlashingCheck::Block { slot } => self
                .slashing
                .check_and_insert_block_proposal(
                    ev.genesis_validators_root,
                    &pk,
                    slot,
                    ev.signing_root,
                )
                .map(|_| ()),
            SlashingCheck::Attestation { source, target } => self
                .slashing
                .check_and_insert_attestation(
                    ev.genesis_validators_root,
                    &pk,
                    source,
                    target,
                    ev.signing_root,
                )
                .map(|_| ()),
        };
        checked.map_err(|e| match e.not_safe() {
            Some(n) => NodeError::Slashable(n.to_string()),
            None => NodeError::Database(e.to_string()),
        })?;
        let partial = share.sign(&ev.signing_root);
        tracing::debug!(target: "dvt::node", index = %share.index(), validator = %pubkey, root = %hex::encode(ev.signing_root), "signed partial");
        Ok(PartialResponse {
            index: share.index(),
            signing_root: ev.signing_root,
            partial_signature: partial.signature,
        })
    }
}

#[derive(Clone)]
struct NodeState {
    node: Arc<Node>,
    token: Option<Arc<str>>,
}

/// Checks `Authorization: Bearer <token>` when a token is configured.
pub(crate) fn authorized(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else { return false };
    let Ok(value) = value.to_str() else { return false };
    let Some(presented) = value.strip_prefix("Bearer ") else { return false };
    // Constant-time comparison: the token is a shared secret.
    presented.len() == token.len()
        && presented.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The node's HTTP API: `GET /upcheck` and `POST /dvt/v1/partial/{pubkey}` (body: the
/// Web3Signer request, answer: [`PartialResponse`]). With a token, requests must carry
/// `Authorization: Bearer <token>`.
pub fn node_router(node: Arc<Node>, token: Option<String>) -> Router {
    let state = NodeState { node, token: token.map(Arc::from) };
    Router::new()
        .route("/upcheck", get(|| async { "OK" }))
        // Unauthenticated like `/upcheck` and the signer's: counts only.
        .route("/metrics", get(node_metrics))
        .route(&format!("{PARTIAL_SIGN_PATH}/{{pubkey}}"), post(partial_sign))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn node_metrics(State(state): State<NodeState>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.node.metrics().render(),
    )
}

async fn partial_sign(
    State(state): State<NodeState>,
    Path(pubkey): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<PartialResponse>, NodeError> {
    let metrics_node = Arc::clone(&state.node);
    let result = partial_sign_inner(state, pubkey, headers, body).await;
    let metrics = metrics_node.metrics();
    match &result {
        Ok(_) => metrics.signed(),
        Err(NodeError::Slashable(_)) => metrics.refused(),
        Err(_) => metrics.failed(),
    }
    result
}

async fn partial_sign_inner(
    state: NodeState,
    pubkey: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<PartialResponse>, NodeError> {
    if !authorized(&headers, state.token.as_deref()) {
        return Err(NodeError::Unauthorized);
    }
    let pk = PublicKey::from_hex(&pubkey).map_err(|_| NodeError::UnknownKey(pubkey.clone()))?;
    let node = state.node.clone();
    let out = tokio::task::spawn_blocking(move || node.sign(&pk, &body))
        .await
        .map_err(|e| NodeError::Database(format!("signing task failed: {e}")))??;
    Ok(axum::Json(out))
}

/// Serves a node's API on `listener` until `shutdown` completes. Like the remote signer, refuses
/// a non-loopback address without a token: anyone reaching the port could otherwise collect
/// partial signatures.
pub async fn serve_node(
    listener: tokio::net::TcpListener,
    node: Arc<Node>,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), claystack_signer::ServeError> {
    claystack_signer::check_bind(listener.local_addr()?, token.as_deref())?;
    axum::serve(listener, node_router(node, token)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
