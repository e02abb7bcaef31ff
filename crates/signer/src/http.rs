//! The Web3Signer-compatible HTTP API: `GET /upcheck`, `GET /api/v1/eth2/publicKeys`,
//! `POST /api/v1/eth2/sign/{pubkey}`, and Prometheus `GET /metrics`.

use crate::{
    backend::{BackendError, SigningBackend},
    metrics::Outcome,
    request::MessageType,
    service::{SignError, SignerState},
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use claystack_consensus::hexutil;
use std::{net::SocketAddr, sync::Arc};

/// Largest request body accepted (a block header request is well under 2 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The signer's routes over shared state. The DVT front reuses it with its own backend.
pub fn router<B: SigningBackend>(state: Arc<SignerState<B>>) -> Router {
    let api = Router::new()
        .route("/api/v1/eth2/publicKeys", get(public_keys::<B>))
        .route("/api/v1/eth2/sign/{identifier}", post(sign::<B>))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), auth::<B>));
    Router::new()
        .route("/upcheck", get(upcheck))
        // Unauthenticated like `/upcheck` (and the keeper's, indexer's and oracle's endpoints):
        // counts and latencies only, no key material or request contents.
        .route("/metrics", get(metrics::<B>))
        .merge(api)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Why the server refused to start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a bearer token would expose the keys' signing power.
    #[error("refusing to listen on non-loopback address {0} without an auth token")]
    UnauthenticatedNonLoopback(SocketAddr),
    /// Binding or serving failed.
    #[error("serve signer http api: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks that `addr` may be served with or without a token: loopback always, anything else only
/// with one.
pub fn check_bind(addr: SocketAddr, auth_token: Option<&str>) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || auth_token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(ServeError::UnauthenticatedNonLoopback(addr))
    }
}

/// Serves the router on `listener` until `shutdown` resolves.
pub async fn serve<B: SigningBackend>(
    listener: tokio::net::TcpListener,
    state: Arc<SignerState<B>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    check_bind(listener.local_addr()?, state.auth_token())?;
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

async fn upcheck() -> &'static str {
    "OK"
}

async fn metrics<B: SigningBackend>(State(state): State<Arc<SignerState<B>>>) -> Response {
    let mut text = state.metrics().render(state.backend().public_keys().len());
    text.push_str(&state.backend().render_metrics());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// The `type` of a body that failed before a plan existed, for the metrics label only.
fn peek_type(body: &[u8]) -> Option<MessageType> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: MessageType,
    }
    serde_json::from_slice::<Peek>(body).ok().map(|p| p.kind)
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn token_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth<B: SigningBackend>(
    State(state): State<Arc<SignerState<B>>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = state.auth_token() {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| token_eq(g.as_bytes(), token.as_bytes())) {
            return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        }
    }
    next.run(request).await
}

async fn public_keys<B: SigningBackend>(State(state): State<Arc<SignerState<B>>>) -> Response {
    let keys: Vec<String> =
        state.backend().public_keys().iter().map(hexutil::encode_prefixed).collect();
    axum::Json(keys).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "code": status.as_u16(), "message": message })))
        .into_response()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

async fn sign<B: SigningBackend>(
    State(state): State<Arc<SignerState<B>>>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    let Ok(pubkey) = hexutil::decode_fixed::<48>(&identifier) else {
        state.metrics().record(peek_type(&body), Outcome::BadRequest, started.elapsed());
        return error(StatusCode::BAD_REQUEST, "identifier is not a 48-byte hex public key");
    };
    match state.sign_json(&pubkey, &body).await {
        Ok((plan, signature)) => {
            state.metrics().record(Some(plan.kind), Outcome::Signed, started.elapsed());
            tracing::debug!(
                target: "signer::http",
                kind = ?plan.kind,
                pubkey = %identifier,
                "signed"
            );
            let sig = hexutil::encode_prefixed(signature);
            if wants_json(&headers) {
                axum::Json(serde_json::json!({ "signature": sig })).into_response()
            } else {
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sig).into_response()
            }
        }
        Err(e) => {
            let status = match &e {
                SignError::UnknownKey | SignError::Backend(BackendError::UnknownKey(_)) => {
                    StatusCode::NOT_FOUND
                }
                SignError::BadRequest(_) => StatusCode::BAD_REQUEST,
                SignError::Slashing(_) => StatusCode::PRECONDITION_FAILED,
                SignError::Database(_) | SignError::CheckAborted => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                SignError::Backend(BackendError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            };
            let outcome = match status {
                StatusCode::NOT_FOUND => Outcome::UnknownKey,
                StatusCode::BAD_REQUEST => Outcome::BadRequest,
                StatusCode::PRECONDITION_FAILED => Outcome::RefusedSlashing,
                _ => Outcome::Error,
            };
            state.metrics().record(peek_type(&body), outcome, started.elapsed());
            if status.is_server_error() {
                tracing::error!(target: "signer::http", pubkey = %identifier, error = %e, "sign failed");
            } else {
                tracing::info!(target: "signer::http", pubkey = %identifier, error = %e, "sign refused");
            }
            error(status, &e.to_string())
        }
    }
}
