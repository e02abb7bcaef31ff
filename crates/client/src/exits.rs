//! Voluntary exits for an operator's exit requests: find the key's secret among the operator's
//! own keys, sign `VoluntaryExit(epoch, validator_index)` under the EIP-7044 domain (Capella fork
//! version when the node names one, else the head fork's), and submit it to the Beacon API
//! (`POST /eth/v1/beacon/pool/voluntary_exits`).

use std::collections::{BTreeSet, HashMap};

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

/// Watches one operator's exit requests and answers them with signed voluntary exits. It
/// remembers what it answered in memory; after a restart a validator already exiting on the beacon
/// chain counts as answered (nothing is signed again), and an exit still waiting in the node's
/// pool is accepted again as a duplicate.
#[derive(Debug)]
pub struct ExitWatcher {
    ops: Operators,
    operator_id: U256,
    beacon: BeaconClient,
    http: reqwest::Client,
    keys: KeyRing,
    submitted: BTreeSet<U256>,
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
            submitted: BTreeSet::new(),
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

    /// One round: every open exit request not yet answered gets a signed voluntary exit.
    pub async fn poll_once(&mut self) -> Result<Vec<ExitOutcome>, ClientError> {
        let requests = self.ops.exit_requests(self.operator_id).await?;
        let open: Vec<_> =
            requests.into_iter().filter(|(k, _)| !self.submitted.contains(k)).collect();
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let domain = self.domain_inputs().await?;
        let mut out = Vec::new();
        for (key_index, deadline) in open {
            let pubkey = self.ops.key_pubkey(self.operator_id, key_index).await?;
            let (outcome, done) = self.submit(key_index, deadline, &pubkey, domain).await?;
            if done {
                self.submitted.insert(key_index);
            }
            out.push(outcome);
        }
        Ok(out)
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

    /// Signs and submits the voluntary exit of the validator `pubkey` (Beacon API only); the
    /// flag says whether the request is answered (submitted, or the validator already exits).
    async fn submit(
        &self,
        key_index: U256,
        deadline: U256,
        pubkey: &[u8],
        (fork_version, gvr, epoch): (ForkVersion, Root, Epoch),
    ) -> Result<(ExitOutcome, bool), ClientError> {
        let skipped = |reason: String| Ok((ExitOutcome::Skipped { key_index, reason }, false));
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
        if !matches!(
            status,
            ValidatorStatus::ActiveOngoing
                | ValidatorStatus::PendingInitialized
                | ValidatorStatus::PendingQueued
        ) {
            // exiting already (an earlier run's exit, a forced exit, a slashing): nothing to sign
            let reason = format!("validator {} is already {}", validator.0, status.as_str());
            return Ok((ExitOutcome::Skipped { key_index, reason }, true));
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
            return Ok((done, true));
        }
        let status = resp.status();
        let text = bounded_text(resp, MAX_ERROR_BODY).await;
        skipped(format!("beacon node refused the exit ({status}): {text}"))
    }
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
        use axum::{
            Json, Router,
            http::StatusCode,
            routing::{get, post},
        };
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
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
                get(|| async {
                    let z = format!("0x{}", "00".repeat(32));
                    Json(serde_json::json!({"data": {"root": z, "canonical": true, "header": {
                        "message": {"slot": "100", "proposer_index": "1", "parent_root": z,
                                    "state_root": z, "body_root": z},
                        "signature": format!("0x{}", "00".repeat(96))}}}))
                }),
            )
            .route(
                "/eth/v1/beacon/states/head/validators/{id}",
                get(move |axum::extract::Path(id): axum::extract::Path<String>| async move {
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
                true
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
        assert!(!done);
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
        assert!(!done, "a refused exit is tried again next round");
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
        assert!(done, "not asked again");
        assert!(seen.lock().unwrap().is_empty(), "nothing was posted");
    }

    #[test]
    fn exit_root_is_the_ssz_container_of_two_uint64() {
        // hash_tree_root(VoluntaryExit{epoch: 0, validator_index: 0}) = sha256(zero32 ‖ zero32)
        let expected = claystack_consensus::ssz::sha256(&[0u8; 64]);
        assert_eq!(voluntary_exit_root(Epoch(0), ValidatorIndex(0)), expected);
    }
}
