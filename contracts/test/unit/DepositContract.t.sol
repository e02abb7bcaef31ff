// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IDepositContract} from "../../src/interfaces/IDepositContract.sol";
import {DepositContract} from "../../src/testing/DepositContract.sol";
import {TestBase} from "../utils/TestBase.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @notice Checks the test-only deposit contract against the official deposit-data vectors in
/// ../shared/vectors/deposit-data (deposit CLI 2.7.0 output, mainnet fork version).
contract DepositContractTest is TestBase {
    string internal constant VECTORS = "../../shared/vectors/deposit-data/";
    // Known value: get_deposit_root() of the mainnet deposit contract before any deposit.
    bytes32 internal constant EMPTY_ROOT = 0xd70a234731285c6804c2a4f56711ddb8c82c99740f207854891028af34e27e5e;

    DepositContract internal dc;

    struct Vector {
        bytes pubkey;
        bytes withdrawalCredentials;
        uint256 amountGwei;
        bytes signature;
        bytes32 root;
    }

    function setUp() public {
        dc = new DepositContract();
    }

    function _vector(string memory file, uint256 i) internal view returns (Vector memory v) {
        string memory path = string.concat(VECTORS, file);
        // fails loudly (not skipped) when the vectors folder is missing
        vm.assertTrue(vm.exists(path), string.concat("missing test vector ", path));
        string memory json = vm.readFile(path);
        string memory k = string.concat("[", vm.toString(i), "].");
        v.pubkey = vm.parseJsonBytes(json, string.concat(".", k, "pubkey"));
        v.withdrawalCredentials = vm.parseJsonBytes(json, string.concat(".", k, "withdrawal_credentials"));
        v.amountGwei = vm.parseJsonUint(json, string.concat(".", k, "amount"));
        v.signature = vm.parseJsonBytes(json, string.concat(".", k, "signature"));
        v.root = vm.parseJsonBytes32(json, string.concat(".", k, "deposit_data_root"));
    }

    function _deposit(Vector memory v) internal {
        vm.deal(address(this), v.amountGwei * 1 gwei);
        dc.deposit{value: v.amountGwei * 1 gwei}(v.pubkey, v.withdrawalCredentials, v.signature, v.root);
    }

    function test_getDepositRoot_EmptyTree() public view {
        vm.assertEq(dc.get_deposit_root(), EMPTY_ROOT, "empty root");
        vm.assertEq(dc.get_deposit_count(), hex"0000000000000000", "count");
    }

    function test_deposit_AcceptsOfficialVectorAndEmitsMainnetEvent() public {
        Vector memory v = _vector("mainnet_first_0_count_2_eth1_true.json", 0);
        vm.assertEq(v.pubkey.length, 48, "vector parsed");
        vm.expectEmit();
        // 32 ETH = 32e9 gwei = 0x0000000773594000 -> little-endian 0x0040597307000000
        emit IDepositContract.DepositEvent(
            v.pubkey, v.withdrawalCredentials, hex"0040597307000000", v.signature, hex"0000000000000000"
        );
        _deposit(v);
        vm.assertEq(dc.get_deposit_count(), hex"0100000000000000", "count");
        vm.assertEq(dc.get_deposit_root(), _referenceRoot(_leaves1(v.root)), "root");
    }

    function test_deposit_AcceptsBlsCredentialVectorsAndGrowsTree() public {
        Vector memory a = _vector("mainnet_first_0_count_2_eth1_false.json", 0);
        Vector memory b = _vector("mainnet_first_0_count_2_eth1_false.json", 1);
        Vector memory c = _vector("holesky_first_0_count_2_eth1_true.json", 1);
        _deposit(a);
        _deposit(b);
        _deposit(c);
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = a.root;
        leaves[1] = b.root;
        leaves[2] = c.root;
        vm.assertEq(dc.get_deposit_root(), _referenceRoot(leaves), "root of three");
        vm.assertEq(dc.get_deposit_count(), hex"0300000000000000", "count");
    }

    function test_deposit_RevertWhen_RootMismatch() public {
        Vector memory v = _vector("mainnet_first_0_count_2_eth1_true.json", 0);
        bytes32 wrong = bytes32(uint256(v.root) ^ 1);
        vm.deal(address(this), 32 ether);
        vm.expectRevert(
            abi.encodeWithSelector(DepositContract.DepositDataRootMismatch.selector, v.root, wrong)
        );
        dc.deposit{value: 32 ether}(v.pubkey, v.withdrawalCredentials, v.signature, wrong);
    }

    function test_deposit_RevertWhen_BadInputs() public {
        Vector memory v = _vector("mainnet_first_0_count_2_eth1_true.json", 0);
        vm.deal(address(this), 100 ether);
        vm.expectRevert(abi.encodeWithSelector(DepositContract.InvalidPubkeyLength.selector, 47));
        dc.deposit{value: 32 ether}(new bytes(47), v.withdrawalCredentials, v.signature, v.root);
        vm.expectRevert(
            abi.encodeWithSelector(DepositContract.InvalidWithdrawalCredentialsLength.selector, 31)
        );
        dc.deposit{value: 32 ether}(v.pubkey, new bytes(31), v.signature, v.root);
        vm.expectRevert(abi.encodeWithSelector(DepositContract.InvalidSignatureLength.selector, 95));
        dc.deposit{value: 32 ether}(v.pubkey, v.withdrawalCredentials, new bytes(95), v.root);
        vm.expectRevert(abi.encodeWithSelector(DepositContract.DepositValueTooLow.selector, 0.5 ether));
        dc.deposit{value: 0.5 ether}(v.pubkey, v.withdrawalCredentials, v.signature, v.root);
        vm.expectRevert(
            abi.encodeWithSelector(DepositContract.DepositValueNotMultipleOfGwei.selector, 1 ether + 1)
        );
        dc.deposit{value: 1 ether + 1}(v.pubkey, v.withdrawalCredentials, v.signature, v.root);
    }

    function test_supportsInterface_Erc165AndDepositContract() public view {
        vm.assertTrue(dc.supportsInterface(type(IERC165).interfaceId), "erc165");
        vm.assertTrue(dc.supportsInterface(type(IDepositContract).interfaceId), "deposit");
        vm.assertFalse(dc.supportsInterface(0xffffffff), "other");
    }

    function _leaves1(bytes32 leaf) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](1);
        l[0] = leaf;
    }

    /// @dev Reference: full depth-32 tree by levels (a different algorithm than the contract's
    /// incremental branch), then the SSZ length mix-in.
    function _referenceRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32 zero;
        bytes32[] memory level = leaves;
        for (uint256 h = 0; h < 32; ++h) {
            uint256 n = (level.length + 1) / 2;
            bytes32[] memory next = new bytes32[](n);
            for (uint256 i = 0; i < n; ++i) {
                bytes32 right = 2 * i + 1 < level.length ? level[2 * i + 1] : zero;
                next[i] = sha256(abi.encodePacked(level[2 * i], right));
            }
            level = next;
            zero = sha256(abi.encodePacked(zero, zero));
        }
        uint256 count = leaves.length;
        // little-endian uint64 count, padded to 32 bytes
        bytes memory le = new bytes(32);
        for (uint256 i = 0; i < 8; ++i) {
            le[i] = bytes1(uint8(count >> (8 * i)));
        }
        return sha256(abi.encodePacked(level[0], le));
    }

    receive() external payable {}
}
