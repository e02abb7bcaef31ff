//! Networked DKG with real processes: four operators each create an identity, sign one cluster
//! definition and run `claystack dvt dkg run` as separate OS processes; the outputs agree and
//! the resulting cluster (4 `dvt node` processes + `dvt signer`) signs. A member that never
//! shows up makes every other participant exit with a clear timeout error.

use claystack_dvt::Signature;
use claystack_dvt::cluster::{ClusterDescription, KeyGenMethod};
use claystack_dvt::request::{RequestEvaluator, SignerEvaluator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_claystack");

/// Kills every child on drop, so a failing test leaves no process behind.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            // A child that already exited makes both calls fail harmlessly.
            c.kill().ok();
            c.wait().ok();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run_ok(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "claystack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Identities for `n` operators, a definition listing them, signed by all. Returns the
/// definition path, each operator's directory, the node URLs.
fn prepare(root: &Path, n: usize) -> (PathBuf, Vec<PathBuf>, Vec<String>) {
    let mut ops = Vec::new();
    let mut pubs = Vec::new();
    let mut nodes = Vec::new();
    let mut dkgs = Vec::new();
    for i in 1..=n {
        let dir = root.join(format!("operator-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let id = dir.join("identity.json");
        let out = run_ok(&["dvt", "dkg", "identity", "--out", s(&id)]);
        assert!(out.contains("identity_key"), "{out}");
        pubs.push(dir.join("identity.pub.json").display().to_string());
        nodes.push(format!("http://127.0.0.1:{}", free_port()));
        dkgs.push(format!("http://127.0.0.1:{}", free_port()));
        ops.push(dir);
    }
    let definition = root.join("definition.json");
    run_ok(&[
        "dvt",
        "dkg",
        "definition",
        "--threshold",
        "3",
        "--operator",
        &pubs.join(","),
        "--node",
        &nodes.join(","),
        "--dkg-address",
        &dkgs.join(","),
        "--network",
        "holesky",
        "--withdrawal-address",
        "0x0f51bb10119727a7e5ea3538074fb341f56b09ad",
        "--out",
        s(&definition),
    ]);
    (definition, ops, nodes)
}

fn sign_definition(definition: &Path, op: &Path) {
    let out = run_ok(&[
        "dvt",
        "dkg",
        "sign",
        "--definition",
        s(definition),
        "--identity",
        s(&op.join("identity.json")),
    ]);
    assert!(out.contains("signed as member"), "{out}");
}

fn spawn_dkg(definition: &Path, op: &Path, timeout_secs: u64) -> Child {
    Command::new(BIN)
        .args(["dvt", "dkg", "run", "--insecure-fast-kdf", "--round-timeout-secs"])
        .arg(timeout_secs.to_string())
        .arg("--definition")
        .arg(definition)
        .arg("--identity")
        .arg(op.join("identity.json"))
        .arg("--out")
        .arg(op.join("cluster"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_all(children: Vec<Child>, limit: Duration) -> Vec<Output> {
    let deadline = Instant::now() + limit;
    let mut procs = Procs(children);
    let mut outputs = Vec::new();
    for c in std::mem::take(&mut procs.0) {
        let pid = c.id();
        // Poll so that a hung participant fails the test instead of hanging it.
        let mut c = c;
        loop {
            if c.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                c.kill().ok();
                panic!("dkg participant {pid} did not finish in {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        outputs.push(c.wait_with_output().unwrap());
    }
    outputs
}

async fn wait_up(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{url}/upcheck")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn attestation(source: u64, target: u64) -> serde_json::Value {
    serde_json::json!({
        "type": "ATTESTATION",
        "fork_info": {
            "fork": {"previous_version": "0x01017000", "current_version": "0x01017000", "epoch": "0"},
            "genesis_validators_root": format!("0x{}", "4b".repeat(32)),
        },
        "attestation": {
            "slot": (target * 32).to_string(), "index": "0",
            "beacon_block_root": format!("0x{}", "aa".repeat(32)),
            "source": {"epoch": source.to_string(), "root": format!("0x{}", "01".repeat(32))},
            "target": {"epoch": target.to_string(), "root": format!("0x{}", "02".repeat(32))}
        }
    })
}

fn spawn_node(op: &Path, index: u64) -> Child {
    let dir = op.join("cluster");
    let node_dir = dir.join(format!("node-{index}"));
    Command::new(BIN)
        .args(["dvt", "node", "--index", &index.to_string()])
        .arg("--cluster")
        .arg(dir.join("cluster.json"))
        .arg("--keystore")
        .arg(node_dir.join("keystore.json"))
        .arg("--password-file")
        .arg(node_dir.join("password.txt"))
        .arg("--slashing-db")
        .arg(node_dir.join("slashing.sqlite"))
        .env("CLAYSTACK_DVT_NODE_TOKEN", "test-token")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_operator_processes_run_the_dkg_and_the_cluster_signs() {
    let tmp = tempfile::tempdir().unwrap();
    let (definition, ops, nodes) = prepare(tmp.path(), 4);
    // Unsigned (or partly signed) definitions are refused before any network traffic.
    let early = Command::new(BIN)
        .args(["dvt", "dkg", "run", "--round-timeout-secs", "1", "--definition"])
        .arg(&definition)
        .arg("--identity")
        .arg(ops[0].join("identity.json"))
        .arg("--out")
        .arg(tmp.path().join("early"))
        .output()
        .unwrap();
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("has not signed"));
    for op in &ops {
        sign_definition(&definition, op);
    }

    let children = ops.iter().map(|op| spawn_dkg(&definition, op, 60)).collect();
    let outputs = wait_all(children, Duration::from_secs(120));
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            out.status.success(),
            "participant {} failed: {}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Identical description and deposit data everywhere; each operator has only its share.
    let read = |op: &PathBuf, f: &str| std::fs::read(op.join("cluster").join(f)).unwrap();
    for op in &ops[1..] {
        assert_eq!(read(op, "cluster.json"), read(&ops[0], "cluster.json"));
        assert_eq!(read(op, "deposit_data.json"), read(&ops[0], "deposit_data.json"));
    }
    for (i, op) in ops.iter().enumerate() {
        let entries: Vec<_> = std::fs::read_dir(op.join("cluster"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("node-"))
            .collect();
        assert_eq!(entries, vec![format!("node-{}", i + 1)], "operator {} holds one share", i + 1);
    }
    let description =
        ClusterDescription::read(&ops[0].join("cluster").join("cluster.json")).unwrap();
    assert_eq!(description.key_generation.method, KeyGenMethod::NetworkedDkg);
    assert_eq!(description.members.iter().map(|m| m.address.clone()).collect::<Vec<_>>(), nodes);
    let deposit =
        std::fs::read_to_string(ops[0].join("cluster").join("deposit_data.json")).unwrap();
    claystack_keys::deposit::verify_deposit_data_json(&deposit, &Default::default()).unwrap();
    let group = description.group_public_key;

    // The cluster of the DKG's outputs signs.
    let mut procs = Procs(ops.iter().zip(1..=4).map(|(op, i)| spawn_node(op, i)).collect());
    let front_port = free_port();
    let front = format!("http://127.0.0.1:{front_port}");
    procs.0.push(
        Command::new(BIN)
            .args(["dvt", "signer", "--timeout-ms", "3000", "--listen"])
            .arg(format!("127.0.0.1:{front_port}"))
            .arg("--cluster")
            .arg(ops[2].join("cluster").join("cluster.json"))
            .env("CLAYSTACK_DVT_NODE_TOKEN", "test-token")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    for url in nodes.iter().chain(std::iter::once(&front)) {
        wait_up(&http, url).await;
    }
    let body = attestation(0, 1);
    let resp = http
        .post(format!("{front}/api/v1/eth2/sign/{}", group.to_hex()))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let json: serde_json::Value = resp.json().await.unwrap();
    let sig = Signature::from_hex(json["signature"].as_str().unwrap()).unwrap();
    let evaluator = SignerEvaluator { spec: description.network_spec().unwrap() };
    let root = evaluator.evaluate(body.to_string().as_bytes()).unwrap().signing_root;
    assert!(group.verify(&root, &sig));
}

#[test]
fn a_member_that_never_shows_up_makes_everyone_time_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (definition, ops, _) = prepare(tmp.path(), 4);
    for op in &ops {
        sign_definition(&definition, op);
    }
    let started = Instant::now();
    let children = ops[..3].iter().map(|op| spawn_dkg(&definition, op, 2)).collect();
    let outputs = wait_all(children, Duration::from_secs(60));
    let mut named = 0;
    for (i, out) in outputs.iter().enumerate() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "participant {} succeeded without member 4", i + 1);
        assert!(err.contains("timed out") || err.contains("aborted the run"), "{err}");
        if err.contains("timed out") && err.contains("[4]") {
            named += 1;
        }
        assert!(!ops[i].join("cluster").join("cluster.json").exists());
    }
    assert!(named >= 1, "someone names the absent member");
    assert!(started.elapsed() < Duration::from_secs(30));
}
