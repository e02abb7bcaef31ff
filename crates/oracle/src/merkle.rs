//! The operator-rewards Merkle tree, laid out exactly like `@openzeppelin/merkle-tree`'s
//! `StandardMerkleTree` for leaves `(address account, uint256 cumulativeShares)`: leaf =
//! `keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeShares))))`, leaves sorted by
//! hash, a complete binary tree stored in an array with the leaves at the end in reverse order,
//! inner nodes the commutative keccak of the sorted pair (OpenZeppelin `MerkleProof`).

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;

use crate::error::ComputeError;

/// The leaf hash of `(account, cumulativeShares)`.
#[must_use]
pub fn leaf_hash(account: Address, cumulative_shares: U256) -> B256 {
    keccak256(keccak256((account, cumulative_shares).abi_encode()))
}

/// `keccak256(sorted(a, b))`, OpenZeppelin's `Hashes.commutativeKeccak256`.
#[must_use]
pub fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    let (left, right) = buf.split_at_mut(32);
    left.copy_from_slice(lo.as_slice());
    right.copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// A built tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardsTree {
    /// The node array (`tree[0]` is the root).
    nodes: Vec<B256>,
    /// The leaves in input order with their position in `nodes`.
    leaves: Vec<(Address, U256, usize)>,
}

impl RewardsTree {
    /// Builds the tree of `leaves` (accounts must be distinct). Errors on an empty list (the
    /// JavaScript library throws too) or a duplicate account.
    pub fn build(leaves: &[(Address, U256)]) -> Result<Self, ComputeError> {
        if leaves.is_empty() {
            return Err(ComputeError::InvalidInput(
                "a rewards tree needs at least one leaf".into(),
            ));
        }
        let mut hashed: Vec<(B256, usize)> =
            leaves.iter().enumerate().map(|(i, (a, s))| (leaf_hash(*a, *s), i)).collect();
        hashed.sort_unstable();
        if hashed.windows(2).any(|w| matches!(w, [x, y] if x.0 == y.0)) {
            return Err(ComputeError::InvalidInput("duplicate rewards leaf".into()));
        }
        let n = hashed.len();
        let len = n
            .checked_mul(2)
            .and_then(|x| x.checked_sub(1))
            .ok_or(ComputeError::Arithmetic("tree size"))?;
        let mut nodes = vec![B256::ZERO; len];
        let mut positions = vec![0usize; n];
        for (sorted_i, (h, input_i)) in hashed.iter().enumerate() {
            // leaves are stored from the end of the array backwards
            let pos = len
                .checked_sub(1)
                .and_then(|x| x.checked_sub(sorted_i))
                .ok_or(ComputeError::Arithmetic("leaf position"))?;
            *nodes.get_mut(pos).ok_or(ComputeError::Arithmetic("leaf slot"))? = *h;
            *positions.get_mut(*input_i).ok_or(ComputeError::Arithmetic("leaf index"))? = pos;
        }
        let first_leaf = len.checked_sub(n).ok_or(ComputeError::Arithmetic("first leaf"))?;
        for i in (0..first_leaf).rev() {
            let l = child(i, 1)?;
            let r = child(i, 2)?;
            let (Some(a), Some(b)) = (nodes.get(l), nodes.get(r)) else {
                return Err(ComputeError::Arithmetic("inner node children"));
            };
            let h = hash_pair(*a, *b);
            *nodes.get_mut(i).ok_or(ComputeError::Arithmetic("inner node"))? = h;
        }
        let leaves = leaves.iter().zip(positions).map(|((a, s), p)| (*a, *s, p)).collect();
        Ok(Self { nodes, leaves })
    }

    /// The root.
    #[must_use]
    pub fn root(&self) -> B256 {
        self.nodes.first().copied().unwrap_or_default()
    }

    /// The leaves `(account, cumulativeShares)` in input order.
    #[must_use]
    pub fn leaves(&self) -> Vec<(Address, U256)> {
        self.leaves.iter().map(|(a, s, _)| (*a, *s)).collect()
    }

    /// The proof of `account`'s leaf (siblings from the leaf up), if the account is in the tree.
    #[must_use]
    pub fn proof(&self, account: Address) -> Option<(U256, Vec<B256>)> {
        let (_, shares, mut pos) = *self.leaves.iter().find(|(a, _, _)| *a == account)?;
        let mut proof = Vec::new();
        while pos > 0 {
            // odd positions are left children: their sibling is on the right
            let sibling = if pos % 2 == 1 { pos.checked_add(1)? } else { pos.checked_sub(1)? };
            proof.push(*self.nodes.get(sibling)?);
            pos = pos.checked_sub(1)? / 2;
        }
        Some((shares, proof))
    }
}

fn child(i: usize, k: usize) -> Result<usize, ComputeError> {
    i.checked_mul(2).and_then(|x| x.checked_add(k)).ok_or(ComputeError::Arithmetic("child index"))
}

/// OpenZeppelin `MerkleProof.verify` for a rewards leaf.
#[must_use]
pub fn verify(root: B256, account: Address, cumulative_shares: U256, proof: &[B256]) -> bool {
    proof.iter().fold(leaf_hash(account, cumulative_shares), |h, p| hash_pair(h, *p)) == root
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;
    use proptest::prelude::*;

    #[test]
    fn single_leaf_is_the_root() {
        let a = Address::repeat_byte(7);
        let t = RewardsTree::build(&[(a, U256::from(5u8))]).unwrap();
        assert_eq!(t.root(), leaf_hash(a, U256::from(5u8)));
        let (s, p) = t.proof(a).unwrap();
        assert!(p.is_empty());
        assert!(verify(t.root(), a, s, &p));
    }

    #[test]
    fn empty_tree_is_an_error() {
        assert!(RewardsTree::build(&[]).is_err());
    }

    /// Proofs of a small tree verify and a changed amount does not; the Solidity side
    /// (OpenZeppelin `MerkleProof`) is checked against the same construction in
    /// `tests/forge_vector.rs`.
    #[test]
    fn fixed_vector() {
        let leaves = vector_leaves();
        let t = RewardsTree::build(&leaves).unwrap();
        for (a, s) in &leaves {
            let (shares, proof) = t.proof(*a).unwrap();
            assert_eq!(shares, *s);
            assert!(verify(t.root(), *a, shares, &proof));
            assert!(!verify(t.root(), *a, shares + U256::from(1u8), &proof));
        }
    }

    pub(crate) fn vector_leaves() -> Vec<(Address, U256)> {
        vec![
            (address!("1111111111111111111111111111111111111111"), U256::from(1000u64)),
            (address!("2222222222222222222222222222222222222222"), U256::from(2000u64)),
            (address!("3333333333333333333333333333333333333333"), U256::from(3000u64)),
        ]
    }

    proptest! {
        #[test]
        fn every_proof_verifies(amounts in proptest::collection::vec(1u64.., 1..40)) {
            let leaves: Vec<(Address, U256)> = amounts
                .iter()
                .enumerate()
                .map(|(i, s)| (Address::with_last_byte(u8::try_from(i).unwrap()), U256::from(*s)))
                .collect();
            let t = RewardsTree::build(&leaves).unwrap();
            // the root does not depend on the input order
            let mut rev = leaves.clone();
            rev.reverse();
            prop_assert_eq!(RewardsTree::build(&rev).unwrap().root(), t.root());
            for (a, s) in &leaves {
                let (shares, proof) = t.proof(*a).unwrap();
                prop_assert_eq!(shares, *s);
                prop_assert!(verify(t.root(), *a, shares, &proof));
            }
        }
    }
}
