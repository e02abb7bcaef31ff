// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IExitEnforcer} from "../interfaces/IExitEnforcer.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IWithdrawalVault} from "../interfaces/IVaults.sol";
import {Eip7002} from "../lib/Eip7002.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice Forces, through EIP-7002, the exit of validators whose operator ignored an exit request
/// past its deadline, and records operators' voluntary exit requests.
/// Guarantees:
/// - {enforceExit} is permissionless but only acts on a key of status Deposited whose exit request
///   is still pending in the registry and past its deadline; each request (key and deadline) is
///   enforced at most once. The oracle's next report closes the request once it sees the validator
///   exiting or exited (`exitsStarted`, docs/adr/0007), so an operator that obeyed cannot be
///   forced or counted as missing an exit after that report; between the exit and that report
///   (at most one frame) the contract cannot tell, and a forced exit of a validator already
///   exiting changes nothing on the consensus layer (its caller only wastes the fee);
/// - the caller pays the EIP-7002 fee; exactly the fee of this block goes to the system contract,
///   the excess is refunded in the same call; the withdrawal vault's own ETH is never used;
/// - each enforcement adds one to the operator's `missedExits` counter and emits {ExitEnforced};
///   the bond penalty itself comes only from the oracle report (penalty kind 2), so nothing here
///   charges the bond;
/// - {requestVoluntaryExit} is for the operator's manager only and moves no funds.
contract ExitEnforcer is Governed, ReentrancyGuardTransient, IExitEnforcer {
    /// @custom:storage-location erc7201:claystack.storage.ExitEnforcer
    struct ExitStorage {
        IOperatorRegistry registry;
        IWithdrawalVault vault;
        mapping(uint256 operatorId => uint256 count) missedExits;
        mapping(uint256 operatorId => mapping(uint256 keyIndex => uint256 deadline)) enforcedDeadline;
        mapping(uint256 operatorId => mapping(uint256 keyIndex => bool)) voluntaryExitRequested;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.ExitEnforcer")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant EXIT_STORAGE =
        0xc21af61a0bdbf1fd3eceba60f25815f867fef492b5f392348dde86e57e227f00;

    /// @notice Initializes the proxy with the operator registry and the withdrawal vault.
    function initialize(address admin, address registry_, address vault_) external initializer {
        if (registry_ == address(0) || vault_ == address(0)) revert ZeroAddress();
        __Governed_init(admin, address(0));
        ExitStorage storage $ = _e();
        $.registry = IOperatorRegistry(registry_);
        $.vault = IWithdrawalVault(vault_);
    }

    /// @inheritdoc IExitEnforcer
    function enforceExit(uint256 operatorId, uint256 keyIndex)
        external
        payable
        nonReentrant
        returns (uint256 fee)
    {
        ExitStorage storage $ = _e();
        IOperatorRegistry registry_ = $.registry;
        uint256 deadline = registry_.exitRequestDeadline(operatorId, keyIndex);
        if (deadline == 0) revert NoPendingExitRequest(operatorId, keyIndex);
        // forge-lint: disable-next-line(block-timestamp) -- deadlines are days long
        if (block.timestamp <= deadline) revert ExitDeadlineNotPassed(operatorId, keyIndex, deadline);
        if ($.enforcedDeadline[operatorId][keyIndex] == deadline) {
            revert ExitAlreadyEnforced(operatorId, keyIndex, deadline);
        }
        (bytes memory pubkey,, IOperatorRegistry.KeyStatus status) = registry_.getKey(operatorId, keyIndex);
        if (status != IOperatorRegistry.KeyStatus.Deposited) revert KeyNotDeposited(operatorId, keyIndex);
        fee = Eip7002.fee();
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);

        $.enforcedDeadline[operatorId][keyIndex] = deadline;
        uint256 missed = ++$.missedExits[operatorId];
        emit ExitEnforced(operatorId, keyIndex, pubkey, msg.sender, fee, deadline, missed);

        $.vault.addWithdrawalRequest{value: fee}(pubkey);
        // cannot underflow: msg.value >= fee checked above
        uint256 refund;
        unchecked {
            refund = msg.value - fee;
        }
        if (refund != 0) {
            (bool ok,) = msg.sender.call{value: refund}("");
            if (!ok) revert RefundFailed(msg.sender, refund);
        }
    }

    /// @inheritdoc IExitEnforcer
    function requestVoluntaryExit(uint256 operatorId, uint256 keyIndex) external nonReentrant {
        ExitStorage storage $ = _e();
        IOperatorRegistry registry_ = $.registry;
        address manager = registry_.getOperator(operatorId).manager;
        if (msg.sender != manager) revert IOperatorRegistry.NotOperatorManager(operatorId, msg.sender);
        (bytes memory pubkey,, IOperatorRegistry.KeyStatus status) = registry_.getKey(operatorId, keyIndex);
        if (status != IOperatorRegistry.KeyStatus.Deposited) revert KeyNotDeposited(operatorId, keyIndex);
        if ($.voluntaryExitRequested[operatorId][keyIndex]) {
            revert VoluntaryExitAlreadyRequested(operatorId, keyIndex);
        }
        $.voluntaryExitRequested[operatorId][keyIndex] = true;
        emit VoluntaryExitRequested(operatorId, keyIndex, pubkey);
    }

    /// @inheritdoc IExitEnforcer
    function exitFee() external view returns (uint256) {
        return Eip7002.fee();
    }

    /// @inheritdoc IExitEnforcer
    function missedExits(uint256 operatorId) external view returns (uint256) {
        return _e().missedExits[operatorId];
    }

    /// @inheritdoc IExitEnforcer
    function enforcedDeadline(uint256 operatorId, uint256 keyIndex) external view returns (uint256) {
        return _e().enforcedDeadline[operatorId][keyIndex];
    }

    /// @inheritdoc IExitEnforcer
    function voluntaryExitRequested(uint256 operatorId, uint256 keyIndex) external view returns (bool) {
        return _e().voluntaryExitRequested[operatorId][keyIndex];
    }

    /// @inheritdoc IExitEnforcer
    function registry() external view returns (address) {
        return address(_e().registry);
    }

    /// @inheritdoc IExitEnforcer
    function withdrawalVault() external view returns (address) {
        return address(_e().vault);
    }

    function _e() private pure returns (ExitStorage storage $) {
        assembly {
            $.slot := EXIT_STORAGE
        }
    }
}
