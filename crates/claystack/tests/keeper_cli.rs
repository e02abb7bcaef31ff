//! `claystack keeper run` against a real anvil with the deployed contracts: without a deposit
//! module or depositable keys it sends nothing; the long-running keeper serves its metrics and
//! stops cleanly on SIGINT (Ctrl-C).

mod staker_chain;

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use staker_chain::{Chain, KEYS};

fn block_number(chain: &Chain) -> u64 {
    chain.cast(&["block-number"]).parse().unwrap()
}

fn get_metrics(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn keeper_does_nothing_without_module_or_keys_and_stops_cleanly() {
    let chain = Chain::start(3_133_712);
    // buffer above 1 ETH, but no deposit module and no keys: nothing to do
    chain.claystack(&["stake", "5eth"], Some(KEYS[9])).success();
    let before = block_number(&chain);
    let out = chain.claystack(&["keeper", "run", "--once"], Some(KEYS[7])).success();
    assert!(out.contains("keeper run: depositable 5.001 ETH, depositable keys 0"), "{out}");
    // (which of the two depends on whether the deploy script wires the deposit module yet)
    assert!(
        out.contains("idle: no deposit module set on the pool")
            || out.contains("idle: no depositable keys"),
        "{out}"
    );
    assert!(!out.contains("done:"), "{out}");
    assert_eq!(block_number(&chain), before, "the keeper sent a transaction");

    // a gas cap below the current price holds everything back, and says so
    let out = chain
        .claystack(&["keeper", "run", "--once", "--max-gas-price", "1wei"], Some(KEYS[7]))
        .success();
    assert!(out.contains("above the cap of 1 wei: waiting"), "{out}");
    let err = chain
        .claystack(&["keeper", "run", "--once", "--max-gas-price", "lots"], Some(KEYS[7]))
        .failure();
    assert!(err.contains("--max-gas-price"), "{err}");

    // the daemon: metrics endpoint, one run per poll, clean stop on SIGINT
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_claystack"))
        .args(["keeper", "run", "--poll-seconds", "1", "--metrics-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .env("CLAYSTACK_RPC_URL", &chain.rpc)
        .env("CLAYSTACK_DEPLOYMENT", &chain.deployment)
        .env("CLAYSTACK_PRIVATE_KEY", KEYS[7])
        .env("CLAYSTACK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains(&format!("metrics on http://127.0.0.1:{port}/metrics")), "{first}");
    // two runs have happened once two reports were printed
    let start = Instant::now();
    let mut runs = 0;
    while runs < 2 && start.elapsed() < Duration::from_secs(30) {
        if lines.next().unwrap().unwrap().starts_with("keeper run:") {
            runs += 1;
        }
    }
    assert_eq!(runs, 2);
    let text = get_metrics(port);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(metric(&text, "claystack_keeper_deposits_total"), 0);
    assert_eq!(metric(&text, "claystack_keeper_exits_triggered_total"), 0);
    assert_eq!(metric(&text, "claystack_keeper_errors_total"), 0);
    let last = metric(&text, "claystack_keeper_last_run_timestamp_seconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(last + 60 > now && last <= now, "last run {last}, now {now}");
    assert_eq!(block_number(&chain), before, "the keeper sent a transaction");

    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "keeper exited with {exit}: {rest:?}");
    assert!(rest.iter().any(|l| l == "keeper: stopped"), "{rest:?}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "metrics still served");
}

/// Governance set-up through the devnet timelock (delay 0, the deployer proposes, anyone
/// executes): `target.call(data)`.
fn through_timelock(chain: &Chain, target: &str, data: &str) {
    let timelock = chain.address("timelock");
    let zero = format!("0x{}", "0".repeat(64));
    chain.cast(&[
        "send",
        &timelock,
        "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
        target,
        "0",
        data,
        &zero,
        &zero,
        "0",
        "--private-key",
        KEYS[0],
    ]);
    chain.cast(&[
        "send",
        &timelock,
        "execute(address,uint256,bytes,bytes32,bytes32)",
        target,
        "0",
        data,
        &zero,
        &zero,
        "--private-key",
        KEYS[0],
    ]);
}

#[test]
fn keeper_deposits_when_keys_and_buffer_exist() {
    let chain = Chain::start(3_133_714);
    let operator = Some(KEYS[9]);
    let dir = tempfile::tempdir().unwrap();
    let mnemonic = dir.path().join("mnemonic.txt");
    std::fs::write(&mnemonic, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about").unwrap();

    // a Home operator with two keys signed for 0x01 ‖ WithdrawalVault
    let out = chain.claystack(&["operator", "register", "--type", "home"], operator).success();
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("registered home operator #"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    chain
        .claystack(
            &[
                "operator",
                "keys",
                "add",
                "--count",
                "2",
                "--mnemonic-file",
                mnemonic.to_str().unwrap(),
            ],
            operator,
        )
        .success();

    // governance: vet the keys and list the operator for deposits
    let deployer = staker_chain::DEPLOYER;
    let registry = chain.address("operatorRegistry");
    let security = chain.address("depositSecurity");
    for (target, role) in
        [(&registry, "claystack.role.vetting"), (&security, "claystack.role.curator")]
    {
        let role = chain.cast_offline(&["keccak", role]);
        let data = chain.cast_offline(&["calldata", "grantRole(bytes32,address)", &role, deployer]);
        through_timelock(&chain, target, &data);
    }
    chain.cast(&[
        "send",
        &registry,
        "setVettedLimit(uint256,uint256)",
        &id,
        "2",
        "--private-key",
        KEYS[0],
    ]);
    chain.cast(&["send", &security, "addOperator(uint64)", &id, "--private-key", KEYS[0]]);

    // the buffer holds only the bond (2 ETH as csETH), not the 32 ETH a new validator needs:
    // the simulation finds nothing to do and nothing is sent
    let before: u64 = chain.cast(&["block-number"]).parse().unwrap();
    let out = chain.claystack(&["keeper", "run", "--once"], Some(KEYS[7])).success();
    assert!(!out.contains("depositable keys 0"), "{out}");
    assert!(out.contains("idle: depositBuffered: nothing to do (simulated), not sent"), "{out}");
    assert_eq!(chain.cast(&["block-number"]).parse::<u64>().unwrap(), before);

    // with 40 ETH staked the running keeper pre-deposits, and counts it in its metrics
    chain.claystack(&["stake", "40eth"], Some(KEYS[8])).success();
    let before: u64 = chain.cast(&["block-number"]).parse().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_claystack"))
        .args(["keeper", "run", "--poll-seconds", "1", "--metrics-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .env("CLAYSTACK_RPC_URL", &chain.rpc)
        .env("CLAYSTACK_DEPLOYMENT", &chain.deployment)
        .env("CLAYSTACK_PRIVATE_KEY", KEYS[7])
        .env("CLAYSTACK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let start = Instant::now();
    let done = loop {
        let line = lines.next().unwrap().unwrap();
        if line.contains("done: depositBuffered(") || start.elapsed() > Duration::from_secs(30) {
            break line;
        }
    };
    assert!(done.contains("pre-deposited"), "{done}");
    assert!(chain.cast(&["block-number"]).parse::<u64>().unwrap() > before);
    let text = get_metrics(port);
    assert!(metric(&text, "claystack_keeper_deposits_total") >= 1, "{text}");
    assert_eq!(metric(&text, "claystack_keeper_errors_total"), 0, "{text}");
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let status = chain.claystack(&["operator", "status", "--operator-id", &id], None).success();
    assert!(!status.contains(" 0 pre-deposited"), "{status}");

    // idempotent: further runs deposit what is left or find nothing, never fail
    for _ in 0..3 {
        let out = chain.claystack(&["keeper", "run", "--once"], Some(KEYS[7])).success();
        assert!(!out.contains("observe:"), "{out}");
        assert!(out.contains("done: depositBuffered(") || out.contains("idle:"), "{out}");
    }
}
