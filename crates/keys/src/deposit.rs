//! Deposit data: withdrawal credentials, `DepositMessage` / `DepositData` SSZ roots, the deposit
//! signature, the `deposit_data-*.json` format of the official deposit CLI (byte for byte) and
//! the verification of such a file.

use claystack_consensus::compute_signing_root;
use claystack_consensus::hexutil;
use claystack_consensus::ssz::{HashTreeRoot, Root, container_root, sha256};
use claystack_consensus::{ChainSpecForks, DomainType, ForkVersion, Gwei, compute_domain};
use serde::{Deserialize, Serialize};

use crate::bls::{self, BlsError, PublicKeyBytes, SecretKey, SignatureBytes};

/// The deposit CLI release whose output format this module reproduces. Written into
/// `deposit_cli_version` because the staking Launchpad checks that field; the value names the
/// format, not the program that produced the file.
pub const DEPOSIT_CLI_VERSION: &str = "2.7.0";
/// Smallest deposit the deposit contract accepts: 1 ETH.
pub const MIN_DEPOSIT: Gwei = Gwei(1_000_000_000);
/// Largest deposit for 0x00 / 0x01 credentials: 32 ETH (`MAX_EFFECTIVE_BALANCE`).
pub const MAX_DEPOSIT: Gwei = Gwei(32_000_000_000);
/// Largest deposit for 0x02 (compounding) credentials: 2048 ETH (`MAX_EFFECTIVE_BALANCE_ELECTRA`).
pub const MAX_DEPOSIT_COMPOUNDING: Gwei = Gwei(2_048_000_000_000);

/// `BLS_WITHDRAWAL_PREFIX`.
pub const BLS_WITHDRAWAL_PREFIX: u8 = 0x00;
/// `ETH1_ADDRESS_WITHDRAWAL_PREFIX`.
pub const ETH1_ADDRESS_WITHDRAWAL_PREFIX: u8 = 0x01;
/// `COMPOUNDING_WITHDRAWAL_PREFIX` (EIP-7251).
pub const COMPOUNDING_WITHDRAWAL_PREFIX: u8 = 0x02;

/// Where a validator's withdrawals go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalTarget {
    /// 0x00: the validator's BLS withdrawal key (`m/12381/3600/i/0`).
    Bls,
    /// 0x01: an execution address.
    Execution([u8; 20]),
    /// 0x02: an execution address, compounding (EIP-7251).
    Compounding([u8; 20]),
}

/// 32-byte withdrawal credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WithdrawalCredentials(pub [u8; 32]);

impl WithdrawalCredentials {
    /// 0x00 credentials: `0x00 ++ sha256(withdrawal_pubkey)[1..]`.
    #[must_use]
    pub fn bls(withdrawal_pubkey: &PublicKeyBytes) -> Self {
        let mut c = sha256(withdrawal_pubkey);
        c[0] = BLS_WITHDRAWAL_PREFIX;
        Self(c)
    }

    /// 0x01 (or 0x02 when `compounding`) credentials: `prefix ++ 11 zero bytes ++ address`.
    #[must_use]
    pub fn execution(address: &[u8; 20], compounding: bool) -> Self {
        let mut c = [0u8; 32];
        c[0] = if compounding {
            COMPOUNDING_WITHDRAWAL_PREFIX
        } else {
            ETH1_ADDRESS_WITHDRAWAL_PREFIX
        };
        let (_, tail) = c.split_at_mut(12);
        tail.copy_from_slice(address);
        Self(c)
    }

    /// Checks the prefix and, for execution credentials, the zero padding.
    pub fn check(&self) -> Result<(), &'static str> {
        match self.0[0] {
            BLS_WITHDRAWAL_PREFIX => Ok(()),
            ETH1_ADDRESS_WITHDRAWAL_PREFIX | COMPOUNDING_WITHDRAWAL_PREFIX => {
                if self.0.iter().skip(1).take(11).all(|b| *b == 0) {
                    Ok(())
                } else {
                    Err("execution credentials must have 11 zero bytes after the prefix")
                }
            }
            _ => Err("unknown withdrawal credential prefix"),
        }
    }

    /// The largest deposit these credentials allow.
    #[must_use]
    pub fn max_deposit(&self) -> Gwei {
        if self.0[0] == COMPOUNDING_WITHDRAWAL_PREFIX {
            MAX_DEPOSIT_COMPOUNDING
        } else {
            MAX_DEPOSIT
        }
    }
}

