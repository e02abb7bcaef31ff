// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {GuardianPausable} from "../governance/Governed.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {ICoverablePool} from "../interfaces/ICoverablePool.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IOperatorRewards} from "../interfaces/IOperatorRewards.sol";
import {IVfpPool} from "../interfaces/IVfpPool.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @notice Validator Funding Provider pool. VFPs deposit ETH (staked into csETH) or csETH and
/// receive VEF shares (this ERC-20); the pool backs part of the bond of Home and Dvt operators whose
/// performance score clears a threshold, earns a share of their rewards, and absorbs their losses
/// after their own bond and before the insurance fund.
///
/// Guarantees:
/// - Share math: `vef = cs * (totalSupply + 1e3) / (totalAssets + 1)` and
///   `cs = vef * (totalAssets + 1) / (totalSupply + 1e3)`, both rounded down (in favour of the pool).
///   `totalAssets` is tracked, never read from the csETH balance, so donations change nothing; with
///   the virtual offset the first-depositor inflation attack costs the attacker more than it takes.
/// - `totalAllocated = sum of allocatedShares <= totalAssets`; backing of one operator is at most
///   `perOperatorCap` ETH and `maxMatchBps` of its own bond; all backing at most `totalCapBps` of the
///   assets. Only operators with score >= `scoreThresholdBps` get new backing.
/// - A loss of an operator is absorbed only by the BondManager's waterfall and only up to that
///   operator's backing (burned into the pool). Its manager cannot release the backing while the
///   pool reports a pending extra-data chain (docs/adr/0008), so a later chunk's penalty still
///   finds it.
/// - Withdrawals: request (VEF escrowed, still bearing losses) -> claim after `withdrawalDelay`, paid
///   in csETH at min(value at request, value at claim), from idle (unallocated) assets only.
/// - Rewards: the pool's leaf of the oracle's rewards tree (its `rewardShareBps` of funded operators'
///   rewards) is paid by OperatorRewards. The pool books exactly what OperatorRewards records as
///   paid to it (`OperatorRewards.claimed(pool)`, never the csETH balance), once, whoever sent the
///   claim: {claimRewards} claims and books, {syncRewards} books a claim sent to OperatorRewards
///   directly. Anyone may call both; a direct claim can delay the booking, never strand the shares.
/// - Parameters only by DEFAULT_ADMIN_ROLE (timelock) within hard bounds; the guardian pauses
///   deposits, requests, claims and new funding, never loss absorption. Token-moving paths are
///   non-reentrant.
contract VfpPool is ERC20Upgradeable, GuardianPausable, ReentrancyGuardTransient, IVfpPool {
    using SafeERC20 for IERC20;

    /// @notice Role of the operator-rewards distributor (pays the pool's share of rewards).
    bytes32 public constant REWARDS_ROLE = keccak256("claystack.role.rewards");
    /// @notice Virtual VEF shares of the inflation-attack defence (decimals offset 3).
    uint256 public constant VIRTUAL_SHARES = 1e3;
    /// @notice Virtual csETH assets of the inflation-attack defence.
    uint256 public constant VIRTUAL_ASSETS = 1;
    /// @notice Smallest deposit, in csETH shares.
    uint256 public constant MIN_DEPOSIT = 1e15;
    uint256 internal constant BPS = 10_000;
    /// @notice Hard bounds.
    uint256 public constant MAX_REWARD_SHARE_BPS = 5000;
    uint256 public constant MAX_TOTAL_CAP_BPS = 9500;
    uint256 public constant MAX_PER_OPERATOR_CAP = 1000 ether;
    uint256 public constant MIN_WITHDRAWAL_DELAY = 1 days;
    uint256 public constant MAX_WITHDRAWAL_DELAY = 30 days;

    /// @custom:storage-location erc7201:claystack.storage.VfpPool
    struct VfpStorage {
        ICoverablePool pool;
        IOperatorRegistry registry;
        IBondManager bondManager;
        VfpParams params;
        uint256 totalAssets;
        uint256 totalAllocated;
        uint256 nextRequestId;
        mapping(uint256 operatorId => uint256) allocated;
        mapping(uint256 requestId => WithdrawalRequest) requests;
        // appended (docs/adr/0005, rewards): the OperatorRewards contract whose payments to this
        // pool are booked, and per such contract the part of its payments already booked
        IOperatorRewards operatorRewards;
        mapping(address operatorRewards => uint256) rewardsBooked;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.VfpPool")) - 1)) & ~bytes32(uint256(0xff))
    // computed with `cast index-erc7201 claystack.storage.VfpPool`, checked by a unit test
    bytes32 private constant VFP_STORAGE = 0x29c276aaf98274dc54423ef7ec41854a1cbee317939b4570964546ba0666f500;

    /// @notice Initializes the proxy with the default parameters.
    function initialize(address admin, address guardian, address pool, address registry, address bondManager)
        external
        initializer
    {
        __ERC20_init("ClayStack Validator Funding", "VEF");
        __Governed_init(admin, guardian);
        if (pool == address(0) || registry == address(0) || bondManager == address(0)) revert ZeroAddress();
        VfpStorage storage $ = _s();
        $.pool = ICoverablePool(pool);
        $.registry = IOperatorRegistry(registry);
        $.bondManager = IBondManager(bondManager);
        $.nextRequestId = 1;
        _setParams(
            $,
            VfpParams({
                scoreThresholdBps: 7000,
                rewardShareBps: 1000,
                totalCapBps: 8000,
                maxMatchBps: 10_000,
                perOperatorCap: 32 ether,
                withdrawalDelay: 7 days
            })
        );
    }

    // ================================================================== VFP deposits and withdrawals

    /// @notice Stakes `msg.value` into csETH and mints VEF shares to `receiver`.
    function depositEth(address receiver) external payable whenNotPaused nonReentrant returns (uint256 vef) {
        if (msg.value == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        VfpStorage storage $ = _s();
        uint256 cs = $.pool.depositFor{value: msg.value}(address(this));
        vef = _mintVef($, receiver, cs);
    }

    /// @notice Takes `csShares` csETH from the caller and mints VEF shares to `receiver`.
    function depositShares(uint256 csShares, address receiver)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 vef)
    {
        if (csShares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        VfpStorage storage $ = _s();
        vef = _mintVef($, receiver, csShares);
        IERC20(address($.pool)).safeTransferFrom(msg.sender, address(this), csShares);
    }

    /// @notice Escrows `vefShares` of the caller for withdrawal; claimable after the delay.
    function requestWithdrawal(uint256 vefShares) external whenNotPaused returns (uint256 requestId) {
        if (vefShares == 0) revert ZeroAmount();
        VfpStorage storage $ = _s();
        uint256 maxCs = _toCs($, vefShares);
        uint256 claimableAt = block.timestamp + $.params.withdrawalDelay;
        requestId = $.nextRequestId++;
        $.requests[requestId] = WithdrawalRequest({
            owner: msg.sender,
            claimableAt: SafeCast.toUint64(claimableAt),
            claimed: false,
            vefShares: SafeCast.toUint128(vefShares),
            maxCsShares: SafeCast.toUint128(maxCs)
        });
        _transfer(msg.sender, address(this), vefShares);
        emit WithdrawalRequested(requestId, msg.sender, vefShares, maxCs, claimableAt);
    }

    /// @notice Burns the escrowed VEF of request `requestId` and pays its csETH to the owner:
    /// min(value at request, value now). Owner only, after the delay, from idle assets.
    function claimWithdrawal(uint256 requestId) external whenNotPaused nonReentrant returns (uint256 cs) {
        VfpStorage storage $ = _s();
        WithdrawalRequest storage r = $.requests[requestId];
        if (r.owner != msg.sender || r.claimed || msg.sender == address(0)) {
            revert RequestInvalid(requestId, msg.sender);
        }
        // forge-lint: disable-next-line(block-timestamp) -- the delay is days long
        if (block.timestamp < r.claimableAt) revert RequestNotClaimable(requestId, r.claimableAt);
        uint256 vef = r.vefShares;
        cs = _toCs($, vef);
        if (cs > r.maxCsShares) cs = r.maxCsShares;
        uint256 idle = $.totalAssets - $.totalAllocated;
        if (cs > idle) revert InsufficientIdleShares(cs, idle);
        r.claimed = true;
        $.totalAssets -= cs;
        _burn(address(this), vef);
        emit WithdrawalClaimed(requestId, msg.sender, vef, cs);
        IERC20(address($.pool)).safeTransfer(msg.sender, cs);
    }

    // ================================================================== operator backing

    /// @notice Backs the bond of `operatorId` with up to `amountEth` more (csETH earmarked in this
    /// pool). The operator's manager only; the operator must be a Home or Dvt operator, not stopped,
    /// with a score at or above the threshold, and the caps must hold.
    function fundOperator(uint256 operatorId, uint256 amountEth)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 cs)
    {
        if (amountEth == 0) revert ZeroAmount();
        VfpStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        if (msg.sender != op.manager) revert NotOperatorManager(operatorId, msg.sender);
        if (
            op.stopped
                || (op.operatorType != IOperatorRegistry.OperatorType.Home
                    && op.operatorType != IOperatorRegistry.OperatorType.Dvt)
        ) revert NotFundable(operatorId);
        VfpParams memory p = $.params;
        if (op.score < p.scoreThresholdBps) {
            revert ScoreBelowThreshold(operatorId, op.score, p.scoreThresholdBps);
        }

        ICoverablePool pool = $.pool;
        cs = pool.convertToShares(amountEth);
        if (cs == 0) revert ZeroAmount();
        uint256 allocatedAfter = $.allocated[operatorId] + cs;
        uint256 backingAfter = pool.convertToAssets(allocatedAfter);
        uint256 matchCap = Math.mulDiv($.bondManager.bondValue(operatorId), p.maxMatchBps, BPS);
        uint256 opCap = matchCap < p.perOperatorCap ? matchCap : p.perOperatorCap;
        if (backingAfter > opCap) revert FundingCapExceeded(operatorId, backingAfter, opCap);
        uint256 totalCap = Math.mulDiv($.totalAssets, p.totalCapBps, BPS);
        if ($.totalAllocated + cs > totalCap) {
            revert FundingCapExceeded(operatorId, $.totalAllocated + cs, totalCap);
        }
        $.allocated[operatorId] = allocatedAfter;
        $.totalAllocated += cs;
        emit OperatorFunded(operatorId, cs, pool.convertToAssets(cs));
    }

    /// @notice Returns `csShares` of the operator's backing to the idle assets. The manager (only if
    /// the bond still covers the requirement afterwards, and not while the pool reports a pending
    /// extra-data chain: a later chunk may still charge the operator, and the backing is the layer
    /// that would absorb it before the insurance fund) or governance (unconditionally).
    function releaseFunding(uint256 operatorId, uint256 csShares) external nonReentrant {
        if (csShares == 0) revert ZeroAmount();
        VfpStorage storage $ = _s();
        uint256 current = $.allocated[operatorId];
        if (csShares > current) revert FundingCapExceeded(operatorId, csShares, current);
        bool governance = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        if (!governance) {
            if (msg.sender != $.registry.getOperator(operatorId).manager) {
                revert NotOperatorManager(operatorId, msg.sender);
            }
            uint256 pending = $.pool.pendingExtraData();
            if (pending != 0) revert IBondManager.BondHeldForExtraData(operatorId, pending);
        }
        $.allocated[operatorId] = current - csShares;
        $.totalAllocated -= csShares;
        if (!governance) {
            uint256 bondAfter = $.bondManager.totalBondValue(operatorId);
            uint256 required = $.bondManager.requiredBond(operatorId);
            if (bondAfter < required) revert ReleaseUnderBonds(operatorId, bondAfter, required);
        }
        emit OperatorReleased(operatorId, csShares);
    }

    /// @notice Absorbs up to `csShares` of a loss of `operatorId` (the loss converted to csETH by the
    /// waterfall), at most its backing, by burning them into the pool; returns the shares burned. The
    /// BondManager (loss waterfall) only; never paused.
    function absorbLoss(uint256 operatorId, uint256 csShares) external nonReentrant returns (uint256 burned) {
        VfpStorage storage $ = _s();
        if (msg.sender != address($.bondManager)) {
            revert UnauthorizedCaller(msg.sender, address($.bondManager));
        }
        uint256 backing = $.allocated[operatorId];
        burned = csShares < backing ? csShares : backing;
        // safe: burned <= allocated[operatorId] <= totalAllocated <= totalAssets
        unchecked {
            $.allocated[operatorId] = backing - burned;
            $.totalAllocated -= burned;
            $.totalAssets -= burned;
        }
        emit LossAbsorbed(operatorId, csShares, burned);
        if (burned != 0) $.pool.burnSharesForCover(burned);
    }

    /// @notice Adds `csShares` csETH from the caller to the assets as rewards. REWARDS_ROLE only,
    /// which no deployment grants: the pool's share of operators' rewards arrives through the
    /// oracle's rewards tree ({claimRewards}); governance may grant the role to another payer.
    function depositRewards(uint256 csShares) external onlyRole(REWARDS_ROLE) nonReentrant {
        if (csShares == 0) revert ZeroAmount();
        VfpStorage storage $ = _s();
        $.totalAssets += csShares;
        emit RewardsReceived(msg.sender, csShares);
        IERC20(address($.pool)).safeTransferFrom(msg.sender, address(this), csShares);
    }

    /// @notice Claims the pool's leaf `(address(this), cumulativeShares)` of the current rewards root
    /// from OperatorRewards, then books every share OperatorRewards has paid to the pool and the
    /// pool has not booked yet; returns the shares booked. Anyone may call (proof from an oracle
    /// member). If OperatorRewards already paid the pool up to `cumulativeShares` (someone sent the
    /// claim to OperatorRewards directly), the claim is skipped and that payment is booked all the
    /// same: front-running this call strands nothing. Never paused: booking only adds assets.
    function claimRewards(uint256 cumulativeShares, bytes32[] calldata proof)
        external
        nonReentrant
        returns (uint256 booked)
    {
        VfpStorage storage $ = _s();
        IOperatorRewards rewards = _operatorRewards($);
        uint256 paid = rewards.claimed(address(this));
        if (cumulativeShares > paid) {
            // reverts InvalidProof unless the leaf is in the current root; pays this pool the
            // increment and records `cumulativeShares` as its claimed total
            rewards.claim(address(this), cumulativeShares, proof);
            paid = cumulativeShares;
        }
        booked = _bookRewards($, rewards, paid);
    }

    /// @notice Books every share OperatorRewards has paid to the pool (a claim sent to
    /// OperatorRewards directly) and the pool has not booked yet; returns the shares booked
    /// (0 when there is nothing new). Anyone may call; never paused.
    function syncRewards() external nonReentrant returns (uint256 booked) {
        VfpStorage storage $ = _s();
        IOperatorRewards rewards = _operatorRewards($);
        booked = _bookRewards($, rewards, rewards.claimed(address(this)));
    }

    // ================================================================== governance

    /// @notice Sets the OperatorRewards contract whose payments to the pool are booked: a contract
    /// paying this pool's csETH (`token() == pool`). Governance only. What was booked is kept per
    /// contract, so switching back and forth never books a payment twice; sync the old contract
    /// before switching away from it (a payment it makes later is booked only after switching back).
    function setOperatorRewards(address rewards) external onlyRole(DEFAULT_ADMIN_ROLE) {
        VfpStorage storage $ = _s();
        if (rewards.code.length == 0) revert OperatorRewardsInvalid(rewards);
        try IOperatorRewards(rewards).token() returns (address token) {
            if (token != address($.pool)) revert OperatorRewardsInvalid(rewards);
        } catch {
            revert OperatorRewardsInvalid(rewards);
        }
        $.operatorRewards = IOperatorRewards(rewards);
        emit OperatorRewardsSet(rewards);
    }

    /// @notice Sets the parameters within the hard bounds.
    function setParams(VfpParams calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(_s(), p);
    }

    // ================================================================== views

    /// @notice csETH shares the pool accounts for (idle + allocated; escrowed requests included).
    function totalAssets() external view returns (uint256) {
        return _s().totalAssets;
    }

    /// @notice csETH shares backing operators.
    function totalAllocated() external view returns (uint256) {
        return _s().totalAllocated;
    }

    /// @notice csETH shares not backing any operator.
    function idleShares() external view returns (uint256) {
        VfpStorage storage $ = _s();
        return $.totalAssets - $.totalAllocated;
    }

    /// @notice csETH shares backing `operatorId`.
    function allocatedShares(uint256 operatorId) external view returns (uint256) {
        return _s().allocated[operatorId];
    }

    /// @notice ETH value of the backing of `operatorId`.
    function backingValue(uint256 operatorId) external view returns (uint256) {
        VfpStorage storage $ = _s();
        uint256 allocated = $.allocated[operatorId];
        return allocated == 0 ? 0 : $.pool.convertToAssets(allocated);
    }

    /// @notice VEF shares `csShares` would mint now (rounded down).
    function convertToVef(uint256 csShares) external view returns (uint256) {
        return _toVef(_s(), csShares);
    }

    /// @notice csETH shares `vefShares` are worth now (rounded down).
    function convertToCs(uint256 vefShares) external view returns (uint256) {
        return _toCs(_s(), vefShares);
    }

    /// @notice A withdrawal request.
    function withdrawalRequest(uint256 requestId) external view returns (WithdrawalRequest memory) {
        return _s().requests[requestId];
    }

    /// @notice The parameters.
    function params() external view returns (VfpParams memory) {
        return _s().params;
    }

    /// @notice The OperatorRewards contract whose payments to the pool are booked (zero: not set).
    function operatorRewards() external view returns (address) {
        return address(_s().operatorRewards);
    }

    /// @notice Shares paid to the pool by the OperatorRewards contract `rewards` that were booked.
    function rewardsBooked(address rewards) external view returns (uint256) {
        return _s().rewardsBooked[rewards];
    }

    /// @notice Shares the current OperatorRewards paid to the pool that {syncRewards} would book
    /// (0 when OperatorRewards is not set).
    function pendingRewards() external view returns (uint256) {
        VfpStorage storage $ = _s();
        IOperatorRewards rewards = $.operatorRewards;
        if (address(rewards) == address(0)) return 0;
        uint256 paid = rewards.claimed(address(this));
        uint256 booked = $.rewardsBooked[address(rewards)];
        return paid > booked ? paid - booked : 0;
    }

    // ================================================================== internals

    function _mintVef(VfpStorage storage $, address receiver, uint256 cs) internal returns (uint256 vef) {
        if (cs < MIN_DEPOSIT) revert DepositTooSmall(cs, MIN_DEPOSIT);
        vef = _toVef($, cs);
        if (vef == 0) revert ZeroVefShares(cs);
        $.totalAssets += cs;
        _mint(receiver, vef);
        emit Deposited(msg.sender, receiver, cs, vef);
    }

    /// @dev Books what `rewards` paid to the pool since the last booking; `paid` is its record of all
    /// its payments to this pool (`rewards.claimed(this)`). The amount comes from OperatorRewards'
    /// own record, never the balance, so a donation (csETH sent directly) is never booked, and every
    /// payment is booked once whoever triggered it. The payment must be held beyond the booked
    /// assets, so `totalAssets` stays backed by held shares.
    function _bookRewards(VfpStorage storage $, IOperatorRewards rewards, uint256 paid)
        internal
        returns (uint256 booked)
    {
        uint256 already = $.rewardsBooked[address(rewards)];
        // OperatorRewards' claimed amount never decreases
        if (paid <= already) return 0;
        // cannot underflow: checked just above
        unchecked {
            booked = paid - already;
        }
        // the balance never falls below totalAssets: only booked shares ever leave the pool
        uint256 unbooked = IERC20(address($.pool)).balanceOf(address(this)) - $.totalAssets;
        if (booked > unbooked) revert RewardsNotReceived(booked, unbooked);
        $.rewardsBooked[address(rewards)] = paid;
        $.totalAssets += booked;
        emit RewardsReceived(address(rewards), booked);
    }

    function _operatorRewards(VfpStorage storage $) internal view returns (IOperatorRewards rewards) {
        rewards = $.operatorRewards;
        if (address(rewards) == address(0)) revert OperatorRewardsNotSet();
    }

    function _toVef(VfpStorage storage $, uint256 cs) internal view returns (uint256) {
        return Math.mulDiv(cs, totalSupply() + VIRTUAL_SHARES, $.totalAssets + VIRTUAL_ASSETS);
    }

    function _toCs(VfpStorage storage $, uint256 vef) internal view returns (uint256) {
        return Math.mulDiv(vef, $.totalAssets + VIRTUAL_ASSETS, totalSupply() + VIRTUAL_SHARES);
    }

    function _setParams(VfpStorage storage $, VfpParams memory p) internal {
        _checkBounds("scoreThresholdBps", p.scoreThresholdBps, 0, BPS);
        _checkBounds("rewardShareBps", p.rewardShareBps, 0, MAX_REWARD_SHARE_BPS);
        _checkBounds("totalCapBps", p.totalCapBps, 0, MAX_TOTAL_CAP_BPS);
        _checkBounds("maxMatchBps", p.maxMatchBps, 0, BPS);
        _checkBounds("perOperatorCap", p.perOperatorCap, 0, MAX_PER_OPERATOR_CAP);
        _checkBounds("withdrawalDelay", p.withdrawalDelay, MIN_WITHDRAWAL_DELAY, MAX_WITHDRAWAL_DELAY);
        $.params = p;
        emit VfpParamsSet(p);
    }

    function _s() private pure returns (VfpStorage storage $) {
        assembly {
            $.slot := VFP_STORAGE
        }
    }
}
