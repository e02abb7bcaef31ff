//! The operator-rewards tree as members keep, serve and check it: the leaves of a root
//! (`(account, cumulativeShares)`), a proof document for one account, and the check a member runs
//! on a tree it did not compute itself (fetched from a peer): rebuild it and compare the root and
//! the cumulative total with the chain's. Trees are public data; only this check makes a fetched
//! tree usable.

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::merkle::RewardsTree;

/// Most leaves a tree document may hold (one per reward account: far above any operator set).
pub const MAX_TREE_LEAVES: usize = 100_000;

/// `U256` as a decimal string in JSON (amounts people read; JavaScript-safe).
pub mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Parses a decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let text = String::deserialize(d)?;
        U256::from_str_radix(&text, 10).map_err(serde::de::Error::custom)
    }
}

/// One leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeLeaf {
    /// The account (an operator's reward address, or the VfpPool).
    pub account: Address,
    /// Its cumulative shares.
    #[serde(with = "decimal")]
    pub cumulative_shares: U256,
}

/// A rewards tree: what a member stores per root and serves at `GET /rewards/tree/{root}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeDocument {
    /// The root.
    pub root: B256,
    /// Sum of the leaves (the `rewardsCumulativeShares` that goes with the root).
    #[serde(with = "decimal")]
    pub cumulative_shares: U256,
    /// Reference slot of the report that computed it.
    pub ref_slot: u64,
    /// The leaves, by account.
    pub leaves: Vec<TreeLeaf>,
}

/// The proof of one account: what a member serves at `GET /rewards/proof/{root}/{account}` and
/// what `OperatorRewards.claim(account, cumulativeShares, proof)` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofDocument {
    /// The root the proof is for.
    pub root: B256,
    /// The account.
    pub account: Address,
    /// Its cumulative shares.
    #[serde(with = "decimal")]
    pub cumulative_shares: U256,
    /// Sibling hashes from the leaf up.
    pub proof: Vec<B256>,
}

/// Why a tree document is not the chain's tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// No leaves, or more than [`MAX_TREE_LEAVES`].
    #[error("check rewards tree {root}: {len} leaves (1 to {MAX_TREE_LEAVES} allowed)")]
    Size {
        /// The root claimed.
        root: B256,
        /// Its leaf count.
        len: usize,
    },
    /// One account has two leaves.
    #[error("check rewards tree {root}: account {account} has two leaves")]
    DuplicateAccount {
        /// The root claimed.
        root: B256,
        /// The account.
        account: Address,
    },
    /// The rebuilt root differs.
    #[error("check rewards tree: the leaves build root {built}, expected {expected}")]
    RootMismatch {
        /// What the leaves build.
        built: B256,
        /// What the chain (or the document) says.
        expected: B256,
    },
    /// The sum of the leaves differs.
    #[error("check rewards tree {root}: the leaves sum to {sum}, expected {expected}")]
    SumMismatch {
        /// The root.
        root: B256,
        /// The sum of the leaves.
        sum: U256,
        /// What the chain (or the document) says.
        expected: U256,
    },
    /// The sum overflows.
    #[error("check rewards tree {root}: the leaves overflow 256 bits")]
    Overflow {
        /// The root.
        root: B256,
    },
    /// Building the tree failed.
    #[error("check rewards tree {root}: {reason}")]
    Build {
        /// The root.
        root: B256,
        /// Why.
        reason: String,
    },
}

impl TreeDocument {
    /// The document of `leaves` (any order; stored sorted by account), computed for `ref_slot`.
    pub fn new(ref_slot: u64, leaves: &[(Address, U256)]) -> Result<Self, TreeError> {
        let mut sorted: Vec<TreeLeaf> = leaves
            .iter()
            .map(|(account, cumulative_shares)| TreeLeaf {
                account: *account,
                cumulative_shares: *cumulative_shares,
            })
            .collect();
        sorted.sort_unstable_by_key(|l| l.account);
        let tree = RewardsTree::build(leaves)
            .map_err(|e| TreeError::Build { root: B256::ZERO, reason: e.to_string() })?;
        let root = tree.root();
        let cumulative_shares = sum(root, &sorted)?;
        Ok(Self { root, cumulative_shares, ref_slot, leaves: sorted })
    }

    /// The leaves as pairs.
    #[must_use]
    pub fn pairs(&self) -> Vec<(Address, U256)> {
        self.leaves.iter().map(|l| (l.account, l.cumulative_shares)).collect()
    }

