// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {GuardianPausable} from "../governance/Governed.sol";
import {IAccessPolicy} from "../interfaces/IAccessPolicy.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {IWithdrawalQueue} from "../interfaces/IWithdrawalQueue.sol";
import {
    AccessControlUpgradeable
} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice FIFO withdrawal queue of the pool; each request is an ERC-721 ticket.
///
/// Guarantees:
/// - A request locks csETH shares at the pool and records their ETH value at request time.
/// - Oracle reports finalize requests strictly in order; each finalized request is worth
///   min(etherAtRequest, shares * finalizationRate): losses during the wait are shared, gains are
///   not. The ETH is moved from the pool into this contract at finalization (`lockedEther`).
/// - One finalization handles at most `maxFinalizePerReport` requests (bounded gas, see
///   docs/adr/0003); finalization stops early at the first request the pool's buffer cannot pay.
/// - Ticket transfers, requests for another owner and claims obey the pool's access policy.
/// - A finalized ticket is claimable exactly once (claiming burns it), by its owner or an
///   approved operator, for exactly the amount reserved for it; the sum of claims never exceeds
///   `lockedEther`, and address(this).balance >= lockedEther.
contract WithdrawalQueue is ERC721Upgradeable, GuardianPausable, ReentrancyGuardTransient, IWithdrawalQueue {
    uint256 internal constant RATE_PRECISION = 1e27;
    /// @notice Hard ceiling of `maxFinalizePerReport`.
    uint256 public constant MAX_FINALIZE_PER_REPORT = 500;
    uint256 private constant NO_HINT = type(uint256).max;

    /// @custom:storage-location erc7201:claystack.storage.WithdrawalQueue
    struct QueueStorage {
        address pool;
        uint64 lastRequestId;
        uint64 lastFinalizedRequestId;
        uint128 lockedEther;
        uint128 unfinalizedShares;
        uint128 unfinalizedEther;
        uint128 minRequestEther;
        uint128 maxRequestEther;
        uint64 maxFinalizePerReport;
        mapping(uint256 requestId => Request) requests;
        Checkpoint[] checkpoints;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.WithdrawalQueue")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant QUEUE_STORAGE =
        0x6e794daf34ea2cb3ce040211fd624469eb9663556547083848827977fd7f3b00;

    /// @notice Initializes the proxy.
    function initialize(address admin, address guardian, address pool_) external initializer {
        if (pool_ == address(0)) revert ZeroAddress();
        __ERC721_init("ClayStack csETH Withdrawal", "csETH-W");
        __Governed_init(admin, guardian);
        QueueStorage storage $ = _q();
        $.pool = pool_;
        _setRequestBounds($, 100, 1000 ether);
        _setMaxFinalizePerReport($, 100);
    }

    // ------------------------------------------------------------------ requests

    /// @notice Locks `shares` of the caller's csETH and mints a ticket to `owner`.
    function requestWithdrawal(uint256 shares, address owner)
        external
        whenNotPaused
        returns (uint256 requestId)
    {
        if (owner == address(0)) revert ZeroAddress();
        QueueStorage storage $ = _q();
        // The pool is trusted and does not call back; checks on the returned value revert atomically.
        if (owner != msg.sender) {
            // a ticket for someone else moves value to a third party: a transfer in all but name
            _checkAccess($, IAccessPolicy.Action.Send, msg.sender);
            _checkAccess($, IAccessPolicy.Action.Receive, owner);
        }
        uint256 etherAmount = IStakePool($.pool).lockSharesForWithdrawal(msg.sender, shares);
        if (etherAmount < $.minRequestEther) revert RequestTooSmall(etherAmount, $.minRequestEther);
        if (etherAmount > $.maxRequestEther) revert RequestTooLarge(etherAmount, $.maxRequestEther);
        // both fit in uint128: etherAmount <= maxRequestEther (uint128), shares <= csETH supply
        requestId = ++$.lastRequestId;
        $.requests[requestId] = Request(uint128(shares), uint128(etherAmount));
        $.unfinalizedShares += uint128(shares);
        $.unfinalizedEther += uint128(etherAmount);
        _mint(owner, requestId);
        emit WithdrawalRequested(requestId, msg.sender, owner, shares, etherAmount);
    }

    /// @notice Pays finalized request `requestId` to `recipient` and burns its ticket.
    function claim(uint256 requestId, address recipient)
        external
        whenNotPaused
        nonReentrant
        returns (uint256)
    {
        QueueStorage storage $ = _q();
        uint256 amount = _claim($, requestId, NO_HINT, recipient);
        Address.sendValue(payable(recipient), amount);
        return amount;
    }

    /// @notice Claims several requests in one call. `hints[i]` is the checkpoint index of
    /// `requestIds[i]` (see {findCheckpointHint}); `type(uint256).max` searches.
    function claimBatch(uint256[] calldata requestIds, uint256[] calldata hints, address recipient)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 total)
    {
        if (requestIds.length != hints.length) {
            revert ArrayLengthMismatch(requestIds.length, hints.length);
        }
        QueueStorage storage $ = _q();
        for (uint256 i = 0; i < requestIds.length; ++i) {
            total += _claim($, requestIds[i], hints[i], recipient);
        }
        Address.sendValue(payable(recipient), total);
    }

    // ------------------------------------------------------------------ finalization

    /// @notice Finalizes requests up to `upToRequestId` (at most `maxFinalizePerReport`, stopping at
    /// the first one `maxEther` cannot pay) at `shareRate`. Only the pool, during an oracle report;
    /// the pool then burns `sharesToBurn` and sends `etherToLock`.
    function finalize(uint256 upToRequestId, uint256 shareRate, uint256 maxEther)
        external
        returns (uint256 lastFinalized, uint256 etherToLock, uint256 sharesToBurn)
    {
        QueueStorage storage $ = _q();
        if (msg.sender != $.pool) revert UnauthorizedCaller(msg.sender, $.pool);
        uint256 lastRequest = $.lastRequestId;
        if (upToRequestId > lastRequest) {
            revert FinalizationPointBeyondLastRequest(upToRequestId, lastRequest);
        }
        uint256 first = $.lastFinalizedRequestId + 1;
        lastFinalized = first - 1;
        uint256 end = Math.min(upToRequestId, lastFinalized + $.maxFinalizePerReport);
        uint256 etherAtRequestSum;
        for (uint256 id = first; id <= end; ++id) {
            Request memory r = $.requests[id];
            uint256 payout = _payout(r, shareRate);
            if (etherToLock + payout > maxEther) break;
            etherToLock += payout;
            sharesToBurn += r.shares;
            etherAtRequestSum += r.etherAtRequest;
            lastFinalized = id;
        }
        if (lastFinalized < first) return (lastFinalized, 0, 0);
        // sums of uint128 values already counted in the uint128 totals
        $.lastFinalizedRequestId = uint64(lastFinalized);
        $.unfinalizedShares -= uint128(sharesToBurn);
        $.unfinalizedEther -= uint128(etherAtRequestSum);
        $.lockedEther += uint128(etherToLock);
        $.checkpoints.push(Checkpoint(uint64(lastFinalized), uint64(block.timestamp), uint128(shareRate)));
        emit WithdrawalsFinalized(first, lastFinalized, etherToLock, sharesToBurn, shareRate);
    }

    /// @notice Accepts only the ETH the pool sends for finalized requests.
    receive() external payable {
        if (msg.sender != _q().pool) revert UnexpectedEther(msg.sender, msg.value);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets the min and max ETH value of one request. Governance only.
    function setRequestBounds(uint256 minEther, uint256 maxEther) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRequestBounds(_q(), minEther, maxEther);
    }

    /// @notice Sets how many requests one report may finalize. Governance only.
    function setMaxFinalizePerReport(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxFinalizePerReport(_q(), value);
    }

    // ------------------------------------------------------------------ views

    function pool() external view returns (address) {
        return _q().pool;
    }

    function lastRequestId() external view returns (uint256) {
        return _q().lastRequestId;
    }

    function lastFinalizedRequestId() external view returns (uint256) {
        return _q().lastFinalizedRequestId;
    }

    /// @notice ETH value (at request time) of the requests not yet finalized: the queue's demand.
    function unfinalizedEther() external view returns (uint256) {
        return _q().unfinalizedEther;
    }

    function unfinalizedShares() external view returns (uint256) {
        return _q().unfinalizedShares;
    }

    /// @notice ETH held for finalized, unclaimed requests.
    function lockedEther() external view returns (uint256) {
        return _q().lockedEther;
    }

    /// @notice (minRequestEther, maxRequestEther, maxFinalizePerReport)
    function parameters() external view returns (uint256, uint256, uint256) {
        QueueStorage storage $ = _q();
        return ($.minRequestEther, $.maxRequestEther, $.maxFinalizePerReport);
    }

    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _q().requests[requestId];
    }

    function getCheckpoint(uint256 index) external view returns (Checkpoint memory) {
        return _q().checkpoints[index];
    }

    /// @notice ETA inputs: queue length and demand, reserve, last finalization.
    function status() external view returns (QueueStatus memory s) {
        QueueStorage storage $ = _q();
        uint256 n = $.checkpoints.length;
        s = QueueStatus({
            lastRequestId: $.lastRequestId,
            lastFinalizedRequestId: $.lastFinalizedRequestId,
            unfinalizedShares: $.unfinalizedShares,
            unfinalizedEther: $.unfinalizedEther,
            lockedEther: $.lockedEther,
            lastFinalizationTimestamp: n == 0 ? 0 : $.checkpoints[n - 1].timestamp,
            checkpointCount: n
        });
    }

    /// @notice ETH a finalized, unclaimed request pays now (0 otherwise).
    function claimableEther(uint256 requestId) external view returns (uint256) {
        QueueStorage storage $ = _q();
        if (requestId == 0 || requestId > $.lastFinalizedRequestId || _ownerOf(requestId) == address(0)) {
            return 0;
        }
        return _payout($.requests[requestId], $.checkpoints[_findCheckpoint($, requestId)].shareRate);
    }

    /// @notice Index of the checkpoint that finalized `requestId`.
    function findCheckpointHint(uint256 requestId) external view returns (uint256) {
        QueueStorage storage $ = _q();
        if (requestId == 0 || requestId > $.lastFinalizedRequestId) {
            revert RequestNotFinalized(requestId, $.lastFinalizedRequestId);
        }
        return _findCheckpoint($, requestId);
    }

    /// @notice Tickets of `owner` among ids [fromId, toId] (paginate off chain; bounded by the caller).
    function requestsOf(address owner, uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids)
    {
        QueueStorage storage $ = _q();
        toId = Math.min(toId, $.lastRequestId);
        uint256 found = 0;
        ids = new uint256[](toId >= fromId ? toId - fromId + 1 : 0);
        for (uint256 id = fromId; id <= toId; ++id) {
            if (_ownerOf(id) == owner) ids[found++] = id;
        }
        assembly {
            mstore(ids, found)
        }
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721Upgradeable, AccessControlUpgradeable)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _claim(QueueStorage storage $, uint256 requestId, uint256 hint, address recipient)
        internal
        returns (uint256 amount)
    {
        if (recipient == address(0)) revert ZeroAddress();
        if (requestId == 0 || requestId > $.lastRequestId) revert RequestNotFound(requestId);
        if (requestId > $.lastFinalizedRequestId) {
            revert RequestNotFinalized(requestId, $.lastFinalizedRequestId);
        }
        address owner = _ownerOf(requestId);
        if (owner == address(0)) revert RequestAlreadyClaimed(requestId);
        if (!_isAuthorized(owner, msg.sender, requestId)) revert NotRequestOwner(requestId, msg.sender);
        address policy = IStakePool($.pool).accessPolicy();
        if (policy != address(0)) {
            IAccessPolicy(policy).checkAccess(IAccessPolicy.Action.Exit, owner);
            // paying a third party is a transfer of value out of the holder's hands
            if (recipient != owner) IAccessPolicy(policy).checkAccess(IAccessPolicy.Action.Send, owner);
        }
        if (hint == NO_HINT) hint = _findCheckpoint($, requestId);
        else _checkHint($, requestId, hint);
        amount = _payout($.requests[requestId], $.checkpoints[hint].shareRate);
        // amount was counted into lockedEther when the request was finalized
        $.lockedEther -= uint128(amount);
        delete $.requests[requestId];
        _burn(requestId);
        emit WithdrawalClaimed(requestId, owner, recipient, amount);
    }

    /// @dev Ticket transfers between holders obey the pool's access policy.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0)) {
            QueueStorage storage $ = _q();
            _checkAccess($, IAccessPolicy.Action.Send, from);
            _checkAccess($, IAccessPolicy.Action.Receive, to);
        }
    }

    function _checkAccess(QueueStorage storage $, IAccessPolicy.Action action, address account)
        internal
        view
    {
        address policy = IStakePool($.pool).accessPolicy();
        if (policy != address(0)) IAccessPolicy(policy).checkAccess(action, account);
    }

    function _payout(Request memory r, uint256 rate) internal pure returns (uint256) {
        return Math.min(r.etherAtRequest, Math.mulDiv(r.shares, rate, RATE_PRECISION));
    }

    function _checkHint(QueueStorage storage $, uint256 requestId, uint256 hint) internal view {
        uint256 n = $.checkpoints.length;
        if (
            hint >= n || requestId > $.checkpoints[hint].lastRequestId
                || (hint != 0 && requestId <= $.checkpoints[hint - 1].lastRequestId)
        ) revert InvalidHint(requestId, hint);
    }

    /// @dev Binary search over checkpoints (ascending lastRequestId); requestId must be finalized.
    function _findCheckpoint(QueueStorage storage $, uint256 requestId) internal view returns (uint256) {
        uint256 hi = $.checkpoints.length;
        if (hi == 0 || requestId > $.checkpoints[hi - 1].lastRequestId) {
            revert RequestNotFinalized(requestId, $.lastFinalizedRequestId);
        }
        uint256 lo = 0;
        hi -= 1;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if ($.checkpoints[mid].lastRequestId < requestId) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    function _setRequestBounds(QueueStorage storage $, uint256 minEther, uint256 maxEther) internal {
        _checkBounds("minRequestEther", minEther, 1, 1 ether);
        _checkBounds("maxRequestEther", maxEther, minEther, 100_000 ether);
        $.minRequestEther = uint128(minEther);
        $.maxRequestEther = uint128(maxEther);
        emit ParameterUpdated("minRequestEther", minEther);
        emit ParameterUpdated("maxRequestEther", maxEther);
    }

    function _setMaxFinalizePerReport(QueueStorage storage $, uint256 value) internal {
        _checkBounds("maxFinalizePerReport", value, 1, MAX_FINALIZE_PER_REPORT);
        $.maxFinalizePerReport = uint64(value);
        emit ParameterUpdated("maxFinalizePerReport", value);
    }

    function _q() private pure returns (QueueStorage storage $) {
        assembly {
            $.slot := QUEUE_STORAGE
        }
    }
}
