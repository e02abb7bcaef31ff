// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessPolicy} from "../interfaces/IAccessPolicy.sol";
import {IAccessRegistry} from "../interfaces/IAccessRegistry.sol";
import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title KycAccessPolicy
/// @notice Policy of the permissioned (KYC) pool.
/// Guarantees:
/// - depositing, receiving and sending shares need a current attestation of at least `MIN_TIER`
///   and no denylist entry, so kcsETH only ever reaches attested, non-denied addresses;
/// - exiting to oneself needs no current attestation: a revoked or expired holder can always
///   withdraw its own funds; only a sanctions (denylist) entry blocks it, until governance or a
///   provider lifts it (docs/adr/0003-kyc-pool.md).
/// Stateless apart from two immutables, so it needs no upgrade path: governance points the pool
/// at a new policy instead.
contract KycAccessPolicy is IAccessPolicy {
    /// @notice The registry holding attestations and the denylist.
    IAccessRegistry public immutable REGISTRY;
    /// @notice The lowest KYC tier this pool accepts.
    uint8 public immutable MIN_TIER;

    /// @param registry the AccessRegistry
    /// @param minTier lowest accepted tier (≥ 1)
    constructor(IAccessRegistry registry, uint8 minTier) {
        if (address(registry) == address(0)) revert IGoverned.ZeroAddress();
        if (minTier == 0) revert IAccessRegistry.InvalidTier(minTier);
        REGISTRY = registry;
        MIN_TIER = minTier;
    }

    /// @inheritdoc IAccessPolicy
    function isAllowed(Action action, address account) external view returns (bool) {
        if (action == Action.Exit) return !REGISTRY.isDenied(account);
        return REGISTRY.isAttested(account, MIN_TIER);
    }

    /// @inheritdoc IAccessPolicy
    function checkAccess(Action action, address account) external view {
        if (action == Action.Exit) {
            if (REGISTRY.isDenied(account)) revert IAccessRegistry.Denied(account);
            return;
        }
        REGISTRY.requireAttested(account, MIN_TIER);
    }
}

/// @title DenylistAccessPolicy
/// @notice Policy of the public pool: deposits from addresses on the sanctions denylist revert;
/// everything else stays permissionless (receiving, transferring and exiting are never blocked).
contract DenylistAccessPolicy is IAccessPolicy {
    /// @notice The registry holding the denylist.
    IAccessRegistry public immutable REGISTRY;

    /// @param registry the AccessRegistry
    constructor(IAccessRegistry registry) {
        if (address(registry) == address(0)) revert IGoverned.ZeroAddress();
        REGISTRY = registry;
    }

    /// @inheritdoc IAccessPolicy
    function isAllowed(Action action, address account) external view returns (bool) {
        return action != Action.Deposit || !REGISTRY.isDenied(account);
    }

    /// @inheritdoc IAccessPolicy
    function checkAccess(Action action, address account) external view {
        if (action == Action.Deposit && REGISTRY.isDenied(account)) revert IAccessRegistry.Denied(account);
    }
}
