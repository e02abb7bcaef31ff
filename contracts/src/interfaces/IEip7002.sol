// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Errors of the EIP-7002 (execution-layer triggerable withdrawals) helpers.
interface IEip7002 {
    /// @notice The fee read from the system contract failed (not deployed, or the inhibitor is active).
    error Eip7002FeeReadFailed();
    /// @notice A pubkey must be 48 bytes.
    error Eip7002InvalidPubkeyLength(uint256 length);
    /// @notice The system contract rejected the request (fee too low or malformed input).
    error Eip7002RequestFailed(bytes pubkey, uint256 fee);
}
