//! The pinned toolchain (`node_modules/.bin/{anvil,forge,cast}`): anvil as the execution node and
//! the forge deployment script.

use std::{
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

use crate::DevnetError;

/// anvil's first default account: the devnet deployer (a well-known test key, never a secret).
pub const DEVNET_DEPLOYER_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Paths of the pinned tools under the repository.
#[derive(Debug, Clone)]
pub struct Toolchain {
    home: PathBuf,
}

impl Toolchain {
    /// Installs the npm-pinned toolchain when it is missing and checks every binary is there.
    pub async fn ensure(home: &Path) -> Result<Self, DevnetError> {
        let bin = home.join("node_modules/.bin");
        if !bin.join("forge").exists() || !bin.join("anvil").exists() {
            tracing::info!(target: "devnet", "installing the pinned toolchain (npm ci)");
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(home)
                .status()
                .await
                .map_err(|source| DevnetError::Io {
                    action: "run npm ci (is Node.js installed?)",
                    source,
                })?;
            if !status.success() {
                return Err(DevnetError::Tool(format!("npm ci failed with {status}")));
            }
        }
        for tool in ["forge", "anvil", "cast"] {
            if !bin.join(tool).exists() {
                return Err(DevnetError::Tool(format!(
                    "{} is missing after npm ci",
                    bin.join(tool).display()
                )));
            }
        }
        Ok(Self { home: home.to_path_buf() })
    }

    /// The repository root.
    #[must_use]
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The Foundry project.
    #[must_use]
    pub fn contracts(&self) -> PathBuf {
        self.home.join("contracts")
    }

    /// A tool's path.
    #[must_use]
    pub fn bin(&self, tool: &str) -> PathBuf {
        self.home.join("node_modules/.bin").join(tool)
    }

    /// Starts anvil on `port`, mining a block every `block_time` seconds (so the chain's clock
    /// follows the wall clock like the beacon simulator's), with 10,000 ETH accounts, mainnet's
    /// per-transaction gas cap, and the state kept in `state` when given.
    pub fn start_anvil(
        &self,
        port: u16,
        block_time: u64,
        state: Option<&Path>,
    ) -> Result<Child, DevnetError> {
        let mut cmd = Command::new(self.bin("anvil"));
        cmd.args(["--port", &port.to_string(), "--chain-id", "31337", "--silent"]);
        cmd.args(["--block-time", &block_time.to_string()]);
        // EIP-7825 (Osaka): no transaction above 2^24 gas, as on mainnet. anvil runs a
        // post-Fusaka hardfork by default but checks the cap only with this flag; without it a
        // report or chunk too heavy for mainnet would pass on the devnet.
        cmd.arg("--enable-tx-gas-limit");
        if let Some(dir) = state {
            std::fs::create_dir_all(dir).map_err(|source| DevnetError::Io {
                action: "create the state directory",
                source,
            })?;
            cmd.arg("--state").arg(dir.join("anvil-state.json"));
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).kill_on_drop(true);
        cmd.spawn().map_err(|source| DevnetError::Io { action: "start anvil", source })
    }

    /// Runs the deployment script with `env` (frame configuration) and returns the path of the
    /// deployment file it wrote.
    pub async fn deploy(&self, rpc: &str, env: &[(&str, String)]) -> Result<PathBuf, DevnetError> {
        let mut cmd = Command::new(self.bin("forge"));
        cmd.args(["script", "script/Deploy.s.sol:Deploy", "--rpc-url", rpc, "--broadcast"])
            .args(["--slow", "--private-key", DEVNET_DEPLOYER_KEY])
            .current_dir(self.contracts())
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let status = cmd
            .status()
            .await
            .map_err(|source| DevnetError::Io { action: "run forge script Deploy", source })?;
        if !status.success() {
            return Err(DevnetError::Tool(format!("forge script Deploy failed with {status}")));
        }
        Ok(self.contracts().join("deployments").join("31337.json"))
    }
}

/// Waits until `addr` accepts TCP connections.
pub async fn wait_for_port(addr: SocketAddr, timeout: Duration) -> Result<(), DevnetError> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(DevnetError::Tool(format!("{addr} did not accept connections within {timeout:?}")))
}

/// Walks up from `start` to the directory holding `contracts/foundry.toml` and `package.json`.
pub fn find_home(start: &Path) -> Result<PathBuf, DevnetError> {
    start
        .ancestors()
        .find(|d| d.join("contracts/foundry.toml").exists() && d.join("package.json").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            DevnetError::Tool(format!(
                "no ClayStack checkout found at or above {}: run from the repository or pass --home",
                start.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
