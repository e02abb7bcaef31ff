//! `claystack keys` subcommands: thin wiring around `claystack-keys`.
//!
//! Secrets (mnemonic, keystore password) are read from a file, an environment variable or
//! standard input — never from a command-line argument, which other users can see in `ps`.
//! The only secret ever printed is a new mnemonic, once, by `keys new`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use claystack_consensus::Gwei;
use claystack_keys::deposit::{
    DepositNetwork, MAX_DEPOSIT, MAX_DEPOSIT_COMPOUNDING, MIN_DEPOSIT, VerifyExpectations,
    WithdrawalTarget, parse_execution_address,
};
use claystack_keys::validators::par_map_threads;
use claystack_keys::{
    Kdf, Keystore, Language, Mnemonic, ValidatorKeys, WithdrawalCredentials, deposit_data_for,
    derive_validators, to_deposit_cli_json, verify_deposit_data_json, write_keystore_file,
};
use eyre::{WrapErr, bail, eyre};
use zeroize::Zeroizing;

/// Environment variable holding the mnemonic.
const ENV_MNEMONIC: &str = "CLAYSTACK_MNEMONIC";
/// Environment variable holding the optional BIP-39 passphrase ("25th word").
const ENV_MNEMONIC_PASSPHRASE: &str = "CLAYSTACK_MNEMONIC_PASSPHRASE";
/// Environment variable holding the keystore password.
const ENV_PASSWORD: &str = "CLAYSTACK_KEYSTORE_PASSWORD";
/// Progress is logged every this many keys.
const PROGRESS_EVERY: usize = 100;
/// Keystores encrypted at once: scrypt n = 2^18 takes 256 MiB per thread.
const MAX_KEYSTORE_THREADS: usize = 8;
/// Minimum keystore password length, as the deposit CLI requires.
const MIN_PASSWORD_CHARS: usize = 8;

/// `claystack keys` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new mnemonic and print it once, for you to write down.
    New(NewArgs),
    /// Derive validator signing keys from a mnemonic and write EIP-2335 keystores (mode 0600).
    Derive(DeriveArgs),
    /// Derive validator keys from a mnemonic and write deposit_data-<time>.json.
    DepositData(DepositDataArgs),
    /// Verify a deposit_data-*.json file (signatures, roots, network, amounts, credentials).
    Verify(VerifyArgs),
}

/// BIP-39 word list languages offered for new mnemonics.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LanguageArg {
    /// English.
    English,
    /// Simplified Chinese.
    ChineseSimplified,
    /// Traditional Chinese.
    ChineseTraditional,
    /// Czech.
    Czech,
    /// French.
    French,
    /// Italian.
    Italian,
    /// Japanese.
    Japanese,
    /// Korean.
    Korean,
    /// Portuguese.
    Portuguese,
    /// Spanish.
    Spanish,
}

impl From<LanguageArg> for Language {
    fn from(l: LanguageArg) -> Self {
        match l {
            LanguageArg::English => Self::English,
            LanguageArg::ChineseSimplified => Self::ChineseSimplified,
            LanguageArg::ChineseTraditional => Self::ChineseTraditional,
            LanguageArg::Czech => Self::Czech,
            LanguageArg::French => Self::French,
            LanguageArg::Italian => Self::Italian,
            LanguageArg::Japanese => Self::Japanese,
            LanguageArg::Korean => Self::Korean,
            LanguageArg::Portuguese => Self::Portuguese,
            LanguageArg::Spanish => Self::Spanish,
        }
    }
}

/// Arguments of `keys new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Word list language.
    #[arg(long, value_enum, default_value = "english")]
    language: LanguageArg,
    /// Number of words (12, 15, 18, 21 or 24).
    #[arg(long, default_value_t = 24)]
    words: usize,
}

/// Where the mnemonic comes from: `--mnemonic-file`, else `$CLAYSTACK_MNEMONIC`, else stdin.
#[derive(Debug, Args)]
pub(crate) struct MnemonicArgs {
    /// File holding the mnemonic (else $CLAYSTACK_MNEMONIC, else the first line of stdin).
    #[arg(long, env = "CLAYSTACK_MNEMONIC_FILE")]
    mnemonic_file: Option<PathBuf>,
    /// First validator index (EIP-2334 `m/12381/3600/<index>/0/0`).
    #[arg(long, default_value_t = 0)]
    start: u32,
    /// Number of validators.
    #[arg(long, default_value_t = 1)]
    count: u32,
}

