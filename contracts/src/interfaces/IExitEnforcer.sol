// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Forced exits through EIP-7002 for keys whose exit request passed its deadline, and
/// operators' voluntary exit requests.
interface IExitEnforcer {
    /// @notice The key has no pending exit request (none was made, or the oracle cleared it after the exit).
    error NoPendingExitRequest(uint256 operatorId, uint256 keyIndex);
    /// @notice The exit deadline has not passed yet.
    error ExitDeadlineNotPassed(uint256 operatorId, uint256 keyIndex, uint256 deadline);
    /// @notice The exit request of this key (due by `deadline`) was already enforced.
    error ExitAlreadyEnforced(uint256 operatorId, uint256 keyIndex, uint256 deadline);
    /// @notice Only a topped-up key (status Deposited) has a validator to exit.
    error KeyNotDeposited(uint256 operatorId, uint256 keyIndex);
    /// @notice `sent` is below the current EIP-7002 fee `fee`.
    error InsufficientFee(uint256 sent, uint256 fee);
    /// @notice Returning the excess fee to `to` failed.
    error RefundFailed(address to, uint256 amount);
    /// @notice A voluntary exit of this key was already requested.
    error VoluntaryExitAlreadyRequested(uint256 operatorId, uint256 keyIndex);

    /// @notice `caller` forced the exit of the key past its `deadline`, paying `fee`; the operator's
    /// missed-exit count is now `missedExits`.
    event ExitEnforced(
        uint256 indexed operatorId,
        uint256 indexed keyIndex,
        bytes pubkey,
        address indexed caller,
        uint256 fee,
        uint256 deadline,
        uint256 missedExits
    );
    /// @notice The operator's manager asked to exit the key (the operator signs the voluntary exit itself).
    event VoluntaryExitRequested(uint256 indexed operatorId, uint256 indexed keyIndex, bytes pubkey);

    /// @notice Forces the exit of key `keyIndex` of `operatorId` through EIP-7002 from the
    /// withdrawal vault. Anyone may call, paying the fee in `msg.value` (excess refunded).
    /// @return fee the EIP-7002 fee paid
    function enforceExit(uint256 operatorId, uint256 keyIndex) external payable returns (uint256 fee);

    /// @notice Records that the operator wants key `keyIndex` exited. Operator manager only; moves no funds.
    function requestVoluntaryExit(uint256 operatorId, uint256 keyIndex) external;

    /// @notice The EIP-7002 fee a request costs in this block.
    function exitFee() external view returns (uint256);
    /// @notice Number of exits of `operatorId` forced after a missed deadline (read by the oracle).
    function missedExits(uint256 operatorId) external view returns (uint256);
    /// @notice Deadline of the last exit request of the key that was enforced (0: none).
    function enforcedDeadline(uint256 operatorId, uint256 keyIndex) external view returns (uint256);
    /// @notice Whether the operator requested a voluntary exit of the key.
    function voluntaryExitRequested(uint256 operatorId, uint256 keyIndex) external view returns (bool);
    /// @notice The operator registry read for requests, deadlines and keys.
    function registry() external view returns (address);
    /// @notice The withdrawal vault that sends the EIP-7002 requests.
    function withdrawalVault() external view returns (address);
}
