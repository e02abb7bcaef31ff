// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DenylistAccessPolicy, KycAccessPolicy} from "../src/access/AccessPolicies.sol";
import {AccessRegistry} from "../src/access/AccessRegistry.sol";
import {IOracleReport} from "../src/interfaces/IOracleReport.sol";
import {Vm} from "../test/utils/Vm.sol";
import {Console} from "./Console.sol";
import {DevnetKeys} from "./DevnetKeys.sol";
import {RewardsExitsDeployer} from "./RewardsExitsDeployer.sol";
import {SystemDeployer} from "./SystemDeployer.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice Deploys both pools from the same code (UUPS proxies, one TimelockController as the
/// only admin): the public pool (csETH, DenylistAccessPolicy) and the KYC pool (kcsETH,
/// KycAccessPolicy), each with its own queue, vaults and oracle, sharing one AccessRegistry
/// (docs/adr/0003-kyc-pool.md). Writes the addresses to deployments/<chainid>.json.
///
/// Env (all optional; devnet defaults are anvil's default accounts):
///   DEPLOYER_PRIVATE_KEY  broadcaster (anvil #0)
///   GUARDIAN              pause-only role (anvil #1)
///   ORACLE_MEMBERS        public pool's oracle: comma-separated addresses (anvil #2,#3,#4); ORACLE_QUORUM (2)
///   KYC_ORACLE_MEMBERS    KYC pool's oracle, its own members (accounts 10, 11, 12 of anvil's mnemonic,
///                         funded with 100 ETH each on chain 31337); KYC_ORACLE_QUORUM (ORACLE_QUORUM)
///   GENESIS_TIME          CL genesis (devnet: now - one frame, so a report is possible at once)
///   SECONDS_PER_SLOT (1 on devnet, 12 elsewhere), SLOTS_PER_EPOCH (4 / 32), EPOCHS_PER_FRAME (75 / 225)
///   TIMELOCK_DELAY        (0 on chain 31337, 2 days elsewhere); TIMELOCK_PROPOSER (deployer)
///   TREASURY, OPERATOR_REWARDS (anvil #5, #6); INSURANCE_FUND (default: each pool's
///                         InsuranceFund contract)
///   SEED_WEI (1e15), MIN_DEPOSIT_WEI (1e15), DAILY_STAKE_LIMIT_WEI (150,000 ETH)
///   DEPOSIT_CONTRACT      (mainnet: the official one; other chains: deploys the test-only one)
///   KYC_PROVIDER          KYC provider granted on the AccessRegistry (devnet: the deployer, which
///                         also attests the fee recipients so the KYC pool can mint them fees)
///   KYC_MIN_TIER          lowest tier the KYC pool accepts (1)
contract Deploy is SystemDeployer, RewardsExitsDeployer, DevnetKeys {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant MAINNET_DEPOSIT_CONTRACT = 0x00000000219ab540356cBB839Cbe05303d7705Fa;
    /// @dev anvil's default mnemonic; its accounts 10.. are not prefunded by anvil
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
    /// @dev ETH a devnet-default KYC oracle member receives for gas
    uint256 internal constant DEVNET_MEMBER_FUNDING = 100 ether;

    struct Deployed {
        System pub;
        System kyc;
        AccessRegistry registry;
        DenylistAccessPolicy publicPolicy;
        KycAccessPolicy kycPolicy;
        RewardsExits pubRewardsExits;
        RewardsExits kycRewardsExits;
        address[] kycOracleMembers;
        uint256 kycOracleQuorum;
    }

    function run() external returns (Deployed memory d) {
        uint256 key = vm.envOr("DEPLOYER_PRIVATE_KEY", _anvilKey(0));
        address deployer = vm.addr(key);
        bool devnet = block.chainid == 31_337;
        Config memory c = _config(deployer, devnet);
        address provider = vm.envOr("KYC_PROVIDER", devnet ? deployer : address(0));
        address[] memory providers = new address[](provider == address(0) ? 0 : 1);
        if (provider != address(0)) providers[0] = provider;

        vm.startBroadcast(key);
        TimelockController timelock =
            new TimelockController(c.timelockDelay, c.proposers, c.executors, address(0));
        d.registry = _deployAccessRegistry(deployer, address(timelock), c.guardian, providers);
        d.publicPolicy = new DenylistAccessPolicy(d.registry);
        d.kycPolicy = new KycAccessPolicy(d.registry, uint8(vm.envOr("KYC_MIN_TIER", uint256(1))));
        d.pub = _deploySystemWith(
            c,
            deployer,
            timelock,
            PoolFlavor("ClayStack Staked ETH", "csETH", address(d.publicPolicy), address(d.registry), false)
        );
        c.depositContract = d.pub.depositContract;
        // the KYC pool's oracle has its own members: two daemons sharing a key would race nonces
        (d.kycOracleMembers, d.kycOracleQuorum) = _kycOracle(c.quorum);
        address[] memory publicMembers = c.oracleMembers;
        uint256 publicQuorum = c.quorum;
        c.oracleMembers = d.kycOracleMembers;
        c.quorum = d.kycOracleQuorum;
        d.kyc = _deploySystemWith(
            c,
            deployer,
            timelock,
            PoolFlavor("ClayStack KYC Staked ETH", "kcsETH", address(d.kycPolicy), address(d.registry), true)
        );
        c.oracleMembers = publicMembers;
        c.quorum = publicQuorum;
        if (devnet) _fundDevnetMembers(d.kycOracleMembers);
        if (provider == deployer) {
            uint64 expiry = uint64(block.timestamp + 365 days);
            d.registry.attest(c.treasury, 1, expiry);
            d.registry.attest(c.operatorRewards, 1, expiry);
            if (c.insuranceFund != address(0)) d.registry.attest(c.insuranceFund, 1, expiry);
            // the KYC pool's operator contracts hold kcsETH (bonds, VFP assets, insurance)
            d.registry.attest(address(d.kyc.ops.bonds), 1, expiry);
            d.registry.attest(address(d.kyc.ops.vfp), 1, expiry);
            d.registry.attest(address(d.kyc.ops.fund), 1, expiry);
        }
        // OperatorRewards (Merkle claims) and ExitEnforcer (EIP-7002) per pool, wired through the
        // timelock: executed at once with a zero delay, otherwise only scheduled.
        d.pubRewardsExits = _deployRewardsExits(d.pub);
        d.kycRewardsExits = _deployRewardsExits(d.kyc);
        if (provider == deployer) {
            d.registry.attest(address(d.kycRewardsExits.rewards), 1, uint64(block.timestamp + 365 days));
        }
        vm.stopBroadcast();

        _write(d, c);
        Console.log("StakePool (csETH)", address(d.pub.pool));
        Console.log("WithdrawalQueue", address(d.pub.queue));
        Console.log("OracleReport", address(d.pub.oracle));
        Console.log("KYC StakePool (kcsETH)", address(d.kyc.pool));
        Console.log("AccessRegistry", address(d.registry));
        Console.log("DepositContract", d.pub.depositContract);
        Console.log("TimelockController", address(timelock));
    }

    function _config(address deployer, bool devnet) internal view returns (Config memory c) {
        address[] memory defaultMembers = new address[](3);
        defaultMembers[0] = vm.addr(_anvilKey(2));
        defaultMembers[1] = vm.addr(_anvilKey(3));
        defaultMembers[2] = vm.addr(_anvilKey(4));
        c.oracleMembers = vm.envOr("ORACLE_MEMBERS", ",", defaultMembers);
        c.quorum = vm.envOr("ORACLE_QUORUM", uint256(2));
        c.guardian = vm.envOr("GUARDIAN", vm.addr(_anvilKey(1)));

        uint256 secondsPerSlot = vm.envOr("SECONDS_PER_SLOT", devnet ? uint256(1) : 12);
        uint256 slotsPerEpoch = vm.envOr("SLOTS_PER_EPOCH", devnet ? uint256(4) : 32);
        uint256 epochsPerFrame = vm.envOr("EPOCHS_PER_FRAME", devnet ? uint256(75) : 225);
        uint256 frameSeconds = secondsPerSlot * slotsPerEpoch * epochsPerFrame;
        uint256 genesis = vm.envOr("GENESIS_TIME", devnet ? block.timestamp - frameSeconds : 1_606_824_023);
        c.frame = IOracleReport.FrameConfig(
            uint64(genesis), uint32(secondsPerSlot), uint32(slotsPerEpoch), uint32(epochsPerFrame)
        );
        c.initialRefSlot = vm.envOr("INITIAL_REF_SLOT", uint256(0));

        c.timelockDelay = vm.envOr("TIMELOCK_DELAY", devnet ? uint256(0) : 2 days);
        c.proposers = new address[](1);
        c.proposers[0] = vm.envOr("TIMELOCK_PROPOSER", deployer);
        c.executors = new address[](1); // address(0): anyone may execute a ready operation

        c.treasury = vm.envOr("TREASURY", vm.addr(_anvilKey(5)));
        c.operatorRewards = vm.envOr("OPERATOR_REWARDS", vm.addr(_anvilKey(6)));
        // default: each pool's InsuranceFund contract (DESIGN.md: it receives the insurance fee)
        c.insuranceFund = vm.envOr("INSURANCE_FUND", address(0));
        c.seed = vm.envOr("SEED_WEI", uint256(1e15));
        c.minDeposit = vm.envOr("MIN_DEPOSIT_WEI", uint256(1e15));
        c.dailyStakeLimit = vm.envOr("DAILY_STAKE_LIMIT_WEI", uint256(150_000 ether));
        c.depositContract =
            vm.envOr("DEPOSIT_CONTRACT", block.chainid == 1 ? MAINNET_DEPOSIT_CONTRACT : address(0));
    }

    /// @dev KYC_ORACLE_MEMBERS / KYC_ORACLE_QUORUM, defaulting to accounts 10-12 of anvil's mnemonic
    /// and the public pool's quorum.
    function _kycOracle(uint256 defaultQuorum) internal view returns (address[] memory members, uint256 q) {
        address[] memory defaults = new address[](3);
        for (uint32 i; i < 3; ++i) {
            defaults[i] = vm.addr(vm.deriveKey(ANVIL_MNEMONIC, 10 + i));
        }
        members = vm.envOr("KYC_ORACLE_MEMBERS", ",", defaults);
        q = vm.envOr("KYC_ORACLE_QUORUM", defaultQuorum);
    }

    /// @dev anvil prefunds accounts 0-9 only: give the KYC pool's members gas money (devnet only).
    function _fundDevnetMembers(address[] memory members) internal {
        for (uint256 i; i < members.length; ++i) {
            if (members[i].balance < DEVNET_MEMBER_FUNDING) {
                (bool ok,) = payable(members[i]).call{value: DEVNET_MEMBER_FUNDING}("");
                if (!ok) revert MemberFundingFailed(members[i]);
            }
        }
    }

    error MemberFundingFailed(address member);

    function _write(Deployed memory d, Config memory c) internal {
        string memory o = "deployment";
        System memory s = d.pub;
        vm.serializeAddress(o, "stakePool", address(s.pool));
        vm.serializeAddress(o, "withdrawalQueue", address(s.queue));
        vm.serializeAddress(o, "oracleReport", address(s.oracle));
        vm.serializeAddress(o, "sanityChecker", address(s.sanity));
        vm.serializeAddress(o, "withdrawalVault", address(s.withdrawalVault));
        vm.serializeAddress(o, "elRewardsVault", address(s.elRewardsVault));
        vm.serializeAddress(o, "depositContract", s.depositContract);
        vm.serializeAddress(o, "timelock", address(s.timelock));
        vm.serializeAddress(o, "accessRegistry", address(d.registry));
        vm.serializeAddress(o, "publicAccessPolicy", address(d.publicPolicy));
        vm.serializeAddress(o, "kycAccessPolicy", address(d.kycPolicy));
        vm.serializeAddress(o, "kycStakePool", address(d.kyc.pool));
        vm.serializeAddress(o, "kycWithdrawalQueue", address(d.kyc.queue));
        vm.serializeAddress(o, "kycOracleReport", address(d.kyc.oracle));
        vm.serializeAddress(o, "kycSanityChecker", address(d.kyc.sanity));
        vm.serializeAddress(o, "kycWithdrawalVault", address(d.kyc.withdrawalVault));
        vm.serializeAddress(o, "kycElRewardsVault", address(d.kyc.elRewardsVault));
        _writeOperators(o, "", d.pub.ops);
        _writeOperators(o, "kyc", d.kyc.ops);
        vm.serializeAddress(o, "operatorRewards", address(d.pubRewardsExits.rewards));
        vm.serializeAddress(o, "exitEnforcer", address(d.pubRewardsExits.enforcer));
        vm.serializeAddress(o, "kycOperatorRewards", address(d.kycRewardsExits.rewards));
        vm.serializeAddress(o, "kycExitEnforcer", address(d.kycRewardsExits.enforcer));
        vm.serializeAddress(o, "guardian", c.guardian);
        vm.serializeAddress(o, "oracleMembers", c.oracleMembers);
        vm.serializeUint(o, "oracleQuorum", c.quorum);
        vm.serializeAddress(o, "kycOracleMembers", d.kycOracleMembers);
        vm.serializeUint(o, "kycOracleQuorum", d.kycOracleQuorum);
        vm.serializeUint(o, "genesisTime", c.frame.genesisTime);
        vm.serializeUint(o, "secondsPerSlot", c.frame.secondsPerSlot);
        vm.serializeUint(o, "slotsPerEpoch", c.frame.slotsPerEpoch);
        vm.serializeUint(o, "epochsPerFrame", c.frame.epochsPerFrame);
        string memory json = vm.serializeUint(o, "chainId", block.chainid);
        vm.writeJson(
            json, string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json")
        );
    }

    /// @dev Operator contract addresses; the KYC pool's keys carry the `kyc` prefix
    /// (operatorRegistry / kycOperatorRegistry, ...).
    function _writeOperators(string memory o, string memory prefix, Operators memory ops) internal {
        bool kyc = bytes(prefix).length != 0;
        vm.serializeAddress(o, kyc ? "kycOperatorRegistry" : "operatorRegistry", address(ops.registry));
        vm.serializeAddress(o, kyc ? "kycBondManager" : "bondManager", address(ops.bonds));
        vm.serializeAddress(o, kyc ? "kycVfpPool" : "vfpPool", address(ops.vfp));
        vm.serializeAddress(o, kyc ? "kycInsuranceFund" : "insuranceFund", address(ops.fund));
        vm.serializeAddress(o, kyc ? "kycOperatorsModule" : "operatorsModule", address(ops.module));
        vm.serializeAddress(o, kyc ? "kycAllocator" : "allocator", address(ops.allocator));
        vm.serializeAddress(o, kyc ? "kycDepositSecurity" : "depositSecurity", address(ops.depositSecurity));
    }
}
