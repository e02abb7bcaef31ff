//! Property tests of the decoders that read untrusted bytes: no input makes them panic, and the
//! bitlist root agrees with a naive implementation for every length and bit pattern.

mod common;

use claystack_signer::{NetworkSpec, SignRequest, messages::bitlist_root};
use common::*;
use proptest::prelude::*;
use serde_json::json;

fn valid_requests() -> Vec<String> {
    let (data, _) = attestation_data(3200, 99, 100, 1);
    vec![
        json!({"type": "ATTESTATION", "fork_info": fork_info(), "attestation": data}).to_string(),
        json!({"type": "AGGREGATE_AND_PROOF_V2", "fork_info": fork_info(),
               "aggregate_and_proof": {"version": "ELECTRA", "data": {
                   "aggregator_index": "1", "selection_proof": hx(&[1; 96]),
                   "aggregate": {"aggregation_bits": "0x0f", "data": data, "signature": hx(&[2; 96]),
                                 "committee_bits": "0x0100000000000000"}}}})
        .to_string(),
        json!({"type": "DEPOSIT", "deposit": {"pubkey": hx(&[1; 48]), "withdrawal_credentials": hx(&[2; 32]),
               "amount": "1", "genesis_fork_version": "0x00000000"}})
        .to_string(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(req) = SignRequest::from_json(&bytes) {
            // Either a plan or an error that explains itself; never a panic.
            if let Err(e) = req.plan(&NetworkSpec::MAINNET) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn mutated_requests_never_panic(which in 0usize..3, pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut body = valid_requests()[which].clone().into_bytes();
        let i = pos.index(body.len());
        body[i] = byte;
        body.truncate(cut.index(body.len() + 1).max(i));
        if let Ok(req) = SignRequest::from_json(&body) {
            // Either a plan or an error that explains itself; never a panic.
            if let Err(e) = req.plan(&NetworkSpec::MAINNET) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn bitlist_root_matches_naive(bits in proptest::collection::vec(any::<bool>(), 0..600)) {
        let serialized = hex::decode(bitlist_hex(&bits).trim_start_matches("0x")).unwrap();
        for limit in [2048usize, 131_072] {
            prop_assert_eq!(bitlist_root(&serialized, limit).unwrap(), bitlist(&bits, limit));
        }
        // Over the limit: refused, never truncated.
        if bits.len() > 1 {
            prop_assert!(bitlist_root(&serialized, bits.len() - 1).is_err());
        }
    }
}
