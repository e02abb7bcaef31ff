//! SSV `sharesData`, built without any party holding the validator key:
//!
//! `sharesData = ownership signature (96) ‖ public shares (48 each) ‖ encrypted shares (256
//! each, 2048-bit RSA)`, both lists in ascending operator-id order (ssv-keys'
//! `KeySharesItem.buildPayload` / `KeySharesPayload`). The ownership signature is the
//! validator key's BLS signature over `keccak256("<EIP-55 owner address>:<owner nonce>")`
//! (ssv-keys `buildSignature`); each encrypted share is the share's secret as the ASCII string
//! `0x<64 hex digits>` (big-endian, ssv-keys' `Threshold`), RSA-PKCS#1 v1.5-encrypted to the
//! operator's RSA key (JSEncrypt), the key given as SSV publishes it: base64 of a PEM block.
//!
//! Each operator runs [`ssv_share_part`] on its own machine: it encrypts its own share and
//! signs the ownership message with it (a partial signature). Anyone then combines the parts
//! with [`ssv_shares_data`], which threshold-combines and verifies the ownership signature
//! under the group key. Sources: the ssv-keys repository and SSV's keyshares documentation;
//! the plaintext format of an encrypted share is taken from ssv-keys and not confirmed against
//! the ssv-node decoder.

use crate::cluster::ClusterDescription;
use crate::threshold::{PartialSignature, SecretShare, ShareIndex};
use base64::Engine as _;
use claystack_consensus::hexutil;
use rand::{CryptoRng, RngCore};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha3::{Digest as _, Keccak256};

/// Length of an RSA-2048 ciphertext, the only operator key size SSV uses.
pub const ENCRYPTED_SHARE_LEN: usize = 256;

/// Why a share part or `sharesData` cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsvError {
    /// The operator key is not base64 of a PEM RSA public key.
    #[error("operator key: {0}")]
    OperatorKey(&'static str),
    /// RSA encryption failed.
    #[error("rsa encryption of the share failed")]
    Encrypt,
    /// The owner address is not a 20-byte hex address.
    #[error("owner address {0:?} is not an execution address")]
    OwnerAddress(String),
    /// A part does not belong to this cluster or this owner/nonce.
    #[error("share part of member {index}: {reason}")]
    Part {
        /// Member.
        index: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A member's part is missing (every operator needs its encrypted share).
    #[error("no share part for member {0}")]
    MissingPart(u64),
    /// The ownership signature could not be combined (fewer than t valid partials).
    #[error("ownership signature: {0}")]
    Signature(String),
}

/// One operator's contribution to `sharesData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsvSharePart {
    /// The validator (group) key.
    pub validator: String,
    /// The operator id (share index).
    pub index: ShareIndex,
    /// The operator's public share.
    pub public_share: String,
    /// The share, RSA-encrypted to the operator's key (base64, as ssv-keys writes it).
    pub encrypted_share: String,
    /// Owner address the ownership signature is for.
    pub owner_address: String,
    /// Owner nonce the ownership signature is for.
    pub owner_nonce: u64,
    /// This share's signature over the ownership message.
    pub owner_signature_partial: String,
}

/// EIP-55 mixed-case form of an address.
pub fn checksum_address(addr: &[u8; 20]) -> String {
    let lower = hex::encode(addr);
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::from("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = hash.get(i / 2).map_or(0, |b| if i % 2 == 0 { b >> 4 } else { b & 0x0f });
        out.push(if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c });
    }
    out
}

fn parse_owner(owner: &str) -> Result<[u8; 20], SsvError> {
    hexutil::decode_fixed::<20>(owner).map_err(|_| SsvError::OwnerAddress(owner.to_owned()))
}

/// The 32 bytes the validator key signs to prove ownership:
/// `keccak256("<EIP-55 owner address>:<nonce>")`.
pub fn ownership_message(owner: &str, nonce: u64) -> Result<[u8; 32], SsvError> {
    let addr = parse_owner(owner)?;
    let text = format!("{}:{nonce}", checksum_address(&addr));
    Ok(Keccak256::digest(text.as_bytes()).into())
}

