//! Full phase0 and Altair `BeaconBlock`s (what Web3Signer's `BLOCK_V2` carries as `block` for
//! those forks; later forks send `block_header`) and their SSZ `hash_tree_root`, so that the
//! signer computes the block's signing root itself. Mainnet preset list limits.

use crate::messages::{
    AttestationData, BeaconBlockHeader, BitfieldError, MAX_VALIDATORS_PER_COMMITTEE,
    PublicKeyBytes, SignatureBytes, VoluntaryExit, bitvector_root,
};
use claystack_consensus::ssz::{self, container_root, list_root};
use claystack_consensus::{Gwei, HashTreeRoot, Root, Slot, ValidatorIndex, hexutil};
use serde::{Deserialize, Serialize};

/// `MAX_PROPOSER_SLASHINGS`.
pub const MAX_PROPOSER_SLASHINGS: usize = 16;
/// `MAX_ATTESTER_SLASHINGS`.
pub const MAX_ATTESTER_SLASHINGS: usize = 2;
/// `MAX_ATTESTATIONS`.
pub const MAX_ATTESTATIONS: usize = 128;
/// `MAX_DEPOSITS`.
pub const MAX_DEPOSITS: usize = 16;
/// `MAX_VOLUNTARY_EXITS`.
pub const MAX_VOLUNTARY_EXITS: usize = 16;
/// `DEPOSIT_CONTRACT_TREE_DEPTH + 1`: length of a deposit's Merkle proof.
pub const DEPOSIT_PROOF_LENGTH: usize = 33;
/// `SYNC_COMMITTEE_SIZE` (mainnet preset).
pub const SYNC_COMMITTEE_SIZE: usize = 512;

/// Why a block's root cannot be computed (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A bitfield is malformed.
    #[error(transparent)]
    Bitfield(#[from] BitfieldError),
    /// A list is longer than its SSZ limit, or a vector has the wrong length.
    #[error("{field}: {len} elements, limit {limit}")]
    Length {
        /// Which field.
        field: &'static str,
        /// Elements given.
        len: usize,
        /// Limit (or exact length for vectors).
        limit: usize,
    },
}

fn checked_list(field: &'static str, roots: &[Root], limit: usize) -> Result<Root, BlockError> {
    if roots.len() > limit {
        return Err(BlockError::Length { field, len: roots.len(), limit });
    }
    list_root(roots, limit).map_err(|_| BlockError::Length { field, len: roots.len(), limit })
}

/// `Eth1Data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eth1Data {
    /// Deposit tree root.
    #[serde(with = "hexutil::fixed")]
    pub deposit_root: Root,
    /// Deposit count.
    #[serde(with = "hexutil::u64_string")]
    pub deposit_count: u64,
    /// Execution block hash.
    #[serde(with = "hexutil::fixed")]
    pub block_hash: Root,
}

impl HashTreeRoot for Eth1Data {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.deposit_root, self.deposit_count.hash_tree_root(), self.block_hash])
    }
}

/// `SignedBeaconBlockHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBeaconBlockHeader {
    /// The header.
    pub message: BeaconBlockHeader,
    /// Proposer's signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl HashTreeRoot for SignedBeaconBlockHeader {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.message.hash_tree_root(), self.signature.hash_tree_root()])
    }
}

/// `ProposerSlashing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposerSlashing {
    /// First header.
    pub signed_header_1: SignedBeaconBlockHeader,
    /// Second header.
    pub signed_header_2: SignedBeaconBlockHeader,
}

impl HashTreeRoot for ProposerSlashing {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.signed_header_1.hash_tree_root(),
            self.signed_header_2.hash_tree_root(),
        ])
    }
}

