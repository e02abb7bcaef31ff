// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Errors and events shared by every governed (timelock-owned) ClayStack contract.
interface IGoverned {
    /// @notice A required address argument was the zero address.
    error ZeroAddress();
    /// @notice A governance parameter was set outside its hard bounds.
    /// @param parameter name of the parameter
    /// @param value the rejected value
    /// @param min the lowest accepted value
    /// @param max the highest accepted value
    error ParameterOutOfBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max);
    /// @notice The contract is paused by the guardian.
    error EnforcedPause();
    /// @notice The caller is not the contract allowed to call this function.
    error UnauthorizedCaller(address caller, address expected);

    /// @notice A governance parameter changed.
    event ParameterUpdated(bytes32 indexed parameter, uint256 value);
    /// @notice The guardian (or governance) paused the contract.
    event Paused(address indexed by);
    /// @notice Governance unpaused the contract.
    event Unpaused(address indexed by);
}
