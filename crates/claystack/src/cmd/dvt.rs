//! `claystack dvt` subcommands: thin wiring around `claystack-dvt`.
//!
//! Secrets (keystore passwords, API tokens) come from files or environment variables, never from
//! command-line values, which other users can read in `ps`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use claystack_consensus::Gwei;
use claystack_dvt::SecretKey;
use claystack_dvt::cluster::{
    ClusterDescription, CreateParams, create_with_dkg, create_with_split, load_share,
    write_cluster_dir,
};
use claystack_dvt::export::{self, OBOL_GAPS, SSV_GAPS};
use claystack_dvt::front::{Front, FrontConfig, front_state, serve_front};
use claystack_dvt::node::{Node, serve_node};
use claystack_dvt::request::SignerEvaluator;
use claystack_dvt::ssv::{SsvSharePart, ssv_share_part, ssv_shares_data};
use claystack_dvt::threshold::ShareIndex;
use claystack_keys::deposit::{DepositDataJson, DepositNetwork, parse_execution_address};
use claystack_keys::{Kdf, WithdrawalCredentials};
use claystack_slashing::SlashingDatabase;
use eyre::{WrapErr, bail, eyre};
use zeroize::Zeroizing;

/// `claystack dvt` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate a distributed validator in ONE process (tests, devnets): every DKG participant
    /// runs here, so this machine sees every share and must be trusted like a dealer (or split
    /// an existing keystore with `--split`). For real clusters use `claystack dvt dkg`.
    Create(CreateArgs),
    /// Networked DKG: each operator runs its own participant (identity, signed cluster
    /// definition, encrypted and signed messages, broadcast-consistency checks).
    #[command(subcommand)]
    Dkg(DkgCommand),
    /// Run one operator's node: holds one share and its own slashing-protection database, and
    /// signs partial signatures for the cluster's front.
    Node(NodeArgs),
    /// Run the cluster's Web3Signer-compatible signing front (what validator clients talk to).
    Signer(SignerArgs),
    /// Export the cluster's public parts as an Obol-style cluster-lock or an SSV keyshares file.
    Export(ExportArgs),
    /// SSV, on each operator's machine: encrypt this operator's share to its SSV operator RSA
    /// key and sign the ownership message with it; give the part file to `export --ssv-part`.
    SsvShare(SsvShareArgs),
}

/// Arguments of `claystack dvt create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Partial signatures needed to sign (t).
    #[arg(long)]
    threshold: usize,
    /// Base URL of each member's node, in member order (repeat, or comma-separated).
    #[arg(long = "node", required = true, value_delimiter = ',')]
    nodes: Vec<String>,
    /// Share indices of the members (default 1..=n); use SSV operator ids for SSV export.
    #[arg(long, value_delimiter = ',')]
    indices: Vec<u64>,
    /// Output directory (must not contain a previous cluster).
    #[arg(long)]
    out: PathBuf,
    /// Network of the deposit (`mainnet`, `holesky`, `sepolia`, `hoodi`).
    #[arg(long, env = "CLAYSTACK_NETWORK", default_value = "holesky")]
    network: String,
    /// Execution address of the 0x01 withdrawal credentials.
    #[arg(long)]
    withdrawal_address: String,
    /// Deposit amount in Gwei.
    #[arg(long, default_value_t = 32_000_000_000)]
    amount_gwei: u64,
    /// Cluster name.
    #[arg(long, default_value = "claystack-dvt")]
    name: String,
    /// Split this existing EIP-2335 keystore instead of running a DKG. Weaker: whoever held
    /// the key can still sign alone; prefer the DKG for new validators.
    #[arg(long)]
    split: Option<PathBuf>,
    /// File holding the password of the `--split` keystore (or CLAYSTACK_KEYSTORE_PASSWORD).
    #[arg(long)]
    split_password_file: Option<PathBuf>,
    /// Key-derivation function of the share keystores.
    #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
    kdf: KdfArg,
    /// Cheap KDF parameters, for tests and devnets only (the keystores are then easy to brute-force).
    #[arg(long)]
    insecure_fast_kdf: bool,
}

