// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {OperatorRewardsBase} from "../unit/OperatorRewards.t.sol";
import {OperatorRewardsHandler} from "./handlers/OperatorRewardsHandler.sol";

/// @notice Accounting invariants of OperatorRewards over random frames and claims.
contract OperatorRewardsInvariantTest is OperatorRewardsBase {
    OperatorRewardsHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new OperatorRewardsHandler(rewards, token, module);
        targetContract(address(handler));
    }

    /// @notice Every share received is either still held or was claimed: nothing leaks.
    function invariant_receivedIsHeldOrClaimed() public view {
        vm.assertEq(
            token.balanceOf(address(rewards)) + rewards.totalClaimed(),
            handler.ghostMinted(),
            "held + claimed"
        );
        vm.assertEq(rewards.totalReceived(), handler.ghostMinted(), "totalReceived");
    }

    /// @notice Each account holds exactly what it claimed, never more than its cumulative amount.
    function invariant_paidEqualsClaimedWithinCumulative() public view {
        uint256 sum;
        for (uint256 i = 0; i < handler.ACCOUNTS(); ++i) {
            address a = handler.accounts(i);
            vm.assertEq(token.balanceOf(a), rewards.claimed(a), "balance = claimed");
            vm.assertEq(rewards.claimed(a), handler.ghostPaid(i), "claimed = ghost paid");
            vm.assertLe(rewards.claimed(a), handler.cumulative(i), "claimed <= cumulative");
            sum += rewards.claimed(a);
        }
        vm.assertEq(sum, rewards.totalClaimed(), "sum of claims");
    }

    /// @notice The published total never exceeds what was received, and claims stay below it.
    function invariant_totalsBounded() public view {
        vm.assertLe(rewards.totalClaimed(), rewards.rewardsCumulativeShares(), "claimed <= published");
        vm.assertLe(rewards.rewardsCumulativeShares(), rewards.totalReceived(), "published <= received");
    }

    /// @notice Repeated and tampered claims never pay.
    function invariant_noBadClaimPaid() public view {
        vm.assertEq(handler.ghostBadClaimPaid(), 0, "repeat claim paid");
        vm.assertEq(handler.ghostWrongAmountPaid(), 0, "tampered claim paid");
        vm.assertEq(handler.ghostWrongIncrement(), 0, "a valid claim paid other than its increment");
        vm.assertEq(handler.ghostUnexpectedError(), 0, "a valid claim failed or a repeat failed oddly");
    }
}
