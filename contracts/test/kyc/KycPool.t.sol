// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {KycFixture} from "./KycFixture.sol";

/// @notice The KYC pool end to end: who may deposit, hold, transfer and exit kcsETH.
contract KycPoolTest is KycFixture {
    function test_deposit_AttestedInstitution() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 10 ether);
        vm.assertGt(shares, 0, "minted");
        vm.assertEq(pool.balanceOf(alice), shares, "balance");
    }

    function test_deposit_RevertWhen_NotAttested() public {
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, MIN_TIER));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
    }

    function test_deposit_RevertWhen_AttestationExpired() public {
        uint64 exp = uint64(block.timestamp + 1 days);
        vm.prank(provider);
        registry.attest(alice, MIN_TIER, exp);
        vm.warp(exp);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.AttestationExpired.selector, alice, exp));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
    }

    function test_deposit_RevertWhen_Denied() public {
        _attest(alice);
        _deny(alice, true);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
    }

    function test_depositFor_RevertWhen_RecipientNotAttested() public {
        _attest(alice);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, bob, MIN_TIER));
        vm.prank(alice);
        pool.depositFor{value: 1 ether}(bob);
    }

    function test_receive_RevertWhen_PlainTransferFromUnattested() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok, bytes memory ret) = address(pool).call{value: 1 ether}("");
        vm.assertFalse(ok, "plain ETH transfer is a deposit and needs an attestation");
        vm.assertEq(
            ret, abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, MIN_TIER), "reason"
        );
    }

    function test_transfer_BetweenAttested() public {
        _attest(alice);
        _attest(bob);
        uint256 shares = _deposit(alice, 2 ether);
        vm.prank(alice);
        pool.transfer(bob, shares / 2);
        vm.assertEq(pool.balanceOf(bob), shares / 2, "moved");
    }

    function test_transfer_RevertWhen_RecipientNotAttested() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 2 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, bob, MIN_TIER));
        vm.prank(alice);
        pool.transfer(bob, shares);
    }

    function test_transfer_RevertWhen_SenderRevoked() public {
        _attest(alice);
        _attest(bob);
        uint256 shares = _deposit(alice, 2 ether);
        _revoke(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, MIN_TIER));
        vm.prank(alice);
        pool.transfer(bob, shares);
    }

    function test_transferFrom_RevertWhen_RecipientNotAttested() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 2 ether);
        // approving an unattested spender is harmless: the shares can still only reach attested holders
        vm.prank(alice);
        pool.approve(carol, shares);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, carol, MIN_TIER));
        vm.prank(carol);
        pool.transferFrom(alice, carol, shares);
    }

    function test_permit_RevertWhen_PermittedSpenderSendsToUnattested() public {
        (address owner, uint256 ownerKey) = makeAccount("institution");
        _attest(owner);
        uint256 shares = _deposit(owner, 2 ether);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                ),
                owner,
                carol,
                shares,
                pool.nonces(owner),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", pool.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, digest);
        pool.permit(owner, carol, shares, deadline, v, r, s);
        vm.assertEq(pool.allowance(owner, carol), shares, "permit recorded");
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, carol, MIN_TIER));
        vm.prank(carol);
        pool.transferFrom(owner, carol, shares);
        // to an attested recipient the permitted spender may move them
        _attest(bob);
        vm.prank(carol);
        pool.transferFrom(owner, bob, shares);
        vm.assertEq(pool.balanceOf(bob), shares, "moved to attested");
    }

    function test_revokedHolder_WithdrawsToItself() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 4 ether);
        _revoke(alice);
        uint256 id = _request(alice, shares / 2);
        _reportFinalize(id);
        uint256 before = alice.balance;
        vm.prank(alice);
        uint256 paid = queue.claim(id, alice);
        vm.assertEq(alice.balance, before + paid, "paid to itself");
        vm.assertApproxEqAbs(paid, 2 ether, 2, "value");
    }

    function test_expiredHolder_FlashExitsToItself() public {
        uint64 exp = uint64(block.timestamp + 1 days);
        vm.prank(provider);
        registry.attest(alice, MIN_TIER, exp);
        uint256 shares = _deposit(alice, 4 ether);
        vm.warp(exp + 1);
        uint256 before = alice.balance;
        vm.prank(alice);
        uint256 out = pool.flashExit(shares / 4, 0);
        vm.assertEq(alice.balance, before + out, "paid to itself");
    }

    function test_revokedHolder_RevertWhen_ClaimToThirdParty() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 4 ether);
        uint256 id = _request(alice, shares / 2);
        _reportFinalize(id);
        _revoke(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, MIN_TIER));
        vm.prank(alice);
        queue.claim(id, bob);
    }

    function test_revokedHolder_RevertWhen_RequestForAnotherOwner() public {
        _attest(alice);
        _attest(bob);
        uint256 shares = _deposit(alice, 4 ether);
        _revoke(alice);
        // a ticket for bob would hand bob alice's value: a transfer in all but name
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, MIN_TIER));
        vm.prank(alice);
        queue.requestWithdrawal(shares / 2, bob);
    }

    function test_requestForAnotherOwner_RevertWhen_OwnerNotAttested() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 4 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, bob, MIN_TIER));
        vm.prank(alice);
        queue.requestWithdrawal(shares / 2, bob);
    }

    function test_ticketTransfer_RevertWhen_RecipientNotAttested() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 4 ether);
        uint256 id = _request(alice, shares / 2);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, bob, MIN_TIER));
        vm.prank(alice);
        queue.transferFrom(alice, bob, id);
    }

    function test_deniedHolder_IsFrozenUntilLifted() public {
        _attest(alice);
        uint256 shares = _deposit(alice, 4 ether);
        _deny(alice, true);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        vm.prank(alice);
        queue.requestWithdrawal(shares / 2, alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        vm.prank(alice);
        pool.flashExit(shares / 4, 0);
        _deny(alice, false);
        _request(alice, shares / 2);
    }

    function test_report_FeeForgoneForUnattestedRecipient() public {
        _attest(alice);
        _deposit(alice, 100 ether);
        _revoke(treasury);
        uint256 treasuryBefore = pool.balanceOf(treasury);
        vm.expectEmit(true, false, false, false);
        emit IStakePool.RewardFeeForgone(treasury, 0);
        _reportElRewards(0.05 ether);
        vm.assertEq(pool.balanceOf(treasury), treasuryBefore, "no kcsETH for an unattested recipient");
        vm.assertGt(pool.balanceOf(operatorRewards), 0, "attested recipients still paid");
    }

    function test_publicPolicy_DeniedCannotDepositButCanExit() public {
        _usePublicPolicy();
        uint256 shares = _deposit(alice, 4 ether); // no attestation needed in the public pool
        _deny(alice, true);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.Denied.selector, alice));
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
        // holding, transferring and exiting stay permissionless
        vm.prank(alice);
        pool.transfer(bob, shares / 4);
        _request(alice, shares / 4);
        vm.prank(alice);
        pool.flashExit(shares / 8, 0);
    }
}
