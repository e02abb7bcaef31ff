// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {IPoolVault} from "../interfaces/IVaults.sol";

/// @notice ETH vault of the pool. Guarantees: accepts ETH from anyone (CL withdrawals and
/// fee-recipient payments arrive without a call); releases ETH only to the pool, only when the
/// pool asks (during an oracle report). No one else, governance and guardian included, can move
/// its ETH; only an upgrade (timelock) can change that.
abstract contract PoolVault is Governed, IPoolVault {
    /// @custom:storage-location erc7201:claystack.storage.PoolVault
    struct VaultStorage {
        address pool;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.PoolVault")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant VAULT_STORAGE =
        0xdd6e4657fe573a17ce13f8715147e787d663727b4ed41a91af15779199a1a900;

    /// @notice Initializes the proxy.
    function initialize(address admin, address pool_) external initializer {
        if (pool_ == address(0)) revert ZeroAddress();
        __Governed_init(admin, address(0));
        _v().pool = pool_;
    }

    /// @notice Sends `amount` to the pool. Only the pool.
    function pull(uint256 amount) external {
        address pool_ = _v().pool;
        if (msg.sender != pool_) revert UnauthorizedCaller(msg.sender, pool_);
        if (amount > address(this).balance) revert InsufficientVaultBalance(amount, address(this).balance);
        emit EtherPulled(pool_, amount);
        _sendToPool(IStakePool(pool_), amount);
    }

    /// @notice Accepts ETH.
    receive() external payable {}

    function pool() external view returns (address) {
        return _v().pool;
    }

    function _sendToPool(IStakePool pool_, uint256 amount) internal virtual;

    function _v() private pure returns (VaultStorage storage $) {
        assembly {
            $.slot := VAULT_STORAGE
        }
    }
}

/// @notice The 0x01 withdrawal-credential address of every protocol validator. Guarantees: see
/// {PoolVault}; EIP-7002 triggerable exits come with the operator registry (issue 3).
contract WithdrawalVault is PoolVault {
    function _sendToPool(IStakePool pool_, uint256 amount) internal override {
        pool_.receiveWithdrawalVaultEther{value: amount}();
    }
}

/// @notice Fee recipient of every protocol validator (priority fees and MEV). Guarantees: see
/// {PoolVault}; the pool pulls at most the smoothing cap per report.
contract ElRewardsVault is PoolVault {
    function _sendToPool(IStakePool pool_, uint256 amount) internal override {
        pool_.receiveElRewards{value: amount}();
    }
}
