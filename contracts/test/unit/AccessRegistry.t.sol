// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRegistry} from "../../src/access/AccessRegistry.sol";
import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {TestBase} from "../utils/TestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @dev Deploys an AccessRegistry behind a UUPS proxy with one provider.
abstract contract AccessRegistryFixture is TestBase {
    AccessRegistry internal registry;
    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    address internal provider;
    uint256 internal providerKey;
    address internal alice = makeAddr("alice");
    uint64 internal constant YEAR = 365 days;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        (provider, providerKey) = makeAccount("provider");
        AccessRegistry impl = new AccessRegistry();
        registry = AccessRegistry(
            address(
                new ERC1967Proxy(
                    address(impl),
                    abi.encodeCall(AccessRegistry.initialize, (timelock, guardian, uint256(YEAR)))
                )
            )
        );
        bytes32 role = registry.KYC_PROVIDER_ROLE();
        vm.prank(timelock);
        registry.grantRole(role, provider);
    }

    function _sign(
        uint256 key,
        address account,
        uint8 tier,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(registry.ATTESTATION_TYPEHASH(), account, tier, expiresAt, nonce, deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", registry.domainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}

contract AccessRegistryTest is AccessRegistryFixture {
    function test_initialize_SetsRolesAndValidity() public view {
        vm.assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), timelock), "timelock admin");
        vm.assertTrue(registry.hasRole(registry.GUARDIAN_ROLE(), guardian), "guardian");
        vm.assertEq(registry.maxValidity(), YEAR, "validity");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        registry.initialize(timelock, guardian, YEAR);
    }

    function test_initialize_RevertWhen_ValidityOutOfBounds() public {
        AccessRegistry impl = new AccessRegistry();
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("maxValidity"), 1, 1 days, 5 * 365 days
            )
        );
        new ERC1967Proxy(address(impl), abi.encodeCall(AccessRegistry.initialize, (timelock, guardian, 1)));
    }

    function test_implementation_RevertWhen_InitializedDirectly() public {
        AccessRegistry impl = new AccessRegistry();
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        impl.initialize(timelock, guardian, YEAR);
    }

    function test_attest_RecordsAndEmits() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        vm.expectEmit();
        emit IAccessRegistry.Attested(alice, provider, 2, exp);
        vm.prank(provider);
        registry.attest(alice, 2, exp);
        IAccessRegistry.Attestation memory a = registry.attestationOf(alice);
        vm.assertEq(uint256(a.tier), 2, "tier");
        vm.assertEq(uint256(a.expiresAt), exp, "expiry");
        vm.assertEq(uint256(a.attestedAt), block.timestamp, "attestedAt");
        vm.assertEq(a.provider, provider, "provider");
        vm.assertTrue(registry.isAttested(alice, 1), "tier 1 ok");
        vm.assertTrue(registry.isAttested(alice, 2), "tier 2 ok");
        vm.assertFalse(registry.isAttested(alice, 3), "tier 3 not ok");
        registry.requireAttested(alice, 2);
    }

    function test_attest_RevertWhen_CallerNotProvider() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, registry.KYC_PROVIDER_ROLE()
            )
        );
        vm.prank(alice);
        registry.attest(alice, 1, uint64(block.timestamp + 1 days));
    }

    function test_attest_RevertWhen_GovernanceIsNotProvider() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                timelock,
                registry.KYC_PROVIDER_ROLE()
            )
        );
        vm.prank(timelock);
        registry.attest(alice, 1, uint64(block.timestamp + 1 days));
    }

    function test_attest_RevertWhen_TierZero() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidTier.selector, 0));
        vm.prank(provider);
        registry.attest(alice, 0, uint64(block.timestamp + 1 days));
    }

    function test_attest_RevertWhen_ZeroAccount() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(provider);
        registry.attest(address(0), 1, uint64(block.timestamp + 1 days));
    }

    function test_attest_RevertWhen_ExpiryNotInFuture() public {
        uint64 exp = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessRegistry.InvalidExpiry.selector, exp, block.timestamp + 1, block.timestamp + YEAR
            )
        );
        vm.prank(provider);
        registry.attest(alice, 1, exp);
    }

    function test_attest_RevertWhen_ExpiryBeyondMaxValidity() public {
        uint64 exp = uint64(block.timestamp + YEAR + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessRegistry.InvalidExpiry.selector, exp, block.timestamp + 1, block.timestamp + YEAR
            )
        );
        vm.prank(provider);
        registry.attest(alice, 1, exp);
    }

    function test_requireAttested_ExplainsWhatIsMissing() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 1));
        registry.requireAttested(alice, 1);

        uint64 exp = uint64(block.timestamp + 10 days);
        vm.prank(provider);
        registry.attest(alice, 1, exp);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 2));
        registry.requireAttested(alice, 2);

        vm.warp(exp);
        vm.assertFalse(registry.isAttested(alice, 1), "expired at expiresAt");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.AttestationExpired.selector, alice, exp));
        registry.requireAttested(alice, 1);
    }

    function test_revoke_ClearsAttestation() public {
        vm.startPrank(provider);
        registry.attest(alice, 3, uint64(block.timestamp + 10 days));
        vm.expectEmit();
        emit IAccessRegistry.Revoked(alice, provider);
        registry.revoke(alice);
        vm.stopPrank();
        vm.assertFalse(registry.isAttested(alice, 1), "revoked");
        vm.assertEq(uint256(registry.attestationOf(alice).tier), 0, "tier cleared");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 1));
        registry.requireAttested(alice, 1);
    }

    function test_revoke_RevertWhen_CallerNotProvider() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                guardian,
                registry.KYC_PROVIDER_ROLE()
            )
        );
        vm.prank(guardian);
        registry.revoke(alice);
    }

    function test_setDenied_ByProviderAndGovernance() public {
        vm.prank(provider);
        registry.attest(alice, 1, uint64(block.timestamp + 10 days));
        vm.expectEmit();
        emit IAccessRegistry.DenylistUpdated(alice, true, provider);
        vm.prank(provider);
        registry.setDenied(alice, true);
        vm.assertTrue(registry.isDenied(alice), "denied");
        vm.assertFalse(registry.isAttested(alice, 1), "denied is never attested");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        registry.requireAttested(alice, 1);

        vm.prank(timelock);
        registry.setDenied(alice, false);
        vm.assertFalse(registry.isDenied(alice), "lifted");
        vm.assertTrue(registry.isAttested(alice, 1), "attestation survives a lifted denial");
    }

    function test_setDenied_RevertWhen_CallerIsGuardianOrStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotDenylistManager.selector, guardian));
        vm.prank(guardian);
        registry.setDenied(alice, true);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotDenylistManager.selector, alice));
        vm.prank(alice);
        registry.setDenied(alice, false);
    }

    function test_setDenied_RevertWhen_ZeroAccount() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(provider);
        registry.setDenied(address(0), true);
    }

    function test_setMaxValidity_GovernanceOnlyWithinBounds() public {
        vm.prank(timelock);
        registry.setMaxValidity(30 days);
        vm.assertEq(registry.maxValidity(), 30 days, "updated");

        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                provider,
                registry.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(provider);
        registry.setMaxValidity(60 days);

        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector,
                bytes32("maxValidity"),
                6 * 365 days,
                1 days,
                5 * 365 days
            )
        );
        vm.prank(timelock);
        registry.setMaxValidity(6 * 365 days);
    }

    function test_grantProvider_RevertWhen_NotGovernance() public {
        bytes32 role = registry.KYC_PROVIDER_ROLE();
        bytes32 admin = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, provider, admin)
        );
        vm.prank(provider);
        registry.grantRole(role, alice);
    }

    function test_upgrade_RevertWhen_NotGovernance() public {
        AccessRegistry next = new AccessRegistry();
        bytes32 admin = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, admin)
        );
        vm.prank(guardian);
        registry.upgradeToAndCall(address(next), "");

        vm.prank(timelock);
        registry.upgradeToAndCall(address(next), "");
    }

    function test_storageSlot_IsErc7201() public view {
        bytes32 expected = keccak256(abi.encode(uint256(keccak256("claystack.storage.AccessRegistry")) - 1))
            & ~bytes32(uint256(0xff));
        // maxValidity is the third member of the namespaced struct (two mappings before it).
        vm.assertEq(uint256(vm.load(address(registry), bytes32(uint256(expected) + 2))), YEAR, "slot");
    }
}

