// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Operator rewards paid as csETH shares against a Merkle root of cumulative per-account
/// amounts. Leaf = `keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeShares))))`
/// (OpenZeppelin StandardMerkleTree); inner nodes hash the sorted pair (OpenZeppelin MerkleProof).
interface IOperatorRewards {
    /// @notice The root must not be zero (a report with nothing new does not call {setRewardsRoot}).
    error ZeroRoot();
    /// @notice Roots are set for strictly increasing report slots.
    error StaleRefSlot(uint256 refSlot, uint256 lastRefSlot);
    /// @notice The total under a new root is below the total under the current one.
    error CumulativeSharesDecreased(uint256 cumulativeShares, uint256 current);
    /// @notice The total under a new root exceeds the shares this contract ever received.
    error CumulativeSharesExceedReceived(uint256 cumulativeShares, uint256 received);
    /// @notice The proof does not lead from the leaf `(account, cumulativeShares)` to the current root.
    error InvalidProof(address account, uint256 cumulativeShares);
    /// @notice The leaf's cumulative amount is not above what `account` already claimed.
    error NothingToClaim(address account, uint256 cumulativeShares, uint256 claimed);

    /// @notice The operators module published a new root for report slot `refSlot`.
    event RewardsRootSet(bytes32 indexed root, uint256 cumulativeShares, uint256 refSlot);
    /// @notice `shares` were paid to `account`, whose claimed total is now `cumulativeShares`.
    event RewardsClaimed(address indexed account, uint256 shares, uint256 cumulativeShares);

    /// @notice Publishes the root of cumulative rewards computed for report slot `refSlot`, whose
    /// leaves sum to `cumulativeShares`. Operators module only.
    function setRewardsRoot(bytes32 root, uint256 cumulativeShares, uint256 refSlot) external;

    /// @notice Pays `account` its cumulative rewards under the current root minus what it already
    /// claimed. Anyone may call; the shares always go to `account`.
    /// @return shares the amount paid
    function claim(address account, uint256 cumulativeShares, bytes32[] calldata proof)
        external
        returns (uint256 shares);

    /// @notice The csETH (or kcsETH) share token paid out.
    function token() external view returns (address);
    /// @notice The current root (zero before the first report).
    function rewardsRoot() external view returns (bytes32);
    /// @notice Sum of all leaves under the current root.
    function rewardsCumulativeShares() external view returns (uint256);
    /// @notice Report slot of the current root.
    function rewardsRefSlot() external view returns (uint256);
    /// @notice Cumulative shares already paid to `account`.
    function claimed(address account) external view returns (uint256);
    /// @notice Shares paid to all accounts.
    function totalClaimed() external view returns (uint256);
    /// @notice Shares ever received: current balance plus everything claimed.
    function totalReceived() external view returns (uint256);
    /// @notice Whether `(account, cumulativeShares, proof)` proves a leaf of the current root.
    function verify(address account, uint256 cumulativeShares, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
