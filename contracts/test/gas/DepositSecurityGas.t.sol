// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice Gas of depositBuffered on a fresh pool (the Allocator caps how many keys a new operator gets per call).
contract DepositSecurityGasTest is OperatorsSystemFixture {
    DepositSecurity internal ds;

    function setUp() public override {
        super.setUp();
        ds = ops.depositSecurity;
        _deposit(alice, 1000 ether);
        vm.startPrank(tl);
        ds.grantRole(ds.CURATOR_ROLE(), tl);
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
        uint256 g =
            vm.snapshotGasLastCall("depositBuffered (maxKeys 10, 2 Professional operators, fresh pool)");
        vm.assertGt(pre, 0, "keys pre-deposited");
        vm.snapshotValue("depositBuffered per pre-deposited key", g / pre);
    }
}
