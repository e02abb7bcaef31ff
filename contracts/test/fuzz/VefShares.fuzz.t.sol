// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {OperatorsFixture} from "../utils/OperatorsFixture.sol";

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
}
