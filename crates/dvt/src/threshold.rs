//! t-of-n threshold BLS: Shamir sharing of a secret key with Feldman commitments, Lagrange
//! interpolation at zero of partial signatures (G2), public shares (G1) and secret shares, and
//! verified combination that identifies and excludes wrong partial signatures.
//!
//! A share's index is its x-coordinate on the sharing polynomial: any non-zero `u64`, distinct
//! within a cluster (SSV uses operator ids, Obol uses 1..=n).

use crate::bls::{BlsError, PublicKey, SecretKey, Signature};
use crate::curve::{G1, G2, Scalar};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::collections::{BTreeMap, BTreeSet};
use zeroize::Zeroizing;

/// Why a threshold operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// The threshold must satisfy `1 <= t <= n`.
    #[error("invalid threshold {threshold} for {shares} shares")]
    InvalidThreshold {
        /// Requested threshold.
        threshold: usize,
        /// Number of shares.
        shares: usize,
    },
    /// Share indices are x-coordinates and must not be zero (f(0) is the secret).
    #[error("share index 0 is not allowed")]
    ZeroIndex,
    /// The same index appears twice.
    #[error("duplicate share index {0}")]
    DuplicateIndex(ShareIndex),
    /// Too few (valid) shares or partial signatures.
    #[error("not enough shares: have {have}, need {need}")]
    NotEnoughShares {
        /// Valid items available.
        have: usize,
        /// Threshold.
        need: usize,
    },
    /// An index that is not a member of the set.
    #[error("unknown share index {0}")]
    UnknownIndex(ShareIndex),
    /// A secret share does not match the dealer's Feldman commitments.
    #[error("share {0} does not match the commitments")]
    ShareMismatch(ShareIndex),
    /// A partial signature does not verify under its public share.
    #[error("partial signature {0} does not verify under its public share")]
    InvalidPartial(ShareIndex),
    /// The combined signature does not verify under the group key.
    #[error("combined signature does not verify under the group public key")]
    GroupSignatureInvalid,
    /// Commitment vectors of different lengths were combined, or a vector was empty.
    #[error("commitment vectors have inconsistent lengths")]
    CommitmentLength,
    /// A derived key was the point at infinity or a derived secret was zero.
    #[error("degenerate key material: {0}")]
    Bls(#[from] BlsError),
}

/// The x-coordinate of a share: a non-zero integer, distinct within one sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct ShareIndex(u64);

impl ShareIndex {
    /// Wraps a non-zero index.
    pub fn new(v: u64) -> Result<Self, ThresholdError> {
        if v == 0 { Err(ThresholdError::ZeroIndex) } else { Ok(Self(v)) }
    }

    /// The index as an integer.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The indices `1..=n`, as Obol and most DKGs number shares.
    pub fn range(n: u64) -> Vec<Self> {
        (1..=n).map(Self).collect()
    }

    fn scalar(self) -> Scalar {
        Scalar::from_u64(self.0)
    }
}

impl TryFrom<u64> for ShareIndex {
    type Error = ThresholdError;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<ShareIndex> for u64 {
    fn from(v: ShareIndex) -> u64 {
        v.0
    }
}

impl std::fmt::Display for ShareIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Checks that indices are pairwise distinct (non-zero is guaranteed by [`ShareIndex`]).
pub fn check_distinct(indices: &[ShareIndex]) -> Result<(), ThresholdError> {
    let mut seen = BTreeSet::new();
    for i in indices {
        if !seen.insert(*i) {
            return Err(ThresholdError::DuplicateIndex(*i));
        }
    }
    Ok(())
}

fn check_threshold(threshold: usize, shares: usize) -> Result<(), ThresholdError> {
    if threshold == 0 || threshold > shares {
        return Err(ThresholdError::InvalidThreshold { threshold, shares });
    }
    Ok(())
}

/// A secret polynomial of degree `t - 1` over Fr; `f(0)` is the shared secret. Zeroized on drop.
#[derive(Clone, Debug)]
pub struct Polynomial {
    coeffs: Vec<Scalar>,
}

impl Polynomial {
    /// A random polynomial with the given constant term and `threshold - 1` further non-zero
    /// random coefficients (non-zero so that no commitment is the point at infinity).
    pub fn random<R: RngCore + ?Sized>(
        constant: Scalar,
        threshold: usize,
        rng: &mut R,
    ) -> Result<Self, ThresholdError> {
        if threshold == 0 {
            return Err(ThresholdError::InvalidThreshold { threshold, shares: 0 });
        }
        let mut coeffs = Vec::with_capacity(threshold);
        coeffs.push(constant);
        while coeffs.len() < threshold {
            coeffs.push(Scalar::random_nonzero(rng));
        }
        Ok(Self { coeffs })
    }

