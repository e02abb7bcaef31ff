// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IOperatorRewards} from "../interfaces/IOperatorRewards.sol";
import {IOperatorsModule} from "../interfaces/IOperatorsModule.sol";

/// @notice The pool's operators module: applies the per-operator part of a quorum oracle report
/// (docs/adr/0007) to the OperatorRegistry, the BondManager and OperatorRewards.
///
/// Guarantees:
/// - Only the oracle calls {handleOperatorsReport}, from `submitReport`, before the pool books the
///   report's accounting: losses are charged at the pre-report rate, so a covered loss leaves the
///   holders' rate unchanged (ADR 0005).
/// - Every list is capped (bounded gas) and must be sorted as the interface says; unknown operator
///   or key ids revert the report (the registry and the BondManager reject them).
/// - Pre-deposit results confirm an operator's unconfirmed keys in order, without gaps: no key is
///   confirmed without a `valid` result. A `valid == false` key is marked front-run (its operator
///   is stopped; it is never topped up) and 1 ETH is charged through the loss waterfall, bond first.
/// - A penalty runs through the loss waterfall (bond -> VFP backing -> insurance -> holders); a
///   penalty above all cover never reverts the report.
/// - Exited counts release the bond of exits reported by an earlier report (one frame later).
/// - Exit requests get the deadline `block.timestamp + exitDeadline` (governance, 1 to 30 days).
/// - Only DEFAULT_ADMIN_ROLE (the timelock) changes parameters or upgrades.
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
    /// @notice ETH charged for one front-run pre-deposit.
    uint256 public constant PRE_DEPOSIT = 1 ether;
    /// @notice Number of operator types (the `IOperatorRegistry.OperatorType` enum).
    uint256 public constant OPERATOR_TYPES = 4;
    /// @notice Highest per-type reward factor (100 %).
    uint256 public constant MAX_TYPE_FACTOR_BPS = 10_000;
    /// @notice Highest missed-exit penalty per validator and frame.
    uint256 public constant MAX_MISSED_EXIT_PENALTY = 1 ether;
    /// @notice Missed-exit penalty of a fresh deployment.
    uint256 public constant DEFAULT_MISSED_EXIT_PENALTY = 0.1 ether;
    uint256 internal constant MAX_SCORE = 10_000;
    uint256 internal constant MAX_PENALTY_KIND = 2;

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
    }

    // computed with `cast index-erc7201 claystack.storage.OperatorsModule`, checked by a unit test
    bytes32 private constant MODULE_STORAGE =
        0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00;

    /// @notice Initializes the proxy; `operatorRewards_` may be zero (no rewards roots yet).
    function initialize(
        address admin,
        address oracle_,
        address registry_,
        address bonds_,
        address operatorRewards_,
        uint256 exitDeadline_
    ) external initializer {
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

    /// @notice Applies the operators report of a quorum oracle report. Only the oracle.
    function handleOperatorsReport(OperatorsReport calldata r) external {
        ModuleStorage storage $ = _s();
        if (msg.sender != $.oracle) revert UnauthorizedCaller(msg.sender, $.oracle);
        _checkLengths(r);
        uint256 frontRun = _applyPreDeposits($, r.preDeposits);
        _applyScores($, r.scores);
        _applyPenalties($, r.penalties);
        _applyExited($, r.exited);
        _applyExitRequests($, r.exitRequests);
        if (r.rewardsRoot != bytes32(0)) {
            address rewards = $.operatorRewards;
            if (rewards == address(0)) revert OperatorRewardsNotSet();
            IOperatorRewards(rewards).setRewardsRoot(r.rewardsRoot, r.rewardsCumulativeShares, r.refSlot);
        }
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

    /// @notice Sets the OperatorRewards contract (zero: rewards roots are refused). Governance only.
    function setOperatorRewards(address rewards) external onlyRole(DEFAULT_ADMIN_ROLE) {
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

    function _checkLengths(OperatorsReport calldata r) internal pure {
        _cap(ReportList.PreDeposits, r.preDeposits.length, MAX_PRE_DEPOSITS);
        _cap(ReportList.Scores, r.scores.length, MAX_SCORES);
        _cap(ReportList.Penalties, r.penalties.length, MAX_PENALTIES);
        _cap(ReportList.Exited, r.exited.length, MAX_EXITED);
        _cap(ReportList.ExitRequests, r.exitRequests.length, MAX_EXIT_REQUESTS);
    }

    function _cap(ReportList list, uint256 length, uint256 max) internal pure {
        if (length > max) revert ReportListTooLong(list, length, max);
    }

    /// @dev Per operator, the results must cover `[confirmed, confirmed + k)` in order; the module
    /// marks the invalid ones front-run, charges them, then confirms the whole range.
    function _applyPreDeposits(ModuleStorage storage $, PreDepositResult[] calldata list)
        internal
        returns (uint256 frontRun)
    {
        uint256 n = list.length;
        uint256 i;
        while (i < n) {
            uint256 id = list[i].operatorId;
            if (i != 0 && id <= list[i - 1].operatorId) revert ReportListUnsorted(ReportList.PreDeposits, i);
            IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(id);
            uint256 expected = op.confirmed;
            // one operator's group; bounded by the list cap
            for (; i < n && list[i].operatorId == id; ++i) {
                uint256 key = list[i].keyIndex;
                if (key != expected || key >= op.preDeposited) {
                    revert PreDepositResultOutOfRange(id, key, expected, op.preDeposited);
                }
                if (!list[i].valid) {
                    $.registry.markFrontRun(id, key);
                    IBondManager.LossCoverage memory c = $.bonds.coverLoss(id, PRE_DEPOSIT);
                    emit PreDepositForfeited(id, key, c.fromBond, c.uncovered);
                    ++frontRun;
                }
                ++expected;
            }
            $.registry.confirmPreDeposits(id, expected);
        }
    }

    function _applyScores(ModuleStorage storage $, OperatorScore[] calldata list) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (i != 0 && list[i].operatorId <= list[i - 1].operatorId) {
                revert ReportListUnsorted(ReportList.Scores, i);
            }
            // the registry rejects scores above 10,000 (ScoreOutOfRange)
            $.registry.setScore(list[i].operatorId, list[i].score);
        }
    }

    function _applyPenalties(ModuleStorage storage $, OperatorPenalty[] calldata list) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            OperatorPenalty calldata p = list[i];
            if (i != 0 && p.operatorId < list[i - 1].operatorId) {
                revert ReportListUnsorted(ReportList.Penalties, i);
            }
            if (p.amountWei == 0 || p.kind > MAX_PENALTY_KIND) revert InvalidPenalty(i, p.amountWei, p.kind);
            IBondManager.LossCoverage memory c = $.bonds.coverLoss(p.operatorId, p.amountWei);
            emit PenaltyApplied(p.operatorId, p.kind, p.amountWei, c.fromBond, c.uncovered);
        }
    }

    function _applyExited(ModuleStorage storage $, OperatorExited[] calldata list) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (i != 0 && list[i].operatorId <= list[i - 1].operatorId) {
                revert ReportListUnsorted(ReportList.Exited, i);
            }
            uint256 id = list[i].operatorId;
            // exits reported by an earlier report had a whole frame for late penalties: release
            // their bond now (ADR 0005: the bond stays locked until the report after the exit)
            uint256 previous = $.registry.getOperator(id).exited;
            if (previous > $.bonds.settledExits(id)) $.bonds.settleExits(id, previous);
            $.registry.updateExitedAndStuck(id, list[i].exitedTotal, list[i].stuckTotal);
        }
    }

    function _applyExitRequests(ModuleStorage storage $, ExitRequest[] calldata list) internal {
        uint256 n = list.length;
        uint256 deadline = block.timestamp + $.exitDeadline;
        for (uint256 i; i < n; ++i) {
            if (
                i != 0
                    && (list[i].operatorId < list[i - 1].operatorId
                        || (list[i].operatorId == list[i - 1].operatorId
                            && list[i].keyIndex <= list[i - 1].keyIndex))
            ) revert ReportListUnsorted(ReportList.ExitRequests, i);
            $.registry.requestExit(list[i].operatorId, list[i].keyIndex, deadline);
        }
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