/// Keystore KDFs.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KdfArg {
    /// scrypt (the deposit CLI's default).
    Scrypt,
    /// PBKDF2-SHA256.
    Pbkdf2,
}

/// Arguments of `claystack dvt node`. One node serves this operator's share of every listed
/// validator: give `--cluster`, `--keystore` and `--password-file` once per validator, in the
/// same order (repeat the flag or separate with commas).
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Cluster descriptions (cluster.json), one per validator.
    #[arg(long, env = "CLAYSTACK_DVT_CLUSTER", required = true, value_delimiter = ',')]
    cluster: Vec<PathBuf>,
    /// This operator's share index: once for all validators, or once per validator.
    #[arg(long, env = "CLAYSTACK_DVT_INDEX", required = true, value_delimiter = ',')]
    index: Vec<u64>,
    /// EIP-2335 keystores of this operator's shares, one per validator.
    #[arg(long, env = "CLAYSTACK_DVT_KEYSTORE", required = true, value_delimiter = ',')]
    keystore: Vec<PathBuf>,
    /// Files holding the keystore passwords, one per validator.
    #[arg(long, env = "CLAYSTACK_DVT_PASSWORD_FILE", required = true, value_delimiter = ',')]
    password_file: Vec<PathBuf>,
    /// This node's own slashing-protection database (SQLite; created if missing).
    #[arg(long, env = "CLAYSTACK_DVT_SLASHING_DB")]
    slashing_db: PathBuf,
    /// Address to listen on (default: host and port of this member's address in the first
    /// cluster description).
    #[arg(long, env = "CLAYSTACK_DVT_LISTEN")]
    listen: Option<String>,
    /// Bearer token the front must present (required off loopback).
    #[arg(long, env = "CLAYSTACK_DVT_NODE_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Arguments of `claystack dvt signer`.
#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
    /// Cluster descriptions (cluster.json), one per validator served (same network).
    #[arg(long, env = "CLAYSTACK_DVT_CLUSTER", required = true, value_delimiter = ',')]
    cluster: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CLAYSTACK_DVT_SIGNER_LISTEN", default_value = "127.0.0.1:9000")]
    listen: String,
    /// How long to wait for t valid partial signatures, in milliseconds.
    #[arg(long, env = "CLAYSTACK_DVT_TIMEOUT_MS", default_value_t = 2_000)]
    timeout_ms: u64,
    /// Bearer token presented to the nodes.
    #[arg(long, env = "CLAYSTACK_DVT_NODE_TOKEN", hide_env_values = true)]
    node_token: Option<String>,
    /// Bearer token validator clients must present (required off loopback).
    #[arg(long, env = "CLAYSTACK_DVT_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// The front's own slashing-protection database (optional: every node keeps its own; with
    /// it, slashable requests are refused with 412 before any node is asked).
    #[arg(long, env = "CLAYSTACK_DVT_FRONT_SLASHING_DB")]
    slashing_db: Option<PathBuf>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    /// Obol-style cluster-lock.json (public parts).
    Obol,
    /// SSV keyshares.json (public parts).
    Ssv,
}

/// Arguments of `claystack dvt export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The cluster description (cluster.json).
    #[arg(long, env = "CLAYSTACK_DVT_CLUSTER")]
    cluster: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Deposit data to embed in an Obol lock (default: deposit_data.json beside cluster.json).
    #[arg(long)]
    deposit_data: Option<PathBuf>,
    /// Fee recipient for the Obol lock (default: the withdrawal address).
    #[arg(long)]
    fee_recipient: Option<String>,
    /// SSV cluster owner address.
    #[arg(long)]
    owner_address: Option<String>,
    /// SSV owner nonce.
    #[arg(long, default_value_t = 0)]
    owner_nonce: u64,
    /// SSV operator RSA key, as `ID=BASE64` (repeat per operator).
    #[arg(long = "operator-key")]
    operator_keys: Vec<String>,
    /// SSV share part of each operator (`claystack dvt ssv-share`); with all of them the
    /// export fills `sharesData`.
    #[arg(long = "ssv-part", value_delimiter = ',')]
    ssv_parts: Vec<PathBuf>,
}

