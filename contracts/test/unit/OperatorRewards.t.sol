// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRewards} from "../../src/interfaces/IOperatorRewards.sol";
import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {MockRestrictedShareToken, MockShareToken} from "../mocks/RewardsExitsMocks.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {TestBase} from "../utils/TestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

/// @notice Deploys OperatorRewards behind a proxy with a mock csETH.
abstract contract OperatorRewardsBase is TestBase {
    OperatorRewards internal rewards;
    MockShareToken internal token;
    address internal admin = makeAddr("timelock");
    address internal module = makeAddr("operatorsModule");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        token = new MockShareToken();
        rewards = _deploy(address(token));
    }

    function _deploy(address token_) internal returns (OperatorRewards r) {
        OperatorRewards impl = new OperatorRewards();
        r = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(impl), abi.encodeCall(OperatorRewards.initialize, (admin, token_, module))
                )
            )
        );
    }

    function _tree3(uint256 a, uint256 b, uint256 c) internal view returns (bytes32[] memory tree) {
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = MerkleBuilder.leaf(alice, a);
        leaves[1] = MerkleBuilder.leaf(bob, b);
        leaves[2] = MerkleBuilder.leaf(carol, c);
        tree = MerkleBuilder.build(leaves);
    }

    function _publish(bytes32[] memory tree, uint256 total, uint256 refSlot) internal {
        vm.prank(module);
        rewards.setRewardsRoot(tree[0], total, refSlot);
    }

    function _proof(bytes32[] memory tree, address account, uint256 amount)
        internal
        pure
        returns (bytes32[] memory)
    {
        return MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(account, amount));
    }
}

