// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "../../src/interfaces/IAllocator.sol";
import {AllocationLib} from "../../src/lib/AllocationLib.sol";
import {Allocator} from "../../src/operators/Allocator.sol";
import {TestBase} from "../utils/TestBase.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @dev A deliberately naive model of ADR 0004: one validator per step, every total recomputed
/// from scratch, eligibility re-checked everywhere, the best operator found by an explicit
/// pairwise comparison that does not rely on input order. Slow and obviously right.
abstract contract ReferenceModel {
    uint256 private constant BPS = 10_000;

    function _refDeposits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory input,
        uint256 n
    ) internal pure returns (uint256[] memory given) {
        IAllocator.OperatorData[] memory ops = _copy(input);
        given = new uint256[](ops.length);
        for (uint256 step; step < n; ++step) {
            uint256 total = _total(ops);
            bool found;
            uint256 bestType;
            int256 bestDeficit;
            for (uint256 t; t < 4; ++t) {
                bool any;
                for (uint256 i; i < ops.length; ++i) {
                    if (uint256(ops[i].operatorType) == t && _eligible(p, ops[i], total)) any = true;
                }
                if (!any) continue;
                int256 deficit =
                // forge-lint: disable-next-line(unsafe-typecast) -- values are below 2^90 (uint64 inputs)
                    int256(uint256(p.targetBps[t]) * (total + 1)) - int256(BPS * _typeActive(ops, t));
                if (!found || deficit > bestDeficit) (found, bestType, bestDeficit) = (true, t, deficit);
            }
            if (!found) break;
            uint256 best = type(uint256).max;
            for (uint256 i; i < ops.length; ++i) {
                if (uint256(ops[i].operatorType) != bestType || !_eligible(p, ops[i], total)) continue;
                if (best == type(uint256).max || _depositBefore(p, ops[i], ops[best])) best = i;
            }
            ops[best].activeValidators += 1;
            ops[best].availableKeys -= 1;
            given[best] += 1;
        }
    }

    function _refExits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory input,
        uint256 m
    ) internal pure returns (uint256[] memory given) {
        IAllocator.OperatorData[] memory ops = _copy(input);
        given = new uint256[](ops.length);
        for (uint256 step; step < m; ++step) {
            uint256 total = _total(ops);
            bool found;
            uint256 bestType;
            int256 bestSurplus;
            for (uint256 t; t < 4; ++t) {
                uint256 active = _typeActive(ops, t);
                if (active == 0) continue;
                // forge-lint: disable-next-line(unsafe-typecast) -- values are below 2^90 (uint64 inputs)
                int256 surplus = int256(BPS * active) - int256(uint256(p.targetBps[t]) * (total - 1));
                if (!found || surplus > bestSurplus) (found, bestType, bestSurplus) = (true, t, surplus);
            }
            if (!found) break;
            uint256 best = type(uint256).max;
            for (uint256 i; i < ops.length; ++i) {
                if (uint256(ops[i].operatorType) != bestType || ops[i].activeValidators == 0) continue;
                if (best == type(uint256).max || _exitBefore(ops[i], ops[best])) best = i;
            }
            ops[best].activeValidators -= 1;
            given[best] += 1;
        }
    }

    function _eligible(IAllocator.AllocationParams memory p, IAllocator.OperatorData memory o, uint256 total)
        private
        pure
        returns (bool)
    {
        return o.isActive && o.availableKeys > 0 && p.targetBps[uint256(o.operatorType)] > 0
            && o.activeValidators < p.operatorCapAbsolute
            && uint256(o.activeValidators) * BPS <= uint256(p.operatorCapBps) * total;
    }

    function _weight(IAllocator.AllocationParams memory p, IAllocator.OperatorData memory o)
        private
        pure
        returns (uint256)
    {
        uint256 score = o.score == 0 ? 1 : o.score;
        uint256 capacity = o.availableKeys < p.capacitySaturation ? o.availableKeys : p.capacitySaturation;
        return score * capacity;
    }

    /// @dev a/wa < b/wb, or equal and a has the lower id.
    function _depositBefore(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData memory a,
        IAllocator.OperatorData memory b
    ) private pure returns (bool) {
        uint256 lhs = uint256(a.activeValidators) * _weight(p, b);
        uint256 rhs = uint256(b.activeValidators) * _weight(p, a);
        return lhs < rhs || (lhs == rhs && a.id < b.id);
    }

    /// @dev Lower score, then more active, then lower id.
    function _exitBefore(IAllocator.OperatorData memory a, IAllocator.OperatorData memory b)
        private
        pure
        returns (bool)
    {
        if (a.score != b.score) return a.score < b.score;
        if (a.activeValidators != b.activeValidators) return a.activeValidators > b.activeValidators;
        return a.id < b.id;
    }

    function _total(IAllocator.OperatorData[] memory ops) private pure returns (uint256 total) {
        for (uint256 i; i < ops.length; ++i) {
            total += ops[i].activeValidators;
        }
    }

    function _typeActive(IAllocator.OperatorData[] memory ops, uint256 t) private pure returns (uint256 sum) {
        for (uint256 i; i < ops.length; ++i) {
            if (uint256(ops[i].operatorType) == t) sum += ops[i].activeValidators;
        }
    }

    function _copy(IAllocator.OperatorData[] memory ops)
        private
        pure
        returns (IAllocator.OperatorData[] memory c)
    {
        c = new IAllocator.OperatorData[](ops.length);
        for (uint256 i; i < ops.length; ++i) {
            IAllocator.OperatorData memory o = ops[i];
            c[i] = IAllocator.OperatorData(
                o.id, o.operatorType, o.isActive, o.activeValidators, o.availableKeys, o.score
            );
        }
    }
}

