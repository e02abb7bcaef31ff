//! The typed messages a validator client asks to sign, in the JSON shapes of Web3Signer's eth2
//! API, and their SSZ `hash_tree_root`s.

use claystack_consensus::{
    Epoch, ForkVersion, Gwei, HashTreeRoot, Root, Slot, ValidatorIndex, hexutil,
    ssz::{self, container_root},
};
use serde::{Deserialize, Serialize};

/// `MAX_VALIDATORS_PER_COMMITTEE` (mainnet and minimal presets).
pub const MAX_VALIDATORS_PER_COMMITTEE: usize = 2048;
/// `MAX_COMMITTEES_PER_SLOT`.
pub const MAX_COMMITTEES_PER_SLOT: usize = 64;
/// Bits in a `SyncCommitteeContribution`'s aggregation bits
/// (`SYNC_COMMITTEE_SIZE / SYNC_COMMITTEE_SUBNET_COUNT`, mainnet preset).
pub const SYNC_SUBCOMMITTEE_BITS: usize = 128;

/// A compressed BLS public key.
pub type PublicKeyBytes = [u8; 48];
/// A compressed BLS signature.
pub type SignatureBytes = [u8; 96];

/// Why a bitfield is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitfieldError {
    /// A bitlist without its trailing delimiter bit.
    #[error("bitlist has no delimiter bit")]
    MissingDelimiter,
    /// More bits than the type allows.
    #[error("bitfield of {bits} bits exceeds the limit of {limit}")]
    TooLong {
        /// Bits given.
        bits: usize,
        /// The limit.
        limit: usize,
    },
    /// A bitvector of the wrong byte length.
    #[error("bitvector of {got} bytes, expected {expected}")]
    WrongLength {
        /// Bytes given.
        got: usize,
        /// Bytes expected.
        expected: usize,
    },
}

/// `hash_tree_root` of an SSZ `Bitlist[limit]` given in its serialized form (with the delimiter).
pub fn bitlist_root(bytes: &[u8], limit: usize) -> Result<Root, BitfieldError> {
    let (last, _) = bytes.split_last().ok_or(BitfieldError::MissingDelimiter)?;
    if *last == 0 {
        return Err(BitfieldError::MissingDelimiter);
    }
    let high_bit = 7usize.saturating_sub(last.leading_zeros() as usize);
    let bits = bytes
        .len()
        .saturating_sub(1)
        .checked_mul(8)
        .and_then(|b| b.checked_add(high_bit))
        .ok_or(BitfieldError::TooLong { bits: usize::MAX, limit })?;
    if bits > limit {
        return Err(BitfieldError::TooLong { bits, limit });
    }
    let mut data = bytes.to_vec();
    if let Some(l) = data.last_mut() {
        *l &= !(1u8 << high_bit);
    }
    data.truncate(bits.div_ceil(8));
    let chunks = ssz::pack_bytes(&data);
    let root = ssz::merkleize(&chunks, Some(limit.div_ceil(256)))
        .map_err(|_| BitfieldError::TooLong { bits, limit })?;
    Ok(ssz::mix_in_length(&root, bits))
}

/// `hash_tree_root` of an SSZ `Bitvector[len]` (`len` a multiple of 8).
pub fn bitvector_root(bytes: &[u8], len: usize) -> Result<Root, BitfieldError> {
    let expected = len.div_ceil(8);
    if bytes.len() != expected {
        return Err(BitfieldError::WrongLength { got: bytes.len(), expected });
    }
    Ok(ssz::bytes_root(bytes))
}

/// `Fork`: the versions around the most recent fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// Version before `epoch`.
    #[serde(with = "hexutil::fixed")]
    pub previous_version: ForkVersion,
    /// Version from `epoch` on.
    #[serde(with = "hexutil::fixed")]
    pub current_version: ForkVersion,
    /// The fork's activation epoch.
    pub epoch: Epoch,
}

impl Fork {
    /// The version in force at `epoch` (`get_domain`'s rule).
    #[must_use]
    pub fn version_at(&self, epoch: Epoch) -> ForkVersion {
        if epoch < self.epoch { self.previous_version } else { self.current_version }
    }
}

/// Web3Signer's `fork_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkInfo {
    /// The fork in force.
    pub fork: Fork,
    /// The chain's genesis validators root.
    #[serde(with = "hexutil::fixed")]
    pub genesis_validators_root: Root,
}

/// `Checkpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Epoch.
    pub epoch: Epoch,
    /// Block root.
    #[serde(with = "hexutil::fixed")]
    pub root: Root,
}

impl HashTreeRoot for Checkpoint {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.epoch.hash_tree_root(), self.root])
    }
}

/// `AttestationData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationData {
    /// Slot.
    pub slot: Slot,
    /// Committee index (0 from Electra on).
    #[serde(with = "hexutil::u64_string")]
    pub index: u64,
    /// LMD GHOST vote.
    #[serde(with = "hexutil::fixed")]
    pub beacon_block_root: Root,
    /// FFG source.
    pub source: Checkpoint,
    /// FFG target.
    pub target: Checkpoint,
}

