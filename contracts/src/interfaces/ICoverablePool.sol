// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICsToken} from "./ICsToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The subset of the staking pool (which is itself the csETH share token) that the operator
/// contracts (BondManager, VfpPool, InsuranceFund) use. `burnSharesForCover` is NEW: the pool must add
/// it (see docs/adr/0005): it burns `shares` from the caller's balance without paying anything out,
/// which lifts the share rate back after a reported loss; only addresses governance registered as
/// cover providers may call it, and it must work while the pool is paused.
interface ICoverablePool is IERC20, ICsToken {
    /// @notice The caller is not a registered cover provider.
    error NotCoverProvider(address caller);

    /// @notice `provider` burned `shares` (worth `etherValue` before the burn) to cover a loss.
    event SharesBurnedForCover(address indexed provider, uint256 shares, uint256 etherValue);

    /// @notice Deposits `msg.value` and mints the shares to `recipient`.
    function depositFor(address recipient) external payable returns (uint256 shares);
    /// @notice Burns `shares` of the caller (a cover provider) to cover a loss.
    function burnSharesForCover(uint256 shares) external;
    /// @notice Total ETH the pool accounts for (its TVL).
    function totalPooledEther() external view returns (uint256);
    /// @notice The refSlot of the oracle report whose extra-data chain is pending, 0 when none
    /// (docs/adr/0008): its later chunks may still charge operators, so deposits wait, and so do
    /// the operator's bond claims and VFP releases.
    function pendingExtraData() external view returns (uint256 refSlot);
}
