// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {ICoverablePool} from "../../src/interfaces/ICoverablePool.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice The operator contracts against the real StakePool: cover burns, the loss waterfall
/// lifting the rate back when a real oracle report books the loss, and the Kyc hook over the real
/// AccessRegistry.
contract OperatorsPoolTest is OperatorsSystemFixture {
    uint256 internal home;
    uint256 internal constant VALIDATORS = 8;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 300 ether);
        // 8 validators on the CL through a stand-in deposit module (this test)
        vm.prank(tl);
        pool.setDepositModule(address(this));
        pool.withdrawToDepositModule(VALIDATORS * 32 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = VALIDATORS;
        r.validatorsActive = VALIDATORS;
        r.clBalance = VALIDATORS * 32 ether;
        r.clDepositsProcessed = VALIDATORS * 32 ether;
        _submit(r);

        home = _registerHome(bob, 4 ether);
        vm.deal(carol, 10 ether);
        vm.prank(carol);
        vfp.depositEth{value: 10 ether}(carol);
        vm.prank(reporter);
        registry.setScore(home, 9000);
        vm.prank(bob);
        vfp.fundOperator(home, 2 ether);
        // 3 ETH of csETH in the insurance fund
        uint256 s = _deposit(carol, 3 ether);
        vm.prank(carol);
        pool.transfer(address(fund), s);
    }

    /// @dev A report booking a CL loss of `loss` explained by `slashed` new slashings.
    function _reportLoss(uint256 loss, uint256 slashed) internal {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsSlashed += slashed;
        r.clBalance -= loss;
        _submit(r);
    }

    // ------------------------------------------------------------------ pool hooks

    function test_burnSharesForCover_RevertWhen_NotCoverProvider() public {
        vm.expectRevert(abi.encodeWithSelector(ICoverablePool.NotCoverProvider.selector, alice));
        vm.prank(alice);
        pool.burnSharesForCover(1);
    }

    function test_burnSharesForCover_LiftsRateAndWorksWhilePaused() public {
        vm.prank(guardian);
        pool.pause();
        uint256 rateBefore = pool.shareRate();
        uint256 supplyBefore = pool.totalSupply();
        uint256 shares = pool.balanceOf(address(fund));
        uint256 value = pool.convertToAssets(1 ether);
        vm.expectEmit(address(pool));
        emit ICoverablePool.SharesBurnedForCover(address(fund), 1 ether, value);
        vm.prank(address(fund));
        pool.burnSharesForCover(1 ether);
        vm.assertEq(pool.balanceOf(address(fund)), shares - 1 ether, "burned from the caller");
        vm.assertEq(pool.totalSupply(), supplyBefore - 1 ether, "supply");
        vm.assertGt(pool.shareRate(), rateBefore, "rate lifted");
    }

    function test_setCoverProvider_RevertWhen_NotGovernance() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, pool.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(guardian);
        pool.setCoverProvider(alice, true);
    }

    function test_setCoverProvider_AllowsAndForbids() public {
        vm.expectEmit(address(pool));
        emit IStakePool.CoverProviderUpdated(alice, true);
        vm.prank(tl);
        pool.setCoverProvider(alice, true);
        vm.assertTrue(pool.isCoverProvider(alice), "allowed");
        vm.prank(alice);
        pool.burnSharesForCover(1 ether);
        vm.prank(tl);
        pool.setCoverProvider(alice, false);
        vm.assertFalse(pool.isCoverProvider(alice), "forbidden");
        vm.expectRevert(abi.encodeWithSelector(ICoverablePool.NotCoverProvider.selector, alice));
        vm.prank(alice);
        pool.burnSharesForCover(1 ether);
    }

    // ------------------------------------------------------------------ waterfall vs the real pool

    function test_coverLoss_RealReportKeepsRateWhenCovered() public {
        uint256 rateBefore = pool.shareRate();
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(home, 7 ether);
        _reportLoss(7 ether, 7);
        vm.assertEq(c.fromBond, 4 ether, "bond first");
        vm.assertEq(c.fromVfp, 2 ether, "then the VFP backing");
        vm.assertEq(c.fromInsurance, 1 ether, "then insurance");
        vm.assertEq(c.uncovered, 0, "nothing for holders");
        vm.assertApproxEqAbs(pool.shareRate(), rateBefore, 1, "holders whole");
        vm.assertGe(pool.shareRate(), rateBefore, "rounding favours the pool");
    }

    function test_coverLoss_RealReportHoldersBearOnlyTheUncoveredPart() public {
        ISanityChecker.Limits memory l = sanity.limits();
        l.slashingAllowanceGwei = 2e9; // 8 slashings may explain the 12 ETH drop
        vm.prank(tl);
        sanity.setLimits(l);
        uint256 tpe = pool.totalPooledEther();
        uint256 supply = pool.totalSupply();
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(home, 12 ether);
        _reportLoss(12 ether, 8);
        vm.assertApproxEqAbs(c.uncovered, 3 ether, 1, "bond 4 + vfp 2 + insurance 3 cover 9 of 12");
        // holders' value = (tpe - 12) over the supply left after burning 9 ETH worth of shares
        uint256 burned = supply - pool.totalSupply();
        vm.assertApproxEqAbs(burned * tpe / supply, 9 ether, 2, "9 ETH of shares burned");
        vm.assertEq(pool.totalPooledEther(), tpe - 12 ether, "loss booked");
    }

    function test_coverLossAtRate_AfterTheReportRestoresRate() public {
        uint256 rateBefore = pool.shareRate();
        _reportLoss(3 ether, 3);
        vm.assertLt(pool.shareRate(), rateBefore, "loss booked first");
        vm.prank(reporter);
        bonds.coverLossAtRate(home, 3 ether, rateBefore);
        vm.assertApproxEqAbs(pool.shareRate(), rateBefore, 1e9, "rate restored");
    }

    // ------------------------------------------------------------------ Kyc hook, real AccessRegistry

    function test_admitOperator_RevertWhen_KycManagerNotAttestedInRealRegistry() public {
        address m = makeAddr("kycManager");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, m, KYC_TIER));
        vm.prank(tl);
        registry.admitOperator(IOperatorRegistry.OperatorType.Kyc, m, m);
    }

    function test_depositableKeys_KycFollowsRealAttestation() public {
        address m = makeAddr("kycManager");
        _attestKyc(m);
        uint256 id = _admit(IOperatorRegistry.OperatorType.Kyc, m);
        _addAndVet(id, m, 1000, 3);
        vm.deal(m, 3 ether);
        vm.prank(m);
        bonds.depositBond{value: 3 ether}(id); // pre-deposit collateral (ADR 0007)
        vm.assertEq(registry.depositableKeys(id), 3, "attested: keys depositable");
        vm.prank(kycProvider);
        access.revoke(m);
        vm.assertEq(registry.depositableKeys(id), 0, "revoked: no new deposits");
        (bytes memory pks, bytes memory sigs) = _keys(2000, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAttested.selector, m, KYC_TIER));
        vm.prank(m);
        registry.addKeys(id, pks, sigs);
        _attestKyc(m);
        vm.assertEq(registry.depositableKeys(id), 3, "attested again");
    }

    function test_admitOperator_KycWithRealAttestation() public {
        address m = makeAddr("kycManager");
        _attestKyc(m);
        vm.assertTrue(IAccessRegistry(address(access)).isAttested(m, KYC_TIER), "attested");
        uint256 id = _admit(IOperatorRegistry.OperatorType.Kyc, m);
        vm.assertEq(uint256(registry.getOperator(id).operatorType), 1, "kyc operator");
    }
}
