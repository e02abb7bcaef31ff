// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorsReport} from "../../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../../src/interfaces/ISanityChecker.sol";
import {BondManager} from "../../../src/operators/BondManager.sol";
import {OracleReport} from "../../../src/oracle/OracleReport.sol";
import {StakePool} from "../../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../../src/pool/WithdrawalQueue.sol";
import {TestBase} from "../../utils/TestBase.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Reports whose CL drop is an operator's loss charged as penalties spread over a chain of
/// chunks (some in chunk 0, the rest later), with deposits, Flash Exits, withdrawal requests and
/// bond top-ups tried between the chunks, chunks delivered late or never (dropped by the next
/// report or expired with the frame). Ghosts: whether a chain whose every loss the bonds covered
/// ended at or above its pre-report rate, and whether any deposit got in while a chain was pending.
contract LossWindowHandler is TestBase {
    StakePool internal pool;
    OracleReport internal oracle;
    BondManager internal bonds;
    WithdrawalQueue internal queue;
    uint256[] internal keys;
    uint256[] internal ops;
    address[] internal actors;

    // the chain being delivered
    bytes[] internal chunks;
    uint256 internal nextChunk;
    uint256 internal chainRefSlot;
    uint256 internal rateBefore;
    bool internal chainCovered;

    // ghosts: violations
    uint256 public ghostCoveredChainBelowPreRate;
    uint256 public ghostDepositsInWindow;
    // ghosts: what happened (the invariants are not vacuous)
    uint256 public ghostReports;
    uint256 public ghostCoveredChainsCompleted;
    uint256 public ghostWindowsWithLoweredRate;
    uint256 public ghostDepositsRefusedInWindow;
    uint256 public ghostExitsInWindow;
    uint256 public ghostChainsDroppedOrExpired;

    constructor(
        StakePool pool_,
        OracleReport oracle_,
        BondManager bonds_,
        WithdrawalQueue queue_,
        uint256[] memory sortedKeys,
        uint256[] memory operatorIds
    ) {
        pool = pool_;
        oracle = oracle_;
        bonds = bonds_;
        queue = queue_;
        keys = sortedKeys;
        ops = operatorIds;
        for (uint256 i; i < 3; ++i) {
            actors.push(makeAddr(string.concat("windowActor", vm.toString(i))));
        }
    }

    /// @dev A chain is pending and its frame is still current (chunks can land, deposits are held).
    function _inWindow() internal view returns (bool) {
        if (nextChunk == 0 || nextChunk >= chunks.length) return false;
        (uint256 current,) = oracle.currentFrame();
        return current == chainRefSlot;
    }

    // ------------------------------------------------------------------ reports and chunks

    /// @dev Next frame: a report with `1 + seed % 4` penalties (their sum is the CL drop), spread
    /// over `1 + (seed >> 8) % 3` chunks, plus a small CL gain.
    function report(uint256 seed) external {
        if (nextChunk != 0 && nextChunk < chunks.length) ++ghostChainsDroppedOrExpired;
        delete chunks;
        nextChunk = 0;
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline + 1);
        (uint256 refSlot,) = oracle.currentFrame();
        uint256 rate0 = pool.shareRate();
        (bytes[] memory c, uint256 loss, bool covered) = _chain(seed, refSlot, rate0);
        IOracleReport.Report memory r = _baseReport(refSlot);
        r.clBalance = r.clBalance + (seed >> 16) % 0.2 ether - loss;
        r.extraDataHash = keccak256(c[0]);
        try oracle.submitReport(r, c[0], _sign(r)) {
            ++ghostReports;
        } catch {
            return;
        }
        for (uint256 i; i < c.length; ++i) {
            chunks.push(c[i]);
        }
        nextChunk = 1;
        chainRefSlot = refSlot;
        rateBefore = rate0;
        chainCovered = covered;
        if (c.length == 1) _completed();
        else if (pool.shareRate() < rate0) ++ghostWindowsWithLoweredRate;
    }

    /// @dev The chain of the report: penalties sorted by operator id in non-decreasing chunks (the
    /// order across chunks follows the list order), `covered` when every operator's bond holds the
    /// shares its penalties burn at the pre-report rate.
    function _chain(uint256 seed, uint256 refSlot, uint256 rate0)
        internal
        view
        returns (bytes[] memory c, uint256 loss, bool covered)
    {
        IOperatorsReport.OperatorsReport[] memory parts;
        uint256[] memory need;
        (parts, loss, need) = _parts(seed, refSlot, rate0);
        covered = true;
        for (uint256 i; i < ops.length; ++i) {
            if (bonds.bondShares(ops[i]) < need[i]) covered = false;
        }
        c = new bytes[](parts.length);
        bytes32 next;
        for (uint256 i = parts.length; i > 0; --i) {
            c[i - 1] = abi.encode(next, parts[i - 1]);
            next = keccak256(c[i - 1]);
        }
    }

    function _parts(uint256 seed, uint256 refSlot, uint256 rate0)
        internal
        view
        returns (IOperatorsReport.OperatorsReport[] memory parts, uint256 loss, uint256[] memory need)
    {
        uint256 n = 1 + (seed >> 8) % 3;
        uint256 k = 1 + seed % 4;
        parts = new IOperatorsReport.OperatorsReport[](n);
        uint256[] memory partOf = new uint256[](k);
        uint256[] memory filled = new uint256[](n);
        for (uint256 i; i < k; ++i) {
            partOf[i] = uint256(keccak256(abi.encode(seed, "part", i))) % n;
        }
        _sort(partOf);
        for (uint256 i; i < k; ++i) {
            ++filled[partOf[i]];
        }
        for (uint256 p; p < n; ++p) {
            parts[p].refSlot = refSlot;
            parts[p].penalties = new IOperatorsReport.OperatorPenalty[](filled[p]);
            filled[p] = 0;
        }
        need = new uint256[](ops.length);
        uint256 op;
        for (uint256 i; i < k; ++i) {
            op += uint256(keccak256(abi.encode(seed, "op", i))) % 2; // non-decreasing
            if (op >= ops.length) op = ops.length - 1;
            uint256 amount = 0.05 ether + uint256(keccak256(abi.encode(seed, "amount", i))) % 0.55 ether;
            loss += amount;
            need[op] += Math.mulDiv(amount, 1e27, rate0, Math.Rounding.Ceil) + 1;
            uint256 p = partOf[i];
            parts[p].penalties[filled[p]++] =
                IOperatorsReport.OperatorPenalty(uint64(ops[op]), uint128(amount), 1);
        }
    }

    /// @dev Delivers the next chunk of the pending chain (refused once its frame is over).
    function deliver() external {
        if (nextChunk == 0 || nextChunk >= chunks.length) return;
        try oracle.submitExtraDataChunk(chunks[nextChunk]) {
            ++nextChunk;
            if (nextChunk == chunks.length) _completed();
        } catch {}
    }

    function _completed() internal {
        if (!chainCovered) return;
        ++ghostCoveredChainsCompleted;
        if (pool.shareRate() < rateBefore) ++ghostCoveredChainBelowPreRate;
    }

    // ------------------------------------------------------------------ holders in the window

    function deposit(uint256 actorSeed, uint256 amount) external {
        address a = actors[actorSeed % actors.length];
        amount = bound(amount, 0.01 ether, 500 ether);
        vm.deal(a, a.balance + amount);
        bool window = _inWindow();
        vm.prank(a);
        try pool.deposit{value: amount}() {
            if (window) ++ghostDepositsInWindow;
        } catch {
            if (window) ++ghostDepositsRefusedInWindow;
        }
    }

    function flashExit(uint256 actorSeed, uint256 fraction) external {
        address a = actors[actorSeed % actors.length];
        uint256 shares = pool.balanceOf(a) * bound(fraction, 1, 100) / 100;
        if (shares == 0) return;
        bool window = _inWindow();
        vm.prank(a);
        try pool.flashExit(shares, 0) {
            if (window) ++ghostExitsInWindow;
        } catch {}
    }

    function requestWithdrawal(uint256 actorSeed, uint256 fraction) external {
        address a = actors[actorSeed % actors.length];
        uint256 shares = pool.balanceOf(a) * bound(fraction, 1, 50) / 100;
        if (shares == 0) return;
        bool window = _inWindow();
        vm.prank(a);
        try queue.requestWithdrawal(shares, a) {
            if (window) ++ghostExitsInWindow;
        } catch {}
    }

    /// @dev Tops up a bond (a deposit too: refused in the window).
    function topUpBond(uint256 opSeed) external {
        uint256 id = ops[opSeed % ops.length];
        address a = actors[0];
        vm.deal(a, a.balance + 5 ether);
        bool window = _inWindow();
        vm.prank(a);
        try bonds.depositBond{value: 5 ether}(id) {
            if (window) ++ghostDepositsInWindow;
        } catch {}
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 0, 12 hours));
    }

    // ------------------------------------------------------------------ helpers

    function _sort(uint256[] memory a) internal pure {
        for (uint256 i = 1; i < a.length; ++i) {
            for (uint256 j = i; j > 0 && a[j - 1] > a[j]; --j) {
                (a[j - 1], a[j]) = (a[j], a[j - 1]);
            }
        }
    }

    function _baseReport(uint256 refSlot) internal view returns (IOracleReport.Report memory r) {
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
        for (uint256 i; i < keys.length; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
    }
}
