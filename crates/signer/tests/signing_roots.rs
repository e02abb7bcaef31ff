//! Signing roots computed from typed requests, checked against the pinned vectors in
//! `../shared/vectors` and against an independent naive SSZ implementation (tests/common).

#![allow(clippy::needless_pass_by_value)] // request literals are built inline at each call

mod common;

use claystack_consensus::{Epoch, HashTreeRoot, compute_signing_root};
use claystack_signer::{
    LocalKeystoreBackend, NetworkSpec, RequestError, SignRequest, SlashingCheck,
    messages::DepositRequest,
};
use common::*;
use serde_json::json;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("CLAYSTACK_VECTORS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors")),
        PathBuf::from,
    );
    assert!(dir.is_dir(), "test vectors not found at {} (set CLAYSTACK_VECTORS)", dir.display());
    dir
}

/// A spec whose Deneb epoch is far away, so that exits follow the plain `get_domain` rule.
const PRE_DENEB: NetworkSpec = NetworkSpec {
    name: "test",
    slots_per_epoch: 32,
    genesis_fork_version: [0x10, 0x20, 0x30, 0x40],
    capella_fork_version: [3, 0, 0, 0],
    deneb_fork_epoch: Epoch(1_000_000),
};

fn plan(
    v: serde_json::Value,
    spec: &NetworkSpec,
) -> Result<claystack_signer::SigningPlan, RequestError> {
    SignRequest::from_json(v.to_string().as_bytes())?.plan(spec)
}

#[test]
fn deposit_message_root_matches_the_readme_vector() {
    // vectors/README.md: DepositMessage(0x12*48, 0x12*32, 100) under domain 0x12*32.
    let d = DepositRequest {
        pubkey: [0x12; 48],
        withdrawal_credentials: [0x12; 32],
        amount: claystack_consensus::Gwei(100),
        genesis_fork_version: [0; 4],
    };
    let root = compute_signing_root(d.hash_tree_root(), [0x12; 32]);
    assert_eq!(hx(&root), "0x67a3330ff87bdb46bb7b80ca7a641e398d6ac4e87a6856527cacc829fb61896f");
}

#[test]
fn deposit_requests_match_the_deposit_cli_vectors() {
    let dir = vectors_dir().join("deposit-data");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for d in list {
            let s = |k: &str| d[k].as_str().unwrap().to_owned();
            let req = json!({
                "type": "DEPOSIT",
                "deposit": {
                    "pubkey": format!("0x{}", s("pubkey")),
                    "withdrawal_credentials": format!("0x{}", s("withdrawal_credentials")),
                    "amount": d["amount"].as_u64().unwrap().to_string(),
                    "genesis_fork_version": format!("0x{}", s("fork_version")),
                }
            });
            let parsed = SignRequest::from_json(req.to_string().as_bytes()).unwrap();
            let p = parsed.plan(&NetworkSpec::MAINNET).unwrap();
            assert_eq!(p.slashing, None);
            let msg_root = parsed.deposit.unwrap().hash_tree_root();
            assert_eq!(hex::encode(msg_root), s("deposit_message_root"), "{}", path.display());
            let pk: [u8; 48] = hex::decode(s("pubkey")).unwrap().try_into().unwrap();
            assert!(verifies(&pk, &p.signing_root, &s("signature")), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} deposit vectors checked");
}

#[test]
fn signer_reproduces_the_deposit_cli_signature() {
    // BLS signatures are deterministic: the key derived from the vectors' mnemonic must give the
    // exact signature the deposit CLI wrote.
    let text = std::fs::read_to_string(
        vectors_dir().join("deposit-data/holesky_first_12_count_1_eth1_false.json"),
    )
    .unwrap();
    let d: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let d = &d[0];
    let mnemonic = claystack_keys::Mnemonic::parse(
        "test test test test test test test test test test test waste",
    )
    .unwrap();
    let seed = mnemonic.to_seed("");
    let sk = claystack_keys::derive_path(seed.as_slice(), &claystack_keys::KeyPath::signing(12))
        .unwrap();
    let backend = LocalKeystoreBackend::from_secret_keys([sk]);
    let pk = claystack_signer::SigningBackend::public_keys(&backend)[0];
    assert_eq!(hex::encode(pk), d["pubkey"].as_str().unwrap());
    let req = json!({
        "type": "DEPOSIT",
        "deposit": {
            "pubkey": hx(&pk),
            "withdrawal_credentials": format!("0x{}", d["withdrawal_credentials"].as_str().unwrap()),
            "amount": "32000000000",
            "genesis_fork_version": format!("0x{}", d["fork_version"].as_str().unwrap()),
        }
    });
    let p = plan(req, &NetworkSpec::HOLESKY).unwrap();
    let sig = backend.sign_now(&pk, &p.signing_root).unwrap();
    assert_eq!(hex::encode(sig), d["signature"].as_str().unwrap());
}

#[test]
fn local_backend_matches_the_bls_sign_vectors() {
    let dir = vectors_dir().join("bls/sign");
    let (mut signed, mut refused) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let sk =
            hex::decode(v["input"]["privkey"].as_str().unwrap().trim_start_matches("0x")).unwrap();
        let msg =
            hex::decode(v["input"]["message"].as_str().unwrap().trim_start_matches("0x")).unwrap();
        let Ok(sk) = claystack_keys::SecretKey::from_bytes(&sk) else {
            assert!(v["output"].is_null(), "valid key refused");
            refused += 1;
            continue;
        };
        let root: [u8; 32] = msg.try_into().expect("sign vectors use 32-byte messages");
        let backend = LocalKeystoreBackend::from_secret_keys([sk]);
        let pk = claystack_signer::SigningBackend::public_keys(&backend)[0];
        let sig = backend.sign_now(&pk, &root).unwrap();
        assert_eq!(hx(&sig), v["output"].as_str().unwrap());
        signed += 1;
    }
    assert!(signed >= 9 && refused >= 1, "signed {signed}, refused {refused}");
}

