// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../src/interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {OperatorRewards} from "../../src/operators/OperatorRewards.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {OperatorsFixture} from "../utils/OperatorsFixture.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Attacks on the operator contracts.
contract OperatorAttacksTest is OperatorsFixture {
    uint256 internal victimOp;
    uint256 internal attackerOp;
    address internal attacker = makeAddr("attacker");

    function setUp() public {
        _deploy();
        vm.deal(attacker, 1000 ether);
        victimOp = _registerHome(bob, 5 ether);
        attackerOp = _registerHome(attacker, 5 ether);
    }

    /// @dev An operator copies another operator's pubkey (from its KeyAdded event) with its own or
    /// the copied signature: rejected by the global index, whatever the batch position.
    function test_attack_RegisterAnotherOperatorsKey() public {
        _addKeys(victimOp, bob, 100, 3);
        bytes memory stolen = _pubkey(101);

        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.KeyAlreadyRegistered.selector, keccak256(stolen), victimOp, 1
            )
        );
        vm.prank(attacker);
        registry.addKeys(attackerOp, stolen, _signature(101));

        // hidden in the middle of a batch, with another signature
        bytes memory pks = bytes.concat(_pubkey(900), stolen, _pubkey(901));
        bytes memory sigs = bytes.concat(_signature(900), _signature(7), _signature(901));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.KeyAlreadyRegistered.selector, keccak256(stolen), victimOp, 1
            )
        );
        vm.prank(attacker);
        registry.addKeys(attackerOp, pks, sigs);

        // nor through the victim's operator id
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, victimOp, attacker)
        );
        vm.prank(attacker);
        registry.addKeys(victimOp, _pubkey(902), _signature(902));
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, victimOp, attacker)
        );
        vm.prank(attacker);
        registry.removeKeys(victimOp, 0, 3);

        (, uint256 owner, uint256 index) = registry.keyOwner(stolen);
        vm.assertEq(owner, victimOp, "still the victim's");
        vm.assertEq(index, 1, "same index");
        vm.assertEq(registry.getOperator(attackerOp).totalKeys, 0, "attacker registered nothing");
    }

    /// @dev A report penalises far more than the bond with every further layer empty: no revert, no
    /// underflow; the remainder is returned for the holders to bear.
    function test_attack_PenaltyAboveBondWithEmptyLayers() public {
        vm.prank(reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(attackerOp, 1_000_000 ether);
        vm.assertEq(c.fromBond, 5 ether, "bond");
        vm.assertEq(c.fromVfp + c.fromInsurance, 0, "empty layers");
        vm.assertEq(c.uncovered, 1_000_000 ether - 5 ether, "remainder");
        vm.prank(reporter);
        vm.assertEq(
            bonds.penalize(attackerOp, type(uint256).max / 1e30), type(uint256).max / 1e30, "empty bond"
        );
    }

    /// @dev Withdrawal-credential front-run of a pre-deposit: the key is never topped up and the
    /// 1 ETH lost is taken from the front-runner's bond; stakers' rate is unchanged.
    function test_attack_FrontRunCostsTheFrontRunner() public {
        _addKeys(attackerOp, attacker, 500, 2);
        vm.prank(vetter);
        registry.setVettedLimit(attackerOp, 2);
        vm.prank(depositor);
        registry.markPreDeposited(attackerOp, 2);
        uint256 rate = pool.convertToAssets(1e18);
        // the report: key 0 was seen with foreign credentials; the 1 ETH pre-deposit is lost
        vm.startPrank(reporter);
        registry.markFrontRun(attackerOp, 0);
        registry.confirmPreDeposits(attackerOp, 2);
        IBondManager.LossCoverage memory c = bonds.coverLoss(attackerOp, 1 ether);
        vm.stopPrank();
        pool.setTotalPooledEther(pool.totalPooledEther() - 1 ether);
        vm.assertEq(c.fromBond, 1 ether, "the bond pays");
        vm.assertEq(pool.convertToAssets(1e18), rate, "stakers whole");
        (bytes memory pks,, uint256 n) = registry.topUpKeys(attackerOp, 2);
        vm.assertEq(n, 1, "only the honest key");
        vm.assertEq(pks, _pubkey(501), "front-run key excluded");
        vm.assertEq(registry.depositableKeys(attackerOp), 0, "operator stopped");
        vm.assertEq(bonds.claimableShares(attackerOp), 0, "bond locked while stopped");
    }

    /// @dev First-depositor inflation attack on VEF shares: the attacker deposits the minimum and
    /// donates csETH directly to inflate the price; tracked assets ignore the donation and the
    /// virtual offset keeps the victim's rounding loss negligible.
    function test_attack_VefInflation() public {
        vm.startPrank(attacker);
        uint256 attackerVef = vfp.depositEth{value: 1e15}(attacker);
        uint256 donation = pool.depositFor{value: 100 ether}(attacker);
        pool.transfer(address(vfp), donation);
        vm.stopPrank();

        vm.prank(alice);
        uint256 victimVef = vfp.depositEth{value: 1 ether}(alice);
        vm.assertGt(victimVef, 0, "victim gets shares");
        vm.assertGe(vfp.convertToCs(victimVef) + 1, 1 ether, "victim keeps its deposit");
        vm.assertLe(vfp.convertToCs(attackerVef), 1e15, "attacker gains nothing");
    }

    /// @dev The same attack through rewards: even if an attacker could route a "reward" (it needs
    /// REWARDS_ROLE), the virtual offset bounds the victim's loss to a negligible fraction.
    function test_attack_VefInflationThroughRewards() public {
        vm.prank(attacker);
        uint256 attackerVef = vfp.depositEth{value: 1e15}(attacker);
        pool.mintFor(distributor, 10 ether);
        vm.startPrank(distributor);
        pool.approve(address(vfp), 10 ether);
        vfp.depositRewards(10 ether);
        vm.stopPrank();
        vm.prank(alice);
        uint256 victimVef = vfp.depositEth{value: 1 ether}(alice);
        vm.assertGe(vfp.convertToCs(victimVef), 1 ether - 1 ether / 1e6, "victim loses < 1 ppm");
        vm.assertLe(vfp.convertToCs(attackerVef), 1e15 + 10 ether, "attacker earns at most the rewards");
    }

    /// @dev The inflation attack through the rewards-tree path: the attacker holds the first VEF,
    /// donates csETH, claims the pool's leaf directly on OperatorRewards and books it. Only the
    /// leaf is booked (the donation never is), so the victim keeps its deposit and the attacker
    /// earns at most its share of the leaf, having lost the donation.
    function test_attack_VefInflationThroughTheRewardsTree() public {
        address module = makeAddr("operatorsModule");
        OperatorRewards rewards = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (admin, address(pool), module))
                )
            )
        );
        vm.prank(admin);
        vfp.setOperatorRewards(address(rewards));
        uint256 leaf = pool.mintFor(address(rewards), 1 ether);
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = MerkleBuilder.leaf(address(vfp), leaf);
        vm.prank(module);
        rewards.setRewardsRoot(leaves[0], leaf, 1);

        vm.startPrank(attacker);
        uint256 attackerVef = vfp.depositEth{value: 1e15}(attacker);
        uint256 donation = pool.depositFor{value: 100 ether}(attacker);
        vm.assertTrue(pool.transfer(address(vfp), donation), "donation");
        rewards.claim(address(vfp), leaf, new bytes32[](0));
        vm.assertEq(vfp.syncRewards(), leaf, "only the leaf is booked");
        vm.stopPrank();

        vm.prank(alice);
        uint256 victimVef = vfp.depositEth{value: 1 ether}(alice);
        vm.assertGe(vfp.convertToCs(victimVef), 1 ether - 1 ether / 1e6, "victim loses < 1 ppm");
        vm.assertLe(vfp.convertToCs(attackerVef), 1e15 + leaf, "attacker earns at most the leaf");
        vm.assertEq(vfp.totalAssets() + donation, pool.balanceOf(address(vfp)), "donation never booked");
    }
}
