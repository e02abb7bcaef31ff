// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IInsuranceFund} from "../../src/interfaces/IInsuranceFund.sol";
import {InsuranceFund} from "../../src/operators/InsuranceFund.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

contract InsuranceFundTest is OperatorsFixture {
    function setUp() public {
        _deploy();
        pool.mintFor(address(fund), 3 ether); // the fee share the pool mints
        vm.prank(alice);
        pool.depositFor{value: 96 ether}(alice); // TVL 100
    }

    function test_initialize_GrantsCoverRole() public view {
        vm.assertTrue(fund.hasRole(fund.COVER_ROLE(), address(bonds)), "cover role");
        vm.assertEq(fund.pool(), address(pool), "pool");
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        fund.initialize(admin, guardian, address(pool), address(bonds));
    }

    function test_initialize_RevertWhen_CovererZero() public {
        InsuranceFund f = InsuranceFund(address(new ERC1967Proxy(address(new InsuranceFund()), "")));
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        f.initialize(admin, guardian, address(pool), address(0));
    }

    function test_storageSlot_MatchesErc7201Formula() public view {
        bytes32 slot = _slot("claystack.storage.InsuranceFund");
        vm.assertEq(slot, 0xabbf5af8f35de2ba51c2b45cbc255f2f9a7ab9a97a7b336d40e8bb49bec98300, "constant");
        vm.assertEq(address(uint160(uint256(vm.load(address(fund), slot)))), address(pool), "pool at field 0");
    }

    function test_cover_BurnsShares() public {
        vm.expectEmit();
        emit IInsuranceFund.LossCovered(1 ether, 1 ether);
        vm.prank(address(bonds));
        uint256 burned = fund.cover(1 ether);
        vm.assertEq(burned, 1 ether, "burned");
        vm.assertEq(fund.fundShares(), 2 ether, "left");
        vm.assertEq(fund.totalCoveredShares(), 1 ether, "total");
        vm.assertEq(pool.totalSupply(), 99 ether, "burned from supply");
    }

    function test_cover_AtMostTheWholeFund() public {
        vm.prank(address(bonds));
        uint256 burned = fund.cover(50 ether);
        vm.assertEq(burned, 3 ether, "whole fund");
        vm.assertEq(fund.fundShares(), 0, "empty");
        vm.prank(address(bonds));
        vm.assertEq(fund.cover(1 ether), 0, "empty fund burns nothing, does not revert");
    }

    function test_cover_Zero() public {
        vm.prank(address(bonds));
        vm.assertEq(fund.cover(0), 0, "nothing");
    }

    function test_cover_RevertWhen_NotCoverer() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, fund.COVER_ROLE()
            )
        );
        vm.prank(admin);
        fund.cover(1 ether);
    }

    function test_coverageRatioBps_FundOverTvl() public {
        vm.assertEq(fund.fundValue(), 3 ether, "value");
        vm.assertEq(fund.coverageRatioBps(), 300, "3 %");
        pool.setTotalPooledEther(200 ether); // rewards double the rate
        vm.assertEq(fund.fundValue(), 6 ether, "value grows with the rate");
        vm.assertEq(fund.coverageRatioBps(), 300, "ratio unchanged");
    }

    function test_coverageRatioBps_ZeroForEmptyPool() public {
        pool.setTotalPooledEther(0);
        vm.assertEq(fund.coverageRatioBps(), 0, "empty pool");
    }

    function test_upgradeToAndCall_RevertWhen_NotAdmin() public {
        address impl = address(new InsuranceFund());
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, bytes32(0)
            )
        );
        vm.prank(guardian);
        fund.upgradeToAndCall(impl, "");
    }
}
