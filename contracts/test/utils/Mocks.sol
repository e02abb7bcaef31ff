// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessPolicy} from "../../src/interfaces/IAccessPolicy.sol";
import {StakePool} from "../../src/pool/StakePool.sol";

/// @notice Access policy with a per-account deny list.
contract MockAccessPolicy is IAccessPolicy {
    error Denied(address account, Action action);

    mapping(address => mapping(Action => bool)) public denied;

    function deny(address account, Action action) external {
        denied[account][action] = true;
    }

    function isAllowed(Action action, address account) public view returns (bool) {
        return !denied[account][action];
    }

    function checkAccess(Action action, address account) external view {
        if (!isAllowed(action, account)) revert Denied(account, action);
    }
}

/// @notice Deposit module stand-in: takes buffered ETH from the pool and holds it (the CL).
contract MockDepositModule {
    StakePool internal immutable pool;

    constructor(StakePool pool_) {
        pool = pool_;
    }

    function take(uint256 amount) external {
        pool.withdrawToDepositModule(amount);
    }

    receive() external payable {}
}
