// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice Attacks on the deposit flow and the loss path, on the real system: the
/// withdrawal-credential front-run, a penalty above every layer of cover, and mass slashing.
contract DepositAttacksTest is OperatorsSystemFixture {
    DepositSecurity internal ds;
    uint256 internal pro;
    address internal attacker;
    uint256 internal constant CL_VALIDATORS = 20;

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        attacker = makeAddr("attacker");
        _deposit(alice, CL_VALIDATORS * 32 ether + 200 ether);
        // an existing CL of 20 validators (640 ETH) through a stand-in module, then the real one back
        vm.prank(tl);
        pool.setDepositModule(address(this));
        pool.withdrawToDepositModule(CL_VALIDATORS * 32 ether);
        vm.prank(tl);
        pool.setDepositModule(address(ds));
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = CL_VALIDATORS;
        r.validatorsActive = CL_VALIDATORS;
        r.clBalance = CL_VALIDATORS * 32 ether;
        r.clDepositsProcessed = CL_VALIDATORS * 32 ether;
        _submit(r);

        pro = _admit(IOperatorRegistry.OperatorType.Professional, attacker);
        _addAndVet(pro, attacker, 500, 2);
        vm.deal(attacker, 2 ether);
        vm.prank(attacker);
        bonds.depositBond{value: 2 ether}(pro);
        vm.startPrank(tl);
        ds.grantRole(ds.CURATOR_ROLE(), tl);
        ds.addOperator(uint64(pro));
        vm.stopPrank();
    }

    function _opsReport(uint256 refSlot) internal pure returns (IOperatorsReport.OperatorsReport memory o) {
        o.refSlot = refSlot;
    }

    /// The operator front-runs key 1 with its own credentials: the 1 ETH pre-deposit lands in the
    /// attacker's validator. The report confirms key 0, marks key 1 front-run and books the CL
    /// shortfall; the attacker's bond pays, stakers' rate does not fall, and no more staker ETH ever
    /// follows key 1.
    function test_attack_WithdrawalCredentialFrontRunLeavesStakersWhole() public {
        for (uint256 i; i < 3 && registry.getOperator(pro).preDeposited < 2; ++i) {
            ds.depositBuffered(2);
        }
        vm.assertEq(registry.getOperator(pro).preDeposited, 2, "two pre-deposits");
        uint256 rateBefore = pool.shareRate();
        uint256 bondBefore = bonds.bondValue(pro);

        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOperatorsReport.OperatorsReport memory o = _opsReport(r.refSlot);
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(pro), 1, false);
        // both pre-deposits were processed by the CL; only key 0's 1 ETH is ours
        r.clDepositsProcessed += 2 ether;
        r.clBalance += 1 ether;
        r.validatorsDeposited += 1;
        _submitWith(r, abi.encode(bytes32(0), o));

        vm.assertGe(pool.shareRate(), rateBefore, "stakers whole");
        vm.assertApproxEqAbs(bondBefore - bonds.bondValue(pro), 1 ether, 0.01 ether, "attacker's bond paid");
        vm.assertTrue(registry.getOperator(pro).stopped, "attacker stopped");

        uint256 depositedBefore = pool.depositedEther();
        ds.depositBuffered(10);
        vm.assertEq(pool.depositedEther() - depositedBefore, 31 ether, "only the confirmed key is topped up");
        (,, IOperatorRegistry.KeyStatus st) = registry.getKey(pro, 1);
        vm.assertEq(uint256(st), uint256(IOperatorRegistry.KeyStatus.FrontRun), "never topped up");
    }

    /// A report penalising far more than bond + VFP + insurance still applies; holders bear the rest.
    function test_attack_PenaltyAboveAllCoverAppliesAndNeverReverts() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOperatorsReport.OperatorsReport memory o = _opsReport(r.refSlot);
        o.penalties = new IOperatorsReport.OperatorPenalty[](1);
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(pro), 1000 ether, 0);
        r.clBalance -= 5 ether; // part of it on the CL this frame (5 slashings explain it)
        r.validatorsSlashed += 5;
        _submitWith(r, abi.encode(bytes32(0), o));
        vm.assertEq(bonds.bondShares(pro), 0, "bond gone");
        vm.assertEq(oracle.lastRefSlot(), r.refSlot, "report applied");
    }

    /// More than a third of the validators are slashed in one frame while withdrawal requests wait:
    /// the report applies, the queue finalizes at the lower rate and every claim is paid in full
    /// from what was reserved (no queue insolvency).
    function test_attack_MassSlashingWithoutQueueInsolvency() public {
        uint256 aliceShares = pool.balanceOf(alice);
        vm.prank(alice);
        uint256 req = queue.requestWithdrawal(aliceShares / 10, alice);
        uint256 rateBefore = pool.shareRate();

        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        uint256 slashed = CL_VALIDATORS / 3 + 1; // 7 of 20
        r.validatorsSlashed += slashed;
        r.clBalance -= slashed * 1 ether; // initial slashing penalty, explained by the allowance
        IOperatorsReport.OperatorsReport memory o = _opsReport(r.refSlot);
        o.penalties = new IOperatorsReport.OperatorPenalty[](1);
        o.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(pro), uint128(slashed * 1 ether), 0);
        _submitWith(r, abi.encode(bytes32(0), o));
        vm.assertLt(pool.shareRate(), rateBefore, "holders bear the uncovered loss");

        _reportFinalize(req);
        uint256 locked = queue.lockedEther();
        vm.assertGe(address(queue).balance, locked, "queue holds what it owes");
        uint256 balBefore = alice.balance;
        vm.prank(alice);
        queue.claim(req, alice);
        vm.assertGt(alice.balance, balBefore, "claim paid");
        vm.assertGe(address(queue).balance, queue.lockedEther(), "still solvent");
        vm.assertEq(
            pool.totalPooledEther(),
            pool.bufferedEther() + pool.transientEther() + pool.clBalance(),
            "accounting exact"
        );
    }
}