/// @dev Differential tests of AllocationLib: against the reference model on fuzzed inputs, and
/// against the Rust crate `claystack-balancer` on its committed vectors.
contract AllocatorDifferentialTest is TestBase, ReferenceModel {
    /// @dev From contracts/ after the merge; overridable for a scratch checkout.
    string internal constant DEFAULT_VECTORS = "../crates/balancer/tests/vectors/allocation.json";
    string internal constant DEFAULT_OFF_CHAIN_VECTORS =
        "../crates/balancer/tests/vectors/exits_off_chain.json";

    // ----------------------------------------------------------------------------------------
    // Random inputs

    function _rand(uint256 seed, uint256 salt, uint256 lo, uint256 hi) private pure returns (uint256) {
        return lo + uint256(keccak256(abi.encode(seed, salt))) % (hi - lo + 1);
    }

    function _params(uint256 seed) private pure returns (IAllocator.AllocationParams memory p) {
        uint256 shape = _rand(seed, 0, 0, 4);
        if (shape == 0) {
            p = AllocationLib.publicPoolDefaults();
        } else if (shape == 1) {
            p = AllocationLib.kycPoolDefaults();
        } else {
            uint256 a = _rand(seed, 1, 0, 10_000);
            uint256 b = _rand(seed, 2, 0, 10_000);
            uint256 c = _rand(seed, 3, 0, 10_000);
            (a, b) = a > b ? (b, a) : (a, b);
            (b, c) = b > c ? (c, b) : (b, c);
            (a, b) = a > b ? (b, a) : (a, b);
            // forge-lint: disable-next-line(unsafe-typecast) -- a <= b <= c <= 10,000
            p.targetBps = [uint16(a), uint16(b - a), uint16(c - b), uint16(10_000 - c)];
            p.operatorCapBps = _rand(seed, 4, 0, 1) == 0 ? 10_000 : uint16(_rand(seed, 5, 100, 10_000));
            p.operatorCapAbsolute =
                _rand(seed, 6, 0, 1) == 0 ? type(uint64).max : uint64(_rand(seed, 7, 1, 300));
            p.capacitySaturation = uint64(_rand(seed, 8, 1, 64));
        }
        p.maxOperatorsPerType = 200;
    }

    function _operators(uint256 seed, uint256 count)
        private
        pure
        returns (IAllocator.OperatorData[] memory ops)
    {
        ops = new IAllocator.OperatorData[](count);
        uint64 id = uint64(_rand(seed, 100, 0, 3));
        uint256 spread = _rand(seed, 101, 1, 200);
        for (uint256 i; i < count; ++i) {
            uint256 salt = 1000 + 10 * i;
            id += uint64(_rand(seed, salt, 1, 3));
            uint256 scoreShape = _rand(seed, salt + 1, 0, 3);
            uint256 score = scoreShape == 0
                ? 0
                : scoreShape == 1
                    ? 10_000
                    : scoreShape == 2 ? 2500 * _rand(seed, salt + 2, 0, 4) : _rand(seed, salt + 2, 0, 10_000);
            ops[i] = IAllocator.OperatorData({
                id: id,
                operatorType: IAllocator.OperatorType(_rand(seed, salt + 3, 0, 3)),
                isActive: _rand(seed, salt + 4, 0, 4) != 0,
                activeValidators: uint64(_rand(seed, salt + 5, 0, spread)),
                availableKeys: _rand(seed, salt + 6, 0, 3) == 0 ? 0 : uint64(_rand(seed, salt + 7, 1, 80)),
                // forge-lint: disable-next-line(unsafe-typecast) -- score <= 10,000
                score: uint16(score)
            });
        }
    }

    function _assertMatches(
        IAllocator.Allocation memory got,
        IAllocator.OperatorData[] memory ops,
        uint256[] memory given
    ) private pure {
        uint256 k;
        uint256 total;
        for (uint256 i; i < ops.length; ++i) {
            if (given[i] == 0) continue;
            vm.assertLt(k, got.operatorIds.length, "library has fewer entries");
            vm.assertEq(uint256(got.operatorIds[k]), uint256(ops[i].id), "operator id");
            vm.assertEq(got.counts[k], given[i], "count");
            total += given[i];
            ++k;
        }
        vm.assertEq(got.operatorIds.length, k, "library has more entries");
        vm.assertEq(got.counts.length, k, "counts length");
        vm.assertEq(got.total, total, "total");
    }

    // ----------------------------------------------------------------------------------------
    // Fuzzed differential tests (1,000 runs each, see foundry.toml)

    /// forge-config: default.fuzz.runs = 1000
    function test_allocateDeposits_MatchesReference(uint256 seed, uint256 count, uint256 n) public pure {
        count = bound(count, 0, 24);
        n = bound(n, 0, 64);
        IAllocator.AllocationParams memory p = _params(seed);
        IAllocator.OperatorData[] memory ops = _operators(seed, count);
        IAllocator.Allocation memory got = AllocationLib.allocateDeposits(p, ops, n);
        _assertMatches(got, ops, _refDeposits(p, ops, n));
        vm.assertLe(got.total, n, "never more than requested");
    }

    /// forge-config: default.fuzz.runs = 1000
    function test_selectExits_MatchesReference(uint256 seed, uint256 count, uint256 m) public pure {
        count = bound(count, 0, 24);
        m = bound(m, 0, 64);
        IAllocator.AllocationParams memory p = _params(seed);
        IAllocator.OperatorData[] memory ops = _operators(seed, count);
        IAllocator.Allocation memory got = AllocationLib.selectExits(p, ops, m);
        _assertMatches(got, ops, _refExits(p, ops, m));
    }

    /// @dev `maxOperatorsPerType` bounds the input, never the choice: an input within a smaller bound
    /// gets the same exits under that bound as under the hard bound of 200 (ADR 0006, the property
    /// the oracle's off-chain selection relies on).
    /// forge-config: default.fuzz.runs = 1000
    function test_selectExits_BoundLimitsInputNotChoice(uint256 seed, uint256 count, uint256 m) public pure {
        count = bound(count, 0, 24);
        m = bound(m, 0, 64);
        IAllocator.AllocationParams memory p = _params(seed);
        IAllocator.OperatorData[] memory ops = _operators(seed, count);
        uint256[4] memory perType;
        uint256 crowded;
        for (uint256 i; i < count; ++i) {
            uint256 n = ++perType[uint256(ops[i].operatorType)];
            if (n > crowded) crowded = n;
        }
        IAllocator.Allocation memory wide = AllocationLib.selectExits(p, ops, m);
        // forge-lint: disable-next-line(unsafe-typecast) -- crowded <= 24
        p.maxOperatorsPerType = uint16(crowded == 0 ? 1 : crowded);
        IAllocator.Allocation memory tight = AllocationLib.selectExits(p, ops, m);
        vm.assertEq(keccak256(abi.encode(tight)), keccak256(abi.encode(wide)), "same exits");
    }

    /// forge-config: default.fuzz.runs = 1000
    function test_allocateDeposits_TwoBatchesEqualOne(uint256 seed, uint256 count, uint256 a, uint256 b)
        public
        pure
    {
        count = bound(count, 1, 24);
        a = bound(a, 0, 40);
        b = bound(b, 0, 40);
        IAllocator.AllocationParams memory p = _params(seed);
        IAllocator.OperatorData[] memory ops = _operators(seed, count);
        IAllocator.Allocation memory whole = AllocationLib.allocateDeposits(p, ops, a + b);
        IAllocator.Allocation memory first = AllocationLib.allocateDeposits(p, ops, a);
        uint256[] memory given = new uint256[](count);
        for (uint256 k; k < first.operatorIds.length; ++k) {
            for (uint256 i; i < count; ++i) {
                if (ops[i].id != first.operatorIds[k]) continue;
                ops[i].activeValidators += uint64(first.counts[k]);
                ops[i].availableKeys -= uint64(first.counts[k]);
                given[i] += first.counts[k];
            }
        }
        IAllocator.Allocation memory second = AllocationLib.allocateDeposits(p, ops, b);
        for (uint256 k; k < second.operatorIds.length; ++k) {
            for (uint256 i; i < count; ++i) {
                if (ops[i].id == second.operatorIds[k]) given[i] += second.counts[k];
            }
        }
        _assertMatches(whole, ops, given);
    }

    // ----------------------------------------------------------------------------------------
    // Cross-language vectors written by `cargo test -p claystack-balancer --test vectors`

    function test_allocateDeposits_MatchesRustVectors() public {
        _replay(true);
    }

    function test_selectExits_MatchesRustVectors() public {
        _replay(false);
    }

    /// @dev The oracle's off-chain exit selection (`select_exits_off_chain`) over inputs with more
    /// operators of a type than `maxPerType`: the contract refuses each input under its own bound
    /// (through a deployed Allocator), and at the hard bound of 200 per type it chooses exactly the
    /// exits the oracle chose (even cases: the library; odd cases: an Allocator set to 200).
    function test_selectExits_MatchesRustOffChainVectors() public {
        string memory json =
            vm.readFile(vm.envOr("CLAYSTACK_OFF_CHAIN_EXIT_VECTORS", string(DEFAULT_OFF_CHAIN_VECTORS)));
        uint256 count = vm.parseJsonUint(json, ".count");
        vm.assertGe(count, 40, "vector file holds at least 40 cases");
        Allocator impl = new Allocator();
        for (uint256 c; c < count; ++c) {
            string memory key = string.concat(".cases[", vm.toString(c), "].");
            IAllocator.AllocationParams memory p = _vectorParams(json, key);
            IAllocator.OperatorData[] memory ops = _vectorOperators(json, key);
            uint256 m = vm.parseJsonUint(json, string.concat(key, "m"));
            Allocator bounded = _allocator(impl, p);
            vm.expectRevert(_tooMany(ops, p.maxOperatorsPerType));
            bounded.selectExits(ops, m);
            p.maxOperatorsPerType = uint16(AllocationLib.MAX_OPERATORS_PER_TYPE);
            IAllocator.Allocation memory got =
                c % 2 == 0 ? AllocationLib.selectExits(p, ops, m) : _allocator(impl, p).selectExits(ops, m);
            _assertVector(got, json, key, "exit", c);
        }
    }

    /// @dev The error the contract gives an input with more than `max` operators of a type: the
    /// first operator, in input order, that exceeds the bound of its type.
    function _tooMany(IAllocator.OperatorData[] memory ops, uint256 max) private pure returns (bytes memory) {
        uint256[4] memory perType;
        for (uint256 i; i < ops.length; ++i) {
            uint256 n = ++perType[uint256(ops[i].operatorType)];
            if (n > max) {
                return
                    abi.encodeWithSelector(IAllocator.TooManyOperators.selector, ops[i].operatorType, n, max);
            }
        }
        revert("vector within its bound");
    }

    function _allocator(Allocator impl, IAllocator.AllocationParams memory p) private returns (Allocator) {
        return Allocator(
            address(
                new ERC1967Proxy(
                    address(impl), abi.encodeCall(Allocator.initialize, (address(this), address(0), p))
                )
            )
        );
    }

    function _replay(bool deposits) private {
        string memory json = vm.readFile(vm.envOr("CLAYSTACK_ALLOCATION_VECTORS", string(DEFAULT_VECTORS)));
        uint256 count = vm.parseJsonUint(json, ".count");
        vm.assertGe(count, 100, "vector file holds at least 100 cases");
        Allocator impl = new Allocator();
        uint256 nonEmpty;
        for (uint256 c; c < count; ++c) {
            if (_replayCase(json, c, deposits, impl)) ++nonEmpty;
        }
        vm.assertGe(nonEmpty, count / 2, "most vectors allocate something");
    }

    /// @dev Even cases call the library directly, odd ones a freshly deployed Allocator (so the
    /// storage round trip of the parameters is covered too).
    function _replayCase(string memory json, uint256 c, bool deposits, Allocator impl)
        private
        returns (bool)
    {
        string memory key = string.concat(".cases[", vm.toString(c), "].");
        IAllocator.AllocationParams memory p = _vectorParams(json, key);
        IAllocator.OperatorData[] memory ops = _vectorOperators(json, key);
        uint256 request = vm.parseJsonUint(json, string.concat(key, deposits ? "n" : "m"));
        IAllocator.Allocation memory got;
        if (c % 2 == 0) {
            got = deposits
                ? AllocationLib.allocateDeposits(p, ops, request)
                : AllocationLib.selectExits(p, ops, request);
        } else {
            Allocator a = _allocator(impl, p);
            got = deposits ? a.allocateDeposits(ops, request) : a.selectExits(ops, request);
        }
        _assertVector(got, json, key, deposits ? "deposit" : "exit", c);
        return got.total > 0;
    }

    function _assertVector(
        IAllocator.Allocation memory got,
        string memory json,
        string memory key,
        string memory kind,
        uint256 c
    ) private pure {
        string memory where = string.concat(kind, ", case ", vm.toString(c));
        uint256[] memory ids = vm.parseJsonUintArray(json, string.concat(key, kind, "Ids"));
        uint256[] memory counts = vm.parseJsonUintArray(json, string.concat(key, kind, "Counts"));
        vm.assertEq(got.operatorIds.length, ids.length, string.concat("entries, ", where));
        vm.assertEq(counts.length, ids.length, string.concat("vector counts, ", where));
        for (uint256 i; i < ids.length; ++i) {
            vm.assertEq(uint256(got.operatorIds[i]), ids[i], string.concat("id, ", where));
            vm.assertEq(got.counts[i], counts[i], string.concat("count, ", where));
        }
        vm.assertEq(
            got.total,
            vm.parseJsonUint(json, string.concat(key, kind, "Total")),
            string.concat("total, ", where)
        );
    }

    function _vectorParams(string memory json, string memory key)
        private
        pure
        returns (IAllocator.AllocationParams memory p)
    {
        uint256[] memory targets = vm.parseJsonUintArray(json, string.concat(key, "targets"));
        p.targetBps = [uint16(targets[0]), uint16(targets[1]), uint16(targets[2]), uint16(targets[3])];
        p.operatorCapBps = uint16(vm.parseJsonUint(json, string.concat(key, "capBps")));
        p.operatorCapAbsolute = uint64(vm.parseJsonUint(json, string.concat(key, "capAbsolute")));
        p.capacitySaturation = uint64(vm.parseJsonUint(json, string.concat(key, "saturation")));
        p.maxOperatorsPerType = uint16(vm.parseJsonUint(json, string.concat(key, "maxPerType")));
    }

    function _vectorOperators(string memory json, string memory key)
        private
        pure
        returns (IAllocator.OperatorData[] memory ops)
    {
        uint256[] memory ids = vm.parseJsonUintArray(json, string.concat(key, "ids"));
        uint256[] memory types = vm.parseJsonUintArray(json, string.concat(key, "types"));
        uint256[] memory isActive = vm.parseJsonUintArray(json, string.concat(key, "isActive"));
        uint256[] memory active = vm.parseJsonUintArray(json, string.concat(key, "active"));
        uint256[] memory available = vm.parseJsonUintArray(json, string.concat(key, "available"));
        uint256[] memory scores = vm.parseJsonUintArray(json, string.concat(key, "scores"));
        ops = new IAllocator.OperatorData[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            ops[i] = IAllocator.OperatorData({
                id: uint64(ids[i]),
                operatorType: IAllocator.OperatorType(types[i]),
                isActive: isActive[i] == 1,
                activeValidators: uint64(active[i]),
                availableKeys: uint64(available[i]),
                score: uint16(scores[i])
            });
        }
    }
}
