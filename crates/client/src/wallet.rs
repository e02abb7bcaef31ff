//! Connecting to a node, with an optional local signer from a private key or an Ethereum JSON
//! keystore. Keys are never printed: errors say what is wrong, not what was given.

use std::path::{Path, PathBuf};

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};

/// Where the signing key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// A hex private key (with or without 0x).
    PrivateKey(String),
    /// An Ethereum JSON keystore file and its password.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// Its password.
        password: String,
    },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKey(_) => f.write_str("PrivateKey(<redacted>)"),
            Self::Keystore { path, .. } => write!(f, "Keystore({})", path.display()),
        }
    }
}

/// Why a signer or connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The private key is not 32 bytes of hex.
    #[error("invalid private key: expected 32 bytes of hex (the key itself is not shown)")]
    InvalidKey,
    /// The keystore could not be read or decrypted.
    #[error("decrypt keystore {path}: {detail}")]
    Keystore {
        /// The file.
        path: String,
        /// What went wrong (wrong password, bad file).
        detail: String,
    },
    /// The RPC URL does not parse.
    #[error("invalid RPC URL {0:?}")]
    Url(String),
    /// An action needs a signer, none was given.
    #[error(
        "this command sends a transaction: pass --private-key (or CLAYSTACK_PRIVATE_KEY) or --keystore"
    )]
    NoSigner,
}

/// Builds the local signer.
pub fn load_signer(source: &KeySource) -> Result<PrivateKeySigner, WalletError> {
    match source {
        KeySource::PrivateKey(key) => {
            key.trim().parse::<PrivateKeySigner>().map_err(|_| WalletError::InvalidKey)
        }
        KeySource::Keystore { path, password } => decrypt(path, password),
    }
}

fn decrypt(path: &Path, password: &str) -> Result<PrivateKeySigner, WalletError> {
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| WalletError::Keystore {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// A node connection, with the sending account when a signer was given.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The provider (signs and sends when `account` is set).
    pub provider: DynProvider,
    /// The signer's address.
    pub account: Option<Address>,
}

impl Connection {
    /// Connects to `rpc_url`, signing with `signer` when given.
    pub fn connect(rpc_url: &str, signer: Option<PrivateKeySigner>) -> Result<Self, WalletError> {
        let url = rpc_url.parse().map_err(|_| WalletError::Url(rpc_url.to_owned()))?;
        Ok(match signer {
            Some(signer) => {
                let account = signer.address();
                // Nonces from the node's pending count for every transaction, not alloy's
                // cached manager: that one reserves a nonce before the gas estimate, so a refused
                // transaction (a claim already paid, a keeper action someone else took first)
                // leaves a gap that queues every later transaction of a long-running process.
                let provider = ProviderBuilder::default()
                    .with_gas_estimation()
                    .with_simple_nonce_management()
                    .fetch_chain_id()
                    .wallet(EthereumWallet::from(signer))
                    .connect_http(url)
                    .erased();
                Self { provider, account: Some(account) }
            }
            None => {
                Self { provider: ProviderBuilder::new().connect_http(url).erased(), account: None }
            }
        })
    }

    /// The sending account, or [`WalletError::NoSigner`].
    pub fn sender(&self) -> Result<Address, WalletError> {
        self.account.ok_or(WalletError::NoSigner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANVIL0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn private_key_loads_and_is_never_shown() {
        let s = load_signer(&KeySource::PrivateKey(ANVIL0.into())).unwrap();
        assert_eq!(
            s.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse::<Address>().unwrap()
        );
        let bad = KeySource::PrivateKey("0x1234deadbeef".into());
        let msg = load_signer(&bad).unwrap_err().to_string();
        assert!(!msg.contains("1234deadbeef"), "{msg}");
        assert!(!format!("{:?}", KeySource::PrivateKey(ANVIL0.into())).contains("ac0974"));
    }

    #[test]
    fn keystore_round_trip_and_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand_core();
        let (signer, name) =
            PrivateKeySigner::new_keystore(dir.path(), &mut rng, "pw", None).unwrap();
        let path = dir.path().join(name);
        let loaded =
            load_signer(&KeySource::Keystore { path: path.clone(), password: "pw".into() })
                .unwrap();
        assert_eq!(loaded.address(), signer.address());
        let err = load_signer(&KeySource::Keystore { path, password: "nope".into() }).unwrap_err();
        assert!(matches!(err, WalletError::Keystore { .. }), "{err}");
    }

    fn rand_core() -> impl alloy::signers::k256::elliptic_curve::rand_core::CryptoRngCore {
        alloy::signers::k256::elliptic_curve::rand_core::OsRng
    }

    #[test]
    fn connection_without_signer_has_no_sender() {
        let c = Connection::connect("http://127.0.0.1:1", None).unwrap();
        assert!(matches!(c.sender(), Err(WalletError::NoSigner)));
        assert!(matches!(Connection::connect("not a url", None), Err(WalletError::Url(_))));
    }
}
