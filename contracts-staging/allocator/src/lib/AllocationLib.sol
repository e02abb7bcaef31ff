// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "../interfaces/IAllocator.sol";
import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title AllocationLib
/// @notice The algorithmic network balancing of ADR 0004, as pure functions over operator data in
/// memory. Mirrored bit for bit by the Rust crate `claystack-balancer` (cross-checked by vectors).
/// Guarantees:
/// - deterministic: the result depends only on the parameters, the operators and the request;
///   every tie is broken by a fixed order (type enum order, then lowest operator id);
/// - integer-only: ratios are compared by cross-multiplication, no division, no rounding;
/// - step-wise: allocating `a` then `b` validators gives the same result as allocating `a + b`;
/// - deposits go only to active operators with available keys, of a type with a non-zero target,
///   below both per-operator caps; exits only come from operators with active validators;
/// - bounded: at most `maxOperatorsPerType` (<= 200) operators per type and `MAX_REQUEST` (256)
///   validators per call, O(request x operators of one type) work in the usual case.
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

    /// @dev Working copy of the operators while one request is served.
    struct State {
        uint256[] active;
        uint256[] available;
        uint256[] score;
        uint256[] given;
        uint256[][4] groups; // candidate indices per type, by increasing id
        uint256[4] typeActive;
        uint256 total;
    }

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
    function allocateDeposits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        uint256 n
    ) internal pure returns (IAllocator.Allocation memory) {
        State memory s = _load(p, ops, n, true);
        uint256 allocated;
        while (allocated < n) {
            (uint256 t, uint256 i) = _nextDeposit(p, s);
            if (i == NONE) break;
            // Cannot overflow: every value is a uint64 input plus at most MAX_REQUEST steps.
            unchecked {
                ++s.active[i];
                --s.available[i]; // i was eligible, so available[i] > 0
                ++s.given[i];
                ++s.typeActive[t];
                ++s.total;
                ++allocated;
            }
        }
        return _collect(ops, s.given, allocated);
    }

    /// @notice Selects `m` validators to exit: per step, the type with the largest
    /// `10,000 * activeOfType - target * (total - 1)` among types with active validators (ties:
    /// lowest type), then its operator with active validators and the lowest score (ties: most
    /// active, then lowest id). Paused and stopped operators are included. Stops when none is left.
    function selectExits(
        IAllocator.AllocationParams memory p,
        IAllocator.OperatorData[] memory ops,
        uint256 m
    ) internal pure returns (IAllocator.Allocation memory) {
        State memory s = _load(p, ops, m, false);
        uint256 selected;
        while (selected < m) {
            (uint256 t, uint256 i) = _nextExit(p, s);
            if (i == NONE) break;
            // Cannot underflow: operator i and its type have active validators, so does the pool.
            unchecked {
                --s.active[i];
                ++s.given[i];
                --s.typeActive[t];
                --s.total;
                ++selected;
            }
        }
        return _collect(ops, s.given, selected);
    }

    /// @dev One deposit step: (type, operator index), operator NONE when nobody is eligible.
    function _nextDeposit(IAllocator.AllocationParams memory p, State memory s)
        private
        pure
        returns (uint256 bestType, uint256 chosen)
    {
        bool[4] memory tried; // type t has no eligible operator at this step
        while (true) {
            bestType = NONE;
            int256 bestDeficit;
            for (uint256 t; t < TYPES; ++t) {
                if (tried[t] || s.groups[t].length == 0) continue;
                int256 deficit = _diff(p.targetBps[t] * (s.total + 1), BPS * s.typeActive[t]);
                if (bestType == NONE || deficit > bestDeficit) (bestType, bestDeficit) = (t, deficit);
            }
            if (bestType == NONE) return (NONE, NONE);
            chosen = _bestDepositIn(p, s, s.groups[bestType]);
            if (chosen != NONE) return (bestType, chosen);
            tried[bestType] = true;
        }
    }

    /// @dev The eligible operator of `group` with the lowest active/weight, NONE if none.
    function _bestDepositIn(IAllocator.AllocationParams memory p, State memory s, uint256[] memory group)
        private
        pure
        returns (uint256 best)
    {
        best = NONE;
        uint256 bestActive;
        uint256 bestWeight;
        uint256 capShare = uint256(p.operatorCapBps) * s.total;
        uint256 len = group.length;
        for (uint256 j; j < len; ++j) {
            uint256 i = group[j];
            uint256 a = s.active[i];
            uint256 weight = _depositWeight(p, s.available[i], a, capShare, s.score[i]);
            if (weight == 0) continue;
            if (best == NONE || a * bestWeight < bestActive * weight) {
                best = i;
                bestActive = a;
                bestWeight = weight;
            }
        }
    }

    /// @dev `max(score, 1) * min(available, K)` (score is pre-floored at 1), or 0 when the
    /// operator is not eligible: no key available, or at or above a cap.
    function _depositWeight(
        IAllocator.AllocationParams memory p,
        uint256 available,
        uint256 active,
        uint256 capShare,
        uint256 score
    ) private pure returns (uint256) {
        if (available == 0 || active >= p.operatorCapAbsolute || active * BPS > capShare) {
            return 0;
        }
        uint256 saturation = p.capacitySaturation;
        return score * (available < saturation ? available : saturation);
    }

    /// @dev One exit step: (type, operator index), operator NONE when no validator is left.
    function _nextExit(IAllocator.AllocationParams memory p, State memory s)
        private
        pure
        returns (uint256 bestType, uint256 chosen)
    {
        bestType = NONE;
        int256 bestSurplus;
        for (uint256 t; t < TYPES; ++t) {
            if (s.typeActive[t] == 0) continue;
            // total >= typeActive[t] > 0, so total - 1 cannot underflow.
            int256 surplus = _diff(BPS * s.typeActive[t], p.targetBps[t] * (s.total - 1));
            if (bestType == NONE || surplus > bestSurplus) (bestType, bestSurplus) = (t, surplus);
        }
        if (bestType == NONE) return (NONE, NONE);
        chosen = NONE;
        uint256 bestScore;
        uint256 bestActive;
        uint256[] memory group = s.groups[bestType];
        uint256 len = group.length;
        for (uint256 j; j < len; ++j) {
            uint256 i = group[j];
            uint256 a = s.active[i];
            if (a == 0) continue;
            uint256 sc = s.score[i];
            if (chosen == NONE || sc < bestScore || (sc == bestScore && a > bestActive)) {
                (chosen, bestScore, bestActive) = (i, sc, a);
            }
        }
    }

    /// @dev Validates the input (same checks, same order as the Rust crate) and builds the state.
    /// Deposit candidates: active, available > 0, target of the type > 0 (scores floored at 1);
    /// exit candidates: activeValidators > 0 (raw scores).
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
        s.score = new uint256[](len);
        s.given = new uint256[](len);
        uint256[4] memory perType;
        uint256[4] memory candidates;
        bool[] memory isCandidate = new bool[](len);
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
            bool candidate;
            if (forDeposits) {
                candidate = op.isActive && op.availableKeys > 0 && p.targetBps[t] > 0;
                s.score[i] = op.score == 0 ? 1 : op.score;
            } else {
                candidate = op.activeValidators > 0;
                s.score[i] = op.score;
            }
            if (candidate) {
                isCandidate[i] = true;
                ++candidates[t];
            }
        }
        for (uint256 t; t < TYPES; ++t) {
            s.groups[t] = new uint256[](candidates[t]);
            candidates[t] = 0; // reused as the fill cursor
        }
        for (uint256 i; i < len; ++i) {
            if (!isCandidate[i]) continue;
            uint256 t = uint256(ops[i].operatorType);
            s.groups[t][candidates[t]++] = i;
        }
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
