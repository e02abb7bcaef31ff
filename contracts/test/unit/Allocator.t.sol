// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "../../src/interfaces/IAllocator.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {AllocationLib} from "../../src/lib/AllocationLib.sol";
import {Allocator} from "../../src/operators/Allocator.sol";
import {TestBase} from "../utils/TestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @dev Deploys an Allocator behind a UUPS proxy with the public-pool defaults, plus helpers to
/// build operator lists and compare allocations.
abstract contract AllocatorFixture is TestBase {
    Allocator internal allocator;
    address internal timelock = makeAddr("timelock");
    address internal guardian = makeAddr("guardian");
    address internal stranger = makeAddr("stranger");

    IAllocator.OperatorType internal constant PRO = IAllocator.OperatorType.Professional;
    IAllocator.OperatorType internal constant KYC = IAllocator.OperatorType.Kyc;
    IAllocator.OperatorType internal constant DVT = IAllocator.OperatorType.Dvt;
    IAllocator.OperatorType internal constant HOME = IAllocator.OperatorType.Home;

    IAllocator.OperatorData[] internal ops;

    function setUp() public virtual {
        allocator = _deploy(AllocationLib.publicPoolDefaults());
    }

    function _deploy(IAllocator.AllocationParams memory p) internal returns (Allocator) {
        Allocator impl = new Allocator();
        return Allocator(
            address(
                new ERC1967Proxy(address(impl), abi.encodeCall(Allocator.initialize, (timelock, guardian, p)))
            )
        );
    }

    function _add(
        uint64 id,
        IAllocator.OperatorType t,
        bool isActive,
        uint64 active,
        uint64 available,
        uint16 score
    ) internal {
        ops.push(IAllocator.OperatorData(id, t, isActive, active, available, score));
    }

    function _uncap() internal {
        vm.prank(timelock);
        allocator.setOperatorCap(10_000, type(uint64).max);
    }

    function _ids(uint64 a) internal pure returns (uint64[] memory r) {
        r = new uint64[](1);
        r[0] = a;
    }

    function _ids(uint64 a, uint64 b) internal pure returns (uint64[] memory r) {
        r = new uint64[](2);
        (r[0], r[1]) = (a, b);
    }

    function _ids(uint64 a, uint64 b, uint64 c) internal pure returns (uint64[] memory r) {
        r = new uint64[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function _counts(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _counts(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _counts(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function _assertAllocation(IAllocator.Allocation memory got, uint64[] memory ids, uint256[] memory counts)
        internal
        pure
    {
        vm.assertEq(got.operatorIds.length, ids.length, "entries");
        vm.assertEq(got.counts.length, counts.length, "counts length");
        uint256 total;
        for (uint256 i; i < ids.length; ++i) {
            vm.assertEq(uint256(got.operatorIds[i]), uint256(ids[i]), "operator id");
            vm.assertEq(got.counts[i], counts[i], "count");
            total += counts[i];
        }
        vm.assertEq(got.total, total, "total");
    }

    function _assertEmpty(IAllocator.Allocation memory got) internal pure {
        vm.assertEq(got.operatorIds.length, 0, "no entries");
        vm.assertEq(got.counts.length, 0, "no counts");
        vm.assertEq(got.total, 0, "total");
    }

    function _unauthorized(address caller) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector, caller, allocator.DEFAULT_ADMIN_ROLE()
        );
    }

    function _outOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IGoverned.ParameterOutOfBounds.selector, name, value, min, max);
    }
}

/// @dev Initialization, governance setters, roles and upgrades.
contract AllocatorGovernanceTest is AllocatorFixture {
    function test_initialize_SetsRolesAndParams() public view {
        vm.assertTrue(allocator.hasRole(allocator.DEFAULT_ADMIN_ROLE(), timelock), "timelock admin");
        vm.assertTrue(allocator.hasRole(allocator.GUARDIAN_ROLE(), guardian), "guardian");
        IAllocator.AllocationParams memory p = allocator.params();
        vm.assertEq(uint256(p.targetBps[0]), 3500, "professional");
        vm.assertEq(uint256(p.targetBps[1]), 1000, "kyc");
        vm.assertEq(uint256(p.targetBps[2]), 3500, "dvt");
        vm.assertEq(uint256(p.targetBps[3]), 2000, "home");
        vm.assertEq(uint256(p.operatorCapBps), 2500, "cap bps");
        vm.assertEq(uint256(p.operatorCapAbsolute), type(uint64).max, "cap absolute");
        vm.assertEq(uint256(p.capacitySaturation), 32, "saturation");
        vm.assertEq(uint256(p.maxOperatorsPerType), 100, "max per type");
        vm.assertEq(allocator.MAX_OPERATORS_PER_TYPE(), 200, "hard bound operators");
        vm.assertEq(allocator.MAX_REQUEST(), 256, "hard bound request");
    }

    function test_initialize_EmitsParameters() public {
        IAllocator.AllocationParams memory p = AllocationLib.kycPoolDefaults();
        Allocator impl = new Allocator();
        vm.expectEmit();
        emit IAllocator.TargetsUpdated(p.targetBps);
        vm.expectEmit();
        emit IAllocator.OperatorCapUpdated(10_000, type(uint64).max);
        vm.expectEmit();
        emit IGoverned.ParameterUpdated("capacitySaturation", 32);
        vm.expectEmit();
        emit IGoverned.ParameterUpdated("maxOperatorsPerType", 100);
        Allocator kyc = Allocator(
            address(
                new ERC1967Proxy(
                    address(impl), abi.encodeCall(Allocator.initialize, (timelock, address(0), p))
                )
            )
        );
        vm.assertEq(uint256(kyc.params().targetBps[1]), 10_000, "kyc pool target");
        vm.assertFalse(kyc.hasRole(kyc.GUARDIAN_ROLE(), address(0)), "no guardian");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        allocator.initialize(timelock, guardian, AllocationLib.publicPoolDefaults());
    }

    function test_initialize_RevertWhen_AdminIsZero() public {
        Allocator impl = new Allocator();
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(
            address(impl),
            abi.encodeCall(Allocator.initialize, (address(0), guardian, AllocationLib.publicPoolDefaults()))
        );
    }

    function test_initialize_RevertWhen_ParamsInvalid() public {
        IAllocator.AllocationParams memory p = AllocationLib.publicPoolDefaults();
        p.targetBps[3] = 2001;
        Allocator impl = new Allocator();
        vm.expectRevert(abi.encodeWithSelector(IAllocator.InvalidTargets.selector, 10_001));
        new ERC1967Proxy(address(impl), abi.encodeCall(Allocator.initialize, (timelock, guardian, p)));
    }

    function test_implementation_RevertWhen_InitializedDirectly() public {
        Allocator impl = new Allocator();
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        impl.initialize(timelock, guardian, AllocationLib.publicPoolDefaults());
    }

    function test_setTargets_UpdatesAndEmits() public {
        uint16[4] memory targets = [uint16(2500), 0, 5000, 2500];
        vm.expectEmit(address(allocator));
        emit IAllocator.TargetsUpdated(targets);
        vm.prank(timelock);
        allocator.setTargets(targets);
        IAllocator.AllocationParams memory p = allocator.params();
        vm.assertEq(uint256(p.targetBps[0]), 2500, "professional");
        vm.assertEq(uint256(p.targetBps[1]), 0, "kyc");
        vm.assertEq(uint256(p.targetBps[2]), 5000, "dvt");
        vm.assertEq(uint256(p.targetBps[3]), 2500, "home");
        vm.assertEq(uint256(p.operatorCapBps), 2500, "cap untouched");
    }

    function test_setTargets_RevertWhen_SumBelow10000() public {
        vm.prank(timelock);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.InvalidTargets.selector, 9999));
        allocator.setTargets([uint16(3500), 1000, 3500, 1999]);
    }

    function test_setTargets_RevertWhen_SumAbove10000() public {
        vm.prank(timelock);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.InvalidTargets.selector, 40_000));
        allocator.setTargets([uint16(10_000), 10_000, 10_000, 10_000]);
    }

    function test_setTargets_RevertWhen_CallerIsGuardian() public {
        bytes memory err = _unauthorized(guardian);
        vm.prank(guardian);
        vm.expectRevert(err);
        allocator.setTargets([uint16(2500), 2500, 2500, 2500]);
    }

    function test_setTargets_RevertWhen_CallerIsStranger() public {
        bytes memory err = _unauthorized(stranger);
        vm.prank(stranger);
        vm.expectRevert(err);
        allocator.setTargets([uint16(2500), 2500, 2500, 2500]);
    }

    function test_setOperatorCap_UpdatesAndEmits() public {
        vm.expectEmit(address(allocator));
        emit IAllocator.OperatorCapUpdated(100, 1);
        vm.prank(timelock);
        allocator.setOperatorCap(100, 1);
        IAllocator.AllocationParams memory p = allocator.params();
        vm.assertEq(uint256(p.operatorCapBps), 100, "cap bps");
        vm.assertEq(uint256(p.operatorCapAbsolute), 1, "cap absolute");
    }

    function test_setOperatorCap_RevertWhen_CapBpsBelowMin() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("operatorCapBps", 99, 100, 10_000));
        allocator.setOperatorCap(99, 1000);
    }

    function test_setOperatorCap_RevertWhen_CapBpsAboveMax() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("operatorCapBps", 10_001, 100, 10_000));
        allocator.setOperatorCap(10_001, 1000);
    }

    function test_setOperatorCap_RevertWhen_CapAbsoluteZero() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("operatorCapAbsolute", 0, 1, type(uint64).max));
        allocator.setOperatorCap(5000, 0);
    }

    function test_setOperatorCap_RevertWhen_CallerNotTimelock() public {
        bytes memory err = _unauthorized(guardian);
        vm.prank(guardian);
        vm.expectRevert(err);
        allocator.setOperatorCap(5000, 1000);
    }

    function test_setCapacitySaturation_UpdatesAndEmits() public {
        vm.expectEmit(address(allocator));
        emit IGoverned.ParameterUpdated("capacitySaturation", 1024);
        vm.prank(timelock);
        allocator.setCapacitySaturation(1024);
        vm.assertEq(uint256(allocator.params().capacitySaturation), 1024, "saturation");
    }

    function test_setCapacitySaturation_RevertWhen_Zero() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("capacitySaturation", 0, 1, 1024));
        allocator.setCapacitySaturation(0);
    }

    function test_setCapacitySaturation_RevertWhen_AboveMax() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("capacitySaturation", 1025, 1, 1024));
        allocator.setCapacitySaturation(1025);
    }

    function test_setCapacitySaturation_RevertWhen_CallerNotTimelock() public {
        bytes memory err = _unauthorized(stranger);
        vm.prank(stranger);
        vm.expectRevert(err);
        allocator.setCapacitySaturation(16);
    }

    function test_setMaxOperatorsPerType_UpdatesAndEmits() public {
        vm.expectEmit(address(allocator));
        emit IGoverned.ParameterUpdated("maxOperatorsPerType", 200);
        vm.prank(timelock);
        allocator.setMaxOperatorsPerType(200);
        vm.assertEq(uint256(allocator.params().maxOperatorsPerType), 200, "max per type");
    }

    function test_setMaxOperatorsPerType_RevertWhen_Zero() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("maxOperatorsPerType", 0, 1, 200));
        allocator.setMaxOperatorsPerType(0);
    }

    function test_setMaxOperatorsPerType_RevertWhen_AboveHardBound() public {
        vm.prank(timelock);
        vm.expectRevert(_outOfBounds("maxOperatorsPerType", 201, 1, 200));
        allocator.setMaxOperatorsPerType(201);
    }

    function test_setMaxOperatorsPerType_RevertWhen_CallerNotTimelock() public {
        bytes memory err = _unauthorized(guardian);
        vm.prank(guardian);
        vm.expectRevert(err);
        allocator.setMaxOperatorsPerType(50);
    }

    function test_upgradeToAndCall_ByTimelock() public {
        Allocator next = new Allocator();
        vm.prank(timelock);
        allocator.upgradeToAndCall(address(next), "");
        bytes32 implSlot = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
        vm.assertEq(vm.load(address(allocator), implSlot), bytes32(uint256(uint160(address(next)))), "impl");
        vm.assertEq(uint256(allocator.params().operatorCapBps), 2500, "state kept");
    }

    function test_upgradeToAndCall_RevertWhen_CallerNotTimelock() public {
        Allocator next = new Allocator();
        bytes memory err = _unauthorized(guardian);
        vm.prank(guardian);
        vm.expectRevert(err);
        allocator.upgradeToAndCall(address(next), "");
    }
}

