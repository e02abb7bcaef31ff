// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IExitEnforcer} from "../interfaces/IExitEnforcer.sol";
import {IStakePool} from "../interfaces/IStakePool.sol";
import {IPoolVault, IWithdrawalVault} from "../interfaces/IVaults.sol";
import {Eip7002} from "../lib/Eip7002.sol";

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
/// {PoolVault}; in addition it sends EIP-7002 full-exit requests, only when the exit enforcer
/// asks and only with the fee the enforcer sends along (never from the vault's own ETH).
contract WithdrawalVault is PoolVault, IWithdrawalVault {
    /// @custom:storage-location erc7201:claystack.storage.WithdrawalVault
    struct WithdrawalVaultStorage {
        address exitEnforcer;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.WithdrawalVault")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant WITHDRAWAL_VAULT_STORAGE =
        0xe3d3174c5c778f6e46583e375486756742fb2eaf8f6d48e5bd23e9a4172fe300;

    /// @notice Sets the only caller of {addWithdrawalRequest}. Governance only. It must be a
    /// contract whose `withdrawalVault()` is this vault (an ExitEnforcer built for it): an EOA or a
    /// foreign enforcer could send exit requests for any validator without an oracle report. This
    /// is a sanity check, not a trust boundary: governance can still install any contract that
    /// answers so; the timelock delay is the protection.
    function setExitEnforcer(address exitEnforcer_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (exitEnforcer_ == address(0)) revert ZeroAddress();
        if (exitEnforcer_.code.length == 0) revert InvalidExitEnforcer(exitEnforcer_);
        try IExitEnforcer(exitEnforcer_).withdrawalVault() returns (address v) {
            if (v != address(this)) revert InvalidExitEnforcer(exitEnforcer_);
        } catch {
            revert InvalidExitEnforcer(exitEnforcer_);
        }
        _w().exitEnforcer = exitEnforcer_;
        emit ExitEnforcerSet(exitEnforcer_);
    }

    /// @notice Sends an EIP-7002 full-exit request for `pubkey` with `msg.value` as the fee. Only
    /// the exit enforcer; the system contract keeps any excess over its fee, so the enforcer sends
    /// the exact fee of this block.
    function addWithdrawalRequest(bytes calldata pubkey) external payable {
        address enforcer = _w().exitEnforcer;
        if (msg.sender != enforcer) revert UnauthorizedCaller(msg.sender, enforcer);
        Eip7002.requestFullExit(pubkey, msg.value);
        emit WithdrawalRequestAdded(pubkey, msg.value);
    }

    /// @notice The only caller of {addWithdrawalRequest}.
    function exitEnforcer() external view returns (address) {
        return _w().exitEnforcer;
    }

    function _sendToPool(IStakePool pool_, uint256 amount) internal override {
        pool_.receiveWithdrawalVaultEther{value: amount}();
    }

    function _w() private pure returns (WithdrawalVaultStorage storage $) {
        assembly {
            $.slot := WITHDRAWAL_VAULT_STORAGE
        }
    }
}

/// @notice Fee recipient of every protocol validator (priority fees and MEV). Guarantees: see
/// {PoolVault}; the pool pulls at most the smoothing cap per report.
contract ElRewardsVault is PoolVault {
    function _sendToPool(IStakePool pool_, uint256 amount) internal override {
        pool_.receiveElRewards{value: amount}();
    }
}
