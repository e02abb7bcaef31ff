// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsModule} from "../../src/interfaces/IOperatorsModule.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {BondManager} from "../../src/operators/BondManager.sol";
import {OperatorsModule} from "../../src/operators/OperatorsModule.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {LegacyOperatorsModule} from "../mocks/LegacyOperatorsModule.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Upgrading proxies initialized by earlier versions (auditor findings 3 and 5): the
/// OperatorsModule gets the reward factors and the missed-exit penalty that only `initialize`
/// set, the BondManager records the front-runs its earlier version charged, and the module's
/// report cursor reads a cursor the version before `exitsStarted` wrote.
contract UpgradesTest is OperatorsSystemFixture {
    bytes32 internal constant MODULE_STORAGE =
        0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00;
    /// @dev OpenZeppelin's ERC-7201 Initializable slot (uint64 _initialized in the low bits)
    bytes32 internal constant INITIALIZABLE =
        0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00;

    function _unauthorized(address account) internal pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, account, bytes32(0)
            );
    }

    // ------------------------------------------------------------------ OperatorsModule

    /// @dev A module proxy with the storage of the version before docs/adr/0008.
    function _legacyModule() internal returns (OperatorsModule m) {
        m = OperatorsModule(
            address(
                new ERC1967Proxy(
                    address(new LegacyOperatorsModule()),
                    abi.encodeCall(
                        LegacyOperatorsModule.initialize,
                        (tl, address(oracle), address(registry), address(bonds), address(0), 5 days)
                    )
                )
            )
        );
    }

    function _upgrade(OperatorsModule m, bytes memory data) internal {
        address impl = address(new OperatorsModule());
        vm.prank(tl);
        m.upgradeToAndCall(impl, data);
    }

    function test_initializeV2_SetsTheDefaultsAnUpgradedModuleLacks() public {
        OperatorsModule m = _legacyModule();
        _upgrade(m, "");
        // the finding: the upgraded proxy reads zero factors and a zero penalty
        uint256[4] memory f = m.typeFactorsBps();
        for (uint256 t; t < 4; ++t) {
            vm.assertEq(f[t], 0, "no factor before initializeV2");
        }
        vm.assertEq(m.missedExitPenalty(), 0, "no penalty before initializeV2");
        vm.expectEmit(address(m));
        emit IOperatorsModule.TypeFactorSet(IOperatorRegistry.OperatorType.Professional, 10_000);
        vm.prank(tl);
        m.initializeV2();
        f = m.typeFactorsBps();
        for (uint256 t; t < 4; ++t) {
            vm.assertEq(f[t], 10_000, "default factor");
        }
        vm.assertEq(m.missedExitPenalty(), 0.1 ether, "default penalty");
        // the earlier fields are untouched
        (address o, address r, address b) = m.contracts();
        vm.assertEq(o, address(oracle), "oracle");
        vm.assertEq(r, address(registry), "registry");
        vm.assertEq(b, address(bonds), "bonds");
        vm.assertEq(m.exitDeadline(), 5 days, "exit deadline");
        vm.assertEq(m.operatorRewards(), address(0), "rewards");
    }

    function test_initializeV2_AsTheUpgradeCall() public {
        OperatorsModule m = _legacyModule();
        _upgrade(m, abi.encodeCall(OperatorsModule.initializeV2, ()));
        vm.assertEq(m.typeFactorBps(IOperatorRegistry.OperatorType.Home), 10_000, "factor");
        vm.assertEq(m.missedExitPenalty(), 0.1 ether, "penalty");
    }

    function test_initializeV2_RevertWhen_NotGovernance() public {
        OperatorsModule m = _legacyModule();
        _upgrade(m, "");
        vm.expectRevert(_unauthorized(alice));
        vm.prank(alice);
        m.initializeV2();
    }

    function test_initializeV2_RevertWhen_RunTwice() public {
        OperatorsModule m = _legacyModule();
        _upgrade(m, abi.encodeCall(OperatorsModule.initializeV2, ()));
        vm.prank(tl);
        m.setMissedExitPenalty(0.3 ether);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(tl);
        m.initializeV2();
        vm.assertEq(m.missedExitPenalty(), 0.3 ether, "governance's value stays");
    }

    /// A fresh deployment starts at version 2: the upgrade step cannot reset its parameters.
    function test_initializeV2_RevertWhen_FreshDeployment() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(tl);
        module.initializeV2();
    }

    // ------------------------------------------------------------------ report cursor layout

    /// Auditor PoC 3: `penaltyOp` keeps bits 152-215 of the cursor's first slot, where the version
    /// before `exitsStarted` kept it; the exitsStarted count uses bits 216-231.
    function test_cursor_PenaltyOpKeepsItsBits() public {
        _registerHome(carol, 10 ether);
        _registerHome(carol, 10 ether);
        uint256 home = _registerHome(bob, 10 ether); // id 2
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        a.penalties = new IOperatorsReport.OperatorPenalty[](1);
        a.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(home), 1, 1);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), a));
        uint256 s0 = uint256(vm.load(address(module), bytes32(uint256(MODULE_STORAGE) + 6)));
        vm.assertEq(s0 & type(uint64).max, a.refSlot, "refSlot: bits 0-63");
        vm.assertEq(
            (s0 >> 64) & 0xff, 1 << uint256(IOperatorsReport.ReportList.Penalties), "seen: bits 64-71"
        );
        vm.assertEq((s0 >> 104) & 0xffff, 1, "penalties count: bits 104-119");
        vm.assertEq((s0 >> 152) & type(uint64).max, home, "penaltyOp: bits 152-215");
        vm.assertEq(s0 >> 216, 0, "exitsStarted count (216-231) and the free bits");
        // the report's start time shares missedExitPenalty's slot (5): the cursor stays at slot 6
        uint256 s5 = uint256(vm.load(address(module), bytes32(uint256(MODULE_STORAGE) + 5)));
        vm.assertEq(s5 & type(uint128).max, 0.1 ether, "missedExitPenalty: low half of slot 5");
        vm.assertEq(s5 >> 128, block.timestamp, "reportStartedAt: bits 128-191 of slot 5");
    }

    /// @dev A chain in flight when the module is upgraded: chunk 0 was applied by the version
    /// before `exitsStarted` (its cursor, written in that layout, says chunk 0 charged a penalty to
    /// operator 2); chunk 1, returned, charges `op` and is delivered to the current version.
    function _chainWithAnEarlierCursor(uint64 op) internal returns (bytes memory c1) {
        _registerHome(carol, 10 ether);
        _registerHome(carol, 10 ether);
        _registerHome(bob, 10 ether);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        IOperatorsReport.OperatorsReport memory b;
        b.refSlot = a.refSlot;
        b.penalties = new IOperatorsReport.OperatorPenalty[](1);
        b.penalties[0] = IOperatorsReport.OperatorPenalty(op, 1 ether, 1);
        c1 = abi.encode(bytes32(0), b);
        _submitWith(_emptyReport(), abi.encode(keccak256(c1), a));
        uint256 old = a.refSlot | (uint256(1 << uint256(IOperatorsReport.ReportList.Penalties)) << 64)
            | (uint256(1) << 104) | (uint256(2) << 152);
        vm.store(address(module), bytes32(uint256(MODULE_STORAGE) + 6), bytes32(old));
    }

    /// It reads the earlier cursor right: chunk 1 cannot charge operator 1 after operator 2.
    function test_cursor_ReadsACursorTheEarlierVersionWrote() public {
        bytes memory c1 = _chainWithAnEarlierCursor(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorsReport.ReportListUnsorted.selector, IOperatorsReport.ReportList.Penalties, 0
            )
        );
        oracle.submitExtraDataChunk(c1);
    }

    /// Operator 2 again is in order (penalties are non-decreasing) and is charged.
    function test_cursor_ContinuesACursorTheEarlierVersionWrote() public {
        bytes memory c1 = _chainWithAnEarlierCursor(2);
        uint256 bond = bonds.bondShares(2);
        oracle.submitExtraDataChunk(c1);
        vm.assertLt(bonds.bondShares(2), bond, "operator 2 charged");
        uint256 s0 = uint256(vm.load(address(module), bytes32(uint256(MODULE_STORAGE) + 6)));
        vm.assertEq((s0 >> 104) & 0xffff, 2, "two penalties in the report");
    }

    // ------------------------------------------------------------------ BondManager

    /// @dev What the BondManager before docs/adr/0008 left behind: a front-run flagged and charged
    /// through `coverLoss`, nothing counted in `frontRunsCharged`, initializer version 1.
    function _legacyFrontRun() internal returns (uint256 pro) {
        pro = _admit(IOperatorRegistry.OperatorType.Professional, carol);
        _addAndVet(pro, carol, 200, 4);
        vm.deal(carol, 3 ether);
        vm.prank(carol);
        bonds.depositBond{value: 3 ether}(pro);
        registry.markPreDeposited(pro, 2);
        vm.startPrank(reporter);
        registry.markFrontRun(pro, 0);
        bonds.coverLoss(pro, 1 ether);
        registry.confirmPreDeposits(pro, 2);
        vm.stopPrank();
        vm.store(address(bonds), INITIALIZABLE, bytes32(uint256(1)));
    }

    function test_bondInitializeV2_RecordsFrontRunsChargedBefore() public {
        uint256 pro = _legacyFrontRun();
        vm.assertEq(bonds.lockedCollateral(pro), 1 ether, "the finding: a charged key stays locked");
        address impl = address(new BondManager());
        uint256[] memory ids = new uint256[](1);
        ids[0] = pro;
        vm.expectEmit(address(bonds));
        emit IBondManager.FrontRunChargesMigrated(pro, 1);
        vm.prank(tl);
        bonds.upgradeToAndCall(impl, abi.encodeCall(BondManager.initializeV2, (ids)));
        vm.assertEq(bonds.frontRunsCharged(pro), 1, "charged");
        vm.assertEq(bonds.lockedCollateral(pro), 0, "released");
        // the key cannot be charged a second time
        vm.expectRevert(abi.encodeWithSelector(IBondManager.NoUnchargedFrontRun.selector, pro, 1, 1));
        vm.prank(reporter);
        bonds.chargeFrontRun(pro, 0);
    }

    function test_bondInitializeV2_RevertWhen_NotGovernance() public {
        _legacyFrontRun();
        vm.expectRevert(_unauthorized(alice));
        vm.prank(alice);
        bonds.initializeV2(new uint256[](0));
    }

    function test_bondInitializeV2_RevertWhen_RunTwiceOrFresh() public {
        uint256 pro = _legacyFrontRun();
        uint256[] memory ids = new uint256[](1);
        ids[0] = pro;
        vm.prank(tl);
        bonds.initializeV2(ids);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(tl);
        bonds.initializeV2(ids);
        // a fresh deployment (version 2) never runs it
        BondManager fresh = BondManager(address(new ERC1967Proxy(address(new BondManager()), "")));
        fresh.initialize(tl, guardian, address(pool), address(registry), address(vfp), address(fund));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(tl);
        fresh.initializeV2(ids);
    }

    /// Operators whose count is already right are left alone (no event, no write).
    function test_bondInitializeV2_SkipsOperatorsWithoutUnrecordedCharges() public {
        uint256 pro = _legacyFrontRun();
        uint256 home = _registerHome(bob, 6 ether);
        uint256[] memory ids = new uint256[](2);
        ids[0] = home;
        ids[1] = pro;
        vm.recordLogs();
        vm.prank(tl);
        bonds.initializeV2(ids);
        vm.assertEq(bonds.frontRunsCharged(home), 0, "no front-run");
        vm.assertEq(bonds.frontRunsCharged(pro), 1, "one");
        uint256 migrated;
        bytes32 topic = IBondManager.FrontRunChargesMigrated.selector;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == topic) ++migrated;
        }
        vm.assertEq(migrated, 1, "one event");
    }

    // ------------------------------------------------------------------ deposit hold (ADR 0008)

    /// @dev The pool before the deposit hold (2026-12-06) had no `setPendingExtraData`: a call to
    /// it reverted without data (StakePool has `receive` but no `fallback`). Simulated on the
    /// current pool's address; its storage needs nothing (the two hold fields were appended and
    /// read zero).
    function _asPoolBeforeTheHold() internal {
        vm.mockCallRevert(address(pool), abi.encodeWithSelector(IStakePool.setPendingExtraData.selector), "");
    }

    /// @dev A chained report (chunk 1: a penalty of operator `op`) for the current frame.
    function _chainedReport(uint256 op)
        internal
        returns (IOracleReport.Report memory r, bytes memory c0, bytes memory c1)
    {
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory a;
        (a.refSlot,) = oracle.currentFrame();
        IOperatorsReport.OperatorsReport memory b;
        b.refSlot = a.refSlot;
        b.penalties = new IOperatorsReport.OperatorPenalty[](1);
        b.penalties[0] = IOperatorsReport.OperatorPenalty(uint64(op), 1 ether, 1);
        c1 = abi.encode(bytes32(0), b);
        c0 = abi.encode(keccak256(c1), a);
        r = _emptyReport();
        r.extraDataHash = keccak256(c0);
    }

    function _upgradeOracle() internal {
        address impl = address(new OracleReport());
        vm.prank(tl);
        oracle.upgradeToAndCall(impl, "");
    }

    /// The wrong order: an oracle that opens the hold, over a pool that cannot hold, reverts every
    /// chained report (reports without a chain still land). ADR 0008's upgrade notes: pool first.
    function test_upgradeOrder_OracleBeforePool_BlocksChainedReports() public {
        uint256 home = _registerHome(bob, 10 ether);
        _asPoolBeforeTheHold();
        _upgradeOracle();
        (IOracleReport.Report memory r, bytes memory c0,) = _chainedReport(home);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(bytes(""));
        oracle.submitReport(r, c0, sigs);
        _submit(_emptyReport());
    }

    /// The right order: the pool, then the oracle. A chained report holds deposits until its last
    /// chunk, which lifts the hold.
    function test_upgradeOrder_PoolThenOracle_ChainedReportHoldsDeposits() public {
        uint256 home = _registerHome(bob, 10 ether);
        _asPoolBeforeTheHold();
        address poolImpl = address(new StakePool());
        vm.prank(tl);
        pool.upgradeToAndCall(poolImpl, "");
        vm.clearMockedCalls(); // the pool now has the hold
        _upgradeOracle();
        (IOracleReport.Report memory r, bytes memory c0, bytes memory c1) = _chainedReport(home);
        oracle.submitReport(r, c0, _sign(r, _quorumKeys()));
        vm.assertEq(pool.pendingExtraData(), r.refSlot, "held");
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ExtraDataPending.selector, r.refSlot));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
        uint256 bond = bonds.bondShares(home);
        oracle.submitExtraDataChunk(c1);
        vm.assertLt(bonds.bondShares(home), bond, "chunk 1 charged the operator");
        vm.assertEq(pool.pendingExtraData(), 0, "lifted");
        _deposit(alice, 1 ether);
    }
}