/// @dev Deposit allocation: every rule of ADR 0004 on a hand-computed example.
contract AllocatorDepositTest is AllocatorFixture {
    function test_allocateDeposits_ChoosesTypeFurthestBelowTarget() public {
        _uncap();
        _add(1, PRO, true, 35, 100, 10_000);
        _add(2, KYC, true, 10, 100, 10_000);
        _add(3, DVT, true, 30, 100, 10_000);
        _add(4, HOME, true, 20, 100, 10_000);
        // Dvt is 5 below its 35 % until it reaches 35 of 100; the sixth step is a Professional/Dvt
        // tie (deficit 3,500 each), broken by type order.
        _assertAllocation(allocator.allocateDeposits(ops, 1), _ids(3), _counts(1));
        _assertAllocation(allocator.allocateDeposits(ops, 5), _ids(3), _counts(5));
        _assertAllocation(allocator.allocateDeposits(ops, 6), _ids(1, 3), _counts(1, 5));
    }

    function test_allocateDeposits_LowestActivePerWeightWithinType() public {
        _uncap();
        _add(1, DVT, true, 10, 100, 10_000); // weight 10,000 * 32
        _add(2, DVT, true, 5, 100, 2500); // weight 2,500 * 32: ratio 5/80,000 = 20/320,000
        // Operator 1 takes validators until 21/320,000 > 5/80,000 (at 20 it is a tie it wins on id).
        _assertAllocation(allocator.allocateDeposits(ops, 11), _ids(1), _counts(11));
        _assertAllocation(allocator.allocateDeposits(ops, 12), _ids(1, 2), _counts(11, 1));
    }

    function test_allocateDeposits_TiesGoToLowestId() public {
        _add(7, HOME, true, 0, 5, 8000);
        _add(9, HOME, true, 0, 5, 8000);
        _assertAllocation(allocator.allocateDeposits(ops, 1), _ids(7), _counts(1));
        _assertAllocation(allocator.allocateDeposits(ops, 2), _ids(7, 9), _counts(1, 1));
    }

    function test_allocateDeposits_WeightSaturatesAtK() public {
        _uncap();
        _add(1, PRO, true, 10, 1000, 10_000);
        _add(2, PRO, true, 10, 32, 10_000);
        // K = 32: both weigh 32 * 10,000, so they alternate.
        _assertAllocation(allocator.allocateDeposits(ops, 2), _ids(1, 2), _counts(1, 1));
        vm.prank(timelock);
        allocator.setCapacitySaturation(1024);
        // K = 1,024: operator 1 weighs 1,000/32 times more.
        _assertAllocation(allocator.allocateDeposits(ops, 2), _ids(1), _counts(2));
    }

    function test_allocateDeposits_ScoreZeroCountsAsOne() public {
        _uncap();
        _add(1, PRO, true, 0, 10, 0);
        _add(2, PRO, true, 1, 10, 10_000);
        // 0 active wins first; then operator 1 weighs 1 * 9 against 10,000 * 10.
        _assertAllocation(allocator.allocateDeposits(ops, 3), _ids(1, 2), _counts(1, 2));
    }

    function test_allocateDeposits_SkipsInactiveAndKeyless() public {
        _uncap();
        _add(1, HOME, false, 0, 10, 10_000);
        _add(2, HOME, true, 0, 0, 10_000);
        _add(3, HOME, true, 50, 10, 10_000);
        _assertAllocation(allocator.allocateDeposits(ops, 2), _ids(3), _counts(2));
    }

    function test_allocateDeposits_NeverToZeroTargetType() public {
        vm.prank(timelock);
        allocator.setTargets([uint16(5000), 0, 5000, 0]);
        _uncap();
        _add(1, KYC, true, 0, 10, 10_000);
        _add(2, PRO, true, 10, 10, 10_000);
        _assertAllocation(allocator.allocateDeposits(ops, 3), _ids(2), _counts(3));
    }

    function test_allocateDeposits_StopsAtAbsoluteCap() public {
        vm.prank(timelock);
        allocator.setOperatorCap(10_000, 12);
        _add(1, PRO, true, 10, 100, 10_000);
        _add(2, PRO, true, 11, 100, 10_000);
        // 1: 10 -> 12, 2: 11 -> 12, then both are at the cap.
        _assertAllocation(allocator.allocateDeposits(ops, 5), _ids(1, 2), _counts(2, 1));
    }

    function test_allocateDeposits_RespectsShareCap() public {
        _add(1, PRO, true, 30, 100, 10_000); // best ratio, but 30/60 of the pool > 25 %
        _add(2, PRO, true, 10, 100, 1000);
        _add(3, PRO, true, 10, 100, 1000);
        _add(4, PRO, true, 10, 100, 1000);
        _assertAllocation(allocator.allocateDeposits(ops, 3), _ids(2, 3, 4), _counts(1, 1, 1));
        _uncap();
        _assertAllocation(allocator.allocateDeposits(ops, 3), _ids(1), _counts(3));
    }

    function test_allocateDeposits_ShareCapIsInclusive() public {
        _add(1, PRO, true, 15, 100, 10_000); // exactly 25 % of 60: still eligible
        _add(2, PRO, true, 45, 100, 10_000); // 75 %: capped
        _assertAllocation(allocator.allocateDeposits(ops, 1), _ids(1), _counts(1));
    }

    function test_allocateDeposits_ShareCappedOperatorReturnsWhenPoolGrows() public {
        _add(1, PRO, true, 25, 100, 10_000);
        _add(2, PRO, true, 25, 100, 1000);
        _add(3, PRO, true, 25, 100, 1000);
        _add(4, PRO, true, 25, 100, 1000);
        // Each receiver goes to 26 of 101..103 (over 25 %) and waits; at 104 all are back.
        uint256[] memory ones = new uint256[](4);
        uint64[] memory all = new uint64[](4);
        for (uint256 i; i < 4; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < 4
            (ones[i], all[i]) = (1, uint64(i + 1));
        }
        _assertAllocation(allocator.allocateDeposits(ops, 4), all, ones);
        ones[0] = 2;
        _assertAllocation(allocator.allocateDeposits(ops, 5), all, ones);
    }

    function test_allocateDeposits_FallsBackWhenTypeHasNoEligibleOperator() public {
        vm.prank(timelock);
        allocator.setOperatorCap(10_000, 5);
        _add(1, PRO, true, 4, 10, 10_000);
        _add(2, PRO, true, 4, 10, 10_000);
        _add(3, DVT, true, 5, 10, 10_000); // Dvt has the larger deficit but its operator is capped
        _assertAllocation(allocator.allocateDeposits(ops, 1), _ids(1), _counts(1));
    }

    function test_allocateDeposits_EmptyOperators() public view {
        IAllocator.OperatorData[] memory none;
        _assertEmpty(allocator.allocateDeposits(none, 10));
    }

    function test_allocateDeposits_ZeroRequest() public {
        _add(1, PRO, true, 0, 10, 10_000);
        _assertEmpty(allocator.allocateDeposits(ops, 0));
    }

    function test_allocateDeposits_AcceptsMaxRequest() public {
        _uncap();
        _add(1, PRO, true, 0, 300, 10_000);
        _assertAllocation(allocator.allocateDeposits(ops, 256), _ids(1), _counts(256));
    }

    function test_allocateDeposits_RevertWhen_RequestTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocator.RequestTooLarge.selector, 257, 256));
        allocator.allocateDeposits(ops, 257);
    }

    function test_allocateDeposits_RevertWhen_OperatorsUnsorted() public {
        _add(2, PRO, true, 0, 10, 10_000);
        _add(1, PRO, true, 0, 10, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.UnsortedOperators.selector, 1, 2, 1));
        allocator.allocateDeposits(ops, 1);
    }

    function test_allocateDeposits_RevertWhen_DuplicateId() public {
        _add(1, PRO, true, 0, 10, 10_000);
        _add(1, DVT, true, 0, 10, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.UnsortedOperators.selector, 1, 1, 1));
        allocator.allocateDeposits(ops, 1);
    }

    function test_allocateDeposits_RevertWhen_ScoreOutOfRange() public {
        _add(4, PRO, true, 0, 10, 10_001);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.ScoreOutOfRange.selector, 4, 10_001));
        allocator.allocateDeposits(ops, 1);
    }

    function test_allocateDeposits_RevertWhen_TooManyOperatorsOfOneType() public {
        vm.prank(timelock);
        allocator.setMaxOperatorsPerType(2);
        _add(1, HOME, true, 0, 10, 10_000);
        _add(2, PRO, true, 0, 10, 10_000);
        _add(3, HOME, true, 0, 10, 10_000);
        _add(4, HOME, true, 0, 10, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.TooManyOperators.selector, HOME, 3, 2));
        allocator.allocateDeposits(ops, 1);
    }
}