/// Why an execution address was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` followed by 40 hex digits.
    #[error("execution address must be 0x followed by 40 hex digits")]
    BadFormat,
    /// Mixed case that is not the EIP-55 checksum: probably a typo.
    #[error("execution address has an invalid eip-55 checksum")]
    BadChecksum,
}

/// Parses an execution address. Mixed-case input must carry a valid EIP-55 checksum;
/// all-lowercase or all-uppercase input carries none and is accepted as is.
pub fn parse_execution_address(s: &str) -> Result<[u8; 20], AddressError> {
    use sha3::{Digest as _, Keccak256};
    let digits = s.strip_prefix("0x").ok_or(AddressError::BadFormat)?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::BadFormat);
    }
    let bytes: [u8; 20] = hexutil::decode_fixed(digits).map_err(|_| AddressError::BadFormat)?;
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        let hash = Keccak256::digest(digits.to_ascii_lowercase().as_bytes());
        let ok = digits.bytes().enumerate().all(|(i, c)| {
            let nibble = hash.get(i / 2).map_or(0, |h| if i % 2 == 0 { h >> 4 } else { h & 0x0f });
            !c.is_ascii_alphabetic() || (nibble >= 8) == c.is_ascii_uppercase()
        });
        if !ok {
            return Err(AddressError::BadChecksum);
        }
    }
    Ok(bytes)
}

/// A network deposits are signed for: its deposit-CLI name and genesis fork version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositNetwork {
    /// Name written into `network_name` (`mainnet`, `holesky`, …).
    pub name: String,
    /// `GENESIS_FORK_VERSION`.
    pub fork_version: ForkVersion,
}

impl From<ChainSpecForks> for DepositNetwork {
    fn from(n: ChainSpecForks) -> Self {
        Self { name: n.name.to_owned(), fork_version: n.genesis_fork_version }
    }
}

impl DepositNetwork {
    /// A known network by name (`mainnet`, `holesky`, `sepolia`, `hoodi`).
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        ChainSpecForks::by_name(name).map(Self::from)
    }
}

/// `compute_domain(DOMAIN_DEPOSIT, fork_version, ZERO_HASH)`: deposits are valid on every fork.
#[must_use]
pub fn deposit_domain(fork_version: ForkVersion) -> Root {
    compute_domain(DomainType::DEPOSIT, fork_version, [0u8; 32])
}

/// `DepositMessage(pubkey, withdrawal_credentials, amount)`: what the validator key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositMessage {
    /// Validator public key.
    pub pubkey: PublicKeyBytes,
    /// Withdrawal credentials.
    pub withdrawal_credentials: WithdrawalCredentials,
    /// Amount in Gwei.
    pub amount: Gwei,
}

impl HashTreeRoot for DepositMessage {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.pubkey.hash_tree_root(),
            self.withdrawal_credentials.0,
            self.amount.hash_tree_root(),
        ])
    }
}

impl DepositMessage {
    /// The signing root under the deposit domain of `fork_version`.
    #[must_use]
    pub fn signing_root(&self, fork_version: ForkVersion) -> Root {
        compute_signing_root(self.hash_tree_root(), deposit_domain(fork_version))
    }

    /// Signs the message with the validator key; the key must match `pubkey`.
    pub fn sign(&self, sk: &SecretKey, fork_version: ForkVersion) -> DepositData {
        DepositData { message: *self, signature: sk.sign(&self.signing_root(fork_version)) }
    }
}

/// `DepositData(pubkey, withdrawal_credentials, amount, signature)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositData {
    /// The signed message.
    pub message: DepositMessage,
    /// BLS signature over the message's signing root.
    pub signature: SignatureBytes,
}

impl HashTreeRoot for DepositData {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.message.pubkey.hash_tree_root(),
            self.message.withdrawal_credentials.0,
            self.message.amount.hash_tree_root(),
            self.signature.hash_tree_root(),
        ])
    }
}

impl DepositData {
    /// The deposit-CLI JSON entry for `network`.
    #[must_use]
    pub fn to_json(&self, network: &DepositNetwork) -> DepositDataJson {
        DepositDataJson {
            pubkey: self.message.pubkey,
            withdrawal_credentials: self.message.withdrawal_credentials.0,
            amount: self.message.amount.0,
            signature: self.signature,
            deposit_message_root: self.message.hash_tree_root(),
            deposit_data_root: self.hash_tree_root(),
            fork_version: network.fork_version,
            network_name: network.name.clone(),
            deposit_cli_version: DEPOSIT_CLI_VERSION.to_owned(),
        }
    }
}

