// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Node operators, their validator keys and the counters the deposit flow, the oracle and
/// the allocator read and advance.
///
/// Key lifecycle (per operator, by index; every range is contiguous):
/// `[0, topUpCursor)` topped up to 32 ETH (or front-run, skipped) · `[topUpCursor, confirmed)`
/// pre-deposit confirmed by a report · `[confirmed, preDeposited)` 1 ETH pre-deposit sent, awaiting
/// the report · `[preDeposited, totalKeys)` added, unused (removable); keys below `vettedLimit`
/// may be pre-deposited.
interface IOperatorRegistry {
    /// @notice Operator category (DESIGN.md §1).
    enum OperatorType {
        Professional,
        Kyc,
        Dvt,
        Home
    }

    /// @notice Distributed-validator technology a Dvt cluster runs.
    enum DvtPlatform {
        Ssv,
        Obol,
        Native
    }

    /// @notice Where a key stands in its lifecycle.
    enum KeyStatus {
        Added,
        PreDeposited,
        Confirmed,
        Deposited,
        FrontRun
    }

    /// @notice Everything stored about an operator except its keys.
    struct OperatorInfo {
        OperatorType operatorType;
        bool stopped;
        uint16 score;
        address manager;
        address rewardAddress;
        uint32 totalKeys;
        uint32 vettedLimit;
        uint32 preDeposited;
        uint32 confirmed;
        uint32 topUpCursor;
        uint32 deposited;
        uint32 exited;
        uint32 stuck;
        uint32 frontRun;
        uint32 pendingExitRequests;
    }

    /// @notice No operator has id `operatorId`.
    error OperatorNotFound(uint256 operatorId);
    /// @notice `caller` is not the manager of `operatorId`.
    error NotOperatorManager(uint256 operatorId, address caller);
    /// @notice The operation needs another operator type.
    error WrongOperatorType(uint256 operatorId, OperatorType operatorType);
    /// @notice Governance admission is only for Professional and Kyc operators.
    error NotAdmissible(OperatorType operatorType);
    /// @notice The access registry is not configured, so a Kyc operator cannot be checked.
    error AccessRegistryNotSet();
    /// @notice The bond manager is not configured.
    error BondManagerNotSet();
    /// @notice `account` lacks a KYC attestation of at least `minTier`.
    error NotAttested(address account, uint8 minTier);
    /// @notice The registration bond `sent` is below the bond of one key, `required`.
    error RegistrationBondTooLow(uint256 sent, uint256 required);
    /// @notice A DVT cluster's size or threshold is out of range.
    error InvalidCluster(uint256 members, uint256 threshold);
    /// @notice A DVT cluster lists `member` twice (or a zero address).
    error InvalidClusterMember(address member);
    /// @notice The operator is stopped by governance.
    error OperatorStopped(uint256 operatorId);
    /// @notice The key batch has `count` keys; it must have 1 to `max`.
    error InvalidBatchSize(uint256 count, uint256 max);
    /// @notice The concatenated pubkeys / signatures do not have the lengths of `count` keys.
    error InvalidKeysLength(uint256 pubkeysLength, uint256 signaturesLength);
    /// @notice The key is already registered to `operatorId` at `keyIndex` (any operator).
    error KeyAlreadyRegistered(bytes32 pubkeyHash, uint256 operatorId, uint256 keyIndex);
    /// @notice The all-zero pubkey is not a key.
    error EmptyKey(uint256 position);
    /// @notice The key range `[from, from + count)` is not within `[min, max)`.
    error KeyRangeInvalid(uint256 from, uint256 count, uint256 min, uint256 max);
    /// @notice The vetted limit must lie in `[min, max]`.
    error VettedLimitOutOfRange(uint256 limit, uint256 min, uint256 max);
    /// @notice Only `available` keys can be pre-deposited now (vetting, stop or bond).
    error NotEnoughDepositableKeys(uint256 operatorId, uint256 requested, uint256 available);
    /// @notice A confirmation must advance within `(confirmed, preDeposited]`.
    error ConfirmationOutOfRange(uint256 operatorId, uint256 upTo, uint256 confirmed, uint256 preDeposited);
    /// @notice The performance score exceeds 10,000 bps.
    error ScoreOutOfRange(uint256 score);
    /// @notice Exited / stuck counters must satisfy `exitedBefore <= exited <= deposited` and
    /// `stuck <= deposited - exited`.
    error CountersInvalid(uint256 exited, uint256 stuck, uint256 exitedBefore, uint256 deposited);
    /// @notice Exit requests are for topped-up keys that are not front-run, with a future deadline.
    error ExitRequestInvalid(uint256 operatorId, uint256 keyIndex, uint256 deadline);
    /// @notice There is no pending exit request for the key.
    error NoExitRequest(uint256 operatorId, uint256 keyIndex);
    /// @notice Array arguments differ in length.
    error LengthMismatch(uint256 a, uint256 b);
    /// @notice `caller` is not the pending manager of `operatorId`.
    error NotPendingManager(uint256 operatorId, address caller);

