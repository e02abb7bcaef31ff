// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IGoverned} from "../../src/interfaces/IGoverned.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {ISanityChecker} from "../../src/interfaces/ISanityChecker.sol";
import {IPoolVault} from "../../src/interfaces/IVaults.sol";
import {Fixture} from "../utils/Fixture.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

contract OracleReportTest is Fixture {
    function _signed(IOracleReport.Report memory r) internal view returns (IOracleReport.Signature[] memory) {
        return _sign(r, _quorumKeys());
    }

    function test_submitReport_AppliesWithQuorum() public {
        _deposit(alice, 100 ether);
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        vm.expectEmit(true, true, false, false);
        emit IOracleReport.ReportSubmitted(r.refSlot, oracle.reportDigest(r), address(this), 3);
        _submit(r);
        vm.assertEq(oracle.lastRefSlot(), r.refSlot, "last ref slot");
    }

    function test_submitReport_AllFiveMembers() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        oracle.submitReport(r, "", _sign(r, memberKeys));
    }

    function test_submitReport_RevertWhen_TooFewSignatures() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        uint256[] memory keys = new uint256[](2);
        keys[0] = memberKeys[0];
        keys[1] = memberKeys[1];
        IOracleReport.Signature[] memory sigs = _sign(r, keys);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.QuorumNotReached.selector, 2, 3));
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_DuplicatedSigner() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        uint256[] memory keys = new uint256[](3);
        keys[0] = memberKeys[0];
        keys[1] = memberKeys[1];
        keys[2] = memberKeys[1];
        IOracleReport.Signature[] memory sigs = _sign(r, keys);
        vm.expectRevert(
            abi.encodeWithSelector(IOracleReport.SignersNotSorted.selector, members[1], members[1])
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_Unsorted() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        uint256[] memory keys = new uint256[](3);
        keys[0] = memberKeys[1];
        keys[1] = memberKeys[0];
        keys[2] = memberKeys[2];
        IOracleReport.Signature[] memory sigs = _sign(r, keys);
        vm.expectRevert(
            abi.encodeWithSelector(IOracleReport.SignersNotSorted.selector, members[1], members[0])
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_NonMember() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        (address outsider, uint256 key) = makeAccount("outsider");
        uint256[] memory keys = new uint256[](3);
        keys[0] = memberKeys[0];
        keys[1] = memberKeys[1];
        keys[2] = key;
        // sort the outsider into place
        address[] memory addrs = new address[](3);
        addrs[0] = members[0];
        addrs[1] = members[1];
        addrs[2] = outsider;
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && addrs[j - 1] > addrs[j]; --j) {
                (addrs[j - 1], addrs[j]) = (addrs[j], addrs[j - 1]);
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
        IOracleReport.Signature[] memory sigs = _sign(r, keys);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.NotAMember.selector, outsider));
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_SignatureForOtherReport() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOracleReport.Signature[] memory sigs = _signed(r);
        r.clBalance = 1; // tampered after signing: recovers to other addresses
        vm.expectRevert();
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_MalformedSignature() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOracleReport.Signature[] memory sigs = _signed(r);
        sigs[0].r = bytes32(0);
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_UnsupportedVersion() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.consensusVersion = 2;
        IOracleReport.Signature[] memory sigs = _signed(r);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.UnsupportedConsensusVersion.selector, 2, 1));
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_StaleFrame() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        IOracleReport.Signature[] memory sigs = _signed(r);
        _warpToNextFrame();
        (uint256 expected,) = oracle.currentFrame();
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.UnexpectedRefSlot.selector, r.refSlot, expected));
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_SameFrameTwice() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        _submit(r);
        IOracleReport.Signature[] memory sigs = _signed(r);
        vm.expectRevert(
            abi.encodeWithSelector(IOracleReport.RefSlotNotIncreasing.selector, r.refSlot, r.refSlot)
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_CountTooLarge() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = uint256(type(uint64).max) + 1;
        IOracleReport.Signature[] memory sigs = _signed(r);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleReport.ValueTooLarge.selector, bytes32("validatorsDeposited"), r.validatorsDeposited
            )
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_submitReport_RevertWhen_AppearedAboveChurn() public {
        _warpToNextFrame();
        IOracleReport.Report memory r = _emptyReport();
        r.validatorsDeposited = 1801;
        IOracleReport.Signature[] memory sigs = _signed(r);
        vm.expectRevert(
            abi.encodeWithSelector(ISanityChecker.AppearedValidatorsExceeded.selector, 1801, 1800)
        );
        oracle.submitReport(r, "", sigs);
    }

    function test_currentFrame_RevertWhen_BeforeFirstFrame() public {
        vm.prank(tl);
        oracle.setFrameConfig(IOracleReport.FrameConfig(uint64(block.timestamp + 1), 12, 32, 225));
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.NoReportableFrame.selector, block.timestamp));
        oracle.currentFrame();
        vm.warp(block.timestamp + 10);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.NoReportableFrame.selector, block.timestamp));
        oracle.currentFrame();
    }

    function test_members_RotatedByManagerOnly() public {
        address newcomer = makeAddr("newcomer");
        bytes32 role = oracle.ORACLE_MANAGER_ROLE();
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, role)
        );
        oracle.addMember(newcomer, 4);
        vm.startPrank(tl);
        oracle.addMember(newcomer, 4);
        vm.assertTrue(oracle.isMember(newcomer), "added");
        vm.assertEq(oracle.getMembers().length, 6, "six");
        oracle.removeMember(members[0], 4);
        vm.assertFalse(oracle.isMember(members[0]), "removed");
        oracle.setQuorum(5);
        vm.assertEq(oracle.quorum(), 5, "quorum");
        vm.stopPrank();
    }

    function test_addMember_RevertWhen_Invalid() public {
        vm.startPrank(tl);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.AlreadyAMember.selector, members[0]));
        oracle.addMember(members[0], 3);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        oracle.addMember(address(0), 3);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.InvalidQuorum.selector, 3, 6));
        oracle.addMember(makeAddr("x"), 3);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.NotAMember.selector, alice));
        oracle.removeMember(alice, 3);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.InvalidQuorum.selector, 6, 5));
        oracle.setQuorum(6);
        vm.expectRevert(abi.encodeWithSelector(IOracleReport.InvalidQuorum.selector, 0, 5));
        oracle.setQuorum(0);
        vm.stopPrank();
    }

    function test_setFrameConfig_RevertWhen_Invalid() public {
        vm.startPrank(tl);
        vm.expectRevert(IOracleReport.InvalidFrameConfig.selector);
        oracle.setFrameConfig(IOracleReport.FrameConfig(GENESIS, 0, 32, 225));
        vm.expectRevert(IOracleReport.InvalidFrameConfig.selector);
        oracle.setFrameConfig(IOracleReport.FrameConfig(GENESIS, 12, 1, 1));
        vm.stopPrank();
        vm.assertEq(oracle.frameConfig().epochsPerFrame, EPOCHS_PER_FRAME, "unchanged");
    }

    function test_setSanityChecker_GovernanceOnly() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bytes32(0)
            )
        );
        oracle.setSanityChecker(alice);
        vm.startPrank(tl);
        vm.expectRevert(IGoverned.ZeroAddress.selector);
        oracle.setSanityChecker(address(0));
        oracle.setSanityChecker(alice);
        vm.stopPrank();
        vm.assertEq(oracle.sanityChecker(), alice, "set");
        vm.assertEq(oracle.pool(), address(pool), "pool");
    }
}

