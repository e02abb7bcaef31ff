// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {OperatorsHandler} from "./handlers/OperatorsHandler.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Global invariants of the operator contracts (256 runs x depth 50, see foundry.toml).
contract OperatorsInvariantTest is OperatorsFixture {
    OperatorsHandler internal handler;
    OperatorRewards internal rewards;
    uint256[] internal ids;
    address[] internal providers;

    function setUp() public {
        _deploy();
        ids.push(_registerHome(alice, 3 ether));
        ids.push(_registerHome(bob, 5 ether));
        ids.push(_registerDvt(carol, 2 ether));
        ids.push(_admitProfessional(makeAddr("pro")));
        providers.push(makeAddr("vfp1"));
        providers.push(makeAddr("vfp2"));
        address module = makeAddr("operatorsModule");
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
        handler = new OperatorsHandler(
            registry,
            bonds,
            vfp,
            fund,
            pool,
            rewards,
            OperatorsHandler.Roles(admin, vetter, reporter, depositor, distributor, module),
            ids,
            providers
        );
        targetContract(address(handler));
    }

    /// @notice Invariant 5: a bond changes only by deposits, claims of excess and reported penalties.
    function invariant_bondsOnlyShrinkByReportedPenalties() public view {
        vm.assertEq(handler.ghostBondShrankOutsidePenalty(), 0, "a bond shrank outside a penalty or claim");
        uint256 sum;
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            uint256 expected =
                handler.ghostBondIn(id) - handler.ghostBondClaimed(id) - handler.ghostBondPenalized(id);
            vm.assertEq(bonds.bondShares(id), expected, "bond = in - claimed - penalized");
            sum += bonds.bondShares(id);
        }
        vm.assertEq(bonds.totalBondShares(), sum, "total = sum of bonds");
        vm.assertEq(pool.balanceOf(address(bonds)), sum, "every bond share is held");
    }

    /// @notice The waterfall never lets a later layer pay while an earlier one has funds, and the
    /// layers always add up to the loss.
    function invariant_waterfallOrder() public view {
        vm.assertEq(handler.ghostWaterfallOrderViolations(), 0, "waterfall order");
    }

    /// @notice VEF accounting is exact.
    function invariant_vefAccountingExact() public view {
        vm.assertEq(
            vfp.totalAssets(),
            handler.ghostVfpIn() - handler.ghostVfpOut() - handler.ghostVfpAbsorbed(),
            "assets = in - out - absorbed"
        );
        // held = booked assets + donations (never booked) + payments of OperatorRewards not yet booked
        vm.assertEq(
            pool.balanceOf(address(vfp)),
            vfp.totalAssets() + handler.ghostVfpDonated() + vfp.pendingRewards(),
            "assets held"
        );
        uint256 allocated;
        for (uint256 i; i < ids.length; ++i) {
            allocated += vfp.allocatedShares(ids[i]);
        }
        vm.assertEq(vfp.totalAllocated(), allocated, "allocated = sum");
        vm.assertLe(vfp.totalAllocated(), vfp.totalAssets(), "allocated <= assets");
        uint256 supply = vfp.balanceOf(address(vfp));
        vm.assertEq(supply, handler.ghostEscrowedVef(), "escrow = pending requests");
        for (uint256 i; i < providers.length; ++i) {
            supply += vfp.balanceOf(providers[i]);
        }
        vm.assertEq(vfp.totalSupply(), supply, "supply = holders + escrow");
        vm.assertLe(
            vfp.convertToCs(vfp.totalSupply()), vfp.totalAssets(), "shares never worth more than assets"
        );
    }

    /// @notice The VfpPool's leaf of the rewards tree is booked exactly once, whoever claimed it and
    /// in whatever order: what it booked is what OperatorRewards paid it (minus what is pending),
    /// never more than its leaf; donations never become assets.
    function invariant_vfpRewardsBookedOnce() public view {
        uint256 paid = rewards.claimed(address(vfp));
        uint256 booked = vfp.rewardsBooked(address(rewards));
        vm.assertEq(handler.ghostVfpRewardsMisbooked(), 0, "a call booked other than the new payments");
        vm.assertEq(booked, handler.ghostVfpRewardsBooked(), "booked = sum of bookings");
        vm.assertLe(booked, paid, "booked <= paid");
        vm.assertEq(vfp.pendingRewards(), paid - booked, "pending = paid - booked");
        vm.assertLe(paid, handler.vfpCumulative(), "paid <= leaf");
        vm.assertEq(
            pool.balanceOf(address(rewards)) + rewards.totalClaimed(), rewards.totalReceived(), "rewards"
        );
    }

    /// @notice A key is never registered twice: the global index and the per-operator key lists are
    /// a bijection over the registered keys.
    function invariant_keyNeverRegisteredTwice() public view {
        vm.assertEq(handler.ghostDuplicateKeysAccepted(), 0, "duplicate accepted");
        uint256 registered;
        for (uint256 s; s < handler.KEY_SPACE(); ++s) {
            bytes memory pk = handler.pubkey(s);
            (bool isRegistered, uint256 id, uint256 index) = registry.keyOwner(pk);
            if (!isRegistered) continue;
            ++registered;
            (bytes memory stored,,) = registry.getKey(id, index);
            vm.assertEq(stored, pk, "index points at the key");
        }
        uint256 slots;
        for (uint256 i; i < ids.length; ++i) {
            slots += registry.getOperator(ids[i]).totalKeys;
        }
        vm.assertEq(slots, registered, "every stored key is a distinct registered key");
    }

    /// @notice Every operator's pending exit-request count equals its keys with a pending deadline,
    /// only topped-up keys have one, and a close applies exactly to a pending request.
    function invariant_pendingExitRequestsMatchTheDeadlines() public view {
        for (uint256 i; i < ids.length; ++i) {
            IOperatorRegistry.OperatorInfo memory op = registry.getOperator(ids[i]);
            uint256 pending;
            for (uint256 k; k < op.totalKeys; ++k) {
                if (registry.exitRequestDeadline(ids[i], k) != 0) {
                    vm.assertLt(k, op.topUpCursor, "a deadline only on a topped-up key");
                    ++pending;
                }
            }
            vm.assertEq(op.pendingExitRequests, pending, "pending count = keys with a deadline");
        }
        vm.assertEq(handler.ghostClosedWithoutRequest(), 0, "closed without a request");
        vm.assertEq(handler.ghostCloseRefused(), 0, "a pending request could not be closed");
    }

    /// @dev The handler's exit actions reach a real request and close it (not only early returns).
    function test_handler_RequestsAndClosesExits() public {
        handler.depositBond(0, 10 ether);
        handler.addKeys(0, 1, 2);
        handler.depositKeys(0, 1, false);
        vm.assertGt(registry.getOperator(ids[0]).topUpCursor, 0, "topped up");
        handler.requestExit(0, 0, 0);
        vm.assertEq(registry.getOperator(ids[0]).pendingExitRequests, 1, "requested");
        handler.closeExitRequest(0, 0);
        vm.assertEq(handler.hitsExitClosed(), 1, "closed");
        vm.assertEq(registry.getOperator(ids[0]).pendingExitRequests, 0, "nothing pending");
        handler.closeExitRequest(0, 0); // refused: nothing pending any more
        vm.assertEq(handler.hitsExitClosed(), 1, "not closed twice");
        invariant_pendingExitRequestsMatchTheDeadlines();
    }

    /// @notice Key counters stay ordered.
    function invariant_countersOrdered() public view {
        for (uint256 i; i < ids.length; ++i) {
            IOperatorRegistry.OperatorInfo memory op = registry.getOperator(ids[i]);
            vm.assertLe(op.exited, op.deposited, "exited <= deposited");
            vm.assertLe(op.deposited, op.topUpCursor, "deposited <= cursor");
            vm.assertLe(op.topUpCursor, op.confirmed, "cursor <= confirmed");
            vm.assertLe(op.confirmed, op.preDeposited, "confirmed <= preDeposited");
            vm.assertLe(op.preDeposited, op.vettedLimit, "preDeposited <= vetted");
            vm.assertLe(op.vettedLimit, op.totalKeys, "vetted <= total");
            vm.assertLe(bonds.settledExits(ids[i]), op.exited, "settled <= exited");
        }
    }
}
