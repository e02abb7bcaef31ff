//! `claystack keeper run`: the permissionless keeper loop with a Prometheus `/metrics` endpoint.
//! The logic lives in `claystack_client::keeper`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use claystack_client::{
    format_eth,
    keeper::{Keeper, KeeperConfig, RunReport},
    metrics::{self, KeeperMetrics},
};
use eyre::Context as _;

use super::stake::Common;

/// Keeper commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run the keeper: deposit buffered ETH when keys are ready, force overdue exits.
    Run(RunArgs),
}

/// Flags of `claystack keeper run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Seconds between runs.
    #[arg(long, env = "CLAYSTACK_KEEPER_POLL_SECONDS", default_value_t = 12)]
    poll_seconds: u64,
    /// Most keys one deposit call may use.
    #[arg(long, default_value_t = 16)]
    max_keys: u64,
    /// Highest gas price to send at, e.g. `50gwei` (no cap when absent).
    #[arg(long, env = "CLAYSTACK_KEEPER_MAX_GAS_PRICE")]
    max_gas_price: Option<String>,
    /// First block scanned for exit requests.
    #[arg(long, default_value_t = 0)]
    from_block: u64,
    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "CLAYSTACK_KEEPER_METRICS_ADDR", default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,
    /// One run, then exit (no metrics endpoint).
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    common: Common,
}

/// Runs a keeper command.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Run(args) => run_keeper(args).await,
    }
}

fn print_report(r: &RunReport) {
    let o = &r.observation;
    println!(
        "keeper run: depositable {}, depositable keys {}, overdue exits {}, gas price {} wei",
        format_eth(o.depositable),
        o.depositable_keys,
        o.overdue_exits.len(),
        o.gas_price
    );
    for line in &r.done {
        println!("  done: {line}");
    }
    for note in &r.notes {
        println!("  idle: {note}");
    }
}

async fn run_keeper(args: RunArgs) -> eyre::Result<()> {
    let max_gas_price = args
        .max_gas_price
        .as_deref()
        .map(claystack_client::parse_amount)
        .transpose()
        .wrap_err("--max-gas-price")?
        .map(|w| w.0);
    let (conn, deployment) = args.common.open()?;
    conn.sender()?;
    let kyc = args.common.kyc();
    let pool = if kyc {
        deployment.kyc.ok_or_else(|| eyre::eyre!("the deployment has no KYC pool"))?.stake_pool
    } else {
        deployment.public.stake_pool
    };
    let key = |name: &str| {
        if kyc { format!("kyc{}{}", name[..1].to_uppercase(), &name[1..]) } else { name.to_owned() }
    };
    let registry = deployment.address(&key("operatorRegistry")).ok();
    let enforcer = deployment.address(&key("exitEnforcer")).ok();
    let cfg = KeeperConfig {
        max_keys: args.max_keys,
        max_gas_price,
        from_block: args.from_block,
        ..KeeperConfig::default()
    };
    let metrics = Arc::new(KeeperMetrics::default());
    let keeper = Keeper::new(conn.provider, pool, registry, enforcer, cfg, Arc::clone(&metrics));
    if args.once {
        print_report(&keeper.run_once().await);
        return Ok(());
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        // an error means the sender is gone: stop as well
        if rx.wait_for(|s| *s).await.is_err() {
            tracing::debug!(target: "keeper", "stop channel closed");
        }
    };
    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .wrap_err_with(|| format!("bind the metrics endpoint {}", args.metrics_addr))?;
    println!("keeper: metrics on http://{}/metrics", listener.local_addr()?);
    let server = tokio::spawn(metrics::serve_on(listener, metrics, wait_stop(stop_rx.clone())));

    let signal = async {
        shutdown_signal().await;
        println!("keeper: stopping");
    };
    keeper.run(Duration::from_secs(args.poll_seconds.max(1)), signal, print_report).await;
    stop_tx.send_replace(true);
    server.await.wrap_err("join the metrics server")?.wrap_err("serve metrics")?;
    println!("keeper: stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(target: "keeper", error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => if let Err(e) = r {
            tracing::warn!(target: "keeper", error = %e, "cannot listen for Ctrl-C");
        },
        () = term => {}
    }
}
