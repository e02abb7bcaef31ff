// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SystemDeployer} from "../../script/SystemDeployer.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {TestBase} from "../utils/TestBase.sol";

/// @notice With no insurance-fund address configured, the deployment makes the pool's
/// InsuranceFund contract the recipient of the insurance fee (DESIGN.md), and the operator
/// contracts are wired: cover providers, operators module, deposit module.
contract InsuranceFeeDeployTest is TestBase, SystemDeployer {
    function test_deploySystem_InsuranceFundContractReceivesTheFee() public {
        vm.warp(1_700_000_000);
        address[] memory members = new address[](1);
        members[0] = makeAddr("member");
        address[] memory proposers = new address[](1);
        proposers[0] = address(this);
        address[] memory executors = new address[](1);
        Config memory c = Config({
            guardian: makeAddr("guardian"),
            oracleMembers: members,
            quorum: 1,
            frame: IOracleReport.FrameConfig(1_606_824_023, 12, 32, 225),
            initialRefSlot: 0,
            timelockDelay: 2 days,
            proposers: proposers,
            executors: executors,
            treasury: makeAddr("treasury"),
            operatorRewards: makeAddr("operatorRewards"),
            insuranceFund: address(0),
            seed: 1e15,
            minDeposit: 1e15,
            dailyStakeLimit: 1000 ether,
            depositContract: address(0)
        });
        vm.deal(address(this), 1 ether);
        System memory s = _deploySystem(c, address(this));
        IStakePool.FeeRecipients memory r = s.pool.feeRecipients();
        vm.assertEq(r.insuranceFund, address(s.ops.fund), "insurance fee to the InsuranceFund contract");
        vm.assertEq(r.treasury, c.treasury, "treasury unchanged");
        vm.assertTrue(s.pool.isCoverProvider(address(s.ops.bonds)), "bonds cover provider");
        vm.assertTrue(s.pool.isCoverProvider(address(s.ops.vfp)), "vfp cover provider");
        vm.assertTrue(s.pool.isCoverProvider(address(s.ops.fund)), "fund cover provider");
        vm.assertEq(s.oracle.operatorsModule(), address(s.ops.module), "operators module");
        vm.assertEq(s.pool.depositModule(), address(s.ops.depositSecurity), "deposit module");
        vm.assertFalse(s.pool.hasRole(s.pool.DEFAULT_ADMIN_ROLE(), address(this)), "deployer renounced");
        vm.assertFalse(s.ops.registry.hasRole(s.ops.registry.DEFAULT_ADMIN_ROLE(), address(this)), "registry");
        vm.assertFalse(s.ops.bonds.hasRole(s.ops.bonds.DEFAULT_ADMIN_ROLE(), address(this)), "bonds");
        vm.assertTrue(
            s.ops.registry.hasRole(s.ops.registry.REPORTER_ROLE(), address(s.ops.module)), "reporter"
        );
        vm.assertTrue(
            s.ops.registry.hasRole(s.ops.registry.DEPOSITOR_ROLE(), address(s.ops.depositSecurity)),
            "depositor"
        );
    }
}
