// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "./IOperatorRegistry.sol";
import {IOperatorsReport, IOperatorsReportReceiver} from "./IOperatorsReport.sol";

/// @notice The pool's operators module: applies the operators report (docs/adr/0007).
interface IOperatorsModule is IOperatorsReport, IOperatorsReportReceiver {
    /// @notice Most pre-deposit results one report may carry.
    function MAX_PRE_DEPOSITS() external view returns (uint256);
    /// @notice Most scores one report may carry.
    function MAX_SCORES() external view returns (uint256);
    /// @notice Most penalties one report may carry.
    function MAX_PENALTIES() external view returns (uint256);
    /// @notice Most exited/stuck entries one report may carry.
    function MAX_EXITED() external view returns (uint256);
    /// @notice Most exit requests one report may carry.
    function MAX_EXIT_REQUESTS() external view returns (uint256);
    /// @notice Most exits started (requests to close) one report may carry.
    function MAX_EXITS_STARTED() external view returns (uint256);

    /// @notice The report carries a rewards root but no OperatorRewards contract is set.
    error OperatorRewardsNotSet();
    /// @notice Governance tried to set an OperatorRewards address without code (or zero).
    error OperatorRewardsInvalid(address operatorRewards);
    /// @notice An earlier chunk of the report for `refSlot` closed the exit request of this key
    /// (`exitsStarted`): the same report cannot request it again (that would renew its deadline).
    error ExitRequestClosedInReport(uint256 operatorId, uint256 keyIndex, uint256 refSlot);

    /// @notice An operators report was applied.
    event OperatorsReportApplied(
        uint256 indexed refSlot,
        uint256 preDeposits,
        uint256 frontRun,
        uint256 penalties,
        uint256 exitRequests,
        bytes32 rewardsRoot
    );
    /// @notice A front-run pre-deposit forfeited 1 ETH of the operator's bond (and further layers).
    event PreDepositForfeited(
        uint256 indexed operatorId, uint256 keyIndex, uint256 fromBond, uint256 uncovered
    );
    /// @notice A reported penalty went through the loss waterfall.
    event PenaltyApplied(
        uint256 indexed operatorId, uint256 kind, uint256 amountWei, uint256 fromBond, uint256 uncovered
    );
    /// @notice Governance set the OperatorRewards contract (zero: no rewards roots accepted).
    event OperatorRewardsSet(address operatorRewards);
    /// @notice Governance set the reward factor of an operator type (bps).
    event TypeFactorSet(IOperatorRegistry.OperatorType indexed operatorType, uint256 factorBps);

    /// @notice Seconds an operator has to exit a requested validator.
    function exitDeadline() external view returns (uint256);
    /// @notice The contract the module hands the rewards root to.
    function operatorRewards() external view returns (address);
    /// @notice Reward factor F (bps) of an operator type (the oracle's `R = T·F·N/A − P + O`).
    function typeFactorBps(IOperatorRegistry.OperatorType operatorType) external view returns (uint256);
    /// @notice The four reward factors (bps) in `IOperatorRegistry.OperatorType` order.
    function typeFactorsBps() external view returns (uint256[4] memory);
    /// @notice Penalty (wei) the oracle reports per validator that missed its exit deadline.
    function missedExitPenalty() external view returns (uint256);
    /// @notice Upgrade step of a proxy from the version without reward factors and missed-exit
    /// penalty: sets their defaults. Once, governance only.
    function initializeV2() external;
}
