//! Voluntary exits for an operator's exit requests: find the key's secret among the operator's
//! own keys, sign `VoluntaryExit(epoch, validator_index)` under the EIP-7044 domain (Capella fork
//! version when the node names one, else the head fork's), and submit it to the Beacon API
//! (`POST /eth/v1/beacon/pool/voluntary_exits`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy::primitives::U256;
use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_consensus::{
    DomainType, Epoch, ForkVersion, HashTreeRoot, Root, ValidatorIndex, compute_domain,
    compute_signing_root, ssz::container_root,
};
use claystack_keys::{SecretKey, decrypt_keystore_file, derive_validators};

use crate::{error::ClientError, operator::Operators};

/// `hash_tree_root(VoluntaryExit)`.
#[must_use]
pub fn voluntary_exit_root(epoch: Epoch, validator_index: ValidatorIndex) -> Root {
    container_root(&[epoch.0.hash_tree_root(), validator_index.0.hash_tree_root()])
}

/// The signing root of a voluntary exit under `fork_version` and `genesis_validators_root`.
#[must_use]
pub fn voluntary_exit_signing_root(
    epoch: Epoch,
    validator_index: ValidatorIndex,
    fork_version: ForkVersion,
    genesis_validators_root: Root,
) -> Root {
    let domain = compute_domain(DomainType::VOLUNTARY_EXIT, fork_version, genesis_validators_root);
    compute_signing_root(voluntary_exit_root(epoch, validator_index), domain)
}

/// The JSON body of `POST /eth/v1/beacon/pool/voluntary_exits`.
#[must_use]
pub fn signed_exit_json(
    sk: &SecretKey,
    epoch: Epoch,
    validator_index: ValidatorIndex,
    fork_version: ForkVersion,
    genesis_validators_root: Root,
) -> serde_json::Value {
    let root =
        voluntary_exit_signing_root(epoch, validator_index, fork_version, genesis_validators_root);
    let signature = sk.sign(&root);
    serde_json::json!({
        "message": { "epoch": epoch.0.to_string(), "validator_index": validator_index.0.to_string() },
        "signature": format!("0x{}", alloy::primitives::hex::encode(signature)),
    })
}

/// The operator's secret keys by public key.
#[derive(Default)]
pub struct KeyRing {
    keys: HashMap<[u8; 48], SecretKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({} keys)", self.keys.len())
    }
}

impl KeyRing {
    /// Keys `start..start + count` of a mnemonic (EIP-2334 signing keys).
    pub fn from_mnemonic(phrase: &str, start: u32, count: u32) -> Result<Self, ClientError> {
        let mnemonic = claystack_keys::Mnemonic::parse(phrase.trim())
            .map_err(|e| ClientError::Config(format!("read mnemonic: {e}")))?;
        let seed = mnemonic.to_seed("");
        let keys = derive_validators(seed.as_ref(), start, count, &|_| {})
            .map_err(|e| ClientError::Config(format!("derive validator keys: {e}")))?;
        Ok(Self { keys: keys.into_iter().map(|k| (k.pubkey(), k.signing)).collect() })
    }

    /// Every EIP-2335 keystore (`*.json`) in `dir`.
    pub fn from_keystores(dir: &std::path::Path, password: &str) -> Result<Self, ClientError> {
        let read = |e: std::io::Error| ClientError::Config(format!("read {}: {e}", dir.display()));
        let mut keys = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(read)? {
            let path = entry.map_err(read)?.path();
            if path.extension().is_some_and(|x| x == "json") {
                let sk = decrypt_keystore_file(&path, password)
                    .map_err(|e| ClientError::Config(format!("decrypt {}: {e}", path.display())))?;
                keys.insert(sk.public_key(), sk);
            }
        }
        Ok(Self { keys })
    }

    /// The secret of `pubkey`, when held.
    #[must_use]
    pub fn get(&self, pubkey: &[u8]) -> Option<&SecretKey> {
        <[u8; 48]>::try_from(pubkey).ok().and_then(|k| self.keys.get(&k))
    }

