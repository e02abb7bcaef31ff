// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../src/pool/WithdrawalQueue.sol";
import {Fixture} from "../utils/Fixture.sol";
import {MockDepositModule} from "../utils/Mocks.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice Re-enters the pool or the queue from its receive hook.
contract ReentrantReceiver {
    StakePool internal immutable pool;
    WithdrawalQueue internal immutable queue;
    uint256 public mode; // 1: flashExit, 2: claim
    uint256 public requestId;
    uint256 public received;
    bytes public reentryError;
    bool public reentered;

    constructor(StakePool pool_, WithdrawalQueue queue_) {
        pool = pool_;
        queue = queue_;
    }

    function stake() external payable {
        pool.deposit{value: msg.value}();
    }

    function flashExit(uint256 shares) external {
        mode = 1;
        pool.flashExit(shares, 0);
    }

    function request(uint256 shares) external returns (uint256 id) {
        id = queue.requestWithdrawal(shares, address(this));
        requestId = id;
    }

    function claim() external {
        mode = 2;
        queue.claim(requestId, address(this));
    }

    receive() external payable {
        received += msg.value;
        if (reentered) return;
        reentered = true;
        bool ok;
        bytes memory err;
        if (mode == 1) {
            (ok, err) = address(pool).call(abi.encodeCall(StakePool.flashExit, (1 ether, 0)));
        } else if (mode == 2) {
            (ok, err) = address(queue).call(abi.encodeCall(WithdrawalQueue.claim, (requestId, address(this))));
        }
        if (ok) reentryError = "reentry succeeded";
        else reentryError = err;
    }
}

