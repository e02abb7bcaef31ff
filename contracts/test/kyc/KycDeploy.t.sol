// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SystemDeployer} from "../../script/SystemDeployer.sol";
import {DenylistAccessPolicy, KycAccessPolicy} from "../../src/access/AccessPolicies.sol";
import {AccessRegistry} from "../../src/access/AccessRegistry.sol";
import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {TestBase} from "../utils/TestBase.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice The deploy path of script/Deploy.s.sol: both pools from the same code, one timelock,
/// one AccessRegistry, different access policies and separate accounting.
contract KycDeployTest is TestBase, SystemDeployer {
    // ERC-1967 implementation slot
    bytes32 internal constant IMPL_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    System internal pub;
    System internal kyc;
    AccessRegistry internal registry;
    TimelockController internal timelock;

    function setUp() public {
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
            insuranceFund: makeAddr("insurance"),
            seed: 1e15,
            minDeposit: 1e15,
            dailyStakeLimit: 1000 ether,
            depositContract: address(0)
        });
        vm.deal(address(this), 1 ether);
        timelock = new TimelockController(2 days, proposers, executors, address(0));
        address[] memory providers = new address[](1);
        providers[0] = makeAddr("provider");
        registry = _deployAccessRegistry(address(this), address(timelock), c.guardian, providers);
        pub = _deploySystemWith(
            c,
            address(this),
            timelock,
            PoolFlavor(
                "ClayStack Staked ETH",
                "csETH",
                address(new DenylistAccessPolicy(registry)),
                address(registry),
                false
            )
        );
        c.depositContract = pub.depositContract;
        kyc = _deploySystemWith(
            c,
            address(this),
            timelock,
            PoolFlavor(
                "ClayStack KYC Staked ETH",
                "kcsETH",
                address(new KycAccessPolicy(registry, 1)),
                address(registry),
                true
            )
        );
    }

    function _impl(address proxy) internal view returns (address) {
        return address(uint160(uint256(vm.load(proxy, IMPL_SLOT))));
    }

    /// @dev Runtime code of `impl` with its own address zeroed: UUPS implementations embed
    /// `address(this)` as an immutable, which is the only byte difference between deployments.
    function _maskedCodeHash(address impl) internal view returns (bytes32) {
        bytes memory code = impl.code;
        bytes20 self = bytes20(impl);
        for (uint256 i = 0; i + 20 <= code.length; ++i) {
            bytes20 word;
            assembly {
                word := mload(add(add(code, 32), i))
            }
            if (word == self) {
                for (uint256 j = 0; j < 20; ++j) {
                    code[i + j] = 0;
                }
            }
        }
        return keccak256(code);
    }

    function test_deploy_BothPoolsRunTheSameCode() public view {
        vm.assertEq(
            _maskedCodeHash(_impl(address(pub.pool))), _maskedCodeHash(_impl(address(kyc.pool))), "pool code"
        );
        vm.assertEq(
            _maskedCodeHash(_impl(address(pub.queue))),
            _maskedCodeHash(_impl(address(kyc.queue))),
            "queue code"
        );
        vm.assertEq(
            _maskedCodeHash(_impl(address(pub.oracle))),
            _maskedCodeHash(_impl(address(kyc.oracle))),
            "oracle code"
        );
        vm.assertTrue(
            _impl(address(pub.pool)) != _impl(address(kyc.pool)), "two implementations were compared"
        );
        vm.assertEq(pub.pool.symbol(), "csETH", "public token");
        vm.assertEq(kyc.pool.symbol(), "kcsETH", "kyc token");
    }

    function test_deploy_AccountingIsSeparate() public view {
        vm.assertTrue(address(pub.pool) != address(kyc.pool), "pools");
        vm.assertTrue(address(pub.queue) != address(kyc.queue), "queues");
        vm.assertTrue(address(pub.oracle) != address(kyc.oracle), "oracles");
        vm.assertTrue(address(pub.withdrawalVault) != address(kyc.withdrawalVault), "withdrawal vaults");
        vm.assertTrue(address(pub.elRewardsVault) != address(kyc.elRewardsVault), "EL vaults");
        vm.assertEq(pub.depositContract, kyc.depositContract, "one deposit contract");
    }

    function test_deploy_TimelockIsTheOnlyAdmin() public view {
        bytes32 admin = pub.pool.DEFAULT_ADMIN_ROLE();
        address tl = address(timelock);
        vm.assertTrue(pub.pool.hasRole(admin, tl) && kyc.pool.hasRole(admin, tl), "pools");
        vm.assertTrue(registry.hasRole(admin, tl), "registry");
        vm.assertFalse(pub.pool.hasRole(admin, address(this)), "deployer renounced pool");
        vm.assertFalse(kyc.pool.hasRole(admin, address(this)), "deployer renounced kyc pool");
        vm.assertFalse(registry.hasRole(admin, address(this)), "deployer renounced registry");
    }

    function test_deploy_PoliciesGateEachPool() public {
        address alice = makeAddr("alice");
        vm.deal(alice, 2 ether);
        vm.prank(alice);
        pub.pool.deposit{value: 1 ether}(); // public: permissionless
        vm.expectRevert(abi.encodeWithSelector(IAccessRegistry.NotAttested.selector, alice, 1));
        vm.prank(alice);
        kyc.pool.deposit{value: 1 ether}();
    }
}
