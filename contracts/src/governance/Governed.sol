// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../interfaces/IGoverned.sol";
import {
    AccessControlUpgradeable
} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/// @notice Base of every upgradeable ClayStack contract.
/// Guarantees: only DEFAULT_ADMIN_ROLE (the TimelockController in every deployment) upgrades the
/// implementation and changes parameters; GUARDIAN_ROLE can only pause; implementations cannot
/// be initialized directly.
abstract contract Governed is Initializable, AccessControlUpgradeable, UUPSUpgradeable, IGoverned {
    /// @notice Role that may pause (never unpause, never move funds).
    bytes32 public constant GUARDIAN_ROLE = keccak256("claystack.role.guardian");

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    // solhint-disable-next-line func-name-mixedcase
    function __Governed_init(address admin, address guardian) internal onlyInitializing {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
    }

    function _authorizeUpgrade(address) internal view override onlyRole(DEFAULT_ADMIN_ROLE) {}

    /// @dev Reverts with {ParameterOutOfBounds} unless `min <= value <= max`.
    function _checkBounds(bytes32 parameter, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfBounds(parameter, value, min, max);
    }
}

/// @notice Pause switch for governed contracts: the guardian (or governance) pauses, only
/// governance unpauses. ERC-7201 namespaced.
abstract contract GuardianPausable is Governed {
    /// @custom:storage-location erc7201:claystack.storage.GuardianPausable
    struct PauseStorage {
        bool paused;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.GuardianPausable")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant PAUSE_STORAGE =
        0x4f989e912da16585b6921ae02a851589e9526404b38bad724250c28ef53ac100;

    modifier whenNotPaused() {
        if (_pauseStorage().paused) revert EnforcedPause();
        _;
    }

    /// @notice Pauses the contract. Guardian or governance.
    function pause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        _pauseStorage().paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Unpauses the contract. Governance only.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pauseStorage().paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether the contract is paused.
    function paused() public view returns (bool) {
        return _pauseStorage().paused;
    }

    function _pauseStorage() private pure returns (PauseStorage storage $) {
        assembly {
            $.slot := PAUSE_STORAGE
        }
    }
}
