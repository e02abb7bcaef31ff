// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {LossWindowHandler} from "./handlers/LossWindowHandler.sol";

/// @notice Losses charged in later chunks (auditor finding 2, docs/adr/0008): when every loss of a
/// report is covered by the operators' bonds, the rate after the whole chain is at least the rate
/// before the report, whatever deposits, Flash Exits, withdrawal requests and bond top-ups are
/// tried between the chunks; and no deposit gets in while a chain is pending.
contract LossWindowInvariantTest is OperatorsSystemFixture {
    LossWindowHandler internal handler;

    function setUp() public override {
        super.setUp();
        // 1,000 ETH on the CL (this contract plays the deposit module), 200 ETH buffered
        _deposit(alice, 1200 ether);
        vm.prank(tl);
        pool.setDepositModule(address(this));
        pool.withdrawToDepositModule(1000 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 31;
        r.validatorsActive = 31;
        r.clBalance = 1000 ether;
        r.clDepositsProcessed = 1000 ether;
        _submit(r);
        uint256[] memory ids = new uint256[](4);
        for (uint256 i; i < 4; ++i) {
            ids[i] = _registerHome(makeAddr(string.concat("home", vm.toString(i))), 12 ether);
        }
        handler = new LossWindowHandler(pool, oracle, bonds, queue, _quorumKeys(), ids);
        targetContract(address(handler));
    }

    function invariant_coveredChainRestoresThePreReportRate() public view {
        vm.assertEq(
            handler.ghostCoveredChainBelowPreRate(), 0, "a covered chain ended below the pre-report rate"
        );
    }

    function invariant_noDepositWhileAChainIsPending() public view {
        vm.assertEq(handler.ghostDepositsInWindow(), 0, "a deposit got in while a chain was pending");
    }

    /// The handler reaches the states the invariants are about: covered chains completed, a
    /// lowered rate in the window, deposits refused and exits taken in it.
    function test_handler_ExercisesTheWindow() public {
        handler.deposit(0, 100 ether);
        uint256 seed;
        // a seed whose report has 3 chunks and a penalty after chunk 0
        for (seed = 1; (seed >> 8) % 3 != 2 || seed % 4 != 3; ++seed) {}
        handler.report(seed);
        handler.deposit(1, 10 ether);
        handler.flashExit(0, 10);
        handler.requestWithdrawal(0, 10);
        handler.deliver();
        handler.topUpBond(1);
        handler.deliver();
        vm.assertGt(handler.ghostWindowsWithLoweredRate(), 0, "rate lowered in the window");
        vm.assertEq(handler.ghostDepositsRefusedInWindow(), 1, "the deposit was refused");
        vm.assertEq(handler.ghostExitsInWindow(), 2, "flash exit and request in the window");
        vm.assertEq(handler.ghostCoveredChainsCompleted(), 1, "the chain completed, covered");
        invariant_coveredChainRestoresThePreReportRate();
        invariant_noDepositWhileAChainIsPending();
        // an undelivered chain is dropped by the next report
        handler.report(seed);
        handler.report(seed);
        vm.assertEq(handler.ghostChainsDroppedOrExpired(), 1, "dropped");
    }
}
