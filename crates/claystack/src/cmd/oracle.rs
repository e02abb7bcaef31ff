//! `claystack oracle run`: one oracle member (library `claystack-oracle`, module `daemon`).

use claystack_bindings::Deployment;
use claystack_oracle::ChunkBudget;
use claystack_oracle::daemon::liveness::DutiesSource;
use claystack_oracle::daemon::{
    DaemonConfig, Finality, Member, MemberOptions, member_address, parse_member_key,
};
use eyre::{WrapErr, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `claystack oracle …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run an oracle member: compute, sign, gossip and submit each frame's report.
    Run(RunArgs),
}

/// Flags of `claystack oracle run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The member's private key (hex). Prefer the environment variable over the flag.
    #[arg(long, env = "CLAYSTACK_ORACLE_MEMBER_KEY", hide_env_values = true)]
    member_key: String,
    /// Beacon API base URL.
    #[arg(long, env = "CLAYSTACK_BEACON_URL", default_value = "http://127.0.0.1:5052")]
    beacon_url: String,
    /// Execution JSON-RPC URL.
    #[arg(long, env = "CLAYSTACK_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Deployment file written by the deploy script (`contracts/deployments/<chainid>.json`).
    #[arg(long, env = "CLAYSTACK_DEPLOYMENT")]
    deployment: PathBuf,
    /// Which pool's oracle: `public` or `kyc`.
    #[arg(long, env = "CLAYSTACK_ORACLE_POOL", default_value = "public")]
    pool: String,
    /// Other members' gossip URLs, comma-separated.
    #[arg(long, env = "CLAYSTACK_ORACLE_PEERS", value_delimiter = ',')]
    peers: Vec<String>,
    /// Address of this member's gossip and `/metrics` endpoint.
    #[arg(long, env = "CLAYSTACK_ORACLE_LISTEN", default_value = "127.0.0.1:9400")]
    listen: SocketAddr,
    /// Directory of the per-frame records (keep it across restarts).
    #[arg(long, env = "CLAYSTACK_ORACLE_STATE_DIR")]
    state_dir: PathBuf,
    /// Report once the head is this many slots past the reference slot instead of waiting for
    /// finality (simulators and devnets). Either way a frame is computed only once the head is
    /// two epochs past its reference epoch (its last epoch's duties can no longer change).
    #[arg(long, env = "CLAYSTACK_ORACLE_REF_SLOT_DELAY")]
    ref_slot_delay: Option<u64>,
    /// Where the pool validators' attestation duties are read: `rewards` (the attestation
    /// rewards of each epoch, from the state's participation flags: the same on every node) or
    /// `liveness` (`/eth/v1/validator/liveness`: what this node saw; Lighthouse and Lodestar
    /// serve only the last two epochs, too recent to record). Every member of the committee must
    /// use the same source, or their digests differ wherever the sources disagree.
    #[arg(long, env = "CLAYSTACK_ORACLE_DUTIES_SOURCE", default_value_t = DutiesSource::Rewards)]
    duties_source: DutiesSource,
    /// Loop period in milliseconds.
    #[arg(long, env = "CLAYSTACK_ORACLE_POLL_MS", default_value_t = 2_000)]
    poll_ms: u64,
    /// Commit the operators report (`extraDataHash`); needs the operator contracts.
    #[arg(long, env = "CLAYSTACK_ORACLE_WITH_EXTRA_DATA")]
    with_extra_data: bool,
    /// Advanced: entry gas of extra-data chunk 0 (docs/adr/0008). Every member of the committee
    /// must use the same chunk budget, or their digests differ; change it for tests only.
    #[arg(long, env = "CLAYSTACK_ORACLE_CHUNK_FIRST_GAS", hide = true)]
    chunk_first_gas: Option<u64>,
    /// Advanced: entry gas of every later chunk (same caveat).
    #[arg(long, env = "CLAYSTACK_ORACLE_CHUNK_GAS", hide = true)]
    chunk_gas: Option<u64>,
    /// Advanced: largest chunk in bytes (same caveat).
    #[arg(long, env = "CLAYSTACK_ORACLE_CHUNK_MAX_BYTES", hide = true)]
    chunk_max_bytes: Option<usize>,
}

/// Runs `claystack oracle …`.
pub(crate) async fn run(cmd: Command) -> eyre::Result<()> {
    match cmd {
        Command::Run(args) => run_member(args).await,
    }
}

async fn run_member(args: RunArgs) -> eyre::Result<()> {
    let deployment = Deployment::load(&args.deployment)
        .wrap_err_with(|| format!("load {}", args.deployment.display()))?;
    let pool = match args.pool.as_str() {
        "public" => deployment.public,
        "kyc" => deployment.kyc.ok_or_else(|| eyre::eyre!("the deployment has no KYC pool"))?,
        other => bail!("unknown pool {other:?}: use public or kyc"),
    };
    let member_key = parse_member_key(&args.member_key)?;
    let cfg = DaemonConfig {
        member_key,
        beacon_url: args.beacon_url,
        rpc_url: args.rpc_url,
        chain_id: deployment.chain_id,
        pool,
        peers: args.peers.into_iter().filter(|p| !p.is_empty()).collect(),
        state_dir: args.state_dir,
        poll_interval: Duration::from_millis(args.poll_ms.max(100)),
        finality: args.ref_slot_delay.map_or(Finality::Finalized, Finality::SlotsAfter),
        with_extra_data: args.with_extra_data,
    };
    let address = member_address(&cfg.member_key);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .wrap_err_with(|| format!("bind {}", args.listen))?;
    let default = ChunkBudget::default();
    let chunk_budget = ChunkBudget {
        first_gas: args.chunk_first_gas.unwrap_or(default.first_gas),
        gas: args.chunk_gas.unwrap_or(default.gas),
        max_bytes: args.chunk_max_bytes.unwrap_or(default.max_bytes),
    };
    if chunk_budget != default {
        tracing::warn!(target: "oracle", ?chunk_budget, "non-default extra-data chunk budget: every member must use the same one");
    }
    let options = MemberOptions { chunk_budget, duties_source: args.duties_source };
    let member = Member::start_with(cfg, listener, options)?;
    tracing::info!(target: "oracle", member = %address, addr = %member.addr(), "oracle member running; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.wrap_err("wait for Ctrl-C")?;
    member.shutdown().await;
    Ok(())
}
