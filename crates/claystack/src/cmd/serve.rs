//! `claystack serve`: indexer + REST API + dashboard in one process, sharing one store.

use std::sync::Arc;

use claystack_api::{ApiMetrics, AppState};
use claystack_bindings::Deployment;
use claystack_indexer::IndexerMetrics;
use eyre::Context as _;

use super::{
    api::{HttpArgs, serve_http},
    indexer::{FollowArgs, SourceArgs, shutdown_signal, start},
};

/// Flags of `claystack serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    follow: FollowArgs,
    #[command(flatten)]
    http: HttpArgs,
}

/// Runs `claystack serve`.
pub(crate) async fn run(args: Args) -> eyre::Result<()> {
    let deployment =
        Deployment::load(&args.source.deployment).wrap_err("load the deployment file")?;
    let metrics = Arc::new(IndexerMetrics::default());
    let (mut follower, store) = start(&args.source, &args.follow, Arc::clone(&metrics)).await?;
    let state = AppState {
        store: Arc::clone(&store),
        metrics: Arc::new(ApiMetrics::default()),
        indexer_metrics: Some(metrics),
        frame_seconds: Some(deployment.frame_seconds()),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(async move {
        let mut rx = stop_rx;
        follower
            .run(async move {
                while !*rx.borrow() {
                    if rx.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await;
    });
    let served = serve_http(state, &args.http, shutdown_signal()).await;
    if stop_tx.send(true).is_err() {
        tracing::debug!(target: "serve", "indexer already stopped");
    }
    indexer.await.wrap_err("join the indexer")?;
    claystack_indexer::close_store(store).await;
    served
}
