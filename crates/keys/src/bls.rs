//! BLS12-381 keys and signatures over blst (ciphersuite
//! `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, public keys in G1, as Ethereum uses).

use blst::BLST_ERROR;
use blst::min_pk;
use zeroize::Zeroizing;

/// Domain separation tag of the proof-of-possession ciphersuite Ethereum signs with.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// A compressed G1 public key.
pub type PublicKeyBytes = [u8; 48];
/// A compressed G2 signature.
pub type SignatureBytes = [u8; 96];

/// Why a BLS operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// The secret key is zero or not below the group order.
    #[error("invalid secret key: must be a non-zero scalar below the group order")]
    InvalidSecretKey,
    /// The public key is not a valid compressed G1 point (or is the identity).
    #[error("invalid public key: {0}")]
    InvalidPublicKey(&'static str),
    /// The signature is not a valid compressed G2 point in the subgroup.
    #[error("invalid signature encoding: {0}")]
    InvalidSignature(&'static str),
}

fn describe(e: BLST_ERROR) -> &'static str {
    match e {
        BLST_ERROR::BLST_BAD_ENCODING => "bad encoding",
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => "point not on curve",
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => "point not in subgroup",
        BLST_ERROR::BLST_PK_IS_INFINITY => "point at infinity",
        _ => "rejected by blst",
    }
}

/// A BLS secret key. Zeroized on drop (blst scrubs its scalar); `Debug` is redacted.
#[derive(Clone)]
pub struct SecretKey(min_pk::SecretKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Parses a 32-byte big-endian scalar; zero and values ≥ r are rejected.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != 32 {
            return Err(BlsError::InvalidSecretKey);
        }
        // `from_bytes` checks 0 < sk < r (blst_sk_check).
        min_pk::SecretKey::from_bytes(bytes).map(Self).map_err(|_| BlsError::InvalidSecretKey)
    }

    /// Wraps a blst secret key.
    #[must_use]
    pub fn from_blst(sk: min_pk::SecretKey) -> Self {
        Self(sk)
    }

    /// The blst secret key, for callers that sign through blst directly.
    #[must_use]
    pub fn as_blst(&self) -> &min_pk::SecretKey {
        &self.0
    }

    /// The 32-byte big-endian scalar, in a buffer that is zeroized on drop.
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The compressed public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKeyBytes {
        self.0.sk_to_pk().compress()
    }

    /// Signs `message` (hashed to G2 with [`DST`]); returns the compressed signature.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> SignatureBytes {
        self.0.sign(message, DST, &[]).compress()
    }
}

/// Signs `message` with a secret key given as 32 big-endian bytes.
pub fn sign(secret_key: &[u8], message: &[u8]) -> Result<SignatureBytes, BlsError> {
    Ok(SecretKey::from_bytes(secret_key)?.sign(message))
}

/// Checks that `pubkey` is a valid, non-identity, subgroup-checked compressed G1 point.
pub fn validate_public_key(pubkey: &[u8]) -> Result<min_pk::PublicKey, BlsError> {
    min_pk::PublicKey::key_validate(pubkey).map_err(|e| BlsError::InvalidPublicKey(describe(e)))
}

/// Verifies `signature` over `message` by `pubkey`.
///
/// `Ok(false)` means well-formed inputs and a wrong signature; malformed keys or signatures
/// (including the identity public key) are errors.
pub fn verify(pubkey: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, BlsError> {
    let pk = validate_public_key(pubkey)?;
    let sig = min_pk::Signature::sig_validate(signature, true)
        .map_err(|e| BlsError::InvalidSignature(describe(e)))?;
    Ok(sig.verify(true, message, DST, &[], &pk, true) == BLST_ERROR::BLST_SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_oversized_secret_keys_are_rejected() {
        assert_eq!(SecretKey::from_bytes(&[0u8; 32]).unwrap_err(), BlsError::InvalidSecretKey);
        assert_eq!(SecretKey::from_bytes(&[0xff; 32]).unwrap_err(), BlsError::InvalidSecretKey);
        assert_eq!(SecretKey::from_bytes(&[1u8; 31]).unwrap_err(), BlsError::InvalidSecretKey);
    }

    #[test]
    fn sign_then_verify_and_debug_is_redacted() {
        let mut b = [0u8; 32];
        b[31] = 7;
        let sk = SecretKey::from_bytes(&b).unwrap();
        let sig = sk.sign(b"msg");
        assert!(verify(&sk.public_key(), b"msg", &sig).unwrap());
        assert!(!verify(&sk.public_key(), b"other", &sig).unwrap());
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
        assert_eq!(*sk.to_bytes(), b);
    }
}
