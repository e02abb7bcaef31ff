// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRegistry} from "../../../src/access/AccessRegistry.sol";
import {IOperatorRegistry} from "../../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../../src/interfaces/ISanityChecker.sol";
import {BondManager} from "../../../src/operators/BondManager.sol";
import {DepositSecurity} from "../../../src/operators/DepositSecurity.sol";
import {InsuranceFund} from "../../../src/operators/InsuranceFund.sol";
import {OperatorRegistry} from "../../../src/operators/OperatorRegistry.sol";
import {OracleReport} from "../../../src/oracle/OracleReport.sol";
import {StakePool} from "../../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../../src/pool/WithdrawalQueue.sol";
import {TestBase} from "../../utils/TestBase.sol";

/// @notice Drives the deposit flow (stake, operators of random types, depositBuffered, reports
/// with random pre-deposit verdicts and penalties, attestation changes, withdrawal requests) on the
/// real system and keeps the ghost ledgers the deposit-flow invariants compare against.
contract DepositFlowHandler is TestBase {
    struct Sys {
        StakePool pool;
        WithdrawalQueue queue;
        OracleReport oracle;
        OperatorRegistry registry;
        BondManager bonds;
        InsuranceFund fund;
        DepositSecurity ds;
        AccessRegistry access;
        address timelock;
        address kycProvider;
        address vetter;
    }

    uint256 internal constant MAX_OPERATORS = 10;
    uint256 internal constant KEYS = 6;

    Sys internal s;
    uint256[] internal keys;
    address[] internal actors;
    uint256[] public operatorIds;
    mapping(uint256 => address) public managerOf;

    // ghosts
    uint256 public ghostBondShrinkOutsideReport;
    uint256 public ghostQueueEtherUsed;
    uint256 public ghostUnattestedPreDeposits;
    uint256 public ghostDisallowedAdds;
    uint256 public ghostWaterfallOutOfOrder;
    uint256 public ghostReports;
    uint256 public ghostDepositCalls;
    /// ETH the pool must hold or have at stake, from what entered and left it (an independent
    /// ledger, not the pool's formula): the pooled ETH at the start, plus stakes and bond
    /// deposits, minus the 1 ETH of every front-run pre-deposit a report booked as lost
    uint256 public ghostPooledEther;
    uint256 public ghostFrontRunsBooked;

    constructor(Sys memory sys, uint256[] memory sortedKeys) {
        s = sys;
        keys = sortedKeys;
        ghostPooledEther = sys.pool.totalPooledEther();
        for (uint256 i; i < 3; ++i) {
            actors.push(makeAddr(string.concat("staker", vm.toString(i))));
        }
    }

    function operatorCount() external view returns (uint256) {
        return operatorIds.length;
    }

    // ------------------------------------------------------------------ actions

    function stake(uint256 actorSeed, uint256 amount) external {
        amount = bound(amount, 1 ether, 100 ether);
        address a = actors[actorSeed % actors.length];
        vm.deal(a, a.balance + amount);
        vm.prank(a);
        s.pool.deposit{value: amount}();
        ghostPooledEther += amount;
    }

    function requestWithdrawal(uint256 actorSeed, uint256 fraction) external {
        address a = actors[actorSeed % actors.length];
        uint256 shares = s.pool.balanceOf(a) * bound(fraction, 1, 40) / 100;
        if (shares == 0) return;
        vm.prank(a);
        try s.queue.requestWithdrawal(shares, a) {} catch {}
    }

    /// @dev A new operator of a random type with KEYS vetted keys and some bond; the curator tries to
    /// list it (the DepositSecurity type mask may refuse it).
    function addOperator(uint256 seed) external {
        if (operatorIds.length >= MAX_OPERATORS) return;
        uint256 n = operatorIds.length;
        address m = makeAddr(string.concat("op", vm.toString(n)));
        uint256 t = seed % 3; // 0 Professional, 1 Kyc, 2 Home
        uint256 id;
        if (t == 2) {
            vm.deal(m, 10 ether);
            vm.prank(m);
            id = s.registry.registerHomeOperator{value: 2 ether + (seed % 4) * 1 ether}(m);
            ghostPooledEther += 2 ether + (seed % 4) * 1 ether;
        } else {
            if (t == 1) {
                vm.prank(s.kycProvider);
                s.access.attest(m, 1, uint64(block.timestamp + 300 days));
            }
            vm.prank(s.timelock);
            id = s.registry.admitOperator(IOperatorRegistry.OperatorType(t), m, m);
            vm.deal(m, 10 ether);
            vm.prank(m);
            s.bonds.depositBond{value: 1 ether + (seed % 3) * 1 ether}(id);
            ghostPooledEther += 1 ether + (seed % 3) * 1 ether;
        }
        bytes memory pks;
        bytes memory sigs;
        for (uint256 k; k < KEYS; ++k) {
            uint256 ks = id * 1000 + k;
            pks =
                bytes.concat(pks, keccak256(abi.encode("pk", ks)), bytes16(keccak256(abi.encode("pk2", ks))));
            sigs = bytes.concat(
                sigs,
                keccak256(abi.encode("s0", ks)),
                keccak256(abi.encode("s1", ks)),
                keccak256(abi.encode("s2", ks))
            );
        }
        vm.prank(m);
        s.registry.addKeys(id, pks, sigs);
        vm.prank(s.vetter);
        s.registry.setVettedLimit(id, KEYS);
        operatorIds.push(id);
        managerOf[id] = m;
        bool allowed = (s.ds.operatorTypeMask() >> t) & 1 == 1;
        vm.prank(s.timelock);
        try s.ds.addOperator(uint64(id)) {
            if (!allowed) ++ghostDisallowedAdds;
        } catch {}
    }

    function toggleAttestation(uint256 seed) external {
        if (operatorIds.length == 0) return;
        uint256 id = operatorIds[seed % operatorIds.length];
        address m = managerOf[id];
        vm.startPrank(s.kycProvider);
        if (s.access.isAttested(m, 1)) s.access.revoke(m);
        else s.access.attest(m, 1, uint64(block.timestamp + 300 days));
        vm.stopPrank();
    }

    function depositBuffered(uint256 maxKeys) external {
        maxKeys = bound(maxKeys, 1, 20);
        uint256 n = operatorIds.length;
        uint256[] memory pre = new uint256[](n);
        uint256[] memory bond = new uint256[](n);
        bool[] memory unattested = new bool[](n);
        for (uint256 i; i < n; ++i) {
            IOperatorRegistry.OperatorInfo memory op = s.registry.getOperator(operatorIds[i]);
            pre[i] = op.preDeposited;
            bond[i] = s.bonds.bondShares(operatorIds[i]);
            unattested[i] =
                op.operatorType == IOperatorRegistry.OperatorType.Kyc && !s.access.isAttested(op.manager, 1);
        }
        uint256 depositable = s.pool.depositableEther();
        uint256 depositedBefore = s.pool.depositedEther();
        try s.ds.depositBuffered(maxKeys) {
            ++ghostDepositCalls;
        } catch {}
        // the call may only move ETH the queue is not owed
        if (s.pool.depositedEther() - depositedBefore > depositable) ++ghostQueueEtherUsed;
        for (uint256 i; i < n; ++i) {
            uint256 id = operatorIds[i];
            if (s.bonds.bondShares(id) < bond[i]) ++ghostBondShrinkOutsideReport;
            if (unattested[i] && s.registry.getOperator(id).preDeposited > pre[i]) {
                ++ghostUnattestedPreDeposits;
            }
        }
    }

    /// @dev A report: verdicts for every listed operator's in-flight pre-deposits (about one in
    /// eight front-run) and sometimes a penalty for one operator. The CL has processed every
    /// deposit; each front-run pre-deposit's 1 ETH went to the front-runner's validator, so the
    /// report's CL balance lacks it (netted as explained, docs/adr/0008).
    function report(uint256 seed, uint256 penaltySeed) external {
        uint256 n = operatorIds.length;
        IOperatorsReport.OperatorsReport memory o;
        (, uint256 deadline) = s.oracle.currentFrame();
        vm.warp(deadline + 1);
        (o.refSlot,) = s.oracle.currentFrame();
        uint256 total;
        for (uint256 i; i < n; ++i) {
            IOperatorRegistry.OperatorInfo memory op = s.registry.getOperator(operatorIds[i]);
            total += op.preDeposited - op.confirmed;
        }
        o.preDeposits = new IOperatorsReport.PreDepositResult[](total);
        uint256 k;
        uint256 frontRuns;
        for (uint256 i; i < n; ++i) {
            IOperatorRegistry.OperatorInfo memory op = s.registry.getOperator(operatorIds[i]);
            for (uint256 j = op.confirmed; j < op.preDeposited; ++j) {
                bool valid = uint256(keccak256(abi.encode(seed, i, j))) % 8 != 0;
                if (!valid) ++frontRuns;
                o.preDeposits[k++] =
                    IOperatorsReport.PreDepositResult(uint64(operatorIds[i]), uint64(j), valid);
            }
        }
        uint256 fundBefore = s.fund.fundShares();
        uint256 penalized;
        if (n != 0 && penaltySeed % 4 == 0) {
            penalized = operatorIds[penaltySeed % n];
            o.penalties = new IOperatorsReport.OperatorPenalty[](1);
            o.penalties[0] = IOperatorsReport.OperatorPenalty(
                uint64(penalized), uint128(bound(penaltySeed, 1, 8 ether)), 1
            );
        }
        IOracleReport.Report memory r = _emptyReport(o.refSlot);
        r.clDepositsProcessed = s.pool.depositedEther();
        r.clBalance =
            s.pool.clBalance() + (r.clDepositsProcessed - s.pool.clDepositsProcessed()) - frontRuns * 1 ether;
        bytes memory data = abi.encode(bytes32(0), o);
        if (total != 0 || o.penalties.length != 0) r.extraDataHash = keccak256(data);
        else data = "";
        s.oracle.submitReport(r, data, _sign(r));
        ++ghostReports;
        ghostPooledEther -= frontRuns * 1 ether;
        ghostFrontRunsBooked += frontRuns;
        // waterfall order: insurance only pays once the bond is empty
        if (s.fund.fundShares() < fundBefore && penalized != 0 && s.bonds.bondShares(penalized) != 0) {
            ++ghostWaterfallOutOfOrder;
        }
    }

    // ------------------------------------------------------------------ helpers

    function _emptyReport(uint256 refSlot) internal view returns (IOracleReport.Report memory r) {
        ISanityChecker.ValidatorCounts memory c = s.oracle.lastValidatorCounts();
        r.consensusVersion = 1;
        r.refSlot = refSlot;
        r.validatorsDeposited = c.deposited;
        r.validatorsActive = c.active;
        r.validatorsExited = c.exited;
        r.validatorsSlashed = c.slashed;
        r.clBalance = s.pool.clBalance();
        r.clDepositsProcessed = s.pool.clDepositsProcessed();
    }

    function _sign(IOracleReport.Report memory r)
        internal
        view
        returns (IOracleReport.Signature[] memory sigs)
    {
        bytes32 digest = s.oracle.reportDigest(r);
        sigs = new IOracleReport.Signature[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(ss) | (uint256(v - 27) << 255)));
        }
    }
}
