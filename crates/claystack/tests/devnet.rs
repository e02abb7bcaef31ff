//! End-to-end: the README's first command (`claystack devnet`) brings up anvil, deploys the
//! contracts and runs the scripted lifecycle to a successful claim.

use std::{net::TcpListener, path::PathBuf, process::Command};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn devnet_runs_the_lifecycle_to_a_claim() {
    let root = repo_root();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {} (scripts/test does)",
        root.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_claystack"))
        .args(["devnet", "--exit-after-demo", "--port", &free_port().to_string()])
        .arg("--home")
        .arg(&root)
        .output()
        .expect("run claystack devnet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "devnet failed:\n{stdout}\n{stderr}");

    for expected in [
        "stakePool",
        "report 1 applied",
        "withdrawal requested, id 1",
        "Advanced the chain",
        "finalized up to request 1",
        "claimed (wei)",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in output:\n{stdout}");
    }

    // The claim paid (almost) the 2 ETH requested, and rewards lifted the rate above 1.
    let claimed = value_after(&stdout, "claimed (wei)");
    assert!(
        claimed > 1_990_000_000_000_000_000 && claimed <= 2_000_000_000_000_000_000,
        "{claimed}"
    );
    let rate = value_after(&stdout, "csETH rate (ETH per csETH, 1e27)");
    assert!(rate > 1_000_000_000_000_000_000_000_000_000, "rate did not rise: {rate}");
}

fn value_after(text: &str, label: &str) -> u128 {
    let line =
        text.lines().rev().find(|l| l.contains(label)).unwrap_or_else(|| panic!("no {label}"));
    line.rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad line {line}"))
}
