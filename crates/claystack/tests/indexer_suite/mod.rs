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
        let mut devnet =
            Self { _anvil: anvil, rpc: rpc.clone(), deployment, deployment_path, _dir: dir };
        // The script's output file is shared by every test deploying on this checkout: the
        // addresses are the same for all (same deployer, same nonces), the genesis time is not
        // (it follows the deploying block). The frame timing is read back from this chain.
        devnet.frame_timing_from_chain();
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

    /// Sets the deployment's frame timing to the public oracle's `frameConfig()` on this chain.
    fn frame_timing_from_chain(&mut self) {
        let oracle = format!("{:#x}", self.deployment.public.oracle_report);
        let out = self.cast(&["call", &oracle, "frameConfig()((uint64,uint32,uint32,uint32))"]);
        // `(genesis [scientific], secondsPerSlot, slotsPerEpoch, epochsPerFrame)`
        let fields: Vec<u64> = out
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(|f| {
                f.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .parse()
                    .unwrap_or_else(|e| panic!("frameConfig() answered {out:?}: {e}"))
            })
            .collect();
        assert_eq!(fields.len(), 4, "frameConfig() answered {out:?}");
        self.deployment.genesis_time = fields[0];
        self.deployment.seconds_per_slot = fields[1];
        self.deployment.slots_per_epoch = fields[2];
        self.deployment.epochs_per_frame = fields[3];
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

/// A real oracle member's tree endpoint (`claystack_oracle::daemon::rewards::router`, what
/// `claystack oracle run` serves) over a state dir at `dir` holding `doc`; returns its base URL.
/// Runs on the calling runtime.
pub async fn honest_member(
    doc: &claystack_oracle::rewards::TreeDocument,
    dir: &std::path::Path,
) -> String {
    use claystack_oracle::daemon::rewards::{TreeStore, router};
    let trees = TreeStore::open(dir).unwrap();
    trees.save(doc).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::new(trees));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
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
        ("report_parts", "pool, block_number, log_index"),
        ("exit_requests", "pool, block_number, log_index"),
        ("losses", "pool, block_number, log_index"),
        ("rewards", "pool, block_number, log_index"),
        ("parameters", "pool, address, name, block_number, log_index"),
        ("pool_events", "pool, block_number, log_index"),
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
    // Operators data in report chunks: penalties through the waterfall, a dropped chunk, a root.
    let scenario = devnet.operator_scenario(&rt);
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
        // The scenario's chunks, losses and rewards, in the new tables of both engines.
        let column = |s: &mut Store, sql: &str| -> Vec<String> {
            s.db()
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r[0].text().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            column(&mut s, "SELECT cause FROM losses ORDER BY block_number, log_index"),
            ["missed_duties", "slashing", "missed_exit"]
        );
        let parts = s
            .db()
            .query("SELECT ref_slot, kind FROM report_parts ORDER BY block_number, log_index", &[])
            .unwrap();
        let parts: Vec<(u64, String)> = parts
            .iter()
            .map(|r| (u64::try_from(r[0].int().unwrap()).unwrap(), r[1].text().unwrap().to_owned()))
            .collect();
        let (c, d) = (scenario.complete, scenario.dropped);
        let want: Vec<(u64, String)> = [
            (c, "operators"),
            (c, "chunk"),
            (c, "operators"),
            (c, "chunk"),
            (d, "operators"),
            (d, "chunk"),
            (d, "dropped"),
        ]
        .iter()
        .map(|(s, k)| (*s, (*k).to_owned()))
        .collect();
        assert_eq!(parts, want);
        assert_eq!(
            column(&mut s, "SELECT kind FROM rewards ORDER BY block_number, log_index"),
            ["root", "claim"]
        );
        let op = s.operator_data("public", scenario.operator).unwrap();
        assert_eq!(op["missedExitsCharged"], 2, "{op}");
        assert_eq!(op["rewardsShares"], scenario.claimed, "{op}");
    }
    assert_eq!(metrics.unknown_events_total.load(std::sync::atomic::Ordering::Relaxed), 0);
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
        // exit requests need topped-up keys, which this chain has not
        assert!(!ra.is_empty() || t == "exit_requests", "{t} is empty");
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

/// What [`Devnet::operator_scenario`] put on chain.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The Home operator it registered.
    pub operator: u64,
    /// Its reward address (anvil #5).
    pub reward_address: String,
    /// Report with two chunks, both delivered: a missed-duties penalty (chunk 0, covered by the
    /// bond) and a slashing larger than the bond left (chunk 1: bond, insurance, holders); a
    /// rewards root the reward address then claims.
    pub complete: u64,
    /// Report with two chunks, only chunk 0 delivered: a missed-exit penalty of two exits.
    pub dropped: u64,
    /// Report without extra data; it dropped the previous report's undelivered chunk.
    pub plain: u64,
    /// Shares the reward address claimed.
    pub claimed: String,
}

