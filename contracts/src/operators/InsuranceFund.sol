// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../governance/Governed.sol";
import {ICoverablePool} from "../interfaces/ICoverablePool.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice The insurance fund: holds the csETH minted to it as its share of the reward fee (and any
/// csETH sent to it) and covers the part of a reported loss that the operator's bond and the VFP
/// pool did not cover, by burning csETH, which lifts the share rate back for all holders.
///
/// Guarantees:
/// - The fund's csETH leaves only by being burned for a loss, through {cover}, callable only by
///   COVER_ROLE (the BondManager's loss waterfall). There is no withdrawal path: not for governance,
///   not for the guardian (a migration needs an upgrade through the timelock).
/// - {cover} never reverts because the loss exceeds the fund: it burns at most the whole balance and
///   returns what it burned, so it cannot block an oracle report.
/// - Coverage views are public: {fundValue} and {coverageRatioBps} (fund value / pool TVL).
contract InsuranceFund is Governed, ReentrancyGuardTransient, IInsuranceFund {
    /// @notice Role of the loss waterfall (the BondManager).
    bytes32 public constant COVER_ROLE = keccak256("claystack.role.cover");
    uint256 internal constant BPS = 10_000;

    /// @custom:storage-location erc7201:claystack.storage.InsuranceFund
    struct FundStorage {
        ICoverablePool pool;
        uint256 totalCoveredShares;
    }

    // keccak256(abi.encode(uint256(keccak256("claystack.storage.InsuranceFund")) - 1)) & ~bytes32(uint256(0xff))
    // computed with `cast index-erc7201 claystack.storage.InsuranceFund`, checked by a unit test
    bytes32 private constant FUND_STORAGE =
        0xabbf5af8f35de2ba51c2b45cbc255f2f9a7ab9a97a7b336d40e8bb49bec98300;

    /// @notice Initializes the proxy; `coverer` (the BondManager) gets COVER_ROLE.
    function initialize(address admin, address guardian, address pool_, address coverer)
        external
        initializer
    {
        __Governed_init(admin, guardian);
        if (pool_ == address(0) || coverer == address(0)) revert ZeroAddress();
        _s().pool = ICoverablePool(pool_);
        _grantRole(COVER_ROLE, coverer);
    }

    /// @notice Covers a loss worth `shares` csETH by burning up to that many of the fund's shares
    /// (at most the whole fund); returns the shares burned. Loss waterfall only.
    function cover(uint256 shares) external onlyRole(COVER_ROLE) nonReentrant returns (uint256 burned) {
        FundStorage storage $ = _s();
        ICoverablePool csEth = $.pool;
        uint256 balance = csEth.balanceOf(address(this));
        burned = shares < balance ? shares : balance;
        $.totalCoveredShares += burned;
        emit LossCovered(shares, burned);
        if (burned != 0) csEth.burnSharesForCover(burned);
    }

    /// @notice csETH shares the fund holds.
    function fundShares() public view returns (uint256) {
        return _s().pool.balanceOf(address(this));
    }

    /// @notice ETH value of the fund.
    function fundValue() public view returns (uint256) {
        return _s().pool.convertToAssets(fundShares());
    }

    /// @notice Fund value / pool TVL in bps, rounded down (0 for an empty pool).
    function coverageRatioBps() external view returns (uint256) {
        uint256 tvl = _s().pool.totalPooledEther();
        if (tvl == 0) return 0;
        return fundValue() * BPS / tvl;
    }

    /// @notice csETH shares the fund has burned for losses so far.
    function totalCoveredShares() external view returns (uint256) {
        return _s().totalCoveredShares;
    }

    /// @notice The pool (csETH token).
    function pool() external view returns (address) {
        return address(_s().pool);
    }

    function _s() private pure returns (FundStorage storage $) {
        assembly {
            $.slot := FUND_STORAGE
        }
    }
}
