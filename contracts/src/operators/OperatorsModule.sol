// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IOperatorRewards} from "../interfaces/IOperatorRewards.sol";
import {IOperatorsModule} from "../interfaces/IOperatorsModule.sol";

/// @notice The pool's operators module: applies the per-operator part of a quorum oracle report
/// (docs/adr/0007), chunk by chunk (docs/adr/0008), to the OperatorRegistry, the BondManager and
/// OperatorRewards.
///
/// Guarantees:
/// - Only the oracle calls {handleOperatorsReport}: chunk 0 from `submitReport`, before the pool
///   books the report's accounting, later chunks after it; every chunk charges its losses at the
///   pre-report rate the oracle passes, `L / rate_before` shares (rounded up) per loss `L`. So once
///   the whole chain is applied, covered losses leave the holders at least at the rate before the
///   report (above it when the report also booked rewards: the shares burned after it are then
///   worth more than `L`, ADR 0008). Between chunk 0 and the last chunk the rate is lowered by the
///   losses still to be charged; the pool refuses deposits in that window.
/// - Every list is capped for the whole report (all chunks) and must be sorted as the interface
///   says; the ordering holds across the chunks of one report (a cursor per list; pre-deposit
///   results are ordered within a chunk, and the registry's confirmation cursor keeps each
///   operator's results contiguous and unrepeatable across chunks), so the chunks together never
///   apply an entry a single report could not; unknown operator or key ids revert (the registry and
///   the BondManager reject them).
/// - Pre-deposit results confirm an operator's unconfirmed keys in order, without gaps: no key is
///   confirmed without a `valid` result. A `valid == false` key is marked front-run (its operator
///   is stopped; it is never topped up) and 1 ETH is charged through the loss waterfall, bond first.
/// - A penalty runs through the loss waterfall (bond -> VFP backing -> insurance -> holders); a
///   penalty above all cover never reverts the report.
/// - Exited counts release the bond of exits reported by an earlier report (one frame later).
/// - Exit requests get the deadline `block.timestamp + exitDeadline` (governance, 1 to 30 days).
/// - An exit started (the oracle saw the requested validator exiting or exited) closes that key's
///   pending request in the registry, after the chunk's new requests; a key without a pending
///   request reverts the chunk (`NoExitRequest`). Once closed, the ExitEnforcer refuses to force
///   the key's exit. One report can never renew a deadline: a request for a pending key is a
///   no-op, and a request for a key that an earlier chunk of the same report closed reverts
///   (`ExitRequestClosedInReport`: the registry records when it closed a request, the module
///   when the report's first chunk was applied; an earlier report's chunks all came before).
/// - The parameters the oracle reads, per-type reward factors (0 to 10,000 bps, default 10,000)
///   and the missed-exit penalty (0 to 1 ETH, default 0.1 ETH), change only through the timelock.
/// - Only DEFAULT_ADMIN_ROLE (the timelock) changes parameters or upgrades; a proxy upgraded
///   from a version without the reward factors and the missed-exit penalty gets their defaults
///   from {initializeV2}.
contract OperatorsModule is Governed, IOperatorsModule {
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_PRE_DEPOSITS = 1000;
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_SCORES = 1000;
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_PENALTIES = 1000;
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_EXITED = 1000;
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_EXIT_REQUESTS = 1000;
    /// @inheritdoc IOperatorsModule
    uint256 public constant MAX_EXITS_STARTED = 1000;
    /// @notice ETH charged for one front-run pre-deposit.
    uint256 public constant PRE_DEPOSIT = 1 ether;
    /// @notice Number of operator types (the `IOperatorRegistry.OperatorType` enum).
    uint256 public constant OPERATOR_TYPES = 4;
    /// @notice Highest per-type reward factor (100 %).
    uint256 public constant MAX_TYPE_FACTOR_BPS = 10_000;
    /// @notice Highest missed-exit penalty per validator and frame.
    uint256 public constant MAX_MISSED_EXIT_PENALTY = 1 ether;
    /// @notice Missed-exit penalty of a fresh deployment: about a month of a validator's rewards,
    /// so ignoring an exit request never pays, yet below the 0.5 ETH bond floor (docs/adr/0008).
    uint256 public constant DEFAULT_MISSED_EXIT_PENALTY = 0.1 ether;
    uint256 internal constant MAX_SCORE = 10_000;
    /// @dev The registry's `setScores` batch size (OperatorRegistry.MAX_BATCH).
    uint256 internal constant SCORE_BATCH = 100;
    uint256 internal constant MAX_PENALTY_KIND = 2;

    /// @dev Where the lists of the report being applied stand, so that its chunks together obey the
    /// ordering and the caps of one report: entries so far and the last sort key per list (bit
    /// `list` of `seen`: the list had an entry). Three slots, written once per chunk. The fields
    /// of `exitsStarted` were added (2026-12-06) in bits no earlier field used, so no field moved
    /// and a cursor written by the previous version reads the same (its `exitsStarted` fields are
    /// zero, with their `seen` bit clear): slot 0 is refSlot (bits 0-63), seen (64-71), the five
    /// counts (72-151), penaltyOp (152-215), exitsStarted (216-231); slot 1 scoreOp, exitedOp,
    /// preDeposit; slot 2 exitRequest, exitStarted. A unit test checks these offsets.
    struct ListCursor {
        uint64 refSlot;
        uint8 seen;
        uint16 preDeposits; // entries so far, per list
        uint16 scores;
        uint16 penalties;
        uint16 exited;
        uint16 exitRequests;
        uint64 penaltyOp;
        uint16 exitsStarted; // after penaltyOp: slot 0's free bits
        uint64 scoreOp;
        uint64 exitedOp;
        uint128 preDeposit; // operatorId << 64 | keyIndex
        uint128 exitRequest; // operatorId << 64 | keyIndex
        uint128 exitStarted; // operatorId << 64 | keyIndex
    }

    /// @custom:storage-location erc7201:claystack.storage.OperatorsModule
    struct ModuleStorage {
        address oracle;
        IOperatorRegistry registry;
        IBondManager bonds;
        address operatorRewards;
        uint64 exitDeadline;
        // appended (docs/adr/0008): read by the oracle for the operator rewards and penalties
        uint16[4] typeFactorBps; // by IOperatorRegistry.OperatorType
        uint128 missedExitPenalty; // wei per validator that missed its exit deadline in the frame
        // added 2026-12-06 in the free half of missedExitPenalty's slot (the cursor, a struct, starts
        // its own slot, so nothing moved): when the first chunk of the cursor's report was applied;
        // a key whose request the registry closed since then was closed by this report
        uint64 reportStartedAt;
        ListCursor cursor; // docs/adr/0008
    }

    // computed with `cast index-erc7201 claystack.storage.OperatorsModule`, checked by a unit test
    bytes32 private constant MODULE_STORAGE =
        0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00;

    /// @notice Initializes the proxy; `operatorRewards_` may be zero (no rewards roots yet). A fresh
    /// proxy starts at initializer version 2, so {initializeV2} (for upgraded proxies) cannot run on it.
    function initialize(
        address admin,
        address oracle_,
        address registry_,
        address bonds_,
        address operatorRewards_,
        uint256 exitDeadline_
    ) external reinitializer(2) {
        __Governed_init(admin, address(0));
        if (oracle_ == address(0) || registry_ == address(0) || bonds_ == address(0)) revert ZeroAddress();
        ModuleStorage storage $ = _s();
        $.oracle = oracle_;
        $.registry = IOperatorRegistry(registry_);
        $.bonds = IBondManager(bonds_);
        $.operatorRewards = operatorRewards_;
        _setExitDeadline($, exitDeadline_);
        for (uint256 t; t < OPERATOR_TYPES; ++t) {
            _setTypeFactor($, IOperatorRegistry.OperatorType(t), MAX_TYPE_FACTOR_BPS);
        }
        _setMissedExitPenalty($, DEFAULT_MISSED_EXIT_PENALTY);
    }

    /// @notice Upgrade step for a proxy initialized by a version without the reward factors and the
    /// missed-exit penalty (docs/adr/0008): sets their defaults (10,000 bps per type, 0.1 ETH), which
    /// that version left at zero. Runs once (initializer version 2), by governance, normally as the
    /// call of `upgradeToAndCall`. The report cursor needs no migration (no field moved).
    function initializeV2() external reinitializer(2) onlyRole(DEFAULT_ADMIN_ROLE) {
        ModuleStorage storage $ = _s();
        for (uint256 t; t < OPERATOR_TYPES; ++t) {
            _setTypeFactor($, IOperatorRegistry.OperatorType(t), MAX_TYPE_FACTOR_BPS);
        }
        _setMissedExitPenalty($, DEFAULT_MISSED_EXIT_PENALTY);
    }

    /// @notice Applies one chunk's part of the operators report for `refSlot`. Only the oracle.
    /// `lossRate`: the pre-report share rate (1e27) at which losses are charged, for every chunk
    /// (0: at the current rate). Returns the front-run loss charged.
    function handleOperatorsReport(uint256 refSlot, uint256 lossRate, OperatorsReport calldata r)
        external
        returns (uint256 frontRunLoss)
    {
        ModuleStorage storage $ = _s();
        if (msg.sender != $.oracle) revert UnauthorizedCaller(msg.sender, $.oracle);
        if (r.refSlot != refSlot) revert OperatorsReportRefSlotMismatch(r.refSlot, refSlot);
        ListCursor memory c = $.cursor;
        // refSlots strictly increase, so a new one starts a new report
        // forge-lint: disable-next-line(unsafe-typecast) -- the oracle keeps refSlot below 2^64
        if (c.refSlot != refSlot) {
            c = ListCursor(uint64(refSlot), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            $.reportStartedAt = uint64(block.timestamp);
        }
        // pre-deposit results are ordered within a chunk only: the registry's per-operator cursor
        // already makes every operator's results contiguous and unrepeatable across chunks, and the
        // oracle puts the runs with a front-run into chunk 0, whatever their operator ids
        c.seen &= ~uint8(1 << uint256(ReportList.PreDeposits));
        _checkLengths(c, r);
        uint256 frontRun = _applyPreDeposits($, c, r.preDeposits, lossRate);
        _applyScores($, c, r.scores);
        _applyPenalties($, c, r.penalties, lossRate);
        _applyExited($, c, r.exited);
        _applyExitRequests($, c, r.exitRequests);
        _applyExitsStarted($, c, r.exitsStarted);
        $.cursor = c;
        if (r.rewardsRoot != bytes32(0)) {
            address rewards = $.operatorRewards;
            if (rewards == address(0)) revert OperatorRewardsNotSet();
            IOperatorRewards(rewards).setRewardsRoot(r.rewardsRoot, r.rewardsCumulativeShares, r.refSlot);
        }
        frontRunLoss = frontRun * PRE_DEPOSIT;
        emit OperatorsReportApplied(
            r.refSlot,
            r.preDeposits.length,
            frontRun,
            r.penalties.length,
            r.exitRequests.length,
            r.rewardsRoot
        );
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets the seconds an operator has to exit a requested validator. Governance only.
    function setExitDeadline(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setExitDeadline(_s(), value);
    }

    /// @notice Sets the OperatorRewards contract, which must be a contract (a zero or code-less
    /// address would make every report with a rewards root revert). Governance only.
    function setOperatorRewards(address rewards) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (rewards.code.length == 0) revert OperatorRewardsInvalid(rewards);
        _s().operatorRewards = rewards;
        emit OperatorRewardsSet(rewards);
    }

    /// @notice Sets the reward factor F of one operator type (bps of the operators' reward share
    /// its attestations earn, DESIGN.md `R = T·F·N/A − P + O`), at most 10,000. Governance only.
    function setTypeFactor(IOperatorRegistry.OperatorType operatorType, uint256 factorBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setTypeFactor(_s(), operatorType, factorBps);
    }

    /// @notice Sets the penalty (wei) the oracle reports for each validator whose exit deadline
    /// passed in the frame without an exit, 0 to 1 ETH. Governance only.
    function setMissedExitPenalty(uint256 amountWei) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMissedExitPenalty(_s(), amountWei);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOperatorsModule
    function exitDeadline() external view returns (uint256) {
        return _s().exitDeadline;
    }

    /// @inheritdoc IOperatorsModule
    function operatorRewards() external view returns (address) {
        return _s().operatorRewards;
    }

    /// @inheritdoc IOperatorsModule
    function typeFactorBps(IOperatorRegistry.OperatorType operatorType) external view returns (uint256) {
        return _s().typeFactorBps[uint256(operatorType)];
    }

    /// @inheritdoc IOperatorsModule
    function typeFactorsBps() external view returns (uint256[4] memory factors) {
        uint16[4] storage f = _s().typeFactorBps;
        for (uint256 t; t < OPERATOR_TYPES; ++t) {
            factors[t] = f[t];
        }
    }

    /// @inheritdoc IOperatorsModule
    function missedExitPenalty() external view returns (uint256) {
        return _s().missedExitPenalty;
    }

    /// @notice The oracle, registry and BondManager the module works with.
    function contracts() external view returns (address oracle, address registry, address bonds) {
        ModuleStorage storage $ = _s();
        return ($.oracle, address($.registry), address($.bonds));
    }

    // ------------------------------------------------------------------ internals

    /// @dev The caps hold for the whole report: the chunks so far plus this one.
    function _checkLengths(ListCursor memory c, OperatorsReport calldata r) internal pure {
        c.preDeposits = _cap(ReportList.PreDeposits, c.preDeposits, r.preDeposits.length, MAX_PRE_DEPOSITS);
        c.scores = _cap(ReportList.Scores, c.scores, r.scores.length, MAX_SCORES);
        c.penalties = _cap(ReportList.Penalties, c.penalties, r.penalties.length, MAX_PENALTIES);
        c.exited = _cap(ReportList.Exited, c.exited, r.exited.length, MAX_EXITED);
        c.exitRequests =
            _cap(ReportList.ExitRequests, c.exitRequests, r.exitRequests.length, MAX_EXIT_REQUESTS);
        c.exitsStarted =
            _cap(ReportList.ExitsStarted, c.exitsStarted, r.exitsStarted.length, MAX_EXITS_STARTED);
    }

    function _cap(ReportList list, uint256 before, uint256 length, uint256 max)
        internal
        pure
        returns (uint16)
    {
        uint256 total = before + length;
        if (total > max) revert ReportListTooLong(list, total, max);
        // forge-lint: disable-next-line(unsafe-typecast) -- total <= max <= 1,000
        return uint16(total);
    }

    /// @dev Per operator, the results must cover `[confirmed, confirmed + k)` in order (a run may
    /// continue in the next chunk: the registry's cursor moved); the module marks the invalid ones
    /// front-run, charges them, then confirms the whole range.
    function _applyPreDeposits(
        ModuleStorage storage $,
        ListCursor memory c,
        PreDepositResult[] calldata list,
        uint256 lossRate
    ) internal returns (uint256 frontRun) {
        uint256 n = list.length;
        uint256 i;
        while (i < n) {
            uint256 id = list[i].operatorId;
            IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(id);
            uint256 expected = op.confirmed;
            // one operator's group; bounded by the list cap
            for (; i < n && list[i].operatorId == id; ++i) {
                uint256 key = list[i].keyIndex;
                _advance(c, ReportList.PreDeposits, (id << 64) | key, i, true);
                if (key != expected || key >= op.preDeposited) {
                    revert PreDepositResultOutOfRange(id, key, expected, op.preDeposited);
                }
                if (!list[i].valid) {
                    $.registry.markFrontRun(id, key);
                    // the key's collateral stays locked until this charge (BondManager)
                    IBondManager.LossCoverage memory cov = $.bonds.chargeFrontRun(id, lossRate);
                    emit PreDepositForfeited(id, key, cov.fromBond, cov.uncovered);
                    ++frontRun;
                }
                ++expected;
            }
            $.registry.confirmPreDeposits(id, expected);
        }
    }

    /// @dev In batches of the registry's `setScores` (one call per 100 scores, not one per score).
    function _applyScores(ModuleStorage storage $, ListCursor memory c, OperatorScore[] calldata list)
        internal
    {
        uint256 n = list.length;
        for (uint256 start; start < n; start += SCORE_BATCH) {
            uint256 size = n - start < SCORE_BATCH ? n - start : SCORE_BATCH;
            uint256[] memory ids = new uint256[](size);
            uint256[] memory scores = new uint256[](size);
            for (uint256 j; j < size; ++j) {
                OperatorScore calldata s = list[start + j];
                _advance(c, ReportList.Scores, s.operatorId, start + j, true);
                ids[j] = s.operatorId;
                scores[j] = s.score;
            }
            // the registry rejects scores above 10,000 (ScoreOutOfRange) and skips unchanged ones
            $.registry.setScores(ids, scores);
        }
    }

    function _applyPenalties(
        ModuleStorage storage $,
        ListCursor memory c,
        OperatorPenalty[] calldata list,
        uint256 lossRate
    ) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            OperatorPenalty calldata p = list[i];
            _advance(c, ReportList.Penalties, p.operatorId, i, false);
            if (p.amountWei == 0 || p.kind > MAX_PENALTY_KIND) revert InvalidPenalty(i, p.amountWei, p.kind);
            IBondManager.LossCoverage memory cov = _coverLoss($, p.operatorId, p.amountWei, lossRate);
            emit PenaltyApplied(p.operatorId, p.kind, p.amountWei, cov.fromBond, cov.uncovered);
        }
    }

    function _applyExited(ModuleStorage storage $, ListCursor memory c, OperatorExited[] calldata list)
        internal
    {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = list[i].operatorId;
            _advance(c, ReportList.Exited, id, i, true);
            uint256 previous = $.registry.updateExitedAndStuck(id, list[i].exitedTotal, list[i].stuckTotal);
            // exits reported by an earlier report had a whole frame for late penalties: release
            // their bond now (ADR 0005: the bond stays locked until the report after the exit)
            if (previous > $.bonds.settledExits(id)) $.bonds.settleExits(id, previous);
        }
    }

    function _applyExitRequests(ModuleStorage storage $, ListCursor memory c, ExitRequest[] calldata list)
        internal
    {
        uint256 n = list.length;
        if (n == 0) return;
        uint256 deadline = block.timestamp + $.exitDeadline;
        uint256 started = $.reportStartedAt;
        for (uint256 i; i < n; ++i) {
            uint256 id = list[i].operatorId;
            uint256 keyIndex = list[i].keyIndex;
            _advance(c, ReportList.ExitRequests, (id << 64) | keyIndex, i, true);
            // an earlier chunk of this report closed the key (every earlier report's chunks came in
            // an earlier frame): requesting it again would renew its deadline within one report.
            // Within a chunk requests come before closes.
            if ($.registry.exitRequestClosedAt(id, keyIndex) >= started) {
                revert ExitRequestClosedInReport(id, keyIndex, c.refSlot);
            }
            $.registry.requestExit(id, keyIndex, deadline);
        }
    }

    /// @dev Closes the pending exit request of every listed key: the oracle saw its validator
    /// exiting or exited on the beacon chain (the contracts cannot see it). The registry reverts
    /// for an unknown operator (`OperatorNotFound`) or a key without a pending request
    /// (`NoExitRequest`).
    function _applyExitsStarted(ModuleStorage storage $, ListCursor memory c, ExitRequest[] calldata list)
        internal
    {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = list[i].operatorId;
            _advance(c, ReportList.ExitsStarted, (id << 64) | list[i].keyIndex, i, true);
            $.registry.clearExitRequest(id, list[i].keyIndex);
        }
    }

    /// @dev Checks that `key` follows the last key of `list` in this report (strictly, or not
    /// decreasing), across chunks, and records it. `index` is the entry's position in the chunk.
    function _advance(ListCursor memory c, ReportList list, uint256 key, uint256 index, bool strict)
        internal
        pure
    {
        uint8 bit = uint8(1 << uint256(list));
        if (c.seen & bit != 0) {
            uint256 last = _last(c, list);
            if (key < last || (strict && key == last)) revert ReportListUnsorted(list, index);
        }
        c.seen |= bit;
        // keys come from uint64 fields (ids, key indexes), so the casts below are exact
        // forge-lint: disable-start(unsafe-typecast)
        if (list == ReportList.PreDeposits) c.preDeposit = uint128(key);
        else if (list == ReportList.Scores) c.scoreOp = uint64(key);
        else if (list == ReportList.Penalties) c.penaltyOp = uint64(key);
        else if (list == ReportList.Exited) c.exitedOp = uint64(key);
        else if (list == ReportList.ExitRequests) c.exitRequest = uint128(key);
        else c.exitStarted = uint128(key);
        // forge-lint: disable-end(unsafe-typecast)
    }

    function _last(ListCursor memory c, ReportList list) internal pure returns (uint256) {
        if (list == ReportList.PreDeposits) return c.preDeposit;
        if (list == ReportList.Scores) return c.scoreOp;
        if (list == ReportList.Penalties) return c.penaltyOp;
        if (list == ReportList.Exited) return c.exitedOp;
        if (list == ReportList.ExitRequests) return c.exitRequest;
        return c.exitStarted;
    }

    /// @dev The loss waterfall at the current rate (chunk 0) or at the recorded pre-report rate.
    function _coverLoss(ModuleStorage storage $, uint256 id, uint256 amount, uint256 lossRate)
        internal
        returns (IBondManager.LossCoverage memory)
    {
        return lossRate == 0 ? $.bonds.coverLoss(id, amount) : $.bonds.coverLossAtRate(id, amount, lossRate);
    }

    function _setExitDeadline(ModuleStorage storage $, uint256 value) internal {
        _checkBounds("exitDeadline", value, 1 days, 30 days);
        $.exitDeadline = uint64(value);
        emit ParameterUpdated("exitDeadline", value);
    }

    function _setTypeFactor(ModuleStorage storage $, IOperatorRegistry.OperatorType operatorType, uint256 bps)
        internal
    {
        _checkBounds("typeFactorBps", bps, 0, MAX_TYPE_FACTOR_BPS);
        // forge-lint: disable-next-line(unsafe-typecast) -- bps <= 10,000 checked above
        $.typeFactorBps[uint256(operatorType)] = uint16(bps);
        emit TypeFactorSet(operatorType, bps);
    }

    function _setMissedExitPenalty(ModuleStorage storage $, uint256 amountWei) internal {
        _checkBounds("missedExitPenalty", amountWei, 0, MAX_MISSED_EXIT_PENALTY);
        // forge-lint: disable-next-line(unsafe-typecast) -- amountWei <= 1 ether checked above
        $.missedExitPenalty = uint128(amountWei);
        emit ParameterUpdated("missedExitPenalty", amountWei);
    }

    function _s() private pure returns (ModuleStorage storage $) {
        assembly {
            $.slot := MODULE_STORAGE
        }
    }
}
