// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IOperatorRewards} from "../../../src/interfaces/IOperatorRewards.sol";
import {OperatorRewards} from "../../../src/operators/OperatorRewards.sol";
import {MockShareToken} from "../../mocks/RewardsExitsMocks.sol";
import {MerkleBuilder} from "../../utils/MerkleBuilder.sol";
import {TestBase} from "../../utils/TestBase.sol";

/// @notice Drives OperatorRewards through frames (shares arrive, a new root with grown cumulative
/// amounts is published) and claims (valid, repeated, tampered), keeping ghost totals.
contract OperatorRewardsHandler is TestBase {
    uint256 public constant ACCOUNTS = 8;

    OperatorRewards public immutable rewards;
    MockShareToken public immutable token;
    address public immutable module;

    address[] public accounts;
    uint256[ACCOUNTS] public cumulative;
    bytes32[] internal _tree;
    uint256 public refSlot;

    uint256 public ghostMinted;
    uint256[ACCOUNTS] public ghostPaid;
    uint256 public ghostBadClaimPaid;
    uint256 public ghostWrongAmountPaid;
    uint256 public ghostWrongIncrement;
    uint256 public ghostUnexpectedError;

    constructor(OperatorRewards rewards_, MockShareToken token_, address module_) {
        rewards = rewards_;
        token = token_;
        module = module_;
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- i < 8: fits
            accounts.push(address(uint160(0xA000 + i)));
        }
    }

    /// @notice A frame: the pool mints the operators' fee, the module publishes the new root.
    function publish(uint256 seed, uint256 donation) external {
        uint256 total;
        bytes32[] memory leaves = new bytes32[](ACCOUNTS);
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            cumulative[i] += uint256(keccak256(abi.encode(seed, i))) % 1e21;
            total += cumulative[i];
            leaves[i] = MerkleBuilder.leaf(accounts[i], cumulative[i]);
        }
        donation = bound(donation, 0, 1e18);
        uint256 mint = total - rewards.rewardsCumulativeShares() + donation;
        token.mint(address(rewards), mint);
        ghostMinted += mint;
        _tree = MerkleBuilder.build(leaves);
        ++refSlot;
        vm.prank(module);
        rewards.setRewardsRoot(_tree[0], total, refSlot);
    }

    /// @notice A valid claim for account `which` (anyone may send it).
    function claim(uint256 which) external {
        if (_tree.length == 0) return;
        uint256 i = which % ACCOUNTS;
        address a = accounts[i];
        uint256 before = rewards.claimed(a);
        bytes32[] memory p = MerkleBuilder.proofOf(_tree, MerkleBuilder.leaf(a, cumulative[i]));
        if (cumulative[i] == before) {
            try rewards.claim(a, cumulative[i], p) returns (uint256 repaid) {
                ghostBadClaimPaid += repaid + 1;
            } catch (bytes memory err) {
                // forge-lint: disable-next-line(unsafe-typecast) -- the selector is the first 4 bytes
                if (bytes4(err) != IOperatorRewards.NothingToClaim.selector) ++ghostUnexpectedError;
            }
            return;
        }
        // handler reverts are ignored (fail_on_revert = false): record deviations in ghosts instead
        try rewards.claim(a, cumulative[i], p) returns (uint256 paid) {
            if (paid != cumulative[i] - before) ++ghostWrongIncrement;
            ghostPaid[i] += paid;
        } catch {
            ++ghostUnexpectedError;
        }
    }

    /// @notice A claim with a tampered amount, which must never pay.
    function claimTampered(uint256 which, uint256 delta) external {
        if (_tree.length == 0) return;
        uint256 i = which % ACCOUNTS;
        delta = bound(delta, 1, 1e24);
        address a = accounts[i];
        bytes32[] memory p = MerkleBuilder.proofOf(_tree, MerkleBuilder.leaf(a, cumulative[i]));
        try rewards.claim(a, cumulative[i] + delta, p) returns (uint256 wrongly) {
            ghostWrongAmountPaid += wrongly + 1;
        } catch {}
    }
}
