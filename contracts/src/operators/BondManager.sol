// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {GuardianPausable} from "../governance/Governed.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {ICoverablePool} from "../interfaces/ICoverablePool.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IVfpPool} from "../interfaces/IVfpPool.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Operator bonds, held as csETH so they earn the staking yield, and the single entry point
/// of the loss waterfall.
///
/// Bond formula (ETH): with `d(base) = base` for `score <= discountStartScore`, else
/// `d(base) = base - (base - floor) * (score - discountStartScore) / (10_000 - discountStartScore)`
/// (the discount rounds down, so the bond rounds up; a score of 10,000 gives `floor`):
/// Home `d(homeFirstKey) + (keys - 1) * d(homeNextKey)`, Dvt `keys * d(dvtPerValidator)` for the
/// whole cluster (each member's part is the ceiling of that over the member count), Professional
/// and Kyc 0. Keys counted ("bonded keys") are the pre-deposited ones whose exit has not been
/// settled by a final report.
///
/// Guarantees:
/// - A bond shrinks only by (a) a penalty or loss reported through REPORTER_ROLE (the oracle report
///   contract), burned into the pool, or (b) its manager claiming the excess over the requirement,
///   paid to the operator's reward address, never while the pool reports a pending extra-data
///   chain (its later chunks may still charge the bond, docs/adr/0008). Nobody else can move bond
///   csETH.
/// - The bond of keys that exited stays locked until the oracle settles their final report; nothing
///   is claimable while the operator is stopped; VFP backing counts towards the requirement but the
///   own bond never drops below the VFP pool's match ratio (the operator keeps its first loss).
/// - Loss waterfall ({coverLoss}): operator bond -> the VFP backing of that operator -> insurance fund
///   -> all holders; a layer is only asked for what the previous layers did not cover; it never
///   reverts on a loss larger than the cover (the remainder is returned), so it cannot block a report.
/// - Parameters are set only by DEFAULT_ADMIN_ROLE (the timelock) within hard bounds; the guardian can
///   only pause claims (never deposits or penalties). Claims are non-reentrant.
contract BondManager is GuardianPausable, ReentrancyGuardTransient, IBondManager {
    /// @notice Role of the oracle report contract (penalties, losses, exit settlement).
    bytes32 public constant REPORTER_ROLE = keccak256("claystack.role.reporter");
    /// @notice Own bond locked per pre-deposit in flight (front-run protection, ADR 0007).
    uint256 public constant PRE_DEPOSIT_COLLATERAL = 1 ether;
    /// @notice Highest performance score (bps).
    uint256 public constant MAX_SCORE = 10_000;
    uint256 internal constant BPS = 10_000;
    /// @notice Precision of share rates (as the pool's `shareRate`).
    uint256 public constant RATE_PRECISION = 1e27;

    /// @notice Hard bounds of the bond parameters.
    uint256 public constant MIN_FLOOR = 0.1 ether;
    uint256 public constant MAX_FLOOR = 1 ether;
    uint256 public constant MIN_KEY_BOND = 1 ether;
    uint256 public constant MAX_KEY_BOND = 32 ether;
    uint256 public constant MAX_DISCOUNT_START = 9000;

    /// @custom:storage-location erc7201:claystack.storage.BondManager
    struct BondStorage {
        ICoverablePool pool;
        IOperatorRegistry registry;
        IVfpPool vfpPool;
        IInsuranceFund insuranceFund;
        BondParams params;
        uint256 totalBondShares;
        mapping(uint256 operatorId => uint256) shares;
        mapping(uint256 operatorId => uint256) settledExits;
        // appended (docs/adr/0008): front-run keys whose 1 ETH was charged
        mapping(uint256 operatorId => uint256) frontRunsCharged;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.BondManager")) - 1)) & ~bytes32(uint256(0xff))
    // computed with `cast index-erc7201 claystack.storage.BondManager`, checked by a unit test
    bytes32 private constant BOND_STORAGE =
        0x84b0017aa12be520c46dce299ce8eb7ab8b1808deba3d01a99b992fb068b5000;

    /// @notice Initializes the proxy with the default bond formula (DESIGN.md). A fresh proxy starts
    /// at initializer version 2, so {initializeV2} (for upgraded proxies) cannot run on it.
    function initialize(
        address admin,
        address guardian,
        address pool,
        address registry,
        address vfpPool,
        address insuranceFund
    ) external reinitializer(2) {
        __Governed_init(admin, guardian);
        if (pool == address(0) || registry == address(0)) revert ZeroAddress();
        BondStorage storage $ = _s();
        $.pool = ICoverablePool(pool);
        $.registry = IOperatorRegistry(registry);
        _setLayers($, vfpPool, insuranceFund);
        _setBondParams(
            $,
            BondParams({
                homeFirstKey: 2 ether,
                homeNextKey: 1.3 ether,
                dvtPerValidator: 1 ether,
                floor: 0.5 ether,
                discountStartScore: 5000
            })
        );
    }

    /// @notice Upgrade step for a proxy initialized by a version without `frontRunsCharged`
    /// (before docs/adr/0008): that version charged every front-run key through `coverLoss` in the
    /// report that flagged it, so each operator's charged count is its registry front-run count.
    /// Sets it for `operatorIds` (those with front-run keys; governance lists them from the
    /// registry), which releases the collateral the new lock formula would otherwise keep for
    /// keys already charged. Runs once (initializer version 2), by governance, normally as the
    /// call of `upgradeToAndCall`; the list's length is the caller's to bound (about 30k gas per id).
    /// Safe whenever no report is being applied: the module charges a front-run in the same call
    /// that flags it, so outside a report `frontRunsCharged` already equals the registry's count
    /// for every front-run flagged since the upgrade.
    function initializeV2(uint256[] calldata operatorIds)
        external
        reinitializer(2)
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        BondStorage storage $ = _s();
        for (uint256 i; i < operatorIds.length; ++i) {
            uint256 id = operatorIds[i];
            uint256 frontRun = $.registry.getOperator(id).frontRun;
            if ($.frontRunsCharged[id] < frontRun) {
                $.frontRunsCharged[id] = frontRun;
                emit FrontRunChargesMigrated(id, frontRun);
            }
        }
    }

    // ================================================================== bond in / out

    /// @notice Adds `msg.value` ETH, staked into csETH, to the bond of `operatorId`. Anyone may add.
    function depositBond(uint256 operatorId) external payable nonReentrant returns (uint256 shares) {
        if (msg.value == 0) revert ZeroAmount();
        BondStorage storage $ = _s();
        _requireOperator($, operatorId);
        shares = $.pool.depositFor{value: msg.value}(address(this));
        if (shares == 0) revert ZeroAmount();
        $.shares[operatorId] += shares;
        $.totalBondShares += shares;
        emit BondDeposited(operatorId, msg.sender, shares, msg.value);
    }

    /// @notice Adds `shares` csETH from the caller to the bond of `operatorId`. Anyone may add.
    function depositBondShares(uint256 operatorId, uint256 shares) external nonReentrant {
        if (shares == 0) revert ZeroAmount();
        BondStorage storage $ = _s();
        _requireOperator($, operatorId);
        $.shares[operatorId] += shares;
        $.totalBondShares += shares;
        emit BondDeposited(operatorId, msg.sender, shares, $.pool.convertToAssets(shares));
        SafeERC20.safeTransferFrom(IERC20(address($.pool)), msg.sender, address(this), shares);
    }

    /// @notice Pays `shares` of the bond's excess over the requirement to the operator's reward
    /// address. Manager only; not while the operator is stopped or the contract paused, nor while
    /// an oracle report's extra-data chain is pending (a later chunk may still charge the bond).
    function claimExcess(uint256 operatorId, uint256 shares) external nonReentrant whenNotPaused {
        if (shares == 0) revert ZeroAmount();
        BondStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        if (msg.sender != op.manager) revert NotOperatorManager(operatorId, msg.sender);
        uint256 pending = $.pool.pendingExtraData();
        if (pending != 0) revert BondHeldForExtraData(operatorId, pending);
        uint256 available = op.stopped ? 0 : _claimable($, operatorId, op);
        if (shares > available) revert ClaimExceedsExcess(operatorId, shares, available);
        $.shares[operatorId] -= shares;
        $.totalBondShares -= shares;
        emit BondClaimed(operatorId, op.rewardAddress, shares, $.pool.convertToAssets(shares));
        SafeERC20.safeTransfer(IERC20(address($.pool)), op.rewardAddress, shares);
    }

    // ================================================================== oracle report

    /// @notice Releases the bond of exited keys below `count`: their final report arrived. Oracle
    /// report only.
    function settleExits(uint256 operatorId, uint256 count) external onlyRole(REPORTER_ROLE) {
        BondStorage storage $ = _s();
        uint256 exited = $.registry.getOperator(operatorId).exited;
        uint256 settled = $.settledExits[operatorId];
        if (count <= settled || count > exited) {
            revert SettlementOutOfRange(operatorId, count, settled, exited);
        }
        $.settledExits[operatorId] = count;
        emit ExitsSettled(operatorId, count);
    }

    /// @notice Burns up to `amountEth` worth of the operator's own bond for a reported penalty;
    /// returns what the bond did not cover. Oracle report only; see {coverLoss} for when to call it.
    function penalize(uint256 operatorId, uint256 amountEth)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (uint256 uncovered)
    {
        BondStorage storage $ = _s();
        _requireOperator($, operatorId);
        if (amountEth == 0) return 0;
        uint256 lossShares = _sharesUp($.pool, amountEth);
        uint256 burned = _burnBond($, operatorId, amountEth, lossShares);
        uncovered = amountEth - _valueOf(burned, amountEth, lossShares);
    }

    /// @notice The loss waterfall for a loss of `amountEth` attributed to `operatorId`: its bond,
    /// then the VFP pool's backing of it, then the insurance fund; the rest is borne by all holders
    /// (it stays in the pool's reported loss). One event per layer. Oracle report only.
    /// @dev The loss is converted once into csETH shares at the current rate (rounded up) and every
    /// layer burns shares out of that one amount, so the layers' burns do not move each other's
    /// price. Call it before the pool applies the report's balance drop: burning `L * S / T` shares
    /// then leaves the rate exactly where it was (`(T - L) / (S - L * S / T) = T / S`).
    function coverLoss(uint256 operatorId, uint256 amountEth)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (LossCoverage memory c)
    {
        BondStorage storage $ = _s();
        _requireOperator($, operatorId);
        return _coverLoss($, operatorId, amountEth, amountEth == 0 ? 0 : _sharesUp($.pool, amountEth));
    }

    /// @notice {coverLoss} with the loss converted at `shareRate` (ETH per share, 1e27 precision,
    /// rounded up to whole shares) instead of the current rate: the OperatorsModule passes the rate
    /// before the report for every chunk, so several losses of one report are all converted at the
    /// same rate and, once applied, leave the holders at least at that rate. Applied after the pool
    /// booked a report with rewards, the shares are worth more than `amountEth` (up to the rate
    /// cap); events state `amountEth`, the pool's `SharesBurnedForCover` the value burned.
    function coverLossAtRate(uint256 operatorId, uint256 amountEth, uint256 shareRate)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (LossCoverage memory c)
    {
        if (shareRate == 0) revert ZeroAmount();
        BondStorage storage $ = _s();
        _requireOperator($, operatorId);
        return _coverLoss(
            $, operatorId, amountEth, Math.mulDiv(amountEth, RATE_PRECISION, shareRate, Math.Rounding.Ceil)
        );
    }

    /// @notice Charges the operator's next uncharged front-run key its 1 ETH pre-deposit through the
    /// loss waterfall: at the current rate (`shareRate == 0`, before the report's accounting) or at
    /// `shareRate` (1e27, the rate before the report, for a chunk applied after it). The key's
    /// collateral stays locked until this ran (docs/adr/0008). Oracle report only.
    function chargeFrontRun(uint256 operatorId, uint256 shareRate)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (LossCoverage memory c)
    {
        BondStorage storage $ = _s();
        // the registry reverts OperatorNotFound(operatorId) for an unknown operator
        uint256 frontRun = $.registry.getOperator(operatorId).frontRun;
        uint256 charged = $.frontRunsCharged[operatorId];
        if (charged >= frontRun) revert NoUnchargedFrontRun(operatorId, frontRun, charged);
        $.frontRunsCharged[operatorId] = charged + 1;
        uint256 shares = shareRate == 0
            ? _sharesUp($.pool, PRE_DEPOSIT_COLLATERAL)
            : Math.mulDiv(PRE_DEPOSIT_COLLATERAL, RATE_PRECISION, shareRate, Math.Rounding.Ceil);
        return _coverLoss($, operatorId, PRE_DEPOSIT_COLLATERAL, shares);
    }

    function _coverLoss(BondStorage storage $, uint256 operatorId, uint256 amountEth, uint256 lossShares)
        internal
        returns (LossCoverage memory c)
    {
        uint256 remaining = lossShares;
        uint256 burned;

        if (remaining != 0) {
            burned = _burnBond($, operatorId, amountEth, remaining);
            remaining -= burned;
        }
        c.fromBond = _valueOf(burned, amountEth, lossShares);
        emit LossLayerApplied(operatorId, LossLayer.Bond, c.fromBond);

        if (remaining != 0) {
            uint256 paid = $.vfpPool.absorbLoss(operatorId, remaining);
            if (paid > remaining) revert LayerOverpaid(LossLayer.Vfp, paid, remaining);
            remaining -= paid;
            burned += paid;
        }
        c.fromVfp = _valueOf(burned, amountEth, lossShares) - c.fromBond;
        emit LossLayerApplied(operatorId, LossLayer.Vfp, c.fromVfp);

        if (remaining != 0) {
            uint256 paid = $.insuranceFund.cover(remaining);
            if (paid > remaining) revert LayerOverpaid(LossLayer.Insurance, paid, remaining);
            remaining -= paid;
            burned += paid;
        }
        uint256 covered = _valueOf(burned, amountEth, lossShares);
        c.fromInsurance = covered - c.fromBond - c.fromVfp;
        emit LossLayerApplied(operatorId, LossLayer.Insurance, c.fromInsurance);

        c.uncovered = amountEth - covered;
        emit LossLayerApplied(operatorId, LossLayer.Holders, c.uncovered);
        emit LossCovered(operatorId, amountEth, c.fromBond, c.fromVfp, c.fromInsurance, c.uncovered);
    }

    // ================================================================== governance

    /// @notice Sets the bond formula within the hard bounds.
    function setBondParams(BondParams calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setBondParams(_s(), p);
    }

    /// @notice Sets the VFP pool and the insurance fund (the waterfall's next layers).
    function setLayers(address vfpPool, address insuranceFund) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLayers(_s(), vfpPool, insuranceFund);
    }

    // ================================================================== views

    /// @notice Bond (ETH) required for `keys` bonded keys of `operatorType` at `score` (bps, values
    /// above 10,000 count as 10,000).
    function requiredBondFor(IOperatorRegistry.OperatorType operatorType, uint256 keys, uint256 score)
        public
        view
        returns (uint256)
    {
        if (keys == 0) return 0;
        BondParams memory p = _s().params;
        if (operatorType == IOperatorRegistry.OperatorType.Home) {
            return _discounted(p, p.homeFirstKey, score) + (keys - 1) * _discounted(p, p.homeNextKey, score);
        }
        if (operatorType == IOperatorRegistry.OperatorType.Dvt) {
            return keys * _discounted(p, p.dvtPerValidator, score);
        }
        return 0;
    }

    /// @notice How many bonded keys `bondEth` covers for `operatorType` at `score`: the largest `k`
    /// with `requiredBondFor(k) <= bondEth` (unbounded, `type(uint256).max`, for Professional / Kyc).
    function keysCoveredBy(IOperatorRegistry.OperatorType operatorType, uint256 bondEth, uint256 score)
        public
        view
        returns (uint256)
    {
        BondParams memory p = _s().params;
        if (operatorType == IOperatorRegistry.OperatorType.Home) {
            uint256 first = _discounted(p, p.homeFirstKey, score);
            if (bondEth < first) return 0;
            return 1 + (bondEth - first) / _discounted(p, p.homeNextKey, score);
        }
        if (operatorType == IOperatorRegistry.OperatorType.Dvt) {
            return bondEth / _discounted(p, p.dvtPerValidator, score);
        }
        return type(uint256).max;
    }

    /// @notice Bond (ETH) the operator needs now.
    function requiredBond(uint256 operatorId) public view returns (uint256) {
        BondStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        return requiredBondFor(op.operatorType, _bondedKeys($, operatorId, op), op.score);
    }

    /// @notice For a Dvt cluster, each member's part of the required bond (rounded up).
    function requiredBondPerMember(uint256 operatorId) external view returns (uint256) {
        (address[] memory members,,) = _s().registry.dvtCluster(operatorId);
        uint256 required = requiredBond(operatorId);
        return (required + members.length - 1) / members.length;
    }

    /// @notice csETH shares in the operator's own bond.
    function bondShares(uint256 operatorId) external view returns (uint256) {
        return _s().shares[operatorId];
    }

    /// @notice ETH value of the operator's own bond.
    function bondValue(uint256 operatorId) public view returns (uint256) {
        BondStorage storage $ = _s();
        return $.pool.convertToAssets($.shares[operatorId]);
    }

    /// @notice ETH value of the own bond plus the VFP pool's backing of the operator.
    function totalBondValue(uint256 operatorId) public view returns (uint256) {
        return bondValue(operatorId) + _s().vfpPool.backingValue(operatorId);
    }

    /// @notice Keys the bond must cover: pre-deposited minus exits settled by a final report.
    function bondedKeys(uint256 operatorId) external view returns (uint256) {
        BondStorage storage $ = _s();
        return _bondedKeys($, operatorId, $.registry.getOperator(operatorId));
    }

    /// @notice Exits whose final report released their bond.
    function settledExits(uint256 operatorId) external view returns (uint256) {
        return _s().settledExits[operatorId];
    }

    /// @notice How many more keys the current bond (own + VFP backing) covers; `type(uint256).max`
    /// for Professional / Kyc operators. Read by the registry and the allocator.
    function freeBondedCapacity(uint256 operatorId) external view returns (uint256) {
        BondStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        uint256 covered = keysCoveredBy(op.operatorType, totalBondValue(operatorId), op.score);
        uint256 bonded = _bondedKeys($, operatorId, op);
        uint256 free = covered > bonded ? covered - bonded : 0;
        // pre-deposit collateral (ADR 0007): 1 ETH of own bond per pre-deposit in flight, every type
        uint256 own = bondValue(operatorId);
        uint256 locked = _lockedCollateral($, operatorId, op);
        uint256 collateralKeys = own > locked ? (own - locked) / PRE_DEPOSIT_COLLATERAL : 0;
        return free < collateralKeys ? free : collateralKeys;
    }

    /// @notice Own bond (ETH) locked as collateral of the operator's unconfirmed pre-deposits.
    function lockedCollateral(uint256 operatorId) external view returns (uint256) {
        BondStorage storage $ = _s();
        return _lockedCollateral($, operatorId, $.registry.getOperator(operatorId));
    }

    /// @dev Pre-deposits in flight (pre-deposited, not confirmed) plus front-run keys whose 1 ETH was
    /// not charged yet: a front-run key's collateral is released by its charge, not by the cursor
    /// passing it. (Between `markFrontRun` and the charge, inside one report, an unconfirmed
    /// front-run key counts twice: conservative.)
    function _lockedCollateral(
        BondStorage storage $,
        uint256 operatorId,
        IOperatorRegistry.OperatorInfo memory op
    ) internal view returns (uint256) {
        // confirmed <= preDeposited (registry invariant); charged <= frontRun (chargeFrontRun)
        uint256 uncharged = op.frontRun - $.frontRunsCharged[operatorId];
        return (uint256(op.preDeposited - op.confirmed) + uncharged) * PRE_DEPOSIT_COLLATERAL;
    }

    /// @notice csETH shares of the own bond the manager can claim now (0 while stopped).
    function claimableShares(uint256 operatorId) external view returns (uint256) {
        BondStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        return op.stopped ? 0 : _claimable($, operatorId, op);
    }

    /// @notice Front-run keys of the operator whose 1 ETH was charged ({chargeFrontRun}).
    function frontRunsCharged(uint256 operatorId) external view returns (uint256) {
        return _s().frontRunsCharged[operatorId];
    }

    /// @notice Sum of all operators' bond shares.
    function totalBondShares() external view returns (uint256) {
        return _s().totalBondShares;
    }

    /// @notice The bond formula.
    function bondParams() external view returns (BondParams memory) {
        return _s().params;
    }

    /// @notice The pool, registry, VFP pool and insurance fund.
    function contracts()
        external
        view
        returns (address pool, address registry, address vfpPool, address fund)
    {
        BondStorage storage $ = _s();
        return (address($.pool), address($.registry), address($.vfpPool), address($.insuranceFund));
    }

    // ================================================================== internals

    /// @dev Burns up to `shares` of the operator's own bond; returns the shares burned.
    function _burnBond(BondStorage storage $, uint256 operatorId, uint256 amountEth, uint256 shares)
        internal
        returns (uint256 burned)
    {
        uint256 own = $.shares[operatorId];
        burned = shares < own ? shares : own;
        if (burned == 0) return 0;
        // safe: burned <= own and burned <= totalBondShares (the sum of all own shares)
        unchecked {
            $.shares[operatorId] = own - burned;
            $.totalBondShares -= burned;
        }
        emit BondPenalized(operatorId, amountEth, _valueOf(burned, amountEth, shares), burned);
        $.pool.burnSharesForCover(burned);
    }

    /// @dev ETH value of `burned` out of the `lossShares` that stand for `amountEth` (rounded down;
    /// exactly `amountEth` when the whole loss is burned).
    function _valueOf(uint256 burned, uint256 amountEth, uint256 lossShares) internal pure returns (uint256) {
        if (burned == 0) return 0;
        if (burned == lossShares) return amountEth;
        return Math.mulDiv(burned, amountEth, lossShares);
    }

    /// @dev Excess over the requirement (VFP backing counts towards it), but the own bond never
    /// drops below what the VFP pool's match cap demands: backing <= own * maxMatchBps / 10,000, so
    /// the operator cannot swap its own first-loss capital for the VFP's.
    function _claimable(BondStorage storage $, uint256 operatorId, IOperatorRegistry.OperatorInfo memory op)
        internal
        view
        returns (uint256)
    {
        uint256 required = requiredBondFor(op.operatorType, _bondedKeys($, operatorId, op), op.score);
        uint256 own = bondValue(operatorId);
        uint256 backing = $.vfpPool.backingValue(operatorId);
        uint256 total = own + backing;
        if (total <= required) return 0;
        uint256 excess = total - required;
        if (backing != 0) {
            uint256 matchBps = $.vfpPool.params().maxMatchBps;
            uint256 minOwn = matchBps == 0 ? own : Math.mulDiv(backing, BPS, matchBps, Math.Rounding.Ceil);
            if (own <= minOwn) return 0;
            if (excess > own - minOwn) excess = own - minOwn;
        } else if (excess > own) {
            excess = own;
        }
        // the pre-deposit collateral stays (ADR 0007)
        uint256 locked = _lockedCollateral($, operatorId, op);
        uint256 unlocked = own > locked ? own - locked : 0;
        if (excess > unlocked) excess = unlocked;
        uint256 shares = $.pool.convertToShares(excess);
        uint256 ownShares = $.shares[operatorId];
        return shares > ownShares ? ownShares : shares;
    }

    function _bondedKeys(BondStorage storage $, uint256 operatorId, IOperatorRegistry.OperatorInfo memory op)
        internal
        view
        returns (uint256)
    {
        return op.preDeposited - $.settledExits[operatorId];
    }

    function _discounted(BondParams memory p, uint256 base, uint256 score) internal pure returns (uint256) {
        uint256 start = p.discountStartScore;
        if (score <= start) return base;
        if (score > MAX_SCORE) score = MAX_SCORE;
        return base - (base - p.floor) * (score - start) / (MAX_SCORE - start);
    }

    /// @dev Shares worth at least `amountEth` (the pool's conversion rounds down; add one share
    /// when it fell short), so a penalty never burns less than its value.
    function _sharesUp(ICoverablePool pool, uint256 amountEth) internal view returns (uint256 shares) {
        shares = pool.convertToShares(amountEth);
        if (pool.convertToAssets(shares) < amountEth) ++shares;
    }

    function _requireOperator(BondStorage storage $, uint256 operatorId) internal view {
        if (operatorId >= $.registry.operatorCount()) revert OperatorNotFound(operatorId);
    }

    function _setLayers(BondStorage storage $, address vfpPool, address insuranceFund) internal {
        if (vfpPool == address(0) || insuranceFund == address(0)) revert ZeroAddress();
        $.vfpPool = IVfpPool(vfpPool);
        $.insuranceFund = IInsuranceFund(insuranceFund);
        emit LayersSet(vfpPool, insuranceFund);
    }

    function _setBondParams(BondStorage storage $, BondParams memory p) internal {
        _checkBounds("floor", p.floor, MIN_FLOOR, MAX_FLOOR);
        _checkBounds("homeFirstKey", p.homeFirstKey, MIN_KEY_BOND, MAX_KEY_BOND);
        _checkBounds("homeNextKey", p.homeNextKey, MIN_KEY_BOND, MAX_KEY_BOND);
        _checkBounds("dvtPerValidator", p.dvtPerValidator, MIN_KEY_BOND, MAX_KEY_BOND);
        _checkBounds("discountStartScore", p.discountStartScore, 0, MAX_DISCOUNT_START);
        $.params = p;
        emit BondParamsSet(p);
    }

    function _s() private pure returns (BondStorage storage $) {
        assembly {
            $.slot := BOND_STORAGE
        }
    }
}