    /// Number of keys held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What one watch round did for one exit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitOutcome {
    /// Signed and accepted by the beacon node.
    Submitted {
        /// Registry key index.
        key_index: U256,
        /// Beacon validator index.
        validator_index: u64,
        /// Deadline of the request (unix seconds).
        deadline: U256,
    },
    /// Not handled this round, and why.
    Skipped {
        /// Registry key index.
        key_index: U256,
        /// Why.
        reason: String,
    },
}

/// Epochs an accepted exit may wait in the node's pool before the watcher checks the validator
/// again and, when it is still not exiting, submits the exit again.
pub const RESUBMIT_AFTER_EPOCHS: u64 = 2;

/// Times the watcher submits an exit again for one request before it gives up (and says so).
pub const MAX_RESUBMISSIONS: u32 = 5;

/// An exit the node accepted into its pool, not yet seen on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pooled {
    /// Head epoch when it was last submitted.
    epoch: Epoch,
    /// Submissions so far (1 for the first).
    submissions: u32,
}

/// Watches one operator's exit requests and answers them with signed voluntary exits.
///
/// An exit accepted by the beacon node only sits in its operation pool: the node can drop it
/// (a restart, an eviction, an exit found invalid at inclusion). So an accepted exit is not an
/// answer yet: when the validator is still not exiting [`RESUBMIT_AFTER_EPOCHS`] epochs after a
/// submission, the exit is signed and submitted again (logged, at most [`MAX_RESUBMISSIONS`]
/// times, then the watcher gives up on that request and says so). A validator seen exiting (or
/// exited, or slashed) is the answer, and is not asked about again while the request stays
/// open. State is in memory: after a restart a validator already exiting counts as answered
/// and an exit still in the pool is accepted again as a duplicate.
#[derive(Debug)]
pub struct ExitWatcher {
    ops: Operators,
    operator_id: U256,
    beacon: BeaconClient,
    http: reqwest::Client,
    keys: KeyRing,
    /// Requests answered for good: the validator exits, or the watcher gave up.
    answered: BTreeSet<U256>,
    /// Exits accepted into the node's pool, waiting to be seen on chain.
    pooled: BTreeMap<U256, Pooled>,
}

impl ExitWatcher {
    /// A watcher for `operator_id`, signing with `keys`, submitting to the node at `beacon_url`.
    pub fn new(
        ops: Operators,
        operator_id: U256,
        beacon_url: &str,
        keys: KeyRing,
    ) -> Result<Self, ClientError> {
        let beacon = BeaconClient::new(beacon_url, ClientConfig::default())
            .map_err(|e| ClientError::Config(format!("beacon node {beacon_url}: {e}")))?;
        Ok(Self {
            ops,
            operator_id,
            beacon,
            http: reqwest::Client::new(),
            keys,
            answered: BTreeSet::new(),
            pooled: BTreeMap::new(),
        })
    }

    async fn domain_inputs(&self) -> Result<(ForkVersion, Root, Epoch), ClientError> {
        let beacon = |action: &str, e: claystack_beacon::Error| {
            ClientError::Config(format!("beacon node: {action}: {e}"))
        };
        let genesis = self.beacon.genesis().await.map_err(|e| beacon("read genesis", e))?;
        let spec = self.beacon.spec().await.map_err(|e| beacon("read spec", e))?;
        // EIP-7044: exits are signed with the Capella fork version from Deneb on
        let capella = spec
            .raw
            .get("CAPELLA_FORK_VERSION")
            .and_then(|v| v.as_str())
            .and_then(|s| alloy::primitives::hex::decode(s).ok())
            .and_then(|b| <[u8; 4]>::try_from(b).ok());
        let fork_version = match capella {
            Some(v) => v,
            None => {
                self.beacon
                    .fork(StateId::Head)
                    .await
                    .map_err(|e| beacon("read fork", e))?
                    .data
                    .current_version
            }
        };
        let head = self.beacon.header(StateId::Head).await.map_err(|e| beacon("read head", e))?;
        let epoch =
            Epoch(head.data.header.message.slot.0.checked_div(spec.slots_per_epoch).unwrap_or(0));
        Ok((fork_version, genesis.genesis_validators_root, epoch))
    }

