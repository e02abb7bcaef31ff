//! Where signatures come from: the [`SigningBackend`] trait, and its local implementation over
//! keys decrypted from EIP-2335 keystores.

use crate::{
    messages::{PublicKeyBytes, SignatureBytes},
    request::{SignRequest, SigningPlan},
};
use claystack_consensus::{Root, hexutil::encode_prefixed};
use claystack_keys::{KeystoreError, SecretKey};
use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
};
use zeroize::Zeroizing;

/// Why a backend could not sign.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend has no key for this public key.
    #[error("no key for public key {}", encode_prefixed(.0))]
    UnknownKey(PublicKeyBytes),
    /// The backend could not produce a signature now (e.g. a threshold cluster without quorum).
    #[error("signing backend unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Produces BLS signatures over signing roots. The HTTP layer does everything else (parsing,
/// signing-root computation, slashing protection) before calling [`SigningBackend::sign`].
pub trait SigningBackend: Send + Sync + 'static {
    /// Public keys this backend signs for.
    fn public_keys(&self) -> Vec<PublicKeyBytes>;

    /// Whether this backend signs for `pubkey`.
    fn has_key(&self, pubkey: &PublicKeyBytes) -> bool {
        self.public_keys().contains(pubkey)
    }

    /// Signs `signing_root` with the key of `pubkey` (ciphersuite
    /// `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`).
    fn sign(
        &self,
        pubkey: &PublicKeyBytes,
        signing_root: Root,
    ) -> impl Future<Output = Result<SignatureBytes, BackendError>> + Send;

    /// Signs with the whole request at hand, after the signing root was computed and the
    /// slashing check passed. A threshold-cluster front overrides this to forward the typed
    /// request to its nodes, which recompute the root and run their own slashing protection
    /// before releasing a partial signature. The default signs the root.
    fn sign_with_context(
        &self,
        pubkey: &PublicKeyBytes,
        plan: &SigningPlan,
        _request: &SignRequest,
    ) -> impl Future<Output = Result<SignatureBytes, BackendError>> + Send {
        self.sign(pubkey, plan.signing_root)
    }

    /// Backend-specific Prometheus series appended to the signer's `GET /metrics` (text format
    /// 0.0.4). A threshold-cluster front reports its fan-out and combination here.
    fn render_metrics(&self) -> String {
        String::new()
    }
}

/// Keys held in this process.
#[derive(Debug, Default)]
pub struct LocalKeystoreBackend {
    keys: HashMap<PublicKeyBytes, SecretKey>,
    /// Public keys in load order (stable `publicKeys` output).
    order: Vec<PublicKeyBytes>,
}

impl LocalKeystoreBackend {
    /// A backend over the given secret keys (duplicates are kept once).
    #[must_use]
    pub fn from_secret_keys(keys: impl IntoIterator<Item = SecretKey>) -> Self {
        let mut out = Self::default();
        for sk in keys {
            let pk = sk.public_key();
            if out.keys.insert(pk, sk).is_none() {
                out.order.push(pk);
            }
        }
        out
    }

    /// Signs synchronously (the async trait method only wraps this).
    pub fn sign_now(
        &self,
        pubkey: &PublicKeyBytes,
        signing_root: &Root,
    ) -> Result<SignatureBytes, BackendError> {
        let sk = self.keys.get(pubkey).ok_or(BackendError::UnknownKey(*pubkey))?;
        Ok(sk.sign(signing_root))
    }
}

impl SigningBackend for LocalKeystoreBackend {
    fn public_keys(&self) -> Vec<PublicKeyBytes> {
        self.order.clone()
    }

    fn has_key(&self, pubkey: &PublicKeyBytes) -> bool {
        self.keys.contains_key(pubkey)
    }

    async fn sign(
        &self,
        pubkey: &PublicKeyBytes,
        signing_root: Root,
    ) -> Result<SignatureBytes, BackendError> {
        self.sign_now(pubkey, &signing_root)
    }
}

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// A directory or password file could not be read.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A keystore has no password file next to the others.
    #[error("no password for keystore {}: expected {}", keystore.display(), password.display())]
    MissingPassword {
        /// The keystore.
        keystore: PathBuf,
        /// Where its password was looked for.
        password: PathBuf,
    },
    /// A keystore could not be decrypted.
    #[error("decrypt keystore {}: {source}", path.display())]
    Keystore {
        /// The keystore.
        path: PathBuf,
        /// Why.
        source: KeystoreError,
    },
    /// No keystore was found.
    #[error("no keystore (*.json) in {}", .0.display())]
    Empty(PathBuf),
}

/// Where the keystore passwords are.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// One password file for every keystore.
    File(PathBuf),
    /// A directory holding `<keystore file stem>.txt` per keystore (Web3Signer's bulk layout).
    Dir(PathBuf),
}

/// Reads a password file: its content without one trailing newline, zeroized on drop.
pub fn read_password_file(path: &Path) -> Result<Zeroizing<String>, KeyLoadError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        KeyLoadError::Io { action: "read password file", path: path.to_owned(), source }
    })?);
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    Ok(Zeroizing::new(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()))
}

/// Decrypts every `*.json` keystore in `dir` (EIP-2335), in file-name order.
pub fn load_keystores_dir(
    dir: &Path,
    passwords: &PasswordSource,
) -> Result<Vec<SecretKey>, KeyLoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| KeyLoadError::Io {
        action: "read keystore directory",
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| KeyLoadError::Io {
                action: "read keystore directory",
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(KeyLoadError::Empty(dir.to_owned()));
    }
    let shared = match passwords {
        PasswordSource::File(f) => Some(read_password_file(f)?),
        PasswordSource::Dir(_) => None,
    };
    // Resolve every password first (cheap, and a missing file fails before any KDF runs).
    let mut jobs = Vec::with_capacity(files.len());
    for path in files {
        let password = match (&shared, passwords) {
            (Some(p), _) => p.clone(),
            (None, PasswordSource::Dir(d)) => {
                let stem = path.file_stem().unwrap_or_default();
                let mut name = stem.to_owned();
                name.push(".txt");
                let pw = d.join(name);
                if !pw.is_file() {
                    return Err(KeyLoadError::MissingPassword { keystore: path, password: pw });
                }
                read_password_file(&pw)?
            }
            (None, PasswordSource::File(f)) => read_password_file(f)?,
        };
        jobs.push((path, password));
    }
    // scrypt (2^18) costs about a second and 256 MiB per key: decrypt on every core, bounded.
    let results = claystack_keys::validators::par_map_threads(
        MAX_DECRYPT_THREADS,
        &jobs,
        |(path, password)| {
            claystack_keys::decrypt_keystore_file(path, password)
                .map_err(|source| KeyLoadError::Keystore { path: path.clone(), source })
        },
        &|_| {},
    );
    results.into_iter().collect()
}

/// Keystores decrypted at once (bounds scrypt's memory to about 2 GiB).
const MAX_DECRYPT_THREADS: usize = 8;