    /// @notice Operator `operatorId` was created.
    event OperatorRegistered(
        uint256 indexed operatorId, OperatorType operatorType, address indexed manager, address rewardAddress
    );
    /// @notice A DVT cluster's composition was recorded.
    event DvtClusterRegistered(
        uint256 indexed operatorId, address[] members, uint8 threshold, DvtPlatform platform
    );
    /// @notice A key was added at `keyIndex`.
    event KeyAdded(uint256 indexed operatorId, uint256 keyIndex, bytes pubkey);
    /// @notice The key at `keyIndex` was removed (the last key, if any, moved into its place).
    event KeyRemoved(uint256 indexed operatorId, uint256 keyIndex, bytes pubkey);
    /// @notice The total number of keys changed.
    event TotalKeysChanged(uint256 indexed operatorId, uint256 totalKeys);
    /// @notice The vetted limit changed.
    event VettedLimitSet(uint256 indexed operatorId, uint256 vettedLimit);
    /// @notice The reward address changed.
    event RewardAddressSet(uint256 indexed operatorId, address rewardAddress);
    /// @notice A manager change was proposed.
    event ManagerProposed(uint256 indexed operatorId, address indexed proposed);
    /// @notice The manager changed.
    event ManagerChanged(uint256 indexed operatorId, address indexed manager);
    /// @notice Governance stopped or resumed the operator.
    event OperatorStoppedSet(uint256 indexed operatorId, bool stopped);
    /// @notice The oracle set the performance score (bps).
    event ScoreSet(uint256 indexed operatorId, uint256 score);
    /// @notice Keys `[from, from + count)` received their 1 ETH pre-deposit.
    event KeysPreDeposited(uint256 indexed operatorId, uint256 from, uint256 count);
    /// @notice A report confirmed the pre-deposits of keys below `upTo`.
    event PreDepositsConfirmed(uint256 indexed operatorId, uint256 upTo);
    /// @notice The pre-deposit of key `keyIndex` was front-run; the operator is stopped.
    event KeyFrontRun(uint256 indexed operatorId, uint256 keyIndex, bytes pubkey);
    /// @notice The cursor moved over `processed` confirmed keys, `deposited` of them were topped up.
    event KeysDeposited(uint256 indexed operatorId, uint256 processed, uint256 deposited);
    /// @notice The oracle updated the exited and stuck counters.
    event ExitedAndStuckUpdated(uint256 indexed operatorId, uint256 exited, uint256 stuck);
    /// @notice The oracle requested the exit of key `keyIndex` by `deadline`.
    event ExitRequested(uint256 indexed operatorId, uint256 keyIndex, uint256 deadline);
    /// @notice The exit request of key `keyIndex` was closed.
    event ExitRequestCleared(uint256 indexed operatorId, uint256 keyIndex);
    /// @notice The access registry (and the minimum KYC tier of Kyc operators) changed.
    event AccessRegistrySet(address registry, uint8 minTier);
    /// @notice The bond manager changed.
    event BondManagerSet(address bondManager);

    // ----------------------------------------------------------------- registration
    function admitOperator(OperatorType operatorType, address manager, address rewardAddress)
        external
        returns (uint256 operatorId);
    function registerHomeOperator(address rewardAddress) external payable returns (uint256 operatorId);
    function registerDvtCluster(
        address[] calldata members,
        uint8 threshold,
        DvtPlatform platform,
        address rewardAddress
    ) external payable returns (uint256 operatorId);

    // ----------------------------------------------------------------- operator self-service
    function addKeys(uint256 operatorId, bytes calldata pubkeys, bytes calldata signatures) external;
    function removeKeys(uint256 operatorId, uint256 fromIndex, uint256 count) external;
    function setRewardAddress(uint256 operatorId, address rewardAddress) external;
    function proposeManager(uint256 operatorId, address newManager) external;
    function acceptManager(uint256 operatorId) external;

    // ----------------------------------------------------------------- roles
    function setVettedLimit(uint256 operatorId, uint256 limit) external;
    function setStopped(uint256 operatorId, bool stopped) external;
    function setScore(uint256 operatorId, uint256 score) external;
    function setScores(uint256[] calldata operatorIds, uint256[] calldata scores) external;
    function requestExit(uint256 operatorId, uint256 keyIndex, uint256 deadline) external;
    function clearExitRequest(uint256 operatorId, uint256 keyIndex) external;
    function updateExitedAndStuck(uint256 operatorId, uint256 exited, uint256 stuck)
        external
        returns (uint256 previousExited);

    // ----------------------------------------------------------------- deposit-flow hooks
    function markPreDeposited(uint256 operatorId, uint256 count) external returns (uint256 fromIndex);
    function confirmPreDeposits(uint256 operatorId, uint256 upTo) external;
    function markFrontRun(uint256 operatorId, uint256 keyIndex) external;
    function markDeposited(uint256 operatorId, uint256 count) external returns (uint256 deposited);

    // ----------------------------------------------------------------- views
    function nextKeys(uint256 operatorId, uint256 count)
        external
        view
        returns (bytes memory pubkeys, bytes memory signatures);
    function topUpKeys(uint256 operatorId, uint256 count)
        external
        view
        returns (bytes memory pubkeys, bytes memory signatures, uint256 keys);
    function depositableKeys(uint256 operatorId) external view returns (uint256);
    function activeKeys(uint256 operatorId) external view returns (uint256);
    function getOperator(uint256 operatorId) external view returns (OperatorInfo memory);
    function operatorCount() external view returns (uint256);
    function getKey(uint256 operatorId, uint256 keyIndex)
        external
        view
        returns (bytes memory pubkey, bytes memory signature, KeyStatus status);
    function getKeys(uint256 operatorId, uint256 start, uint256 count)
        external
        view
        returns (bytes memory pubkeys, KeyStatus[] memory statuses, uint256[] memory exitDeadlines);
    function keyOwner(bytes calldata pubkey)
        external
        view
        returns (bool registered, uint256 operatorId, uint256 keyIndex);
    function dvtCluster(uint256 operatorId)
        external
        view
        returns (address[] memory members, uint8 threshold, DvtPlatform platform);
    function exitRequestDeadline(uint256 operatorId, uint256 keyIndex) external view returns (uint256);
    /// @notice When the key's last exit request was closed (0: never, or requested again since).
    function exitRequestClosedAt(uint256 operatorId, uint256 keyIndex) external view returns (uint256);
}
