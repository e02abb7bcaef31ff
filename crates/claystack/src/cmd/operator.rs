//! `claystack operator …`: registration, keys, bond and status for node operators. Flags only;
//! the actions live in `claystack_client::operator`.

use std::path::PathBuf;

use claystack_client::{
    Address, U256, format_eth, format_ether,
    operator::{
        OperatorKind, Operators, admission_instructions, deposit_data_from_keystores,
        deposit_data_from_mnemonic,
    },
    tx::TxEvent,
};
use claystack_consensus::{Gwei, Wei};
use claystack_keys::DepositNetwork;
use eyre::{Context as _, bail};

use super::stake::Common;

/// Operator commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Register an operator: Home and Dvt post a bond; Professional and Kyc are admitted by governance.
    Register(RegisterArgs),
    /// Validator keys of the operator.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The operator's bond.
    #[command(subcommand)]
    Bond(BondCommand),
    /// Keys by state, bond against requirement, exit requests with deadlines.
    Status(StatusArgs),
    /// Answer exit requests with signed voluntary exits, submitted to the Beacon API.
    Exit(ExitArgs),
    /// Operator rewards: the Merkle-distributed share of the reward fee.
    #[command(subcommand)]
    Rewards(RewardsCommand),
}

/// Rewards commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RewardsCommand {
    /// The on-chain root, what the account claimed, and (with a proof source) what it can claim.
    Status(RewardsArgs),
    /// Fetch the account's proof, verify it against the on-chain root, and claim.
    Claim(RewardsArgs),
}

/// Flags of `claystack operator rewards status|claim`.
#[derive(Debug, clap::Args)]
pub(crate) struct RewardsArgs {
    /// An oracle member's HTTP endpoint (serves `/rewards/proof/{root}/{account}`).
    #[arg(long, env = "CLAYSTACK_ORACLE_URL", conflicts_with = "tree")]
    oracle_url: Option<String>,
    /// A rewards tree JSON file (as members serve it at `/rewards/tree/{root}`).
    #[arg(long)]
    tree: Option<PathBuf>,
    /// The account whose rewards to claim (default: the operator's reward address).
    #[arg(long)]
    account: Option<Address>,
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Flags of `claystack operator exit`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExitArgs {
    /// Keep watching (one round when absent).
    #[arg(long)]
    watch: bool,
    /// Seconds between rounds with `--watch`.
    #[arg(long, default_value_t = 12)]
    poll_seconds: u64,
    /// Beacon API of the consensus node (or the simulator).
    #[arg(long, env = "CLAYSTACK_BEACON_URL", default_value = "http://127.0.0.1:5052")]
    beacon_url: String,
    /// File holding the mnemonic the operator's keys were derived from.
    #[arg(long, conflicts_with = "keystore_dir", required_unless_present = "keystore_dir")]
    mnemonic_file: Option<PathBuf>,
    /// First EIP-2334 validator index of the operator's keys.
    #[arg(long, default_value_t = 0)]
    start_index: u32,
    /// Number of keys derived from the mnemonic.
    #[arg(long, default_value_t = 100)]
    count: u32,
    /// Directory of the operator's EIP-2335 keystores.
    #[arg(long)]
    keystore_dir: Option<PathBuf>,
    /// File with the keystores' password (else CLAYSTACK_VALIDATOR_KEYSTORE_PASSWORD).
    #[arg(long)]
    keystore_password_file: Option<PathBuf>,
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Operator type.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum TypeArg {
    /// Home staker (bond).
    Home,
    /// DVT cluster (bond).
    Dvt,
    /// Professional operator (admitted by governance).
    Professional,
    /// KYC operator (admitted by governance after an attestation).
    Kyc,
}

/// DVT platform.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum PlatformArg {
    /// SSV network.
    Ssv,
    /// Obol.
    Obol,
    /// ClayStack's own threshold signer.
    Native,
}

/// Flags of `claystack operator register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    /// Operator type.
    #[arg(long = "type", value_enum)]
    kind: TypeArg,
    /// Bond to post (Home/Dvt), e.g. `2eth`; the registration minimum when absent.
    #[arg(long)]
    bond: Option<String>,
    /// Where rewards go (default: the signer).
    #[arg(long)]
    reward_address: Option<Address>,
    /// DVT cluster members, comma-separated.
    #[arg(long, value_delimiter = ',')]
    members: Vec<Address>,
    /// DVT threshold (t of n).
    #[arg(long)]
    threshold: Option<u8>,
    /// DVT platform.
    #[arg(long, value_enum, default_value = "native")]
    platform: PlatformArg,
    #[command(flatten)]
    common: Common,
}

