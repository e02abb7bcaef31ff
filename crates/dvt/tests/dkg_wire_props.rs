//! The networked DKG's decoders never panic on untrusted bytes and never accept what they
//! should not: random sealed bodies do not open, random or mutated envelopes do not verify.

use claystack_dvt::netdkg::{ClusterDefinition, DefinitionMember, Envelope, Identity, Round, wire};
use claystack_dvt::threshold::ShareIndex;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};
use std::collections::BTreeMap;

fn fixture() -> (ClusterDefinition, Vec<Identity>) {
    let mut rng = StdRng::seed_from_u64(5);
    let ids: Vec<Identity> = (0..3).map(|_| Identity::generate(&mut rng)).collect();
    let members = ids
        .iter()
        .zip(ShareIndex::range(3))
        .map(|(id, i)| DefinitionMember {
            index: i,
            node_address: format!("http://n{i}"),
            dkg_address: format!("http://d{i}"),
            identity: id.public(),
        })
        .collect();
    let d = ClusterDefinition {
        version: 1,
        name: "props".into(),
        network: "holesky".into(),
        threshold: 2,
        withdrawal_address: "0x0f51bb10119727a7e5ea3538074fb341f56b09ad".into(),
        amount_gwei: 32_000_000_000,
        session: [3; 32],
        members,
        signatures: BTreeMap::new(),
    };
    (d, ids)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_sealed_bodies_never_open(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (d, ids) = fixture();
        let h = d.hash().unwrap();
        let (one, two) = (ShareIndex::new(1).unwrap(), ShareIndex::new(2).unwrap());
        prop_assert!(wire::open(&ids[1], &h, Round::Share, one, two, &body).is_err());
    }

    #[test]
    fn mutated_envelopes_never_verify(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        flip in 0usize..64,
        field in 0u8..4,
    ) {
        let (d, ids) = fixture();
        let h = d.hash().unwrap();
        let (one, two) = (ShareIndex::new(1).unwrap(), ShareIndex::new(2).unwrap());
        let good = Envelope::sign(&ids[1], &h, Round::Complaints, two, None, &body);
        prop_assert!(good.verify(&d, &h, one).is_ok());
        let mut bad = good;
        match field {
            0 => {
                let mut sig = hex::decode(&bad.signature[2..]).unwrap();
                sig[flip] ^= 1;
                bad.signature = format!("0x{}", hex::encode(sig));
            }
            1 => bad.body = format!("{}00", bad.body),
            2 => bad.round = Round::Justifications,
            _ => bad.from = ShareIndex::new(3).unwrap(),
        }
        prop_assert!(bad.verify(&d, &h, one).is_err());
    }

    #[test]
    fn arbitrary_json_envelopes_are_rejected_without_panic(
        round in 0u8..9,
        from in 0u64..6,
        body in "[0-9a-fx]{0,80}",
        sig in "[0-9a-fx]{0,140}",
    ) {
        let (d, _) = fixture();
        let h = d.hash().unwrap();
        let rounds = ["deal", "share", "deal_echo", "complaints", "complaints_echo",
            "justifications", "justifications_echo", "deposit", "abort"];
        let v = serde_json::json!({"round": rounds[round as usize], "from": from, "body": body, "signature": sig});
        if let Ok(env) = serde_json::from_value::<Envelope>(v) {
            prop_assert!(env.verify(&d, &h, ShareIndex::new(1).unwrap()).is_err());
        }
    }
}
