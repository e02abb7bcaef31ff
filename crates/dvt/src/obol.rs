//! Obol (charon) cluster-lock hashes for lock version v1.8.0: `config_hash`, `definition_hash`
//! and `lock_hash` are SSZ hash tree roots of charon's versioned containers (charon
//! `cluster/ssz.go`: `hashDefinitionV1x8`, `hashLockV1x3orLater`, `hashValidatorV1x8OrLater`,
//! `hashDepositDataV1x7OrLater`, `hashBuilderRegistration`), reproduced from the JSON the
//! export writes. Charon's encoding rules are kept, quirks included: fixed-size fields shorter
//! than their size (e.g. empty signatures) are left-padded with zeros; an empty builder
//! registration `fee_recipient` contributes no chunk at all (fastssz `PutBytes(nil)`).
//!
//! Definition v1.8 fields: uuid `ByteList[64]`, name `ByteList[256]`, version `ByteList[16]`,
//! timestamp `ByteList[32]`, num_validators, threshold, dkg_algorithm `ByteList[32]`,
//! fork_version `Bytes4`, operators `List[{address Bytes20, enr ByteList[1024],
//! config_signature Bytes65, enr_signature Bytes65}, 256]`, creator `{address Bytes20,
//! config_signature Bytes65}`, validators `List[{fee_recipient Bytes20, withdrawal Bytes20},
//! 65536]`, deposit_amounts `List[uint64, 256]`, and for the definition hash `config_hash
//! Bytes32`. The config hash omits the ENRs, signatures and the config hash.

use crate::export::{
    ExportError, ObolBuilderRegistration, ObolClusterLock, ObolDefinition, ObolDepositData,
    ObolDistributedValidator,
};
use claystack_consensus::ssz::{self, container_root, list_root};
use claystack_consensus::{HashTreeRoot, Root, hexutil};

const MAX_ENR: usize = 1024;
const MAX_NAME: usize = 256;
const MAX_UUID: usize = 64;
const MAX_VERSION: usize = 16;
const MAX_TIMESTAMP: usize = 32;
const MAX_DKG_ALGORITHM: usize = 32;
const MAX_OPERATORS: usize = 256;
const MAX_VALIDATORS: usize = 65_536;
const MAX_DEPOSIT_AMOUNTS: usize = 256;

fn byte_list(field: &'static str, b: &[u8], limit: usize) -> Result<Root, ExportError> {
    if b.len() > limit {
        return Err(ExportError::ObolField(field));
    }
    ssz::byte_list_root(b, limit).map_err(|_| ExportError::ObolField(field))
}

/// Hex (or empty) → bytes left-padded to `n` (charon `putBytesN` / `putHexBytes20`).
fn bytes_n(field: &'static str, hex_str: &str, n: usize) -> Result<Root, ExportError> {
    let b = if hex_str.is_empty() {
        Vec::new()
    } else {
        hexutil::decode(hex_str).map_err(|_| ExportError::ObolField(field))?
    };
    let pad = n.checked_sub(b.len()).ok_or(ExportError::ObolField(field))?;
    let mut padded = vec![0u8; pad];
    padded.extend_from_slice(&b);
    Ok(ssz::bytes_root(&padded))
}

fn composite_list(field: &'static str, roots: &[Root], limit: usize) -> Result<Root, ExportError> {
    if roots.len() > limit {
        return Err(ExportError::ObolField(field));
    }
    list_root(roots, limit).map_err(|_| ExportError::ObolField(field))
}

fn uint(field: &'static str, s: &str) -> Result<u64, ExportError> {
    s.parse().map_err(|_| ExportError::ObolField(field))
}

