//! Validator keys: BIP-39 mnemonics, EIP-2333 derivation, EIP-2334 paths, EIP-2335 keystores and
//! deposit data compatible byte for byte with the official deposit CLI.
//!
//! The pieces compose as the deposit CLI does:
//! [`Mnemonic`] → seed → [`derive_path`] (EIP-2333/2334) → [`SecretKey`] → [`Keystore`]
//! (EIP-2335) and [`DepositData`] (signed with the deposit domain of a network).
//! [`derive_validators`] does the bulk work on every core.
//!
//! Secrets live in types that zeroize on drop and never implement `Display`; their `Debug`
//! output is redacted.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod bls;
pub mod deposit;
pub mod eip2333;
pub mod keystore;
pub mod mnemonic;
pub mod path;
pub mod validators;

pub use bls::{BlsError, PublicKeyBytes, SecretKey, SignatureBytes};
pub use deposit::{
    DEPOSIT_CLI_VERSION, DepositData, DepositDataJson, DepositError, DepositMessage,
    DepositNetwork, VerifyExpectations, WithdrawalCredentials, WithdrawalTarget, deposit_domain,
    to_deposit_cli_json, verify_deposit_data_json,
};
pub use eip2333::{DerivationError, derive_child_sk, derive_master_sk, derive_path};
pub use keystore::{
    Kdf, Keystore, KeystoreError, decrypt_keystore_file, read_keystore_file, write_keystore_file,
};
pub use mnemonic::{Language, Mnemonic, MnemonicError};
pub use path::{KeyPath, PathError};
pub use validators::{ValidatorKeys, deposit_data_for, derive_validators};

#[cfg(test)]
pub(crate) mod test_vectors {
    //! Locates `../shared/vectors` for unit tests; a missing folder fails the test.

    use std::path::PathBuf;

    /// The vectors folder: `$CLAYSTACK_VECTORS` or `shared/vectors` beside the checkout.
    pub(crate) fn dir() -> PathBuf {
        let dir = std::env::var_os("CLAYSTACK_VECTORS").map_or_else(
            || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors")),
            PathBuf::from,
        );
        assert!(
            dir.is_dir(),
            "test vectors not found at {} (set CLAYSTACK_VECTORS to the shared/vectors folder)",
            dir.display()
        );
        dir
    }

    /// Reads a vector file relative to [`dir`].
    pub(crate) fn load_text(rel: &str) -> String {
        let path = dir().join(rel);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read vector {}: {e}", path.display()))
    }

    /// The decimal integers written after every `"key":` in `text`, in order (serde_json would
    /// round 256-bit integers through f64).
    pub(crate) fn decimal_fields(text: &str, key: &str) -> Vec<num_bigint::BigUint> {
        let pat = format!("\"{key}\":");
        text.match_indices(&pat)
            .map(|(i, _)| {
                let rest = text[i + pat.len()..].trim_start();
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                num_bigint::BigUint::parse_bytes(digits.as_bytes(), 10)
                    .unwrap_or_else(|| panic!("{key}: not a decimal integer"))
            })
            .collect()
    }

    /// Reads and parses a JSON vector file relative to [`dir`].
    pub(crate) fn load_json(rel: &str) -> serde_json::Value {
        let path = dir().join(rel);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read vector {}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parse vector {}: {e}", path.display()))
    }
}
