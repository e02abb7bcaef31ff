// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "./IOperatorRegistry.sol";

/// @notice Operator bonds held as csETH, the bond formula, and the loss waterfall entry point.
interface IBondManager {
    /// @notice Governance parameters of the bond formula (ETH amounts in wei, score in bps).
    struct BondParams {
        /// bond of a Home operator's first key (default 2.0 ETH)
        uint96 homeFirstKey;
        /// bond of each further Home key (default 1.3 ETH)
        uint96 homeNextKey;
        /// bond of one Dvt validator, for the whole cluster (default 1.0 ETH)
        uint96 dvtPerValidator;
        /// lowest per-key bond a perfect score reaches (default 0.5 ETH)
        uint96 floor;
        /// score (bps) at and below which there is no discount (default 5,000)
        uint16 discountStartScore;
    }

    /// @notice Layers of the loss waterfall, in order.
    enum LossLayer {
        Bond,
        Vfp,
        Insurance,
        Holders
    }

    /// @notice How a reported loss was covered, in ETH (wei).
    struct LossCoverage {
        uint256 fromBond;
        uint256 fromVfp;
        uint256 fromInsurance;
        uint256 uncovered;
    }

    /// @notice The operator does not exist.
    error OperatorNotFound(uint256 operatorId);
    /// @notice `caller` is not the operator's manager.
    error NotOperatorManager(uint256 operatorId, address caller);
    /// @notice A zero amount was passed.
    error ZeroAmount();
    /// @notice Only `available` bond shares are claimable.
    error ClaimExceedsExcess(uint256 operatorId, uint256 requested, uint256 available);
    /// @notice Settled exits must advance within `(settled, exited]`.
    error SettlementOutOfRange(uint256 operatorId, uint256 count, uint256 settled, uint256 exited);
    /// @notice A layer returned more cover than it was asked for.
    error LayerOverpaid(LossLayer layer, uint256 paid, uint256 asked);
    /// @notice Every front-run key of the operator was already charged.
    error NoUnchargedFrontRun(uint256 operatorId, uint256 frontRun, uint256 charged);
    /// @notice The extra-data chain of the report for `refSlot` is pending and a later chunk may
    /// still charge the operator, so its manager can move neither excess bond
    /// (`BondManager.claimExcess`) nor VFP backing (`VfpPool.releaseFunding`) until it lands or
    /// its frame ends (docs/adr/0008).
    error BondHeldForExtraData(uint256 operatorId, uint256 refSlot);

    /// @notice `from` added `shares` csETH (worth `etherValue`) to the bond of `operatorId`.
    event BondDeposited(uint256 indexed operatorId, address indexed from, uint256 shares, uint256 etherValue);
    /// @notice Excess bond was paid to the operator's reward address.
    event BondClaimed(uint256 indexed operatorId, address indexed to, uint256 shares, uint256 etherValue);
    /// @notice A reported penalty burned `shares` of the bond, covering `etherCovered` of `etherRequested`.
    event BondPenalized(
        uint256 indexed operatorId, uint256 etherRequested, uint256 etherCovered, uint256 shares
    );
    /// @notice Exits up to `settledExits` had their final report; their bond is released.
    event ExitsSettled(uint256 indexed operatorId, uint256 settledExits);
    /// @notice One waterfall layer paid `amount` ETH of a loss of `operatorId`.
    event LossLayerApplied(uint256 indexed operatorId, LossLayer indexed layer, uint256 amount);
    /// @notice A reported loss went through the whole waterfall.
    event LossCovered(
        uint256 indexed operatorId,
        uint256 loss,
        uint256 fromBond,
        uint256 fromVfp,
        uint256 fromInsurance,
        uint256 uncovered
    );
    /// @notice The bond formula changed.
    event BondParamsSet(BondParams params);
    /// @notice The next layers of the waterfall changed.
    event LayersSet(address vfpPool, address insuranceFund);
    /// @notice Upgrade step: the operator's front-run keys charged by the earlier version were
    /// recorded as charged (`BondManager.initializeV2`).
    event FrontRunChargesMigrated(uint256 indexed operatorId, uint256 frontRunsCharged);

    function depositBond(uint256 operatorId) external payable returns (uint256 shares);
    function depositBondShares(uint256 operatorId, uint256 shares) external;
    function claimExcess(uint256 operatorId, uint256 shares) external;
    function settleExits(uint256 operatorId, uint256 settledExits) external;
    function penalize(uint256 operatorId, uint256 amountEth) external returns (uint256 uncovered);
    function coverLoss(uint256 operatorId, uint256 amountEth) external returns (LossCoverage memory coverage);
    function coverLossAtRate(uint256 operatorId, uint256 amountEth, uint256 shareRate)
        external
        returns (LossCoverage memory coverage);
    function chargeFrontRun(uint256 operatorId, uint256 shareRate)
        external
        returns (LossCoverage memory coverage);
    function frontRunsCharged(uint256 operatorId) external view returns (uint256);
    /// @notice Upgrade step from the version without `frontRunsCharged`: records the front-runs it
    /// charged. Once, governance only.
    function initializeV2(uint256[] calldata operatorIds) external;

    function requiredBondFor(IOperatorRegistry.OperatorType operatorType, uint256 keys, uint256 score)
        external
        view
        returns (uint256);
    function keysCoveredBy(IOperatorRegistry.OperatorType operatorType, uint256 bondEth, uint256 score)
        external
        view
        returns (uint256);
    function requiredBond(uint256 operatorId) external view returns (uint256);
    function bondShares(uint256 operatorId) external view returns (uint256);
    function bondValue(uint256 operatorId) external view returns (uint256);
    function totalBondValue(uint256 operatorId) external view returns (uint256);
    function bondedKeys(uint256 operatorId) external view returns (uint256);
    function settledExits(uint256 operatorId) external view returns (uint256);
    function freeBondedCapacity(uint256 operatorId) external view returns (uint256);
    function lockedCollateral(uint256 operatorId) external view returns (uint256);
    function claimableShares(uint256 operatorId) external view returns (uint256);
    function requiredBondPerMember(uint256 operatorId) external view returns (uint256);
    function bondParams() external view returns (BondParams memory);
}
