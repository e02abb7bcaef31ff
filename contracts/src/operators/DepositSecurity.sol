// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {GuardianPausable} from "../governance/Governed.sol";
import {IAllocator} from "../interfaces/IAllocator.sol";
import {IDepositContract} from "../interfaces/IDepositContract.sol";
import {IDepositSecurity} from "../interfaces/IDepositSecurity.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice The pool's deposit module (`StakePool.setDepositModule`). Protects stakers against the
/// withdrawal-credential front-run (docs/adr/0007).
///
/// Guarantees:
/// - A new key first gets a 1 ETH pre-deposit with the protocol's 0x01 credentials; its operator
///   must hold 1 ETH of unlocked own bond per pre-deposit in flight (BondManager collateral), which
///   a front-run forfeits. The 31 ETH top-up follows only for keys a quorum report confirmed
///   (registry `confirmed` cursor; front-run keys are skipped): no staker ETH beyond the 1 ETH
///   pre-deposit ever reaches an unconfirmed or front-run key.
/// - ETH comes only from `pool.withdrawToDepositModule`, bounded by `pool.depositableEther()`
///   (never ETH owed to the withdrawal queue). The deposit_data_root is computed on chain.
/// - New keys go where the on-chain Allocator (ADR 0006) sends them, among the operators of the
///   deposit set whose type is in `operatorTypeMask` (set at initialization: the KYC pool deposits
///   only to Kyc operators, whose manager the registry requires to be attested).
/// - Every loop is bounded: `maxKeys` ≤ {MAX_KEYS_PER_CALL}, the deposit set ≤ {MAX_OPERATORS}.
/// - The ETH withdrawn from the pool equals the ETH deposited in every call: the registry's
///   top-up counts and the Allocator's counts are checked to agree, so the module holds no ETH
///   between calls; ETH forced into it can only be swept by governance to the EL rewards vault.
/// - An operator leaves the deposit set only once none of its keys waits for a top-up.
/// - Anyone may call {depositBuffered}; the guardian can pause it; only governance changes the set.
contract DepositSecurity is GuardianPausable, ReentrancyGuardTransient, IDepositSecurity {
    /// @notice Most deposits (top-ups plus pre-deposits) one call makes.
    uint256 public constant MAX_KEYS_PER_CALL = 50;
    /// @notice Most operators in the deposit set.
    uint256 public constant MAX_OPERATORS = 200;
    /// @notice The pre-deposit per new key.
    uint256 public constant PRE_DEPOSIT = 1 ether;
    /// @notice The top-up per confirmed key.
    uint256 public constant TOP_UP = 31 ether;
    /// @notice Role that adds and removes operators of the deposit set (the timelock / vetting).
    bytes32 public constant CURATOR_ROLE = keccak256("claystack.role.curator");
    uint256 internal constant PUBKEY_LENGTH = 48;
    uint256 internal constant SIGNATURE_LENGTH = 96;

    /// @custom:storage-location erc7201:claystack.storage.DepositSecurity
    struct DepositStorage {
        IStakePool pool;
        IOperatorRegistry registry;
        IAllocator allocator;
        IDepositContract depositContract;
        bytes32 withdrawalCredentials;
        uint8 typeMask;
        uint64[] operators;
        mapping(uint64 => bool) listed;
    }

    // computed with `cast index-erc7201 claystack.storage.DepositSecurity`, checked by a unit test
    bytes32 private constant DEPOSIT_STORAGE =
        0x9bbe19164c8de16a4ff4d221abb2289ffb29287c50736cb04536e26949a5be00;

    /// @notice Initializes the proxy. `typeMask` is the deposit policy of this pool (fixed).
    function initialize(
        address admin,
        address guardian,
        address pool_,
        address registry_,
        address allocator_,
        address depositContract_,
        address withdrawalVault,
        uint8 typeMask
    ) external initializer {
        __Governed_init(admin, guardian);
        if (
            pool_ == address(0) || registry_ == address(0) || allocator_ == address(0)
                || depositContract_ == address(0) || withdrawalVault == address(0)
        ) revert ZeroAddress();
        if (typeMask == 0 || typeMask > 0x0f) revert InvalidTypeMask(typeMask);
        DepositStorage storage $ = _s();
        $.pool = IStakePool(pool_);
        $.registry = IOperatorRegistry(registry_);
        $.allocator = IAllocator(allocator_);
        $.depositContract = IDepositContract(depositContract_);
        $.withdrawalCredentials = bytes32(uint256(uint160(withdrawalVault)) | (uint256(0x01) << 248));
        $.typeMask = typeMask;
    }

    /// @notice Accepts ETH from the pool only.
    receive() external payable {
        address p = address(_s().pool);
        if (msg.sender != p) revert UnauthorizedCaller(msg.sender, p);
    }

    // ------------------------------------------------------------------ keeper

    /// @inheritdoc IDepositSecurity
    function depositBuffered(uint256 maxKeys)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 toppedUp, uint256 preDeposited)
    {
        if (maxKeys == 0 || maxKeys > MAX_KEYS_PER_CALL) {
            revert InvalidKeyCount(maxKeys, MAX_KEYS_PER_CALL);
        }
        DepositStorage storage $ = _s();
        uint256 budget = $.pool.depositableEther();
        uint256 processed;
        (toppedUp, processed, budget) = _topUps($, maxKeys, budget);
        uint256 left = maxKeys - processed;
        // a new key needs its whole 32 ETH in the buffer now, so its top-up is not starved later
        uint256 affordable = budget / (PRE_DEPOSIT + TOP_UP);
        if (affordable < left) left = affordable;
        if (left != 0) preDeposited = _preDeposits($, left);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Adds `operatorId` to the deposit set (kept sorted). Curator only.
    function addOperator(uint64 operatorId) external onlyRole(CURATOR_ROLE) {
        DepositStorage storage $ = _s();
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        if (!_typeAllowed($, op.operatorType)) {
            revert OperatorTypeNotAllowed(operatorId, uint8(op.operatorType));
        }
        if ($.listed[operatorId]) revert OperatorListed(operatorId, true);
        uint64[] storage list = $.operators;
        uint256 n = list.length;
        if (n >= MAX_OPERATORS) revert TooManyOperators(MAX_OPERATORS);
        list.push(operatorId);
        // insertion into the sorted list; n < MAX_OPERATORS
        for (uint256 i = n; i > 0 && list[i - 1] > operatorId; --i) {
            (list[i - 1], list[i]) = (operatorId, list[i - 1]);
        }
        $.listed[operatorId] = true;
        emit OperatorListedSet(operatorId, true);
    }

    /// @notice Removes `operatorId` from the deposit set. Curator only. Refused while the operator
    /// has keys pre-deposited but not yet topped up (or skipped as front-run): this module tops up
    /// only listed operators, so their 1 ETH validators would be stranded. To remove an operator,
    /// stop it in the registry, wait for the report confirming its pre-deposits and their top-ups.
    function removeOperator(uint64 operatorId) external onlyRole(CURATOR_ROLE) {
        DepositStorage storage $ = _s();
        if (!$.listed[operatorId]) revert OperatorListed(operatorId, false);
        IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(operatorId);
        uint256 pending = op.preDeposited - op.topUpCursor; // topUpCursor <= preDeposited (registry)
        if (pending != 0) revert OperatorHasPendingDeposits(operatorId, pending);
        uint64[] storage list = $.operators;
        uint256 n = list.length;
        uint256 i;
        while (list[i] != operatorId) ++i;
        for (; i + 1 < n; ++i) {
            list[i] = list[i + 1];
        }
        list.pop();
        $.listed[operatorId] = false;
        emit OperatorListedSet(operatorId, false);
    }

    /// @notice Sends ETH forced into the module to the pool's EL rewards vault, from where reports
    /// pull it into the buffer (within the smoothing cap, like any EL reward). The module holds no
    /// ETH between calls (each call withdraws from the pool exactly what it deposits), so whatever
    /// it holds at rest was forced in (self-destruct, block rewards). Governance only; shares the
    /// reentrancy guard with {depositBuffered}, so it cannot run in the middle of a deposit.
    function sweepForcedEther() external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant returns (uint256 amount) {
        amount = address(this).balance;
        if (amount == 0) revert NothingToSweep();
        address vault = _s().pool.contracts().elRewardsVault;
        emit Swept(vault, amount);
        Address.sendValue(payable(vault), amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDepositSecurity
    function operatorTypeMask() external view returns (uint8) {
        return _s().typeMask;
    }

    /// @inheritdoc IDepositSecurity
    function withdrawalCredentials() external view returns (bytes32) {
        return _s().withdrawalCredentials;
    }

    /// @inheritdoc IDepositSecurity
    function operators() external view returns (uint64[] memory) {
        return _s().operators;
    }

    /// @inheritdoc IDepositSecurity
    function pool() external view returns (IStakePool) {
        return _s().pool;
    }

    /// @inheritdoc IDepositSecurity
    function registry() external view returns (IOperatorRegistry) {
        return _s().registry;
    }

    /// @inheritdoc IDepositSecurity
    function allocator() external view returns (IAllocator) {
        return _s().allocator;
    }

    /// @inheritdoc IDepositSecurity
    function depositContract() external view returns (address) {
        return address(_s().depositContract);
    }

    /// @notice The SSZ hash_tree_root of a DepositData, as the deposit contract checks it.
    function depositDataRoot(
        bytes memory pubkey,
        bytes32 credentials,
        bytes memory signature,
        uint256 amountWei
    ) public pure returns (bytes32) {
        bytes32 pubkeyRoot = sha256(abi.encodePacked(pubkey, bytes16(0)));
        bytes32 sigRoot = sha256(
            abi.encodePacked(
                sha256(_slice(signature, 0, 64)),
                sha256(abi.encodePacked(_slice(signature, 64, 32), bytes32(0)))
            )
        );
        return sha256(
            abi.encodePacked(
                sha256(abi.encodePacked(pubkeyRoot, credentials)),
                sha256(abi.encodePacked(_le64(uint64(amountWei / 1 gwei)), bytes24(0), sigRoot))
            )
        );
    }

    // ------------------------------------------------------------------ internals

    /// @dev Tops up confirmed keys of the listed operators, in id order.
    function _topUps(DepositStorage storage $, uint256 maxKeys, uint256 budget)
        internal
        returns (uint256 deposited, uint256 processed, uint256 budgetLeft)
    {
        uint64[] storage list = $.operators;
        uint256 n = list.length;
        for (uint256 i; i < n && processed < maxKeys; ++i) {
            uint256 id = list[i];
            IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(id);
            uint256 count = op.confirmed - op.topUpCursor;
            if (count == 0) continue;
            if (count > maxKeys - processed) count = maxKeys - processed;
            if (count * TOP_UP > budget) count = budget / TOP_UP;
            if (count == 0) break;
            uint256 done = _topUpOperator($, id, count);
            processed += count;
            deposited += done;
            budget -= done * TOP_UP;
        }
        budgetLeft = budget;
    }

    /// @dev Tops up the next `count` confirmed keys of one operator (front-run ones are skipped).
    function _topUpOperator(DepositStorage storage $, uint256 id, uint256 count)
        internal
        returns (uint256 done)
    {
        (bytes memory pks, bytes memory sigs, uint256 keys) = $.registry.topUpKeys(id, count);
        done = $.registry.markDeposited(id, count);
        // both count the keys among the same `count` that are not front-run; if they ever
        // disagreed, the module would deposit ETH it did not withdraw (or strand what it did)
        if (done != keys) revert TopUpCountMismatch(id, keys, done);
        emit ToppedUp(id, count, done);
        if (done != 0) {
            $.pool.withdrawToDepositModule(done * TOP_UP);
            _deposit($, pks, sigs, keys, TOP_UP);
        }
    }

    /// @dev Asks the Allocator where `n` new keys go, then pre-deposits them.
    function _preDeposits(DepositStorage storage $, uint256 n) internal returns (uint256 total) {
        uint64[] storage list = $.operators;
        uint256 m = list.length;
        IAllocator.OperatorData[] memory data = new IAllocator.OperatorData[](m);
        for (uint256 i; i < m; ++i) {
            uint64 id = list[i];
            IOperatorRegistry.OperatorInfo memory op = $.registry.getOperator(id);
            bool active = !op.stopped && _typeAllowed($, op.operatorType);
            data[i] = IAllocator.OperatorData({
                id: id,
                operatorType: IAllocator.OperatorType(uint8(op.operatorType)),
                isActive: active,
                activeValidators: uint64(op.deposited - op.exited),
                // vetted, not stopped, Kyc attestation, bond and pre-deposit collateral
                availableKeys: active ? uint64(_min($.registry.depositableKeys(id), n)) : 0,
                score: op.score
            });
        }
        IAllocator.Allocation memory a = $.allocator.allocateDeposits(data, n);
        total = a.total;
        // the module withdraws `total` ETH and deposits the counts: they must agree, stay within
        // the request and name listed operators only, or ETH would be spent or stranded
        uint256 sum;
        for (uint256 i; i < a.counts.length; ++i) {
            sum += a.counts[i];
        }
        bool valid = a.operatorIds.length == a.counts.length && sum == total && total <= n;
        for (uint256 i; valid && i < a.operatorIds.length; ++i) {
            valid = $.listed[a.operatorIds[i]];
        }
        if (!valid) revert AllocationInvalid(total, sum, n);
        if (total == 0) return 0;
        $.pool.withdrawToDepositModule(total * PRE_DEPOSIT);
        for (uint256 i; i < a.operatorIds.length; ++i) {
            uint256 id = a.operatorIds[i];
            uint256 count = a.counts[i];
            (bytes memory pks, bytes memory sigs) = $.registry.nextKeys(id, count);
            uint256 from = $.registry.markPreDeposited(id, count);
            emit PreDeposited(id, from, count);
            _deposit($, pks, sigs, count, PRE_DEPOSIT);
        }
    }

    function _deposit(
        DepositStorage storage $,
        bytes memory pks,
        bytes memory sigs,
        uint256 n,
        uint256 amount
    ) internal {
        bytes32 wc = $.withdrawalCredentials;
        bytes memory wcBytes = abi.encodePacked(wc);
        for (uint256 k; k < n; ++k) {
            bytes memory pk = _slice(pks, k * PUBKEY_LENGTH, PUBKEY_LENGTH);
            bytes memory sig = _slice(sigs, k * SIGNATURE_LENGTH, SIGNATURE_LENGTH);
            $.depositContract.deposit{value: amount}(pk, wcBytes, sig, depositDataRoot(pk, wc, sig, amount));
        }
    }

    function _typeAllowed(DepositStorage storage $, IOperatorRegistry.OperatorType t)
        internal
        view
        returns (bool)
    {
        return ($.typeMask >> uint8(t)) & 1 == 1;
    }

    function _slice(bytes memory data, uint256 start, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        // callers keep start + len <= data.length (fixed-size key and signature records)
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(data, 32), start), len)
        }
    }

    function _le64(uint64 v) internal pure returns (bytes8) {
        uint64 r;
        for (uint256 i; i < 8; ++i) {
            r = (r << 8) | (v & 0xff);
            v >>= 8;
        }
        return bytes8(r);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _s() private pure returns (DepositStorage storage $) {
        assembly {
            $.slot := DEPOSIT_STORAGE
        }
    }
}
