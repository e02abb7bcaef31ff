// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICoverablePool} from "../../src/interfaces/ICoverablePool.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Minimal csETH pool for the operator tests: ERC-20 shares, a settable total of pooled
/// ether (rewards / losses), `depositFor`, and the `burnSharesForCover` hook the pool must add.
contract MockPool is ERC20, ICoverablePool {
    uint256 public totalPooledEther;
    /// @notice The refSlot of a pending extra-data chain (0: none); set by tests.
    uint256 public pendingExtraData;
    mapping(address => bool) public isCoverProvider;
    address public immutable owner;

    constructor() ERC20("ClayStack ETH", "csETH") {
        owner = msg.sender;
        // seed shares, like the real pool's dead-address seed
        totalPooledEther = 1 ether;
        _mint(address(0xdEaD), 1 ether);
    }

    function setCoverProvider(address provider, bool allowed) external {
        require(msg.sender == owner);
        isCoverProvider[provider] = allowed;
    }

    /// @notice Simulates an oracle report (rewards when up, a loss when down).
    function setTotalPooledEther(uint256 value) external {
        totalPooledEther = value;
    }

    /// @notice Simulates the oracle opening (refSlot) or closing (0) an extra-data window.
    function setPendingExtraData(uint256 refSlot) external {
        pendingExtraData = refSlot;
    }

    function depositFor(address recipient) external payable returns (uint256 shares) {
        shares = convertToShares(msg.value);
        totalPooledEther += msg.value;
        _mint(recipient, shares);
    }

    /// @notice Test helper: mints shares worth `assets` to `to` as if deposited.
    function mintFor(address to, uint256 assets) external returns (uint256 shares) {
        shares = convertToShares(assets);
        totalPooledEther += assets;
        _mint(to, shares);
    }

    function burnSharesForCover(uint256 shares) external {
        if (!isCoverProvider[msg.sender]) revert NotCoverProvider(msg.sender);
        uint256 value = convertToAssets(shares);
        _burn(msg.sender, shares);
        emit SharesBurnedForCover(msg.sender, shares, value);
    }

    function convertToAssets(uint256 shares) public view returns (uint256) {
        return Math.mulDiv(shares, totalPooledEther, totalSupply());
    }

    function convertToShares(uint256 assets) public view returns (uint256) {
        return Math.mulDiv(assets, totalSupply(), totalPooledEther);
    }

    function shareRate() public view returns (uint256) {
        return Math.mulDiv(totalPooledEther, 1e27, totalSupply());
    }
}
