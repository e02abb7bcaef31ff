// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAllocator} from "./IAllocator.sol";
import {IOperatorRegistry} from "./IOperatorRegistry.sol";
import {IStakePool} from "./IStakePool.sol";

/// @notice The pool's deposit module: 1 ETH pre-deposits, 31 ETH top-ups after a quorum report
/// confirmed the pre-deposit (front-run protection, docs/adr/0007).
interface IDepositSecurity {
    /// @notice `maxKeys` is zero or above the per-call cap.
    error InvalidKeyCount(uint256 maxKeys, uint256 max);
    /// @notice The operator's type is outside this pool's deposit policy (e.g. the KYC pool).
    error OperatorTypeNotAllowed(uint256 operatorId, uint8 operatorType);
    /// @notice The operator is already in (or not in) the deposit set.
    error OperatorListed(uint256 operatorId, bool listed);
    /// @notice The deposit set is full.
    error TooManyOperators(uint256 max);
    /// @notice Governance set the type mask to zero or above the four types.
    error InvalidTypeMask(uint8 mask);
    /// @notice The registry's `topUpKeys` returned `keys` keys but `markDeposited` counted
    /// `deposited`: the module would send or strand ETH, so nothing is deposited.
    error TopUpCountMismatch(uint256 operatorId, uint256 keys, uint256 deposited);
    /// @notice The Allocator's counts sum to `sum` but it reported `total`, or more than the
    /// `requested` keys, or named an operator outside the deposit set.
    error AllocationInvalid(uint256 total, uint256 sum, uint256 requested);
    /// @notice The operator still has keys pre-deposited but not yet topped up (or skipped as
    /// front-run); removing it would strand their 1 ETH validators (docs/adr/0007).
    error OperatorHasPendingDeposits(uint256 operatorId, uint256 pending);
    /// @notice The module holds no ETH to sweep.
    error NothingToSweep();

    /// @notice Keys were pre-deposited with 1 ETH each.
    event PreDeposited(uint256 indexed operatorId, uint256 fromIndex, uint256 count);
    /// @notice Confirmed keys were topped up with 31 ETH each.
    event ToppedUp(uint256 indexed operatorId, uint256 processed, uint256 deposited);
    /// @notice An operator joined or left the deposit set.
    event OperatorListedSet(uint256 indexed operatorId, bool listed);
    /// @notice ETH forced into the module (it never keeps any between calls) went to the pool's
    /// EL rewards vault, from where reports pull it into the buffer.
    event Swept(address indexed to, uint256 amount);

    /// @notice Permissionless keeper: tops up confirmed keys, then pre-deposits new ones chosen by
    /// the Allocator, at most `maxKeys` deposits in all, from `pool.depositableEther()` only.
    function depositBuffered(uint256 maxKeys) external returns (uint256 toppedUp, uint256 preDeposited);
    /// @notice Sends ETH forced into the module (it holds none between calls) to the pool's EL
    /// rewards vault. Governance only.
    function sweepForcedEther() external returns (uint256 amount);
    /// @notice Bit `t` set: operators of type `t` (IOperatorRegistry.OperatorType) may receive deposits.
    function operatorTypeMask() external view returns (uint8);
    /// @notice 0x01 ‖ 11 zero bytes ‖ WithdrawalVault.
    function withdrawalCredentials() external view returns (bytes32);
    /// @notice Operator ids in the deposit set, ascending.
    function operators() external view returns (uint64[] memory);
    /// @notice The pool whose buffer the module deposits (set at initialization).
    function pool() external view returns (IStakePool);
    /// @notice The operator registry the keys come from (set at initialization).
    function registry() external view returns (IOperatorRegistry);
    /// @notice The Allocator that picks the operators of new keys (ADR 0006); the oracle takes the
    /// exit rule's parameters from it (set at initialization).
    function allocator() external view returns (IAllocator);
    /// @notice The beacon deposit contract (set at initialization).
    function depositContract() external view returns (address);
}
