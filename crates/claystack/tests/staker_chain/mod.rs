//! Shared by the staker/keeper/operator CLI tests: a real anvil on a free port with a unique
//! chain id (so that concurrent tests never share a deployment file), the contracts deployed by
//! the forge script with devnet settings, and a runner for the `claystack` binary.

#![allow(dead_code, unreachable_pub)]

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// anvil's well-known test keys (never secrets): #0 deploys, #8 and #9 stake.
pub const KEYS: [&str; 10] = [
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

/// Address of anvil's account #0 (the deployer and, on the devnet, the KYC provider).
pub const DEPLOYER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn genesis_time() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    now.as_secs().saturating_sub(300)
}

/// A running anvil with the contracts deployed.
pub struct Chain {
    anvil: Child,
    /// JSON-RPC URL.
    pub rpc: String,
    /// Its deployment file.
    pub deployment: PathBuf,
    root: PathBuf,
}

impl Chain {
    /// Starts anvil with `chain_id` (keep it of the form 31337NN: the deployment file then
    /// matches the `.gitignore`) and deploys with the devnet settings.
    pub fn start(chain_id: u64) -> Self {
        let root = repo_root();
        let bin = root.join("node_modules/.bin");
        assert!(
            bin.join("anvil").exists(),
            "the pinned toolchain is missing: run `npm ci` in {} (scripts/test does)",
            root.display()
        );
        let port = free_port();
        let anvil = Command::new(bin.join("anvil"))
            .args(["--port", &port.to_string(), "--chain-id", &chain_id.to_string(), "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start anvil");
        let rpc = format!("http://127.0.0.1:{port}");
        let deployment = root.join(format!("contracts/deployments/{chain_id}.json"));
        let chain = Self { anvil, rpc, deployment, root };
        chain.wait_for_port(port);
        chain.deploy();
        chain
    }

    fn wait_for_port(&self, port: u16) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("anvil did not listen on {port}");
    }

    fn deploy(&self) {
        // the devnet settings of script/Deploy.s.sol, which it only picks itself on chain 31337
        let out = Command::new(self.root.join("node_modules/.bin/forge"))
            .args(["script", "script/Deploy.s.sol:Deploy", "--rpc-url", &self.rpc])
            .args(["--broadcast", "--slow", "--private-key", KEYS[0]])
            .env("SECONDS_PER_SLOT", "1")
            .env("SLOTS_PER_EPOCH", "4")
            .env("EPOCHS_PER_FRAME", "75")
            .env("TIMELOCK_DELAY", "0")
            // like the devnet: genesis one frame (300 s) ago, so a report is possible at once
            .env("GENESIS_TIME", genesis_time().to_string())
            .env("KYC_PROVIDER", DEPLOYER)
            .current_dir(self.root.join("contracts"))
            .output()
            .expect("run forge script");
        assert!(
            out.status.success(),
            "deploy failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(self.deployment.exists(), "no deployment file {}", self.deployment.display());
    }

    /// Runs `claystack <args>` against this chain, signing with `key` when given.
    pub fn claystack(&self, args: &[&str], key: Option<&str>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_claystack"));
        cmd.args(args)
            .env("CLAYSTACK_RPC_URL", &self.rpc)
            .env("CLAYSTACK_DEPLOYMENT", &self.deployment)
            .env_remove("CLAYSTACK_PRIVATE_KEY")
            .env_remove("CLAYSTACK_KEYSTORE")
            .env("CLAYSTACK_LOG", "warn");
        if let Some(k) = key {
            cmd.env("CLAYSTACK_PRIVATE_KEY", k);
        }
        Run::from(cmd.output().expect("run claystack"))
    }

    /// Runs `cast <args> --rpc-url <this chain>` and returns its trimmed output.
    pub fn cast(&self, args: &[&str]) -> String {
        let out = Command::new(self.root.join("node_modules/.bin/cast"))
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

    /// Runs a phase of `script/Demo.s.sol` (`run()` or `finalizeAndClaim()`), which reads this
    /// chain's deployment file: it stakes from anvil #8/#9, submits quorum-signed oracle reports
    /// and requests (then finalizes and claims) a withdrawal of anvil #8.
    pub fn demo(&self, sig: &str) -> String {
        let out = Command::new(self.root.join("node_modules/.bin/forge"))
            .args(["script", "script/Demo.s.sol:Demo", "--sig", sig, "--rpc-url", &self.rpc])
            .args(["--broadcast", "--slow", "--private-key", KEYS[0]])
            .current_dir(self.root.join("contracts"))
            .output()
            .expect("run forge script");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "demo {sig} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Moves the chain's clock into the next oracle frame and mines a block.
    pub fn next_frame(&self) {
        let oracle = self.address("oracleReport");
        let frame = self.cast(&["call", &oracle, "currentFrame()(uint256,uint256)"]);
        let deadline: u64 = frame
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("unexpected currentFrame() output {frame:?}"));
        let now: u64 = self.cast(&["block", "latest", "--field", "timestamp"]).parse().unwrap();
        let jump = deadline.saturating_sub(now).saturating_add(1);
        self.cast(&["rpc", "evm_increaseTime", &jump.to_string()]);
        self.cast(&["rpc", "evm_mine"]);
    }

    /// Runs an offline `cast <args>` (no node: `keccak`, `calldata`, …).
    pub fn cast_offline(&self, args: &[&str]) -> String {
        let out = Command::new(self.root.join("node_modules/.bin/cast"))
            .args(args)
            .output()
            .expect("run cast");
        assert!(
            out.status.success(),
            "cast {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// An address from the deployment file.
    pub fn address(&self, key: &str) -> String {
        let text = std::fs::read_to_string(&self.deployment).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v[key].as_str().unwrap_or_else(|| panic!("no {key} in the deployment")).to_owned()
    }

    /// The repository root this chain deploys from.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Chain {
    // a destructor cannot return its errors; a test log line is the only place for them
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if let Err(e) = self.anvil.kill() {
            eprintln!("stop anvil: {e}");
        }
        // best effort: the file is ignored by git, a leftover only costs disk
        if self.deployment.exists() && std::fs::remove_file(&self.deployment).is_err() {
            eprintln!("could not remove {}", self.deployment.display());
        }
    }
}

/// The outcome of one CLI run.
pub struct Run {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn success(self) -> String {
        assert!(self.ok, "command failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.stdout
    }

    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn failure(self) -> String {
        assert!(!self.ok, "command succeeded unexpectedly:\n{}", self.stdout);
        self.stderr
    }
}
