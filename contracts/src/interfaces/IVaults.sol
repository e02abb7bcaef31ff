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

/// @notice The withdrawal-credential vault: a {IPoolVault} that also sends EIP-7002 exit
/// requests, because the request must come from the withdrawal-credential address itself.
interface IWithdrawalVault is IPoolVault {
    /// @notice The exit enforcer changed.
    event ExitEnforcerSet(address exitEnforcer);
    /// @notice The address is not an exit enforcer of this vault (no code, or its
    /// `withdrawalVault()` is another vault).
    error InvalidExitEnforcer(address exitEnforcer);
    /// @notice An EIP-7002 full-exit request for `pubkey` was sent, paying `fee`.
    event WithdrawalRequestAdded(bytes pubkey, uint256 fee);

    /// @notice Sends an EIP-7002 full-exit request for `pubkey`, paying `msg.value` as the fee.
    /// Only the exit enforcer.
    function addWithdrawalRequest(bytes calldata pubkey) external payable;

    /// @notice Sets the only caller of {addWithdrawalRequest}. Governance only.
    function setExitEnforcer(address exitEnforcer) external;

    /// @notice The only caller of {addWithdrawalRequest}.
    function exitEnforcer() external view returns (address);
}
