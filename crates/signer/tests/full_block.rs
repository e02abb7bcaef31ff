//! `BLOCK_V2` (and the deprecated `BLOCK`) with a full phase0 or Altair `block`: the signing
//! root is computed from the block itself, checked against roots built by hand from the
//! consensus-spec container definitions with the naive SSZ of tests/common.

mod common;

use claystack_consensus::{Epoch, Slot};
use claystack_signer::{NetworkSpec, RequestError, SignRequest, SlashingCheck};
use common::*;
use serde_json::{Value, json};

const SPEC: NetworkSpec = NetworkSpec {
    name: "test",
    slots_per_epoch: 32,
    genesis_fork_version: [0x10, 0x20, 0x30, 0x40],
    capella_fork_version: [3, 0, 0, 0],
    deneb_fork_epoch: Epoch(1_000_000),
};

fn plan(v: Value) -> Result<claystack_signer::SigningPlan, RequestError> {
    #![allow(clippy::needless_pass_by_value)] // request literals are built inline at each call
    SignRequest::from_json(v.to_string().as_bytes())?.plan(&SPEC)
}

/// `List[T, limit]` of composite elements from the elements' roots.
fn list(roots: &[Chunk], limit: usize) -> Chunk {
    h(&merkle(roots, limit.next_power_of_two()), &uint(roots.len() as u64))
}

fn sig(b: u8) -> (String, Chunk) {
    (hx(&[b; 96]), bytes(&[b; 96]))
}

fn header(slot: u64, proposer: u64, b: u8) -> (Value, Chunk) {
    (
        json!({"slot": slot.to_string(), "proposer_index": proposer.to_string(),
               "parent_root": hx(&[b; 32]), "state_root": hx(&[b + 1; 32]), "body_root": hx(&[b + 2; 32])}),
        container(&[uint(slot), uint(proposer), [b; 32], [b + 1; 32], [b + 2; 32]]),
    )
}

fn indexed_attestation(indices: &[u64], target: u64) -> (Value, Chunk) {
    let (data, data_root) = attestation_data(target * 32, target - 1, target, 9);
    let (s, sr) = sig(0x31);
    // List[ValidatorIndex, 2048]: packed 4 per chunk, limit 512 chunks.
    let mut packed = Vec::new();
    for i in indices {
        packed.extend_from_slice(&i.to_le_bytes());
    }
    let chunks: Vec<Chunk> = packed
        .chunks(32)
        .map(|c| {
            let mut x = [0; 32];
            x[..c.len()].copy_from_slice(c);
            x
        })
        .collect();
    let indices_root = h(&merkle(&chunks, 512), &uint(indices.len() as u64));
    (
        json!({"attesting_indices": indices.iter().map(ToString::to_string).collect::<Vec<_>>(),
               "data": data, "signature": s}),
        container(&[indices_root, data_root, sr]),
    )
}

