// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IDepositContract} from "../interfaces/IDepositContract.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @notice TEST-ONLY deposit contract for devnets, written by ClayStack from the phase0
/// consensus specification (deposit contract section). Guarantees: the same interface, the
/// same `DepositEvent` (little-endian uint64 `amount` and `index` as 8-byte `bytes`), the same
/// `deposit_data_root` check (SHA-256 SSZ hash_tree_root of DepositData) and the same
/// incremental Merkle tree of depth 32 with the length mix-in as the mainnet contract, so a
/// consensus-layer simulator can read its logs unchanged. Reverts use custom errors instead of
/// the mainnet revert strings.
contract DepositContract is IDepositContract, IERC165 {
    uint256 private constant DEPOSIT_CONTRACT_TREE_DEPTH = 32;
    uint256 private constant MAX_DEPOSIT_COUNT = 2 ** DEPOSIT_CONTRACT_TREE_DEPTH - 1;

    error InvalidPubkeyLength(uint256 length);
    error InvalidWithdrawalCredentialsLength(uint256 length);
    error InvalidSignatureLength(uint256 length);
    error DepositValueTooLow(uint256 value);
    error DepositValueNotMultipleOfGwei(uint256 value);
    error DepositValueTooHigh(uint256 value);
    error DepositDataRootMismatch(bytes32 computed, bytes32 provided);
    error MerkleTreeFull();

    bytes32[DEPOSIT_CONTRACT_TREE_DEPTH] private _branch;
    uint256 private _depositCount;
    bytes32[DEPOSIT_CONTRACT_TREE_DEPTH] private _zeroHashes;

    constructor() {
        // zero_hashes[0] = 0; zero_hashes[h + 1] = sha256(zero_hashes[h] ++ zero_hashes[h])
        for (uint256 height = 0; height < DEPOSIT_CONTRACT_TREE_DEPTH - 1; height++) {
            _zeroHashes[height + 1] = sha256(abi.encodePacked(_zeroHashes[height], _zeroHashes[height]));
        }
    }

    /// @inheritdoc IDepositContract
    function get_deposit_root() external view returns (bytes32) {
        bytes32 node;
        uint256 size = _depositCount;
        for (uint256 height = 0; height < DEPOSIT_CONTRACT_TREE_DEPTH; height++) {
            if ((size & 1) == 1) node = sha256(abi.encodePacked(_branch[height], node));
            else node = sha256(abi.encodePacked(node, _zeroHashes[height]));
            size /= 2;
        }
        return sha256(abi.encodePacked(node, _toLittleEndian64(uint64(_depositCount)), bytes24(0)));
    }

    /// @inheritdoc IDepositContract
    function get_deposit_count() external view returns (bytes memory) {
        return _toLittleEndian64(uint64(_depositCount));
    }

    /// @inheritdoc IDepositContract
    function deposit(
        bytes calldata pubkey,
        bytes calldata withdrawal_credentials,
        bytes calldata signature,
        bytes32 deposit_data_root
    ) external payable {
        if (pubkey.length != 48) revert InvalidPubkeyLength(pubkey.length);
        if (withdrawal_credentials.length != 32) {
            revert InvalidWithdrawalCredentialsLength(withdrawal_credentials.length);
        }
        if (signature.length != 96) revert InvalidSignatureLength(signature.length);
        if (msg.value < 1 ether) revert DepositValueTooLow(msg.value);
        if (msg.value % 1 gwei != 0) revert DepositValueNotMultipleOfGwei(msg.value);
        uint256 depositAmount = msg.value / 1 gwei;
        if (depositAmount > type(uint64).max) revert DepositValueTooHigh(msg.value);

        bytes memory amount = _toLittleEndian64(uint64(depositAmount));
        emit DepositEvent(
            pubkey, withdrawal_credentials, amount, signature, _toLittleEndian64(uint64(_depositCount))
        );

        // hash_tree_root(DepositData(pubkey, withdrawal_credentials, amount, signature))
        bytes32 pubkeyRoot = sha256(abi.encodePacked(pubkey, bytes16(0)));
        bytes32 signatureRoot = sha256(
            abi.encodePacked(
                sha256(abi.encodePacked(signature[:64])), sha256(abi.encodePacked(signature[64:], bytes32(0)))
            )
        );
        bytes32 node = sha256(
            abi.encodePacked(
                sha256(abi.encodePacked(pubkeyRoot, withdrawal_credentials)),
                sha256(abi.encodePacked(amount, bytes24(0), signatureRoot))
            )
        );
        if (node != deposit_data_root) revert DepositDataRootMismatch(node, deposit_data_root);

        if (_depositCount >= MAX_DEPOSIT_COUNT) revert MerkleTreeFull();
        _depositCount += 1;
        uint256 size = _depositCount;
        for (uint256 height = 0; height < DEPOSIT_CONTRACT_TREE_DEPTH; height++) {
            if ((size & 1) == 1) {
                _branch[height] = node;
                return;
            }
            node = sha256(abi.encodePacked(_branch[height], node));
            size /= 2;
        }
        // unreachable: the tree cannot be full after the count check above
        assert(false);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IDepositContract).interfaceId;
    }

    function _toLittleEndian64(uint64 value) internal pure returns (bytes memory ret) {
        ret = new bytes(8);
        bytes8 bytesValue = bytes8(value);
        // byte-reverse the big-endian representation
        ret[0] = bytesValue[7];
        ret[1] = bytesValue[6];
        ret[2] = bytesValue[5];
        ret[3] = bytesValue[4];
        ret[4] = bytesValue[3];
        ret[5] = bytesValue[2];
        ret[6] = bytesValue[1];
        ret[7] = bytesValue[0];
    }
}
