//! Staker commands: `stake`, `unstake`, `claim`, `flash-exit`, `status`. Flags only; the actions
//! live in `claystack-client`.

use std::path::PathBuf;

use claystack_client::{
    Address, U256, format_eth,
    staker::{Pool, PoolKind, UnstakeAmount},
    tx::TxEvent,
    wallet::{Connection, KeySource, load_signer},
};
use eyre::{Context as _, bail};

/// Which pool to act on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum PoolArg {
    /// The public pool (csETH).
    Public,
    /// The KYC pool (kcsETH); the account needs a KYC attestation.
    Kyc,
}

/// Flags every staker command shares.
#[derive(clap::Args)]
pub(crate) struct Common {
    /// JSON-RPC endpoint of an execution node.
    #[arg(long, env = "CLAYSTACK_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Deployment file naming the contracts.
    #[arg(long, env = "CLAYSTACK_DEPLOYMENT", default_value = "contracts/deployments/31337.json")]
    deployment: PathBuf,
    /// Pool to use.
    #[arg(long, value_enum, default_value = "public")]
    pool: PoolArg,
    /// Private key of the sending account (hex). Prefer the environment variable.
    #[arg(
        long,
        env = "CLAYSTACK_PRIVATE_KEY",
        hide_env_values = true,
        conflicts_with = "keystore"
    )]
    private_key: Option<String>,
    /// Ethereum JSON keystore of the sending account.
    #[arg(long, env = "CLAYSTACK_KEYSTORE")]
    keystore: Option<PathBuf>,
    /// File holding the keystore password (else CLAYSTACK_KEYSTORE_PASSWORD).
    #[arg(long)]
    password_file: Option<PathBuf>,
}

impl std::fmt::Debug for Common {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Common")
            .field("rpc_url", &self.rpc_url)
            .field("deployment", &self.deployment)
            .field("pool", &self.pool)
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("keystore", &self.keystore)
            .finish_non_exhaustive()
    }
}

