//! End-to-end: the README's first command (`claystack devnet`) brings up anvil, deploys the
//! contracts, sets up operators of every type and stakers, starts the beacon simulator, the oracle
//! members, the keeper and the dashboard, and prints a line for the first reported frame.

use std::{net::TcpListener, path::PathBuf, process::Command};

/// The checkout whose contracts and toolchain the devnet uses: `CLAYSTACK_HOME` when set (an
/// export of the last commit while the working tree has others' unfinished changes), else this
/// repository.
fn repo_root() -> PathBuf {
    claystack_devnet::testing::devnet_home()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn devnet_comes_up_and_reports_a_frame() {
    let root = repo_root();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {} (scripts/test does)",
        root.display()
    );
    let api = format!("127.0.0.1:{}", free_port());
    let out = Command::new(env!("CARGO_BIN_EXE_claystack"))
        .args(["devnet", "--exit-after-demo", "--port", &free_port().to_string()])
        .args(["--api-listen", &api])
        .args(["--beacon-listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--home")
        .arg(&root)
        .output()
        .expect("run claystack devnet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "devnet failed:\n{stdout}\n{stderr}");

    for expected in [
        "stakePool",
        "operator pro-1",
        "operator pro-2",
        "operator dvt",
        "operator home-3",
        "public pool, ignores exit requests",
        "operator kyc-1",
        "(KYC pool)",
        "staker   institution",
        "vfp      vfp-1",
        "deposited 10 ETH into the VfpPool",
        "backs operator home-2",
        &format!("dashboard http://{api}/"),
        "frame [csETH] ref_slot=",
        "stopping",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in output:\n{stdout}");
    }
    // the public pool holds the stakes (200 + 120 ETH), the operators' bonds as csETH (3 + 3 +
    // 5 + 3 × 4 ETH), the VFP's deposit (10 ETH, staked by the VfpPool) and the deployment's seed
    let frame = stdout.lines().find(|l| l.starts_with("frame [csETH]")).unwrap();
    let field = |name: &str| -> f64 {
        frame
            .split(&format!(" {name}="))
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {frame}"))
    };
    let pooled = field("pooled");
    assert!((353.0..354.0).contains(&pooled), "{frame}");
    // the VfpPool holds the deposit as csETH (1:1 before any reward); its rewards bookings come
    // once the backed operator has attested and a report set a rewards root, later than the
    // first frame (e2e_lifecycle checks them)
    let vfp = field("vfp");
    assert!((10.0..10.01).contains(&vfp), "{frame}");
    // the KYC pool's VfpPool funds nobody: its line shows no VfpPool
    let kyc = stdout.lines().find(|l| l.starts_with("frame [kcsETH]"));
    assert!(kyc.is_none_or(|l| !l.contains(" vfp=")), "{kyc:?}");
}

/// Reads `child`'s stdout on a thread; lines arrive on the returned channel.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead as _;
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_serves_the_dashboard_and_keeps_state_across_restarts() {
    let root = repo_root();
    assert!(root.join("node_modules/.bin/anvil").exists(), "run `npm ci` in {}", root.display());
    let state = tempfile::tempdir().unwrap();
    let (port, api, beacon) =
        (free_port(), format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    let args = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_claystack"));
        c.args(["devnet", "--port", &port.to_string(), "--api-listen", &api])
            .args(["--beacon-listen", &beacon, "--home"])
            .arg(&root)
            .arg("--state")
            .arg(state.path())
            .args(extra);
        c
    };

    // first run: until the first frame line, then the dashboard and the API answer
    let mut first = args(&[]).stdout(std::process::Stdio::piped()).spawn().expect("run devnet");
    let lines = lines_of(&mut first);
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !seen.iter().any(|l: &String| l.starts_with("frame [csETH]")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(e) => {
                first.kill().unwrap();
                panic!("no frame line within 300 s ({e}); output so far:\n{}", seen.join("\n"));
            }
        }
    }
    let http = reqwest::Client::new();
    let page = http.get(format!("http://{api}/")).send().await.expect("GET the dashboard");
    assert!(page.status().is_success(), "{}", page.status());
    assert!(page.text().await.unwrap().contains("<html"), "the dashboard is an HTML page");
    // the indexer catches up with the set-up: the API lists the registered operators
    let mut operators = serde_json::Value::Null;
    for _ in 0..60 {
        let r = http.get(format!("http://{api}/api/v1/operators")).send().await.unwrap();
        operators = r.json().await.unwrap_or(serde_json::Value::Null);
        if operators.to_string().matches("\"id\"").count() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert!(
        operators.to_string().matches("\"id\"").count() >= 6,
        "the API does not list the devnet's operators: {operators}"
    );
    // reward allocations come from the devnet's oracle members (not "no member configured"),
    // and a tree is served verified once a rewards root is on chain
    let id = operators["items"][0]["id"].as_u64().expect("an operator id");
    let url = format!("http://{api}/api/v1/operators/{id}/rewards");
    let r: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    let a = &r["allocation"];
    assert!(a.is_object(), "{url}: {r}");
    assert!(
        !a["reason"].as_str().unwrap_or("").contains("no oracle member URL configured"),
        "the devnet's dashboard does not know its oracle members: {a}"
    );
    if !a["root"].is_null() {
        assert_eq!(
            a["status"], "verified",
            "a root is on chain but no member's tree verified: {a}"
        );
    }
    let pid = first.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = first.wait().unwrap();
    assert!(status.success(), "devnet did not stop cleanly on Ctrl-C: {status}");
    let stake_pool = seen.iter().find(|l| l.contains("stakePool")).cloned().unwrap();

    // second run: same chain, no new deployment or set-up, the last frame still reported
    let out = args(&["--frames", "1"]).output().expect("run devnet again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "restart failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("State kept in"), "{stdout}");
    assert!(stdout.contains(&stake_pool), "another deployment: {stdout}");
    assert!(!stdout.contains("operator pro-1"), "the set-up ran again: {stdout}");
    assert!(stdout.contains("frame [csETH] ref_slot="), "{stdout}");
}
