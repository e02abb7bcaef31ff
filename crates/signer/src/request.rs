//! Web3Signer eth2 sign requests (`POST /api/v1/eth2/sign/{pubkey}`) and the signing root the
//! signer computes from them. Pure: data in, data out.

use crate::{
    block::BeaconBlock,
    messages::{
        AggregateAndProof, Attestation, AttestationData, AttestationElectra, BeaconBlockHeader,
        BitfieldError, ContributionAndProof, DepositRequest, ForkInfo, SyncAggregatorSelectionData,
        ValidatorRegistration, VoluntaryExit,
    },
    spec::NetworkSpec,
};
use claystack_consensus::{
    DomainType, Epoch, ForkVersion, HashTreeRoot, Root, Slot, compute_domain, compute_signing_root,
    hexutil,
};
use serde::{Deserialize, Serialize};

/// Web3Signer's `type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    /// Attestation data.
    Attestation,
    /// Phase0 full block in `block` (deprecated by Web3Signer in favour of `BLOCK_V2`).
    Block,
    /// A block of any fork: a full phase0/Altair `block` or a `block_header` (any fork).
    BlockV2,
    /// RANDAO reveal.
    RandaoReveal,
    /// Selection proof for attestation aggregation.
    AggregationSlot,
    /// Aggregate and proof (phase0 layout).
    AggregateAndProof,
    /// Aggregate and proof, versioned (Electra layout from Electra on).
    AggregateAndProofV2,
    /// Voluntary exit.
    VoluntaryExit,
    /// Deposit message.
    Deposit,
    /// Sync committee message (a block root).
    SyncCommitteeMessage,
    /// Sync committee selection proof.
    SyncCommitteeSelectionProof,
    /// Sync committee contribution and proof.
    SyncCommitteeContributionAndProof,
    /// Builder validator registration.
    ValidatorRegistration,
}

/// Consensus fork names as Web3Signer writes them (`PHASE0`, …, `FULU`); lower case accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ForkName {
    /// Phase 0.
    Phase0,
    /// Altair.
    Altair,
    /// Bellatrix.
    Bellatrix,
    /// Capella.
    Capella,
    /// Deneb.
    Deneb,
    /// Electra.
    Electra,
    /// Fulu.
    Fulu,
}

impl ForkName {
    /// The upper-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phase0 => "PHASE0",
            Self::Altair => "ALTAIR",
            Self::Bellatrix => "BELLATRIX",
            Self::Capella => "CAPELLA",
            Self::Deneb => "DENEB",
            Self::Electra => "ELECTRA",
            Self::Fulu => "FULU",
        }
    }
}

impl Serialize for ForkName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ForkName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(match s.to_ascii_uppercase().as_str() {
            "PHASE0" => Self::Phase0,
            "ALTAIR" => Self::Altair,
            "BELLATRIX" => Self::Bellatrix,
            "CAPELLA" => Self::Capella,
            "DENEB" => Self::Deneb,
            "ELECTRA" => Self::Electra,
            "FULU" => Self::Fulu,
            _ => return Err(serde::de::Error::custom(format!("unknown fork name {s:?}"))),
        })
    }
}

/// `beacon_block` of a `BLOCK_V2` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockV2 {
    /// The block's fork.
    pub version: ForkName,
    /// The block header (all forks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_header: Option<BeaconBlockHeader>,
    /// A full phase0 or Altair block (what Web3Signer's spec sends for those forks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<serde_json::Value>,
}

/// `{ "epoch": … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochObject {
    /// Epoch.
    pub epoch: Epoch,
}

/// `{ "slot": … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotObject {
    /// Slot.
    pub slot: Slot,
}

/// `sync_committee_message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCommitteeMessage {
    /// Block voted for.
    #[serde(with = "hexutil::fixed")]
    pub beacon_block_root: Root,
    /// Slot.
    pub slot: Slot,
}

/// `aggregate_and_proof` of an `AGGREGATE_AND_PROOF_V2` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedAggregateAndProof {
    /// Fork of the aggregate (decides the attestation layout).
    pub version: ForkName,
    /// The aggregate and proof, in that fork's layout.
    pub data: serde_json::Value,
}

