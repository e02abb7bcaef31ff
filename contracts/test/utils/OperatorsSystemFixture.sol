// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRegistry} from "../../src/access/AccessRegistry.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {BondManager} from "../../src/operators/BondManager.sol";
import {InsuranceFund} from "../../src/operators/InsuranceFund.sol";
import {OperatorRegistry} from "../../src/operators/OperatorRegistry.sol";
import {OperatorsModule} from "../../src/operators/OperatorsModule.sol";
import {VfpPool} from "../../src/operators/VfpPool.sol";
import {Fixture} from "./Fixture.sol";

/// @notice The staking core of {Fixture} (real StakePool, oracle, queue) plus the operator
/// contracts and a real AccessRegistry, deployed with script/SystemDeployer.sol.
abstract contract OperatorsSystemFixture is Fixture {
    AccessRegistry internal access;
    OperatorRegistry internal registry;
    BondManager internal bonds;
    VfpPool internal vfp;
    InsuranceFund internal fund;
    OperatorsModule internal module;
    address internal kycProvider;
    address internal vetter;
    address internal reporter;
    uint8 internal constant KYC_TIER = 1;

    function setUp() public virtual override {
        super.setUp();
        kycProvider = makeAddr("kycProvider");
        vetter = makeAddr("vetter");
        reporter = makeAddr("reporter");
        address[] memory providers = new address[](1);
        providers[0] = kycProvider;
        access = _deployAccessRegistry(address(this), tl, guardian, providers);
        registry = ops.registry;
        bonds = ops.bonds;
        vfp = ops.vfp;
        fund = ops.fund;
        module = ops.module;
        vm.startPrank(tl);
        registry.setAccessRegistry(address(access), KYC_TIER);
        registry.grantRole(registry.VETTING_ROLE(), vetter);
        registry.grantRole(registry.REPORTER_ROLE(), reporter);
        registry.grantRole(registry.DEPOSITOR_ROLE(), address(this));
        bonds.grantRole(bonds.REPORTER_ROLE(), reporter);
        vm.stopPrank();
    }

    function _attestKyc(address account) internal {
        vm.prank(kycProvider);
        access.attest(account, KYC_TIER, uint64(block.timestamp + 300 days));
    }

    function _pubkey(uint256 seed) internal pure returns (bytes memory) {
        return
            abi.encodePacked(keccak256(abi.encode("pk", seed)), bytes16(keccak256(abi.encode("pk2", seed))));
    }

    function _signature(uint256 seed) internal pure returns (bytes memory) {
        return abi.encodePacked(
            keccak256(abi.encode("s0", seed)),
            keccak256(abi.encode("s1", seed)),
            keccak256(abi.encode("s2", seed))
        );
    }

    function _keys(uint256 seed, uint256 count) internal pure returns (bytes memory pks, bytes memory sigs) {
        for (uint256 i; i < count; ++i) {
            pks = bytes.concat(pks, _pubkey(seed + i));
            sigs = bytes.concat(sigs, _signature(seed + i));
        }
    }

    function _registerHome(address manager, uint256 bond) internal returns (uint256 id) {
        vm.deal(manager, manager.balance + bond);
        vm.prank(manager);
        id = registry.registerHomeOperator{value: bond}(manager);
    }

    function _admit(IOperatorRegistry.OperatorType t, address manager) internal returns (uint256 id) {
        vm.prank(tl);
        id = registry.admitOperator(t, manager, manager);
    }

    function _addAndVet(uint256 id, address manager, uint256 seed, uint256 count) internal {
        (bytes memory pks, bytes memory sigs) = _keys(seed, count);
        vm.prank(manager);
        registry.addKeys(id, pks, sigs);
        uint256 total = registry.getOperator(id).totalKeys;
        vm.prank(vetter);
        registry.setVettedLimit(id, total);
    }
}
