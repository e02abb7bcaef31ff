//! The HTTP API end to end: a server on 127.0.0.1:0 over keys loaded from EIP-2335 keystores,
//! driven with reqwest in Web3Signer's JSON shapes. Every returned signature is verified against
//! the public key and a signing root computed independently (tests/common).

mod common;

use claystack_consensus::Epoch;
use claystack_keys::{Kdf, Keystore, SecretKey, write_keystore_file};
use claystack_signer::{
    LocalKeystoreBackend, NetworkSpec, PasswordSource, SignerState, load_keystores_dir,
};
use claystack_slashing::SlashingDatabase;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

const SPEC: NetworkSpec = NetworkSpec {
    name: "test",
    slots_per_epoch: 32,
    genesis_fork_version: [0x10, 0x20, 0x30, 0x40],
    capella_fork_version: [3, 0, 0, 0],
    deneb_fork_epoch: Epoch(1_000_000),
};

struct Server {
    base: String,
    keys: Vec<[u8; 48]>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn keystore_dir(seeds: &[u8]) -> (tempfile::TempDir, Vec<[u8; 48]>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::create_dir(dir.path().join("passwords")).unwrap();
    let mut pks = Vec::new();
    for (i, seed) in seeds.iter().enumerate() {
        let sk = SecretKey::from_blst(secret_key(*seed));
        pks.push(sk.public_key());
        let password = format!("password {i}");
        // Cheap KDF: these keystores exist only for the test.
        let ks = Keystore::encrypt(&sk, &password, &Kdf::pbkdf2(16), "", "test").unwrap();
        write_keystore_file(&dir.path().join(format!("keys/keystore-{i}.json")), &ks).unwrap();
        std::fs::write(
            dir.path().join(format!("passwords/keystore-{i}.txt")),
            format!("{password}\n"),
        )
        .unwrap();
    }
    (dir, pks)
}

async fn spawn(token: Option<&str>) -> Server {
    let (dir, keys) = keystore_dir(&[1, 2]);
    let loaded = load_keystores_dir(
        &dir.path().join("keys"),
        &PasswordSource::Dir(dir.path().join("passwords")),
    )
    .unwrap();
    let backend = LocalKeystoreBackend::from_secret_keys(loaded);
    let db = Arc::new(SlashingDatabase::open(&dir.path().join("slashing.sqlite")).unwrap());
    let state = Arc::new(
        SignerState::new(backend, db, SPEC).unwrap().with_auth_token(token.map(str::to_owned)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(claystack_signer::serve(listener, state, std::future::pending()));
    Server { base, keys, client: reqwest::Client::new(), _dir: dir }
}

impl Server {
    async fn sign(&self, pk: &[u8; 48], body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/eth2/sign/{}", self.base, hx(pk)))
            .header("accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Signs, expects 200 and a signature over `root` by `pk`.
    async fn sign_ok(&self, pk: &[u8; 48], body: &Value, root: &Chunk) {
        let resp = self.sign(pk, body).await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let sig = v["signature"].as_str().unwrap();
        assert!(verifies(pk, root, sig), "signature does not verify for {body}");
    }

    async fn status(&self, pk: &[u8; 48], body: &Value) -> StatusCode {
        self.sign(pk, body).await.status()
    }
}

fn attestation(source: u64, target: u64, block: u8) -> (Value, Chunk) {
    let (data, root) = attestation_data(target * 32, source, target, block);
    (
        json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data}),
        signing_root(root, domain(ATTESTER, version_at(target), GVR)),
    )
}

fn block(slot: u64, body_root: u8) -> (Value, Chunk) {
    let header = json!({"slot": slot.to_string(), "proposer_index": "3", "parent_root": hx(&[1; 32]),
                        "state_root": hx(&[2; 32]), "body_root": hx(&[body_root; 32])});
    let root = container(&[uint(slot), uint(3), [1; 32], [2; 32], [body_root; 32]]);
    (
        json!({"type": "BLOCK_V2", "fork_info": fork_info(),
               "beacon_block": {"version": "ELECTRA", "block_header": header}}),
        signing_root(root, domain(PROPOSER, version_at(slot / 32), GVR)),
    )
}

fn aggregate(version: Option<&str>) -> (Value, Chunk) {
    let bits = [true, true, false, true];
    let (data, data_root) = attestation_data(4000, 124, 125, 3);
    let electra = version == Some("ELECTRA");
    let mut att =
        json!({"aggregation_bits": bitlist_hex(&bits), "data": data, "signature": hx(&[0x11; 96])});
    let att_root = if electra {
        att["committee_bits"] = json!(hx(&[1, 0, 0, 0, 0, 0, 0, 0]));
        container(&[
            bitlist(&bits, 131_072),
            data_root,
            bytes(&[0x11; 96]),
            bytes(&[1, 0, 0, 0, 0, 0, 0, 0]),
        ])
    } else {
        container(&[bitlist(&bits, 2048), data_root, bytes(&[0x11; 96])])
    };
    let body =
        json!({"aggregator_index": "8", "aggregate": att, "selection_proof": hx(&[0x22; 96])});
    let root = container(&[uint(8), att_root, bytes(&[0x22; 96])]);
    let req = match version {
        None => {
            json!({"type": "AGGREGATE_AND_PROOF", "fork_info": fork_info(), "aggregate_and_proof": body})
        }
        Some(v) => json!({"type": "AGGREGATE_AND_PROOF_V2", "fork_info": fork_info(),
                          "aggregate_and_proof": {"version": v, "data": body}}),
    };
    (req, signing_root(root, domain([6, 0, 0, 0], version_at(4000 / 32), GVR)))
}

/// One test per request type: the request and the independently computed root it must sign.
macro_rules! type_test {
    ($name:ident, $build:expr) => {
        #[tokio::test]
        async fn $name() {
            let server = spawn(None).await;
            let pk = server.keys[0];
            let build = $build;
            let (req, root): (Value, Chunk) = build(pk);
            server.sign_ok(&pk, &req, &root).await;
        }
    };
}

type_test!(signs_attestation, |_| attestation(10, 11, 1));
type_test!(signs_block_v2, |_| block(3300, 4));
type_test!(signs_randao_reveal, |_| (
    json!({"type": "RANDAO_REVEAL", "fork_info": fork_info(), "randao_reveal": {"epoch": "77"}}),
    signing_root(uint(77), domain([2, 0, 0, 0], PREV, GVR))
));
type_test!(signs_aggregation_slot, |_| (
    json!({"type": "AGGREGATION_SLOT", "fork_info": fork_info(), "aggregation_slot": {"slot": "3500"}}),
    signing_root(uint(3500), domain([5, 0, 0, 0], CUR, GVR))
));
type_test!(signs_aggregate_and_proof, |_| aggregate(None));
type_test!(signs_aggregate_and_proof_v2_deneb, |_| aggregate(Some("DENEB")));
type_test!(signs_aggregate_and_proof_v2_electra, |_| aggregate(Some("ELECTRA")));
type_test!(signs_voluntary_exit, |_| (
    json!({"type": "VOLUNTARY_EXIT", "fork_info": fork_info(),
           "voluntary_exit": {"epoch": "120", "validator_index": "5"}}),
    signing_root(container(&[uint(120), uint(5)]), domain([4, 0, 0, 0], CUR, GVR))
));
type_test!(signs_deposit, |pk: [u8; 48]| (
    json!({"type": "DEPOSIT", "deposit": {"pubkey": hx(&pk), "withdrawal_credentials": hx(&[0x01; 32]),
           "amount": "32000000000", "genesis_fork_version": "0x00000000"}}),
    signing_root(
        container(&[bytes(&pk), [0x01; 32], uint(32_000_000_000)]),
        domain([3, 0, 0, 0], [0; 4], [0; 32])
    )
));
type_test!(signs_sync_committee_message, |_| (
    json!({"type": "SYNC_COMMITTEE_MESSAGE", "fork_info": fork_info(),
           "sync_committee_message": {"beacon_block_root": hx(&[0x33; 32]), "slot": "3201"}}),
    signing_root([0x33; 32], domain([7, 0, 0, 0], CUR, GVR))
));
type_test!(signs_sync_committee_selection_proof, |_| (
    json!({"type": "SYNC_COMMITTEE_SELECTION_PROOF", "fork_info": fork_info(),
           "sync_aggregator_selection_data": {"slot": "3202", "subcommittee_index": "1"}}),
    signing_root(container(&[uint(3202), uint(1)]), domain([8, 0, 0, 0], CUR, GVR))
));
type_test!(signs_sync_committee_contribution_and_proof, |_| {
    let bits = [0xf0u8; 16];
    let contribution =
        container(&[uint(3203), [0x44; 32], uint(0), bytes(&bits), bytes(&[0x55; 96])]);
    (
        json!({"type": "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", "fork_info": fork_info(),
               "contribution_and_proof": {"aggregator_index": "6", "selection_proof": hx(&[0x66; 96]),
                   "contribution": {"slot": "3203", "beacon_block_root": hx(&[0x44; 32]),
                       "subcommittee_index": "0", "aggregation_bits": hx(&bits),
                       "signature": hx(&[0x55; 96])}}}),
        signing_root(
            container(&[uint(6), contribution, bytes(&[0x66; 96])]),
            domain([9, 0, 0, 0], CUR, GVR),
        ),
    )
});
type_test!(signs_validator_registration, |pk: [u8; 48]| (
    json!({"type": "VALIDATOR_REGISTRATION",
           "validator_registration": {"fee_recipient": hx(&[0xab; 20]), "gas_limit": "36000000",
                                      "timestamp": "1750000000", "pubkey": hx(&pk)}}),
    signing_root(
        container(&[bytes(&[0xab; 20]), uint(36_000_000), uint(1_750_000_000), bytes(&pk)]),
        domain([0, 0, 0, 1], SPEC.genesis_fork_version, [0; 32])
    )
));

#[tokio::test]
async fn upcheck_and_public_keys() {
    let s = spawn(None).await;
    let r = s.client.get(format!("{}/upcheck", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "OK");
    let keys: Vec<String> = s
        .client
        .get(format!("{}/api/v1/eth2/publicKeys", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let want: Vec<String> = s.keys.iter().map(|k| hx(k)).collect();
    assert_eq!(keys, want);
}

#[tokio::test]
async fn text_plain_when_json_is_not_asked_for() {
    let s = spawn(None).await;
    let (req, root) = attestation(1, 2, 1);
    let r = s
        .client
        .post(format!("{}/api/v1/eth2/sign/{}", s.base, hx(&s.keys[1])))
        .header("accept", "text/plain")
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let sig = r.text().await.unwrap();
    assert!(sig.starts_with("0x") && sig.len() == 2 + 192, "{sig}");
    assert!(verifies(&s.keys[1], &root, &sig));
}

#[tokio::test]
async fn unknown_key_is_404_and_bad_bodies_are_400() {
    let s = spawn(None).await;
    let (req, _) = attestation(1, 2, 1);
    assert_eq!(s.status(&[0x77; 48], &req).await, StatusCode::NOT_FOUND);
    let pk = s.keys[0];
    let post = |path: String, body: &'static str| {
        s.client
            .post(format!("{}{path}", s.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(
        post(format!("/api/v1/eth2/sign/{}", hx(&pk)), "{not json").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("/api/v1/eth2/sign/0x1234".into(), "{}").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(format!("/api/v1/eth2/sign/{}", hx(&pk)), r#"{"type":"ATTESTATION"}"#)
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Oversized bodies are cut off before parsing.
    let huge = format!(r#"{{"type":"ATTESTATION","pad":"{}"}}"#, "a".repeat(100_000));
    let r = s
        .client
        .post(format!("{}/api/v1/eth2/sign/{}", s.base, hx(&pk)))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let mut mismatched = req.clone();
    mismatched["signingRoot"] = json!(hx(&[9; 32]));
    let r = s.sign(&pk, &mismatched).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("does not match"), "{body}");
    // The refused request was not recorded: the same attestation still signs.
    let (req, root) = attestation(1, 2, 1);
    s.sign_ok(&pk, &req, &root).await;
}

#[tokio::test]
async fn slashable_requests_are_412() {
    let s = spawn(None).await;
    let pk = s.keys[0];
    let (a, root) = attestation(10, 20, 1);
    s.sign_ok(&pk, &a, &root).await;
    // Re-signing the same attestation is safe.
    s.sign_ok(&pk, &a, &root).await;
    let (double, _) = attestation(10, 20, 2);
    assert_eq!(s.status(&pk, &double).await, StatusCode::PRECONDITION_FAILED);
    let (surrounding, _) = attestation(9, 21, 1);
    assert_eq!(s.status(&pk, &surrounding).await, StatusCode::PRECONDITION_FAILED);
    let (surrounded, _) = attestation(11, 19, 1);
    assert_eq!(s.status(&pk, &surrounded).await, StatusCode::PRECONDITION_FAILED);
    let (b, root) = block(3300, 1);
    s.sign_ok(&pk, &b, &root).await;
    let (double_block, _) = block(3300, 2);
    assert_eq!(s.status(&pk, &double_block).await, StatusCode::PRECONDITION_FAILED);
    // The other key has its own history.
    let (b, root) = block(3300, 2);
    s.sign_ok(&s.keys[1], &b, &root).await;
    // Another chain's fork info is refused too.
    let (mut other_chain, _) = attestation(30, 31, 1);
    other_chain["fork_info"]["genesis_validators_root"] = json!(hx(&[0x43; 32]));
    assert_eq!(s.status(&pk, &other_chain).await, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn bearer_token_guards_everything_but_upcheck() {
    let s = spawn(Some("s3cret")).await;
    let url = format!("{}/api/v1/eth2/publicKeys", s.base);
    assert_eq!(s.client.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.client.get(&url).bearer_auth("wrong").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.client.get(&url).bearer_auth("s3cret").send().await.unwrap().status(),
        StatusCode::OK
    );
    let (req, root) = attestation(1, 2, 1);
    assert_eq!(s.status(&s.keys[0], &req).await, StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .post(format!("{}/api/v1/eth2/sign/{}", s.base, hx(&s.keys[0])))
        .bearer_auth("s3cret")
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(verifies(&s.keys[0], &root, &r.text().await.unwrap()));
    assert_eq!(
        s.client.get(format!("{}/upcheck", s.base)).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[test]
fn non_loopback_bind_needs_a_token() {
    let public: std::net::SocketAddr = "0.0.0.0:9000".parse().unwrap();
    assert!(claystack_signer::check_bind(public, None).is_err());
    assert!(claystack_signer::check_bind(public, Some("")).is_err());
    assert!(claystack_signer::check_bind(public, Some("t")).is_ok());
    assert!(claystack_signer::check_bind("127.0.0.1:9000".parse().unwrap(), None).is_ok());
    assert!(claystack_signer::check_bind("[::1]:9000".parse().unwrap(), None).is_ok());
}

#[test]
fn keystore_loading_errors_are_clear() {
    let (dir, _) = keystore_dir(&[3]);
    std::fs::write(dir.path().join("passwords/keystore-0.txt"), "wrong").unwrap();
    let err = load_keystores_dir(
        &dir.path().join("keys"),
        &PasswordSource::Dir(dir.path().join("passwords")),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("decrypt keystore") && err.contains("keystore-0.json"), "{err}");
    std::fs::remove_file(dir.path().join("passwords/keystore-0.txt")).unwrap();
    let err = load_keystores_dir(
        &dir.path().join("keys"),
        &PasswordSource::Dir(dir.path().join("passwords")),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no password for keystore"), "{err}");
    let err = load_keystores_dir(dir.path(), &PasswordSource::File(dir.path().join("nope")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no keystore"), "{err}");
    // One shared password file.
    std::fs::write(dir.path().join("pw"), "password 0\r\n").unwrap();
    let keys =
        load_keystores_dir(&dir.path().join("keys"), &PasswordSource::File(dir.path().join("pw")))
            .unwrap();
    assert_eq!(keys.len(), 1);
}

/// The value of the one series `series` (name and labels exactly as rendered) in a scrape.
fn series(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_count_signed_refused_and_unknown_requests_without_auth() {
    let s = spawn(Some("secret")).await;
    let pk = s.keys[0];
    let scrape = || async {
        let resp = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        resp.text().await.unwrap()
    };
    let before = scrape().await;
    assert_eq!(series(&before, "claystack_signer_keys_loaded"), Some(2));
    assert_eq!(series(&before, "claystack_signer_sign_duration_seconds_count"), Some(0));
    let sign = |body: Value, key: [u8; 48]| {
        s.client
            .post(format!("{}/api/v1/eth2/sign/{}", s.base, hx(&key)))
            .bearer_auth("secret")
            .header("accept", "application/json")
            .json(&body)
            .send()
    };
    let (a, _) = attestation(10, 20, 1);
    assert_eq!(sign(a, pk).await.unwrap().status(), StatusCode::OK);
    let (double, _) = attestation(10, 20, 2);
    assert_eq!(sign(double, pk).await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    let (b, _) = block(64, 1);
    assert_eq!(sign(b, [0x99; 48]).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(sign(json!({"type": "NOPE"}), pk).await.unwrap().status(), StatusCode::BAD_REQUEST);

    let after = scrape().await;
    let req = |t: &str, o: &str| {
        series(&after, &format!("claystack_signer_requests_total{{type=\"{t}\",outcome=\"{o}\"}}"))
    };
    assert_eq!(req("ATTESTATION", "signed"), Some(1), "{after}");
    assert_eq!(req("ATTESTATION", "refused_slashing"), Some(1), "{after}");
    assert_eq!(req("BLOCK_V2", "unknown_key"), Some(1), "{after}");
    assert_eq!(req("unknown", "bad_request"), Some(1), "{after}");
    assert_eq!(series(&after, "claystack_signer_sign_duration_seconds_count"), Some(4));
    assert_eq!(
        series(&after, "claystack_signer_sign_duration_seconds_bucket{le=\"+Inf\"}"),
        Some(4)
    );
}
