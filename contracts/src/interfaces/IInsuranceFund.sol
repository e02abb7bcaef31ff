// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The insurance fund: csETH from its share of the reward fee, burned to cover the part of
/// a loss that the operator's bond and the VFP pool did not cover.
interface IInsuranceFund {
    /// @notice The fund burned `sharesBurned` of the `sharesRequested` csETH a loss needed.
    event LossCovered(uint256 sharesRequested, uint256 sharesBurned);

    /// @notice Covers a loss worth `shares` csETH (converted by the waterfall) by burning up to that
    /// many of the fund's shares; returns the shares burned.
    function cover(uint256 shares) external returns (uint256 burned);
    /// @notice csETH shares the fund holds.
    function fundShares() external view returns (uint256);
    /// @notice ETH value of the fund.
    function fundValue() external view returns (uint256);
    /// @notice Fund value / pool TVL, in bps (rounded down; 0 for an empty pool).
    function coverageRatioBps() external view returns (uint256);
}
