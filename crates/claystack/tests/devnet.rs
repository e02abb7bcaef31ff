//! End-to-end: the README's first command (`claystack devnet`) brings up anvil, deploys the
//! contracts, sets up operators of every type and stakers, starts the beacon simulator, the oracle
//! members, the keeper and the dashboard, and prints a line for the first reported frame.

use std::{net::TcpListener, path::PathBuf, process::Command};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
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
        "operator kyc-1",
        "(KYC pool)",
        "staker   institution",
        &format!("dashboard http://{api}/"),
        "frame [csETH] ref_slot=",
        "stopping",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in output:\n{stdout}");
    }
    // the public pool holds the stakes (200 + 120 ETH), the operators' bonds as csETH (3 + 3 +
    // 5 + 3 × 4 ETH) and the deployment's seed
    let frame = stdout.lines().find(|l| l.starts_with("frame [csETH]")).unwrap();
    let pooled: f64 = frame
        .split("pooled=")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no pooled amount in {frame}"));
    assert!((343.0..344.0).contains(&pooled), "{frame}");
}