#[test]
fn attestation_root_uses_the_target_epoch_fork() {
    for target in [FORK_EPOCH - 1, FORK_EPOCH, FORK_EPOCH + 5] {
        let (data, root) = attestation_data(target * 32, target - 1, target, 9);
        let p = plan(
            json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data}),
            &PRE_DENEB,
        )
        .unwrap();
        let want = signing_root(root, domain(ATTESTER, version_at(target), GVR));
        assert_eq!(p.signing_root, want, "target {target}");
        assert_eq!(
            p.slashing,
            Some(SlashingCheck::Attestation { source: Epoch(target - 1), target: Epoch(target) })
        );
        assert_eq!(p.genesis_validators_root, Some(GVR));
    }
}

#[test]
fn block_header_root_and_domain() {
    let slot = FORK_EPOCH * 32 - 1; // last slot before the fork: previous version
    let header = json!({
        "slot": slot.to_string(), "proposer_index": "7",
        "parent_root": hx(&[1; 32]), "state_root": hx(&[2; 32]), "body_root": hx(&[3; 32])
    });
    let root = container(&[uint(slot), uint(7), [1; 32], [2; 32], [3; 32]]);
    for version in ["PHASE0", "capella", "DENEB", "ELECTRA", "FULU"] {
        let p = plan(
            json!({"type": "BLOCK_V2", "fork_info": fork_info(),
                   "beacon_block": {"version": version, "block_header": header}}),
            &PRE_DENEB,
        )
        .unwrap();
        assert_eq!(p.signing_root, signing_root(root, domain(PROPOSER, PREV, GVR)), "{version}");
        assert_eq!(
            p.slashing,
            Some(SlashingCheck::Block { slot: claystack_consensus::Slot(slot) })
        );
    }
}

