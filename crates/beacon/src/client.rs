//! The HTTP client: retries with backoff on 5xx/429/timeouts, typed errors, a body cap, and a
//! streaming reader for the all-validators response.

use crate::error::Error;
use crate::stream::{ArrayStream, FeedError};
use crate::types::{
    ApiErrorBody, AttestationRewards, BlockId, FinalityCheckpoints, Fork, Genesis, HeaderData,
    NodeVersion, Response, ResponseMeta, Spec, StateId, SyncStatus, ValidatorBalance,
    ValidatorData, ValidatorId, ValidatorLiveness, ValidatorStatus,
};
use claystack_consensus::hexutil;
use claystack_consensus::units::Gwei;
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::time::Duration;

/// Settings of a [`BeaconClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Timeout of one attempt of an ordinary request (whole body included).
    pub timeout: Duration,
    /// Timeout of one attempt of a streamed request (the all-validators response).
    pub stream_timeout: Duration,
    /// Longest wait for the next chunk of a streamed body (a stalled node is an error).
    pub stream_idle_timeout: Duration,
    /// Retries after the first attempt for 5xx, 429, timeouts and connection errors.
    pub max_retries: u32,
    /// First backoff delay; doubles on every retry.
    pub backoff_base: Duration,
    /// Backoff ceiling.
    pub backoff_max: Duration,
    /// Cap on an ordinary (buffered) response body.
    pub max_response_bytes: u64,
    /// Cap on one element of a streamed array.
    pub max_item_bytes: usize,
    /// Cap on a streamed body in total.
    pub max_stream_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            stream_timeout: Duration::from_secs(600),
            stream_idle_timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            max_response_bytes: 32 * 1024 * 1024,
            max_item_bytes: 64 * 1024,
            max_stream_bytes: 16 * 1024 * 1024 * 1024,
        }
    }
}

/// Query parameters of the validators endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidatorQuery {
    /// Restrict to these validators (empty: all).
    pub ids: Vec<ValidatorId>,
    /// Restrict to these statuses (empty: all).
    pub statuses: Vec<ValidatorStatus>,
}

/// Typed async client of one Beacon API node.
#[derive(Debug, Clone)]
pub struct BeaconClient {
    base: String,
    http: reqwest::Client,
    cfg: ClientConfig,
}

/// Validator indices per attestation-rewards request: bounds the request (about 12 KiB) and the
/// answer (about 150 KiB) whatever the number of validators asked.
pub const ATTESTATION_REWARDS_BATCH: usize = 1_000;
/// Attestation-rewards requests in flight at once (a node replays a state per request).
pub const ATTESTATION_REWARDS_CONCURRENCY: usize = 4;

/// GET ids beyond this many go through the POST form of the validators endpoint (URL length).
const MAX_GET_IDS: usize = 64;

