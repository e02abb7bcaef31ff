// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Test double of the EIP-7002 withdrawal-request system contract, to be installed at
/// `0x00000961Ef480Eb55e80D19ad83579A64c007002` with `vm.etch`. Observable behaviour as the
/// EIP's bytecode: same storage slots (0 excess, 1 count, 2 queue head, 3 queue tail, queue from
/// slot 4, three slots per request), fee `fake_exponential(1, excess, 17)`, an empty call returns
/// the fee (and reverts with value), a 56-byte call with `value >= fee` queues the request and
/// emits `log0(source ‖ pubkey ‖ amount)`, anything else reverts without data. A call from the
/// system address dequeues up to 16 requests, updates the excess and resets the count, as the
/// end-of-block system call does.
contract Eip7002Mock {
    /// @notice The address the client uses for the end-of-block system call.
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;

    uint256 private constant EXCESS_SLOT = 0;
    uint256 private constant COUNT_SLOT = 1;
    uint256 private constant HEAD_SLOT = 2;
    uint256 private constant TAIL_SLOT = 3;
    uint256 private constant QUEUE_OFFSET = 4;
    uint256 private constant EXCESS_INHIBITOR = type(uint256).max;
    uint256 private constant MIN_FEE = 1;
    uint256 private constant FEE_UPDATE_FRACTION = 17;
    uint256 private constant MAX_PER_BLOCK = 16;
    uint256 private constant TARGET_PER_BLOCK = 2;
    uint256 private constant INPUT_LENGTH = 56;

    fallback(bytes calldata input) external payable returns (bytes memory) {
        if (msg.sender == SYSTEM_ADDRESS) return _readRequests();
        uint256 excess = _load(EXCESS_SLOT);
        if (excess == EXCESS_INHIBITOR) revert();
        uint256 fee = _fakeExponential(MIN_FEE, excess, FEE_UPDATE_FRACTION);
        if (input.length == 0) {
            if (msg.value != 0) revert();
            return abi.encode(fee);
        }
        if (input.length != INPUT_LENGTH || msg.value < fee) revert();
        _store(COUNT_SLOT, _load(COUNT_SLOT) + 1);
        uint256 tail = _load(TAIL_SLOT);
        uint256 slot = QUEUE_OFFSET + tail * 3;
        _store(slot, uint256(uint160(msg.sender)));
        _store(slot + 1, uint256(bytes32(input[0:32])));
        _store(slot + 2, uint256(bytes32(input[32:56])));
        bytes memory record = abi.encodePacked(msg.sender, input);
        assembly ("memory-safe") {
            log0(add(record, 0x20), mload(record))
        }
        _store(TAIL_SLOT, tail + 1);
        return "";
    }

    /// @dev The end-of-block system call: returns `source ‖ pubkey ‖ amount (little-endian)` per
    /// dequeued request.
    function _readRequests() private returns (bytes memory out) {
        uint256 head = _load(HEAD_SLOT);
        uint256 tail = _load(TAIL_SLOT);
        uint256 n = tail - head;
        if (n > MAX_PER_BLOCK) n = MAX_PER_BLOCK;
        for (uint256 i = 0; i < n; ++i) {
            uint256 slot = QUEUE_OFFSET + (head + i) * 3;
            bytes32 last = bytes32(_load(slot + 2));
            out = bytes.concat(
                out,
                bytes20(uint160(_load(slot))),
                bytes32(_load(slot + 1)),
                // forge-lint: disable-next-line(unsafe-typecast) -- pubkey bytes 32..47 lead the slot
                bytes16(last),
                // forge-lint: disable-next-line(unsafe-typecast) -- the amount is bytes 16..23 of the slot
                _toLittleEndian(uint64(bytes8(last << 128)))
            );
        }
        if (head + n == tail) {
            _store(HEAD_SLOT, 0);
            _store(TAIL_SLOT, 0);
        } else {
            _store(HEAD_SLOT, head + n);
        }
        uint256 previous = _load(EXCESS_SLOT);
        if (previous == EXCESS_INHIBITOR) previous = 0;
        uint256 count = _load(COUNT_SLOT);
        _store(EXCESS_SLOT, previous + count > TARGET_PER_BLOCK ? previous + count - TARGET_PER_BLOCK : 0);
        _store(COUNT_SLOT, 0);
    }

    function _fakeExponential(uint256 factor, uint256 numerator, uint256 denominator)
        private
        pure
        returns (uint256)
    {
        // The EIP's bytecode uses wrapping EVM arithmetic; so does this copy of it.
        unchecked {
            uint256 i = 1;
            uint256 output = 0;
            uint256 acc = factor * denominator;
            while (acc > 0) {
                output += acc;
                acc = (acc * numerator) / (denominator * i);
                ++i;
            }
            return output / denominator;
        }
    }

    function _toLittleEndian(uint64 v) private pure returns (bytes8 le) {
        for (uint256 i = 0; i < 8; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- keeps byte i of v on purpose
            le |= bytes8(bytes1(uint8(v >> (8 * i)))) >> (8 * i);
        }
    }

    function _load(uint256 slot) private view returns (uint256 v) {
        assembly ("memory-safe") {
            v := sload(slot)
        }
    }

    function _store(uint256 slot, uint256 v) private {
        assembly ("memory-safe") {
            sstore(slot, v)
        }
    }
}
