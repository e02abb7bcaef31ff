//! Test helpers: an independent, deliberately naive SSZ merkleization (sha256 over padded
//! chunks, written without the consensus crate) to check the signer's roots against, keys from
//! fixed IKM, and request builders in Web3Signer's JSON shapes.

#![allow(dead_code, unreachable_pub)]

use sha2::{Digest, Sha256};

pub type Chunk = [u8; 32];

pub fn h(a: &Chunk, b: &Chunk) -> Chunk {
    let mut s = Sha256::new();
    s.update(a);
    s.update(b);
    s.finalize().into()
}

/// Merkleizes `chunks` padded with zero chunks to `width` (a power of two ≥ len).
pub fn merkle(chunks: &[Chunk], width: usize) -> Chunk {
    assert!(width.is_power_of_two() && width >= chunks.len());
    let mut layer: Vec<Chunk> = chunks.to_vec();
    layer.resize(width, [0; 32]);
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|p| h(&p[0], &p[1])).collect();
    }
    layer[0]
}

pub fn container(fields: &[Chunk]) -> Chunk {
    merkle(fields, fields.len().next_power_of_two())
}

pub fn uint(v: u64) -> Chunk {
    let mut c = [0; 32];
    c[..8].copy_from_slice(&v.to_le_bytes());
    c
}

pub fn bytes(b: &[u8]) -> Chunk {
    let chunks: Vec<Chunk> = b
        .chunks(32)
        .map(|c| {
            let mut x = [0; 32];
            x[..c.len()].copy_from_slice(c);
            x
        })
        .collect();
    merkle(&chunks, chunks.len().next_power_of_two())
}

/// `Bitlist[limit]` root for bits given as booleans.
pub fn bitlist(bits: &[bool], limit: usize) -> Chunk {
    let mut packed = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            packed[i / 8] |= 1 << (i % 8);
        }
    }
    let chunks: Vec<Chunk> = packed
        .chunks(32)
        .map(|c| {
            let mut x = [0; 32];
            x[..c.len()].copy_from_slice(c);
            x
        })
        .collect();
    let root = merkle(&chunks, limit.div_ceil(256).next_power_of_two());
    h(&root, &uint(bits.len() as u64))
}

/// Serialized bitlist (with delimiter) as 0x-hex.
pub fn bitlist_hex(bits: &[bool]) -> String {
    let mut packed = vec![0u8; (bits.len() + 1).div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            packed[i / 8] |= 1 << (i % 8);
        }
    }
    packed[bits.len() / 8] |= 1 << (bits.len() % 8);
    format!("0x{}", hex::encode(packed))
}

pub fn domain(domain_type: [u8; 4], version: [u8; 4], gvr: Chunk) -> Chunk {
    let mut v = [0; 32];
    v[..4].copy_from_slice(&version);
    let fork_data_root = container(&[v, gvr]);
    let mut d = [0; 32];
    d[..4].copy_from_slice(&domain_type);
    d[4..].copy_from_slice(&fork_data_root[..28]);
    d
}

pub fn signing_root(object_root: Chunk, domain: Chunk) -> Chunk {
    container(&[object_root, domain])
}

pub fn hx(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// A secret key from fixed IKM (EIP-2333 KeyGen through blst).
pub fn secret_key(seed: u8) -> blst::min_pk::SecretKey {
    blst::min_pk::SecretKey::key_gen(&[seed; 32], &[]).unwrap()
}

pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Verifies a 0x-hex signature over `root` under `pubkey`.
pub fn verifies(pubkey: &[u8; 48], root: &Chunk, sig_hex: &str) -> bool {
    let sig = hex::decode(sig_hex.trim_start_matches("0x")).unwrap();
    let sig = blst::min_pk::Signature::sig_validate(&sig, true).unwrap();
    let pk = blst::min_pk::PublicKey::key_validate(pubkey).unwrap();
    sig.verify(true, root, DST, &[], &pk, true) == blst::BLST_ERROR::BLST_SUCCESS
}

pub const GVR: Chunk = [0x42; 32];
pub const PREV: [u8; 4] = [4, 0, 0, 0];
pub const CUR: [u8; 4] = [5, 0, 0, 0];
pub const FORK_EPOCH: u64 = 100;

pub fn fork_info() -> serde_json::Value {
    serde_json::json!({
        "fork": {
            "previous_version": hx(&PREV),
            "current_version": hx(&CUR),
            "epoch": FORK_EPOCH.to_string()
        },
        "genesis_validators_root": hx(&GVR)
    })
}

/// The version `get_domain` picks at `epoch` for [`fork_info`].
pub fn version_at(epoch: u64) -> [u8; 4] {
    if epoch < FORK_EPOCH { PREV } else { CUR }
}

pub fn checkpoint(epoch: u64, root: u8) -> (serde_json::Value, Chunk) {
    (
        serde_json::json!({ "epoch": epoch.to_string(), "root": hx(&[root; 32]) }),
        container(&[uint(epoch), [root; 32]]),
    )
}

/// AttestationData JSON and its independently computed root.
pub fn attestation_data(
    slot: u64,
    source: u64,
    target: u64,
    block: u8,
) -> (serde_json::Value, Chunk) {
    let (s, sr) = checkpoint(source, 1);
    let (t, tr) = checkpoint(target, 2);
    (
        serde_json::json!({
            "slot": slot.to_string(),
            "index": "0",
            "beacon_block_root": hx(&[block; 32]),
            "source": s,
            "target": t
        }),
        container(&[uint(slot), uint(0), [block; 32], sr, tr]),
    )
}

pub const ATTESTER: [u8; 4] = [1, 0, 0, 0];
pub const PROPOSER: [u8; 4] = [0, 0, 0, 0];