/// `[u8; N]` as bare lowercase hex (the deposit CLI writes no `0x`); `0x` accepted on input.
mod bare_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer, const N: usize>(
        v: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::hexutil::decode_fixed::<N>(&s).map_err(D::Error::custom)
    }
}

/// One entry of a `deposit_data-*.json` file, fields in the deposit CLI's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositDataJson {
    /// Validator public key.
    #[serde(with = "bare_hex")]
    pub pubkey: PublicKeyBytes,
    /// Withdrawal credentials.
    #[serde(with = "bare_hex")]
    pub withdrawal_credentials: [u8; 32],
    /// Amount in Gwei (a JSON number).
    pub amount: u64,
    /// Deposit signature.
    #[serde(with = "bare_hex")]
    pub signature: SignatureBytes,
    /// `hash_tree_root(DepositMessage)`.
    #[serde(with = "bare_hex")]
    pub deposit_message_root: Root,
    /// `hash_tree_root(DepositData)`: what the deposit contract checks.
    #[serde(with = "bare_hex")]
    pub deposit_data_root: Root,
    /// Genesis fork version of the network.
    #[serde(with = "bare_hex")]
    pub fork_version: ForkVersion,
    /// Network name.
    pub network_name: String,
    /// Format version (see [`DEPOSIT_CLI_VERSION`]).
    pub deposit_cli_version: String,
}

impl DepositDataJson {
    /// The signed message of this entry.
    #[must_use]
    pub fn message(&self) -> DepositMessage {
        DepositMessage {
            pubkey: self.pubkey,
            withdrawal_credentials: WithdrawalCredentials(self.withdrawal_credentials),
            amount: Gwei(self.amount),
        }
    }
}

/// Python's `json.dump` separators (`", "` and `": "`), which the deposit CLI's files use.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Serializes entries exactly as the deposit CLI writes `deposit_data-*.json` (no final newline).
pub fn to_deposit_cli_json(entries: &[DepositDataJson]) -> Result<String, DepositError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    entries.serialize(&mut ser).map_err(DepositError::Json)?;
    String::from_utf8(out).map_err(|_| DepositError::NotUtf8)
}

/// Why a deposit data file failed verification. Entry numbers are 0-based.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    /// Not a JSON array of deposit entries.
    #[error("parse deposit data json: {0}")]
    Json(serde_json::Error),
    /// Serialized output was not UTF-8 (cannot happen with hex fields).
    #[error("serialize deposit data: output is not utf-8")]
    NotUtf8,
    /// The file holds no deposits.
    #[error("deposit data file contains no deposits")]
    Empty,
    /// The pubkey is not a valid BLS public key.
    #[error("deposit {index}: invalid pubkey: {source}")]
    InvalidPubkey {
        /// Entry.
        index: usize,
        /// Why.
        source: BlsError,
    },
    /// The signature is not a valid G2 point.
    #[error("deposit {index}: invalid signature encoding: {source}")]
    InvalidSignatureEncoding {
        /// Entry.
        index: usize,
        /// Why.
        source: BlsError,
    },
    /// The signature does not verify for the pubkey, message and fork version.
    #[error("deposit {index}: signature does not verify for this pubkey, message and fork version")]
    BadSignature {
        /// Entry.
        index: usize,
    },
    /// `deposit_message_root` differs from the recomputed root.
    #[error("deposit {index}: deposit_message_root is {found}, recomputed {expected}")]
    DepositMessageRootMismatch {
        /// Entry.
        index: usize,
        /// Recomputed root (hex).
        expected: String,
        /// Root in the file (hex).
        found: String,
    },
    /// `deposit_data_root` differs from the recomputed root.
    #[error("deposit {index}: deposit_data_root is {found}, recomputed {expected}")]
    DepositDataRootMismatch {
        /// Entry.
        index: usize,
        /// Recomputed root (hex).
        expected: String,
        /// Root in the file (hex).
        found: String,
    },
    /// `network_name` is not a known network and no expected network was given.
    #[error("deposit {index}: unknown network {name:?}")]
    UnknownNetwork {
        /// Entry.
        index: usize,
        /// Name in the file.
        name: String,
    },
    /// The network differs from the expected one (or from the file's first entry).
    #[error("deposit {index}: network is {found:?}, expected {expected:?}")]
    NetworkMismatch {
        /// Entry.
        index: usize,
        /// Expected network.
        expected: String,
        /// Network in the file.
        found: String,
    },
    /// `fork_version` is not the named network's genesis fork version.
    #[error("deposit {index}: fork_version {found} is not {network}'s {expected}")]
    ForkVersionMismatch {
        /// Entry.
        index: usize,
        /// Network name.
        network: String,
        /// Expected fork version (hex).
        expected: String,
        /// Fork version in the file (hex).
        found: String,
    },
    /// The amount is outside what the credentials allow.
    #[error("deposit {index}: amount {amount} gwei outside {min}..={max} gwei")]
    AmountOutOfRange {
        /// Entry.
        index: usize,
        /// Amount in the file.
        amount: u64,
        /// Minimum.
        min: u64,
        /// Maximum for these credentials.
        max: u64,
    },
    /// The amount differs from the expected one.
    #[error("deposit {index}: amount is {found} gwei, expected {expected} gwei")]
    AmountMismatch {
        /// Entry.
        index: usize,
        /// Expected amount.
        expected: u64,
        /// Amount in the file.
        found: u64,
    },
    /// Malformed withdrawal credentials.
    #[error("deposit {index}: invalid withdrawal credentials: {reason}")]
    InvalidWithdrawalCredentials {
        /// Entry.
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// Withdrawal credentials differ from the expected ones.
    #[error("deposit {index}: withdrawal credentials are {found}, expected {expected}")]
    WithdrawalCredentialsMismatch {
        /// Entry.
        index: usize,
        /// Expected credentials (hex).
        expected: String,
        /// Credentials in the file (hex).
        found: String,
    },
    /// The same pubkey appears twice.
    #[error("deposit {index}: pubkey already used by deposit {first}")]
    DuplicatePubkey {
        /// Entry.
        index: usize,
        /// Earlier entry with the same pubkey.
        first: usize,
    },
}