/// Arguments of `claystack dvt ssv-share`.
#[derive(Debug, Args)]
pub(crate) struct SsvShareArgs {
    /// The cluster description (cluster.json).
    #[arg(long, env = "CLAYSTACK_DVT_CLUSTER")]
    cluster: PathBuf,
    /// This operator's share index (its SSV operator id).
    #[arg(long, env = "CLAYSTACK_DVT_INDEX")]
    index: u64,
    /// EIP-2335 keystore of this operator's share.
    #[arg(long, env = "CLAYSTACK_DVT_KEYSTORE")]
    keystore: PathBuf,
    /// File holding the keystore password.
    #[arg(long, env = "CLAYSTACK_DVT_PASSWORD_FILE")]
    password_file: PathBuf,
    /// This operator's SSV RSA public key (base64 PEM, as the SSV registry shows it).
    #[arg(long)]
    operator_key: String,
    /// SSV cluster owner address.
    #[arg(long)]
    owner_address: String,
    /// SSV owner nonce.
    #[arg(long, default_value_t = 0)]
    owner_nonce: u64,
    /// Part file to create (must not exist).
    #[arg(long)]
    out: PathBuf,
}

pub(crate) use dkg::DkgCommand;

/// Runs a `claystack dvt` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Create(args) => create(&args),
        Command::Dkg(command) => dkg::run(command).await,
        Command::Node(args) => node(args).await,
        Command::Signer(args) => signer(args).await,
        Command::Export(args) => export_cmd(&args),
        Command::SsvShare(args) => ssv_share(&args),
    }
}

fn read_secret_file(path: &Path) -> eyre::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).wrap_err_with(|| format!("read {}", path.display()))?,
    );
    Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned()))
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn create(args: &CreateArgs) -> eyre::Result<()> {
    let network = DepositNetwork::by_name(&args.network)
        .ok_or_else(|| eyre!("unknown network {:?}", args.network))?;
    let address = parse_execution_address(&args.withdrawal_address)
        .map_err(|e| eyre!("withdrawal address {:?}: {e}", args.withdrawal_address))?;
    let indices: Vec<u64> = if args.indices.is_empty() {
        (1..=u64::try_from(args.nodes.len())?).collect()
    } else {
        args.indices.clone()
    };
    if indices.len() != args.nodes.len() {
        bail!("{} indices for {} nodes", indices.len(), args.nodes.len());
    }
    let members = indices
        .iter()
        .zip(&args.nodes)
        .map(|(i, a)| Ok((ShareIndex::new(*i)?, a.clone())))
        .collect::<eyre::Result<Vec<_>>>()?;
    let params = CreateParams {
        name: args.name.clone(),
        network,
        threshold: args.threshold,
        members,
        withdrawal_credentials: WithdrawalCredentials::execution(&address, false),
        amount: Gwei(args.amount_gwei),
    };
    let mut rng = rand::rngs::OsRng;
    let created = match &args.split {
        None => {
            tracing::warn!(
                target: "dvt::create",
                "all DKG participants run in this process, which sees every share: trust it like \
                 a dealer; use `claystack dvt dkg` for a cluster no single machine could sign for"
            );
            create_with_dkg(&params, &mut rng).wrap_err("run the distributed key generation")?
        }
        Some(path) => {
            tracing::warn!(
                target: "dvt::create",
                keystore = %path.display(),
                "splitting an existing key with a trusted dealer: whoever held it can still sign alone"
            );
            let password = match &args.split_password_file {
                Some(f) => read_secret_file(f)?,
                None => {
                    Zeroizing::new(std::env::var("CLAYSTACK_KEYSTORE_PASSWORD").map_err(|_| {
                        eyre!("--split needs --split-password-file or CLAYSTACK_KEYSTORE_PASSWORD")
                    })?)
                }
            };
            let sk = claystack_keys::decrypt_keystore_file(path, &password)
                .wrap_err_with(|| format!("decrypt {}", path.display()))?;
            let sk = SecretKey::from_bytes(sk.to_bytes().as_slice())?;
            create_with_split(&params, &sk, &mut rng).wrap_err("split the key")?
        }
    };
    let kdf = kdf_of(args.kdf, args.insecure_fast_kdf);
    let files = write_cluster_dir(&args.out, &created, &kdf, &mut rng)
        .wrap_err_with(|| format!("write cluster to {}", args.out.display()))?;
    println!("validator public key: {}", created.description.group_public_key);
    println!(
        "threshold: {} of {} ({:?})",
        created.description.threshold,
        created.description.members.len(),
        created.description.key_generation.method
    );
    println!("cluster description: {}", args.out.join("cluster.json").display());
    println!("deposit data: {}", args.out.join("deposit_data.json").display());
    for f in files {
        println!("node {}: {} (password {})", f.index, f.keystore.display(), f.password.display());
    }
    Ok(())
}

