//! `claystack api serve`: the REST API, feeds, webhooks, metrics and dashboard over an existing
//! index (written by `claystack indexer run`, possibly in another process).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use claystack_api::{ApiMetrics, AppState, RewardsTrees};
use claystack_bindings::Deployment;
use claystack_indexer::decode;
use eyre::Context as _;

use super::indexer::{SourceArgs, shutdown_signal};

/// `claystack api …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Serve the REST API and the dashboard.
    Serve(ServeArgs),
}

/// Flags of the HTTP side (shared with `claystack serve`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "CLAYSTACK_API_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Interval between webhook delivery rounds, in milliseconds.
    #[arg(long, env = "CLAYSTACK_WEBHOOK_INTERVAL_MS", default_value_t = 2_000)]
    pub(crate) webhook_interval_ms: u64,
}

/// Where operators' reward allocations come from (shared with `claystack serve`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OracleArgs {
    /// Base URL of an oracle member serving rewards trees (`GET /rewards/tree/{root}`); repeat
    /// the flag or separate URLs by commas to ask several in turn. A tree is used only after it
    /// rebuilds to the indexed on-chain root and total; without one, allocations are served as
    /// unavailable with the reason.
    #[arg(long = "oracle-url", env = "CLAYSTACK_ORACLE_URL", value_delimiter = ',')]
    pub(crate) oracle_urls: Vec<String>,
}

impl OracleArgs {
    /// The member trees of these flags.
    pub(crate) fn trees(&self) -> eyre::Result<Arc<RewardsTrees>> {
        Ok(Arc::new(RewardsTrees::new(&self.oracle_urls).wrap_err("read --oracle-url")?))
    }
}

/// Flags of `claystack api serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    oracle: OracleArgs,
}

/// Runs `claystack api …`.
pub(crate) async fn run(cmd: Command) -> eyre::Result<()> {
    match cmd {
        Command::Serve(args) => {
            let trees = args.oracle.trees()?;
            let deployment =
                Deployment::load(&args.source.deployment).wrap_err("load the deployment file")?;
            let store = claystack_indexer::open_store(
                args.source.database_url.clone(),
                args.source.sqlite.clone(),
                decode::sources(&deployment),
            )
            .await
            .wrap_err("open the indexer store")?;
            let state = AppState {
                store: Arc::clone(&store),
                metrics: Arc::new(ApiMetrics::default()),
                indexer_metrics: None,
                frame_seconds: Some(deployment.frame_seconds()),
            };
            let result = serve_http_with(state, trees, &args.http, shutdown_signal()).await;
            claystack_indexer::close_store(store).await;
            result
        }
    }
}

/// Serves the API (and delivers webhooks) until `shutdown` resolves; reward allocations from the
/// trees of `trees`' oracle members.
pub(crate) async fn serve_http_with(
    state: AppState,
    trees: Arc<RewardsTrees>,
    http: &HttpArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> eyre::Result<()> {
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .wrap_err_with(|| format!("bind {}", http.listen))?;
    let addr = listener.local_addr().wrap_err("read the listen address")?;
    println!("API and dashboard: http://{addr}/");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let hooks = tokio::spawn(claystack_api::webhooks::run_deliveries(
        state.clone(),
        Duration::from_millis(http.webhook_interval_ms.max(100)),
        wait_true(stop_rx),
    ));
    let served = axum::serve(listener, claystack_api::router_with(state, trees))
        .with_graceful_shutdown(shutdown)
        .await
        .wrap_err("serve http");
    if stop_tx.send(true).is_err() {
        tracing::debug!(target: "api", "webhook worker already stopped");
    }
    hooks.await.wrap_err("join the webhook worker")?;
    served
}

async fn wait_true(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
