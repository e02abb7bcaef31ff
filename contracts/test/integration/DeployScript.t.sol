// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Deploy} from "../../script/Deploy.s.sol";
import {RewardsExitsDeployer} from "../../script/RewardsExitsDeployer.sol";
import {SystemDeployer} from "../../script/SystemDeployer.sol";
import {TestBase} from "../utils/TestBase.sol";

/// @notice Runs script/Deploy.s.sol itself on a non-devnet chain id (two-day timelock), with every
/// security-relevant account given explicitly: the OperatorRewards / ExitEnforcer wiring is only
/// scheduled at deploy time, and takes effect when anyone executes the timelock batch after the
/// delay. Off a devnet the script refuses missing accounts and accounts of anvil's mnemonic.
contract DeployScriptTest is TestBase {
    uint256 internal constant ANVIL_KEY_0 =
        0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

    Deploy.Deployed internal d;
    Deploy.Inputs internal inp;

    function setUp() public {
        vm.chainId(4242); // not a devnet: production defaults, deployments/4242.json
        vm.warp(1_800_000_000);
        inp = _explicitInputs();
        vm.deal(vm.addr(inp.deployerKey), 10 ether);
        d = new Deploy().deploy(inp);
    }

    function _explicitInputs() internal returns (Deploy.Inputs memory x) {
        (, x.deployerKey) = makeAccount("deployer");
        x.guardian = makeAddr("guardian");
        x.oracleMembers = new address[](3);
        x.kycOracleMembers = new address[](3);
        for (uint256 i; i < 3; ++i) {
            x.oracleMembers[i] = makeAddr(string.concat("member", vm.toString(i)));
            x.kycOracleMembers[i] = makeAddr(string.concat("kycMember", vm.toString(i)));
        }
        x.oracleQuorum = 2;
        x.kycOracleQuorum = 2;
        x.treasury = makeAddr("treasury");
        x.operatorRewards = makeAddr("operatorRewards");
        x.timelockProposer = makeAddr("proposer");
    }

    function _anvil(uint32 index) internal pure returns (address) {
        return vm.addr(vm.deriveKey(ANVIL_MNEMONIC, index));
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

    function test_run_UsesTheGivenAccounts() public view {
        address[] memory kyc = d.kyc.oracle.getMembers();
        address[] memory pub = d.pub.oracle.getMembers();
        vm.assertEq(kyc.length, 3, "three KYC members");
        vm.assertEq(pub.length, 3, "three public members");
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(kyc[i], inp.kycOracleMembers[i], "KYC member");
            vm.assertEq(pub[i], inp.oracleMembers[i], "public member");
            vm.assertFalse(d.pub.oracle.isMember(kyc[i]), "not a public-pool member");
            vm.assertFalse(d.kyc.oracle.isMember(pub[i]), "public members are not KYC members");
        }
        vm.assertEq(d.kyc.oracle.quorum(), 2, "KYC quorum");
        bytes32 guardianRole = d.pub.pool.GUARDIAN_ROLE();
        vm.assertTrue(d.pub.pool.hasRole(guardianRole, inp.guardian), "guardian");
        vm.assertTrue(d.kyc.pool.hasRole(guardianRole, inp.guardian), "KYC guardian");
        vm.assertEq(d.pub.pool.feeRecipients().treasury, inp.treasury, "treasury");
        vm.assertEq(d.pub.pool.feeRecipients().insuranceFund, address(d.pub.ops.fund), "insurance fund");
        bytes32 proposer = d.pub.timelock.PROPOSER_ROLE();
        vm.assertTrue(d.pub.timelock.hasRole(proposer, inp.timelockProposer), "proposer");
        vm.assertFalse(d.pub.timelock.hasRole(proposer, vm.addr(inp.deployerKey)), "deployer renounced");
        bytes32 canceller = d.pub.timelock.CANCELLER_ROLE();
        vm.assertFalse(
            d.pub.timelock.hasRole(canceller, vm.addr(inp.deployerKey)), "deployer cancels nothing"
        );
        vm.assertTrue(d.pub.timelock.hasRole(canceller, inp.timelockProposer), "proposer cancels");
        vm.assertFalse(d.pub.timelock.hasRole(proposer, vm.addr(ANVIL_KEY_0)), "anvil #0 proposes nothing");
    }

    /// Off a devnet nothing defaults: the script names every missing variable.
    function test_run_RevertWhen_AccountsMissingOffDevnet() public {
        Deploy script = new Deploy();
        vm.expectRevert(
            abi.encodeWithSelector(
                Deploy.MissingDeployEnv.selector,
                "DEPLOYER_PRIVATE_KEY,GUARDIAN,ORACLE_MEMBERS,KYC_ORACLE_MEMBERS,TREASURY,OPERATOR_REWARDS,"
                "TIMELOCK_PROPOSER"
            )
        );
        script.run();
    }

    /// Off a devnet no account may come from anvil's public mnemonic (anyone could sign reports,
    /// pause, propose upgrades or take the fees), whichever variable names it.
    function test_deploy_RevertWhen_AnvilAccountOffDevnet() public {
        Deploy script = new Deploy();
        _expectRefused(script, 0, _anvil(3), "ORACLE_MEMBERS");
        _expectRefused(script, 1, _anvil(11), "KYC_ORACLE_MEMBERS");
        _expectRefused(script, 2, _anvil(1), "GUARDIAN");
        _expectRefused(script, 3, _anvil(5), "TREASURY");
        _expectRefused(script, 4, _anvil(6), "OPERATOR_REWARDS");
        _expectRefused(script, 5, _anvil(0), "TIMELOCK_PROPOSER");
        _expectRefused(script, 6, _anvil(29), "INSURANCE_FUND");
        _expectRefused(script, 7, _anvil(12), "KYC_PROVIDER");
        Deploy.Inputs memory x = _explicitInputs();
        x.deployerKey = ANVIL_KEY_0;
        vm.expectRevert(
            abi.encodeWithSelector(
                Deploy.AnvilAccountOffDevnet.selector, "DEPLOYER_PRIVATE_KEY", vm.addr(ANVIL_KEY_0)
            )
        );
        script.deploy(x);
    }

    function _expectRefused(Deploy script, uint256 field, address account, string memory variable) internal {
        Deploy.Inputs memory x = _explicitInputs();
        if (field == 0) x.oracleMembers[1] = account;
        else if (field == 1) x.kycOracleMembers[2] = account;
        else if (field == 2) x.guardian = account;
        else if (field == 3) x.treasury = account;
        else if (field == 4) x.operatorRewards = account;
        else if (field == 5) x.timelockProposer = account;
        else if (field == 6) x.insuranceFund = account;
        else x.kycProvider = account;
        vm.expectRevert(abi.encodeWithSelector(Deploy.AnvilAccountOffDevnet.selector, variable, account));
        script.deploy(x);
    }

    function test_run_WritesEveryPoolsAddressesAndMembers() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/deployments/4242.json"));
        address[] memory kyc = vm.parseJsonAddressArray(json, ".kycOracleMembers");
        address[] memory pub = vm.parseJsonAddressArray(json, ".oracleMembers");
        vm.assertEq(kyc.length, 3, "kycOracleMembers");
        vm.assertEq(kyc[0], d.kyc.oracle.getMembers()[0], "first KYC member");
        vm.assertEq(pub[0], d.pub.oracle.getMembers()[0], "first public member");
        vm.assertEq(kyc[0], inp.kycOracleMembers[0], "the given KYC member");
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

/// @notice On a devnet chain (here 3,133,790: a 31337NN id, so the devnet's own deployments/31337.json
/// is left alone) the script runs without any environment, with anvil's accounts, as the Rust
/// devnet and the CLI tests use it.
contract DeployScriptDevnetTest is TestBase {
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

    Deploy.Deployed internal d;

    function setUp() public {
        vm.chainId(3_133_790);
        vm.warp(1_800_000_000);
        vm.deal(_anvil(0), 10_000 ether);
        d = new Deploy().run();
    }

    function _anvil(uint32 index) internal pure returns (address) {
        return vm.addr(vm.deriveKey(ANVIL_MNEMONIC, index));
    }

    function test_run_DevnetDefaultsAreAnvilAccounts() public view {
        address[] memory pub = d.pub.oracle.getMembers();
        address[] memory kyc = d.kyc.oracle.getMembers();
        vm.assertEq(pub.length, 3, "three public members");
        vm.assertEq(kyc.length, 3, "three KYC members");
        for (uint32 i; i < 3; ++i) {
            vm.assertEq(pub[i], _anvil(2 + i), "public member: anvil #2-#4");
            vm.assertEq(kyc[i], _anvil(10 + i), "KYC member: anvil mnemonic 10-12");
            vm.assertEq(kyc[i].balance, 100 ether, "KYC member funded");
        }
        vm.assertEq(d.pub.oracle.quorum(), 2, "quorum");
        vm.assertEq(d.kyc.oracle.quorum(), 2, "KYC quorum");
        vm.assertTrue(d.pub.pool.hasRole(d.pub.pool.GUARDIAN_ROLE(), _anvil(1)), "guardian anvil #1");
        vm.assertEq(d.pub.pool.feeRecipients().treasury, _anvil(5), "treasury anvil #5");
        vm.assertTrue(d.pub.timelock.hasRole(d.pub.timelock.PROPOSER_ROLE(), _anvil(0)), "proposer: deployer");
        vm.assertEq(d.pub.timelock.getMinDelay(), 0, "no delay on a devnet");
        vm.assertTrue(
            d.registry.hasRole(d.registry.KYC_PROVIDER_ROLE(), _anvil(0)), "KYC provider: the deployer"
        );
    }
}
