// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Reference builder of an OpenZeppelin StandardMerkleTree over `(address, uint256)`
/// leaves: leaves double-hashed, sorted by hash, stored at the end of a complete binary tree in
/// an array (`tree[len - 1 - i] = sortedLeaf[i]`), inner node `i` = sorted-pair keccak of nodes
/// `2i + 1` and `2i + 2`; the root is `tree[0]`. Deliberately simple: tests only.
library MerkleBuilder {
    /// @notice StandardMerkleTree leaf of `(account, amount)`.
    function leaf(address account, uint256 amount) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }

    /// @notice The tree array of `leaves` (any order; sorted here).
    function build(bytes32[] memory leaves) internal pure returns (bytes32[] memory tree) {
        uint256 n = leaves.length;
        require(n > 0, "empty tree");
        bytes32[] memory sorted = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            sorted[i] = leaves[i];
        }
        _sort(sorted);
        tree = new bytes32[](2 * n - 1);
        for (uint256 i = 0; i < n; ++i) {
            tree[tree.length - 1 - i] = sorted[i];
        }
        for (uint256 k = tree.length - n; k > 0; --k) {
            uint256 i = k - 1;
            tree[i] = hashPair(tree[2 * i + 1], tree[2 * i + 2]);
        }
    }

    /// @notice Proof of the leaf stored at `treeIndex`.
    function proof(bytes32[] memory tree, uint256 treeIndex) internal pure returns (bytes32[] memory p) {
        uint256 depth = 0;
        for (uint256 j = treeIndex; j > 0; j = (j - 1) / 2) {
            ++depth;
        }
        p = new bytes32[](depth);
        uint256 d = 0;
        for (uint256 j = treeIndex; j > 0; j = (j - 1) / 2) {
            p[d++] = tree[j % 2 == 1 ? j + 1 : j - 1];
        }
    }

    /// @notice Proof of `leafHash` (which must be in the tree).
    function proofOf(bytes32[] memory tree, bytes32 leafHash) internal pure returns (bytes32[] memory) {
        for (uint256 i = tree.length; i > 0; --i) {
            if (tree[i - 1] == leafHash) return proof(tree, i - 1);
        }
        revert("leaf not in tree");
    }

    /// @notice OpenZeppelin's commutative node hash.
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _sort(bytes32[] memory a) private pure {
        // heap sort: O(n log n) so the 1,024-leaf gas fixture builds quickly
        uint256 n = a.length;
        for (uint256 k = n / 2; k > 0; --k) {
            _siftDown(a, k - 1, n);
        }
        for (uint256 end = n; end > 1; --end) {
            (a[0], a[end - 1]) = (a[end - 1], a[0]);
            _siftDown(a, 0, end - 1);
        }
    }

    function _siftDown(bytes32[] memory a, uint256 root, uint256 n) private pure {
        while (true) {
            uint256 child = 2 * root + 1;
            if (child >= n) return;
            if (child + 1 < n && a[child + 1] > a[child]) ++child;
            if (a[root] >= a[child]) return;
            (a[root], a[child]) = (a[child], a[root]);
            root = child;
        }
    }
}
