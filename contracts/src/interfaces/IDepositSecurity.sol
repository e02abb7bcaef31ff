// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

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

    /// @notice Keys were pre-deposited with 1 ETH each.
    event PreDeposited(uint256 indexed operatorId, uint256 fromIndex, uint256 count);
    /// @notice Confirmed keys were topped up with 31 ETH each.
    event ToppedUp(uint256 indexed operatorId, uint256 processed, uint256 deposited);
    /// @notice An operator joined or left the deposit set.
    event OperatorListedSet(uint256 indexed operatorId, bool listed);

    /// @notice Permissionless keeper: tops up confirmed keys, then pre-deposits new ones chosen by
    /// the Allocator, at most `maxKeys` deposits in all, from `pool.depositableEther()` only.
    function depositBuffered(uint256 maxKeys) external returns (uint256 toppedUp, uint256 preDeposited);
    /// @notice Bit `t` set: operators of type `t` (IOperatorRegistry.OperatorType) may receive deposits.
    function operatorTypeMask() external view returns (uint8);
    /// @notice 0x01 ‖ 11 zero bytes ‖ WithdrawalVault.
    function withdrawalCredentials() external view returns (bytes32);
    /// @notice Operator ids in the deposit set, ascending.
    function operators() external view returns (uint64[] memory);
}
