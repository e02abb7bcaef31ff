//! EIP-2335 keystores (version 4): scrypt or PBKDF2-HMAC-SHA256 key derivation, AES-128-CTR,
//! SHA-256 checksum; reading, writing and decrypting, with parameter bounds so that a hostile
//! keystore cannot make a decryption exhaust memory or time.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes::cipher::{KeyIvInit, StreamCipher};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::bls::{BlsError, SecretKey};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// The keystore version this module reads and writes.
pub const VERSION: u32 = 4;
/// EIP-2335's scrypt `n` (2^18), the default for new keystores.
pub const DEFAULT_SCRYPT_N: u32 = 262_144;
/// EIP-2335's PBKDF2 iteration count (2^18).
pub const DEFAULT_PBKDF2_C: u32 = 262_144;
/// Largest scrypt working set accepted when decrypting (`128·r·n` bytes): 1 GiB.
pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// Largest PBKDF2 iteration count accepted when decrypting.
pub const MAX_PBKDF2_C: u32 = 1 << 24;
/// Largest salt accepted when decrypting, in bytes.
const MAX_SALT_LEN: usize = 1024;
/// Derived key length: 16 bytes of AES key and 16 bytes of checksum key.
const DKLEN: usize = 32;

/// Why a keystore could not be read, written or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`read keystore`, `write keystore`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not a keystore JSON document.
    #[error("parse keystore json: {0}")]
    Json(#[from] serde_json::Error),
    /// A version other than 4.
    #[error("unsupported keystore version {0}, expected 4")]
    UnsupportedVersion(u64),
    /// A KDF other than scrypt or pbkdf2.
    #[error("unsupported kdf function {0:?}")]
    UnsupportedKdf(String),
    /// A PBKDF2 PRF other than hmac-sha256.
    #[error("unsupported pbkdf2 prf {0:?}")]
    UnsupportedPrf(String),
    /// A cipher other than aes-128-ctr.
    #[error("unsupported cipher function {0:?}")]
    UnsupportedCipher(String),
    /// A checksum other than sha256.
    #[error("unsupported checksum function {0:?}")]
    UnsupportedChecksum(String),
    /// KDF parameters missing, malformed or outside the accepted bounds.
    #[error("invalid kdf params: {0}")]
    BadKdfParams(String),
    /// A hex field that is not hex or has the wrong length.
    #[error("invalid {field}: {reason}")]
    BadField {
        /// The JSON field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The checksum does not match: the password is wrong (or the file was altered).
    #[error("wrong password: keystore checksum does not match")]
    WrongPassword,
    /// The decrypted secret is not a valid BLS secret key.
    #[error("decrypted secret is not a valid bls key: {0}")]
    InvalidSecret(#[from] BlsError),
    /// The decrypted key's public key differs from the keystore's `pubkey` field.
    #[error("keystore pubkey field does not match the decrypted key")]
    PubkeyMismatch,
}

/// Key derivation function and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kdf {
    /// scrypt with `n` (a power of two), `r`, `p`.
    Scrypt {
        /// CPU/memory cost, a power of two.
        n: u32,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
        /// Salt.
        salt: Vec<u8>,
    },
    /// PBKDF2-HMAC-SHA256 with `c` iterations.
    Pbkdf2 {
        /// Iterations.
        c: u32,
        /// Salt.
        salt: Vec<u8>,
    },
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

impl Kdf {
    /// scrypt with the EIP's parameters (n = 2^18, r = 8, p = 1) and a fresh 32-byte salt.
    #[must_use]
    pub fn scrypt_default() -> Self {
        Self::scrypt(DEFAULT_SCRYPT_N)
    }

    /// scrypt with cost `n` (r = 8, p = 1) and a fresh salt; small `n` only for tests.
    #[must_use]
    pub fn scrypt(n: u32) -> Self {
        Self::Scrypt { n, r: 8, p: 1, salt: random_bytes::<32>().to_vec() }
    }

    /// PBKDF2 with the EIP's iteration count (2^18) and a fresh 32-byte salt.
    #[must_use]
    pub fn pbkdf2_default() -> Self {
        Self::pbkdf2(DEFAULT_PBKDF2_C)
    }

    /// PBKDF2 with `c` iterations and a fresh salt; small `c` only for tests.
    #[must_use]
    pub fn pbkdf2(c: u32) -> Self {
        Self::Pbkdf2 { c, salt: random_bytes::<32>().to_vec() }
    }

    /// Checks the parameters against the accepted bounds.
    fn validate(&self) -> Result<(), KeystoreError> {
        let bad = |m: &str| Err(KeystoreError::BadKdfParams(m.to_owned()));
        match self {
            Self::Scrypt { n, r, p, salt } => {
                if *n < 2 || !n.is_power_of_two() {
                    return bad("scrypt n must be a power of two ≥ 2");
                }
                if *r == 0 || *p == 0 || *p > 16 {
                    return bad("scrypt r must be ≥ 1 and p in 1..=16");
                }
                let memory = 128u64.saturating_mul(u64::from(*r)).saturating_mul(u64::from(*n));
                if memory > MAX_SCRYPT_MEMORY {
                    return bad("scrypt n·r needs more than 1 GiB");
                }
                check_salt(salt)
            }
            Self::Pbkdf2 { c, salt } => {
                if *c == 0 || *c > MAX_PBKDF2_C {
                    return bad("pbkdf2 c must be in 1..=2^24");
                }
                check_salt(salt)
            }
        }
    }

    /// Derives the 32-byte decryption key from the processed password.
    fn derive(&self, password: &[u8]) -> Result<Zeroizing<[u8; DKLEN]>, KeystoreError> {
        self.validate()?;
        let mut dk = Zeroizing::new([0u8; DKLEN]);
        match self {
            Self::Scrypt { n, r, p, salt } => {
                let log_n = u8::try_from(n.trailing_zeros())
                    .map_err(|_| KeystoreError::BadKdfParams("scrypt n".into()))?;
                let params = scrypt::Params::new(log_n, *r, *p, DKLEN)
                    .map_err(|e| KeystoreError::BadKdfParams(format!("scrypt: {e}")))?;
                scrypt::scrypt(password, salt, &params, dk.as_mut_slice())
                    .map_err(|e| KeystoreError::BadKdfParams(format!("scrypt: {e}")))?;
            }
            Self::Pbkdf2 { c, salt } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *c, dk.as_mut_slice());
            }
        }
        Ok(dk)
    }

    fn to_module(&self) -> Module {
        let (function, params) = match self {
            Self::Scrypt { n, r, p, salt } => (
                "scrypt",
                serde_json::json!({ "dklen": DKLEN, "n": n, "p": p, "r": r, "salt": hex::encode(salt) }),
            ),
            Self::Pbkdf2 { c, salt } => (
                "pbkdf2",
                serde_json::json!({ "dklen": DKLEN, "c": c, "prf": "hmac-sha256", "salt": hex::encode(salt) }),
            ),
        };
        Module { function: function.to_owned(), params, message: String::new() }
    }

    fn from_module(m: &Module) -> Result<Self, KeystoreError> {
        #[derive(Deserialize)]
        struct Scrypt {
            dklen: u64,
            n: u32,
            r: u32,
            p: u32,
            salt: String,
        }
        #[derive(Deserialize)]
        struct Pbkdf2 {
            dklen: u64,
            c: u32,
            prf: String,
            salt: String,
        }
        let params = |e: serde_json::Error| KeystoreError::BadKdfParams(e.to_string());
        let check_dklen = |d: u64| {
            if d == DKLEN as u64 {
                Ok(())
            } else {
                Err(KeystoreError::BadKdfParams(format!("dklen must be 32, got {d}")))
            }
        };
        match m.function.as_str() {
            "scrypt" => {
                let s = Scrypt::deserialize(&m.params).map_err(params)?;
                check_dklen(s.dklen)?;
                let salt = decode_hex("kdf salt", &s.salt)?;
                Ok(Self::Scrypt { n: s.n, r: s.r, p: s.p, salt })
            }
            "pbkdf2" => {
                let s = Pbkdf2::deserialize(&m.params).map_err(params)?;
                check_dklen(s.dklen)?;
                if s.prf != "hmac-sha256" {
                    return Err(KeystoreError::UnsupportedPrf(s.prf));
                }
                let salt = decode_hex("kdf salt", &s.salt)?;
                Ok(Self::Pbkdf2 { c: s.c, salt })
            }
            other => Err(KeystoreError::UnsupportedKdf(other.to_owned())),
        }
    }
}