#[test]
fn randao_selection_and_sync_roots() {
    let spec = PRE_DENEB;
    let p = plan(json!({"type": "RANDAO_REVEAL", "fork_info": fork_info(), "randao_reveal": {"epoch": "123"}}), &spec).unwrap();
    assert_eq!(p.signing_root, signing_root(uint(123), domain([2, 0, 0, 0], CUR, GVR)));
    assert_eq!(p.slashing, None);

    let p = plan(json!({"type": "AGGREGATION_SLOT", "fork_info": fork_info(), "aggregation_slot": {"slot": "99"}}), &spec).unwrap();
    assert_eq!(p.signing_root, signing_root(uint(99), domain([5, 0, 0, 0], PREV, GVR)));

    let p = plan(
        json!({"type": "SYNC_COMMITTEE_MESSAGE", "fork_info": fork_info(),
               "sync_committee_message": {"beacon_block_root": hx(&[8; 32]), "slot": "3200"}}),
        &spec,
    )
    .unwrap();
    assert_eq!(p.signing_root, signing_root([8; 32], domain([7, 0, 0, 0], CUR, GVR)));

    let p = plan(
        json!({"type": "SYNC_COMMITTEE_SELECTION_PROOF", "fork_info": fork_info(),
               "sync_aggregator_selection_data": {"slot": "3200", "subcommittee_index": "3"}}),
        &spec,
    )
    .unwrap();
    assert_eq!(
        p.signing_root,
        signing_root(container(&[uint(3200), uint(3)]), domain([8, 0, 0, 0], CUR, GVR))
    );
}

fn attestation_json(bits: &[bool], electra: bool) -> (serde_json::Value, Chunk) {
    let (data, data_root) = attestation_data(3300, 102, 103, 5);
    let sig = [0xaa; 96];
    if electra {
        let committee_bits = [0b0000_0100u8, 0, 0, 0, 0, 0, 0, 0];
        (
            json!({"aggregation_bits": bitlist_hex(bits), "data": data, "signature": hx(&sig),
                   "committee_bits": hx(&committee_bits)}),
            container(&[bitlist(bits, 2048 * 64), data_root, bytes(&sig), bytes(&committee_bits)]),
        )
    } else {
        (
            json!({"aggregation_bits": bitlist_hex(bits), "data": data, "signature": hx(&sig)}),
            container(&[bitlist(bits, 2048), data_root, bytes(&sig)]),
        )
    }
}

#[test]
fn aggregate_and_proof_roots_phase0_and_electra() {
    let bits = [true, false, true, true, false, false, false, false, true];
    let proof = [0xbb; 96];
    let (att, att_root) = attestation_json(&bits, false);
    let want_root = container(&[uint(11), att_root, bytes(&proof)]);
    let want = signing_root(want_root, domain([6, 0, 0, 0], CUR, GVR));
    let body = json!({"aggregator_index": "11", "aggregate": att, "selection_proof": hx(&proof)});
    let p = plan(json!({"type": "AGGREGATE_AND_PROOF", "fork_info": fork_info(), "aggregate_and_proof": body}), &PRE_DENEB).unwrap();
    assert_eq!(p.signing_root, want);
    let p = plan(
        json!({"type": "AGGREGATE_AND_PROOF_V2", "fork_info": fork_info(),
               "aggregate_and_proof": {"version": "DENEB", "data": body}}),
        &PRE_DENEB,
    )
    .unwrap();
    assert_eq!(p.signing_root, want);

    let (att, att_root) = attestation_json(&bits, true);
    let body = json!({"aggregator_index": "11", "aggregate": att, "selection_proof": hx(&proof)});
    let p = plan(
        json!({"type": "AGGREGATE_AND_PROOF_V2", "fork_info": fork_info(),
               "aggregate_and_proof": {"version": "ELECTRA", "data": body}}),
        &PRE_DENEB,
    )
    .unwrap();
    let want_root = container(&[uint(11), att_root, bytes(&proof)]);
    assert_eq!(p.signing_root, signing_root(want_root, domain([6, 0, 0, 0], CUR, GVR)));
}

#[test]
fn contribution_and_proof_root() {
    let bits = [0x81u8; 16];
    let sig = [0xcc; 96];
    let proof = [0xdd; 96];
    let p = plan(
        json!({"type": "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", "fork_info": fork_info(),
               "contribution_and_proof": {
                   "aggregator_index": "4",
                   "selection_proof": hx(&proof),
                   "contribution": {"slot": "3201", "beacon_block_root": hx(&[6; 32]),
                                    "subcommittee_index": "2", "aggregation_bits": hx(&bits),
                                    "signature": hx(&sig)}}}),
        &PRE_DENEB,
    )
    .unwrap();
    let contribution = container(&[uint(3201), [6; 32], uint(2), bytes(&bits), bytes(&sig)]);
    let want = container(&[uint(4), contribution, bytes(&proof)]);
    assert_eq!(p.signing_root, signing_root(want, domain([9, 0, 0, 0], CUR, GVR)));
}