/// Keystore KDF.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KdfArg {
    /// scrypt, n = 2^18 (EIP-2335 default).
    Scrypt,
    /// PBKDF2-HMAC-SHA256, c = 2^18.
    Pbkdf2,
}

/// Arguments of `keys derive`.
#[derive(Debug, Args)]
pub(crate) struct DeriveArgs {
    #[command(flatten)]
    mnemonic: MnemonicArgs,
    /// Directory for the keystores (created if missing).
    #[arg(long, env = "CLAYSTACK_KEYSTORE_DIR", default_value = "validator_keys")]
    out_dir: PathBuf,
    /// File holding the keystore password (else $CLAYSTACK_KEYSTORE_PASSWORD, else stdin).
    #[arg(long, env = "CLAYSTACK_KEYSTORE_PASSWORD_FILE")]
    password_file: Option<PathBuf>,
    /// Keystore key derivation function.
    #[arg(long, value_enum, default_value = "scrypt")]
    kdf: KdfArg,
    /// Use a cheap KDF cost (2^10) for tests and devnets. Never for real keys.
    #[arg(long)]
    insecure_light_kdf: bool,
    /// With --network: also write deposit_data-<time>.json for the same keys.
    #[command(flatten)]
    deposit: DepositArgs,
}

/// What to deposit: network, withdrawal target, amount.
#[derive(Debug, Args)]
pub(crate) struct DepositArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    withdrawal: WithdrawalArgs,
    /// Deposit amount per validator in Gwei.
    #[arg(long, default_value_t = 32_000_000_000)]
    amount_gwei: u64,
}

/// A checked deposit request.
#[derive(Debug)]
struct DepositPlan {
    network: DepositNetwork,
    target: WithdrawalTarget,
    amount: Gwei,
}

impl DepositArgs {
    /// `None` without `--network`; the flags are checked before any secret is read.
    fn plan(&self) -> eyre::Result<Option<DepositPlan>> {
        let Some(network) = self.network.resolve()? else { return Ok(None) };
        let target = self.withdrawal.target()?;
        let amount = Gwei(self.amount_gwei);
        let max = if matches!(target, WithdrawalTarget::Compounding(_)) {
            MAX_DEPOSIT_COMPOUNDING
        } else {
            MAX_DEPOSIT
        };
        if amount < MIN_DEPOSIT || amount > max {
            bail!(
                "--amount-gwei {} is outside {}..={} for these credentials",
                amount.0,
                MIN_DEPOSIT.0,
                max.0
            );
        }
        Ok(Some(DepositPlan { network, target, amount }))
    }
}

/// Withdrawal target and amount flags shared by `deposit-data` and `verify`.
#[derive(Debug, Args)]
pub(crate) struct WithdrawalArgs {
    /// Execution address for 0x01 credentials (EIP-55 checksum checked); 0x00 BLS credentials
    /// from the mnemonic's withdrawal key when absent.
    #[arg(long, env = "CLAYSTACK_WITHDRAWAL_ADDRESS")]
    withdrawal_address: Option<String>,
    /// Use 0x02 compounding credentials for the withdrawal address (EIP-7251).
    #[arg(long, requires = "withdrawal_address")]
    compounding: bool,
}

impl WithdrawalArgs {
    fn target(&self) -> eyre::Result<WithdrawalTarget> {
        Ok(match &self.withdrawal_address {
            None => WithdrawalTarget::Bls,
            Some(a) => {
                let address = parse_execution_address(a).wrap_err("parse withdrawal address")?;
                if self.compounding {
                    WithdrawalTarget::Compounding(address)
                } else {
                    WithdrawalTarget::Execution(address)
                }
            }
        })
    }
}

/// Network selection shared by `deposit-data` and `verify`.
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// Network name: mainnet, holesky, sepolia, hoodi (any name with --fork-version).
    #[arg(long, env = "CLAYSTACK_NETWORK")]
    network: Option<String>,
    /// Genesis fork version (hex) of a custom network such as a devnet.
    #[arg(long, requires = "network")]
    fork_version: Option<String>,
}