    /// `f(x)` by Horner's rule.
    pub fn evaluate(&self, x: ShareIndex) -> Scalar {
        let x = x.scalar();
        self.coeffs.iter().rev().fold(Scalar::zero(), |acc, c| acc.mul(&x).add(c))
    }

    /// The Feldman commitments `a_j · G1` of every coefficient.
    pub fn commitments(&self) -> Commitments {
        Commitments(self.coeffs.iter().map(G1::mul_generator).collect())
    }

    /// The secret `f(0)` (always present: [`Polynomial::random`] never builds an empty one).
    pub fn constant(&self) -> Option<&Scalar> {
        self.coeffs.first()
    }
}

/// Feldman commitments `C_j = a_j · G1` to the coefficients of a sharing polynomial. They are
/// public; `C_0` is the group public key and `Σ C_j · x^j` the public share of index `x`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitments(Vec<G1>);

impl Commitments {
    /// Builds commitments from points; fails if empty.
    pub fn from_points(points: Vec<G1>) -> Result<Self, ThresholdError> {
        if points.is_empty() {
            return Err(ThresholdError::CommitmentLength);
        }
        Ok(Self(points))
    }

    /// The commitment points, constant term first.
    pub fn points(&self) -> &[G1] {
        &self.0
    }

    /// The threshold `t` (number of coefficients).
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// `Σ C_j · x^j`, the expected public share of index `x`, by Horner's rule.
    pub fn evaluate(&self, x: ShareIndex) -> G1 {
        // x is a 64-bit index: 64-bit multiplications are four times cheaper than full ones.
        self.0.iter().rev().fold(G1::identity(), |acc, c| acc.mul_u64(x.get()).add(c))
    }

    /// The public key share of index `x`.
    pub fn public_share(&self, x: ShareIndex) -> Result<PublicKey, ThresholdError> {
        Ok(PublicKey::from_point(self.evaluate(x))?)
    }

    /// The group public key `C_0`.
    pub fn group_public_key(&self) -> Result<PublicKey, ThresholdError> {
        let c0 = self.0.first().ok_or(ThresholdError::CommitmentLength)?;
        Ok(PublicKey::from_point(*c0)?)
    }

    /// Feldman check: does `share · G1` equal the committed public share of its index?
    pub fn verify_share(&self, share: &SecretShare) -> bool {
        G1::mul_generator(&share.secret) == self.evaluate(share.index)
    }

    /// Coefficient-wise sum, the commitments of the sum of the polynomials (used by the DKG).
    pub fn add(&self, other: &Self) -> Result<Self, ThresholdError> {
        if self.0.len() != other.0.len() {
            return Err(ThresholdError::CommitmentLength);
        }
        Ok(Self(self.0.iter().zip(&other.0).map(|(a, b)| a.add(b)).collect()))
    }