impl HashTreeRoot for AttestationData {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.slot.hash_tree_root(),
            self.index.hash_tree_root(),
            self.beacon_block_root,
            self.source.hash_tree_root(),
            self.target.hash_tree_root(),
        ])
    }
}

/// `BeaconBlockHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconBlockHeader {
    /// Slot.
    pub slot: Slot,
    /// Proposer.
    pub proposer_index: ValidatorIndex,
    /// Parent block root.
    #[serde(with = "hexutil::fixed")]
    pub parent_root: Root,
    /// Post-state root.
    #[serde(with = "hexutil::fixed")]
    pub state_root: Root,
    /// Block body root.
    #[serde(with = "hexutil::fixed")]
    pub body_root: Root,
}

impl HashTreeRoot for BeaconBlockHeader {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.slot.hash_tree_root(),
            self.proposer_index.hash_tree_root(),
            self.parent_root,
            self.state_root,
            self.body_root,
        ])
    }
}

/// `Attestation` (phase0 to Deneb layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// `Bitlist[MAX_VALIDATORS_PER_COMMITTEE]`, serialized with its delimiter bit.
    #[serde(with = "hexutil::bytes")]
    pub aggregation_bits: Vec<u8>,
    /// The vote.
    pub data: AttestationData,
    /// Aggregate signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl Attestation {
    /// `hash_tree_root`, or an error for malformed bits.
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        Ok(container_root(&[
            bitlist_root(&self.aggregation_bits, MAX_VALIDATORS_PER_COMMITTEE)?,
            self.data.hash_tree_root(),
            self.signature.hash_tree_root(),
        ]))
    }
}

/// `Attestation` (Electra layout, EIP-7549).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationElectra {
    /// `Bitlist[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]`.
    #[serde(with = "hexutil::bytes")]
    pub aggregation_bits: Vec<u8>,
    /// The vote.
    pub data: AttestationData,
    /// Aggregate signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
    /// `Bitvector[MAX_COMMITTEES_PER_SLOT]`.
    #[serde(with = "hexutil::bytes")]
    pub committee_bits: Vec<u8>,
}

impl AttestationElectra {
    /// `hash_tree_root`, or an error for malformed bits.
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        let limit = MAX_VALIDATORS_PER_COMMITTEE.saturating_mul(MAX_COMMITTEES_PER_SLOT);
        Ok(container_root(&[
            bitlist_root(&self.aggregation_bits, limit)?,
            self.data.hash_tree_root(),
            self.signature.hash_tree_root(),
            bitvector_root(&self.committee_bits, MAX_COMMITTEES_PER_SLOT)?,
        ]))
    }
}

/// `AggregateAndProof` over an attestation of layout `A`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateAndProof<A> {
    /// The aggregator.
    pub aggregator_index: ValidatorIndex,
    /// The aggregate.
    pub aggregate: A,
    /// The aggregator's selection proof.
    #[serde(with = "hexutil::fixed")]
    pub selection_proof: SignatureBytes,
}

impl AggregateAndProof<Attestation> {
    /// `hash_tree_root` (phase0 layout).
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        Ok(container_root(&[
            self.aggregator_index.hash_tree_root(),
            self.aggregate.try_hash_tree_root()?,
            self.selection_proof.hash_tree_root(),
        ]))
    }
}

impl AggregateAndProof<AttestationElectra> {
    /// `hash_tree_root` (Electra layout).
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        Ok(container_root(&[
            self.aggregator_index.hash_tree_root(),
            self.aggregate.try_hash_tree_root()?,
            self.selection_proof.hash_tree_root(),
        ]))
    }
}

/// `VoluntaryExit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoluntaryExit {
    /// Earliest exit epoch.
    pub epoch: Epoch,
    /// The exiting validator.
    pub validator_index: ValidatorIndex,
}

impl HashTreeRoot for VoluntaryExit {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.epoch.hash_tree_root(), self.validator_index.hash_tree_root()])
    }
}

/// Web3Signer's `deposit` object: a `DepositMessage` plus the fork version it is signed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRequest {
    /// Validator public key.
    #[serde(with = "hexutil::fixed")]
    pub pubkey: PublicKeyBytes,
    /// Withdrawal credentials.
    #[serde(with = "hexutil::fixed")]
    pub withdrawal_credentials: Root,
    /// Amount in gwei.
    pub amount: Gwei,
    /// The network's `GENESIS_FORK_VERSION`.
    #[serde(with = "hexutil::fixed")]
    pub genesis_fork_version: ForkVersion,
}

