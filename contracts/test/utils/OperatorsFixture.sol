// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {BondManager} from "../../src/operators/BondManager.sol";
import {InsuranceFund} from "../../src/operators/InsuranceFund.sol";
import {OperatorRegistry} from "../../src/operators/OperatorRegistry.sol";
import {VfpPool} from "../../src/operators/VfpPool.sol";
import {MockAccessRegistry} from "../mocks/MockAccessRegistry.sol";
import {MockPool} from "../mocks/MockPool.sol";
import {TestBase} from "./TestBase.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Deploys the operator contracts behind UUPS proxies around a {MockPool}.
abstract contract OperatorsFixture is TestBase {
    MockPool internal pool;
    MockAccessRegistry internal access;
    OperatorRegistry internal registry;
    BondManager internal bonds;
    VfpPool internal vfp;
    InsuranceFund internal fund;

    address internal admin = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    address internal vetter = makeAddr("vetter");
    address internal reporter = makeAddr("reporter");
    address internal depositor = makeAddr("depositor");
    address internal distributor = makeAddr("distributor");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    uint256 internal constant BPS = 10_000;

    function _deploy() internal {
        pool = new MockPool();
        access = new MockAccessRegistry();
        registry = OperatorRegistry(address(new ERC1967Proxy(address(new OperatorRegistry()), "")));
        bonds = BondManager(address(new ERC1967Proxy(address(new BondManager()), "")));
        vfp = VfpPool(address(new ERC1967Proxy(address(new VfpPool()), "")));
        fund = InsuranceFund(address(new ERC1967Proxy(address(new InsuranceFund()), "")));

        registry.initialize(admin, guardian);
        bonds.initialize(admin, guardian, address(pool), address(registry), address(vfp), address(fund));
        vfp.initialize(admin, guardian, address(pool), address(registry), address(bonds));
        fund.initialize(admin, guardian, address(pool), address(bonds));

        vm.startPrank(admin);
        registry.setBondManager(address(bonds));
        registry.setAccessRegistry(address(access), 1);
        registry.grantRole(registry.VETTING_ROLE(), vetter);
        registry.grantRole(registry.REPORTER_ROLE(), reporter);
        registry.grantRole(registry.DEPOSITOR_ROLE(), depositor);
        bonds.grantRole(bonds.REPORTER_ROLE(), reporter);
        vfp.grantRole(vfp.REWARDS_ROLE(), distributor);
        vm.stopPrank();

        pool.setCoverProvider(address(bonds), true);
        pool.setCoverProvider(address(vfp), true);
        pool.setCoverProvider(address(fund), true);

        vm.deal(alice, 1000 ether);
        vm.deal(bob, 1000 ether);
        vm.deal(carol, 1000 ether);
    }

    // ------------------------------------------------------------------ helpers

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

    /// @dev `count` keys with seeds `seed .. seed + count - 1`, concatenated.
    function _keys(uint256 seed, uint256 count)
        internal
        pure
        returns (bytes memory pubkeys, bytes memory sigs)
    {
        for (uint256 i; i < count; ++i) {
            pubkeys = bytes.concat(pubkeys, _pubkey(seed + i));
            sigs = bytes.concat(sigs, _signature(seed + i));
        }
    }

    function _registerHome(address manager, uint256 bond) internal returns (uint256 id) {
        vm.prank(manager);
        id = registry.registerHomeOperator{value: bond}(manager);
    }

    function _registerDvt(address manager, uint256 bond) internal returns (uint256 id) {
        address[] memory members = new address[](4);
        members[0] = makeAddr("m0");
        members[1] = makeAddr("m1");
        members[2] = makeAddr("m2");
        members[3] = makeAddr("m3");
        vm.prank(manager);
        id = registry.registerDvtCluster{value: bond}(members, 3, IOperatorRegistry.DvtPlatform.Obol, manager);
    }

    function _admitProfessional(address manager) internal returns (uint256 id) {
        vm.prank(admin);
        id = registry.admitOperator(IOperatorRegistry.OperatorType.Professional, manager, manager);
    }

    function _addKeys(uint256 id, address manager, uint256 seed, uint256 count) internal {
        (bytes memory pks, bytes memory sigs) = _keys(seed, count);
        vm.prank(manager);
        registry.addKeys(id, pks, sigs);
    }

    /// @dev Adds, vets, pre-deposits, confirms and tops up `count` keys.
    function _depositKeys(uint256 id, address manager, uint256 seed, uint256 count) internal {
        _addKeys(id, manager, seed, count);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        vm.prank(vetter);
        registry.setVettedLimit(id, op.totalKeys);
        vm.prank(depositor);
        registry.markPreDeposited(id, count);
        vm.prank(reporter);
        registry.confirmPreDeposits(id, op.preDeposited + count);
        vm.prank(depositor);
        registry.markDeposited(id, count);
    }

    function _slot(string memory namespace) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(keccak256(bytes(namespace))) - 1)) & ~bytes32(uint256(0xff));
    }
}
