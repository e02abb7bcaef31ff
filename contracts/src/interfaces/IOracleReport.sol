// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Frame-based oracle: members sign an EIP-712 report, anyone submits it with a quorum.
interface IOracleReport {
    /// @notice The signed report (version 1). Field order is the EIP-712 type order; later
    /// versions append fields behind a new `consensusVersion` (see docs/adr/0002).
    struct Report {
        uint256 consensusVersion;
        uint256 refSlot;
        uint256 validatorsDeposited; // cumulative validators that appeared on the CL
        uint256 validatorsActive;
        uint256 validatorsExited; // cumulative
        uint256 validatorsSlashed; // cumulative
        uint256 clBalance; // wei
        uint256 clDepositsProcessed; // cumulative wei deposited and seen on the CL
        uint256 withdrawalVaultPull; // wei
        uint256 elRewardsVaultAvailable; // wei
        uint256 finalizeUpToRequestId;
        uint256 finalizationShareRate; // 1e27 precision
        bytes32 extraDataHash; // commitment to per-operator data (issue 3); zero when none
    }

    /// @notice Compact (EIP-2098) signature.
    struct Signature {
        bytes32 r;
        bytes32 vs;
    }

    /// @notice Frame configuration (consensus-layer timing).
    struct FrameConfig {
        uint64 genesisTime;
        uint32 secondsPerSlot;
        uint32 slotsPerEpoch;
        uint32 epochsPerFrame;
    }

    error UnsupportedConsensusVersion(uint256 reported, uint256 expected);
    error UnexpectedRefSlot(uint256 reported, uint256 expected);
    error RefSlotNotIncreasing(uint256 reported, uint256 lastRefSlot);
    error NoReportableFrame(uint256 timestamp);
    error QuorumNotReached(uint256 signatures, uint256 quorum);
    error SignersNotSorted(address previous, address next);
    error NotAMember(address signer);
    error AlreadyAMember(address member);
    error InvalidQuorum(uint256 quorum, uint256 members);
    error InvalidFrameConfig();
    error ValueTooLarge(bytes32 field, uint256 value);
    /// @notice keccak256(extraData) differs from the signed `extraDataHash` (zero for empty data),
    /// or a chunk's hash differs from the one its predecessor committed to.
    error ExtraDataHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice A chunk is not `abi.encode(bytes32 nextChunkHash, OperatorsReport part)` with the
    /// canonical head (second word 0x40).
    error ExtraDataChunkMalformed(uint256 length);
    /// @notice No chunk of the last report is waiting (none was announced, or all were applied).
    error NoExtraDataPending();
    /// @notice The chunks of the report for `refSlot` were due before its frame ended (docs/adr/0008).
    error ExtraDataExpired(uint256 refSlot, uint256 currentRefSlot);
    /// @notice The extra-data chain of the report for `refSlot` can still be delivered: the frame
    /// timing cannot change until it lands or its frame ends.
    error ExtraDataChainPending(uint256 refSlot);

    event MemberAdded(address indexed member, uint256 quorum);
    event MemberRemoved(address indexed member, uint256 quorum);
    event QuorumUpdated(uint256 quorum);
    /// @notice Governance set the operators module (zero: operator data refused).
    event OperatorsModuleSet(address module);
    event FrameConfigUpdated(FrameConfig config);
    event ReportSubmitted(
        uint256 indexed refSlot, bytes32 indexed reportHash, address submitter, uint256 signatures
    );
    /// @notice Chunk `index` (0: the one in `submitReport`) of the report for `refSlot` was applied;
    /// `nextHash` is the hash of the next chunk (zero: it was the last).
    event ExtraDataChunkApplied(uint256 indexed refSlot, uint256 index, bytes32 chunkHash, bytes32 nextHash);
    /// @notice The next report arrived before the chunk `nextHash` (and any after it) of the report
    /// for `refSlot` was delivered: those chunks are dropped for good.
    event ExtraDataDropped(uint256 indexed refSlot, uint256 chunksApplied, bytes32 nextHash);

    /// @notice Where the extra-data chain of the last report stands (updated by every report).
    struct ExtraDataState {
        uint64 refSlot; // the last report
        uint32 chunksApplied; // including chunk 0 (0: the report had no extra data)
        uint128 lossRate; // share rate before that report (1e27) at which its chunks charge losses
        // (zero: no extra data)
        bytes32 nextHash; // hash of the next chunk to deliver; zero: nothing pending
    }

    /// @notice Applies `report` with the first chunk of its operators report `extraData`
    /// (`abi.encode(bytes32 nextChunkHash, OperatorsReport part)`, empty when
    /// `report.extraDataHash` is zero) if it carries a quorum of signatures.
    function submitReport(Report calldata report, bytes calldata extraData, Signature[] calldata signatures)
        external;
    /// @notice Applies the next chunk of the last report's extra data. Anyone may deliver it (the
    /// quorum committed to the whole chain), before the report's frame ends.
    function submitExtraDataChunk(bytes calldata chunk) external;
    /// @notice The extra-data chain of the last report.
    function extraDataState() external view returns (ExtraDataState memory);
    function reportDigest(Report calldata report) external view returns (bytes32);
    function currentFrame() external view returns (uint256 refSlot, uint256 deadline);
    function lastRefSlot() external view returns (uint256);
    function getMembers() external view returns (address[] memory);
    function quorum() external view returns (uint256);
}