impl HashTreeRoot for DepositRequest {
    /// The root of the `DepositMessage(pubkey, withdrawal_credentials, amount)`.
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.pubkey.hash_tree_root(),
            self.withdrawal_credentials,
            self.amount.hash_tree_root(),
        ])
    }
}

/// `SyncAggregatorSelectionData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAggregatorSelectionData {
    /// Slot.
    pub slot: Slot,
    /// Sync subcommittee.
    #[serde(with = "hexutil::u64_string")]
    pub subcommittee_index: u64,
}

impl HashTreeRoot for SyncAggregatorSelectionData {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.slot.hash_tree_root(), self.subcommittee_index.hash_tree_root()])
    }
}

/// `SyncCommitteeContribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCommitteeContribution {
    /// Slot.
    pub slot: Slot,
    /// Block voted for.
    #[serde(with = "hexutil::fixed")]
    pub beacon_block_root: Root,
    /// Sync subcommittee.
    #[serde(with = "hexutil::u64_string")]
    pub subcommittee_index: u64,
    /// `Bitvector[SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT]`.
    #[serde(with = "hexutil::bytes")]
    pub aggregation_bits: Vec<u8>,
    /// Aggregate signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl SyncCommitteeContribution {
    /// `hash_tree_root`, or an error for malformed bits.
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        Ok(container_root(&[
            self.slot.hash_tree_root(),
            self.beacon_block_root,
            self.subcommittee_index.hash_tree_root(),
            bitvector_root(&self.aggregation_bits, SYNC_SUBCOMMITTEE_BITS)?,
            self.signature.hash_tree_root(),
        ]))
    }
}

/// `ContributionAndProof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionAndProof {
    /// The aggregator.
    pub aggregator_index: ValidatorIndex,
    /// The contribution.
    pub contribution: SyncCommitteeContribution,
    /// The aggregator's selection proof.
    #[serde(with = "hexutil::fixed")]
    pub selection_proof: SignatureBytes,
}

impl ContributionAndProof {
    /// `hash_tree_root`, or an error for malformed bits.
    pub fn try_hash_tree_root(&self) -> Result<Root, BitfieldError> {
        Ok(container_root(&[
            self.aggregator_index.hash_tree_root(),
            self.contribution.try_hash_tree_root()?,
            self.selection_proof.hash_tree_root(),
        ]))
    }
}

/// `ValidatorRegistrationV1` (builder specs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorRegistration {
    /// Execution address for fees.
    #[serde(with = "hexutil::fixed")]
    pub fee_recipient: [u8; 20],
    /// Preferred gas limit.
    #[serde(with = "hexutil::u64_string")]
    pub gas_limit: u64,
    /// Unix time of the registration.
    #[serde(with = "hexutil::u64_string")]
    pub timestamp: u64,
    /// Validator public key.
    #[serde(with = "hexutil::fixed")]
    pub pubkey: PublicKeyBytes,
}

impl HashTreeRoot for ValidatorRegistration {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.fee_recipient.hash_tree_root(),
            self.gas_limit.hash_tree_root(),
            self.timestamp.hash_tree_root(),
            self.pubkey.hash_tree_root(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claystack_consensus::ssz::{hash_pair, mix_in_length, zero_hash};

    #[test]
    fn bitlist_root_strips_the_delimiter() {
        // Bits 1,0,1 then the delimiter at index 3: 0b1101.
        let r = bitlist_root(&[0b1101], 2048).unwrap();
        let mut chunk = [0u8; 32];
        chunk[0] = 0b0101;
        // limit 2048 bits = 8 chunks: depth 3.
        let mut node = chunk;
        for depth in 0..3 {
            node = hash_pair(&node, &zero_hash(depth));
        }
        assert_eq!(r, mix_in_length(&node, 3));
    }

    #[test]
    fn bitlist_full_byte_drops_the_delimiter_byte() {
        // 8 bits set and the delimiter alone in the second byte.
        let with_extra = bitlist_root(&[0xff, 0x01], 8).unwrap();
        let mut chunk = [0u8; 32];
        chunk[0] = 0xff;
        assert_eq!(with_extra, mix_in_length(&chunk, 8));
        // 256 bits exactly at a 256-bit limit: the delimiter byte must not add a chunk.
        let mut bits = vec![0xffu8; 32];
        bits.push(1);
        assert!(bitlist_root(&bits, 256).is_ok());
    }

    #[test]
    fn bitlist_rejects_malformed_input() {
        assert_eq!(bitlist_root(&[], 8), Err(BitfieldError::MissingDelimiter));
        assert_eq!(bitlist_root(&[0x01, 0x00], 8), Err(BitfieldError::MissingDelimiter));
        assert_eq!(
            bitlist_root(&[0xff, 0x02], 8),
            Err(BitfieldError::TooLong { bits: 9, limit: 8 })
        );
        assert_eq!(
            bitvector_root(&[0; 7], 64),
            Err(BitfieldError::WrongLength { got: 7, expected: 8 })
        );
    }
}