fn definition_root(d: &ObolDefinition, config_only: bool) -> Result<Root, ExportError> {
    let mut operators = Vec::with_capacity(d.operators.len());
    for o in &d.operators {
        let mut fields = vec![bytes_n("operators.address", &o.address, 20)?];
        if !config_only {
            fields.push(byte_list("operators.enr", o.enr.as_bytes(), MAX_ENR)?);
            fields.push(bytes_n("operators.config_signature", &o.config_signature, 65)?);
            fields.push(bytes_n("operators.enr_signature", &o.enr_signature, 65)?);
        }
        operators.push(container_root(&fields));
    }
    let mut creator = vec![bytes_n("creator.address", &d.creator.address, 20)?];
    if !config_only {
        creator.push(bytes_n("creator.config_signature", &d.creator.config_signature, 65)?);
    }
    let validators = d
        .validators
        .iter()
        .map(|v| {
            Ok(container_root(&[
                bytes_n("validators.fee_recipient_address", &v.fee_recipient_address, 20)?,
                bytes_n("validators.withdrawal_address", &v.withdrawal_address, 20)?,
            ]))
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    let amounts = d
        .deposit_amounts
        .iter()
        .map(|a| uint("deposit_amounts", a))
        .collect::<Result<Vec<_>, _>>()?;
    if amounts.len() > MAX_DEPOSIT_AMOUNTS {
        return Err(ExportError::ObolField("deposit_amounts"));
    }
    let packed: Vec<u8> = amounts.iter().flat_map(|a| a.to_le_bytes()).collect();
    let amounts_root = ssz::merkleize(&ssz::pack_bytes(&packed), Some(MAX_DEPOSIT_AMOUNTS / 4))
        .map_err(|_| ExportError::ObolField("deposit_amounts"))?;
    let mut fields = vec![
        byte_list("uuid", d.uuid.as_bytes(), MAX_UUID)?,
        byte_list("name", d.name.as_bytes(), MAX_NAME)?,
        byte_list("version", d.version.as_bytes(), MAX_VERSION)?,
        byte_list("timestamp", d.timestamp.as_bytes(), MAX_TIMESTAMP)?,
        (d.num_validators as u64).hash_tree_root(),
        (d.threshold as u64).hash_tree_root(),
        byte_list("dkg_algorithm", d.dkg_algorithm.as_bytes(), MAX_DKG_ALGORITHM)?,
        bytes_n("fork_version", &d.fork_version, 4)?,
        composite_list("operators", &operators, MAX_OPERATORS)?,
        container_root(&creator),
        composite_list("validators", &validators, MAX_VALIDATORS)?,
        ssz::mix_in_length(&amounts_root, amounts.len()),
    ];
    if !config_only {
        fields.push(bytes_n("config_hash", &d.config_hash, 32)?);
    }
    Ok(container_root(&fields))
}

/// `config_hash` of a v1.8 definition.
pub fn config_hash(d: &ObolDefinition) -> Result<Root, ExportError> {
    definition_root(d, true)
}

/// `definition_hash` of a v1.8 definition (its `config_hash` must be filled).
pub fn definition_hash(d: &ObolDefinition) -> Result<Root, ExportError> {
    definition_root(d, false)
}

fn deposit_root(dd: &ObolDepositData) -> Result<Root, ExportError> {
    Ok(container_root(&[
        bytes_n("deposit.pubkey", &dd.pubkey, 48)?,
        bytes_n("deposit.withdrawal_credentials", &dd.withdrawal_credentials, 32)?,
        uint("deposit.amount", &dd.amount)?.hash_tree_root(),
        bytes_n("deposit.signature", &dd.signature, 96)?,
    ]))
}

fn registration_root(r: &ObolBuilderRegistration) -> Result<Root, ExportError> {
    let m = &r.message;
    // fastssz `PutBytes(fee_recipient)`: the raw bytes as one chunk, nothing when empty.
    let mut message = Vec::with_capacity(4);
    if !m.fee_recipient.is_empty() {
        let fee = hexutil::decode(&m.fee_recipient)
            .map_err(|_| ExportError::ObolField("builder_registration.fee_recipient"))?;
        if fee.len() > 32 {
            return Err(ExportError::ObolField("builder_registration.fee_recipient"));
        }
        message.push(ssz::bytes_root(&fee));
    }
    message.push(m.gas_limit.hash_tree_root());
    message.push(m.timestamp.hash_tree_root());
    message.push(bytes_n("builder_registration.pubkey", &m.pubkey, 48)?);
    Ok(container_root(&[
        container_root(&message),
        bytes_n("builder_registration.signature", &r.signature, 96)?,
    ]))
}

fn validator_root(v: &ObolDistributedValidator) -> Result<Root, ExportError> {
    let shares = v
        .public_shares
        .iter()
        .map(|s| bytes_n("public_shares", s, 48))
        .collect::<Result<Vec<_>, _>>()?;
    let deposits =
        v.partial_deposit_data.iter().map(deposit_root).collect::<Result<Vec<_>, _>>()?;
    Ok(container_root(&[
        bytes_n("distributed_public_key", &v.distributed_public_key, 48)?,
        composite_list("public_shares", &shares, MAX_OPERATORS)?,
        composite_list("partial_deposit_data", &deposits, MAX_DEPOSIT_AMOUNTS)?,
        registration_root(&v.builder_registration)?,
    ]))
}

/// `lock_hash` of a v1.8 lock (its definition's hashes must be filled).
pub fn lock_hash(l: &ObolClusterLock) -> Result<Root, ExportError> {
    let validators =
        l.distributed_validators.iter().map(validator_root).collect::<Result<Vec<_>, _>>()?;
    Ok(container_root(&[
        definition_hash(&l.cluster_definition)?,
        composite_list("distributed_validators", &validators, MAX_VALIDATORS)?,
    ]))
}

/// Computes and fills `config_hash`, `definition_hash` and `lock_hash`, in that order.
pub fn fill_hashes(l: &mut ObolClusterLock) -> Result<(), ExportError> {
    l.cluster_definition.config_hash =
        hexutil::encode_prefixed(config_hash(&l.cluster_definition)?);
    l.cluster_definition.definition_hash =
        hexutil::encode_prefixed(definition_hash(&l.cluster_definition)?);
    l.lock_hash = hexutil::encode_prefixed(lock_hash(l)?);
    Ok(())
}
