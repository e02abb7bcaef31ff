//! Cross-check with the Solidity side, in a scratch Foundry project (nothing is written into
//! `contracts/`): OpenZeppelin's `MerkleProof.verify` accepts every proof of a rewards tree built
//! in Rust, `abi.decode` + `abi.encode` of `(bytes32, IOperatorsReport.OperatorsReport)` reproduces
//! the extra-data chunk Rust encodes byte for byte (so `extraDataHash` matches), and a report split
//! into a chain of chunks links by `keccak256` and carries every entry once (docs/adr/0008), and
//! the accounting bounds the oracle checks before signing (`check_accounting`, with the front-run
//! netting of docs/adr/0008) accept and refuse exactly what `SanityChecker.checkAccounting`
//! accepts and refuses, with the same EL pull and the same error, on vectors around every bound.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use alloy::primitives::{Address, U256};
use claystack_oracle::generate::Rng;
use claystack_oracle::generate::synthetic;
use claystack_oracle::merkle::{RewardsTree, leaf_hash};
use claystack_oracle::sol::{ChunkBudget, split_into_chunks};
use claystack_oracle::{
    AccountingInput, ComputeError, SanityLimits, check_accounting, compute, extra_data,
};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn solidity_accepts_rust_proofs_and_encoding() {
    let root = repo_root();
    let forge = root.join("node_modules/.bin/forge");
    assert!(forge.exists(), "the pinned toolchain is missing: run `npm ci` in {}", root.display());

    // a rewards tree of 7 accounts (odd count: an unbalanced tree)
    let leaves: Vec<(Address, U256)> = (1u8..=7)
        .map(|i| (Address::repeat_byte(i), U256::from(u64::from(i) * 1_000_000_007)))
        .collect();
    let tree = RewardsTree::build(&leaves).unwrap();
    // an operators report with every list populated
    let input = synthetic(30_000, 12, 21);
    let out = compute(&input, true).unwrap();
    let ops = &out.operators;
    assert!(!ops.preDeposits.is_empty() && !ops.scores.is_empty() && !ops.penalties.is_empty());
    let encoded = extra_data(ops);

    let mut sol = String::from(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.30;\n\
         import {MerkleProof} from \"@openzeppelin/contracts/utils/cryptography/MerkleProof.sol\";\n\
         import {IOperatorsReport} from \"claystack/interfaces/IOperatorsReport.sol\";\n\
         contract VectorTest {\n",
    );
    writeln!(sol, "    bytes32 constant ROOT = {};", tree.root()).unwrap();
    writeln!(sol, "    function test_proofs() public pure {{").unwrap();
    for (a, s) in &leaves {
        let (_, proof) = tree.proof(*a).unwrap();
        writeln!(sol, "        {{ bytes32[] memory p = new bytes32[]({});", proof.len()).unwrap();
        for (i, h) in proof.iter().enumerate() {
            writeln!(sol, "        p[{i}] = {h};").unwrap();
        }
        writeln!(
            sol,
            "        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(address({a}), uint256({s})))));\n        \
             require(leaf == {}, \"leaf encoding\");\n        \
             require(MerkleProof.verify(p, ROOT, leaf), \"proof\");\n        \
             require(!MerkleProof.verify(p, ROOT, keccak256(bytes.concat(keccak256(abi.encode(address({a}), uint256({s}) + 1))))), \"forged\"); }}",
            leaf_hash(*a, *s)
        )
        .unwrap();
    }
    writeln!(sol, "    }}").unwrap();
    writeln!(sol, "    function test_operatorsReport() public pure {{").unwrap();
    writeln!(sol, "        bytes memory data = hex\"{}\";", hex::encode(&encoded)).unwrap();
    writeln!(
        sol,
        "        (bytes32 next, IOperatorsReport.OperatorsReport memory r) = abi.decode(data, (bytes32, IOperatorsReport.OperatorsReport));\n        \
         require(next == bytes32(0), \"one chunk\");\n        \
         require(keccak256(abi.encode(next, r)) == keccak256(data), \"re-encoding differs\");\n        \
         require(keccak256(data) == {}, \"extra data hash\");\n        \
         require(r.refSlot == {} && r.scores.length == {} && r.preDeposits.length == {} && r.penalties.length == {}, \"fields\");\n        \
         require(r.rewardsRoot == {}, \"root\");",
        out.report.extraDataHash,
        ops.refSlot,
        ops.scores.len(),
        ops.preDeposits.len(),
        ops.penalties.len(),
        ops.rewardsRoot
    )
    .unwrap();
    writeln!(sol, "    }}").unwrap();

    // the same report split into a chain of small chunks
    let budget = ChunkBudget { first_gas: 300_000, gas: 600_000, max_bytes: 4_000 };
    let chunks = split_into_chunks(ops, &budget);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    writeln!(sol, "    function test_chain() public pure {{").unwrap();
    writeln!(sol, "        bytes[] memory c = new bytes[]({});", chunks.len()).unwrap();
    for (i, c) in chunks.iter().enumerate() {
        writeln!(sol, "        c[{i}] = hex\"{}\";", hex::encode(c)).unwrap();
    }
    writeln!(
        sol,
        "        require(keccak256(c[0]) == {}, \"first hash\");\n        \
         uint256[5] memory n;\n        \
         for (uint256 i; i < c.length; ++i) {{\n            \
         (bytes32 next, IOperatorsReport.OperatorsReport memory r) = abi.decode(c[i], (bytes32, IOperatorsReport.OperatorsReport));\n            \
         require(keccak256(abi.encode(next, r)) == keccak256(c[i]), \"canonical\");\n            \
         require(next == (i + 1 < c.length ? keccak256(c[i + 1]) : bytes32(0)), \"link\");\n            \
         require(r.refSlot == {}, \"refSlot\");\n            \
         require(r.rewardsRoot == (i == 0 ? bytes32({}) : bytes32(0)), \"root in chunk 0\");\n            \
         n[0] += r.preDeposits.length; n[1] += r.scores.length; n[2] += r.penalties.length;\n            \
         n[3] += r.exited.length; n[4] += r.exitRequests.length;\n        \
         }}\n        \
         require(n[0] == {} && n[1] == {} && n[2] == {} && n[3] == {} && n[4] == {}, \"every entry once\");",
        alloy::primitives::keccak256(chunks.first().unwrap()),
        ops.refSlot,
        ops.rewardsRoot,
        ops.preDeposits.len(),
        ops.scores.len(),
        ops.penalties.len(),
        ops.exited.len(),
        ops.exitRequests.len(),
    )
    .unwrap();
    writeln!(sol, "    }}\n}}").unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("test")).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("test/Vector.t.sol"), sol).unwrap();
    let (rows, seen) = accounting_vectors();
    for b in
        ["accepted", "UnexplainedClDropExceeded", "ClAprExceeded", "PositiveRateChangeExceeded"]
    {
        assert!(seen.contains(&b), "no vector ends in {b}: {seen:?}");
    }
    std::fs::write(dir.path().join("accounting.bin"), rows).unwrap();
    std::fs::write(dir.path().join("test/Accounting.t.sol"), ACCOUNTING_TEST).unwrap();
    let nm = root.join("node_modules");
    std::fs::write(
        dir.path().join("foundry.toml"),
        format!(
            "[profile.default]\nsrc = \"src\"\ntest = \"test\"\nsolc = \"{solc}\"\noffline = true\nauto_detect_solc = false\n\
             evm_version = \"prague\"\nlibs = [\"{nm}\"]\nremappings = [\"@openzeppelin/contracts/={nm}/@openzeppelin/contracts/\", \"@openzeppelin/contracts-upgradeable/={nm}/@openzeppelin/contracts-upgradeable/\", \"claystack/={src}/\"]\n\
             allow_paths = [\"{contracts}\", \"{nm}\"]\nfs_permissions = [{{ access = \"read\", path = \"./\" }}]\n",
            solc = root.join("tools/solc").display(),
            nm = nm.display(),
            src = root.join("contracts/src").display(),
            contracts = root.join("contracts").display(),
        ),
    )
    .unwrap();
    let out = Command::new(&forge)
        .args(["test", "-vv"])
        .current_dir(dir.path())
        .output()
        .expect("run forge test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "forge test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("[PASS] test_proofs()"), "{stdout}");
    assert!(stdout.contains("[PASS] test_operatorsReport()"), "{stdout}");
    assert!(stdout.contains("[PASS] test_chain()"), "{stdout}");
    assert!(stdout.contains("[PASS] test_checkAccounting()"), "{stdout}");
}

