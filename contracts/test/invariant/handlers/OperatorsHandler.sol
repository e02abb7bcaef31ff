// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBondManager} from "../../../src/interfaces/IBondManager.sol";
import {IOperatorRegistry} from "../../../src/interfaces/IOperatorRegistry.sol";
import {BondManager} from "../../../src/operators/BondManager.sol";
import {InsuranceFund} from "../../../src/operators/InsuranceFund.sol";
import {OperatorRegistry} from "../../../src/operators/OperatorRegistry.sol";
import {OperatorRewards} from "../../../src/operators/OperatorRewards.sol";
import {VfpPool} from "../../../src/operators/VfpPool.sol";
import {MockPool} from "../../mocks/MockPool.sol";
import {MerkleBuilder} from "../../utils/MerkleBuilder.sol";
import {Vm} from "../../utils/Vm.sol";

/// @notice Drives the operator contracts through random sequences of operator, oracle, depositor,
/// VFP and governance actions, keeping ghost copies of what the invariants check.
contract OperatorsHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct Roles {
        address admin;
        address vetter;
        address reporter;
        address depositor;
        address distributor;
        address module;
    }

    OperatorRegistry internal immutable registry;
    BondManager internal immutable bonds;
    VfpPool internal immutable vfp;
    InsuranceFund internal immutable fund;
    MockPool internal immutable pool;
    OperatorRewards public immutable operatorRewards;
    Roles internal roles;

    uint256[] public ops;
    address[] public vfps;
    /// key seeds ever tried (0 .. KEY_SPACE - 1): small, so duplicates are tried often
    uint256 public constant KEY_SPACE = 48;

    // ------------------------------------------------------------------ ghosts
    mapping(uint256 operatorId => uint256) public ghostBondIn;
    mapping(uint256 operatorId => uint256) public ghostBondClaimed;
    mapping(uint256 operatorId => uint256) public ghostBondPenalized;
    uint256 public ghostBondShrankOutsidePenalty;
    uint256 public ghostWaterfallOrderViolations;
    uint256 public ghostDuplicateKeysAccepted;
    /// a close accepted for a key without a pending request, or refused for one with
    uint256 public ghostClosedWithoutRequest;
    uint256 public ghostCloseRefused;
    /// coverage: requests actually closed
    uint256 public hitsExitClosed;
    /// coverage counters: how often the later layers and duplicate keys were exercised
    uint256 public hitsVfpLayer;
    uint256 public hitsInsuranceLayer;
    uint256 public hitsHoldersLayer;
    uint256 public hitsDuplicateKeyAttempts;
    uint256 public ghostVfpIn;
    uint256 public ghostVfpOut;
    uint256 public ghostVfpAbsorbed;
    uint256[] internal pendingRequests;
    mapping(uint256 requestId => uint256) public requestVef;
    uint256 public ghostEscrowedVef;
    /// csETH sent to the VfpPool directly (never booked)
    uint256 public ghostVfpDonated;
    /// rewards the VfpPool booked from OperatorRewards (claimRewards + syncRewards)
    uint256 public ghostVfpRewardsBooked;
    /// a claimRewards / syncRewards that booked other than OperatorRewards' new payments
    uint256 public ghostVfpRewardsMisbooked;
    /// the VfpPool's and one operator's cumulative leaves under the current rewards root
    uint256 public vfpCumulative;
    uint256 public otherCumulative;
    bytes32[] internal _rewardsTree;
    uint256 internal _rewardsRefSlot;
    mapping(bytes4 => uint256) public calls;

    bool internal inPenaltyOrClaim;

    constructor(
        OperatorRegistry registry_,
        BondManager bonds_,
        VfpPool vfp_,
        InsuranceFund fund_,
        MockPool pool_,
        OperatorRewards operatorRewards_,
        Roles memory roles_,
        uint256[] memory ops_,
        address[] memory vfps_
    ) {
        registry = registry_;
        bonds = bonds_;
        vfp = vfp_;
        fund = fund_;
        pool = pool_;
        operatorRewards = operatorRewards_;
        roles = roles_;
        ops = ops_;
        vfps = vfps_;
        for (uint256 i; i < ops_.length; ++i) {
            ghostBondIn[ops_[i]] = bonds_.bondShares(ops_[i]);
        }
    }

    /// @dev Wraps each action: a bond may only shrink inside a penalty or a claim.
    modifier checked() {
        uint256 n = ops.length;
        uint256[] memory before = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            before[i] = bonds.bondShares(ops[i]);
        }
        calls[msg.sig]++;
        _;
        if (!inPenaltyOrClaim) {
            for (uint256 i; i < n; ++i) {
                if (bonds.bondShares(ops[i]) < before[i]) ++ghostBondShrankOutsidePenalty;
            }
        }
        inPenaltyOrClaim = false;
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (x % (max - min + 1));
    }

    function _op(uint256 seed) internal view returns (uint256) {
        return ops[seed % ops.length];
    }

    function _manager(uint256 id) internal view returns (address) {
        return registry.getOperator(id).manager;
    }

    function pubkey(uint256 seed) public pure returns (bytes memory) {
        return
            abi.encodePacked(keccak256(abi.encode("pk", seed)), bytes16(keccak256(abi.encode("pk2", seed))));
    }

    // ================================================================== registry

    function addKeys(uint256 opSeed, uint256 keySeed, uint256 count) external checked {
        uint256 id = _op(opSeed);
        count = _bound(count, 1, 3);
        bytes memory pks;
        bytes memory sigs;
        bool anyTaken;
        for (uint256 i; i < count; ++i) {
            uint256 s = (keySeed + i * 7) % KEY_SPACE;
            bytes memory pk = pubkey(s);
            (bool taken,,) = registry.keyOwner(pk);
            for (uint256 j; j < i; ++j) {
                if ((keySeed + j * 7) % KEY_SPACE == s) taken = true;
            }
            anyTaken = anyTaken || taken;
            pks = bytes.concat(pks, pk);
            sigs = bytes.concat(sigs, new bytes(96));
        }
        if (anyTaken) ++hitsDuplicateKeyAttempts;
        vm.prank(_manager(id));
        try registry.addKeys(id, pks, sigs) {
            if (anyTaken) ++ghostDuplicateKeysAccepted;
        } catch {}
    }

    function removeKeys(uint256 opSeed, uint256 from, uint256 count) external checked {
        uint256 id = _op(opSeed);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        if (op.totalKeys == op.preDeposited) return;
        from = _bound(from, op.preDeposited, op.totalKeys - 1);
        count = _bound(count, 1, op.totalKeys - from);
        vm.prank(op.manager);
        registry.removeKeys(id, from, count);
    }

    function depositKeys(uint256 opSeed, uint256 count, bool frontRunFirst) external checked {
        uint256 id = _op(opSeed);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        if (op.totalKeys > op.vettedLimit) {
            vm.prank(roles.vetter);
            registry.setVettedLimit(id, op.totalKeys);
        }
        uint256 available = registry.depositableKeys(id);
        count = _bound(count, 0, available < 5 ? available : 5);
        if (count == 0) return;
        vm.prank(roles.depositor);
        uint256 from = registry.markPreDeposited(id, count);
        vm.startPrank(roles.reporter);
        if (frontRunFirst) registry.markFrontRun(id, from);
        registry.confirmPreDeposits(id, from + count);
        vm.stopPrank();
        uint256 toTopUp = from + count - registry.getOperator(id).topUpCursor;
        vm.prank(roles.depositor);
        registry.markDeposited(id, toTopUp);
        if (frontRunFirst) {
            vm.prank(roles.admin);
            registry.setStopped(id, false); // governance lets it continue, for the sake of the run
        }
    }

    function exitKeys(uint256 opSeed, uint256 count, bool settle) external checked {
        uint256 id = _op(opSeed);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        uint256 exited = op.exited + _bound(count, 0, op.deposited - op.exited);
        vm.startPrank(roles.reporter);
        registry.updateExitedAndStuck(id, exited, 0);
        if (settle && exited > bonds.settledExits(id)) bonds.settleExits(id, exited);
        vm.stopPrank();
    }

    /// @notice The oracle asks a topped-up key to exit (a no-op while one is pending).
    function requestExit(uint256 opSeed, uint256 keySeed, uint256 delay) external checked {
        uint256 id = _op(opSeed);
        IOperatorRegistry.OperatorInfo memory op = registry.getOperator(id);
        if (op.topUpCursor == 0) return;
        uint256 key = keySeed % op.topUpCursor;
        (,, IOperatorRegistry.KeyStatus status) = registry.getKey(id, key);
        if (status != IOperatorRegistry.KeyStatus.Deposited) return; // front-run keys cannot
        vm.prank(roles.reporter);
        registry.requestExit(id, key, block.timestamp + _bound(delay, 1 days, 30 days));
    }

    /// @notice The oracle saw a requested validator exiting: its request is closed (the module's
    /// `exitsStarted`), or a key without a pending request is refused.
    function closeExitRequest(uint256 opSeed, uint256 keySeed) external checked {
        uint256 id = _op(opSeed);
        uint256 total = registry.getOperator(id).totalKeys;
        if (total == 0) return;
        uint256 key = keySeed % total;
        bool pending = registry.exitRequestDeadline(id, key) != 0;
        vm.prank(roles.reporter);
        try registry.clearExitRequest(id, key) {
            if (!pending) ++ghostClosedWithoutRequest;
            ++hitsExitClosed;
        } catch {
            if (pending) ++ghostCloseRefused;
        }
    }

    function setScore(uint256 opSeed, uint256 score) external checked {
        vm.prank(roles.reporter);
        registry.setScore(_op(opSeed), _bound(score, 0, 10_000));
    }

    // ================================================================== bonds

    function depositBond(uint256 opSeed, uint256 amount) external checked {
        uint256 id = _op(opSeed);
        amount = _bound(amount, 0.01 ether, 10 ether);
        address m = _manager(id);
        vm.deal(m, amount);
        vm.prank(m);
        ghostBondIn[id] += bonds.depositBond{value: amount}(id);
    }

    function claimExcess(uint256 opSeed, uint256 fraction) external checked {
        uint256 id = _op(opSeed);
        uint256 shares = bonds.claimableShares(id) * _bound(fraction, 1, 100) / 100;
        if (shares == 0) return;
        inPenaltyOrClaim = true;
        vm.prank(_manager(id));
        bonds.claimExcess(id, shares);
        ghostBondClaimed[id] += shares;
    }

    function penalize(uint256 opSeed, uint256 amount) external checked {
        uint256 id = _op(opSeed);
        amount = _bound(amount, 0, 20 ether);
        uint256 before = bonds.bondShares(id);
        inPenaltyOrClaim = true;
        vm.prank(roles.reporter);
        bonds.penalize(id, amount);
        ghostBondPenalized[id] += before - bonds.bondShares(id);
    }

    function coverLoss(uint256 opSeed, uint256 amount) external checked {
        uint256 id = _op(opSeed);
        amount = _bound(amount, 0, 40 ether);
        uint256 bondBefore = bonds.bondShares(id);
        uint256 allocatedBefore = vfp.allocatedShares(id);
        uint256 fundBefore = fund.fundShares();
        inPenaltyOrClaim = true;
        vm.prank(roles.reporter);
        IBondManager.LossCoverage memory c = bonds.coverLoss(id, amount);
        uint256 bondAfter = bonds.bondShares(id);
        uint256 allocatedAfter = vfp.allocatedShares(id);
        uint256 fundAfter = fund.fundShares();
        ghostBondPenalized[id] += bondBefore - bondAfter;
        ghostVfpAbsorbed += allocatedBefore - allocatedAfter;
        if (allocatedAfter < allocatedBefore) ++hitsVfpLayer;
        if (fundAfter < fundBefore) ++hitsInsuranceLayer;
        if (c.uncovered != 0) ++hitsHoldersLayer;
        // order, from what each layer actually lost: a later layer pays only once every earlier
        // layer is empty; the holders bear a remainder only once all three are
        if (allocatedAfter < allocatedBefore && bondAfter != 0) ++ghostWaterfallOrderViolations;
        if (fundAfter < fundBefore && (bondAfter != 0 || allocatedAfter != 0)) {
            ++ghostWaterfallOrderViolations;
        }
        if (c.uncovered != 0 && (bondAfter != 0 || allocatedAfter != 0 || fundAfter != 0)) {
            ++ghostWaterfallOrderViolations;
        }
        // the reported split matches the layers' losses and adds up to the loss
        if ((c.fromBond != 0) != (bondAfter < bondBefore)) ++ghostWaterfallOrderViolations;
        if ((c.fromVfp != 0) != (allocatedAfter < allocatedBefore)) ++ghostWaterfallOrderViolations;
        if ((c.fromInsurance != 0) != (fundAfter < fundBefore)) ++ghostWaterfallOrderViolations;
        if (c.fromBond + c.fromVfp + c.fromInsurance + c.uncovered != amount) {
            ++ghostWaterfallOrderViolations;
        }
    }

    function rewards(uint256 permille) external checked {
        uint256 tpe = pool.totalPooledEther();
        pool.setTotalPooledEther(tpe + tpe * _bound(permille, 0, 10) / 1000);
    }

    function fundInsurance(uint256 amount) external checked {
        pool.mintFor(address(fund), _bound(amount, 0, 5 ether));
    }

    // ================================================================== VFP

    function vfpDeposit(uint256 actorSeed, uint256 amount) external checked {
        address a = vfps[actorSeed % vfps.length];
        amount = _bound(amount, 1e15, 50 ether);
        vm.deal(a, amount);
        uint256 assets = vfp.totalAssets();
        vm.prank(a);
        vfp.depositEth{value: amount}(a);
        ghostVfpIn += vfp.totalAssets() - assets;
    }

    function vfpRewards(uint256 amount) external checked {
        amount = _bound(amount, 1, 2 ether);
        uint256 cs = pool.mintFor(roles.distributor, amount);
        if (cs == 0) return;
        vm.startPrank(roles.distributor);
        pool.approve(address(vfp), cs);
        vfp.depositRewards(cs);
        vm.stopPrank();
        ghostVfpIn += cs;
    }

    /// @dev A good operator asks for backing: the oracle scores it above the threshold, and the
    /// amount stays within its own bond (the match cap), so the later waterfall layers get exercised.
    function vfpFund(uint256 opSeed, uint256 amount) external checked {
        uint256 id = _op(opSeed);
        uint256 own = bonds.bondValue(id);
        if (own < 0.02 ether) return;
        amount = _bound(amount, 0.01 ether, own / 2);
        if (registry.getOperator(id).score < vfp.params().scoreThresholdBps) {
            vm.prank(roles.reporter);
            registry.setScore(id, 7000 + amount % 3001);
        }
        vm.prank(_manager(id));
        try vfp.fundOperator(id, amount) {} catch {}
    }

    function vfpRelease(uint256 opSeed, uint256 fraction) external checked {
        uint256 id = _op(opSeed);
        uint256 shares = vfp.allocatedShares(id) * _bound(fraction, 1, 100) / 100;
        if (shares == 0) return;
        vm.prank(roles.admin);
        vfp.releaseFunding(id, shares);
    }

    function vfpRequest(uint256 actorSeed, uint256 fraction) external checked {
        address a = vfps[actorSeed % vfps.length];
        uint256 vef = vfp.balanceOf(a) * _bound(fraction, 1, 100) / 100;
        if (vef == 0) return;
        vm.prank(a);
        uint256 id = vfp.requestWithdrawal(vef);
        pendingRequests.push(id);
        requestVef[id] = vef;
        ghostEscrowedVef += vef;
    }

    function vfpClaim(uint256 index) external checked {
        if (pendingRequests.length == 0) return;
        index = index % pendingRequests.length;
        uint256 id = pendingRequests[index];
        vm.warp(block.timestamp + 7 days);
        address owner = vfp.withdrawalRequest(id).owner;
        uint256 before = pool.balanceOf(owner);
        vm.prank(owner);
        try vfp.claimWithdrawal(id) {
            ghostVfpOut += pool.balanceOf(owner) - before;
            ghostEscrowedVef -= requestVef[id];
            pendingRequests[index] = pendingRequests[pendingRequests.length - 1];
            pendingRequests.pop();
        } catch {}
    }

    // ------------------------------------------------------------------ VFP rewards (oracle tree)

    /// @dev A report: the pool mints the operators' fee to OperatorRewards and the module publishes
    /// a root in which the VfpPool's and one operator's cumulative leaves grew.
    function vfpRewardsRoot(uint256 vfpAmount, uint256 otherAmount) external checked {
        vfpCumulative += _bound(vfpAmount, 0, 2 ether);
        otherCumulative += _bound(otherAmount, 1, 2 ether);
        uint256 total = vfpCumulative + otherCumulative;
        uint256 received = operatorRewards.totalReceived();
        if (total > received) {
            // a little more than needed (MockPool converts ETH to shares rounding down)
            pool.mintFor(address(operatorRewards), pool.convertToAssets(total - received + 1) + 1);
        }
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = MerkleBuilder.leaf(address(vfp), vfpCumulative);
        leaves[1] = MerkleBuilder.leaf(roles.depositor, otherCumulative);
        _rewardsTree = MerkleBuilder.build(leaves);
        vm.prank(roles.module);
        operatorRewards.setRewardsRoot(_rewardsTree[0], total, ++_rewardsRefSlot);
    }

    function _vfpProof() internal view returns (bytes32[] memory) {
        return MerkleBuilder.proofOf(_rewardsTree, MerkleBuilder.leaf(address(vfp), vfpCumulative));
    }

    /// @dev Anyone (a keeper) claims and books the VfpPool's leaf through the VfpPool.
    function vfpClaimRewards() external checked {
        if (_rewardsTree.length == 0) return;
        uint256 expected = operatorRewards.claimed(address(vfp)) < vfpCumulative
            ? vfpCumulative - vfp.rewardsBooked(address(operatorRewards))
            : vfp.pendingRewards();
        uint256 booked = vfp.claimRewards(vfpCumulative, _vfpProof());
        if (booked != expected) ++ghostVfpRewardsMisbooked;
        ghostVfpRewardsBooked += booked;
        ghostVfpIn += booked;
    }

    /// @dev The front-run: someone claims the VfpPool's leaf on OperatorRewards directly.
    function vfpClaimDirect() external checked {
        if (_rewardsTree.length == 0 || operatorRewards.claimed(address(vfp)) >= vfpCumulative) return;
        operatorRewards.claim(address(vfp), vfpCumulative, _vfpProof());
    }

    function vfpSyncRewards() external checked {
        uint256 expected = vfp.pendingRewards();
        uint256 booked = vfp.syncRewards();
        if (booked != expected) ++ghostVfpRewardsMisbooked;
        ghostVfpRewardsBooked += booked;
        ghostVfpIn += booked;
    }

    /// @dev csETH sent to the VfpPool directly: must never become assets.
    function vfpDonate(uint256 amount) external checked {
        ghostVfpDonated += pool.mintFor(address(vfp), _bound(amount, 0, 5 ether));
    }

    // ================================================================== views for the invariants

    function opsLength() external view returns (uint256) {
        return ops.length;
    }

    function vfpsLength() external view returns (uint256) {
        return vfps.length;
    }
}
