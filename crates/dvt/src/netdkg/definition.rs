//! Operator identities and the cluster definition every operator signs before a networked DKG.
//!
//! An identity is two keys an operator keeps on its own machine: an ed25519 key that signs the
//! definition and every DKG message, and an X25519 key to which the other participants encrypt
//! its private shares. The definition lists every member's public identity and the cluster's
//! parameters; a DKG starts only when every member has signed the same definition hash.

use crate::threshold::{ShareIndex, check_distinct};
use claystack_consensus::hexutil;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

/// Version of the definition format.
pub const DEFINITION_VERSION: u32 = 1;

/// Domain separator of the definition hash.
const DEFINITION_DOMAIN: &[u8] = b"claystack-dkg-definition-v1";
/// Domain separator of an operator's signature over the definition hash.
const DEFINITION_SIG_DOMAIN: &[u8] = b"claystack-dkg-definition-signature-v1";

/// Why an identity or a definition is unusable.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// Unsupported format version.
    #[error("unsupported definition version {0}")]
    Version(u32),
    /// Parameters are inconsistent (threshold, indices, duplicate keys).
    #[error("invalid cluster definition: {0}")]
    Invalid(String),
    /// A key is not a valid encoding.
    #[error("invalid {what} of member {index}")]
    BadKey {
        /// Which key.
        what: &'static str,
        /// Which member.
        index: ShareIndex,
    },
    /// A member has not signed the definition.
    #[error("member {0} has not signed the definition")]
    Unsigned(ShareIndex),
    /// A member's signature does not verify over this definition.
    #[error("signature of member {0} does not verify over this definition")]
    BadSignature(ShareIndex),
    /// The identity is not a member of the definition.
    #[error("this identity ({0}) is not a member of the definition")]
    NotAMember(String),
    /// File I/O.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Which file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// JSON encoding or decoding.
    #[error("definition json: {0}")]
    Json(#[from] serde_json::Error),
}

/// An operator's DKG identity (secret). Keep it on the operator's machine only.
pub struct Identity {
    signing: SigningKey,
    encryption: x25519_dalek::StaticSecret,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("public", &self.public()).finish_non_exhaustive()
    }
}

/// The public half of an [`Identity`], as listed in a definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPublic {
    /// ed25519 key that signs the definition and DKG messages.
    #[serde(with = "hexutil::fixed")]
    pub identity_key: [u8; 32],
    /// X25519 key private shares are encrypted to.
    #[serde(with = "hexutil::fixed")]
    pub encryption_key: [u8; 32],
}

#[derive(Serialize, Deserialize)]
struct IdentityFile {
    #[serde(with = "hexutil::fixed")]
    identity_secret: [u8; 32],
    #[serde(with = "hexutil::fixed")]
    encryption_secret: [u8; 32],
    #[serde(flatten)]
    public: IdentityPublic,
}

impl Identity {
    /// A fresh identity.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self {
            signing: SigningKey::generate(rng),
            encryption: x25519_dalek::StaticSecret::random_from_rng(rng),
        }
    }

    /// The public keys.
    pub fn public(&self) -> IdentityPublic {
        IdentityPublic {
            identity_key: self.signing.verifying_key().to_bytes(),
            encryption_key: x25519_dalek::PublicKey::from(&self.encryption).to_bytes(),
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    pub(crate) fn encryption_secret(&self) -> &x25519_dalek::StaticSecret {
        &self.encryption
    }

    /// Serializes the identity (secret keys included) as JSON.
    pub fn to_json(&self) -> Result<Zeroizing<String>, DefinitionError> {
        let file = IdentityFile {
            identity_secret: self.signing.to_bytes(),
            encryption_secret: self.encryption.to_bytes(),
            public: self.public(),
        };
        Ok(Zeroizing::new(serde_json::to_string_pretty(&file)?))
    }

    /// Parses an identity written by [`Identity::to_json`]; the public keys must match.
    pub fn from_json(text: &str) -> Result<Self, DefinitionError> {
        let mut file: IdentityFile = serde_json::from_str(text)?;
        let id = Self {
            signing: SigningKey::from_bytes(&file.identity_secret),
            encryption: x25519_dalek::StaticSecret::from(file.encryption_secret),
        };
        zeroize::Zeroize::zeroize(&mut file.identity_secret);
        zeroize::Zeroize::zeroize(&mut file.encryption_secret);
        if id.public() != file.public {
            return Err(DefinitionError::Invalid(
                "identity file: public keys do not match the secret keys".into(),
            ));
        }
        Ok(id)
    }

    /// Reads an identity file.
    pub fn read(path: &Path) -> Result<Self, DefinitionError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            DefinitionError::Io { action: "read identity", path: path.to_owned(), source }
        })?);
        Self::from_json(&text)
    }
}

/// One member of a cluster definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionMember {
    /// Share index (x-coordinate; SSV operator id where applicable).
    pub index: ShareIndex,
    /// Base URL of the member's signing node (`claystack dvt node`) after the DKG.
    pub node_address: String,
    /// Base URL of the member's DKG endpoint (`claystack dvt dkg run`).
    pub dkg_address: String,
    /// The member's public identity.
    #[serde(flatten)]
    pub identity: IdentityPublic,
}