/// A sign request body as Web3Signer accepts it. Only the object named by `type` is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignRequest {
    /// Which message this is.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// Fork and chain (absent for `DEPOSIT` and `VALIDATOR_REGISTRATION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_info: Option<ForkInfo>,
    /// The signing root the client computed, checked against ours when present.
    #[serde(
        rename = "signingRoot",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_root"
    )]
    pub signing_root: Option<Root>,
    /// `ATTESTATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationData>,
    /// `BLOCK` (phase0 block, deprecated type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<serde_json::Value>,
    /// `BLOCK_V2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon_block: Option<BlockV2>,
    /// `RANDAO_REVEAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randao_reveal: Option<EpochObject>,
    /// `AGGREGATION_SLOT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_slot: Option<SlotObject>,
    /// `AGGREGATE_AND_PROOF` (an `AggregateAndProof`) or `AGGREGATE_AND_PROOF_V2`
    /// (a [`VersionedAggregateAndProof`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_and_proof: Option<serde_json::Value>,
    /// `VOLUNTARY_EXIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_exit: Option<VoluntaryExit>,
    /// `DEPOSIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit: Option<DepositRequest>,
    /// `SYNC_COMMITTEE_MESSAGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_committee_message: Option<SyncCommitteeMessage>,
    /// `SYNC_COMMITTEE_SELECTION_PROOF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_aggregator_selection_data: Option<SyncAggregatorSelectionData>,
    /// `SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution_and_proof: Option<ContributionAndProof>,
    /// `VALIDATOR_REGISTRATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_registration: Option<ValidatorRegistration>,
}

/// Why a request cannot be signed as given (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The JSON does not parse into a request.
    #[error("parse sign request: {0}")]
    Json(String),
    /// The object the `type` names is missing.
    #[error("{kind:?} request without its `{field}` object")]
    MissingObject {
        /// The request type.
        kind: MessageType,
        /// The missing field.
        field: &'static str,
    },
    /// `fork_info` is required for this type.
    #[error("{0:?} request without `fork_info`")]
    MissingForkInfo(MessageType),
    /// A request type this signer does not sign.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A malformed aggregation or committee bitfield.
    #[error("malformed bitfield: {0}")]
    Bitfield(#[from] BitfieldError),
    /// A full block whose body breaks an SSZ limit.
    #[error("malformed block: {0}")]
    Block(crate::block::BlockError),
    /// Slot to epoch conversion failed (zero slots per epoch).
    #[error("invalid slots per epoch")]
    SlotsPerEpoch,
    /// The client's `signingRoot` differs from the one computed from the message.
    #[error(
        "signingRoot {} does not match the computed signing root {}",
        hexutil::encode_prefixed(.given),
        hexutil::encode_prefixed(.computed)
    )]
    SigningRootMismatch {
        /// Root the client sent.
        given: Root,
        /// Root computed here.
        computed: Root,
    },
}

/// What slashing protection must check before a signature leaves (blocks and attestations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashingCheck {
    /// A block proposal at `slot`.
    Block {
        /// The block's slot.
        slot: Slot,
    },
    /// An attestation with FFG `source` and `target`.
    Attestation {
        /// Source epoch.
        source: Epoch,
        /// Target epoch.
        target: Epoch,
    },
}

/// The result of [`SignRequest::plan`]: what to sign and what to check first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningPlan {
    /// The message type.
    pub kind: MessageType,
    /// The root to sign.
    pub signing_root: Root,
    /// The slashing protection check (blocks and attestations only).
    pub slashing: Option<SlashingCheck>,
    /// The chain (for slashing protection), when the request carries `fork_info`.
    pub genesis_validators_root: Option<Root>,
}

