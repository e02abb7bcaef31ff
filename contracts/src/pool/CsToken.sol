// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICsToken} from "../interfaces/ICsToken.sol";
import {
    ERC20PermitUpgradeable
} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Value-accruing share token (csETH for the public pool, kcsETH for the KYC pool).
/// Guarantees: balances are shares and never rebase; one share is worth
/// `totalPooledEther / totalSupply` ETH; conversions round down (in favour of the pool); only
/// the inheriting pool can mint and burn (there is no external mint/burn entry point);
/// ERC-2612 permit.
abstract contract CsToken is ERC20PermitUpgradeable, ICsToken {
    /// @notice Precision of {shareRate}.
    uint256 public constant RATE_PRECISION = 1e27;

    // solhint-disable-next-line func-name-mixedcase
    function __CsToken_init(string memory name_, string memory symbol_) internal onlyInitializing {
        __ERC20_init(name_, symbol_);
        __ERC20Permit_init(name_);
    }

    /// @notice ETH value of `shares`, rounded down.
    function convertToAssets(uint256 shares) public view returns (uint256) {
        return Math.mulDiv(shares, _totalPooledEther(), totalSupply());
    }

    /// @notice Shares worth `assets` ETH, rounded down.
    function convertToShares(uint256 assets) public view returns (uint256) {
        return Math.mulDiv(assets, totalSupply(), _totalPooledEther());
    }

    /// @notice ETH per share with {RATE_PRECISION} precision, rounded down.
    function shareRate() public view returns (uint256) {
        return Math.mulDiv(_totalPooledEther(), RATE_PRECISION, totalSupply());
    }

    /// @dev Total ETH the shares represent.
    function _totalPooledEther() internal view virtual returns (uint256);

    /// @dev Called before a holder-to-holder transfer (not on mint or burn).
    function _beforeShareTransfer(address from, address to) internal view virtual;

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) _beforeShareTransfer(from, to);
        super._update(from, to, value);
    }
}
