//! `claystack signer` subcommands: wiring around `claystack-signer` and `claystack-slashing`.
//!
//! Secrets (keystore passwords, the bearer token) are read from files, never from arguments
//! that other users can see in `ps`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use claystack_consensus::{Epoch, hexutil};
use claystack_signer::{
    LocalKeystoreBackend, NetworkSpec, PasswordSource, SignerState, SigningBackend, check_bind,
    load_keystores_dir,
};
use claystack_slashing::{Interchange, SlashingDatabase};
use eyre::{WrapErr, bail, eyre};

/// `claystack signer` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the Web3Signer-compatible eth2 signing API over EIP-2335 keystores.
    Run(Box<RunArgs>),
    /// Merge an EIP-3076 interchange file (v5) into the slashing protection database.
    ImportSlashing(ImportArgs),
    /// Write the slashing protection database as an EIP-3076 interchange file (v5).
    ExportSlashing(ExportArgs),
}

/// Flags of `claystack signer run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Address to listen on; anything but loopback requires `--auth-token-file`.
    #[arg(long, env = "CLAYSTACK_SIGNER_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Directory of EIP-2335 keystores (`*.json`).
    #[arg(long, env = "CLAYSTACK_SIGNER_KEYSTORES_DIR")]
    keystores_dir: PathBuf,
    /// Directory with one `<keystore file stem>.txt` password file per keystore.
    #[arg(long, env = "CLAYSTACK_SIGNER_PASSWORDS_DIR", conflicts_with = "password_file")]
    passwords_dir: Option<PathBuf>,
    /// One password file for every keystore.
    #[arg(long, env = "CLAYSTACK_SIGNER_PASSWORD_FILE")]
    password_file: Option<PathBuf>,
    /// File holding the bearer token clients must send (`Authorization: Bearer …`).
    #[arg(long, env = "CLAYSTACK_SIGNER_AUTH_TOKEN_FILE")]
    auth_token_file: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

/// The slashing protection database.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// SQLite slashing protection database (created if missing; locked while in use).
    #[arg(long, env = "CLAYSTACK_SIGNER_SLASHING_DB")]
    slashing_db: PathBuf,
}

/// Network parameters: a known network, optionally overridden field by field (devnets).
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// Network: mainnet, holesky, sepolia or hoodi.
    #[arg(long, env = "CLAYSTACK_NETWORK", default_value = "mainnet")]
    network: String,
    /// Override `GENESIS_FORK_VERSION` (0x-hex, 4 bytes).
    #[arg(long, env = "CLAYSTACK_GENESIS_FORK_VERSION")]
    genesis_fork_version: Option<String>,
    /// Override `CAPELLA_FORK_VERSION` (0x-hex, 4 bytes).
    #[arg(long, env = "CLAYSTACK_CAPELLA_FORK_VERSION")]
    capella_fork_version: Option<String>,
    /// Override `DENEB_FORK_EPOCH`.
    #[arg(long, env = "CLAYSTACK_DENEB_FORK_EPOCH")]
    deneb_fork_epoch: Option<u64>,
    /// Override `SLOTS_PER_EPOCH`.
    #[arg(long, env = "CLAYSTACK_SLOTS_PER_EPOCH")]
    slots_per_epoch: Option<u64>,
    /// Pin the slashing database to this genesis validators root (0x-hex) before serving;
    /// otherwise the first signed block or attestation pins it.
    #[arg(long, env = "CLAYSTACK_GENESIS_VALIDATORS_ROOT")]
    genesis_validators_root: Option<String>,
}

impl NetworkArgs {
    fn spec(&self) -> eyre::Result<NetworkSpec> {
        let mut spec = NetworkSpec::by_name(&self.network)
            .ok_or_else(|| eyre!("unknown network {:?}", self.network))?;
        if let Some(v) = &self.genesis_fork_version {
            spec.genesis_fork_version =
                hexutil::decode_fixed(v).wrap_err("parse --genesis-fork-version")?;
        }
        if let Some(v) = &self.capella_fork_version {
            spec.capella_fork_version =
                hexutil::decode_fixed(v).wrap_err("parse --capella-fork-version")?;
        }
        if let Some(e) = self.deneb_fork_epoch {
            spec.deneb_fork_epoch = Epoch(e);
        }
        if let Some(s) = self.slots_per_epoch {
            if s == 0 {
                bail!("--slots-per-epoch must be positive");
            }
            spec.slots_per_epoch = s;
        }
        Ok(spec)
    }
}