impl SignRequest {
    /// Parses a JSON request body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        serde_json::from_slice(body).map_err(|e| RequestError::Json(e.to_string()))
    }

    /// Computes the signing root from the typed message and fork info (never trusting the
    /// client's `signingRoot`, which must match when given), and the slashing check it needs.
    pub fn plan(&self, spec: &NetworkSpec) -> Result<SigningPlan, RequestError> {
        let kind = self.kind;
        let fork_info = || self.fork_info.ok_or(RequestError::MissingForkInfo(kind));
        let missing = |field| RequestError::MissingObject { kind, field };
        let epoch_of =
            |slot: Slot| slot.epoch(spec.slots_per_epoch).map_err(|_| RequestError::SlotsPerEpoch);
        // Domain under the fork in force at `epoch`, as `get_domain` does.
        let domain_at = |domain: DomainType, epoch: Epoch| -> Result<Root, RequestError> {
            let fi = fork_info()?;
            Ok(compute_domain(domain, fi.fork.version_at(epoch), fi.genesis_validators_root))
        };
        let (object_root, domain, slashing) = match kind {
            MessageType::Attestation => {
                let a = self.attestation.ok_or_else(|| missing("attestation"))?;
                let check =
                    SlashingCheck::Attestation { source: a.source.epoch, target: a.target.epoch };
                (
                    a.hash_tree_root(),
                    domain_at(DomainType::BEACON_ATTESTER, a.target.epoch)?,
                    Some(check),
                )
            }
            MessageType::Block => {
                let v = self.block.as_ref().ok_or_else(|| missing("block"))?;
                let h = full_block_header(v, ForkName::Phase0)?;
                let domain = domain_at(DomainType::BEACON_PROPOSER, epoch_of(h.slot)?)?;
                (h.hash_tree_root(), domain, Some(SlashingCheck::Block { slot: h.slot }))
            }
            MessageType::BlockV2 => {
                let b = self.beacon_block.as_ref().ok_or_else(|| missing("beacon_block"))?;
                let h = match (&b.block_header, &b.block) {
                    (Some(h), _) => *h,
                    (None, Some(v)) => full_block_header(v, b.version)?,
                    (None, None) => return Err(missing("beacon_block.block_header")),
                };
                let domain = domain_at(DomainType::BEACON_PROPOSER, epoch_of(h.slot)?)?;
                (h.hash_tree_root(), domain, Some(SlashingCheck::Block { slot: h.slot }))
            }
            MessageType::RandaoReveal => {
                let r = self.randao_reveal.ok_or_else(|| missing("randao_reveal"))?;
                (r.epoch.hash_tree_root(), domain_at(DomainType::RANDAO, r.epoch)?, None)
            }
            MessageType::AggregationSlot => {
                let s = self.aggregation_slot.ok_or_else(|| missing("aggregation_slot"))?;
                let domain = domain_at(DomainType::SELECTION_PROOF, epoch_of(s.slot)?)?;
                (s.slot.hash_tree_root(), domain, None)
            }
            MessageType::AggregateAndProof => {
                let v = self
                    .aggregate_and_proof
                    .as_ref()
                    .ok_or_else(|| missing("aggregate_and_proof"))?;
                let ap: AggregateAndProof<Attestation> = parse_value(v)?;
                let domain =
                    domain_at(DomainType::AGGREGATE_AND_PROOF, epoch_of(ap.aggregate.data.slot)?)?;
                (ap.try_hash_tree_root()?, domain, None)
            }
            MessageType::AggregateAndProofV2 => {
                let v = self
                    .aggregate_and_proof
                    .as_ref()
                    .ok_or_else(|| missing("aggregate_and_proof"))?;
                let versioned: VersionedAggregateAndProof = parse_value(v)?;
                let (root, slot) = if versioned.version >= ForkName::Electra {
                    let ap: AggregateAndProof<AttestationElectra> = parse_value(&versioned.data)?;
                    (ap.try_hash_tree_root()?, ap.aggregate.data.slot)
                } else {
                    let ap: AggregateAndProof<Attestation> = parse_value(&versioned.data)?;
                    (ap.try_hash_tree_root()?, ap.aggregate.data.slot)
                };
                (root, domain_at(DomainType::AGGREGATE_AND_PROOF, epoch_of(slot)?)?, None)
            }
            MessageType::VoluntaryExit => {
                let e = self.voluntary_exit.ok_or_else(|| missing("voluntary_exit"))?;
                let fi = fork_info()?;
                let version = exit_fork_version(spec, &fi, e.epoch);
                let domain =
                    compute_domain(DomainType::VOLUNTARY_EXIT, version, fi.genesis_validators_root);
                (e.hash_tree_root(), domain, None)
            }
            MessageType::Deposit => {
                let d = self.deposit.ok_or_else(|| missing("deposit"))?;
                // Deposits are valid on every fork: genesis fork version, zero genesis root.
                let domain = compute_domain(DomainType::DEPOSIT, d.genesis_fork_version, [0; 32]);
                (d.hash_tree_root(), domain, None)
            }
            MessageType::SyncCommitteeMessage => {
                let m =
                    self.sync_committee_message.ok_or_else(|| missing("sync_committee_message"))?;
                let domain = domain_at(DomainType::SYNC_COMMITTEE, epoch_of(m.slot)?)?;
                (m.beacon_block_root, domain, None)
            }
            MessageType::SyncCommitteeSelectionProof => {
                let d = self
                    .sync_aggregator_selection_data
                    .ok_or_else(|| missing("sync_aggregator_selection_data"))?;
                let domain =
                    domain_at(DomainType::SYNC_COMMITTEE_SELECTION_PROOF, epoch_of(d.slot)?)?;
                (d.hash_tree_root(), domain, None)
            }
            MessageType::SyncCommitteeContributionAndProof => {
                let c = self
                    .contribution_and_proof
                    .as_ref()
                    .ok_or_else(|| missing("contribution_and_proof"))?;
                let domain =
                    domain_at(DomainType::CONTRIBUTION_AND_PROOF, epoch_of(c.contribution.slot)?)?;
                (c.try_hash_tree_root()?, domain, None)
            }
            MessageType::ValidatorRegistration => {
                let r =
                    self.validator_registration.ok_or_else(|| missing("validator_registration"))?;
                // Builder specs: `compute_domain(DOMAIN_APPLICATION_BUILDER)` with the genesis
                // fork version and a zero genesis validators root.
                let domain = compute_domain(
                    DomainType::APPLICATION_BUILDER,
                    spec.genesis_fork_version,
                    [0; 32],
                );
                (r.hash_tree_root(), domain, None)
            }
        };
        let signing_root = compute_signing_root(object_root, domain);
        if let Some(given) = self.signing_root
            && given != signing_root
        {
            return Err(RequestError::SigningRootMismatch { given, computed: signing_root });
        }
        Ok(SigningPlan {
            kind,
            signing_root,
            slashing,
            genesis_validators_root: self.fork_info.map(|f| f.genesis_validators_root),
        })
    }
}