impl Common {
    fn key_source(&self) -> eyre::Result<Option<KeySource>> {
        if let Some(key) = &self.private_key {
            return Ok(Some(KeySource::PrivateKey(key.clone())));
        }
        let Some(path) = &self.keystore else { return Ok(None) };
        let password = match &self.password_file {
            Some(f) => std::fs::read_to_string(f)
                .wrap_err_with(|| format!("read password file {}", f.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
            None => std::env::var("CLAYSTACK_KEYSTORE_PASSWORD").wrap_err(
                "the keystore needs a password: pass --password-file or set CLAYSTACK_KEYSTORE_PASSWORD",
            )?,
        };
        Ok(Some(KeySource::Keystore { path: path.clone(), password }))
    }

    /// Connects (with the signer when one is configured) and loads the deployment file.
    pub(crate) fn open(&self) -> eyre::Result<(Connection, claystack_client::Deployment)> {
        let signer = self.key_source()?.map(|s| load_signer(&s)).transpose()?;
        let conn = Connection::connect(&self.rpc_url, signer)?;
        let deployment = claystack_client::Deployment::load(&self.deployment)
            .wrap_err_with(|| format!("load deployment {}", self.deployment.display()))?;
        Ok((conn, deployment))
    }

    /// Whether the KYC pool was chosen.
    pub(crate) fn kyc(&self) -> bool {
        matches!(self.pool, PoolArg::Kyc)
    }

    fn connect(&self) -> eyre::Result<(Connection, Pool)> {
        let (conn, deployment) = self.open()?;
        let (addrs, kind) = match self.pool {
            PoolArg::Public => (deployment.public, PoolKind::Public),
            PoolArg::Kyc => match deployment.kyc {
                Some(a) => (a, PoolKind::Kyc),
                None => bail!("{} has no KYC pool", self.deployment.display()),
            },
        };
        let pool = Pool::new(conn.provider.clone(), addrs, kind);
        Ok((conn, pool))
    }
}

fn progress(e: &TxEvent) {
    println!("{e}");
}

fn shares_text(v: U256, token: &str) -> String {
    u128::try_from(v).map_or_else(
        |_| format!("{v} share units"),
        |w| format!("{} {token}", claystack_client::format_ether(claystack_client::Wei(w))),
    )
}

/// Flags of `claystack stake`.
#[derive(Debug, clap::Args)]
pub(crate) struct StakeArgs {
    /// Amount, e.g. `1.5eth`, `0.25 ETH`, `1500000000gwei`, `42wei` or `2` (ETH).
    #[arg(allow_hyphen_values = true)]
    amount: String,
    #[command(flatten)]
    common: Common,
}

/// Runs `claystack stake`.
pub(crate) async fn stake(args: StakeArgs) -> eyre::Result<()> {
    let amount = claystack_client::parse_amount(&args.amount)?;
    let (conn, pool) = args.common.connect()?;
    let from = conn.sender()?;
    println!("staking {} from {from} into the {} pool", format_eth(amount), pool.kind().token());
    let staked = pool.stake(amount, &progress).await?;
    println!("received {}", shares_text(staked.shares, pool.kind().token()));
    Ok(())
}

/// Flags of `claystack unstake`.
#[derive(Debug, clap::Args)]
pub(crate) struct UnstakeArgs {
    /// ETH amount to withdraw through the queue, or `all`.
    #[arg(allow_hyphen_values = true)]
    amount: String,
    #[command(flatten)]
    common: Common,
}

/// Runs `claystack unstake`.
pub(crate) async fn unstake(args: UnstakeArgs) -> eyre::Result<()> {
    let amount = unstake_amount(&args.amount)?;
    let (conn, pool) = args.common.connect()?;
    let owner = conn.sender()?;
    let done = pool.unstake(owner, amount, &progress).await?;
    println!(
        "withdrawal requested: ticket #{} for {} ({})",
        done.ticket,
        format_eth(done.ether),
        shares_text(done.shares, pool.kind().token())
    );
    println!("claim it with `claystack claim {}` once an oracle report finalizes it", done.ticket);
    Ok(())
}

fn unstake_amount(text: &str) -> eyre::Result<UnstakeAmount> {
    Ok(if text.trim().eq_ignore_ascii_case("all") {
        UnstakeAmount::All
    } else {
        UnstakeAmount::Ether(claystack_client::parse_amount(text)?)
    })
}

/// Flags of `claystack claim`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClaimArgs {
    /// Tickets to claim; all of the account's when none is given.
    tickets: Vec<u64>,
    #[command(flatten)]
    common: Common,
}

/// Runs `claystack claim`.
pub(crate) async fn claim(args: ClaimArgs) -> eyre::Result<()> {
    let (conn, pool) = args.common.connect()?;
    let owner = conn.sender()?;
    let ids: Vec<U256> = args.tickets.iter().map(|&t| U256::from(t)).collect();
    let outcome = pool.claim(owner, &ids, &progress).await?;
    for (id, v) in &outcome.claimed {
        println!("claimed ticket #{id}: {}", format_eth(*v));
    }
    for t in &outcome.pending {
        println!("{t}");
    }
    if outcome.claimed.is_empty() && outcome.pending.is_empty() {
        println!("no unclaimed tickets for {owner}");
    }
    Ok(())
}

/// Flags of `claystack flash-exit`.
#[derive(Debug, clap::Args)]
pub(crate) struct FlashExitArgs {
    /// ETH amount to exit instantly from the buffer, or `all`.
    #[arg(allow_hyphen_values = true)]
    amount: String,
    /// Highest fee accepted, in basis points of the amount (the transaction is protected so
    /// that it cannot pay less).
    #[arg(long, default_value_t = 100)]
    max_fee_bps: u64,
    /// Least ETH to receive (on top of the fee cap).
    #[arg(long)]
    min_out: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Runs `claystack flash-exit`.
pub(crate) async fn flash_exit(args: FlashExitArgs) -> eyre::Result<()> {
    let amount = unstake_amount(&args.amount)?;
    let min_out = args.min_out.as_deref().map(claystack_client::parse_amount).transpose()?;
    let (conn, pool) = args.common.connect()?;
    let owner = conn.sender()?;
    let quote = pool.flash_quote(amount, owner).await?;
    println!(
        "quote: {} out, fee {} ({} bps)",
        format_eth(quote.eth_out),
        format_eth(quote.fee),
        quote.fee_bps()
    );
    let done = pool.flash_exit(owner, amount, args.max_fee_bps, min_out, &progress).await?;
    println!(
        "flash exit done: {} burned for at least {}",
        shares_text(done.quote.shares, pool.kind().token()),
        format_eth(done.min_out)
    );
    Ok(())
}

/// Flags of `claystack status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Account to show (default: the signer's).
    address: Option<Address>,
    #[command(flatten)]
    common: Common,
}

/// Runs `claystack status`.
pub(crate) async fn status(args: StatusArgs) -> eyre::Result<()> {
    let (conn, pool) = args.common.connect()?;
    let account = match args.address {
        Some(a) => a,
        None => conn.sender().wrap_err("status needs an address or a signer")?,
    };
    let s = pool.status(account).await?;
    let token = pool.kind().token();
    println!("account      {account}");
    println!("balance      {} ({})", shares_text(s.shares, token), format_eth(s.ether));
    println!("rate         {} per {token}", s.rate_text());
    if s.tickets.is_empty() {
        println!("tickets      none");
    } else {
        println!("tickets");
        for t in &s.tickets {
            println!("  {t}");
        }
    }
    println!("pool ({token})");
    println!("  TVL          {}", format_eth(s.total_pooled));
    println!("  buffer       {}", format_eth(s.buffered));
    println!("  depositable  {}", format_eth(s.depositable));
    println!(
        "  queue        {} requests, finalized up to #{}, {} waiting, {} locked for claims",
        s.last_request_id,
        s.last_finalized_request_id,
        format_eth(s.unfinalized),
        format_eth(s.locked)
    );
    println!("  paused       {}", if s.paused { "yes" } else { "no" });
    Ok(())
}
