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
/// Security-relevant accounts (who signs reports, who pauses, who proposes upgrades, where fees
/// go) have **no default off a devnet**: on any chain other than 31337 and 31337NN (3,133,700 to
/// 3,133,799, the ids the CLI tests give their own anvils) each must be set, and none may be an
/// account of anvil's public mnemonic ("test test ... junk", whose keys everybody knows). The
/// script refuses to deploy otherwise (`MissingDeployEnv` lists every missing variable,
/// `AnvilAccountOffDevnet` names the variable and the account).
///
/// Env, required off a devnet (devnet default in brackets, anvil's accounts):
///   DEPLOYER_PRIVATE_KEY  broadcaster; also temporary admin until the hand-over (anvil #0)
///   GUARDIAN              pause-only role (anvil #1)
///   ORACLE_MEMBERS        public pool's oracle: comma-separated addresses (anvil #2,#3,#4)
///   KYC_ORACLE_MEMBERS    KYC pool's oracle, its own members (accounts 10, 11, 12 of anvil's mnemonic,
///                         funded with 100 ETH each on a devnet)
///   TREASURY, OPERATOR_REWARDS  fee recipients (anvil #5, #6; OPERATOR_REWARDS is replaced by the
///                         OperatorRewards contract through the timelock batch)
///   TIMELOCK_PROPOSER     proposer and canceller of the timelock (the deployer); a different
///                         deployer is a proposer only while it schedules the wiring batch, then renounces
/// Optional everywhere (checked against anvil's accounts off a devnet when set):
///   INSURANCE_FUND        insurance fee recipient (default: each pool's InsuranceFund contract)
///   KYC_PROVIDER          KYC provider granted on the AccessRegistry (devnet: the deployer, which
///                         also attests the fee recipients so the KYC pool can mint them fees; elsewhere none)
/// Optional, not addresses:
///   ORACLE_QUORUM (2), KYC_ORACLE_QUORUM (ORACLE_QUORUM)
///   GENESIS_TIME          CL genesis (devnet: now - one frame, so a report is possible at once)
///   SECONDS_PER_SLOT (1 on a devnet, 12 elsewhere), SLOTS_PER_EPOCH (4 / 32), EPOCHS_PER_FRAME (75 / 225)
///   TIMELOCK_DELAY        (0 on a devnet, 2 days elsewhere)
///   SEED_WEI (1e15), MIN_DEPOSIT_WEI (1e15), DAILY_STAKE_LIMIT_WEI (150,000 ETH)
///   DEPOSIT_CONTRACT      (mainnet: the official one; other chains: deploys the test-only one)
///   KYC_MIN_TIER          lowest tier the KYC pool accepts (1)
contract Deploy is SystemDeployer, RewardsExitsDeployer, DevnetKeys {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant MAINNET_DEPOSIT_CONTRACT = 0x00000000219ab540356cBB839Cbe05303d7705Fa;
    /// @dev anvil's default mnemonic; its accounts 10.. are not prefunded by anvil
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
    /// @dev anvil's (and hardhat's) default chain id
    uint256 internal constant DEVNET_CHAIN_ID = 31_337;
    /// @dev accounts of anvil's mnemonic refused off a devnet: indexes 0 to 29 (anvil prefunds 0-9 by
    /// default, the KYC defaults are 10-12, `anvil -a N` prefunds more)
    uint32 internal constant ANVIL_ACCOUNTS_REFUSED = 30;
    /// @dev ETH a devnet-default KYC oracle member receives for gas
    uint256 internal constant DEVNET_MEMBER_FUNDING = 100 ether;

    /// @notice The security-relevant accounts of a deployment (see the contract notice).
    struct Inputs {
        uint256 deployerKey;
        address guardian;
        address[] oracleMembers;
        uint256 oracleQuorum;
        address[] kycOracleMembers;
        uint256 kycOracleQuorum;
        address treasury;
        address operatorRewards;
        address timelockProposer;
        /// zero: each pool's InsuranceFund contract
        address insuranceFund;
        /// zero: no KYC provider
        address kycProvider;
    }

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

    /// @notice Off a devnet, these variables were not set (comma-separated names).
    error MissingDeployEnv(string names);
    /// @notice Off a devnet, `variable` names `account`, an account of anvil's public mnemonic.
    error AnvilAccountOffDevnet(string variable, address account);
    error MemberFundingFailed(address member);

    /// @notice Reads the environment and deploys (see the contract notice).
    function run() external returns (Deployed memory d) {
        return deploy(_inputs(_isDevnet()));
    }

    /// @notice Deploys with `inp` (off a devnet, refuses anvil's accounts).
    function deploy(Inputs memory inp) public returns (Deployed memory d) {
        bool devnet = _isDevnet();
        if (!devnet) _refuseAnvilAccounts(inp);
        address deployer = vm.addr(inp.deployerKey);
        Config memory c = _config(inp, devnet);
        // the deployer schedules the OperatorRewards / ExitEnforcer wiring, then renounces
        if (inp.timelockProposer != deployer) {
            c.proposers = new address[](2);
            c.proposers[0] = inp.timelockProposer;
            c.proposers[1] = deployer;
        }
        address provider = inp.kycProvider;
        address[] memory providers = new address[](provider == address(0) ? 0 : 1);
        if (provider != address(0)) providers[0] = provider;

        vm.startBroadcast(inp.deployerKey);
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
        d.kycOracleMembers = inp.kycOracleMembers;
        d.kycOracleQuorum = inp.kycOracleQuorum;
        c.oracleMembers = inp.kycOracleMembers;
        c.quorum = inp.kycOracleQuorum;
        d.kyc = _deploySystemWith(
            c,
            deployer,
            timelock,
            PoolFlavor("ClayStack KYC Staked ETH", "kcsETH", address(d.kycPolicy), address(d.registry), true)
        );
        c.oracleMembers = inp.oracleMembers;
        c.quorum = inp.oracleQuorum;
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
        if (inp.timelockProposer != deployer) {
            timelock.renounceRole(timelock.PROPOSER_ROLE(), deployer);
            timelock.renounceRole(timelock.CANCELLER_ROLE(), deployer);
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

    /// @dev anvil's default chain id, and 31337NN: the CLI tests start anvil with such ids so
    /// that their deployment files do not collide (the `.gitignore` pattern `31337*.json`).
    function _isDevnet() internal view returns (bool) {
        return block.chainid == DEVNET_CHAIN_ID || block.chainid / 100 == DEVNET_CHAIN_ID;
    }

    /// @dev The accounts from the environment: on a devnet with anvil's accounts as defaults,
    /// elsewhere every security-relevant one required (all missing names in one revert).
    function _inputs(bool devnet) internal view returns (Inputs memory inp) {
        string memory missing;
        if (devnet) {
            inp.deployerKey = vm.envOr("DEPLOYER_PRIVATE_KEY", _anvilKey(0));
            inp.guardian = vm.envOr("GUARDIAN", vm.addr(_anvilKey(1)));
            address[] memory members = new address[](3);
            address[] memory kycMembers = new address[](3);
            for (uint32 i; i < 3; ++i) {
                members[i] = vm.addr(_anvilKey(2 + i));
                kycMembers[i] = vm.addr(vm.deriveKey(ANVIL_MNEMONIC, 10 + i));
            }
            inp.oracleMembers = vm.envOr("ORACLE_MEMBERS", ",", members);
            inp.kycOracleMembers = vm.envOr("KYC_ORACLE_MEMBERS", ",", kycMembers);
            inp.treasury = vm.envOr("TREASURY", vm.addr(_anvilKey(5)));
            inp.operatorRewards = vm.envOr("OPERATOR_REWARDS", vm.addr(_anvilKey(6)));
            inp.timelockProposer = vm.envOr("TIMELOCK_PROPOSER", vm.addr(inp.deployerKey));
            inp.kycProvider = vm.envOr("KYC_PROVIDER", vm.addr(inp.deployerKey));
        } else {
            missing = _missing(missing, "DEPLOYER_PRIVATE_KEY");
            missing = _missing(missing, "GUARDIAN");
            missing = _missing(missing, "ORACLE_MEMBERS");
            missing = _missing(missing, "KYC_ORACLE_MEMBERS");
            missing = _missing(missing, "TREASURY");
            missing = _missing(missing, "OPERATOR_REWARDS");
            missing = _missing(missing, "TIMELOCK_PROPOSER");
            if (bytes(missing).length != 0) revert MissingDeployEnv(missing);
            inp.deployerKey = vm.envUint("DEPLOYER_PRIVATE_KEY");
            inp.guardian = vm.envAddress("GUARDIAN");
            inp.oracleMembers = vm.envAddress("ORACLE_MEMBERS", ",");
            inp.kycOracleMembers = vm.envAddress("KYC_ORACLE_MEMBERS", ",");
            inp.treasury = vm.envAddress("TREASURY");
            inp.operatorRewards = vm.envAddress("OPERATOR_REWARDS");
            inp.timelockProposer = vm.envAddress("TIMELOCK_PROPOSER");
            inp.kycProvider = vm.envOr("KYC_PROVIDER", address(0));
        }
        inp.oracleQuorum = vm.envOr("ORACLE_QUORUM", uint256(2));
        inp.kycOracleQuorum = vm.envOr("KYC_ORACLE_QUORUM", inp.oracleQuorum);
        inp.insuranceFund = vm.envOr("INSURANCE_FUND", address(0));
    }

    function _missing(string memory list, string memory name) internal view returns (string memory) {
        if (vm.envExists(name)) return list;
        return bytes(list).length == 0 ? name : string.concat(list, ",", name);
    }

    /// @dev Off a devnet: no account of `inp` may be one of anvil's mnemonic.
    function _refuseAnvilAccounts(Inputs memory inp) internal pure {
        address[] memory anvil = new address[](ANVIL_ACCOUNTS_REFUSED);
        for (uint32 i; i < ANVIL_ACCOUNTS_REFUSED; ++i) {
            anvil[i] = vm.addr(vm.deriveKey(ANVIL_MNEMONIC, i));
        }
        _refuse(anvil, "DEPLOYER_PRIVATE_KEY", vm.addr(inp.deployerKey));
        _refuse(anvil, "GUARDIAN", inp.guardian);
        for (uint256 i; i < inp.oracleMembers.length; ++i) {
            _refuse(anvil, "ORACLE_MEMBERS", inp.oracleMembers[i]);
        }
        for (uint256 i; i < inp.kycOracleMembers.length; ++i) {
            _refuse(anvil, "KYC_ORACLE_MEMBERS", inp.kycOracleMembers[i]);
        }
        _refuse(anvil, "TREASURY", inp.treasury);
        _refuse(anvil, "OPERATOR_REWARDS", inp.operatorRewards);
        _refuse(anvil, "TIMELOCK_PROPOSER", inp.timelockProposer);
        _refuse(anvil, "INSURANCE_FUND", inp.insuranceFund);
        _refuse(anvil, "KYC_PROVIDER", inp.kycProvider);
    }

    function _refuse(address[] memory anvil, string memory variable, address account) internal pure {
        for (uint256 i; i < anvil.length; ++i) {
            if (account == anvil[i]) revert AnvilAccountOffDevnet(variable, account);
        }
    }

    function _config(Inputs memory inp, bool devnet) internal view returns (Config memory c) {
        c.oracleMembers = inp.oracleMembers;
        c.quorum = inp.oracleQuorum;
        c.guardian = inp.guardian;

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
        c.proposers[0] = inp.timelockProposer;
        c.executors = new address[](1); // address(0): anyone may execute a ready operation

        c.treasury = inp.treasury;
        c.operatorRewards = inp.operatorRewards;
        // zero: each pool's InsuranceFund contract (DESIGN.md: it receives the insurance fee)
        c.insuranceFund = inp.insuranceFund;
        c.seed = vm.envOr("SEED_WEI", uint256(1e15));
        c.minDeposit = vm.envOr("MIN_DEPOSIT_WEI", uint256(1e15));
        c.dailyStakeLimit = vm.envOr("DAILY_STAKE_LIMIT_WEI", uint256(150_000 ether));
        c.depositContract =
            vm.envOr("DEPOSIT_CONTRACT", block.chainid == 1 ? MAINNET_DEPOSIT_CONTRACT : address(0));
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
