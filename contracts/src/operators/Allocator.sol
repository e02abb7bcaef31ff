// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IAllocator} from "../interfaces/IAllocator.sol";
import {AllocationLib} from "../lib/AllocationLib.sol";

/// @title Allocator
/// @notice The algorithmic network balancing (DESIGN.md, ADR 0006): governance-set target shares
/// per operator type and per-operator caps; views that say which operators receive the next `n`
/// deposits and which exit `m` validators. One deployment per pool (the KYC pool's targets are
/// Kyc = 10,000). The OperatorRegistry feeds it operator data; the same algorithm runs off chain
/// in `claystack-balancer`.
/// Guarantees:
/// - only DEFAULT_ADMIN_ROLE (the timelock) changes parameters or upgrades; every change emits an
///   event; parameters are always within their hard bounds (targets sum to 10,000 bps, caps and
///   gas bounds within `AllocationLib`'s limits);
/// - the views are pure functions of (parameters, operators, request): deterministic, integer-only,
///   every tie broken by type order then lowest operator id;
/// - bounded gas: at most `maxOperatorsPerType` (<= 200) operators per type and 256 validators per
///   call, otherwise the call reverts with a parameterised error;
/// - deposits never go to an inactive operator, one without available keys, one at or above a cap,
///   or a type whose target is 0.
contract Allocator is Governed, IAllocator {
    /// @custom:storage-location erc7201:claystack.storage.Allocator
    struct AllocatorStorage {
        AllocationParams params;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.Allocator")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT =
        0xf24ff98285df2d3719a7ae0c6b110d06894692ab26320b38e591cd78458c4400;

    /// @notice Hard upper bound of `maxOperatorsPerType`.
    uint256 public constant MAX_OPERATORS_PER_TYPE = AllocationLib.MAX_OPERATORS_PER_TYPE;
    /// @notice Hard upper bound of the validators one call allocates or selects.
    uint256 public constant MAX_REQUEST = AllocationLib.MAX_REQUEST;

    /// @notice Initializes the proxy: `admin` is the timelock, `guardian` may be zero (nothing to
    /// pause here), `params_` must be within bounds (see {AllocationLib-checkParams}).
    function initialize(address admin, address guardian, AllocationParams calldata params_)
        external
        initializer
    {
        __Governed_init(admin, guardian);
        _setParams(params_);
        emit TargetsUpdated(params_.targetBps);
        emit OperatorCapUpdated(params_.operatorCapBps, params_.operatorCapAbsolute);
        emit ParameterUpdated("capacitySaturation", params_.capacitySaturation);
        emit ParameterUpdated("maxOperatorsPerType", params_.maxOperatorsPerType);
    }

    /// @inheritdoc IAllocator
    function setTargets(uint16[4] calldata targetBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AllocationParams memory p = _storage().params;
        p.targetBps = targetBps;
        _setParams(p);
        emit TargetsUpdated(targetBps);
    }

    /// @inheritdoc IAllocator
    function setOperatorCap(uint16 capBps, uint64 capAbsolute) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AllocationParams memory p = _storage().params;
        (p.operatorCapBps, p.operatorCapAbsolute) = (capBps, capAbsolute);
        _setParams(p);
        emit OperatorCapUpdated(capBps, capAbsolute);
    }

    /// @inheritdoc IAllocator
    function setCapacitySaturation(uint64 saturation) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AllocationParams memory p = _storage().params;
        p.capacitySaturation = saturation;
        _setParams(p);
        emit ParameterUpdated("capacitySaturation", saturation);
    }

    /// @inheritdoc IAllocator
    function setMaxOperatorsPerType(uint16 max) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AllocationParams memory p = _storage().params;
        p.maxOperatorsPerType = max;
        _setParams(p);
        emit ParameterUpdated("maxOperatorsPerType", max);
    }

    /// @inheritdoc IAllocator
    function params() external view returns (AllocationParams memory) {
        return _storage().params;
    }

    /// @inheritdoc IAllocator
    function allocateDeposits(OperatorData[] memory operators, uint256 n)
        external
        view
        returns (Allocation memory)
    {
        return AllocationLib.allocateDeposits(_storage().params, operators, n);
    }

    /// @inheritdoc IAllocator
    function selectExits(OperatorData[] memory operators, uint256 m)
        external
        view
        returns (Allocation memory)
    {
        return AllocationLib.selectExits(_storage().params, operators, m);
    }

    function _setParams(AllocationParams memory p) private {
        AllocationLib.checkParams(p);
        _storage().params = p;
    }

    function _storage() private pure returns (AllocatorStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
