// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IInsuranceFund} from "../../src/interfaces/IInsuranceFund.sol";
import {IVfpPool} from "../../src/interfaces/IVfpPool.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice The loss waterfall (BondManager.coverLoss): bond -> VFP backing -> insurance -> holders.
contract LossWaterfallTest is OperatorsFixture {
    uint256 internal home;

    function setUp() public {
        _deploy();
        home = _registerHome(alice, 4 ether);
        // VFP: 10 ETH deposited, 2 ETH backing the operator (score above threshold)
        vm.prank(bob);
        vfp.depositEth{value: 10 ether}(bob);
        vm.prank(reporter);
        registry.setScore(home, 9000);
        vm.prank(alice);
        vfp.fundOperator(home, 2 ether);
        // insurance: 3 ETH of csETH
        pool.mintFor(address(fund), 3 ether);
    }

    /// @dev The report: the waterfall at the pre-loss rate, then the pool books the loss.
    function _cover(uint256 loss) internal returns (IBondManager.LossCoverage memory c) {
        vm.prank(reporter);
        c = bonds.coverLoss(home, loss);
        uint256 tpe = pool.totalPooledEther();
        pool.setTotalPooledEther(loss < tpe ? tpe - loss : 1);
    }

    function test_coverLoss_RestoresRateWhenCovered() public {
        uint256 rateBefore = pool.convertToAssets(1e18);
        _cover(7 ether);
        vm.assertEq(pool.convertToAssets(1e18), rateBefore, "holders whole");
    }

    function test_coverLoss_RateFallsByUncoveredPart() public {
        // 18 ETH pool, 9 ETH of cover, loss 12: holders bear 3
        _cover(12 ether);
        vm.assertEq(pool.totalPooledEther(), 6 ether, "tpe");
        vm.assertEq(pool.totalSupply(), 9 ether, "supply");
    }

    function test_coverLoss_BondOnly() public {
        IBondManager.LossCoverage memory c = _cover(1 ether);
        vm.assertEq(c.fromBond, 1 ether, "bond");
        vm.assertEq(c.fromVfp + c.fromInsurance + c.uncovered, 0, "nothing else");
        vm.assertEq(vfp.backingValue(home), 2 ether, "vfp untouched");
        vm.assertEq(fund.fundValue(), 3 ether, "fund untouched");
    }

    function test_coverLoss_SpillsToVfp() public {
        IBondManager.LossCoverage memory c = _cover(5 ether);
        vm.assertEq(c.fromBond, 4 ether, "bond emptied");
        vm.assertEq(c.fromVfp, 1 ether, "vfp pays the rest");
        vm.assertEq(c.fromInsurance, 0, "fund untouched");
        vm.assertEq(bonds.bondShares(home), 0, "no bond left");
        vm.assertEq(vfp.backingValue(home), 1 ether, "backing shrank");
        vm.assertEq(vfp.allocatedShares(home), 1 ether, "allocation shrank");
        vm.assertEq(vfp.totalAssets(), 9 ether, "vfp assets shrank");
    }

    function test_coverLoss_SpillsToInsurance() public {
        IBondManager.LossCoverage memory c = _cover(7 ether);
        vm.assertEq(c.fromBond, 4 ether, "bond");
        vm.assertEq(c.fromVfp, 2 ether, "vfp backing (not its whole pool)");
        vm.assertEq(c.fromInsurance, 1 ether, "insurance");
        vm.assertEq(c.uncovered, 0, "holders whole");
        vm.assertEq(fund.fundValue(), 2 ether, "fund shrank");
        vm.assertEq(vfp.idleShares(), 8 ether, "idle VFP assets never pay for an operator");
    }

    function test_coverLoss_RemainderBorneByHolders() public {
        uint256 supplyBefore = pool.totalSupply();
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(home, 100 ether);
        vm.assertEq(c.fromBond + c.fromVfp + c.fromInsurance, 9 ether, "all layers emptied");
        vm.assertEq(c.uncovered, 91 ether, "remainder");
        vm.assertEq(fund.fundShares(), 0, "fund emptied");
        vm.assertEq(supplyBefore - pool.totalSupply(), 9 ether, "9 ETH of shares burned");
    }

    function test_coverLoss_EmitsOneEventPerLayer() public {
        vm.expectEmit();
        emit IBondManager.LossLayerApplied(home, IBondManager.LossLayer.Bond, 4 ether);
        vm.expectEmit();
        emit IVfpPool.LossAbsorbed(home, 3 ether, 2 ether);
        vm.expectEmit();
        emit IBondManager.LossLayerApplied(home, IBondManager.LossLayer.Vfp, 2 ether);
        vm.expectEmit();
        emit IInsuranceFund.LossCovered(1 ether, 1 ether);
        vm.expectEmit();
        emit IBondManager.LossLayerApplied(home, IBondManager.LossLayer.Insurance, 1 ether);
        vm.expectEmit();
        emit IBondManager.LossLayerApplied(home, IBondManager.LossLayer.Holders, 0);
        vm.expectEmit();
        emit IBondManager.LossCovered(home, 7 ether, 4 ether, 2 ether, 1 ether, 0);
        _cover(7 ether);
    }

    function test_coverLoss_ZeroLoss() public {
        IBondManager.LossCoverage memory c = _cover(0);
        vm.assertEq(c.fromBond + c.fromVfp + c.fromInsurance + c.uncovered, 0, "nothing");
    }

    function test_coverLoss_RevertWhen_NotReporter() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bonds.REPORTER_ROLE()
            )
        );
        vm.prank(alice);
        bonds.coverLoss(home, 1 ether);
    }

    function test_coverLoss_WorksWhileEverythingPaused() public {
        vm.startPrank(guardian);
        bonds.pause();
        vfp.pause();
        registry.pause();
        vm.stopPrank();
        IBondManager.LossCoverage memory c = _cover(7 ether);
        vm.assertEq(c.fromInsurance, 1 ether, "waterfall runs");
    }

    /// @dev Attack: a report penalises far more than the bond: no revert, no underflow, every layer
    /// pays in order and the remainder is returned.
    function test_attack_PenaltyAboveBondDoesNotBlockReport() public {
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(home, type(uint128).max);
        vm.assertApproxEqAbs(c.fromBond, 4 ether, 1, "bond");
        vm.assertApproxEqAbs(c.fromVfp, 2 ether, 1, "vfp");
        vm.assertApproxEqAbs(c.fromInsurance, 3 ether, 1, "insurance");
        vm.assertEq(c.fromBond + c.fromVfp + c.fromInsurance + c.uncovered, type(uint128).max, "sums up");
        vm.assertEq(bonds.bondShares(home) + vfp.allocatedShares(home) + fund.fundShares(), 0, "all emptied");
        // the next report can still penalise the (now empty) operator
        vm.prank(reporter);
        c = bonds.coverLoss(home, 1 ether);
        vm.assertEq(c.uncovered, 1 ether, "second report goes through");
    }

    function test_penalize_AboveBondReturnsRemainderWithoutTouchingLayers() public {
        vm.prank(reporter);
        uint256 uncovered = bonds.penalize(home, 10 ether);
        vm.assertEq(uncovered, 6 ether, "remainder");
        vm.assertEq(vfp.allocatedShares(home), 2 ether, "penalize is the bond layer only");
        vm.assertEq(fund.fundShares(), 3 ether, "fund untouched");
    }

    function test_coverLossAtRate_UsesThePreReportRate() public {
        // the pool already booked a 7 ETH loss (rate 11/18); the waterfall uses the rate before it
        uint256 rateBefore = pool.convertToAssets(1e27);
        pool.setTotalPooledEther(pool.totalPooledEther() - 7 ether);
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLossAtRate(home, 7 ether, rateBefore);
        vm.assertEq(c.fromBond + c.fromVfp + c.fromInsurance, 7 ether, "covered");
        vm.assertEq(pool.convertToAssets(1e27), rateBefore, "rate restored exactly");
    }

    function test_coverLossAtRate_RevertWhen_RateZero() public {
        vm.expectRevert(IBondManager.ZeroAmount.selector);
        vm.prank(reporter);
        bonds.coverLossAtRate(home, 1 ether, 0);
    }

    function test_coverLossAtRate_RevertWhen_NotReporter() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bonds.REPORTER_ROLE()
            )
        );
        vm.prank(alice);
        bonds.coverLossAtRate(home, 1 ether, 1e27);
    }
}