/// Flags of `claystack signer import-slashing`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The interchange file to merge.
    #[arg(long)]
    file: PathBuf,
}

/// Flags of `claystack signer export-slashing`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Where to write the interchange file (`-` for standard output).
    #[arg(long)]
    file: PathBuf,
}

/// Runs a `claystack signer` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Run(args) => run_signer(*args).await,
        Command::ImportSlashing(args) => import(&args),
        Command::ExportSlashing(args) => export(&args),
    }
}

fn open_db(args: &DbArgs) -> eyre::Result<SlashingDatabase> {
    SlashingDatabase::open(&args.slashing_db).wrap_err_with(|| {
        format!("open slashing protection database {}", args.slashing_db.display())
    })
}

fn read_token(path: &Path) -> eyre::Result<String> {
    let token = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("read auth token file {}", path.display()))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("auth token file {} is empty", path.display());
    }
    Ok(token)
}

async fn run_signer(args: RunArgs) -> eyre::Result<()> {
    let spec = args.network.spec()?;
    let token = args.auth_token_file.as_deref().map(read_token).transpose()?;
    // Refuse before decrypting anything.
    check_bind(args.listen, token.as_deref())?;
    let passwords = match (args.passwords_dir, args.password_file) {
        (Some(d), None) => PasswordSource::Dir(d),
        (None, Some(f)) => PasswordSource::File(f),
        _ => bail!("give exactly one of --passwords-dir and --password-file"),
    };
    let keystores_dir = args.keystores_dir;
    tracing::info!(target: "signer", dir = %keystores_dir.display(), "decrypting keystores");
    let keys = tokio::task::spawn_blocking(move || load_keystores_dir(&keystores_dir, &passwords))
        .await??;
    let backend = LocalKeystoreBackend::from_secret_keys(keys);
    let db = Arc::new(open_db(&args.db)?);
    if let Some(root) = &args.network.genesis_validators_root {
        let root = hexutil::decode_fixed(root).wrap_err("parse --genesis-validators-root")?;
        db.pin_genesis_validators_root(root).wrap_err("pin genesis validators root")?;
    }
    let count = backend.public_keys().len();
    let state = Arc::new(SignerState::new(backend, db, spec)?.with_auth_token(token));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .wrap_err_with(|| format!("listen on {}", args.listen))?;
    tracing::info!(
        target: "signer",
        listen = %listener.local_addr()?,
        keys = count,
        network = spec.name,
        "serving eth2 signing api, /upcheck and /metrics"
    );
    claystack_signer::serve(listener, state, shutdown_signal()).await?;
    tracing::info!(target: "signer", "stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(target: "signer", error = %e, "listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(target: "signer", error = %e, "listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn import(args: &ImportArgs) -> eyre::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .wrap_err_with(|| format!("read interchange file {}", args.file.display()))?;
    let interchange = Interchange::from_json_str(&text)
        .wrap_err_with(|| format!("read interchange file {}", args.file.display()))?;
    let db = open_db(&args.db)?;
    let summary = db.import_interchange(&interchange).wrap_err("import interchange")?;
    tracing::info!(
        target: "signer::slashing",
        validators = summary.validators,
        blocks_added = summary.blocks_added,
        attestations_added = summary.attestations_added,
        "imported interchange"
    );
    Ok(())
}

fn export(args: &ExportArgs) -> eyre::Result<()> {
    let db = open_db(&args.db)?;
    let json = db.export_interchange().wrap_err("export interchange")?.to_json_string()?;
    if args.file.as_os_str() == "-" {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(json.as_bytes())?;
        out.write_all(b"\n")?;
    } else {
        std::fs::write(&args.file, json)
            .wrap_err_with(|| format!("write interchange file {}", args.file.display()))?;
    }
    Ok(())
}
