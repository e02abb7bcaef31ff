//! Typed Web3Signer eth2 signing requests, and the signing root a node recomputes from them.
//!
//! A DVT node never signs a bare root: it receives the full typed request, computes the signing
//! root itself (the same way the front does), and checks its own slashing-protection database
//! for blocks and attestations before releasing a partial signature.
//!
//! [`RequestEvaluator`] is the seam: [`BuiltinEvaluator`] covers the request types below; the
//! remote-signer crate's full parser can be plugged in behind the same trait.

use claystack_consensus::domain::{DomainType, ForkVersion, compute_domain, compute_signing_root};
use claystack_consensus::hexutil::{self, deserialize_u64_lenient};
use claystack_consensus::ssz::{HashTreeRoot, Root, container_root};
use claystack_consensus::{Epoch, Slot};
use serde::Deserialize;

/// Slots per epoch on every public network.
pub const SLOTS_PER_EPOCH: u64 = 32;

/// Why a request was rejected before any key was touched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not a valid request of its declared type.
    #[error("malformed signing request: {0}")]
    Malformed(String),
    /// The request type is valid Web3Signer but not supported by this evaluator.
    #[error("unsupported signing request type {0}")]
    Unsupported(String),
    /// The request carried a `signingRoot` that differs from the one computed from its body.
    #[error("signingRoot in the request does not match the root computed from its body")]
    RootMismatch,
}

/// What slashing protection must check before a signature over this request may exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashingCheck {
    /// Not slashable (randao, selection proofs, exits, …).
    None,
    /// A block proposal at this slot.
    Block {
        /// Proposal slot.
        slot: Slot,
    },
    /// An attestation with these checkpoints.
    Attestation {
        /// Source epoch.
        source: Epoch,
        /// Target epoch.
        target: Epoch,
    },
}

/// A request reduced to what signing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluated {
    /// The root to sign, computed from the typed body and the fork info.
    pub signing_root: Root,
    /// The genesis validators root of the request's chain (zero for deposits and registrations).
    pub genesis_validators_root: Root,
    /// The slashing-protection check required.
    pub slashing: SlashingCheck,
}

/// Turns a typed request body into its signing root and slashing check.
pub trait RequestEvaluator: Send + Sync + 'static {
    /// Parses `body` (Web3Signer JSON) and computes what signing needs.
    fn evaluate(&self, body: &[u8]) -> Result<Evaluated, RequestError>;
}

/// The evaluator built into this crate: ATTESTATION, BLOCK_V2 (block-header form, Bellatrix
/// onwards), RANDAO_REVEAL, AGGREGATION_SLOT, VOLUNTARY_EXIT, SYNC_COMMITTEE_MESSAGE,
/// SYNC_COMMITTEE_SELECTION_PROOF, DEPOSIT and VALIDATOR_REGISTRATION.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinEvaluator {
    /// `GENESIS_FORK_VERSION` of the network (domain of validator registrations).
    pub genesis_fork_version: ForkVersion,
}

#[derive(Deserialize)]
struct Fork {
    #[serde(with = "hexutil::fixed")]
    previous_version: [u8; 4],
    #[serde(with = "hexutil::fixed")]
    current_version: [u8; 4],
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    epoch: u64,
}

#[derive(Deserialize)]
struct ForkInfo {
    fork: Fork,
    #[serde(with = "hexutil::fixed")]
    genesis_validators_root: Root,
}

impl ForkInfo {
    fn domain(&self, domain_type: DomainType, epoch: u64) -> Root {
        let version = if epoch < self.fork.epoch {
            self.fork.previous_version
        } else {
            self.fork.current_version
        };
        compute_domain(domain_type, version, self.genesis_validators_root)
    }
}

#[derive(Deserialize)]
struct Checkpoint {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    epoch: u64,
    #[serde(with = "hexutil::fixed")]
    root: Root,
}

