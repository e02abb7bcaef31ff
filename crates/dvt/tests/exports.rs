//! SSV `sharesData` built from the operators' parts (RSA-encrypted shares to real 2048-bit
//! keys in tests/fixtures, ownership signature threshold-combined), and the Obol lock hashes.

use base64::Engine as _;
use claystack_consensus::units::Gwei;
use claystack_dvt::Signature;
use claystack_dvt::cluster::{CreateParams, CreatedCluster, create_with_dkg};
use claystack_dvt::export::{obol_cluster_lock, ssv_keyshares};
use claystack_dvt::obol;
use claystack_dvt::ssv::{
    self, SsvError, checksum_address, ownership_message, ssv_share_part, ssv_shares_data,
};
use claystack_dvt::threshold::{SecretShare, ShareIndex};
use claystack_keys::WithdrawalCredentials;
use claystack_keys::deposit::DepositNetwork;
use rand::{SeedableRng, rngs::StdRng};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use sha3::{Digest as _, Keccak256};
use std::collections::BTreeMap;

const OWNER: &str = "0x81592c3de184a3e2c0dcb5a261bc107bfa91f494";

fn cluster(indices: &[u64], threshold: usize) -> CreatedCluster {
    cluster_seeded(indices, threshold, 9)
}

fn cluster_seeded(indices: &[u64], threshold: usize, seed: u64) -> CreatedCluster {
    let params = CreateParams {
        name: "exports".into(),
        network: DepositNetwork::by_name("holesky").unwrap(),
        threshold,
        members: indices
            .iter()
            .map(|i| (ShareIndex::new(*i).unwrap(), format!("http://node-{i}")))
            .collect(),
        withdrawal_credentials: WithdrawalCredentials::execution(&[0xab; 20], false),
        amount: Gwei(32_000_000_000),
    };
    create_with_dkg(&params, &mut StdRng::seed_from_u64(seed)).unwrap()
}

fn operator_key(i: usize) -> (RsaPrivateKey, String) {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/fixtures/ssv-operator-{i}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let sk = RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
    let spki = sk.to_public_key().to_public_key_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    // As SSV's registry publishes operator keys: base64 of a PEM block labelled RSA PUBLIC KEY
    // whose body is the SubjectPublicKeyInfo.
    let pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        b64.encode(spki.as_bytes())
    );
    (sk, b64.encode(pem))
}

fn parts(c: &CreatedCluster, nonce: u64) -> (Vec<ssv::SsvSharePart>, Vec<RsaPrivateKey>) {
    let mut rng = StdRng::seed_from_u64(3);
    let mut parts = Vec::new();
    let mut keys = Vec::new();
    for (i, share) in c.shares.iter().enumerate() {
        let (sk, pk) = operator_key(i + 1);
        parts.push(ssv_share_part(&c.description, share, &pk, OWNER, nonce, &mut rng).unwrap());
        keys.push(sk);
    }
    (parts, keys)
}

#[test]
fn checksum_addresses_follow_eip55() {
    // Examples from EIP-55.
    for a in [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ] {
        let bytes: [u8; 20] = hex::decode(&a[2..]).unwrap().try_into().unwrap();
        assert_eq!(checksum_address(&bytes), a);
    }
    // The ownership message hashes "<checksum>:<nonce>"; the keys crate's EIP-55 parser accepts
    // the mixed-case form (it rejects a wrong checksum).
    let owner: [u8; 20] = hex::decode(&OWNER[2..]).unwrap().try_into().unwrap();
    let mixed = checksum_address(&owner);
    assert_ne!(mixed, OWNER);
    assert_eq!(claystack_keys::deposit::parse_execution_address(&mixed).unwrap(), owner);
    let want: [u8; 32] = Keccak256::digest(format!("{mixed}:7").as_bytes()).into();
    assert_eq!(ownership_message(OWNER, 7).unwrap(), want);
    assert_eq!(ownership_message(&mixed, 7).unwrap(), want);
}

