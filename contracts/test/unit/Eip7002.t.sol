// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IEip7002} from "../../src/interfaces/IEip7002.sol";
import {Eip7002} from "../../src/lib/Eip7002.sol";
import {Eip7002Mock} from "../../src/testing/Eip7002Mock.sol";
import {TestBase} from "../utils/TestBase.sol";
import {Vm} from "../utils/Vm.sol";

/// @notice Exposes the library to the tests.
contract Eip7002Harness {
    function fee() external view returns (uint256) {
        return Eip7002.fee();
    }

    function request(bytes calldata pubkey, uint64 amountGwei) external payable {
        Eip7002.request(pubkey, amountGwei, msg.value);
    }
}

/// @notice Shared set-up: the mock installed at the canonical address.
abstract contract Eip7002Setup is TestBase {
    address internal constant SYSTEM = Eip7002.SYSTEM_CONTRACT;
    address internal constant SYSTEM_CALLER = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;

    function _installMock() internal {
        vm.etch(SYSTEM, address(new Eip7002Mock()).code);
    }

    function _setExcess(uint256 excess) internal {
        vm.store(SYSTEM, bytes32(0), bytes32(excess));
    }

    function _pubkey(uint256 seed) internal pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode(seed)), bytes16(keccak256(abi.encode(seed, 1))));
    }

    function _queueTail() internal view returns (uint256) {
        return uint256(vm.load(SYSTEM, bytes32(uint256(3))));
    }

    /// @dev The end-of-block system call.
    function _endBlock() internal returns (bytes memory out) {
        vm.prank(SYSTEM_CALLER);
        (bool ok, bytes memory ret) = SYSTEM.call("");
        vm.assertTrue(ok, "system call");
        out = ret;
    }

    /// @dev The data of the last log the system contract emitted.
    function _lastRequestLog(Vm.Log[] memory logs) internal pure returns (bytes memory data) {
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].emitter == SYSTEM && logs[i - 1].topics.length == 0) return logs[i - 1].data;
        }
        revert("no request log");
    }
}