#[derive(Deserialize)]
struct AttestationData {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    slot: u64,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    index: u64,
    #[serde(with = "hexutil::fixed")]
    beacon_block_root: Root,
    source: Checkpoint,
    target: Checkpoint,
}

impl AttestationData {
    fn root(&self) -> Root {
        let cp = |c: &Checkpoint| container_root(&[c.epoch.hash_tree_root(), c.root]);
        container_root(&[
            self.slot.hash_tree_root(),
            self.index.hash_tree_root(),
            self.beacon_block_root,
            cp(&self.source),
            cp(&self.target),
        ])
    }
}

#[derive(Deserialize)]
struct BlockHeader {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    slot: u64,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    proposer_index: u64,
    #[serde(with = "hexutil::fixed")]
    parent_root: Root,
    #[serde(with = "hexutil::fixed")]
    state_root: Root,
    #[serde(with = "hexutil::fixed")]
    body_root: Root,
}

#[derive(Deserialize)]
struct BeaconBlockV2 {
    version: String,
    block_header: Option<BlockHeader>,
}

#[derive(Deserialize)]
struct EpochOnly {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    epoch: u64,
}

#[derive(Deserialize)]
struct SlotOnly {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    slot: u64,
}

#[derive(Deserialize)]
struct VoluntaryExit {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    epoch: u64,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    validator_index: u64,
}

#[derive(Deserialize)]
struct SyncCommitteeMessage {
    #[serde(with = "hexutil::fixed")]
    beacon_block_root: Root,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    slot: u64,
}

#[derive(Deserialize)]
struct SyncAggregatorSelectionData {
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    slot: u64,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    subcommittee_index: u64,
}

#[derive(Deserialize)]
struct Deposit {
    #[serde(with = "hexutil::fixed")]
    pubkey: [u8; 48],
    #[serde(with = "hexutil::fixed")]
    withdrawal_credentials: Root,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    amount: u64,
    #[serde(with = "hexutil::fixed")]
    genesis_fork_version: [u8; 4],
}

#[derive(Deserialize)]
struct ValidatorRegistration {
    #[serde(with = "hexutil::fixed")]
    fee_recipient: [u8; 20],
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    gas_limit: u64,
    #[serde(deserialize_with = "deserialize_u64_lenient")]
    timestamp: u64,
    #[serde(with = "hexutil::fixed")]
    pubkey: [u8; 48],
}

/// The envelope every request shares; the payload field depends on `type`.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    fork_info: Option<ForkInfo>,
    #[serde(rename = "signingRoot", alias = "signing_root", default)]
    signing_root: Option<String>,
    attestation: Option<AttestationData>,
    beacon_block: Option<BeaconBlockV2>,
    randao_reveal: Option<EpochOnly>,
    aggregation_slot: Option<SlotOnly>,
    voluntary_exit: Option<VoluntaryExit>,
    sync_committee_message: Option<SyncCommitteeMessage>,
    sync_aggregator_selection_data: Option<SyncAggregatorSelectionData>,
    deposit: Option<Deposit>,
    validator_registration: Option<ValidatorRegistration>,
}

fn need<T>(v: Option<T>, field: &str) -> Result<T, RequestError> {
    v.ok_or_else(|| RequestError::Malformed(format!("missing field `{field}`")))
}

fn epoch_of(slot: u64) -> u64 {
    slot.checked_div(SLOTS_PER_EPOCH).unwrap_or(0)
}