contract AccessRegistrySignedAttestationTest is AccessRegistryFixture {
    function test_attestWithSignature_AnyoneSubmits() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        vm.expectEmit();
        emit IAccessRegistry.Attested(alice, provider, 2, exp);
        vm.prank(makeAddr("relayer"));
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
        vm.assertTrue(registry.isAttested(alice, 2), "attested");
        vm.assertEq(registry.nonces(alice), 1, "nonce used");
    }

    function test_attestWithSignature_RevertWhen_Replayed() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
        vm.prank(provider);
        registry.revoke(alice);
        // The same signature again: the nonce moved on, so the digest no longer matches.
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
        vm.assertFalse(registry.isAttested(alice, 1), "revocation stands");
    }

    function test_attestWithSignature_RevertWhen_SignerNotProvider() public {
        (address mallory, uint256 malloryKey) = makeAccount("mallory");
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(malloryKey, alice, 2, exp, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, mallory));
        registry.attestWithSignature(alice, 2, exp, deadline, mallory, sig);
        // Claiming the real provider with mallory's signature fails too.
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
    }

    function test_attestWithSignature_RevertWhen_ProviderRoleRevoked() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        bytes32 role = registry.KYC_PROVIDER_ROLE();
        vm.prank(timelock);
        registry.revokeRole(role, provider);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
    }

    function test_attestWithSignature_RevertWhen_TamperedFields() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 1, exp, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, 3, exp, deadline, provider, sig); // tier raised
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(makeAddr("bob"), 1, exp, deadline, provider, sig); // other account
    }

    function test_attestWithSignature_RevertWhen_DeadlinePassed() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessRegistry.SignatureExpired.selector, deadline, deadline + 1)
        );
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
    }

    function test_attestWithSignature_RevertWhen_OtherChainId() public {
        uint64 exp = uint64(block.timestamp + 30 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        vm.chainId(block.chainid + 1); // a fork or another chain: the domain separator changes
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
    }

    function test_attestWithSignature_RevertWhen_ExpiryInvalid() public {
        uint64 exp = uint64(block.timestamp + YEAR + 1);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(providerKey, alice, 2, exp, 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessRegistry.InvalidExpiry.selector, exp, block.timestamp + 1, block.timestamp + YEAR
            )
        );
        registry.attestWithSignature(alice, 2, exp, deadline, provider, sig);
    }

    function testFuzz_attestWithSignature_OnlyExactSignedFieldsAccepted(
        uint8 tier,
        uint64 expOffset,
        uint8 badTier
    ) public {
        tier = uint8(bound(tier, 1, 255));
        expOffset = uint64(bound(expOffset, 1, YEAR));
        vm.assume(badTier != tier);
        uint64 exp = uint64(block.timestamp) + expOffset;
        uint256 deadline = block.timestamp + 1;
        bytes memory sig = _sign(providerKey, alice, tier, exp, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, provider));
        registry.attestWithSignature(alice, badTier, exp, deadline, provider, sig);
        registry.attestWithSignature(alice, tier, exp, deadline, provider, sig);
        vm.assertEq(uint256(registry.attestationOf(alice).tier), tier, "tier");
    }
}
