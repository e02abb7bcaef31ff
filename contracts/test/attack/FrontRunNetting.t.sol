// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice A withdrawal-credential front-run on a small pool (5 validators, 160 ETH on the CL): the
/// lost 1 ETH pre-deposit is 0.6 % of the CL, twice the 0.3 % unexplained-drop bound. The front-run
/// results of chunk 0 are charged to locked collateral before the accounting, so the sanity checker
/// counts 1 ETH per front-run as explained (docs/adr/0008); any drop beyond it still counts.
contract FrontRunNettingTest is OperatorsSystemFixture {
    DepositSecurity internal ds;
    uint256 internal pro;
    address internal attacker;
    uint256 internal constant CL_VALIDATORS = 5;

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        attacker = makeAddr("attacker");
        _deposit(alice, CL_VALIDATORS * 32 ether + 70 ether);
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
        for (uint256 i; i < 3 && registry.getOperator(pro).preDeposited < 2; ++i) {
            ds.depositBuffered(2);
        }
        vm.assertEq(registry.getOperator(pro).preDeposited, 2, "two pre-deposits in flight");
        _warpToNextFrame();
    }

    /// @dev Both 1 ETH pre-deposits reached the CL; only key 0's is ours (key 1 was front-run), and
    /// the CL lost `extraDrop` on top.
    function _report(uint256 extraDrop) internal view returns (IOracleReport.Report memory r) {
        r = _emptyReport();
        r.clDepositsProcessed += 2 ether;
        r.clBalance = r.clBalance + 1 ether - extraDrop;
        r.validatorsDeposited += 1;
    }

    function _results(bool key1Valid) internal view returns (IOperatorsReport.OperatorsReport memory o) {
        (o.refSlot,) = oracle.currentFrame();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](2);
        o.preDeposits[0] = IOperatorsReport.PreDepositResult(uint64(pro), 0, true);
        o.preDeposits[1] = IOperatorsReport.PreDepositResult(uint64(pro), 1, key1Valid);
    }

    function _expectRevertSubmit(IOracleReport.Report memory r, bytes memory chunk, bytes memory err)
        internal
    {
        r.extraDataHash = keccak256(chunk);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(err);
        oracle.submitReport(r, chunk, sigs);
    }

    /// @dev The unexplained-drop error for `unexplained` wei on the pre-report CL value.
    function _dropError(uint256 unexplained) internal view returns (bytes memory) {
        uint256 preCl = pool.clBalance() + 2 ether;
        return abi.encodeWithSelector(
            ISanityChecker.UnexplainedClDropExceeded.selector, unexplained * 1e6 / preCl, 3000
        );
    }

    function test_frontRun_OnASmallPoolPassesTheSanityCheck() public {
        uint256 rateBefore = pool.shareRate();
        uint256 bondBefore = bonds.bondValue(pro);
        _submitWith(_report(0), abi.encode(bytes32(0), _results(false)));
        vm.assertEq(oracle.lastRefSlot(), _report(0).refSlot, "report applied");
        vm.assertGe(pool.shareRate(), rateBefore, "stakers whole");
        vm.assertApproxEqAbs(bondBefore - bonds.bondValue(pro), 1 ether, 0.01 ether, "front-runner paid");
    }

    function test_frontRun_ToleranceStillAppliesOnTop() public {
        // 0.3 % of the 162 ETH pre-report CL value is 0.486 ETH
        _submitWith(_report(0.48 ether), abi.encode(bytes32(0), _results(false)));
        vm.assertEq(oracle.lastRefSlot(), _report(0).refSlot, "within the bound beyond the front-run");
    }

    function test_frontRun_RevertWhen_DropBeyondTheFrontRunExceedsTheBound() public {
        _expectRevertSubmit(
            _report(0.5 ether), abi.encode(bytes32(0), _results(false)), _dropError(0.5 ether)
        );
    }

    function test_frontRun_RevertWhen_TheLossIsNotReportedAsAFrontRun() public {
        // the same CL drop with every pre-deposit called valid: nothing explains the lost 1 ETH
        _expectRevertSubmit(_report(0), abi.encode(bytes32(0), _results(true)), _dropError(1 ether));
    }

    function test_frontRun_RevertWhen_ReportedInALaterChunkOnly() public {
        // only chunk 0's front-runs are charged before the accounting and netted: the oracle must
        // put them first (docs/adr/0008)
        IOperatorsReport.OperatorsReport memory first;
        (first.refSlot,) = oracle.currentFrame();
        bytes memory second = abi.encode(bytes32(0), _results(false));
        bytes memory chunk0 = abi.encode(keccak256(second), first);
        _expectRevertSubmit(_report(0), chunk0, _dropError(1 ether));
    }
}