/// @dev Exit selection: every rule of ADR 0004 on a hand-computed example.
contract AllocatorExitTest is AllocatorFixture {
    function test_selectExits_ChoosesTypeFurthestAboveTarget() public {
        _add(1, PRO, true, 36, 0, 10_000);
        _add(2, KYC, true, 10, 0, 10_000);
        _add(3, DVT, true, 34, 0, 10_000);
        _add(4, HOME, true, 20, 0, 10_000);
        // Professional is above target twice, then Home (surplus 6,000 against 500), then a
        // three-way tie at 4,000 broken by type order.
        _assertAllocation(allocator.selectExits(ops, 2), _ids(1), _counts(2));
        _assertAllocation(allocator.selectExits(ops, 3), _ids(1, 4), _counts(2, 1));
        _assertAllocation(allocator.selectExits(ops, 4), _ids(1, 4), _counts(3, 1));
    }

    function test_selectExits_ZeroTargetTypeExitsFirst() public {
        vm.prank(timelock);
        allocator.setTargets([uint16(5000), 0, 5000, 0]);
        _add(1, PRO, true, 50, 0, 10_000);
        _add(2, KYC, true, 2, 0, 10_000);
        _add(3, DVT, true, 50, 0, 10_000);
        _assertAllocation(allocator.selectExits(ops, 3), _ids(1, 2), _counts(1, 2));
    }

    function test_selectExits_LowestScoreThenMostActiveThenLowestId() public {
        _add(1, HOME, true, 10, 0, 9000);
        _add(2, HOME, true, 3, 0, 5000);
        _add(3, HOME, true, 5, 0, 5000);
        // Score 5,000 drains first, the larger of 2 and 3 first, ties to id 2.
        _assertAllocation(allocator.selectExits(ops, 3), _ids(2, 3), _counts(1, 2));
        _assertAllocation(allocator.selectExits(ops, 9), _ids(1, 2, 3), _counts(1, 3, 5));
    }

    function test_selectExits_IncludesInactiveOperators() public {
        _add(1, DVT, false, 3, 0, 1000);
        _add(2, DVT, true, 3, 0, 9000);
        _assertAllocation(allocator.selectExits(ops, 1), _ids(1), _counts(1));
    }

    function test_selectExits_StopsWhenNoValidatorLeft() public {
        _add(1, PRO, true, 3, 0, 10_000);
        _add(2, DVT, true, 0, 10, 10_000);
        _add(3, HOME, true, 1, 0, 10_000);
        _assertAllocation(allocator.selectExits(ops, 10), _ids(1, 3), _counts(3, 1));
    }

    function test_selectExits_EmptyOperators() public view {
        IAllocator.OperatorData[] memory none;
        _assertEmpty(allocator.selectExits(none, 5));
    }

    function test_selectExits_RevertWhen_RequestTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocator.RequestTooLarge.selector, 1000, 256));
        allocator.selectExits(ops, 1000);
    }

    function test_selectExits_RevertWhen_OperatorsUnsorted() public {
        _add(5, PRO, true, 1, 0, 10_000);
        _add(3, PRO, true, 1, 0, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.UnsortedOperators.selector, 1, 5, 3));
        allocator.selectExits(ops, 1);
    }

    function test_selectExits_RevertWhen_ScoreOutOfRange() public {
        _add(1, PRO, true, 1, 0, 10_000);
        _add(2, PRO, true, 1, 0, type(uint16).max);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.ScoreOutOfRange.selector, 2, type(uint16).max));
        allocator.selectExits(ops, 1);
    }

    function test_selectExits_RevertWhen_TooManyOperatorsOfOneType() public {
        vm.prank(timelock);
        allocator.setMaxOperatorsPerType(1);
        _add(1, KYC, true, 1, 0, 10_000);
        _add(2, KYC, true, 1, 0, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IAllocator.TooManyOperators.selector, KYC, 2, 1));
        allocator.selectExits(ops, 1);
    }
}

