// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IEip7002} from "../../src/interfaces/IEip7002.sol";
import {IExitEnforcer} from "../../src/interfaces/IExitEnforcer.sol";
import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IWithdrawalVault} from "../../src/interfaces/IVaults.sol";
import {ExitEnforcer} from "../../src/operators/ExitEnforcer.sol";
import {PoolVault, WithdrawalVault} from "../../src/pool/PoolVault.sol";
import {MockOperatorRegistry, NoReceiveCaller, ReentrantCaller} from "../mocks/RewardsExitsMocks.sol";
import {Eip7002Setup} from "./Eip7002.t.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice The enforcer with a mock registry, the real WithdrawalVault and the EIP-7002 mock.
abstract contract ExitEnforcerBase is Eip7002Setup {
    ExitEnforcer internal enforcer;
    WithdrawalVault internal vault;
    MockOperatorRegistry internal registry;
    address internal admin = makeAddr("timelock");
    address internal pool = makeAddr("pool");
    address internal manager = makeAddr("manager");
    address internal keeper = makeAddr("keeper");

    uint256 internal constant OP = 3;
    uint256 internal constant KEY = 5;
    uint256 internal deadline;

    function setUp() public virtual {
        vm.warp(1_000_000);
        _installMock();
        registry = new MockOperatorRegistry();
        vault = WithdrawalVault(
            payable(address(
                    new ERC1967Proxy(
                        address(new WithdrawalVault()), abi.encodeCall(PoolVault.initialize, (admin, pool))
                    )
                ))
        );
        enforcer = _deployEnforcer(address(registry), address(vault));
        vm.prank(admin);
        vault.setExitEnforcer(address(enforcer));

        registry.setOperator(OP, manager);
        registry.setKey(OP, KEY, _pubkey(KEY), IOperatorRegistry.KeyStatus.Deposited);
        registry.setKey(OP, KEY + 1, _pubkey(KEY + 1), IOperatorRegistry.KeyStatus.Deposited);
        deadline = block.timestamp + 4 days;
        registry.setExitDeadline(OP, KEY, deadline);
        registry.setExitDeadline(OP, KEY + 1, deadline);
        vm.deal(keeper, 10 ether);
        vm.deal(address(vault), 64 ether); // withdrawn ETH waiting for the pool: must stay untouched
    }

    function _deployEnforcer(address registry_, address vault_) internal returns (ExitEnforcer e) {
        e = ExitEnforcer(
            address(
                new ERC1967Proxy(
                    address(new ExitEnforcer()),
                    abi.encodeCall(ExitEnforcer.initialize, (admin, registry_, vault_))
                )
            )
        );
    }

    function _pastDeadline() internal {
        vm.warp(deadline + 1);
    }
}

