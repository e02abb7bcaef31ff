// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice A vault that holds ETH for the pool (withdrawal credentials or EL fee recipient) and
/// releases it only to the pool.
interface IPoolVault {
    error InsufficientVaultBalance(uint256 requested, uint256 balance);

    event EtherPulled(address indexed pool, uint256 amount);

    /// @notice Sends `amount` wei to the pool. Only the pool may call it.
    function pull(uint256 amount) external;

    /// @notice The pool this vault pays.
    function pool() external view returns (address);
}
