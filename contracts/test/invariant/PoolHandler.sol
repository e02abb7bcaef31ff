// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {SanityChecker} from "../../src/oracle/SanityChecker.sol";
import {ElRewardsVault, WithdrawalVault} from "../../src/pool/PoolVault.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../src/pool/WithdrawalQueue.sol";
import {MockDepositModule} from "../utils/Mocks.sol";
import {TestBase} from "../utils/TestBase.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Drives the staking core through random sequences of user, oracle, donation and
/// governance-attack actions, and keeps ghost ledgers the invariants compare against.
contract PoolHandler is TestBase {
    StakePool internal pool;
    WithdrawalQueue internal queue;
    OracleReport internal oracle;
    SanityChecker internal sanity;
    WithdrawalVault internal wVault;
    ElRewardsVault internal elVault;
    MockDepositModule internal module;
    address internal timelock;
    address internal guardian;
    uint256[] internal keys;
    address[] internal actors;

    // ghost ledgers
    uint256 public ghostBuffered;
    uint256 public ghostSupply;
    uint256 public ghostLocked;
    uint256 public ghostClaimed;
    uint256 public ghostMaxDepositLoss;
    /// deposits that lost more than the rounding of one conversion each way: ceil(rate) wei
    uint256 public ghostDepositLossAboveDust;
    uint256 public ghostRateDrops;
    uint256 public ghostDoubleClaims;
    uint256 public ghostUnauthorizedSuccesses;
    uint256 public ghostPendingClDeposits;
    mapping(uint256 => bool) public claimed;
    uint256 public calls;

    constructor(
        StakePool pool_,
        WithdrawalQueue queue_,
        OracleReport oracle_,
        ElRewardsVault elVault_,
        WithdrawalVault wVault_,
        MockDepositModule module_,
        address timelock_,
        address guardian_,
        uint256[] memory sortedKeys
    ) {
        pool = pool_;
        queue = queue_;
        oracle = oracle_;
        elVault = elVault_;
        wVault = wVault_;
        module = module_;
        timelock = timelock_;
        guardian = guardian_;
        keys = sortedKeys;
        for (uint256 i = 0; i < 3; ++i) {
            actors.push(makeAddr(string.concat("actor", vm.toString(i))));
        }
        ghostBuffered = pool.bufferedEther();
        ghostSupply = pool.totalSupply();
    }

    modifier rateNeverDrops() {
        uint256 before = pool.shareRate();
        _;
        if (pool.shareRate() < before) ghostRateDrops++;
        calls++;
    }

    // ------------------------------------------------------------------ users

    function deposit(uint256 actorSeed, uint256 amount) external rateNeverDrops {
        address a = actors[actorSeed % actors.length];
        amount = bound(amount, 0.001 ether, 1000 ether);
        vm.deal(a, a.balance + amount);
        // shares = floor(amount / r) and value = floor(shares * r) lose less than r + 1 wei, so at
        // most ceil(r): 2 wei at a rate near 1, more once finalizations at a lower rate lifted it
        uint256 dust = Math.ceilDiv(pool.totalPooledEther(), pool.totalSupply());
        vm.prank(a);
        uint256 shares = pool.deposit{value: amount}();
        ghostBuffered += amount;
        ghostSupply += shares;
        uint256 value = pool.convertToAssets(shares);
        if (value > amount) ghostMaxDepositLoss = type(uint256).max; // minted more than paid
        else if (amount - value > ghostMaxDepositLoss) ghostMaxDepositLoss = amount - value;
        if (value > amount || amount - value > dust) ++ghostDepositLossAboveDust;
    }

    function flashExit(uint256 actorSeed, uint256 fraction) external rateNeverDrops {
        address a = actors[actorSeed % actors.length];
        uint256 shares = pool.balanceOf(a) * bound(fraction, 1, 100) / 100;
        if (shares == 0) return;
        vm.prank(a);
        try pool.flashExit(shares, 0) returns (uint256 out) {
            ghostBuffered -= out;
            ghostSupply -= shares;
        } catch {}
    }

    function requestWithdrawal(uint256 actorSeed, uint256 fraction) external rateNeverDrops {
        address a = actors[actorSeed % actors.length];
        uint256 shares = pool.balanceOf(a) * bound(fraction, 1, 100) / 100;
        if (shares == 0) return;
        vm.prank(a);
        try queue.requestWithdrawal(shares, a) {} catch {}
    }

    function claim(uint256 idSeed) external rateNeverDrops {
        uint256 last = queue.lastFinalizedRequestId();
        if (last == 0) return;
        uint256 id = bound(idSeed, 1, last);
        if (claimed[id]) {
            // a second claim must never pay
            address prev = actors[0];
            vm.prank(prev);
            try queue.claim(id, prev) {
                ghostDoubleClaims++;
            } catch {}
            return;
        }
        address owner = queue.ownerOf(id);
        uint256 before = owner.balance;
        vm.prank(owner);
        uint256 paid = queue.claim(id, owner);
        if (owner.balance - before != paid) ghostDoubleClaims++;
        claimed[id] = true;
        ghostClaimed += paid;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 fraction) external rateNeverDrops {
        address from = actors[fromSeed % actors.length];
        address to = actors[toSeed % actors.length];
        uint256 shares = pool.balanceOf(from) * bound(fraction, 0, 100) / 100;
        vm.prank(from);
        pool.transfer(to, shares);
    }

    /// @dev Forced ETH (selfdestruct/coinbase) must not move the rate.
    function donate(uint256 amount) external rateNeverDrops {
        uint256 rate = pool.shareRate();
        amount = bound(amount, 1, 10_000 ether);
        vm.deal(address(pool), address(pool).balance + amount);
        if (pool.shareRate() != rate) ghostRateDrops++;
    }

    // ------------------------------------------------------------------ consensus layer

    function stakeToCl(uint256 validators) external rateNeverDrops {
        uint256 amount = bound(validators, 1, 4) * 32 ether;
        if (amount > pool.depositableEther()) return;
        module.take(amount);
        ghostBuffered -= amount;
        ghostPendingClDeposits += amount;
    }

    struct Snapshot {
        uint256 rate;
        uint256 el;
        uint256 supply;
        uint256 locked;
        uint256 queueShares;
        uint256 unfinalizedShares;
        bool loss;
    }

    /// @dev Next frame: the CL sees pending deposits, earns (or loses), EL rewards arrive,
    /// optionally some CL ETH is swept to the withdrawal vault, optionally the queue finalizes.
    function report(uint256 clDeltaSeed, uint256 elRewards, uint256 sweepSeed, bool finalize) external {
        calls++;
        Snapshot memory before;
        before.rate = pool.shareRate();
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline + 1);
        IOracleReport.Report memory r;
        (r, before.loss) = _buildReport(clDeltaSeed, elRewards, sweepSeed, finalize);
        before.el = address(elVault).balance;
        before.supply = pool.totalSupply();
        before.locked = queue.lockedEther();
        before.queueShares = pool.balanceOf(address(queue));
        before.unfinalizedShares = queue.unfinalizedShares();
        try oracle.submitReport(r, "", _sign(r)) {
            _afterReport(r, before);
        } catch {
            // e.g. a combined drop too large for the bound: the frame passes without a report
            ghostPendingClDeposits += r.clDepositsProcessed - pool.clDepositsProcessed();
        }
    }

    function _buildReport(uint256 clDeltaSeed, uint256 elRewards, uint256 sweepSeed, bool finalize)
        internal
        returns (IOracleReport.Report memory r, bool loss)
    {
        r = _baseReport();
        uint256 pending = ghostPendingClDeposits;
        uint256 preCl = pool.clBalance() + pending;
        r.clDepositsProcessed += pending;
        r.validatorsDeposited += pending / 32 ether;
        r.validatorsActive += pending / 32 ether;
        ghostPendingClDeposits = 0;
        // -0.25 % .. +0.02 % of the CL value (1 day: 0.02 % ~ 7.3 % APR)
        int256 deltaBp = int256(bound(clDeltaSeed, 0, 27)) - 25; // units of 0.01 %
        loss = deltaBp < 0;
        uint256 delta = preCl * uint256(loss ? -deltaBp : deltaBp) / 10_000;
        uint256 postCl = loss ? preCl - delta : preCl + delta;
        uint256 sweep = postCl * bound(sweepSeed, 0, 30) / 100;
        vm.deal(address(wVault), address(wVault).balance + sweep);
        r.clBalance = postCl - sweep;
        r.withdrawalVaultPull = address(wVault).balance;
        vm.deal(address(elVault), address(elVault).balance + bound(elRewards, 0, 5 ether));
        r.elRewardsVaultAvailable = address(elVault).balance;
        if (finalize && queue.lastRequestId() > queue.lastFinalizedRequestId()) {
            r.finalizeUpToRequestId = queue.lastRequestId();
            // the oracle's simulated rate; the pool applies min(reported, actual)
            r.finalizationShareRate = pool.shareRate();
        }
    }

    function _afterReport(IOracleReport.Report memory r, Snapshot memory b) internal {
        uint256 elPulled = b.el - address(elVault).balance;
        uint256 locked = queue.lockedEther() - b.locked;
        uint256 burned = b.unfinalizedShares - queue.unfinalizedShares();
        ghostBuffered = ghostBuffered + r.withdrawalVaultPull + elPulled - locked;
        ghostLocked += locked;
        // supply moves only by fee shares minted and finalized shares burned
        uint256 feeShares = pool.totalSupply() + burned - b.supply;
        ghostSupply = ghostSupply + feeShares - burned;
        if (b.queueShares - pool.balanceOf(address(queue)) != burned) ghostDoubleClaims++;
        if (!b.loss && pool.shareRate() < b.rate) ghostRateDrops++;
    }

    // ------------------------------------------------------------------ governance attacks

    /// @dev Random non-timelock callers (guardian included) try every parameter setter and the
    /// fund-moving entry points; none may succeed.
    function attackGovernance(uint256 callerSeed, uint256 fnSeed) external {
        calls++;
        address caller = callerSeed % 2 == 0 ? guardian : actors[callerSeed % actors.length];
        address c = caller;
        bytes[12] memory attempts = [
            abi.encodeCall(StakePool.setFees, (IStakePool.Fees(2000, 0, 0))),
            abi.encodeCall(StakePool.setFeeRecipients, (IStakePool.FeeRecipients(c, c, c))),
            abi.encodeCall(StakePool.setMinDeposit, (1)),
            abi.encodeCall(StakePool.setDailyStakeLimit, (1 ether)),
            abi.encodeCall(StakePool.setMaxUnstakeBps, (10_000)),
            abi.encodeCall(StakePool.setFlashExitParams, (0, 1, 1)),
            abi.encodeCall(StakePool.setAccessPolicy, (c)),
            abi.encodeCall(StakePool.setDepositModule, (c)),
            abi.encodeCall(StakePool.setContracts, (IStakePool.Contracts(c, c, c, c, c))),
            abi.encodeCall(StakePool.unpause, ()),
            abi.encodeCall(StakePool.withdrawToDepositModule, (1)),
            abi.encodeWithSignature("grantRole(bytes32,address)", bytes32(0), c)
        ];
        vm.prank(caller);
        (bool ok,) = address(pool).call(attempts[fnSeed % attempts.length]);
        if (ok) ghostUnauthorizedSuccesses++;
        // the vaults and the queue: moving funds or parameters
        vm.prank(caller);
        (ok,) = address(elVault).call(abi.encodeWithSignature("pull(uint256)", 0));
        if (ok) ghostUnauthorizedSuccesses++;
        vm.prank(caller);
        (ok,) = address(queue).call(abi.encodeCall(WithdrawalQueue.setMaxFinalizePerReport, (1)));
        if (ok) ghostUnauthorizedSuccesses++;
        vm.prank(caller);
        (ok,) = address(oracle).call(abi.encodeCall(OracleReport.setQuorum, (5)));
        if (ok) ghostUnauthorizedSuccesses++;
    }

    // ------------------------------------------------------------------ helpers

    function _baseReport() internal view returns (IOracleReport.Report memory r) {
        (uint256 refSlot,) = oracle.currentFrame();
        ISanityChecker.ValidatorCounts memory c = oracle.lastValidatorCounts();
        r.consensusVersion = 1;
        r.refSlot = refSlot;
        r.validatorsDeposited = c.deposited;
        r.validatorsActive = c.active;
        r.validatorsExited = c.exited;
        r.validatorsSlashed = c.slashed;
        r.clBalance = pool.clBalance();
        r.clDepositsProcessed = pool.clDepositsProcessed();
    }

    function _sign(IOracleReport.Report memory r)
        internal
        view
        returns (IOracleReport.Signature[] memory sigs)
    {
        bytes32 digest = oracle.reportDigest(r);
        sigs = new IOracleReport.Signature[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }
}
