// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {Fixture} from "../utils/Fixture.sol";
import {MockDepositModule} from "../utils/Mocks.sol";
import {PoolHandler} from "./PoolHandler.sol";

/// @notice DESIGN.md invariants 1-4 and 7, re-checked after every call of a random sequence.
contract PoolInvariantsTest is Fixture {
    PoolHandler internal handler;
    IStakePool.Fees internal initialFees;

    function setUp() public override {
        super.setUp();
        MockDepositModule module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
        uint256[] memory keys = _quorumKeys();
        handler = new PoolHandler(pool, queue, oracle, elVault, wVault, module, tl, guardian, keys);
        initialFees = pool.fees();
        targetContract(address(handler));
    }

    /// Invariant 1: totalPooledEther = buffered + transient + CL balance, where the buffer is the
    /// ledger of deposits + vault pulls - flash exits - CL deposits - queue reserve; the pool
    /// holds at least the buffer (donations are never counted).
    function invariant_totalPooledEtherFormula() public view {
        uint256 transient = pool.depositedEther() - pool.clDepositsProcessed();
        vm.assertEq(pool.transientEther(), transient, "transient");
        vm.assertEq(
            pool.totalPooledEther(),
            pool.bufferedEther() + transient + pool.clBalance(),
            "totalPooledEther formula"
        );
        vm.assertEq(pool.bufferedEther(), handler.ghostBuffered(), "buffer ledger");
        vm.assertGe(address(pool).balance, pool.bufferedEther(), "pool holds its buffer");
    }

    /// Invariant 2: shares are minted only against ETH or reported rewards; rounding favours the
    /// pool (no non-loss action ever lowers the rate).
    function invariant_noUnbackedShares() public view {
        vm.assertEq(pool.totalSupply(), handler.ghostSupply(), "supply ledger");
        vm.assertEq(handler.ghostRateDrops(), 0, "rate dropped without a reported loss");
    }

    /// Invariant 3: a depositor always gets shares worth what it paid (minus at most rounding
    /// dust: ceil(rate) wei, one rounding down each way); seed shares stay locked; donations never
    /// move the rate.
    function invariant_noInflation() public view {
        vm.assertEq(handler.ghostDepositLossAboveDust(), 0, "deposit lost more than rounding dust");
        vm.assertLt(handler.ghostMaxDepositLoss(), type(uint256).max, "a deposit minted more than it paid");
        vm.assertEq(pool.balanceOf(pool.DEAD_ADDRESS()), SEED, "seed shares locked");
    }

    /// Invariant 4: finalized withdrawals are claimable once, for no more than was reserved.
    function invariant_claimsBoundedByReserve() public view {
        vm.assertEq(handler.ghostDoubleClaims(), 0, "double claim");
        vm.assertEq(
            handler.ghostClaimed() + queue.lockedEther(), handler.ghostLocked(), "claims + locked = reserved"
        );
        vm.assertGe(address(queue).balance, queue.lockedEther(), "queue holds its reserve");
        vm.assertEq(pool.balanceOf(address(queue)), queue.unfinalizedShares(), "queue shares = unfinalized");
    }

    /// Invariant 7: only the timelock changes parameters; the guardian and users cannot.
    function invariant_onlyTimelockGoverns() public view {
        vm.assertEq(handler.ghostUnauthorizedSuccesses(), 0, "unauthorized call succeeded");
        IStakePool.Fees memory f = pool.fees();
        vm.assertEq(f.treasuryBps, initialFees.treasuryBps, "fees unchanged");
        vm.assertEq(pool.feeRecipients().treasury, treasury, "recipients unchanged");
        vm.assertEq(pool.contracts().oracle, address(oracle), "contracts unchanged");
        vm.assertFalse(pool.hasRole(pool.DEFAULT_ADMIN_ROLE(), guardian), "guardian not admin");
        vm.assertTrue(pool.hasRole(pool.DEFAULT_ADMIN_ROLE(), tl), "timelock admin");
        vm.assertEq(oracle.quorum(), QUORUM, "quorum unchanged");
    }

    /// The handler did run the sequence (guards against a silently idle suite).
    function invariant_handlerCalled() public view {
        vm.assertTrue(handler.calls() <= 50, "depth");
    }
}
