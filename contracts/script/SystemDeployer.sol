// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRegistry} from "../src/access/AccessRegistry.sol";
import {IOracleReport} from "../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../src/interfaces/IStakePool.sol";
import {AllocationLib} from "../src/lib/AllocationLib.sol";
import {Allocator} from "../src/operators/Allocator.sol";
import {BondManager} from "../src/operators/BondManager.sol";
import {DepositSecurity} from "../src/operators/DepositSecurity.sol";
import {InsuranceFund} from "../src/operators/InsuranceFund.sol";
import {OperatorRegistry} from "../src/operators/OperatorRegistry.sol";
import {OperatorsModule} from "../src/operators/OperatorsModule.sol";
import {VfpPool} from "../src/operators/VfpPool.sol";
import {OracleReport} from "../src/oracle/OracleReport.sol";
import {SanityChecker} from "../src/oracle/SanityChecker.sol";
import {ElRewardsVault, PoolVault, WithdrawalVault} from "../src/pool/PoolVault.sol";
import {StakePool} from "../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../src/pool/WithdrawalQueue.sol";
import {DepositContract} from "../src/testing/DepositContract.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Deploys the staking core behind UUPS proxies and hands every admin role to a
/// TimelockController. Shared by script/Deploy.s.sol and the test fixture so both deploy the same
/// way. `tempAdmin` (the broadcaster, or the test) wires the contracts, then renounces.
abstract contract SystemDeployer {
    struct Config {
        address guardian;
        address[] oracleMembers;
        uint256 quorum;
        IOracleReport.FrameConfig frame;
        uint256 initialRefSlot;
        uint256 timelockDelay;
        address[] proposers;
        address[] executors;
        address treasury;
        address operatorRewards;
        address insuranceFund; // zero: the pool's InsuranceFund contract receives the insurance fee
        uint256 seed;
        uint256 minDeposit;
        uint256 dailyStakeLimit;
        address depositContract; // zero: deploy the test-only DepositContract (devnets)
    }

    struct System {
        StakePool pool;
        WithdrawalQueue queue;
        OracleReport oracle;
        SanityChecker sanity;
        WithdrawalVault withdrawalVault;
        ElRewardsVault elRewardsVault;
        address depositContract;
        TimelockController timelock;
        Operators ops;
    }

    /// @notice The operator contracts of one pool (docs/adr/0005).
    struct Operators {
        OperatorRegistry registry;
        BondManager bonds;
        VfpPool vfp;
        InsuranceFund fund;
        OperatorsModule module;
        Allocator allocator;
        DepositSecurity depositSecurity;
    }

    /// @notice What distinguishes one pool deployment from another running the same code.
    struct PoolFlavor {
        string name;
        string symbol;
        /// access policy set before governance takes over (zero: none)
        address accessPolicy;
        /// AccessRegistry the operator registry checks Kyc operators against (zero: none yet)
        address accessRegistry;
        /// KYC pool: deposits only to attested Kyc-type operators
        bool kycOnly;
    }

    /// @dev The public pool (csETH) with a new timelock and no access policy.
    function _deploySystem(Config memory c, address tempAdmin) internal returns (System memory s) {
        TimelockController timelock =
            new TimelockController(c.timelockDelay, c.proposers, c.executors, address(0));
        return _deploySystemWith(
            c, tempAdmin, timelock, PoolFlavor("ClayStack Staked ETH", "csETH", address(0), address(0), false)
        );
    }

    /// @dev One pool deployment (pool, queue, vaults, sanity checker, oracle) governed by
    /// `timelock`. The public and the KYC pool are two calls of this with different flavors.
    function _deploySystemWith(
        Config memory c,
        address tempAdmin,
        TimelockController timelock,
        PoolFlavor memory f
    ) internal returns (System memory s) {
        s.timelock = timelock;
        address tl = address(s.timelock);

        s.pool = StakePool(
            payable(address(
                    new ERC1967Proxy{value: c.seed}(
                        address(new StakePool()),
                        abi.encodeCall(
                            StakePool.initialize,
                            (IStakePool.InitParams({
                                    name: f.name,
                                    symbol: f.symbol,
                                    admin: tempAdmin,
                                    guardian: c.guardian,
                                    // zero insurance fund: the InsuranceFund contract, set below
                                    recipients: IStakePool.FeeRecipients(
                                        c.treasury,
                                        c.operatorRewards,
                                        c.insuranceFund == address(0) ? c.treasury : c.insuranceFund
                                    ),
                                    fees: IStakePool.Fees(400, 500, 100),
                                    minDeposit: c.minDeposit,
                                    dailyStakeLimit: c.dailyStakeLimit
                                }))
                        )
                    )
                ))
        );
        s.queue = WithdrawalQueue(
            payable(address(
                    new ERC1967Proxy(
                        address(new WithdrawalQueue()),
                        abi.encodeCall(WithdrawalQueue.initialize, (tl, c.guardian, address(s.pool)))
                    )
                ))
        );
        s.withdrawalVault = WithdrawalVault(
            payable(address(
                    new ERC1967Proxy(
                        address(new WithdrawalVault()),
                        abi.encodeCall(PoolVault.initialize, (tl, address(s.pool)))
                    )
                ))
        );
        s.elRewardsVault = ElRewardsVault(
            payable(address(
                    new ERC1967Proxy(
                        address(new ElRewardsVault()),
                        abi.encodeCall(PoolVault.initialize, (tl, address(s.pool)))
                    )
                ))
        );
        s.sanity = SanityChecker(
            address(
                new ERC1967Proxy(address(new SanityChecker()), abi.encodeCall(SanityChecker.initialize, (tl)))
            )
        );
        s.oracle = OracleReport(
            address(
                new ERC1967Proxy(
                    address(new OracleReport()),
                    abi.encodeCall(
                        OracleReport.initialize,
                        (
                            tempAdmin,
                            address(s.pool),
                            address(s.sanity),
                            c.frame,
                            c.initialRefSlot,
                            c.oracleMembers,
                            c.quorum
                        )
                    )
                )
            )
        );
        s.depositContract =
            c.depositContract == address(0) ? address(new DepositContract()) : c.depositContract;

        s.pool
            .setContracts(
                IStakePool.Contracts({
                    oracle: address(s.oracle),
                    withdrawalQueue: address(s.queue),
                    withdrawalVault: address(s.withdrawalVault),
                    elRewardsVault: address(s.elRewardsVault),
                    sanityChecker: address(s.sanity)
                })
            );

        if (f.accessPolicy != address(0)) s.pool.setAccessPolicy(f.accessPolicy);

        s.ops = _deployOperators(
            address(s.pool), tempAdmin, tl, c.guardian, f.accessRegistry, 1, address(s.oracle)
        );
        s.pool.setCoverProvider(address(s.ops.bonds), true);
        s.pool.setCoverProvider(address(s.ops.vfp), true);
        s.pool.setCoverProvider(address(s.ops.fund), true);
        s.oracle.setOperatorsModule(address(s.ops.module));
        if (c.insuranceFund == address(0)) {
            s.pool
                .setFeeRecipients(
                    IStakePool.FeeRecipients(c.treasury, c.operatorRewards, address(s.ops.fund))
                );
        }
        _deployDepositSecurity(s, tl, c.guardian, f.kycOnly);
        s.ops.registry.grantRole(s.ops.registry.DEPOSITOR_ROLE(), address(s.ops.depositSecurity));
        s.pool.setDepositModule(address(s.ops.depositSecurity));
        _handOverOperators(s.ops, tempAdmin, tl);

        // hand over: the timelock alone administers parameters, members and upgrades
        bytes32 admin = s.pool.DEFAULT_ADMIN_ROLE();
        s.pool.grantRole(admin, tl);
        s.pool.renounceRole(admin, tempAdmin);
        s.oracle.grantRole(s.oracle.ORACLE_MANAGER_ROLE(), tl);
        s.oracle.grantRole(admin, tl);
        s.oracle.renounceRole(admin, tempAdmin);
    }

    /// @dev The AccessRegistry behind a UUPS proxy: `providers` get KYC_PROVIDER_ROLE, then the
    /// timelock becomes the only admin.
    function _deployAccessRegistry(
        address tempAdmin,
        address timelock,
        address guardian,
        address[] memory providers
    ) internal returns (AccessRegistry r) {
        r = AccessRegistry(
            address(
                new ERC1967Proxy(
                    address(new AccessRegistry()),
                    abi.encodeCall(AccessRegistry.initialize, (tempAdmin, guardian, 365 days))
                )
            )
        );
        bytes32 provider = r.KYC_PROVIDER_ROLE();
        for (uint256 i = 0; i < providers.length; ++i) {
            r.grantRole(provider, providers[i]);
        }
        bytes32 admin = r.DEFAULT_ADMIN_ROLE();
        r.grantRole(admin, timelock);
        r.renounceRole(admin, tempAdmin);
    }

    /// @dev The operator contracts of `pool` (registry, bonds, VFP pool, insurance fund) behind UUPS
    /// proxies; `tempAdmin` administers the registry and the BondManager until
    /// {_handOverOperators}. The pool's cover providers are set by the pool's admin.
    /// The BondManager proxy is created before its layers exist and initialized right after them;
    /// a front-run initialization makes our `initialize` revert, which fails the deployment.
    function _deployOperators(
        address pool,
        address tempAdmin,
        address timelock,
        address guardian,
        address accessRegistry,
        uint8 kycMinTier,
        address oracle
    ) internal returns (Operators memory o) {
        o.registry = OperatorRegistry(
            address(
                new ERC1967Proxy(
                    address(new OperatorRegistry()),
                    abi.encodeCall(OperatorRegistry.initialize, (tempAdmin, guardian))
                )
            )
        );
        o.bonds = BondManager(address(new ERC1967Proxy(address(new BondManager()), "")));
        o.vfp = VfpPool(
            address(
                new ERC1967Proxy(
                    address(new VfpPool()),
                    abi.encodeCall(
                        VfpPool.initialize, (timelock, guardian, pool, address(o.registry), address(o.bonds))
                    )
                )
            )
        );
        o.fund = InsuranceFund(
            address(
                new ERC1967Proxy(
                    address(new InsuranceFund()),
                    abi.encodeCall(InsuranceFund.initialize, (timelock, guardian, pool, address(o.bonds)))
                )
            )
        );
        o.bonds.initialize(tempAdmin, guardian, pool, address(o.registry), address(o.vfp), address(o.fund));
        o.registry.setBondManager(address(o.bonds));
        if (accessRegistry != address(0)) o.registry.setAccessRegistry(accessRegistry, kycMinTier);
        o.module = OperatorsModule(
            address(
                new ERC1967Proxy(
                    address(new OperatorsModule()),
                    abi.encodeCall(
                        OperatorsModule.initialize,
                        (timelock, oracle, address(o.registry), address(o.bonds), address(0), 4 days)
                    )
                )
            )
        );
        o.registry.grantRole(o.registry.REPORTER_ROLE(), address(o.module));
        o.bonds.grantRole(o.bonds.REPORTER_ROLE(), address(o.module));
    }

    /// @dev The Allocator and DepositSecurity of one pool; the KYC pool deposits only to Kyc
    /// operators (type mask 0b0010), the public pool to every type.
    function _deployDepositSecurity(System memory s, address timelock, address guardian, bool kycOnly)
        internal
    {
        s.ops.allocator = Allocator(
            address(
                new ERC1967Proxy(
                    address(new Allocator()),
                    abi.encodeCall(
                        Allocator.initialize,
                        (
                            timelock,
                            guardian,
                            kycOnly ? AllocationLib.kycPoolDefaults() : AllocationLib.publicPoolDefaults()
                        )
                    )
                )
            )
        );
        s.ops.depositSecurity = DepositSecurity(
            payable(address(
                    new ERC1967Proxy(
                        address(new DepositSecurity()),
                        abi.encodeCall(
                            DepositSecurity.initialize,
                            (
                                timelock,
                                guardian,
                                address(s.pool),
                                address(s.ops.registry),
                                address(s.ops.allocator),
                                s.depositContract,
                                address(s.withdrawalVault),
                                kycOnly ? uint8(0x02) : uint8(0x0f)
                            )
                        )
                    )
                ))
        );
    }

    /// @dev Hands the registry and the BondManager to the timelock (after the deploy granted the
    /// module roles).
    function _handOverOperators(Operators memory o, address tempAdmin, address timelock) internal {
        bytes32 admin = o.registry.DEFAULT_ADMIN_ROLE();
        o.registry.grantRole(admin, timelock);
        o.registry.renounceRole(admin, tempAdmin);
        o.bonds.grantRole(admin, timelock);
        o.bonds.renounceRole(admin, tempAdmin);
    }
}
