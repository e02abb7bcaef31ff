// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice Gas of depositBuffered: 10 pre-deposits, then 10 top-ups after a confirming report.
contract DepositSecurityGasTest is OperatorsSystemFixture {
    DepositSecurity internal ds;

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        _deposit(alice, 1000 ether);
        vm.startPrank(tl);
        ds.grantRole(ds.CURATOR_ROLE(), tl);
        // no per-operator share cap, so one call can place all 10 keys on a fresh pool
        ops.allocator.setOperatorCap(10_000, type(uint64).max);
        ops.allocator.setTargets([uint16(10_000), 0, 0, 0]);
        vm.stopPrank();
        for (uint256 i; i < 2; ++i) {
            address m = makeAddr(string.concat("pro", vm.toString(i)));
            uint256 id = _admit(IOperatorRegistry.OperatorType.Professional, m);
            _addAndVet(id, m, 1000 * (i + 1), 20);
            vm.deal(m, 20 ether);
            vm.prank(m);
            bonds.depositBond{value: 20 ether}(id);
            vm.prank(tl);
            ds.addOperator(uint64(id));
        }
    }

    function test_gas_depositBuffered10PreDeposits() public {
        (, uint256 pre) = ds.depositBuffered(10);
        uint256 g = vm.snapshotGasLastCall("depositBuffered: 10 pre-deposits over 2 operators");
        vm.assertEq(pre, 10, "ten keys");
        vm.snapshotValue("depositBuffered per pre-deposited key (10)", g / pre);
    }

    function test_gas_depositBuffered10TopUps() public {
        ds.depositBuffered(10);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.preDeposits = new IOperatorsReport.PreDepositResult[](10);
        uint256 k;
        uint64[] memory list = ds.operators();
        for (uint256 i; i < list.length; ++i) {
            uint256 n = registry.getOperator(list[i]).preDeposited;
            for (uint256 j; j < n; ++j) {
                o.preDeposits[k++] = IOperatorsReport.PreDepositResult(list[i], uint64(j), true);
            }
        }
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
        (uint256 up,) = ds.depositBuffered(10);
        uint256 g = vm.snapshotGasLastCall("depositBuffered: 10 top-ups over 2 operators");
        vm.assertEq(up, 10, "ten top-ups");
        vm.snapshotValue("depositBuffered per topped-up key (10)", g / up);
    }
}
