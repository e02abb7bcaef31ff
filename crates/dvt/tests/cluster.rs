//! An in-process DVT cluster: 4 nodes (separate HTTP servers on separate ports, each with its
//! own slashing database) behind the Web3Signer-compatible front.

use axum::body::Bytes;
use claystack_consensus::domain::{DomainType, compute_domain, compute_signing_root};
use claystack_consensus::ssz::{HashTreeRoot, container_root};
use claystack_consensus::units::Gwei;
use claystack_dvt::cluster::{
    ClusterDescription, CreateParams, CreatedCluster, KeyGenMethod, create_with_dkg,
    create_with_split,
};
use claystack_dvt::front::{Front, FrontConfig, front_router, front_state};
use claystack_dvt::node::{Node, node_router};
use claystack_dvt::request::SignerEvaluator;
use claystack_dvt::threshold::ShareIndex;
use claystack_dvt::{PublicKey, SecretKey, Signature};
use claystack_keys::WithdrawalCredentials;
use claystack_keys::deposit::{DepositMessage, DepositNetwork};
use claystack_signer::NetworkSpec;
use claystack_slashing::SlashingDatabase;
use rand::{SeedableRng, rngs::StdRng};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const GVR: [u8; 32] = [0x42; 32];

fn params(addresses: Vec<String>, threshold: usize) -> CreateParams {
    CreateParams {
        name: "test cluster".into(),
        network: DepositNetwork::by_name("holesky").unwrap(),
        threshold,
        members: addresses
            .into_iter()
            .enumerate()
            .map(|(i, a)| (ShareIndex::new(i as u64 + 1).unwrap(), a))
            .collect(),
        withdrawal_credentials: WithdrawalCredentials::execution(&[0xab; 20], false),
        amount: Gwei(32_000_000_000),
    }
}

fn evaluator() -> Box<SignerEvaluator> {
    Box::new(SignerEvaluator { spec: NetworkSpec::HOLESKY })
}

fn attestation(source: u64, target: u64, block_root: u8) -> serde_json::Value {
    serde_json::json!({
        "type": "ATTESTATION",
        "fork_info": {
            "fork": {"previous_version": "0x01017000", "current_version": "0x02017000", "epoch": "5"},
            "genesis_validators_root": format!("0x{}", hex::encode(GVR)),
        },
        "attestation": {
            "slot": (target * 32).to_string(), "index": "0",
            "beacon_block_root": format!("0x{}", hex::encode([block_root; 32])),
            "source": {"epoch": source.to_string(), "root": format!("0x{}", "01".repeat(32))},
            "target": {"epoch": target.to_string(), "root": format!("0x{}", "02".repeat(32))}
        }
    })
}

/// The attestation's signing root, computed here independently of the crate's evaluator.
fn attestation_root(source: u64, target: u64, block_root: u8) -> [u8; 32] {
    let cp = |e: u64, r: u8| container_root(&[e.hash_tree_root(), [r; 32]]);
    let data = container_root(&[
        (target * 32).hash_tree_root(),
        0u64.hash_tree_root(),
        [block_root; 32],
        cp(source, 1),
        cp(target, 2),
    ]);
    let version = if target < 5 { [1, 1, 0x70, 0] } else { [2, 1, 0x70, 0] };
    compute_signing_root(data, compute_domain(DomainType::BEACON_ATTESTER, version, GVR))
}

struct Cluster {
    created: CreatedCluster,
    nodes: Vec<JoinHandle<()>>,
    front_url: String,
    http: reqwest::Client,
}

