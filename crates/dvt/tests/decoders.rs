//! Decoders of untrusted input never panic and reject what they must: keys, signatures,
//! commitments, DKG messages, cluster descriptions and node requests from arbitrary bytes.

use claystack_consensus::units::Gwei;
use claystack_dvt::cluster::{ClusterDescription, CreateParams, create_with_dkg};
use claystack_dvt::dkg::{
    Complaint, DealerBroadcast, DealerShare, DkgConfig, Justification, Participant,
};
use claystack_dvt::request::{RequestEvaluator, SignerEvaluator};
use claystack_dvt::threshold::ShareIndex;
use claystack_dvt::threshold::{Commitments, PartialSignature};
use claystack_dvt::{PublicKey, SecretKey, Signature, bls};
use claystack_keys::WithdrawalCredentials;
use claystack_keys::deposit::DepositNetwork;
use claystack_signer::NetworkSpec;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

/// Runs every JSON decoder on `text`; only the absence of a panic matters (any may accept).
fn decode_all(text: &str) -> Vec<bool> {
    vec![
        serde_json::from_str::<Commitments>(text).is_ok(),
        serde_json::from_str::<PartialSignature>(text).is_ok(),
        serde_json::from_str::<DealerBroadcast>(text).is_ok(),
        serde_json::from_str::<DealerShare>(text).is_ok(),
        serde_json::from_str::<Complaint>(text).is_ok(),
        serde_json::from_str::<Justification>(text).is_ok(),
        serde_json::from_str::<ClusterDescription>(text).is_ok(),
        SignerEvaluator { spec: NetworkSpec::HOLESKY }.evaluate(text.as_bytes()).is_ok(),
    ]
}

/// Valid JSON of each message type, to mutate.
fn samples() -> &'static [String] {
    static SAMPLES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(1);
        let cfg = DkgConfig::new([3; 32], 2, ShareIndex::range(3)).unwrap();
        let (mut p, r1) = Participant::new(cfg.clone(), ShareIndex::new(1).unwrap(), &mut rng).unwrap();
        let (_, r2) = Participant::new(cfg, ShareIndex::new(2).unwrap(), &mut rng).unwrap();
        // Dealer 2's share to participant 1 is withheld: participant 1 complains.
        let complaints = p.round2(&[r1.broadcast.clone(), r2.broadcast], &[]).unwrap();
        assert_eq!(complaints.len(), 1);
        let params = CreateParams {
            name: "fuzz".into(),
            network: DepositNetwork::by_name("holesky").unwrap(),
            threshold: 2,
            members: (1..=3).map(|i| (ShareIndex::new(i).unwrap(), format!("http://n{i}"))).collect(),
            withdrawal_credentials: WithdrawalCredentials::execution(&[1; 20], false),
            amount: Gwei(32_000_000_000),
        };
        let created = create_with_dkg(&params, &mut rng).unwrap();
        let attestation = serde_json::json!({
            "type": "ATTESTATION",
            "fork_info": {"fork": {"previous_version": "0x01017000", "current_version": "0x01017000", "epoch": "0"},
                          "genesis_validators_root": format!("0x{}", "11".repeat(32))},
            "attestation": {"slot": "1", "index": "0", "beacon_block_root": format!("0x{}", "22".repeat(32)),
                "source": {"epoch": "0", "root": format!("0x{}", "33".repeat(32))},
                "target": {"epoch": "1", "root": format!("0x{}", "44".repeat(32))}}
        });
        vec![
            serde_json::to_string(&r1.broadcast).unwrap(),
            serde_json::to_string(&r1.shares[0]).unwrap(),
            serde_json::to_string(&complaints[0]).unwrap(),
            serde_json::to_string(&created.description).unwrap(),
            serde_json::to_string(&created.shares[0].sign(b"m")).unwrap(),
            attestation.to_string(),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn byte_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let pk = PublicKey::from_bytes(&bytes);
        let sig = Signature::from_bytes(&bytes);
        let sk = SecretKey::from_bytes(&bytes);
        let g1 = bls::deserialize_g1(&bytes);
        // Only exact lengths can ever decode.
        prop_assert!(pk.is_err() || bytes.len() == 48);
        prop_assert!(g1.is_err() || bytes.len() == 48);
        prop_assert!(sig.is_err() || bytes.len() == 96);
        prop_assert!(sk.is_err() || bytes.len() == 32);
        // What decodes re-encodes to the same bytes.
        if let Ok(pk) = pk { prop_assert!(pk.to_bytes()[..] == bytes[..]); }
        if let Ok(sig) = sig { prop_assert!(sig.to_bytes()[..] == bytes[..]); }
    }

    #[test]
    fn json_decoders_never_panic(text in "\\PC{0,300}") {
        prop_assert_eq!(decode_all(&text).len(), 8);
    }

    #[test]
    fn mutated_valid_json_never_panics(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut bytes = samples()[which].clone().into_bytes();
        for (pos, b) in edits {
            let len = bytes.len();
            bytes[pos % len] = b;
        }
        bytes.truncate(cut % (bytes.len() + 1) + 1);
        let text = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(decode_all(&text).len(), 8);
    }

    #[test]
    fn hex_fields_with_wrong_points_are_rejected(bytes in proptest::collection::vec(any::<u8>(), 48)) {
        let json = serde_json::json!([format!("0x{}", hex::encode(&bytes))]).to_string();
        let parsed = serde_json::from_str::<Commitments>(&json);
        prop_assert_eq!(parsed.is_ok(), bls::deserialize_g1(&bytes).is_ok());
    }
}
