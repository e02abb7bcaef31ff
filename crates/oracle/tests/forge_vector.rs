//! Cross-check with the Solidity side, in a scratch Foundry project (nothing is written into
//! `contracts/`): OpenZeppelin's `MerkleProof.verify` accepts every proof of a rewards tree built
//! in Rust, and `abi.decode` + `abi.encode` of the real `IOperatorsReport.OperatorsReport`
//! reproduces the extra data Rust encodes byte for byte (so `extraDataHash` matches).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use alloy::primitives::{Address, U256};
use claystack_oracle::generate::synthetic;
use claystack_oracle::merkle::{RewardsTree, leaf_hash};
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
        "        IOperatorsReport.OperatorsReport memory r = abi.decode(data, (IOperatorsReport.OperatorsReport));\n        \
         require(keccak256(abi.encode(r)) == keccak256(data), \"re-encoding differs\");\n        \
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
}
