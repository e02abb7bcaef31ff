//! `claystack indexer run`: follows the chain into the indexer's store (SQLite by default,
//! PostgreSQL with `--database-url`), optionally serving Prometheus metrics.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use claystack_bindings::Deployment;
use claystack_indexer::{FollowConfig, Follower, IndexerMetrics, decode};
use eyre::Context as _;

/// `claystack indexer …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Follow the chain and index every protocol event of both pools.
    Run(RunArgs),
}

/// Where the index lives and which chain it follows (shared with `api serve` and `serve`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SourceArgs {
    /// Execution-layer JSON-RPC endpoint.
    #[arg(long, env = "CLAYSTACK_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub(crate) rpc_url: String,
    /// Deployment file written by the deploy script.
    #[arg(long, env = "CLAYSTACK_DEPLOYMENT", default_value = "contracts/deployments/31337.json")]
    pub(crate) deployment: PathBuf,
    /// PostgreSQL URL (`postgres://user@host:port/db`, no TLS); SQLite is used when absent.
    #[arg(long, env = "CLAYSTACK_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// SQLite database file (the default store).
    #[arg(long, env = "CLAYSTACK_INDEXER_SQLITE", default_value = "claystack-index.sqlite")]
    pub(crate) sqlite: PathBuf,
}

/// Follower tunables.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FollowArgs {
    /// First block to index when the store is empty.
    #[arg(long, env = "CLAYSTACK_INDEXER_FROM_BLOCK", default_value_t = 0)]
    pub(crate) from_block: u64,
    /// Largest eth_getLogs block range.
    #[arg(long, env = "CLAYSTACK_INDEXER_MAX_RANGE", default_value_t = 50_000)]
    pub(crate) max_range: u64,
    /// Poll interval at the head, in milliseconds.
    #[arg(long, env = "CLAYSTACK_INDEXER_POLL_MS", default_value_t = 1_000)]
    pub(crate) poll_ms: u64,
}

impl FollowArgs {
    pub(crate) fn config(&self) -> FollowConfig {
        FollowConfig {
            start_block: self.from_block,
            max_range: self.max_range.max(1),
            poll_interval: Duration::from_millis(self.poll_ms),
            ..FollowConfig::default()
        }
    }
}

/// Flags of `claystack indexer run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    follow: FollowArgs,
    /// Serve Prometheus metrics at `http://ADDR/metrics`.
    #[arg(long, env = "CLAYSTACK_INDEXER_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
}

/// Runs `claystack indexer …`.
pub(crate) async fn run(cmd: Command) -> eyre::Result<()> {
    match cmd {
        Command::Run(args) => {
            let metrics = Arc::new(IndexerMetrics::default());
            if let Some(addr) = args.metrics_addr {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .wrap_err_with(|| format!("bind metrics address {addr}"))?;
                let router = claystack_api::metrics_router(Arc::clone(&metrics));
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, router).await {
                        tracing::error!(target: "indexer", error = %e, "metrics server");
                    }
                });
                tracing::info!(target: "indexer", %addr, "metrics at /metrics");
            }
            let (follower, store) = start(&args.source, &args.follow, metrics).await?;
            let mut follower = follower;
            follower.run(shutdown_signal()).await;
            claystack_indexer::close_store(store).await;
            Ok(())
        }
    }
}

/// Opens the store and builds a follower for the deployment's contracts.
pub(crate) async fn start(
    source: &SourceArgs,
    follow: &FollowArgs,
    metrics: Arc<IndexerMetrics>,
) -> eyre::Result<(Follower, Arc<std::sync::Mutex<claystack_indexer::Store>>)> {
    let deployment = Deployment::load(&source.deployment).wrap_err("load the deployment file")?;
    let sources = decode::sources(&deployment);
    let addresses = sources.iter().map(|s| s.address).collect();
    let store = claystack_indexer::open_store(
        source.database_url.clone(),
        source.sqlite.clone(),
        sources.clone(),
    )
    .await
    .wrap_err("open the indexer store")?;
    let follower =
        Follower::new(&source.rpc_url, Arc::clone(&store), addresses, follow.config(), metrics)
            .wrap_err("build the follower")?
            .with_bond_checks(&sources);
    tracing::info!(target: "indexer", rpc = %source.rpc_url, "following the chain");
    Ok((follower, store))
}

/// Resolves on Ctrl-C (or immediately if the signal cannot be installed).
pub(crate) async fn shutdown_signal() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(target: "indexer", error = %e, "wait for Ctrl-C");
    }
}
