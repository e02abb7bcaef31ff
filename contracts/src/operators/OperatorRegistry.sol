// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {GuardianPausable} from "../governance/Governed.sol";
import {IAccessRegistry} from "../interfaces/IAccessRegistry.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";

/// @notice Registry of ClayStack node operators and their validator keys.
///
/// Guarantees:
/// - A pubkey is registered to at most one (operator, index) at any time, across all operators: a
///   global pubkey -> (operator, index) index rejects duplicates, so no operator can register a key
///   another operator holds.
/// - Only an operator's manager adds or removes its keys, and only unused keys (never pre-deposited)
///   can be removed. Removing keys below the vetted limit lowers the limit to the removal point.
/// - Professional and Kyc operators are admitted only by governance (DEFAULT_ADMIN_ROLE, the
///   timelock); a Kyc operator's manager and reward address must hold a KYC attestation, checked
///   against the configured access registry (unset registry: Kyc admission reverts), again when the
///   manager or reward address changes and when keys are added; a Kyc operator whose manager lost its
///   attestation gets no new deposits. Home operators and Dvt clusters register permissionlessly with
///   at least the bond of one key.
/// - A key is pre-deposited only below the vetted limit, while the operator is not stopped and its
///   bond covers it; it is topped up only after a report confirmed its pre-deposit, and never if it
///   was front-run. The deposit counters (preDeposited, confirmed, topUpCursor, deposited, exited)
///   only move forward.
/// - Every state-changing path is bounded: no loop over operators; loops over keys, scores or
///   members are capped by {MAX_BATCH} / {MAX_CLUSTER_SIZE}.
/// - Roles: VETTING_ROLE sets vetted limits; REPORTER_ROLE (the oracle report) sets scores, exit
///   requests, exited/stuck counts, confirmations and front-runs; DEPOSITOR_ROLE (the deposit
///   module) marks pre-deposits and top-ups; the guardian only pauses registration, key uploads and
///   new pre-deposits.
contract OperatorRegistry is GuardianPausable, IOperatorRegistry {
    /// @notice Role of the vetting committee (sets vetted limits).
    bytes32 public constant VETTING_ROLE = keccak256("claystack.role.vetting");
    /// @notice Role of the oracle report contract.
    bytes32 public constant REPORTER_ROLE = keccak256("claystack.role.reporter");
    /// @notice Role of the deposit module.
    bytes32 public constant DEPOSITOR_ROLE = keccak256("claystack.role.depositor");

    /// @notice BLS12-381 public key length.
    uint256 public constant PUBKEY_LENGTH = 48;
    /// @notice BLS12-381 signature length.
    uint256 public constant SIGNATURE_LENGTH = 96;
    /// @notice Largest batch of keys (add, remove, deposit) or scores in one call.
    uint256 public constant MAX_BATCH = 100;
    /// @notice Largest DVT cluster.
    uint256 public constant MAX_CLUSTER_SIZE = 13;
    /// @dev Flag of a closed request in `exitDeadlines` (the low bits hold when it was closed);
    /// deadlines are below 2^64, so a pending request never has it.
    uint256 internal constant EXIT_CLOSED = 1 << 255;
    /// @notice Highest performance score (bps).
    uint256 public constant MAX_SCORE = 10_000;
    /// @notice Most keys one {getKeys} call returns (a view for off-chain readers; 500 keys cost
    /// about 4M gas of an `eth_call`, well under the usual 50M RPC gas cap).
    uint256 public constant MAX_KEYS_PER_READ = 500;

    uint256 private constant FRONT_RUN_FLAG = 1;

    /// @dev A key in five words: pubkey[0:32], pubkey[32:48] left-aligned with the front-run flag in
    /// the lowest byte, then the 96-byte signature.
    struct Key {
        bytes32 pubkey0;
        bytes32 pubkey1AndFlags;
        bytes32 sig0;
        bytes32 sig1;
        bytes32 sig2;
    }

    /// @dev Packed operator record (3 slots).
    struct Operator {
        // slot 0
        address manager;
        OperatorType operatorType;
        bool stopped;
        uint16 score;
        uint32 frontRun;
        uint32 pendingExitRequests;
        // slot 1
        address rewardAddress;
        // slot 2
        uint32 totalKeys;
        uint32 vettedLimit;
        uint32 preDeposited;
        uint32 confirmed;
        uint32 topUpCursor;
        uint32 deposited;
        uint32 exited;
        uint32 stuck;
    }

    struct Cluster {
        address[] members;
        uint8 threshold;
        DvtPlatform platform;
    }

    /// @custom:storage-location erc7201:claystack.storage.OperatorRegistry
    struct RegistryStorage {
        uint256 operatorCount;
        address accessRegistry;
        uint8 kycMinTier;
        address bondManager;
        mapping(uint256 operatorId => Operator) operators;
        mapping(uint256 operatorId => mapping(uint256 keyIndex => Key)) keys;
        /// (operatorId + 1) << 32 | keyIndex; 0 = not registered
        mapping(bytes32 pubkeyHash => uint256) keyOwner;
        mapping(uint256 operatorId => Cluster) clusters;
        // 0: never requested; below 2^64: pending, its deadline; EXIT_CLOSED | timestamp: closed then
        mapping(uint256 operatorId => mapping(uint256 keyIndex => uint256 deadline)) exitDeadlines;
        mapping(uint256 operatorId => address) pendingManager;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.OperatorRegistry")) - 1)) & ~bytes32(uint256(0xff))
    // computed with `cast index-erc7201 claystack.storage.OperatorRegistry`, checked by a unit test
    bytes32 private constant REGISTRY_STORAGE =
        0x3675260a22f0b71531e6b9ef7237dffcf1848b7c559b70787b53cb55f8d5f900;

    modifier onlyManager(uint256 operatorId) {
        address manager = _operator(operatorId).manager;
        if (msg.sender != manager) revert NotOperatorManager(operatorId, msg.sender);
        _;
    }

    /// @notice Initializes the proxy.
    function initialize(address admin, address guardian) external initializer {
        __Governed_init(admin, guardian);
    }

    // ================================================================== registration

    /// @notice Admits a Professional or Kyc operator. Governance only.
    function admitOperator(OperatorType operatorType, address manager, address rewardAddress)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        whenNotPaused
        returns (uint256 operatorId)
    {
        if (operatorType != OperatorType.Professional && operatorType != OperatorType.Kyc) {
            revert NotAdmissible(operatorType);
        }
        if (operatorType == OperatorType.Kyc) {
            _requireAttested(manager);
            _requireAttested(rewardAddress);
        }
        operatorId = _create(operatorType, manager, rewardAddress);
    }

    /// @notice Registers the caller as a Home operator; `msg.value` (at least the bond of one key)
    /// becomes its bond.
    function registerHomeOperator(address rewardAddress)
        external
        payable
        whenNotPaused
        returns (uint256 operatorId)
    {
        IBondManager bonds = _requireBondRegistration(OperatorType.Home);
        operatorId = _create(OperatorType.Home, msg.sender, rewardAddress);
        bonds.depositBond{value: msg.value}(operatorId);
    }

    /// @notice Registers a DVT cluster managed by the caller; `msg.value` (at least the bond of one
    /// validator) becomes the cluster's bond.
    function registerDvtCluster(
        address[] calldata members,
        uint8 threshold,
        DvtPlatform platform,
        address rewardAddress
    ) external payable whenNotPaused returns (uint256 operatorId) {
        uint256 n = members.length;
        if (n == 0 || n > MAX_CLUSTER_SIZE || threshold == 0 || threshold > n) {
            revert InvalidCluster(n, threshold);
        }
        for (uint256 i; i < n; ++i) {
            address member = members[i];
            if (member == address(0)) revert InvalidClusterMember(member);
            for (uint256 j; j < i; ++j) {
                if (members[j] == member) revert InvalidClusterMember(member);
            }
        }
        IBondManager bonds = _requireBondRegistration(OperatorType.Dvt);
        operatorId = _create(OperatorType.Dvt, msg.sender, rewardAddress);
        Cluster storage c = _s().clusters[operatorId];
        c.members = members;
        c.threshold = threshold;
        c.platform = platform;
        emit DvtClusterRegistered(operatorId, members, threshold, platform);
        bonds.depositBond{value: msg.value}(operatorId);
    }

    // ================================================================== operator self-service

    /// @notice Adds a batch of keys: `pubkeys` is `count` concatenated 48-byte keys, `signatures`
    /// the `count` matching 96-byte deposit signatures. Manager only.
    function addKeys(uint256 operatorId, bytes calldata pubkeys, bytes calldata signatures)
        external
        whenNotPaused
        onlyManager(operatorId)
    {
        uint256 count = pubkeys.length / PUBKEY_LENGTH;
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (pubkeys.length != count * PUBKEY_LENGTH || signatures.length != count * SIGNATURE_LENGTH) {
            revert InvalidKeysLength(pubkeys.length, signatures.length);
        }
        RegistryStorage storage $ = _s();
        Operator storage op = $.operators[operatorId];
        if (op.stopped) revert OperatorStopped(operatorId);
        if (op.operatorType == OperatorType.Kyc) _requireAttested(msg.sender);
        uint256 index = op.totalKeys;
        for (uint256 i; i < count; ++i) {
            _storeKey(
                $,
                operatorId,
                index + i,
                pubkeys[i * PUBKEY_LENGTH:(i + 1) * PUBKEY_LENGTH],
                signatures[i * SIGNATURE_LENGTH:(i + 1) * SIGNATURE_LENGTH]
            );
        }
        index += count;
        op.totalKeys = _u32(index);
        emit TotalKeysChanged(operatorId, index);
    }

    /// @notice Removes the unused keys `[fromIndex, fromIndex + count)`; the last keys move into the
    /// freed indices. Lowers the vetted limit to `fromIndex` if it was above. Manager only.
    function removeKeys(uint256 operatorId, uint256 fromIndex, uint256 count)
        external
        onlyManager(operatorId)
    {
        RegistryStorage storage $ = _s();
        Operator storage op = $.operators[operatorId];
        uint256 total = op.totalKeys;
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (fromIndex < op.preDeposited || fromIndex + count > total) {
            revert KeyRangeInvalid(fromIndex, count, op.preDeposited, total);
        }
        mapping(uint256 => Key) storage keys = $.keys[operatorId];
        for (uint256 i = fromIndex + count; i > fromIndex;) {
            // safe: i > fromIndex >= 0
            unchecked {
                --i;
            }
            Key memory removed = keys[i];
            bytes memory pubkey = _pubkey(removed);
            delete $.keyOwner[keccak256(pubkey)];
            // safe: total > i >= 0 while keys remain in the range
            unchecked {
                --total;
            }
            if (i != total) {
                Key memory moved = keys[total];
                keys[i] = moved;
                $.keyOwner[keccak256(_pubkey(moved))] = _packOwner(operatorId, i);
            }
            delete keys[total];
            emit KeyRemoved(operatorId, i, pubkey);
        }
        op.totalKeys = _u32(total);
        emit TotalKeysChanged(operatorId, total);
        if (op.vettedLimit > fromIndex) {
            op.vettedLimit = _u32(fromIndex);
            emit VettedLimitSet(operatorId, fromIndex);
        }
    }

    /// @notice Sets where the operator's rewards (and claimed excess bond) go. Manager only; a Kyc
    /// operator's new address must be attested.
    function setRewardAddress(uint256 operatorId, address rewardAddress) external onlyManager(operatorId) {
        if (rewardAddress == address(0)) revert ZeroAddress();
        Operator storage op = _s().operators[operatorId];
        if (op.operatorType == OperatorType.Kyc) _requireAttested(rewardAddress);
        op.rewardAddress = rewardAddress;
        emit RewardAddressSet(operatorId, rewardAddress);
    }

    /// @notice Proposes a new manager (two-step transfer). Manager only.
    function proposeManager(uint256 operatorId, address newManager) external onlyManager(operatorId) {
        if (newManager == address(0)) revert ZeroAddress();
        _s().pendingManager[operatorId] = newManager;
        emit ManagerProposed(operatorId, newManager);
    }

    /// @notice Accepts the manager role. Pending manager only; a Kyc operator's manager must be attested.
    function acceptManager(uint256 operatorId) external {
        RegistryStorage storage $ = _s();
        if ($.pendingManager[operatorId] != msg.sender || msg.sender == address(0)) {
            revert NotPendingManager(operatorId, msg.sender);
        }
        Operator storage op = $.operators[operatorId];
        if (op.operatorType == OperatorType.Kyc) _requireAttested(msg.sender);
        delete $.pendingManager[operatorId];
        op.manager = msg.sender;
        emit ManagerChanged(operatorId, msg.sender);
    }

    // ================================================================== roles

    /// @notice Sets how many of the operator's keys are vetted, in `[preDeposited, totalKeys]`.
    function setVettedLimit(uint256 operatorId, uint256 limit) external onlyRole(VETTING_ROLE) {
        Operator storage op = _operator(operatorId);
        if (limit < op.preDeposited || limit > op.totalKeys) {
            revert VettedLimitOutOfRange(limit, op.preDeposited, op.totalKeys);
        }
        op.vettedLimit = _u32(limit);
        emit VettedLimitSet(operatorId, limit);
    }

    /// @notice Stops (no new keys, no new deposits) or resumes the operator. Governance only.
    function setStopped(uint256 operatorId, bool stopped) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _operator(operatorId).stopped = stopped;
        emit OperatorStoppedSet(operatorId, stopped);
    }

    /// @notice Sets the operator's performance score (bps). Oracle report only.
    function setScore(uint256 operatorId, uint256 score) external onlyRole(REPORTER_ROLE) {
        _setScore(operatorId, score);
    }

    /// @notice Sets up to {MAX_BATCH} scores. Oracle report only.
    function setScores(uint256[] calldata operatorIds, uint256[] calldata scores)
        external
        onlyRole(REPORTER_ROLE)
    {
        uint256 n = operatorIds.length;
        if (n != scores.length) revert LengthMismatch(n, scores.length);
        if (n == 0 || n > MAX_BATCH) revert InvalidBatchSize(n, MAX_BATCH);
        for (uint256 i; i < n; ++i) {
            _setScore(operatorIds[i], scores[i]);
        }
    }

    /// @notice Records an exit request for a topped-up key, due by `deadline`. A key whose request
    /// is still pending keeps its deadline (never extended, so the ExitEnforcer, which enforces
    /// each deadline once, cannot enforce it twice). Oracle report only.
    function requestExit(uint256 operatorId, uint256 keyIndex, uint256 deadline)
        external
        onlyRole(REPORTER_ROLE)
    {
        RegistryStorage storage $ = _s();
        Operator storage op = _operator(operatorId);
        if (
            keyIndex >= op.topUpCursor || _isFrontRun($.keys[operatorId][keyIndex])
                // forge-lint: disable-next-line(block-timestamp) -- deadlines are days long
                || deadline <= block.timestamp || deadline > type(uint64).max
        ) revert ExitRequestInvalid(operatorId, keyIndex, deadline);
        mapping(uint256 => uint256) storage deadlines = $.exitDeadlines[operatorId];
        if (_isPending(deadlines[keyIndex])) return;
        ++op.pendingExitRequests;
        deadlines[keyIndex] = deadline;
        emit ExitRequested(operatorId, keyIndex, deadline);
    }

    /// @notice Closes the exit request of a key: the oracle saw its validator exiting or exited on
    /// the beacon chain (the operators report's `exitsStarted`). The ExitEnforcer then refuses to
    /// force its exit. Records when it was closed ({exitRequestClosedAt}), so the operators module
    /// can refuse a new request for the key within the same report. Oracle report only.
    function clearExitRequest(uint256 operatorId, uint256 keyIndex) external onlyRole(REPORTER_ROLE) {
        RegistryStorage storage $ = _s();
        Operator storage op = _operator(operatorId);
        mapping(uint256 => uint256) storage deadlines = $.exitDeadlines[operatorId];
        if (!_isPending(deadlines[keyIndex])) revert NoExitRequest(operatorId, keyIndex);
        // a write instead of a delete: the same gas before refunds, and the slot stays warm for a
        // later request of the key
        deadlines[keyIndex] = EXIT_CLOSED | block.timestamp;
        --op.pendingExitRequests;
        emit ExitRequestCleared(operatorId, keyIndex);
    }

    /// @notice Sets the exited (monotonic, at most deposited) and stuck (at most active) counts and
    /// returns the exited count before. Unchanged counts are not written again (no event). Oracle
    /// report only.
    function updateExitedAndStuck(uint256 operatorId, uint256 exited, uint256 stuck)
        external
        onlyRole(REPORTER_ROLE)
        returns (uint256 previousExited)
    {
        Operator storage op = _operator(operatorId);
        uint256 deposited = op.deposited;
        previousExited = op.exited;
        if (exited < previousExited || exited > deposited || stuck > deposited - exited) {
            revert CountersInvalid(exited, stuck, previousExited, deposited);
        }
        if (exited == previousExited && stuck == op.stuck) return previousExited;
        op.exited = _u32(exited);
        op.stuck = _u32(stuck);
        emit ExitedAndStuckUpdated(operatorId, exited, stuck);
    }

    // ================================================================== deposit-flow hooks

    /// @notice Records the 1 ETH pre-deposit of the next `count` keys (those {nextKeys} returned).
    /// Deposit module only.
    function markPreDeposited(uint256 operatorId, uint256 count)
        external
        onlyRole(DEPOSITOR_ROLE)
        whenNotPaused
        returns (uint256 fromIndex)
    {
        Operator storage op = _operator(operatorId);
        uint256 available = _depositableKeys(operatorId, op);
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (count > available) revert NotEnoughDepositableKeys(operatorId, count, available);
        fromIndex = op.preDeposited;
        op.preDeposited = _u32(fromIndex + count);
        emit KeysPreDeposited(operatorId, fromIndex, count);
    }

    /// @notice Confirms (from a quorum report) that the pre-deposits of the keys below `upTo` reached
    /// the beacon chain with the protocol's withdrawal credentials. Front-run keys in the range must
    /// have been marked first. Oracle report only.
    function confirmPreDeposits(uint256 operatorId, uint256 upTo) external onlyRole(REPORTER_ROLE) {
        Operator storage op = _operator(operatorId);
        if (upTo <= op.confirmed || upTo > op.preDeposited) {
            revert ConfirmationOutOfRange(operatorId, upTo, op.confirmed, op.preDeposited);
        }
        op.confirmed = _u32(upTo);
        emit PreDepositsConfirmed(operatorId, upTo);
    }

    /// @notice Marks the pre-deposited, unconfirmed key `keyIndex` as front-run (the beacon chain saw
    /// other withdrawal credentials first): it is never topped up, and the operator is stopped.
    /// Oracle report only; the report also penalizes the bond (see BondManager.coverLoss).
    function markFrontRun(uint256 operatorId, uint256 keyIndex) external onlyRole(REPORTER_ROLE) {
        RegistryStorage storage $ = _s();
        Operator storage op = _operator(operatorId);
        Key storage key = $.keys[operatorId][keyIndex];
        if (keyIndex < op.confirmed || keyIndex >= op.preDeposited || _isFrontRun(key)) {
            revert KeyRangeInvalid(keyIndex, 1, op.confirmed, op.preDeposited);
        }
        key.pubkey1AndFlags |= bytes32(FRONT_RUN_FLAG);
        ++op.frontRun;
        emit KeyFrontRun(operatorId, keyIndex, _pubkey(key));
        if (!op.stopped) {
            op.stopped = true;
            emit OperatorStoppedSet(operatorId, true);
        }
    }

    /// @notice Moves the top-up cursor over the next `count` confirmed keys (those {topUpKeys}
    /// returned) and counts the ones that are not front-run as deposited. Deposit module only.
    function markDeposited(uint256 operatorId, uint256 count)
        external
        onlyRole(DEPOSITOR_ROLE)
        returns (uint256 deposited)
    {
        RegistryStorage storage $ = _s();
        Operator storage op = _operator(operatorId);
        uint256 cursor = op.topUpCursor;
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (cursor + count > op.confirmed) revert KeyRangeInvalid(cursor, count, cursor, op.confirmed);
        mapping(uint256 => Key) storage keys = $.keys[operatorId];
        for (uint256 i = cursor; i < cursor + count; ++i) {
            if (!_isFrontRun(keys[i])) ++deposited;
        }
        op.topUpCursor = _u32(cursor + count);
        op.deposited = _u32(op.deposited + deposited);
        emit KeysDeposited(operatorId, count, deposited);
    }

    // ================================================================== governance

    /// @notice Sets the access registry Kyc operators are checked against and the minimum tier.
    function setAccessRegistry(address registry, uint8 minTier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registry == address(0)) revert ZeroAddress();
        _checkBounds("kycMinTier", minTier, 1, type(uint8).max);
        RegistryStorage storage $ = _s();
        $.accessRegistry = registry;
        $.kycMinTier = minTier;
        emit AccessRegistrySet(registry, minTier);
    }

    /// @notice Sets the bond manager.
    function setBondManager(address bondManager_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bondManager_ == address(0)) revert ZeroAddress();
        _s().bondManager = bondManager_;
        emit BondManagerSet(bondManager_);
    }

    // ================================================================== views

    /// @notice The next `count` keys to pre-deposit: `[preDeposited, preDeposited + count)`.
    /// Reverts unless that many are depositable now.
    function nextKeys(uint256 operatorId, uint256 count)
        external
        view
        returns (bytes memory pubkeys, bytes memory signatures)
    {
        Operator storage op = _operator(operatorId);
        uint256 available = _depositableKeys(operatorId, op);
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (count > available) revert NotEnoughDepositableKeys(operatorId, count, available);
        (pubkeys, signatures,) = _collect(operatorId, op.preDeposited, count, false);
    }

    /// @notice The keys to top up among the next `count` confirmed ones (front-run keys skipped):
    /// `keys` of them, concatenated.
    function topUpKeys(uint256 operatorId, uint256 count)
        external
        view
        returns (bytes memory pubkeys, bytes memory signatures, uint256 keys)
    {
        Operator storage op = _operator(operatorId);
        uint256 cursor = op.topUpCursor;
        if (count == 0 || count > MAX_BATCH) revert InvalidBatchSize(count, MAX_BATCH);
        if (cursor + count > op.confirmed) revert KeyRangeInvalid(cursor, count, cursor, op.confirmed);
        return _collect(operatorId, cursor, count, true);
    }

    /// @notice How many keys can be pre-deposited now (vetted, not stopped, covered by the bond).
    function depositableKeys(uint256 operatorId) external view returns (uint256) {
        return _depositableKeys(operatorId, _operator(operatorId));
    }

    /// @notice Deposited keys that have not exited.
    function activeKeys(uint256 operatorId) external view returns (uint256) {
        Operator storage op = _operator(operatorId);
        return op.deposited - op.exited;
    }

    /// @notice The operator's record.
    function getOperator(uint256 operatorId) external view returns (OperatorInfo memory info) {
        Operator storage op = _operator(operatorId);
        info = OperatorInfo({
            operatorType: op.operatorType,
            stopped: op.stopped,
            score: op.score,
            manager: op.manager,
            rewardAddress: op.rewardAddress,
            totalKeys: op.totalKeys,
            vettedLimit: op.vettedLimit,
            preDeposited: op.preDeposited,
            confirmed: op.confirmed,
            topUpCursor: op.topUpCursor,
            deposited: op.deposited,
            exited: op.exited,
            stuck: op.stuck,
            frontRun: op.frontRun,
            pendingExitRequests: op.pendingExitRequests
        });
    }

    /// @notice Number of operators; ids are `0 .. operatorCount - 1`.
    function operatorCount() external view returns (uint256) {
        return _s().operatorCount;
    }

    /// @notice A key and its status.
    function getKey(uint256 operatorId, uint256 keyIndex)
        external
        view
        returns (bytes memory pubkey, bytes memory signature, KeyStatus status)
    {
        Operator storage op = _operator(operatorId);
        if (keyIndex >= op.totalKeys) revert KeyRangeInvalid(keyIndex, 1, 0, op.totalKeys);
        Key storage key = _s().keys[operatorId][keyIndex];
        pubkey = _pubkey(key);
        signature = abi.encodePacked(key.sig0, key.sig1, key.sig2);
        status = _keyStatus(op, keyIndex, key.pubkey1AndFlags);
    }

    /// @notice Keys `[start, start + count)` of an operator in one call: the concatenated 48-byte
    /// pubkeys, each key's status and its pending exit-request deadline (0: none). For off-chain
    /// readers (the oracle); `count` is 1 to {MAX_KEYS_PER_READ}.
    function getKeys(uint256 operatorId, uint256 start, uint256 count)
        external
        view
        returns (bytes memory pubkeys, KeyStatus[] memory statuses, uint256[] memory exitDeadlines)
    {
        Operator storage op = _operator(operatorId);
        if (count == 0 || count > MAX_KEYS_PER_READ) revert InvalidBatchSize(count, MAX_KEYS_PER_READ);
        uint256 total = op.totalKeys;
        if (start > total || count > total - start) revert KeyRangeInvalid(start, count, 0, total);
        mapping(uint256 => Key) storage keys = _s().keys[operatorId];
        pubkeys = new bytes(count * PUBKEY_LENGTH);
        statuses = new KeyStatus[](count);
        exitDeadlines = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            bytes32 pk0 = keys[start + i].pubkey0;
            bytes32 pk1 = keys[start + i].pubkey1AndFlags;
            // memory-safe: writes stay inside `pubkeys` (i < count); the second store rewrites
            // bytes [16, 48) of the key as pk0[16:32] ++ pk1[0:16], dropping the flag bits
            assembly ("memory-safe") {
                let p := add(add(pubkeys, 32), mul(i, 48))
                mstore(p, pk0)
                mstore(add(p, 16), or(shl(128, pk0), shr(128, pk1)))
            }
            statuses[i] = _keyStatus(op, start + i, pk1);
            exitDeadlines[i] = _exitDeadline(operatorId, op, start + i);
        }
    }

    /// @notice Which operator holds `pubkey`, at which index.
    function keyOwner(bytes calldata pubkey)
        external
        view
        returns (bool registered, uint256 operatorId, uint256 keyIndex)
    {
        uint256 owner = _s().keyOwner[keccak256(pubkey)];
        if (owner == 0) return (false, 0, 0);
        // forge-lint: disable-next-line(unsafe-typecast) -- the low 32 bits hold the key index by design
        return (true, (owner >> 32) - 1, uint32(owner));
    }

    /// @notice A Dvt cluster's members, threshold and platform.
    function dvtCluster(uint256 operatorId)
        external
        view
        returns (address[] memory members, uint8 threshold, DvtPlatform platform)
    {
        Operator storage op = _operator(operatorId);
        if (op.operatorType != OperatorType.Dvt) revert WrongOperatorType(operatorId, op.operatorType);
        Cluster storage c = _s().clusters[operatorId];
        return (c.members, c.threshold, c.platform);
    }

    /// @notice Deadline of the key's pending exit request (0: none).
    function exitRequestDeadline(uint256 operatorId, uint256 keyIndex) external view returns (uint256) {
        return _pendingDeadline(_s().exitDeadlines[operatorId][keyIndex]);
    }

    /// @notice When the key's last exit request was closed by {clearExitRequest} (0: never, or it
    /// was requested again since).
    function exitRequestClosedAt(uint256 operatorId, uint256 keyIndex) external view returns (uint256) {
        uint256 d = _s().exitDeadlines[operatorId][keyIndex];
        return d & EXIT_CLOSED == 0 ? 0 : d & ~EXIT_CLOSED;
    }

    /// @notice The access registry and the minimum KYC tier of Kyc operators.
    function accessRegistry() external view returns (address registry, uint8 minTier) {
        RegistryStorage storage $ = _s();
        return ($.accessRegistry, $.kycMinTier);
    }

    /// @notice The bond manager.
    function bondManager() external view returns (address) {
        return _s().bondManager;
    }

    // ================================================================== internals

    function _storeKey(
        RegistryStorage storage $,
        uint256 operatorId,
        uint256 index,
        bytes calldata pubkey,
        bytes calldata sig
    ) internal {
        bytes32 pk0 = bytes32(pubkey[0:32]);
        bytes32 pk1 = bytes32(bytes16(pubkey[32:48]));
        if (pk0 == 0 && pk1 == 0) revert EmptyKey(index);
        bytes32 hash = keccak256(pubkey);
        uint256 owner = $.keyOwner[hash];
        // forge-lint: disable-next-line(unsafe-typecast) -- the low 32 bits hold the key index by design
        if (owner != 0) revert KeyAlreadyRegistered(hash, (owner >> 32) - 1, uint32(owner));
        $.keyOwner[hash] = _packOwner(operatorId, index);
        $.keys[operatorId][index] = Key({
            pubkey0: pk0,
            pubkey1AndFlags: pk1,
            sig0: bytes32(sig[0:32]),
            sig1: bytes32(sig[32:64]),
            sig2: bytes32(sig[64:96])
        });
        emit KeyAdded(operatorId, index, pubkey);
    }

    function _create(OperatorType operatorType, address manager, address rewardAddress)
        internal
        returns (uint256 operatorId)
    {
        if (manager == address(0) || rewardAddress == address(0)) revert ZeroAddress();
        RegistryStorage storage $ = _s();
        operatorId = $.operatorCount++;
        Operator storage op = $.operators[operatorId];
        op.manager = manager;
        op.operatorType = operatorType;
        op.rewardAddress = rewardAddress;
        emit OperatorRegistered(operatorId, operatorType, manager, rewardAddress);
    }

    function _requireBondRegistration(OperatorType operatorType) internal view returns (IBondManager bm) {
        bm = IBondManager(_s().bondManager);
        if (address(bm) == address(0)) revert BondManagerNotSet();
        uint256 required = bm.requiredBondFor(operatorType, 1, 0);
        if (msg.value < required || msg.value == 0) revert RegistrationBondTooLow(msg.value, required);
    }

    function _requireAttested(address account) internal view {
        if (!_isAttested(account)) revert NotAttested(account, _s().kycMinTier);
    }

    /// @dev Reverts when no access registry is configured: a Kyc check is never skipped.
    function _isAttested(address account) internal view returns (bool) {
        RegistryStorage storage $ = _s();
        address registry = $.accessRegistry;
        if (registry == address(0)) revert AccessRegistryNotSet();
        return IAccessRegistry(registry).isAttested(account, $.kycMinTier);
    }

    /// @dev An unchanged score is not written again (no event either): reports repeat most scores.
    function _setScore(uint256 operatorId, uint256 score) internal {
        if (score > MAX_SCORE) revert ScoreOutOfRange(score);
        Operator storage op = _operator(operatorId);
        if (op.score == score) return;
        // forge-lint: disable-next-line(unsafe-typecast) -- score <= MAX_SCORE (10,000) checked above
        op.score = uint16(score);
        emit ScoreSet(operatorId, score);
    }

    function _depositableKeys(uint256 operatorId, Operator storage op)
        internal
        view
        returns (uint256 available)
    {
        if (op.stopped) return 0;
        available = op.vettedLimit - op.preDeposited;
        if (available == 0) return 0;
        if (op.operatorType == OperatorType.Kyc && !_isAttested(op.manager)) return 0;
        address bm = _s().bondManager;
        if (bm == address(0)) revert BondManagerNotSet();
        uint256 bonded = IBondManager(bm).freeBondedCapacity(operatorId);
        if (bonded < available) available = bonded;
    }

    function _collect(uint256 operatorId, uint256 from, uint256 count, bool skipFrontRun)
        internal
        view
        returns (bytes memory pubkeys, bytes memory signatures, uint256 n)
    {
        mapping(uint256 => Key) storage keys = _s().keys[operatorId];
        pubkeys = new bytes(count * PUBKEY_LENGTH);
        signatures = new bytes(count * SIGNATURE_LENGTH);
        for (uint256 i; i < count; ++i) {
            Key storage key = keys[from + i];
            if (skipFrontRun && _isFrontRun(key)) continue;
            bytes32 pk0 = key.pubkey0;
            bytes32 pk1 = key.pubkey1AndFlags;
            bytes32 s0 = key.sig0;
            bytes32 s1 = key.sig1;
            bytes32 s2 = key.sig2;
            // memory-safe: every write stays inside the arrays allocated above (n < count); the
            // second store rewrites bytes [16, 48) of the key as pubkey0[16:32] ++ pubkey1[0:16],
            // which also drops the flag bits
            assembly ("memory-safe") {
                let p := add(add(pubkeys, 32), mul(n, 48))
                mstore(p, pk0)
                mstore(add(p, 16), or(shl(128, pk0), shr(128, pk1)))
                let s := add(add(signatures, 32), mul(n, 96))
                mstore(s, s0)
                mstore(add(s, 32), s1)
                mstore(add(s, 64), s2)
            }
            ++n;
        }
        // shrink to the keys written (skipped front-run keys)
        assembly ("memory-safe") {
            mstore(pubkeys, mul(n, 48))
            mstore(signatures, mul(n, 96))
        }
    }

    /// @dev Where key `index` stands; `pubkey1AndFlags` carries the front-run flag.
    function _keyStatus(Operator storage op, uint256 index, bytes32 pubkey1AndFlags)
        internal
        view
        returns (KeyStatus)
    {
        if (uint256(pubkey1AndFlags) & FRONT_RUN_FLAG != 0) return KeyStatus.FrontRun;
        if (index < op.topUpCursor) return KeyStatus.Deposited;
        if (index < op.confirmed) return KeyStatus.Confirmed;
        if (index < op.preDeposited) return KeyStatus.PreDeposited;
        return KeyStatus.Added;
    }

    /// @dev Pending exit deadline of a key; skips the read when nothing can be pending (only
    /// topped-up keys of an operator with pending requests carry one).
    function _exitDeadline(uint256 operatorId, Operator storage op, uint256 index)
        internal
        view
        returns (uint256)
    {
        if (op.pendingExitRequests == 0 || index >= op.topUpCursor) return 0;
        return _pendingDeadline(_s().exitDeadlines[operatorId][index]);
    }

    function _isPending(uint256 stored) internal pure returns (bool) {
        return stored != 0 && stored & EXIT_CLOSED == 0;
    }

    /// @dev The deadline of a stored value (0 when never requested or closed).
    function _pendingDeadline(uint256 stored) internal pure returns (uint256) {
        return stored & EXIT_CLOSED == 0 ? stored : 0;
    }

    function _pubkey(Key memory key) internal pure returns (bytes memory) {
        return abi.encodePacked(key.pubkey0, bytes16(key.pubkey1AndFlags));
    }

    function _isFrontRun(Key storage key) internal view returns (bool) {
        return uint256(key.pubkey1AndFlags) & FRONT_RUN_FLAG != 0;
    }

    function _packOwner(uint256 operatorId, uint256 keyIndex) internal pure returns (uint256) {
        return ((operatorId + 1) << 32) | keyIndex;
    }

    function _operator(uint256 operatorId) internal view returns (Operator storage op) {
        RegistryStorage storage $ = _s();
        if (operatorId >= $.operatorCount) revert OperatorNotFound(operatorId);
        return $.operators[operatorId];
    }

    function _u32(uint256 value) internal pure returns (uint32) {
        if (value > type(uint32).max) revert ParameterOutOfBounds("uint32", value, 0, type(uint32).max);
        // forge-lint: disable-next-line(unsafe-typecast) -- range checked on the line above
        return uint32(value);
    }

    function _s() private pure returns (RegistryStorage storage $) {
        assembly {
            $.slot := REGISTRY_STORAGE
        }
    }
}
