//! EIP-2333 key derivation: `derive_master_SK(seed)` and `derive_child_SK(parent, index)`.
//!
//! The derivation runs in blst (`blst_derive_master_eip2333` / `blst_derive_child_eip2333`),
//! which implements the EIP's `HKDF_mod_r` and Lamport parent→child steps and scrubs every
//! intermediate buffer. The tests check it against the EIP's vectors and against a literal,
//! step-by-step transcription of the EIP (including the intermediate Lamport values).

use blst::min_pk;

use crate::bls::SecretKey;
use crate::path::KeyPath;

/// Minimum seed length (EIP-2333: at least 256 bits).
pub const MIN_SEED_LEN: usize = 32;

/// Why a key could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerivationError {
    /// The seed is shorter than 32 bytes.
    #[error("derive master key: seed is {0} bytes, at least 32 are required")]
    SeedTooShort(usize),
    /// `start + count` does not fit in a u32 index.
    #[error("validator indices {start} + {count} exceed 2^32 - 1")]
    IndexOverflow {
        /// First index.
        start: u32,
        /// Number of validators.
        count: u32,
    },
}

/// `derive_master_SK(seed)`.
pub fn derive_master_sk(seed: &[u8]) -> Result<SecretKey, DerivationError> {
    min_pk::SecretKey::derive_master_eip2333(seed)
        .map(SecretKey::from_blst)
        .map_err(|_| DerivationError::SeedTooShort(seed.len()))
}

/// `derive_child_SK(parent_SK, index)`.
#[must_use]
pub fn derive_child_sk(parent: &SecretKey, index: u32) -> SecretKey {
    SecretKey::from_blst(parent.as_blst().derive_child_eip2333(index))
}

/// Derives the key at `path` from `seed` (EIP-2334 paths, e.g. `m/12381/3600/0/0/0`).
pub fn derive_path(seed: &[u8], path: &KeyPath) -> Result<SecretKey, DerivationError> {
    let master = derive_master_sk(seed)?;
    Ok(derive_from(&master, path.indices()))
}

/// Derives the descendant of `parent` along `indices`.
#[must_use]
pub fn derive_from(parent: &SecretKey, indices: &[u32]) -> SecretKey {
    indices.iter().fold(parent.clone(), |sk, &i| derive_child_sk(&sk, i))
}

#[cfg(test)]
pub(crate) mod reference {
    //! The EIP's pseudo-code transcribed literally, to check blst and to expose the
    //! intermediate values the vectors pin.

    use hkdf::Hkdf;
    use num_bigint::BigUint;
    use sha2::{Digest, Sha256};

    /// BLS12-381 group order r.
    pub(crate) fn curve_order() -> BigUint {
        BigUint::parse_bytes(
            b"52435875175126190479447740508185965837690552500527637822603658699938581184513",
            10,
        )
        .unwrap()
    }

    pub(crate) fn hkdf_mod_r(ikm: &[u8]) -> BigUint {
        let mut salt: Vec<u8> = b"BLS-SIG-KEYGEN-SALT-".to_vec();
        loop {
            salt = Sha256::digest(&salt).to_vec();
            let mut ikm0 = ikm.to_vec();
            ikm0.push(0);
            let hk = Hkdf::<Sha256>::new(Some(&salt), &ikm0);
            let mut okm = [0u8; 48];
            hk.expand(&48u16.to_be_bytes(), &mut okm).unwrap();
            let sk = BigUint::from_bytes_be(&okm) % curve_order();
            if sk != BigUint::default() {
                return sk;
            }
        }
    }