/// The sanity-limit sets the vectors run under (index = row's first word).
fn limit_sets() -> [SanityLimits; 3] {
    let d = SanityLimits::defaults();
    [
        d,
        // no slack at all: only slashings and front-runs explain a drop
        SanityLimits {
            max_cl_apr_bps: 500,
            max_positive_rate_change_ppm: 100,
            max_unexplained_cl_drop_ppm: 0,
            slashing_allowance_gwei: 0,
            ..d
        },
        SanityLimits {
            max_cl_apr_bps: 5_000,
            max_positive_rate_change_ppm: 10_000,
            max_unexplained_cl_drop_ppm: 100_000,
            slashing_allowance_gwei: 32_000_000_000,
            ..d
        },
    ]
}

const PANIC: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];

/// Vectors around every bound of `checkAccounting`, small pools with front-runs and slashings
/// included, as ABI rows `uint256[10]`: limit set, the seven arguments, the expected outcome (0:
/// accepted, else the error selector) and the EL pull. Also the outcomes seen.
fn accounting_vectors() -> (Vec<u8>, Vec<&'static str>) {
    let one = U256::from(1_000_000_000_000_000_000u128);
    let mut rng = Rng::new(0xACC0);
    let mut rows: Vec<[U256; 10]> = Vec::new();
    let mut seen = Vec::new();
    for (set, limits) in limit_sets().iter().enumerate() {
        for _ in 0..120 {
            // 1 to 3,000 ETH on the CL, to the wei; up to 100 ETH more in the pool
            let pre_cl = one * U256::from(1 + rng.below(3_000)) + U256::from(rng.next_u64());
            let pre_total =
                pre_cl + one * U256::from(rng.below(100)) + U256::from(rng.below(1 << 40));
            let time = U256::from(match rng.below(5) {
                0 => 0,
                1 => 32,
                2 => 384,
                3 => 86_400,
                _ => rng.below(10_000_000),
            });
            let newly_slashed = U256::from(rng.below(3));
            let front_run_loss = one * U256::from(rng.below(4));
            let el = one * U256::from(rng.below(5)) + U256::from(rng.below(1 << 50));
            let explained = newly_slashed
                * U256::from(limits.slashing_allowance_gwei)
                * U256::from(1_000_000_000u64)
                + front_run_loss;
            let allowed =
                U256::from(limits.max_unexplained_cl_drop_ppm) * pre_cl / U256::from(1_000_000u64);
            let max_rewards = pre_total * U256::from(limits.max_positive_rate_change_ppm)
                / U256::from(1_000_000u64);
            let apr_gain = pre_cl * time * U256::from(limits.max_cl_apr_bps)
                / U256::from(365u64 * 24 * 3600 * 10_000);
            let mut posts = Vec::new();
            for delta in [0u64, 1] {
                let drop = explained + allowed + U256::from(delta);
                if drop <= pre_cl {
                    posts.push(pre_cl - drop);
                }
                // the drop bound without the front-run netting
                let drop = explained - front_run_loss + allowed + U256::from(delta);
                if drop <= pre_cl {
                    posts.push(pre_cl - drop);
                }
                posts.push(pre_cl + max_rewards.min(apr_gain) + U256::from(delta));
                posts.push(pre_cl + max_rewards + U256::from(delta));
                posts.push(pre_cl + apr_gain + U256::from(delta));
            }
            posts.push(
                pre_cl / U256::from(2u8)
                    + pre_cl * U256::from(rng.below(1_000)) / U256::from(1_000u64),
            );
            for post in posts {
                let a = AccountingInput {
                    pre_total_pooled_ether: pre_total,
                    pre_cl_value: pre_cl,
                    post_cl_value: post,
                    time_elapsed: time,
                    newly_slashed,
                    front_run_loss,
                    el_rewards_available: el,
                };
                let (outcome, pull, name) = match check_accounting(limits, &a) {
                    Ok(pull) => (U256::ZERO, pull, "accepted"),
                    Err(ComputeError::SanityBound { bound, .. }) => {
                        let sig = format!("{bound}(uint256,uint256)");
                        let sel = alloy::primitives::keccak256(sig.as_bytes());
                        (U256::from_be_slice(&sel[..4]), U256::ZERO, bound)
                    }
                    Err(_) => (U256::from_be_slice(&PANIC), U256::ZERO, "panic"),
                };
                if !seen.contains(&name) {
                    seen.push(name);
                }
                rows.push([
                    U256::from(set),
                    a.pre_total_pooled_ether,
                    a.pre_cl_value,
                    a.post_cl_value,
                    a.time_elapsed,
                    a.newly_slashed,
                    a.front_run_loss,
                    a.el_rewards_available,
                    outcome,
                    pull,
                ]);
            }
        }
    }
    (alloy::sol_types::SolValue::abi_encode(&rows), seen)
}

