// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The insurance fund: csETH from its share of the reward fee, burned to cover the part of
/// a loss that the operator's bond and the VFP pool did not cover.
interface IInsuranceFund {
    /// @notice The fund burned `sharesBurned` csETH to cover `covered` of a `requested` loss.
    event LossCovered(uint256 requested, uint256 covered, uint256 sharesBurned);

    /// @notice Covers up to `amountEth` of a loss by burning csETH; returns the ETH covered.
    function cover(uint256 amountEth) external returns (uint256 covered);
    /// @notice csETH shares the fund holds.
    function fundShares() external view returns (uint256);
    /// @notice ETH value of the fund.
    function fundValue() external view returns (uint256);
    /// @notice Fund value / pool TVL, in bps (rounded down; 0 for an empty pool).
    function coverageRatioBps() external view returns (uint256);
}