contract SanityCheckerTest is Fixture {
    function test_checkAccounting_RevertWhen_AprExceeded() public {
        // 100 ETH CL, +0.05 ETH in one day = 18.25 % APR
        vm.expectRevert(abi.encodeWithSelector(ISanityChecker.ClAprExceeded.selector, 1825, 1000));
        sanity.checkAccounting(100 ether, 100 ether, 100.05 ether, 1 days, 0, 0, 0);
    }

    function test_checkAccounting_RevertWhen_RateChangeExceeded() public {
        // 10 % APR over 5 days on a pool whose CL part is everything: 0.137 % > 0.075 %
        vm.expectRevert(abi.encodeWithSelector(ISanityChecker.PositiveRateChangeExceeded.selector, 1369, 750));
        sanity.checkAccounting(100 ether, 100 ether, 100.136_986_3 ether, 5 days, 0, 0, 0);
    }

    function test_checkAccounting_RevertWhen_UnexplainedDrop() public {
        vm.expectRevert(abi.encodeWithSelector(ISanityChecker.UnexplainedClDropExceeded.selector, 4000, 3000));
        sanity.checkAccounting(100 ether, 100 ether, 99.6 ether, 1 days, 0, 0, 0);
    }

    function test_checkAccounting_SlashingExplainsDrop() public view {
        sanity.checkAccounting(100 ether, 100 ether, 98.8 ether, 1 days, 1, 0, 0);
    }

    function test_checkAccounting_FrontRunLossExplainsDrop() public view {
        // 1 ETH of a 100 ETH CL lost to a front-run: 1 % unexplained without it, 0 with it
        sanity.checkAccounting(100 ether, 100 ether, 99 ether, 1 days, 0, 1 ether, 0);
        // the 0.3 % tolerance still applies beyond the front-run and the slashings
        sanity.checkAccounting(100 ether, 100 ether, 97.7 ether, 1 days, 1, 1 ether, 0);
    }

    function test_checkAccounting_RevertWhen_DropBeyondFrontRunLoss() public {
        vm.expectRevert(abi.encodeWithSelector(ISanityChecker.UnexplainedClDropExceeded.selector, 4000, 3000));
        sanity.checkAccounting(100 ether, 100 ether, 98.6 ether, 1 days, 0, 1 ether, 0);
    }

    /// The drop bound against a reference: revert exactly when the drop not explained by slashings
    /// and front-run losses exceeds 0.3 % of the pre-report CL value.
    function testFuzz_checkAccounting_UnexplainedDropNetsFrontRuns(
        uint96 preCl,
        uint96 drop,
        uint8 slashed,
        uint8 frontRuns
    ) public {
        preCl = uint96(bound(preCl, 1 ether, 1e9 ether));
        drop = uint96(bound(drop, 1, preCl));
        uint256 explained = uint256(slashed) * 1 ether + uint256(frontRuns) * 1 ether;
        uint256 unexplained = drop > explained ? drop - explained : 0;
        bool fails = unexplained * 1e6 > 3000 * uint256(preCl);
        if (fails) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ISanityChecker.UnexplainedClDropExceeded.selector, unexplained * 1e6 / preCl, 3000
                )
            );
        }
        sanity.checkAccounting(
            uint256(preCl) * 2, preCl, preCl - drop, 1 days, slashed, uint256(frontRuns) * 1 ether, 0
        );
    }

    function test_checkAccounting_CapsElRewards() public view {
        uint256 pull = sanity.checkAccounting(100 ether, 50 ether, 50.01 ether, 1 days, 0, 0, 1 ether);
        vm.assertEq(pull, 0.075 ether - 0.01 ether, "room left by the CL gain");
        pull = sanity.checkAccounting(100 ether, 50 ether, 49.9 ether, 1 days, 0, 0, 1 ether);
        vm.assertEq(pull, 0.075 ether + 0.1 ether, "EL makes good a loss plus the cap");
    }

    function test_checkAccounting_RevertWhen_GainWithoutBase() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISanityChecker.ClAprExceeded.selector, type(uint256).max, 1000)
        );
        sanity.checkAccounting(100 ether, 0, 1, 1 days, 0, 0, 0);
    }

    function test_checkValidatorCounts_RevertWhen_Decreased() public {
        ISanityChecker.ValidatorCounts memory prev = ISanityChecker.ValidatorCounts(10, 8, 2, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISanityChecker.ValidatorCountDecreased.selector, bytes32("deposited"), 9, 10
            )
        );
        sanity.checkValidatorCounts(prev, ISanityChecker.ValidatorCounts(9, 7, 2, 1));
        vm.expectRevert(
            abi.encodeWithSelector(ISanityChecker.ValidatorCountDecreased.selector, bytes32("exited"), 1, 2)
        );
        sanity.checkValidatorCounts(prev, ISanityChecker.ValidatorCounts(10, 8, 1, 1));
        vm.expectRevert(
            abi.encodeWithSelector(ISanityChecker.ValidatorCountDecreased.selector, bytes32("slashed"), 0, 1)
        );
        sanity.checkValidatorCounts(prev, ISanityChecker.ValidatorCounts(10, 8, 2, 0));
    }

    function test_checkValidatorCounts_RevertWhen_Inconsistent() public {
        ISanityChecker.ValidatorCounts memory prev = ISanityChecker.ValidatorCounts(10, 8, 2, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ISanityChecker.ValidatorCountsInconsistent.selector, 10, 11, 1)
        );
        sanity.checkValidatorCounts(prev, ISanityChecker.ValidatorCounts(10, 9, 2, 1));
    }

    function test_checkFinalizationRate_RevertWhen_Deviates() public {
        sanity.checkFinalizationRate(1e27, 1e27 + 1e23);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISanityChecker.FinalizationRateDeviationExceeded.selector, 1.002e27, 1e27, 10
            )
        );
        sanity.checkFinalizationRate(1.002e27, 1e27);
    }

    function test_setLimits_GovernanceOnlyWithinBounds() public {
        ISanityChecker.Limits memory l = sanity.limits();
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, bytes32(0)
            )
        );
        sanity.setLimits(l);
        l.maxClAprBps = 5001;
        vm.prank(tl);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGoverned.ParameterOutOfBounds.selector, bytes32("maxClAprBps"), 5001, 100, 5000
            )
        );
        sanity.setLimits(l);
        l.maxClAprBps = 1200;
        vm.prank(tl);
        sanity.setLimits(l);
        vm.assertEq(sanity.limits().maxClAprBps, 1200, "set");
    }
}

contract PoolVaultTest is Fixture {
    function test_pull_RevertWhen_NotPool() public {
        vm.deal(address(wVault), 1 ether);
        vm.prank(tl);
        vm.expectRevert(abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, tl, address(pool)));
        wVault.pull(1 ether);
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IGoverned.UnauthorizedCaller.selector, guardian, address(pool))
        );
        elVault.pull(1);
    }

    function test_pull_RevertWhen_InsufficientBalance() public {
        vm.prank(address(pool));
        vm.expectRevert(abi.encodeWithSelector(IPoolVault.InsufficientVaultBalance.selector, 1, 0));
        wVault.pull(1);
    }

    function test_pull_SendsToPool() public {
        vm.deal(address(elVault), 1 ether);
        uint256 before = address(pool).balance;
        vm.prank(address(pool));
        elVault.pull(0.4 ether);
        vm.assertEq(address(pool).balance - before, 0.4 ether, "pulled");
        vm.assertEq(elVault.pool(), address(pool), "pool");
    }

    function test_receive_AcceptsEther() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok,) = address(wVault).call{value: 1 ether}("");
        vm.assertTrue(ok, "accepted");
    }
}