/// @dev Gas of the views as the OperatorRegistry would call them (external call, ABI-encoded
/// operators). Figures land in snapshots/AllocatorGasTest.json and ADR 0004.
contract AllocatorGasTest is AllocatorFixture {
    function _fill(uint256 count, bool oneType) internal {
        for (uint256 i; i < count; ++i) {
            IAllocator.OperatorType t = oneType ? PRO : IAllocator.OperatorType(i % 4);
            // forge-lint: disable-next-line(unsafe-typecast)
            _add(uint64(i + 1), t, true, uint64(10 + (i * 7) % 30), 300, uint16(5000 + (i * 37) % 5001));
        }
    }

    function _measureDeposits(uint256 count, uint256 n, bool oneType, string memory name) internal {
        _uncap();
        if (count > 400) {
            vm.prank(timelock);
            allocator.setMaxOperatorsPerType(200);
        }
        _fill(count, oneType);
        if (oneType) {
            vm.prank(timelock);
            allocator.setMaxOperatorsPerType(200);
        }
        IAllocator.Allocation memory a = allocator.allocateDeposits(ops, n);
        uint256 gasUsed = vm.snapshotGasLastCall(name);
        vm.assertEq(a.total, n, "all allocated");
        vm.assertGt(gasUsed, 0, "measured");
    }

    function test_allocateDeposits_Gas10Keys50Operators() public {
        _measureDeposits(50, 10, false, "allocateDeposits_10keys_50ops");
    }

    function test_allocateDeposits_Gas100Keys50Operators() public {
        _measureDeposits(50, 100, false, "allocateDeposits_100keys_50ops");
    }

    function test_allocateDeposits_Gas10Keys200Operators() public {
        _measureDeposits(200, 10, false, "allocateDeposits_10keys_200ops");
    }

    function test_allocateDeposits_Gas100Keys200Operators() public {
        _measureDeposits(200, 100, false, "allocateDeposits_100keys_200ops");
    }

    function test_allocateDeposits_Gas256Keys200OperatorsOfOneType() public {
        _measureDeposits(200, 256, true, "allocateDeposits_256keys_200ops_oneType");
    }

    function test_allocateDeposits_Gas256Keys800Operators() public {
        _measureDeposits(800, 256, false, "allocateDeposits_256keys_800ops");
    }

    function test_selectExits_Gas100Keys200Operators() public {
        _fill(200, false);
        IAllocator.Allocation memory a = allocator.selectExits(ops, 100);
        uint256 gasUsed = vm.snapshotGasLastCall("selectExits_100keys_200ops");
        vm.assertEq(a.total, 100, "all selected");
        vm.assertGt(gasUsed, 0, "measured");
    }

    function test_selectExits_Gas256Keys200OperatorsOfOneType() public {
        vm.prank(timelock);
        allocator.setMaxOperatorsPerType(200);
        _fill(200, true);
        IAllocator.Allocation memory a = allocator.selectExits(ops, 256);
        uint256 gasUsed = vm.snapshotGasLastCall("selectExits_256keys_200ops_oneType");
        vm.assertEq(a.total, 256, "all selected");
        vm.assertGt(gasUsed, 0, "measured");
    }
}