    /// One round: every open exit request not yet answered gets a signed voluntary exit, and an
    /// exit accepted [`RESUBMIT_AFTER_EPOCHS`] epochs ago whose validator is still not exiting is
    /// submitted again. An exit waiting in the pool yields no outcome (see
    /// [`Self::waiting_for_inclusion`]).
    pub async fn poll_once(&mut self) -> Result<Vec<ExitOutcome>, ClientError> {
        let requests = self.ops.exit_requests(self.operator_id).await?;
        // a closed request is forgotten (asked again later, it is looked at afresh)
        self.answered.retain(|k| requests.iter().any(|(r, _)| r == k));
        self.pooled.retain(|k, _| requests.iter().any(|(r, _)| r == k));
        let open: Vec<_> =
            requests.into_iter().filter(|(k, _)| !self.answered.contains(k)).collect();
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let domain = self.domain_inputs().await?;
        let mut out = Vec::new();
        for (key_index, deadline) in open {
            if !self.due(key_index, domain.2) {
                continue;
            }
            let pubkey = self.ops.key_pubkey(self.operator_id, key_index).await?;
            out.push(self.answer(key_index, deadline, &pubkey, domain).await?);
        }
        Ok(out)
    }

    /// Exits accepted into the node's pool and not yet seen on chain.
    #[must_use]
    pub fn waiting_for_inclusion(&self) -> usize {
        self.pooled.len()
    }

    /// Whether request `key_index` needs work at head epoch `epoch`: never submitted, or
    /// submitted at least [`RESUBMIT_AFTER_EPOCHS`] epochs ago.
    fn due(&self, key_index: U256, epoch: Epoch) -> bool {
        self.pooled
            .get(&key_index)
            .is_none_or(|p| epoch.0.saturating_sub(p.epoch.0) >= RESUBMIT_AFTER_EPOCHS)
    }

    /// Submits (or submits again) the exit of request `key_index` and records what it means.
    async fn answer(
        &mut self,
        key_index: U256,
        deadline: U256,
        pubkey: &[u8],
        domain: (ForkVersion, Root, Epoch),
    ) -> Result<ExitOutcome, ClientError> {
        let before = self.pooled.get(&key_index).copied();
        if let Some(p) = before
            && p.submissions > MAX_RESUBMISSIONS
        {
            // checked again below: a validator exiting by now is still the answer
            let (status, exiting) = self.validator_status(pubkey).await;
            self.pooled.remove(&key_index);
            self.answered.insert(key_index);
            if exiting {
                return Ok(ExitOutcome::Skipped { key_index, reason: status });
            }
            tracing::error!(target: "client::exits", operator = %self.operator_id, %key_index, submissions = p.submissions, %deadline, "the beacon node keeps dropping the voluntary exit: giving up");
            let reason = format!(
                "the exit was submitted {} times and the validator is still not exiting ({status}): \
                 giving up; check the beacon node and submit it by hand before unix {deadline}",
                p.submissions
            );
            return Ok(ExitOutcome::Skipped { key_index, reason });
        }
        let (outcome, result) = self.submit(key_index, deadline, pubkey, domain).await?;
        match result {
            Submission::Accepted => {
                let submissions = before.map_or(1, |p| p.submissions.saturating_add(1));
                if let Some(p) = before {
                    tracing::warn!(target: "client::exits", operator = %self.operator_id, %key_index, submitted_epoch = p.epoch.0, epoch = domain.2.0, submissions, "the validator is still not exiting: the node dropped the pooled exit, submitted again");
                }
                self.pooled.insert(key_index, Pooled { epoch: domain.2, submissions });
            }
            Submission::Exiting => {
                self.pooled.remove(&key_index);
                self.answered.insert(key_index);
            }
            // refused or not signable: tried again next round (a pooled record, if any, stays
            // and keeps counting)
            Submission::NotDone => {}
        }
        Ok(outcome)
    }

