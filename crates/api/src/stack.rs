//! The whole transparency stack in one call — indexer, REST API, webhooks, dashboard over one
//! store — for `claystack serve` and for embedding (the devnet).

use std::{path::PathBuf, sync::Arc, time::Duration};

use claystack_bindings::{Deployment, DeploymentError};
use claystack_indexer::{
    FollowConfig, FollowError, Follower, IndexerMetrics, StoreError, decode, open_store,
};

use crate::{
    ApiMetrics, AppState, router_with,
    trees::{RewardsTrees, TreesConfigError},
    webhooks,
};

/// Where the stack reads the chain and keeps its index.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Execution-layer JSON-RPC endpoint.
    pub rpc_url: String,
    /// The deployment file.
    pub deployment: PathBuf,
    /// PostgreSQL URL; SQLite at `sqlite` when absent.
    pub database_url: Option<String>,
    /// SQLite database file.
    pub sqlite: PathBuf,
    /// Follower tunables.
    pub follow: FollowConfig,
    /// Interval between webhook delivery rounds.
    pub webhook_interval: Duration,
    /// Base URLs of oracle members serving rewards trees (`GET /rewards/tree/{root}`); empty:
    /// operators' reward allocations are served as unavailable.
    pub oracle_urls: Vec<String>,
}

/// Why the stack stopped.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// The deployment file is unusable.
    #[error("load the deployment file: {0}")]
    Deployment(#[from] DeploymentError),
    /// The store could not be opened.
    #[error("open the indexer store: {0}")]
    Store(#[from] StoreError),
    /// The follower could not be built.
    #[error("build the follower: {0}")]
    Follow(#[from] FollowError),
    /// An oracle member URL is unusable.
    #[error(transparent)]
    OracleUrl(#[from] TreesConfigError),
    /// The HTTP server failed.
    #[error("serve http: {0}")]
    Serve(#[from] std::io::Error),
    /// A background task panicked.
    #[error("join {0}")]
    Join(String),
}

/// Resolves once `rx` turns true (or its sender is gone).
async fn until_true(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Runs the indexer, the API (on `listener`) and the webhook worker until `shutdown` resolves.
pub async fn run_stack(
    cfg: StackConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StackError> {
    let trees = Arc::new(RewardsTrees::new(&cfg.oracle_urls)?);
    let deployment = Deployment::load(&cfg.deployment)?;
    let sources = decode::sources(&deployment);
    let addresses = sources.iter().map(|s| s.address).collect();
    let store = open_store(cfg.database_url.clone(), cfg.sqlite.clone(), sources.clone()).await?;
    let metrics = Arc::new(IndexerMetrics::default());
    let mut follower = Follower::new(
        &cfg.rpc_url,
        Arc::clone(&store),
        addresses,
        cfg.follow.clone(),
        Arc::clone(&metrics),
    )?
    .with_bond_checks(&sources);
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: Some(metrics),
        frame_seconds: Some(deployment.frame_seconds()),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let indexer_stop = until_true(stop_rx.clone());
    let indexer = tokio::spawn(async move { follower.run(indexer_stop).await });
    let hooks = tokio::spawn(webhooks::run_deliveries(
        state.clone(),
        cfg.webhook_interval,
        until_true(stop_rx),
    ));
    let served =
        axum::serve(listener, router_with(state, trees)).with_graceful_shutdown(shutdown).await;
    if stop_tx.send(true).is_err() {
        tracing::debug!(target: "api", "background tasks already stopped");
    }
    indexer.await.map_err(|e| StackError::Join(format!("indexer: {e}")))?;
    hooks.await.map_err(|e| StackError::Join(format!("webhooks: {e}")))?;
    claystack_indexer::close_store(store).await;
    served.map_err(StackError::from)
}
