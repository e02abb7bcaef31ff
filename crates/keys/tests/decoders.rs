//! Untrusted inputs (keystore JSON, deposit data files, mnemonics) give errors, never panics.

use claystack_keys::deposit::VerifyExpectations;
use claystack_keys::{Kdf, Keystore, Mnemonic, SecretKey, verify_deposit_data_json};
use proptest::prelude::*;

const DEPOSIT: &str = r#"[{"pubkey": "88b6b3a9b391fa5593e8bce8d06102df1a56248368086929709fbb4a8570dc6a560febeef8159b19789e9c1fd13572f0", "withdrawal_credentials": "0049b6188ed20314309f617dd4030b8ddfac3c6e65759a03c226a13b2fe4cc72", "amount": 32000000000, "signature": "846c83b1ec80038974ded0ef5b89d86c862a7bd4559c10528cd4bb6a48e71987f17a963bc6165a6f51c8b87474e64b450b549ce2d14a25bea3c86c241f3740f3d3edc3dc36fddbeadb1ec8969d7193da602270fea8dd31d3e64674aa2090b73d", "deposit_message_root": "a9bc1d21cc009d9b10782a07213e37592c0d235463ed0117dec755758da90d51", "deposit_data_root": "cdfe14518026e99b9dfa8a029054349e37d4632ee2bbed7c2f5af19a01912368", "fork_version": "01017000", "network_name": "holesky", "deposit_cli_version": "2.7.0"}]"#;

/// Replaces one byte of `text` (at `pos` modulo its length) by `byte`, as lossy UTF-8.
fn mutate(text: &str, pos: usize, byte: u8) -> String {
    let mut b = text.as_bytes().to_vec();
    let i = pos % b.len();
    b[i] = byte;
    String::from_utf8_lossy(&b).into_owned()
}

fn light_keystore() -> String {
    let sk = SecretKey::from_bytes(&[0x11; 32]).unwrap();
    Keystore::encrypt(&sk, "password", &Kdf::pbkdf2(2), "m/12381/3600/0/0/0", "")
        .unwrap()
        .to_json()
        .unwrap()
}

#[test]
fn the_unmutated_inputs_are_valid() {
    // Otherwise the mutation tests below would only ever exercise the first error path.
    assert!(verify_deposit_data_json(DEPOSIT, &VerifyExpectations::default()).is_ok());
    assert!(Keystore::from_json(&light_keystore()).unwrap().decrypt("password").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn deposit_files_with_a_changed_byte_never_panic(pos in any::<usize>(), byte in any::<u8>()) {
        let text = mutate(DEPOSIT, pos, byte);
        let result = verify_deposit_data_json(&text, &VerifyExpectations::default());
        // Hex is case-insensitive and whitespace is free, so some mutations stay valid;
        // a changed value must never verify.
        // `deposit_cli_version` is informational and not verified.
        if let Ok(mut entries) = result {
            let original = verify_deposit_data_json(DEPOSIT, &VerifyExpectations::default()).unwrap();
            for e in &mut entries {
                e.deposit_cli_version = original[0].deposit_cli_version.clone();
            }
            prop_assert_eq!(entries, original);
        }
    }

    #[test]
    fn keystores_with_a_changed_byte_never_panic(pos in any::<usize>(), byte in any::<u8>()) {
        let original = light_keystore();
        let text = mutate(&original, pos, byte);
        if let Ok(ks) = Keystore::from_json(&text) {
            // A successful decryption must yield the original key.
            if let Ok(sk) = ks.decrypt("password") {
                prop_assert_eq!(*sk.to_bytes(), [0x11; 32]);
            }
        }
    }

    #[test]
    fn arbitrary_text_is_never_accepted_as_a_deposit_file(text in ".{0,200}") {
        prop_assert!(verify_deposit_data_json(&text, &VerifyExpectations::default()).is_err());
        prop_assert!(Keystore::from_json(&text).is_err() || text.contains("crypto"));
    }

    #[test]
    fn arbitrary_phrases_never_panic(words in proptest::collection::vec("[a-z\u{4e00}-\u{4e10}]{1,8}", 0..30)) {
        // Mostly errors; a random valid phrase would be a 1-in-16+ checksum hit, and must round-trip.
        if let Ok(m) = Mnemonic::parse(&words.join(" ")) {
            prop_assert_eq!(m.expose_phrase(), words.join(" "));
        }
    }
}
