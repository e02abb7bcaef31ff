// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Validator Funding Provider pool: VEF shares over csETH that back good operators' bonds.
interface IVfpPool {
    /// @notice Governance parameters.
    struct VfpParams {
        /// lowest operator score (bps) the pool funds
        uint16 scoreThresholdBps;
        /// share of a funded operator's rewards owed to the pool (bps), read by the rewards distributor
        uint16 rewardShareBps;
        /// most of the pool's assets that may back bonds at once (bps)
        uint16 totalCapBps;
        /// backing of one operator is at most this share (bps) of its own bond value
        uint16 maxMatchBps;
        /// most ETH backing one operator
        uint96 perOperatorCap;
        /// seconds between a withdrawal request and its claim
        uint32 withdrawalDelay;
    }

    /// @notice A pending withdrawal.
    struct WithdrawalRequest {
        address owner;
        uint64 claimableAt;
        bool claimed;
        uint128 vefShares;
        /// csETH the request was worth when made (the payout is at most this)
        uint128 maxCsShares;
    }

    error ZeroAmount();
    /// @notice Deposits below `minimum` csETH shares are refused (dust keeps VEF shares coarse).
    error DepositTooSmall(uint256 csShares, uint256 minimum);
    /// @notice The deposit would mint no VEF shares.
    error ZeroVefShares(uint256 csShares);
    /// @notice The operator's score is below the funding threshold.
    error ScoreBelowThreshold(uint256 operatorId, uint256 score, uint256 threshold);
    /// @notice Only Home and Dvt operators' bonds are funded.
    error NotFundable(uint256 operatorId);
    /// @notice The funding would exceed `cap` (ETH or csETH shares, see the cap).
    error FundingCapExceeded(uint256 operatorId, uint256 requested, uint256 available);
    /// @notice The pool does not hold `needed` idle csETH shares (it has `idle`).
    error InsufficientIdleShares(uint256 needed, uint256 idle);
    /// @notice Releasing would leave the operator's bond below its requirement.
    error ReleaseUnderBonds(uint256 operatorId, uint256 bondAfter, uint256 required);
    /// @notice The withdrawal request does not exist, is not the caller's, or was claimed.
    error RequestInvalid(uint256 requestId, address caller);
    /// @notice The request becomes claimable at `claimableAt`.
    error RequestNotClaimable(uint256 requestId, uint256 claimableAt);
    /// @notice The caller is not the operator's manager (nor governance).
    error NotOperatorManager(uint256 operatorId, address caller);
    /// @notice Governance has not set the OperatorRewards contract whose payments the pool books.
    error OperatorRewardsNotSet();
    /// @notice `operatorRewards` is not an OperatorRewards contract paying this pool's csETH (zero,
    /// no code, or another token).
    error OperatorRewardsInvalid(address operatorRewards);
    /// @notice OperatorRewards reports `paid` csETH shares paid to the pool and not yet booked, but
    /// the pool holds only `unbooked` shares beyond its booked assets (cannot happen with a correct
    /// OperatorRewards; refusing keeps `totalAssets` backed by held shares).
    error RewardsNotReceived(uint256 paid, uint256 unbooked);

    event Deposited(address indexed sender, address indexed receiver, uint256 csShares, uint256 vefShares);
    event WithdrawalRequested(
        uint256 indexed requestId,
        address indexed owner,
        uint256 vefShares,
        uint256 maxCsShares,
        uint256 claimableAt
    );
    event WithdrawalClaimed(
        uint256 indexed requestId, address indexed owner, uint256 vefShares, uint256 csShares
    );
    event OperatorFunded(uint256 indexed operatorId, uint256 csShares, uint256 etherValue);
    event OperatorReleased(uint256 indexed operatorId, uint256 csShares);
    event LossAbsorbed(uint256 indexed operatorId, uint256 csSharesRequested, uint256 csSharesBurned);
    /// @notice `csShares` of rewards were booked into the assets: paid by `from` through
    /// {depositRewards}, or paid by the OperatorRewards contract `from` and booked by
    /// {claimRewards} / {syncRewards}.
    event RewardsReceived(address indexed from, uint256 csShares);
    event VfpParamsSet(VfpParams params);
    /// @notice Governance set the OperatorRewards contract whose payments to the pool are booked.
    event OperatorRewardsSet(address indexed operatorRewards);

    function depositEth(address receiver) external payable returns (uint256 vefShares);
    function depositShares(uint256 csShares, address receiver) external returns (uint256 vefShares);
    function requestWithdrawal(uint256 vefShares) external returns (uint256 requestId);
    function claimWithdrawal(uint256 requestId) external returns (uint256 csShares);
    function fundOperator(uint256 operatorId, uint256 amountEth) external returns (uint256 csShares);
    function releaseFunding(uint256 operatorId, uint256 csShares) external;
    function absorbLoss(uint256 operatorId, uint256 csShares) external returns (uint256 burned);
    function depositRewards(uint256 csShares) external;
    function claimRewards(uint256 cumulativeShares, bytes32[] calldata proof)
        external
        returns (uint256 booked);
    function syncRewards() external returns (uint256 booked);
    function setOperatorRewards(address operatorRewards) external;

    function totalAssets() external view returns (uint256);
    function totalAllocated() external view returns (uint256);
    function idleShares() external view returns (uint256);
    function allocatedShares(uint256 operatorId) external view returns (uint256);
    function backingValue(uint256 operatorId) external view returns (uint256);
    function convertToVef(uint256 csShares) external view returns (uint256);
    function convertToCs(uint256 vefShares) external view returns (uint256);
    function params() external view returns (VfpParams memory);
    function operatorRewards() external view returns (address);
    function rewardsBooked(address operatorRewards) external view returns (uint256);
    function pendingRewards() external view returns (uint256);
}