/// The fork version a voluntary exit is signed under: from Deneb on, always
/// `CAPELLA_FORK_VERSION` (EIP-7044, so exits signed once stay valid); before, the version in
/// force at the exit's epoch.
#[must_use]
pub fn exit_fork_version(
    spec: &NetworkSpec,
    fork_info: &ForkInfo,
    exit_epoch: Epoch,
) -> ForkVersion {
    if fork_info.fork.epoch >= spec.deneb_fork_epoch {
        spec.capella_fork_version
    } else {
        fork_info.fork.version_at(exit_epoch)
    }
}

/// The header (same root as the block) of a full phase0 or Altair block; the body layout must
/// match `version` (Altair adds `sync_aggregate`). Later forks send `block_header` instead.
fn full_block_header(
    v: &serde_json::Value,
    version: ForkName,
) -> Result<BeaconBlockHeader, RequestError> {
    let block: BeaconBlock = parse_value(v)?;
    match (version, block.body.sync_aggregate.is_some()) {
        (ForkName::Phase0, false) | (ForkName::Altair, true) => {}
        (ForkName::Phase0, true) => {
            return Err(RequestError::Unsupported("a PHASE0 block body has no sync_aggregate"));
        }
        (ForkName::Altair, false) => {
            return Err(RequestError::Json("ALTAIR block body without sync_aggregate".into()));
        }
        _ => {
            return Err(RequestError::Unsupported(
                "a full `block` is only defined for PHASE0 and ALTAIR: send `block_header` from BELLATRIX on",
            ));
        }
    }
    block.header().map_err(RequestError::Block)
}

fn parse_value<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, RequestError> {
    T::deserialize(v).map_err(|e| RequestError::Json(e.to_string()))
}

/// Serde for `Option<Root>` as `0x…` hex or absent/null.
mod opt_root {
    use claystack_consensus::{Root, hexutil};
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(v: &Option<Root>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(r) => s.serialize_str(&hexutil::encode_prefixed(r)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Root>, D::Error> {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.map(|s| hexutil::decode_fixed::<32>(&s).map_err(D::Error::custom)).transpose()
    }
}
