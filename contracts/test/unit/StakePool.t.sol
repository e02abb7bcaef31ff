// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "../utils/Fixture.sol";

contract StakePoolDepositTest is Fixture {
    function test_deposit_MintsAtCurrentRate() public {
        uint256 shares = _deposit(alice, 1 ether);
        vm.assertEq(shares, 1 ether, "1:1 at genesis rate");
        vm.assertEq(pool.balanceOf(alice), 1 ether, "balance");
        vm.assertEq(pool.totalPooledEther(), 1 ether + SEED, "pooled");
        vm.assertEq(pool.bufferedEther(), 1 ether + SEED, "buffered");
    }
}
