//! Interchange (EIP-3076 v5) parsing, validation, import/export round trip and merging.
//!
//! The official EIP-3076 interchange test vectors are not available offline here; these cases
//! are written from the text of the EIP (format, refusal conditions and the import guidance).

use claystack_consensus::{Epoch, Slot};
use claystack_slashing::{
    Error, Interchange, InterchangeError, NotSafe, Safe, SignedAttestation, SignedBlock,
    SlashingDatabase,
};

const GVR_HEX: &str = "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673";

fn pk_hex(b: u8) -> String {
    format!("0x{}", hex_byte(b).repeat(48))
}

fn hex_byte(b: u8) -> String {
    format!("{b:02x}")
}

fn root_hex(b: u8) -> String {
    format!("0x{}", hex_byte(b).repeat(32))
}

fn sample() -> String {
    format!(
        r#"{{
  "metadata": {{ "interchange_format_version": "5", "genesis_validators_root": "{GVR_HEX}" }},
  "data": [
    {{
      "pubkey": "{pk}",
      "signed_blocks": [
        {{ "slot": "81952", "signing_root": "{r1}" }},
        {{ "slot": "81951" }}
      ],
      "signed_attestations": [
        {{ "source_epoch": "2290", "target_epoch": "3007", "signing_root": "{r2}" }},
        {{ "source_epoch": "2290", "target_epoch": "3008" }}
      ]
    }}
  ]
}}"#,
        pk = pk_hex(0xb8),
        r1 = root_hex(0x4f),
        r2 = root_hex(0x58),
    )
}

fn gvr() -> [u8; 32] {
    claystack_consensus::hexutil::decode_fixed(GVR_HEX).unwrap()
}

#[test]
fn parses_the_eip_example_shape() {
    let i = Interchange::from_json_str(&sample()).unwrap();
    assert_eq!(i.metadata.interchange_format_version, 5);
    assert_eq!(i.metadata.genesis_validators_root, gvr());
    let rec = &i.data[0];
    assert_eq!(rec.pubkey, [0xb8; 48]);
    assert_eq!(
        rec.signed_blocks,
        vec![
            SignedBlock { slot: Slot(81952), signing_root: Some([0x4f; 32]) },
            SignedBlock { slot: Slot(81951), signing_root: None },
        ]
    );
    assert_eq!(
        rec.signed_attestations[1],
        SignedAttestation {
            source_epoch: Epoch(2290),
            target_epoch: Epoch(3008),
            signing_root: None
        }
    );
}

