//! The official Ethereum BLS test vectors (`shared/vectors/bls`), run through this crate's API.
//! A missing vectors folder fails the tests: they never skip.

use claystack_dvt::bls::{self, PublicKey, SecretKey, Signature};
use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir(case: &str) -> PathBuf {
    let root = std::env::var_os("CLAYSTACK_VECTORS").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors")),
        PathBuf::from,
    );
    let dir = root.join("bls").join(case);
    assert!(
        dir.is_dir(),
        "BLS vectors folder {} is missing (set CLAYSTACK_VECTORS)",
        dir.display()
    );
    dir
}

/// Every `(file name, json)` of a case folder; fails if the folder is empty.
fn cases(case: &str) -> Vec<(String, Value)> {
    let dir = vectors_dir(case);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no vectors in {}", dir.display());
    out
}

fn bytes(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap();
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).unwrap()
}

fn pubkeys(v: &Value) -> Option<Vec<PublicKey>> {
    v.as_array().unwrap().iter().map(|p| PublicKey::from_bytes(&bytes(p)).ok()).collect()
}

#[test]
fn sign() {
    for (name, v) in cases("sign") {
        let sk = SecretKey::from_bytes(&bytes(&v["input"]["privkey"]));
        let msg = bytes(&v["input"]["message"]);
        match &v["output"] {
            Value::Null => assert!(sk.is_err(), "{name}: invalid key accepted"),
            out => {
                let sig = sk.unwrap().sign(&msg);
                assert_eq!(sig.to_bytes().to_vec(), bytes(out), "{name}");
            }
        }
    }
}

#[test]
fn verify() {
    for (name, v) in cases("verify") {
        let input = &v["input"];
        let expected = v["output"].as_bool().unwrap();
        let pk = PublicKey::from_bytes(&bytes(&input["pubkey"]));
        let sig = Signature::from_bytes(&bytes(&input["signature"]));
        let ok = match (pk, sig) {
            (Ok(pk), Ok(sig)) => pk.verify(&bytes(&input["message"]), &sig),
            _ => false,
        };
        assert_eq!(ok, expected, "{name}");
    }
}

#[test]
fn aggregate() {
    for (name, v) in cases("aggregate") {
        let sigs: Result<Vec<Signature>, _> = v["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Signature::from_bytes(&bytes(s)))
            .collect();
        let got = sigs.ok().and_then(|s| bls::aggregate(&s).ok());
        match &v["output"] {
            Value::Null => assert!(got.is_none(), "{name}: expected failure"),
            out => assert_eq!(got.unwrap().to_bytes().to_vec(), bytes(out), "{name}"),
        }
    }
}

#[test]
fn fast_aggregate_verify() {
    for (name, v) in cases("fast_aggregate_verify") {
        let input = &v["input"];
        let expected = v["output"].as_bool().unwrap();
        let ok = match (
            pubkeys(&input["pubkeys"]),
            Signature::from_bytes(&bytes(&input["signature"])),
        ) {
            (Some(pks), Ok(sig)) => {
                bls::fast_aggregate_verify(&pks, &bytes(&input["message"]), &sig)
            }
            _ => false,
        };
        assert_eq!(ok, expected, "{name}");
    }
}

#[test]
fn aggregate_verify() {
    for (name, v) in cases("aggregate_verify") {
        let input = &v["input"];
        let expected = v["output"].as_bool().unwrap();
        let msgs: Vec<Vec<u8>> = input["messages"].as_array().unwrap().iter().map(bytes).collect();
        let msg_refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let ok = match (
            pubkeys(&input["pubkeys"]),
            Signature::from_bytes(&bytes(&input["signature"])),
        ) {
            (Some(pks), Ok(sig)) => bls::aggregate_verify(&pks, &msg_refs, &sig),
            _ => false,
        };
        assert_eq!(ok, expected, "{name}");
    }
}

#[test]
fn batch_verify() {
    for (name, v) in cases("batch_verify") {
        let input = &v["input"];
        let expected = v["output"].as_bool().unwrap();
        let msgs: Vec<Vec<u8>> = input["messages"].as_array().unwrap().iter().map(bytes).collect();
        let sigs: Result<Vec<Signature>, _> = input["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Signature::from_bytes(&bytes(s)))
            .collect();
        let ok = match (pubkeys(&input["pubkeys"]), sigs) {
            (Some(pks), Ok(sigs)) if pks.len() == sigs.len() && sigs.len() == msgs.len() => {
                let sets: Vec<(PublicKey, &[u8], Signature)> = pks
                    .into_iter()
                    .zip(&msgs)
                    .zip(sigs)
                    .map(|((p, m), s)| (p, m.as_slice(), s))
                    .collect();
                bls::batch_verify(&sets)
            }
            _ => false,
        };
        assert_eq!(ok, expected, "{name}");
    }
}

#[test]
fn deserialization_g1() {
    for (name, v) in cases("deserialization_G1") {
        // Point deserialization accepts infinity; KeyValidate (PublicKey) must not.
        let raw = bytes(&v["input"]["pubkey"]);
        let ok = bls::deserialize_g1(&raw).is_ok();
        assert_eq!(ok, v["output"].as_bool().unwrap(), "{name}");
        if name.contains("infinity") {
            assert!(PublicKey::from_bytes(&raw).is_err(), "{name}: infinity key accepted");
        } else {
            assert_eq!(PublicKey::from_bytes(&raw).is_ok(), ok, "{name}");
        }
    }
}

#[test]
fn deserialization_g2() {
    for (name, v) in cases("deserialization_G2") {
        let ok = Signature::from_bytes(&bytes(&v["input"]["signature"])).is_ok();
        assert_eq!(ok, v["output"].as_bool().unwrap(), "{name}");
    }
}

#[test]
fn hash_to_g2() {
    // The hash_to_G2 vectors are RFC 9380's (appendix J.10.1) with its test DST.
    const DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
    for (name, v) in cases("hash_to_G2") {
        let msg = v["input"]["msg"].as_str().unwrap();
        let ((x0, x1), (y0, y1)) = bls::hash_to_g2(msg.as_bytes(), DST);
        let fp2 = |a: [u8; 48], b: [u8; 48]| format!("0x{},0x{}", hex::encode(a), hex::encode(b));
        assert_eq!(fp2(x0, x1), v["output"]["x"].as_str().unwrap(), "{name} x");
        assert_eq!(fp2(y0, y1), v["output"]["y"].as_str().unwrap(), "{name} y");
    }
}