/// A block with every list non-empty (and, for Altair, a sync aggregate), and its root.
fn block(slot: u64, altair: bool) -> (Value, Chunk) {
    let (randao, randao_root) = sig(0x11);
    let eth1 = json!({"deposit_root": hx(&[0x21; 32]), "deposit_count": "77", "block_hash": hx(&[0x22; 32])});
    let eth1_root = container(&[[0x21; 32], uint(77), [0x22; 32]]);
    let graffiti = [0x47; 32];

    let (h1, h1r) = header(slot - 5, 3, 0x50);
    let (h2, h2r) = header(slot - 5, 3, 0x60);
    let (s1, s1r) = sig(0x51);
    let (s2, s2r) = sig(0x52);
    let proposer_slashing = json!({"signed_header_1": {"message": h1, "signature": s1},
                                   "signed_header_2": {"message": h2, "signature": s2}});
    let proposer_slashing_root = container(&[container(&[h1r, s1r]), container(&[h2r, s2r])]);

    let (a1, a1r) = indexed_attestation(&[1, 5, 9, 12, 700], 4);
    let (a2, a2r) = indexed_attestation(&[5, 9], 4);
    let attester_slashing = json!({"attestation_1": a1, "attestation_2": a2});
    let attester_slashing_root = container(&[a1r, a2r]);

    let bits = [true, false, true, true, false, false, false, true, true];
    let (data, data_root) = attestation_data(slot - 1, 2, 3, 7);
    let (asig, asig_root) = sig(0x71);
    let attestation =
        json!({"aggregation_bits": bitlist_hex(&bits), "data": data, "signature": asig});
    let attestation_root = container(&[bitlist(&bits, 2048), data_root, asig_root]);

    let proof: Vec<Chunk> = (0..33u8).map(|i| [i; 32]).collect();
    let (dsig, dsig_root) = sig(0x81);
    let deposit = json!({
        "proof": proof.iter().map(|p| hx(p)).collect::<Vec<_>>(),
        "data": {"pubkey": hx(&[0x82; 48]), "withdrawal_credentials": hx(&[0x83; 32]),
                 "amount": "32000000000", "signature": dsig}
    });
    let deposit_data_root =
        container(&[bytes(&[0x82; 48]), [0x83; 32], uint(32_000_000_000), dsig_root]);
    let deposit_root = container(&[merkle(&proof, 64), deposit_data_root]);

    let (esig, esig_root) = sig(0x91);
    let exit = json!({"message": {"epoch": "5", "validator_index": "44"}, "signature": esig});
    let exit_root = container(&[container(&[uint(5), uint(44)]), esig_root]);

    let mut body = json!({
        "randao_reveal": randao, "eth1_data": eth1, "graffiti": hx(&graffiti),
        "proposer_slashings": [proposer_slashing],
        "attester_slashings": [attester_slashing],
        "attestations": [attestation.clone(), attestation],
        "deposits": [deposit],
        "voluntary_exits": [exit]
    });
    let mut fields = vec![
        randao_root,
        eth1_root,
        graffiti,
        list(&[proposer_slashing_root], 16),
        list(&[attester_slashing_root], 2),
        list(&[attestation_root, attestation_root], 128),
        list(&[deposit_root], 16),
        list(&[exit_root], 16),
    ];
    if altair {
        let mut sync_bits = [0u8; 64];
        sync_bits[0] = 0b1011;
        sync_bits[63] = 0x80;
        let (ssig, ssig_root) = sig(0xa1);
        body["sync_aggregate"] =
            json!({"sync_committee_bits": hx(&sync_bits), "sync_committee_signature": ssig});
        fields.push(container(&[bytes(&sync_bits), ssig_root]));
    }
    let body_root = container(&fields);
    let block = json!({"slot": slot.to_string(), "proposer_index": "12",
                       "parent_root": hx(&[0xb1; 32]), "state_root": hx(&[0xb2; 32]), "body": body});
    (block, container(&[uint(slot), uint(12), [0xb1; 32], [0xb2; 32], body_root]))
}

fn block_v2(version: &str, block: &Value) -> Value {
    json!({"type": "BLOCK_V2", "fork_info": fork_info(), "beacon_block": {"version": version, "block": block}})
}

#[test]
fn phase0_and_altair_blocks_with_every_field_sign_their_own_root() {
    for (version, altair) in [("PHASE0", false), ("ALTAIR", true), ("altair", true)] {
        let slot = FORK_EPOCH * 32 + 3;
        let (b, root) = block(slot, altair);
        let p = plan(block_v2(version, &b)).unwrap();
        assert_eq!(p.signing_root, signing_root(root, domain(PROPOSER, CUR, GVR)), "{version}");
        assert_eq!(p.slashing, Some(SlashingCheck::Block { slot: Slot(slot) }), "{version}");
    }
}