fn check_salt(salt: &[u8]) -> Result<(), KeystoreError> {
    if salt.is_empty() || salt.len() > MAX_SALT_LEN {
        return Err(KeystoreError::BadKdfParams("salt must be 1..=1024 bytes".into()));
    }
    Ok(())
}

fn decode_hex(field: &'static str, s: &str) -> Result<Vec<u8>, KeystoreError> {
    claystack_consensus::hexutil::decode(s)
        .map_err(|e| KeystoreError::BadField { field, reason: e.to_string() })
}

fn decode_fixed<const N: usize>(field: &'static str, s: &str) -> Result<[u8; N], KeystoreError> {
    claystack_consensus::hexutil::decode_fixed::<N>(s)
        .map_err(|e| KeystoreError::BadField { field, reason: e.to_string() })
}

/// EIP-2335 password processing: NFKD, then strip C0 (U+0000–U+001F), Delete (U+007F) and
/// C1 (U+0080–U+009F) control characters. Returns the UTF-8 bytes fed to the KDF.
#[must_use]
pub fn process_password(password: &str) -> Zeroizing<Vec<u8>> {
    let kept: Zeroizing<String> = Zeroizing::new(
        password
            .nfkd()
            .filter(|c| !matches!(u32::from(*c), 0x00..=0x1f | 0x7f | 0x80..=0x9f))
            .collect(),
    );
    Zeroizing::new(kept.as_bytes().to_vec())
}