impl NetworkArgs {
    fn resolve(&self) -> eyre::Result<Option<DepositNetwork>> {
        let Some(name) = &self.network else { return Ok(None) };
        if let Some(fv) = &self.fork_version {
            let fork_version = claystack_consensus::hexutil::decode_fixed::<4>(fv)
                .wrap_err("parse --fork-version")?;
            return Ok(Some(DepositNetwork { name: name.clone(), fork_version }));
        }
        DepositNetwork::by_name(name).map(Some).ok_or_else(|| {
            eyre!(
                "unknown network {name:?}: use mainnet, holesky, sepolia, hoodi or --fork-version"
            )
        })
    }
}

/// Arguments of `keys deposit-data`.
#[derive(Debug, Args)]
pub(crate) struct DepositDataArgs {
    #[command(flatten)]
    mnemonic: MnemonicArgs,
    #[command(flatten)]
    deposit: DepositArgs,
    /// Directory for deposit_data-<time>.json (created if missing).
    #[arg(long, default_value = "validator_keys")]
    out_dir: PathBuf,
}

/// Arguments of `keys verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The deposit_data-*.json file.
    file: PathBuf,
    #[command(flatten)]
    network: NetworkArgs,
    /// Execution address every deposit must withdraw to (0x01, or 0x02 with --compounding).
    #[arg(long)]
    withdrawal_address: Option<String>,
    /// Expect 0x02 compounding credentials for --withdrawal-address.
    #[arg(long, requires = "withdrawal_address")]
    compounding: bool,
    /// Amount in Gwei every deposit must carry.
    #[arg(long)]
    amount_gwei: Option<u64>,
}

/// Runs a `claystack keys` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    // Everything here is CPU-bound (KDFs, Lamport trees, pairings) or blocking file I/O.
    tokio::task::spawn_blocking(move || match command {
        Command::New(args) => new(&args),
        Command::Derive(args) => derive(&args),
        Command::DepositData(args) => deposit_data(&args),
        Command::Verify(args) => verify(&args),
    })
    .await
    .wrap_err("keys task failed")?
}

fn new(args: &NewArgs) -> eyre::Result<()> {
    let mnemonic = Mnemonic::generate(args.language.into(), args.words)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "This is your mnemonic. Write it down on paper and keep it safe: it is the only way to \
         recover your validator keys, and it will not be shown again.\n"
    )?;
    writeln!(out, "{}\n", mnemonic.expose_phrase())?;
    out.flush()?;
    tracing::info!(target: "keys::new", words = mnemonic.word_count(), language = mnemonic.language().name(), "mnemonic created");
    Ok(())
}

/// Reads secrets from stdin line by line, prompting on a terminal.
struct Stdin {
    lines: std::io::StdinLock<'static>,
}

impl Stdin {
    fn new() -> Self {
        Self { lines: std::io::stdin().lock() }
    }

    fn read_secret(&mut self, what: &str) -> eyre::Result<Zeroizing<String>> {
        if std::io::stdin().is_terminal() {
            let mut err = std::io::stderr().lock();
            write!(err, "enter {what}: ")?;
            err.flush()?;
        }
        // Pre-sized so that reading never reallocates and leaves copies of the secret behind.
        let mut line = Zeroizing::new(String::with_capacity(4096));
        if self.lines.read_line(&mut line)? == 0 {
            bail!("read {what}: standard input is closed");
        }
        Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()))
    }
}

fn read_secret_file(path: &Path, what: &str) -> eyre::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .wrap_err_with(|| format!("read {what} file {}", path.display()))?,
    );
    Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned()))
}

fn env_secret(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name).ok().map(Zeroizing::new)
}

fn read_mnemonic(args: &MnemonicArgs, stdin: &mut Stdin) -> eyre::Result<Mnemonic> {
    let phrase = match (&args.mnemonic_file, env_secret(ENV_MNEMONIC)) {
        (Some(path), _) => read_secret_file(path, "mnemonic")?,
        (None, Some(p)) => p,
        (None, None) => stdin.read_secret("mnemonic")?,
    };
    Mnemonic::parse(&phrase).wrap_err("parse mnemonic")
}

fn seed_of(mnemonic: &Mnemonic) -> Zeroizing<[u8; 64]> {
    let passphrase = env_secret(ENV_MNEMONIC_PASSPHRASE).unwrap_or_default();
    mnemonic.to_seed(&passphrase)
}

fn progress(what: &'static str, total: usize) -> impl Fn(usize) + Sync {
    move |done| {
        if done % PROGRESS_EVERY == 0 || done == total {
            tracing::info!(target: "keys::progress", done, total, "{what}");
        }
    }
}