#[test]
fn an_empty_block_uses_the_previous_fork_version_before_the_fork() {
    let slot = FORK_EPOCH * 32 - 1;
    let (randao, randao_root) = sig(0);
    let body = json!({"randao_reveal": randao,
        "eth1_data": {"deposit_root": hx(&[0; 32]), "deposit_count": "0", "block_hash": hx(&[0; 32])},
        "graffiti": hx(&[0; 32]), "proposer_slashings": [], "attester_slashings": [],
        "attestations": [], "deposits": [], "voluntary_exits": []});
    let b = json!({"slot": slot.to_string(), "proposer_index": "0", "parent_root": hx(&[0; 32]),
                   "state_root": hx(&[0; 32]), "body": body});
    let empty = |limit: usize| list(&[], limit);
    let body_root = container(&[
        randao_root,
        container(&[[0; 32], uint(0), [0; 32]]),
        [0; 32],
        empty(16),
        empty(2),
        empty(128),
        empty(16),
        empty(16),
    ]);
    let root = container(&[uint(slot), uint(0), [0; 32], [0; 32], body_root]);
    let want = signing_root(root, domain(PROPOSER, PREV, GVR));
    assert_eq!(plan(block_v2("PHASE0", &b)).unwrap().signing_root, want);
    // The deprecated BLOCK type carries the same phase0 block.
    let legacy = json!({"type": "BLOCK", "fork_info": fork_info(), "block": b});
    assert_eq!(plan(legacy).unwrap().signing_root, want);
}

#[test]
fn full_block_and_its_header_give_the_same_signing_root() {
    let slot = FORK_EPOCH * 32 + 40;
    let (b, root) = block(slot, true);
    let from_block = plan(block_v2("ALTAIR", &b)).unwrap();
    assert_eq!(from_block.signing_root, signing_root(root, domain(PROPOSER, CUR, GVR)));
    // The header of the same block (its body root recomputed here) signs to the same root.
    let block: claystack_signer::block::BeaconBlock = serde_json::from_value(b).unwrap();
    let header = block.header().unwrap();
    let from_header = plan(json!({"type": "BLOCK_V2", "fork_info": fork_info(),
        "beacon_block": {"version": "ALTAIR", "block_header": header}}))
    .unwrap();
    assert_eq!(from_header.signing_root, from_block.signing_root);
}

#[test]
fn malformed_full_blocks_are_refused() {
    let slot = FORK_EPOCH * 32;
    let (phase0, _) = block(slot, false);
    let (altair, _) = block(slot, true);
    let err = |v: Value| plan(v).unwrap_err().to_string();
    // Body layout must match the version.
    assert!(err(block_v2("ALTAIR", &phase0)).contains("without sync_aggregate"));
    assert!(err(block_v2("PHASE0", &altair)).contains("no sync_aggregate"));
    // Later forks send block_header.
    assert!(err(block_v2("BELLATRIX", &altair)).contains("only defined for PHASE0 and ALTAIR"));
    // SSZ limits.
    let mut too_many = phase0.clone();
    let one = too_many["body"]["attester_slashings"][0].clone();
    too_many["body"]["attester_slashings"] = json!([one.clone(), one.clone(), one]);
    assert!(err(block_v2("PHASE0", &too_many)).contains("attester_slashings: 3 elements, limit 2"));
    let mut short_proof = phase0.clone();
    short_proof["body"]["deposits"][0]["proof"] = json!([hx(&[0; 32])]);
    assert!(err(block_v2("PHASE0", &short_proof)).contains("deposit proof: 1 elements, limit 33"));
    let mut indices = phase0.clone();
    let many: Vec<String> = (0..2049).map(|i: u32| i.to_string()).collect();
    indices["body"]["attester_slashings"][0]["attestation_1"]["attesting_indices"] = json!(many);
    assert!(err(block_v2("PHASE0", &indices)).contains("attesting_indices: 2049 elements"));
    let mut bits = altair;
    bits["body"]["sync_aggregate"]["sync_committee_bits"] = json!(hx(&[0; 63]));
    assert!(err(block_v2("ALTAIR", &bits)).contains("bitvector of 63 bytes"));
    let mut agg = phase0;
    agg["body"]["attestations"][0]["aggregation_bits"] = json!("0x00");
    assert!(err(block_v2("PHASE0", &agg)).contains("delimiter"));
}
