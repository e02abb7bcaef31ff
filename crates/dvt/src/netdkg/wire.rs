//! DKG messages on the wire: every message is an [`Envelope`] signed by its sender's ed25519
//! identity over the definition hash, the round, sender, recipient and body hash; private
//! bodies are sealed to the recipient's X25519 key (ephemeral X25519, HKDF-SHA256,
//! ChaCha20-Poly1305 — the HPKE base-mode construction, with the sender authenticated by the
//! envelope signature).

use super::definition::{ClusterDefinition, Identity, IdentityPublic};
use crate::threshold::ShareIndex;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use claystack_consensus::hexutil;
use ed25519_dalek::VerifyingKey;
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const MESSAGE_DOMAIN: &[u8] = b"claystack-dkg-message-v1";
const SEAL_DOMAIN: &[u8] = b"claystack-dkg-seal-v1";

/// The steps of the networked DKG, in order. Every round carries one message per sender (per
/// recipient for private rounds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Round {
    /// Broadcast: the dealer's commitments and proof of possession.
    Deal,
    /// Private: the dealer's share for the recipient (sealed).
    Share,
    /// Broadcast: hashes of every `deal` broadcast as received.
    DealEcho,
    /// Broadcast: complaints.
    Complaints,
    /// Broadcast: hashes of every `complaints` broadcast as received.
    ComplaintsEcho,
    /// Broadcast: justifications (revealed shares).
    Justifications,
    /// Broadcast: hashes of every `justifications` broadcast as received.
    JustificationsEcho,
    /// Broadcast: the sender's partial signature over the deposit message.
    Deposit,
    /// Broadcast: the sender gives up; the body is its reason.
    Abort,
}

impl Round {
    fn tag(self) -> u8 {
        match self {
            Self::Deal => 1,
            Self::Share => 2,
            Self::DealEcho => 3,
            Self::Complaints => 4,
            Self::ComplaintsEcho => 5,
            Self::Justifications => 6,
            Self::JustificationsEcho => 7,
            Self::Deposit => 8,
            Self::Abort => 9,
        }
    }

    /// True for rounds whose bodies are sealed to one recipient.
    pub fn is_private(self) -> bool {
        matches!(self, Self::Share)
    }
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::Deal => "deal",
            Self::Share => "share",
            Self::DealEcho => "deal-echo",
            Self::Complaints => "complaints",
            Self::ComplaintsEcho => "complaints-echo",
            Self::Justifications => "justifications",
            Self::JustificationsEcho => "justifications-echo",
            Self::Deposit => "deposit",
            Self::Abort => "abort",
        };
        f.write_str(s)
    }
}

/// Why a message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The sender is not a member.
    #[error("sender {0} is not a member")]
    UnknownSender(ShareIndex),
    /// The message is addressed to another participant, or a broadcast carries a recipient.
    #[error("message of round {round} from {from} is not addressed to this participant")]
    WrongRecipient {
        /// Round.
        round: Round,
        /// Sender.
        from: ShareIndex,
    },
    /// The signature does not verify (forged or tampered message, or another run's).
    #[error("signature of {from}'s {round} message does not verify")]
    BadSignature {
        /// Round.
        round: Round,
        /// Claimed sender.
        from: ShareIndex,
    },
    /// The body is not valid hex or a sealed body is malformed or does not decrypt.
    #[error("body of {from}'s {round} message: {reason}")]
    BadBody {
        /// Round.
        round: Round,
        /// Sender.
        from: ShareIndex,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A signed DKG message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Which step.
    pub round: Round,
    /// Sender's index.
    pub from: ShareIndex,
    /// Recipient (private rounds) or none (broadcasts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<ShareIndex>,
    /// Body (hex; sealed for private rounds).
    pub body: String,
    /// ed25519 signature of the sender over [`Envelope::signed_bytes`] (hex).
    pub signature: String,
}

impl Envelope {
    /// What the sender signs: domain ‖ definition hash ‖ round ‖ from ‖ to (0 for broadcasts) ‖
    /// SHA-256(body).
    pub fn signed_bytes(
        definition_hash: &[u8; 32],
        round: Round,
        from: ShareIndex,
        to: Option<ShareIndex>,
        body: &[u8],
    ) -> Vec<u8> {
        let mut m = MESSAGE_DOMAIN.to_vec();
        m.extend_from_slice(definition_hash);
        m.push(round.tag());
        m.extend_from_slice(&from.get().to_be_bytes());
        m.extend_from_slice(&to.map_or(0, ShareIndex::get).to_be_bytes());
        m.extend_from_slice(&Sha256::digest(body));
        m
    }

