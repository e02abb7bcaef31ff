// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";

/// @notice Fuzz tests of the bond formula against an independent reference, and of penalty rounding.
contract BondFormulaFuzzTest is OperatorsFixture {
    IOperatorRegistry.OperatorType internal constant HOME = IOperatorRegistry.OperatorType.Home;
    IOperatorRegistry.OperatorType internal constant DVT = IOperatorRegistry.OperatorType.Dvt;
    uint256 internal constant M = 10_000;

    function setUp() public {
        _deploy();
    }

    function _params(uint256 a, uint256 b, uint256 c, uint256 f, uint256 s)
        internal
        returns (IBondManager.BondParams memory p)
    {
        p = IBondManager.BondParams({
            homeFirstKey: uint96(bound(a, 1 ether, 32 ether)),
            homeNextKey: uint96(bound(b, 1 ether, 32 ether)),
            dvtPerValidator: uint96(bound(c, 1 ether, 32 ether)),
            floor: uint96(bound(f, 0.1 ether, 1 ether)),
            discountStartScore: uint16(bound(s, 0, 9000))
        });
        vm.prank(admin);
        bonds.setBondParams(p);
    }

    /// @dev Reference: the per-key bond as one rounded-up division, written independently of the
    /// contract's `base - discount` form.
    function _refKey(IBondManager.BondParams memory p, uint256 base, uint256 score)
        internal
        pure
        returns (uint256)
    {
        if (score > M) score = M;
        if (score <= p.discountStartScore) return base;
        uint256 num = base * (M - score) + uint256(p.floor) * (score - p.discountStartScore);
        uint256 den = M - p.discountStartScore;
        return (num + den - 1) / den;
    }

    function _ref(
        IBondManager.BondParams memory p,
        IOperatorRegistry.OperatorType t,
        uint256 keys,
        uint256 score
    ) internal pure returns (uint256) {
        if (keys == 0) return 0;
        if (t == HOME) {
            return _refKey(p, p.homeFirstKey, score) + (keys - 1) * _refKey(p, p.homeNextKey, score);
        }
        return keys * _refKey(p, p.dvtPerValidator, score);
    }

    function testFuzz_requiredBondFor_MatchesReference(
        uint256 a,
        uint256 b,
        uint256 c,
        uint256 f,
        uint256 s,
        uint256 keys,
        uint256 score,
        bool dvt
    ) public {
        IBondManager.BondParams memory p = _params(a, b, c, f, s);
        keys = bound(keys, 0, 100_000);
        score = bound(score, 0, 20_000);
        IOperatorRegistry.OperatorType t = dvt ? DVT : HOME;
        vm.assertEq(bonds.requiredBondFor(t, keys, score), _ref(p, t, keys, score), "formula");
    }

    function testFuzz_requiredBondFor_BoundedByFloorAndBase(
        uint256 a,
        uint256 b,
        uint256 c,
        uint256 f,
        uint256 s,
        uint256 keys,
        uint256 score
    ) public {
        IBondManager.BondParams memory p = _params(a, b, c, f, s);
        keys = bound(keys, 1, 10_000);
        score = bound(score, 0, M);
        uint256 home = bonds.requiredBondFor(HOME, keys, score);
        vm.assertGe(home, keys * uint256(p.floor), "never below the floor");
        vm.assertLe(home, bonds.requiredBondFor(HOME, keys, 0), "never above the undiscounted bond");
        vm.assertEq(bonds.requiredBondFor(HOME, keys, M), keys * uint256(p.floor), "perfect score = floor");
        uint256 d = bonds.requiredBondFor(DVT, keys, score);
        vm.assertGe(d, keys * uint256(p.floor), "dvt floor");
    }

    function testFuzz_requiredBondFor_MonotonicInKeysAndScore(
        uint256 a,
        uint256 b,
        uint256 f,
        uint256 s,
        uint256 keys,
        uint256 s1,
        uint256 s2
    ) public {
        IBondManager.BondParams memory p = _params(a, b, 1 ether, f, s);
        keys = bound(keys, 0, 10_000);
        s1 = bound(s1, 0, M);
        s2 = bound(s2, s1, M);
        vm.assertGe(
            bonds.requiredBondFor(HOME, keys + 1, s1),
            bonds.requiredBondFor(HOME, keys, s1) + p.floor,
            "more keys"
        );
        vm.assertLe(
            bonds.requiredBondFor(HOME, keys, s2), bonds.requiredBondFor(HOME, keys, s1), "better score"
        );
    }

    function testFuzz_keysCoveredBy_IsTheInverse(
        uint256 a,
        uint256 b,
        uint256 c,
        uint256 f,
        uint256 s,
        uint256 bond,
        uint256 score,
        bool dvt
    ) public {
        _params(a, b, c, f, s);
        bond = bound(bond, 0, 100_000 ether);
        score = bound(score, 0, M);
        IOperatorRegistry.OperatorType t = dvt ? DVT : HOME;
        uint256 k = bonds.keysCoveredBy(t, bond, score);
        vm.assertLe(bonds.requiredBondFor(t, k, score), bond, "covered keys are covered");
        vm.assertGt(bonds.requiredBondFor(t, k + 1, score), bond, "one more is not");
    }

    /// @dev Penalty rounding: covered + uncovered = penalty; the shares burned are worth at least the
    /// part covered at the pre-burn rate, and at most one share more.
    function testFuzz_penalize_RoundsForThePool(uint256 bond, uint256 penalty, uint256 tpe) public {
        bond = bound(bond, 2 ether, 1000 ether);
        penalty = bound(penalty, 1, 2000 ether);
        uint256 id = _registerHome(alice, 2 ether);
        vm.deal(alice, bond);
        if (bond > 2 ether) {
            vm.prank(alice);
            bonds.depositBond{value: bond - 2 ether}(id);
        }
        // random rate between 0.5 and 2 ETH per share
        tpe = bound(tpe, pool.totalSupply() / 2, pool.totalSupply() * 2);
        pool.setTotalPooledEther(tpe);
        uint256 supply = pool.totalSupply();
        uint256 sharesBefore = bonds.bondShares(id);
        vm.prank(reporter);
        uint256 uncovered = bonds.penalize(id, penalty);
        uint256 burned = sharesBefore - bonds.bondShares(id);
        uint256 covered = penalty - uncovered;
        vm.assertLe(covered, penalty, "no overcover");
        vm.assertGe(burned * tpe / supply + 1, covered, "burned value >= covered (1 wei conversion slack)");
        if (uncovered == 0) {
            vm.assertLe((burned - 1) * tpe / supply, penalty, "at most one share above the penalty");
        } else {
            vm.assertEq(bonds.bondShares(id), 0, "uncovered only once the bond is empty");
        }
    }
}
