// SPDX-License-Identifier: CC0-1.0
pragma solidity 0.8.30;

/// @notice The official Ethereum 2.0 deposit contract interface (consensus-specs, phase0).
interface IDepositContract {
    /// @notice A processed deposit event.
    event DepositEvent(
        bytes pubkey, bytes withdrawal_credentials, bytes amount, bytes signature, bytes index
    );

    /// @notice Submit a Phase 0 DepositData object.
    function deposit(
        bytes calldata pubkey,
        bytes calldata withdrawal_credentials,
        bytes calldata signature,
        bytes32 deposit_data_root
    ) external payable;

    /// @notice Query the current deposit root hash.
    function get_deposit_root() external view returns (bytes32);

    /// @notice Query the current deposit count (little-endian uint64).
    function get_deposit_count() external view returns (bytes memory);
}
