//! `claystack devnet`: brings the local system up — the pinned toolchain, an anvil execution node,
//! the contracts deployed by the forge script, and a scripted lifecycle (stake → oracle report →
//! withdrawal request → finalizing report → claim) — then keeps the chain running until Ctrl-C.
//!
//! This module only orchestrates processes; protocol logic lives in the contracts and the library
//! crates.

use eyre::{Context as _, ContextCompat as _, bail};
use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::process::{Child, Command};

/// anvil's first default account: the devnet deployer (a well-known test key, never a secret).
const DEVNET_DEPLOYER_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Flags of `claystack devnet`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Repository root (holds `contracts/` and `package.json`); found from the working directory
    /// when omitted.
    #[arg(long, env = "CLAYSTACK_HOME")]
    home: Option<PathBuf>,
    /// Port of the anvil JSON-RPC endpoint.
    #[arg(long, env = "CLAYSTACK_DEVNET_PORT", default_value_t = 8545)]
    port: u16,
    /// Keep chain state in this directory across restarts (anvil `--state`).
    #[arg(long, env = "CLAYSTACK_DEVNET_STATE")]
    state: Option<PathBuf>,
    /// Stop after the scripted lifecycle instead of running until Ctrl-C (used by tests).
    #[arg(long)]
    exit_after_demo: bool,
}

/// Runs `claystack devnet`.
pub(crate) async fn run(args: Args) -> eyre::Result<()> {
    let home = match args.home {
        Some(h) => h,
        None => find_home(&std::env::current_dir().wrap_err("read the working directory")?)?,
    };
    let tools = Toolchain::ensure(&home).await?;
    let rpc = format!("http://127.0.0.1:{}", args.port);
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    if TcpListener::bind(addr).is_err() {
        bail!("port {} is in use: stop the other node or pass --port", args.port);
    }

    let mut anvil = tools.start_anvil(args.port, args.state.as_deref())?;
    wait_for_port(addr, Duration::from_secs(30)).await.wrap_err("wait for anvil to listen")?;
    tracing::info!(target: "devnet", %rpc, "anvil is up (chain id 31337)");

    let outcome = bring_up(&tools, &rpc, args.state.is_some()).await;
    if let Err(e) = outcome {
        stop(&mut anvil).await;
        return Err(e);
    }

    if args.exit_after_demo {
        stop(&mut anvil).await;
        return Ok(());
    }
    println!("\nDevnet running: JSON-RPC {rpc}. Press Ctrl-C to stop.");
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.wrap_err("wait for Ctrl-C")?,
        s = anvil.wait() => bail!("anvil exited unexpectedly: {}", s.wrap_err("wait for anvil")?),
    }
    println!("stopping");
    stop(&mut anvil).await;
    Ok(())
}

async fn bring_up(tools: &Toolchain, rpc: &str, persistent: bool) -> eyre::Result<()> {
    let deployments = tools.contracts.join("deployments").join("31337.json");
    if persistent && deployments.exists() && has_code(tools, rpc, &deployments).await? {
        println!("Contracts already deployed (state kept): {}", deployments.display());
    } else {
        println!("Deploying contracts …");
        tools.forge_script("script/Deploy.s.sol:Deploy", rpc).await.wrap_err("deploy contracts")?;
    }
    let text = std::fs::read_to_string(&deployments)
        .wrap_err_with(|| format!("read {}", deployments.display()))?;
    let addrs: serde_json::Value =
        serde_json::from_str(&text).wrap_err("parse the deployment file")?;
    println!("Deployed contracts:");
    if let Some(map) = addrs.as_object() {
        for (name, value) in map {
            let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            println!("  {name:<20} {shown}");
        }
    }
    let oracle = addrs
        .get("oracleReport")
        .and_then(|v| v.as_str())
        .wrap_err("the deployment file names no oracleReport")?;

    println!("\nLifecycle, phase 1: stake → oracle report → withdrawal request …");
    tools.forge_script("script/Demo.s.sol:Demo", rpc).await.wrap_err("run demo phase 1")?;
    let jumped = tools.advance_to_next_frame(rpc, oracle).await?;
    println!("\nAdvanced the chain {jumped} s into the next oracle frame.");
    println!("Lifecycle, phase 2: finalizing report → claim …");
    tools
        .forge_script_sig("script/Demo.s.sol:Demo", "finalizeAndClaim()", rpc)
        .await
        .wrap_err("run demo phase 2")?;
    Ok(())
}

/// Whether the stake pool recorded in the deployment file has code on the node.
async fn has_code(tools: &Toolchain, rpc: &str, deployments: &Path) -> eyre::Result<bool> {
    let text = std::fs::read_to_string(deployments)?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let Some(pool) = v.get("stakePool").and_then(|p| p.as_str()) else { return Ok(false) };
    let out = Command::new(tools.bin("cast"))
        .args(["code", pool, "--rpc-url", rpc])
        .output()
        .await
        .wrap_err("run cast code")?;
    Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).trim().len() > 2)
}

/// Paths of the pinned tools under the repository.
struct Toolchain {
    home: PathBuf,
    contracts: PathBuf,
}