impl Cluster {
    /// Starts nodes on `listeners` and a front; `front_db` gives the front its own slashing
    /// database.
    async fn start(
        created: CreatedCluster,
        listeners: Vec<TcpListener>,
        timeout: Duration,
        front_db: bool,
    ) -> Self {
        let mut nodes = Vec::new();
        for (share, listener) in created.shares.iter().zip(listeners) {
            let node = Node::new(
                vec![(created.description.clone(), share.clone())],
                SlashingDatabase::open_in_memory().unwrap(),
                evaluator(),
            )
            .unwrap();
            let app = node_router(Arc::new(node), Some("node-token".into()));
            nodes.push(tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            }));
        }
        let front = Front::new(
            vec![created.description.clone()],
            evaluator(),
            FrontConfig { timeout, node_token: Some("node-token".into()) },
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_url = format!("http://{}", listener.local_addr().unwrap());
        let db = front_db.then(|| Arc::new(SlashingDatabase::open_in_memory().unwrap()));
        let state = front_state(front, NetworkSpec::HOLESKY, db, None).unwrap();
        let app = front_router(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Cluster { created, nodes, front_url, http: reqwest::Client::new() }
    }

    fn group(&self) -> PublicKey {
        self.created.description.group_public_key
    }

    async fn sign(&self, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/eth2/sign/{}", self.front_url, self.group().to_hex()))
            .header("accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn sign_ok(&self, source: u64, target: u64, block_root: u8) {
        let resp = self.sign(&attestation(source, target, block_root)).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let v: serde_json::Value = resp.json().await.unwrap();
        let sig = Signature::from_hex(v["signature"].as_str().unwrap()).unwrap();
        assert!(self.group().verify(&attestation_root(source, target, block_root), &sig));
    }
}

async fn listeners(n: usize) -> (Vec<TcpListener>, Vec<String>) {
    let mut ls = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..n {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(format!("http://{}", l.local_addr().unwrap()));
        ls.push(l);
    }
    (ls, addrs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_of_four_survives_one_node_down_and_fails_cleanly_with_two() {
    let (ls, addrs) = listeners(4).await;
    let created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(created.description.key_generation.method, KeyGenMethod::SingleProcessDkg);
    let cluster = Cluster::start(created, ls, Duration::from_secs(2), false).await;

    // Web3Signer surface.
    let up = cluster.http.get(format!("{}/upcheck", cluster.front_url)).send().await.unwrap();
    assert_eq!(up.status(), 200);
    let keys: Vec<String> = cluster
        .http
        .get(format!("{}/api/v1/eth2/publicKeys", cluster.front_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys, vec![cluster.group().to_hex()]);

    cluster.sign_ok(0, 1, 1).await;
    // The same request again is harmless (same signing root).
    cluster.sign_ok(0, 1, 1).await;

    // text/plain answer when JSON is not asked for.
    let resp = cluster
        .http
        .post(format!("{}/api/v1/eth2/sign/{}", cluster.front_url, cluster.group().to_hex()))
        .json(&attestation(1, 2, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let sig = Signature::from_hex(&text).unwrap();
    assert!(cluster.group().verify(&attestation_root(1, 2, 1), &sig));

    // One node down: 3 of 4 still sign.
    cluster.nodes[1].abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    cluster.sign_ok(2, 3, 1).await;

    // Two nodes down: a clean 503 with a clear message, within the timeout.
    cluster.nodes[3].abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let resp = cluster.sign(&attestation(3, 4, 1)).await;
    assert_eq!(resp.status(), 503);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["code"], 503);
    let msg = err["message"].as_str().unwrap();
    // The front fails fast once the threshold is out of reach, naming the unreachable nodes.
    assert!(msg.contains("cluster unavailable"), "{msg}");
    assert!(msg.contains("of 3 required partial signatures"), "{msg}");
    assert!(msg.contains("node 2: unreachable") && msg.contains("node 4: unreachable"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slashable_requests_and_bad_requests_are_refused() {
    let (ls, addrs) = listeners(4).await;
    let created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(2)).unwrap();
    // The front keeps its own slashing database too: it answers 412 as a single signer would.
    let cluster = Cluster::start(created, ls, Duration::from_secs(2), true).await;
    cluster.sign_ok(0, 10, 1).await;
    // Double vote: same target, different block root.
    let resp = cluster.sign(&attestation(0, 10, 9)).await;
    assert_eq!(resp.status(), 412, "{}", resp.text().await.unwrap());
    // The very same attestation again is harmless.
    let resp = cluster.sign(&attestation(0, 10, 1)).await;
    assert_eq!(resp.status(), 200);
    // Surround vote.
    cluster.sign_ok(4, 11, 1).await;
    let resp = cluster.sign(&attestation(3, 12, 1)).await;
    assert_eq!(resp.status(), 412);
    // Bad body: 400; unknown key: 404.
    let resp = cluster.sign(&serde_json::json!({"type": "ATTESTATION"})).await;
    assert_eq!(resp.status(), 400);
    let other = SecretKey::random(&mut StdRng::seed_from_u64(3)).public_key();
    let resp = cluster
        .http
        .post(format!("{}/api/v1/eth2/sign/{}", cluster.front_url, other.to_hex()))
        .json(&attestation(5, 13, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_enforce_slashing_protection_on_their_own() {
    let (ls, addrs) = listeners(4).await;
    let created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(12)).unwrap();
    // No database at the front: only the nodes' own databases stand in the way.
    let cluster = Cluster::start(created, ls, Duration::from_secs(2), false).await;
    cluster.sign_ok(0, 10, 1).await;
    let resp = cluster.sign(&attestation(0, 10, 9)).await;
    assert_eq!(resp.status(), 503);
    let msg = resp.text().await.unwrap();
    assert!(msg.contains("slashing protection refused by"), "{msg}");
    // A node asked directly refuses with 412 and never signs a partial.
    let node = &cluster.created.description.members[0].address;
    let resp = cluster
        .http
        .post(format!("{node}/dvt/v1/partial/{}", cluster.group().to_hex()))
        .bearer_auth("node-token")
        .json(&attestation(0, 10, 7))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    // Without the token the node does not even look at the request.
    let resp = cluster
        .http
        .post(format!("{node}/dvt/v1/partial/{}", cluster.group().to_hex()))
        .json(&attestation(6, 20, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_node_is_excluded_and_a_silent_one_times_out() {
    let (mut ls, addrs) = listeners(4).await;
    let created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(4)).unwrap();
    // Node 4 is replaced by an impostor answering partials signed with a foreign key.
    let impostor = ls.pop().unwrap();
    let foreign = SecretKey::random(&mut StdRng::seed_from_u64(5));
    let lie = axum::Router::new().route(
        "/dvt/v1/partial/{pk}",
        axum::routing::post(move |body: Bytes| {
            let foreign = foreign.clone();
            async move {
                let _ = body;
                axum::Json(serde_json::json!({
                    "index": 4,
                    "signing_root": format!("0x{}", "00".repeat(32)),
                    "partial_signature": foreign.sign(b"anything").to_hex(),
                }))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(impostor, lie).await.unwrap() });
    let shares = created.shares.len();
    // Start only nodes 1..=3 honestly.
    let mut created = created;
    let impostor_share = created.shares.pop().unwrap();
    assert_eq!(impostor_share.index().get(), shares as u64);
    let cluster = Cluster::start(created, ls, Duration::from_millis(2000), false).await;
    cluster.sign_ok(0, 1, 1).await;

    // With an honest node down, the liar cannot make up the threshold: 503 after the timeout.
    cluster.nodes[0].abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let resp = cluster.sign(&attestation(1, 2, 1)).await;
    assert_eq!(resp.status(), 503);
    let msg = resp.text().await.unwrap();
    assert!(msg.contains("invalid partial signature"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_node_is_cut_off_by_the_timeout() {
    let (mut ls, addrs) = listeners(4).await;
    let mut created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(6)).unwrap();
    let hang = ls.pop().unwrap();
    created.shares.pop();
    let app = axum::Router::new().route(
        "/dvt/v1/partial/{pk}",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "never"
        }),
    );
    tokio::spawn(async move { axum::serve(hang, app).await.unwrap() });
    let cluster = Cluster::start(created, ls, Duration::from_millis(1500), false).await;
    // Three honest nodes: the hanging one does not hold the answer back (a 200 means it came
    // before the deadline).
    cluster.sign_ok(0, 1, 1).await;
    cluster.nodes[2].abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let resp = cluster.sign(&attestation(1, 2, 1)).await;
    assert_eq!(resp.status(), 503);
    let msg = resp.text().await.unwrap();
    assert!(msg.contains("did not answer in time"), "{msg}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1450) && elapsed < Duration::from_secs(8),
        "{elapsed:?}"
    );
}

#[test]
fn deposit_data_is_signed_by_the_group_key() {
    let addrs = (1..=4).map(|i| format!("http://127.0.0.1:{}", 9000 + i)).collect();
    let p = params(addrs, 3);
    let created = create_with_dkg(&p, &mut StdRng::seed_from_u64(7)).unwrap();
    let d = &created.deposit;
    assert_eq!(d.pubkey, created.description.group_public_key.to_bytes());
    let msg = DepositMessage {
        pubkey: d.pubkey,
        withdrawal_credentials: p.withdrawal_credentials,
        amount: p.amount,
    };
    let sig = Signature::from_bytes(&d.signature).unwrap();
    assert!(
        created
            .description
            .group_public_key
            .verify(&msg.signing_root(p.network.fork_version), &sig)
    );
    assert_eq!(d.network_name, "holesky");
}

#[test]
fn split_keeps_the_key_and_descriptions_are_validated() {
    let addrs = (1..=4).map(|i| format!("http://127.0.0.1:{}", 9100 + i)).collect();
    let sk = SecretKey::random(&mut StdRng::seed_from_u64(8));
    let created = create_with_split(&params(addrs, 3), &sk, &mut StdRng::seed_from_u64(9)).unwrap();
    assert_eq!(created.description.group_public_key, sk.public_key());
    assert_eq!(created.description.key_generation.method, KeyGenMethod::TrustedDealer);
    let json = serde_json::to_string_pretty(&created.description).unwrap();
    let back: ClusterDescription = serde_json::from_str(&json).unwrap();
    assert_eq!(back, created.description);
    back.validate().unwrap();
    // A forged public share or a wrong threshold is caught.
    let mut forged = created.description.clone();
    forged.members[2].public_share = forged.members[1].public_share;
    assert!(forged.validate().is_err());
    let mut wrong_t = created.description.clone();
    wrong_t.threshold = 2;
    assert!(wrong_t.validate().is_err());
    // A node refuses a share that is not its own.
    let err = Node::new(
        vec![(
            created.description.clone(),
            claystack_dvt::SecretShare::new(
                created.shares[0].index(),
                created.shares[1].secret().clone(),
            ),
        )],
        SlashingDatabase::open_in_memory().unwrap(),
        evaluator(),
    );
    assert!(err.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_cluster_signs_and_survives_a_stopped_node() {
    let dbs = tempfile::tempdir().unwrap();
    let local = claystack_dvt::local::LocalCluster::start(
        params(vec![], 3),
        4,
        Some(dbs.path()),
        Duration::from_secs(2),
        &mut StdRng::seed_from_u64(30),
    )
    .await
    .unwrap();
    let group = local.created.description.group_public_key;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/eth2/sign/{}", local.front_url, group.to_hex());
    for (i, stop) in [(1u64, None), (2, Some(3u64))] {
        if let Some(s) = stop {
            assert!(local.stop_node(ShareIndex::new(s).unwrap()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let resp = http.post(&url).json(&attestation(i - 1, i, 1)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let sig = Signature::from_hex(&resp.text().await.unwrap()).unwrap();
        assert!(group.verify(&attestation_root(i - 1, i, 1), &sig));
    }
    // Databases are on disk, one per node plus the front's.
    for name in ["node-1.sqlite", "node-4.sqlite", "front.sqlite"] {
        assert!(dbs.path().join(name).exists(), "{name}");
    }
    assert!(!local.stop_node(ShareIndex::new(9).unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_per_operator_and_one_front_serve_several_validators() {
    let (ls, addrs) = listeners(4).await;
    let a = create_with_dkg(&params(addrs.clone(), 3), &mut StdRng::seed_from_u64(40)).unwrap();
    let sk = SecretKey::random(&mut StdRng::seed_from_u64(41));
    let b = create_with_split(&params(addrs, 3), &sk, &mut StdRng::seed_from_u64(42)).unwrap();
    for (i, listener) in ls.into_iter().enumerate() {
        let node = Node::new(
            vec![
                (a.description.clone(), a.shares[i].clone()),
                (b.description.clone(), b.shares[i].clone()),
            ],
            SlashingDatabase::open_in_memory().unwrap(),
            evaluator(),
        )
        .unwrap();
        assert_eq!(node.public_keys().len(), 2);
        let app = node_router(Arc::new(node), None);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let front = Front::new(
        vec![a.description.clone(), b.description.clone()],
        evaluator(),
        FrontConfig { timeout: Duration::from_secs(2), node_token: None },
    )
    .unwrap();
    let db = Arc::new(SlashingDatabase::open_in_memory().unwrap());
    let state = front_state(front, NetworkSpec::HOLESKY, Some(db), None).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, front_router(state)).await.unwrap() });
    let http = reqwest::Client::new();
    let mut keys: Vec<String> = http
        .get(format!("{url}/api/v1/eth2/publicKeys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    keys.sort();
    let mut expected =
        vec![a.description.group_public_key.to_hex(), b.description.group_public_key.to_hex()];
    expected.sort();
    assert_eq!(keys, expected);
    let sign = |pk: PublicKey, body: serde_json::Value| {
        let http = http.clone();
        let url = format!("{url}/api/v1/eth2/sign/{}", pk.to_hex());
        async move { http.post(url).json(&body).send().await.unwrap() }
    };
    for pk in [a.description.group_public_key, b.description.group_public_key] {
        let resp = sign(pk, attestation(0, 1, 1)).await;
        assert_eq!(resp.status(), 200);
        let sig = Signature::from_hex(&resp.text().await.unwrap()).unwrap();
        assert!(pk.verify(&attestation_root(0, 1, 1), &sig));
    }
    // Slashing protection is per validator: a double vote by A is refused, B is unaffected.
    let resp = sign(a.description.group_public_key, attestation(0, 1, 2)).await;
    assert_eq!(resp.status(), 412);
    let resp = sign(b.description.group_public_key, attestation(1, 2, 2)).await;
    assert_eq!(resp.status(), 200);
    // A node refuses a configuration with the same validator twice.
    let dup = Node::new(
        vec![
            (a.description.clone(), a.shares[0].clone()),
            (a.description.clone(), a.shares[0].clone()),
        ],
        SlashingDatabase::open_in_memory().unwrap(),
        evaluator(),
    );
    assert!(dup.is_err());
}

/// The value of one series (name and labels exactly as rendered) in a scrape.
fn series(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_combines_refusals_and_node_partials() {
    let (mut ls, addrs) = listeners(4).await;
    // Node 4 never starts (its port is closed), so the three others must all answer.
    drop(ls.pop());
    let created = create_with_dkg(&params(addrs, 3), &mut StdRng::seed_from_u64(21)).unwrap();
    let cluster = Cluster::start(created, ls, Duration::from_secs(2), false).await;
    let scrape = |url: String| {
        let http = cluster.http.clone();
        async move {
            let resp = http.get(format!("{url}/metrics")).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.text().await.unwrap()
        }
    };
    let before = scrape(cluster.front_url.clone()).await;
    assert_eq!(series(&before, "claystack_dvt_combined_total"), Some(0), "{before}");
    assert_eq!(series(&before, "claystack_dvt_partial_failures_total{node=\"4\"}"), Some(0));

    cluster.sign_ok(0, 10, 1).await;
    // No database at the front: the nodes refuse, the fan-out ends without a signature.
    assert_eq!(cluster.sign(&attestation(0, 10, 9)).await.status(), 503);

    let front = scrape(cluster.front_url.clone()).await;
    assert_eq!(series(&front, "claystack_dvt_combined_total"), Some(1), "{front}");
    assert_eq!(series(&front, "claystack_dvt_combine_failures_total"), Some(1), "{front}");
    assert_eq!(series(&front, "claystack_dvt_combine_duration_seconds_count"), Some(1), "{front}");
    // The front reuses the signer's router, so its request counters are there too.
    assert_eq!(
        series(&front, "claystack_signer_requests_total{type=\"ATTESTATION\",outcome=\"signed\"}"),
        Some(1),
        "{front}"
    );
    let up = series(&front, "claystack_dvt_nodes_up").unwrap();
    assert!((3..=4).contains(&up), "{front}");

    // Node 1 released its partial for the first request (the threshold needed all three) and
    // refuses the slashable one asked directly.
    let node = cluster.created.description.members[0].address.clone();
    let resp = cluster
        .http
        .post(format!("{node}/dvt/v1/partial/{}", cluster.group().to_hex()))
        .bearer_auth("node-token")
        .json(&attestation(0, 10, 7))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    let text = scrape(node).await;
    assert_eq!(series(&text, "claystack_dvt_node_partials_signed_total"), Some(1), "{text}");
    // One refusal asked directly, and possibly one from the front's slashable fan-out.
    let refused = series(&text, "claystack_dvt_node_partials_refused_total").unwrap();
    assert!((1..=2).contains(&refused), "{text}");
}
