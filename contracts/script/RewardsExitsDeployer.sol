// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IStakePool} from "../src/interfaces/IStakePool.sol";
import {ExitEnforcer} from "../src/operators/ExitEnforcer.sol";
import {OperatorRewards} from "../src/operators/OperatorRewards.sol";
import {OperatorsModule} from "../src/operators/OperatorsModule.sol";
import {VfpPool} from "../src/operators/VfpPool.sol";
import {WithdrawalVault} from "../src/pool/PoolVault.sol";
import {StakePool} from "../src/pool/StakePool.sol";
import {SystemDeployer} from "./SystemDeployer.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice Adds OperatorRewards (Merkle claims of the operators' fee shares) and ExitEnforcer
/// (EIP-7002 forced exits) to one pool deployed by {SystemDeployer}. Both are UUPS proxies
/// administered by the pool's timelock from the start; no temporary admin is involved.
/// Wiring them in needs the timelock (the pool, the withdrawal vault and the operators module are
/// already handed over), so {_deployRewardsExits} schedules one batch on the timelock and executes
/// it at once when the timelock has no delay (devnets, tests); otherwise the batch is executed
/// after the delay with {_executeRewardsExitsWiring}. The caller must hold the timelock's
/// PROPOSER_ROLE (and EXECUTOR_ROLE, unless executors are open).
/// For the KYC pool the OperatorRewards address must also be attested in the AccessRegistry,
/// or the pool cannot mint kcsETH fee shares to it.
abstract contract RewardsExitsDeployer {
    /// @notice The contracts added to one pool and the timelock batch that wires them in.
    struct RewardsExits {
        OperatorRewards rewards;
        ExitEnforcer enforcer;
        address[] targets;
        uint256[] values;
        bytes[] payloads;
        bytes32 salt;
    }

    /// @dev Deploys OperatorRewards and ExitEnforcer for the pool `s`, then schedules (and, with
    /// a zero timelock delay, executes) the batch: `WithdrawalVault.setExitEnforcer`,
    /// `OperatorsModule.setOperatorRewards`, `StakePool.setFeeRecipients` (operators' fee shares
    /// minted to OperatorRewards; treasury and insurance fund unchanged), `VfpPool.setOperatorRewards`
    /// (the VfpPool books what OperatorRewards pays to its leaf of the rewards tree).
    function _deployRewardsExits(SystemDeployer.System memory s) internal returns (RewardsExits memory r) {
        address tl = address(s.timelock);
        r.rewards = OperatorRewards(
            address(
                new ERC1967Proxy(
                    address(new OperatorRewards()),
                    abi.encodeCall(OperatorRewards.initialize, (tl, address(s.pool), address(s.ops.module)))
                )
            )
        );
        r.enforcer = ExitEnforcer(
            address(
                new ERC1967Proxy(
                    address(new ExitEnforcer()),
                    abi.encodeCall(
                        ExitEnforcer.initialize, (tl, address(s.ops.registry), address(s.withdrawalVault))
                    )
                )
            )
        );
        _buildRewardsExitsWiring(s, r);
        uint256 delay = s.timelock.getMinDelay();
        s.timelock.scheduleBatch(r.targets, r.values, r.payloads, bytes32(0), r.salt, delay);
        if (delay == 0) _executeRewardsExitsWiring(s.timelock, r);
    }

    /// @dev Executes the wiring batch scheduled by {_deployRewardsExits} once the delay passed.
    function _executeRewardsExitsWiring(TimelockController timelock, RewardsExits memory r) internal {
        timelock.executeBatch(r.targets, r.values, r.payloads, bytes32(0), r.salt);
    }

    function _buildRewardsExitsWiring(SystemDeployer.System memory s, RewardsExits memory r) private view {
        IStakePool.FeeRecipients memory fees = s.pool.feeRecipients();
        fees.operatorRewards = address(r.rewards);
        r.targets = new address[](4);
        r.values = new uint256[](4);
        r.payloads = new bytes[](4);
        r.targets[0] = address(s.withdrawalVault);
        r.payloads[0] = abi.encodeCall(WithdrawalVault.setExitEnforcer, (address(r.enforcer)));
        r.targets[1] = address(s.ops.module);
        r.payloads[1] = abi.encodeCall(OperatorsModule.setOperatorRewards, (address(r.rewards)));
        r.targets[2] = address(s.pool);
        r.payloads[2] = abi.encodeCall(StakePool.setFeeRecipients, (fees));
        r.targets[3] = address(s.ops.vfp);
        r.payloads[3] = abi.encodeCall(VfpPool.setOperatorRewards, (address(r.rewards)));
        // one salt per pool, so the public and the KYC pool batches never collide
        r.salt = keccak256(abi.encode("claystack.rewardsExits", address(s.pool)));
    }
}
