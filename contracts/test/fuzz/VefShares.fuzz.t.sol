// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Fuzz tests of the VEF share math.
contract VefSharesFuzzTest is OperatorsFixture {
    function setUp() public {
        _deploy();
    }

    function _rewards(uint256 cs) internal {
        if (cs == 0) return;
        pool.mintFor(distributor, cs);
        vm.startPrank(distributor);
        pool.approve(address(vfp), cs);
        vfp.depositRewards(pool.balanceOf(distributor));
        vm.stopPrank();
    }

    /// @dev A deposit followed by a full withdrawal never returns more than was put in, and loses
    /// at most the rounding of two conversions.
    function testFuzz_depositWithdraw_NeverProfits(uint256 first, uint256 rewards, uint256 amount) public {
        first = bound(first, 1e15, 1000 ether);
        rewards = bound(rewards, 0, first * 10);
        amount = bound(amount, 1e15, 1000 ether);
        vm.deal(bob, first);
        vm.prank(bob);
        vfp.depositEth{value: first}(bob);
        _rewards(rewards);

        vm.deal(carol, amount);
        vm.prank(carol);
        uint256 vef = vfp.depositEth{value: amount}(carol);
        vm.prank(carol);
        uint256 id = vfp.requestWithdrawal(vef);
        vm.warp(block.timestamp + 7 days);
        vm.prank(carol);
        uint256 cs = vfp.claimWithdrawal(id);
        vm.assertLe(cs, amount, "never more than deposited");
        // loss bounded by one VEF's worth plus one wei
        uint256 perVef = (vfp.totalAssets() + 1) / (vfp.totalSupply() + 1e3) + 1;
        vm.assertGe(cs + perVef + 1, amount, "rounding loss bounded");
    }

    /// @dev Deposits never lower the value of existing VEF shares.
    function testFuzz_deposit_DoesNotDiluteHolders(uint256 first, uint256 rewards, uint256 amount) public {
        first = bound(first, 1e15, 1000 ether);
        rewards = bound(rewards, 0, 1000 ether);
        amount = bound(amount, 1, 1000 ether);
        vm.deal(bob, first);
        vm.prank(bob);
        uint256 bobVef = vfp.depositEth{value: first}(bob);
        _rewards(rewards);
        uint256 before = vfp.convertToCs(bobVef);
        vm.deal(carol, amount);
        vm.prank(carol);
        try vfp.depositEth{value: amount}(carol) {} catch {}
        vm.assertGe(vfp.convertToCs(bobVef), before, "not diluted");
    }

    /// @dev Total claims never exceed total assets: redeeming every holder leaves no deficit.
    function testFuzz_redeemAll_Solvent(uint256 a, uint256 b, uint256 rewards) public {
        a = bound(a, 1e15, 1000 ether);
        b = bound(b, 1, 1000 ether);
        rewards = bound(rewards, 0, 1000 ether);
        vm.deal(bob, a);
        vm.prank(bob);
        uint256 vb = vfp.depositEth{value: a}(bob);
        _rewards(rewards);
        vm.deal(carol, b);
        vm.prank(carol);
        uint256 vc;
        try vfp.depositEth{value: b}(carol) returns (uint256 v) {
            vc = v;
        } catch {}
        vm.assertLe(vfp.convertToCs(vb) + vfp.convertToCs(vc), vfp.totalAssets(), "solvent");
    }

    // ------------------------------------------------------------------ rewards from the tree

    /// @dev Mints exactly `shares` csETH shares to `to`.
    function _mintShares(address to, uint256 shares) internal {
        if (shares == 0) return;
        pool.mintFor(distributor, pool.convertToAssets(shares) + 1 ether);
        vm.prank(distributor);
        vm.assertTrue(pool.transfer(to, shares), "transfer");
    }

    /// @dev Publishes a root with the VfpPool's leaf `vfpCumulative` and one operator's leaf,
    /// the pool having minted what the new total needs; returns the VfpPool's proof.
    function _root(OperatorRewards r, uint256 vfpCumulative, uint256 other, uint256 refSlot)
        internal
        returns (bytes32[] memory)
    {
        uint256 total = vfpCumulative + other;
        _mintShares(address(r), total - r.totalReceived());
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = MerkleBuilder.leaf(address(vfp), vfpCumulative);
        leaves[1] = MerkleBuilder.leaf(alice, other);
        bytes32[] memory tree = MerkleBuilder.build(leaves);
        vm.prank(makeAddr("module"));
        r.setRewardsRoot(tree[0], total, refSlot);
        return MerkleBuilder.proofOf(tree, leaves[0]);
    }

    /// @dev Over two roots, whoever claims the pool's leaf (the VfpPool itself or anyone directly on
    /// OperatorRewards, in either order) and whatever is donated in between, the pool books exactly
    /// its cumulative leaf, once: assets = deposits + leaf, the donation stays outside the assets,
    /// and the holders' value grows by the booked rewards (never more).
    function testFuzz_claimRewards_BooksExactlyThePaidLeaf(
        uint256 deposit,
        uint256 donation,
        uint256 c1,
        uint256 c2,
        uint8 paths
    ) public {
        deposit = bound(deposit, 1e15, 1000 ether);
        donation = bound(donation, 0, 100 ether);
        c1 = bound(c1, 1, 100 ether);
        c2 = bound(c2, c1, 200 ether);
        OperatorRewards r = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (admin, address(pool), makeAddr("module")))
                )
            )
        );
        vm.prank(admin);
        vfp.setOperatorRewards(address(r));
        vm.deal(bob, deposit);
        vm.prank(bob);
        uint256 vef = vfp.depositEth{value: deposit}(bob);
        uint256 assets0 = vfp.totalAssets();
        uint256 value0 = vfp.convertToCs(vef);

        bytes32[] memory proof = _root(r, c1, 7 ether, 1);
        _mintShares(address(vfp), donation / 2);
        if (paths & 1 == 0) {
            vm.assertEq(vfp.claimRewards(c1, proof), c1, "claimed and booked");
        } else {
            r.claim(address(vfp), c1, proof);
            vm.assertEq(vfp.totalAssets(), assets0, "a direct claim books nothing by itself");
            if (paths & 2 == 0) vm.assertEq(vfp.syncRewards(), c1, "synced");
            else vm.assertEq(vfp.claimRewards(c1, proof), c1, "booked, claim skipped");
        }
        vm.assertEq(vfp.totalAssets(), assets0 + c1, "assets after root 1");

        proof = _root(r, c2, 9 ether, 2);
        _mintShares(address(vfp), donation - donation / 2);
        if (paths & 4 == 0) {
            vfp.claimRewards(c2, proof);
        } else if (c2 > c1) {
            r.claim(address(vfp), c2, proof);
        }
        vfp.syncRewards();
        vm.assertEq(vfp.syncRewards(), 0, "booked once");
        vm.assertEq(vfp.totalAssets(), assets0 + c2, "assets = deposits + cumulative leaf");
        vm.assertEq(vfp.rewardsBooked(address(r)), c2, "booked = claimed");
        vm.assertEq(r.claimed(address(vfp)), c2, "claimed");
        vm.assertEq(pool.balanceOf(address(vfp)), vfp.totalAssets() + donation, "donation outside the assets");
        uint256 value = vfp.convertToCs(vef);
        vm.assertLe(value, value0 + c2, "never more than the rewards");
        // bob holds every VEF: he gets the rewards up to the virtual offset's share and rounding
        uint256 dust = Math.mulDiv(c2 + assets0, 1e3, vef + 1e3) + 2;
        vm.assertGe(value + dust, value0 + c2, "holders get the rewards");
    }
}
