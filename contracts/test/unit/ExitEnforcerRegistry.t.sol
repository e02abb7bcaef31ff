// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IExitEnforcer} from "../../src/interfaces/IExitEnforcer.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {ExitEnforcer} from "../../src/operators/ExitEnforcer.sol";
import {OperatorRegistry} from "../../src/operators/OperatorRegistry.sol";
import {PoolVault, WithdrawalVault} from "../../src/pool/PoolVault.sol";
import {Eip7002Setup} from "../unit/Eip7002.t.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Bond capacity stand-in: the registry only asks how many keys the bond covers.
contract UnlimitedBonds {
    function freeBondedCapacity(uint256) external pure returns (uint256) {
        return type(uint32).max;
    }
}

/// @notice ExitEnforcer against the real OperatorRegistry: a key goes through the whole deposit
/// lifecycle, gets an exit request from the reporter, and is force-exited past the deadline.
contract ExitEnforcerRegistryTest is Eip7002Setup {
    OperatorRegistry internal registry;
    ExitEnforcer internal enforcer;
    WithdrawalVault internal vault;
    address internal admin = makeAddr("timelock");
    address internal reporter = makeAddr("reporter");
    address internal depositor = makeAddr("depositor");
    address internal manager = makeAddr("manager");
    address internal keeper = makeAddr("keeper");
    uint256 internal operatorId;

    function setUp() public {
        vm.warp(1_000_000);
        _installMock();
        registry = OperatorRegistry(
            address(
                new ERC1967Proxy(
                    address(new OperatorRegistry()),
                    abi.encodeCall(OperatorRegistry.initialize, (admin, address(0)))
                )
            )
        );
        vault = WithdrawalVault(
            payable(address(
                    new ERC1967Proxy(
                        address(new WithdrawalVault()),
                        abi.encodeCall(PoolVault.initialize, (admin, makeAddr("pool")))
                    )
                ))
        );
        enforcer = ExitEnforcer(
            address(
                new ERC1967Proxy(
                    address(new ExitEnforcer()),
                    abi.encodeCall(ExitEnforcer.initialize, (admin, address(registry), address(vault)))
                )
            )
        );
        vm.startPrank(admin);
        vault.setExitEnforcer(address(enforcer));
        registry.setBondManager(address(new UnlimitedBonds()));
        registry.grantRole(registry.REPORTER_ROLE(), reporter);
        registry.grantRole(registry.DEPOSITOR_ROLE(), depositor);
        registry.grantRole(registry.VETTING_ROLE(), admin);
        operatorId = registry.admitOperator(IOperatorRegistry.OperatorType.Professional, manager, manager);
        vm.stopPrank();

        vm.prank(manager);
        registry.addKeys(operatorId, bytes.concat(_pubkey(1), _pubkey(2)), new bytes(192));
        vm.prank(admin);
        registry.setVettedLimit(operatorId, 2);
        vm.prank(depositor);
        registry.markPreDeposited(operatorId, 2);
        vm.prank(reporter);
        registry.confirmPreDeposits(operatorId, 2);
        vm.prank(depositor);
        registry.markDeposited(operatorId, 2);
        vm.deal(keeper, 1 ether);
    }

    function test_enforceExit_RealRegistryLifecycle() public {
        uint256 deadline = block.timestamp + 4 days;
        vm.prank(reporter);
        registry.requestExit(operatorId, 0, deadline);

        vm.expectRevert(
            abi.encodeWithSelector(IExitEnforcer.ExitDeadlineNotPassed.selector, operatorId, 0, deadline)
        );
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 0);

        vm.warp(deadline + 1);
        vm.recordLogs();
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 0);
        vm.assertEq(
            _lastRequestLog(vm.getRecordedLogs()),
            abi.encodePacked(address(vault), _pubkey(1), uint64(0)),
            "the registry's pubkey, from the vault"
        );
        vm.assertEq(enforcer.missedExits(operatorId), 1, "missed exit counted");

        // key 1 has no request
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.NoPendingExitRequest.selector, operatorId, 1));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 1);

        // the oracle sees the exit and clears the request: nothing left to enforce
        vm.prank(reporter);
        registry.clearExitRequest(operatorId, 0);
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.NoPendingExitRequest.selector, operatorId, 0));
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 0);
    }

    function test_enforceExit_OncePerRequestEvenWhenTheOracleRepeatsIt() public {
        uint256 deadline = block.timestamp + 4 days;
        vm.prank(reporter);
        registry.requestExit(operatorId, 0, deadline);
        vm.warp(deadline + 1);
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 0);
        // a later report asks again for the same pending key: the old registry moved the deadline,
        // which opened a second enforcement (and a second missed-exit count) after it
        vm.prank(reporter);
        registry.requestExit(operatorId, 0, block.timestamp + 4 days);
        vm.warp(block.timestamp + 5 days);
        vm.expectRevert(
            abi.encodeWithSelector(IExitEnforcer.ExitAlreadyEnforced.selector, operatorId, 0, deadline)
        );
        vm.prank(keeper);
        enforcer.enforceExit{value: 1}(operatorId, 0);
        vm.assertEq(enforcer.missedExits(operatorId), 1, "counted once");
    }

    function test_requestVoluntaryExit_RealRegistry() public {
        vm.expectEmit(address(enforcer));
        emit IExitEnforcer.VoluntaryExitRequested(operatorId, 1, _pubkey(2));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(operatorId, 1);

        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.NotOperatorManager.selector, operatorId, keeper)
        );
        vm.prank(keeper);
        enforcer.requestVoluntaryExit(operatorId, 0);

        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorNotFound.selector, operatorId + 1));
        vm.prank(manager);
        enforcer.requestVoluntaryExit(operatorId + 1, 0);
    }
}
