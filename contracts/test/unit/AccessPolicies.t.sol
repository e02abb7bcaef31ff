// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DenylistAccessPolicy, KycAccessPolicy} from "../../src/access/AccessPolicies.sol";
import {IAccessPolicy} from "../../src/interfaces/IAccessPolicy.sol";
import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {AccessRegistryFixture} from "./AccessRegistry.t.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @dev A smart-account KYC provider (e.g. an institution's multisig) approving one digest.
contract MockContractProvider is IERC1271 {
    bytes32 public approved;

    function approve(bytes32 digest) external {
        approved = digest;
    }

    function isValidSignature(bytes32 digest, bytes memory) external view returns (bytes4) {
        return digest == approved ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

contract AccessPoliciesTest is AccessRegistryFixture {
    KycAccessPolicy internal kyc;
    DenylistAccessPolicy internal publicPolicy;

    function setUp() public override {
        super.setUp();
        kyc = new KycAccessPolicy(registry, 2);
        publicPolicy = new DenylistAccessPolicy(registry);
    }

    function test_constructor_RevertWhen_BadArguments() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new KycAccessPolicy(IAccessRegistry(address(0)), 1);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.InvalidTier.selector, 0));
        new KycAccessPolicy(registry, 0);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new DenylistAccessPolicy(IAccessRegistry(address(0)));
    }

    function test_kyc_UnattestedMayDoNothingButExit() public {
        for (uint8 i = 0; i < 3; i++) {
            IAccessPolicy.Action action = IAccessPolicy.Action(i);
            vm.assertFalse(kyc.isAllowed(action, alice), "blocked");
            vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 2));
            kyc.checkAccess(action, alice);
        }
        vm.assertTrue(kyc.isAllowed(IAccessPolicy.Action.Exit, alice), "exit to self is never frozen");
        kyc.checkAccess(IAccessPolicy.Action.Exit, alice);
    }

    function test_kyc_TierBelowMinimumIsRejected() public {
        vm.prank(provider);
        registry.attest(alice, 1, uint64(block.timestamp + 1 days));
        vm.assertFalse(kyc.isAllowed(IAccessPolicy.Action.Deposit, alice), "tier 1 < 2");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 2));
        kyc.checkAccess(IAccessPolicy.Action.Receive, alice);
    }

    function test_kyc_AttestedMayDoEverythingUntilExpiry() public {
        uint64 exp = uint64(block.timestamp + 1 days);
        vm.prank(provider);
        registry.attest(alice, 2, exp);
        for (uint8 i = 0; i < 4; i++) {
            vm.assertTrue(kyc.isAllowed(IAccessPolicy.Action(i), alice), "allowed");
            kyc.checkAccess(IAccessPolicy.Action(i), alice);
        }
        vm.warp(exp);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.AttestationExpired.selector, alice, exp));
        kyc.checkAccess(IAccessPolicy.Action.Send, alice);
        vm.assertTrue(kyc.isAllowed(IAccessPolicy.Action.Exit, alice), "expired holder still exits");
    }

    function test_kyc_DeniedIsFrozenUntilLifted() public {
        vm.startPrank(provider);
        registry.attest(alice, 2, uint64(block.timestamp + 1 days));
        registry.setDenied(alice, true);
        vm.stopPrank();
        for (uint8 i = 0; i < 4; i++) {
            vm.assertFalse(kyc.isAllowed(IAccessPolicy.Action(i), alice), "denied");
            vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
            kyc.checkAccess(IAccessPolicy.Action(i), alice);
        }
        vm.prank(timelock);
        registry.setDenied(alice, false);
        vm.assertTrue(kyc.isAllowed(IAccessPolicy.Action.Deposit, alice), "lifted");
    }

    function test_public_OnlyDeniedDepositsBlocked() public {
        for (uint8 i = 0; i < 4; i++) {
            vm.assertTrue(publicPolicy.isAllowed(IAccessPolicy.Action(i), alice), "permissionless");
            publicPolicy.checkAccess(IAccessPolicy.Action(i), alice);
        }
        vm.prank(provider);
        registry.setDenied(alice, true);
        vm.assertFalse(publicPolicy.isAllowed(IAccessPolicy.Action.Deposit, alice), "deposit blocked");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        publicPolicy.checkAccess(IAccessPolicy.Action.Deposit, alice);
        for (uint8 i = 1; i < 4; i++) {
            vm.assertTrue(publicPolicy.isAllowed(IAccessPolicy.Action(i), alice), "rest permissionless");
            publicPolicy.checkAccess(IAccessPolicy.Action(i), alice);
        }
    }

    function test_attestWithSignature_ContractProvider() public {
        MockContractProvider multisig = new MockContractProvider();
        bytes32 role = registry.KYC_PROVIDER_ROLE();
        vm.prank(timelock);
        registry.grantRole(role, address(multisig));
        uint64 exp = uint64(block.timestamp + 1 days);
        uint256 deadline = block.timestamp + 1;
        bytes32 structHash =
            keccak256(abi.encode(registry.ATTESTATION_TYPEHASH(), alice, uint8(2), exp, 0, deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", registry.domainSeparator(), structHash));

        vm.expectRevert(
            abi.encodeWithSelector(IAccessRegistry.InvalidProviderSignature.selector, address(multisig))
        );
        registry.attestWithSignature(alice, 2, exp, deadline, address(multisig), "");

        multisig.approve(digest);
        registry.attestWithSignature(alice, 2, exp, deadline, address(multisig), "");
        vm.assertTrue(kyc.isAllowed(IAccessPolicy.Action.Deposit, alice), "attested by a contract provider");
    }
}
