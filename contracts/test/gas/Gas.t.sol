// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Gas of the user-facing calls in steady state, recorded with `vm.snapshotGasLastCall`
/// into snapshots/Gas.json (call gas: execution of the external call, without the 21,000
/// intrinsic transaction gas and calldata).
contract GasTest is Fixture {
    address internal dave;

    function setUp() public override {
        super.setUp();
        dave = makeAddr("dave");
        _deposit(alice, 100 ether);
        _deposit(bob, 100 ether);
        // fee recipients already hold shares after one positive report
        _reportElRewards(0.01 ether);
    }

    function test_gas_depositNewHolder() public {
        vm.deal(dave, 1 ether);
        vm.prank(dave);
        pool.deposit{value: 1 ether}();
        uint256 g = vm.snapshotGasLastCall("deposit (new holder)");
        vm.assertLe(g, 65_000, "deposit gas target");
    }

    function test_gas_depositExistingHolder() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        pool.deposit{value: 1 ether}();
        vm.snapshotGasLastCall("deposit (existing holder)");
    }

    function test_gas_requestWithdrawal() public {
        _request(bob, 1 ether);
        vm.prank(alice);
        queue.requestWithdrawal(1 ether, alice);
        uint256 g = vm.snapshotGasLastCall("requestWithdrawal");
        vm.assertLe(g, 150_000, "requestWithdrawal gas target");
    }

    function test_gas_claim() public {
        _request(bob, 1 ether);
        uint256 id = _request(alice, 1 ether);
        _reportFinalize(id);
        vm.prank(alice);
        queue.claim(id, alice);
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
        _warpToNextFrame();
        vm.deal(address(elVault), address(elVault).balance + 0.01 ether);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = address(elVault).balance;
        IOracleReport.Signature[] memory sigs = _sign(r, memberKeys);
        oracle.submitReport(r, sigs);
        uint256 g = vm.snapshotGasLastCall("submitReport (5 signatures, EL rewards, fee mint)");
        vm.assertLe(g, 200_000, "report gas target");
    }

    function test_gas_submitReport5SignaturesWithFinalization() public {
        uint256 id = _request(alice, 1 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.finalizeUpToRequestId = id;
        r.finalizationShareRate = pool.shareRate();
        oracle.submitReport(r, _sign(r, memberKeys));
        vm.snapshotGasLastCall("submitReport (5 signatures, finalizes 1 request)");
    }
}