    /// The public key set for the given member indices.
    pub fn public_key_set(&self, indices: &[ShareIndex]) -> Result<PublicKeySet, ThresholdError> {
        check_distinct(indices)?;
        check_threshold(self.threshold(), indices.len())?;
        let shares = indices
            .iter()
            .map(|i| Ok((*i, self.public_share(*i)?)))
            .collect::<Result<BTreeMap<_, _>, ThresholdError>>()?;
        Ok(PublicKeySet {
            threshold: self.threshold(),
            group_public_key: self.group_public_key()?,
            public_shares: shares,
        })
    }
}

impl Serialize for Commitments {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<String> = self
            .0
            .iter()
            .map(|p| claystack_consensus::hexutil::encode_prefixed(p.to_compressed()))
            .collect();
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Commitments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        let points = v
            .iter()
            .map(|s| {
                let b = claystack_consensus::hexutil::decode_fixed::<48>(s)
                    .map_err(D::Error::custom)?;
                G1::from_compressed(&b).ok_or_else(|| D::Error::custom("invalid G1 commitment"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_points(points).map_err(D::Error::custom)
    }
}

/// One member's share of a secret key: `(x, f(x))`. Zeroized on drop; `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretShare {
    index: ShareIndex,
    secret: Scalar,
}

impl std::fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretShare({}, ..)", self.index)
    }
}

impl SecretShare {
    /// Builds a share from its index and secret value.
    pub fn new(index: ShareIndex, secret: Scalar) -> Self {
        Self { index, secret }
    }

    /// Parses a share from its index and the 32-byte big-endian secret (a keystore's content).
    pub fn from_bytes(index: ShareIndex, bytes: &[u8]) -> Result<Self, ThresholdError> {
        let sk = SecretKey::from_bytes(bytes)?;
        Ok(Self { index, secret: sk.as_scalar().clone() })
    }

    /// The share's index (x-coordinate).
    pub fn index(&self) -> ShareIndex {
        self.index
    }

    /// The secret value `f(x)`.
    pub fn secret(&self) -> &Scalar {
        &self.secret
    }

    /// The share as an ordinary BLS secret key (fails only for the negligible `f(x) = 0`).
    pub fn to_secret_key(&self) -> Result<SecretKey, ThresholdError> {
        Ok(SecretKey::from_scalar(self.secret.clone())?)
    }

    /// The 32-byte big-endian secret, zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_be_bytes())
    }

    /// The public share `f(x) · G1`.
    pub fn public_share(&self) -> Result<PublicKey, ThresholdError> {
        Ok(PublicKey::from_point(G1::mul_generator(&self.secret))?)
    }

    /// Signs `msg` with the share, giving a partial signature.
    pub fn sign(&self, msg: &[u8]) -> PartialSignature {
        let sig = G2::hash_to_curve(msg, crate::bls::DST).mul(&self.secret);
        PartialSignature { index: self.index, signature: Signature::from_point(sig) }
    }
}

/// A signature by one share, tagged with the share's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialSignature {
    /// The signer's share index.
    pub index: ShareIndex,
    /// The signature by the share.
    pub signature: Signature,
}

/// Splits `secret` into shares for `indices`, any `threshold` of which reconstruct it, with a
/// trusted dealer (the caller holds the whole key). Returns the shares (in the order of
/// `indices`) and the Feldman commitments to check them.
pub fn split<R: RngCore + ?Sized>(
    secret: &SecretKey,
    threshold: usize,
    indices: &[ShareIndex],
    rng: &mut R,
) -> Result<(Vec<SecretShare>, Commitments), ThresholdError> {
    check_threshold(threshold, indices.len())?;
    check_distinct(indices)?;
    let poly = Polynomial::random(secret.as_scalar().clone(), threshold, rng)?;
    let shares = indices.iter().map(|i| SecretShare::new(*i, poly.evaluate(*i))).collect();
    Ok((shares, poly.commitments()))
}

