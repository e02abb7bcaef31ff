// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SystemDeployer} from "../../script/SystemDeployer.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {SanityChecker} from "../../src/oracle/SanityChecker.sol";
import {ElRewardsVault, WithdrawalVault} from "../../src/pool/PoolVault.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../src/pool/WithdrawalQueue.sol";
import {TestBase} from "./TestBase.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice Deploys the whole staking core the way script/Deploy.s.sol does, with five oracle
/// members (quorum 3) and mainnet frame timing, plus helpers to stake and to sign reports.
abstract contract Fixture is TestBase, SystemDeployer {
    uint256 internal constant N_MEMBERS = 5;
    uint256 internal constant QUORUM = 3;
    uint64 internal constant GENESIS = 1_606_824_023;
    uint32 internal constant SECONDS_PER_SLOT = 12;
    uint32 internal constant SLOTS_PER_EPOCH = 32;
    uint32 internal constant EPOCHS_PER_FRAME = 225;
    uint256 internal constant FRAME_SECONDS = uint256(SECONDS_PER_SLOT) * SLOTS_PER_EPOCH * EPOCHS_PER_FRAME;
    uint256 internal constant SEED = 1e15;

    StakePool internal pool;
    WithdrawalQueue internal queue;
    OracleReport internal oracle;
    SanityChecker internal sanity;
    WithdrawalVault internal wVault;
    ElRewardsVault internal elVault;
    TimelockController internal timelock;
    address internal tl;
    Operators internal ops;
    address internal depositContract;

    address internal guardian;
    address internal treasury;
    address internal operatorRewards;
    address internal insurance;
    address internal alice;
    address internal bob;
    address internal carol;

    /// @dev member keys sorted by address, ascending
    uint256[] internal memberKeys;
    address[] internal members;

    function setUp() public virtual {
        vm.warp(GENESIS + 1000 days);
        guardian = makeAddr("guardian");
        treasury = makeAddr("treasury");
        operatorRewards = makeAddr("operatorRewards");
        insurance = makeAddr("insurance");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        for (uint256 i = 0; i < N_MEMBERS; ++i) {
            (address a, uint256 k) = makeAccount(string.concat("member", vm.toString(i)));
            members.push(a);
            memberKeys.push(k);
        }
        _sortMembers();

        address[] memory proposers = new address[](1);
        proposers[0] = address(this);
        address[] memory executors = new address[](1);
        executors[0] = address(0);
        Config memory c = Config({
            guardian: guardian,
            oracleMembers: members,
            quorum: QUORUM,
            frame: IOracleReport.FrameConfig(GENESIS, SECONDS_PER_SLOT, SLOTS_PER_EPOCH, EPOCHS_PER_FRAME),
            initialRefSlot: 0,
            timelockDelay: 2 days,
            proposers: proposers,
            executors: executors,
            treasury: treasury,
            operatorRewards: operatorRewards,
            insuranceFund: insurance,
            seed: SEED,
            minDeposit: 0.001 ether,
            dailyStakeLimit: 150_000 ether,
            depositContract: address(0)
        });
        vm.deal(address(this), SEED);
        System memory s = _deploySystem(c, address(this));
        pool = s.pool;
        queue = s.queue;
        oracle = s.oracle;
        sanity = s.sanity;
        wVault = s.withdrawalVault;
        elVault = s.elRewardsVault;
        timelock = s.timelock;
        tl = address(timelock);
        ops = s.ops;
        depositContract = s.depositContract;
        vm.label(address(pool), "pool");
        vm.label(address(queue), "queue");
        vm.label(address(oracle), "oracle");
        // first report: establishes lastRefSlot so later reports have a one-frame elapsed time
        _warpToNextFrame();
        _submit(_emptyReport());
    }

    // ------------------------------------------------------------------ staking helpers

    function _deposit(address who, uint256 amount) internal returns (uint256 shares) {
        vm.deal(who, who.balance + amount);
        vm.prank(who);
        shares = pool.deposit{value: amount}();
    }

    function _request(address who, uint256 shares) internal returns (uint256 id) {
        vm.prank(who);
        id = queue.requestWithdrawal(shares, who);
    }

    // ------------------------------------------------------------------ report helpers

    function _warpToNextFrame() internal {
        (, uint256 deadline) = oracle.currentFrame();
        vm.warp(deadline + 1);
    }

    /// @dev A report for the current frame that changes nothing.
    function _emptyReport() internal view returns (IOracleReport.Report memory r) {
        (uint256 refSlot,) = oracle.currentFrame();
        ISanityChecker.ValidatorCounts memory c = oracle.lastValidatorCounts();
        r.consensusVersion = 1;
        r.refSlot = refSlot;
        r.validatorsDeposited = c.deposited;
        r.validatorsActive = c.active;
        r.validatorsExited = c.exited;
        r.validatorsSlashed = c.slashed;
        r.clBalance = pool.clBalance();
        r.clDepositsProcessed = pool.clDepositsProcessed();
    }

    function _sign(IOracleReport.Report memory r, uint256[] memory keys)
        internal
        view
        returns (IOracleReport.Signature[] memory sigs)
    {
        bytes32 digest = oracle.reportDigest(r);
        sigs = new IOracleReport.Signature[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
    }

    function _quorumKeys() internal view returns (uint256[] memory keys) {
        keys = new uint256[](QUORUM);
        for (uint256 i = 0; i < QUORUM; ++i) {
            keys[i] = memberKeys[i];
        }
    }

    function _submit(IOracleReport.Report memory r) internal {
        oracle.submitReport(r, "", _sign(r, _quorumKeys()));
    }

    /// @dev Submits `r` committing to `extraData` (empty: no operator data).
    function _submitWith(IOracleReport.Report memory r, bytes memory extraData) internal {
        r.extraDataHash = extraData.length == 0 ? bytes32(0) : keccak256(extraData);
        oracle.submitReport(r, extraData, _sign(r, _quorumKeys()));
    }

    /// @dev Next frame; EL rewards `elRewards` appear in the vault and the report offers them.
    function _reportElRewards(uint256 elRewards) internal {
        _warpToNextFrame();
        vm.deal(address(elVault), address(elVault).balance + elRewards);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = address(elVault).balance;
        _submit(r);
    }

    /// @dev Next frame; finalizes the queue up to `upTo` at the current rate.
    function _reportFinalize(uint256 upTo) internal {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.finalizeUpToRequestId = upTo;
        r.finalizationShareRate = pool.shareRate();
        _submit(r);
    }

    function _sortMembers() private {
        uint256 n = members.length;
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && members[j - 1] > members[j]; --j) {
                (members[j - 1], members[j]) = (members[j], members[j - 1]);
                (memberKeys[j - 1], memberKeys[j]) = (memberKeys[j], memberKeys[j - 1]);
            }
        }
    }

    receive() external payable {}
}
