// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IDepositSecurity} from "../../src/interfaces/IDepositSecurity.sol";
import {IOperatorRegistry} from "../../src/interfaces/IOperatorRegistry.sol";
import {DepositSecurity} from "../../src/operators/DepositSecurity.sol";
import {OperatorRegistry} from "../../src/operators/OperatorRegistry.sol";
import {KycDeployTest} from "./KycDeploy.t.sol";

/// @notice KYC ringfencing (#4): the KYC pool's DepositSecurity (type mask = Kyc only) refuses
/// every other operator type, and the public pool's accepts all four.
contract KycDepositSecurityTest is KycDeployTest {
    function test_kycPool_DepositSecurityIsKycOnly() public view {
        vm.assertEq(kyc.ops.depositSecurity.operatorTypeMask(), 0x02, "kyc only");
        vm.assertEq(pub.ops.depositSecurity.operatorTypeMask(), 0x0f, "public: all types");
    }

    function test_addOperator_RevertWhen_KycPoolAndNotKycType() public {
        OperatorRegistry r = kyc.ops.registry;
        address m = makeAddr("pro");
        vm.prank(address(timelock));
        uint256 id = r.admitOperator(IOperatorRegistry.OperatorType.Professional, m, m);
        DepositSecurity ds = kyc.ops.depositSecurity;
        bytes32 curator = ds.CURATOR_ROLE();
        vm.prank(address(timelock));
        ds.grantRole(curator, address(timelock));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDepositSecurity.OperatorTypeNotAllowed.selector,
                id,
                uint8(IOperatorRegistry.OperatorType.Professional)
            )
        );
        vm.prank(address(timelock));
        ds.addOperator(uint64(id));
    }
}
