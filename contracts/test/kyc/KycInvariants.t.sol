// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRegistry} from "../../src/access/AccessRegistry.sol";
import {IAccessRegistry} from "../../src/interfaces/IAccessRegistry.sol";
import {IOracleReport} from "../../src/interfaces/IOracleReport.sol";
import {IWithdrawalQueue} from "../../src/interfaces/IWithdrawalQueue.sol";
import {OracleReport} from "../../src/oracle/OracleReport.sol";
import {StakePool} from "../../src/pool/StakePool.sol";
import {WithdrawalQueue} from "../../src/pool/WithdrawalQueue.sol";
import {TestBase} from "../utils/TestBase.sol";
import {KycFixture} from "./KycFixture.sol";

/// @notice Random KYC-pool activity. Ghosts count every time kcsETH reached an address that was
/// not attested at that moment (DESIGN.md invariant 6) and every time a non-denied holder's
/// withdrawal to itself was refused by the access policy (funds frozen for their owner).
contract KycHandler is TestBase {
    StakePool internal immutable POOL;
    WithdrawalQueue internal immutable QUEUE;
    OracleReport internal immutable ORACLE;
    AccessRegistry internal immutable REGISTRY;
    KycInvariantsTest internal immutable SUITE;
    address internal immutable PROVIDER;
    uint8 internal immutable MIN_TIER;

    address[] public actors;
    uint256[] internal keys;

    uint256 public ghostUnattestedReceipts;
    uint256 public ghostFrozenExits;
    uint256 public ghostExitsToSelf;
    uint256 public ghostRefusedTransfers;
    uint256 public ghostAcceptedTransfers;

    constructor(KycInvariantsTest suite, address provider, uint8 minTier, address[] memory extraHolders) {
        SUITE = suite;
        POOL = suite.poolRef();
        QUEUE = suite.queueRef();
        ORACLE = suite.oracleRef();
        REGISTRY = suite.registryRef();
        PROVIDER = provider;
        MIN_TIER = minTier;
        for (uint256 i = 0; i < 5; ++i) {
            (address a, uint256 k) = makeAccount(string.concat("holder", vm.toString(i)));
            actors.push(a);
            keys.push(k);
        }
        // fee recipients take part too: their attestations may lapse while reports mint fees
        for (uint256 i = 0; i < extraHolders.length; ++i) {
            actors.push(extraHolders[i]);
            keys.push(0);
        }
    }

    // ------------------------------------------------------------------ registry actions

    function attest(uint256 who, uint256 validity) external {
        address a = _actor(who);
        validity = bound(validity, 1 hours, 365 days);
        vm.prank(PROVIDER);
        REGISTRY.attest(a, MIN_TIER, uint64(block.timestamp + validity));
    }

    function revoke(uint256 who) external {
        vm.prank(PROVIDER);
        REGISTRY.revoke(_actor(who));
    }

    function setDenied(uint256 who, bool denied) external {
        vm.prank(PROVIDER);
        REGISTRY.setDenied(_actor(who), denied);
    }

    function passTime(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 60 days));
    }

    // ------------------------------------------------------------------ token actions

    function deposit(uint256 who, uint256 amount) external {
        address a = _actor(who);
        amount = bound(amount, 0.01 ether, 50 ether);
        vm.deal(a, a.balance + amount);
        uint256 before = POOL.balanceOf(a);
        vm.prank(a);
        try POOL.deposit{value: amount}() {} catch {}
        _checkReceipt(a, before);
    }

    function transfer(uint256 from, uint256 to, uint256 amount) external {
        (address f, address t) = (_actor(from), _actor(to));
        amount = bound(amount, 0, POOL.balanceOf(f));
        uint256 before = POOL.balanceOf(t);
        vm.prank(f);
        try POOL.transfer(t, amount) {
            ++ghostAcceptedTransfers;
        } catch {
            ++ghostRefusedTransfers;
        }
        _checkReceipt(t, before);
    }

    function approveAndPull(uint256 owner, uint256 spender, uint256 to, uint256 amount) external {
        (address o, address s, address t) = (_actor(owner), _actor(spender), _actor(to));
        amount = bound(amount, 0, POOL.balanceOf(o));
        vm.prank(o);
        POOL.approve(s, amount);
        uint256 before = POOL.balanceOf(t);
        vm.prank(s);
        try POOL.transferFrom(o, t, amount) {} catch {}
        _checkReceipt(t, before);
    }

    function permitAndPull(uint256 owner, uint256 spender, uint256 to, uint256 amount) external {
        uint256 idx = owner % 5; // only the holders with keys can sign permits
        (address o, uint256 k) = (actors[idx], keys[idx]);
        (address s, address t) = (_actor(spender), _actor(to));
        amount = bound(amount, 0, POOL.balanceOf(o));
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                POOL.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256(
                            "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                        ),
                        o,
                        s,
                        amount,
                        POOL.nonces(o),
                        deadline
                    )
                )
            )
        );
        (uint8 v, bytes32 r, bytes32 ss) = vm.sign(k, digest);
        POOL.permit(o, s, amount, deadline, v, r, ss);
        uint256 before = POOL.balanceOf(t);
        vm.prank(s);
        try POOL.transferFrom(o, t, amount) {} catch {}
        _checkReceipt(t, before);
    }

    // ------------------------------------------------------------------ exits

    /// @dev A holder that is not denied withdraws part of its balance to itself: the access
    /// policy must never be the reason this fails.
    function requestWithdrawalToSelf(uint256 who, uint256 fraction) external {
        address a = _actor(who);
        uint256 bal = POOL.balanceOf(a);
        uint256 maxShares = POOL.totalSupply() / 2; // the pool's default max unstake per tx
        uint256 shares = bal * bound(fraction, 1, 100) / 100;
        if (shares > maxShares) shares = maxShares;
        uint256 eth = POOL.convertToAssets(shares);
        if (eth < 100 || eth > 1000 ether || REGISTRY.isDenied(a)) return;
        vm.prank(a);
        try QUEUE.requestWithdrawal(shares, a) {
            ++ghostExitsToSelf;
        } catch (bytes memory reason) {
            if (_isPolicyError(reason)) ++ghostFrozenExits;
        }
    }

    function flashExitToSelf(uint256 who, uint256 fraction) external {
        address a = _actor(who);
        uint256 shares = POOL.balanceOf(a) * bound(fraction, 1, 100) / 100;
        if (shares == 0 || REGISTRY.isDenied(a)) return;
        vm.prank(a);
        try POOL.flashExit(shares, 0) {
            ++ghostExitsToSelf;
        } catch (bytes memory reason) {
            if (_isPolicyError(reason)) ++ghostFrozenExits;
        }
    }

    function claimToSelf(uint256 who) external {
        address a = _actor(who);
        if (REGISTRY.isDenied(a)) return;
        uint256 last = QUEUE.lastFinalizedRequestId();
        uint256[] memory ids = QUEUE.requestsOf(a, 1, last);
        for (uint256 i = 0; i < ids.length; ++i) {
            if (ids[i] > last) continue;
            vm.prank(a);
            try QUEUE.claim(ids[i], a) {
                ++ghostExitsToSelf;
            } catch (bytes memory reason) {
                if (_isPolicyError(reason)) ++ghostFrozenExits;
            }
        }
    }

    /// @dev A frame passes; EL rewards arrive and the queue is finalized: reward fees are minted
    /// to the fee recipients, whose attestations may have lapsed.
    function report(uint256 elRewards) external {
        uint256 n = actors.length;
        uint256[] memory before = new uint256[](n);
        for (uint256 i = 5; i < n; ++i) {
            before[i] = POOL.balanceOf(actors[i]);
        }
        SUITE.reportFrame(bound(elRewards, 0, 0.05 ether));
        for (uint256 i = 5; i < n; ++i) {
            _checkReceipt(actors[i], before[i]); // fee recipients receive by mint: same rule
        }
    }

    // ------------------------------------------------------------------ helpers

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _checkReceipt(address who, uint256 before) internal {
        if (POOL.balanceOf(who) > before && !REGISTRY.isAttested(who, MIN_TIER)) ++ghostUnattestedReceipts;
    }

    function _isPolicyError(bytes memory reason) internal pure returns (bool) {
        if (reason.length < 4) return false;
        bytes4 sel = bytes4(reason);
        return sel == IAccessRegistry.NotAttested.selector
            || sel == IAccessRegistry.AttestationExpired.selector || sel == IAccessRegistry.Denied.selector;
    }
}