/// The Lagrange coefficients at zero for the given x-coordinates:
/// `λ_i = Π_{j≠i} x_j / (x_j − x_i)`.
pub fn lagrange_coefficients(indices: &[ShareIndex]) -> Result<Vec<Scalar>, ThresholdError> {
    if indices.is_empty() {
        return Err(ThresholdError::NotEnoughShares { have: 0, need: 1 });
    }
    check_distinct(indices)?;
    let xs: Vec<Scalar> = indices.iter().map(|i| i.scalar()).collect();
    let mut out = Vec::with_capacity(xs.len());
    for (i, xi) in xs.iter().enumerate() {
        let mut num = Scalar::from_u64(1);
        let mut den = Scalar::from_u64(1);
        for (j, xj) in xs.iter().enumerate() {
            if i != j {
                num = num.mul(xj);
                den = den.mul(&xj.sub(xi));
            }
        }
        // Distinct indices below r give a non-zero denominator.
        let inv = den.inverse().ok_or(ThresholdError::DuplicateIndex(
            indices.get(i).copied().unwrap_or(ShareIndex(1)),
        ))?;
        out.push(num.mul(&inv));
    }
    Ok(out)
}

/// Interpolates G2 points `(x_i, P_i)` at zero: `Σ λ_i · P_i`.
pub fn interpolate_g2(points: &[(ShareIndex, G2)]) -> Result<G2, ThresholdError> {
    let idx: Vec<ShareIndex> = points.iter().map(|(i, _)| *i).collect();
    let lambdas = lagrange_coefficients(&idx)?;
    let pts: Vec<G2> = points.iter().map(|(_, p)| *p).collect();
    G2::multi_mul(&pts, &lambdas).ok_or(ThresholdError::NotEnoughShares { have: 0, need: 1 })
}

/// Interpolates G1 points `(x_i, P_i)` at zero: `Σ λ_i · P_i`.
pub fn interpolate_g1(points: &[(ShareIndex, G1)]) -> Result<G1, ThresholdError> {
    let idx: Vec<ShareIndex> = points.iter().map(|(i, _)| *i).collect();
    let lambdas = lagrange_coefficients(&idx)?;
    Ok(points.iter().zip(&lambdas).fold(G1::identity(), |acc, ((_, p), l)| acc.add(&p.mul(l))))
}

/// Combines partial signatures by Lagrange interpolation at zero, without verifying them. With
/// fewer than `t` partials (or any wrong one) the result is not the group signature; use
/// [`PublicKeySet::combine`] to verify.
pub fn combine_partials(partials: &[PartialSignature]) -> Result<Signature, ThresholdError> {
    let pts: Vec<(ShareIndex, G2)> =
        partials.iter().map(|p| (p.index, *p.signature.point())).collect();
    Ok(Signature::from_point(interpolate_g2(&pts)?))
}

/// Combines public shares into the public key they interpolate to (the group key when at
/// least `t` correct shares are given).
pub fn combine_public_shares(
    shares: &[(ShareIndex, PublicKey)],
) -> Result<PublicKey, ThresholdError> {
    let pts: Vec<(ShareIndex, G1)> = shares.iter().map(|(i, p)| (*i, *p.point())).collect();
    Ok(PublicKey::from_point(interpolate_g1(&pts)?)?)
}

/// Reconstructs the whole secret key from at least `t` shares. Only for tests, recovery and
/// audits: a running cluster never does this.
pub fn reconstruct_secret(shares: &[SecretShare]) -> Result<SecretKey, ThresholdError> {
    let idx: Vec<ShareIndex> = shares.iter().map(|s| s.index).collect();
    let lambdas = lagrange_coefficients(&idx)?;
    let secret =
        shares.iter().zip(&lambdas).fold(Scalar::zero(), |acc, (s, l)| acc.add(&s.secret.mul(l)));
    Ok(SecretKey::from_scalar(secret)?)
}

/// The public side of a sharing: threshold, group key and each member's public share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeySet {
    /// Number of partial signatures needed.
    pub threshold: usize,
    /// The validator's (group) public key.
    pub group_public_key: PublicKey,
    /// Public share of each member index.
    pub public_shares: BTreeMap<ShareIndex, PublicKey>,
}

/// A group signature together with the shares it was made from and those rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combined {
    /// The group signature, verified under the group public key.
    pub signature: Signature,
    /// Indices whose partials were combined.
    pub signers: Vec<ShareIndex>,
    /// Indices whose partials were excluded (unknown, duplicate or not verifying).
    pub rejected: Vec<ShareIndex>,
}

