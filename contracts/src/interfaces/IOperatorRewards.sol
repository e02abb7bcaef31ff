// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Merkle-root distributor of the operators' part of the reward fee (csETH shares).
/// Implemented by OperatorRewards; the operators module sets the root from a quorum report.
interface IOperatorRewards {
    /// @notice Sets the Merkle root of cumulative per-account rewards (OZ StandardMerkleTree leaves of
    /// `(address account, uint256 cumulativeShares)`). Only the operators module.
    function setRewardsRoot(bytes32 root, uint256 cumulativeShares, uint256 refSlot) external;
}
