//! `claystack beacon-sim`: runs the deterministic beacon-chain simulator (library
//! `claystack-beacon-sim`) until Ctrl-C or SIGTERM, then writes a final snapshot.

use claystack_beacon_sim::follower::ExecutionClient;
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::hexutil;
use eyre::{WrapErr, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `claystack beacon-sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address of the Beacon API (and `/admin/`).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_LISTEN", default_value = "127.0.0.1:5052")]
    listen: SocketAddr,
    /// Execution node JSON-RPC URL (anvil) to read deposits from and credit withdrawals to.
    #[arg(long, env = "CLAYSTACK_EXECUTION_RPC")]
    execution_rpc: Option<String>,
    /// Deposit contract address on the execution node.
    #[arg(long, env = "CLAYSTACK_DEPOSIT_CONTRACT")]
    deposit_contract: Option<String>,
    /// Contract whose 76-byte `LOG0` records are EIP-7002 withdrawal requests (the system
    /// contract, or the devnet's mock of it).
    #[arg(long, env = "CLAYSTACK_EXIT_REQUEST_CONTRACT")]
    exit_request_contract: Option<String>,
    /// First execution block to read logs from.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_START_BLOCK", default_value_t = 0)]
    start_block: u64,
    /// Execution blocks behind the head before logs are read.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_FOLLOW_DISTANCE", default_value_t = 0)]
    follow_distance: u64,
    /// Record withdrawals and priority fees without crediting execution balances.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_NO_EL_CREDITS")]
    no_el_credits: bool,
    /// Parameter preset: `devnet` (1 s slots, 8-slot epochs, short delays) or `mainnet`.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_PRESET", default_value = "devnet")]
    preset: String,
    /// TOML file overriding preset parameters (field names of `ChainConfig`, e.g.
    /// `slots_per_epoch = 16`); flags and environment variables override it in turn.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Nominal seconds per slot (`SECONDS_PER_SLOT`).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_SECONDS_PER_SLOT")]
    seconds_per_slot: Option<u64>,
    /// Real duration of a slot in milliseconds (default: seconds per slot); shorter runs faster.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_SLOT_MS")]
    slot_ms: Option<u64>,
    /// `SLOTS_PER_EPOCH`.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_SLOTS_PER_EPOCH")]
    slots_per_epoch: Option<u64>,
    /// Unix time of genesis (default: now, or the snapshot's).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_GENESIS_TIME")]
    genesis_time: Option<u64>,
    /// Seed of every random draw.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_SEED")]
    seed: Option<u64>,
    /// Consensus reward rate of a perfect validator, basis points per year.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_APR_BPS")]
    apr_bps: Option<u64>,
    /// Priority fees paid to fee recipients, basis points per year of active stake.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_EL_APR_BPS")]
    el_apr_bps: Option<u64>,
    /// Default validator performance, parts per million.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_PERFORMANCE_PPM")]
    performance_ppm: Option<u32>,
    /// Filler validators active from genesis (0x00 credentials).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_GENESIS_VALIDATORS")]
    genesis_validators: Option<u64>,
    /// Fee recipient of deposited validators (e.g. the EL rewards vault).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_FEE_RECIPIENT")]
    fee_recipient: Option<String>,
    /// Chain id reported as `DEPOSIT_CHAIN_ID` (default: the execution node's, else 31337).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_CHAIN_ID")]
    chain_id: Option<u64>,
    /// Check first-deposit BLS signatures (needs a verifier; not wired in this build).
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_VERIFY_DEPOSIT_SIGNATURES")]
    verify_deposit_signatures: bool,
    /// Slots advance only through `POST /admin/advance`.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_MANUAL_CLOCK")]
    manual_clock: bool,
    /// Snapshot file; written each epoch and on shutdown, loaded on start.
    #[arg(long, env = "CLAYSTACK_BEACON_SIM_SNAPSHOT")]
    snapshot: Option<PathBuf>,
}

fn address(flag: &str, v: &str) -> eyre::Result<[u8; 20]> {
    hexutil::decode_fixed::<20>(v).wrap_err_with(|| format!("--{flag} {v:?}"))
}

/// Runs `claystack beacon-sim`.
pub(crate) async fn run(args: Args) -> eyre::Result<()> {
    let mut chain = match args.preset.as_str() {
        "devnet" => ChainConfig::devnet(),
        "mainnet" => ChainConfig::mainnet(),
        other => bail!("unknown preset {other:?} (devnet or mainnet)"),
    };
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("read the config file {}", path.display()))?;
        chain = chain.with_toml(&text)?;
    }
    if let Some(v) = args.seconds_per_slot {
        chain.seconds_per_slot = v;
    }
    if let Some(v) = args.slots_per_epoch {
        chain.slots_per_epoch = v;
    }
    if let Some(v) = args.apr_bps {
        chain.apr_bps = v;
    }
    if let Some(v) = args.el_apr_bps {
        chain.el_apr_bps = v;
    }
    if let Some(v) = args.performance_ppm {
        chain.default_performance_ppm = v;
    }
    if let Some(v) = args.genesis_validators {
        chain.genesis_validators = v;
    }
    if let Some(v) = args.seed {
        chain.seed = v;
    }
    if let Some(v) = args.genesis_time {
        chain.genesis_time = v;
    }
    chain.verify_deposit_signatures |= args.verify_deposit_signatures;
    if let Some(a) = args.fee_recipient.as_deref() {
        chain.default_fee_recipient = Some(address("fee-recipient", a)?);
    }
    match (&args.execution_rpc, &args.deposit_contract) {
        (_, Some(c)) => chain.deposit_contract = address("deposit-contract", c)?,
        (Some(_), None) if chain.deposit_contract == [0; 20] => {
            bail!(
                "--deposit-contract (or deposit_contract in --config) is required with --execution-rpc"
            )
        }
        _ => {}
    }
    chain.deposit_chain_id = match (args.chain_id, &args.execution_rpc) {
        (Some(id), _) => id,
        (None, Some(url)) => ExecutionClient::new(url)?
            .chain_id()
            .await
            .wrap_err_with(|| format!("read the chain id from {url}"))?,
        (None, None) => chain.deposit_chain_id,
    };
    chain.validate()?;
    let clock = if args.manual_clock {
        ClockMode::Manual
    } else {
        let ms = args.slot_ms.unwrap_or_else(|| chain.seconds_per_slot.saturating_mul(1000));
        if ms == 0 {
            bail!("--slot-ms must be positive");
        }
        ClockMode::Wall { slot_duration: Duration::from_millis(ms) }
    };
    let exit_request_contract = args
        .exit_request_contract
        .as_deref()
        .map(|a| address("exit-request-contract", a))
        .transpose()?;
    let cfg = NodeConfig {
        chain,
        listen: args.listen,
        execution_rpc: args.execution_rpc,
        execution_start_block: args.start_block,
        follow_distance: args.follow_distance,
        exit_request_contract,
        apply_el_credits: !args.no_el_credits,
        snapshot_path: args.snapshot,
        clock,
    };
    let node = SimNode::start(cfg, None).await.wrap_err("start the beacon simulator")?;
    tracing::info!(target: "beacon_sim", url = %node.url(), "beacon simulator running; Ctrl-C or SIGTERM to stop");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .wrap_err("listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.wrap_err("wait for Ctrl-C")?,
        _ = term.recv() => {}
    }
    tracing::info!(target: "beacon_sim", "stopping; writing the final snapshot");
    node.shutdown().await.wrap_err("shut the beacon simulator down")?;
    Ok(())
}
