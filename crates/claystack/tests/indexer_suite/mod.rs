//! Shared harness of the indexer, API and dashboard tests: a real devnet (`claystack devnet`:
//! anvil + the forge deploy script + the scripted lifecycle), a throwaway PostgreSQL cluster, and
//! the indexer test suite run against any backend.

#![allow(dead_code, unreachable_pub, clippy::print_stderr)]

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use claystack_bindings::Deployment;
use claystack_indexer::{
    Db, FollowConfig, Follower, IndexerMetrics, PgDb, Store, Val,
    decode::{self, Source},
};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real chain for the tests: anvil with the contracts deployed by the forge deploy script and
/// the scripted lifecycle of `contracts/script/Demo.s.sol` (two stakers, two oracle reports, a
/// withdrawal request finalized and claimed). Driven directly with forge/cast rather than through
/// `claystack devnet`, whose orchestration (ports, frames, daemons) evolves on its own.
pub struct Devnet {
    _anvil: Anvil,
    pub rpc: String,
    pub deployment: Deployment,
    pub deployment_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn tool(name: &str) -> PathBuf {
    repo_root().join("node_modules/.bin").join(name)
}

fn forge_script(rpc: &str, target: &str, sig: &str) {
    let out = Command::new(tool("forge"))
        .args(["script", target, "--sig", sig, "--rpc-url", rpc, "--broadcast", "--slow"])
        .args(["--private-key", &anvil_key(0)])
        .current_dir(repo_root().join("contracts"))
        .output()
        .expect("run forge script");
    assert!(
        out.status.success(),
        "forge script {target} {sig} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Devnet {
    pub fn start() -> Self {
        assert!(
            tool("anvil").exists(),
            "the pinned toolchain is missing: run `npm ci` in {}",
            repo_root().display()
        );
        let port = free_port();
        let child = Command::new(tool("anvil"))
            .args(["--port", &port.to_string(), "--chain-id", "31337", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start anvil");
        let rpc = format!("http://127.0.0.1:{port}");
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "anvil did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let anvil = Anvil(child);
        let dir = tempfile::tempdir().unwrap();
        let deployment_path = dir.path().join("31337.json");
        forge_script(&rpc, "script/Deploy.s.sol:Deploy", "run()");
        let deployment = copy_deployment(&deployment_path);
        let devnet =
            Self { _anvil: anvil, rpc: rpc.clone(), deployment, deployment_path, _dir: dir };
        forge_script(&rpc, "script/Demo.s.sol:Demo", "run()");
        // Into the next oracle frame, then the finalizing report and the claim.
        let oracle = format!("{:#x}", devnet.deployment.public.oracle_report);
        let frame = devnet.cast(&["call", &oracle, "currentFrame()(uint256,uint256)"]);
        let deadline: u64 =
            frame.lines().nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        let now: u64 = devnet.cast(&["block", "latest", "--field", "timestamp"]).parse().unwrap();
        let jump = deadline.saturating_sub(now) + 1;
        devnet.cast(&["rpc", "evm_increaseTime", &jump.to_string()]);
        devnet.cast(&["rpc", "evm_mine"]);
        forge_script(&rpc, "script/Demo.s.sol:Demo", "finalizeAndClaim()");
        devnet
    }

    /// Runs `cast` against this node and returns its trimmed output.
    pub fn cast(&self, args: &[&str]) -> String {
        let out = Command::new(repo_root().join("node_modules/.bin/cast"))
            .args(args)
            .args(["--rpc-url", &self.rpc])
            .output()
            .expect("run cast");
        assert!(
            out.status.success(),
            "cast {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A `uint256` view, as a decimal string.
    pub fn call_uint(&self, to: &str, sig: &str, args: &[&str]) -> String {
        let mut a = vec!["call", to, sig];
        a.extend_from_slice(args);
        self.cast(&a).split_whitespace().next().unwrap().to_owned()
    }

    /// Deposits `eth` into the public pool from anvil account `index`.
    pub fn deposit(&self, index: u32, eth: &str) {
        let key = anvil_key(index);
        let pool = format!("{:#x}", self.deployment.public.stake_pool);
        self.cast(&[
            "send",
            &pool,
            "deposit()",
            "--value",
            &format!("{eth}ether"),
            "--private-key",
            &key,
        ]);
    }

    pub fn sources(&self) -> Vec<Source> {
        decode::sources(&self.deployment)
    }
}

/// The anvil process, killed when dropped (also when a test panics half-way through set-up).
struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ignored = self.0.kill();
        let _ignored = self.0.wait();
    }
}

/// The deployment file is shared by every chain of the checkout (same deterministic addresses);
/// copy it while it is complete.
fn copy_deployment(to: &std::path::Path) -> Deployment {
    let src = repo_root().join("contracts/deployments/31337.json");
    for _ in 0..50 {
        if let Ok(text) = std::fs::read_to_string(&src)
            && let Ok(d) = Deployment::parse(&text)
        {
            std::fs::write(to, text).unwrap();
            return d;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("read the deployment file {}", src.display());
}

/// anvil's well-known test keys (mnemonic "test test … junk"), by account index.
pub fn anvil_key(index: u32) -> String {
    const KEYS: [&str; 9] = [
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    ];
    KEYS[index as usize].to_owned()
}

/// The address of anvil account `index`, derived by `cast` from its key.
pub fn anvil_address(index: u32) -> String {
    let out = Command::new(repo_root().join("node_modules/.bin/cast"))
        .args(["wallet", "address", "--private-key", &anvil_key(index)])
        .output()
        .expect("run cast wallet address");
    assert!(out.status.success(), "cast wallet address failed");
    String::from_utf8_lossy(&out.stdout).trim().to_lowercase()
}

/// A throwaway PostgreSQL cluster in a temporary directory on a free port (as the `postgres`
/// user when running as root: PostgreSQL refuses to run as root). Fails, never skips, when
/// PostgreSQL is not installed.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

fn pg_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .expect(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): \
             apt-get install -y postgresql (.ci/run does)",
        )
}

impl PgCluster {
    pub fn start() -> Self {
        let bin = pg_bin();
        let dir = tempfile::Builder::new().prefix("claystack-pg").tempdir().unwrap();
        let as_postgres =
            Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success(), "chown the cluster directory to postgres");
        }
        let port = free_port();
        let c = Self { dir, bin, port, as_postgres };
        let data = c.dir.path().join("data");
        c.run(
            "initdb",
            &["-D", data.to_str().unwrap(), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            c.dir.path().display()
        );
        let log = c.dir.path().join("log");
        c.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        c
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let out = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a database and returns its URL.
    pub fn create_db(&self, name: &str) -> String {
        let mut admin = PgDb::connect(&self.url("postgres")).expect("connect to postgres");
        admin.batch(&format!("CREATE DATABASE {name}")).expect("create database");
        self.url(name)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "stop"];
        let _ignored = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}

/// Where a test suite keeps its index: `open` reopens the same database (restart), `fresh` gives
/// a new empty one each call.
pub trait Backend {
    fn open(&self) -> Box<dyn Db>;
    fn fresh(&self) -> Box<dyn Db>;
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

pub fn index_to_head(
    rt: &tokio::runtime::Runtime,
    devnet: &Devnet,
    store: &Arc<Mutex<Store>>,
    metrics: &Arc<IndexerMetrics>,
    cfg: FollowConfig,
) -> u64 {
    let addresses = devnet.sources().iter().map(|s| s.address).collect();
    let mut f =
        Follower::new(&devnet.rpc, Arc::clone(store), addresses, cfg, Arc::clone(metrics)).unwrap();
    rt.block_on(f.run_to_head()).expect("index to head")
}

/// Rows of the tables that must be equal whichever way the chain was indexed.
pub fn dump(store: &Arc<Mutex<Store>>) -> Vec<(String, Vec<Vec<Val>>)> {
    let mut s = store.lock().unwrap();
    let mut out = Vec::new();
    for (t, order) in [
        ("raw_logs", "block_number, log_index"),
        ("events", "block_number, log_index"),
        ("rates", "pool, block_number, log_index"),
        ("reports", "pool, block_number, log_index"),
        ("pool_states", "pool, block_number, log_index"),
        ("positions", "pool, account, block_number, log_index"),
        ("tickets", "pool, request_id, block_number, log_index"),
        ("operators", "pool, operator_id, block_number, log_index"),
        ("operator_notices", "pool, operator_id, block_number, log_index"),
    ] {
        let rows = s.db().query(&format!("SELECT * FROM {t} ORDER BY {order}"), &[]).unwrap();
        out.push((t.to_owned(), rows));
    }
    out
}

fn position(store: &Arc<Mutex<Store>>, account: &str) -> String {
    let mut s = store.lock().unwrap();
    s.position("public", account.parse().unwrap())
        .unwrap()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Checks the derived state against the chain's own views.
fn assert_matches_chain(devnet: &Devnet, store: &Arc<Mutex<Store>>) {
    let pool = format!("{:#x}", devnet.deployment.public.stake_pool);
    let state = store.lock().unwrap().pool_state("public").unwrap().expect("pool state");
    assert_eq!(
        state.total_pooled,
        devnet.call_uint(&pool, "totalPooledEther()(uint256)", &[]),
        "TVL"
    );
    assert_eq!(
        state.total_shares,
        devnet.call_uint(&pool, "totalSupply()(uint256)", &[]),
        "shares"
    );
    for i in [2u32, 3, 5, 6, 7] {
        let a = anvil_address(i);
        let on_chain = devnet.call_uint(&pool, "balanceOf(address)(uint256)", &[&a]);
        let indexed = position(store, &a);
        let indexed = if indexed.is_empty() { "0".to_owned() } else { indexed };
        assert_eq!(indexed, on_chain, "balance of {a}");
    }
}

/// The indexer suite: initial backfill against the devnet's real history, restart resume, a
/// reorg through `evm_snapshot`/`evm_revert`, and equality with a fresh index of the final chain.
pub fn run_suite(backend: &dyn Backend) {
    let devnet = Devnet::start();
    let rt = runtime();
    let sources = devnet.sources();
    let metrics = Arc::new(IndexerMetrics::default());
    // Small ranges so the adaptive sizing and many batches are exercised on a short chain.
    let cfg = FollowConfig { initial_range: 2, max_range: 16, ..FollowConfig::default() };

    // 1. Backfill: the demo lifecycle (deposits, two reports, a request, its claim).
    let store = Arc::new(Mutex::new(Store::open(backend.open(), &sources).unwrap()));
    let head = index_to_head(&rt, &devnet, &store, &metrics, cfg.clone());
    assert!(head > 0);
    {
        let mut s = store.lock().unwrap();
        let st = s.pool_state("public").unwrap().unwrap();
        assert!(st.reports >= 2, "reports: {}", st.reports);
        assert!(st.deposits >= 3, "deposits: {}", st.deposits);
        assert_eq!((st.last_request_id, st.finalized_to), (1, 1));
        let (_, ticket) = s.ticket("public", 1).unwrap().expect("ticket 1");
        assert!(ticket.claimed.is_some(), "ticket 1 claimed");
        let rates = s.db().query("SELECT COUNT(*) FROM rates WHERE pool = 'public'", &[]).unwrap();
        assert!(rates[0][0].int().unwrap() >= 2);
        let reports = s.db().query("SELECT data FROM reports WHERE pool = 'public'", &[]).unwrap();
        assert!(reports.len() >= 2);
        let first: serde_json::Value = serde_json::from_str(reports[0][0].text().unwrap()).unwrap();
        assert!(first["validators"].is_object(), "validator counts decoded: {first}");
    }
    assert_matches_chain(&devnet, &store);
    assert!(metrics.events_total.load(std::sync::atomic::Ordering::Relaxed) > 10);

    // 2. Restart: a new store over the same database resumes from its cursor.
    let cursor = store.lock().unwrap().cursor().unwrap().unwrap();
    drop(store);
    devnet.deposit(6, "1.5");
    let store = Arc::new(Mutex::new(Store::open(backend.open(), &sources).unwrap()));
    assert_eq!(store.lock().unwrap().cursor().unwrap().unwrap(), cursor, "cursor survived");
    let before = store.lock().unwrap().event_count().unwrap();
    index_to_head(&rt, &devnet, &store, &metrics, cfg.clone());
    let after = store.lock().unwrap().event_count().unwrap();
    // deposit() emits Transfer (mint) and Deposited.
    assert_eq!(after - before, 2, "only the new deposit's events were added");
    assert_matches_chain(&devnet, &store);

    // 3. Reorg: events on a branch that anvil then abandons.
    let before_branch = position(&store, &anvil_address(7));
    let snapshot = devnet.cast(&["rpc", "evm_snapshot"]).trim_matches('"').to_owned();
    devnet.deposit(7, "3");
    devnet.deposit(7, "1");
    index_to_head(&rt, &devnet, &store, &metrics, cfg.clone());
    assert_ne!(position(&store, &anvil_address(7)), before_branch, "branch deposit indexed");
    assert_eq!(devnet.cast(&["rpc", "evm_revert", &snapshot]), "true");
    devnet.deposit(5, "2");
    devnet.cast(&["rpc", "anvil_mine", "0x3"]);
    let reorgs = metrics.reorgs_total.load(std::sync::atomic::Ordering::Relaxed);
    index_to_head(&rt, &devnet, &store, &metrics, cfg);
    assert_eq!(metrics.reorgs_total.load(std::sync::atomic::Ordering::Relaxed), reorgs + 1);
    assert_eq!(position(&store, &anvil_address(7)), before_branch, "abandoned branch rolled back");
    assert_ne!(position(&store, &anvil_address(5)), "", "new branch indexed");
    assert_matches_chain(&devnet, &store);

    // 4. The reorged index equals a fresh index of the final chain (one big range this time).
    let fresh = Arc::new(Mutex::new(Store::open(backend.fresh(), &sources).unwrap()));
    index_to_head(
        &rt,
        &devnet,
        &fresh,
        &Arc::new(IndexerMetrics::default()),
        FollowConfig::default(),
    );
    let a = dump(&store);
    let b = dump(&fresh);
    for ((t, ra), (_, rb)) in a.iter().zip(&b) {
        assert!(!ra.is_empty() || t.starts_with("operator"), "{t} is empty");
        assert_eq!(ra, rb, "table {t} differs from a fresh index");
    }
    // Dropped here, outside async code (the PostgreSQL client owns a runtime).
    drop((store, fresh));
}

/// SQLite backend in a temporary directory.
pub struct SqliteBackend {
    pub dir: tempfile::TempDir,
    counter: std::sync::atomic::AtomicU32,
}

impl SqliteBackend {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), counter: Default::default() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("index.sqlite")
    }
}

impl Backend for SqliteBackend {
    fn open(&self) -> Box<dyn Db> {
        Box::new(claystack_indexer::SqliteDb::open(&self.path()).unwrap())
    }

    fn fresh(&self) -> Box<dyn Db> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::new(
            claystack_indexer::SqliteDb::open(&self.dir.path().join(format!("fresh{n}.sqlite")))
                .unwrap(),
        )
    }
}

/// PostgreSQL backend: one database per `fresh`, one fixed for `open`.
pub struct PgBackend {
    pub cluster: PgCluster,
    main_url: String,
    counter: std::sync::atomic::AtomicU32,
}

impl PgBackend {
    pub fn new() -> Self {
        let cluster = PgCluster::start();
        let main_url = cluster.create_db("claystack_index");
        Self { cluster, main_url, counter: Default::default() }
    }
}

impl Backend for PgBackend {
    fn open(&self) -> Box<dyn Db> {
        Box::new(PgDb::connect(&self.main_url).unwrap())
    }

    fn fresh(&self) -> Box<dyn Db> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::new(PgDb::connect(&self.cluster.create_db(&format!("fresh{n}"))).unwrap())
    }
}
