// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {DepositFlowHandler} from "./handlers/DepositFlowHandler.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Deposit-flow invariants (issue 3, DESIGN.md invariants 1 and 5) on the real system,
/// re-checked after every call of a random sequence. The KYC variant below runs the same handler
/// against a DepositSecurity with the KYC pool's type mask (issue 4).
contract DepositFlowInvariantTest is OperatorsSystemFixture {
    DepositFlowHandler internal handler;
    DepositSecurity internal ds;

    function _mask() internal pure virtual returns (uint8) {
        return 0x0f;
    }

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        if (_mask() != ds.operatorTypeMask()) {
            ds = DepositSecurity(
                payable(address(
                        new ERC1967Proxy(
                            address(new DepositSecurity()),
                            abi.encodeCall(
                                DepositSecurity.initialize,
                                (
                                    tl,
                                    guardian,
                                    address(pool),
                                    address(registry),
                                    address(ops.allocator),
                                    depositContract,
                                    address(wVault),
                                    _mask()
                                )
                            )
                        )
                    ))
            );
            vm.startPrank(tl);
            pool.setDepositModule(address(ds));
            registry.grantRole(registry.DEPOSITOR_ROLE(), address(ds));
            vm.stopPrank();
        }
        vm.startPrank(tl);
        ds.grantRole(ds.CURATOR_ROLE(), tl);
        vm.stopPrank();
        _deposit(alice, 100 ether); // before the handler: its ledger starts from the pool as it is
        handler = new DepositFlowHandler(
            DepositFlowHandler.Sys({
                pool: pool,
                queue: queue,
                oracle: oracle,
                registry: registry,
                bonds: bonds,
                fund: fund,
                ds: ds,
                access: access,
                timelock: tl,
                kycProvider: kycProvider,
                vetter: vetter
            }),
            _quorumKeys()
        );
        targetContract(address(handler));
    }

    /// The handler really drives the flow (so the invariants are not vacuous): pre-deposits,
    /// confirmations, top-ups and front-runs all happen in a short fixed sequence.
    function test_handler_ExercisesTheFlow() public {
        handler.stake(0, 100 ether);
        handler.stake(1, 100 ether);
        for (uint256 i; i < 6; ++i) {
            handler.addOperator(i);
        }
        uint256 frontRun;
        uint256 deposited;
        for (uint256 round; round < 6; ++round) {
            handler.depositBuffered(20);
            handler.report(round + 7, 1);
        }
        handler.depositBuffered(20);
        for (uint256 i; i < handler.operatorCount(); ++i) {
            IOperatorRegistry.OperatorInfo memory op = registry.getOperator(handler.operatorIds(i));
            frontRun += op.frontRun;
            deposited += op.deposited;
        }
        vm.assertGt(deposited, 0, "top-ups happened");
        if (_mask() == 0x0f) vm.assertGt(handler.ghostFrontRunsBooked(), 0, "front-run losses booked");
        vm.assertGt(pool.clBalance(), 0, "deposits reached the CL");
        invariant_pooledEtherExact();
        vm.assertGt(pool.depositedEther(), deposited * 32 ether - 1, "pre-deposits and top-ups");
        if (_mask() == 0x0f) vm.assertGt(frontRun, 0, "front-runs happened");
        invariant_depositsMatchKeyLifecycle();
    }

    /// No staker ETH reaches a key before its pre-deposit is confirmed: every wei the pool sent to
    /// the consensus layer is 1 ETH per pre-deposited key plus 31 ETH per topped-up (confirmed,
    /// not front-run) key, and it all sits in the deposit contract.
    function invariant_depositsMatchKeyLifecycle() public view {
        uint256 expected;
        uint256 n = handler.operatorCount();
        for (uint256 i; i < n; ++i) {
            IOperatorRegistry.OperatorInfo memory op = registry.getOperator(handler.operatorIds(i));
            vm.assertLe(op.topUpCursor, op.confirmed, "top-ups only over confirmed keys");
            vm.assertLe(op.confirmed, op.preDeposited, "confirmed only pre-deposited keys");
            expected += uint256(op.preDeposited) * 1 ether + uint256(op.deposited) * 31 ether;
        }
        vm.assertEq(pool.depositedEther(), expected, "deposited ETH = 1 per pre-deposit + 31 per top-up");
        vm.assertEq(depositContract.balance, expected, "all of it in the deposit contract");
        vm.assertEq(address(ds).balance, 0, "the module keeps nothing");
    }

    /// Invariant 1: pooled ETH accounting stays exact, against the handler's own ledger of the ETH
    /// that entered (stakes, bonds) and left (front-run pre-deposits booked as lost), not the
    /// pool's formula; the buffer is exactly the ETH the pool holds (no vault pulls or
    /// finalizations here).
    function invariant_pooledEtherExact() public view {
        vm.assertEq(pool.totalPooledEther(), handler.ghostPooledEther(), "pooled ETH = ETH in - ETH lost");
        vm.assertEq(address(pool).balance, pool.bufferedEther(), "pool holds exactly its buffer");
        vm.assertEq(handler.ghostQueueEtherUsed(), 0, "deposits never took ETH owed to the queue");
    }

    /// Invariant 5: bonds only shrink by reported penalties; the waterfall pays in order.
    function invariant_bondsShrinkOnlyByReports() public view {
        vm.assertEq(handler.ghostBondShrinkOutsideReport(), 0, "bond shrank outside a report");
        vm.assertEq(handler.ghostWaterfallOutOfOrder(), 0, "insurance paid before the bond was empty");
    }

    /// Issue 4: deposits reach only allowed types, and never a Kyc operator whose manager is not attested.
    function invariant_ringfence() public view {
        uint8 mask = ds.operatorTypeMask();
        uint256 n = handler.operatorCount();
        for (uint256 i; i < n; ++i) {
            IOperatorRegistry.OperatorInfo memory op = registry.getOperator(handler.operatorIds(i));
            if ((mask >> uint8(op.operatorType)) & 1 == 0) {
                vm.assertEq(op.preDeposited, 0, "ETH reached an operator outside the pool's policy");
            }
        }
        vm.assertEq(handler.ghostDisallowedAdds(), 0, "a disallowed type joined the deposit set");
        vm.assertEq(handler.ghostUnattestedPreDeposits(), 0, "pre-deposit to an unattested Kyc operator");
    }
}

/// @notice The same invariants with the KYC pool's deposit policy (Kyc operators only).
contract KycDepositFlowInvariantTest is DepositFlowInvariantTest {
    function _mask() internal pure override returns (uint8) {
        return 0x02;
    }
}