fn unix_time() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn derive_keys(args: &MnemonicArgs, mnemonic: &Mnemonic) -> eyre::Result<Vec<ValidatorKeys>> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    let seed = seed_of(mnemonic);
    let total = usize::try_from(args.count)?;
    Ok(derive_validators(
        seed.as_slice(),
        args.start,
        args.count,
        &progress("derived keys", total),
    )?)
}

fn derive(args: &DeriveArgs) -> eyre::Result<()> {
    let deposit = args.deposit.plan()?;
    let mut stdin = Stdin::new();
    // Both secrets first (stdin: mnemonic line, then password line), then the slow work.
    let mnemonic = read_mnemonic(&args.mnemonic, &mut stdin)?;
    let password = match (&args.password_file, env_secret(ENV_PASSWORD)) {
        (Some(path), _) => read_secret_file(path, "keystore password")?,
        (None, Some(p)) => p,
        (None, None) => stdin.read_secret("keystore password")?,
    };
    if password.chars().count() < MIN_PASSWORD_CHARS {
        bail!("keystore password must have at least {MIN_PASSWORD_CHARS} characters");
    }
    let keys = derive_keys(&args.mnemonic, &mnemonic)?;
    let cost = if args.insecure_light_kdf { 1 << 10 } else { 1 << 18 };
    std::fs::create_dir_all(&args.out_dir)
        .wrap_err_with(|| format!("create {}", args.out_dir.display()))?;
    let time = unix_time();
    let written = par_map_threads(
        MAX_KEYSTORE_THREADS,
        &keys,
        |k| -> eyre::Result<PathBuf> {
            // A fresh salt per keystore.
            let kdf = match args.kdf {
                KdfArg::Scrypt => Kdf::scrypt(cost),
                KdfArg::Pbkdf2 => Kdf::pbkdf2(cost),
            };
            let path = k.signing_path();
            let ks = Keystore::encrypt(&k.signing, &password, &kdf, &path.to_string(), "")?;
            let file = args.out_dir.join(format!("keystore-{}-{time}.json", path.file_stem()));
            write_keystore_file(&file, &ks)?;
            Ok(file)
        },
        &progress("wrote keystores", keys.len()),
    );
    let written = written.into_iter().collect::<eyre::Result<Vec<_>>>()?;
    tracing::info!(target: "keys::derive", count = written.len(), dir = %args.out_dir.display(), "keystores written");
    let mut out = std::io::stdout().lock();
    for (k, file) in keys.iter().zip(&written) {
        writeln!(out, "{}\t0x{}\t{}", k.index, hex::encode(k.pubkey()), file.display())?;
    }
    if let Some(plan) = &deposit {
        let file = write_deposit_data(&keys, plan, &args.out_dir)?;
        writeln!(out, "{}", file.display())?;
    }
    Ok(())
}

fn deposit_data(args: &DepositDataArgs) -> eyre::Result<()> {
    let plan = args
        .deposit
        .plan()?
        .ok_or_else(|| eyre!("--network is required (mainnet, holesky, sepolia, hoodi)"))?;
    let mnemonic = read_mnemonic(&args.mnemonic, &mut Stdin::new())?;
    let keys = derive_keys(&args.mnemonic, &mnemonic)?;
    let file = write_deposit_data(&keys, &plan, &args.out_dir)?;
    writeln!(std::io::stdout().lock(), "{}", file.display())?;
    Ok(())
}

