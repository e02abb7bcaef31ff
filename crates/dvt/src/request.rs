//! The signing root and slashing check a node (and the front) recompute from a typed
//! Web3Signer request.
//!
//! A DVT node never signs a bare root: it receives the full typed request, computes the signing
//! root itself, and checks its own slashing-protection database for blocks and attestations
//! before releasing a partial signature. Parsing and root computation are the remote signer's
//! (`claystack-signer`), so a cluster and a single-key signer sign exactly the same roots for
//! every request type; [`RequestEvaluator`] is the seam.

use claystack_consensus::{Epoch, Root, Slot};
use claystack_signer::{NetworkSpec, SignRequest};

/// Why a request was rejected before any key was touched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not a valid, signable request (bad JSON, missing object, unsupported type,
    /// or a `signingRoot` that differs from the one computed from the body).
    #[error(transparent)]
    Invalid(#[from] claystack_signer::RequestError),
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
    /// The genesis validators root of the request's chain (zero when the request has none:
    /// deposits and builder registrations, which are not slashable).
    pub genesis_validators_root: Root,
    /// The slashing-protection check required.
    pub slashing: SlashingCheck,
}

/// Turns a typed request body into its signing root and slashing check.
pub trait RequestEvaluator: Send + Sync + 'static {
    /// Parses `body` (Web3Signer JSON) and computes what signing needs.
    fn evaluate(&self, body: &[u8]) -> Result<Evaluated, RequestError>;
}

/// The evaluator of `claystack-signer`: every eth2 request type the remote signer supports.
#[derive(Debug, Clone, Copy)]
pub struct SignerEvaluator {
    /// Network parameters signing roots depend on.
    pub spec: NetworkSpec,
}

impl RequestEvaluator for SignerEvaluator {
    fn evaluate(&self, body: &[u8]) -> Result<Evaluated, RequestError> {
        let plan = SignRequest::from_json(body)?.plan(&self.spec)?;
        let slashing = match plan.slashing {
            None => SlashingCheck::None,
            Some(claystack_signer::SlashingCheck::Block { slot }) => SlashingCheck::Block { slot },
            Some(claystack_signer::SlashingCheck::Attestation { source, target }) => {
                SlashingCheck::Attestation { source, target }
            }
        };
        Ok(Evaluated {
            signing_root: plan.signing_root,
            genesis_validators_root: plan.genesis_validators_root.unwrap_or_default(),
            slashing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claystack_consensus::domain::{DomainType, compute_domain, compute_signing_root};
    use claystack_consensus::ssz::{HashTreeRoot, container_root};

    fn fork_info() -> serde_json::Value {
        serde_json::json!({
            "fork": {"previous_version": "0x01017000", "current_version": "0x02017000", "epoch": "10"},
            "genesis_validators_root": format!("0x{}", "11".repeat(32)),
        })
    }

    #[test]
    fn attestation_root_and_check() {
        let ev = SignerEvaluator { spec: NetworkSpec::HOLESKY };
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
        let domain = compute_domain(DomainType::BEACON_ATTESTER, [2, 1, 0x70, 0], [0x11; 32]);
        assert_eq!(e.signing_root, compute_signing_root(data, domain));
        // A claimed root must match.
        let mut with_root = body;
        with_root["signingRoot"] = format!("0x{}", hex::encode(e.signing_root)).into();
        assert_eq!(ev.evaluate(with_root.to_string().as_bytes()).unwrap(), e);
        with_root["signingRoot"] = format!("0x{}", "00".repeat(32)).into();
        assert!(ev.evaluate(with_root.to_string().as_bytes()).is_err());
    }

    #[test]
    fn bad_bodies_are_rejected_and_randao_is_not_slashable() {
        let ev = SignerEvaluator { spec: NetworkSpec::HOLESKY };
        assert!(ev.evaluate(b"not json").is_err());
        assert!(ev.evaluate(br#"{"type":"ATTESTATION"}"#).is_err());
        assert!(ev.evaluate(br#"{"type":"NOPE"}"#).is_err());
        let randao = serde_json::json!({"type": "RANDAO_REVEAL", "fork_info": fork_info(), "randao_reveal": {"epoch": "3"}});
        let e = ev.evaluate(randao.to_string().as_bytes()).unwrap();
        assert_eq!(e.slashing, SlashingCheck::None);
        let domain = compute_domain(DomainType::RANDAO, [1, 1, 0x70, 0], [0x11; 32]);
        assert_eq!(e.signing_root, compute_signing_root(3u64.hash_tree_root(), domain));
    }
}
