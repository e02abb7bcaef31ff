// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice KYC/AML attestations and the sanctions denylist that the KYC pool, kcsETH transfers,
/// Kyc-type operators and the public pool's deposit check consult.
interface IAccessRegistry {
    /// @notice What a KYC provider attested about an address.
    struct Attestation {
        /// KYC tier (1 = lowest accepted; 0 = none)
        uint8 tier;
        /// unix time after which the attestation no longer counts
        uint64 expiresAt;
        /// unix time of the attestation
        uint64 attestedAt;
        /// the provider that attested
        address provider;
    }

    /// @notice `account` has no attestation of at least `minTier`.
    error NotAttested(address account, uint8 minTier);
    /// @notice `account`'s attestation expired at `expiredAt`.
    error AttestationExpired(address account, uint64 expiredAt);
    /// @notice `account` is on the sanctions denylist.
    error Denied(address account);
    /// @notice Tier 0 means "none" and cannot be attested.
    error InvalidTier(uint8 tier);
    /// @notice The attestation's expiry is not in (now, now + maxValidity].
    error InvalidExpiry(uint64 expiresAt, uint256 earliest, uint256 latest);
    /// @notice The signed attestation's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature is not a KYC provider's signature of this attestation.
    error InvalidProviderSignature(address claimedProvider);
    /// @notice The caller may not change the denylist.
    error NotDenylistManager(address caller);

    /// @notice A provider attested `account` (directly or by a signed attestation).
    event Attested(address indexed account, address indexed provider, uint8 tier, uint64 expiresAt);
    /// @notice A provider revoked `account`'s attestation.
    event Revoked(address indexed account, address indexed provider);
    /// @notice `account` was added to (`denied`) or removed from the sanctions denylist by `by`.
    event DenylistUpdated(address indexed account, bool denied, address indexed by);

    /// @notice Attests `account` at `tier` until `expiresAt`. KYC providers only.
    function attest(address account, uint8 tier, uint64 expiresAt) external;

    /// @notice Records an attestation that `provider` signed (EIP-712) for `account`; anyone may
    /// submit it. Replay-protected by `account`'s nonce; the signature is valid until `deadline`.
    function attestWithSignature(
        address account,
        uint8 tier,
        uint64 expiresAt,
        uint256 deadline,
        address provider,
        bytes calldata signature
    ) external;

    /// @notice Revokes `account`'s attestation. KYC providers only.
    function revoke(address account) external;

    /// @notice Adds or removes `account` on the sanctions denylist. Providers or governance.
    function setDenied(address account, bool denied) external;

    /// @notice Whether `account` holds a current attestation of at least `minTier` and is not denied.
    function isAttested(address account, uint8 minTier) external view returns (bool);

    /// @notice Reverts with {Denied}, {NotAttested} or {AttestationExpired} unless `isAttested`.
    function requireAttested(address account, uint8 minTier) external view;

    /// @notice Whether `account` is on the sanctions denylist.
    function isDenied(address account) external view returns (bool);

    /// @notice The attestation recorded for `account` (tier 0 if none or revoked).
    function attestationOf(address account) external view returns (Attestation memory);

    /// @notice The next nonce a signed attestation for `account` must use.
    function nonces(address account) external view returns (uint256);

    /// @notice The longest validity an attestation may have, in seconds.
    function maxValidity() external view returns (uint256);
}