/// Signs, self-checks and writes `deposit_data-<time>.json`; returns its path.
fn write_deposit_data(
    keys: &[ValidatorKeys],
    plan: &DepositPlan,
    out_dir: &Path,
) -> eyre::Result<PathBuf> {
    let DepositPlan { network, target, amount } = plan;
    let entries =
        deposit_data_for(keys, *target, *amount, network, &progress("signed deposits", keys.len()));
    let json = to_deposit_cli_json(&entries)?;
    // Check what we wrote the way a consumer will.
    let expect_creds = match *target {
        WithdrawalTarget::Bls => None,
        WithdrawalTarget::Execution(a) => Some(WithdrawalCredentials::execution(&a, false)),
        WithdrawalTarget::Compounding(a) => Some(WithdrawalCredentials::execution(&a, true)),
    };
    let expect = VerifyExpectations {
        network: Some(network.clone()),
        withdrawal_credentials: expect_creds,
        amount: Some(*amount),
    };
    verify_deposit_data_json(&json, &expect).wrap_err("self-check of generated deposit data")?;
    std::fs::create_dir_all(out_dir).wrap_err_with(|| format!("create {}", out_dir.display()))?;
    let file = out_dir.join(format!("deposit_data-{}.json", unix_time()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut f = options.open(&file).wrap_err_with(|| format!("create {}", file.display()))?;
    f.write_all(json.as_bytes()).wrap_err_with(|| format!("write {}", file.display()))?;
    f.sync_all().wrap_err_with(|| format!("write {}", file.display()))?;
    tracing::info!(target: "keys::deposit_data", count = entries.len(), network = %network.name, file = %file.display(), "deposit data written");
    Ok(file)
}

fn verify(args: &VerifyArgs) -> eyre::Result<()> {
    let json = std::fs::read_to_string(&args.file)
        .wrap_err_with(|| format!("read {}", args.file.display()))?;
    let withdrawal_credentials = match &args.withdrawal_address {
        None => None,
        Some(a) => Some(WithdrawalCredentials::execution(
            &parse_execution_address(a).wrap_err("parse withdrawal address")?,
            args.compounding,
        )),
    };
    let expect = VerifyExpectations {
        network: args.network.resolve()?,
        withdrawal_credentials,
        amount: args.amount_gwei.map(Gwei),
    };
    let entries = verify_deposit_data_json(&json, &expect)
        .wrap_err_with(|| format!("verify {}", args.file.display()))?;
    let network = entries.first().map_or("", |e| e.network_name.as_str());
    writeln!(
        std::io::stdout().lock(),
        "ok: {} deposits for {network}, signatures and roots valid",
        entries.len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNEMONIC: &str = "test test test test test test test test test test test waste";

    fn vectors_dir() -> PathBuf {
        let dir = std::env::var_os("CLAYSTACK_VECTORS").map_or_else(
            || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors")),
            PathBuf::from,
        );
        assert!(dir.is_dir(), "test vectors not found at {}", dir.display());
        dir
    }

    fn mnemonic_args(dir: &Path, start: u32, count: u32) -> MnemonicArgs {
        let file = dir.join("mnemonic.txt");
        std::fs::write(&file, format!("{MNEMONIC}\n")).unwrap();
        MnemonicArgs { mnemonic_file: Some(file), start, count }
    }

    #[test]
    fn derive_writes_private_keystores_that_decrypt_to_the_derived_keys() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw.txt");
        std::fs::write(&pw, "correct horse battery\n").unwrap();
        let out = dir.path().join("keys");
        let args = DeriveArgs {
            mnemonic: mnemonic_args(dir.path(), 3, 2),
            out_dir: out.clone(),
            password_file: Some(pw),
            kdf: KdfArg::Scrypt,
            insecure_light_kdf: true,
            deposit: DepositArgs {
                network: NetworkArgs { network: Some("hoodi".into()), fork_version: None },
                withdrawal: WithdrawalArgs { withdrawal_address: None, compounding: false },
                amount_gwei: 32_000_000_000,
            },
        };
        derive(&args).unwrap();
        let (deposit, mut files): (Vec<PathBuf>, Vec<PathBuf>) = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .partition(|p| p.file_name().unwrap().to_str().unwrap().starts_with("deposit_data-"));
        files.sort();
        assert_eq!(files.len(), 2);
        // The deposit data written alongside is for the same keys, on hoodi, 0x00 credentials.
        let [deposit] = deposit.try_into().unwrap();
        let entries = verify_deposit_data_json(
            &std::fs::read_to_string(deposit).unwrap(),
            &VerifyExpectations {
                network: DepositNetwork::by_name("hoodi"),
                ..VerifyExpectations::default()
            },
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        let seed = Mnemonic::parse(MNEMONIC).unwrap().to_seed("");
        for (file, index) in files.iter().zip(3u32..) {
            let name = file.file_name().unwrap().to_str().unwrap();
            assert!(name.starts_with(&format!("keystore-m_12381_3600_{index}_0_0-")), "{name}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
            let ks = claystack_keys::read_keystore_file(file).unwrap();
            assert_eq!(ks.path, format!("m/12381/3600/{index}/0/0"));
            let sk = ks.decrypt("correct horse battery").unwrap();
            let expect = claystack_keys::derive_path(
                seed.as_slice(),
                &claystack_keys::KeyPath::signing(index),
            )
            .unwrap();
            assert_eq!(sk.public_key(), expect.public_key());
            let entry = &entries[usize::try_from(index - 3).unwrap()];
            assert_eq!(entry.pubkey, expect.public_key());
            assert_eq!(entry.withdrawal_credentials[0], 0);
        }
    }

    #[test]
    fn short_passwords_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw.txt");
        std::fs::write(&pw, "short\n").unwrap();
        let out = dir.path().join("keys");
        let args = DeriveArgs {
            mnemonic: mnemonic_args(dir.path(), 0, 1),
            out_dir: out.clone(),
            password_file: Some(pw),
            kdf: KdfArg::Pbkdf2,
            insecure_light_kdf: true,
            deposit: DepositArgs {
                network: NetworkArgs { network: None, fork_version: None },
                withdrawal: WithdrawalArgs { withdrawal_address: None, compounding: false },
                amount_gwei: 32_000_000_000,
            },
        };
        let err = derive(&args).unwrap_err();
        assert!(err.to_string().contains("at least 8 characters"), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn deposit_data_matches_the_vector_and_verify_accepts_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = DepositDataArgs {
            mnemonic: mnemonic_args(dir.path(), 0, 2),
            deposit: DepositArgs {
                network: NetworkArgs { network: Some("holesky".into()), fork_version: None },
                withdrawal: WithdrawalArgs {
                    withdrawal_address: Some("0x0f51bb10119727a7e5eA3538074fb341F56B09Ad".into()),
                    compounding: false,
                },
                amount_gwei: 32_000_000_000,
            },
            out_dir: out.clone(),
        };
        deposit_data(&args).unwrap();
        let file = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
        let ours = std::fs::read(&file).unwrap();
        let theirs = std::fs::read(
            vectors_dir().join("deposit-data/holesky_first_0_count_2_eth1_true.json"),
        )
        .unwrap();
        assert_eq!(ours, theirs);

        let verify_args = |network: &str, amount: Option<u64>| VerifyArgs {
            file: file.clone(),
            network: NetworkArgs { network: Some(network.into()), fork_version: None },
            withdrawal_address: None,
            compounding: false,
            amount_gwei: amount,
        };
        verify(&verify_args("holesky", Some(32_000_000_000))).unwrap();
        let err = verify(&verify_args("mainnet", None)).unwrap_err();
        assert!(
            format!("{err:#}").contains("network is \"holesky\", expected \"mainnet\""),
            "{err:#}"
        );
        let err = verify(&verify_args("holesky", Some(1))).unwrap_err();
        assert!(format!("{err:#}").contains("amount"), "{err:#}");
    }

    #[test]
    fn clap_definitions_are_consistent_and_secrets_have_no_flag() {
        use clap::CommandFactory;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Command,
        }
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string()
            + &Cli::command()
                .get_subcommands_mut()
                .map(|c| c.render_long_help().to_string())
                .collect::<String>();
        assert!(help.contains("--mnemonic-file") && help.contains("--password-file"), "{help}");
        assert!(!help.contains("--mnemonic ") && !help.contains("--password "), "{help}");
    }

    #[test]
    fn bad_flags_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let args = DepositDataArgs {
            mnemonic: mnemonic_args(dir.path(), 0, 1),
            deposit: DepositArgs {
                network: NetworkArgs { network: Some("mainnet".into()), fork_version: None },
                withdrawal: WithdrawalArgs { withdrawal_address: None, compounding: false },
                amount_gwei: 33_000_000_000,
            },
            out_dir: dir.path().join("out"),
        };
        assert!(deposit_data(&args).unwrap_err().to_string().contains("--amount-gwei"));
        let bad_checksum = WithdrawalArgs {
            withdrawal_address: Some("0x0f51bb10119727a7e5ea3538074fb341F56B09Ad".into()),
            compounding: false,
        };
        assert!(format!("{:#}", bad_checksum.target().unwrap_err()).contains("eip-55"));
        let unknown = NetworkArgs { network: Some("nowhere".into()), fork_version: None };
        assert!(unknown.resolve().is_err());
        let custom =
            NetworkArgs { network: Some("devnet".into()), fork_version: Some("0x10000038".into()) };
        assert_eq!(custom.resolve().unwrap().unwrap().fork_version, [0x10, 0, 0, 0x38]);
    }
}
