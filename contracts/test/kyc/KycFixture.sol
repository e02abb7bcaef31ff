// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DenylistAccessPolicy, KycAccessPolicy} from "../../src/access/AccessPolicies.sol";
import {AccessRegistry} from "../../src/access/AccessRegistry.sol";
import {Fixture} from "../utils/Fixture.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice The staking core deployed as the KYC pool: the same contracts with a
/// {KycAccessPolicy} (minimum tier 1) over a real {AccessRegistry}. Fee recipients are attested,
/// as the deploy script does for the KYC pool.
abstract contract KycFixture is Fixture {
    AccessRegistry internal registry;
    KycAccessPolicy internal kycPolicy;
    address internal provider;
    uint8 internal constant MIN_TIER = 1;

    function setUp() public virtual override {
        super.setUp();
        provider = makeAddr("kycProvider");
        registry = AccessRegistry(
            address(
                new ERC1967Proxy(
                    address(new AccessRegistry()),
                    abi.encodeCall(AccessRegistry.initialize, (tl, guardian, 365 days))
                )
            )
        );
        kycPolicy = new KycAccessPolicy(registry, MIN_TIER);
        bytes32 role = registry.KYC_PROVIDER_ROLE();
        vm.startPrank(tl);
        registry.grantRole(role, provider);
        pool.setAccessPolicy(address(kycPolicy));
        vm.stopPrank();
        _attest(treasury);
        _attest(operatorRewards);
        _attest(insurance);
    }

    function _attest(address account) internal {
        vm.prank(provider);
        registry.attest(account, MIN_TIER, uint64(block.timestamp + 300 days));
    }

    function _revoke(address account) internal {
        vm.prank(provider);
        registry.revoke(account);
    }

    function _deny(address account, bool denied) internal {
        vm.prank(provider);
        registry.setDenied(account, denied);
    }

    /// @dev The public-pool policy, for tests that switch the pool to it.
    function _usePublicPolicy() internal {
        DenylistAccessPolicy p = new DenylistAccessPolicy(registry);
        vm.prank(tl);
        pool.setAccessPolicy(address(p));
    }
}
