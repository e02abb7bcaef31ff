// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Attestations by hand for the registry's Kyc checks.
contract MockAccessRegistry {
    mapping(address => uint8) public tierOf;

    function setTier(address account, uint8 tier) external {
        tierOf[account] = tier;
    }

    function isAttested(address account, uint8 minTier) external view returns (bool) {
        return tierOf[account] >= minTier && tierOf[account] != 0;
    }
}
