// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice FIFO withdrawal queue with ERC-721 tickets.
interface IWithdrawalQueue {
    /// @notice One withdrawal request.
    struct Request {
        uint128 shares; // csETH shares locked
        uint128 etherAtRequest; // their ETH value when requested (upper bound of the payout)
    }

    /// @notice Rate applied to every request finalized by one report.
    struct Checkpoint {
        uint64 lastRequestId; // requests (previous checkpoint's lastRequestId, lastRequestId]
        uint64 timestamp;
        uint128 shareRate; // ETH per share, 1e27 precision
    }

    /// @notice Inputs an off-chain ETA estimate needs.
    struct QueueStatus {
        uint256 lastRequestId;
        uint256 lastFinalizedRequestId;
        uint256 unfinalizedShares;
        uint256 unfinalizedEther;
        uint256 lockedEther;
        uint256 lastFinalizationTimestamp;
        uint256 checkpointCount;
    }

    error RequestTooSmall(uint256 etherAmount, uint256 minimum);
    error RequestTooLarge(uint256 etherAmount, uint256 maximum);
    error NotRequestOwner(uint256 requestId, address caller);
    error RequestNotFinalized(uint256 requestId, uint256 lastFinalizedRequestId);
    error RequestNotFound(uint256 requestId);
    error RequestAlreadyClaimed(uint256 requestId);
    error FinalizationPointBeyondLastRequest(uint256 requested, uint256 lastRequestId);
    error InvalidHint(uint256 requestId, uint256 hint);
    error ArrayLengthMismatch(uint256 ids, uint256 hints);
    error UnexpectedEther(address sender, uint256 amount);

    event WithdrawalRequested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed owner,
        uint256 shares,
        uint256 etherAmount
    );
    event WithdrawalsFinalized(
        uint256 indexed fromRequestId,
        uint256 indexed toRequestId,
        uint256 etherLocked,
        uint256 shares,
        uint256 shareRate
    );
    event WithdrawalClaimed(
        uint256 indexed requestId, address indexed owner, address recipient, uint256 etherAmount
    );

    function requestWithdrawal(uint256 shares, address owner) external returns (uint256 requestId);
    function claim(uint256 requestId, address recipient) external returns (uint256 etherAmount);
    function claimBatch(uint256[] calldata requestIds, uint256[] calldata hints, address recipient)
        external
        returns (uint256 etherAmount);
    function finalize(uint256 upToRequestId, uint256 shareRate, uint256 maxEther)
        external
        returns (uint256 lastFinalized, uint256 etherToLock, uint256 sharesToBurn);

    function lastRequestId() external view returns (uint256);
    function lastFinalizedRequestId() external view returns (uint256);
    function unfinalizedEther() external view returns (uint256);
    function lockedEther() external view returns (uint256);
    function status() external view returns (QueueStatus memory);
}
