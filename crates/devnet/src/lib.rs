//! The ClayStack devnet, as a library: anvil producing a block per second, the contracts deployed
//! by the forge script with one-minute oracle frames, the governance set-up through the
//! zero-delay devnet timelock, sample operators of every type and stakers, a VFP deposit in the
//! public VfpPool backing one Home operator's bond, the beacon simulator
//! on the deployment's genesis and slot/epoch configuration, three oracle members per pool
//! (quorum 2), a keeper with the exit enforcer, the EIP-7002 system contract (a mock installed
//! on anvil, read by the simulator) and an exit agent per sample operator (one negligent Home
//! operator by default). `claystack devnet` wires this and adds the indexer, API and dashboard;
//! the end-to-end tests drive the same code.
//!
//! Time: exit deadlines are at least a day (a governance bound) while frames last a minute.
//! [`Devnet::warp`] moves anvil's clock (`evm_setTime`) and the simulator's (an offset on its wall
//! clock, kept in its snapshot) forward by the same amount; the simulator processes every skipped
//! slot (about a second for a day), so block timestamps, slots, oracle frames and deadlines stay
//! one timeline.

pub mod agents;
pub mod eip7002;
pub mod setup;
pub mod status;
pub mod testing;
pub mod toolchain;

/// Re-exported for the end-to-end tests and embedders, which drive the chain with the same alloy.
pub use alloy;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use alloy::{
    primitives::U256,
    providers::{DynProvider, Provider, ext::AnvilApi as _},
    signers::local::PrivateKeySigner,
};
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode, bls::BlsDepositVerifier};
use claystack_bindings::{Deployment, deployment::PoolAddresses, oracle_report::OracleReport};
use claystack_client::keeper::{Keeper, KeeperConfig};
use claystack_oracle::daemon::{DaemonConfig, Finality, Member};
use tokio::{process::Child, sync::watch};

pub use setup::Population;
pub use toolchain::{Toolchain, find_home};

