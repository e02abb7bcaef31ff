// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Deploy} from "../../script/Deploy.s.sol";
import {RewardsExitsDeployer} from "../../script/RewardsExitsDeployer.sol";
import {SystemDeployer} from "../../script/SystemDeployer.sol";
import {TestBase} from "../utils/TestBase.sol";

/// @notice Runs script/Deploy.s.sol itself on a non-devnet chain id (two-day timelock): the
/// OperatorRewards / ExitEnforcer wiring is only scheduled at deploy time, and takes effect when
/// anyone executes the timelock batch after the delay.
contract DeployScriptTest is TestBase {
    uint256 internal constant ANVIL_KEY_0 =
        0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;

    Deploy.Deployed internal d;

    function setUp() public {
        vm.chainId(4242); // not 31337: production defaults, deployments/4242.json
        vm.warp(1_800_000_000);
        vm.deal(vm.addr(ANVIL_KEY_0), 10 ether);
        d = new Deploy().run();
    }

    function test_run_WiringWaitsForTheTimelockDelay() public {
        _assertWired(d.pub, d.pubRewardsExits, false);
        _assertWired(d.kyc, d.kycRewardsExits, false);

        vm.warp(block.timestamp + 2 days);
        _execute(d.pub, d.pubRewardsExits);
        _execute(d.kyc, d.kycRewardsExits);

        _assertWired(d.pub, d.pubRewardsExits, true);
        _assertWired(d.kyc, d.kycRewardsExits, true);
    }

    function test_run_RewardsAndEnforcerAreOwnedByTheTimelock() public view {
        bytes32 admin = 0x00; // DEFAULT_ADMIN_ROLE
        address tl = address(d.pub.timelock);
        vm.assertTrue(d.pubRewardsExits.rewards.hasRole(admin, tl), "rewards admin");
        vm.assertTrue(d.pubRewardsExits.enforcer.hasRole(admin, tl), "enforcer admin");
        vm.assertTrue(d.kycRewardsExits.rewards.hasRole(admin, tl), "kyc rewards admin");
    }

    function _execute(SystemDeployer.System memory, RewardsExitsDeployer.RewardsExits memory r) internal {
        d.pub.timelock.executeBatch(r.targets, r.values, r.payloads, bytes32(0), r.salt);
    }

    function _assertWired(
        SystemDeployer.System memory s,
        RewardsExitsDeployer.RewardsExits memory r,
        bool wired
    ) internal view {
        bool fee = s.pool.feeRecipients().operatorRewards == address(r.rewards);
        bool vault = s.withdrawalVault.exitEnforcer() == address(r.enforcer);
        bool module = s.ops.module.operatorRewards() == address(r.rewards);
        vm.assertEq(fee, wired, "fee recipient");
        vm.assertEq(vault, wired, "vault exit enforcer");
        vm.assertEq(module, wired, "module rewards");
    }
}