/// `IndexedAttestation` (phase0 to Deneb).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedAttestation {
    /// `List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE]`.
    pub attesting_indices: Vec<ValidatorIndex>,
    /// The vote.
    pub data: AttestationData,
    /// Aggregate signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl IndexedAttestation {
    /// `hash_tree_root`, or an error for too many indices.
    pub fn try_hash_tree_root(&self) -> Result<Root, BlockError> {
        let limit = MAX_VALIDATORS_PER_COMMITTEE;
        let len = self.attesting_indices.len();
        let too_long = || BlockError::Length { field: "attesting_indices", len, limit };
        if len > limit {
            return Err(too_long());
        }
        // A list of basic values: packed little-endian, four u64 per chunk.
        let mut bytes = Vec::with_capacity(len.saturating_mul(8));
        for i in &self.attesting_indices {
            bytes.extend_from_slice(&i.0.to_le_bytes());
        }
        let chunks = ssz::pack_bytes(&bytes);
        let root = ssz::merkleize(&chunks, Some(limit.saturating_mul(8).div_ceil(32)))
            .map_err(|_| too_long())?;
        Ok(container_root(&[
            ssz::mix_in_length(&root, len),
            self.data.hash_tree_root(),
            self.signature.hash_tree_root(),
        ]))
    }
}

/// `AttesterSlashing` (phase0 to Deneb).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttesterSlashing {
    /// First attestation.
    pub attestation_1: IndexedAttestation,
    /// Second attestation.
    pub attestation_2: IndexedAttestation,
}

impl AttesterSlashing {
    /// `hash_tree_root`.
    pub fn try_hash_tree_root(&self) -> Result<Root, BlockError> {
        Ok(container_root(&[
            self.attestation_1.try_hash_tree_root()?,
            self.attestation_2.try_hash_tree_root()?,
        ]))
    }
}

/// `DepositData` (with its signature, as in a block's deposit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositData {
    /// Validator key.
    #[serde(with = "hexutil::fixed")]
    pub pubkey: PublicKeyBytes,
    /// Withdrawal credentials.
    #[serde(with = "hexutil::fixed")]
    pub withdrawal_credentials: Root,
    /// Amount.
    pub amount: Gwei,
    /// Deposit signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl HashTreeRoot for DepositData {
    fn hash_tree_root(&self) -> Root {
        container_root(&[
            self.pubkey.hash_tree_root(),
            self.withdrawal_credentials,
            self.amount.hash_tree_root(),
            self.signature.hash_tree_root(),
        ])
    }
}

/// `Deposit`: a deposit with its proof against the eth1 deposit root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// `Vector[Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1]`.
    #[serde(with = "roots")]
    pub proof: Vec<Root>,
    /// The deposit.
    pub data: DepositData,
}

impl Deposit {
    /// `hash_tree_root`, or an error for a proof of the wrong length.
    pub fn try_hash_tree_root(&self) -> Result<Root, BlockError> {
        if self.proof.len() != DEPOSIT_PROOF_LENGTH {
            return Err(BlockError::Length {
                field: "deposit proof",
                len: self.proof.len(),
                limit: DEPOSIT_PROOF_LENGTH,
            });
        }
        Ok(container_root(&[container_root(&self.proof), self.data.hash_tree_root()]))
    }
}

/// `SignedVoluntaryExit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVoluntaryExit {
    /// The exit.
    pub message: VoluntaryExit,
    /// The exiting validator's signature.
    #[serde(with = "hexutil::fixed")]
    pub signature: SignatureBytes,
}

impl HashTreeRoot for SignedVoluntaryExit {
    fn hash_tree_root(&self) -> Root {
        container_root(&[self.message.hash_tree_root(), self.signature.hash_tree_root()])
    }
}

/// `SyncAggregate` (Altair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAggregate {
    /// `Bitvector[SYNC_COMMITTEE_SIZE]`.
    #[serde(with = "hexutil::bytes")]
    pub sync_committee_bits: Vec<u8>,
    /// Aggregate signature.
    #[serde(with = "hexutil::fixed")]
    pub sync_committee_signature: SignatureBytes,
}