/// What the operators agree on before a networked DKG: parameters and members. Every member
/// signs [`ClusterDefinition::hash`]; the hash (which covers the random `session`) is bound
/// into every DKG message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDefinition {
    /// Format version ([`DEFINITION_VERSION`]).
    pub version: u32,
    /// Cluster name.
    pub name: String,
    /// Network of the deposit (`mainnet`, `holesky`, …).
    pub network: String,
    /// Partial signatures needed.
    pub threshold: usize,
    /// Execution address of the 0x01 withdrawal credentials.
    pub withdrawal_address: String,
    /// Deposit amount in Gwei.
    pub amount_gwei: u64,
    /// Random id of this run (so that messages of another run never verify).
    #[serde(with = "hexutil::fixed")]
    pub session: [u8; 32],
    /// Members, in index order.
    pub members: Vec<DefinitionMember>,
    /// ed25519 signature of each member over the definition hash (hex), by index.
    #[serde(default)]
    pub signatures: BTreeMap<ShareIndex, String>,
}

impl ClusterDefinition {
    /// The hash every member signs: SHA-256 over a domain tag and the canonical JSON of the
    /// definition without its signatures.
    pub fn hash(&self) -> Result<[u8; 32], DefinitionError> {
        let unsigned = Self { signatures: BTreeMap::new(), ..self.clone() };
        let mut h = Sha256::new();
        h.update(DEFINITION_DOMAIN);
        h.update(serde_json::to_vec(&unsigned)?);
        Ok(h.finalize().into())
    }

    fn signature_message(hash: &[u8; 32]) -> Vec<u8> {
        let mut m = DEFINITION_SIG_DOMAIN.to_vec();
        m.extend_from_slice(hash);
        m
    }

    /// Checks the parameters: version, `1 <= t <= n`, distinct indices and keys, valid keys.
    pub fn check(&self) -> Result<(), DefinitionError> {
        if self.version != DEFINITION_VERSION {
            return Err(DefinitionError::Version(self.version));
        }
        let indices: Vec<ShareIndex> = self.members.iter().map(|m| m.index).collect();
        check_distinct(&indices).map_err(|e| DefinitionError::Invalid(e.to_string()))?;
        if self.threshold == 0 || self.threshold > self.members.len() {
            return Err(DefinitionError::Invalid(format!(
                "threshold {} for {} members",
                self.threshold,
                self.members.len()
            )));
        }
        let mut keys = std::collections::BTreeSet::new();
        for m in &self.members {
            VerifyingKey::from_bytes(&m.identity.identity_key)
                .map_err(|_| DefinitionError::BadKey { what: "identity key", index: m.index })?;
            if !keys.insert(m.identity.identity_key) || !keys.insert(m.identity.encryption_key) {
                return Err(DefinitionError::Invalid(format!(
                    "member {} reuses a key of another member",
                    m.index
                )));
            }
        }
        Ok(())
    }

    /// Adds `identity`'s signature (it must be a member). Returns the member's index.
    pub fn sign(&mut self, identity: &Identity) -> Result<ShareIndex, DefinitionError> {
        self.check()?;
        let index = self.member_of(identity)?;
        let hash = self.hash()?;
        let sig = identity.sign(&Self::signature_message(&hash));
        self.signatures.insert(index, hexutil::encode_prefixed(sig));
        Ok(index)
    }

    /// The index of `identity` in this definition.
    pub fn member_of(&self, identity: &Identity) -> Result<ShareIndex, DefinitionError> {
        let public = identity.public();
        self.members.iter().find(|m| m.identity == public).map(|m| m.index).ok_or_else(|| {
            DefinitionError::NotAMember(hexutil::encode_prefixed(public.identity_key))
        })
    }

    /// Checks the parameters and that every member signed this exact definition; returns its
    /// hash.
    pub fn verify(&self) -> Result<[u8; 32], DefinitionError> {
        self.check()?;
        let hash = self.hash()?;
        let msg = Self::signature_message(&hash);
        for m in &self.members {
            let sig = self.signatures.get(&m.index).ok_or(DefinitionError::Unsigned(m.index))?;
            let sig = hexutil::decode_fixed::<64>(sig)
                .map_err(|_| DefinitionError::BadSignature(m.index))?;
            let key = VerifyingKey::from_bytes(&m.identity.identity_key)
                .map_err(|_| DefinitionError::BadKey { what: "identity key", index: m.index })?;
            key.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&sig))
                .map_err(|_| DefinitionError::BadSignature(m.index))?;
        }
        Ok(hash)
    }

    /// The member with this index.
    pub fn member(&self, index: ShareIndex) -> Option<&DefinitionMember> {
        self.members.iter().find(|m| m.index == index)
    }

    /// Reads a definition file (not verified: call [`ClusterDefinition::verify`]).
    pub fn read(path: &Path) -> Result<Self, DefinitionError> {
        let text = std::fs::read_to_string(path).map_err(|source| DefinitionError::Io {
            action: "read definition",
            path: path.to_owned(),
            source,
        })?;
        Ok(serde_json::from_str(&text)?)
    }
}