impl PublicKeySet {
    /// Checks one partial signature over `msg` against its member's public share.
    pub fn verify_partial(
        &self,
        msg: &[u8],
        partial: &PartialSignature,
    ) -> Result<(), ThresholdError> {
        let pk = self
            .public_shares
            .get(&partial.index)
            .ok_or(ThresholdError::UnknownIndex(partial.index))?;
        if pk.verify(msg, &partial.signature) {
            Ok(())
        } else {
            Err(ThresholdError::InvalidPartial(partial.index))
        }
    }

    /// Checks several partial signatures over the same `msg` at once: with random non-zero
    /// 64-bit weights `r_i`, verifies `Σ r_i·σ_i` under `Σ r_i·PK_i` — one signature
    /// verification instead of one per partial. True only if every partial is valid (except
    /// with probability about 2^-64); false for an empty list or an unknown index.
    pub fn verify_partials_batch(&self, msg: &[u8], partials: &[PartialSignature]) -> bool {
        if partials.is_empty() {
            return false;
        }
        let mut rng = rand::thread_rng();
        let mut sig = G2::identity();
        let mut pk = G1::identity();
        for p in partials {
            let Some(share_pk) = self.public_shares.get(&p.index) else { return false };
            let r = rng.next_u64().max(1);
            sig = sig.add(&p.signature.point().mul_u64(r));
            pk = pk.add(&share_pk.point().mul_u64(r));
        }
        match PublicKey::from_point(pk) {
            Ok(pk) => pk.verify(msg, &Signature::from_point(sig)),
            Err(_) => false,
        }
    }

    /// Keeps the partials that verify, in order: one batch check when all are valid (the usual
    /// case), one check per partial otherwise, to name the wrong ones. Returns `(valid,
    /// rejected indices)`.
    pub fn filter_valid(
        &self,
        msg: &[u8],
        partials: Vec<PartialSignature>,
    ) -> (Vec<PartialSignature>, Vec<ShareIndex>) {
        if self.verify_partials_batch(msg, &partials) {
            return (partials, Vec::new());
        }
        let mut rejected = Vec::new();
        let valid = partials
            .into_iter()
            .filter(|p| {
                let ok = self.verify_partial(msg, p).is_ok();
                if !ok {
                    rejected.push(p.index);
                }
                ok
            })
            .collect();
        (valid, rejected)
    }

    /// Verifies the partials, excludes wrong, unknown and duplicate ones, combines `t` valid
    /// ones and verifies the result under the group key.
    pub fn combine(
        &self,
        msg: &[u8],
        partials: &[PartialSignature],
    ) -> Result<Combined, ThresholdError> {
        let mut rejected = Vec::new();
        // First partial per known index, in order.
        let mut candidates: Vec<PartialSignature> = Vec::with_capacity(partials.len());
        for p in partials {
            if !self.public_shares.contains_key(&p.index) {
                rejected.push(p.index);
            } else if !candidates.iter().any(|c| c.index == p.index) {
                candidates.push(*p);
            }
        }
        // Fast path: the first t candidates in one batch check.
        let first: Vec<PartialSignature> =
            candidates.iter().take(self.threshold).copied().collect();
        let valid = if first.len() == self.threshold && self.verify_partials_batch(msg, &first) {
            first
        } else {
            let (valid, bad) = self.filter_valid(msg, candidates);
            rejected.extend(bad);
            valid.into_iter().take(self.threshold).collect()
        };
        if valid.len() < self.threshold {
            return Err(ThresholdError::NotEnoughShares {
                have: valid.len(),
                need: self.threshold,
            });
        }
        let signature = combine_partials(&valid)?;
        if !self.group_public_key.verify(msg, &signature) {
            return Err(ThresholdError::GroupSignatureInvalid);
        }
        Ok(Combined { signature, signers: valid.iter().map(|p| p.index).collect(), rejected })
    }
}