    /// Rebuilds the tree and checks it against `expected_root` and `expected_cumulative` (the
    /// chain's `rewardsRoot()` and `rewardsCumulativeShares()`), and against what the document
    /// itself claims. Returns the rebuilt tree.
    pub fn verify(
        &self,
        expected_root: B256,
        expected_cumulative: U256,
    ) -> Result<RewardsTree, TreeError> {
        let root = self.root;
        let len = self.leaves.len();
        if len == 0 || len > MAX_TREE_LEAVES {
            return Err(TreeError::Size { root, len });
        }
        let mut accounts: Vec<Address> = self.leaves.iter().map(|l| l.account).collect();
        accounts.sort_unstable();
        if let Some(w) = accounts.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
            let account = w.first().copied().unwrap_or_default();
            return Err(TreeError::DuplicateAccount { root, account });
        }
        let tree = RewardsTree::build(&self.pairs())
            .map_err(|e| TreeError::Build { root, reason: e.to_string() })?;
        for expected in [expected_root, root] {
            if tree.root() != expected {
                return Err(TreeError::RootMismatch { built: tree.root(), expected });
            }
        }
        let total = sum(root, &self.leaves)?;
        for expected in [expected_cumulative, self.cumulative_shares] {
            if total != expected {
                return Err(TreeError::SumMismatch { root, sum: total, expected });
            }
        }
        Ok(tree)
    }

    /// The proof document of `account`, if it has a leaf.
    #[must_use]
    pub fn proof(&self, tree: &RewardsTree, account: Address) -> Option<ProofDocument> {
        let (cumulative_shares, proof) = tree.proof(account)?;
        Some(ProofDocument { root: self.root, account, cumulative_shares, proof })
    }
}

fn sum(root: B256, leaves: &[TreeLeaf]) -> Result<U256, TreeError> {
    leaves.iter().try_fold(U256::ZERO, |s, l| {
        s.checked_add(l.cumulative_shares).ok_or(TreeError::Overflow { root })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::verify;
    use proptest::prelude::*;

    fn leaves(amounts: &[u64]) -> Vec<(Address, U256)> {
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| (Address::with_last_byte(u8::try_from(i + 1).unwrap()), U256::from(*a)))
            .collect()
    }

    #[test]
    fn a_document_round_trips_through_json_and_verifies() {
        let doc = TreeDocument::new(64, &leaves(&[5, 7, 11])).unwrap();
        assert_eq!(doc.cumulative_shares, U256::from(23u8));
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains("\"cumulativeShares\":\"23\""), "{text}");
        let back: TreeDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc);
        let tree = back.verify(doc.root, U256::from(23u8)).unwrap();
        let p = back.proof(&tree, Address::with_last_byte(2)).unwrap();
        assert_eq!(p.cumulative_shares, U256::from(7u8));
        assert!(verify(doc.root, p.account, p.cumulative_shares, &p.proof));
        assert!(back.proof(&tree, Address::with_last_byte(9)).is_none());
    }

    #[test]
    fn a_tree_with_a_changed_leaf_or_a_wrong_sum_is_refused() {
        let doc = TreeDocument::new(64, &leaves(&[5, 7, 11])).unwrap();
        // a peer raises one leaf and keeps the claimed root
        let mut forged = doc.clone();
        forged.leaves[1].cumulative_shares = U256::from(8u8);
        forged.cumulative_shares = U256::from(24u8);
        assert!(matches!(
            forged.verify(doc.root, U256::from(24u8)),
            Err(TreeError::RootMismatch { .. })
        ));
        // right leaves, wrong chain total
        assert!(matches!(
            doc.verify(doc.root, U256::from(22u8)),
            Err(TreeError::SumMismatch { .. })
        ));
        // right leaves, a document that lies about its total
        let mut lying = doc.clone();
        lying.cumulative_shares = U256::from(1u8);
        assert!(matches!(
            lying.verify(doc.root, U256::from(23u8)),
            Err(TreeError::SumMismatch { .. })
        ));
        // another root than the chain's
        assert!(matches!(
            doc.verify(B256::repeat_byte(1), U256::from(23u8)),
            Err(TreeError::RootMismatch { .. })
        ));
        // one account twice
        let mut dup = doc.clone();
        dup.leaves[2].account = dup.leaves[0].account;
        assert!(matches!(
            dup.verify(doc.root, doc.cumulative_shares),
            Err(TreeError::DuplicateAccount { .. })
        ));
        // empty
        let mut empty = doc.clone();
        empty.leaves.clear();
        assert!(matches!(empty.verify(doc.root, U256::ZERO), Err(TreeError::Size { .. })));
    }

    proptest! {
        #[test]
        fn every_leaf_change_is_caught(amounts in proptest::collection::vec(1u64..1_000_000, 1..30), which in any::<usize>(), delta in 1u64..1000) {
            let doc = TreeDocument::new(1, &leaves(&amounts)).unwrap();
            prop_assert!(doc.verify(doc.root, doc.cumulative_shares).is_ok());
            let mut forged = doc.clone();
            let i = which % forged.leaves.len();
            forged.leaves[i].cumulative_shares += U256::from(delta);
            forged.cumulative_shares += U256::from(delta);
            prop_assert!(forged.verify(doc.root, forged.cumulative_shares).is_err());
        }
    }
}
