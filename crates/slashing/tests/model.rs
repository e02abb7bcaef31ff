//! Property test: the database makes the same accept/refuse decisions as a reference model that
//! is a direct transcription of EIP-3076's refusal conditions over an in-memory history.

use claystack_consensus::{Epoch, Slot};
use claystack_slashing::{Safe, SlashingDatabase};
use proptest::prelude::*;

const GVR: [u8; 32] = [3; 32];
const KEYS: [[u8; 48]; 2] = [[1; 48], [2; 48]];

#[derive(Debug, Clone, Copy)]
enum Op {
    Block { v: usize, slot: u64, root: u8 },
    Att { v: usize, source: u64, target: u64, root: u8 },
}

/// Accepted (fresh or repeat) or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Fresh,
    Same,
    Refused,
}

#[derive(Default)]
struct Model {
    blocks: Vec<Vec<(u64, u8)>>,
    atts: Vec<Vec<(u64, u64, u8)>>,
}

impl Model {
    fn new() -> Self {
        Self { blocks: vec![vec![]; KEYS.len()], atts: vec![vec![]; KEYS.len()] }
    }

    fn apply(&mut self, op: Op) -> Decision {
        match op {
            Op::Block { v, slot, root } => {
                let bs = &mut self.blocks[v];
                let same: Vec<_> = bs.iter().filter(|b| b.0 == slot).collect();
                if !same.is_empty() {
                    return if same.iter().all(|b| b.1 == root) {
                        Decision::Same
                    } else {
                        Decision::Refused
                    };
                }
                if bs.iter().map(|b| b.0).min().is_some_and(|m| slot <= m) {
                    return Decision::Refused;
                }
                bs.push((slot, root));
                Decision::Fresh
            }
            Op::Att { v, source, target, root } => {
                if source > target {
                    return Decision::Refused;
                }
                let atts = &mut self.atts[v];
                let same: Vec<_> = atts.iter().filter(|a| a.1 == target).collect();
                if !same.is_empty() {
                    return if same.iter().all(|a| a.2 == root) {
                        Decision::Same
                    } else {
                        Decision::Refused
                    };
                }
                let surrounds = atts.iter().any(|a| source < a.0 && target > a.1);
                let surrounded = atts.iter().any(|a| source > a.0 && target < a.1);
                let below_source = atts.iter().map(|a| a.0).min().is_some_and(|m| source < m);
                let below_target = atts.iter().map(|a| a.1).min().is_some_and(|m| target <= m);
                if surrounds || surrounded || below_source || below_target {
                    return Decision::Refused;
                }
                atts.push((source, target, root));
                Decision::Fresh
            }
        }
    }
}

fn db_apply(db: &SlashingDatabase, op: Op) -> Decision {
    let r = match op {
        Op::Block { v, slot, root } => {
            db.check_and_insert_block_proposal(GVR, &KEYS[v], Slot(slot), [root; 32])
        }
        Op::Att { v, source, target, root } => {
            db.check_and_insert_attestation(GVR, &KEYS[v], Epoch(source), Epoch(target), [root; 32])
        }
    };
    match r {
        Ok(Safe::Fresh) => Decision::Fresh,
        Ok(Safe::SameData) => Decision::Same,
        Err(e) => {
            assert!(e.not_safe().is_some(), "unexpected database error: {e}");
            Decision::Refused
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    // Small ranges and few roots so that repeats, double votes and surrounds are frequent.
    prop_oneof![
        (0..KEYS.len(), 0u64..24, 0u8..3).prop_map(|(v, slot, root)| Op::Block { v, slot, root }),
        (0..KEYS.len(), 0u64..12, 0u64..12, 0u8..3).prop_map(|(v, source, target, root)| Op::Att {
            v,
            source,
            target,
            root
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn database_matches_reference_model(ops in proptest::collection::vec(op(), 1..60)) {
        let db = SlashingDatabase::open_in_memory().unwrap();
        db.register_validators(KEYS.iter()).unwrap();
        db.pin_genesis_validators_root(GVR).unwrap();
        let mut model = Model::new();
        for (i, op) in ops.iter().enumerate() {
            let want = model.apply(*op);
            let got = db_apply(&db, *op);
            prop_assert_eq!(got, want, "op #{} {:?}", i, op);
        }
        // The export holds exactly the model's accepted history.
        let exported = db.export_interchange().unwrap();
        for (v, key) in KEYS.iter().enumerate() {
            let rec = exported.data.iter().find(|r| r.pubkey == *key).unwrap();
            prop_assert_eq!(rec.signed_blocks.len(), model.blocks[v].len());
            prop_assert_eq!(rec.signed_attestations.len(), model.atts[v].len());
        }
    }
}
