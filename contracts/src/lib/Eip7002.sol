// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IEip7002} from "../interfaces/IEip7002.sol";

/// @notice Calls to the EIP-7002 withdrawal-request system contract (Prague). The request's
/// source is the caller, so only the withdrawal-credential address itself can exit its validators.
/// Input of a request: `pubkey (48 bytes) ‖ amount (8 bytes, big-endian gwei)`, amount 0 = full
/// exit; an empty call returns the current fee (32 bytes).
library Eip7002 {
    /// @notice Canonical address of the system contract (EIP-7002).
    address internal constant SYSTEM_CONTRACT = 0x00000961Ef480Eb55e80D19ad83579A64c007002;
    /// @notice Length of a BLS pubkey.
    uint256 internal constant PUBKEY_LENGTH = 48;

    /// @notice The fee a request costs in this block. Reverts when the system contract is missing
    /// or its fee inhibitor (set until the fork block) is active.
    function fee() internal view returns (uint256 fee_) {
        (bool ok, bytes memory ret) = SYSTEM_CONTRACT.staticcall("");
        if (!ok || ret.length != 32) revert IEip7002.Eip7002FeeReadFailed();
        fee_ = abi.decode(ret, (uint256));
    }

    /// @notice Requests a withdrawal of `amountGwei` (0 = full exit) from the validator `pubkey`,
    /// paying `fee_`. The system contract keeps all of `fee_`, so pass exactly {fee}.
    function request(bytes calldata pubkey, uint64 amountGwei, uint256 fee_) internal {
        if (pubkey.length != PUBKEY_LENGTH) revert IEip7002.Eip7002InvalidPubkeyLength(pubkey.length);
        (bool ok,) = SYSTEM_CONTRACT.call{value: fee_}(abi.encodePacked(pubkey, amountGwei));
        if (!ok) revert IEip7002.Eip7002RequestFailed(pubkey, fee_);
    }

    /// @notice Requests the full exit of the validator `pubkey`, paying `fee_`.
    function requestFullExit(bytes calldata pubkey, uint256 fee_) internal {
        request(pubkey, 0, fee_);
    }
}