/// @notice DESIGN.md invariant 6 (a kcsETH balance never reaches an address without a valid
/// attestation) and the KYC pool's promise that a holder who is not sanctioned can always exit to
/// itself, under random transfers, approvals, permits, revocations, expiries, denials, reports and
/// time jumps.
contract KycInvariantsTest is KycFixture {
    KycHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory extra = new address[](3);
        extra[0] = treasury;
        extra[1] = operatorRewards;
        extra[2] = insurance;
        handler = new KycHandler(this, provider, MIN_TIER, extra);
        for (uint256 i = 0; i < 5; ++i) {
            _attest(handler.actors(i));
        }
        targetContract(address(handler));
        excludeSender(address(this));
    }

    function invariant_kcsEthNeverReachesUnattested() public view {
        vm.assertEq(handler.ghostUnattestedReceipts(), 0, "kcsETH reached an unattested or denied address");
    }

    function invariant_holdersCanAlwaysExitToThemselves() public view {
        vm.assertEq(handler.ghostFrozenExits(), 0, "the access policy froze a non-denied holder's exit");
    }

    // ------------------------------------------------------------------ called by the handler

    function poolRef() external view returns (StakePool) {
        return pool;
    }

    function queueRef() external view returns (WithdrawalQueue) {
        return queue;
    }

    function oracleRef() external view returns (OracleReport) {
        return oracle;
    }

    function registryRef() external view returns (AccessRegistry) {
        return registry;
    }

    /// @dev Next frame: EL rewards and finalization of everything the buffer can pay.
    function reportFrame(uint256 elRewards) external {
        _warpToNextFrame();
        vm.deal(address(elVault), address(elVault).balance + elRewards);
        IOracleReport.Report memory r = _emptyReport();
        r.elRewardsVaultAvailable = address(elVault).balance;
        r.finalizeUpToRequestId = queue.lastRequestId();
        r.finalizationShareRate = pool.shareRate();
        try oracle.submitReport(r, "", _sign(r, _quorumKeys())) {} catch {}
    }
}
