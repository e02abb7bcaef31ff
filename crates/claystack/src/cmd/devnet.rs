//! `claystack devnet`: the whole system on one machine — anvil (1 s blocks), the contracts, the
//! governance set-up, sample operators and stakers, the beacon simulator, three oracle members
//! per pool, a keeper, an exit agent per sample operator, a VFP deposit backing one Home operator
//! (library `claystack-devnet`) and the indexer + API + dashboard — printing one line per reported
//! frame until Ctrl-C or `--frames N`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use claystack_api::{ApiMetrics, AppState, RewardsTrees};
use claystack_devnet::{Devnet, DevnetConfig, DevnetOptions, find_home, scratch_dir};
use claystack_indexer::IndexerMetrics;
use eyre::Context as _;

use super::{
    api::{HttpArgs, serve_http_with},
    indexer::{FollowArgs, SourceArgs, start},
};

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
    /// Keep every daemon's state (chain, simulator, oracles, index) in this directory across
    /// restarts; deployment and set-up are skipped when already done.
    #[arg(long, env = "CLAYSTACK_DEVNET_STATE")]
    state: Option<PathBuf>,
    /// Stop after this many reported frames of the public pool instead of running until Ctrl-C.
    #[arg(long)]
    frames: Option<u64>,
    /// Stop after the first reported frame (the same as `--frames 1`).
    #[arg(long, conflicts_with = "frames")]
    exit_after_demo: bool,
    /// Address of the dashboard and REST API.
    #[arg(long, env = "CLAYSTACK_DEVNET_API_LISTEN", default_value = "127.0.0.1:8080")]
    api_listen: SocketAddr,
    /// Address of the beacon simulator's Beacon API.
    #[arg(long, env = "CLAYSTACK_DEVNET_BEACON_LISTEN", default_value = "127.0.0.1:5052")]
    beacon_listen: SocketAddr,
    /// Epochs (4 slots of 1 s) per oracle frame.
    #[arg(long, env = "CLAYSTACK_DEVNET_EPOCHS_PER_FRAME", default_value_t = 15)]
    epochs_per_frame: u64,
    /// Oracle members to run per pool (of 3; quorum 2) — fewer simulates members offline.
    #[arg(long, default_value_t = 3)]
    oracle_members: usize,
    /// Sample operators (comma-separated labels: pro-1, pro-2, dvt, home-1, home-2, home-3,
    /// kyc-1) whose exit agent is off: they ignore exit requests, and once the deadline (1 day)
    /// has passed the keeper exits their validators through EIP-7002. `none` for nobody.
    #[arg(long, value_delimiter = ',', default_value = "home-3")]
    negligent_operators: Vec<String>,
}

