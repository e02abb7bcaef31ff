// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IExitEnforcer} from "../../src/interfaces/IExitEnforcer.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice csETH stand-in: an ERC-20 the test mints freely.
contract MockShareToken is ERC20 {
    constructor() ERC20("ClayStack ETH", "csETH") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice kcsETH stand-in: transfers to an unattested address revert with the policy's error.
contract MockRestrictedShareToken is ERC20 {
    error NotAttested(address account, uint8 minTier);

    mapping(address => bool) public attested;

    constructor() ERC20("ClayStack KYC ETH", "kcsETH") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setAttested(address account, bool ok) external {
        attested[account] = ok;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && !attested[to]) revert NotAttested(to, 1);
        super._update(from, to, value);
    }
}

/// @notice The registry views the exit enforcer reads, with setters for the tests.
contract MockOperatorRegistry {
    struct Key {
        bytes pubkey;
        IOperatorRegistry.KeyStatus status;
    }

    mapping(uint256 => address) public managers;
    mapping(uint256 => mapping(uint256 => Key)) private _keys;
    mapping(uint256 => mapping(uint256 => uint256)) private _deadlines;

    function setOperator(uint256 operatorId, address manager) external {
        managers[operatorId] = manager;
    }

    function setKey(
        uint256 operatorId,
        uint256 keyIndex,
        bytes calldata pubkey,
        IOperatorRegistry.KeyStatus status
    ) external {
        _keys[operatorId][keyIndex] = Key(pubkey, status);
    }

    function setExitDeadline(uint256 operatorId, uint256 keyIndex, uint256 deadline) external {
        _deadlines[operatorId][keyIndex] = deadline;
    }

    function getOperator(uint256 operatorId)
        external
        view
        returns (IOperatorRegistry.OperatorInfo memory info)
    {
        if (managers[operatorId] == address(0)) revert IOperatorRegistry.OperatorNotFound(operatorId);
        info.manager = managers[operatorId];
    }

    function getKey(uint256 operatorId, uint256 keyIndex)
        external
        view
        returns (bytes memory pubkey, bytes memory signature, IOperatorRegistry.KeyStatus status)
    {
        Key storage k = _keys[operatorId][keyIndex];
        if (k.pubkey.length == 0) revert IOperatorRegistry.KeyRangeInvalid(keyIndex, 1, 0, 0);
        return (k.pubkey, new bytes(96), k.status);
    }

    function exitRequestDeadline(uint256 operatorId, uint256 keyIndex) external view returns (uint256) {
        return _deadlines[operatorId][keyIndex];
    }
}

/// @notice A caller that re-enters the enforcer when it receives its refund.
contract ReentrantCaller {
    IExitEnforcer public immutable enforcer;
    uint256 public targetOperator;
    uint256 public targetKey;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor(IExitEnforcer enforcer_) {
        enforcer = enforcer_;
    }

    function attack(uint256 operatorId, uint256 keyIndex, uint256 reOperator, uint256 reKey)
        external
        payable
    {
        targetOperator = reOperator;
        targetKey = reKey;
        enforcer.enforceExit{value: msg.value}(operatorId, keyIndex);
    }

    receive() external payable {
        if (reentered) return;
        reentered = true;
        try enforcer.enforceExit{value: msg.value}(targetOperator, targetKey) {
            reentrySucceeded = true;
        } catch (bytes memory err) {
            reentryError = err;
        }
    }
}

/// @notice A caller that cannot take ETH back.
contract NoReceiveCaller {
    function enforce(IExitEnforcer enforcer, uint256 operatorId, uint256 keyIndex) external payable {
        enforcer.enforceExit{value: msg.value}(operatorId, keyIndex);
    }
}
