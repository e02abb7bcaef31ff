// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../src/interfaces/ISanityChecker.sol";
import {OracleReport} from "../src/oracle/OracleReport.sol";
import {ElRewardsVault} from "../src/pool/PoolVault.sol";
import {StakePool} from "../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../src/pool/WithdrawalQueue.sol";
import {Vm} from "../test/utils/Vm.sol";
import {Console} from "./Console.sol";
import {DevnetKeys} from "./DevnetKeys.sol";

/// @notice Devnet walk-through on a deployment made by script/Deploy.s.sol with its defaults.
/// Phase 1 (`run()`): two stakers deposit, 0.005 ETH of "MEV" lands in the ElRewardsVault, the
/// oracle members sign and anyone submits the frame report (rewards pulled, fee minted), a staker
/// requests a withdrawal. Then the chain must enter the next oracle frame (see the README of the
/// devnet wrapper: `cast rpc evm_increaseTime <frame seconds>` and `cast rpc evm_mine`).
/// Phase 2 (`finalizeAndClaim()`): the next report finalizes the request, the staker claims.
contract Demo is DevnetKeys {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    StakePool internal pool;
    WithdrawalQueue internal queue;
    OracleReport internal oracle;
    address internal elVault;

    function run() external {
        _load();
        uint256 alice = _anvilKey(8);
        uint256 bob = _anvilKey(9);

        vm.startBroadcast(alice);
        pool.deposit{value: 10 ether}();
        vm.stopBroadcast();
        vm.startBroadcast(bob);
        pool.deposit{value: 5 ether}();
        vm.stopBroadcast();

        // priority fees / MEV paid to the protocol's fee recipient
        vm.startBroadcast(_anvilKey(0));
        (bool ok,) = elVault.call{value: 0.005 ether}("");
        require(ok, "fund EL vault");
        vm.stopBroadcast();

        IOracleReport.Report memory r = _report();
        r.elRewardsVaultAvailable = elVault.balance;
        _submit(r);
        Console.log("report 1 applied, ref slot", r.refSlot);

        vm.startBroadcast(alice);
        uint256 id = queue.requestWithdrawal(pool.convertToShares(2 ether), vm.addr(alice));
        vm.stopBroadcast();
        Console.log("withdrawal requested, id", id);
        _print();
        (, uint256 deadline) = oracle.currentFrame();
        Console.log("next frame starts at (unix time)", deadline);
    }

    function finalizeAndClaim() external {
        _load();
        uint256 alice = _anvilKey(8);
        uint256 id = queue.lastRequestId();

        IOracleReport.Report memory r = _report();
        r.elRewardsVaultAvailable = elVault.balance;
        r.finalizeUpToRequestId = id;
        r.finalizationShareRate = pool.shareRate();
        _submit(r);
        Console.log("report 2 applied, finalized up to request", queue.lastFinalizedRequestId());

        vm.startBroadcast(alice);
        uint256 paid = queue.claim(id, vm.addr(alice));
        vm.stopBroadcast();
        Console.log("claimed (wei)", paid);
        _print();
    }

    function _load() internal {
        string memory json = vm.readFile(
            string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json")
        );
        pool = StakePool(payable(vm.parseJsonAddress(json, ".stakePool")));
        queue = WithdrawalQueue(payable(vm.parseJsonAddress(json, ".withdrawalQueue")));
        oracle = OracleReport(vm.parseJsonAddress(json, ".oracleReport"));
        elVault = vm.parseJsonAddress(json, ".elRewardsVault");
    }

    /// @dev A report for the current frame carrying the pool's current CL view (no validators yet).
    function _report() internal view returns (IOracleReport.Report memory r) {
        (uint256 refSlot,) = oracle.currentFrame();
        ISanityChecker.ValidatorCounts memory c = oracle.lastValidatorCounts();
        r.consensusVersion = oracle.CONSENSUS_VERSION();
        r.refSlot = refSlot;
        r.validatorsDeposited = c.deposited;
        r.validatorsActive = c.active;
        r.validatorsExited = c.exited;
        r.validatorsSlashed = c.slashed;
        r.clBalance = pool.clBalance();
        r.clDepositsProcessed = pool.clDepositsProcessed();
    }

    /// @dev Members anvil #2, #3, #4 sign; signatures sorted by signer address.
    function _submit(IOracleReport.Report memory r) internal {
        bytes32 digest = oracle.reportDigest(r);
        uint256[3] memory keys = [_anvilKey(2), _anvilKey(3), _anvilKey(4)];
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(keys[j - 1]) > vm.addr(keys[j]); --j) {
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
        IOracleReport.Signature[] memory sigs = new IOracleReport.Signature[](3);
        for (uint256 i = 0; i < 3; ++i) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = IOracleReport.Signature(rr, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
        vm.startBroadcast(_anvilKey(0));
        oracle.submitReport(r, "", sigs);
        vm.stopBroadcast();
    }

    function _print() internal view {
        Console.log("StakePool (csETH)", address(pool));
        Console.log("WithdrawalQueue", address(queue));
        Console.log("OracleReport", address(oracle));
        Console.log("total pooled ETH (wei)", pool.totalPooledEther());
        Console.log("csETH total supply", pool.totalSupply());
        Console.log("csETH rate (ETH per csETH, 1e27)", pool.shareRate());
    }
}