/// Runs `claystack devnet`.
#[allow(clippy::print_stdout)] // the devnet's user interface is its frame lines
pub(crate) async fn run(args: Args) -> eyre::Result<()> {
    let home = match args.home {
        Some(h) => h,
        None => find_home(&std::env::current_dir().wrap_err("read the working directory")?)?,
    };
    let persistent = args.state.is_some();
    let state_dir = args.state.clone().unwrap_or_else(scratch_dir);
    let frames = if args.exit_after_demo { Some(1) } else { args.frames };
    let labels: Vec<String> =
        claystack_devnet::setup::sample_operators().into_iter().map(|o| o.label).collect();
    let negligent: Vec<String> = args
        .negligent_operators
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty() && l != "none")
        .collect();
    if let Some(unknown) = negligent.iter().find(|l| !labels.contains(l)) {
        eyre::bail!(
            "--negligent-operators: no sample operator {unknown:?} (one of {})",
            labels.join(", ")
        );
    }
    println!(
        "Starting the devnet (anvil, contracts, operators, stakers, beacon simulator, oracles, keeper) …"
    );
    let devnet = Devnet::start_with(
        DevnetConfig {
            home,
            port: args.port,
            beacon_listen: args.beacon_listen,
            state_dir: state_dir.clone(),
            persistent,
            epochs_per_frame: args.epochs_per_frame,
            populate: true,
            keeper: true,
            oracle_members: args.oracle_members,
        },
        DevnetOptions { negligent_operators: negligent.clone() },
    )
    .await;
    let devnet = match devnet {
        Ok(d) => d,
        Err(e) => {
            if !persistent
                && state_dir.exists()
                && let Err(rm) = std::fs::remove_dir_all(&state_dir)
            {
                tracing::warn!(target: "devnet", error = %rm, "remove {}", state_dir.display());
            }
            return Err(e).wrap_err("bring the devnet up");
        }
    };
    let d = &devnet.deployment;
    println!("Deployed contracts ({}):", devnet.deployment_path.display());
    for (name, addr) in [
        ("stakePool", d.public.stake_pool),
        ("withdrawalQueue", d.public.withdrawal_queue),
        ("oracleReport", d.public.oracle_report),
        ("timelock", d.timelock),
    ] {
        println!("  {name:<20} {addr}");
    }
    if devnet.population.operators.is_empty() && persistent {
        println!("State kept in {}: deployment and set-up reused", state_dir.display());
    }
    for (label, kyc, id) in &devnet.population.operators {
        let note = if negligent.contains(label) { ", ignores exit requests" } else { "" };
        println!(
            "  operator {label:<8} id {id} ({} pool{note})",
            if *kyc { "KYC" } else { "public" }
        );
    }
    for (label, kyc, who) in &devnet.population.stakers {
        println!("  staker   {label:<12} {who} ({} pool)", if *kyc { "KYC" } else { "public" });
    }
    if let Some(v) = &devnet.population.vfp {
        println!(
            "  vfp      {:<12} {} deposited {} ETH into the VfpPool {}; it backs operator {} (id {}) with {} csETH and earns {:.1} % of its rewards (public pool)",
            claystack_devnet::setup::VFP_DEPOSITOR,
            v.depositor,
            v.deposit_wei / claystack_devnet::ether(1),
            v.pool,
            v.operator,
            v.operator_id,
            u256_to_decimal(v.backing_shares),
            f64::from(v.reward_share_bps) / 100.0,
        );
    }

    // the dashboard's reward allocations come from the public pool's members' trees, verified
    // against the root on chain (as `claystack serve --oracle-url`)
    let member_urls: Vec<String> =
        devnet.oracle_member_addrs(false).iter().map(|a| format!("http://{a}")).collect();
    let trees = Arc::new(RewardsTrees::new(&member_urls).wrap_err("the oracle members' URLs")?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let serve = tokio::spawn(serve(
        devnet.rpc.clone(),
        devnet.deployment_path.clone(),
        state_dir.join("index.sqlite"),
        args.api_listen,
        d.frame_seconds(),
        trees,
        stop_rx,
    ));
    println!(
        "\nDevnet running: JSON-RPC {}, Beacon API {}, dashboard http://{}/ — one line per oracle frame (~{} s){}",
        devnet.rpc,
        devnet.beacon_url,
        args.api_listen,
        d.frame_seconds(),
        if frames.is_some() { "" } else { "; Ctrl-C to stop" }
    );
    let watched = tokio::select! {
        r = devnet.watch_frames(frames, |line| println!("{line}")) => r.wrap_err("watch frames"),
        r = tokio::signal::ctrl_c() => r.wrap_err("wait for Ctrl-C"),
    };
    println!("stopping");
    if stop_tx.send(true).is_err() {
        tracing::debug!(target: "devnet", "the dashboard already stopped");
    }
    match serve.await {
        Ok(Err(e)) => tracing::warn!(target: "devnet", error = %e, "indexer/API"),
        Err(e) => tracing::warn!(target: "devnet", error = %e, "indexer/API task"),
        Ok(Ok(())) => {}
    }
    devnet.shutdown().await;
    if !persistent && let Err(e) = std::fs::remove_dir_all(&state_dir) {
        tracing::warn!(target: "devnet", error = %e, "remove {}", state_dir.display());
    }
    watched
}

/// `wei` as ether with four decimals (display only).
fn u256_to_decimal(wei: claystack_devnet::alloy::primitives::U256) -> String {
    let unit = claystack_devnet::ether(1);
    let frac = (wei % unit) / (unit / claystack_devnet::alloy::primitives::U256::from(10_000u64));
    format!("{}.{frac:0>4}", wei / unit)
}

/// The indexer, API and dashboard of `claystack serve`, stopped through `stop`.
async fn serve(
    rpc_url: String,
    deployment: PathBuf,
    sqlite: PathBuf,
    listen: SocketAddr,
    frame_seconds: u64,
    trees: Arc<RewardsTrees>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> eyre::Result<()> {
    let source = SourceArgs { rpc_url, deployment, database_url: None, sqlite };
    let follow = FollowArgs { from_block: 0, max_range: 50_000, poll_ms: 1_000 };
    let metrics = Arc::new(IndexerMetrics::default());
    let (mut follower, store) = start(&source, &follow, Arc::clone(&metrics)).await?;
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: Some(metrics),
        frame_seconds: Some(frame_seconds),
    };
    let mut indexer_stop = stop.clone();
    let indexer = tokio::spawn(async move {
        follower
            .run(async move {
                let _closed = indexer_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let mut http_stop = stop;
    let http = HttpArgs { listen, webhook_interval_ms: 2_000 };
    let served = serve_http_with(state, trees, &http, async move {
        let _closed = http_stop.wait_for(|s| *s).await;
    })
    .await;
    indexer.await.wrap_err("join the indexer")?;
    claystack_indexer::close_store(store).await;
    served
}