impl Toolchain {
    /// Installs the npm-pinned toolchain when it is missing and checks every binary is there.
    async fn ensure(home: &Path) -> eyre::Result<Self> {
        let bin = home.join("node_modules/.bin");
        if !bin.join("forge").exists() || !bin.join("anvil").exists() {
            println!("Installing the pinned toolchain (npm ci) …");
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(home)
                .status()
                .await
                .wrap_err("run npm ci (is Node.js installed?)")?;
            if !status.success() {
                bail!("npm ci failed with {status}");
            }
        }
        for tool in ["forge", "anvil", "cast"] {
            if !bin.join(tool).exists() {
                bail!("{} is missing after npm ci", bin.join(tool).display());
            }
        }
        Ok(Self { home: home.to_path_buf(), contracts: home.join("contracts") })
    }

    fn bin(&self, tool: &str) -> PathBuf {
        self.home.join("node_modules/.bin").join(tool)
    }

    fn start_anvil(&self, port: u16, state: Option<&Path>) -> eyre::Result<Child> {
        let mut cmd = Command::new(self.bin("anvil"));
        cmd.args(["--port", &port.to_string(), "--chain-id", "31337", "--silent"]);
        if let Some(dir) = state {
            std::fs::create_dir_all(dir).wrap_err_with(|| format!("create {}", dir.display()))?;
            cmd.arg("--state").arg(dir.join("anvil-state.json"));
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).kill_on_drop(true);
        cmd.spawn().wrap_err("start anvil")
    }

    async fn forge_script(&self, target: &str, rpc: &str) -> eyre::Result<()> {
        self.forge_script_sig(target, "run()", rpc).await
    }

    async fn forge_script_sig(&self, target: &str, sig: &str, rpc: &str) -> eyre::Result<()> {
        let status = Command::new(self.bin("forge"))
            .args(["script", target, "--sig", sig, "--rpc-url", rpc, "--broadcast", "--slow"])
            .args(["--private-key", DEVNET_DEPLOYER_KEY])
            .current_dir(&self.contracts)
            .status()
            .await
            .wrap_err_with(|| format!("run forge script {target} {sig}"))?;
        if !status.success() {
            bail!("forge script {target} {sig} failed with {status}");
        }
        Ok(())
    }

    /// Runs `cast` and returns its trimmed standard output.
    async fn cast(&self, args: &[&str]) -> eyre::Result<String> {
        let out = Command::new(self.bin("cast"))
            .args(args)
            .output()
            .await
            .wrap_err_with(|| format!("run cast {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "cast {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Moves anvil's clock past the oracle's current frame deadline and mines a block, so the
    /// next report belongs to a new frame. Returns the seconds jumped.
    async fn advance_to_next_frame(&self, rpc: &str, oracle: &str) -> eyre::Result<u64> {
        let frame = self
            .cast(&["call", oracle, "currentFrame()(uint256,uint256)", "--rpc-url", rpc])
            .await?;
        let deadline = frame
            .lines()
            .nth(1)
            .and_then(parse_cast_uint)
            .wrap_err_with(|| format!("unexpected currentFrame() output: {frame:?}"))?;
        let now = self.cast(&["block", "latest", "--field", "timestamp", "--rpc-url", rpc]).await?;
        let now = parse_cast_uint(&now)
            .wrap_err_with(|| format!("unexpected block timestamp: {now:?}"))?;
        let jump = deadline.saturating_sub(now).saturating_add(1);
        self.cast(&["rpc", "evm_increaseTime", &jump.to_string(), "--rpc-url", rpc]).await?;
        self.cast(&["rpc", "evm_mine", "--rpc-url", rpc]).await?;
        Ok(jump)
    }
}

/// Parses a `cast` integer, which may carry a scientific-notation suffix (`123 [1.23e2]`).
fn parse_cast_uint(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

/// Walks up from `start` to the directory holding `contracts/foundry.toml` and `package.json`.
fn find_home(start: &Path) -> eyre::Result<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("contracts/foundry.toml").exists() && d.join("package.json").exists())
        .map(Path::to_path_buf)
        .wrap_err_with(|| {
            format!(
                "no ClayStack checkout found at or above {}: run from the repository or pass --home",
                start.display()
            )
        })
}

async fn wait_for_port(addr: SocketAddr, timeout: Duration) -> eyre::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{addr} did not accept connections within {timeout:?}")
}

async fn stop(child: &mut Child) {
    if let Err(e) = child.kill().await {
        tracing::warn!(target: "devnet", error = %e, "stop anvil");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cast_integers() {
        assert_eq!(parse_cast_uint("1700000300 [1.7e9]"), Some(1_700_000_300));
        assert_eq!(parse_cast_uint("42"), Some(42));
        assert_eq!(parse_cast_uint("0x2a"), None);
        assert_eq!(parse_cast_uint(""), None);
    }

    #[test]
    fn find_home_walks_up_and_explains_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("contracts/src")).unwrap();
        std::fs::write(dir.path().join("contracts/foundry.toml"), "").unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        assert_eq!(find_home(&dir.path().join("contracts/src")).unwrap(), dir.path());
        let other = tempfile::tempdir().unwrap();
        let err = find_home(other.path()).unwrap_err().to_string();
        assert!(err.contains("no ClayStack checkout found"), "{err}");
    }
}
