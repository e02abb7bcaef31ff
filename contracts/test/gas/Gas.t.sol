// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Gas of the user-facing calls in steady state, recorded with `vm.snapshotGasLastCall`
/// into snapshots/GasTest.json. Everything is prepared in setUp (a separate transaction), so the
/// measured call starts cold, like a real transaction. The figure is the call's execution gas,
/// without the 21,000 intrinsic gas and the calldata cost (run with `--isolate` to get the full
/// transaction gas instead).
abstract contract GasBase is Fixture {
    address internal dave;
    uint256 internal finalizedId;
    IOracleReport.Report internal nextReport;
    IOracleReport.Signature[] internal nextSigs;

    function setUp() public virtual override {
        super.setUp();
        dave = makeAddr("dave");
        vm.deal(dave, 1 ether);
        vm.deal(alice, 1 ether);
        _deposit(alice, 100 ether);
        _deposit(bob, 100 ether);
        // fee recipients already hold shares after one positive report
        _reportElRewards(0.01 ether);
        _request(bob, 1 ether);
        finalizedId = _request(alice, 1 ether);
        _reportFinalize(finalizedId);
        _request(bob, 1 ether); // the queue is not empty
        _prepareNextReport();
    }

    function _prepareNextReport() internal virtual {
        _warpToNextFrame();
        vm.deal(address(elVault), address(elVault).balance + 0.01 ether);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = address(elVault).balance;
        _store(r);
    }

    function _store(IOracleReport.Report memory r) internal {
        nextReport = r;
        IOracleReport.Signature[] memory sigs = _sign(r, memberKeys);
        for (uint256 i = 0; i < sigs.length; ++i) {
            nextSigs.push(sigs[i]);
        }
    }
}

contract GasTest is GasBase {
    function test_gas_depositNewHolder() public {
        vm.prank(dave);
        pool.deposit{value: 1 ether}();
        uint256 g = vm.snapshotGasLastCall("deposit (new holder)");
        vm.assertLe(g, 65_000, "deposit gas target");
    }

    function test_gas_depositExistingHolder() public {
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
        vm.snapshotGasLastCall("deposit (existing holder)");
    }

    function test_gas_requestWithdrawal() public {
        vm.prank(alice);
        queue.requestWithdrawal(1 ether, alice);
        uint256 g = vm.snapshotGasLastCall("requestWithdrawal");
        vm.assertLe(g, 150_000, "requestWithdrawal gas target");
    }

    function test_gas_claim() public {
        vm.prank(alice);
        queue.claim(finalizedId, alice);
        uint256 g = vm.snapshotGasLastCall("claim");
        vm.assertLe(g, 80_000, "claim gas target");
    }

    function test_gas_flashExit() public {
        vm.prank(alice);
        pool.flashExit(1 ether, 0);
        uint256 g = vm.snapshotGasLastCall("flashExit");
        vm.assertLe(g, 90_000, "flashExit gas target");
    }

    function test_gas_submitReport5Signatures() public {
        oracle.submitReport(nextReport, "", nextSigs);
        uint256 g = vm.snapshotGasLastCall("submitReport (5 signatures, EL rewards, fee mint)");
        vm.assertLe(g, 200_000, "report gas target");
    }
}

/// @notice The same report finalizing one request (ETH moved to the queue, shares burned).
contract GasFinalizationTest is GasBase {
    function _prepareNextReport() internal override {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.finalizeUpToRequestId = queue.lastRequestId();
        r.finalizationShareRate = pool.shareRate();
        _store(r);
    }

    function test_gas_submitReport5SignaturesWithFinalization() public {
        oracle.submitReport(nextReport, "", nextSigs);
        vm.snapshotGasLastCall("submitReport (5 signatures, finalizes 1 request)");
    }
}
