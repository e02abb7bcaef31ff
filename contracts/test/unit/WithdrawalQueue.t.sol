// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {IWithdrawalQueue} from "../../src/interfaces/IWithdrawalQueue.sol";
import {Fixture} from "../utils/Fixture.sol";
import {MockDepositModule} from "../utils/Mocks.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract WithdrawalQueueTest is Fixture {
    function setUp() public override {
        super.setUp();
        _deposit(alice, 100 ether);
        _deposit(bob, 100 ether);
    }

    function test_requestWithdrawal_LocksSharesAndMintsTicket() public {
        vm.expectEmit();
        emit IWithdrawalQueue.WithdrawalRequested(1, alice, carol, 10 ether, 10 ether);
        vm.prank(alice);
        uint256 id = queue.requestWithdrawal(10 ether, carol);
        vm.assertEq(id, 1, "id");
        vm.assertEq(queue.ownerOf(id), carol, "ticket owner");
        vm.assertEq(pool.balanceOf(address(queue)), 10 ether, "locked");
        vm.assertEq(pool.balanceOf(alice), 90 ether, "debited");
        IWithdrawalQueue.Request memory r = queue.getRequest(id);
        vm.assertEq(r.shares, 10 ether, "shares");
        vm.assertEq(r.etherAtRequest, 10 ether, "ether");
        vm.assertEq(queue.unfinalizedEther(), 10 ether, "demand");
        vm.assertEq(queue.unfinalizedShares(), 10 ether, "demand shares");
    }

    function test_requestWithdrawal_RevertWhen_TooSmall() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestTooSmall.selector, 99, 100));
        queue.requestWithdrawal(99, alice);
    }

    function test_requestWithdrawal_RevertWhen_TooLarge() public {
        vm.prank(tl);
        queue.setRequestBounds(100, 5 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestTooLarge.selector, 6 ether, 5 ether));
        queue.requestWithdrawal(6 ether, alice);
    }

    function test_requestWithdrawal_RevertWhen_OwnerZero() public {
        vm.prank(alice);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        queue.requestWithdrawal(1 ether, address(0));
    }

    function test_requestWithdrawal_RevertWhen_QueuePaused() public {
        vm.prank(guardian);
        queue.pause();
        vm.prank(alice);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        queue.requestWithdrawal(1 ether, alice);
    }

    function test_requestWithdrawal_RevertWhen_PoolPaused() public {
        vm.prank(guardian);
        pool.pause();
        vm.prank(alice);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        queue.requestWithdrawal(1 ether, alice);
    }

    function test_requestWithdrawal_RevertWhen_AboveMaxUnstake() public {
        uint256 max = pool.totalSupply() / 2;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.UnstakeAboveMaximum.selector, max + 1, max));
        queue.requestWithdrawal(max + 1, alice);
    }

    function test_claim_PaysRequestValueWhenRateRose() public {
        uint256 id = _request(alice, 10 ether);
        _reportElRewards(0.1 ether);
        vm.assertGt(pool.shareRate(), 1e27, "rate rose");
        _reportFinalize(id);
        vm.assertEq(queue.lastFinalizedRequestId(), id, "finalized");
        vm.assertEq(queue.claimableEther(id), 10 ether, "gains not claimable");
        uint256 before = alice.balance;
        vm.prank(alice);
        uint256 paid = queue.claim(id, alice);
        vm.assertEq(paid, 10 ether, "request value");
        vm.assertEq(alice.balance - before, 10 ether, "received");
        vm.assertEq(queue.lockedEther(), 0, "unlocked");
    }

    function test_claim_PaysFinalizationValueWhenRateFell() public {
        MockDepositModule module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
        module.take(160 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 5;
        r.validatorsActive = 5;
        r.clDepositsProcessed = 160 ether;
        r.clBalance = 160 ether;
        _submit(r);
        uint256 id = _request(alice, 10 ether);
        // a 0.25 % CL loss
        _warpToNextFrame();
        r = _emptyReport();
        r.clBalance = 160 ether - 0.4 ether;
        _submit(r);
        uint256 rate = pool.shareRate();
        vm.assertLt(rate, 1e27, "rate fell");
        _reportFinalize(id);
        uint256 expected = 10 ether * rate / 1e27;
        vm.prank(alice);
        vm.assertEq(queue.claim(id, alice), expected, "loss shared");
    }

    function test_claim_RevertWhen_ClaimedTwice() public {
        uint256 id = _request(alice, 1 ether);
        _reportFinalize(id);
        vm.prank(alice);
        queue.claim(id, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestAlreadyClaimed.selector, id));
        queue.claim(id, alice);
    }

    function test_claim_RevertWhen_NotFinalized() public {
        uint256 id = _request(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestNotFinalized.selector, id, 0));
        queue.claim(id, alice);
    }

    function test_claim_RevertWhen_NotFound() public {
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestNotFound.selector, 7));
        queue.claim(7, alice);
    }

    function test_claim_RevertWhen_NotOwner() public {
        uint256 id = _request(alice, 1 ether);
        _reportFinalize(id);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.NotRequestOwner.selector, id, bob));
        queue.claim(id, bob);
    }

    function test_claim_RevertWhen_RecipientZero() public {
        uint256 id = _request(alice, 1 ether);
        _reportFinalize(id);
        vm.prank(alice);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        queue.claim(id, address(0));
    }

    function test_claim_RevertWhen_Paused() public {
        uint256 id = _request(alice, 1 ether);
        _reportFinalize(id);
        vm.prank(guardian);
        queue.pause();
        vm.prank(alice);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        queue.claim(id, alice);
    }

    function test_claim_ByApprovedOperatorAndNewOwner() public {
        uint256 id1 = _request(alice, 1 ether);
        uint256 id2 = _request(alice, 1 ether);
        _reportFinalize(id2);
        vm.prank(alice);
        queue.approve(bob, id1);
        vm.prank(bob);
        queue.claim(id1, bob);
        vm.prank(alice);
        queue.transferFrom(alice, carol, id2);
        vm.prank(carol);
        vm.assertEq(queue.claim(id2, carol), 1 ether, "new owner claims");
    }

    function test_claimBatch_ClaimsWithHints() public {
        uint256 id1 = _request(alice, 1 ether);
        _reportFinalize(id1);
        uint256 id2 = _request(alice, 2 ether);
        _reportFinalize(id2);
        uint256[] memory ids = new uint256[](2);
        ids[0] = id1;
        ids[1] = id2;
        uint256[] memory hints = new uint256[](2);
        hints[0] = queue.findCheckpointHint(id1);
        hints[1] = queue.findCheckpointHint(id2);
        vm.assertEq(hints[1], hints[0] + 1, "two checkpoints");
        vm.prank(alice);
        vm.assertEq(queue.claimBatch(ids, hints, alice), 3 ether, "total");
    }

    function test_claimBatch_RevertWhen_InvalidHint() public {
        uint256 id1 = _request(alice, 1 ether);
        _reportFinalize(id1);
        uint256 id2 = _request(alice, 2 ether);
        _reportFinalize(id2);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id2;
        uint256[] memory hints = new uint256[](1);
        hints[0] = queue.findCheckpointHint(id1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.InvalidHint.selector, id2, hints[0]));
        queue.claimBatch(ids, hints, alice);
    }

    function test_claimBatch_RevertWhen_LengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.ArrayLengthMismatch.selector, 1, 0));
        queue.claimBatch(new uint256[](1), new uint256[](0), alice);
    }

    function test_finalize_StopsWhenBufferShort() public {
        MockDepositModule module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
        // the free buffer went to the consensus layer before the demand arrived: 15 ETH left
        module.take(pool.depositableEther() - 15 ether);
        uint256 id1 = _request(alice, 10 ether);
        uint256 id2 = _request(bob, 10 ether);
        _reportFinalize(id2);
        vm.assertEq(queue.lastFinalizedRequestId(), id1, "only the first fits");
    }

    function test_finalize_CapsBatchPerReport() public {
        vm.prank(tl);
        queue.setMaxFinalizePerReport(2);
        for (uint256 i = 0; i < 5; ++i) {
            _request(alice, 1 ether);
        }
        _reportFinalize(5);
        vm.assertEq(queue.lastFinalizedRequestId(), 2, "capped");
        IWithdrawalQueue.QueueStatus memory s = queue.status();
        vm.assertEq(s.lastRequestId, 5, "requests");
        vm.assertEq(s.unfinalizedEther, 3 ether, "demand");
        vm.assertEq(s.lockedEther, 2 ether, "locked");
        vm.assertEq(s.checkpointCount, 1, "checkpoints");
        vm.assertEq(s.lastFinalizationTimestamp, block.timestamp, "timestamp");
        vm.assertEq(queue.getCheckpoint(0).lastRequestId, 2, "checkpoint");
    }

    function test_finalize_RevertWhen_NotPool() public {
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, alice, address(pool)));
        vm.prank(alice);
        queue.finalize(1, 1e27, 1 ether);
    }

    function test_finalize_RevertWhen_BeyondLastRequest() public {
        vm.expectRevert(
            abi.encodeWithSelector(IWithdrawalQueue.FinalizationPointBeyondLastRequest.selector, 3, 0)
        );
        vm.prank(address(pool));
        queue.finalize(3, 1e27, 1 ether);
    }

    function test_receive_RevertWhen_NotPool() public {
        vm.deal(alice, 1);
        vm.prank(alice);
        (bool ok, bytes memory err) = address(queue).call{value: 1}("");
        vm.assertFalse(ok, "rejected");
        vm.assertEq(err, abi.encodeWithSelector(IWithdrawalQueue.UnexpectedEther.selector, alice, 1), "error");
    }

    function test_requestsOf_ListsTickets() public {
        _request(alice, 1 ether);
        _request(bob, 1 ether);
        _request(alice, 1 ether);
        uint256[] memory ids = queue.requestsOf(alice, 1, 100);
        vm.assertEq(ids.length, 2, "two");
        vm.assertEq(ids[1], 3, "third");
        vm.assertEq(queue.claimableEther(1), 0, "not finalized");
    }

    function test_findCheckpointHint_RevertWhen_NotFinalized() public {
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalQueue.RequestNotFinalized.selector, 1, 0));
        queue.findCheckpointHint(1);
    }

    function test_setters_RevertWhen_NotTimelock() public {
        bytes memory err = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, bytes32(0)
        );
        vm.startPrank(guardian);
        vm.expectRevert(err);
        queue.setRequestBounds(1, 1 ether);
        vm.expectRevert(err);
        queue.setMaxFinalizePerReport(10);
        vm.expectRevert(err);
        queue.unpause();
        vm.stopPrank();
    }

    function test_setters_RevertWhen_OutOfBounds() public {
        vm.startPrank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("maxFinalizePerReport"), 501, 1, 500
            )
        );
        queue.setMaxFinalizePerReport(501);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("minRequestEther"), 0, 1, 1 ether
            )
        );
        queue.setRequestBounds(0, 1 ether);
        vm.stopPrank();
        (uint256 minE, uint256 maxE, uint256 cap) = queue.parameters();
        vm.assertEq(minE + maxE + cap, 100 + 1000 ether + 100, "unchanged");
        vm.assertEq(queue.pool(), address(pool), "pool");
    }
}