/// A devnet step failed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A local I/O operation.
    #[error("{action}: {source}")]
    Io {
        /// What failed.
        action: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A tool or a set-up precondition.
    #[error("{0}")]
    Tool(String),
    /// A chain call or transaction.
    #[error("{action}: {detail}")]
    Chain {
        /// What failed.
        action: &'static str,
        /// The node's or the contract's answer.
        detail: String,
    },
    /// The client library.
    #[error(transparent)]
    Client(#[from] claystack_client::ClientError),
    /// The deployment file.
    #[error("read the deployment: {0}")]
    Deployment(#[from] claystack_bindings::deployment::DeploymentError),
    /// The beacon simulator.
    #[error("beacon simulator: {0}")]
    Sim(#[from] claystack_beacon_sim::NodeError),
    /// An oracle member.
    #[error("oracle member: {0}")]
    Oracle(#[from] claystack_oracle::daemon::DaemonError),
}

/// Settings of a devnet.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// Repository root.
    pub home: PathBuf,
    /// anvil's JSON-RPC port.
    pub port: u16,
    /// Beacon API address (port 0: any free port).
    pub beacon_listen: SocketAddr,
    /// Directory of every daemon's state; kept across restarts when `persistent`.
    pub state_dir: PathBuf,
    /// Whether `state_dir` is the user's (`--state`): reuse the chain, skip deployment and set-up.
    pub persistent: bool,
    /// Epochs per oracle frame (4-slot epochs of 1 s: 15 ≈ one minute).
    pub epochs_per_frame: u64,
    /// Whether to register the sample operators and stakers.
    pub populate: bool,
    /// Oracle members to run, of the deployment's (the others stay offline).
    pub oracle_members: usize,
    /// Whether to run the keeper loop (tests drive [`Devnet::keeper_once`] instead).
    pub keeper: bool,
}

/// Further settings of [`Devnet::start_with`]; the default is what [`Devnet::start`] uses.
#[derive(Debug, Clone, Default)]
pub struct DevnetOptions {
    /// Labels of sample operators (`home-3`, …) that ignore exit requests: they get no exit
    /// agent, so their requested validators are exited through EIP-7002 after the deadline.
    /// Default: none (every operator answers).
    pub negligent_operators: Vec<String>,
}

/// Keys of the deployment's default oracle members (anvil accounts 2, 3, 4; test keys).
pub const ORACLE_MEMBER_KEYS: [&str; 3] = [
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

/// Keys of the KYC pool's default oracle members (accounts 10, 11, 12 of anvil's mnemonic, which
/// `Deploy.s.sol` makes members and funds on chain 31337; test keys). Each pool's members sign
/// with their own keys, so no two daemons race one account's nonces.
pub const KYC_ORACLE_MEMBER_KEYS: [&str; 3] = [
    "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
    "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82",
    "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1",
];

/// The keeper's key (anvil account 8; test key).
pub const KEEPER_KEY: &str = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// JSON-RPC URL of anvil.
    pub rpc: String,
    /// The deployment (copied into the state directory).
    pub deployment: Deployment,
    /// Path of that copy.
    pub deployment_path: PathBuf,
    /// The beacon simulator's Beacon API URL.
    pub beacon_url: String,
    /// What the set-up registered (empty when the state was reused).
    pub population: Population,
    anvil: Child,
    sim: Option<SimNode>,
    /// Oracle members and whether they report for the KYC pool.
    members: Vec<(bool, Member)>,
    stop: watch::Sender<bool>,
    keepers: Vec<tokio::task::JoinHandle<()>>,
    /// Voluntary exits submitted by the agents: public pool, KYC pool.
    agent_stats: [Arc<agents::AgentStats>; 2],
}

const SETUP_MARKER: &str = "devnet-setup.done";

impl Devnet {
    /// Brings everything up, every sample operator answering exit requests.
    pub async fn start(cfg: DevnetConfig) -> Result<Self, DevnetError> {
        Self::start_with(cfg, DevnetOptions::default()).await
    }

    /// Brings everything up with `options`.
    pub async fn start_with(
        cfg: DevnetConfig,
        options: DevnetOptions,
    ) -> Result<Self, DevnetError> {
        let tools = Toolchain::ensure(&cfg.home).await?;
        std::fs::create_dir_all(&cfg.state_dir)
            .map_err(|source| DevnetError::Io { action: "create the state directory", source })?;
        let rpc = format!("http://127.0.0.1:{}", cfg.port);
        let addr = SocketAddr::from(([127, 0, 0, 1], cfg.port));
        if std::net::TcpListener::bind(addr).is_err() {
            return Err(DevnetError::Tool(format!(
                "port {} is in use: stop the other node or pass --port",
                cfg.port
            )));
        }
        let anvil_state = cfg.persistent.then_some(cfg.state_dir.as_path());
        let anvil = tools.start_anvil(cfg.port, 1, anvil_state)?;
        let mut this = Self {
            rpc: rpc.clone(),
            deployment: placeholder(),
            deployment_path: cfg.state_dir.join("deployment.json"),
            beacon_url: String::new(),
            population: Population::default(),
            anvil,
            sim: None,
            members: Vec::new(),
            stop: watch::channel(false).0,
            keepers: Vec::new(),
            agent_stats: [Arc::default(), Arc::default()],
        };
        match this.bring_up(&tools, &cfg, &options).await {
            Ok(()) => Ok(this),
            Err(e) => {
                this.shutdown().await;
                Err(e)
            }
        }
    }

    async fn bring_up(
        &mut self,
        tools: &Toolchain,
        cfg: &DevnetConfig,
        options: &DevnetOptions,
    ) -> Result<(), DevnetError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], cfg.port));
        toolchain::wait_for_port(addr, Duration::from_secs(30)).await?;
        tracing::info!(target: "devnet", rpc = %self.rpc, "anvil is up (chain id 31337, 1 s blocks)");
        let marker = cfg.state_dir.join(SETUP_MARKER);
        let reuse = cfg.persistent && marker.exists() && self.deployment_path.exists();
        if reuse {
            self.deployment = Deployment::load(&self.deployment_path)?;
            tracing::info!(target: "devnet", "state kept: deployment and set-up reused");
        } else {
            let written = tools
                .deploy(&self.rpc, &[("EPOCHS_PER_FRAME", cfg.epochs_per_frame.to_string())])
                .await?;
            // the script writes a shared file: copy it at once, then read only our copy
            std::fs::copy(&written, &self.deployment_path)
                .map_err(|source| DevnetError::Io { action: "copy the deployment file", source })?;
            self.deployment = Deployment::load(&self.deployment_path)?;
        }
        if eip7002::install(&self.provider()?, &tools.contracts()).await? {
            tracing::info!(target: "devnet", address = %eip7002::SYSTEM_CONTRACT, "EIP-7002 system contract installed");
        }
        // the script's output file is shared by every deployment on this checkout: the frame
        // configuration is taken from the chain, never from a file another run may have written
        let oracle = OracleReport::new(self.deployment.public.oracle_report, self.provider()?);
        let fc = oracle.frameConfig().call().await.map_err(|e| DevnetError::Chain {
            action: "read the oracle frame configuration",
            detail: e.to_string(),
        })?;
        self.deployment.genesis_time = fc.genesisTime;
        self.deployment.seconds_per_slot = u64::from(fc.secondsPerSlot);
        self.deployment.slots_per_epoch = u64::from(fc.slotsPerEpoch);
        self.deployment.epochs_per_frame = u64::from(fc.epochsPerFrame);
        let d = self.deployment.clone();

        let mut chain = ChainConfig::devnet();
        chain.genesis_time = d.genesis_time;
        chain.seconds_per_slot = d.seconds_per_slot;
        chain.slots_per_epoch = d.slots_per_epoch;
        chain.deposit_contract = d.deposit_contract.into_array();
        chain.deposit_chain_id = d.chain_id;
        chain.default_fee_recipient = Some(d.public.el_rewards_vault.into_array());
        // 128 validators outside the protocol, so that one slashing is a small part of the stake:
        // the correlated slashing penalty (3 × slashed / total stake) rounds to zero as on
        // mainnet, instead of costing several ETH on a 25-validator chain
        chain.genesis_validators = 128;
        // first deposits must be validly signed, as on mainnet (a front-runner's too)
        chain.verify_deposit_signatures = true;
        // liveness of two days of epochs: the oracle scores every epoch of a frame, also the
        // epochs a warp past an exit deadline skipped
        chain.liveness_epochs = (2 * 24 * 3600_u64)
            .checked_div(d.seconds_per_slot.saturating_mul(d.slots_per_epoch))
            .unwrap_or(claystack_beacon_sim::config::DEFAULT_LIVENESS_EPOCHS)
            .max(claystack_beacon_sim::config::DEFAULT_LIVENESS_EPOCHS);
        let verifier = BlsDepositVerifier { genesis_fork_version: chain.genesis_fork_version };
        let slot_ms = d.seconds_per_slot.saturating_mul(1000).max(1);
        let sim = SimNode::start(
            NodeConfig {
                chain: chain.clone(),
                listen: cfg.beacon_listen,
                execution_rpc: Some(self.rpc.clone()),
                execution_start_block: 0,
                follow_distance: 0,
                exit_request_contract: Some(eip7002::SYSTEM_CONTRACT.into_array()),
                apply_el_credits: true,
                snapshot_path: Some(cfg.state_dir.join("beacon.snapshot")),
                clock: ClockMode::Wall { slot_duration: Duration::from_millis(slot_ms) },
            },
            Some(Arc::new(verifier)),
        )
        .await?;
        self.beacon_url = sim.url();
        let offset = sim.shared().clock_offset();
        self.sim = Some(sim);
        if !offset.is_zero() {
            // a kept state that was warped: anvil's clock follows the simulator's again
            self.set_anvil_time(offset).await?;
        }
        tracing::info!(target: "devnet", url = %self.beacon_url, genesis = d.genesis_time, "beacon simulator is up");

        if !reuse && cfg.populate {
            self.population = setup::populate(&self.rpc, &d, chain.genesis_fork_version).await?;
        }
        if !reuse {
            std::fs::write(&marker, b"deployed and populated\n")
                .map_err(|source| DevnetError::Io { action: "write the set-up marker", source })?;
        }

        self.start_oracles(cfg, &d).await?;
        if cfg.keeper {
            for keeper in self.keepers_for(&d)? {
                self.spawn_keeper(keeper);
            }
        }
        if cfg.populate {
            let ops = setup::sample_operators();
            let found =
                agents::agents(&self.rpc, &d, &self.beacon_url, &ops, &options.negligent_operators)
                    .await?;
            tracing::info!(target: "devnet", agents = found.len(), negligent = ?options.negligent_operators, "exit agents running");
            for agent in found {
                let kyc = ops.iter().any(|o| o.label == agent.label && o.kyc_pool);
                let stats = Arc::clone(&self.agent_stats[usize::from(kyc)]);
                let stop = self.stop.subscribe();
                self.keepers.push(tokio::spawn(agent.run(Duration::from_secs(2), stop, stats)));
            }
        }
        Ok(())
    }

    /// Sets anvil's clock to the wall clock plus `offset` (the simulator's warp offset) and
    /// mines a block at that time.
    async fn set_anvil_time(&self, offset: Duration) -> Result<(), DevnetError> {
        let p = self.provider()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| DevnetError::Tool(format!("read the clock: {e}")))?;
        let target = now.saturating_add(offset).as_secs();
        let chain = |action: &'static str| {
            move |e: alloy::transports::TransportError| DevnetError::Chain {
                action,
                detail: e.to_string(),
            }
        };
        let head = p
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(chain("read the head block"))?
            .map_or(0, |b| b.header.timestamp);
        if head >= target {
            return Ok(());
        }
        p.anvil_set_time(target).await.map_err(chain("set anvil's time"))?;
        p.evm_mine(None).await.map_err(chain("mine a block at the new time"))?;
        Ok(())
    }

    /// Moves time forward by `by` on both clocks — anvil's (`evm_setTime` to the simulator's new
    /// time, and a block mined at it) and the beacon simulator's (its warp offset) — and waits
    /// until the simulator has processed every skipped slot. Oracle frames, exit deadlines and
    /// slots stay consistent: it is as if `by` had passed with nobody sending transactions.
    /// Returns the head slot.
    pub async fn warp(&self, by: Duration) -> Result<u64, DevnetError> {
        let sim = self.sim.as_ref().ok_or_else(|| DevnetError::Tool("no simulator".into()))?;
        let offset = sim.shared().warp(by)?;
        self.set_anvil_time(offset).await?;
        let head = sim.shared().wait_caught_up().await?;
        tracing::info!(target: "devnet", seconds = by.as_secs(), head = %head, "time warped");
        Ok(head.get())
    }

    /// Gossip/metrics addresses of the running oracle members of a pool (`kyc`: the KYC pool's).
    #[must_use]
    pub fn oracle_member_addrs(&self, kyc: bool) -> Vec<SocketAddr> {
        self.members.iter().filter(|(k, _)| *k == kyc).map(|(_, m)| m.addr()).collect()
    }

    async fn start_oracles(
        &mut self,
        cfg: &DevnetConfig,
        d: &Deployment,
    ) -> Result<(), DevnetError> {
        let mut pools: Vec<(&str, PoolAddresses, [&str; 3])> =
            vec![("public", d.public, ORACLE_MEMBER_KEYS)];
        if let Some(k) = d.kyc {
            pools.push(("kyc", k, KYC_ORACLE_MEMBER_KEYS));
        }
        for (name, pool, keys) in pools {
            let n = cfg.oracle_members.min(keys.len());
            let mut listeners = Vec::new();
            for _ in 0..n {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|source| {
                    DevnetError::Io { action: "bind an oracle member", source }
                })?;
                listeners.push(l);
            }
            let urls: Vec<String> = listeners
                .iter()
                .map(|l| l.local_addr().map(|a| format!("http://{a}")))
                .collect::<Result<_, _>>()
                .map_err(|source| DevnetError::Io { action: "read a member address", source })?;
            for (i, (listener, key)) in listeners.into_iter().zip(keys).enumerate() {
                let member_key: PrivateKeySigner =
                    key.parse().map_err(|e| DevnetError::Tool(format!("member key: {e}")))?;
                let peers = urls
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, u)| u.clone())
                    .collect();
                let member = Member::start(
                    DaemonConfig {
                        member_key,
                        beacon_url: self.beacon_url.clone(),
                        rpc_url: self.rpc.clone(),
                        chain_id: d.chain_id,
                        pool,
                        peers,
                        state_dir: cfg.state_dir.join(format!("oracle-{name}-{i}")),
                        poll_interval: Duration::from_millis(1_000),
                        finality: Finality::SlotsAfter(2),
                        with_extra_data: false,
                    },
                    listener,
                )?;
                self.members.push((name == "kyc", member));
            }
            tracing::info!(target: "devnet", pool = name, members = n, "oracle members running");
        }
        Ok(())
    }

    fn keepers_for(&self, d: &Deployment) -> Result<Vec<Keeper>, DevnetError> {
        let key: PrivateKeySigner =
            KEEPER_KEY.parse().map_err(|e| DevnetError::Tool(format!("keeper key: {e}")))?;
        let provider = setup::provider(&self.rpc, &key)?;
        let mut pools = vec![(
            d.public.stake_pool,
            d.address("operatorRegistry").ok(),
            d.address("exitEnforcer").ok(),
        )];
        if let Some(k) = d.kyc {
            pools.push((
                k.stake_pool,
                d.address("kycOperatorRegistry").ok(),
                d.address("kycExitEnforcer").ok(),
            ));
        }
        Ok(pools
            .into_iter()
            .map(|(pool, registry, enforcer)| {
                Keeper::new(
                    provider.clone(),
                    pool,
                    registry,
                    enforcer,
                    KeeperConfig::default(),
                    Arc::default(),
                )
            })
            .collect())
    }

    fn spawn_keeper(&mut self, keeper: Keeper) {
        let mut stop = self.stop.subscribe();
        self.keepers.push(tokio::spawn(async move {
            let shutdown = async move {
                let _closed = stop.wait_for(|s| *s).await;
            };
            keeper
                .run(Duration::from_secs(2), shutdown, |r| {
                    for line in &r.done {
                        tracing::info!(target: "devnet::keeper", "{line}");
                    }
                })
                .await;
        }));
    }

    /// One keeper run per pool (public, then KYC); returns what was done and the notes.
    pub async fn keeper_once(&self) -> Result<Vec<String>, DevnetError> {
        let mut out = Vec::new();
        for keeper in self.keepers_for(&self.deployment)? {
            let r = keeper.run_once().await;
            out.extend(r.done);
            out.extend(r.notes);
        }
        Ok(out)
    }

    /// A read-only provider.
    pub fn provider(&self) -> Result<DynProvider, DevnetError> {
        setup::provider(&self.rpc, &setup::deployer())
    }

    /// The status of the public pool (`kyc`: of the KYC pool).
    pub async fn status(&self, kyc: bool) -> Result<status::FrameStatus, DevnetError> {
        self.status_since(kyc, None).await
    }

    /// [`Self::status`] with the events of the blocks after `since`.
    pub async fn status_since(
        &self,
        kyc: bool,
        since: Option<u64>,
    ) -> Result<status::FrameStatus, DevnetError> {
        let d = &self.deployment;
        let (pool, prefix) = if kyc {
            (d.kyc.ok_or_else(|| DevnetError::Tool("no KYC pool".into()))?, "kyc")
        } else {
            (d.public, "")
        };
        let key = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                let mut c = name.chars();
                let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
                format!("{prefix}{first}{}", c.as_str())
            }
        };
        let contracts = status::PoolContracts {
            oracle: pool.oracle_report,
            pool: pool.stake_pool,
            queue: pool.withdrawal_queue,
            registry: d.address(&key("operatorRegistry"))?,
            module: d.address(&key("operatorsModule")).ok(),
            enforcer: d.address(&key("exitEnforcer")).ok(),
            vfp_pool: d.address(&key("vfpPool")).ok(),
        };
        let mut s = status::read(&self.provider()?, &contracts, since).await?;
        s.events.voluntary_exits = 0;
        Ok(s)
    }

    /// Calls `on_line` with one line per pool per reported frame (first with the last frame
    /// already reported, if any); returns after `frames` frames of the public pool (never when
    /// `None`), or fails when the public pool goes three frames without a report while `frames`
    /// is set (so that scripted runs and tests end with the reason instead of hanging).
    pub async fn watch_frames(
        &self,
        frames: Option<u64>,
        mut on_line: impl FnMut(&str),
    ) -> Result<(), DevnetError> {
        let frame_seconds = self.deployment.frame_seconds();
        let stall = Duration::from_secs(frame_seconds.saturating_mul(3).saturating_add(60));
        let mut last: [Option<status::FrameStatus>; 2] = [None, None];
        let mut exits_shown = [0u64; 2];
        let mut seen = 0u64;
        let mut last_public = std::time::Instant::now();
        loop {
            for (i, kyc) in [(0usize, false), (1, true)] {
                let since = last.get(i).and_then(|l| l.as_ref()).map(|l| l.block);
                let mut now = match self.status_since(kyc, since).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(target: "devnet", error = %e, "read the frame status");
                        continue;
                    }
                };
                let Some(slot) = last.get_mut(i) else { continue };
                let apr = match slot {
                    None if now.ref_slot > 0 => 0.0,
                    Some(prev) if prev.ref_slot != now.ref_slot => {
                        let seconds = now
                            .ref_slot
                            .saturating_sub(prev.ref_slot)
                            .saturating_mul(self.deployment.seconds_per_slot);
                        status::apr_percent(prev.share_rate, now.share_rate, seconds)
                    }
                    None => {
                        *slot = Some(now);
                        continue;
                    }
                    Some(_) => continue,
                };
                if let (Some(shown), Some(stats)) =
                    (exits_shown.get_mut(i), self.agent_stats.get(i))
                {
                    let total = stats.exits_submitted.load(std::sync::atomic::Ordering::Relaxed);
                    now.events.voluntary_exits = total.saturating_sub(*shown);
                    *shown = total;
                }
                on_line(&now.line(if kyc { "kcsETH" } else { "csETH" }, apr));
                *slot = Some(now);
                if !kyc {
                    seen = seen.saturating_add(1);
                    last_public = std::time::Instant::now();
                }
            }
            if frames.is_some_and(|n| seen >= n) {
                return Ok(());
            }
            if frames.is_some() && last_public.elapsed() > stall {
                return Err(DevnetError::Tool(format!(
                    "no report of the public pool for {} s: the oracle members' warnings \
                     (target oracle::daemon) say why",
                    stall.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Stops the keepers, the oracle members, the simulator (writing its snapshot) and anvil
    /// (SIGINT first, so that it dumps its state).
    pub async fn shutdown(mut self) {
        let _sent = self.stop.send(true);
        for k in self.keepers.drain(..) {
            if let Err(e) = k.await {
                tracing::warn!(target: "devnet", error = %e, "keeper task");
            }
        }
        for (_, m) in self.members.drain(..) {
            m.shutdown().await;
        }
        if let Some(sim) = self.sim.take()
            && let Err(e) = sim.shutdown().await
        {
            tracing::warn!(target: "devnet", error = %e, "stop the beacon simulator");
        }
        stop_child(&mut self.anvil).await;
    }
}

/// Interrupts `child` (SIGINT), then kills it if it has not exited within 10 s.
async fn stop_child(child: &mut Child) {
    if let Some(pid) = child.id() {
        let sent =
            tokio::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().await;
        if sent.is_ok_and(|s| s.success())
            && tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_ok()
        {
            return;
        }
    }
    if let Err(e) = child.kill().await {
        tracing::warn!(target: "devnet", error = %e, "stop anvil");
    }
}

/// A state directory for a run without `--state` (removed by the caller).
#[must_use]
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("claystack-devnet-{}", std::process::id()))
}

/// The deployment placeholder before the real one is read (never used for calls).
fn placeholder() -> Deployment {
    let zero = "0x0000000000000000000000000000000000000000";
    let text = format!(
        r#"{{"chainId":31337,"genesisTime":0,"secondsPerSlot":1,"slotsPerEpoch":4,"epochsPerFrame":1,
        "timelock":"{zero}","depositContract":"{zero}","oracleQuorum":1,"oracleMembers":[],
        "stakePool":"{zero}","withdrawalQueue":"{zero}","oracleReport":"{zero}","sanityChecker":"{zero}",
        "withdrawalVault":"{zero}","elRewardsVault":"{zero}"}}"#
    );
    #[allow(clippy::expect_used)] // a constant, parsed by the unit test below
    Deployment::parse(&text).expect("the placeholder deployment parses")
}

/// Wei of `eth` whole ether.
#[must_use]
pub fn ether(eth: u64) -> U256 {
    U256::from(eth) * U256::from(1_000_000_000_000_000_000u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_parses_and_keys_are_members() {
        assert_eq!(placeholder().chain_id, 31337);
        let addrs: Vec<String> = ORACLE_MEMBER_KEYS
            .iter()
            .map(|k| k.parse::<PrivateKeySigner>().unwrap().address().to_string())
            .collect();
        // anvil accounts 2, 3, 4: the deploy script's default oracle members
        assert_eq!(
            addrs,
            [
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
                "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
            ]
        );
        // accounts 10, 11, 12 of anvil's mnemonic: the KYC pool's (KYC_ORACLE_MEMBERS)
        let kyc: Vec<String> = KYC_ORACLE_MEMBER_KEYS
            .iter()
            .map(|k| k.parse::<PrivateKeySigner>().unwrap().address().to_string())
            .collect();
        assert_eq!(
            kyc,
            [
                "0xBcd4042DE499D14e55001CcbB24a551F3b954096",
                "0x71bE63f3384f5fb98995898A86B02Fb2426c5788",
                "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a"
            ]
        );
        assert!(ether(2) > ether(1));
    }
}
