// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IAccessPolicy} from "../interfaces/IAccessPolicy.sol";
import {ISanityChecker} from "../interfaces/ISanityChecker.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {IPoolVault} from "../interfaces/IVaults.sol";
import {IWithdrawalQueue} from "../interfaces/IWithdrawalQueue.sol";
import {CsToken} from "./CsToken.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice ClayStack staking pool; the pool is also its share token (csETH), see docs/adr/0001.
/// The public pool and the KYC pool are two deployments of this code with a different
/// {IAccessPolicy}.
///
/// Guarantees:
/// - totalPooledEther = bufferedEther + transientEther + clBalance, where
///   transientEther = depositedEther - clDepositsProcessed, and bufferedEther already contains
///   the ETH pulled from the vaults and excludes the ETH reserved for (sent to) the withdrawal
///   queue. It changes only by deposits, Flash Exits, oracle reports (rewards, losses, vault
///   pulls, queue finalization). ETH sent to the contract by other means (selfdestruct, coinbase)
///   is never counted: the accounting never reads address(this).balance.
/// - Shares are minted only against deposited ETH (rounded down) or as the reward fee on
///   oracle-reported positive rewards; the seed shares of the initial deposit are locked at a dead
///   address, so the first-depositor inflation attack has nothing to inflate.
/// - Only the oracle reports, only the queue locks shares, only the vaults feed ETH back, only
///   the deposit module takes ETH for the consensus layer.
/// - Only DEFAULT_ADMIN_ROLE (the timelock) changes parameters, within hard bounds; the guardian
///   can pause and nothing else. ETH-sending paths are non-reentrant.
/// - No deposit while an oracle report's extra-data chain is pending (docs/adr/0008): losses its
///   later chunks charge are booked in the report but restored only when those chunks land, so a
///   deposit in between would take part of the restoration from the holders. The oracle opens
///   the window with the report (until its frame ends, when undelivered chunks expire) and closes
///   it with the last chunk.
contract StakePool is CsToken, Governed, ReentrancyGuardTransient, IStakePool {
    uint256 internal constant BPS = 10_000;
    /// @notice Seed deposit required at initialization; its shares go to {DEAD_ADDRESS}.
    uint256 public constant MIN_INITIAL_DEPOSIT = 1e15;
    /// @notice Holder of the seed shares (nobody can move them).
    address public constant DEAD_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    /// @notice Hard ceiling of the total reward fee.
    uint256 public constant MAX_TOTAL_FEE_BPS = 2000;
    /// @notice Hard ceiling of the Flash Exit fee.
    uint256 public constant MAX_FLASH_FEE_BPS = 500;
    /// @notice Hard ceiling of the Flash Exit reserve target.
    uint256 public constant MAX_FLASH_RESERVE_BPS = 2000;
    /// @notice Hard ceiling of the minimum deposit.
    uint256 public constant MAX_MIN_DEPOSIT = 1 ether;

    /// @custom:storage-location erc7201:claystack.storage.StakePool
    struct PoolStorage {
        // slot 0: the two balances read by every conversion
        uint128 bufferedEther;
        uint128 clBalance;
        // slot 1
        uint128 depositedEther;
        uint128 clDepositsProcessed;
        // slot 2: deposit gate
        address accessPolicy;
        uint88 minDeposit;
        bool paused;
        // slot 3: daily stake limit, per UTC day (block.timestamp / 1 days)
        uint96 dailyStakeLimit;
        uint96 stakedToday;
        uint32 currentDay;
        // slot 4: fees and exits
        uint16 treasuryFeeBps;
        uint16 operatorsFeeBps;
        uint16 insuranceFeeBps;
        uint16 maxUnstakeBps;
        uint16 flashReserveBps;
        uint16 flashFeeMinBps;
        uint16 flashFeeMaxBps;
        address treasury;
        address operatorRewards;
        address insuranceFund;
        address oracle;
        address withdrawalQueue;
        address withdrawalVault;
        address elRewardsVault;
        address sanityChecker;
        address depositModule;
        // appended (ERC-7201 struct: new fields only at the end)
        mapping(address => bool) coverProviders;
        // appended (2026-12-06): the extra-data chain of report `pendingRefSlot` is pending until
        // `pendingUntil` (its frame's end) unless the oracle clears it first; no deposit meanwhile
        uint64 pendingRefSlot;
        uint64 pendingUntil;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.StakePool")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant POOL_STORAGE =
        0xfb3b8a82c04d51f3a434405d5ba12027e8d4d7fef11ca706729e03633fa80f00;

    modifier onlyFrom(address expected) {
        if (msg.sender != expected) revert UnauthorizedCaller(msg.sender, expected);
        _;
    }

    /// @notice Initializes the proxy; `msg.value` (>= MIN_INITIAL_DEPOSIT) seeds the pool and its
    /// shares are minted to {DEAD_ADDRESS}.
    function initialize(InitParams calldata p) external payable initializer {
        if (msg.value < MIN_INITIAL_DEPOSIT) revert InitialDepositTooSmall(msg.value, MIN_INITIAL_DEPOSIT);
        __CsToken_init(p.name, p.symbol);
        __Governed_init(p.admin, p.guardian);
        PoolStorage storage $ = _s();
        _setFees($, p.fees);
        _setFeeRecipients($, p.recipients);
        _setMinDeposit($, p.minDeposit);
        _setDailyStakeLimit($, p.dailyStakeLimit);
        _setMaxUnstakeBps($, 5000);
        _setFlashExitParams($, 200, 50, 100);
        $.bufferedEther = uint128(msg.value);
        _mint(DEAD_ADDRESS, msg.value);
        emit Deposited(msg.sender, DEAD_ADDRESS, msg.value, msg.value);
    }

    // ------------------------------------------------------------------ staking

    /// @notice Stakes `msg.value` and mints csETH to the sender at the current rate (rounded down).
    function deposit() external payable returns (uint256 shares) {
        return _deposit(msg.sender);
    }

    /// @notice Stakes `msg.value` and mints csETH to `recipient`.
    function depositFor(address recipient) external payable returns (uint256 shares) {
        return _deposit(recipient);
    }

    /// @notice Plain ETH transfers are deposits for the sender (they never change the rate).
    receive() external payable {
        _deposit(msg.sender);
    }

    /// @notice Burns `shares` and pays their ETH value minus the Flash Exit fee at once from the
    /// buffer. The fee stays in the pool.
    function flashExit(uint256 shares, uint256 minEthOut) external nonReentrant returns (uint256 ethOut) {
        PoolStorage storage $ = _s();
        _checkExit($, msg.sender, shares);
        uint256 pooled = _totalPooledEther();
        uint256 gross = Math.mulDiv(shares, pooled, totalSupply());
        // ETH owed to unfinalized withdrawal requests is not liquidity: queue requesters, who
        // pay no fee, must not be starved by Flash Exits.
        uint256 available = depositableEther();
        if (gross > available) revert InsufficientFlashLiquidity(gross, available);
        uint256 fee = _flashFee($, gross, available - gross, pooled);
        ethOut = gross - fee;
        if (ethOut < minEthOut || ethOut == 0) revert SlippageExceeded(ethOut, minEthOut);
        // ethOut <= gross <= available <= bufferedEther
        $.bufferedEther -= uint128(ethOut);
        _burn(msg.sender, shares);
        emit FlashExited(msg.sender, shares, ethOut, fee);
        Address.sendValue(payable(msg.sender), ethOut);
    }

    /// @notice Moves `shares` of `owner` to the withdrawal queue and returns their ETH value.
    /// Only the queue calls it, from `requestWithdrawal` (where `owner` is the requester).
    function lockSharesForWithdrawal(address owner, uint256 shares) external returns (uint256 etherAmount) {
        PoolStorage storage $ = _s();
        address queue = $.withdrawalQueue;
        if (msg.sender != queue) revert UnauthorizedCaller(msg.sender, queue);
        _checkExit($, owner, shares);
        etherAmount = convertToAssets(shares);
        _transfer(owner, queue, shares);
        emit SharesLockedForWithdrawal(owner, shares, etherAmount);
    }

    // ------------------------------------------------------------------ oracle

    /// @notice Applies an oracle report: CL balance, vault pulls, reward fee, queue finalization.
    function handleOracleReport(AccountingReport calldata r) external nonReentrant {
        PoolStorage storage $ = _s();
        if (msg.sender != $.oracle) revert UnauthorizedCaller(msg.sender, $.oracle);
        uint256 prevProcessed = $.clDepositsProcessed;
        if (r.clDepositsProcessed < prevProcessed || r.clDepositsProcessed > $.depositedEther) {
            revert ClDepositsOutOfRange(r.clDepositsProcessed, prevProcessed, $.depositedEther);
        }
        address wv = $.withdrawalVault;
        address elv = $.elRewardsVault;
        if (r.withdrawalVaultPull > wv.balance) {
            revert VaultBalanceExceeded(wv, r.withdrawalVaultPull, wv.balance);
        }
        if (r.elRewardsVaultAvailable > elv.balance) {
            revert VaultBalanceExceeded(elv, r.elRewardsVaultAvailable, elv.balance);
        }

        uint256 preTotal = _totalPooledEther();
        // CL value before: last reported balance plus deposits the CL has processed since.
        uint256 preCl = $.clBalance + (r.clDepositsProcessed - prevProcessed);
        // CL value after: reported balance plus what the withdrawal sweep moved to the vault.
        uint256 postCl = r.clBalance + r.withdrawalVaultPull;
        uint256 elPull = _checkAccounting($.sanityChecker, r, preTotal, preCl, postCl);

        $.clBalance = _u128(r.clBalance);
        $.clDepositsProcessed = uint128(r.clDepositsProcessed); // <= depositedEther (uint128)
        $.bufferedEther = _u128($.bufferedEther + r.withdrawalVaultPull + elPull);
        uint256 postTotal = _totalPooledEther();
        if (postCl + elPull > preCl) _mintRewardFee($, postCl + elPull - preCl, postTotal);

        if (r.withdrawalVaultPull != 0) IPoolVault(wv).pull(r.withdrawalVaultPull);
        if (elPull != 0) IPoolVault(elv).pull(elPull);
        emit OracleReportApplied(r.refSlot, preTotal, postTotal, totalSupply(), elPull, r.withdrawalVaultPull);

        if (r.finalizeUpToRequestId != 0) {
            _finalizeWithdrawals($, r.finalizeUpToRequestId, r.finalizationShareRate);
        }
    }

    /// @dev The sanity checker's bounds on the CL change (a separate frame keeps the stack small).
    function _checkAccounting(
        address checker,
        AccountingReport calldata r,
        uint256 preTotal,
        uint256 preCl,
        uint256 postCl
    ) private view returns (uint256 elPull) {
        return ISanityChecker(checker)
            .checkAccounting(
                preTotal,
                preCl,
                postCl,
                r.timeElapsed,
                r.newlySlashed,
                r.frontRunLoss,
                r.elRewardsVaultAvailable
            );
    }

    /// @notice Only the oracle: the extra-data chain of the report for `refSlot` is pending until
    /// `deadline` (the end of its frame); zeros: it landed. Deposits are refused meanwhile.
    function setPendingExtraData(uint256 refSlot, uint256 deadline) external onlyFrom(_s().oracle) {
        PoolStorage storage $ = _s();
        // refSlot and deadline come from the oracle's frame maths (below 2^64)
        $.pendingRefSlot = uint64(refSlot);
        $.pendingUntil = uint64(deadline);
    }

    /// @notice The report whose extra-data chain is pending (deposits are held), 0 when none.
    function pendingExtraData() public view returns (uint256 refSlot) {
        PoolStorage storage $ = _s();
        // forge-lint: disable-next-line(block-timestamp) -- the window ends with a frame
        return block.timestamp < $.pendingUntil ? $.pendingRefSlot : 0;
    }

    /// @notice ETH coming back from the WithdrawalVault during a report (accounted there).
    function receiveWithdrawalVaultEther() external payable onlyFrom(_s().withdrawalVault) {}

    /// @notice ETH coming back from the ElRewardsVault during a report (accounted there).
    function receiveElRewards() external payable onlyFrom(_s().elRewardsVault) {}

    // ------------------------------------------------------------------ loss cover

    /// @notice Burns `shares` of the caller, a cover provider (BondManager, VfpPool,
    /// InsuranceFund), without paying anything out: the holders' rate rises back after a loss.
    /// Works while paused, so a paused pool can still apply a report's penalties.
    function burnSharesForCover(uint256 shares) external {
        if (!_s().coverProviders[msg.sender]) revert NotCoverProvider(msg.sender);
        uint256 etherValue = convertToAssets(shares);
        _burn(msg.sender, shares);
        emit SharesBurnedForCover(msg.sender, shares, etherValue);
    }

    // ------------------------------------------------------------------ consensus-layer deposits

    /// @notice Hands `amount` of buffered ETH to the deposit module (issue 3), which deposits it to
    /// the deposit contract. The ETH stays in totalPooledEther as transient ETH until the oracle
    /// reports it processed. The buffer always keeps the unfinalized queue demand.
    function withdrawToDepositModule(uint256 amount) external nonReentrant {
        PoolStorage storage $ = _s();
        address module = $.depositModule;
        if (msg.sender != module || module == address(0)) revert UnauthorizedCaller(msg.sender, module);
        uint256 available = depositableEther();
        if (amount > available) revert InsufficientBuffer(amount, available);
        _sendToConsensusLayer($, module, amount);
    }

    /// @dev Seam for the operator/deposit module: buffer -> transient, then the ETH leaves.
    function _sendToConsensusLayer(PoolStorage storage $, address module, uint256 amount) internal {
        $.bufferedEther -= uint128(amount); // amount <= bufferedEther, checked by the caller
        $.depositedEther += uint128(amount);
        emit EtherSentToDepositModule(module, amount, $.depositedEther);
        Address.sendValue(payable(module), amount);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets the contracts the pool trusts. Governance only.
    function setContracts(Contracts calldata c) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (
            c.oracle == address(0) || c.withdrawalQueue == address(0) || c.withdrawalVault == address(0)
                || c.elRewardsVault == address(0) || c.sanityChecker == address(0)
        ) revert ZeroAddress();
        PoolStorage storage $ = _s();
        $.oracle = c.oracle;
        $.withdrawalQueue = c.withdrawalQueue;
        $.withdrawalVault = c.withdrawalVault;
        $.elRewardsVault = c.elRewardsVault;
        $.sanityChecker = c.sanityChecker;
        emit ContractsUpdated(c);
    }

    /// @notice Sets the reward fee split. Governance only; total <= MAX_TOTAL_FEE_BPS.
    function setFees(Fees calldata f) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFees(_s(), f);
    }

    /// @notice Sets the reward fee recipients. Governance only.
    function setFeeRecipients(FeeRecipients calldata r) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFeeRecipients(_s(), r);
    }

    /// @notice Sets the minimum deposit. Governance only.
    function setMinDeposit(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinDeposit(_s(), value);
    }

    /// @notice Sets the daily stake limit (per UTC day). Governance only.
    function setDailyStakeLimit(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDailyStakeLimit(_s(), value);
    }

    /// @notice Sets the max share of the pool one exit may take. Governance only.
    function setMaxUnstakeBps(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxUnstakeBps(_s(), value);
    }

    /// @notice Sets the Flash Exit reserve target and fee curve. Governance only.
    function setFlashExitParams(uint256 reserveBps, uint256 minFeeBps, uint256 maxFeeBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setFlashExitParams(_s(), reserveBps, minFeeBps, maxFeeBps);
    }

    /// @notice Sets the access policy (zero address: public pool). Governance only.
    function setAccessPolicy(address policy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _s().accessPolicy = policy;
        emit AccessPolicyUpdated(policy);
    }

    /// @notice Sets the deposit module (zero address: none). Governance only.
    function setDepositModule(address module) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _s().depositModule = module;
        emit DepositModuleUpdated(module);
    }

    /// @notice Allows or forbids `provider` to burn its shares for loss cover. Governance only.
    function setCoverProvider(address provider, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _s().coverProviders[provider] = allowed;
        emit CoverProviderUpdated(provider, allowed);
    }

    /// @notice Pauses deposits, Flash Exits and withdrawal requests. Guardian or governance.
    function pause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        _s().paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Unpauses. Governance only.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _s().paused = false;
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @notice buffered + transient + CL balance (see the contract notice).
    function totalPooledEther() external view returns (uint256) {
        return _totalPooledEther();
    }

    function bufferedEther() external view returns (uint256) {
        return _s().bufferedEther;
    }

    function clBalance() external view returns (uint256) {
        return _s().clBalance;
    }

    function depositedEther() external view returns (uint256) {
        return _s().depositedEther;
    }

    function clDepositsProcessed() external view returns (uint256) {
        return _s().clDepositsProcessed;
    }

    /// @notice ETH sent to the deposit contract that the oracle has not yet seen on the CL.
    function transientEther() public view returns (uint256) {
        PoolStorage storage $ = _s();
        return $.depositedEther - $.clDepositsProcessed;
    }

    function paused() external view returns (bool) {
        return _s().paused;
    }

    function fees() external view returns (Fees memory) {
        PoolStorage storage $ = _s();
        return Fees($.treasuryFeeBps, $.operatorsFeeBps, $.insuranceFeeBps);
    }

    function feeRecipients() external view returns (FeeRecipients memory) {
        PoolStorage storage $ = _s();
        return FeeRecipients($.treasury, $.operatorRewards, $.insuranceFund);
    }

    function contracts() external view returns (Contracts memory) {
        PoolStorage storage $ = _s();
        return Contracts($.oracle, $.withdrawalQueue, $.withdrawalVault, $.elRewardsVault, $.sanityChecker);
    }

    function accessPolicy() external view returns (address) {
        return _s().accessPolicy;
    }

    /// @notice Whether `provider` may call {burnSharesForCover}.
    function isCoverProvider(address provider) external view returns (bool) {
        return _s().coverProviders[provider];
    }

    function depositModule() external view returns (address) {
        return _s().depositModule;
    }

    /// @notice (minDeposit, dailyStakeLimit, maxUnstakeBps, flashReserveBps, flashFeeMinBps, flashFeeMaxBps)
    function limits() external view returns (uint256, uint256, uint256, uint256, uint256, uint256) {
        PoolStorage storage $ = _s();
        return (
            $.minDeposit,
            $.dailyStakeLimit,
            $.maxUnstakeBps,
            $.flashReserveBps,
            $.flashFeeMinBps,
            $.flashFeeMaxBps
        );
    }

    /// @notice ETH that can still be staked today.
    function stakeLimitRemaining() external view returns (uint256) {
        PoolStorage storage $ = _s();
        uint256 staked = block.timestamp / 1 days == $.currentDay ? $.stakedToday : 0;
        return $.dailyStakeLimit - staked;
    }

    /// @notice Target size of the Flash Exit reserve.
    function flashReserveTarget() public view returns (uint256) {
        return _totalPooledEther() * _s().flashReserveBps / BPS;
    }

    /// @notice What `flashExit(shares, 0)` would pay now, and its fee.
    function flashExitQuote(uint256 shares) external view returns (uint256 ethOut, uint256 fee) {
        PoolStorage storage $ = _s();
        uint256 pooled = _totalPooledEther();
        uint256 gross = Math.mulDiv(shares, pooled, totalSupply());
        uint256 available = depositableEther();
        if (gross > available) revert InsufficientFlashLiquidity(gross, available);
        fee = _flashFee($, gross, available - gross, pooled);
        ethOut = gross - fee;
    }

    /// @notice Buffered ETH not owed to unfinalized withdrawal requests: what the deposit module
    /// may take and what Flash Exits may pay out.
    function depositableEther() public view returns (uint256) {
        PoolStorage storage $ = _s();
        uint256 buffered = $.bufferedEther;
        uint256 demand = IWithdrawalQueue($.withdrawalQueue).unfinalizedEther();
        return buffered > demand ? buffered - demand : 0;
    }

    // ------------------------------------------------------------------ internals

    function _deposit(address recipient) internal returns (uint256 shares) {
        PoolStorage storage $ = _s();
        uint256 amount = msg.value;
        if ($.paused) revert EnforcedPause();
        // a pending report's refSlot is never 0 (the first frame has no report)
        uint256 pending = pendingExtraData();
        if (pending != 0) revert ExtraDataPending(pending);
        if (amount < $.minDeposit) revert DepositBelowMinimum(amount, $.minDeposit);
        address policy = $.accessPolicy;
        if (policy != address(0)) {
            _requireAllowed(policy, IAccessPolicy.Action.Deposit, msg.sender);
            _requireAllowed(policy, IAccessPolicy.Action.Receive, recipient);
        }

        uint256 day = block.timestamp / 1 days;
        uint256 staked = day == $.currentDay ? $.stakedToday : 0;
        uint256 limit = $.dailyStakeLimit;
        if (staked + amount > limit) revert DailyStakeLimitExceeded(amount, limit - Math.min(staked, limit));
        // staked + amount <= limit <= type(uint96).max; day < 2^32 until year 11 million
        $.stakedToday = uint96(staked + amount);
        $.currentDay = uint32(day);

        uint256 pooled = _totalPooledEther();
        if (pooled == 0) revert EmptyPool();
        shares = Math.mulDiv(amount, totalSupply(), pooled);
        if (shares == 0) revert ZeroShares(amount);
        $.bufferedEther += uint128(amount); // amount <= uint96 limit
        _mint(recipient, shares);
        emit Deposited(msg.sender, recipient, amount, shares);
    }

    function _checkExit(PoolStorage storage $, address account, uint256 shares) internal view {
        if ($.paused) revert EnforcedPause();
        address policy = $.accessPolicy;
        if (policy != address(0)) _requireAllowed(policy, IAccessPolicy.Action.Exit, account);
        uint256 maxShares = totalSupply() * $.maxUnstakeBps / BPS;
        if (shares > maxShares) revert UnstakeAboveMaximum(shares, maxShares);
    }

    function _beforeShareTransfer(address from, address to) internal view override {
        PoolStorage storage $ = _s();
        address policy = $.accessPolicy;
        // the queue path checks the Exit action in lockSharesForWithdrawal
        if (policy == address(0) || to == $.withdrawalQueue) return;
        _requireAllowed(policy, IAccessPolicy.Action.Send, from);
        _requireAllowed(policy, IAccessPolicy.Action.Receive, to);
    }

    function _requireAllowed(address policy, IAccessPolicy.Action action, address account) internal view {
        IAccessPolicy(policy).checkAccess(action, account);
    }

    /// @dev Fee 0.5 % (min) while the reserve left after the exit is at or above target, rising
    /// linearly to the max as it drains to zero. Rounded up (in favour of the pool).
    function _flashFee(PoolStorage storage $, uint256 gross, uint256 reserveAfter, uint256 pooled)
        internal
        view
        returns (uint256)
    {
        uint256 minFee = $.flashFeeMinBps;
        uint256 maxFee = $.flashFeeMaxBps;
        uint256 target = pooled * $.flashReserveBps / BPS;
        uint256 feeBps = maxFee;
        if (reserveAfter >= target) {
            feeBps = minFee;
        } else if (target != 0) {
            feeBps = minFee + Math.mulDiv(maxFee - minFee, target - reserveAfter, target, Math.Rounding.Ceil);
        }
        return Math.mulDiv(gross, feeBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Mints shares worth `fee = rewards * totalFeeBps` at the post-report rate so that the
    /// recipients' shares are worth exactly (rounded down) their part of the fee.
    function _mintRewardFee(PoolStorage storage $, uint256 rewards, uint256 postTotal) internal {
        uint256 t = $.treasuryFeeBps;
        uint256 o = $.operatorsFeeBps;
        uint256 i = $.insuranceFeeBps;
        uint256 totalBps = t + o + i;
        if (totalBps == 0) return;
        uint256 feeEth = rewards * totalBps / BPS;
        // feeEth < rewards <= postTotal, so the denominator is positive
        uint256 feeShares = Math.mulDiv(feeEth, totalSupply(), postTotal - feeEth);
        uint256 tShares = feeShares * t / totalBps;
        uint256 oShares = feeShares * o / totalBps;
        uint256 iShares = feeShares * i / totalBps;
        tShares = _mintFee($, $.treasury, tShares);
        oShares = _mintFee($, $.operatorRewards, oShares);
        iShares = _mintFee($, $.insuranceFund, iShares);
        emit RewardFeeMinted(rewards, tShares, oShares, iShares);
    }

    /// @dev Mints a fee share unless the access policy forbids `recipient` to hold shares (a KYC
    /// pool's recipient whose attestation lapsed): then the fee is forgone, stays with the
    /// holders, and the report still applies. Returns the shares minted.
    function _mintFee(PoolStorage storage $, address recipient, uint256 shares) internal returns (uint256) {
        if (shares == 0) return 0;
        address policy = $.accessPolicy;
        if (policy != address(0) && !IAccessPolicy(policy).isAllowed(IAccessPolicy.Action.Receive, recipient))
        {
            emit RewardFeeForgone(recipient, shares);
            return 0;
        }
        _mint(recipient, shares);
        return shares;
    }

    function _finalizeWithdrawals(PoolStorage storage $, uint256 upTo, uint256 reportedRate) internal {
        uint256 actualRate = shareRate();
        ISanityChecker($.sanityChecker).checkFinalizationRate(reportedRate, actualRate);
        uint256 rate = Math.min(reportedRate, actualRate);
        address queue = $.withdrawalQueue;
        (uint256 last, uint256 etherToLock, uint256 sharesToBurn) =
            IWithdrawalQueue(queue).finalize(upTo, rate, $.bufferedEther);
        if (sharesToBurn == 0 && etherToLock == 0) return;
        // the queue never locks more than the maxEther it was given
        $.bufferedEther -= uint128(etherToLock);
        _burn(queue, sharesToBurn);
        emit WithdrawalsFinalized(last, etherToLock, sharesToBurn, rate);
        if (etherToLock != 0) Address.sendValue(payable(queue), etherToLock);
    }

    function _totalPooledEther() internal view override returns (uint256) {
        PoolStorage storage $ = _s();
        return uint256($.bufferedEther) + $.clBalance + ($.depositedEther - $.clDepositsProcessed);
    }

    function _setFees(PoolStorage storage $, Fees memory f) internal {
        uint256 total = uint256(f.treasuryBps) + f.operatorsBps + f.insuranceBps;
        _checkBounds("totalFeeBps", total, 0, MAX_TOTAL_FEE_BPS);
        $.treasuryFeeBps = f.treasuryBps;
        $.operatorsFeeBps = f.operatorsBps;
        $.insuranceFeeBps = f.insuranceBps;
        emit FeesUpdated(f);
    }

    function _setFeeRecipients(PoolStorage storage $, FeeRecipients memory r) internal {
        if (r.treasury == address(0) || r.operatorRewards == address(0) || r.insuranceFund == address(0)) {
            revert ZeroAddress();
        }
        $.treasury = r.treasury;
        $.operatorRewards = r.operatorRewards;
        $.insuranceFund = r.insuranceFund;
        emit FeeRecipientsUpdated(r);
    }

    function _setMinDeposit(PoolStorage storage $, uint256 value) internal {
        _checkBounds("minDeposit", value, 1, MAX_MIN_DEPOSIT);
        $.minDeposit = uint88(value);
        emit ParameterUpdated("minDeposit", value);
    }

    function _setDailyStakeLimit(PoolStorage storage $, uint256 value) internal {
        _checkBounds("dailyStakeLimit", value, 1 ether, type(uint96).max);
        $.dailyStakeLimit = uint96(value);
        emit ParameterUpdated("dailyStakeLimit", value);
    }

    function _setMaxUnstakeBps(PoolStorage storage $, uint256 value) internal {
        _checkBounds("maxUnstakeBps", value, 100, BPS);
        $.maxUnstakeBps = uint16(value);
        emit ParameterUpdated("maxUnstakeBps", value);
    }

    function _setFlashExitParams(
        PoolStorage storage $,
        uint256 reserveBps,
        uint256 minFeeBps,
        uint256 maxFeeBps
    ) internal {
        _checkBounds("flashReserveBps", reserveBps, 0, MAX_FLASH_RESERVE_BPS);
        _checkBounds("flashFeeMinBps", minFeeBps, 1, MAX_FLASH_FEE_BPS);
        _checkBounds("flashFeeMaxBps", maxFeeBps, minFeeBps, MAX_FLASH_FEE_BPS);
        $.flashReserveBps = uint16(reserveBps);
        $.flashFeeMinBps = uint16(minFeeBps);
        $.flashFeeMaxBps = uint16(maxFeeBps);
        emit ParameterUpdated("flashReserveBps", reserveBps);
        emit ParameterUpdated("flashFeeMinBps", minFeeBps);
        emit ParameterUpdated("flashFeeMaxBps", maxFeeBps);
    }

    function _u128(uint256 value) internal pure returns (uint128) {
        if (value > type(uint128).max) revert ParameterOutOfBounds("uint128", value, 0, type(uint128).max);
        return uint128(value);
    }

    function _s() private pure returns (PoolStorage storage $) {
        assembly {
            $.slot := POOL_STORAGE
        }
    }
}
