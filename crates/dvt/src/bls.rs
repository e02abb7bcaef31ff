//! BLS12-381 signatures as Ethereum uses them (the `POP` ciphersuite, public keys in G1,
//! signatures in G2): keys, signing, verification and aggregation.
//!
//! These are thin typed wrappers over `blst` whose constructors enforce what the consensus
//! specs require: secret keys in `[1, r)`, public keys on the curve, in the subgroup and not the
//! point at infinity (`KeyValidate`), signatures on the curve and in the subgroup.

use crate::curve::{G1, G2, Scalar};
use blst::min_pk;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use zeroize::Zeroizing;

/// The domain separation tag of Ethereum's BLS signatures (proof-of-possession scheme).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Why a BLS value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// Not a 32-byte big-endian integer in `[1, r)`.
    #[error("invalid secret key")]
    InvalidSecretKey,
    /// Not a valid compressed G1 point in the subgroup, or the point at infinity.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// Not a valid compressed G2 point in the subgroup.
    #[error("invalid signature")]
    InvalidSignature,
    /// An aggregation was asked of an empty list.
    #[error("nothing to aggregate")]
    Empty,
    /// Bytes were not valid hex.
    #[error("invalid hex: {0}")]
    Hex(String),
}

/// A BLS secret key: a scalar in `[1, r)`. Zeroized on drop; its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Scalar);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.public_key())
    }
}

impl SecretKey {
    /// A fresh uniformly random key.
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        Self(Scalar::random_nonzero(rng))
    }

    /// Parses the 32-byte big-endian encoding (as stored in EIP-2335 keystores).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| BlsError::InvalidSecretKey)?;
        let s = Scalar::from_be_bytes(arr).ok_or(BlsError::InvalidSecretKey)?;
        Self::from_scalar(s)
    }

    /// Wraps a scalar; rejects zero.
    pub fn from_scalar(s: Scalar) -> Result<Self, BlsError> {
        if s.is_zero() { Err(BlsError::InvalidSecretKey) } else { Ok(Self(s)) }
    }

    /// The 32-byte big-endian encoding, zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_be_bytes())
    }

    /// The scalar behind the key.
    pub fn as_scalar(&self) -> &Scalar {
        &self.0
    }

    /// The public key `sk · G1`.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(G1::mul_generator(&self.0))
    }

    /// Signs `msg` (hash to G2 with [`DST`], multiply by the key).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(G2::hash_to_curve(msg, DST).mul(&self.0))
    }
}

/// A BLS public key: a G1 point in the subgroup, never the point at infinity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(G1);

impl PublicKey {
    /// Parses a 48-byte compressed key (`KeyValidate`: rejects infinity and non-subgroup points).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: &[u8; 48] = bytes.try_into().map_err(|_| BlsError::InvalidPublicKey)?;
        let p = G1::from_compressed(arr).ok_or(BlsError::InvalidPublicKey)?;
        Self::from_point(p)
    }

    /// Parses `0x`-prefixed (or bare) hex.
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        let b =
            claystack_consensus::hexutil::decode(s).map_err(|e| BlsError::Hex(e.to_string()))?;
        Self::from_bytes(&b)
    }

    /// Wraps a subgroup point; rejects the point at infinity.
    pub fn from_point(p: G1) -> Result<Self, BlsError> {
        if p.is_identity() { Err(BlsError::InvalidPublicKey) } else { Ok(Self(p)) }
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.to_compressed()
    }

    /// The underlying point.
    pub fn point(&self) -> &G1 {
        &self.0
    }

    /// `0x`-prefixed hex of the compressed encoding.
    pub fn to_hex(&self) -> String {
        claystack_consensus::hexutil::encode_prefixed(self.to_bytes())
    }

    /// Verifies `sig` over `msg` under this key (CoreVerify with [`DST`]).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> bool {
        sig.to_blst().verify(true, msg, DST, &[], &self.to_blst(), false)
            == blst::BLST_ERROR::BLST_SUCCESS
    }

    fn to_blst(self) -> min_pk::PublicKey {
        min_pk::PublicKey::from(self.0.to_affine())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::str::FromStr for PublicKey {
    type Err = BlsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).map_err(D::Error::custom)
    }
}

/// A BLS signature: a G2 point in the subgroup (the point at infinity parses, and verifies
/// under no valid key).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(G2);

