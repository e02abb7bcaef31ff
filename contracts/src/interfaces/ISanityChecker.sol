// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Bounds an oracle report must satisfy; each violation reverts with an error naming the
/// bound and the values.
interface ISanityChecker {
    /// @notice Governance-set limits (hard bounds in the implementation).
    struct Limits {
        uint16 maxClAprBps; // CL APR ceiling, basis points per year (default 1,000 = 10 %)
        uint32 maxPositiveRateChangePpm; // rate increase per report, parts per million (750 = 0.075 %)
        uint32 maxUnexplainedClDropPpm; // CL drop per report not explained by slashing (3,000 = 0.3 %)
        uint32 maxAppearedValidatorsPerReport; // activation churn ceiling per report
        uint64 slashingAllowanceGwei; // CL drop explained by one newly slashed validator
        uint16 maxFinalizationRateDeviationBps; // reported vs computed finalization share rate
    }

    /// @notice Validator counts carried by a report (cumulative, all protocol validators).
    struct ValidatorCounts {
        uint64 deposited;
        uint64 active;
        uint64 exited;
        uint64 slashed;
    }

    error ClAprExceeded(uint256 aprBps, uint256 maxAprBps);
    error PositiveRateChangeExceeded(uint256 changePpm, uint256 maxPpm);
    error UnexplainedClDropExceeded(uint256 dropPpm, uint256 maxPpm);
    error AppearedValidatorsExceeded(uint256 appeared, uint256 maxAppeared);
    error ValidatorCountDecreased(bytes32 count, uint256 reported, uint256 previous);
    error ValidatorCountsInconsistent(uint256 deposited, uint256 activePlusExited, uint256 slashed);
    error FinalizationRateDeviationExceeded(uint256 reported, uint256 actual, uint256 maxDeviationBps);

    event LimitsUpdated(Limits limits);

    /// @notice Checks the CL balance change and returns how much of `elRewardsAvailable` the pool
    /// may pull without the rate rising more than the cap (the rest waits for the next report).
    /// A CL drop is explained up to `newlySlashed` × the slashing allowance plus `frontRunLoss` (wei
    /// of front-run pre-deposits the same report charged to operator collateral).
    function checkAccounting(
        uint256 preTotalPooledEther,
        uint256 preClValue,
        uint256 postClValue,
        uint256 timeElapsed,
        uint256 newlySlashed,
        uint256 frontRunLoss,
        uint256 elRewardsAvailable
    ) external view returns (uint256 elRewardsToPull);

    /// @notice Checks validator counts against the previous report's.
    function checkValidatorCounts(ValidatorCounts calldata previous, ValidatorCounts calldata reported)
        external
        view;

    /// @notice Checks the oracle's finalization share rate against the rate the pool computed.
    function checkFinalizationRate(uint256 reported, uint256 actual) external view;

    function limits() external view returns (Limits memory);
}
