// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Share-math views of a value-accruing share token.
interface ICsToken {
    /// @notice ETH value of `shares`, rounded down.
    function convertToAssets(uint256 shares) external view returns (uint256);
    /// @notice Shares worth `assets` ETH, rounded down.
    function convertToShares(uint256 assets) external view returns (uint256);
    /// @notice ETH per share, 1e27 precision, rounded down.
    function shareRate() external view returns (uint256);
}
