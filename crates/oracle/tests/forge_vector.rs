//! Cross-check with the Solidity side, in a scratch Foundry project (nothing is written into
//! `contracts/`): OpenZeppelin's `MerkleProof.verify` accepts every proof of a rewards tree built
//! in Rust, `abi.decode` + `abi.encode` of `(bytes32, IOperatorsReport.OperatorsReport)` reproduces
//! the extra-data chunk Rust encodes byte for byte (so `extraDataHash` matches), and a report split
//! into a chain of chunks links by `keccak256` and carries every entry once (docs/adr/0008).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use alloy::primitives::{Address, U256};
use claystack_oracle::generate::synthetic;
use claystack_oracle::merkle::{RewardsTree, leaf_hash};
use claystack_oracle::sol::{ChunkBudget, split_into_chunks};
use claystack_oracle::{compute, extra_data};

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
    let nm = root.join("node_modules");
    std::fs::write(
        dir.path().join("foundry.toml"),
        format!(
            "[profile.default]\nsrc = \"src\"\ntest = \"test\"\nsolc = \"{solc}\"\noffline = true\nauto_detect_solc = false\n\
             evm_version = \"prague\"\nlibs = [\"{nm}\"]\nremappings = [\"@openzeppelin/contracts/={nm}/@openzeppelin/contracts/\", \"claystack/={src}/\"]\n\
             allow_paths = [\"{contracts}\", \"{nm}\"]\n",
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
}
