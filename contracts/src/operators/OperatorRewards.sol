// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {IOperatorRewards} from "../interfaces/IOperatorRewards.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice Holds the operators' part of the reward fee (csETH shares minted by the pool to this
/// contract) and pays it out against a Merkle root of cumulative per-account amounts.
/// Guarantees:
/// - only OPERATORS_MODULE_ROLE (the operators module, fed by quorum oracle reports) sets the
///   root, for strictly increasing report slots, with a non-decreasing total that never exceeds
///   the shares this contract ever received (balance + claimed);
/// - anyone may claim for an account, but the shares only ever go to that account, and each
///   increment of its cumulative amount is paid exactly once; a new root keeps claimed amounts;
/// - a transfer the token refuses (kcsETH to an unattested account) reverts the whole claim,
///   leaving nothing recorded, so the account can claim once it is attested;
/// - no other function moves the shares. Trust: the timelock (admin) could still redirect them,
///   by granting OPERATORS_MODULE_ROLE to another address or by an upgrade; both are timelocked.
contract OperatorRewards is Governed, IOperatorRewards {
    using SafeERC20 for IERC20;

    /// @notice Role of the operators module that publishes roots from oracle reports.
    bytes32 public constant OPERATORS_MODULE_ROLE = keccak256("claystack.role.operatorsModule");

    /// @custom:storage-location erc7201:claystack.storage.OperatorRewards
    struct RewardsStorage {
        IERC20 token;
        bytes32 root;
        uint256 cumulativeShares;
        uint256 refSlot;
        uint256 totalClaimed;
        mapping(address account => uint256 cumulativeShares) claimed;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.OperatorRewards")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant REWARDS_STORAGE =
        0x897e1d0d368f54788bd96a07be228d63f78a901ec543e6fe2719e239d9e45400;

    /// @notice Initializes the proxy: the share token paid out, the timelock and the operators module.
    function initialize(address admin, address token_, address operatorsModule) external initializer {
        if (token_ == address(0) || operatorsModule == address(0)) revert ZeroAddress();
        __Governed_init(admin, address(0));
        _grantRole(OPERATORS_MODULE_ROLE, operatorsModule);
        _r().token = IERC20(token_);
    }

    /// @inheritdoc IOperatorRewards
    function setRewardsRoot(bytes32 root, uint256 cumulativeShares, uint256 refSlot)
        external
        onlyRole(OPERATORS_MODULE_ROLE)
    {
        RewardsStorage storage $ = _r();
        if (root == bytes32(0)) revert ZeroRoot();
        if (refSlot <= $.refSlot) revert StaleRefSlot(refSlot, $.refSlot);
        if (cumulativeShares < $.cumulativeShares) {
            revert CumulativeSharesDecreased(cumulativeShares, $.cumulativeShares);
        }
        uint256 received = _totalReceived($);
        if (cumulativeShares > received) revert CumulativeSharesExceedReceived(cumulativeShares, received);
        $.root = root;
        $.cumulativeShares = cumulativeShares;
        $.refSlot = refSlot;
        emit RewardsRootSet(root, cumulativeShares, refSlot);
    }

    /// @inheritdoc IOperatorRewards
    function claim(address account, uint256 cumulativeShares, bytes32[] calldata proof)
        external
        returns (uint256 shares)
    {
        RewardsStorage storage $ = _r();
        if (!MerkleProof.verifyCalldata(proof, $.root, _leaf(account, cumulativeShares))) {
            revert InvalidProof(account, cumulativeShares);
        }
        uint256 already = $.claimed[account];
        if (cumulativeShares <= already) revert NothingToClaim(account, cumulativeShares, already);
        // cannot underflow: checked just above
        unchecked {
            shares = cumulativeShares - already;
        }
        $.claimed[account] = cumulativeShares;
        $.totalClaimed += shares;
        emit RewardsClaimed(account, shares, cumulativeShares);
        // a refusing token (kcsETH to an unattested account) reverts here with its own error and
        // rolls back the two writes above
        $.token.safeTransfer(account, shares);
    }

    /// @inheritdoc IOperatorRewards
    function token() external view returns (address) {
        return address(_r().token);
    }

    /// @inheritdoc IOperatorRewards
    function rewardsRoot() external view returns (bytes32) {
        return _r().root;
    }

    /// @inheritdoc IOperatorRewards
    function rewardsCumulativeShares() external view returns (uint256) {
        return _r().cumulativeShares;
    }

    /// @inheritdoc IOperatorRewards
    function rewardsRefSlot() external view returns (uint256) {
        return _r().refSlot;
    }

    /// @inheritdoc IOperatorRewards
    function claimed(address account) external view returns (uint256) {
        return _r().claimed[account];
    }

    /// @inheritdoc IOperatorRewards
    function totalClaimed() external view returns (uint256) {
        return _r().totalClaimed;
    }

    /// @inheritdoc IOperatorRewards
    function totalReceived() external view returns (uint256) {
        return _totalReceived(_r());
    }

    /// @inheritdoc IOperatorRewards
    function verify(address account, uint256 cumulativeShares, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, _r().root, _leaf(account, cumulativeShares));
    }

    function _totalReceived(RewardsStorage storage $) private view returns (uint256) {
        return $.token.balanceOf(address(this)) + $.totalClaimed;
    }

    /// @dev OpenZeppelin StandardMerkleTree leaf of `(address, uint256)`: double hashed, so a
    /// 64-byte inner node can never pass as a leaf.
    function _leaf(address account, uint256 cumulativeShares) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeShares))));
    }

    function _r() private pure returns (RewardsStorage storage $) {
        assembly {
            $.slot := REWARDS_STORAGE
        }
    }
}
