// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorsReport} from "../../src/interfaces/IOperatorsReport.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {OperatorsSystemFixture} from "../utils/OperatorsSystemFixture.sol";

/// @notice Gas of submitReport with an operators report for 100 operators (scores, penalties and
/// exited/stuck entries for each).
contract OperatorsReportGasTest is OperatorsSystemFixture {
    uint256 internal constant N = 100;
    IOracleReport.Report internal r;
    bytes internal data;
    IOracleReport.Signature[] internal sigs;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 10 ether);
        for (uint256 i; i < N; ++i) {
            _registerHome(makeAddr(string.concat("home", vm.toString(i))), 2 ether);
        }
        _warpToNextFrame();
        IOracleReport.Report memory rep = _emptyReport();
        IOperatorsReport.OperatorsReport memory o;
        o.refSlot = rep.refSlot;
        o.scores = new IOperatorsReport.OperatorScore[](N);
        o.penalties = new IOperatorsReport.OperatorPenalty[](N);
        o.exited = new IOperatorsReport.OperatorExited[](N);
        for (uint256 i; i < N; ++i) {
            uint64 id = uint64(i);
            o.scores[i] = IOperatorsReport.OperatorScore(id, uint32(5000 + i));
            o.penalties[i] = IOperatorsReport.OperatorPenalty(id, 0.01 ether, 1);
            o.exited[i] = IOperatorsReport.OperatorExited(id, 0, 0);
        }
        data = abi.encode(bytes32(0), o);
        rep.extraDataHash = keccak256(data);
        r = rep;
        IOracleReport.Signature[] memory s = _sign(rep, _quorumKeys());
        for (uint256 i; i < s.length; ++i) {
            sigs.push(s[i]);
        }
    }

    function test_gas_submitReport100Operators() public {
        oracle.submitReport(r, data, sigs);
        uint256 g =
            vm.snapshotGasLastCall("submitReport + operators report (100 scores, 100 penalties, 100 exited)");
        vm.assertEq(registry.getOperator(N - 1).score, 5000 + N - 1, "applied");
        vm.snapshotValue("operators report gas per operator", g / N);
    }
}
