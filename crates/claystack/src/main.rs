//! The `claystack` binary: argument parsing, tracing set-up and wiring. Protocol logic lives in
//! the library crates under `crates/`; each subcommand module only translates flags into calls.

mod cmd;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// ClayStack: noncustodial Ethereum liquid staking.
#[derive(Debug, Parser)]
#[command(name = "claystack", version, about, long_about = None)]
struct Cli {
    /// Log filter, e.g. `info` or `oracle=debug,info`.
    #[arg(long, global = true, env = "CLAYSTACK_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring the whole system up locally: chain, contracts, beacon simulator, demo lifecycle.
    Devnet(cmd::devnet::Args),
    /// Index protocol events into SQLite or PostgreSQL.
    #[command(subcommand)]
    Indexer(cmd::indexer::Command),
    /// REST API, operator feeds, metrics and dashboard over the index.
    #[command(subcommand)]
    Api(cmd::api::Command),
    /// Indexer + API + dashboard in one process.
    Serve(cmd::serve::Args),
    /// Validator keys: mnemonics, EIP-2335 keystores, deposit data.
    #[command(subcommand)]
    Keys(cmd::keys::Command),
    /// Oracle member: compute, sign and submit each frame's report.
    #[command(subcommand)]
    Oracle(cmd::oracle::Command),
    /// Run the deterministic beacon-chain simulator (serves the standard Beacon API).
    BeaconSim(cmd::beacon_sim::Args),
    /// Web3Signer-compatible remote signer with EIP-3076 slashing protection.
    #[command(subcommand)]
    Signer(cmd::signer::Command),
    /// Distributed validators: threshold BLS key generation, cluster nodes and signing front.
    #[command(subcommand)]
    Dvt(cmd::dvt::Command),
    /// Stake ETH into a pool and receive csETH (or kcsETH with `--pool kyc`).
    Stake(cmd::stake::StakeArgs),
    /// Request a withdrawal through the queue; prints the ticket id.
    Unstake(cmd::stake::UnstakeArgs),
    /// Claim finalized withdrawal tickets; lists pending ones with their position.
    Claim(cmd::stake::ClaimArgs),
    /// Exit instantly from the buffer for a fee (quoted first, slippage-protected).
    FlashExit(cmd::stake::FlashExitArgs),
    /// Balance, rate, tickets and pool figures of an account.
    Status(cmd::stake::StatusArgs),
    /// Permissionless keeper: deposits buffered ETH to ready keys, forces overdue exits.
    #[command(subcommand)]
    Keeper(cmd::keeper::Command),
    /// Node operators: register, keys, bond, status.
    #[command(subcommand)]
    Operator(cmd::operator::Command),
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log)?)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Devnet(args) => cmd::devnet::run(args).await,
            Command::Indexer(c) => cmd::indexer::run(c).await,
            Command::Api(c) => cmd::api::run(c).await,
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Keys(c) => cmd::keys::run(c).await,
            Command::Oracle(c) => cmd::oracle::run(c).await,
            Command::BeaconSim(args) => cmd::beacon_sim::run(args).await,
            Command::Signer(c) => cmd::signer::run(c).await,
            Command::Dvt(c) => cmd::dvt::run(c).await,
            Command::Stake(a) => cmd::stake::stake(a).await,
            Command::Unstake(a) => cmd::stake::unstake(a).await,
            Command::Claim(a) => cmd::stake::claim(a).await,
            Command::FlashExit(a) => cmd::stake::flash_exit(a).await,
            Command::Status(a) => cmd::stake::status(a).await,
            Command::Keeper(c) => cmd::keeper::run(c).await,
            Command::Operator(c) => cmd::operator::run(c).await,
        }
    })
}