#[test]
fn shares_data_has_the_ssv_layout_and_every_part_checks_out() {
    let ids = [17u64, 42, 108, 2001];
    let c = cluster(&[108, 17, 2001, 42], 3); // members in any order; SSV sorts by id
    let (parts, keys) = parts(&c, 7);
    let data = ssv_shares_data(&c.description, OWNER, 7, &parts).unwrap();
    let bytes = hex::decode(data.trim_start_matches("0x")).unwrap();
    assert_eq!(bytes.len(), 96 + 4 * 48 + 4 * 256);

    // Ownership signature by the validator (group) key over keccak256("<checksum>:<nonce>").
    let sig = Signature::from_bytes(&bytes[..96]).unwrap();
    assert!(c.description.group_public_key.verify(&ownership_message(OWNER, 7).unwrap(), &sig));
    assert!(!c.description.group_public_key.verify(&ownership_message(OWNER, 8).unwrap(), &sig));

    // Public shares then encrypted shares, both by ascending operator id.
    for (k, id) in ids.iter().enumerate() {
        let index = ShareIndex::new(*id).unwrap();
        let member = c.description.member(index).unwrap();
        let pk = &bytes[96 + 48 * k..96 + 48 * (k + 1)];
        assert_eq!(pk, member.public_share.to_bytes());
        let ct = &bytes[96 + 4 * 48 + 256 * k..96 + 4 * 48 + 256 * (k + 1)];
        let owner_of_share = c.shares.iter().position(|s| s.index() == index).unwrap();
        let plain = keys[owner_of_share].decrypt(Pkcs1v15Encrypt, ct).unwrap();
        let text = String::from_utf8(plain).unwrap();
        assert!(text.starts_with("0x") && text.len() == 66, "{text}");
        let share = SecretShare::from_bytes(index, &hex::decode(&text[2..]).unwrap()).unwrap();
        assert!(c.description.commitments.verify_share(&share));
        // Only that operator's key opens it.
        let other = (owner_of_share + 1) % 4;
        assert!(keys[other].decrypt(Pkcs1v15Encrypt, ct).is_err());
    }

    let ks =
        ssv_keyshares(&c.description, OWNER, 7, &BTreeMap::new(), Some(data.clone()), "t").unwrap();
    assert_eq!(ks.shares[0].payload.shares_data, data);
    assert_eq!(ks.shares[0].payload.operator_ids, ids.to_vec());
}

#[test]
fn shares_data_survives_one_bad_partial_but_not_two_and_refuses_foreign_parts() {
    let c = cluster(&[1, 2, 3, 4], 3);
    let (good, _) = parts(&c, 0);
    // A partial over another message is excluded; three valid ones remain.
    let (other_nonce, _) = parts(&c, 5);
    let mut one_bad = good.clone();
    one_bad[0].owner_signature_partial = other_nonce[0].owner_signature_partial.clone();
    let data = ssv_shares_data(&c.description, OWNER, 0, &one_bad).unwrap();
    assert_eq!(data, ssv_shares_data(&c.description, OWNER, 0, &good).unwrap());
    let mut two_bad = one_bad.clone();
    two_bad[1].owner_signature_partial = other_nonce[1].owner_signature_partial.clone();
    assert!(matches!(
        ssv_shares_data(&c.description, OWNER, 0, &two_bad),
        Err(SsvError::Signature(_))
    ));
    // A part for another nonce, a missing part, a wrong public share, a short ciphertext.
    assert!(matches!(
        ssv_shares_data(&c.description, OWNER, 0, &other_nonce),
        Err(SsvError::Part { index: 1, .. })
    ));
    assert_eq!(
        ssv_shares_data(&c.description, OWNER, 0, &good[..3]),
        Err(SsvError::MissingPart(4))
    );
    let mut swapped = good.clone();
    swapped[2].public_share = good[3].public_share.clone();
    assert!(matches!(
        ssv_shares_data(&c.description, OWNER, 0, &swapped),
        Err(SsvError::Part { index: 3, .. })
    ));
    let mut short = good;
    short[1].encrypted_share = base64::engine::general_purpose::STANDARD.encode([1u8; 128]);
    assert!(matches!(
        ssv_shares_data(&c.description, OWNER, 0, &short),
        Err(SsvError::Part { index: 2, .. })
    ));
}