contract OperatorRewardsTest is OperatorRewardsBase {
    // ------------------------------------------------------------------ reference vector
    /// @dev Root and proofs produced by @openzeppelin/merkle-tree 1.0.8 StandardMerkleTree.of(values,
    /// ["address", "uint256"]) for the five values below; pins the leaf and node encoding the
    /// Rust oracle must reproduce.
    function test_builder_MatchesOpenZeppelinMerkleTree() public pure {
        bytes32[] memory leaves = new bytes32[](5);
        leaves[0] = MerkleBuilder.leaf(0x1111111111111111111111111111111111111111, 1000);
        leaves[1] = MerkleBuilder.leaf(0x2222222222222222222222222222222222222222, 2_500_000_000_000_000_000);
        leaves[2] = MerkleBuilder.leaf(0x3333333333333333333333333333333333333333, 7);
        leaves[3] = MerkleBuilder.leaf(0x4444444444444444444444444444444444444444, 123_456_789);
        leaves[4] = MerkleBuilder.leaf(0x5555555555555555555555555555555555555555, 1);
        bytes32[] memory tree = MerkleBuilder.build(leaves);
        vm.assertEq(tree[0], 0x79bda43a6d31f692d05c1a0a455e1da7a6fdaca1ece35527f83c76cae7ca0f1b, "root");
        bytes32[] memory p = MerkleBuilder.proofOf(tree, leaves[1]);
        vm.assertEq(p.length, 3, "proof length");
        vm.assertEq(p[0], 0x93295d0cc4b1f2338236c6d8909f0ee632bd0e2a8a1c4237539f42cf6d8e42c8, "p0");
        vm.assertEq(p[1], 0xf62c10519787ef50d0b8b94ab8a951f39f74c5768c245b60a8c8b2a4880bb239, "p1");
        vm.assertEq(p[2], 0x8e5273db3af1138fcda8dc823228a37240d5ed8201a6c90485ed60931b52bffd, "p2");
        p = MerkleBuilder.proofOf(tree, leaves[2]);
        vm.assertEq(p.length, 2, "proof length 2");
        vm.assertEq(p[0], 0xdb70e30818a215b40029bbe6be8adb68d78ef4b5338b36d7fdd7bec0af1d8327, "q0");
        vm.assertEq(p[1], 0x72b13cd3870c79f08c8ff1c6ecbf1131925eee53ec2e13a80c11db9f8ef1c025, "q1");
    }

    function test_claim_OpenZeppelinVector() public {
        address account = 0x2222222222222222222222222222222222222222;
        token.mint(address(rewards), 3 ether);
        vm.prank(module);
        rewards.setRewardsRoot(0x79bda43a6d31f692d05c1a0a455e1da7a6fdaca1ece35527f83c76cae7ca0f1b, 3 ether, 1);
        bytes32[] memory p = new bytes32[](3);
        p[0] = 0x93295d0cc4b1f2338236c6d8909f0ee632bd0e2a8a1c4237539f42cf6d8e42c8;
        p[1] = 0xf62c10519787ef50d0b8b94ab8a951f39f74c5768c245b60a8c8b2a4880bb239;
        p[2] = 0x8e5273db3af1138fcda8dc823228a37240d5ed8201a6c90485ed60931b52bffd;
        rewards.claim(account, 2_500_000_000_000_000_000, p);
        vm.assertEq(token.balanceOf(account), 2_500_000_000_000_000_000, "paid");
    }

    // ------------------------------------------------------------------ initialize
    function test_initialize_SetsState() public view {
        vm.assertEq(rewards.token(), address(token), "token");
        vm.assertTrue(rewards.hasRole(rewards.OPERATORS_MODULE_ROLE(), module), "module role");
        vm.assertTrue(rewards.hasRole(rewards.DEFAULT_ADMIN_ROLE(), admin), "admin role");
        vm.assertEq(rewards.rewardsRoot(), bytes32(0), "no root");
        vm.assertEq(rewards.rewardsRefSlot(), 0, "no slot");
    }

    function test_initialize_RevertWhen_ZeroToken() public {
        OperatorRewards impl = new OperatorRewards();
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(
            address(impl), abi.encodeCall(OperatorRewards.initialize, (admin, address(0), module))
        );
    }

    function test_initialize_RevertWhen_ZeroModule() public {
        OperatorRewards impl = new OperatorRewards();
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(
            address(impl), abi.encodeCall(OperatorRewards.initialize, (admin, address(token), address(0)))
        );
    }

    function test_initialize_RevertWhen_ZeroAdmin() public {
        OperatorRewards impl = new OperatorRewards();
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(
            address(impl), abi.encodeCall(OperatorRewards.initialize, (address(0), address(token), module))
        );
    }

    function test_initialize_RevertWhen_Twice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        rewards.initialize(admin, address(token), module);
    }

    function test_initialize_RevertWhen_Implementation() public {
        OperatorRewards impl = new OperatorRewards();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        impl.initialize(admin, address(token), module);
    }

    // ------------------------------------------------------------------ setRewardsRoot
    function test_setRewardsRoot_StoresAndEmits() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        vm.expectEmit(address(rewards));
        emit IOperatorRewards.RewardsRootSet(tree[0], 100, 7);
        _publish(tree, 100, 7);
        vm.assertEq(rewards.rewardsRoot(), tree[0], "root");
        vm.assertEq(rewards.rewardsCumulativeShares(), 100, "total");
        vm.assertEq(rewards.rewardsRefSlot(), 7, "slot");
    }

    function test_setRewardsRoot_RevertWhen_NotModule() public {
        token.mint(address(rewards), 100);
        bytes32 role = rewards.OPERATORS_MODULE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        rewards.setRewardsRoot(bytes32(uint256(1)), 100, 1);
    }

    function test_setRewardsRoot_RevertWhen_ZeroRoot() public {
        vm.expectRevert(IOperatorRewards.ZeroRoot.selector);
        vm.prank(module);
        rewards.setRewardsRoot(bytes32(0), 0, 1);
    }

    function test_setRewardsRoot_RevertWhen_StaleRefSlot() public {
        token.mint(address(rewards), 100);
        _publish(_tree3(50, 30, 20), 100, 7);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.StaleRefSlot.selector, 7, 7));
        vm.prank(module);
        rewards.setRewardsRoot(bytes32(uint256(1)), 100, 7);
        OperatorRewards fresh = _deploy(address(token));
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.StaleRefSlot.selector, 0, 0));
        vm.prank(module);
        fresh.setRewardsRoot(bytes32(uint256(1)), 0, 0);
    }

    function test_setRewardsRoot_RevertWhen_CumulativeDecreases() public {
        token.mint(address(rewards), 100);
        _publish(_tree3(50, 30, 20), 100, 7);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.CumulativeSharesDecreased.selector, 99, 100));
        vm.prank(module);
        rewards.setRewardsRoot(bytes32(uint256(1)), 99, 8);
    }

    function test_setRewardsRoot_RevertWhen_ExceedsReceived() public {
        token.mint(address(rewards), 100);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRewards.CumulativeSharesExceedReceived.selector, 101, 100)
        );
        vm.prank(module);
        rewards.setRewardsRoot(bytes32(uint256(1)), 101, 1);
    }

    function test_setRewardsRoot_ReceivedCountsClaimedShares() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        rewards.claim(alice, 50, _proof(tree, alice, 50));
        // balance 50 + claimed 50: a new total of 100 + 10 fits once 10 more arrive
        vm.assertEq(rewards.totalReceived(), 100, "received");
        token.mint(address(rewards), 10);
        bytes32[] memory tree2 = _tree3(60, 30, 20);
        _publish(tree2, 110, 2);
        vm.assertEq(rewards.rewardsCumulativeShares(), 110, "total");
    }

    // ------------------------------------------------------------------ claim
    function test_claim_PaysEveryLeaf() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        vm.expectEmit(address(rewards));
        emit IOperatorRewards.RewardsClaimed(alice, 50, 50);
        vm.prank(carol); // anyone may claim for alice; the shares go to alice
        uint256 paid = rewards.claim(alice, 50, _proof(tree, alice, 50));
        vm.assertEq(paid, 50, "returned");
        rewards.claim(bob, 30, _proof(tree, bob, 30));
        rewards.claim(carol, 20, _proof(tree, carol, 20));
        vm.assertEq(token.balanceOf(alice), 50, "alice");
        vm.assertEq(token.balanceOf(bob), 30, "bob");
        vm.assertEq(token.balanceOf(carol), 20, "carol");
        vm.assertEq(token.balanceOf(address(rewards)), 0, "emptied");
        vm.assertEq(rewards.totalClaimed(), 100, "claimed total");
        vm.assertEq(rewards.claimed(alice), 50, "claimed alice");
    }

    function test_claim_RevertWhen_DoubleClaim() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        bytes32[] memory p = _proof(tree, alice, 50);
        rewards.claim(alice, 50, p);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, alice, 50, 50));
        rewards.claim(alice, 50, p);
        vm.assertEq(token.balanceOf(alice), 50, "paid once");
    }

    function test_claim_RevertWhen_WrongProof() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        bytes32[] memory bobProof = _proof(tree, bob, 30);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, alice, 50));
        rewards.claim(alice, 50, bobProof);
    }

    function test_claim_RevertWhen_InflatedAmount() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        bytes32[] memory p = _proof(tree, alice, 50);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, alice, 51));
        rewards.claim(alice, 51, p);
    }

    function test_claim_RevertWhen_OtherAccount() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        bytes32[] memory p = _proof(tree, alice, 50);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, bob, 50));
        rewards.claim(bob, 50, p);
    }

    function test_claim_RevertWhen_NoRoot() public {
        token.mint(address(rewards), 100);
        bytes32[] memory p = new bytes32[](0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, alice, 50));
        rewards.claim(alice, 50, p);
    }

    function test_claim_RootRotationKeepsClaimed() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        rewards.claim(alice, 50, _proof(tree, alice, 50));
        token.mint(address(rewards), 60);
        bytes32[] memory tree2 = _tree3(80, 60, 20);
        _publish(tree2, 160, 2);
        // the old proof no longer works
        bytes32[] memory oldBob = _proof(tree, bob, 30);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.InvalidProof.selector, bob, 30));
        rewards.claim(bob, 30, oldBob);
        // alice gets only the increment, bob the whole cumulative amount
        vm.assertEq(rewards.claim(alice, 80, _proof(tree2, alice, 80)), 30, "alice increment");
        vm.assertEq(rewards.claim(bob, 60, _proof(tree2, bob, 60)), 60, "bob whole");
        vm.assertEq(token.balanceOf(alice), 80, "alice total");
        vm.assertEq(rewards.claimed(alice), 80, "alice claimed");
        vm.assertEq(token.balanceOf(address(rewards)), 20, "carol's left");
    }

    function test_claim_RevertWhen_CumulativeBelowClaimed() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        rewards.claim(alice, 50, _proof(tree, alice, 50));
        // a (faulty) later root lists alice lower than she already claimed
        token.mint(address(rewards), 10);
        bytes32[] memory tree2 = _tree3(40, 50, 20);
        _publish(tree2, 110, 2);
        bytes32[] memory p = _proof(tree2, alice, 40);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, alice, 40, 50));
        rewards.claim(alice, 40, p);
        vm.assertEq(rewards.claimed(alice), 50, "unchanged");
    }

    function test_claim_RevertWhen_ZeroAmountLeaf() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(0, 80, 20);
        _publish(tree, 100, 1);
        bytes32[] memory p = _proof(tree, alice, 0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, alice, 0, 0));
        rewards.claim(alice, 0, p);
    }

    function test_claim_RestrictedTokenRevertsCleanly() public {
        MockRestrictedShareToken k = new MockRestrictedShareToken();
        OperatorRewards r = _deploy(address(k));
        k.setAttested(address(r), true);
        k.setAttested(bob, true);
        k.mint(address(r), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        vm.prank(module);
        r.setRewardsRoot(tree[0], 100, 1);
        bytes32[] memory p = _proof(tree, alice, 50);
        vm.expectRevert(abi.encodeWithSelector(MockRestrictedShareToken.NotAttested.selector, alice, 1));
        r.claim(alice, 50, p);
        vm.assertEq(r.claimed(alice), 0, "nothing recorded");
        vm.assertEq(r.totalClaimed(), 0, "total untouched");
        r.claim(bob, 30, _proof(tree, bob, 30)); // others unaffected
        k.setAttested(alice, true);
        vm.assertEq(r.claim(alice, 50, p), 50, "claims once attested");
        vm.assertEq(k.balanceOf(alice), 50, "paid");
    }

    function test_verify_MatchesClaimability() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        vm.assertTrue(rewards.verify(alice, 50, _proof(tree, alice, 50)), "valid");
        vm.assertFalse(rewards.verify(alice, 49, _proof(tree, alice, 50)), "invalid");
    }

    // ------------------------------------------------------------------ upgrade
    function test_upgrade_RevertWhen_NotAdmin() public {
        OperatorRewards impl = new OperatorRewards();
        bytes32 role = rewards.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, module, role)
        );
        vm.prank(module);
        rewards.upgradeToAndCall(address(impl), "");
    }

    function test_upgrade_KeepsStorage() public {
        token.mint(address(rewards), 100);
        bytes32[] memory tree = _tree3(50, 30, 20);
        _publish(tree, 100, 1);
        rewards.claim(alice, 50, _proof(tree, alice, 50));
        OperatorRewards impl = new OperatorRewards();
        vm.prank(admin);
        rewards.upgradeToAndCall(address(impl), "");
        vm.assertEq(rewards.rewardsRoot(), tree[0], "root kept");
        vm.assertEq(rewards.claimed(alice), 50, "claimed kept");
    }
}