#[test]
fn rejects_invalid_files_with_a_clear_error() {
    let good = sample();
    let cases: Vec<(String, &str)> = vec![
        (
            good.replace(
                r#""interchange_format_version": "5""#,
                r#""interchange_format_version": "4""#,
            ),
            "unsupported interchange format version 4",
        ),
        (good.replace(GVR_HEX, "0x1234"), "expected 32 bytes"),
        (good.replace(&pk_hex(0xb8), "0xzz"), "invalid hex"),
        (
            good.replace(r#""slot": "81952""#, r#""slot": "-1""#),
            "expected a decimal unsigned integer",
        ),
        (good.replace(r#""slot": "81952""#, r#""slots": "81952""#), "unknown field `slots`"),
        (
            good.replace(
                r#""source_epoch": "2290", "target_epoch": "3007""#,
                r#""source_epoch": "3010", "target_epoch": "3007""#,
            ),
            "source epoch 3010 is after target epoch 3007",
        ),
        (good.replace(&root_hex(0x4f), "0x00"), "expected 32 bytes"),
        (
            good.replace(r#""signed_attestations""#, r#""attestations""#),
            "unknown field `attestations`",
        ),
        ("{}".to_owned(), "missing field `metadata`"),
        ("not json".to_owned(), "parse interchange json"),
    ];
    for (json, want) in cases {
        let err = Interchange::from_json_str(&json).unwrap_err().to_string();
        assert!(err.contains(want), "expected {want:?} in {err:?}");
    }
}

#[test]
fn import_refuses_another_chain_and_changes_nothing() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.pin_genesis_validators_root([9; 32]).unwrap();
    let i = Interchange::from_json_str(&sample()).unwrap();
    let err = db.import_interchange(&i).unwrap_err();
    assert!(
        matches!(err, Error::Interchange(InterchangeError::GenesisValidatorsRootMismatch { .. })),
        "{err}"
    );
    assert!(db.registered_validators().unwrap().is_empty());
}

#[test]
fn import_applies_history_and_watermarks() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    let i = Interchange::from_json_str(&sample()).unwrap();
    let s = db.import_interchange(&i).unwrap();
    assert_eq!((s.validators, s.blocks_added, s.attestations_added), (1, 2, 2));
    assert_eq!(db.genesis_validators_root().unwrap(), Some(gvr()));
    let pk = [0xb8; 48];
    // Same root at an imported slot: a safe re-sign.
    assert_eq!(
        db.check_and_insert_block_proposal(gvr(), &pk, Slot(81952), [0x4f; 32]).unwrap(),
        Safe::SameData
    );
    // Unknown root at an imported slot: refused.
    let e = db.check_and_insert_block_proposal(gvr(), &pk, Slot(81951), [1; 32]).unwrap_err();
    assert!(matches!(e.not_safe(), Some(NotSafe::DoubleBlockProposal { .. })), "{e}");
    // Below the imported maximum: refused by the watermark (the file may have been minified).
    let e = db.check_and_insert_block_proposal(gvr(), &pk, Slot(81000), [1; 32]).unwrap_err();
    assert!(matches!(e.not_safe(), Some(NotSafe::BlockSlotAtOrBelowLowerBound { .. })), "{e}");
    assert_eq!(
        db.check_and_insert_block_proposal(gvr(), &pk, Slot(81953), [1; 32]).unwrap(),
        Safe::Fresh
    );
    // Attestations: target at or below the imported maximum target is refused.
    let e =
        db.check_and_insert_attestation(gvr(), &pk, Epoch(3000), Epoch(3005), [1; 32]).unwrap_err();
    assert!(e.not_safe().is_some(), "{e}");
    let e =
        db.check_and_insert_attestation(gvr(), &pk, Epoch(2290), Epoch(3008), [1; 32]).unwrap_err();
    assert!(matches!(e.not_safe(), Some(NotSafe::DoubleVote { .. })), "{e}");
    // Source below the imported maximum source: refused.
    let e =
        db.check_and_insert_attestation(gvr(), &pk, Epoch(2289), Epoch(3009), [1; 32]).unwrap_err();
    assert!(e.not_safe().is_some(), "{e}");
    assert_eq!(
        db.check_and_insert_attestation(gvr(), &pk, Epoch(2290), Epoch(3009), [1; 32]).unwrap(),
        Safe::Fresh
    );
}

#[test]
fn export_then_import_round_trips() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    let keys = [[1u8; 48], [2u8; 48]];
    db.register_validators(keys.iter()).unwrap();
    let g = [5u8; 32];
    for (n, k) in keys.iter().enumerate() {
        let n = n as u64;
        db.check_and_insert_block_proposal(g, k, Slot(10 + n), [1; 32]).unwrap();
        db.check_and_insert_block_proposal(g, k, Slot(20 + n), [2; 32]).unwrap();
        db.check_and_insert_attestation(g, k, Epoch(1), Epoch(2 + n), [3; 32]).unwrap();
        db.check_and_insert_attestation(g, k, Epoch(2 + n), Epoch(5 + n), [4; 32]).unwrap();
    }
    let exported = db.export_interchange().unwrap();
    let json = exported.to_json_string().unwrap();
    let parsed = Interchange::from_json_str(&json).unwrap();
    assert_eq!(parsed, exported);
    // Slots and epochs are written as decimal strings, as the EIP requires.
    assert!(json.contains(r#""slot": "10""#), "{json}");
    assert!(json.contains(r#""interchange_format_version": "5""#), "{json}");

    let fresh = SlashingDatabase::open_in_memory().unwrap();
    fresh.import_interchange(&parsed).unwrap();
    let again = fresh.export_interchange().unwrap();
    assert_eq!(again, exported);
    // Importing the same file twice adds nothing.
    let s = fresh.import_interchange(&parsed).unwrap();
    assert_eq!((s.blocks_added, s.attestations_added), (0, 0));
    assert_eq!(fresh.export_interchange().unwrap(), exported);
}

#[test]
fn import_merges_with_existing_history() {
    let g = gvr();
    let pk = [0xb8u8; 48];
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&pk]).unwrap();
    // Local history is newer than the file for blocks, older for attestations.
    db.check_and_insert_block_proposal(g, &pk, Slot(90000), [7; 32]).unwrap();
    db.check_and_insert_attestation(g, &pk, Epoch(100), Epoch(200), [7; 32]).unwrap();
    db.import_interchange(&Interchange::from_json_str(&sample()).unwrap()).unwrap();
    let out = db.export_interchange().unwrap();
    assert_eq!(out.data.len(), 1);
    let rec = &out.data[0];
    let slots: Vec<u64> = rec.signed_blocks.iter().map(|b| b.slot.0).collect();
    assert_eq!(slots, vec![81951, 81952, 90000]);
    let targets: Vec<u64> = rec.signed_attestations.iter().map(|a| a.target_epoch.0).collect();
    assert_eq!(targets, vec![200, 3007, 3008]);
    // The bound in force before the import (minimum local slot 90000) still binds: an import
    // never lowers a bound.
    assert!(db.check_and_insert_block_proposal(g, &pk, Slot(85000), [1; 32]).is_err());
    // The imported maximum target binds even though local history was older.
    assert!(db.check_and_insert_attestation(g, &pk, Epoch(2290), Epoch(3001), [1; 32]).is_err());
    // A second file with a higher maximum raises the watermark; a lower one never lowers it.
    let higher = sample().replace(r#""slot": "81952""#, r#""slot": "95000""#);
    db.import_interchange(&Interchange::from_json_str(&higher).unwrap()).unwrap();
    assert!(db.check_and_insert_block_proposal(g, &pk, Slot(94999), [1; 32]).is_err());
    let lower = sample().replace(r#""slot": "81952""#, r#""slot": "10""#);
    db.import_interchange(&Interchange::from_json_str(&lower).unwrap()).unwrap();
    assert!(db.check_and_insert_block_proposal(g, &pk, Slot(94999), [1; 32]).is_err());
    assert_eq!(
        db.check_and_insert_block_proposal(g, &pk, Slot(95001), [1; 32]).unwrap(),
        Safe::Fresh
    );
}

#[test]
fn conflicting_imported_entries_make_that_slot_unsignable() {
    // Two different roots for one slot (the other client already double-signed): import keeps
    // both, and no root at that slot is signable any more.
    let json = sample().replace(
        r#"{ "slot": "81951" }"#,
        &format!(r#"{{ "slot": "81952", "signing_root": "{}" }}"#, root_hex(0x50)),
    );
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.import_interchange(&Interchange::from_json_str(&json).unwrap()).unwrap();
    let pk = [0xb8u8; 48];
    for r in [0x4f, 0x50] {
        let e = db.check_and_insert_block_proposal(gvr(), &pk, Slot(81952), [r; 32]).unwrap_err();
        assert!(matches!(e.not_safe(), Some(NotSafe::DoubleBlockProposal { .. })), "{e}");
    }
}

#[test]
fn duplicate_validator_records_are_merged() {
    let one = Interchange::from_json_str(&sample()).unwrap();
    let mut two = one;
    let mut rec = two.data[0].clone();
    rec.signed_blocks = vec![SignedBlock { slot: Slot(90000), signing_root: None }];
    rec.signed_attestations = vec![];
    two.data.push(rec);
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.import_interchange(&two).unwrap();
    let out = db.export_interchange().unwrap();
    assert_eq!(out.data.len(), 1);
    assert_eq!(out.data[0].signed_blocks.len(), 3);
    assert!(db.check_and_insert_block_proposal(gvr(), &[0xb8; 48], Slot(89999), [1; 32]).is_err());
}

#[test]
fn pruned_watermarks_survive_export_and_import() {
    let g = [5u8; 32];
    let pk = [1u8; 48];
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&pk]).unwrap();
    db.check_and_insert_block_proposal(g, &pk, Slot(50), [1; 32]).unwrap();
    db.check_and_insert_attestation(g, &pk, Epoch(3), Epoch(8), [1; 32]).unwrap();
    db.prune(Slot(1000), Epoch(1000)).unwrap();
    let out = db.export_interchange().unwrap();
    let fresh = SlashingDatabase::open_in_memory().unwrap();
    fresh.import_interchange(&out).unwrap();
    assert!(fresh.check_and_insert_block_proposal(g, &pk, Slot(50), [2; 32]).is_err());
    assert!(fresh.check_and_insert_attestation(g, &pk, Epoch(4), Epoch(7), [2; 32]).is_err());
    assert!(fresh.check_and_insert_attestation(g, &pk, Epoch(2), Epoch(9), [2; 32]).is_err());
}
