// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ExitEnforcerBase} from "../unit/ExitEnforcer.t.sol";
import {OperatorRewardsBase} from "../unit/OperatorRewards.t.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";

/// @notice A published depth-10 tree (1,024 leaves) for the claim gas figures.
abstract contract RewardsGasBase is OperatorRewardsBase {
    uint256 internal constant LEAVES = 1024;
    bytes32[] internal proof;
    address internal claimant = address(uint160(0x10000 + 77));
    uint256 internal amount;

    /// @dev Builds a tree where every account `0x10000 + i` has `base + i`, publishes it, and
    /// stores the claimant's proof.
    function _publishTree(uint256 base, uint256 refSlot) internal {
        _buildTree(base, refSlot, true);
    }

    function _buildTree(uint256 base, uint256 refSlot, bool publish) internal {
        bytes32[] memory leaves = new bytes32[](LEAVES);
        uint256 total;
        for (uint256 i = 0; i < LEAVES; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < 1,024: fits
            leaves[i] = MerkleBuilder.leaf(address(uint160(0x10000 + i)), base + i);
            total += base + i;
        }
        bytes32[] memory tree = MerkleBuilder.build(leaves);
        amount = base + (uint160(claimant) - 0x10000);
        bytes32[] memory p = MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(claimant, amount));
        delete proof;
        for (uint256 i = 0; i < p.length; ++i) {
            proof.push(p[i]);
        }
        if (!publish) return;
        uint256 received = rewards.totalReceived();
        if (total > received) token.mint(address(rewards), total - received);
        _publish(tree, total, refSlot);
    }
}

/// @notice Gas of a reward claim with a depth-10 proof, recorded with `vm.snapshotGasLastCall`.
/// Prepared in setUp, so the measured call starts cold; execution gas without the 21,000
/// intrinsic gas and calldata.
contract OperatorRewardsGasTest is RewardsGasBase {
    function setUp() public override {
        super.setUp();
        address target = claimant;
        // another account claims first, so the measured claim is not the contract's very first
        claimant = address(uint160(0x10000 + 78));
        _publishTree(1e15, 1);
        rewards.claim(claimant, 1e15 + 78, proof);
        claimant = target;
        _buildTree(1e15, 1, false);
    }

    function test_gas_claimDepth10FirstClaim() public {
        vm.assertEq(proof.length, 10, "depth 10");
        rewards.claim(claimant, amount, proof);
        uint256 g = vm.snapshotGasLastCall("OperatorRewards.claim (depth 10, first claim)");
        vm.assertLe(g, 80_000, "claim gas target");
    }
}

/// @notice The same claim by an account that already claimed under an earlier root.
contract OperatorRewardsIncrementGasTest is RewardsGasBase {
    function setUp() public override {
        super.setUp();
        _publishTree(1e15, 1);
        rewards.claim(claimant, amount, proof);
        _publishTree(2e15, 2);
    }

    function test_gas_claimDepth10Increment() public {
        vm.assertEq(proof.length, 10, "depth 10");
        rewards.claim(claimant, amount, proof);
        uint256 g = vm.snapshotGasLastCall("OperatorRewards.claim (depth 10, increment)");
        vm.assertLe(g, 60_000, "claim increment gas target");
    }
}

/// @notice Gas of a forced exit through the EIP-7002 mock (the real system contract's costs
/// differ a little: it is hand-written bytecode with the same storage writes).
contract ExitEnforcerGasTest is ExitEnforcerBase {
    function setUp() public override {
        super.setUp();
        vm.warp(deadline + 1);
    }

    function test_gas_enforceExit() public {
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
        uint256 g = vm.snapshotGasLastCall("ExitEnforcer.enforceExit (exact fee)");
        vm.assertLe(g, 250_000, "enforceExit gas target");
    }

    function test_gas_enforceExitWithRefund() public {
        vm.prank(keeper);
        enforcer.enforceExit{value: 0.01 ether}(OP, KEY);
        vm.snapshotGasLastCall("ExitEnforcer.enforceExit (refund)");
    }

    function test_gas_requestVoluntaryExit() public {
        vm.prank(manager);
        enforcer.requestVoluntaryExit(OP, KEY);
        vm.snapshotGasLastCall("ExitEnforcer.requestVoluntaryExit");
    }
}