    pub(crate) fn ikm_to_lamport_sk(ikm: &[u8], salt: &[u8]) -> Vec<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
        let mut okm = vec![0u8; 32 * 255];
        hk.expand(&[], &mut okm).unwrap();
        okm.chunks(32).map(|c| c.try_into().unwrap()).collect()
    }

    pub(crate) struct Lamport {
        pub(crate) lamport_0: Vec<[u8; 32]>,
        pub(crate) lamport_1: Vec<[u8; 32]>,
        pub(crate) compressed_pk: [u8; 32],
    }

    pub(crate) fn parent_sk_to_lamport_pk(parent: &BigUint, index: u32) -> Lamport {
        let salt = index.to_be_bytes();
        let mut ikm = [0u8; 32];
        let be = parent.to_bytes_be();
        ikm[32 - be.len()..].copy_from_slice(&be);
        let lamport_0 = ikm_to_lamport_sk(&ikm, &salt);
        let not_ikm: Vec<u8> = ikm.iter().map(|b| !b).collect();
        let lamport_1 = ikm_to_lamport_sk(&not_ikm, &salt);
        let mut h = Sha256::new();
        for sk in lamport_0.iter().chain(&lamport_1) {
            h.update(Sha256::digest(sk));
        }
        Lamport { lamport_0, lamport_1, compressed_pk: h.finalize().into() }
    }

    pub(crate) fn derive_child_sk(parent: &BigUint, index: u32) -> BigUint {
        hkdf_mod_r(&parent_sk_to_lamport_pk(parent, index).compressed_pk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn to_big(sk: &SecretKey) -> BigUint {
        BigUint::from_bytes_be(sk.to_bytes().as_slice())
    }

    #[test]
    fn short_seed_is_an_error() {
        assert_eq!(derive_master_sk(&[1u8; 31]).unwrap_err(), DerivationError::SeedTooShort(31));
    }

    #[test]
    fn intermediate_values_match_the_eip() {
        let rel = "eip2333/tree_kdf_intermediate.json";
        let text = crate::test_vectors::load_text(rel);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let seed = hex::decode(v["seed"].as_str().unwrap()).unwrap();
        let [master] = crate::test_vectors::decimal_fields(&text, "master_SK").try_into().unwrap();
        let index = u32::try_from(v["child_index"].as_u64().unwrap()).unwrap();
        let [child] = crate::test_vectors::decimal_fields(&text, "child_SK").try_into().unwrap();

        assert_eq!(reference::hkdf_mod_r(&seed), master);
        let lamport = reference::parent_sk_to_lamport_pk(&master, index);
        let hexes = |key: &str| -> Vec<String> {
            v[key].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect()
        };
        let l0: Vec<String> = lamport.lamport_0.iter().map(hex::encode).collect();
        let l1: Vec<String> = lamport.lamport_1.iter().map(hex::encode).collect();
        assert_eq!(l0, hexes("lamport_0"));
        assert_eq!(l1, hexes("lamport_1"));
        assert_eq!(
            hex::encode(lamport.compressed_pk),
            v["compressed_lamport_PK"].as_str().unwrap()
        );
        assert_eq!(reference::hkdf_mod_r(&lamport.compressed_pk), child);

        // The production path (blst) agrees.
        let m = derive_master_sk(&seed).unwrap();
        assert_eq!(to_big(&m), master);
        assert_eq!(to_big(&derive_child_sk(&m, index)), child);
    }

    #[test]
    fn tree_kdf_vectors_match() {
        let text = crate::test_vectors::load_text("eip2333/tree_kdf.json");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cases = v["kdf_tests"].as_array().unwrap();
        let masters = crate::test_vectors::decimal_fields(&text, "master_SK");
        let children = crate::test_vectors::decimal_fields(&text, "child_SK");
        assert!(!cases.is_empty());
        assert_eq!((masters.len(), children.len()), (cases.len(), cases.len()));
        for ((case, master), child) in cases.iter().zip(&masters).zip(&children) {
            let seed = hex::decode(case["seed"].as_str().unwrap()).unwrap();
            let index = u32::try_from(case["child_index"].as_u64().unwrap()).unwrap();
            let m = derive_master_sk(&seed).unwrap();
            assert_eq!(&to_big(&m), master);
            assert_eq!(&to_big(&derive_child_sk(&m, index)), child);
            // The path API gives the same child.
            let p = derive_path(&seed, &KeyPath::from_indices(vec![index])).unwrap();
            assert_eq!(&to_big(&p), child);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn blst_matches_the_literal_eip(seed in proptest::collection::vec(any::<u8>(), 32..80), index: u32) {
            let m = derive_master_sk(&seed).unwrap();
            let big = reference::hkdf_mod_r(&seed);
            prop_assert_eq!(&to_big(&m), &big);
            prop_assert_eq!(to_big(&derive_child_sk(&m, index)), reference::derive_child_sk(&big, index));
        }
    }
}