impl Signature {
    /// Parses a 96-byte compressed signature, checking curve and subgroup membership.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let sig = min_pk::Signature::sig_validate(bytes, false)
            .map_err(|_| BlsError::InvalidSignature)?;
        Ok(Self(G2::from_affine(&blst::blst_p2_affine::from(sig))))
    }

    /// Parses `0x`-prefixed (or bare) hex.
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        let b =
            claystack_consensus::hexutil::decode(s).map_err(|e| BlsError::Hex(e.to_string()))?;
        Self::from_bytes(&b)
    }

    /// Wraps a G2 point that is known to be in the subgroup (results of group operations on
    /// validated points).
    pub fn from_point(p: G2) -> Self {
        Self(p)
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.to_compressed()
    }

    /// `0x`-prefixed hex of the compressed encoding.
    pub fn to_hex(&self) -> String {
        claystack_consensus::hexutil::encode_prefixed(self.to_bytes())
    }

    /// The underlying point.
    pub fn point(&self) -> &G2 {
        &self.0
    }

    fn to_blst(self) -> min_pk::Signature {
        min_pk::Signature::from(self.0.to_affine())
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).map_err(D::Error::custom)
    }
}

/// Decodes a compressed G1 point (curve and subgroup checked), accepting the point at
/// infinity: the spec's point deserialization. Public keys need [`PublicKey::from_bytes`],
/// which also rejects infinity (`KeyValidate`).
pub fn deserialize_g1(bytes: &[u8]) -> Result<G1, BlsError> {
    let arr: &[u8; 48] = bytes.try_into().map_err(|_| BlsError::InvalidPublicKey)?;
    G1::from_compressed(arr).ok_or(BlsError::InvalidPublicKey)
}

/// Aggregates signatures by point addition; fails on an empty list.
pub fn aggregate(sigs: &[Signature]) -> Result<Signature, BlsError> {
    if sigs.is_empty() {
        return Err(BlsError::Empty);
    }
    Ok(Signature(sigs.iter().fold(G2::identity(), |acc, s| acc.add(&s.0))))
}

/// Verifies one signature by several keys over the same message; false for an empty key list.
pub fn fast_aggregate_verify(pks: &[PublicKey], msg: &[u8], sig: &Signature) -> bool {
    if pks.is_empty() {
        return false;
    }
    let pks: Vec<min_pk::PublicKey> = pks.iter().map(|p| p.to_blst()).collect();
    let refs: Vec<&min_pk::PublicKey> = pks.iter().collect();
    sig.to_blst().fast_aggregate_verify(true, msg, DST, &refs) == blst::BLST_ERROR::BLST_SUCCESS
}

/// Verifies an aggregate signature over `(pk_i, msg_i)` pairs; false if empty or unequal lengths.
pub fn aggregate_verify(pks: &[PublicKey], msgs: &[&[u8]], sig: &Signature) -> bool {
    if pks.is_empty() || pks.len() != msgs.len() {
        return false;
    }
    let pks: Vec<min_pk::PublicKey> = pks.iter().map(|p| p.to_blst()).collect();
    let refs: Vec<&min_pk::PublicKey> = pks.iter().collect();
    sig.to_blst().aggregate_verify(true, msgs, DST, &refs, false) == blst::BLST_ERROR::BLST_SUCCESS
}

/// Verifies several `(pk, msg, sig)` triples at once with random linear combination; false if
/// empty or if any triple is invalid.
pub fn batch_verify(sets: &[(PublicKey, &[u8], Signature)]) -> bool {
    if sets.is_empty() {
        return false;
    }
    let mut rng = rand::thread_rng();
    let rands: Vec<blst::blst_scalar> = sets
        .iter()
        .map(|_| {
            // 64 random non-zero bits per set, as blst's own tests and Lighthouse use.
            let r = rng.next_u64().max(1);
            let mut b = [0u8; 32];
            for (dst, src) in b.iter_mut().zip(r.to_le_bytes()) {
                *dst = src;
            }
            blst::blst_scalar { b }
        })
        .collect();
    let pks: Vec<min_pk::PublicKey> = sets.iter().map(|(p, _, _)| p.to_blst()).collect();
    let sigs: Vec<min_pk::Signature> = sets.iter().map(|(_, _, s)| s.to_blst()).collect();
    let msgs: Vec<&[u8]> = sets.iter().map(|(_, m, _)| *m).collect();
    let pk_refs: Vec<&min_pk::PublicKey> = pks.iter().collect();
    let sig_refs: Vec<&min_pk::Signature> = sigs.iter().collect();
    min_pk::Signature::verify_multiple_aggregate_signatures(
        &msgs, DST, &pk_refs, false, &sig_refs, true, &rands, 64,
    ) == blst::BLST_ERROR::BLST_SUCCESS
}

/// Hashes `msg` to G2 under `dst` and returns the affine coordinates as big-endian bytes
/// `((x.c0, x.c1), (y.c0, y.c1))`.
pub fn hash_to_g2(msg: &[u8], dst: &[u8]) -> crate::curve::G2Coordinates {
    G2::hash_to_curve(msg, dst).affine_coordinates()
}