/// Key commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate deposit data for the pool's withdrawal credentials and upload the keys.
    Add(KeysAddArgs),
}

/// Flags of `claystack operator keys add`.
#[derive(Debug, clap::Args)]
pub(crate) struct KeysAddArgs {
    /// Number of keys to add.
    #[arg(long)]
    count: u32,
    /// File holding the BIP-39 mnemonic to derive keys from (EIP-2334 paths).
    #[arg(long, conflicts_with = "keystore_dir", required_unless_present = "keystore_dir")]
    mnemonic_file: Option<PathBuf>,
    /// First EIP-2334 validator index derived from the mnemonic.
    #[arg(long, default_value_t = 0)]
    start_index: u32,
    /// Directory of EIP-2335 keystores (the first `--count` by file name are used).
    #[arg(long)]
    keystore_dir: Option<PathBuf>,
    /// File with the keystores' password (else CLAYSTACK_VALIDATOR_KEYSTORE_PASSWORD).
    #[arg(long)]
    keystore_password_file: Option<PathBuf>,
    /// Amount each deposit signature covers: the 1 ETH pre-deposit the deposit flow sends first.
    #[arg(long, default_value = "1eth")]
    deposit_amount: String,
    /// Genesis fork version the deposits are signed for (hex), or a network name.
    #[arg(long, default_value = "0x00000000")]
    fork_version: String,
    /// Also write the deposit data (deposit-CLI JSON) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Bond commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BondCommand {
    /// Add ETH to the bond (held as csETH).
    TopUp(TopUpArgs),
    /// Claim the bond above the requirement.
    ClaimExcess(ClaimExcessArgs),
}

