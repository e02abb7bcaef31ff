// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Gas of booking the VfpPool's leaf of a depth-10 rewards tree (1,024 leaves), recorded
/// with `vm.snapshotGasLastCall`: `VfpPool.claimRewards` (claim + booking) and `VfpPool.syncRewards`
/// after a direct claim on OperatorRewards. Prepared in setUp, so the measured call starts cold;
/// execution gas without the 21,000 intrinsic gas and calldata.
contract VfpRewardsGasTest is OperatorsFixture {
    uint256 internal constant LEAVES = 1024;
    OperatorRewards internal rewards;
    address internal module = makeAddr("operatorsModule");
    bytes32[] internal proof;
    uint256 internal amount;

    function setUp() public {
        _deploy();
        vm.prank(bob);
        vfp.depositEth{value: 10 ether}(bob);
        rewards = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (admin, address(pool), module))
                )
            )
        );
        vm.prank(admin);
        vfp.setOperatorRewards(address(rewards));
        // leaf 0 is the VfpPool's, the others operators'
        bytes32[] memory leaves = new bytes32[](LEAVES);
        uint256 total;
        amount = 1 ether;
        leaves[0] = MerkleBuilder.leaf(address(vfp), amount);
        total = amount;
        for (uint256 i = 1; i < LEAVES; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < 1,024: fits
            leaves[i] = MerkleBuilder.leaf(address(uint160(0x10000 + i)), 1e15 + i);
            total += 1e15 + i;
        }
        bytes32[] memory tree = MerkleBuilder.build(leaves);
        bytes32[] memory p = MerkleBuilder.proofOf(tree, leaves[0]);
        for (uint256 i = 0; i < p.length; ++i) {
            proof.push(p[i]);
        }
        pool.mintFor(distributor, total + 1 ether);
        vm.prank(distributor);
        vm.assertTrue(pool.transfer(address(rewards), total), "fund");
        vm.prank(module);
        rewards.setRewardsRoot(tree[0], total, 1);
    }

    function test_gas_claimRewardsDepth10() public {
        vm.assertEq(proof.length, 10, "depth 10");
        vfp.claimRewards(amount, proof);
        uint256 g = vm.snapshotGasLastCall("VfpPool.claimRewards (depth 10, first claim)");
        vm.assertEq(vfp.totalAssets(), 11 ether, "booked");
        vm.assertLe(g, 125_000, "claimRewards gas");
    }

    function test_gas_syncRewardsAfterDirectClaim() public {
        rewards.claim(address(vfp), amount, proof);
        vfp.syncRewards();
        uint256 g = vm.snapshotGasLastCall("VfpPool.syncRewards (after a direct claim)");
        vm.assertEq(vfp.totalAssets(), 11 ether, "booked");
        vm.assertLe(g, 60_000, "syncRewards gas");
    }
}
