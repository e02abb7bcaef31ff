// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {ISanityChecker} from "../interfaces/ISanityChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Sanity bounds on oracle reports (after Lido's OracleReportSanityChecker).
/// Guarantees: a report whose CL APR exceeds `maxClAprBps`, whose CL gain alone raises the rate by
/// more than `maxPositiveRateChangePpm`, whose CL drop not explained by new slashings and by the
/// front-run pre-deposits the report charged to operator collateral (docs/adr/0008) exceeds
/// `maxUnexplainedClDropPpm`, whose appeared validators exceed the churn ceiling, whose cumulative
/// counts decrease, or whose finalization rate deviates from the computed one, reverts with an
/// error naming the bound and the values. EL rewards are pulled only up to the rate cap (the
/// rest stays in the vault). Limits change only through governance, within hard bounds.
contract SanityChecker is Governed, ISanityChecker {
    uint256 internal constant PPM = 1_000_000;
    uint256 internal constant BPS = 10_000;

    /// @custom:storage-location erc7201:claystack.storage.SanityChecker
    struct SanityStorage {
        Limits limits;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.SanityChecker")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant SANITY_STORAGE =
        0x01b81da23b8233ab6603ba68b3f27cdfe1cbe0814016c5171740a4f8092dba00;

    /// @notice Initializes the proxy with the DESIGN.md defaults.
    function initialize(address admin) external initializer {
        __Governed_init(admin, address(0));
        _setLimits(
            Limits({
                maxClAprBps: 1000,
                maxPositiveRateChangePpm: 750,
                maxUnexplainedClDropPpm: 3000,
                maxAppearedValidatorsPerReport: 1800,
                slashingAllowanceGwei: 1e9,
                maxFinalizationRateDeviationBps: 10
            })
        );
    }

    /// @notice Sets the limits. Governance only; each within its hard bound.
    function setLimits(Limits calldata l) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLimits(l);
    }

    /// @inheritdoc ISanityChecker
    function checkAccounting(
        uint256 preTotalPooledEther,
        uint256 preClValue,
        uint256 postClValue,
        uint256 timeElapsed,
        uint256 newlySlashed,
        uint256 frontRunLoss,
        uint256 elRewardsAvailable
    ) external view returns (uint256 elRewardsToPull) {
        Limits memory l = _s().limits;
        uint256 maxRewards = preTotalPooledEther * l.maxPositiveRateChangePpm / PPM;
        uint256 room;
        if (postClValue >= preClValue) {
            uint256 gain = postClValue - preClValue;
            if (gain != 0) {
                uint256 aprBps = (preClValue == 0 || timeElapsed == 0)
                    ? type(uint256).max
                    : Math.mulDiv(gain, 365 days * BPS, preClValue * timeElapsed);
                if (aprBps > l.maxClAprBps) revert ClAprExceeded(aprBps, l.maxClAprBps);
                if (gain > maxRewards) {
                    revert PositiveRateChangeExceeded(
                        Math.mulDiv(gain, PPM, preTotalPooledEther), l.maxPositiveRateChangePpm
                    );
                }
            }
            room = maxRewards - gain;
        } else {
            uint256 drop = preClValue - postClValue;
            // slashings, and front-run pre-deposits the report charged to operator collateral
            uint256 explained = newlySlashed * uint256(l.slashingAllowanceGwei) * 1 gwei + frontRunLoss;
            uint256 unexplained = drop > explained ? drop - explained : 0;
            if (unexplained * PPM > uint256(l.maxUnexplainedClDropPpm) * preClValue) {
                revert UnexplainedClDropExceeded(
                    Math.mulDiv(unexplained, PPM, preClValue), l.maxUnexplainedClDropPpm
                );
            }
            // EL rewards may make good a CL loss, and then add at most the cap
            room = maxRewards + drop;
        }
        elRewardsToPull = Math.min(elRewardsAvailable, room);
    }

    /// @inheritdoc ISanityChecker
    function checkValidatorCounts(ValidatorCounts calldata previous, ValidatorCounts calldata reported)
        external
        view
    {
        if (reported.deposited < previous.deposited) {
            revert ValidatorCountDecreased("deposited", reported.deposited, previous.deposited);
        }
        if (reported.exited < previous.exited) {
            revert ValidatorCountDecreased("exited", reported.exited, previous.exited);
        }
        if (reported.slashed < previous.slashed) {
            revert ValidatorCountDecreased("slashed", reported.slashed, previous.slashed);
        }
        uint256 activePlusExited = uint256(reported.active) + reported.exited;
        if (activePlusExited > reported.deposited || reported.slashed > reported.deposited) {
            revert ValidatorCountsInconsistent(reported.deposited, activePlusExited, reported.slashed);
        }
        uint256 appeared = reported.deposited - previous.deposited;
        uint256 maxAppeared = _s().limits.maxAppearedValidatorsPerReport;
        if (appeared > maxAppeared) revert AppearedValidatorsExceeded(appeared, maxAppeared);
    }

    /// @inheritdoc ISanityChecker
    function checkFinalizationRate(uint256 reported, uint256 actual) external view {
        uint256 maxDev = _s().limits.maxFinalizationRateDeviationBps;
        uint256 diff = reported > actual ? reported - actual : actual - reported;
        if (diff * BPS > actual * maxDev) revert FinalizationRateDeviationExceeded(reported, actual, maxDev);
    }

    /// @inheritdoc ISanityChecker
    function limits() external view returns (Limits memory) {
        return _s().limits;
    }

    function _setLimits(Limits memory l) internal {
        _checkBounds("maxClAprBps", l.maxClAprBps, 100, 5000);
        _checkBounds("maxPositiveRateChangePpm", l.maxPositiveRateChangePpm, 1, 10_000);
        _checkBounds("maxUnexplainedClDropPpm", l.maxUnexplainedClDropPpm, 0, 100_000);
        _checkBounds("maxAppearedValidatorsPerReport", l.maxAppearedValidatorsPerReport, 1, 100_000);
        _checkBounds("slashingAllowanceGwei", l.slashingAllowanceGwei, 0, 32e9);
        _checkBounds("maxFinalizationRateDeviationBps", l.maxFinalizationRateDeviationBps, 0, 500);
        _s().limits = l;
        emit LimitsUpdated(l);
    }

    function _s() private pure returns (SanityStorage storage $) {
        assembly {
            $.slot := SANITY_STORAGE
        }
    }
}