impl Devnet {
    /// Moves the chain into the next oracle frame.
    pub fn next_frame(&self) {
        let oracle = format!("{:#x}", self.deployment.public.oracle_report);
        let frame = self.cast(&["call", &oracle, "currentFrame()(uint256,uint256)"]);
        let deadline: u64 =
            frame.lines().nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        let now: u64 = self.cast(&["block", "latest", "--field", "timestamp"]).parse().unwrap();
        let jump = deadline.saturating_sub(now) + 1;
        self.cast(&["rpc", "evm_increaseTime", &jump.to_string()]);
        self.cast(&["rpc", "evm_mine"]);
    }

    fn addr(&self, key: &str) -> String {
        format!("{:#x}", self.deployment.address(key).unwrap())
    }

    /// A quorum report for the current frame (members anvil #2–#4 sign, as the demo script's),
    /// carrying `parts` as its chain of extra-data chunks; chunk 0 goes with the report and the
    /// next `deliver - 1` chunks with `submitExtraDataChunk`. Returns the report's ref slot.
    pub fn report(
        &self,
        rt: &tokio::runtime::Runtime,
        parts: &[claystack_oracle::OperatorsReport],
        deliver: usize,
    ) -> u64 {
        use claystack_devnet::alloy::{
            network::EthereumWallet,
            primitives::{Bytes, U256, keccak256},
            providers::{Provider, ProviderBuilder},
            signers::{SignerSync, local::PrivateKeySigner},
        };
        use claystack_oracle::daemon::chain;
        let d = &self.deployment;
        let oracle = d.public.oracle_report;
        let pool = format!("{:#x}", d.public.stake_pool);
        let u = |s: String| s.parse::<U256>().unwrap();
        let frame =
            self.cast(&["call", &format!("{oracle:#x}"), "currentFrame()(uint256,uint256)"]);
        let ref_slot: u64 = frame.split_whitespace().next().unwrap().parse().unwrap();
        let counts = self.cast(&[
            "call",
            &format!("{oracle:#x}"),
            "lastValidatorCounts()((uint64,uint64,uint64,uint64))",
        ]);
        let counts: Vec<U256> = counts
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(|c| c.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        let chunks: Vec<Vec<u8>> = claystack_oracle::sol::encode_chain(parts);
        let report = claystack_oracle::Report {
            consensusVersion: U256::from(claystack_oracle::sol::CONSENSUS_VERSION),
            refSlot: U256::from(ref_slot),
            validatorsDeposited: counts[0],
            validatorsActive: counts[1],
            validatorsExited: counts[2],
            validatorsSlashed: counts[3],
            clBalance: u(self.call_uint(&pool, "clBalance()(uint256)", &[])),
            clDepositsProcessed: u(self.call_uint(&pool, "clDepositsProcessed()(uint256)", &[])),
            elRewardsVaultAvailable: u(
                self.cast(&["balance", &format!("{:#x}", d.public.el_rewards_vault)])
            ),
            extraDataHash: chunks.first().map(keccak256).unwrap_or_default(),
            ..Default::default()
        };
        let url: claystack_devnet::alloy::transports::http::reqwest::Url =
            self.rpc.parse().unwrap();
        let sender: PrivateKeySigner = anvil_key(0).parse().unwrap();
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(sender)).connect_http(url).erased();
        rt.block_on(async {
            let digest = chain::contract_digest(&provider, oracle, &report).await.unwrap();
            let mut sigs = std::collections::BTreeMap::new();
            for i in [2, 3, 4] {
                let member: PrivateKeySigner = anvil_key(i).parse().unwrap();
                let sig = member.sign_hash_sync(&digest).unwrap();
                sigs.insert(member.address(), Bytes::from(sig.as_bytes().to_vec()));
            }
            let first = Bytes::from(chunks.first().cloned().unwrap_or_default());
            chain::submit(&provider, oracle, &report, &first, &sigs)
                .await
                .expect("submit the report");
            for chunk in chunks.iter().take(deliver).skip(1) {
                chain::submit_chunk(&provider, oracle, &Bytes::from(chunk.clone()))
                    .await
                    .expect("deliver a chunk");
            }
        });
        ref_slot
    }

