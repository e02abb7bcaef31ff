//! One table case per EIP-3076 refusal rule (and the matching allowed cases).

use claystack_consensus::{Epoch, Slot};
use claystack_slashing::{NotSafe, Safe, SlashingDatabase};

const GVR: [u8; 32] = [7; 32];
const PK: [u8; 48] = [1; 48];

#[derive(Debug, Clone, Copy)]
enum Msg {
    /// slot, root byte
    Block(u64, u8),
    /// source, target, root byte
    Att(u64, u64, u8),
}

fn apply(db: &SlashingDatabase, m: Msg) -> Result<Safe, claystack_slashing::Error> {
    match m {
        Msg::Block(s, r) => db.check_and_insert_block_proposal(GVR, &PK, Slot(s), [r; 32]),
        Msg::Att(s, t, r) => db.check_and_insert_attestation(GVR, &PK, Epoch(s), Epoch(t), [r; 32]),
    }
}

/// Expected outcome of the last message.
#[derive(Debug)]
enum Expect {
    Fresh,
    Same,
    Refused(fn(&NotSafe) -> bool),
}

#[test]
fn every_rule_in_a_table() {
    use Msg::*;
    let cases: Vec<(&str, Vec<Msg>, Msg, Expect)> = vec![
        ("first block", vec![], Block(10, 1), Expect::Fresh),
        ("next block", vec![Block(10, 1)], Block(11, 2), Expect::Fresh),
        ("same block again is safe", vec![Block(10, 1)], Block(10, 1), Expect::Same),
        (
            "double proposal",
            vec![Block(10, 1)],
            Block(10, 2),
            Expect::Refused(|e| matches!(e, NotSafe::DoubleBlockProposal { slot: Slot(10) })),
        ),
        (
            "block below the minimum slot",
            vec![Block(10, 1), Block(20, 1)],
            Block(9, 1),
            Expect::Refused(|e| {
                matches!(e, NotSafe::BlockSlotAtOrBelowLowerBound { bound: Slot(10), .. })
            }),
        ),
        (
            "block between signed slots",
            vec![Block(10, 1), Block(20, 1)],
            Block(15, 3),
            Expect::Fresh,
        ),
        ("first attestation", vec![], Att(1, 2, 1), Expect::Fresh),
        ("source equal target", vec![], Att(3, 3, 1), Expect::Fresh),
        (
            "source after target",
            vec![],
            Att(3, 2, 1),
            Expect::Refused(|e| matches!(e, NotSafe::SourceExceedsTarget { .. })),
        ),
        ("same attestation again is safe", vec![Att(1, 2, 1)], Att(1, 2, 1), Expect::Same),
        (
            "double vote",
            vec![Att(1, 2, 1)],
            Att(1, 2, 2),
            Expect::Refused(|e| matches!(e, NotSafe::DoubleVote { target_epoch: Epoch(2) })),
        ),
        (
            "double vote with another source",
            vec![Att(1, 3, 1)],
            Att(2, 3, 2),
            Expect::Refused(|e| matches!(e, NotSafe::DoubleVote { .. })),
        ),
        (
            "new vote surrounds a signed one",
            vec![Att(2, 3, 1)],
            Att(1, 4, 1),
            Expect::Refused(|e| {
                matches!(
                    e,
                    NotSafe::SurroundingVote { prev_source: Epoch(2), prev_target: Epoch(3), .. }
                )
            }),
        ),
        (
            "new vote is surrounded by a signed one",
            vec![Att(1, 4, 1)],
            Att(2, 3, 1),
            Expect::Refused(|e| {
                matches!(
                    e,
                    NotSafe::SurroundedVote { prev_source: Epoch(1), prev_target: Epoch(4), .. }
                )
            }),
        ),
        ("same source, later target", vec![Att(1, 4, 1)], Att(1, 5, 1), Expect::Fresh),
        (
            "shared source, inner target",
            vec![Att(1, 4, 1), Att(1, 6, 1)],
            Att(1, 5, 1),
            Expect::Fresh,
        ),
        ("later source, same-edge", vec![Att(1, 4, 1)], Att(4, 5, 1), Expect::Fresh),
        (
            "source below the minimum source",
            vec![Att(5, 6, 1)],
            Att(4, 7, 1),
            Expect::Refused(|e| {
                // (4,7) surrounds (5,6); the surround rule fires first.
                matches!(e, NotSafe::SurroundingVote { .. })
            }),
        ),
        (
            "source below the minimum source, no surround",
            vec![Att(5, 10, 1)],
            Att(4, 9, 1),
            Expect::Refused(|e| {
                matches!(e, NotSafe::SourceBelowLowerBound { bound: Epoch(5), .. })
            }),
        ),
        (
            "target at or below the minimum target",
            vec![Att(5, 10, 1)],
            Att(5, 9, 1),
            Expect::Refused(|e| {
                matches!(e, NotSafe::TargetAtOrBelowLowerBound { bound: Epoch(10), .. })
            }),
        ),
        (
            "blocks and attestations are independent",
            vec![Block(10, 1)],
            Att(10, 10, 1),
            Expect::Fresh,
        ),
    ];
    for (name, history, msg, expect) in cases {
        let db = SlashingDatabase::open_in_memory().unwrap();
        db.register_validators([&PK]).unwrap();
        for m in &history {
            assert_eq!(apply(&db, *m).unwrap(), Safe::Fresh, "{name}: history {m:?}");
        }
        let got = apply(&db, msg);
        match (&expect, &got) {
            (Expect::Fresh, Ok(Safe::Fresh)) | (Expect::Same, Ok(Safe::SameData)) => {}
            (Expect::Refused(pred), Err(e)) if e.not_safe().is_some_and(pred) => {}
            _ => panic!("{name}: expected {expect:?}, got {got:?}"),
        }
        // A refused message must not have been recorded: repeating it is refused again.
        if matches!(expect, Expect::Refused(_)) {
            assert!(apply(&db, msg).is_err(), "{name}: refused message was recorded");
        }
    }
}

