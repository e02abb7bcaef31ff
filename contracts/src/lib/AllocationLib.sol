// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "../interfaces/IAllocator.sol";
import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title AllocationLib
/// @notice The algorithmic network balancing of ADR 0006, as pure functions over operator data in
/// memory. Mirrored bit for bit by the Rust crate `claystack-balancer` (cross-checked by vectors).
/// Guarantees:
/// - deterministic: the result depends only on the parameters, the operators and the request;
///   every tie is broken by a fixed order (type enum order, then lowest operator id);
/// - integer-only: ratios are compared by cross-multiplication, no division, no rounding;
/// - step-wise: allocating `a` then `b` validators gives the same result as allocating `a + b`;
/// - deposits go only to active operators with available keys, of a type with a non-zero target,
///   below both per-operator caps; exits only come from operators with active validators;
/// - bounded: at most `maxOperatorsPerType` (<= 200) operators per type and `MAX_REQUEST` (256)
///   validators per call; O((operators + request) x log(operators per type)) work, about 8 M gas
///   at the hard bounds (ADR 0006).
library AllocationLib {
    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;
    /// @notice Highest performance score.
    uint256 internal constant MAX_SCORE = 10_000;
    /// @notice Hard upper bound of `maxOperatorsPerType`.
    uint256 internal constant MAX_OPERATORS_PER_TYPE = 200;
    /// @notice Hard upper bound of the validators one call allocates or selects.
    uint256 internal constant MAX_REQUEST = 256;
    /// @notice Hard lower bound of `operatorCapBps`.
    uint256 internal constant MIN_OPERATOR_CAP_BPS = 100;
    /// @notice Hard upper bound of `capacitySaturation`.
    uint256 internal constant MAX_CAPACITY_SATURATION = 1024;

    uint256 private constant TYPES = 4;
    uint256 private constant NONE = type(uint256).max;

    /// @dev Working copy of the operators while one request is served. Operators are addressed
    /// by their input index, which orders them like their ids (inputs are sorted by id).
    struct State {
        uint256[] active;
        uint256[] available;
        uint256[] weight; // deposits: max(score, 1) * min(available, K), kept up to date
        uint256[] score; // deposits: max(score, 1); exits: the raw score
        uint256[] given;
        uint256[][4] heap; // per type: deposits, the eligible operators; exits, those with active > 0
        uint256[4] heapSize;
        uint256[][4] wait; // per type (deposits): operators held back only by the share cap
        uint256[4] waitSize;
        uint256[4] typeActive;
        uint256 total;
    }

    /// @dev Heap orders: the root is the operator that comes first.
    uint256 private constant BY_RATIO = 0; // lowest active/weight, then lowest id
    uint256 private constant BY_ACTIVE = 1; // lowest active, then lowest id
    uint256 private constant BY_EXIT = 2; // lowest score, then most active, then lowest id

    /// @notice Defaults of the public pool: 35/10/35/20 %, cap 25 %, no absolute cap, K = 32, 100 per type.
    function publicPoolDefaults() internal pure returns (IAllocator.AllocationParams memory p) {
        p.targetBps = [uint16(3500), 1000, 3500, 2000];
        p.operatorCapBps = 2500;
        p.operatorCapAbsolute = type(uint64).max;
        p.capacitySaturation = 32;
        p.maxOperatorsPerType = 100;
    }

    /// @notice Defaults of the KYC pool: Kyc operators only, no share cap.
    function kycPoolDefaults() internal pure returns (IAllocator.AllocationParams memory p) {
        p.targetBps = [uint16(0), 10_000, 0, 0];
        p.operatorCapBps = 10_000;
        p.operatorCapAbsolute = type(uint64).max;
        p.capacitySaturation = 32;
        p.maxOperatorsPerType = 100;
    }

    /// @notice Reverts unless every parameter is within its hard bounds.
    function checkParams(IAllocator.AllocationParams memory p) internal pure {
        uint256 sum = uint256(p.targetBps[0]) + p.targetBps[1] + p.targetBps[2] + p.targetBps[3];
        if (sum != BPS) revert IAllocator.InvalidTargets(sum);
        _checkBounds("operatorCapBps", p.operatorCapBps, MIN_OPERATOR_CAP_BPS, BPS);
        _checkBounds("operatorCapAbsolute", p.operatorCapAbsolute, 1, type(uint64).max);
        _checkBounds("capacitySaturation", p.capacitySaturation, 1, MAX_CAPACITY_SATURATION);
        _checkBounds("maxOperatorsPerType", p.maxOperatorsPerType, 1, MAX_OPERATORS_PER_TYPE);
    }

    /// @notice Allocates `n` new validators: per step, the type with the largest
    /// `target * (total + 1) - 10,000 * activeOfType` among types with an eligible operator (ties:
    /// lowest type), then its eligible operator with the lowest `active / weight`,
    /// `weight = max(score, 1) * min(available, K)` (ties: lowest id). Eligible: active, target of
    /// its type > 0, available > 0, `active < capAbsolute`, `10,000 * active <= capBps * total`.
    /// Stops early when no operator is eligible.
    /// @dev Per type, a min-heap by (active/weight, id) holds the eligible operators and a min-heap
    /// by active holds those blocked only by the share cap. Only the chosen operator's key changes
    /// (it only grows) and `total` only grows, so an operator blocked by the share cap becomes
    /// eligible again exactly when `10,000 * active <= capBps * total`, checked at the top of the
    /// second heap. Work: O((operators + n) * log(operators per type)).
    function allocateDeposits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        uint256 n
    ) internal pure returns (IAllocator.Allocation memory) {
        State memory s = _load(p, ops, n, true);
        uint256 capBps = p.operatorCapBps;
        uint256 allocated;
        while (allocated < n) {
            _release(s, capBps);
            uint256 t = _depositType(p, s);
            if (t == NONE) break;
            uint256 i = s.heap[t][0];
            // Cannot overflow: every value is a uint64 input plus at most MAX_REQUEST steps;
            // available[i] > 0 because i was eligible.
            unchecked {
                ++s.active[i];
                --s.available[i];
                ++s.given[i];
                ++s.typeActive[t];
                ++s.total;
                ++allocated;
            }
            uint256 a = s.active[i];
            uint256 avail = s.available[i];
            if (avail < p.capacitySaturation) s.weight[i] = s.score[i] * avail;
            if (avail == 0 || a >= p.operatorCapAbsolute) {
                _pop(s, s.heap[t], t, BY_RATIO, false);
            } else if (a * BPS > capBps * s.total) {
                _pop(s, s.heap[t], t, BY_RATIO, false);
                _push(s, s.wait[t], t, BY_ACTIVE, true, i);
            } else {
                _siftDown(s, s.heap[t], s.heapSize[t], 0, BY_RATIO);
            }
        }
        return _collect(ops, s.given, allocated);
    }

    /// @notice Selects `m` validators to exit: per step, the type with the largest
    /// `10,000 * activeOfType - target * (total - 1)` among types with active validators (ties:
    /// lowest type), then its operator with active validators and the lowest score (ties: most
    /// active, then lowest id). Paused and stopped operators are included. Stops when none is left.
    /// @dev Per type, a min-heap by (score, -active, id); only the chosen operator's key changes.
    /// Work: O((operators + m) * log(operators per type)).
    function selectExits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        uint256 m
    ) internal pure returns (IAllocator.Allocation memory) {
        State memory s = _load(p, ops, m, false);
        uint256 selected;
        while (selected < m) {
            uint256 t = _exitType(p, s);
            if (t == NONE) break;
            uint256 i = s.heap[t][0];
            // Cannot underflow: operator i has active validators, so do its type and the pool.
            unchecked {
                --s.active[i];
                ++s.given[i];
                --s.typeActive[t];
                --s.total;
                ++selected;
            }
            if (s.active[i] == 0) _pop(s, s.heap[t], t, BY_EXIT, false);
            else _siftDown(s, s.heap[t], s.heapSize[t], 0, BY_EXIT);
        }
        return _collect(ops, s.given, selected);
    }

    /// @dev Moves operators whose share-cap block has lifted (`total` grew) back to the eligible heap.
    function _release(State memory s, uint256 capBps) private pure {
        uint256 capShare = capBps * s.total;
        for (uint256 t; t < TYPES; ++t) {
            uint256[] memory wait = s.wait[t];
            while (s.waitSize[t] != 0 && s.active[wait[0]] * BPS <= capShare) {
                uint256 i = wait[0];
                _pop(s, wait, t, BY_ACTIVE, true);
                _push(s, s.heap[t], t, BY_RATIO, false, i);
            }
        }
    }

    /// @dev The type with the largest deficit among types with an eligible operator, NONE if none.
    function _depositType(IAllocator.AllocationParams memory p, State memory s)
        private
        pure
        returns (uint256 best)
    {
        best = NONE;
        int256 bestDeficit;
        for (uint256 t; t < TYPES; ++t) {
            if (s.heapSize[t] == 0) continue;
            int256 deficit = _diff(p.targetBps[t] * (s.total + 1), BPS * s.typeActive[t]);
            if (best == NONE || deficit > bestDeficit) (best, bestDeficit) = (t, deficit);
        }
    }

    /// @dev The type with the largest surplus among types with active validators, NONE if none.
    function _exitType(IAllocator.AllocationParams memory p, State memory s)
        private
        pure
        returns (uint256 best)
    {
        best = NONE;
        int256 bestSurplus;
        for (uint256 t; t < TYPES; ++t) {
            if (s.typeActive[t] == 0) continue;
            // total >= typeActive[t] > 0, so total - 1 cannot underflow.
            int256 surplus = _diff(BPS * s.typeActive[t], p.targetBps[t] * (s.total - 1));
            if (best == NONE || surplus > bestSurplus) (best, bestSurplus) = (t, surplus);
        }
    }

    /// @dev Validates the input (same checks, same order as the Rust crate) and builds the heaps.
    /// Deposits: operators that are active, have keys, are of a type with a target and are below
    /// the absolute cap go to the eligible heap, or to the waiting heap if over the share cap
    /// (the others can never become eligible during this call). Exits: operators with active > 0.
    function _load(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        uint256 requested,
        bool forDeposits
    ) private pure returns (State memory s) {
        checkParams(p);
        if (requested > MAX_REQUEST) revert IAllocator.RequestTooLarge(requested, MAX_REQUEST);
        uint256 len = ops.length;
        s.active = new uint256[](len);
        s.available = new uint256[](len);
        s.weight = new uint256[](len);
        s.score = new uint256[](len);
        s.given = new uint256[](len);
        uint256[4] memory perType;
        for (uint256 i; i < len; ++i) {
            IAllocator.OperatorData memory op = ops[i];
            if (i > 0 && op.id <= ops[i - 1].id) {
                revert IAllocator.UnsortedOperators(i, ops[i - 1].id, op.id);
            }
            if (op.score > MAX_SCORE) revert IAllocator.ScoreOutOfRange(op.id, op.score);
            uint256 t = uint256(op.operatorType);
            if (++perType[t] > p.maxOperatorsPerType) {
                revert IAllocator.TooManyOperators(op.operatorType, perType[t], p.maxOperatorsPerType);
            }
            s.active[i] = op.activeValidators;
            s.available[i] = op.availableKeys;
            s.typeActive[t] += op.activeValidators;
            s.total += op.activeValidators;
        }
        for (uint256 t; t < TYPES; ++t) {
            s.heap[t] = new uint256[](perType[t]);
            if (forDeposits) s.wait[t] = new uint256[](perType[t]);
        }
        if (forDeposits) _loadDeposits(p, ops, s);
        else _loadExits(ops, s);
    }

    function _loadDeposits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        State memory s
    ) private pure {
        uint256 capShare = uint256(p.operatorCapBps) * s.total;
        uint256 saturation = p.capacitySaturation;
        for (uint256 i; i < ops.length; ++i) {
            IAllocator.OperatorData memory op = ops[i];
            uint256 t = uint256(op.operatorType);
            uint256 a = op.activeValidators;
            uint256 avail = op.availableKeys;
            if (!op.isActive || avail == 0 || p.targetBps[t] == 0 || a >= p.operatorCapAbsolute) continue;
            s.score[i] = op.score == 0 ? 1 : op.score;
            s.weight[i] = s.score[i] * (avail < saturation ? avail : saturation);
            if (a * BPS > capShare) _push(s, s.wait[t], t, BY_ACTIVE, true, i);
            else _push(s, s.heap[t], t, BY_RATIO, false, i);
        }
    }

    function _loadExits(IAllocator.OperatorData[] memory ops, State memory s) private pure {
        for (uint256 i; i < ops.length; ++i) {
            IAllocator.OperatorData memory op = ops[i];
            if (op.activeValidators == 0) continue;
            s.score[i] = op.score;
            _push(s, s.heap[uint256(op.operatorType)], uint256(op.operatorType), BY_EXIT, false, i);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Binary min-heaps of operator indices in memory; `isWait` selects the size counter.

    function _push(State memory s, uint256[] memory heap, uint256 t, uint256 order, bool isWait, uint256 i)
        private
        pure
    {
        uint256 pos = isWait ? s.waitSize[t]++ : s.heapSize[t]++;
        // Sift up. Cannot underflow: pos > 0 inside the loop.
        unchecked {
            while (pos != 0) {
                uint256 parent = (pos - 1) / 2;
                if (!_before(s, order, i, heap[parent])) break;
                heap[pos] = heap[parent];
                pos = parent;
            }
        }
        heap[pos] = i;
    }

    function _pop(State memory s, uint256[] memory heap, uint256 t, uint256 order, bool isWait) private pure {
        uint256 size = isWait ? --s.waitSize[t] : --s.heapSize[t];
        if (size == 0) return;
        heap[0] = heap[size];
        _siftDown(s, heap, size, 0, order);
    }

    function _siftDown(State memory s, uint256[] memory heap, uint256 size, uint256 pos, uint256 order)
        private
        pure
    {
        uint256 i = heap[pos];
        // Cannot overflow: pos < size <= 200.
        unchecked {
            while (true) {
                uint256 child = 2 * pos + 1;
                if (child >= size) break;
                if (child + 1 < size && _before(s, order, heap[child + 1], heap[child])) ++child;
                if (!_before(s, order, heap[child], i)) break;
                heap[pos] = heap[child];
                pos = child;
            }
        }
        heap[pos] = i;
    }

    /// @dev Whether operator `i` comes strictly before operator `j` in `order` (a total order:
    /// indices are distinct and ordered like ids).
    function _before(State memory s, uint256 order, uint256 i, uint256 j) private pure returns (bool) {
        uint256 ai = s.active[i];
        uint256 aj = s.active[j];
        if (order == BY_RATIO) {
            uint256 lhs = ai * s.weight[j];
            uint256 rhs = aj * s.weight[i];
            return lhs < rhs || (lhs == rhs && i < j);
        }
        if (order == BY_ACTIVE) return ai < aj || (ai == aj && i < j);
        uint256 si = s.score[i];
        uint256 sj = s.score[j];
        return si < sj || (si == sj && (ai > aj || (ai == aj && i < j)));
    }

    /// @dev The non-zero counts by input order, which is increasing id.
    function _collect(IAllocator.OperatorData[] memory ops, uint256[] memory given, uint256 total)
        private
        pure
        returns (IAllocator.Allocation memory out)
    {
        uint256 len = given.length;
        uint256 entries;
        for (uint256 i; i < len; ++i) {
            if (given[i] != 0) ++entries;
        }
        out.operatorIds = new uint64[](entries);
        out.counts = new uint256[](entries);
        out.total = total;
        uint256 k;
        for (uint256 i; i < len; ++i) {
            if (given[i] == 0) continue;
            out.operatorIds[k] = ops[i].id;
            out.counts[k] = given[i];
            ++k;
        }
    }

    /// @dev `a - b` as a signed integer. Both are below 2^90 (sums of at most 800 uint64 values,
    /// plus 256 steps, times at most 10,000), so the casts are exact.
    function _diff(uint256 a, uint256 b) private pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int256(a) - int256(b);
    }

    function _checkBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert IGoverned.ParameterOutOfBounds(parameter, value, min, max);
    }
}