impl RequestEvaluator for BuiltinEvaluator {
    fn evaluate(&self, body: &[u8]) -> Result<Evaluated, RequestError> {
        let env: Envelope =
            serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
        let fork = || need(env.fork_info.as_ref(), "fork_info");
        let (object_root, domain, gvr, slashing) = match env.kind.as_str() {
            "ATTESTATION" => {
                let f = fork()?;
                let a = need(env.attestation.as_ref(), "attestation")?;
                let check = SlashingCheck::Attestation {
                    source: Epoch(a.source.epoch),
                    target: Epoch(a.target.epoch),
                };
                let domain = f.domain(DomainType::BEACON_ATTESTER, a.target.epoch);
                (a.root(), domain, f.genesis_validators_root, check)
            }
            "BLOCK_V2" => {
                let f = fork()?;
                let b = need(env.beacon_block.as_ref(), "beacon_block")?;
                let h = b.block_header.as_ref().ok_or_else(|| {
                    RequestError::Unsupported(format!("BLOCK_V2 with a full {} block", b.version))
                })?;
                let root = container_root(&[
                    h.slot.hash_tree_root(),
                    h.proposer_index.hash_tree_root(),
                    h.parent_root,
                    h.state_root,
                    h.body_root,
                ]);
                let domain = f.domain(DomainType::BEACON_PROPOSER, epoch_of(h.slot));
                (
                    root,
                    domain,
                    f.genesis_validators_root,
                    SlashingCheck::Block { slot: Slot(h.slot) },
                )
            }
            "RANDAO_REVEAL" => {
                let f = fork()?;
                let r = need(env.randao_reveal.as_ref(), "randao_reveal")?;
                let domain = f.domain(DomainType::RANDAO, r.epoch);
                (r.epoch.hash_tree_root(), domain, f.genesis_validators_root, SlashingCheck::None)
            }
            "AGGREGATION_SLOT" => {
                let f = fork()?;
                let s = need(env.aggregation_slot.as_ref(), "aggregation_slot")?;
                let domain = f.domain(DomainType::SELECTION_PROOF, epoch_of(s.slot));
                (s.slot.hash_tree_root(), domain, f.genesis_validators_root, SlashingCheck::None)
            }
            "VOLUNTARY_EXIT" => {
                let f = fork()?;
                let e = need(env.voluntary_exit.as_ref(), "voluntary_exit")?;
                let root =
                    container_root(&[e.epoch.hash_tree_root(), e.validator_index.hash_tree_root()]);
                let domain = f.domain(DomainType::VOLUNTARY_EXIT, e.epoch);
                (root, domain, f.genesis_validators_root, SlashingCheck::None)
            }
            "SYNC_COMMITTEE_MESSAGE" => {
                let f = fork()?;
                let m = need(env.sync_committee_message.as_ref(), "sync_committee_message")?;
                let domain = f.domain(DomainType::SYNC_COMMITTEE, epoch_of(m.slot));
                (m.beacon_block_root, domain, f.genesis_validators_root, SlashingCheck::None)
            }
            "SYNC_COMMITTEE_SELECTION_PROOF" => {
                let f = fork()?;
                let s = need(
                    env.sync_aggregator_selection_data.as_ref(),
                    "sync_aggregator_selection_data",
                )?;
                let root = container_root(&[
                    s.slot.hash_tree_root(),
                    s.subcommittee_index.hash_tree_root(),
                ]);
                let domain = f.domain(DomainType::SYNC_COMMITTEE_SELECTION_PROOF, epoch_of(s.slot));
                (root, domain, f.genesis_validators_root, SlashingCheck::None)
            }
            "DEPOSIT" => {
                let d = need(env.deposit.as_ref(), "deposit")?;
                let root = container_root(&[
                    d.pubkey.hash_tree_root(),
                    d.withdrawal_credentials,
                    d.amount.hash_tree_root(),
                ]);
                let domain = compute_domain(DomainType::DEPOSIT, d.genesis_fork_version, [0u8; 32]);
                (root, domain, [0u8; 32], SlashingCheck::None)
            }
            "VALIDATOR_REGISTRATION" => {
                let v = need(env.validator_registration.as_ref(), "validator_registration")?;
                let root = container_root(&[
                    v.fee_recipient.hash_tree_root(),
                    v.gas_limit.hash_tree_root(),
                    v.timestamp.hash_tree_root(),
                    v.pubkey.hash_tree_root(),
                ]);
                let domain = compute_domain(
                    DomainType::APPLICATION_BUILDER,
                    self.genesis_fork_version,
                    [0u8; 32],
                );
                (root, domain, [0u8; 32], SlashingCheck::None)
            }
            other => return Err(RequestError::Unsupported(other.to_owned())),
        };
        let signing_root = compute_signing_root(object_root, domain);
        if let Some(claimed) = &env.signing_root {
            let claimed = hexutil::decode_fixed::<32>(claimed)
                .map_err(|e| RequestError::Malformed(format!("signingRoot: {e}")))?;
            if claimed != signing_root {
                return Err(RequestError::RootMismatch);
            }
        }
        Ok(Evaluated { signing_root, genesis_validators_root: gvr, slashing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fork_info() -> serde_json::Value {
        serde_json::json!({
            "fork": {"previous_version": "0x00000000", "current_version": "0x01000000", "epoch": "10"},
            "genesis_validators_root": format!("0x{}", "11".repeat(32)),
        })
    }

    #[test]
    fn attestation_root_and_check() {
        let ev = BuiltinEvaluator { genesis_fork_version: [0; 4] };
        let body = serde_json::json!({
            "type": "ATTESTATION",
            "fork_info": fork_info(),
            "attestation": {
                "slot": "320", "index": "2", "beacon_block_root": format!("0x{}", "22".repeat(32)),
                "source": {"epoch": "9", "root": format!("0x{}", "33".repeat(32))},
                "target": {"epoch": "10", "root": format!("0x{}", "44".repeat(32))}
            }
        });
        let e = ev.evaluate(body.to_string().as_bytes()).unwrap();
        assert_eq!(e.slashing, SlashingCheck::Attestation { source: Epoch(9), target: Epoch(10) });
        assert_eq!(e.genesis_validators_root, [0x11; 32]);
        // Independent computation: target epoch 10 is at the fork, so the current version.
        let cp = |e: u64, r: u8| container_root(&[e.hash_tree_root(), [r; 32]]);
        let data = container_root(&[
            320u64.hash_tree_root(),
            2u64.hash_tree_root(),
            [0x22; 32],
            cp(9, 0x33),
            cp(10, 0x44),
        ]);
        let domain = compute_domain(DomainType::BEACON_ATTESTER, [1, 0, 0, 0], [0x11; 32]);
        assert_eq!(e.signing_root, compute_signing_root(data, domain));
        // A claimed root must match.
        let mut with_root = body;
        with_root["signingRoot"] = format!("0x{}", hex::encode(e.signing_root)).into();
        assert_eq!(ev.evaluate(with_root.to_string().as_bytes()).unwrap(), e);
        with_root["signingRoot"] = format!("0x{}", "00".repeat(32)).into();
        assert_eq!(ev.evaluate(with_root.to_string().as_bytes()), Err(RequestError::RootMismatch));
    }

    #[test]
    fn bad_bodies_are_rejected() {
        let ev = BuiltinEvaluator { genesis_fork_version: [0; 4] };
        assert!(matches!(ev.evaluate(b"not json"), Err(RequestError::Malformed(_))));
        assert!(matches!(
            ev.evaluate(br#"{"type":"ATTESTATION"}"#),
            Err(RequestError::Malformed(_))
        ));
        assert!(matches!(ev.evaluate(br#"{"type":"NOPE"}"#), Err(RequestError::Unsupported(_))));
        let randao = serde_json::json!({"type": "RANDAO_REVEAL", "fork_info": fork_info(), "randao_reveal": {"epoch": "3"}});
        let e = ev.evaluate(randao.to_string().as_bytes()).unwrap();
        assert_eq!(e.slashing, SlashingCheck::None);
        let domain = compute_domain(DomainType::RANDAO, [0, 0, 0, 0], [0x11; 32]);
        assert_eq!(e.signing_root, compute_signing_root(3u64.hash_tree_root(), domain));
    }
}