/// Runs every row against a `SanityChecker` proxy; the limit sets mirror [`limit_sets`].
const ACCOUNTING_TEST: &str = r#"// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {SanityChecker} from "claystack/oracle/SanityChecker.sol";
import {ISanityChecker} from "claystack/interfaces/ISanityChecker.sol";

interface VmRead {
    function readFileBinary(string calldata path) external view returns (bytes memory);
    function toString(uint256 value) external pure returns (string memory);
}

contract AccountingTest {
    VmRead constant VM = VmRead(address(uint160(uint256(keccak256("hevm cheat code")))));
    SanityChecker checker;

    function setUp() public {
        SanityChecker impl = new SanityChecker();
        checker = SanityChecker(
            address(new ERC1967Proxy(address(impl), abi.encodeCall(SanityChecker.initialize, (address(this)))))
        );
    }

    function _limits(uint256 set) internal pure returns (ISanityChecker.Limits memory l) {
        l = ISanityChecker.Limits(1000, 750, 3000, 1800, 1e9, 10);
        if (set == 1) {
            l.maxClAprBps = 500;
            l.maxPositiveRateChangePpm = 100;
            l.maxUnexplainedClDropPpm = 0;
            l.slashingAllowanceGwei = 0;
        } else if (set == 2) {
            l.maxClAprBps = 5000;
            l.maxPositiveRateChangePpm = 10_000;
            l.maxUnexplainedClDropPpm = 100_000;
            l.slashingAllowanceGwei = 32e9;
        }
    }

    function test_checkAccounting() public {
        uint256[10][] memory rows = abi.decode(VM.readFileBinary("accounting.bin"), (uint256[10][]));
        require(rows.length > 0, "no vectors");
        uint256 current = type(uint256).max;
        for (uint256 i; i < rows.length; ++i) {
            uint256[10] memory r = rows[i];
            if (r[0] != current) {
                current = r[0];
                checker.setLimits(_limits(current));
            }
            string memory id = VM.toString(i);
            try checker.checkAccounting(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) returns (uint256 pull) {
                require(r[8] == 0, string.concat("vector ", id, ": the contract accepts, Rust refuses"));
                require(pull == r[9], string.concat("vector ", id, ": EL pull differs"));
            } catch (bytes memory err) {
                require(r[8] != 0, string.concat("vector ", id, ": the contract refuses, Rust accepts"));
                require(uint32(bytes4(err)) == r[8], string.concat("vector ", id, ": another error"));
            }
        }
    }
}
"#;
