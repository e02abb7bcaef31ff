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

    function test_run_KycOracleHasItsOwnMembers() public view {
        address[3] memory want = [
            0xBcd4042DE499D14e55001CcbB24a551F3b954096, // anvil mnemonic accounts 10, 11, 12
            0x71bE63f3384f5fb98995898A86B02Fb2426c5788,
            0xFABB0ac9d68B0B445fB7357272Ff202C5651694a
        ];
        address[] memory kyc = d.kyc.oracle.getMembers();
        address[] memory pub = d.pub.oracle.getMembers();
        vm.assertEq(kyc.length, 3, "three KYC members");
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(kyc[i], want[i], "KYC member");
            vm.assertTrue(d.kyc.oracle.isMember(want[i]), "member of the KYC oracle");
            vm.assertFalse(d.pub.oracle.isMember(want[i]), "not a public-pool member");
            vm.assertFalse(d.kyc.oracle.isMember(pub[i]), "public members are not KYC members");
        }
        vm.assertEq(d.kyc.oracle.quorum(), 2, "KYC quorum");
    }

    function test_run_WritesEveryPoolsAddressesAndMembers() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/deployments/4242.json"));
        address[] memory kyc = vm.parseJsonAddressArray(json, ".kycOracleMembers");
        address[] memory pub = vm.parseJsonAddressArray(json, ".oracleMembers");
        vm.assertEq(kyc.length, 3, "kycOracleMembers");
        vm.assertEq(kyc[0], d.kyc.oracle.getMembers()[0], "first KYC member");
        vm.assertEq(pub[0], d.pub.oracle.getMembers()[0], "first public member");
        vm.assertEq(vm.parseJsonUint(json, ".kycOracleQuorum"), 2, "kycOracleQuorum");
        vm.assertEq(
            vm.parseJsonAddress(json, ".exitEnforcer"), address(d.pubRewardsExits.enforcer), "enforcer"
        );
        vm.assertEq(
            vm.parseJsonAddress(json, ".kycExitEnforcer"), address(d.kycRewardsExits.enforcer), "kyc enforcer"
        );
        vm.assertEq(vm.parseJsonAddress(json, ".vfpPool"), address(d.pub.ops.vfp), "vfp");
        vm.assertEq(vm.parseJsonAddress(json, ".kycVfpPool"), address(d.kyc.ops.vfp), "kyc vfp");
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
        bool vfp = s.ops.vfp.operatorRewards() == address(r.rewards);
        vm.assertEq(fee, wired, "fee recipient");
        vm.assertEq(vfp, wired, "VfpPool rewards");
        vm.assertEq(vault, wired, "vault exit enforcer");
        vm.assertEq(module, wired, "module rewards");
    }
}
