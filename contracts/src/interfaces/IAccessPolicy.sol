// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Access policy a pool consults before moving shares or ETH for an account. The zero
/// address as policy means a public pool. The KYC pool (issue 4) plugs the AccessRegistry in here.
interface IAccessPolicy {
    /// @notice What an account is about to do.
    enum Action {
        Deposit, // pay ETH into the pool
        Receive, // receive shares (deposit recipient, transfer recipient)
        Send, // send shares to another holder
        Exit // leave the pool (withdrawal request, Flash Exit)
    }

    /// @notice Whether `account` may perform `action` now.
    function isAllowed(Action action, address account) external view returns (bool);
}