contract Eip7002Test is Eip7002Setup {
    Eip7002Harness internal harness;

    function setUp() public {
        _installMock();
        harness = new Eip7002Harness();
        vm.deal(address(this), 100 ether);
    }

    // ------------------------------------------------------------------ fee
    function test_fee_FollowsExcessFormula() public {
        uint256[7] memory excess = [uint256(0), 1, 17, 34, 100, 200, 500];
        uint256[7] memory expected = [uint256(1), 1, 2, 7, 357, 128_545, 5_933_467_376_577];
        for (uint256 i = 0; i < excess.length; ++i) {
            _setExcess(excess[i]);
            vm.assertEq(harness.fee(), expected[i], "fake_exponential(1, excess, 17)");
        }
    }

    function test_fee_RevertWhen_InhibitorActive() public {
        _setExcess(type(uint256).max);
        vm.expectRevert(IEip7002.Eip7002FeeReadFailed.selector);
        harness.fee();
    }

    function test_fee_RevertWhen_NoSystemContract() public {
        vm.etch(SYSTEM, "");
        vm.expectRevert(IEip7002.Eip7002FeeReadFailed.selector);
        harness.fee();
    }

    // ------------------------------------------------------------------ request
    function test_request_QueuesAndLogsFullExit() public {
        bytes memory pk = _pubkey(1);
        vm.recordLogs();
        harness.request{value: 1}(pk, 0);
        bytes memory data = _lastRequestLog(vm.getRecordedLogs());
        vm.assertEq(data, abi.encodePacked(address(harness), pk, uint64(0)), "source | pubkey | amount");
        vm.assertEq(_queueTail(), 1, "queued");
        vm.assertEq(
            uint256(vm.load(SYSTEM, bytes32(uint256(4)))), uint256(uint160(address(harness))), "source"
        );
        vm.assertEq(SYSTEM.balance, 1, "fee kept");
    }

    function test_request_AmountIsBigEndianInInputLittleEndianInBlock() public {
        bytes memory pk = _pubkey(2);
        uint64 amount = 0x0102030405060708;
        vm.recordLogs();
        harness.request{value: 1}(pk, amount);
        bytes memory data = _lastRequestLog(vm.getRecordedLogs());
        vm.assertEq(data, abi.encodePacked(address(harness), pk, hex"0102030405060708"), "input order");
        bytes memory block_ = _endBlock();
        vm.assertEq(block_, abi.encodePacked(address(harness), pk, hex"0807060504030201"), "EIP-7685 order");
    }

    function test_request_RevertWhen_FeeTooLow() public {
        _setExcess(34); // fee 7
        bytes memory pk = _pubkey(3);
        vm.expectRevert(abi.encodeWithSelector(IEip7002.Eip7002RequestFailed.selector, pk, 6));
        harness.request{value: 6}(pk, 0);
    }

    function test_request_RevertWhen_PubkeyNot48Bytes() public {
        vm.expectRevert(abi.encodeWithSelector(IEip7002.Eip7002InvalidPubkeyLength.selector, 47));
        harness.request{value: 1}(new bytes(47), 0);
    }

    function test_request_RevertWhen_InhibitorActive() public {
        _setExcess(type(uint256).max);
        bytes memory pk = _pubkey(4);
        vm.expectRevert(abi.encodeWithSelector(IEip7002.Eip7002RequestFailed.selector, pk, 1));
        harness.request{value: 1}(pk, 0);
    }

    // ------------------------------------------------------------------ the mock's own behaviour
    function test_mock_RevertWhen_FeeReadWithValue() public {
        (bool ok,) = SYSTEM.call{value: 1}("");
        vm.assertFalse(ok, "fee read with value reverts");
    }

    function test_mock_RevertWhen_WrongInputLength() public {
        (bool ok, bytes memory ret) = SYSTEM.call{value: 1}(new bytes(55));
        vm.assertFalse(ok, "55 bytes");
        vm.assertEq(ret.length, 0, "no revert data");
        (ok,) = SYSTEM.call{value: 1}(new bytes(57));
        vm.assertFalse(ok, "57 bytes");
    }

    function test_mock_ExcessRisesAboveTargetAndDecays() public {
        for (uint256 i = 0; i < 5; ++i) {
            harness.request{value: 1}(_pubkey(10 + i), 0);
        }
        vm.assertEq(uint256(vm.load(SYSTEM, bytes32(uint256(1)))), 5, "count");
        bytes memory out = _endBlock();
        vm.assertEq(out.length, 5 * 76, "five requests dequeued");
        vm.assertEq(uint256(vm.load(SYSTEM, bytes32(0))), 3, "excess = 5 - target 2");
        vm.assertEq(uint256(vm.load(SYSTEM, bytes32(uint256(1)))), 0, "count reset");
        vm.assertEq(_queueTail(), 0, "queue reset");
        _endBlock();
        vm.assertEq(uint256(vm.load(SYSTEM, bytes32(0))), 1, "excess decays by target");
    }

    function test_mock_DequeuesAtMost16PerBlock() public {
        for (uint256 i = 0; i < 20; ++i) {
            harness.request{value: 100}(_pubkey(100 + i), 0);
        }
        vm.assertEq(_endBlock().length, 16 * 76, "16 dequeued");
        vm.assertEq(uint256(vm.load(SYSTEM, bytes32(uint256(2)))), 16, "head advanced");
        bytes memory rest = _endBlock();
        vm.assertEq(rest.length, 4 * 76, "4 left");
        vm.assertEq(_queueTail(), 0, "reset");
    }

    function test_mock_InhibitorClearedBySystemCall() public {
        _setExcess(type(uint256).max);
        _endBlock();
        vm.assertEq(harness.fee(), 1, "fee after the fork block");
    }
}