contract ExitEnforcerTest is ExitEnforcerBase {
    // ------------------------------------------------------------------ initialize
    function test_initialize_SetsState() public view {
        vm.assertEq(enforcer.registry(), address(registry), "registry");
        vm.assertEq(enforcer.withdrawalVault(), address(vault), "vault");
        vm.assertTrue(enforcer.hasRole(enforcer.DEFAULT_ADMIN_ROLE(), admin), "admin");
    }

    function test_initialize_RevertWhen_ZeroRegistry() public {
        address impl = address(new ExitEnforcer());
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(impl, abi.encodeCall(ExitEnforcer.initialize, (admin, address(0), address(vault))));
    }

    function test_initialize_RevertWhen_ZeroVault() public {
        address impl = address(new ExitEnforcer());
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        new ERC1967Proxy(
            impl, abi.encodeCall(ExitEnforcer.initialize, (admin, address(registry), address(0)))
        );
    }

    function test_initialize_RevertWhen_Twice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        enforcer.initialize(admin, address(registry), address(vault));
    }

    // ------------------------------------------------------------------ enforceExit
    function test_enforceExit_SendsFullExitFromVault() public {
        _pastDeadline();
        bytes memory pk = _pubkey(KEY);
        uint256 vaultBefore = address(vault).balance;
        vm.expectEmit(address(enforcer));
        emit IExitEnforcer.ExitEnforced(OP, KEY, pk, keeper, 1, deadline, 1);
        vm.expectEmit(address(vault));
        emit IWithdrawalVault.WithdrawalRequestAdded(pk, 1);
        vm.recordLogs();
        vm.prank(keeper);
        uint256 fee = enforcer.enforceExit{value: 1}(OP, KEY);
        vm.assertEq(fee, 1, "fee");
        vm.assertEq(
            _lastRequestLog(vm.getRecordedLogs()),
            abi.encodePacked(address(vault), pk, uint64(0)),
            "source is the withdrawal-credential address, full exit"
        );
        vm.assertEq(_queueTail(), 1, "queued");
        vm.assertEq(SYSTEM.balance, 1, "fee paid to the system contract");
        vm.assertEq(address(vault).balance, vaultBefore, "vault ETH untouched");
        vm.assertEq(enforcer.missedExits(OP), 1, "missed-exit counter");
        vm.assertEq(enforcer.enforcedDeadline(OP, KEY), deadline, "recorded");
        vm.assertEq(address(enforcer).balance, 0, "enforcer keeps nothing");
    }

    function test_enforceExit_RefundsExcess() public {
        _pastDeadline();
        _setExcess(34); // fee 7
        vm.assertEq(enforcer.exitFee(), 7, "quote");
        vm.prank(keeper);
        enforcer.enforceExit{value: 1 ether}(OP, KEY);
        vm.assertEq(keeper.balance, 10 ether - 7, "paid exactly the fee");
        vm.assertEq(SYSTEM.balance, 7, "system got the fee");
        vm.assertEq(address(enforcer).balance, 0, "enforcer keeps nothing");
    }

    function test_enforceExit_FeeRoseAfterQuoteWithinMargin() public {
        _pastDeadline();
        uint256 quoted = enforcer.exitFee(); // 1
        _setExcess(34); // other requests in the block before ours: fee 7
        vm.prank(keeper);
        uint256 fee = enforcer.enforceExit{value: quoted * 10}(OP, KEY);
        vm.assertEq(fee, 7, "current fee charged");
        vm.assertEq(keeper.balance, 10 ether - 7, "margin refunded");
    }

    function test_enforceExit_RevertWhen_FeeRoseAboveSent() public {
        _pastDeadline();
        uint256 quoted = enforcer.exitFee();
        _setExcess(100); // fee 357
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.InsufficientFee.selector, quoted, 357));
        vm.prank(keeper);
        enforcer.enforceExit{value: quoted}(OP, KEY);
        vm.assertEq(enforcer.missedExits(OP), 0, "nothing recorded");
    }

    function test_enforceExit_RevertWhen_NoExitRequest() public {
        _pastDeadline();
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.NoPendingExitRequest.selector, OP, 9));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, 9);
    }

    function test_enforceExit_RevertWhen_ExitAlreadyReported() public {
        _pastDeadline();
        registry.setExitDeadline(OP, KEY, 0); // the oracle saw the exit and cleared the request
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.NoPendingExitRequest.selector, OP, KEY));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_DeadlineNotPassed() public {
        vm.warp(deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IExitEnforcer.ExitDeadlineNotPassed.selector, OP, KEY, deadline)
        );
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_AlreadyEnforced() public {
        _pastDeadline();
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.ExitAlreadyEnforced.selector, OP, KEY, deadline));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
        vm.assertEq(enforcer.missedExits(OP), 1, "counted once");
    }

    function test_enforceExit_RenewedRequestCanBeEnforcedAgain() public {
        _pastDeadline();
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
        // the CL dropped the request (e.g. the validator was too young); the oracle renews it
        uint256 renewed = block.timestamp + 4 days;
        registry.setExitDeadline(OP, KEY, renewed);
        vm.warp(renewed + 1);
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
        vm.assertEq(enforcer.missedExits(OP), 2, "second miss counted");
        vm.assertEq(enforcer.enforcedDeadline(OP, KEY), renewed, "latest");
    }

    function test_enforceExit_RevertWhen_KeyNotDeposited() public {
        _pastDeadline();
        IOperatorRegistry.KeyStatus[3] memory bad = [
            IOperatorRegistry.KeyStatus.FrontRun,
            IOperatorRegistry.KeyStatus.Confirmed,
            IOperatorRegistry.KeyStatus.PreDeposited
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            registry.setKey(OP, KEY, _pubkey(KEY), bad[i]);
            vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.KeyNotDeposited.selector, OP, KEY));
            vm.prank(keeper);
            enforcer.enforceExit{value: 1}(OP, KEY);
        }
    }

    function test_enforceExit_RevertWhen_NoSystemContract() public {
        _pastDeadline();
        vm.etch(SYSTEM, "");
        vm.expectRevert(IEip7002.Eip7002FeeReadFailed.selector);
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_InhibitorActive() public {
        _pastDeadline();
        _setExcess(type(uint256).max);
        vm.expectRevert(IEip7002.Eip7002FeeReadFailed.selector);
        vm.prank(keeper);
        enforcer.enforceExit{value: 1 ether}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_BadPubkeyLength() public {
        _pastDeadline();
        registry.setKey(OP, KEY, new bytes(47), IOperatorRegistry.KeyStatus.Deposited);
        vm.expectRevert(abi.encodeWithSelector(IEip7002.Eip7002InvalidPubkeyLength.selector, 47));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_VaultNotWiredToEnforcer() public {
        ExitEnforcer other = _deployEnforcer(address(registry), address(vault));
        _pastDeadline();
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, address(other), address(enforcer))
        );
        vm.prank(keeper);
        other.enforceExit{value: 1}(OP, KEY);
    }

    function test_enforceExit_RevertWhen_RefundFails() public {
        _pastDeadline();
        NoReceiveCaller caller = new NoReceiveCaller();
        vm.deal(address(caller), 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IExitEnforcer.RefundFailed.selector, address(caller), 1 ether - 1)
        );
        vm.prank(address(caller));
        enforcer.enforceExit{value: 1 ether}(OP, KEY);
        // the exact fee needs no refund
        caller.enforce{value: 1}(enforcer, OP, KEY);
        vm.assertEq(enforcer.missedExits(OP), 1, "enforced with the exact fee");
    }

    function test_enforceExit_RevertWhen_ReentrantCaller() public {
        _pastDeadline();
        ReentrantCaller attacker = new ReentrantCaller(enforcer);
        vm.deal(address(attacker), 1 ether);
        vm.prank(address(attacker));
        attacker.attack{value: 1 ether}(OP, KEY, OP, KEY + 1);
        vm.assertTrue(attacker.reentered(), "refund reached the attacker");
        vm.assertFalse(attacker.reentrySucceeded(), "re-entry failed");
        vm.assertEq(
            attacker.reentryError(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "guard error"
        );
        vm.assertEq(enforcer.missedExits(OP), 1, "one enforcement");
        vm.assertEq(enforcer.enforcedDeadline(OP, KEY + 1), 0, "second key untouched");
        vm.assertEq(_queueTail(), 1, "one request queued");
        // the second key can still be enforced in its own call
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(OP, KEY + 1);
        vm.assertEq(enforcer.missedExits(OP), 2, "then enforced normally");
    }

    // ------------------------------------------------------------------ requestVoluntaryExit
    function test_requestVoluntaryExit_Emits() public {
        vm.expectEmit(address(enforcer));
        emit IExitEnforcer.VoluntaryExitRequested(OP, KEY, _pubkey(KEY));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(OP, KEY);
        vm.assertTrue(enforcer.voluntaryExitRequested(OP, KEY), "recorded");
        vm.assertEq(address(vault).balance, 64 ether, "no funds moved");
    }

    function test_requestVoluntaryExit_RevertWhen_NotManager() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, OP, keeper));
        vm.prank(keeper);
        enforcer.requestVoluntaryExit(OP, KEY);
    }

    function test_requestVoluntaryExit_RevertWhen_UnknownOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, 77));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(77, KEY);
    }

    function test_requestVoluntaryExit_RevertWhen_KeyNotDeposited() public {
        registry.setKey(OP, KEY, _pubkey(KEY), IOperatorRegistry.KeyStatus.Confirmed);
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.KeyNotDeposited.selector, OP, KEY));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(OP, KEY);
    }

    function test_requestVoluntaryExit_RevertWhen_AlreadyRequested() public {
        vm.prank(manager);
        enforcer.requestVoluntaryExit(OP, KEY);
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.VoluntaryExitAlreadyRequested.selector, OP, KEY));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(OP, KEY);
    }

    // ------------------------------------------------------------------ upgrade
    function test_upgrade_RevertWhen_NotAdmin() public {
        address impl = address(new ExitEnforcer());
        bytes32 role = enforcer.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, role)
        );
        vm.prank(keeper);
        enforcer.upgradeToAndCall(impl, "");
    }
}

