//! A DVT cluster of real processes: `claystack dvt create` (DKG), four `claystack dvt node`
//! processes and one `claystack dvt signer`; signing works with one node killed and fails
//! cleanly (503) with two killed. Also checks `claystack dvt export` for both formats.

use claystack_dvt::Signature;
use claystack_dvt::cluster::ClusterDescription;
use claystack_dvt::request::{RequestEvaluator, SignerEvaluator};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_claystack");

/// Kills every child on drop, so a failing test leaves no process behind.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            // A child the test already killed has exited: both calls may fail harmlessly.
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

fn spawn_node(dir: &Path, index: u64) -> Child {
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
async fn four_node_processes_survive_one_kill_and_fail_cleanly_at_two() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let nodes: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let out = run_ok(&[
        "dvt",
        "create",
        "--threshold",
        "3",
        "--node",
        &nodes.join(","),
        "--out",
        dir.to_str().unwrap(),
        "--network",
        "holesky",
        "--withdrawal-address",
        "0x0f51bb10119727a7e5ea3538074fb341f56b09ad",
        "--insecure-fast-kdf",
    ]);
    assert!(out.contains("validator public key"), "{out}");
    let description = ClusterDescription::read(&dir.join("cluster.json")).unwrap();
    let group = description.group_public_key;

    let mut procs = Procs((1..=4).map(|i| spawn_node(&dir, i)).collect());
    let front_port = free_port();
    let front = format!("http://127.0.0.1:{front_port}");
    procs.0.push(
        Command::new(BIN)
            .args(["dvt", "signer", "--timeout-ms", "3000", "--listen"])
            .arg(format!("127.0.0.1:{front_port}"))
            .arg("--cluster")
            .arg(dir.join("cluster.json"))
            .arg("--slashing-db")
            .arg(tmp.path().join("front.sqlite"))
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
    let evaluator = SignerEvaluator { spec: description.network_spec().unwrap() };
    let sign = |body: serde_json::Value| {
        let http = http.clone();
        let url = format!("{front}/api/v1/eth2/sign/{}", group.to_hex());
        async move {
            http.post(url).header("accept", "application/json").json(&body).send().await.unwrap()
        }
    };
    let check = |resp_json: serde_json::Value, body: &serde_json::Value| {
        let sig = Signature::from_hex(resp_json["signature"].as_str().unwrap()).unwrap();
        let root = evaluator.evaluate(body.to_string().as_bytes()).unwrap().signing_root;
        assert!(group.verify(&root, &sig));
    };

    let body = attestation(0, 1);
    let resp = sign(body.clone()).await;
    assert_eq!(resp.status(), 200);
    check(resp.json().await.unwrap(), &body);

    // A double vote is refused (412), as by a single-key signer.
    let mut double = attestation(0, 1);
    double["attestation"]["beacon_block_root"] = format!("0x{}", "bb".repeat(32)).into();
    assert_eq!(sign(double).await.status(), 412);

    // Kill node 2: 3 of 4 remain, signing still works.
    procs.0[1].kill().unwrap();
    procs.0[1].wait().unwrap();
    let body = attestation(1, 2);
    let resp = sign(body.clone()).await;
    assert_eq!(resp.status(), 200);
    check(resp.json().await.unwrap(), &body);

    // Kill node 4 too: a clean 503 naming the problem, well within the timeout.
    procs.0[3].kill().unwrap();
    procs.0[3].wait().unwrap();
    let started = Instant::now();
    let resp = sign(attestation(2, 3)).await;
    assert_eq!(resp.status(), 503);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["code"], 503);
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("cluster unavailable"), "{msg}");
    assert!(msg.contains("node 2: unreachable") && msg.contains("node 4: unreachable"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Restart node 2 (killed with SIGKILL) on its own database: it still refuses to sign a
    // conflicting vote for a target it signed before the kill, re-signs the same vote, and the
    // cluster is back to 3 of 4.
    procs.0[1] = spawn_node(&dir, 2);
    wait_up(&http, &nodes[1]).await;
    let node2 = format!("{}/dvt/v1/partial/{}", nodes[1], group.to_hex());
    let mut conflicting = attestation(0, 1);
    conflicting["attestation"]["beacon_block_root"] = format!("0x{}", "cc".repeat(32)).into();
    let resp = http.post(&node2).bearer_auth("test-token").json(&conflicting).send().await.unwrap();
    assert_eq!(resp.status(), 412, "{}", resp.text().await.unwrap());
    let resp =
        http.post(&node2).bearer_auth("test-token").json(&attestation(0, 1)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = attestation(3, 4);
    let resp = sign(body.clone()).await;
    assert_eq!(resp.status(), 200);
    check(resp.json().await.unwrap(), &body);

    // Exports of the public parts.
    let cluster_arg = dir.join("cluster.json").display().to_string();
    let obol = tmp.path().join("cluster-lock.json");
    let obol_arg = obol.display().to_string();
    run_ok(&["dvt", "export", "--format", "obol", "--cluster", &cluster_arg, "--out", &obol_arg]);
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&obol).unwrap()).unwrap();
    let dv = &lock["distributed_validators"][0];
    assert_eq!(dv["distributed_public_key"], group.to_hex());
    let shares: Vec<String> = description.members.iter().map(|m| m.public_share.to_hex()).collect();
    assert_eq!(dv["public_shares"], serde_json::json!(shares));
    assert_eq!(dv["partial_deposit_data"][0]["pubkey"], group.to_hex());
    for h in [&lock["lock_hash"], &lock["cluster_definition"]["config_hash"]] {
        assert_eq!(h.as_str().unwrap().len(), 66, "{h}");
    }
    assert_eq!(lock["cluster_definition"]["threshold"], 3);
    assert_eq!(lock["cluster_definition"]["fork_version"], "0x01017000");
    assert_eq!(
        lock["cluster_definition"]["validators"][0]["withdrawal_address"],
        "0x0f51bb10119727a7e5ea3538074fb341f56b09ad"
    );

    let ssv = tmp.path().join("keyshares.json");
    let ssv_arg = ssv.display().to_string();
    run_ok(&[
        "dvt",
        "export",
        "--format",
        "ssv",
        "--cluster",
        &cluster_arg,
        "--out",
        &ssv_arg,
        "--owner-address",
        "0x81592c3de184a3e2c0dcb5a261bc107bfa91f494",
        "--owner-nonce",
        "7",
        "--operator-key",
        "1=LS0tLS1CRUdJTg==",
    ]);
    let ks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ssv).unwrap()).unwrap();
    let share = &ks["shares"][0];
    assert_eq!(share["data"]["publicKey"], group.to_hex());
    assert_eq!(share["data"]["ownerNonce"], 7);
    assert_eq!(share["data"]["operators"][0]["operatorKey"], "LS0tLS1CRUdJTg==");
    assert_eq!(share["payload"]["operatorIds"], serde_json::json!([1, 2, 3, 4]));
    assert!(ks["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(share["payload"]["sharesData"], "");

    // With every operator's part (made where its share is), sharesData is filled.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../dvt/tests/fixtures");
    let mut part_args = Vec::new();
    for i in 1..=4 {
        let key = std::fs::read_to_string(format!("{fixtures}/ssv-operator-{i}.pub.b64")).unwrap();
        let node_dir = dir.join(format!("node-{i}"));
        let part = tmp.path().join(format!("ssv-part-{i}.json"));
        run_ok(&[
            "dvt",
            "ssv-share",
            "--cluster",
            &cluster_arg,
            "--index",
            &i.to_string(),
            "--keystore",
            node_dir.join("keystore.json").to_str().unwrap(),
            "--password-file",
            node_dir.join("password.txt").to_str().unwrap(),
            "--operator-key",
            key.trim(),
            "--owner-address",
            "0x81592c3de184a3e2c0dcb5a261bc107bfa91f494",
            "--owner-nonce",
            "7",
            "--out",
            part.to_str().unwrap(),
        ]);
        part_args.push(part.display().to_string());
    }
    let full = tmp.path().join("keyshares-full.json");
    run_ok(&[
        "dvt",
        "export",
        "--format",
        "ssv",
        "--cluster",
        &cluster_arg,
        "--out",
        full.to_str().unwrap(),
        "--owner-address",
        "0x81592c3de184a3e2c0dcb5a261bc107bfa91f494",
        "--owner-nonce",
        "7",
        "--ssv-part",
        &part_args.join(","),
    ]);
    let ks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    let data = ks["shares"][0]["payload"]["sharesData"].as_str().unwrap();
    assert_eq!(data.len(), 2 + 2 * (96 + 4 * 48 + 4 * 256));
    let sig = Signature::from_hex(&data[..2 + 192]).unwrap();
    let msg =
        claystack_dvt::ssv::ownership_message("0x81592c3de184a3e2c0dcb5a261bc107bfa91f494", 7)
            .unwrap();
    assert!(group.verify(&msg, &sig));
}

#[test]
fn create_split_keeps_an_existing_key() {
    let tmp = tempfile::tempdir().unwrap();
    let sk = claystack_keys::SecretKey::from_bytes(&[7u8; 32]).unwrap();
    let ks = claystack_keys::Keystore::encrypt(
        &sk,
        "split-password",
        &claystack_keys::Kdf::pbkdf2(1024),
        "",
        "",
    )
    .unwrap();
    let ks_path = tmp.path().join("validator.json");
    claystack_keys::write_keystore_file(&ks_path, &ks).unwrap();
    let pw_path = tmp.path().join("pw.txt");
    std::fs::write(&pw_path, "split-password\n").unwrap();
    let dir = tmp.path().join("split");
    let ks_arg = ks_path.display().to_string();
    let pw_arg = pw_path.display().to_string();
    let dir_arg = dir.display().to_string();
    run_ok(&[
        "dvt",
        "create",
        "--threshold",
        "2",
        "--node",
        "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3",
        "--indices",
        "11,22,33",
        "--out",
        &dir_arg,
        "--withdrawal-address",
        "0x0f51bb10119727a7e5ea3538074fb341f56b09ad",
        "--split",
        &ks_arg,
        "--split-password-file",
        &pw_arg,
        "--insecure-fast-kdf",
    ]);
    let d = ClusterDescription::read(&dir.join("cluster.json")).unwrap();
    assert_eq!(d.group_public_key.to_bytes(), sk.public_key());
    assert_eq!(d.key_generation.method, claystack_dvt::cluster::KeyGenMethod::TrustedDealer);
    for idx in [11u64, 22, 33] {
        let node_dir = dir.join(format!("node-{idx}"));
        let pw = std::fs::read_to_string(node_dir.join("password.txt")).unwrap();
        let share = claystack_dvt::cluster::load_share(
            &d,
            claystack_dvt::ShareIndex::new(idx).unwrap(),
            &node_dir.join("keystore.json"),
            &pw,
        )
        .unwrap();
        assert_eq!(share.index().get(), idx);
    }
    // Never overwrites an existing cluster.
    let out = Command::new(BIN)
        .args(["dvt", "create", "--threshold", "1", "--node", "http://127.0.0.1:1", "--out"])
        .arg(&dir)
        .args(["--withdrawal-address", "0x0f51bb10119727a7e5ea3538074fb341f56b09ad"])
        .args(["--insecure-fast-kdf"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
