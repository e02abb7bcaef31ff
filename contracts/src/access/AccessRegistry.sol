// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IAccessRegistry} from "../interfaces/IAccessRegistry.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {
    EIP712Upgradeable
} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title AccessRegistry
/// @notice KYC/AML attestations (`address → tier, expiry`) written by KYC providers, and the
/// sanctions denylist.
/// Guarantees:
/// - only holders of KYC_PROVIDER_ROLE (granted by the timelock) attest and revoke; a signed
///   attestation counts only if a current provider signed it (EOA or EIP-1271 contract);
/// - a signed attestation is bound to this chain and contract (EIP-712 domain), to the account's
///   nonce (usable once) and to a deadline;
/// - no attestation outlives `maxValidity` (a governance parameter with hard bounds);
/// - providers and governance manage the denylist; a denied address is never `isAttested`;
/// - every change emits an event, so auditors can rebuild the registry's history from logs.
contract AccessRegistry is Governed, EIP712Upgradeable, NoncesUpgradeable, IAccessRegistry {
    /// @notice Role of KYC providers (granted and revoked by governance only).
    bytes32 public constant KYC_PROVIDER_ROLE = keccak256("claystack.role.kycProvider");

    /// @notice EIP-712 type of a signed attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(address account,uint8 tier,uint64 expiresAt,uint256 nonce,uint256 deadline)");

    /// @notice Hard bounds of `maxValidity`.
    uint256 public constant MIN_VALIDITY = 1 days;
    /// @notice Hard bounds of `maxValidity`.
    uint256 public constant MAX_VALIDITY = 5 * 365 days;

    /// @custom:storage-location erc7201:claystack.storage.AccessRegistry
    struct AccessRegistryStorage {
        mapping(address account => Attestation) attestations;
        mapping(address account => bool) denied;
        uint256 maxValidity;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.AccessRegistry")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT =
        0xc0c86c96884d9e53fbd76b07325c4bb7adc3580e3527ca590f3a16f36402b100;

    /// @notice Initializes the proxy: `admin` is the timelock, `maxValidity_` the longest
    /// attestation validity in seconds.
    function initialize(address admin, address guardian, uint256 maxValidity_) external initializer {
        __Governed_init(admin, guardian);
        __EIP712_init("ClayStack AccessRegistry", "1");
        __Nonces_init();
        _setMaxValidity(maxValidity_);
    }

    // ----------------------------------------------------------------------------------------
    // Providers

    /// @inheritdoc IAccessRegistry
    function attest(address account, uint8 tier, uint64 expiresAt) external onlyRole(KYC_PROVIDER_ROLE) {
        _attest(account, tier, expiresAt, msg.sender);
    }

    /// @inheritdoc IAccessRegistry
    function attestWithSignature(
        address account,
        uint8 tier,
        uint64 expiresAt,
        uint256 deadline,
        address provider,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(ATTESTATION_TYPEHASH, account, tier, expiresAt, _useNonce(account), deadline)
            )
        );
        if (
            !hasRole(KYC_PROVIDER_ROLE, provider)
                || !SignatureChecker.isValidSignatureNow(provider, digest, signature)
        ) {
            revert InvalidProviderSignature(provider);
        }
        _attest(account, tier, expiresAt, provider);
    }

    /// @inheritdoc IAccessRegistry
    function revoke(address account) external onlyRole(KYC_PROVIDER_ROLE) {
        delete _storage().attestations[account];
        emit Revoked(account, msg.sender);
    }

    /// @inheritdoc IAccessRegistry
    function setDenied(address account, bool denied) external {
        if (!hasRole(KYC_PROVIDER_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotDenylistManager(msg.sender);
        }
        if (account == address(0)) revert ZeroAddress();
        _storage().denied[account] = denied;
        emit DenylistUpdated(account, denied, msg.sender);
    }

    // ----------------------------------------------------------------------------------------
    // Governance

    /// @notice Sets the longest validity an attestation may have. Governance only.
    function setMaxValidity(uint256 seconds_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxValidity(seconds_);
    }

    // ----------------------------------------------------------------------------------------
    // Views

    /// @inheritdoc IAccessRegistry
    function isAttested(address account, uint8 minTier) public view returns (bool) {
        AccessRegistryStorage storage $ = _storage();
        if ($.denied[account]) return false;
        Attestation storage a = $.attestations[account];
        return a.tier != 0 && a.tier >= minTier && block.timestamp < a.expiresAt;
    }

    /// @inheritdoc IAccessRegistry
    function requireAttested(address account, uint8 minTier) external view {
        AccessRegistryStorage storage $ = _storage();
        if ($.denied[account]) revert Denied(account);
        Attestation storage a = $.attestations[account];
        if (a.tier == 0 || a.tier < minTier) revert NotAttested(account, minTier);
        if (block.timestamp >= a.expiresAt) revert AttestationExpired(account, a.expiresAt);
    }

    /// @inheritdoc IAccessRegistry
    function isDenied(address account) external view returns (bool) {
        return _storage().denied[account];
    }

    /// @inheritdoc IAccessRegistry
    function attestationOf(address account) external view returns (Attestation memory) {
        return _storage().attestations[account];
    }

    /// @inheritdoc IAccessRegistry
    function nonces(address account)
        public
        view
        override(IAccessRegistry, NoncesUpgradeable)
        returns (uint256)
    {
        return super.nonces(account);
    }

    /// @inheritdoc IAccessRegistry
    function maxValidity() external view returns (uint256) {
        return _storage().maxValidity;
    }

    /// @notice The EIP-712 domain separator (for off-chain signers).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ----------------------------------------------------------------------------------------
    // Internal

    function _attest(address account, uint8 tier, uint64 expiresAt, address provider) private {
        if (account == address(0)) revert ZeroAddress();
        if (tier == 0) revert InvalidTier(tier);
        AccessRegistryStorage storage $ = _storage();
        uint256 latest = block.timestamp + $.maxValidity;
        if (expiresAt <= block.timestamp || expiresAt > latest) {
            revert InvalidExpiry(expiresAt, block.timestamp + 1, latest);
        }
        $.attestations[account] = Attestation({
            tier: tier, expiresAt: expiresAt, attestedAt: uint64(block.timestamp), provider: provider
        });
        emit Attested(account, provider, tier, expiresAt);
    }

    function _setMaxValidity(uint256 seconds_) private {
        _checkBounds("maxValidity", seconds_, MIN_VALIDITY, MAX_VALIDITY);
        _storage().maxValidity = seconds_;
        emit ParameterUpdated("maxValidity", seconds_);
    }

    function _storage() private pure returns (AccessRegistryStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