#[test]
fn validator_registration_uses_builder_domain_with_genesis_version() {
    let pk = [0x99; 48];
    let p = plan(
        json!({"type": "VALIDATOR_REGISTRATION",
               "validator_registration": {"fee_recipient": hx(&[0xfe; 20]), "gas_limit": "30000000",
                                          "timestamp": "1700000000", "pubkey": hx(&pk)}}),
        &PRE_DENEB,
    )
    .unwrap();
    let root = container(&[bytes(&[0xfe; 20]), uint(30_000_000), uint(1_700_000_000), bytes(&pk)]);
    let want = signing_root(root, domain([0, 0, 0, 1], PRE_DENEB.genesis_fork_version, [0; 32]));
    assert_eq!(p.signing_root, want);
}

#[test]
fn voluntary_exit_domain_before_and_after_deneb() {
    let exit = json!({"epoch": "50", "validator_index": "12"});
    let root = container(&[uint(50), uint(12)]);
    let req = json!({"type": "VOLUNTARY_EXIT", "fork_info": fork_info(), "voluntary_exit": exit});
    // Before Deneb: the fork in force at the exit epoch (50 < 100: previous).
    let p = plan(req.clone(), &PRE_DENEB).unwrap();
    assert_eq!(p.signing_root, signing_root(root, domain([4, 0, 0, 0], PREV, GVR)));
    // The fork in fork_info is Deneb or later: always CAPELLA_FORK_VERSION (EIP-7044).
    let deneb = NetworkSpec { deneb_fork_epoch: Epoch(FORK_EPOCH), ..PRE_DENEB };
    let p = plan(req, &deneb).unwrap();
    assert_eq!(p.signing_root, signing_root(root, domain([4, 0, 0, 0], [3, 0, 0, 0], GVR)));
}

#[test]
fn signing_root_field_must_match() {
    let (data, root) = attestation_data(3200, 99, 100, 1);
    let good = signing_root(root, domain(ATTESTER, CUR, GVR));
    let ok = json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data, "signingRoot": hx(&good)});
    assert_eq!(plan(ok, &PRE_DENEB).unwrap().signing_root, good);
    let bad = json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data, "signingRoot": hx(&[0; 32])});
    assert!(matches!(plan(bad, &PRE_DENEB), Err(RequestError::SigningRootMismatch { .. })));
}

#[test]
fn malformed_requests_are_refused_with_a_reason() {
    let (data, _) = attestation_data(1, 0, 0, 1);
    let cases = [
        (json!({"type": "ATTESTATION", "attestation": data}), "without `fork_info`"),
        (json!({"type": "ATTESTATION", "fork_info": fork_info()}), "without its `attestation`"),
        (
            json!({"type": "BLOCK_V2", "fork_info": fork_info(), "beacon_block": {"version": "ALTAIR", "block": {}}}),
            "missing field",
        ),
        (json!({"type": "BLOCK", "fork_info": fork_info(), "block": {}}), "missing field"),
        (json!({"type": "BLOCK", "fork_info": fork_info()}), "without its `block`"),
        (json!({"type": "NOPE"}), "unknown variant"),
        (
            json!({"type": "RANDAO_REVEAL", "fork_info": fork_info(), "randao_reveal": {"epoch": "-1"}}),
            "decimal",
        ),
        (
            json!({"type": "AGGREGATE_AND_PROOF_V2", "fork_info": fork_info(), "aggregate_and_proof": {"version": "GLOAS2", "data": {}}}),
            "unknown fork name",
        ),
        (
            json!({"type": "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", "fork_info": fork_info(),
                "contribution_and_proof": {"aggregator_index": "4", "selection_proof": hx(&[0; 96]),
                    "contribution": {"slot": "1", "beacon_block_root": hx(&[6; 32]), "subcommittee_index": "2",
                                     "aggregation_bits": "0x00", "signature": hx(&[0; 96])}}}),
            "bitvector of 1 bytes",
        ),
    ];
    for (req, want) in cases {
        let err = match SignRequest::from_json(req.to_string().as_bytes()) {
            Ok(r) => r.plan(&PRE_DENEB).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "{req}: expected {want:?} in {err:?}");
    }
    assert!(matches!(SignRequest::from_json(b"{").unwrap_err(), RequestError::Json(_)));
}
