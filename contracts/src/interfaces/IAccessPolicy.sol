// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Access policy a pool consults before moving shares or ETH for an account. The zero
/// address as policy means a public pool. The KYC pool plugs a {KycAccessPolicy} in here.
interface IAccessPolicy {
    /// @notice What an account is about to do.
    enum Action {
        Deposit, // pay ETH into the pool
        Receive, // receive shares (deposit recipient, transfer recipient)
        Send, // send shares to another holder
        Exit // leave the pool to itself (withdrawal request, Flash Exit, claim)
    }

    /// @notice Whether `account` may perform `action` now.
    function isAllowed(Action action, address account) external view returns (bool);

    /// @notice Reverts with an error that says what is missing (e.g. `NotAttested(account, minTier)`,
    /// `AttestationExpired(account, expiredAt)`, `Denied(account)`) unless `isAllowed`.
    function checkAccess(Action action, address account) external view;
}
