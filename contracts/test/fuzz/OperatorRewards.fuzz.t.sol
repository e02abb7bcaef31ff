// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRewards} from "../../src/interfaces/IOperatorRewards.sol";
import {OperatorRewardsBase} from "../unit/OperatorRewards.t.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";

/// @notice Random trees built by the reference builder: every leaf is claimable exactly once for
/// exactly its amount, across root rotations, and the contract never pays more than it received.
contract OperatorRewardsFuzzTest is OperatorRewardsBase {
    uint256 internal constant MAX_LEAVES = 40;

    function _accounts(uint256 seed, uint256 n) internal pure returns (address[] memory a) {
        a = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            // distinct by construction: the low 32 bits are the index + 1
            a[i] = address(uint160(uint256(keccak256(abi.encode(seed))) << 32 | (i + 1)));
        }
    }

    function _amounts(uint256 seed, uint256 n, uint256[] memory floor)
        internal
        pure
        returns (uint256[] memory v, uint256 total)
    {
        v = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            v[i] = floor[i] + uint256(keccak256(abi.encode(seed, i, "amount"))) % 1e24;
            total += v[i];
        }
    }

    function _build(address[] memory a, uint256[] memory v) internal pure returns (bytes32[] memory tree) {
        bytes32[] memory leaves = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            leaves[i] = MerkleBuilder.leaf(a[i], v[i]);
        }
        tree = MerkleBuilder.build(leaves);
    }

    function testFuzz_claim_EveryLeafOnceAcrossRotations(uint256 seed, uint8 rawN, uint8 rawClaimFirst)
        public
    {
        uint256 n = bound(rawN, 1, MAX_LEAVES);
        uint256 claimFirst = bound(rawClaimFirst, 0, n);
        address[] memory accounts = _accounts(seed, n);

        // frame 1
        (uint256[] memory v1, uint256 total1) = _amounts(seed, n, new uint256[](n));
        token.mint(address(rewards), total1);
        bytes32[] memory tree1 = _build(accounts, v1);
        _publish(tree1, total1, 1);
        for (uint256 i = 0; i < claimFirst; ++i) {
            bytes32[] memory p = MerkleBuilder.proofOf(tree1, MerkleBuilder.leaf(accounts[i], v1[i]));
            if (v1[i] == 0) {
                vm.expectRevert(
                    abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, accounts[i], 0, 0)
                );
                rewards.claim(accounts[i], 0, p);
                continue;
            }
            vm.assertEq(rewards.claim(accounts[i], v1[i], p), v1[i], "frame 1 paid");
            vm.expectRevert(
                abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, accounts[i], v1[i], v1[i])
            );
            rewards.claim(accounts[i], v1[i], p);
        }

        // frame 2: cumulative amounts grow
        (uint256[] memory v2, uint256 total2) = _amounts(seed ^ 0xf2, n, v1);
        token.mint(address(rewards), total2 - total1);
        bytes32[] memory tree2 = _build(accounts, v2);
        _publish(tree2, total2, 2);
        for (uint256 i = 0; i < n; ++i) {
            bytes32[] memory p = MerkleBuilder.proofOf(tree2, MerkleBuilder.leaf(accounts[i], v2[i]));
            uint256 already = i < claimFirst ? v1[i] : 0;
            if (v2[i] == already) continue;
            vm.assertEq(rewards.claim(accounts[i], v2[i], p), v2[i] - already, "frame 2 increment");
            vm.assertEq(token.balanceOf(accounts[i]), v2[i], "cumulative balance");
        }
        vm.assertEq(rewards.totalClaimed(), total2, "all claimed");
        vm.assertEq(token.balanceOf(address(rewards)), 0, "nothing left, nothing overpaid");
    }

    function testFuzz_claim_RevertWhen_AmountTampered(uint256 seed, uint8 rawN, uint8 rawI, uint256 delta)
        public
    {
        uint256 n = bound(rawN, 1, MAX_LEAVES);
        uint256 i = bound(rawI, 0, n - 1);
        delta = bound(delta, 1, 1e30);
        address[] memory accounts = _accounts(seed, n);
        (uint256[] memory v, uint256 total) = _amounts(seed, n, new uint256[](n));
        token.mint(address(rewards), total + delta);
        bytes32[] memory tree = _build(accounts, v);
        _publish(tree, total, 1);
        bytes32[] memory p = MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(accounts[i], v[i]));
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, accounts[i], v[i] + delta)
        );
        rewards.claim(accounts[i], v[i] + delta, p);
    }
}
