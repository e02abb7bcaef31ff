// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";

/// @notice Gas of the key operations, written to snapshots/OperatorsGasTest.json (`forge test
/// --match-contract OperatorsGasTest`), so a regression shows as a diff. Storage is cooled (`vm.cool`)
/// before each measured call so the figures are those of a fresh transaction.
contract OperatorsGasTest is OperatorsFixture {
    uint256 internal home;

    function setUp() public {
        _deploy();
        home = _registerHome(alice, 100 ether);
        vm.prank(bob);
        vfp.depositEth{value: 50 ether}(bob);
        pool.mintFor(address(fund), 10 ether);
    }

    function _coolAll() internal {
        vm.cool(address(registry));
        vm.cool(address(bonds));
        vm.cool(address(vfp));
        vm.cool(address(fund));
        vm.cool(address(pool));
    }

    function _add(uint256 seed, uint256 n, string memory name) internal {
        (bytes memory pks, bytes memory sigs) = _keys(seed, n);
        _coolAll();
        _coolAll();
        vm.prank(alice);
        registry.addKeys(home, pks, sigs);
        vm.snapshotGasLastCall(name);
    }

    function test_gas_registration() public {
        _coolAll();
        vm.prank(bob);
        registry.registerHomeOperator{value: 2 ether}(bob);
        vm.snapshotGasLastCall("registerHomeOperator");
        address[] memory m = new address[](4);
        for (uint256 i; i < 4; ++i) {
            m[i] = address(uint160(0x1000 + i));
        }
        _coolAll();
        vm.prank(carol);
        registry.registerDvtCluster{value: 1 ether}(m, 3, IOperatorRegistry.DvtPlatform.Ssv, carol);
        vm.snapshotGasLastCall("registerDvtCluster_4members");
    }

    function test_gas_keys() public {
        _add(1, 1, "addKeys_1");
        _add(100, 10, "addKeys_10");
        _add(1000, 100, "addKeys_100");
        _coolAll();
        vm.prank(alice);
        registry.removeKeys(home, 0, 1);
        vm.snapshotGasLastCall("removeKeys_1_moving_last");
        _coolAll();
        vm.prank(vetter);
        registry.setVettedLimit(home, 110);
        vm.snapshotGasLastCall("setVettedLimit");
        _coolAll();
        registry.nextKeys(home, 10);
        vm.snapshotGasLastCall("nextKeys_10_view");
        _coolAll();
        vm.prank(depositor);
        registry.markPreDeposited(home, 10);
        vm.snapshotGasLastCall("markPreDeposited_10");
        _coolAll();
        vm.prank(reporter);
        registry.confirmPreDeposits(home, 10);
        vm.snapshotGasLastCall("confirmPreDeposits");
        _coolAll();
        vm.prank(depositor);
        registry.markDeposited(home, 10);
        vm.snapshotGasLastCall("markDeposited_10");
    }

    function test_gas_scores100() public {
        uint256[] memory ids = new uint256[](100);
        uint256[] memory scores = new uint256[](100);
        for (uint256 i; i < 100; ++i) {
            ids[i] = i == 0 ? home : _admitProfessional(address(uint160(0x2000 + i)));
            scores[i] = 5000 + i;
        }
        _coolAll();
        vm.prank(reporter);
        registry.setScores(ids, scores);
        vm.snapshotGasLastCall("setScores_100");
    }

    function test_gas_bonds() public {
        _coolAll();
        vm.prank(bob);
        bonds.depositBond{value: 1 ether}(home);
        vm.snapshotGasLastCall("depositBond");
        _coolAll();
        bonds.freeBondedCapacity(home);
        vm.snapshotGasLastCall("freeBondedCapacity_view");
        _coolAll();
        vm.prank(alice);
        bonds.claimExcess(home, 1 ether);
        vm.snapshotGasLastCall("claimExcess");
        _coolAll();
        vm.prank(reporter);
        bonds.penalize(home, 1 ether);
        vm.snapshotGasLastCall("penalize");
    }

    function test_gas_waterfallAllLayers() public {
        vm.prank(reporter);
        registry.setScore(home, 9000);
        _coolAll();
        vm.prank(alice);
        vfp.fundOperator(home, 10 ether);
        vm.snapshotGasLastCall("vfp_fundOperator");
        _coolAll();
        vm.prank(reporter);
        bonds.coverLoss(home, 115 ether); // bond 100, VFP 10, insurance 5
        vm.snapshotGasLastCall("coverLoss_three_layers");
    }

    function test_gas_vfp() public {
        _coolAll();
        vm.prank(carol);
        vfp.depositEth{value: 1 ether}(carol);
        vm.snapshotGasLastCall("vfp_depositEth");
        _coolAll();
        vm.prank(carol);
        uint256 id = vfp.requestWithdrawal(1e20);
        vm.snapshotGasLastCall("vfp_requestWithdrawal");
        vm.warp(block.timestamp + 7 days);
        _coolAll();
        vm.prank(carol);
        vfp.claimWithdrawal(id);
        vm.snapshotGasLastCall("vfp_claimWithdrawal");
    }
}
