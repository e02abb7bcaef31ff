//! `claystack serve`: indexer + REST API + dashboard in one process, sharing one store.

use std::time::Duration;

use claystack_api::{StackConfig, run_stack};
use eyre::Context as _;

use super::{
    api::{HttpArgs, OracleArgs},
    indexer::{FollowArgs, SourceArgs, shutdown_signal},
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
    #[command(flatten)]
    oracle: OracleArgs,
}

/// Runs `claystack serve`.
pub(crate) async fn run(args: Args) -> eyre::Result<()> {
    // Refuse a bad --oracle-url before listening.
    args.oracle.trees()?;
    let cfg = StackConfig {
        rpc_url: args.source.rpc_url.clone(),
        deployment: args.source.deployment.clone(),
        database_url: args.source.database_url.clone(),
        sqlite: args.source.sqlite.clone(),
        follow: args.follow.config(),
        webhook_interval: Duration::from_millis(args.http.webhook_interval_ms.max(100)),
        oracle_urls: args.oracle.oracle_urls.clone(),
    };
    let listener = tokio::net::TcpListener::bind(args.http.listen)
        .await
        .wrap_err_with(|| format!("bind {}", args.http.listen))?;
    let addr = listener.local_addr().wrap_err("read the listen address")?;
    println!("API and dashboard: http://{addr}/");
    tracing::info!(target: "serve", rpc = %cfg.rpc_url, oracle_members = cfg.oracle_urls.len(), "following the chain");
    run_stack(cfg, listener, shutdown_signal()).await.wrap_err("run indexer + API")
}