/// `http://host:port/...` → `host:port`.
fn listen_addr_of(url: &str) -> eyre::Result<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap_or(rest);
    if hostport.is_empty() {
        bail!("cannot derive a listen address from {url:?}; pass --listen");
    }
    Ok(hostport.to_owned())
}

async fn shutdown_signal() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!(target: "dvt", error = %e, "listen for ctrl-c");
        std::future::pending::<()>().await;
    }
}

async fn node(args: NodeArgs) -> eyre::Result<()> {
    let n = args.cluster.len();
    if args.keystore.len() != n || args.password_file.len() != n {
        bail!("give one --keystore and one --password-file per --cluster ({n})");
    }
    let indices: Vec<u64> = match args.index.as_slice() {
        [one] => vec![*one; n],
        many if many.len() == n => many.to_vec(),
        _ => bail!("give --index once, or once per --cluster ({n})"),
    };
    let mut shares = Vec::with_capacity(n);
    let mut spec = None;
    let mut default_listen = None;
    for (((cluster, index), keystore), password_file) in
        args.cluster.iter().zip(indices).zip(&args.keystore).zip(&args.password_file)
    {
        let description = ClusterDescription::read(cluster)
            .wrap_err_with(|| format!("read {}", cluster.display()))?;
        let index = ShareIndex::new(index)?;
        let member = description.member(index).ok_or_else(|| {
            eyre!("index {index} is not a member of the cluster in {}", cluster.display())
        })?;
        if default_listen.is_none() {
            default_listen = Some(listen_addr_of(&member.address)?);
        }
        let this_spec = description.network_spec()?;
        if spec.is_some_and(|s: claystack_signer::NetworkSpec| s != this_spec) {
            bail!("{} is for another network than the first cluster", cluster.display());
        }
        spec = Some(this_spec);
        let password = read_secret_file(password_file)?;
        let share = load_share(&description, index, keystore, &password)
            .wrap_err_with(|| format!("load share from {}", keystore.display()))?;
        shares.push((description, share));
    }
    let spec = spec.ok_or_else(|| eyre!("no cluster given"))?;
    let slashing = SlashingDatabase::open(&args.slashing_db)
        .wrap_err_with(|| format!("open slashing database {}", args.slashing_db.display()))?;
    let node = Node::new(shares, slashing, Box::new(SignerEvaluator { spec }))?;
    let Some(listen) = args.listen.or(default_listen) else {
        bail!("no listen address; pass --listen");
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .wrap_err_with(|| format!("listen on {listen}"))?;
    tracing::info!(
        target: "dvt::node",
        addr = %listener.local_addr()?,
        validators = ?node.public_keys(),
        "node ready (partials, /upcheck, /metrics)"
    );
    serve_node(listener, Arc::new(node), args.token, shutdown_signal()).await?;
    Ok(())
}

async fn signer(args: SignerArgs) -> eyre::Result<()> {
    let mut descriptions = Vec::with_capacity(args.cluster.len());
    let mut spec = None;
    for path in &args.cluster {
        let d =
            ClusterDescription::read(path).wrap_err_with(|| format!("read {}", path.display()))?;
        let this_spec = d.network_spec()?;
        if spec.is_some_and(|s: claystack_signer::NetworkSpec| s != this_spec) {
            bail!("{} is for another network than the first cluster", path.display());
        }
        spec = Some(this_spec);
        descriptions.push(d);
    }
    let spec = spec.ok_or_else(|| eyre!("no cluster given"))?;
    let front = Front::new(
        descriptions,
        Box::new(SignerEvaluator { spec }),
        FrontConfig {
            timeout: Duration::from_millis(args.timeout_ms),
            node_token: args.node_token,
        },
    )?;
    let keys = front.public_keys();
    let slashing = match &args.slashing_db {
        Some(path) => Some(Arc::new(
            SlashingDatabase::open(path)
                .wrap_err_with(|| format!("open slashing database {}", path.display()))?,
        )),
        None => None,
    };
    let state = front_state(front, spec, slashing, args.api_token)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .wrap_err_with(|| format!("listen on {}", args.listen))?;
    tracing::info!(
        target: "dvt::front",
        addr = %listener.local_addr()?,
        keys = ?keys,
        "signing front ready (eth2 signing api, /upcheck, /metrics)"
    );
    serve_front(listener, state, shutdown_signal()).await?;
    Ok(())
}

fn export_cmd(args: &ExportArgs) -> eyre::Result<()> {
    let description = ClusterDescription::read(&args.cluster)?;
    let created_at = export::rfc3339_utc(now_unix());
    let json = match args.format {
        ExportFormat::Obol => {
            let path = match &args.deposit_data {
                Some(p) => Some(p.clone()),
                None => {
                    let p = args.cluster.with_file_name("deposit_data.json");
                    p.exists().then_some(p)
                }
            };
            let deposit = match path {
                Some(p) => {
                    let text = std::fs::read_to_string(&p)
                        .wrap_err_with(|| format!("read {}", p.display()))?;
                    let mut entries: Vec<DepositDataJson> = serde_json::from_str(&text)
                        .wrap_err_with(|| format!("parse {}", p.display()))?;
                    let entry = entries.pop().ok_or_else(|| eyre!("{} is empty", p.display()))?;
                    if entry.pubkey != description.group_public_key.to_bytes() {
                        bail!("{} is not the deposit of this cluster's key", p.display());
                    }
                    Some(entry)
                }
                None => None,
            };
            let lock = export::obol_cluster_lock(
                &description,
                deposit.as_ref(),
                args.fee_recipient.as_deref(),
                &created_at,
            )?;
            tracing::warn!(target: "dvt::export", missing = ?OBOL_GAPS, "obol lock: fields left empty (hashed as zeros)");
            serde_json::to_string_pretty(&lock)?
        }
        ExportFormat::Ssv => {
            let owner = args
                .owner_address
                .as_deref()
                .ok_or_else(|| eyre!("--owner-address is required for ssv"))?;
            parse_execution_address(owner).map_err(|e| eyre!("owner address {owner:?}: {e}"))?;
            let mut keys = BTreeMap::new();
            for kv in &args.operator_keys {
                let (id, key) =
                    kv.split_once('=').ok_or_else(|| eyre!("--operator-key wants ID=KEY"))?;
                keys.insert(ShareIndex::new(id.parse()?)?, key.to_owned());
            }
            let shares_data = if args.ssv_parts.is_empty() {
                tracing::warn!(target: "dvt::export", missing = ?SSV_GAPS, "ssv keyshares: fields left empty");
                None
            } else {
                let mut parts = Vec::with_capacity(args.ssv_parts.len());
                for p in &args.ssv_parts {
                    let text = std::fs::read_to_string(p)
                        .wrap_err_with(|| format!("read {}", p.display()))?;
                    parts.push(
                        serde_json::from_str::<SsvSharePart>(&text)
                            .wrap_err_with(|| format!("parse {}", p.display()))?,
                    );
                }
                Some(
                    ssv_shares_data(&description, owner, args.owner_nonce, &parts)
                        .wrap_err("build sharesData from the operators' parts")?,
                )
            };
            let ks = export::ssv_keyshares(
                &description,
                owner,
                args.owner_nonce,
                &keys,
                shares_data,
                &created_at,
            )?;
            serde_json::to_string_pretty(&ks)?
        }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut file =
        options.open(&args.out).wrap_err_with(|| format!("create {}", args.out.display()))?;
    std::io::Write::write_all(&mut file, json.as_bytes())
        .wrap_err_with(|| format!("write {}", args.out.display()))?;
    println!("{}", args.out.display());
    Ok(())
}

fn ssv_share(args: &SsvShareArgs) -> eyre::Result<()> {
    let description = ClusterDescription::read(&args.cluster)?;
    let index = ShareIndex::new(args.index)?;
    let password = read_secret_file(&args.password_file)?;
    let share = load_share(&description, index, &args.keystore, &password)
        .wrap_err_with(|| format!("load share from {}", args.keystore.display()))?;
    let part = ssv_share_part(
        &description,
        &share,
        &args.operator_key,
        &args.owner_address,
        args.owner_nonce,
        &mut rand::rngs::OsRng,
    )
    .wrap_err("build the ssv share part")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut file =
        options.open(&args.out).wrap_err_with(|| format!("create {}", args.out.display()))?;
    std::io::Write::write_all(&mut file, serde_json::to_string_pretty(&part)?.as_bytes())
        .wrap_err_with(|| format!("write {}", args.out.display()))?;
    println!("{}", args.out.display());
    Ok(())
}

fn kdf_of(kdf: KdfArg, insecure_fast: bool) -> Kdf {
    match (kdf, insecure_fast) {
        (KdfArg::Scrypt, false) => Kdf::scrypt_default(),
        (KdfArg::Scrypt, true) => Kdf::scrypt(1 << 10),
        (KdfArg::Pbkdf2, false) => Kdf::pbkdf2_default(),
        (KdfArg::Pbkdf2, true) => Kdf::pbkdf2(1 << 10),
    }
}

/// `claystack dvt dkg`: the networked DKG, one participant per operator.
mod dkg {
    use super::{KdfArg, kdf_of, listen_addr_of};
    use clap::{Args, Subcommand};
    use claystack_dvt::cluster::{CreatedCluster, write_cluster_dir};
    use claystack_dvt::netdkg::{
        self, ClusterDefinition, DefinitionMember, Identity, IdentityPublic, NetDkgConfig,
    };
    use claystack_dvt::threshold::ShareIndex;
    use eyre::{WrapErr, bail, eyre};
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    /// `claystack dvt dkg` subcommands, in the order operators use them.
    #[derive(Debug, Subcommand)]
    pub(crate) enum DkgCommand {
        /// Create this operator's DKG identity (ed25519 signing key + X25519 encryption key):
        /// writes the secret file (0600) and `<out>.pub.json` to share with the other members.
        Identity(IdentityArgs),
        /// Write an (unsigned) cluster definition from the members' public identities.
        Definition(DefinitionArgs),
        /// Sign a cluster definition with this operator's identity (in place). Check the
        /// parameters and members first: the signature is the operator's agreement.
        Sign(SignArgs),
        /// Run this operator's DKG participant; writes its share keystore, the cluster
        /// description and the deposit data.
        Run(RunArgs),
    }

    /// Arguments of `claystack dvt dkg identity`.
    #[derive(Debug, Args)]
    pub(crate) struct IdentityArgs {
        /// Secret identity file to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    }

    /// Arguments of `claystack dvt dkg definition`.
    #[derive(Debug, Args)]
    pub(crate) struct DefinitionArgs {
        /// Partial signatures needed to sign (t).
        #[arg(long)]
        threshold: usize,
        /// Public identity file (`*.pub.json`) of each member, in member order.
        #[arg(long = "operator", required = true, value_delimiter = ',')]
        operators: Vec<PathBuf>,
        /// Base URL of each member's signing node, in member order.
        #[arg(long = "node", required = true, value_delimiter = ',')]
        nodes: Vec<String>,
        /// Base URL of each member's DKG endpoint, in member order.
        #[arg(long = "dkg-address", required = true, value_delimiter = ',')]
        dkg_addresses: Vec<String>,
        /// Share indices of the members (default 1..=n); use SSV operator ids for SSV export.
        #[arg(long, value_delimiter = ',')]
        indices: Vec<u64>,
        /// Network of the deposit.
        #[arg(long, env = "CLAYSTACK_NETWORK", default_value = "holesky")]
        network: String,
        /// Execution address of the 0x01 withdrawal credentials.
        #[arg(long)]
        withdrawal_address: String,
        /// Deposit amount in Gwei.
        #[arg(long, default_value_t = 32_000_000_000)]
        amount_gwei: u64,
        /// Cluster name.
        #[arg(long, default_value = "claystack-dvt")]
        name: String,
        /// Definition file to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    }

    /// Arguments of `claystack dvt dkg sign`.
    #[derive(Debug, Args)]
    pub(crate) struct SignArgs {
        /// The cluster definition (signed in place).
        #[arg(long, env = "CLAYSTACK_DVT_DEFINITION")]
        definition: PathBuf,
        /// This operator's secret identity file.
        #[arg(long, env = "CLAYSTACK_DVT_IDENTITY")]
        identity: PathBuf,
    }

    /// Arguments of `claystack dvt dkg run`.
    #[derive(Debug, Args)]
    pub(crate) struct RunArgs {
        /// The cluster definition, signed by every member.
        #[arg(long, env = "CLAYSTACK_DVT_DEFINITION")]
        definition: PathBuf,
        /// This operator's secret identity file.
        #[arg(long, env = "CLAYSTACK_DVT_IDENTITY")]
        identity: PathBuf,
        /// Address the DKG endpoint listens on (default: host and port of this member's
        /// `dkg_address`).
        #[arg(long, env = "CLAYSTACK_DVT_DKG_LISTEN")]
        listen: Option<String>,
        /// How long to wait for the other members in each round, in seconds.
        #[arg(long, env = "CLAYSTACK_DVT_DKG_ROUND_TIMEOUT", default_value_t = 120)]
        round_timeout_secs: u64,
        /// Output directory: cluster.json, deposit_data.json, node-<index>/keystore.json and
        /// password.txt (must not contain a previous cluster).
        #[arg(long)]
        out: PathBuf,
        /// Key-derivation function of the share keystore.
        #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
        kdf: KdfArg,
        /// Cheap KDF parameters, for tests and devnets only.
        #[arg(long)]
        insecure_fast_kdf: bool,
    }

    /// Runs a `claystack dvt dkg` subcommand.
    pub(crate) async fn run(command: DkgCommand) -> eyre::Result<()> {
        match command {
            DkgCommand::Identity(args) => identity(&args),
            DkgCommand::Definition(args) => definition(&args),
            DkgCommand::Sign(args) => sign(&args),
            DkgCommand::Run(args) => run_dkg(args).await,
        }
    }

    fn write_new(path: &Path, bytes: &[u8], mode: u32) -> eyre::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = options.open(path).wrap_err_with(|| format!("create {}", path.display()))?;
        f.write_all(bytes).wrap_err_with(|| format!("write {}", path.display()))?;
        f.sync_all().wrap_err_with(|| format!("sync {}", path.display()))
    }

    fn public_path(out: &Path) -> PathBuf {
        let mut name = out.file_stem().unwrap_or_default().to_os_string();
        name.push(".pub.json");
        out.with_file_name(name)
    }

    fn identity(args: &IdentityArgs) -> eyre::Result<()> {
        let id = Identity::generate(&mut rand::rngs::OsRng);
        let public = serde_json::to_string_pretty(&id.public())?;
        write_new(&args.out, id.to_json()?.as_bytes(), 0o600)?;
        let pub_path = public_path(&args.out);
        write_new(&pub_path, public.as_bytes(), 0o644)?;
        println!("identity: {} (secret)", args.out.display());
        println!("public identity: {}", pub_path.display());
        println!("{public}");
        Ok(())
    }

    fn definition(args: &DefinitionArgs) -> eyre::Result<()> {
        let n = args.operators.len();
        if args.nodes.len() != n || args.dkg_addresses.len() != n {
            bail!("give one --node and one --dkg-address per --operator ({n})");
        }
        let indices: Vec<u64> = if args.indices.is_empty() {
            (1..=u64::try_from(n)?).collect()
        } else {
            args.indices.clone()
        };
        if indices.len() != n {
            bail!("{} indices for {n} operators", indices.len());
        }
        let mut members = Vec::with_capacity(n);
        for (i, ((index, op), (node, dkg))) in indices
            .iter()
            .zip(&args.operators)
            .zip(args.nodes.iter().zip(&args.dkg_addresses))
            .enumerate()
        {
            let text =
                std::fs::read_to_string(op).wrap_err_with(|| format!("read {}", op.display()))?;
            let identity: IdentityPublic = serde_json::from_str(&text).wrap_err_with(|| {
                format!("parse public identity {} (operator {i})", op.display())
            })?;
            members.push(DefinitionMember {
                index: ShareIndex::new(*index)?,
                node_address: node.clone(),
                dkg_address: dkg.clone(),
                identity,
            });
        }
        let definition = ClusterDefinition {
            version: netdkg::definition::DEFINITION_VERSION,
            name: args.name.clone(),
            network: args.network.clone(),
            threshold: args.threshold,
            withdrawal_address: args.withdrawal_address.clone(),
            amount_gwei: args.amount_gwei,
            session: claystack_dvt::dkg::random_session(&mut rand::rngs::OsRng),
            members,
            signatures: Default::default(),
        };
        definition.check()?;
        netdkg::create_params(&definition)?;
        write_new(&args.out, serde_json::to_string_pretty(&definition)?.as_bytes(), 0o644)?;
        println!("definition: {}", args.out.display());
        println!("definition hash: 0x{}", hex::encode(definition.hash()?));
        Ok(())
    }

    fn sign(args: &SignArgs) -> eyre::Result<()> {
        let id = Identity::read(&args.identity)?;
        let mut definition = ClusterDefinition::read(&args.definition)?;
        netdkg::create_params(&definition)?;
        let index = definition.sign(&id)?;
        let tmp = args.definition.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&definition)?)
            .wrap_err_with(|| format!("write {}", tmp.display()))?;
        std::fs::rename(&tmp, &args.definition)
            .wrap_err_with(|| format!("replace {}", args.definition.display()))?;
        println!("signed as member {index}: definition hash 0x{}", hex::encode(definition.hash()?));
        Ok(())
    }

    async fn run_dkg(args: RunArgs) -> eyre::Result<()> {
        let id = Identity::read(&args.identity)?;
        let definition = ClusterDefinition::read(&args.definition)?;
        definition.verify().wrap_err("check the cluster definition")?;
        let me = definition.member_of(&id)?;
        let member = definition.member(me).ok_or_else(|| eyre!("member {me} vanished"))?;
        let listen = match &args.listen {
            Some(l) => l.clone(),
            None => listen_addr_of(&member.dkg_address)?,
        };
        if args.out.join("cluster.json").exists() {
            bail!("{} already holds a cluster", args.out.display());
        }
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .wrap_err_with(|| format!("listen on {listen}"))?;
        tracing::info!(target: "dvt::dkg", member = %me, addr = %listener.local_addr()?, "dkg participant ready");
        let config = NetDkgConfig::new(Duration::from_secs(args.round_timeout_secs));
        let output = netdkg::run(&definition, &id, listener, &config)
            .await
            .wrap_err("run the networked dkg")?;
        let created = CreatedCluster {
            description: output.description,
            shares: vec![output.share],
            deposit: output.deposit,
        };
        let mut rng = rand::rngs::OsRng;
        let files = write_cluster_dir(
            &args.out,
            &created,
            &kdf_of(args.kdf, args.insecure_fast_kdf),
            &mut rng,
        )
        .wrap_err_with(|| format!("write cluster to {}", args.out.display()))?;
        println!("validator public key: {}", created.description.group_public_key);
        println!(
            "threshold: {} of {} ({:?}, disqualified {:?})",
            created.description.threshold,
            created.description.members.len(),
            created.description.key_generation.method,
            created.description.key_generation.disqualified
        );
        println!("cluster description: {}", args.out.join("cluster.json").display());
        println!("deposit data: {}", args.out.join("deposit_data.json").display());
        for f in files {
            println!(
                "node {}: {} (password {})",
                f.index,
                f.keystore.display(),
                f.password.display()
            );
        }
        Ok(())
    }
}