impl SyncAggregate {
    /// `hash_tree_root`, or an error for malformed bits.
    pub fn try_hash_tree_root(&self) -> Result<Root, BlockError> {
        Ok(container_root(&[
            bitvector_root(&self.sync_committee_bits, SYNC_COMMITTEE_SIZE)?,
            self.sync_committee_signature.hash_tree_root(),
        ]))
    }
}

/// `BeaconBlockBody` of phase0 (`sync_aggregate` absent) or Altair (present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconBlockBody {
    /// RANDAO reveal.
    #[serde(with = "hexutil::fixed")]
    pub randao_reveal: SignatureBytes,
    /// Eth1 vote.
    pub eth1_data: Eth1Data,
    /// Graffiti.
    #[serde(with = "hexutil::fixed")]
    pub graffiti: Root,
    /// Proposer slashings.
    pub proposer_slashings: Vec<ProposerSlashing>,
    /// Attester slashings.
    pub attester_slashings: Vec<AttesterSlashing>,
    /// Attestations.
    pub attestations: Vec<crate::messages::Attestation>,
    /// Deposits.
    pub deposits: Vec<Deposit>,
    /// Voluntary exits.
    pub voluntary_exits: Vec<SignedVoluntaryExit>,
    /// Sync aggregate (Altair only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_aggregate: Option<SyncAggregate>,
}

impl BeaconBlockBody {
    /// `hash_tree_root` (the Altair container when `sync_aggregate` is present).
    pub fn try_hash_tree_root(&self) -> Result<Root, BlockError> {
        let proposer: Vec<Root> =
            self.proposer_slashings.iter().map(HashTreeRoot::hash_tree_root).collect();
        let attester = self
            .attester_slashings
            .iter()
            .map(AttesterSlashing::try_hash_tree_root)
            .collect::<Result<Vec<_>, _>>()?;
        let attestations = self
            .attestations
            .iter()
            .map(|a| a.try_hash_tree_root().map_err(BlockError::from))
            .collect::<Result<Vec<_>, _>>()?;
        let deposits =
            self.deposits.iter().map(Deposit::try_hash_tree_root).collect::<Result<Vec<_>, _>>()?;
        let exits: Vec<Root> =
            self.voluntary_exits.iter().map(HashTreeRoot::hash_tree_root).collect();
        let mut fields = vec![
            self.randao_reveal.hash_tree_root(),
            self.eth1_data.hash_tree_root(),
            self.graffiti,
            checked_list("proposer_slashings", &proposer, MAX_PROPOSER_SLASHINGS)?,
            checked_list("attester_slashings", &attester, MAX_ATTESTER_SLASHINGS)?,
            checked_list("attestations", &attestations, MAX_ATTESTATIONS)?,
            checked_list("deposits", &deposits, MAX_DEPOSITS)?,
            checked_list("voluntary_exits", &exits, MAX_VOLUNTARY_EXITS)?,
        ];
        if let Some(sync) = &self.sync_aggregate {
            fields.push(sync.try_hash_tree_root()?);
        }
        Ok(container_root(&fields))
    }
}

/// `BeaconBlock` (phase0 or Altair body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconBlock {
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
    /// Body.
    pub body: BeaconBlockBody,
}

impl BeaconBlock {
    /// The block's header (same `hash_tree_root` as the block).
    pub fn header(&self) -> Result<BeaconBlockHeader, BlockError> {
        Ok(BeaconBlockHeader {
            slot: self.slot,
            proposer_index: self.proposer_index,
            parent_root: self.parent_root,
            state_root: self.state_root,
            body_root: self.body.try_hash_tree_root()?,
        })
    }
}

mod roots {
    use claystack_consensus::{Root, hexutil};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(v: &[Root], s: S) -> Result<S::Ok, S::Error> {
        v.iter().map(hexutil::encode_prefixed).collect::<Vec<_>>().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Root>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|h| hexutil::decode_fixed::<32>(h).map_err(D::Error::custom))
            .collect()
    }
}
