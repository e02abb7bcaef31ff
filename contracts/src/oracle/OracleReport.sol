// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IOperatorsReport, IOperatorsReportReceiver} from "../interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../interfaces/IOracleReport.sol";
import {ISanityChecker} from "../interfaces/ISanityChecker.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {
    EIP712Upgradeable
} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Frame-based oracle of the pool.
///
/// Guarantees:
/// - One report per frame, for the frame's reference slot (the last slot of the previous
///   frame), submitted before the frame ends; reference slots strictly increase.
/// - A report is applied only with at least `quorum` ECDSA signatures over its EIP-712 digest,
///   from distinct members, in strictly increasing signer order; anyone may submit it.
/// - Validator counts and accounting pass the {SanityChecker} before the pool applies them.
/// - The operators report (extra data) is a hash chain of chunks (docs/adr/0008): chunk 0 is applied
///   only if `keccak256(extraData)` equals the signed `extraDataHash` (zero hash: empty extra data),
///   its refSlot is the report's and governance set an operators module, before the pool books the
///   accounting; every later chunk only if its hash is the one its predecessor committed to, while
///   the report's frame is current, at most once, in chain order. Every chunk, chunk 0 included,
///   charges its losses at the share rate before the report, so the burns of covered losses bring
///   the rate back to at least that rate once the chain is applied. Anyone may deliver a chunk. Chunks not delivered when the next report
///   arrives are dropped (event `ExtraDataDropped`), never applied to a later frame.
/// - While a report's chain is pending (from the report to its last chunk, at most until its
///   frame ends) the pool refuses deposits: the later chunks restore losses the report booked, and
///   a deposit at the lowered rate would take part of that restoration from the holders. The hold
///   never outlives the chain: a report that drops a chain without opening one lifts it, and a
///   frame-timing change drops a pending chain and lifts it.
/// - `extraDataState()` describes the last report, whatever it carried (refSlot, chunks applied,
///   loss rate, next hash).
/// - The CL drop the accounting accepts as explained includes 1 ETH per front-run pre-deposit that
///   chunk 0 charged to the operator's locked collateral (SanityChecker).
/// - Members, quorum (always a strict majority of members) and frame timing change only through
///   ORACLE_MANAGER_ROLE / DEFAULT_ADMIN_ROLE, both held by the timelock.
contract OracleReport is Governed, EIP712Upgradeable, IOracleReport {
    /// @notice Role that rotates members and sets the quorum (granted to the timelock only).
    bytes32 public constant ORACLE_MANAGER_ROLE = keccak256("claystack.role.oracleManager");
    /// @notice Version of the report format this contract accepts (see docs/adr/0002).
    uint256 public constant CONSENSUS_VERSION = 1;
    /// @notice EIP-712 type hash of {Report}.
    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(uint256 consensusVersion,uint256 refSlot,uint256 validatorsDeposited,uint256 validatorsActive,"
        "uint256 validatorsExited,uint256 validatorsSlashed,uint256 clBalance,uint256 clDepositsProcessed,"
        "uint256 withdrawalVaultPull,uint256 elRewardsVaultAvailable,uint256 finalizeUpToRequestId,"
        "uint256 finalizationShareRate,bytes32 extraDataHash)"
    );

    /// @custom:storage-location erc7201:claystack.storage.OracleReport
    struct OracleStorage {
        address pool;
        address sanityChecker;
        FrameConfig frame;
        uint64 lastRefSlot;
        uint32 quorum;
        ISanityChecker.ValidatorCounts lastCounts;
        address[] members;
        mapping(address => bool) isMember;
        // appended (ERC-7201 struct: new fields only at the end)
        address operatorsModule;
        ExtraDataState extraData; // docs/adr/0008
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.OracleReport")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant ORACLE_STORAGE =
        0xdfe98f93c90f5f8428c10c1d06b9c2936120db98594373f63d280bd9f1b56f00;

    /// @notice Initializes the proxy. `initialRefSlot` is the slot the first report's elapsed time
    /// counts from.
    function initialize(
        address admin,
        address pool_,
        address sanityChecker_,
        FrameConfig calldata frame,
        uint256 initialRefSlot,
        address[] calldata members,
        uint256 quorum_
    ) external initializer {
        if (pool_ == address(0) || sanityChecker_ == address(0)) revert ZeroAddress();
        __Governed_init(admin, address(0));
        __EIP712_init("ClayStack Oracle", "1");
        OracleStorage storage $ = _o();
        $.pool = pool_;
        $.sanityChecker = sanityChecker_;
        _setFrameConfig($, frame);
        $.lastRefSlot = _u64("initialRefSlot", initialRefSlot);
        for (uint256 i = 0; i < members.length; ++i) {
            _addMember($, members[i]);
        }
        _setQuorum($, quorum_);
    }

    // ------------------------------------------------------------------ reports

    /// @notice Applies `report` if it carries a quorum of member signatures. Anyone may call.
    function submitReport(Report calldata report, bytes calldata extraData, Signature[] calldata signatures)
        external
    {
        _checkExtraData(report.extraDataHash, extraData);
        OracleStorage storage $ = _o();
        (uint256 lastRef, uint256 newlySlashed) = _checkAndRecord($, report, signatures);
        // only a dropped chain can have left the pool's deposit hold on: the pool is called to
        // lift it only then, not on every report
        bool holdMayBeOn = _dropPendingExtraData($);
        // before the pool books the accounting: losses are charged at the pre-report rate
        uint256 frontRunLoss;
        if (report.extraDataHash != bytes32(0)) {
            frontRunLoss = _applyFirstChunk($, report.refSlot, report.extraDataHash, extraData, holdMayBeOn);
        } else {
            // refSlot was checked to fit uint64 by _checkAndRecord
            $.extraData = ExtraDataState(uint64(report.refSlot), 0, 0, bytes32(0));
            if (holdMayBeOn) IStakePool($.pool).setPendingExtraData(0, 0);
        }
        IStakePool($.pool)
            .handleOracleReport(
                IStakePool.AccountingReport({
                refSlot: report.refSlot,
                timeElapsed: (report.refSlot - lastRef) * $.frame.secondsPerSlot,
                clBalance: report.clBalance,
                clDepositsProcessed: report.clDepositsProcessed,
                newlySlashed: newlySlashed,
                frontRunLoss: frontRunLoss,
                withdrawalVaultPull: report.withdrawalVaultPull,
                elRewardsVaultAvailable: report.elRewardsVaultAvailable,
                finalizeUpToRequestId: report.finalizeUpToRequestId,
                finalizationShareRate: report.finalizationShareRate
            })
            );
    }

    /// @notice Applies the next chunk of the last report's operators report: `keccak256(chunk)` must
    /// be the hash its predecessor committed to, and the report's frame must still be current.
    /// Anyone may call (the quorum signed the chain's first hash).
    function submitExtraDataChunk(bytes calldata chunk) external {
        OracleStorage storage $ = _o();
        ExtraDataState memory x = $.extraData;
        if (x.nextHash == bytes32(0)) revert NoExtraDataPending();
        (uint256 current,) = _currentFrame($.frame);
        if (current != x.refSlot) revert ExtraDataExpired(x.refSlot, current);
        bytes32 actual = keccak256(chunk);
        if (actual != x.nextHash) revert ExtraDataHashMismatch(x.nextHash, actual);
        address module = $.operatorsModule;
        if (module == address(0)) revert IOperatorsReport.OperatorsModuleNotSet();
        bytes32 next = _nextChunkHash(chunk);
        // effects before the call: the chain advances first, so no chunk is ever applied twice
        $.extraData.nextHash = next;
        $.extraData.chunksApplied = x.chunksApplied + 1;
        _callModule(module, x.refSlot, x.lossRate, chunk);
        emit ExtraDataChunkApplied(x.refSlot, x.chunksApplied, actual, next);
        // the last chunk landed: the losses it could restore are charged, deposits may resume
        if (next == bytes32(0)) IStakePool($.pool).setPendingExtraData(0, 0);
    }

    /// @dev Version, frame, signatures and validator counts; records the report as the last one.
    function _checkAndRecord(OracleStorage storage $, Report calldata report, Signature[] calldata signatures)
        internal
        returns (uint256 lastRef, uint256 newlySlashed)
    {
        if (report.consensusVersion != CONSENSUS_VERSION) {
            revert UnsupportedConsensusVersion(report.consensusVersion, CONSENSUS_VERSION);
        }
        (uint256 expectedRefSlot,) = _currentFrame($.frame);
        lastRef = $.lastRefSlot;
        if (report.refSlot != expectedRefSlot) revert UnexpectedRefSlot(report.refSlot, expectedRefSlot);
        if (report.refSlot <= lastRef) revert RefSlotNotIncreasing(report.refSlot, lastRef);

        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, report)));
        _verifySignatures($, digest, signatures);

        ISanityChecker.ValidatorCounts memory prev = $.lastCounts;
        ISanityChecker.ValidatorCounts memory counts = ISanityChecker.ValidatorCounts({
            deposited: _u64("validatorsDeposited", report.validatorsDeposited),
            active: _u64("validatorsActive", report.validatorsActive),
            exited: _u64("validatorsExited", report.validatorsExited),
            slashed: _u64("validatorsSlashed", report.validatorsSlashed)
        });
        ISanityChecker($.sanityChecker).checkValidatorCounts(prev, counts);

        // refSlot was checked to fit the frame maths (< 2^64 seconds since genesis)
        $.lastRefSlot = uint64(report.refSlot);
        $.lastCounts = counts;
        newlySlashed = counts.slashed - prev.slashed;
        emit ReportSubmitted(report.refSlot, digest, msg.sender, signatures.length);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Adds `member` and sets the quorum. Oracle manager (timelock) only.
    function addMember(address member, uint256 newQuorum) external onlyRole(ORACLE_MANAGER_ROLE) {
        OracleStorage storage $ = _o();
        _addMember($, member);
        _setQuorum($, newQuorum);
    }

    /// @notice Removes `member` and sets the quorum. Oracle manager (timelock) only.
    function removeMember(address member, uint256 newQuorum) external onlyRole(ORACLE_MANAGER_ROLE) {
        OracleStorage storage $ = _o();
        if (!$.isMember[member]) revert NotAMember(member);
        $.isMember[member] = false;
        address[] storage m = $.members;
        uint256 n = m.length;
        // members are few (a governance-sized set), so the linear scan is bounded
        for (uint256 i = 0; i < n; ++i) {
            if (m[i] == member) {
                m[i] = m[n - 1];
                m.pop();
                break;
            }
        }
        emit MemberRemoved(member, newQuorum);
        _setQuorum($, newQuorum);
    }

    /// @notice Sets the quorum. Oracle manager (timelock) only.
    function setQuorum(uint256 newQuorum) external onlyRole(ORACLE_MANAGER_ROLE) {
        _setQuorum(_o(), newQuorum);
    }

    /// @notice Sets the frame timing. Governance only. Refused while the last report's extra-data
    /// chain can still be delivered (`ExtraDataChainPending`): the new timing would expire its
    /// chunks, dropping the losses they charge, and the timelock's executor is open, so anyone
    /// could time the change to drop a chain that penalises them. The operation stays executable
    /// once the chain lands or its frame ends (at most one frame). A chain whose frame has ended
    /// is dropped (`ExtraDataDropped`, as the next report would) and the pool's hold lifted.
    function setFrameConfig(FrameConfig calldata frame) external onlyRole(DEFAULT_ADMIN_ROLE) {
        OracleStorage storage $ = _o();
        ExtraDataState storage x = $.extraData;
        if (x.nextHash != bytes32(0)) {
            (uint256 current,) = _currentFrame($.frame);
            if (current == x.refSlot) revert ExtraDataChainPending(x.refSlot);
        }
        _setFrameConfig($, frame);
        if (_dropPendingExtraData($)) IStakePool($.pool).setPendingExtraData(0, 0);
    }

    /// @notice Sets the operators module that receives the operators report (zero: reports with
    /// operator data are refused). Governance only.
    function setOperatorsModule(address module) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _o().operatorsModule = module;
        emit OperatorsModuleSet(module);
    }

    /// @notice Sets the sanity checker. Governance only.
    function setSanityChecker(address sanityChecker_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (sanityChecker_ == address(0)) revert ZeroAddress();
        _o().sanityChecker = sanityChecker_;
        emit ParameterUpdated("sanityChecker", uint160(sanityChecker_));
    }

    // ------------------------------------------------------------------ views

    /// @notice EIP-712 digest the members sign for `report`.
    function reportDigest(Report calldata report) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, report)));
    }

    /// @notice Reference slot a report must carry now, and the time the current frame ends
    /// (a report for this frame must be included before it).
    function currentFrame() external view returns (uint256 refSlot, uint256 deadline) {
        return _currentFrame(_o().frame);
    }

    function frameConfig() external view returns (FrameConfig memory) {
        return _o().frame;
    }

    function lastRefSlot() external view returns (uint256) {
        return _o().lastRefSlot;
    }

    function lastValidatorCounts() external view returns (ISanityChecker.ValidatorCounts memory) {
        return _o().lastCounts;
    }

    function getMembers() external view returns (address[] memory) {
        return _o().members;
    }

    function isMember(address account) external view returns (bool) {
        return _o().isMember[account];
    }

    function quorum() external view returns (uint256) {
        return _o().quorum;
    }

    function pool() external view returns (address) {
        return _o().pool;
    }

    function sanityChecker() external view returns (address) {
        return _o().sanityChecker;
    }

    function operatorsModule() external view returns (address) {
        return _o().operatorsModule;
    }

    /// @inheritdoc IOracleReport
    function extraDataState() external view returns (ExtraDataState memory) {
        return _o().extraData;
    }

    // ------------------------------------------------------------------ internals

    function _verifySignatures(OracleStorage storage $, bytes32 digest, Signature[] calldata signatures)
        internal
        view
    {
        uint256 q = $.quorum;
        if (signatures.length < q) revert QuorumNotReached(signatures.length, q);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i].r, signatures[i].vs);
            // strictly increasing order rules out duplicates
            if (signer <= previous) revert SignersNotSorted(previous, signer);
            if (!$.isMember[signer]) revert NotAMember(signer);
            previous = signer;
        }
    }

    function _checkExtraData(bytes32 expected, bytes calldata extraData) internal pure {
        bytes32 actual = extraData.length == 0 ? bytes32(0) : keccak256(extraData);
        if (actual != expected) revert ExtraDataHashMismatch(expected, actual);
    }

    /// @dev A report arrived (or the frame timing changed): chunks of the previous one that were
    /// not delivered are dropped. Returns whether a chain was dropped: only then can the pool's
    /// deposit hold still be on (it is set with a chain and lifted with its last chunk).
    function _dropPendingExtraData(OracleStorage storage $) internal returns (bool dropped) {
        ExtraDataState storage x = $.extraData;
        bytes32 next = x.nextHash;
        if (next == bytes32(0)) return false;
        x.nextHash = bytes32(0);
        emit ExtraDataDropped(x.refSlot, x.chunksApplied, next);
        return true;
    }

    /// @dev Chunk 0, inside `submitReport`: records the chain with the share rate before the
    /// report, at which every chunk charges its losses (when there are later chunks the pool also
    /// holds deposits until the last one or the frame's end; otherwise a hold a dropped chain may
    /// have left, `holdMayBeOn`, is lifted), then hands the part to the module (the pool has not
    /// booked the report yet).
    function _applyFirstChunk(
        OracleStorage storage $,
        uint256 refSlot,
        bytes32 chunkHash,
        bytes calldata chunk,
        bool holdMayBeOn
    ) internal returns (uint256 frontRunLoss) {
        address module = $.operatorsModule;
        if (module == address(0)) revert IOperatorsReport.OperatorsModuleNotSet();
        bytes32 next = _nextChunkHash(chunk);
        uint256 rate = IStakePool($.pool).shareRate();
        // unreachable in practice (a rate above 2^128 / 1e27 ETH per share); kept as a guard
        if (rate > type(uint128).max) revert ValueTooLarge("shareRate", rate);
        if (next != bytes32(0)) {
            (, uint256 deadline) = _currentFrame($.frame);
            IStakePool($.pool).setPendingExtraData(refSlot, deadline);
        } else if (holdMayBeOn) {
            IStakePool($.pool).setPendingExtraData(0, 0);
        }
        $.extraData = ExtraDataState({
            // refSlot was checked to fit uint64 by _checkAndRecord; rate checked above
            refSlot: uint64(refSlot),
            chunksApplied: 1,
            lossRate: uint128(rate),
            nextHash: next
        });
        // chunk 0 too converts every loss at the rate before the report: at the current rate,
        // each burn would raise the rate the next loss of the chunk is converted at
        frontRunLoss = _callModule(module, refSlot, rate, chunk);
        emit ExtraDataChunkApplied(refSlot, 0, chunkHash, next);
    }

    /// @dev The chunk's first word, after checking the canonical head of
    /// `abi.encode(bytes32 nextChunkHash, OperatorsReport part)` (the part's offset is 0x40).
    function _nextChunkHash(bytes calldata chunk) internal pure returns (bytes32) {
        if (chunk.length < 64 || uint256(bytes32(chunk[32:64])) != 0x40) {
            revert ExtraDataChunkMalformed(chunk.length);
        }
        return bytes32(chunk[0:32]);
    }

    /// @dev Calls `module.handleOperatorsReport(refSlot, lossRate, part)`. The part's encoding starts
    /// at byte 64 of the chunk and its offsets are relative to its own start, so the chunk's tail is
    /// forwarded as it is behind a fresh head: the module reads it lazily from calldata (no decoding
    /// into memory), and no byte outside the hashed chunk reaches it. Malformed parts revert in the
    /// module's calldata accessors; the module checks the part's refSlot.
    function _callModule(address module, uint256 refSlot, uint256 lossRate, bytes calldata chunk)
        internal
        returns (uint256 frontRunLoss)
    {
        (bool ok, bytes memory ret) = module.call(
            bytes.concat(
                IOperatorsReportReceiver.handleOperatorsReport.selector,
                abi.encode(refSlot, lossRate, uint256(0x60)),
                chunk[64:]
            )
        );
        if (!ok) {
            // memory-safe: reads the returned revert data in place
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        frontRunLoss = abi.decode(ret, (uint256));
    }

    function _currentFrame(FrameConfig memory f) internal view returns (uint256 refSlot, uint256 deadline) {
        if (block.timestamp < f.genesisTime) revert NoReportableFrame(block.timestamp);
        uint256 slotsPerFrame = uint256(f.slotsPerEpoch) * f.epochsPerFrame;
        uint256 slot = (block.timestamp - f.genesisTime) / f.secondsPerSlot;
        uint256 frame = slot / slotsPerFrame;
        if (frame == 0) revert NoReportableFrame(block.timestamp);
        refSlot = frame * slotsPerFrame - 1;
        deadline = f.genesisTime + (frame + 1) * slotsPerFrame * f.secondsPerSlot;
    }

    function _addMember(OracleStorage storage $, address member) internal {
        if (member == address(0)) revert ZeroAddress();
        if ($.isMember[member]) revert AlreadyAMember(member);
        $.isMember[member] = true;
        $.members.push(member);
        emit MemberAdded(member, $.quorum);
    }

    function _setQuorum(OracleStorage storage $, uint256 q) internal {
        uint256 n = $.members.length;
        if (q == 0 || q > n || q <= n / 2) revert InvalidQuorum(q, n);
        $.quorum = uint32(q); // q <= members.length
        emit QuorumUpdated(q);
    }

    function _setFrameConfig(OracleStorage storage $, FrameConfig memory f) internal {
        if (
            f.secondsPerSlot == 0 || f.slotsPerEpoch == 0 || f.epochsPerFrame == 0
                || uint256(f.slotsPerEpoch) * f.epochsPerFrame < 2
        ) revert InvalidFrameConfig();
        $.frame = f;
        emit FrameConfigUpdated(f);
    }

    function _u64(bytes32 field, uint256 value) internal pure returns (uint64) {
        if (value > type(uint64).max) revert ValueTooLarge(field, value);
        return uint64(value);
    }

    function _o() private pure returns (OracleStorage storage $) {
        assembly {
            $.slot := ORACLE_STORAGE
        }
    }
}
