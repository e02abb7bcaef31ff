//! The router over a backend other than the local keystores (as the DVT front plugs in): the
//! slashing record is committed before the backend is asked, backend failures map to 5xx, and a
//! front without slashing protection leaves it to its backend.

mod common;

use claystack_consensus::{Epoch, Root};
use claystack_signer::{
    BackendError, MessageType, NetworkSpec, SignRequest, SignerState, SigningBackend, SigningPlan,
    SlashingCheck, router,
};
use claystack_slashing::SlashingDatabase;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

const SPEC: NetworkSpec = NetworkSpec {
    name: "test",
    slots_per_epoch: 32,
    genesis_fork_version: [0; 4],
    capella_fork_version: [3, 0, 0, 0],
    deneb_fork_epoch: Epoch(1_000_000),
};

/// Signs with a fixed key, or fails as "unavailable" (a cluster without quorum) when told to.
struct Flaky {
    sk: blst::min_pk::SecretKey,
    fail: AtomicBool,
    calls: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
#[error("no quorum")]
struct NoQuorum;

impl SigningBackend for Flaky {
    fn public_keys(&self) -> Vec<[u8; 48]> {
        vec![self.sk.sk_to_pk().compress()]
    }

    async fn sign(&self, pubkey: &[u8; 48], root: Root) -> Result<[u8; 96], BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.has_key(pubkey) {
            return Err(BackendError::UnknownKey(*pubkey));
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(BackendError::Unavailable(Box::new(NoQuorum)));
        }
        Ok(self.sk.sign(&root, DST, &[]).compress())
    }
}

async fn serve<B: SigningBackend>(state: Arc<SignerState<B>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    base
}

fn attestation(source: u64, target: u64, block: u8) -> (serde_json::Value, Chunk) {
    let (data, root) = attestation_data(target * 32, source, target, block);
    (
        json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data}),
        signing_root(root, domain(ATTESTER, version_at(target), GVR)),
    )
}

#[tokio::test]
async fn record_is_committed_before_the_backend_signs() {
    let backend =
        Flaky { sk: secret_key(9), fail: AtomicBool::new(true), calls: AtomicUsize::new(0) };
    let pk = backend.public_keys()[0];
    let db = Arc::new(SlashingDatabase::open_in_memory().unwrap());
    let state = Arc::new(SignerState::new(backend, Arc::clone(&db), SPEC).unwrap());
    let base = serve(Arc::clone(&state)).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/api/v1/eth2/sign/{}", hx(&pk));

    let (a, root) = attestation(5, 6, 1);
    let r = client.post(&url).json(&a).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(state.backend().calls.load(Ordering::SeqCst), 1);
    // The backend failed, yet the vote is recorded: a conflicting vote is refused without
    // reaching the backend, the same vote is signed once the backend recovers.
    let (conflict, _) = attestation(5, 6, 2);
    let r = client.post(&url).json(&conflict).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(state.backend().calls.load(Ordering::SeqCst), 1);
    state.backend().fail.store(false, Ordering::SeqCst);
    let r = client.post(&url).header("accept", "application/json").json(&a).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(verifies(&pk, &root, v["signature"].as_str().unwrap()));
    let exported = db.export_interchange().unwrap();
    assert_eq!(exported.data[0].signed_attestations.len(), 1);
}

#[tokio::test]
async fn front_without_slashing_protection_signs_whatever_its_backend_accepts() {
    let backend =
        Flaky { sk: secret_key(10), fail: AtomicBool::new(false), calls: AtomicUsize::new(0) };
    let pk = backend.public_keys()[0];
    let state = Arc::new(SignerState::without_slashing_protection(backend, SPEC));
    let base = serve(state).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/api/v1/eth2/sign/{}", hx(&pk));
    for block in [1, 2] {
        let (a, root) = attestation(5, 6, block);
        let r = client.post(&url).json(&a).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(verifies(&pk, &root, &r.text().await.unwrap()));
    }
    let r = client
        .post(format!("{base}/api/v1/eth2/sign/{}", hx(&[1; 48])))
        .json(&attestation(1, 2, 1).0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A front that forwards the typed request (as a cluster front sends it to its nodes).
struct Forwarding {
    sk: blst::min_pk::SecretKey,
    seen: std::sync::Mutex<Vec<(MessageType, Option<SlashingCheck>, String)>>,
}

impl SigningBackend for Forwarding {
    fn public_keys(&self) -> Vec<[u8; 48]> {
        vec![self.sk.sk_to_pk().compress()]
    }

    async fn sign(&self, _pubkey: &[u8; 48], _root: Root) -> Result<[u8; 96], BackendError> {
        Err(BackendError::Unavailable(Box::new(NoQuorum)))
    }

    async fn sign_with_context(
        &self,
        _pubkey: &[u8; 48],
        plan: &SigningPlan,
        request: &SignRequest,
    ) -> Result<[u8; 96], BackendError> {
        // What a node would receive: the request re-serialized in Web3Signer's shape.
        let forwarded = serde_json::to_string(request).unwrap();
        self.seen.lock().unwrap().push((plan.kind, plan.slashing, forwarded));
        Ok(self.sk.sign(&plan.signing_root, DST, &[]).compress())
    }
}

#[tokio::test]
async fn backend_gets_the_typed_request_to_forward() {
    let backend = Forwarding { sk: secret_key(11), seen: std::sync::Mutex::new(Vec::new()) };
    let pk = backend.public_keys()[0];
    let db = Arc::new(SlashingDatabase::open_in_memory().unwrap());
    let state = Arc::new(SignerState::new(backend, db, SPEC).unwrap());
    let base = serve(Arc::clone(&state)).await;
    let (a, root) = attestation(7, 8, 3);
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/eth2/sign/{}", hx(&pk)))
        .json(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(verifies(&pk, &root, &r.text().await.unwrap()));
    let seen = state.backend().seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, MessageType::Attestation);
    assert_eq!(seen[0].1, Some(SlashingCheck::Attestation { source: Epoch(7), target: Epoch(8) }));
    // The forwarded body parses back to the same root on the node's side.
    let node_plan = SignRequest::from_json(seen[0].2.as_bytes()).unwrap().plan(&SPEC).unwrap();
    assert_eq!(node_plan.signing_root, root);
}