    /// Signs `body` as `from`.
    pub fn sign(
        identity: &Identity,
        definition_hash: &[u8; 32],
        round: Round,
        from: ShareIndex,
        to: Option<ShareIndex>,
        body: &[u8],
    ) -> Self {
        let sig = identity.sign(&Self::signed_bytes(definition_hash, round, from, to, body));
        Self {
            round,
            from,
            to,
            body: hexutil::encode_prefixed(body),
            signature: hexutil::encode_prefixed(sig),
        }
    }

    /// Checks that the message is for `me` from a member and signed by that member; returns
    /// the (still sealed, for private rounds) body.
    pub fn verify(
        &self,
        definition: &ClusterDefinition,
        definition_hash: &[u8; 32],
        me: ShareIndex,
    ) -> Result<Vec<u8>, WireError> {
        let (round, from) = (self.round, self.from);
        let member = definition.member(from).ok_or(WireError::UnknownSender(from))?;
        let addressed = if round.is_private() { self.to == Some(me) } else { self.to.is_none() };
        if !addressed || from == me {
            return Err(WireError::WrongRecipient { round, from });
        }
        let body = hexutil::decode(&self.body).map_err(|_| WireError::BadBody {
            round,
            from,
            reason: "not hex",
        })?;
        let bad = || WireError::BadSignature { round, from };
        let sig = hexutil::decode_fixed::<64>(&self.signature).map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&member.identity.identity_key).map_err(|_| bad())?;
        key.verify_strict(
            &Self::signed_bytes(definition_hash, round, from, self.to, &body),
            &ed25519_dalek::Signature::from_bytes(&sig),
        )
        .map_err(|_| bad())?;
        Ok(body)
    }
}

fn seal_key(
    shared: &[u8; 32],
    definition_hash: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
    from: ShareIndex,
    to: ShareIndex,
) -> Option<Zeroizing<[u8; 32]>> {
    let hk = Hkdf::<Sha256>::new(Some(definition_hash), shared);
    let mut info = SEAL_DOMAIN.to_vec();
    info.extend_from_slice(ephemeral);
    info.extend_from_slice(recipient);
    info.extend_from_slice(&from.get().to_be_bytes());
    info.extend_from_slice(&to.get().to_be_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(&info, key.as_mut()).ok()?;
    Some(key)
}

fn seal_aad(definition_hash: &[u8; 32], round: Round, from: ShareIndex, to: ShareIndex) -> Vec<u8> {
    let mut aad = SEAL_DOMAIN.to_vec();
    aad.extend_from_slice(definition_hash);
    aad.push(round.tag());
    aad.extend_from_slice(&from.get().to_be_bytes());
    aad.extend_from_slice(&to.get().to_be_bytes());
    aad
}

/// Encrypts `plaintext` from `from` to `to` (whose public identity is `recipient`). Layout:
/// ephemeral X25519 key (32) ‖ nonce (12) ‖ ChaCha20-Poly1305 ciphertext.
pub fn seal<R: RngCore + CryptoRng>(
    definition_hash: &[u8; 32],
    round: Round,
    from: ShareIndex,
    to: ShareIndex,
    recipient: &IdentityPublic,
    plaintext: &[u8],
    rng: &mut R,
) -> Option<Vec<u8>> {
    let eph = x25519_dalek::EphemeralSecret::random_from_rng(&mut *rng);
    let eph_pub = x25519_dalek::PublicKey::from(&eph).to_bytes();
    let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(recipient.encryption_key));
    if !shared.was_contributory() {
        return None;
    }
    let key = seal_key(
        shared.as_bytes(),
        definition_hash,
        &eph_pub,
        &recipient.encryption_key,
        from,
        to,
    )?;
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
    let aad = seal_aad(definition_hash, round, from, to);
    let ct =
        cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad }).ok()?;
    let mut out = Vec::with_capacity(44usize.saturating_add(ct.len()));
    out.extend_from_slice(&eph_pub);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Some(out)
}

/// Decrypts a body sealed by [`seal`] with `me`'s identity.
pub fn open(
    identity: &Identity,
    definition_hash: &[u8; 32],
    round: Round,
    from: ShareIndex,
    me: ShareIndex,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, WireError> {
    let bad = |reason| WireError::BadBody { round, from, reason };
    let (eph, rest) = sealed.split_first_chunk::<32>().ok_or(bad("sealed body too short"))?;
    let (nonce, ct) = rest.split_first_chunk::<12>().ok_or(bad("sealed body too short"))?;
    let shared = identity.encryption_secret().diffie_hellman(&x25519_dalek::PublicKey::from(*eph));
    if !shared.was_contributory() {
        return Err(bad("low-order ephemeral key"));
    }
    let me_pub = identity.public().encryption_key;
    let key = seal_key(shared.as_bytes(), definition_hash, eph, &me_pub, from, me)
        .ok_or(bad("key derivation"))?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
    let aad = seal_aad(definition_hash, round, from, me);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| bad("does not decrypt"))
}
