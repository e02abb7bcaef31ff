// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "../utils/Fixture.sol";
import {MockDepositModule} from "../utils/Mocks.sol";

/// @notice Fuzzed share math, reward fee and Flash Exit fee.
contract ShareMathFuzzTest is Fixture {
    function testFuzz_deposit_SharesWorthAtMostTheDeposit(uint256 first, uint256 rewards, uint256 amount)
        public
    {
        first = bound(first, 0.001 ether, 100_000 ether);
        amount = bound(amount, 0.001 ether, 100_000 ether);
        _deposit(alice, first);
        _reportElRewards(bound(rewards, 0, 100 ether));
        uint256 rate = pool.shareRate();
        uint256 shares = _deposit(bob, amount);
        uint256 value = pool.convertToAssets(shares);
        vm.assertLe(value, amount, "never more than paid");
        vm.assertApproxEqAbs(value, amount, 2, "at most rounding dust lost");
        vm.assertGe(pool.shareRate(), rate, "rate never drops on deposit");
    }

    function testFuzz_convert_RoundTripFavoursPool(uint256 first, uint256 rewards, uint256 assets) public {
        _deposit(alice, bound(first, 0.001 ether, 100_000 ether));
        _reportElRewards(bound(rewards, 0, 100 ether));
        assets = bound(assets, 0, 1e30);
        vm.assertLe(pool.convertToAssets(pool.convertToShares(assets)), assets, "round trip never gains");
    }

    function testFuzz_rewardFee_SplitWorthTenPercent(uint256 stake, uint256 rewards) public {
        stake = bound(stake, 1 ether, 100_000 ether);
        _deposit(alice, stake);
        uint256 cap = pool.totalPooledEther() * 750 / 1_000_000;
        rewards = bound(rewards, 1 gwei, cap);
        _reportElRewards(rewards);
        uint256 t = pool.convertToAssets(pool.balanceOf(treasury));
        uint256 o = pool.convertToAssets(pool.balanceOf(operatorRewards));
        uint256 i = pool.convertToAssets(pool.balanceOf(insurance));
        vm.assertLe(t + o + i, rewards / 10, "fee never above 10 %");
        // three mints and three conversions each round down by at most one share (~1 wei)
        vm.assertApproxEqAbs(t + o + i, rewards / 10, 8, "fee is 10 %");
        vm.assertApproxEqAbs(t, rewards * 4 / 100, 3, "treasury 4 %");
        vm.assertApproxEqAbs(o, rewards * 5 / 100, 3, "operators 5 %");
        vm.assertApproxEqAbs(i, rewards / 100, 3, "insurance 1 %");
    }

    function testFuzz_flashExit_FeeBetweenMinAndMax(uint256 stake, uint256 staked, uint256 exitShares)
        public
    {
        stake = bound(stake, 10 ether, 10_000 ether);
        _deposit(alice, stake);
        MockDepositModule module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
        module.take(bound(staked, 0, pool.bufferedEther()));
        uint256 buffered = pool.bufferedEther();
        exitShares = bound(exitShares, 1e9, pool.totalSupply() / 2);
        uint256 gross = pool.convertToAssets(exitShares);
        vm.assume(gross <= buffered && gross > 1e9);
        uint256 rate = pool.shareRate();
        vm.prank(alice);
        uint256 out = pool.flashExit(exitShares, 0);
        uint256 fee = gross - out;
        vm.assertGe(fee, gross * 50 / 10_000, "fee at least 0.5 %");
        vm.assertLe(fee, gross * 100 / 10_000 + 1, "fee at most 1 %");
        vm.assertGe(pool.shareRate(), rate, "fee stays in the pool");
    }
}