contract AttackTest is Fixture {
    address internal attacker;

    function setUp() public override {
        super.setUp();
        attacker = makeAddr("attacker");
    }

    // ------------------------------------------------------------------ inflation / donation

    /// The classic first-depositor attack: deposit dust, inflate the rate with a donation, let
    /// the victim's deposit round to (almost) nothing. Direct donations are ignored, vault
    /// donations enter only through the capped rate increase, the seed shares make dust useless.
    function test_attack_FirstDepositorInflationYieldsNothing() public {
        uint256 attackerShares = _deposit(attacker, 0.001 ether);
        uint256 rate = pool.shareRate();
        // donation straight to the pool (selfdestruct / coinbase): not counted
        vm.deal(address(pool), address(pool).balance + 1000 ether);
        vm.assertEq(pool.shareRate(), rate, "direct donation ignored");
        // donation through the EL rewards vault: at most the 0.075 % cap per report
        vm.deal(attacker, 1000 ether);
        vm.prank(attacker);
        (bool ok,) = address(elVault).call{value: 1000 ether}("");
        vm.assertTrue(ok, "donated");
        _reportElRewards(0);
        vm.assertLe(pool.shareRate(), rate * 100_075 / 100_000 + 1, "rate moved at most by the cap");

        uint256 victimShares = _deposit(alice, 10 ether);
        vm.assertGt(victimShares, 0, "victim got shares");
        vm.assertGe(pool.convertToAssets(victimShares), 10 ether - 2, "victim keeps its deposit");
        // the attacker's position is worth far less than what it spent
        uint256 attackerValue = pool.convertToAssets(attackerShares);
        vm.assertLt(attackerValue, 0.01 ether, "attacker did not capture the donation");
    }

    // ------------------------------------------------------------------ oracle-report sandwich

    /// Deposit right before a positive report, Flash Exit right after: the 0.5 % exit fee is
    /// larger than any single report's rate increase (<= 0.075 %), so the round trip loses.
    function test_attack_SandwichFlashExitLoses() public {
        _deposit(alice, 1000 ether);
        uint256 spent = 500 ether;
        uint256 shares = _deposit(attacker, spent);
        _reportElRewards(10 ether); // capped at 0.075 %
        vm.prank(attacker);
        uint256 out = pool.flashExit(shares, 0);
        vm.assertLt(out, spent, "sandwich via Flash Exit loses money");
    }

    /// Deposit right before a positive report, withdraw through the queue right after: the
    /// attacker earns at most what an honest holder earns per ETH over the same report.
    function test_attack_SandwichQueueNoBetterThanHonestHolder() public {
        uint256 honestShares = _deposit(alice, 1000 ether);
        uint256 honestBefore = pool.convertToAssets(honestShares);
        uint256 spent = 500 ether;
        uint256 shares = _deposit(attacker, spent);
        _reportElRewards(10 ether);
        uint256 honestGainPerEth = (pool.convertToAssets(honestShares) - honestBefore) * 1e18 / honestBefore;
        uint256 id = _request(attacker, shares);
        _reportElRewards(10 ether); // gains while queued are not claimable
        _reportFinalize(id);
        uint256 before = attacker.balance;
        vm.prank(attacker);
        queue.claim(id, attacker);
        uint256 got = attacker.balance - before;
        uint256 attackerGainPerEth = got > spent ? (got - spent) * 1e18 / spent : 0;
        vm.assertLe(attackerGainPerEth, honestGainPerEth, "no better than holding through the report");
    }

    /// Requesting a withdrawal before a loss does not dodge it: the request pays the lower
    /// finalization rate.
    function test_attack_QueueDoesNotDodgeLosses() public {
        MockDepositModule module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
        _deposit(alice, 320 ether);
        uint256 shares = _deposit(attacker, 10 ether);
        module.take(320 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 10;
        r.validatorsActive = 10;
        r.clDepositsProcessed = 320 ether;
        r.clBalance = 320 ether;
        _submit(r);
        uint256 id = _request(attacker, shares);
        uint256 requested = queue.getRequest(id).etherAtRequest;
        _warpToNextFrame();
        r = _emptyReport();
        r.clBalance = 320 ether - 0.9 ether; // 0.28 % loss
        _submit(r);
        _reportFinalize(id);
        vm.assertLt(queue.claimableEther(id), requested, "loss shared by the queued request");
        vm.assertEq(
            queue.claimableEther(id), shares * pool.shareRate() / 1e27, "paid at the finalization rate"
        );
    }

    // ------------------------------------------------------------------ reentrancy

    function test_attack_ReentrantFlashExitBlocked() public {
        _deposit(alice, 100 ether);
        ReentrantReceiver r = new ReentrantReceiver(pool, queue);
        vm.deal(address(this), 10 ether);
        r.stake{value: 10 ether}();
        uint256 shares = pool.balanceOf(address(r));
        r.flashExit(2 ether);
        vm.assertTrue(r.reentered(), "receive hook ran");
        vm.assertEq(
            r.reentryError(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "re-entry blocked by the guard"
        );
        vm.assertEq(pool.balanceOf(address(r)), shares - 2 ether, "one exit only");
    }

    function test_attack_ReentrantClaimBlocked() public {
        _deposit(alice, 100 ether);
        ReentrantReceiver r = new ReentrantReceiver(pool, queue);
        vm.deal(address(this), 10 ether);
        r.stake{value: 10 ether}();
        uint256 id = r.request(5 ether);
        _reportFinalize(id);
        uint256 locked = queue.lockedEther();
        r.claim();
        vm.assertTrue(r.reentered(), "receive hook ran");
        vm.assertEq(
            r.reentryError(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "re-entry blocked by the guard"
        );
        vm.assertEq(r.received(), locked, "paid once");
        vm.assertEq(queue.lockedEther(), 0, "nothing left to claim");
    }

    // ------------------------------------------------------------------ forged reports

    /// A quorum of signatures over one report cannot carry another (inflated) report.
    function test_attack_ForgedReportWithReplayedSignatures() public {
        _deposit(alice, 100 ether);
        _warpToNextFrame();
        IOracleReport.Report memory honest = _emptyReport();
        IOracleReport.Signature[] memory sigs = _sign(honest, _quorumKeys());
        IOracleReport.Report memory forged = _emptyReport();
        forged.validatorsDeposited = 1;
        // the signatures recover to non-members over the forged digest
        vm.expectRevert();
        oracle.submitReport(forged, "", sigs);
        oracle.submitReport(honest, "", sigs);
    }
}