/// @notice The vault hook on its own.
contract WithdrawalVaultExitTest is ExitEnforcerBase {
    function test_setExitEnforcer_StoresAndEmits() public {
        address next = address(_deployEnforcer(address(registry), address(vault)));
        vm.expectEmit(address(vault));
        emit IWithdrawalVault.ExitEnforcerSet(next);
        vm.prank(admin);
        vault.setExitEnforcer(next);
        vm.assertEq(vault.exitEnforcer(), next, "stored");
    }

    function test_setExitEnforcer_RevertWhen_NotAdmin() public {
        bytes32 role = vault.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, role)
        );
        vm.prank(keeper);
        vault.setExitEnforcer(keeper);
    }

    function test_setExitEnforcer_RevertWhen_Zero() public {
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        vm.prank(admin);
        vault.setExitEnforcer(address(0));
    }

    function test_setExitEnforcer_RevertWhen_NoCode() public {
        // an EOA as enforcer could send exit requests for any validator without a report
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalVault.InvalidExitEnforcer.selector, eoa));
        vm.prank(admin);
        vault.setExitEnforcer(eoa);
    }

    function test_setExitEnforcer_RevertWhen_EnforcerOfAnotherVault() public {
        address other = address(_deployEnforcer(address(registry), makeAddr("otherVault")));
        vm.expectRevert(abi.encodeWithSelector(IWithdrawalVault.InvalidExitEnforcer.selector, other));
        vm.prank(admin);
        vault.setExitEnforcer(other);
    }

    function test_addWithdrawalRequest_RevertWhen_NotEnforcer() public {
        bytes memory pk = _pubkey(KEY);
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, keeper, address(enforcer))
        );
        vm.prank(keeper);
        vault.addWithdrawalRequest{value: 1}(pk);
    }

    function test_addWithdrawalRequest_RevertWhen_AdminCalls() public {
        bytes memory pk = _pubkey(KEY);
        vm.deal(admin, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, admin, address(enforcer))
        );
        vm.prank(admin);
        vault.addWithdrawalRequest{value: 1}(pk);
    }

    function test_addWithdrawalRequest_RevertWhen_FeeBelowSystemFee() public {
        _setExcess(34); // fee 7
        bytes memory pk = _pubkey(KEY);
        vm.deal(address(enforcer), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IEip7002.Eip7002RequestFailed.selector, pk, 6));
        vm.prank(address(enforcer));
        vault.addWithdrawalRequest{value: 6}(pk);
        vm.assertEq(address(vault).balance, 64 ether, "vault ETH never tops up a fee");
    }

    function test_addWithdrawalRequest_UsesOnlyMsgValue() public {
        bytes memory pk = _pubkey(KEY);
        vm.deal(address(enforcer), 1 ether);
        vm.prank(address(enforcer));
        vault.addWithdrawalRequest{value: 1}(pk);
        vm.assertEq(address(vault).balance, 64 ether, "vault ETH untouched");
        vm.assertEq(SYSTEM.balance, 1, "fee from msg.value");
    }
}