/// One crypto module (`{"function", "params", "message"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Function name (`scrypt`, `pbkdf2`, `sha256`, `aes-128-ctr`).
    pub function: String,
    /// Function parameters.
    pub params: serde_json::Value,
    /// Hex message (empty for the KDF).
    pub message: String,
}

/// The `crypto` object of a keystore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crypto {
    /// Key derivation.
    pub kdf: Module,
    /// Password checksum.
    pub checksum: Module,
    /// Encrypted secret.
    pub cipher: Module,
}

/// An EIP-2335 keystore as stored in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keystore {
    /// KDF, checksum and cipher.
    pub crypto: Crypto,
    /// Free-form description.
    #[serde(default)]
    pub description: String,
    /// Hex public key (no `0x`) of the encrypted secret, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey: Option<String>,
    /// EIP-2334 path the key was derived at (may be empty).
    #[serde(default)]
    pub path: String,
    /// UUID v4 of this keystore.
    pub uuid: String,
    /// Keystore version, 4.
    pub version: u64,
}

impl Keystore {
    /// Parses keystore JSON (no decryption).
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Serializes to pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, KeystoreError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Encrypts a BLS secret key under `password` with `kdf`; `path` is its EIP-2334 path.
    pub fn encrypt(
        secret: &SecretKey,
        password: &str,
        kdf: &Kdf,
        path: &str,
        description: &str,
    ) -> Result<Self, KeystoreError> {
        let mut ks = Self::encrypt_bytes(secret.to_bytes().as_slice(), password, kdf, path)?;
        ks.pubkey = Some(hex::encode(secret.public_key()));
        ks.description = description.to_owned();
        Ok(ks)
    }

    /// Encrypts arbitrary secret bytes (no `pubkey` field).
    pub fn encrypt_bytes(
        secret: &[u8],
        password: &str,
        kdf: &Kdf,
        path: &str,
    ) -> Result<Self, KeystoreError> {
        let dk = kdf.derive(&process_password(password))?;
        let iv = random_bytes::<16>();
        let (key, mac_key) = dk.split_at(16);
        let mut message = Zeroizing::new(secret.to_vec());
        Aes128Ctr::new(key.into(), (&iv).into()).apply_keystream(&mut message);
        let checksum = checksum(mac_key, &message);
        Ok(Self {
            crypto: Crypto {
                kdf: kdf.to_module(),
                checksum: Module {
                    function: "sha256".into(),
                    params: serde_json::json!({}),
                    message: hex::encode(checksum),
                },
                cipher: Module {
                    function: "aes-128-ctr".into(),
                    params: serde_json::json!({ "iv": hex::encode(iv) }),
                    message: hex::encode(message.as_slice()),
                },
            },
            description: String::new(),
            pubkey: None,
            path: path.to_owned(),
            uuid: uuid::Uuid::new_v4().to_string(),
            version: u64::from(VERSION),
        })
    }