impl BeaconClient {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:5052`).
    pub fn new(base_url: &str, cfg: ClientConfig) -> Result<Self, Error> {
        let base = base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::InvalidUrl { url: base.clone(), reason: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl { url: base, reason: "scheme must be http(s)".into() });
        }
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::InvalidUrl { url: base.clone(), reason: e.to_string() })?;
        Ok(Self { base, http, cfg })
    }

    /// The node's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.cfg.backoff_base.saturating_mul(factor).min(self.cfg.backoff_max)
    }

    /// Sends a request with retries; returns the successful response (status 2xx).
    async fn send(
        &self,
        endpoint: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<reqwest::Response, Error> {
        let url = format!("{}{}", self.base, endpoint);
        let mut attempt: u32 = 0;
        loop {
            let attempts = attempt.saturating_add(1);
            let mut req = match body {
                Some(b) => self.http.post(&url).json(b),
                None => self.http.get(&url),
            };
            req = req.timeout(timeout).header("accept", "application/json");
            let retry_err = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        return Ok(resp);
                    }
                    let code = status.as_u16();
                    let message = error_message(resp, self.cfg.max_response_bytes).await;
                    let endpoint = endpoint.to_string();
                    match code {
                        404 => return Err(Error::NotFound { endpoint, message }),
                        400 => return Err(Error::BadRequest { endpoint, message }),
                        429 | 500 | 502 | 503 | 504 => {
                            Error::Unavailable { endpoint, status: code, attempts, message }
                        }
                        _ => return Err(Error::Status { endpoint, status: code, message }),
                    }
                }
                Err(e) if e.is_timeout() => {
                    Error::Timeout { endpoint: endpoint.to_string(), timeout, attempts }
                }
                Err(e) if e.is_connect() || e.is_request() => {
                    Error::Transport { endpoint: endpoint.to_string(), attempts, source: e }
                }
                Err(e) => {
                    return Err(Error::Transport {
                        endpoint: endpoint.to_string(),
                        attempts,
                        source: e,
                    });
                }
            };
            if attempt >= self.cfg.max_retries {
                return Err(retry_err);
            }
            let delay = self.backoff(attempt);
            tracing::debug!(target: "beacon::client", %endpoint, attempt = attempts, ?delay, error = %retry_err, "retrying");
            tokio::time::sleep(delay).await;
            attempt = attempts;
        }
    }

    /// GETs a buffered JSON body (capped) and decodes it.
    async fn get_json<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, Error> {
        self.request_json(endpoint, None).await
    }

    async fn request_json<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, Error> {
        let limit = self.cfg.max_response_bytes;
        let mut attempt: u32 = 0;
        loop {
            let resp = self.send(endpoint, body, self.cfg.timeout).await?;
            match read_capped(resp, limit).await {
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
                        endpoint: endpoint.to_string(),
                        source,
                    });
                }
                Err(ReadError::TooLarge) => {
                    return Err(Error::TooLarge { endpoint: endpoint.to_string(), limit });
                }
                // A body cut by a timeout or reset is retried like a failed request.
                Err(ReadError::Transport(e)) => {
                    let attempts = attempt.saturating_add(1);
                    if attempt >= self.cfg.max_retries {
                        return Err(if e.is_timeout() {
                            Error::Timeout {
                                endpoint: endpoint.to_string(),
                                timeout: self.cfg.timeout,
                                attempts,
                            }
                        } else {
                            Error::Transport { endpoint: endpoint.to_string(), attempts, source: e }
                        });
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt = attempts;
                }
            }
        }
    }

    /// `GET /eth/v1/beacon/genesis`.
    pub async fn genesis(&self) -> Result<Genesis, Error> {
        Ok(self.get_json::<Response<Genesis>>("/eth/v1/beacon/genesis").await?.data)
    }

    /// `GET /eth/v1/node/version`.
    pub async fn node_version(&self) -> Result<NodeVersion, Error> {
        Ok(self.get_json::<Response<NodeVersion>>("/eth/v1/node/version").await?.data)
    }

    /// `GET /eth/v1/node/syncing`.
    pub async fn syncing(&self) -> Result<SyncStatus, Error> {
        Ok(self.get_json::<Response<SyncStatus>>("/eth/v1/node/syncing").await?.data)
    }

    /// `GET /eth/v1/config/spec`, with the values ClayStack relies on parsed and checked.
    pub async fn spec(&self) -> Result<Spec, Error> {
        let endpoint = "/eth/v1/config/spec";
        let raw =
            self.get_json::<Response<BTreeMap<String, serde_json::Value>>>(endpoint).await?.data;
        parse_spec(raw).map_err(|reason| Error::Invalid { endpoint: endpoint.into(), reason })
    }

    /// `GET /eth/v1/beacon/headers/{block_id}`.
    pub async fn header(&self, block: BlockId) -> Result<Response<HeaderData>, Error> {
        self.get_json(&format!("/eth/v1/beacon/headers/{block}")).await
    }

    /// `GET /eth/v1/beacon/states/{state_id}/finality_checkpoints`.
    pub async fn finality_checkpoints(
        &self,
        state: StateId,
    ) -> Result<Response<FinalityCheckpoints>, Error> {
        self.get_json(&format!("/eth/v1/beacon/states/{state}/finality_checkpoints")).await
    }

    /// `GET /eth/v1/beacon/states/{state_id}/fork`.
    pub async fn fork(&self, state: StateId) -> Result<Response<Fork>, Error> {
        self.get_json(&format!("/eth/v1/beacon/states/{state}/fork")).await
    }

    /// The validators matching `query` (buffered; use [`Self::stream_validators`] for all of them).
    /// More than 64 ids go through the POST form of the endpoint.
    pub async fn validators(
        &self,
        state: StateId,
        query: &ValidatorQuery,
    ) -> Result<Response<Vec<ValidatorData>>, Error> {
        let path = format!("/eth/v1/beacon/states/{state}/validators");
        let resp: Response<Vec<ValidatorData>> = if query.ids.len() > MAX_GET_IDS {
            let body = serde_json::json!({
                "ids": query.ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "statuses": query.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            });
            self.request_json(&path, Some(&body)).await?
        } else {
            self.get_json(&format!("{path}{}", query_string(query))).await?
        };
        for v in &resp.data {
            validate_validator(v)
                .map_err(|reason| Error::Invalid { endpoint: path.clone(), reason })?;
        }
        Ok(resp)
    }

    /// One validator by index or pubkey (`/eth/v1/beacon/states/{state_id}/validators/{id}`).
    pub async fn validator(
        &self,
        state: StateId,
        id: ValidatorId,
    ) -> Result<Response<ValidatorData>, Error> {
        let path = format!("/eth/v1/beacon/states/{state}/validators/{id}");
        let resp: Response<ValidatorData> = self.get_json(&path).await?;
        validate_validator(&resp.data)
            .map_err(|reason| Error::Invalid { endpoint: path, reason })?;
        Ok(resp)
    }

    /// `/eth/v1/beacon/states/{state_id}/validator_balances` (ids empty: all; more than 64 ids go
    /// through the POST form).
    pub async fn validator_balances(
        &self,
        state: StateId,
        ids: &[ValidatorId],
    ) -> Result<Response<Vec<ValidatorBalance>>, Error> {
        let path = format!("/eth/v1/beacon/states/{state}/validator_balances");
        if ids.len() > MAX_GET_IDS {
            // The POST form takes a bare array of ids.
            let body =
                serde_json::Value::from(ids.iter().map(ToString::to_string).collect::<Vec<_>>());
            return self.request_json(&path, Some(&body)).await;
        }
        let q = ValidatorQuery { ids: ids.to_vec(), statuses: Vec::new() };
        self.get_json(&format!("{path}{}", query_string(&q))).await
    }

    /// Streams the validators matching `statuses` (empty: all) without buffering the body: each
    /// validated record is handed to `on_validator` as soon as it is parsed. Memory stays bounded
    /// by one chunk plus one record whatever the registry size. Retries happen only before the
    /// first byte; a stream cut midway is an error (the caller restarts it).
    pub async fn stream_validators<E: std::fmt::Display>(
        &self,
        state: StateId,
        statuses: &[ValidatorStatus],
        mut on_validator: impl FnMut(ValidatorData) -> Result<(), E>,
    ) -> Result<ResponseMeta, Error> {
        let q = ValidatorQuery { ids: Vec::new(), statuses: statuses.to_vec() };
        let endpoint = format!("/eth/v1/beacon/states/{state}/validators{}", query_string(&q));
        let resp = self.send(&endpoint, None, self.cfg.stream_timeout).await?;
        let mut body = resp.bytes_stream();
        let mut parser = ArrayStream::new("data", self.cfg.max_item_bytes);
        let mut handler = |raw: &[u8]| -> Result<(), Error> {
            let v: ValidatorData = serde_json::from_slice(raw)
                .map_err(|source| Error::Decode { endpoint: endpoint.clone(), source })?;
            validate_validator(&v)
                .map_err(|reason| Error::Invalid { endpoint: endpoint.clone(), reason })?;
            on_validator(v)
                .map_err(|e| Error::Handler { endpoint: endpoint.clone(), message: e.to_string() })
        };
        loop {
            let next = tokio::time::timeout(self.cfg.stream_idle_timeout, body.next())
                .await
                .map_err(|_| Error::Timeout {
                    endpoint: endpoint.clone(),
                    timeout: self.cfg.stream_idle_timeout,
                    attempts: 1,
                })?;
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| {
                if e.is_timeout() {
                    Error::Timeout {
                        endpoint: endpoint.clone(),
                        timeout: self.cfg.stream_timeout,
                        attempts: 1,
                    }
                } else {
                    Error::Transport { endpoint: endpoint.clone(), attempts: 1, source: e }
                }
            })?;
            parser.feed(&chunk, &mut handler).map_err(|e| match e {
                FeedError::Malformed(source) => {
                    Error::Stream { endpoint: endpoint.clone(), source }
                }
                FeedError::Handler(e) => e,
            })?;
            if parser.bytes_read() > self.cfg.max_stream_bytes {
                return Err(Error::TooLarge {
                    endpoint: endpoint.clone(),
                    limit: self.cfg.max_stream_bytes,
                });
            }
        }
        parser.finish().map_err(|source| Error::Stream { endpoint, source })
    }

    /// Collects the streamed validators into a vector (convenience for small registries).
    pub async fn all_validators(
        &self,
        state: StateId,
    ) -> Result<(ResponseMeta, Vec<ValidatorData>), Error> {
        let mut out = Vec::new();
        let meta = self
            .stream_validators(state, &[], |v| {
                out.push(v);
                Ok::<(), std::convert::Infallible>(())
            })
            .await?;
        Ok((meta, out))
    }

    /// `POST /eth/v1/validator/liveness/{epoch}`: which of `indices` performed duties in `epoch`.
    pub async fn liveness(
        &self,
        epoch: claystack_consensus::Epoch,
        indices: &[claystack_consensus::ValidatorIndex],
    ) -> Result<Vec<ValidatorLiveness>, Error> {
        let body =
            serde_json::Value::from(indices.iter().map(ToString::to_string).collect::<Vec<_>>());
        let path = format!("/eth/v1/validator/liveness/{epoch}");
        Ok(self.request_json::<Response<Vec<ValidatorLiveness>>>(&path, Some(&body)).await?.data)
    }

    /// `POST /eth/v1/beacon/rewards/attestations/{epoch}` for `indices` (duplicates ignored), in
    /// batches of [`ATTESTATION_REWARDS_BATCH`] with at most [`ATTESTATION_REWARDS_CONCURRENCY`]
    /// in flight, merged into one answer. Every answered validator is one that was asked, at
    /// most once; amounts may be negative. A node may leave out validators that were not
    /// eligible in the epoch, so callers that need every asked validator check the answer's
    /// coverage. An epoch the node cannot compute (not ended with its successor, or its state no
    /// longer held) is refused with 400 or 404 ([`Error::is_refused`]). No indices: an empty
    /// answer without a request (the endpoint reads an empty list as "every validator").
    /// The merged `finalized` is true only if every batch said so; `execution_optimistic` is
    /// true if any batch said so.
    pub async fn attestation_rewards(
        &self,
        epoch: claystack_consensus::Epoch,
        indices: &[claystack_consensus::ValidatorIndex],
    ) -> Result<Response<AttestationRewards>, Error> {
        let mut asked = indices.to_vec();
        asked.sort_unstable();
        asked.dedup();
        let path = format!("/eth/v1/beacon/rewards/attestations/{epoch}");
        // owned batches and a named future: a closure over borrowed chunks makes the future
        // not `Send` for every lifetime, which spawned callers need
        let batches: Vec<Vec<claystack_consensus::ValidatorIndex>> =
            asked.chunks(ATTESTATION_REWARDS_BATCH).map(<[_]>::to_vec).collect();
        let answers: Vec<Response<AttestationRewards>> = futures::stream::iter(batches)
            .map(|batch| self.attestation_rewards_batch(&path, batch))
            .buffered(ATTESTATION_REWARDS_CONCURRENCY)
            .try_collect()
            .await?;
        merge_attestation_rewards(answers)
            .map_err(|reason| Error::Invalid { endpoint: path, reason })
    }

    /// One batch of [`Self::attestation_rewards`] (`batch` sorted, distinct), checked.
    async fn attestation_rewards_batch(
        &self,
        path: &str,
        batch: Vec<claystack_consensus::ValidatorIndex>,
    ) -> Result<Response<AttestationRewards>, Error> {
        let body =
            serde_json::Value::from(batch.iter().map(ToString::to_string).collect::<Vec<_>>());
        let r: Response<AttestationRewards> = self.request_json(path, Some(&body)).await?;
        check_attestation_rewards(&batch, &r.data)
            .map_err(|reason| Error::Invalid { endpoint: path.to_owned(), reason })?;
        Ok(r)
    }

    /// `GET /eth/v1/node/health`: `Ok(status)` with 200 (ready) or 206 (syncing).
    pub async fn health(&self) -> Result<u16, Error> {
        let resp = self.send("/eth/v1/node/health", None, self.cfg.timeout).await?;
        Ok(resp.status().as_u16())
    }
}

/// Checks one batch's answer against the question (`asked` sorted, distinct): every answered
/// validator was asked, none twice; no effective balance has two ideal-reward entries.
fn check_attestation_rewards(
    asked: &[claystack_consensus::ValidatorIndex],
    got: &AttestationRewards,
) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for r in &got.total_rewards {
        let i = r.validator_index;
        if asked.binary_search(&i).is_err() {
            return Err(format!("attestation rewards of validator {i}, which was not asked"));
        }
        if !seen.insert(i) {
            return Err(format!("attestation rewards of validator {i} listed twice"));
        }
    }
    let mut balances = std::collections::BTreeSet::new();
    for r in &got.ideal_rewards {
        if !balances.insert(r.effective_balance) {
            return Err(format!(
                "ideal attestation rewards of effective balance {} listed twice",
                r.effective_balance
            ));
        }
    }
    Ok(())
}

/// Merges batch answers (disjoint validators): flags combined conservatively, ideal rewards
/// deduplicated by effective balance (two batches must agree on them).
fn merge_attestation_rewards(
    answers: Vec<Response<AttestationRewards>>,
) -> Result<Response<AttestationRewards>, String> {
    let mut optimistic = Some(false);
    let mut finalized = Some(true);
    let mut ideal = BTreeMap::new();
    let mut total = Vec::new();
    let any = !answers.is_empty();
    for a in answers {
        optimistic = match (optimistic, a.execution_optimistic) {
            (_, Some(true)) | (Some(true), _) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
        finalized = match (finalized, a.finalized) {
            (_, Some(false)) | (Some(false), _) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        for r in a.data.ideal_rewards {
            if let Some(prev) = ideal.insert(r.effective_balance, r)
                && prev != r
            {
                return Err(format!(
                    "batches disagree on the ideal attestation rewards of effective balance {}",
                    r.effective_balance
                ));
            }
        }
        total.extend(a.data.total_rewards);
    }
    Ok(Response {
        execution_optimistic: optimistic.filter(|_| any),
        finalized: finalized.filter(|_| any),
        data: AttestationRewards {
            ideal_rewards: ideal.into_values().collect(),
            total_rewards: total,
        },
    })
}

fn query_string(q: &ValidatorQuery) -> String {
    let mut parts = Vec::new();
    if !q.ids.is_empty() {
        parts.push(format!(
            "id={}",
            q.ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
        ));
    }
    if !q.statuses.is_empty() {
        parts.push(format!(
            "status={}",
            q.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
        ));
    }
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// Checks what serde cannot: a record's status is one of the nine fine-grained ones and its
/// epochs are ordered.
pub fn validate_validator(v: &ValidatorData) -> Result<(), String> {
    if !ValidatorStatus::FINE.contains(&v.status) {
        return Err(format!("validator {}: {:?} is a filter, not a status", v.index, v.status));
    }
    let r = &v.validator;
    if r.activation_epoch.get() != u64::MAX && r.exit_epoch < r.activation_epoch {
        return Err(format!(
            "validator {}: exit epoch {} before activation epoch {}",
            v.index, r.exit_epoch, r.activation_epoch
        ));
    }
    if r.exit_epoch.get() != u64::MAX && r.withdrawable_epoch < r.exit_epoch {
        return Err(format!(
            "validator {}: withdrawable epoch {} before exit epoch {}",
            v.index, r.withdrawable_epoch, r.exit_epoch
        ));
    }
    if r.slashed && r.exit_epoch.get() == u64::MAX {
        return Err(format!("validator {}: slashed without an exit epoch", v.index));
    }
    Ok(())
}

fn spec_u64(raw: &BTreeMap<String, serde_json::Value>, key: &str) -> Result<u64, String> {
    let v = raw.get(key).ok_or_else(|| format!("spec has no {key}"))?;
    hexutil::deserialize_u64_lenient(v).map_err(|e| format!("spec {key}: {e}"))
}

/// Parses the values ClayStack needs out of a `/eth/v1/config/spec` map.
pub fn parse_spec(raw: BTreeMap<String, serde_json::Value>) -> Result<Spec, String> {
    let seconds_per_slot = spec_u64(&raw, "SECONDS_PER_SLOT")?;
    let slots_per_epoch = spec_u64(&raw, "SLOTS_PER_EPOCH")?;
    if seconds_per_slot == 0 || slots_per_epoch == 0 {
        return Err("spec SECONDS_PER_SLOT and SLOTS_PER_EPOCH must be positive".into());
    }
    let max_effective_balance = Gwei(spec_u64(&raw, "MAX_EFFECTIVE_BALANCE")?);
    let effective_balance_increment = Gwei(spec_u64(&raw, "EFFECTIVE_BALANCE_INCREMENT")?);
    if effective_balance_increment.get() == 0 {
        return Err("spec EFFECTIVE_BALANCE_INCREMENT must be positive".into());
    }
    let deposit_contract_address = match raw.get("DEPOSIT_CONTRACT_ADDRESS") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(
            hexutil::decode_fixed::<20>(s)
                .map_err(|e| format!("spec DEPOSIT_CONTRACT_ADDRESS: {e}"))?,
        ),
        Some(_) => return Err("spec DEPOSIT_CONTRACT_ADDRESS is not a string".into()),
    };
    Ok(Spec {
        raw,
        seconds_per_slot,
        slots_per_epoch,
        max_effective_balance,
        effective_balance_increment,
        deposit_contract_address,
    })
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_capped(resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(ReadError::Transport)?;
        if u64::try_from(out.len().saturating_add(chunk.len())).unwrap_or(u64::MAX) > limit {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn error_message(resp: reqwest::Response, limit: u64) -> String {
    let status = resp.status();
    match read_capped(resp, limit.min(64 * 1024)).await {
        Ok(bytes) => match serde_json::from_slice::<ApiErrorBody>(&bytes) {
            Ok(b) => b.message,
            Err(_) if bytes.is_empty() => status.canonical_reason().unwrap_or("").to_string(),
            Err(_) => String::from_utf8_lossy(bytes.get(..200).unwrap_or(&bytes)).into_owned(),
        },
        Err(_) => status.canonical_reason().unwrap_or("").to_string(),
    }
}