/// What a verification must additionally insist on.
#[derive(Debug, Clone, Default)]
pub struct VerifyExpectations {
    /// The network every entry must be for; `None` accepts any known network, the same for all.
    pub network: Option<DepositNetwork>,
    /// Credentials every entry must carry.
    pub withdrawal_credentials: Option<WithdrawalCredentials>,
    /// Amount every entry must carry.
    pub amount: Option<Gwei>,
}

/// Verifies a `deposit_data-*.json` document: for every entry the credentials, amount,
/// network and fork version, both roots and the signature; pubkeys must be distinct.
/// Returns the entries on success, the first error otherwise.
pub fn verify_deposit_data_json(
    json: &str,
    expect: &VerifyExpectations,
) -> Result<Vec<DepositDataJson>, DepositError> {
    let entries: Vec<DepositDataJson> = serde_json::from_str(json).map_err(DepositError::Json)?;
    if entries.is_empty() {
        return Err(DepositError::Empty);
    }
    let mut network = expect.network.clone();
    let mut seen = std::collections::HashMap::new();
    for (index, e) in entries.iter().enumerate() {
        let net = match &network {
            Some(n) => n.clone(),
            None => {
                let n = DepositNetwork::by_name(&e.network_name).ok_or_else(|| {
                    DepositError::UnknownNetwork { index, name: e.network_name.clone() }
                })?;
                network = Some(n.clone());
                n
            }
        };
        verify_entry(index, e, &net, expect)?;
        if let Some(first) = seen.insert(e.pubkey, index) {
            return Err(DepositError::DuplicatePubkey { index, first });
        }
    }
    Ok(entries)
}