    /// The validator's status in words, and whether it is exiting already (or beyond).
    async fn validator_status(&self, pubkey: &[u8]) -> (String, bool) {
        let Ok(pk) = <[u8; 48]>::try_from(pubkey) else {
            return ("not a public key".into(), false);
        };
        match self.beacon.validator(StateId::Head, ValidatorId::Pubkey(pk)).await {
            Ok(v) => {
                let exiting = !is_exitable(v.data.status);
                let word = if exiting { "already" } else { "still" };
                (
                    format!("validator {} is {word} {}", v.data.index.0, v.data.status.as_str()),
                    exiting,
                )
            }
            Err(e) => (format!("validator not found on the beacon chain: {e}"), false),
        }
    }

    /// Runs [`Self::poll_once`] every `poll` until `shutdown` resolves, calling `on_outcome` for
    /// each outcome; a failed round is logged and retried at the next one.
    pub async fn run(
        &mut self,
        poll: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()>,
        mut on_outcome: impl FnMut(&ExitOutcome),
    ) {
        tokio::pin!(shutdown);
        loop {
            let round = tokio::select! {
                r = self.poll_once() => r,
                () = &mut shutdown => return,
            };
            match round {
                Ok(outcomes) => outcomes.iter().for_each(&mut on_outcome),
                Err(e) => {
                    tracing::warn!(target: "client::exits", operator = %self.operator_id, error = %e, "exit watch round failed");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// Signs and submits the voluntary exit of the validator `pubkey` (Beacon API only), unless
    /// it exits already.
    async fn submit(
        &self,
        key_index: U256,
        deadline: U256,
        pubkey: &[u8],
        (fork_version, gvr, epoch): (ForkVersion, Root, Epoch),
    ) -> Result<(ExitOutcome, Submission), ClientError> {
        let skipped =
            |reason: String| Ok((ExitOutcome::Skipped { key_index, reason }, Submission::NotDone));
        let (Some(sk), Ok(pk)) = (self.keys.get(pubkey), <[u8; 48]>::try_from(pubkey)) else {
            return skipped(format!(
                "no secret key for 0x{}",
                alloy::primitives::hex::encode(pubkey)
            ));
        };
        let (validator, status) =
            match self.beacon.validator(StateId::Head, ValidatorId::Pubkey(pk)).await {
                Ok(v) => (v.data.index, v.data.status),
                Err(e) => return skipped(format!("validator not found on the beacon chain: {e}")),
            };
        if !is_exitable(status) {
            // exiting already (an earlier run's exit, a forced exit, a slashing): nothing to sign
            let reason = format!("validator {} is already {}", validator.0, status.as_str());
            return Ok((ExitOutcome::Skipped { key_index, reason }, Submission::Exiting));
        }
        let body = signed_exit_json(sk, epoch, validator, fork_version, gvr);
        let url = format!("{}/eth/v1/beacon/pool/voluntary_exits", self.beacon.base_url());
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| ClientError::Config(format!("submit voluntary exit to {url}: {e}")))?;
        if resp.status().is_success() {
            let done = ExitOutcome::Submitted { key_index, validator_index: validator.0, deadline };
            return Ok((done, Submission::Accepted));
        }
        let status = resp.status();
        let text = bounded_text(resp, MAX_ERROR_BODY).await;
        skipped(format!("beacon node refused the exit ({status}): {text}"))
    }
}

/// What a submission did for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Submission {
    /// The node took the exit into its pool: not an answer until the validator exits.
    Accepted,
    /// The validator is exiting (or beyond) already: the request is answered.
    Exiting,
    /// Refused, or not signable: try again next round.
    NotDone,
}

/// Whether a validator in `status` has not started exiting (a voluntary exit is still needed).
fn is_exitable(status: ValidatorStatus) -> bool {
    matches!(
        status,
        ValidatorStatus::ActiveOngoing
            | ValidatorStatus::PendingInitialized
            | ValidatorStatus::PendingQueued
    )
}

/// Bytes of a refusal's body kept for the message.
const MAX_ERROR_BODY: usize = 2_048;

/// The start of a response body as text, reading at most `limit` bytes of it.
async fn bounded_text(mut resp: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while body.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(target: "client::exits", error = %e, "read the refusal body");
                break;
            }
        }
    }
    let truncated = body.len() > limit;
    body.truncate(limit);
    let mut text = String::from_utf8_lossy(&body).into_owned();
    if truncated {
        text.push_str(" …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    use alloy::primitives::Address;

    const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn signed_exit_verifies_under_its_domain() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 2).unwrap();
        assert_eq!(ring.len(), 2);
        let (pk, sk) = ring.keys.iter().next().unwrap();
        let gvr = [7u8; 32];
        let body = signed_exit_json(sk, Epoch(5), ValidatorIndex(42), [1, 2, 3, 4], gvr);
        assert_eq!(body["message"]["epoch"], "5");
        assert_eq!(body["message"]["validator_index"], "42");
        let sig = alloy::primitives::hex::decode(body["signature"].as_str().unwrap()).unwrap();
        let root = voluntary_exit_signing_root(Epoch(5), ValidatorIndex(42), [1, 2, 3, 4], gvr);
        assert!(claystack_keys::bls::verify(pk, &root, &sig).unwrap());
        // another fork version, index or epoch gives another root: the signature does not carry over
        let other = voluntary_exit_signing_root(Epoch(5), ValidatorIndex(43), [1, 2, 3, 4], gvr);
        assert!(!claystack_keys::bls::verify(pk, &other, &sig).unwrap());
        assert!(
            ring.get(pk).is_some() && ring.get(&[0u8; 48]).is_none() && ring.get(&[1]).is_none()
        );
    }

    /// A Beacon API stand-in: the reads the watcher makes, and the pool endpoint recording bodies.
    async fn mock_beacon(
        accept: bool,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        mock_beacon_with(accept, "active_ongoing", 10).await
    }

    /// The mock with the validator's `status` and a refusal body of `refusal_len` bytes.
    async fn mock_beacon_with(
        accept: bool,
        status: &'static str,
        refusal_len: usize,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        let head = std::sync::Arc::new(std::sync::Mutex::new(Head { slot: 100, status }));
        let (url, seen) = mock_beacon_head(accept, refusal_len, head).await;
        (url, seen)
    }

    /// What the mock node's head says: its slot (32 slots an epoch) and the validator's status.
    struct Head {
        slot: u64,
        status: &'static str,
    }

    /// The mock serving `head`, which the test may change between rounds.
    async fn mock_beacon_head(
        accept: bool,
        refusal_len: usize,
        head: std::sync::Arc<std::sync::Mutex<Head>>,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        use axum::{
            Json, Router,
            http::StatusCode,
            routing::{get, post},
        };
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        let head_slot = std::sync::Arc::clone(&head);
        let app = Router::new()
            .route(
                "/eth/v1/beacon/genesis",
                get(|| async {
                    Json(serde_json::json!({"data": {
                        "genesis_time": "1606824023",
                        "genesis_validators_root": format!("0x{}", "07".repeat(32)),
                        "genesis_fork_version": "0x00000000"}}))
                }),
            )
            .route(
                "/eth/v1/config/spec",
                get(|| async {
                    Json(serde_json::json!({"data": {
                        "SECONDS_PER_SLOT": "12", "SLOTS_PER_EPOCH": "32",
                        "MAX_EFFECTIVE_BALANCE": "32000000000",
                        "EFFECTIVE_BALANCE_INCREMENT": "1000000000",
                        "CAPELLA_FORK_VERSION": "0x03000000"}}))
                }),
            )
            .route(
                "/eth/v1/beacon/headers/head",
                get(move || async move {
                    let slot = head_slot.lock().unwrap().slot.to_string();
                    let z = format!("0x{}", "00".repeat(32));
                    Json(serde_json::json!({"data": {"root": z, "canonical": true, "header": {
                        "message": {"slot": slot, "proposer_index": "1", "parent_root": z,
                                    "state_root": z, "body_root": z},
                        "signature": format!("0x{}", "00".repeat(96))}}}))
                }),
            )
            .route(
                "/eth/v1/beacon/states/head/validators/{id}",
                get(move |axum::extract::Path(id): axum::extract::Path<String>| async move {
                    let status = head.lock().unwrap().status;
                    let far = u64::MAX.to_string();
                    Json(serde_json::json!({"data": {
                        "index": "42", "balance": "32000000000", "status": status,
                        "validator": {"pubkey": id,
                            "withdrawal_credentials": format!("0x01{}", "00".repeat(31)),
                            "effective_balance": "32000000000", "slashed": false,
                            "activation_eligibility_epoch": "0", "activation_epoch": "0",
                            "exit_epoch": far, "withdrawable_epoch": far}}}))
                }),
            )
            .route(
                "/eth/v1/beacon/pool/voluntary_exits",
                post(move |Json(body): Json<serde_json::Value>| {
                    let record = std::sync::Arc::clone(&record);
                    async move {
                        record.lock().unwrap().push(body);
                        let code = if accept { StatusCode::OK } else { StatusCode::BAD_REQUEST };
                        (code, "x".repeat(refusal_len))
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, seen)
    }

    fn watcher(url: &str, ring: KeyRing) -> ExitWatcher {
        // the chain is never read by `submit`
        let conn = crate::wallet::Connection::connect("http://127.0.0.1:1", None).unwrap();
        let ops = Operators::new(conn.provider, Address::ZERO, Address::ZERO);
        ExitWatcher::new(ops, U256::from(3u64), url, ring).unwrap()
    }

    #[tokio::test]
    async fn submits_a_verifiable_exit_to_the_beacon_api() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let (url, seen) = mock_beacon(true).await;
        let w = watcher(&url, ring);
        let domain = w.domain_inputs().await.unwrap();
        assert_eq!(domain, ([3, 0, 0, 0], [7u8; 32], Epoch(3)));
        let out = w.submit(U256::from(5u64), U256::from(99u64), &pk, domain).await.unwrap();
        assert_eq!(
            out,
            (
                ExitOutcome::Submitted {
                    key_index: U256::from(5u64),
                    validator_index: 42,
                    deadline: U256::from(99u64)
                },
                Submission::Accepted
            )
        );
        let body = seen.lock().unwrap()[0].clone();
        assert_eq!(body["message"]["validator_index"], "42");
        assert_eq!(body["message"]["epoch"], "3");
        let sig = alloy::primitives::hex::decode(body["signature"].as_str().unwrap()).unwrap();
        let root = voluntary_exit_signing_root(Epoch(3), ValidatorIndex(42), [3, 0, 0, 0], [7; 32]);
        assert!(claystack_keys::bls::verify(&pk, &root, &sig).unwrap());

        // a key the operator does not hold is skipped, nothing posted
        let (out, done) = w.submit(U256::from(6u64), U256::ZERO, &[9u8; 48], domain).await.unwrap();
        assert!(
            matches!(out, ExitOutcome::Skipped { ref reason, .. } if reason.contains("no secret key"))
        );
        assert_eq!(done, Submission::NotDone);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_refused_exit_is_reported_not_counted() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let (url, _) = mock_beacon(false).await;
        let w = watcher(&url, ring);
        let domain = w.domain_inputs().await.unwrap();
        let (out, done) = w.submit(U256::from(5u64), U256::ZERO, &pk, domain).await.unwrap();
        assert!(
            matches!(out, ExitOutcome::Skipped { ref reason, .. } if reason.contains("refused the exit (400")),
            "{out:?}"
        );
        assert_eq!(done, Submission::NotDone, "a refused exit is tried again next round");
    }

    #[tokio::test]
    async fn a_huge_refusal_body_is_cut_short() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let (url, _) = mock_beacon_with(false, "active_ongoing", 10 * 1024 * 1024).await;
        let w = watcher(&url, ring);
        let domain = w.domain_inputs().await.unwrap();
        let (out, _) = w.submit(U256::from(5u64), U256::ZERO, &pk, domain).await.unwrap();
        let ExitOutcome::Skipped { reason, .. } = out else { panic!("{out:?}") };
        assert!(reason.len() < MAX_ERROR_BODY + 100, "{} bytes kept", reason.len());
        assert!(reason.ends_with(" …"), "the cut is visible");
    }

    #[tokio::test]
    async fn an_exiting_validator_counts_as_answered_without_a_new_exit() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let (url, seen) = mock_beacon_with(true, "active_exiting", 0).await;
        let w = watcher(&url, ring);
        let domain = w.domain_inputs().await.unwrap();
        let (out, done) = w.submit(U256::from(5u64), U256::ZERO, &pk, domain).await.unwrap();
        assert!(
            matches!(out, ExitOutcome::Skipped { ref reason, .. } if reason.contains("already active_exiting")),
            "{out:?}"
        );
        assert_eq!(done, Submission::Exiting, "not asked again");
        assert!(seen.lock().unwrap().is_empty(), "nothing was posted");
    }

    /// An execution node stand-in for the watcher's chain reads: one `ExitRequested` log of
    /// operator 3 for key 5 (deadline 99), `exitRequestDeadline` → 99, `getKey` → `pubkey`.
    async fn mock_chain(registry: Address, pubkey: [u8; 48]) -> String {
        use alloy::sol_types::{SolCall as _, SolEvent as _, SolValue as _};
        use claystack_bindings::operator_registry::OperatorRegistry;
        let handler = move |axum::Json(req): axum::Json<serde_json::Value>| async move {
            let result = match req["method"].as_str().unwrap_or_default() {
                "eth_getLogs" => {
                    let data = (U256::from(5u64), U256::from(99u64)).abi_encode_params();
                    serde_json::json!([{
                        "address": registry.to_string(),
                        "topics": [
                            OperatorRegistry::ExitRequested::SIGNATURE_HASH.to_string(),
                            alloy::primitives::B256::from(U256::from(3u64)).to_string(),
                        ],
                        "data": format!("0x{}", alloy::primitives::hex::encode(data)),
                        "blockNumber": "0x1", "blockHash": format!("0x{}", "11".repeat(32)),
                        "transactionHash": format!("0x{}", "22".repeat(32)),
                        "transactionIndex": "0x0", "logIndex": "0x0", "removed": false,
                    }])
                }
                "eth_call" => {
                    let input = req["params"][0]["input"]
                        .as_str()
                        .or_else(|| req["params"][0]["data"].as_str())
                        .unwrap_or_default();
                    let input = alloy::primitives::hex::decode(input).unwrap();
                    let out = if input.starts_with(&OperatorRegistry::getKeyCall::SELECTOR) {
                        (
                            alloy::primitives::Bytes::from(pubkey.to_vec()),
                            alloy::primitives::Bytes::from(vec![0u8; 96]),
                            U256::from(1u8),
                        )
                            .abi_encode_params()
                    } else {
                        U256::from(99u64).abi_encode()
                    };
                    serde_json::json!(format!("0x{}", alloy::primitives::hex::encode(out)))
                }
                "eth_chainId" => serde_json::json!("0x7a69"),
                "eth_blockNumber" => serde_json::json!("0x1"),
                other => panic!("unexpected call {other}"),
            };
            axum::Json(serde_json::json!({"jsonrpc": "2.0", "id": req["id"], "result": result}))
        };
        let app = axum::Router::new().route("/", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn a_pooled_exit_the_node_dropped_is_submitted_again_until_the_validator_exits() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let head = std::sync::Arc::new(std::sync::Mutex::new(Head {
            slot: 100, // epoch 3
            status: "active_ongoing",
        }));
        let (beacon, seen) = mock_beacon_head(true, 0, std::sync::Arc::clone(&head)).await;
        let registry = Address::repeat_byte(0x77);
        let rpc = mock_chain(registry, pk).await;
        let conn = crate::wallet::Connection::connect(&rpc, None).unwrap();
        let ops = Operators::new(conn.provider, registry, Address::ZERO);
        let mut w = ExitWatcher::new(ops, U256::from(3u64), &beacon, ring).unwrap();
        let posted_epochs = || -> Vec<String> {
            seen.lock()
                .unwrap()
                .iter()
                .map(|b| b["message"]["epoch"].as_str().unwrap().to_owned())
                .collect()
        };
        let submitted = |out: &[ExitOutcome]| matches!(out, [ExitOutcome::Submitted { key_index, validator_index: 42, .. }] if *key_index == U256::from(5u64));

        let out = w.poll_once().await.unwrap();
        assert!(submitted(&out), "{out:?}");
        assert_eq!(w.waiting_for_inclusion(), 1);
        // the next epoch: the exit may still be in the pool, nothing is done
        head.lock().unwrap().slot = 4 * 32;
        assert_eq!(w.poll_once().await.unwrap(), Vec::new());
        assert_eq!(posted_epochs(), ["3"]);
        // two epochs after the submission the validator is still active: the node dropped the
        // exit (restart, eviction, refused at inclusion), so it is signed and submitted again
        head.lock().unwrap().slot = 5 * 32;
        let out = w.poll_once().await.unwrap();
        assert!(submitted(&out), "{out:?}");
        assert_eq!(posted_epochs(), ["3", "5"]);
        // included now: the validator exits, the request is answered, nothing more is posted
        head.lock().unwrap().status = "active_exiting";
        head.lock().unwrap().slot = 7 * 32;
        let out = w.poll_once().await.unwrap();
        assert!(
            matches!(&out[..], [ExitOutcome::Skipped { reason, .. }] if reason.contains("already active_exiting")),
            "{out:?}"
        );
        assert_eq!(w.waiting_for_inclusion(), 0);
        head.lock().unwrap().slot = 20 * 32;
        assert_eq!(w.poll_once().await.unwrap(), Vec::new());
        assert_eq!(posted_epochs().len(), 2);
    }

    #[tokio::test]
    async fn a_node_that_keeps_dropping_the_exit_is_given_up_on_after_bounded_retries() {
        let ring = KeyRing::from_mnemonic(MNEMONIC, 0, 1).unwrap();
        let pk = *ring.keys.keys().next().unwrap();
        let head =
            std::sync::Arc::new(std::sync::Mutex::new(Head { slot: 0, status: "active_ongoing" }));
        let (beacon, seen) = mock_beacon_head(true, 0, std::sync::Arc::clone(&head)).await;
        let registry = Address::repeat_byte(0x77);
        let rpc = mock_chain(registry, pk).await;
        let conn = crate::wallet::Connection::connect(&rpc, None).unwrap();
        let ops = Operators::new(conn.provider, registry, Address::ZERO);
        let mut w = ExitWatcher::new(ops, U256::from(3u64), &beacon, ring).unwrap();
        let mut last = Vec::new();
        for round in 0..20u64 {
            head.lock().unwrap().slot = round * RESUBMIT_AFTER_EPOCHS * 32;
            last = w.poll_once().await.unwrap();
            if matches!(&last[..], [ExitOutcome::Skipped { .. }]) {
                break;
            }
        }
        let max = usize::try_from(MAX_RESUBMISSIONS).unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1 + max, "one submission and {max} more");
        assert!(
            matches!(&last[..], [ExitOutcome::Skipped { reason, .. }] if reason.contains("giving up") && reason.contains("still active_ongoing")),
            "{last:?}"
        );
        head.lock().unwrap().slot += 10 * 32;
        assert_eq!(w.poll_once().await.unwrap(), Vec::new(), "given up: not asked again");
        assert_eq!(seen.lock().unwrap().len(), 1 + max);
    }

    #[test]
    fn exit_root_is_the_ssz_container_of_two_uint64() {
        // hash_tree_root(VoluntaryExit{epoch: 0, validator_index: 0}) = sha256(zero32 ‖ zero32)
        let expected = claystack_consensus::ssz::sha256(&[0u8; 64]);
        assert_eq!(voluntary_exit_root(Epoch(0), ValidatorIndex(0)), expected);
    }
}
