//! Property test: the database makes the same accept/refuse decisions as a reference model that
//! is a direct transcription of EIP-3076's refusal conditions over an in-memory history, plus
//! the watermarks an import leaves (maximum imported values, and never below the bounds in force
//! before the import).

use claystack_consensus::{Epoch, Slot};
use claystack_slashing::{
    Interchange, InterchangeMetadata, InterchangeRecord, Safe, SignedAttestation, SignedBlock,
    SlashingDatabase,
};
use proptest::prelude::*;

const GVR: [u8; 32] = [3; 32];
const KEYS: [[u8; 48]; 2] = [[1; 48], [2; 48]];

#[derive(Debug, Clone)]
enum Op {
    Block {
        v: usize,
        slot: u64,
        root: u8,
    },
    Att {
        v: usize,
        source: u64,
        target: u64,
        root: u8,
    },
    /// An interchange for one validator: blocks (slot, root) and attestations; root `None` is
    /// "unknown".
    Import {
        v: usize,
        blocks: Vec<(u64, Option<u8>)>,
        atts: Vec<(u64, u64, Option<u8>)>,
    },
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
    blocks: Vec<Vec<(u64, Option<u8>)>>,
    atts: Vec<Vec<(u64, u64, Option<u8>)>>,
    /// Watermarks per validator: block slot, source epoch, target epoch.
    floors: Vec<(Option<u64>, Option<u64>, Option<u64>)>,
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl Model {
    fn new() -> Self {
        Self {
            blocks: vec![vec![]; KEYS.len()],
            atts: vec![vec![]; KEYS.len()],
            floors: vec![(None, None, None); KEYS.len()],
        }
    }

    fn apply(&mut self, op: Op) -> Decision {
        match op {
            Op::Block { v, slot, root } => {
                let bs = &mut self.blocks[v];
                let same: Vec<_> = bs.iter().filter(|b| b.0 == slot).collect();
                if !same.is_empty() {
                    return if same.iter().all(|b| b.1 == Some(root)) {
                        Decision::Same
                    } else {
                        Decision::Refused
                    };
                }
                let bound = max_opt(bs.iter().map(|b| b.0).min(), self.floors[v].0);
                if bound.is_some_and(|m| slot <= m) {
                    return Decision::Refused;
                }
                bs.push((slot, Some(root)));
                Decision::Fresh
            }
            Op::Att { v, source, target, root } => {
                if source > target {
                    return Decision::Refused;
                }
                let atts = &mut self.atts[v];
                let same: Vec<_> = atts.iter().filter(|a| a.1 == target).collect();
                if !same.is_empty() {
                    return if same.iter().all(|a| a.2 == Some(root)) {
                        Decision::Same
                    } else {
                        Decision::Refused
                    };
                }
                let surrounds = atts.iter().any(|a| source < a.0 && target > a.1);
                let surrounded = atts.iter().any(|a| source > a.0 && target < a.1);
                let (_, source_floor, target_floor) = self.floors[v];
                let below_source = max_opt(atts.iter().map(|a| a.0).min(), source_floor)
                    .is_some_and(|m| source < m);
                let below_target = max_opt(atts.iter().map(|a| a.1).min(), target_floor)
                    .is_some_and(|m| target <= m);
                if surrounds || surrounded || below_source || below_target {
                    return Decision::Refused;
                }
                atts.push((source, target, Some(root)));
                Decision::Fresh
            }
            Op::Import { v, blocks, atts } => {
                let before = (
                    self.blocks[v].iter().map(|b| b.0).min(),
                    self.atts[v].iter().map(|a| a.0).min(),
                    self.atts[v].iter().map(|a| a.1).min(),
                );
                for b in &blocks {
                    if !self.blocks[v].contains(b) {
                        self.blocks[v].push(*b);
                    }
                }
                for a in &atts {
                    if !self.atts[v].contains(a) {
                        self.atts[v].push(*a);
                    }
                }
                let f = &mut self.floors[v];
                f.0 = max_opt(max_opt(f.0, before.0), blocks.iter().map(|b| b.0).max());
                f.1 = max_opt(max_opt(f.1, before.1), atts.iter().map(|a| a.0).max());
                f.2 = max_opt(max_opt(f.2, before.2), atts.iter().map(|a| a.1).max());
                Decision::Fresh
            }
        }
    }
}

/// The model's decision without changing the model.
fn model_decision(model: &Model, op: &Op) -> Decision {
    let mut copy = Model {
        blocks: model.blocks.clone(),
        atts: model.atts.clone(),
        floors: model.floors.clone(),
    };
    copy.apply(op.clone())
}

fn db_apply(db: &SlashingDatabase, op: Op) -> Decision {
    let r = match op {
        Op::Block { v, slot, root } => {
            db.check_and_insert_block_proposal(GVR, &KEYS[v], Slot(slot), [root; 32])
        }
        Op::Att { v, source, target, root } => {
            db.check_and_insert_attestation(GVR, &KEYS[v], Epoch(source), Epoch(target), [root; 32])
        }
        Op::Import { v, blocks, atts } => {
            let file = Interchange {
                metadata: InterchangeMetadata {
                    interchange_format_version: 5,
                    genesis_validators_root: GVR,
                },
                data: vec![InterchangeRecord {
                    pubkey: KEYS[v],
                    signed_blocks: blocks
                        .iter()
                        .map(|&(slot, r)| SignedBlock {
                            slot: Slot(slot),
                            signing_root: r.map(|r| [r; 32]),
                        })
                        .collect(),
                    signed_attestations: atts
                        .iter()
                        .map(|&(s, t, r)| SignedAttestation {
                            source_epoch: Epoch(s),
                            target_epoch: Epoch(t),
                            signing_root: r.map(|r| [r; 32]),
                        })
                        .collect(),
                }],
            };
            return match db.import_interchange(&file) {
                Ok(_) => Decision::Fresh,
                Err(e) => panic!("import refused: {e}"),
            };
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

fn import_op() -> impl Strategy<Value = Op> {
    let root = proptest::option::of(1u8..4);
    let att = (0u64..12, 0u64..6, root.clone()).prop_map(|(s, d, r)| (s, s + d, r));
    (
        0..KEYS.len(),
        proptest::collection::vec((0u64..24, root), 0..3),
        proptest::collection::vec(att, 0..3),
    )
        .prop_map(|(v, blocks, atts)| Op::Import { v, blocks, atts })
}

fn op() -> impl Strategy<Value = Op> {
    // Small ranges and few roots so that repeats, double votes and surrounds are frequent.
    // Signing roots are never zero (a zero root in a file means "unknown").
    prop_oneof![
        4 => (0..KEYS.len(), 0u64..24, 1u8..4).prop_map(|(v, slot, root)| Op::Block { v, slot, root }),
        4 => (0..KEYS.len(), 0u64..12, 0u64..12, 1u8..4)
            .prop_map(|(v, source, target, root)| Op::Att { v, source, target, root }),
        1 => import_op(),
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
            let want = model.apply(op.clone());
            let got = db_apply(&db, op.clone());
            prop_assert_eq!(got, want, "op #{} {:?}", i, op);
        }
        // The export holds every row of the model's history (plus, where pruning or imports left
        // a watermark above every row, one entry standing for it).
        let exported = db.export_interchange().unwrap();
        for (v, key) in KEYS.iter().enumerate() {
            let rec = exported.data.iter().find(|r| r.pubkey == *key).unwrap();
            for b in &model.blocks[v] {
                prop_assert!(rec.signed_blocks.iter().any(|e| e.slot.0 == b.0 && e.signing_root == b.1.map(|r| [r; 32])));
            }
            for a in &model.atts[v] {
                prop_assert!(rec.signed_attestations.iter().any(|e| e.source_epoch.0 == a.0
                    && e.target_epoch.0 == a.1 && e.signing_root == a.2.map(|r| [r; 32])));
            }
        }
        // Export then import into a fresh database loses no protection: whatever the history
        // refuses, the fresh database refuses too.
        let fresh = SlashingDatabase::open_in_memory().unwrap();
        fresh.import_interchange(&exported).unwrap();
        for v in 0..KEYS.len() {
            for slot in 0..24 {
                for root in 1..4 {
                    let probe = Op::Block { v, slot, root };
                    if model_decision(&model, &probe) == Decision::Refused {
                        prop_assert_eq!(db_apply(&fresh, probe.clone()), Decision::Refused, "{:?}", probe);
                    }
                }
            }
            for source in 0..12 {
                for target in source..12 {
                    let probe = Op::Att { v, source, target, root: 1 };
                    if model_decision(&model, &probe) == Decision::Refused {
                        prop_assert_eq!(db_apply(&fresh, probe.clone()), Decision::Refused, "{:?}", probe);
                    }
                }
            }
        }
    }
}
