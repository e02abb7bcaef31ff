// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Tiny console.log for scripts: calls forge's console address (view-safe trick).
library Console {
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal pure {
        _send(abi.encodeWithSignature("log(string)", message));
    }

    function log(string memory message, uint256 value) internal pure {
        _send(abi.encodeWithSignature("log(string,uint256)", message, value));
    }

    function log(string memory message, address value) internal pure {
        _send(abi.encodeWithSignature("log(string,address)", message, value));
    }

    function _send(bytes memory payload) private pure {
        function(bytes memory) internal view fn = _sendView;
        function(bytes memory) internal pure pureFn;
        assembly {
            pureFn := fn
        }
        pureFn(payload);
    }

    function _sendView(bytes memory payload) private view {
        address console = CONSOLE;
        assembly {
            pop(staticcall(gas(), console, add(payload, 32), mload(payload), 0, 0))
        }
    }
}