    /// Operators data on the real chain: a Home operator (anvil #5) that keeps almost no bond,
    /// three reports with penalties through the waterfall in chunks (one chain complete, one
    /// dropped), a rewards root and a claim of it.
    pub fn operator_scenario(&self, rt: &tokio::runtime::Runtime) -> Scenario {
        use claystack_devnet::alloy::primitives::{Address, U256};
        use claystack_oracle::sol::{OperatorPenalty, OperatorsReport};
        let registry = self.addr("operatorRegistry");
        let bonds = self.addr("bondManager");
        let rewards = self.addr("operatorRewards");
        let module = self.addr("operatorsModule");
        let pool = format!("{:#x}", self.deployment.public.stake_pool);
        let manager_key = anvil_key(5);
        let reward_address = anvil_address(5);
        self.cast(&[
            "send",
            &registry,
            "registerHomeOperator(address)",
            &reward_address,
            "--value",
            "2ether",
            "--private-key",
            &manager_key,
        ]);
        let operator: u64 =
            self.call_uint(&registry, "operatorCount()(uint256)", &[]).parse::<u64>().unwrap() - 1;
        let id = operator.to_string();
        // No keys, so no bond is required: keep 0.001 csETH, claim the rest.
        let claimable: U256 =
            self.call_uint(&bonds, "claimableShares(uint256)(uint256)", &[&id]).parse().unwrap();
        let keep = U256::from(1_000_000_000_000_000u64);
        assert!(claimable > keep, "claimable bond {claimable}");
        self.cast(&[
            "send",
            &bonds,
            "claimExcess(uint256,uint256)",
            &id,
            &(claimable - keep).to_string(),
            "--private-key",
            &manager_key,
        ]);
        let reward: Address = reward_address.parse().unwrap();
        // The operators' fee shares the demo reports minted to OperatorRewards back the root.
        let received: U256 =
            self.call_uint(&pool, "balanceOf(address)(uint256)", &[&rewards]).parse().unwrap();
        assert!(received > U256::ZERO, "OperatorRewards received no fee shares");
        let penalty = |amount: u128, kind: u8| OperatorPenalty {
            operatorId: operator,
            amountWei: amount,
            kind,
        };

        self.next_frame();
        let slot = self.current_ref_slot();
        let complete = self.report(
            rt,
            &[
                OperatorsReport {
                    refSlot: U256::from(slot),
                    penalties: vec![penalty(100_000_000_000_000, 1)],
                    rewardsRoot: claystack_client::rewards::leaf_hash(reward, received),
                    rewardsCumulativeShares: received,
                    ..Default::default()
                },
                OperatorsReport {
                    refSlot: U256::from(slot),
                    penalties: vec![penalty(2_000_000_000_000_000, 0)],
                    ..Default::default()
                },
            ],
            2,
        );
        self.cast(&[
            "send",
            &rewards,
            "claim(address,uint256,bytes32[])",
            &reward_address,
            &received.to_string(),
            "[]",
            "--private-key",
            &anvil_key(0),
        ]);

        self.next_frame();
        let slot = self.current_ref_slot();
        let per_exit: u128 =
            self.call_uint(&module, "missedExitPenalty()(uint256)", &[]).parse().unwrap();
        let part = |penalties| OperatorsReport {
            refSlot: U256::from(slot),
            penalties,
            ..Default::default()
        };
        let dropped = self.report(rt, &[part(vec![penalty(2 * per_exit, 2)]), part(vec![])], 1);

        self.next_frame();
        let plain = self.report(rt, &[], 0);
        Scenario {
            operator,
            reward_address,
            complete,
            dropped,
            plain,
            claimed: received.to_string(),
        }
    }

    /// After [`Devnet::operator_scenario`]: a staker (anvil #6) sends csETH to `OperatorRewards`
    /// (it counts as received, as fee shares do), and the next report publishes a two-leaf root:
    /// the scenario's reward address at what it claimed plus `extra` (claimable), anvil #7 at the
    /// rest of what the contract received. Returns the tree as a member would serve it and `extra`.
    pub fn second_rewards_root(
        &self,
        rt: &tokio::runtime::Runtime,
        sc: &Scenario,
    ) -> (claystack_oracle::rewards::TreeDocument, claystack_devnet::alloy::primitives::U256) {
        use claystack_devnet::alloy::primitives::{Address, U256};
        use claystack_oracle::sol::OperatorsReport;
        let rewards = self.addr("operatorRewards");
        let pool = format!("{:#x}", self.deployment.public.stake_pool);
        self.deposit(6, "1");
        let gift: U256 = self
            .call_uint(&pool, "balanceOf(address)(uint256)", &[&anvil_address(6)])
            .parse()
            .unwrap();
        let gift = gift / U256::from(10u8);
        self.cast(&[
            "send",
            &pool,
            "transfer(address,uint256)",
            &rewards,
            &gift.to_string(),
            "--private-key",
            &anvil_key(6),
        ]);
        let total: U256 =
            self.call_uint(&rewards, "totalReceived()(uint256)", &[]).parse().unwrap();
        let claimed: U256 = sc.claimed.parse().unwrap();
        let extra = (total - claimed) / U256::from(3u8);
        let reward: Address = sc.reward_address.parse().unwrap();
        let other: Address = anvil_address(7).parse().unwrap();
        self.next_frame();
        let slot = self.current_ref_slot();
        let doc = claystack_oracle::rewards::TreeDocument::new(
            slot,
            &[(reward, claimed + extra), (other, total - claimed - extra)],
        )
        .unwrap();
        assert_eq!(doc.cumulative_shares, total);
        self.report(
            rt,
            &[OperatorsReport {
                refSlot: U256::from(slot),
                rewardsRoot: doc.root,
                rewardsCumulativeShares: total,
                ..Default::default()
            }],
            1,
        );
        let on_chain = self.cast(&["call", &rewards, "rewardsRoot()(bytes32)"]);
        assert_eq!(on_chain, doc.root.to_string(), "the report set the new root");
        (doc, extra)
    }

    fn current_ref_slot(&self) -> u64 {
        let oracle = format!("{:#x}", self.deployment.public.oracle_report);
        let frame = self.cast(&["call", &oracle, "currentFrame()(uint256,uint256)"]);
        frame.split_whitespace().next().unwrap().parse().unwrap()
    }
}
