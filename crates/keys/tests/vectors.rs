//! The pinned vectors in `../shared/vectors`: deposit-data files (byte for byte), BLS sign and
//! verify cases. A missing vectors folder fails these tests.

use std::path::PathBuf;

use claystack_consensus::Gwei;
use claystack_keys::bls;
use claystack_keys::deposit::{DepositError, DepositNetwork, VerifyExpectations, WithdrawalTarget};
use claystack_keys::{
    Mnemonic, WithdrawalCredentials, deposit_data_for, derive_validators, to_deposit_cli_json,
    verify_deposit_data_json,
};

const MNEMONIC: &str = "test test test test test test test test test test test waste";
const ETH1_ADDRESS: &str = "0f51bb10119727a7e5eA3538074fb341F56B09Ad";

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("CLAYSTACK_VECTORS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors")),
        PathBuf::from,
    );
    assert!(
        dir.is_dir(),
        "test vectors not found at {} (set CLAYSTACK_VECTORS to the shared/vectors folder)",
        dir.display()
    );
    dir
}

fn files_in(sub: &str) -> Vec<PathBuf> {
    let dir = vectors_dir().join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

/// `<net>_first_<i>_count_<n>_eth1_<bool>.json` → (network, first, count, eth1).
fn parse_name(path: &std::path::Path) -> (String, u32, u32, bool) {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let parts: Vec<&str> = stem.split('_').collect();
    assert_eq!(parts.len(), 7, "unexpected vector name {stem}");
    assert_eq!((parts[1], parts[3], parts[5]), ("first", "count", "eth1"), "{stem}");
    (parts[0].to_owned(), parts[2].parse().unwrap(), parts[4].parse().unwrap(), parts[6] == "true")
}

fn address() -> [u8; 20] {
    hex::decode(ETH1_ADDRESS).unwrap().try_into().unwrap()
}

fn generate(network: &str, first: u32, count: u32, eth1: bool) -> String {
    let seed = Mnemonic::parse(MNEMONIC).unwrap().to_seed("");
    let keys = derive_validators(seed.as_slice(), first, count, &|_| {}).unwrap();
    let target = if eth1 { WithdrawalTarget::Execution(address()) } else { WithdrawalTarget::Bls };
    let net = DepositNetwork::by_name(network).unwrap();
    let entries = deposit_data_for(&keys, target, Gwei(32_000_000_000), &net, &|_| {});
    to_deposit_cli_json(&entries).unwrap()
}

#[test]
fn every_deposit_data_vector_is_reproduced_byte_for_byte_and_verifies() {
    let files = files_in("deposit-data");
    let mut networks = std::collections::BTreeSet::new();
    for path in &files {
        let (network, first, count, eth1) = parse_name(path);
        networks.insert((network.clone(), eth1));
        let expected = std::fs::read_to_string(path).unwrap();
        let ours = generate(&network, first, count, eth1);
        assert_eq!(ours, expected, "{}", path.display());

        let expect = VerifyExpectations {
            network: DepositNetwork::by_name(&network),
            withdrawal_credentials: eth1
                .then(|| WithdrawalCredentials::execution(&address(), false)),
            amount: Some(Gwei(32_000_000_000)),
        };
        let entries = verify_deposit_data_json(&expected, &expect)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(entries.len(), count as usize);
    }
    // Both networks, both credential kinds.
    for want in [("mainnet", false), ("mainnet", true), ("holesky", false), ("holesky", true)] {
        assert!(networks.contains(&(want.0.to_owned(), want.1)), "{want:?} not covered");
    }
}

fn hex_in(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn load(path: &PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn bls_sign_vectors_pass() {
    for path in files_in("bls/sign") {
        let v = load(&path);
        let sk = hex_in(&v["input"]["privkey"]);
        let msg = hex_in(&v["input"]["message"]);
        let got = bls::sign(&sk, &msg);
        match &v["output"] {
            serde_json::Value::Null => assert!(got.is_err(), "{}", path.display()),
            out => assert_eq!(got.unwrap().to_vec(), hex_in(out), "{}", path.display()),
        }
    }
}

#[test]
fn bls_verify_vectors_pass() {
    for path in files_in("bls/verify") {
        let v = load(&path);
        let pk = hex_in(&v["input"]["pubkey"]);
        let msg = hex_in(&v["input"]["message"]);
        let sig = hex_in(&v["input"]["signature"]);
        let expected = v["output"].as_bool().unwrap();
        // Malformed inputs are errors in our API; the vectors call them "false".
        let got = bls::verify(&pk, &msg, &sig).unwrap_or(false);
        assert_eq!(got, expected, "{}", path.display());
    }
}

/// One vector entry, mutated, must fail with the matching error.
#[test]
fn each_kind_of_mistake_in_a_deposit_file_has_its_own_error() {
    let path = vectors_dir().join("deposit-data/mainnet_first_0_count_2_eth1_true.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let original: serde_json::Value = serde_json::from_str(&text).unwrap();
    let check = |edit: &dyn Fn(&mut serde_json::Value), expect: &VerifyExpectations| {
        let mut v = original.clone();
        edit(&mut v);
        verify_deposit_data_json(&v.to_string(), expect).unwrap_err()
    };
    let none = VerifyExpectations::default();
    let flip = |field: &'static str| {
        move |v: &mut serde_json::Value| {
            let s = v[1][field].as_str().unwrap().to_owned();
            let last = if s.ends_with('0') { '1' } else { '0' };
            v[1][field] = format!("{}{last}", &s[..s.len() - 1]).into();
        }
    };

    assert!(matches!(
        check(&flip("deposit_message_root"), &none),
        DepositError::DepositMessageRootMismatch { index: 1, .. }
    ));
    assert!(matches!(
        check(&flip("deposit_data_root"), &none),
        DepositError::DepositDataRootMismatch { index: 1, .. }
    ));
    // A signature from the other entry: well-formed, wrong. Roots are fixed up to isolate it.
    let swap_sig = |v: &mut serde_json::Value| {
        v[1]["signature"] = v[0]["signature"].clone();
        let entry: claystack_keys::DepositDataJson = serde_json::from_value(v[1].clone()).unwrap();
        let data =
            claystack_keys::DepositData { message: entry.message(), signature: entry.signature };
        v[1]["deposit_data_root"] =
            hex::encode(claystack_consensus::HashTreeRoot::hash_tree_root(&data)).into();
    };
    assert!(matches!(check(&swap_sig, &none), DepositError::BadSignature { index: 1 }));
    assert!(matches!(
        check(&|v| v[0]["network_name"] = "holesky".into(), &none),
        DepositError::ForkVersionMismatch { index: 0, .. }
    ));
    assert!(matches!(
        check(&|v| v[1]["network_name"] = "holesky".into(), &none),
        DepositError::NetworkMismatch { index: 1, .. }
    ));
    assert!(matches!(
        check(&|v| v[0]["network_name"] = "nowhere".into(), &none),
        DepositError::UnknownNetwork { index: 0, .. }
    ));
    let holesky = VerifyExpectations {
        network: DepositNetwork::by_name("holesky"),
        ..VerifyExpectations::default()
    };
    assert!(matches!(check(&|_| {}, &holesky), DepositError::NetworkMismatch { index: 0, .. }));
    assert!(matches!(
        check(&|v| v[0]["amount"] = 999_999_999u64.into(), &none),
        DepositError::AmountOutOfRange { index: 0, .. }
    ));
    assert!(matches!(
        check(&|v| v[0]["amount"] = 33_000_000_000u64.into(), &none),
        DepositError::AmountOutOfRange { index: 0, .. }
    ));
    let amount =
        VerifyExpectations { amount: Some(Gwei(1_000_000_000)), ..VerifyExpectations::default() };
    assert!(matches!(check(&|_| {}, &amount), DepositError::AmountMismatch { index: 0, .. }));
    let creds = VerifyExpectations {
        withdrawal_credentials: Some(WithdrawalCredentials::execution(&[1; 20], false)),
        ..VerifyExpectations::default()
    };
    assert!(matches!(
        check(&|_| {}, &creds),
        DepositError::WithdrawalCredentialsMismatch { index: 0, .. }
    ));
    assert!(matches!(
        check(&|v| v[0]["withdrawal_credentials"] = format!("05{}", "00".repeat(31)).into(), &none),
        DepositError::InvalidWithdrawalCredentials { index: 0, .. }
    ));
    assert!(matches!(
        check(&|v| v[1] = v[0].clone(), &none),
        DepositError::DuplicatePubkey { index: 1, first: 0 }
    ));
    assert!(matches!(check(&|v| *v = serde_json::json!([]), &none), DepositError::Empty));
    assert!(matches!(check(&|v| v[0]["pubkey"] = "zz".into(), &none), DepositError::Json(_)));
    // Messages are lowercase and name the entry.
    let msg = check(&flip("deposit_data_root"), &none).to_string();
    assert!(msg.starts_with("deposit 1: deposit_data_root is "), "{msg}");
}

#[test]
fn invalid_pubkey_with_consistent_roots_is_reported_as_such() {
    // A file whose roots are recomputed for a pubkey that is not a curve point.
    let mut e = claystack_keys::DepositDataJson {
        pubkey: [0u8; 48],
        withdrawal_credentials: [0u8; 32],
        amount: 32_000_000_000,
        signature: [0u8; 96],
        deposit_message_root: [0; 32],
        deposit_data_root: [0; 32],
        fork_version: [0; 4],
        network_name: "mainnet".into(),
        deposit_cli_version: claystack_keys::DEPOSIT_CLI_VERSION.into(),
    };
    e.pubkey[0] = 0x80; // compressed flag without infinity: x = 0 is not on the curve
    let data = claystack_keys::DepositData { message: e.message(), signature: e.signature };
    e.deposit_message_root = claystack_consensus::HashTreeRoot::hash_tree_root(&e.message());
    e.deposit_data_root = claystack_consensus::HashTreeRoot::hash_tree_root(&data);
    let json = to_deposit_cli_json(&[e]).unwrap();
    let err = verify_deposit_data_json(&json, &VerifyExpectations::default()).unwrap_err();
    assert!(matches!(err, DepositError::InvalidPubkey { index: 0, .. }), "{err}");
}
