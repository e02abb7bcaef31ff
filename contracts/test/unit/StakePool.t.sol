// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessPolicy} from "../../src/interfaces/IAccessPolicy.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {Fixture} from "../utils/Fixture.sol";
import {MockAccessPolicy, MockDepositModule} from "../utils/Mocks.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

contract StakePoolTest is Fixture {
    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    function _initParams() internal view returns (IStakePool.InitParams memory) {
        return IStakePool.InitParams({
            name: "x",
            symbol: "x",
            admin: tl,
            guardian: guardian,
            recipients: IStakePool.FeeRecipients(treasury, operatorRewards, insurance),
            fees: IStakePool.Fees(400, 500, 100),
            minDeposit: 1,
            dailyStakeLimit: 1 ether
        });
    }

    // ------------------------------------------------------------------ initialize

    function test_initialize_SeedSharesBurnedToDeadAddress() public view {
        vm.assertEq(pool.balanceOf(pool.DEAD_ADDRESS()), SEED, "seed shares");
        vm.assertEq(pool.totalSupply(), SEED, "supply");
        vm.assertEq(pool.totalPooledEther(), SEED, "pooled");
        vm.assertEq(pool.shareRate(), 1e27, "rate");
        vm.assertEq(pool.name(), "ClayStack Staked ETH", "name");
        vm.assertEq(pool.symbol(), "csETH", "symbol");
    }

    function test_initialize_RevertWhen_SeedTooSmall() public {
        address impl = address(new StakePool());
        vm.deal(address(this), 1e15);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.InitialDepositTooSmall.selector, 1e15 - 1, 1e15));
        new ERC1967Proxy{value: 1e15 - 1}(impl, abi.encodeCall(StakePool.initialize, (_initParams())));
    }

    function test_initialize_RevertWhen_CalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        pool.initialize(_initParams());
    }

    function test_initialize_RevertWhen_ImplementationInitialized() public {
        StakePool impl = new StakePool();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        impl.initialize(_initParams());
    }

    // ------------------------------------------------------------------ deposit

    function test_deposit_MintsAtCurrentRate() public {
        uint256 shares = _deposit(alice, 1 ether);
        vm.assertEq(shares, 1 ether, "1:1 at genesis rate");
        vm.assertEq(pool.balanceOf(alice), 1 ether, "balance");
        vm.assertEq(pool.totalPooledEther(), 1 ether + SEED, "pooled");
        vm.assertEq(pool.bufferedEther(), 1 ether + SEED, "buffered");
    }

    function test_deposit_RoundsSharesDown() public {
        _deposit(alice, 100 ether);
        _reportElRewards(0.05 ether);
        uint256 rateBefore = pool.shareRate();
        uint256 amount = 1 ether + 7;
        uint256 expected = amount * pool.totalSupply() / pool.totalPooledEther();
        uint256 shares = _deposit(bob, amount);
        vm.assertEq(shares, expected, "floor");
        vm.assertGe(pool.shareRate(), rateBefore, "rate never drops on deposit");
        vm.assertLe(pool.convertToAssets(shares), amount, "worth at most the deposit");
    }

    function test_deposit_EmitsDeposited() public {
        vm.deal(alice, 1 ether);
        vm.expectEmit();
        emit IStakePool.Deposited(alice, alice, 1 ether, 1 ether);
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
    }

    function test_depositFor_MintsToRecipient() public {
        vm.deal(alice, 2 ether);
        vm.prank(alice);
        uint256 shares = pool.depositFor{value: 2 ether}(bob);
        vm.assertEq(pool.balanceOf(bob), shares, "recipient");
        vm.assertEq(pool.balanceOf(alice), 0, "payer");
    }

    function test_receive_DepositsForSender() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok,) = address(pool).call{value: 1 ether}("");
        vm.assertTrue(ok, "plain transfer");
        vm.assertEq(pool.balanceOf(alice), 1 ether, "shares");
    }

    function test_deposit_RevertWhen_BelowMinimum() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.DepositBelowMinimum.selector, 0.0001 ether, 0.001 ether)
        );
        pool.deposit{value: 0.0001 ether}();
    }

    function test_deposit_RevertWhen_Paused() public {
        vm.prank(guardian);
        pool.pause();
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        pool.deposit{value: 1 ether}();
    }

    function test_deposit_RevertWhen_DailyLimitExceeded() public {
        vm.prank(tl);
        pool.setDailyStakeLimit(10 ether);
        _deposit(alice, 6 ether);
        vm.assertEq(pool.stakeLimitRemaining(), 4 ether, "remaining");
        vm.deal(bob, 5 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.DailyStakeLimitExceeded.selector, 5 ether, 4 ether));
        pool.deposit{value: 5 ether}();
    }

    function test_deposit_DailyLimitResetsNextDay() public {
        vm.prank(tl);
        pool.setDailyStakeLimit(10 ether);
        _deposit(alice, 10 ether);
        vm.warp(block.timestamp + 1 days);
        vm.assertEq(pool.stakeLimitRemaining(), 10 ether, "reset");
        _deposit(bob, 10 ether);
    }

    function test_deposit_RevertWhen_ZeroShares() public {
        _deposit(alice, 100 ether);
        _reportElRewards(0.05 ether);
        vm.prank(tl);
        pool.setMinDeposit(1);
        vm.deal(bob, 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ZeroShares.selector, 1));
        pool.deposit{value: 1}();
    }

    function test_deposit_RevertWhen_PolicyDeniesPayer() public {
        MockAccessPolicy policy = _policy();
        policy.deny(alice, IAccessPolicy.Action.Deposit);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MockAccessPolicy.Denied.selector, alice, IAccessPolicy.Action.Deposit)
        );
        pool.deposit{value: 1 ether}();
    }

    function test_depositFor_RevertWhen_PolicyDeniesRecipient() public {
        MockAccessPolicy policy = _policy();
        policy.deny(bob, IAccessPolicy.Action.Receive);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MockAccessPolicy.Denied.selector, bob, IAccessPolicy.Action.Receive)
        );
        pool.depositFor{value: 1 ether}(bob);
    }

    function test_depositFor_RevertWhen_EmptyPool() public {
        // a total loss of the pooled ETH (only reachable with CL ETH): force the state
        _deposit(alice, 1 ether);
        bytes32 slot0 = 0xfb3b8a82c04d51f3a434405d5ba12027e8d4d7fef11ca706729e03633fa80f00;
        vm.store(address(pool), slot0, bytes32(0));
        vm.deal(bob, 1 ether);
        vm.prank(bob);
        vm.expectRevert(IStakePool.EmptyPool.selector);
        pool.deposit{value: 1 ether}();
    }

    // ------------------------------------------------------------------ transfers and permit

    function test_transfer_RevertWhen_PolicyDeniesSender() public {
        _deposit(alice, 1 ether);
        MockAccessPolicy policy = _policy();
        policy.deny(alice, IAccessPolicy.Action.Send);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MockAccessPolicy.Denied.selector, alice, IAccessPolicy.Action.Send)
        );
        pool.transfer(bob, 1);
    }

    function test_transfer_RevertWhen_PolicyDeniesRecipient() public {
        _deposit(alice, 1 ether);
        MockAccessPolicy policy = _policy();
        policy.deny(bob, IAccessPolicy.Action.Receive);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MockAccessPolicy.Denied.selector, bob, IAccessPolicy.Action.Receive)
        );
        pool.transfer(bob, 1);
    }

    function test_transfer_MovesShares() public {
        _deposit(alice, 1 ether);
        _policy();
        vm.prank(alice);
        pool.transfer(bob, 0.4 ether);
        vm.assertEq(pool.balanceOf(bob), 0.4 ether, "bob");
    }

    function test_permit_SetsAllowance() public {
        (address owner, uint256 key) = makeAccount("permitOwner");
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                ),
                owner,
                bob,
                5 ether,
                0,
                block.timestamp + 1
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", pool.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        pool.permit(owner, bob, 5 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(pool.allowance(owner, bob), 5 ether, "allowance");
        vm.assertEq(pool.nonces(owner), 1, "nonce");
    }

    // ------------------------------------------------------------------ flash exit

    function test_flashExit_PaysMinFeeWhenReserveFull() public {
        _deposit(alice, 100 ether);
        uint256 pooled = pool.totalPooledEther();
        uint256 rateBefore = pool.shareRate();
        uint256 balBefore = alice.balance;
        vm.prank(alice);
        uint256 out = pool.flashExit(1 ether, 0);
        // reserve after (99 ETH) is far above the 2 % target: 0.5 %
        vm.assertEq(out, 1 ether - 0.005 ether, "0.5 % fee");
        vm.assertEq(alice.balance - balBefore, out, "paid");
        vm.assertEq(pool.totalPooledEther(), pooled - out, "fee stays");
        vm.assertGt(pool.shareRate(), rateBefore, "rate rises");
    }

    function test_flashExit_FeeRisesAsReserveDrains() public {
        _deposit(alice, 100 ether);
        // move most of the buffer to the CL so the reserve is below target
        MockDepositModule module = _module();
        module.take(99 ether);
        // buffer 1.001 ETH, target 2 % of ~100 = 2 ETH: the fee is above the minimum
        (uint256 out, uint256 fee) = pool.flashExitQuote(0.5 ether);
        vm.assertGt(fee, 0.5 ether * 50 / 10_000, "above min fee");
        vm.assertLe(fee, 0.5 ether * 100 / 10_000 + 1, "at most max fee");
        vm.prank(alice);
        vm.assertEq(pool.flashExit(0.5 ether, out), out, "quote honoured");
        // draining to ~zero costs the max fee
        (, uint256 feeAll) = pool.flashExitQuote(pool.convertToShares(pool.bufferedEther()));
        uint256 gross = pool.convertToAssets(pool.convertToShares(pool.bufferedEther()));
        vm.assertApproxEqAbs(feeAll, gross * 100 / 10_000, 2, "max fee when drained");
    }

    function test_flashExit_RevertWhen_SlippageExceeded() public {
        _deposit(alice, 10 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.SlippageExceeded.selector, 0.995 ether, 1 ether));
        pool.flashExit(1 ether, 1 ether);
    }

    function test_flashExit_RevertWhen_InsufficientLiquidity() public {
        _deposit(alice, 100 ether);
        _module().take(99 ether);
        uint256 buffered = pool.bufferedEther();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.InsufficientFlashLiquidity.selector, 2 ether, buffered)
        );
        pool.flashExit(2 ether, 0);
    }

    function test_flashExit_RevertWhen_BufferOwedToQueue() public {
        _deposit(alice, 10 ether);
        _deposit(bob, 10 ether);
        _module().take(pool.depositableEther() - 4 ether); // 4 ETH of free buffer left
        _request(bob, pool.convertToShares(3 ether)); // 3 ETH now owed to the queue
        uint256 available = pool.depositableEther();
        vm.assertApproxEqAbs(available, 1 ether, 2, "only the unowed buffer is liquidity");
        uint256 shares = pool.convertToShares(2 ether);
        uint256 gross = pool.convertToAssets(shares);
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.InsufficientFlashLiquidity.selector, gross, available)
        );
        vm.prank(alice);
        pool.flashExit(shares, 0);
        // the queued request is still payable in full from the buffer
        vm.assertGe(pool.bufferedEther(), 3 ether, "queue demand kept");
    }

    function test_flashExit_RevertWhen_AboveMaxUnstake() public {
        _deposit(alice, 10 ether);
        uint256 max = pool.totalSupply() / 2;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakePool.UnstakeAboveMaximum.selector, max + 1, max));
        pool.flashExit(max + 1, 0);
    }

    function test_flashExit_RevertWhen_Paused() public {
        _deposit(alice, 10 ether);
        vm.prank(guardian);
        pool.pause();
        vm.prank(alice);
        vm.expectRevert(IGoverned.EnforcedPause.selector);
        pool.flashExit(1 ether, 0);
    }

    function test_flashExit_RevertWhen_PolicyDeniesExit() public {
        _deposit(alice, 10 ether);
        _policy().deny(alice, IAccessPolicy.Action.Exit);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(MockAccessPolicy.Denied.selector, alice, IAccessPolicy.Action.Exit)
        );
        pool.flashExit(1 ether, 0);
    }

    function test_flashExitQuote_RevertWhen_InsufficientLiquidity() public {
        uint256 buffered = pool.bufferedEther();
        uint256 shares = pool.totalSupply() * 2;
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.InsufficientFlashLiquidity.selector, buffered * 2, buffered)
        );
        pool.flashExitQuote(shares);
    }

    // ------------------------------------------------------------------ restricted entry points

    function test_lockSharesForWithdrawal_RevertWhen_NotQueue() public {
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, alice, address(queue)));
        vm.prank(alice);
        pool.lockSharesForWithdrawal(alice, 1);
    }

    function test_handleOracleReport_RevertWhen_NotOracle() public {
        IStakePool.AccountingReport memory r;
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, alice, address(oracle)));
        vm.prank(alice);
        pool.handleOracleReport(r);
    }

    function test_receiveWithdrawalVaultEther_RevertWhen_NotVault() public {
        vm.deal(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, alice, address(wVault)));
        vm.prank(alice);
        pool.receiveWithdrawalVaultEther{value: 1}();
    }

    function test_receiveElRewards_RevertWhen_NotVault() public {
        vm.deal(alice, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, alice, address(elVault))
        );
        vm.prank(alice);
        pool.receiveElRewards{value: 1}();
    }

    function test_withdrawToDepositModule_MovesBufferToTransient() public {
        _deposit(alice, 64 ether);
        MockDepositModule module = _module();
        uint256 pooled = pool.totalPooledEther();
        module.take(32 ether);
        vm.assertEq(pool.depositedEther(), 32 ether, "deposited");
        vm.assertEq(pool.transientEther(), 32 ether, "transient");
        vm.assertEq(pool.totalPooledEther(), pooled, "unchanged");
        vm.assertEq(address(module).balance, 32 ether, "sent");
    }

    function test_withdrawToDepositModule_RevertWhen_NotModule() public {
        _module();
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, guardian, pool.depositModule())
        );
        vm.prank(guardian);
        pool.withdrawToDepositModule(1);
    }

    function test_withdrawToDepositModule_RevertWhen_NoModule() public {
        vm.prank(tl);
        pool.setDepositModule(address(0));
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, address(0), address(0)));
        vm.prank(address(0));
        pool.withdrawToDepositModule(1);
    }

    function test_withdrawToDepositModule_RevertWhen_QueueDemandNotKept() public {
        _deposit(alice, 10 ether);
        _request(alice, 4 ether);
        MockDepositModule module = _module();
        uint256 available = pool.depositableEther();
        vm.assertEq(available, pool.bufferedEther() - 4 ether, "demand kept");
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.InsufficientBuffer.selector, available + 1, available)
        );
        module.take(available + 1);
    }

    // ------------------------------------------------------------------ governance

    function test_setters_RevertWhen_NotTimelock() public {
        address[3] memory callers = [alice, guardian, address(this)];
        bytes32 admin = pool.DEFAULT_ADMIN_ROLE();
        address impl = address(new StakePool());
        for (uint256 i = 0; i < callers.length; ++i) {
            address c = callers[i];
            vm.startPrank(c);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setFees(IStakePool.Fees(0, 0, 0));
            vm.expectRevert(_unauthorized(c, admin));
            pool.setFeeRecipients(IStakePool.FeeRecipients(c, c, c));
            vm.expectRevert(_unauthorized(c, admin));
            pool.setMinDeposit(1);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setDailyStakeLimit(1 ether);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setMaxUnstakeBps(100);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setFlashExitParams(0, 1, 1);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setAccessPolicy(c);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setDepositModule(c);
            vm.expectRevert(_unauthorized(c, admin));
            pool.setContracts(IStakePool.Contracts(c, c, c, c, c));
            vm.expectRevert(_unauthorized(c, admin));
            pool.unpause();
            vm.expectRevert(_unauthorized(c, admin));
            pool.upgradeToAndCall(impl, "");
            vm.stopPrank();
        }
    }

    function test_setFees_UpdatesWithinBounds() public {
        vm.prank(tl);
        pool.setFees(IStakePool.Fees(1000, 500, 500));
        IStakePool.Fees memory f = pool.fees();
        vm.assertEq(f.treasuryBps + f.operatorsBps + f.insuranceBps, 2000, "total");
    }

    function test_setFees_RevertWhen_AboveHardBound() public {
        vm.prank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("totalFeeBps"), 2001, 0, 2000
            )
        );
        pool.setFees(IStakePool.Fees(1001, 500, 500));
    }

    function test_setFeeRecipients_RevertWhen_ZeroAddress() public {
        vm.prank(tl);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        pool.setFeeRecipients(IStakePool.FeeRecipients(alice, address(0), bob));
    }

    function test_setFeeRecipients_Updates() public {
        vm.prank(tl);
        pool.setFeeRecipients(IStakePool.FeeRecipients(alice, bob, carol));
        vm.assertEq(pool.feeRecipients().operatorRewards, bob, "operators");
    }

    function test_setMinDeposit_RevertWhen_OutOfBounds() public {
        vm.startPrank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("minDeposit"), 0, 1, 1 ether
            )
        );
        pool.setMinDeposit(0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("minDeposit"), 2 ether, 1, 1 ether
            )
        );
        pool.setMinDeposit(2 ether);
        vm.stopPrank();
    }

    function test_setDailyStakeLimit_RevertWhen_OutOfBounds() public {
        vm.prank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector,
                bytes32("dailyStakeLimit"),
                0,
                1 ether,
                type(uint96).max
            )
        );
        pool.setDailyStakeLimit(0);
    }

    function test_setMaxUnstakeBps_RevertWhen_OutOfBounds() public {
        vm.prank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("maxUnstakeBps"), 10_001, 100, 10_000
            )
        );
        pool.setMaxUnstakeBps(10_001);
    }

    function test_setFlashExitParams_RevertWhen_OutOfBounds() public {
        vm.startPrank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("flashReserveBps"), 2001, 0, 2000
            )
        );
        pool.setFlashExitParams(2001, 50, 100);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("flashFeeMinBps"), 0, 1, 500
            )
        );
        pool.setFlashExitParams(200, 0, 100);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("flashFeeMaxBps"), 40, 50, 500
            )
        );
        pool.setFlashExitParams(200, 50, 40);
        pool.setFlashExitParams(300, 20, 200);
        vm.stopPrank();
        (,,, uint256 reserve, uint256 minFee, uint256 maxFee) = pool.limits();
        vm.assertEq(reserve + minFee + maxFee, 520, "updated");
    }

    function test_setContracts_RevertWhen_ZeroAddress() public {
        vm.prank(tl);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        pool.setContracts(IStakePool.Contracts(alice, alice, address(0), alice, alice));
    }

    function test_setContracts_Updates() public {
        vm.prank(tl);
        pool.setContracts(IStakePool.Contracts(alice, alice, alice, alice, alice));
        vm.assertEq(pool.contracts().oracle, alice, "oracle");
    }

    function test_pause_GuardianPausesButCannotUnpause() public {
        vm.prank(guardian);
        pool.pause();
        vm.assertTrue(pool.paused(), "paused");
        bytes memory err = _unauthorized(guardian, pool.DEFAULT_ADMIN_ROLE());
        vm.prank(guardian);
        vm.expectRevert(err);
        pool.unpause();
        vm.prank(tl);
        pool.unpause();
        vm.assertFalse(pool.paused(), "unpaused");
    }

    function test_pause_RevertWhen_NotGuardian() public {
        bytes memory err = _unauthorized(alice, pool.DEFAULT_ADMIN_ROLE());
        vm.prank(alice);
        vm.expectRevert(err);
        pool.pause();
    }

    function test_pause_GovernanceMayPause() public {
        vm.prank(tl);
        pool.pause();
        vm.assertTrue(pool.paused(), "paused");
    }

    function test_upgradeToAndCall_ThroughTimelockOnly() public {
        address impl = address(new StakePool());
        bytes memory call = abi.encodeCall(pool.upgradeToAndCall, (impl, ""));
        timelock.schedule(address(pool), 0, call, bytes32(0), bytes32(0), 2 days);
        vm.expectRevert();
        timelock.execute(address(pool), 0, call, bytes32(0), bytes32(0));
        vm.warp(block.timestamp + 2 days);
        timelock.execute(address(pool), 0, call, bytes32(0), bytes32(0));
        bytes32 implSlot = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
        vm.assertEq(address(uint160(uint256(vm.load(address(pool), implSlot)))), impl, "upgraded");
    }

    function test_roles_OnlyTimelockIsAdmin() public view {
        bytes32 admin = pool.DEFAULT_ADMIN_ROLE();
        vm.assertTrue(pool.hasRole(admin, tl), "timelock admin");
        vm.assertFalse(pool.hasRole(admin, address(this)), "deployer renounced");
        vm.assertFalse(pool.hasRole(admin, guardian), "guardian not admin");
        vm.assertTrue(pool.hasRole(pool.GUARDIAN_ROLE(), guardian), "guardian");
    }

    // ------------------------------------------------------------------ accounting via reports

    function test_handleOracleReport_MintsRewardFeeSplit() public {
        _deposit(alice, 100 ether);
        uint256 rewards = 0.05 ether;
        _reportElRewards(rewards);
        uint256 pooled = pool.totalPooledEther();
        vm.assertEq(pooled, 100 ether + SEED + rewards, "rewards in");
        uint256 t = pool.convertToAssets(pool.balanceOf(treasury));
        uint256 o = pool.convertToAssets(pool.balanceOf(operatorRewards));
        uint256 i = pool.convertToAssets(pool.balanceOf(insurance));
        vm.assertApproxEqAbs(t, rewards * 400 / 10_000, 2, "treasury 4 %");
        vm.assertApproxEqAbs(o, rewards * 500 / 10_000, 2, "operators 5 %");
        vm.assertApproxEqAbs(i, rewards * 100 / 10_000, 2, "insurance 1 %");
        vm.assertApproxEqAbs(
            pool.convertToAssets(pool.balanceOf(alice)),
            100 ether + (rewards * 9000 / 10_000) * 100 ether / (100 ether + SEED),
            10,
            "alice net 90 %"
        );
    }

    function test_handleOracleReport_SmoothsElRewards() public {
        _deposit(alice, 100 ether);
        uint256 cap = pool.totalPooledEther() * 750 / 1_000_000;
        _reportElRewards(1 ether);
        vm.assertEq(pool.totalPooledEther(), 100 ether + SEED + cap, "capped");
        vm.assertEq(address(elVault).balance, 1 ether - cap, "rest waits in the vault");
    }

    function test_handleOracleReport_ClDepositsAndRewards() public {
        _deposit(alice, 64 ether);
        _module().take(64 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 2;
        r.validatorsActive = 2;
        r.clDepositsProcessed = 64 ether;
        r.clBalance = 64 ether + 0.01 ether; // ~5.7 % APR over one day
        _submit(r);
        vm.assertEq(pool.transientEther(), 0, "seen");
        vm.assertEq(pool.clBalance(), 64.01 ether, "cl");
        vm.assertEq(pool.totalPooledEther(), 64.01 ether + SEED, "pooled");
    }

    function test_handleOracleReport_PullsWithdrawalVault() public {
        _deposit(alice, 32 ether);
        _module().take(32 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 1;
        r.validatorsActive = 1;
        r.clDepositsProcessed = 32 ether;
        r.clBalance = 32 ether;
        _submit(r);
        // the validator exits: 32 ETH swept to the vault
        _warpToNextFrame();
        vm.deal(address(wVault), 32 ether);
        r = _emptyReport();
        r.validatorsActive = 0;
        r.validatorsExited = 1;
        r.clBalance = 0;
        r.withdrawalVaultPull = 32 ether;
        uint256 pooled = pool.totalPooledEther();
        _submit(r);
        vm.assertEq(pool.totalPooledEther(), pooled, "principal back, no reward");
        vm.assertEq(pool.bufferedEther(), 32 ether + SEED, "buffer");
        vm.assertEq(address(wVault).balance, 0, "vault emptied");
        vm.assertEq(pool.balanceOf(treasury), 0, "no fee on principal");
    }

    function test_handleOracleReport_RevertWhen_ClDepositsOutOfRange() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.clDepositsProcessed = 1;
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(abi.encodeWithSelector(IStakePool.ClDepositsOutOfRange.selector, 1, 0, 0));
        oracle.submitReport(r, "", sigs);
    }

    function test_handleOracleReport_RevertWhen_VaultBalanceExceeded() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = 1 ether;
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.VaultBalanceExceeded.selector, address(elVault), 1 ether, 0)
        );
        oracle.submitReport(r, "", sigs);
        r.elRewardsVaultAvailable = 0;
        r.withdrawalVaultPull = 1 ether;
        sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(IStakePool.VaultBalanceExceeded.selector, address(wVault), 1 ether, 0)
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_handleOracleReport_NoFeeWhenFeesZero() public {
        vm.prank(tl);
        pool.setFees(IStakePool.Fees(0, 0, 0));
        _deposit(alice, 100 ether);
        _reportElRewards(0.01 ether);
        vm.assertEq(pool.balanceOf(treasury), 0, "no fee");
    }

    function test_views_ReturnState() public {
        _module();
        vm.assertEq(pool.flashReserveTarget(), SEED * 200 / 10_000, "reserve target");
        vm.assertEq(pool.accessPolicy(), address(0), "public pool");
        (uint256 minDeposit, uint256 limit, uint256 maxUnstake,,,) = pool.limits();
        vm.assertEq(minDeposit, 0.001 ether, "min");
        vm.assertEq(limit, 150_000 ether, "limit");
        vm.assertEq(maxUnstake, 5000, "max unstake");
        vm.assertEq(pool.contracts().withdrawalQueue, address(queue), "queue");
        vm.assertEq(pool.convertToShares(1 ether), 1 ether, "shares");
    }

    // ------------------------------------------------------------------ helpers

    function _policy() internal returns (MockAccessPolicy policy) {
        policy = new MockAccessPolicy();
        vm.prank(tl);
        pool.setAccessPolicy(address(policy));
    }

    function _module() internal returns (MockDepositModule module) {
        module = new MockDepositModule(pool);
        vm.prank(tl);
        pool.setDepositModule(address(module));
    }
}