#[test]
fn unregistered_validator_is_refused() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    let err = db.check_and_insert_block_proposal(GVR, &PK, Slot(1), [1; 32]).unwrap_err();
    assert!(matches!(err.not_safe(), Some(NotSafe::UnregisteredValidator(pk)) if *pk == PK));
}

#[test]
fn genesis_validators_root_is_pinned_on_first_use() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&PK]).unwrap();
    assert_eq!(db.genesis_validators_root().unwrap(), None);
    db.check_and_insert_block_proposal(GVR, &PK, Slot(1), [1; 32]).unwrap();
    assert_eq!(db.genesis_validators_root().unwrap(), Some(GVR));
    let err =
        db.check_and_insert_attestation([8; 32], &PK, Epoch(0), Epoch(1), [1; 32]).unwrap_err();
    assert!(matches!(
        err.not_safe(),
        Some(NotSafe::GenesisValidatorsRootMismatch { database, request })
            if *database == GVR && *request == [8; 32]
    ));
    assert!(db.pin_genesis_validators_root([8; 32]).is_err());
    db.pin_genesis_validators_root(GVR).unwrap();
}

#[test]
fn validators_are_independent() {
    let other = [2u8; 48];
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&PK, &other]).unwrap();
    db.check_and_insert_block_proposal(GVR, &PK, Slot(5), [1; 32]).unwrap();
    assert_eq!(
        db.check_and_insert_block_proposal(GVR, &other, Slot(5), [2; 32]).unwrap(),
        Safe::Fresh
    );
    db.check_and_insert_attestation(GVR, &PK, Epoch(1), Epoch(4), [1; 32]).unwrap();
    assert_eq!(
        db.check_and_insert_attestation(GVR, &other, Epoch(2), Epoch(3), [1; 32]).unwrap(),
        Safe::Fresh
    );
}

#[test]
fn pruning_keeps_everything_refused_that_was_refused() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&PK]).unwrap();
    for s in [10, 20, 30] {
        db.check_and_insert_block_proposal(GVR, &PK, Slot(s), [1; 32]).unwrap();
    }
    db.check_and_insert_attestation(GVR, &PK, Epoch(2), Epoch(3), [1; 32]).unwrap();
    db.check_and_insert_attestation(GVR, &PK, Epoch(5), Epoch(9), [1; 32]).unwrap();
    db.prune(Slot(100), Epoch(100)).unwrap();
    // Everything is gone, the watermarks remain.
    for s in [10, 25, 30] {
        let e = db.check_and_insert_block_proposal(GVR, &PK, Slot(s), [2; 32]).unwrap_err();
        assert!(matches!(e.not_safe(), Some(NotSafe::BlockSlotAtOrBelowLowerBound { .. })), "{e}");
    }
    // Would have surrounded (5,9): refused by the source watermark.
    assert!(db.check_and_insert_attestation(GVR, &PK, Epoch(4), Epoch(10), [2; 32]).is_err());
    // Would have been surrounded by (5,9): refused by the target watermark.
    assert!(db.check_and_insert_attestation(GVR, &PK, Epoch(6), Epoch(8), [2; 32]).is_err());
    assert_eq!(
        db.check_and_insert_block_proposal(GVR, &PK, Slot(31), [2; 32]).unwrap(),
        Safe::Fresh
    );
    assert_eq!(
        db.check_and_insert_attestation(GVR, &PK, Epoch(5), Epoch(10), [2; 32]).unwrap(),
        Safe::Fresh
    );
}

#[test]
fn out_of_range_values_are_errors_not_wraps() {
    let db = SlashingDatabase::open_in_memory().unwrap();
    db.register_validators([&PK]).unwrap();
    let e = db.check_and_insert_block_proposal(GVR, &PK, Slot(u64::MAX), [1; 32]).unwrap_err();
    assert!(matches!(e, claystack_slashing::Error::OutOfRange { .. }), "{e}");
}

#[test]
fn second_open_of_the_same_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slashing.sqlite");
    let db = SlashingDatabase::open(&path).unwrap();
    assert!(SlashingDatabase::open(&path).is_err(), "exclusive lock not taken");
    drop(db);
    let db = SlashingDatabase::open(&path).unwrap();
    db.register_validators([&PK]).unwrap();
}

#[test]
fn history_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slashing.sqlite");
    {
        let db = SlashingDatabase::open(&path).unwrap();
        db.register_validators([&PK]).unwrap();
        db.check_and_insert_block_proposal(GVR, &PK, Slot(10), [1; 32]).unwrap();
        db.check_and_insert_attestation(GVR, &PK, Epoch(1), Epoch(4), [1; 32]).unwrap();
    }
    let db = SlashingDatabase::open(&path).unwrap();
    assert!(db.check_and_insert_block_proposal(GVR, &PK, Slot(10), [2; 32]).is_err());
    assert!(db.check_and_insert_attestation(GVR, &PK, Epoch(2), Epoch(3), [2; 32]).is_err());
    assert_eq!(db.genesis_validators_root().unwrap(), Some(GVR));
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slashing.sqlite");
    drop(SlashingDatabase::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SlashingDatabase::open(&path).unwrap_err();
    assert!(matches!(err, claystack_slashing::Error::UnsupportedSchema(99)), "{err}");
}
