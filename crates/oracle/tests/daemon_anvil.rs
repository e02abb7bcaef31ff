//! The oracle members against a real anvil (contracts deployed by the forge script) and the
//! beacon simulator, three members in one process (quorum 2):
//! - frame A: members 1 and 2 run, member 3 is offline and a liar posts member 3's signature over
//!   another digest: the report is submitted with the two honest signatures, the pool's rate
//!   rises (EL rewards), the liar is counted as a disagreement and not counted in the quorum,
//!   and the members' digest equals `OracleReport.reportDigest`;
//! - frame B: member 1 alone computes and signs, is restarted mid-frame and resumes with the same
//!   record (same digest, same signature); member 2 joins and the frame is submitted without any
//!   disagreement (member 1 never signed a second digest).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_bindings::Deployment;
use claystack_oracle::daemon::chain::{contract_digest, frame_view, read_provider};
use claystack_oracle::daemon::gossip::sign_message;
use claystack_oracle::daemon::operators::read_allocation;
use claystack_oracle::daemon::store::{FrameRecord, Store};
use claystack_oracle::daemon::{DaemonConfig, Finality, Member, parse_member_key};
use tokio::process::Command;

/// anvil's well-known default keys (never secrets): #0 deployer, #2..#4 oracle members, #8 staker.
const KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];
/// A chain id of our own, so the deploy script writes `deployments/3133771.json` (git-ignored)
/// and never touches the devnet's file; a devnet id (31337NN), for which the script takes anvil's
/// accounts as the security-relevant ones (off a devnet it wants each given).
const CHAIN_ID: u64 = 3_133_771;
const SLOTS_PER_FRAME: u64 = 32;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn run(bin: &Path, args: &[&str], envs: &[(&str, String)], dir: &Path) -> String {
    let out = Command::new(bin)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}\n{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct Env {
    root: PathBuf,
    rpc: String,
    deployment: Deployment,
}

impl Env {
    async fn cast(&self, args: &[&str]) -> String {
        run(&self.root.join("node_modules/.bin/cast"), args, &[], &self.root).await
    }

    async fn uint(&self, to: &str, sig: &str) -> u128 {
        let out = self.cast(&["call", to, sig, "--rpc-url", &self.rpc]).await;
        out.split_whitespace().next().unwrap().parse().unwrap()
    }

    async fn last_ref_slot(&self) -> u64 {
        let o = format!("{}", self.deployment.public.oracle_report);
        u64::try_from(self.uint(&o, "lastRefSlot()(uint256)").await).unwrap()
    }

    fn member(&self, i: usize, dir: &Path, peers: Vec<String>) -> DaemonConfig {
        DaemonConfig {
            member_key: parse_member_key(KEYS[i]).unwrap(),
            beacon_url: String::new(),
            rpc_url: self.rpc.clone(),
            chain_id: CHAIN_ID,
            pool: self.deployment.public,
            peers,
            state_dir: dir.to_path_buf(),
            poll_interval: Duration::from_millis(250),
            finality: Finality::SlotsAfter(1),
            with_extra_data: false,
        }
    }
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The exit rule's parameters come from each pool's own Allocator (found through its
/// DepositSecurity) at the given block: equal to the deployment's `allocator` / `kycAllocator`
/// read directly, the KYC pool's Kyc-only; a DepositSecurity that does not hold the expected
/// registry is refused, not trusted.
async fn check_allocation_reads(env: &Env) {
    use alloy::providers::Provider as _;
    use claystack_bindings::allocator::Allocator;
    let provider = read_provider(&env.rpc).unwrap();
    let block = provider.get_block_number().await.unwrap();
    let d = &env.deployment;
    let kyc = d.kyc.expect("the deploy script deploys the KYC pool");
    let mut seen = Vec::new();
    for (pool, registry, allocator) in [
        (d.public.stake_pool, "operatorRegistry", "allocator"),
        (kyc.stake_pool, "kycOperatorRegistry", "kycAllocator"),
    ] {
        let registry = d.address(registry).unwrap();
        let got = read_allocation(&provider, pool, registry, block).await.unwrap();
        let want = Allocator::new(d.address(allocator).unwrap(), provider.clone())
            .params()
            .call()
            .await
            .unwrap();
        assert_eq!(
            [
                got.target_bps.professional,
                got.target_bps.kyc,
                got.target_bps.dvt,
                got.target_bps.home
            ],
            want.targetBps
        );
        assert_eq!(got.operator_cap_bps, want.operatorCapBps);
        assert_eq!(got.operator_cap_absolute, want.operatorCapAbsolute);
        assert_eq!(got.capacity_saturation, want.capacitySaturation);
        assert_eq!(got.max_operators_per_type, want.maxOperatorsPerType);
        assert!(
            read_allocation(&provider, pool, d.address("accessRegistry").unwrap(), block)
                .await
                .is_err(),
            "a registry the DepositSecurity does not hold must be refused"
        );
        seen.push(got);
    }
    assert_eq!(seen[1].target_bps.kyc, 10_000, "the KYC pool's Allocator is Kyc-only");
    assert_ne!(seen[0], seen[1]);
}

async fn metric(addr: std::net::SocketAddr, name: &str) -> f64 {
    let text = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_reach_quorum_despite_an_offline_and_a_lying_member_and_survive_a_restart() {
    let start_all = Instant::now();
    let _tracing = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("oracle=debug,info"))
        .with_test_writer()
        .try_init();
    let root = repo_root();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {} (scripts/test does)",
        root.display()
    );
    let contracts = root.join("contracts");
    // compile first so that the frame clock below is not eaten by a build
    run(&root.join("node_modules/.bin/forge"), &["build"], &[], &contracts).await;

    println!("[{:?}] built", start_all.elapsed());
    let port = free_port();
    let mut anvil = Command::new(root.join("node_modules/.bin/anvil"))
        .args(["--port", &port.to_string(), "--chain-id", &CHAIN_ID.to_string(), "--silent"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start anvil");
    let rpc = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "anvil did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 1-second slots, 4-slot epochs (the simulator's devnet preset), 8-epoch frames. Genesis a
    // little less than a frame ago: the contracts are deployed during frame 0 and frame 1's
    // reference slot ends after the deployment (the reference block must hold the contracts).
    let genesis = now() - (SLOTS_PER_FRAME - 20);
    let envs = [
        ("SECONDS_PER_SLOT", "1".to_owned()),
        ("SLOTS_PER_EPOCH", "4".to_owned()),
        ("EPOCHS_PER_FRAME", "8".to_owned()),
        ("GENESIS_TIME", genesis.to_string()),
        ("TIMELOCK_DELAY", "0".to_owned()),
    ];
    run(
        &root.join("node_modules/.bin/forge"),
        &[
            "script",
            "script/Deploy.s.sol:Deploy",
            "--rpc-url",
            &rpc,
            "--broadcast",
            "--slow",
            "--private-key",
            KEYS[0],
        ],
        &envs,
        &contracts,
    )
    .await;
    println!("[{:?}] deployed", start_all.elapsed());
    let file = contracts.join(format!("deployments/{CHAIN_ID}.json"));
    let deployment = Deployment::load(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(deployment.chain_id, CHAIN_ID);
    assert_eq!(deployment.genesis_time, genesis);
    assert_eq!(deployment.slots_per_epoch, ChainConfig::devnet().slots_per_epoch);
    let env = Env { root: root.clone(), rpc: rpc.clone(), deployment };
    let pool = format!("{}", env.deployment.public.stake_pool);
    check_allocation_reads(&env).await;

    // the beacon simulator on the same clock as the contracts
    let mut chain = ChainConfig::devnet();
    chain.genesis_time = genesis;
    chain.deposit_contract = env.deployment.deposit_contract.into_array();
    chain.deposit_chain_id = CHAIN_ID;
    let sim = SimNode::start(
        NodeConfig {
            chain,
            listen: "127.0.0.1:0".parse().unwrap(),
            execution_rpc: Some(rpc.clone()),
            execution_start_block: 0,
            follow_distance: 0,
            exit_request_contract: None,
            apply_el_credits: false,
            snapshot_path: None,
            clock: ClockMode::Wall { slot_duration: Duration::from_secs(1) },
        },
        None,
    )
    .await
    .unwrap();

    println!("[{:?}] sim up", start_all.elapsed());
    // a staker, and priority fees in the EL rewards vault: the report must raise the rate
    env.cast(&[
        "send",
        &pool,
        "deposit()",
        "--value",
        "10ether",
        "--private-key",
        KEYS[8],
        "--rpc-url",
        &rpc,
    ])
    .await;
    let el_vault = format!("{}", env.deployment.public.el_rewards_vault);
    env.cast(&[
        "send",
        &el_vault,
        "--value",
        "0.005ether",
        "--private-key",
        KEYS[0],
        "--rpc-url",
        &rpc,
    ])
    .await;
    println!("[{:?}] staked", start_all.elapsed());
    let rate_before = env.uint(&pool, "shareRate()(uint256)").await;
    // from now on a block every second, like a live chain (the contracts' clock is the latest
    // block's timestamp); the deployment above ran on instant mining
    env.cast(&["rpc", "evm_setIntervalMining", "1", "--rpc-url", &rpc]).await;

    // ---- frame A: members 1 and 2 honest, member 3 offline but a liar posts its signature
    let listeners: Vec<tokio::net::TcpListener> = futures_listeners(3).await;
    let urls: Vec<String> =
        listeners.iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let peers = |me: usize| {
        urls.iter()
            .enumerate()
            .filter(|(i, _)| *i != me)
            .map(|(_, u)| u.clone())
            .collect::<Vec<_>>()
    };
    let mut listeners = listeners.into_iter();
    let (l1, l2) = (listeners.next().unwrap(), listeners.next().unwrap());
    let mut cfg1 = env.member(2, dirs[0].path(), peers(0));
    cfg1.beacon_url = sim.url();
    let mut cfg2 = env.member(3, dirs[1].path(), peers(1));
    cfg2.beacon_url = sim.url();
    let last_before = env.last_ref_slot().await;
    let m1 = Member::start(cfg1.clone(), l1).unwrap();
    let m2 = Member::start(cfg2.clone(), l2).unwrap();

    let liar_key = parse_member_key(KEYS[4]).unwrap();
    let reader = read_provider(&rpc).unwrap();
    let oracle = env.deployment.public.oracle_report;
    let liar_targets = vec![urls[0].clone(), urls[1].clone()];
    let liar = tokio::spawn({
        let reader = reader.clone();
        async move {
            let http = reqwest::Client::new();
            loop {
                if let Ok(Some(view)) = frame_view(&reader, oracle).await {
                    let msg = sign_message(&liar_key, view.ref_slot, alloy_b256(0x42)).unwrap();
                    for u in &liar_targets {
                        let _sent = http.post(format!("{u}/v1/signatures")).json(&msg).send().await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    });

    println!("[{:?}] members 1 and 2 started", start_all.elapsed());
    wait_for("frame A to be submitted", Duration::from_secs(120), || async {
        env.last_ref_slot().await > last_before
    })
    .await;
    liar.abort();
    let frame_a = env.last_ref_slot().await;
    let rate_after = env.uint(&pool, "shareRate()(uint256)").await;
    assert!(rate_after > rate_before, "rate did not rise: {rate_before} -> {rate_after}");
    // the submitter counts its frame once its receipt is in
    wait_for("the submitter to see its receipt", Duration::from_secs(20), || async {
        metric(m1.addr(), "claystack_oracle_frames_submitted_total").await
            + metric(m2.addr(), "claystack_oracle_frames_submitted_total").await
            >= 1.0
    })
    .await;
    let submitted = metric(m1.addr(), "claystack_oracle_frames_submitted_total").await
        + metric(m2.addr(), "claystack_oracle_frames_submitted_total").await;
    assert!((submitted - 1.0).abs() < f64::EPSILON, "{submitted} submissions landed, not one");
    for m in [&m1, &m2] {
        assert!(metric(m.addr(), "claystack_oracle_peer_disagreements_total").await >= 1.0);
        let secs = metric(m.addr(), "claystack_oracle_report_compute_seconds").await;
        assert!(secs > 0.0 && secs < 60.0, "compute time {secs}");
    }
    let rec_a = Store::open(dirs[0].path())
        .unwrap()
        .load(frame_a)
        .unwrap()
        .expect("member 1 recorded frame A");
    let member3 = parse_member_key(KEYS[4]).unwrap().address();
    assert!(!rec_a.signatures.contains_key(&member3), "the liar's signature was counted");
    assert!(rec_a.signatures.len() >= 2);
    // the digest computed in Rust is the contract's EIP-712 digest
    let report = rec_a.report().unwrap();
    assert_eq!(contract_digest(&reader, oracle, &report).await.unwrap(), rec_a.digest);
    let rec_a2 = Store::open(dirs[1].path()).unwrap().load(frame_a).unwrap().unwrap();
    assert_eq!(rec_a2.digest, rec_a.digest, "honest members computed the same report");
    m1.shutdown().await;
    m2.shutdown().await;

    // ---- frame B: member 1 alone signs, restarts mid-frame, member 2 joins later
    println!("[{:?}] frame A checked", start_all.elapsed());
    let frame_b = frame_a + SLOTS_PER_FRAME;
    wait_for("frame B to open", Duration::from_secs(60), || async {
        frame_view(&reader, oracle).await.unwrap().is_some_and(|v| v.ref_slot == frame_b)
    })
    .await;
    let store1 = Store::open(dirs[0].path()).unwrap();
    let m1 = Member::start(cfg1.clone(), bind(&urls[0]).await).unwrap();
    let mut first: Option<FrameRecord> = None;
    wait_for("member 1 to sign frame B", Duration::from_secs(20), || {
        let r = store1.load(frame_b).unwrap();
        let done = r.is_some();
        first = r;
        async move { done }
    })
    .await;
    let first = first.unwrap();
    assert_eq!(first.signatures.len(), 1, "no quorum with one member");
    m1.shutdown().await;
    let m1 = Member::start(cfg1, bind(&urls[0]).await).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let resumed = store1.load(frame_b).unwrap().unwrap();
    assert_eq!(resumed.digest, first.digest);
    assert_eq!(resumed.own_signature, first.own_signature);
    assert_eq!(env.last_ref_slot().await, frame_a, "one signature is not a quorum");
    println!("[{:?}] member 1 restarted", start_all.elapsed());
    let m2 = Member::start(cfg2, bind(&urls[1]).await).unwrap();
    wait_for("frame B to be submitted", Duration::from_secs(30), || async {
        env.last_ref_slot().await == frame_b
    })
    .await;
    assert!(
        metric(m2.addr(), "claystack_oracle_peer_disagreements_total").await.abs() < f64::EPSILON
    );
    let rec_b = Store::open(dirs[1].path()).unwrap().load(frame_b).unwrap().unwrap();
    assert_eq!(rec_b.digest, first.digest);
    assert_eq!(
        rec_b.signatures.get(&parse_member_key(KEYS[2]).unwrap().address()),
        Some(&first.own_signature)
    );

    m1.shutdown().await;
    m2.shutdown().await;
    sim.shutdown().await.unwrap();
    anvil.kill().await.unwrap();
}

async fn futures_listeners(n: usize) -> Vec<tokio::net::TcpListener> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    out
}

async fn bind(url: &str) -> tokio::net::TcpListener {
    let addr = url.trim_start_matches("http://");
    tokio::net::TcpListener::bind(addr).await.unwrap()
}

fn alloy_b256(byte: u8) -> claystack_oracle::daemon::gossip::Digest {
    claystack_oracle::daemon::gossip::Digest::repeat_byte(byte)
}