/// Flags of `claystack operator bond top-up`.
#[derive(Debug, clap::Args)]
pub(crate) struct TopUpArgs {
    /// Amount, e.g. `1.3eth`.
    amount: String,
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Flags of `claystack operator bond claim-excess`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClaimExcessArgs {
    /// Shares to claim, as a token amount (all claimable when absent).
    #[arg(long)]
    shares: Option<String>,
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Flags of `claystack operator status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// The operator (default: the one the signer manages).
    #[arg(long)]
    operator_id: Option<u64>,
    #[command(flatten)]
    common: Common,
}

fn progress(e: &TxEvent) {
    println!("{e}");
}

/// Connection, operator contracts and deployment for the chosen pool.
struct Ctx {
    ops: Operators,
    rewards: Option<claystack_client::rewards::Rewards>,
    sender: Option<Address>,
    registry: Address,
    timelock: Address,
    withdrawal_vault: Address,
}

fn open(common: &Common) -> eyre::Result<Ctx> {
    let (conn, d) = common.open()?;
    let kyc = common.kyc();
    let name = |n: &str| {
        if kyc { format!("kyc{}{}", n[..1].to_uppercase(), &n[1..]) } else { n.to_owned() }
    };
    let registry =
        d.address(&name("operatorRegistry")).wrap_err("the deployment has no operator registry")?;
    let bonds = d.address(&name("bondManager")).wrap_err("the deployment has no bond manager")?;
    let withdrawal_vault = if kyc {
        d.kyc.ok_or_else(|| eyre::eyre!("the deployment has no KYC pool"))?.withdrawal_vault
    } else {
        d.public.withdrawal_vault
    };
    let rewards = d
        .address(&name("operatorRewards"))
        .ok()
        .map(|a| claystack_client::rewards::Rewards::new(conn.provider.clone(), a));
    Ok(Ctx {
        ops: Operators::new(conn.provider, registry, bonds),
        rewards,
        sender: conn.account,
        registry,
        timelock: d.timelock,
        withdrawal_vault,
    })
}

impl Ctx {
    fn sender(&self) -> eyre::Result<Address> {
        self.sender.ok_or_else(|| {
            eyre::eyre!("this command sends a transaction: pass --private-key (or CLAYSTACK_PRIVATE_KEY) or --keystore")
        })
    }

    async fn operator_id(&self, given: Option<u64>) -> eyre::Result<U256> {
        if let Some(id) = given {
            return Ok(U256::from(id));
        }
        let manager = self.sender.ok_or_else(|| eyre::eyre!("pass --operator-id or a signer"))?;
        let ids = self.ops.operators_of(manager).await?;
        match ids.as_slice() {
            [id] => Ok(*id),
            [] => bail!("{manager} manages no operator: register first or pass --operator-id"),
            many => bail!("{manager} manages operators {many:?}: pass --operator-id"),
        }
    }
}

/// Runs an operator command.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Register(a) => register(a).await,
        Command::Keys(KeysCommand::Add(a)) => keys_add(a).await,
        Command::Bond(BondCommand::TopUp(a)) => top_up(a).await,
        Command::Bond(BondCommand::ClaimExcess(a)) => claim_excess(a).await,
        Command::Status(a) => status(a).await,
        Command::Exit(a) => exit(a).await,
        Command::Rewards(RewardsCommand::Status(a)) => rewards(a, false).await,
        Command::Rewards(RewardsCommand::Claim(a)) => rewards(a, true).await,
    }
}

async fn register(a: RegisterArgs) -> eyre::Result<()> {
    let ctx = open(&a.common)?;
    let bond = a.bond.as_deref().map(claystack_client::parse_amount).transpose()?;
    match a.kind {
        TypeArg::Professional | TypeArg::Kyc => {
            let kind = if matches!(a.kind, TypeArg::Kyc) {
                OperatorKind::Kyc
            } else {
                OperatorKind::Professional
            };
            let manager =
                ctx.sender.ok_or_else(|| eyre::eyre!("pass a signer: it becomes the manager"))?;
            let reward = a.reward_address.unwrap_or(manager);
            println!(
                "{}",
                admission_instructions(ctx.registry, ctx.timelock, kind, manager, reward)
            );
            Ok(())
        }
        TypeArg::Home => {
            let manager = ctx.sender()?;
            let reward = a.reward_address.unwrap_or(manager);
            let (id, bond, _) = ctx.ops.register_home(reward, bond, &progress).await?;
            println!("registered home operator #{id} with a bond of {}", format_eth(bond));
            Ok(())
        }
        TypeArg::Dvt => {
            let manager = ctx.sender()?;
            let reward = a.reward_address.unwrap_or(manager);
            let Some(threshold) = a.threshold else { bail!("a DVT cluster needs --threshold") };
            if a.members.is_empty() {
                bail!("a DVT cluster needs --members");
            }
            let platform = match a.platform {
                PlatformArg::Ssv => 0,
                PlatformArg::Obol => 1,
                PlatformArg::Native => 2,
            };
            let n = a.members.len();
            let (id, bond, _) = ctx
                .ops
                .register_dvt(a.members, threshold, platform, reward, bond, &progress)
                .await?;
            println!(
                "registered DVT cluster #{id} ({threshold} of {n}) with a bond of {}",
                format_eth(bond)
            );
            Ok(())
        }
    }
}

fn network(fork: &str) -> eyre::Result<DepositNetwork> {
    if let Some(n) = DepositNetwork::by_name(fork) {
        return Ok(n);
    }
    let hex = fork.trim_start_matches("0x");
    let bytes =
        claystack_client::hex_decode(hex).wrap_err("--fork-version: not hex or a network name")?;
    let fork_version: [u8; 4] =
        bytes.try_into().map_err(|_| eyre::eyre!("--fork-version must be 4 bytes"))?;
    Ok(DepositNetwork { name: "devnet".into(), fork_version })
}

async fn keys_add(a: KeysAddArgs) -> eyre::Result<()> {
    let ctx = open(&a.common)?;
    ctx.sender()?;
    let id = ctx.operator_id(a.operator_id).await?;
    let amount = claystack_client::parse_amount(&a.deposit_amount)?;
    let amount = Gwei(
        u64::try_from(amount.0 / 1_000_000_000)
            .map_err(|_| eyre::eyre!("--deposit-amount too large"))?,
    );
    let network = network(&a.fork_version)?;
    let entries = if let Some(file) = &a.mnemonic_file {
        let phrase = zeroize::Zeroizing::new(
            std::fs::read_to_string(file).wrap_err_with(|| format!("read {}", file.display()))?,
        );
        deposit_data_from_mnemonic(
            &phrase,
            a.start_index,
            a.count,
            ctx.withdrawal_vault,
            amount,
            &network,
        )?
    } else {
        let dir = a
            .keystore_dir
            .as_ref()
            .ok_or_else(|| eyre::eyre!("pass --mnemonic-file or --keystore-dir"))?;
        let password = keystore_password(a.keystore_password_file.as_ref())?;
        let mut all =
            deposit_data_from_keystores(dir, &password, ctx.withdrawal_vault, amount, &network)?;
        let count = usize::try_from(a.count)?;
        if all.len() < count {
            bail!("{} holds {} keystores, {count} requested", dir.display(), all.len());
        }
        all.truncate(count);
        all
    };
    println!(
        "{} keys, withdrawal credentials 0x01…{} (the pool's withdrawal vault), deposits of {} gwei signed for fork {}",
        entries.len(),
        ctx.withdrawal_vault,
        amount.0,
        claystack_client::hex_encode(&network.fork_version)
    );
    if let Some(out) = &a.out {
        let json = claystack_keys::to_deposit_cli_json(&entries)?;
        std::fs::write(out, json).wrap_err_with(|| format!("write {}", out.display()))?;
        println!("deposit data written to {}", out.display());
    }
    let txs = ctx.ops.add_keys(id, &entries, &progress).await?;
    println!("added {} keys to operator #{id} in {} transaction(s)", entries.len(), txs.len());
    Ok(())
}

fn keystore_password(file: Option<&PathBuf>) -> eyre::Result<zeroize::Zeroizing<String>> {
    Ok(zeroize::Zeroizing::new(match file {
        Some(f) => std::fs::read_to_string(f)
            .wrap_err_with(|| format!("read {}", f.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
        None => std::env::var("CLAYSTACK_VALIDATOR_KEYSTORE_PASSWORD").wrap_err(
            "pass --keystore-password-file or set CLAYSTACK_VALIDATOR_KEYSTORE_PASSWORD",
        )?,
    }))
}

async fn exit(a: ExitArgs) -> eyre::Result<()> {
    use claystack_client::exits::{ExitOutcome, ExitWatcher, KeyRing};
    let ctx = open(&a.common)?;
    let id = ctx.operator_id(a.operator_id).await?;
    let keys = if let Some(file) = &a.mnemonic_file {
        let phrase = zeroize::Zeroizing::new(
            std::fs::read_to_string(file).wrap_err_with(|| format!("read {}", file.display()))?,
        );
        KeyRing::from_mnemonic(&phrase, a.start_index, a.count)?
    } else {
        let dir = a
            .keystore_dir
            .as_ref()
            .ok_or_else(|| eyre::eyre!("pass --mnemonic-file or --keystore-dir"))?;
        KeyRing::from_keystores(dir, &keystore_password(a.keystore_password_file.as_ref())?)?
    };
    println!(
        "operator #{id}: watching exit requests with {} keys, beacon node {}",
        keys.len(),
        a.beacon_url
    );
    let mut watcher = ExitWatcher::new(ctx.ops, id, &a.beacon_url, keys)?;
    loop {
        match watcher.poll_once().await {
            Ok(outcomes) if outcomes.is_empty() => match watcher.waiting_for_inclusion() {
                0 => println!("no open exit requests"),
                n => println!("{n} submitted exit(s) waiting for inclusion"),
            },
            Ok(outcomes) => {
                for o in outcomes {
                    match o {
                        ExitOutcome::Submitted { key_index, validator_index, deadline } => {
                            println!(
                                "key {key_index}: voluntary exit of validator {validator_index} submitted (deadline unix {deadline})"
                            );
                        }
                        ExitOutcome::Skipped { key_index, reason } => {
                            println!("key {key_index}: not exited: {reason}");
                        }
                    }
                }
            }
            Err(e) if a.watch => println!("exit round failed: {e}"),
            Err(e) => return Err(e.into()),
        }
        if !a.watch {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(a.poll_seconds.max(1))) => {}
            r = tokio::signal::ctrl_c() => {
                r.wrap_err("wait for Ctrl-C")?;
                println!("stopping");
                return Ok(());
            }
        }
    }
}

async fn top_up(a: TopUpArgs) -> eyre::Result<()> {
    let amount = claystack_client::parse_amount(&a.amount)?;
    let ctx = open(&a.common)?;
    ctx.sender()?;
    let id = ctx.operator_id(a.operator_id).await?;
    ctx.ops.top_up(id, amount, &progress).await?;
    println!("bond of operator #{id} topped up by {}", format_eth(amount));
    Ok(())
}

async fn claim_excess(a: ClaimExcessArgs) -> eyre::Result<()> {
    let shares = a
        .shares
        .as_deref()
        .map(claystack_client::parse_amount)
        .transpose()?
        .map(|w| U256::from(w.0));
    let ctx = open(&a.common)?;
    ctx.sender()?;
    let id = ctx.operator_id(a.operator_id).await?;
    let (shares, _) = ctx.ops.claim_excess(id, shares, &progress).await?;
    let shown =
        u128::try_from(shares).map_or_else(|_| shares.to_string(), |s| format_ether(Wei(s)));
    println!("claimed {shown} bond shares of operator #{id}");
    Ok(())
}

async fn status(a: StatusArgs) -> eyre::Result<()> {
    let ctx = open(&a.common)?;
    let id = ctx.operator_id(a.operator_id).await?;
    let s = ctx.ops.status(id).await?;
    println!("operator     #{} ({}){}", s.id, s.kind, if s.stopped { ", STOPPED" } else { "" });
    println!("manager      {}", s.manager);
    println!("rewards to   {}", s.reward_address);
    println!("score        {} bps", s.score);
    println!(
        "keys         {} total, {} vetted limit, {} depositable now",
        s.total_keys, s.vetted_limit, s.depositable
    );
    println!(
        "  by state   {} added, {} pre-deposited, {} confirmed, {} deposited, {} exited, {} stuck, {} front-run",
        s.total_keys.saturating_sub(s.pre_deposited),
        s.pre_deposited.saturating_sub(s.confirmed),
        s.confirmed.saturating_sub(s.deposited.saturating_add(s.front_run)),
        s.deposited,
        s.exited,
        s.stuck,
        s.front_run
    );
    let shown = u128::try_from(s.claimable_shares)
        .map_or_else(|_| s.claimable_shares.to_string(), |v| format_ether(Wei(v)));
    println!(
        "bond         {} (required {}, {}), claimable {shown} shares",
        format_eth(s.bond),
        format_eth(s.required_bond),
        if s.bond >= s.required_bond { "covered" } else { "BELOW REQUIREMENT" }
    );
    if s.exit_requests.is_empty() {
        println!("exit requests none");
    } else {
        println!("exit requests");
        for (key, deadline) in &s.exit_requests {
            println!("  key {key}: exit by unix {deadline}");
        }
    }
    Ok(())
}

fn shares_text(shares: U256) -> String {
    u128::try_from(shares).map_or_else(|_| shares.to_string(), |v| format_ether(Wei(v)))
}

async fn rewards(a: RewardsArgs, claim: bool) -> eyre::Result<()> {
    use claystack_client::rewards::{fetch_proof, proof_from_tree_file};
    let ctx = open(&a.common)?;
    let Some(rewards) = ctx.rewards.as_ref() else {
        bail!("the deployment names no OperatorRewards contract for this pool");
    };
    let account = match a.account {
        Some(acc) => acc,
        None => {
            let id = ctx.operator_id(a.operator_id).await?;
            ctx.ops.status(id).await?.reward_address
        }
    };
    let s = rewards.status(account).await?;
    println!("account      {account}");
    if s.root.is_zero() {
        println!("rewards root none yet: the oracle has not distributed operator rewards");
        if claim {
            return Err(claystack_client::rewards::RewardsError::NoRoot.into());
        }
        return Ok(());
    }
    println!(
        "rewards root {} (report slot {}, {} shares in total)",
        s.root,
        s.ref_slot,
        shares_text(s.cumulative_shares)
    );
    println!("claimed      {} shares", shares_text(s.claimed));
    let proof = match (&a.oracle_url, &a.tree) {
        (Some(url), _) => Some(fetch_proof(url, s.root, account).await?),
        (None, Some(file)) => Some(proof_from_tree_file(file, account)?),
        (None, None) if claim => {
            bail!("claiming needs a proof: pass --oracle-url (or CLAYSTACK_ORACLE_URL) or --tree")
        }
        (None, None) => None,
    };
    let Some(proof) = proof else { return Ok(()) };
    // a member, a man in the middle or a wrong file can hand over a valid proof of another
    // account or of an older root: only `account`'s leaf of the current root is used
    claystack_client::rewards::ensure_proof_is_for(&proof, account, s.root)?;
    if !claim {
        match rewards.check_for(account, &proof).await {
            Ok(claimable) => println!(
                "claimable    {} shares (cumulative {}; proof verified against the on-chain root)",
                shares_text(claimable),
                shares_text(proof.cumulative_shares)
            ),
            Err(claystack_client::rewards::RewardsError::NothingToClaim { .. }) => {
                println!(
                    "claimable    0 shares (all {} claimed)",
                    shares_text(proof.cumulative_shares)
                );
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    ctx.sender()?;
    let (shares, mined) = rewards.claim_for(account, &proof, &progress).await?;
    println!(
        "claimed {} shares for {account} (cumulative {}) in {}",
        shares_text(shares),
        shares_text(proof.cumulative_shares),
        mined.hash
    );
    Ok(())
}