    /// The KDF and its parameters.
    pub fn kdf(&self) -> Result<Kdf, KeystoreError> {
        Kdf::from_module(&self.crypto.kdf)
    }

    /// Decrypts the secret bytes (any length), checking version, parameters and checksum.
    pub fn decrypt_bytes(&self, password: &str) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        if self.version != u64::from(VERSION) {
            return Err(KeystoreError::UnsupportedVersion(self.version));
        }
        let c = &self.crypto;
        if c.checksum.function != "sha256" {
            return Err(KeystoreError::UnsupportedChecksum(c.checksum.function.clone()));
        }
        if c.cipher.function != "aes-128-ctr" {
            return Err(KeystoreError::UnsupportedCipher(c.cipher.function.clone()));
        }
        let iv_hex = c.cipher.params.get("iv").and_then(|v| v.as_str()).ok_or_else(|| {
            KeystoreError::BadField { field: "cipher iv", reason: "missing".into() }
        })?;
        let iv = decode_fixed::<16>("cipher iv", iv_hex)?;
        let expected = decode_fixed::<32>("checksum message", &c.checksum.message)?;
        let mut message = Zeroizing::new(decode_hex("cipher message", &c.cipher.message)?);
        let kdf = self.kdf()?;
        let dk = kdf.derive(&process_password(password))?;
        let (key, mac_key) = dk.split_at(16);
        if checksum(mac_key, &message) != expected {
            return Err(KeystoreError::WrongPassword);
        }
        Aes128Ctr::new(key.into(), (&iv).into()).apply_keystream(&mut message);
        Ok(message)
    }

    /// Decrypts a BLS secret key, and checks it against the `pubkey` field when present.
    pub fn decrypt(&self, password: &str) -> Result<SecretKey, KeystoreError> {
        let bytes = self.decrypt_bytes(password)?;
        let sk = SecretKey::from_bytes(&bytes)?;
        // Some tools write an empty `pubkey`; treat it as absent.
        if let Some(pk) = self.pubkey.as_deref().filter(|p| !p.is_empty()) {
            let stated = decode_fixed::<48>("pubkey", pk)?;
            if stated != sk.public_key() {
                return Err(KeystoreError::PubkeyMismatch);
            }
        }
        Ok(sk)
    }
}

fn checksum(mac_key: &[u8], cipher_message: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(mac_key);
    h.update(cipher_message);
    h.finalize().into()
}

/// Reads and parses a keystore file (no decryption).
pub fn read_keystore_file(path: &Path) -> Result<Keystore, KeystoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeystoreError::Io {
        action: "read keystore",
        path: path.to_owned(),
        source,
    })?;
    Keystore::from_json(&text)
}

/// Reads a keystore file and decrypts its BLS secret key.
pub fn decrypt_keystore_file(path: &Path, password: &str) -> Result<SecretKey, KeystoreError> {
    read_keystore_file(path)?.decrypt(password)
}