/// Parses an SSV operator key: base64 of a PEM block (`-----BEGIN RSA PUBLIC KEY-----`, whose
/// body is a SubjectPublicKeyInfo in SSV's registry, or PKCS#1), or the PEM text itself.
pub fn parse_operator_key(key: &str) -> Result<RsaPublicKey, SsvError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = key.trim();
    let pem = if key.starts_with("-----BEGIN") {
        key.to_owned()
    } else {
        let raw = b64.decode(key).map_err(|_| SsvError::OperatorKey("not base64"))?;
        String::from_utf8(raw).map_err(|_| SsvError::OperatorKey("not a PEM text"))?
    };
    let body: String =
        pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).collect();
    let der = b64.decode(body).map_err(|_| SsvError::OperatorKey("PEM body is not base64"))?;
    RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
        .map_err(|_| SsvError::OperatorKey("not an RSA public key"))
}

/// Builds this operator's part: its share encrypted to `operator_key` and its partial
/// signature over the ownership message. Runs where the share is.
pub fn ssv_share_part<R: RngCore + CryptoRng>(
    description: &ClusterDescription,
    share: &SecretShare,
    operator_key: &str,
    owner: &str,
    nonce: u64,
    rng: &mut R,
) -> Result<SsvSharePart, SsvError> {
    let part_err = |reason| SsvError::Part { index: share.index().get(), reason };
    let member = description.member(share.index()).ok_or(part_err("not a member"))?;
    if !description.commitments.verify_share(share) {
        return Err(part_err("share does not match the cluster's commitments"));
    }
    let key = parse_operator_key(operator_key)?;
    let plaintext = zeroize::Zeroizing::new(format!("0x{}", hex::encode(*share.to_bytes())));
    let encrypted =
        key.encrypt(rng, Pkcs1v15Encrypt, plaintext.as_bytes()).map_err(|_| SsvError::Encrypt)?;
    let msg = ownership_message(owner, nonce)?;
    Ok(SsvSharePart {
        validator: description.group_public_key.to_hex(),
        index: share.index(),
        public_share: member.public_share.to_hex(),
        encrypted_share: base64::engine::general_purpose::STANDARD.encode(encrypted),
        owner_address: owner.to_owned(),
        owner_nonce: nonce,
        owner_signature_partial: share.sign(&msg).signature.to_hex(),
    })
}

/// Combines every member's part into `sharesData` (`0x` hex): checks each part against the
/// cluster (validator, public share, owner, nonce), combines `t` valid ownership partials and
/// verifies the result under the group key, then concatenates in ascending operator id.
pub fn ssv_shares_data(
    description: &ClusterDescription,
    owner: &str,
    nonce: u64,
    parts: &[SsvSharePart],
) -> Result<String, SsvError> {
    let set = description.validate().map_err(|e| SsvError::Signature(e.to_string()))?;
    let msg = ownership_message(owner, nonce)?;
    let owner_addr = parse_owner(owner)?;
    let mut members: Vec<&crate::cluster::Member> = description.members.iter().collect();
    members.sort_by_key(|m| m.index);
    let mut public_shares = Vec::new();
    let mut encrypted = Vec::new();
    let mut partials = Vec::new();
    for m in members {
        let index = m.index.get();
        let part = parts.iter().find(|p| p.index == m.index).ok_or(SsvError::MissingPart(index))?;
        let bad = |reason| SsvError::Part { index, reason };
        if part.validator != description.group_public_key.to_hex() {
            return Err(bad("for another validator"));
        }
        if part.public_share != m.public_share.to_hex() {
            return Err(bad("public share differs from the cluster's"));
        }
        if parse_owner(&part.owner_address)? != owner_addr || part.owner_nonce != nonce {
            return Err(bad("for another owner address or nonce"));
        }
        let ct = base64::engine::general_purpose::STANDARD
            .decode(&part.encrypted_share)
            .map_err(|_| bad("encrypted share is not base64"))?;
        if ct.len() != ENCRYPTED_SHARE_LEN {
            return Err(bad("encrypted share is not a 2048-bit RSA ciphertext"));
        }
        let signature = crate::bls::Signature::from_hex(&part.owner_signature_partial)
            .map_err(|_| bad("ownership partial is not a signature"))?;
        partials.push(PartialSignature { index: m.index, signature });
        public_shares.extend_from_slice(&m.public_share.to_bytes());
        encrypted.extend_from_slice(&ct);
    }
    let combined = set.combine(&msg, &partials).map_err(|e| SsvError::Signature(e.to_string()))?;
    let mut out = combined.signature.to_bytes().to_vec();
    out.extend_from_slice(&public_shares);
    out.extend_from_slice(&encrypted);
    Ok(hexutil::encode_prefixed(out))
}