#[test]
fn share_parts_refuse_bad_keys_foreign_shares_and_bad_owners() {
    let c = cluster(&[1, 2, 3, 4], 3);
    let other = cluster_seeded(&[1, 2, 3, 4], 3, 10);
    let (_, key) = operator_key(1);
    let mut rng = StdRng::seed_from_u64(1);
    let share = &c.shares[0];
    assert!(matches!(
        ssv_share_part(&c.description, share, "not base64!", OWNER, 0, &mut rng),
        Err(SsvError::OperatorKey(_))
    ));
    let not_pem = base64::engine::general_purpose::STANDARD.encode("hello");
    assert!(matches!(
        ssv_share_part(&c.description, share, &not_pem, OWNER, 0, &mut rng),
        Err(SsvError::OperatorKey(_))
    ));
    assert!(matches!(
        ssv_share_part(&other.description, share, &key, OWNER, 0, &mut rng),
        Err(SsvError::Part { .. })
    ));
    assert!(matches!(
        ssv_share_part(&c.description, share, &key, "0x1234", 0, &mut rng),
        Err(SsvError::OwnerAddress(_))
    ));
}

#[test]
fn obol_lock_hashes_cover_what_charon_covers() {
    let c = cluster(&[1, 2, 3, 4], 3);
    let lock =
        obol_cluster_lock(&c.description, Some(&c.deposit), None, "2026-11-24T00:00:00Z").unwrap();
    let d = &lock.cluster_definition;
    for h in [&d.config_hash, &d.definition_hash, &lock.lock_hash] {
        assert!(h.starts_with("0x") && h.len() == 66, "{h}");
    }
    assert_eq!(d.deposit_amounts, vec!["32000000000".to_owned()]);
    assert_eq!(lock.distributed_validators[0].partial_deposit_data.len(), 1);
    let hex32 = |r: [u8; 32]| format!("0x{}", hex::encode(r));
    assert_eq!(hex32(obol::config_hash(d).unwrap()), d.config_hash);
    assert_eq!(hex32(obol::lock_hash(&lock).unwrap()), lock.lock_hash);

    // ENRs and signatures are outside the config hash but inside the definition hash.
    let mut enr = d.clone();
    enr.operators[0].enr = "enr://x".into();
    assert_eq!(obol::config_hash(&enr).unwrap(), obol::config_hash(d).unwrap());
    assert_ne!(obol::definition_hash(&enr).unwrap(), obol::definition_hash(d).unwrap());
    // Parameters are in both.
    let mut threshold = d.clone();
    threshold.threshold = 4;
    assert_ne!(obol::config_hash(&threshold).unwrap(), obol::config_hash(d).unwrap());
    // The lock hash covers the validators' public shares and deposits.
    let mut shares = lock.clone();
    shares.distributed_validators[0].public_shares.swap(0, 1);
    assert_ne!(obol::lock_hash(&shares).unwrap(), obol::lock_hash(&lock).unwrap());
    let mut amount = lock.clone();
    amount.distributed_validators[0].partial_deposit_data[0].amount = "1".into();
    assert_ne!(obol::lock_hash(&amount).unwrap(), obol::lock_hash(&lock).unwrap());
    // Fields that do not fit their SSZ type are refused, not truncated.
    let mut long = d.clone();
    long.operators[0].config_signature = format!("0x{}", "11".repeat(66));
    assert!(obol::definition_hash(&long).is_err());
    let mut name = d.clone();
    name.name = "n".repeat(257);
    assert!(obol::config_hash(&name).is_err());
}
