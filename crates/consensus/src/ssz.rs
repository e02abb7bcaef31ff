//! SSZ merkleization (consensus specs, `ssz/simple-serialize.md`): enough to compute the
//! `hash_tree_root` of the containers ClayStack signs or verifies. Containers implement
//! [`HashTreeRoot`] by listing their field roots and calling [`container_root`].

use sha2::{Digest, Sha256};

/// A 32-byte SSZ root (or chunk).
pub type Root = [u8; 32];

/// Bytes in one SSZ chunk.
pub const BYTES_PER_CHUNK: usize = 32;

/// Depth up to which zero-subtree roots are precomputed (2^64 leaves covers every SSZ limit).
const MAX_DEPTH: usize = 64;

/// Types with an SSZ `hash_tree_root`.
pub trait HashTreeRoot {
    /// The SSZ hash tree root of `self`.
    fn hash_tree_root(&self) -> Root;
}

/// `sha256(a ++ b)`.
#[must_use]
pub fn hash_pair(a: &Root, b: &Root) -> Root {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// `sha256(data)`.
#[must_use]
pub fn sha256(data: &[u8]) -> Root {
    Sha256::digest(data).into()
}

/// Root of a subtree of the given depth whose leaves are all zero chunks.
#[must_use]
pub fn zero_hash(depth: usize) -> Root {
    let mut z = [0u8; 32];
    for _ in 0..depth.min(MAX_DEPTH) {
        z = hash_pair(&z, &z);
    }
    z
}

/// Splits bytes into 32-byte chunks, right-padding the last one with zeros.
#[must_use]
pub fn pack_bytes(bytes: &[u8]) -> Vec<Root> {
    bytes
        .chunks(BYTES_PER_CHUNK)
        .map(|c| {
            let mut chunk = [0u8; 32];
            for (dst, src) in chunk.iter_mut().zip(c) {
                *dst = *src;
            }
            chunk
        })
        .collect()
}

/// Errors of merkleization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SszError {
    /// More chunks than the type's limit allows.
    #[error("{count} chunks exceed the limit of {limit}")]
    TooManyChunks {
        /// Chunks given.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// `merkleize(chunks, limit)`: the root of the chunks padded with zero chunks to the next power of
/// two of `limit` (or of `chunks.len()` when `limit` is `None`).
pub fn merkleize(chunks: &[Root], limit: Option<usize>) -> Result<Root, SszError> {
    let count = chunks.len();
    let width = match limit {
        Some(limit) if count > limit => return Err(SszError::TooManyChunks { count, limit }),
        Some(limit) => limit,
        None => count,
    };
    let width = width.max(1).checked_next_power_of_two().unwrap_or(usize::MAX);
    let depth = width.trailing_zeros() as usize;
    let mut layer: Vec<Root> = chunks.to_vec();
    for level in 0..depth {
        let mut next = Vec::with_capacity(layer.len().div_ceil(2));
        let zero = zero_hash(level);
        let mut it = layer.chunks(2);
        for pair in &mut it {
            let right = pair.get(1).unwrap_or(&zero);
            if let Some(left) = pair.first() {
                next.push(hash_pair(left, right));
            }
        }
        if next.is_empty() {
            next.push(zero_hash(level.saturating_add(1)));
        }
        layer = next;
    }
    Ok(layer.first().copied().unwrap_or_else(|| zero_hash(depth)))
}

/// `mix_in_length(root, length)` for lists.
#[must_use]
pub fn mix_in_length(root: &Root, length: usize) -> Root {
    let mut len = [0u8; 32];
    let le = (length as u64).to_le_bytes();
    for (dst, src) in len.iter_mut().zip(le) {
        *dst = src;
    }
    hash_pair(root, &len)
}

/// The root of a container given the roots of its fields in order.
#[must_use]
pub fn container_root(field_roots: &[Root]) -> Root {
    // A container's width is its field count, so no limit can be exceeded.
    merkleize(field_roots, None).unwrap_or_else(|_| zero_hash(0))
}

/// The root of a fixed-length byte vector (`ByteVector[N]`, e.g. a BLS pubkey or signature).
#[must_use]
pub fn bytes_root(bytes: &[u8]) -> Root {
    let chunks = pack_bytes(bytes);
    merkleize(&chunks, None).unwrap_or_else(|_| zero_hash(0))
}

/// The root of a `ByteList[max_len]`.
pub fn byte_list_root(bytes: &[u8], max_len: usize) -> Result<Root, SszError> {
    let chunks = pack_bytes(bytes);
    let root = merkleize(&chunks, Some(max_len.div_ceil(BYTES_PER_CHUNK)))?;
    Ok(mix_in_length(&root, bytes.len()))
}

/// The root of a `List[T, limit]` of composite elements, from the elements' roots.
pub fn list_root(element_roots: &[Root], limit: usize) -> Result<Root, SszError> {
    let root = merkleize(element_roots, Some(limit))?;
    Ok(mix_in_length(&root, element_roots.len()))
}

impl HashTreeRoot for u64 {
    fn hash_tree_root(&self) -> Root {
        let mut r = [0u8; 32];
        for (dst, src) in r.iter_mut().zip(self.to_le_bytes()) {
            *dst = src;
        }
        r
    }
}

impl HashTreeRoot for bool {
    fn hash_tree_root(&self) -> Root {
        let mut r = [0u8; 32];
        if *self {
            r[0] = 1;
        }
        r
    }
}

impl HashTreeRoot for Root {
    fn hash_tree_root(&self) -> Root {
        *self
    }
}

impl HashTreeRoot for [u8; 4] {
    fn hash_tree_root(&self) -> Root {
        bytes_root(self)
    }
}

impl HashTreeRoot for [u8; 20] {
    fn hash_tree_root(&self) -> Root {
        bytes_root(self)
    }
}

impl HashTreeRoot for [u8; 48] {
    fn hash_tree_root(&self) -> Root {
        bytes_root(self)
    }
}

impl HashTreeRoot for [u8; 96] {
    fn hash_tree_root(&self) -> Root {
        bytes_root(self)
    }
}

macro_rules! unit_root {
    ($($t:ty),*) => {$(
        impl HashTreeRoot for $t {
            fn hash_tree_root(&self) -> Root {
                self.0.hash_tree_root()
            }
        }
    )*};
}
unit_root!(crate::Gwei, crate::Slot, crate::Epoch, crate::ValidatorIndex);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merkleize_pads_to_power_of_two() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let c = [3u8; 32];
        let expect = hash_pair(&hash_pair(&a, &b), &hash_pair(&c, &[0u8; 32]));
        assert_eq!(merkleize(&[a, b, c], None).unwrap(), expect);
        // A single chunk is its own root.
        assert_eq!(merkleize(&[a], None).unwrap(), a);
        // No chunks and no limit: the zero chunk.
        assert_eq!(merkleize(&[], None).unwrap(), [0u8; 32]);
        // Limit 4 with one chunk: padded to depth 2.
        assert_eq!(
            merkleize(&[a], Some(4)).unwrap(),
            hash_pair(&hash_pair(&a, &[0u8; 32]), &zero_hash(1))
        );
        // Empty list with limit 8: zero subtree of depth 3.
        assert_eq!(merkleize(&[], Some(8)).unwrap(), zero_hash(3));
        assert_eq!(
            merkleize(&[a, b], Some(1)),
            Err(SszError::TooManyChunks { count: 2, limit: 1 })
        );
    }

    #[test]
    fn byte_vectors_pack_little_chunks() {
        let pk = [0x12u8; 48];
        let mut second = [0u8; 32];
        second[..16].copy_from_slice(&[0x12; 16]);
        assert_eq!(pk.hash_tree_root(), hash_pair(&[0x12; 32], &second));
        assert_eq!(7u64.hash_tree_root()[0], 7);
    }

    #[test]
    fn list_mixes_in_length() {
        let a = [9u8; 32];
        let r = list_root(&[a], 2).unwrap();
        assert_eq!(r, mix_in_length(&hash_pair(&a, &[0u8; 32]), 1));
    }
}