/// Verifies one entry against `network` and the expectations.
pub fn verify_entry(
    index: usize,
    e: &DepositDataJson,
    network: &DepositNetwork,
    expect: &VerifyExpectations,
) -> Result<(), DepositError> {
    if e.network_name != network.name {
        return Err(DepositError::NetworkMismatch {
            index,
            expected: network.name.clone(),
            found: e.network_name.clone(),
        });
    }
    if e.fork_version != network.fork_version {
        return Err(DepositError::ForkVersionMismatch {
            index,
            network: network.name.clone(),
            expected: hex::encode(network.fork_version),
            found: hex::encode(e.fork_version),
        });
    }
    let creds = WithdrawalCredentials(e.withdrawal_credentials);
    creds.check().map_err(|reason| DepositError::InvalidWithdrawalCredentials { index, reason })?;
    if let Some(want) = expect.withdrawal_credentials
        && want != creds
    {
        return Err(DepositError::WithdrawalCredentialsMismatch {
            index,
            expected: hex::encode(want.0),
            found: hex::encode(creds.0),
        });
    }
    let max = creds.max_deposit();
    if e.amount < MIN_DEPOSIT.0 || e.amount > max.0 {
        return Err(DepositError::AmountOutOfRange {
            index,
            amount: e.amount,
            min: MIN_DEPOSIT.0,
            max: max.0,
        });
    }
    if let Some(want) = expect.amount
        && want.0 != e.amount
    {
        return Err(DepositError::AmountMismatch { index, expected: want.0, found: e.amount });
    }
    let message = e.message();
    let message_root = message.hash_tree_root();
    if message_root != e.deposit_message_root {
        return Err(DepositError::DepositMessageRootMismatch {
            index,
            expected: hex::encode(message_root),
            found: hex::encode(e.deposit_message_root),
        });
    }
    let data = DepositData { message, signature: e.signature };
    let data_root = data.hash_tree_root();
    if data_root != e.deposit_data_root {
        return Err(DepositError::DepositDataRootMismatch {
            index,
            expected: hex::encode(data_root),
            found: hex::encode(e.deposit_data_root),
        });
    }
    bls::validate_public_key(&e.pubkey)
        .map_err(|source| DepositError::InvalidPubkey { index, source })?;
    let ok = bls::verify(&e.pubkey, &message.signing_root(network.fork_version), &e.signature)
        .map_err(|source| match source {
            BlsError::InvalidPublicKey(_) => DepositError::InvalidPubkey { index, source },
            _ => DepositError::InvalidSignatureEncoding { index, source },
        })?;
    if !ok {
        return Err(DepositError::BadSignature { index });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `../shared/vectors/README.md`: the phase0 deposit signing root fact.
    #[test]
    fn signing_root_matches_the_spec_fact() {
        let m = DepositMessage {
            pubkey: [0x12; 48],
            withdrawal_credentials: WithdrawalCredentials([0x12; 32]),
            amount: Gwei(100),
        };
        let root = compute_signing_root(m.hash_tree_root(), [0x12; 32]);
        assert_eq!(
            hex::encode(root),
            "67a3330ff87bdb46bb7b80ca7a641e398d6ac4e87a6856527cacc829fb61896f"
        );
        assert_eq!(
            hex::encode(deposit_domain([0x12; 4])),
            "030000000d66608af557f4fadbfce248ac37f6e7639ce371100c43d15aad05cb"
        );
    }

    #[test]
    fn execution_addresses_are_checksum_checked() {
        let good = "0x0f51bb10119727a7e5eA3538074fb341F56B09Ad";
        let bytes = parse_execution_address(good).unwrap();
        assert_eq!(hex::encode(bytes), good[2..].to_ascii_lowercase());
        assert_eq!(parse_execution_address(&good.to_ascii_lowercase()), Ok(bytes));
        assert_eq!(
            parse_execution_address("0x0f51bb10119727a7e5ea3538074fb341F56B09Ad"),
            Err(AddressError::BadChecksum)
        );
        assert_eq!(parse_execution_address(&good[2..]), Err(AddressError::BadFormat));
        assert_eq!(parse_execution_address("0x1234"), Err(AddressError::BadFormat));
        assert_eq!(
            parse_execution_address(&format!("0x{}", "g".repeat(40))),
            Err(AddressError::BadFormat)
        );
    }

    #[test]
    fn credentials_have_the_right_layout() {
        let addr = [0xab; 20];
        let c1 = WithdrawalCredentials::execution(&addr, false);
        assert_eq!(hex::encode(c1.0), format!("01{}{}", "00".repeat(11), "ab".repeat(20)));
        let c2 = WithdrawalCredentials::execution(&addr, true);
        assert_eq!(c2.0[0], 2);
        assert_eq!(c2.max_deposit(), MAX_DEPOSIT_COMPOUNDING);
        assert_eq!(c1.max_deposit(), MAX_DEPOSIT);
        let c0 = WithdrawalCredentials::bls(&[7; 48]);
        assert_eq!(c0.0[0], 0);
        assert_eq!(c0.0[1..], sha256(&[7; 48])[1..]);
        assert!(c0.check().is_ok() && c1.check().is_ok() && c2.check().is_ok());
        let mut bad = c1;
        bad.0[5] = 1;
        assert!(bad.check().is_err());
        bad.0[0] = 9;
        assert_eq!(bad.check(), Err("unknown withdrawal credential prefix"));
    }
}
