// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICoverablePool} from "./ICoverablePool.sol";

/// @notice The staking pool; the pool contract is also its share token (csETH / kcsETH).
interface IStakePool is ICoverablePool {
    /// @notice Accounting part of an oracle report, handed to the pool once consensus, frame and
    /// validator-count checks passed in {IOracleReport}.
    struct AccountingReport {
        uint256 refSlot;
        /// seconds between the previous reference slot and this one
        uint256 timeElapsed;
        /// sum of the protocol validators' balances on the consensus layer at refSlot (wei)
        uint256 clBalance;
        /// cumulative ETH deposited by the protocol that the consensus layer has processed (wei)
        uint256 clDepositsProcessed;
        /// validators slashed since the previous report (explains part of a CL drop)
        uint256 newlySlashed;
        /// CL loss of front-run pre-deposits the report charged to operators' collateral before
        /// the accounting (1 ETH each; explains part of a CL drop, docs/adr/0008)
        uint256 frontRunLoss;
        /// ETH to pull from the WithdrawalVault (its balance at refSlot)
        uint256 withdrawalVaultPull;
        /// ETH available in the ElRewardsVault at refSlot; the pool pulls at most the smoothing cap
        uint256 elRewardsVaultAvailable;
        /// last withdrawal request id the oracle considers finalizable (0: none)
        uint256 finalizeUpToRequestId;
        /// share rate (ETH per share, 1e27 precision) the oracle used for finalization
        uint256 finalizationShareRate;
    }

    /// @notice Fee split in basis points of positive rewards.
    struct Fees {
        uint16 treasuryBps;
        uint16 operatorsBps;
        uint16 insuranceBps;
    }

    /// @notice Addresses of the contracts the pool works with.
    struct Contracts {
        address oracle;
        address withdrawalQueue;
        address withdrawalVault;
        address elRewardsVault;
        address sanityChecker;
    }

    /// @notice Where the reward fee is minted.
    struct FeeRecipients {
        address treasury;
        address operatorRewards;
        address insuranceFund;
    }

    /// @notice Initial configuration.
    struct InitParams {
        string name;
        string symbol;
        address admin;
        address guardian;
        FeeRecipients recipients;
        Fees fees;
        uint256 minDeposit;
        uint256 dailyStakeLimit;
    }

    error ZeroDeposit();
    error DepositBelowMinimum(uint256 amount, uint256 minimum);
    error DailyStakeLimitExceeded(uint256 requested, uint256 remaining);
    error ZeroShares(uint256 amount);
    error InitialDepositTooSmall(uint256 amount, uint256 minimum);
    error UnstakeAboveMaximum(uint256 shares, uint256 maxShares);
    error InsufficientFlashLiquidity(uint256 needed, uint256 available);
    error SlippageExceeded(uint256 ethOut, uint256 minEthOut);
    error InsufficientBuffer(uint256 requested, uint256 available);
    error ClDepositsOutOfRange(uint256 reported, uint256 previous, uint256 deposited);
    error VaultBalanceExceeded(address vault, uint256 requested, uint256 balance);
    error FinalizationRateAboveActual(uint256 reported, uint256 actual, uint256 maxDeviationBps);
    error EmptyPool();
    /// @notice The extra-data chain of the report for `refSlot` is pending: its later chunks may
    /// still restore losses the report booked, so deposits wait until it lands or its frame ends.
    error ExtraDataPending(uint256 refSlot);

    event Deposited(address indexed sender, address indexed recipient, uint256 amount, uint256 shares);
    event FlashExited(address indexed account, uint256 shares, uint256 ethOut, uint256 fee);
    event SharesLockedForWithdrawal(address indexed owner, uint256 shares, uint256 etherAmount);
    event OracleReportApplied(
        uint256 indexed refSlot,
        uint256 preTotalPooledEther,
        uint256 postTotalPooledEther,
        uint256 totalShares,
        uint256 elRewardsPulled,
        uint256 withdrawalsPulled
    );
    /// @notice A fee recipient the access policy does not allow to hold shares was skipped; the
    /// fee stays with the holders.
    event RewardFeeForgone(address indexed recipient, uint256 shares);
    event RewardFeeMinted(
        uint256 rewards, uint256 treasuryShares, uint256 operatorsShares, uint256 insuranceShares
    );
    event WithdrawalsFinalized(
        uint256 lastRequestId, uint256 etherLocked, uint256 sharesBurned, uint256 shareRate
    );
    event EtherSentToDepositModule(address indexed module, uint256 amount, uint256 depositedEther);
    event ContractsUpdated(Contracts contracts);
    event FeesUpdated(Fees fees);
    event FeeRecipientsUpdated(FeeRecipients recipients);
    event AccessPolicyUpdated(address policy);
    event DepositModuleUpdated(address module);
    /// @notice Governance allowed or forbade `provider` to burn shares for loss cover.
    event CoverProviderUpdated(address indexed provider, bool allowed);

    function deposit() external payable returns (uint256 shares);
    function flashExit(uint256 shares, uint256 minEthOut) external returns (uint256 ethOut);
    function lockSharesForWithdrawal(address owner, uint256 shares) external returns (uint256 etherAmount);
    function handleOracleReport(AccountingReport calldata report) external;
    function receiveWithdrawalVaultEther() external payable;
    function receiveElRewards() external payable;
    function withdrawToDepositModule(uint256 amount) external;
    /// @notice Only the oracle: the extra-data chain of the report for `refSlot` is pending until
    /// `deadline`; deposits are refused meanwhile (zeros: none pending).
    function setPendingExtraData(uint256 refSlot, uint256 deadline) external;
    function setCoverProvider(address provider, bool allowed) external;
    function isCoverProvider(address provider) external view returns (bool);
    function depositableEther() external view returns (uint256);
    function contracts() external view returns (Contracts memory);

    function bufferedEther() external view returns (uint256);
    function clBalance() external view returns (uint256);
    function depositedEther() external view returns (uint256);
    function clDepositsProcessed() external view returns (uint256);
    function transientEther() external view returns (uint256);
    function paused() external view returns (bool);
    function accessPolicy() external view returns (address);
}
