// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RewardsExitsDeployer} from "../../script/RewardsExitsDeployer.sol";
import {IExitEnforcer} from "../../src/interfaces/IExitEnforcer.sol";
import {IOperatorRewards} from "../../src/interfaces/IOperatorRewards.sol";
import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IStakePool} from "../../src/interfaces/IStakePool.sol";
import {Eip7002} from "../../src/lib/Eip7002.sol";
import {Eip7002Mock} from "../../src/testing/Eip7002Mock.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice OperatorRewards and ExitEnforcer deployed by script/RewardsExitsDeployer.sol next to
/// the real pool, oracle, operators module, registry and withdrawal vault: the timelock wiring,
/// fee shares minted by a report and claimed under a root from the next report, and an exit
/// requested by a report, ignored, and forced from the real vault.
contract RewardsExitsTest is OperatorsSystemFixture, RewardsExitsDeployer {
    RewardsExits internal rx;
    address internal keeper;

    function setUp() public override {
        super.setUp();
        keeper = makeAddr("keeper");
        rx = _deployRewardsExits(_system());
        vm.warp(block.timestamp + timelock.getMinDelay());
        _executeRewardsExitsWiring(timelock, rx);
    }

    function _system() internal view returns (System memory s) {
        s.pool = pool;
        s.queue = queue;
        s.oracle = oracle;
        s.sanity = sanity;
        s.withdrawalVault = wVault;
        s.elRewardsVault = elVault;
        s.timelock = timelock;
        s.ops = ops;
    }

    // ------------------------------------------------------------------ deployment

    function test_deployRewardsExits_WiresThroughTimelock() public view {
        vm.assertEq(wVault.exitEnforcer(), address(rx.enforcer), "vault enforcer");
        vm.assertEq(module.operatorRewards(), address(rx.rewards), "module rewards");
        IStakePool.FeeRecipients memory f = pool.feeRecipients();
        vm.assertEq(f.operatorRewards, address(rx.rewards), "fee recipient");
        vm.assertEq(f.treasury, treasury, "treasury unchanged");
        vm.assertEq(f.insuranceFund, insurance, "insurance unchanged");
        vm.assertEq(rx.rewards.token(), address(pool), "token is the pool");
        vm.assertEq(vfp.operatorRewards(), address(rx.rewards), "VfpPool books OperatorRewards' payments");
        vm.assertTrue(rx.rewards.hasRole(rx.rewards.OPERATORS_MODULE_ROLE(), address(module)), "module role");
        vm.assertTrue(rx.rewards.hasRole(rx.rewards.DEFAULT_ADMIN_ROLE(), tl), "rewards admin");
        vm.assertTrue(rx.enforcer.hasRole(rx.enforcer.DEFAULT_ADMIN_ROLE(), tl), "enforcer admin");
        vm.assertFalse(
            rx.rewards.hasRole(rx.rewards.DEFAULT_ADMIN_ROLE(), address(this)), "no deployer admin"
        );
        vm.assertFalse(
            rx.enforcer.hasRole(rx.enforcer.DEFAULT_ADMIN_ROLE(), address(this)), "no deployer admin"
        );
    }

    function test_deployRewardsExits_RevertWhen_WiringBeforeDelay() public {
        // a second deployment for the same pool: scheduled, not executable before the delay
        RewardsExits memory second = _deployRewardsExits(_system());
        vm.assertEq(wVault.exitEnforcer(), address(rx.enforcer), "not rewired yet");
        bytes32 id =
            timelock.hashOperationBatch(second.targets, second.values, second.payloads, 0, second.salt);
        vm.assertTrue(timelock.isOperationPending(id), "scheduled");
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                id,
                bytes32(1 << uint8(TimelockController.OperationState.Ready))
            )
        );
        this.executeWiring(second);
        vm.warp(block.timestamp + timelock.getMinDelay());
        this.executeWiring(second);
        vm.assertEq(wVault.exitEnforcer(), address(second.enforcer), "rewired after the delay");
    }

    /// @dev External so that the timelock's revert can be expected.
    function executeWiring(RewardsExits memory r) external {
        _executeRewardsExitsWiring(timelock, r);
    }

    // ------------------------------------------------------------------ rewards

    function test_claim_FeeSharesFromReportUnderNextRoot() public {
        _deposit(alice, 100 ether);
        _reportElRewards(1 ether);
        uint256 received = pool.balanceOf(address(rx.rewards));
        vm.assertGt(received, 0, "operators' fee shares minted to OperatorRewards");
        vm.assertEq(rx.rewards.totalReceived(), received, "received");

        // next report: the root distributes what OperatorRewards already holds
        address[2] memory accounts = [bob, carol];
        uint256[2] memory amounts = [received / 3, received - received / 3];
        bytes32[] memory tree = _tree(accounts, amounts);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.rewardsRoot = tree[0];
        o.rewardsCumulativeShares = received;
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
        vm.assertEq(rx.rewards.rewardsRoot(), tree[0], "root set by the module");

        // anyone claims for bob; the shares go to bob
        bytes32[] memory proof = MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(bob, amounts[0]));
        vm.prank(keeper);
        rx.rewards.claim(bob, amounts[0], proof);
        vm.assertEq(pool.balanceOf(bob), amounts[0], "bob paid");
        vm.assertEq(pool.balanceOf(keeper), 0, "caller paid nothing");
        proof = MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(carol, amounts[1]));
        rx.rewards.claim(carol, amounts[1], proof);
        vm.assertEq(pool.balanceOf(address(rx.rewards)), 0, "all paid out");

        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRewards.NothingToClaim.selector, carol, amounts[1], amounts[1])
        );
        rx.rewards.claim(carol, amounts[1], proof);
    }

    /// @dev The VfpPool's leaf of a report's root: claimed on OperatorRewards directly by someone
    /// else first (the front-run), then booked by the keeper's `VfpPool.claimRewards` with the same
    /// proof; the VEF holders' value grows by exactly the leaf, and a donation changes nothing.
    function test_claimRewards_VfpLeafFromReportBookedDespiteDirectClaim() public {
        address vfpHolder = makeAddr("vfpHolder");
        vm.deal(vfpHolder, 10 ether);
        vm.prank(vfpHolder);
        uint256 vef = vfp.depositEth{value: 10 ether}(vfpHolder);
        _deposit(alice, 100 ether);
        _reportElRewards(1 ether);
        uint256 received = pool.balanceOf(address(rx.rewards));

        address[2] memory accounts = [address(vfp), bob];
        uint256[2] memory amounts = [received / 10, received - received / 10];
        bytes32[] memory tree = _tree(accounts, amounts);
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.rewardsRoot = tree[0];
        o.rewardsCumulativeShares = received;
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));

        uint256 assets = vfp.totalAssets();
        uint256 value = vfp.convertToCs(vef);
        bytes32[] memory proof = MerkleBuilder.proofOf(tree, MerkleBuilder.leaf(address(vfp), amounts[0]));
        vm.prank(carol);
        rx.rewards.claim(address(vfp), amounts[0], proof);
        vm.prank(alice);
        vm.assertTrue(pool.transfer(address(vfp), 1 ether), "donation");
        vm.assertEq(vfp.totalAssets(), assets, "paid, not booked yet");

        vm.prank(keeper);
        vm.assertEq(vfp.claimRewards(amounts[0], proof), amounts[0], "booked by the keeper");
        vm.assertEq(vfp.totalAssets(), assets + amounts[0], "exactly the leaf");
        vm.assertApproxEqAbs(vfp.convertToCs(vef), value + amounts[0], 1, "VEF holders earn it");
        vm.assertEq(
            pool.balanceOf(address(vfp)), vfp.totalAssets() + 1 ether, "the donation stays outside the assets"
        );
    }

    /// @dev OracleReport applies the operators report before the pool books the accounting, so a
    /// root cannot yet count the fee shares that the same report mints: the oracle must publish
    /// rewards one report late (what OperatorRewards held before the report).
    function test_submitReport_RevertWhen_RootCountsSameReportFees() public {
        _deposit(alice, 100 ether);
        _warpToNextFrame();
        vm.deal(address(elVault), 1 ether);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = 1 ether;
        IOperatorsReport.OperatorsReport memory o;
        o.refSlot = r.refSlot;
        o.rewardsRoot = keccak256("root");
        o.rewardsCumulativeShares = 1;
        bytes memory data = abi.encode(bytes32(0), o);
        r.extraDataHash = keccak256(data);
        IOracleReport.Signature[] memory sigs = _sign(r, _quorumKeys());
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRewards.CumulativeSharesExceedReceived.selector, 1, 0)
        );
        oracle.submitReport(r, data, sigs);
    }

    // ------------------------------------------------------------------ exits

    function test_enforceExit_RequestFromReportForcedFromVault() public {
        vm.etch(Eip7002.SYSTEM_CONTRACT, address(new Eip7002Mock()).code);
        uint256 op = _registerHome(bob, 6 ether);
        _addAndVet(op, bob, 300, 1);
        registry.markPreDeposited(op, 1);
        vm.prank(reporter);
        registry.confirmPreDeposits(op, 1);
        registry.markDeposited(op, 1);

        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.exitRequests = new IOperatorsReport.ExitRequest[](1);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(op), 0);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
        uint256 deadline = registry.exitRequestDeadline(op, 0);
        vm.assertGt(deadline, block.timestamp, "request pending");

        vm.deal(keeper, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.ExitDeadlineNotPassed.selector, op, 0, deadline));
        vm.prank(keeper);
        rx.enforcer.enforceExit{value: 1}(op, 0);

        vm.warp(deadline + 1);
        uint256 vaultBalance = address(wVault).balance;
        vm.recordLogs();
        vm.prank(keeper);
        rx.enforcer.enforceExit{value: 1}(op, 0);
        vm.assertEq(
            _lastSystemLog(vm.getRecordedLogs()),
            abi.encodePacked(address(wVault), _pubkey(300), uint64(0)),
            "full exit of the registry's key, sent from the withdrawal-credential vault"
        );
        vm.assertEq(address(wVault).balance, vaultBalance, "vault ETH untouched");
        vm.assertEq(rx.enforcer.missedExits(op), 1, "missed exit counted");
    }

    /// An operator that obeyed the request: the next report sees its validator exiting and clears
    /// the request (exitsStarted), so once the deadline has passed nobody can charge it a missed
    /// exit or pay a needless EIP-7002 request for it (docs/adr/0007).
    function test_enforceExit_RevertWhen_ReportSawTheValidatorExit() public {
        vm.etch(Eip7002.SYSTEM_CONTRACT, address(new Eip7002Mock()).code);
        uint256 op = _registerHome(bob, 6 ether);
        _addAndVet(op, bob, 300, 1);
        registry.markPreDeposited(op, 1);
        vm.prank(reporter);
        registry.confirmPreDeposits(op, 1);
        registry.markDeposited(op, 1);

        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory o;
        (o.refSlot,) = oracle.currentFrame();
        o.exitRequests = new IOperatorsReport.ExitRequest[](1);
        o.exitRequests[0] = IOperatorsReport.ExitRequest(uint64(op), 0);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), o));
        uint256 deadline = registry.exitRequestDeadline(op, 0);

        // the operator exits within the day; the next report sees the validator exiting
        _warpToNextFrame();
        IOperatorsReport.OperatorsReport memory seen;
        (seen.refSlot,) = oracle.currentFrame();
        seen.exitsStarted = new IOperatorsReport.ExitRequest[](1);
        seen.exitsStarted[0] = IOperatorsReport.ExitRequest(uint64(op), 0);
        _submitWith(_emptyReport(), abi.encode(bytes32(0), seen));
        vm.assertEq(registry.exitRequestDeadline(op, 0), 0, "request closed");
        vm.assertEq(registry.getOperator(op).pendingExitRequests, 0, "nothing pending");

        vm.warp(deadline + 1);
        vm.deal(keeper, 1 ether);
        vm.recordLogs();
        vm.expectRevert(abi.encodeWithSelector(IExitEnforcer.NoPendingExitRequest.selector, op, 0));
        vm.prank(keeper);
        rx.enforcer.enforceExit{value: 1}(op, 0);
        vm.assertEq(rx.enforcer.missedExits(op), 0, "no missed exit charged");
        vm.assertEq(keeper.balance, 1 ether, "no fee paid");
    }

    // ------------------------------------------------------------------ helpers

    function _tree(address[2] memory accounts, uint256[2] memory amounts)
        internal
        pure
        returns (bytes32[] memory)
    {
        bytes32[] memory leaves = new bytes32[](2);
        for (uint256 i; i < 2; ++i) {
            leaves[i] = MerkleBuilder.leaf(accounts[i], amounts[i]);
        }
        return MerkleBuilder.build(leaves);
    }

    function _lastSystemLog(Vm.Log[] memory logs) internal pure returns (bytes memory) {
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].emitter == Eip7002.SYSTEM_CONTRACT && logs[i - 1].topics.length == 0) {
                return logs[i - 1].data;
            }
        }
        revert("no request log");
    }
}
