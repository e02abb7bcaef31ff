//! The signing flow shared by the HTTP layer and in-process callers:
//! parse → compute the signing root → check-and-record in the slashing database → sign.

use crate::{
    backend::{BackendError, SigningBackend},
    messages::{PublicKeyBytes, SignatureBytes},
    metrics::SignerMetrics,
    request::{RequestError, SignRequest, SigningPlan, SlashingCheck},
    spec::NetworkSpec,
};
use claystack_slashing::SlashingDatabase;
use std::sync::Arc;

/// Why a request was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No key for this public key (HTTP 404).
    #[error("unknown public key")]
    UnknownKey,
    /// The request is malformed or inconsistent (HTTP 400).
    #[error(transparent)]
    BadRequest(#[from] RequestError),
    /// Slashing protection refused (HTTP 412).
    #[error("slashing protection: {0}")]
    Slashing(claystack_slashing::NotSafe),
    /// The slashing database failed; nothing was signed (HTTP 500).
    #[error("slashing protection database: {0}")]
    Database(claystack_slashing::Error),
    /// The slashing check could not run to completion (its task was cancelled or panicked);
    /// nothing was signed (HTTP 500).
    #[error("slashing protection check did not complete")]
    CheckAborted,
    /// The backend failed (HTTP 500, or 503 when unavailable).
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Everything a signer needs: backend, slashing database and network parameters.
#[derive(Debug)]
pub struct SignerState<B> {
    backend: B,
    slashing: Option<Arc<SlashingDatabase>>,
    spec: NetworkSpec,
    auth_token: Option<String>,
    metrics: SignerMetrics,
}

impl<B: SigningBackend> SignerState<B> {
    /// A signer with slashing protection; registers the backend's keys in the database.
    pub fn new(
        backend: B,
        slashing: Arc<SlashingDatabase>,
        spec: NetworkSpec,
    ) -> Result<Self, claystack_slashing::Error> {
        slashing.register_validators(backend.public_keys().iter())?;
        Ok(Self {
            backend,
            slashing: Some(slashing),
            spec,
            auth_token: None,
            metrics: SignerMetrics::default(),
        })
    }

    /// A signer without slashing protection, for a front whose backend enforces it itself
    /// (each node of a threshold cluster keeps its own database). Never use it over keys that
    /// sign alone.
    pub fn without_slashing_protection(backend: B, spec: NetworkSpec) -> Self {
        Self { backend, slashing: None, spec, auth_token: None, metrics: SignerMetrics::default() }
    }

    /// Requires `Authorization: Bearer <token>` on every route but `/upcheck`.
    #[must_use]
    pub fn with_auth_token(mut self, token: Option<String>) -> Self {
        self.auth_token = token;
        self
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The network parameters.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// The request counters served on `GET /metrics`.
    pub fn metrics(&self) -> &SignerMetrics {
        &self.metrics
    }

    /// The bearer token required, if any.
    pub fn auth_token(&self) -> Option<&str> {
        self.auth_token.as_deref()
    }

    /// Signs a request body for `pubkey`: parse, compute the root, check and record in the
    /// slashing database (committed before signing), then sign.
    pub async fn sign_json(
        &self,
        pubkey: &PublicKeyBytes,
        body: &[u8],
    ) -> Result<(SigningPlan, SignatureBytes), SignError> {
        // Unknown keys are 404 before the body is even parsed, as Web3Signer does.
        if !self.backend.has_key(pubkey) {
            return Err(SignError::UnknownKey);
        }
        let request = SignRequest::from_json(body)?;
        self.sign_request(pubkey, &request).await
    }

    /// Signs a parsed request (see [`Self::sign_json`]).
    pub async fn sign_request(
        &self,
        pubkey: &PublicKeyBytes,
        request: &SignRequest,
    ) -> Result<(SigningPlan, SignatureBytes), SignError> {
        if !self.backend.has_key(pubkey) {
            return Err(SignError::UnknownKey);
        }
        let plan = request.plan(&self.spec)?;
        if let (Some(db), Some(check)) = (&self.slashing, plan.slashing) {
            let db = Arc::clone(db);
            let pubkey = *pubkey;
            // The commit fsyncs: keep it off the async workers.
            tokio::task::spawn_blocking(move || record(&db, &pubkey, &plan, check))
                .await
                .map_err(|_| SignError::CheckAborted)??;
        }
        let signature = self.backend.sign_with_context(pubkey, &plan, request).await?;
        Ok((plan, signature))
    }

    /// [`Self::sign_request`] without a detour through the blocking pool, for callers that are
    /// not on an async runtime worker (benchmarks, synchronous tools).
    pub async fn sign_request_inline(
        &self,
        pubkey: &PublicKeyBytes,
        request: &SignRequest,
    ) -> Result<(SigningPlan, SignatureBytes), SignError> {
        if !self.backend.has_key(pubkey) {
            return Err(SignError::UnknownKey);
        }
        let plan = request.plan(&self.spec)?;
        if let (Some(db), Some(check)) = (&self.slashing, plan.slashing) {
            record(db, pubkey, &plan, check)?;
        }
        let signature = self.backend.sign_with_context(pubkey, &plan, request).await?;
        Ok((plan, signature))
    }
}

fn record(
    db: &SlashingDatabase,
    pubkey: &PublicKeyBytes,
    plan: &SigningPlan,
    check: SlashingCheck,
) -> Result<(), SignError> {
    let gvr = plan
        .genesis_validators_root
        .ok_or(SignError::BadRequest(RequestError::MissingForkInfo(plan.kind)))?;
    let result = match check {
        SlashingCheck::Block { slot } => {
            db.check_and_insert_block_proposal(gvr, pubkey, slot, plan.signing_root)
        }
        SlashingCheck::Attestation { source, target } => {
            db.check_and_insert_attestation(gvr, pubkey, source, target, plan.signing_root)
        }
    };
    match result {
        Ok(_) => Ok(()),
        Err(claystack_slashing::Error::NotSafe(n)) => Err(SignError::Slashing(n)),
        Err(e) => Err(SignError::Database(e)),
    }
}