/// Writes a keystore to a new file readable only by its owner (mode 0600 on Unix); an existing
/// file is never overwritten.
pub fn write_keystore_file(path: &Path, keystore: &Keystore) -> Result<(), KeystoreError> {
    let json = keystore.to_json()?;
    let io = |source| KeystoreError::Io { action: "write keystore", path: path.to_owned(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    file.write_all(json.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    const PUBKEY: &str = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07";
    /// "testpassword" + 🔑 written in mathematical fraktur letters, as in the EIP.
    const PASSWORD: &str = "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";

    fn vector(name: &str) -> Keystore {
        serde_json::from_value(crate::test_vectors::load_json(&format!("eip2335/{name}.json")))
            .unwrap()
    }

    #[test]
    fn password_processing_matches_the_readme_bytes() {
        assert_eq!(
            hex::encode(process_password(PASSWORD).as_slice()),
            "7465737470617373776f7264f09f9491"
        );
        // Control characters are stripped, spaces kept.
        assert_eq!(process_password("a\u{0}b\u{7f}c\u{85}d e\u{1f}").as_slice(), b"abcd e");
    }

    fn check_vector(name: &str) {
        let ks = vector(name);
        let sk = ks.decrypt(PASSWORD).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hex::encode(sk.to_bytes().as_slice()), SECRET, "{name}");
        assert_eq!(hex::encode(sk.public_key()), PUBKEY, "{name}");
    }

    // Unoptimised test builds make the EIP's 2^18 KDF cost take seconds: one decryption each.
    #[test]
    fn eip2335_pbkdf2_vector_decrypts_to_the_known_secret() {
        check_vector("pbkdf2");
    }

    #[test]
    fn eip2335_scrypt_vector_decrypts_to_the_known_secret() {
        check_vector("scrypt");
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_for_both_kdfs() {
        let sk = SecretKey::from_bytes(&hex::decode(SECRET).unwrap()).unwrap();
        for kdf in [Kdf::pbkdf2(1024), Kdf::scrypt(1024)] {
            let ks = Keystore::encrypt(&sk, PASSWORD, &kdf, "m/12381/3600/0/0/0", "t").unwrap();
            let json = ks.to_json().unwrap();
            let back = Keystore::from_json(&json).unwrap();
            assert_eq!(back.kdf().unwrap(), kdf);
            assert_eq!(back.pubkey.as_deref(), Some(PUBKEY));
            assert_eq!(uuid::Uuid::parse_str(&back.uuid).unwrap().get_version_num(), 4);
            let out = back.decrypt(PASSWORD).unwrap();
            assert_eq!(*out.to_bytes(), *sk.to_bytes());
            // The same password through NFKD-equivalent spelling decrypts too.
            assert!(back.decrypt("testpassword\u{1f511}").is_ok());
            assert!(matches!(back.decrypt("testpassword"), Err(KeystoreError::WrongPassword)));
        }
    }

    #[test]
    fn hostile_or_broken_keystores_get_typed_errors() {
        let base = vector("pbkdf2");
        let mut v = base.clone();
        v.version = 3;
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::UnsupportedVersion(3))));
        let mut v = base.clone();
        v.crypto.kdf.function = "argon2".into();
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::UnsupportedKdf(_))));
        let mut v = base.clone();
        v.crypto.kdf.params["c"] = serde_json::json!(1u64 << 30);
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::BadKdfParams(_))));
        let mut v = base.clone();
        v.crypto.kdf.params["prf"] = serde_json::json!("hmac-md5");
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::UnsupportedPrf(_))));
        let mut v = base.clone();
        v.crypto.cipher.function = "aes-256-gcm".into();
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::UnsupportedCipher(_))));
        let mut v = base.clone();
        v.crypto.cipher.params = serde_json::json!({ "iv": "zz" });
        assert!(matches!(
            v.decrypt(PASSWORD),
            Err(KeystoreError::BadField { field: "cipher iv", .. })
        ));
        assert!(matches!(base.decrypt("wrong"), Err(KeystoreError::WrongPassword)));
        let mut v = base;
        v.pubkey = Some(hex::encode([0xaa; 48]));
        assert!(matches!(v.decrypt(PASSWORD), Err(KeystoreError::PubkeyMismatch)));

        let mut scrypt = vector("scrypt");
        scrypt.crypto.kdf.params["n"] = serde_json::json!(1u64 << 31);
        assert!(matches!(scrypt.decrypt(PASSWORD), Err(KeystoreError::BadKdfParams(_))));
        scrypt.crypto.kdf.params["n"] = serde_json::json!(1000);
        assert!(matches!(scrypt.decrypt(PASSWORD), Err(KeystoreError::BadKdfParams(_))));

        assert!(matches!(Keystore::from_json("{"), Err(KeystoreError::Json(_))));
        assert!(matches!(Keystore::from_json("{\"crypto\": 1}"), Err(KeystoreError::Json(_))));
    }

    #[cfg(unix)]
    #[test]
    fn keystore_files_are_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let sk = SecretKey::from_bytes(&hex::decode(SECRET).unwrap()).unwrap();
        let ks = Keystore::encrypt(&sk, "pw", &Kdf::pbkdf2(16), "", "").unwrap();
        write_keystore_file(&path, &ks).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(write_keystore_file(&path, &ks), Err(KeystoreError::Io { .. })));
        let back = decrypt_keystore_file(&path, "pw").unwrap();
        assert_eq!(back.public_key(), sk.public_key());
        assert!(matches!(
            read_keystore_file(&dir.path().join("missing.json")),
            Err(KeystoreError::Io { action: "read keystore", .. })
        ));
    }
}
