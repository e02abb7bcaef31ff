//! The members' signature gossip over HTTP. A message is `(refSlot, digest, signature)`; it is
//! authenticated by the signature itself (the recovered signer must be a member), so no other
//! credential is needed. A member never adopts a peer's report: it only counts signatures over
//! the digest it computed itself; a signature over another digest is logged and counted as a
//! disagreement. Bodies are capped, the number of frames and entries held is bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, Signature};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::metrics::{Metrics, inc};

/// The 32-byte digest type (re-exported for callers without a direct alloy dependency).
pub type Digest = B256;

/// Largest accepted gossip body.
pub const MAX_BODY_BYTES: usize = 4 * 1024;
/// Frames held at once (current, next, a little slack).
const MAX_FRAMES: usize = 4;

/// A signature announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureMessage {
    /// Reference slot of the frame.
    pub ref_slot: u64,
    /// The digest the sender signed.
    pub digest: B256,
    /// 65-byte `(r, s, v)` signature over `digest`.
    pub signature: Bytes,
}

/// Signs `digest` for `ref_slot` with `key` (65-byte `(r, s, v)`, low-s).
pub fn sign_message(
    key: &alloy::signers::local::PrivateKeySigner,
    ref_slot: u64,
    digest: B256,
) -> Result<SignatureMessage, alloy::signers::Error> {
    use alloy::signers::SignerSync as _;
    let sig = key.sign_hash_sync(&digest)?;
    Ok(SignatureMessage { ref_slot, digest, signature: Bytes::from(sig.as_bytes().to_vec()) })
}

/// Recovers the signer of a 65-byte signature over `digest`, refusing high-s signatures (the
/// contract's OpenZeppelin ECDSA would).
#[must_use]
pub fn recover(digest: B256, signature: &[u8]) -> Option<Address> {
    let sig = Signature::try_from(signature).ok()?;
    if sig.normalize_s().is_some() {
        return None;
    }
    sig.recover_address_from_prehash(&digest).ok()
}

#[derive(Debug, Default)]
struct FrameGossip {
    own_digest: Option<B256>,
    /// Signatures over our digest.
    agreed: BTreeMap<Address, Bytes>,
    /// Signatures received before we computed our digest (one per signer).
    pending: BTreeMap<Address, (B256, Bytes)>,
    /// Signers already counted as disagreeing for this frame.
    disagreeing: BTreeSet<Address>,
}

/// What the gossip knows; shared by the HTTP server and the frame loop.
#[derive(Debug)]
pub struct GossipState {
    frames: Mutex<BTreeMap<u64, FrameGossip>>,
    members: Mutex<BTreeSet<Address>>,
    /// Lowest and highest reference slot accepted.
    window: Mutex<(u64, u64)>,
    metrics: Arc<Metrics>,
}

impl GossipState {
    /// Empty state.
    #[must_use]
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            frames: Mutex::new(BTreeMap::new()),
            members: Mutex::new(BTreeSet::new()),
            window: Mutex::new((0, 0)),
            metrics,
        }
    }

    /// Sets the members and the accepted reference-slot window `[lo, hi]`.
    pub fn configure(&self, members: &[Address], lo: u64, hi: u64) {
        if let Ok(mut m) = self.members.lock() {
            *m = members.iter().copied().collect();
        }
        if let Ok(mut w) = self.window.lock() {
            *w = (lo, hi);
        }
        if let Ok(mut f) = self.frames.lock() {
            f.retain(|slot, _| *slot >= lo);
        }
    }

    /// Records our own digest (and signature) for `ref_slot`; pending signatures over the same
    /// digest become agreed, others are disagreements.
    pub fn set_own(&self, ref_slot: u64, digest: B256, signer: Address, signature: Bytes) {
        let Ok(mut frames) = self.frames.lock() else { return };
        let f = frames.entry(ref_slot).or_default();
        f.own_digest = Some(digest);
        f.agreed.insert(signer, signature);
        let pending = std::mem::take(&mut f.pending);
        for (who, (d, sig)) in pending {
            self.classify(f, ref_slot, who, d, sig);
        }
        trim(&mut frames);
    }

    /// Adds signatures restored from the state directory (already checked).
    pub fn restore(&self, ref_slot: u64, signatures: &BTreeMap<Address, Bytes>) {
        if let Ok(mut frames) = self.frames.lock() {
            let f = frames.entry(ref_slot).or_default();
            for (a, s) in signatures {
                f.agreed.insert(*a, s.clone());
            }
        }
    }

    /// Signatures over our digest for `ref_slot`.
    #[must_use]
    pub fn agreed(&self, ref_slot: u64) -> BTreeMap<Address, Bytes> {
        self.frames
            .lock()
            .ok()
            .and_then(|f| f.get(&ref_slot).map(|g| g.agreed.clone()))
            .unwrap_or_default()
    }

    fn classify(&self, f: &mut FrameGossip, ref_slot: u64, who: Address, digest: B256, sig: Bytes) {
        match f.own_digest {
            Some(own) if own == digest => {
                if f.agreed.insert(who, sig).is_none() {
                    inc(&self.metrics.signatures_received);
                }
            }
            Some(own) => {
                if f.disagreeing.insert(who) {
                    inc(&self.metrics.peer_disagreements);
                    tracing::warn!(
                        target: "oracle::gossip",
                        ref_slot, member = %who, theirs = %digest, ours = %own,
                        "a member signed a different report"
                    );
                }
            }
            None => {
                f.pending.insert(who, (digest, sig));
            }
        }
    }

    /// Handles one incoming message.
    pub fn accept(&self, msg: SignatureMessage) -> Result<(), &'static str> {
        let (lo, hi) = self.window.lock().map(|w| *w).map_err(|_| "state poisoned")?;
        if msg.ref_slot < lo || msg.ref_slot > hi {
            return Err("reference slot outside the current window");
        }
        let signer = recover(msg.digest, &msg.signature).ok_or("bad signature")?;
        let is_member =
            self.members.lock().map(|m| m.contains(&signer)).map_err(|_| "state poisoned")?;
        if !is_member {
            return Err("signer is not a member");
        }
        let mut frames = self.frames.lock().map_err(|_| "state poisoned")?;
        let f = frames.entry(msg.ref_slot).or_default();
        self.classify(f, msg.ref_slot, signer, msg.digest, msg.signature);
        trim(&mut frames);
        Ok(())
    }
}

fn trim(frames: &mut BTreeMap<u64, FrameGossip>) {
    while frames.len() > MAX_FRAMES {
        frames.pop_first();
    }
}

/// Router of the member's HTTP endpoint: gossip, metrics, health.
pub fn router(state: Arc<GossipState>, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/v1/signatures", post(post_signature))
        .route("/v1/signatures/{ref_slot}", get(get_signatures))
        .with_state(state)
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn post_signature(
    State(state): State<Arc<GossipState>>,
    Json(msg): Json<SignatureMessage>,
) -> (StatusCode, &'static str) {
    match state.accept(msg) {
        Ok(()) => (StatusCode::ACCEPTED, "accepted"),
        Err(reason) => {
            inc(&state.metrics.gossip_rejected);
            (StatusCode::BAD_REQUEST, reason)
        }
    }
}

async fn get_signatures(
    State(state): State<Arc<GossipState>>,
    Path(ref_slot): Path<u64>,
) -> Json<Vec<SignatureMessage>> {
    let frames = state.frames.lock().ok();
    let out = frames
        .as_ref()
        .and_then(|f| f.get(&ref_slot))
        .and_then(|g| {
            g.own_digest.map(|d| {
                g.agreed
                    .values()
                    .map(|s| SignatureMessage { ref_slot, digest: d, signature: s.clone() })
                    .collect()
            })
        })
        .unwrap_or_default();
    Json(out)
}

/// Pushes our signature to every peer (best effort, bounded time per peer).
pub async fn broadcast(client: &reqwest::Client, peers: &[String], msg: &SignatureMessage) {
    let sends = peers.iter().map(|peer| {
        let url = format!("{}/v1/signatures", peer.trim_end_matches('/'));
        async move {
            match client.post(&url).json(msg).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::debug!(target: "oracle::gossip", %url, status = %r.status(), "peer refused our signature"),
                Err(e) => tracing::debug!(target: "oracle::gossip", %url, error = %e, "peer unreachable"),
            }
        }
    });
    futures::future::join_all(sends).await;
}

/// An HTTP client with the gossip's timeouts.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    fn signed(key: &PrivateKeySigner, ref_slot: u64, digest: B256) -> SignatureMessage {
        let sig = key.sign_hash_sync(&digest).unwrap();
        SignatureMessage { ref_slot, digest, signature: Bytes::from(sig.as_bytes().to_vec()) }
    }

    #[test]
    fn counts_only_member_signatures_over_our_digest() {
        let metrics = Arc::new(Metrics::default());
        let g = GossipState::new(Arc::clone(&metrics));
        let (a, b, c, outsider) = (
            PrivateKeySigner::random(),
            PrivateKeySigner::random(),
            PrivateKeySigner::random(),
            PrivateKeySigner::random(),
        );
        g.configure(&[a.address(), b.address(), c.address()], 10, 100);
        let ours = B256::repeat_byte(1);
        // b signs before we computed: held, then agreed
        g.accept(signed(&b, 20, ours)).unwrap();
        // c lies
        g.accept(signed(&c, 20, B256::repeat_byte(2))).unwrap();
        assert!(g.accept(signed(&outsider, 20, ours)).is_err());
        assert!(g.accept(signed(&b, 200, ours)).is_err());
        let mut bad = signed(&b, 20, ours);
        bad.signature = Bytes::from(vec![0u8; 65]);
        assert!(g.accept(bad).is_err());
        let own = signed(&a, 20, ours);
        g.set_own(20, ours, a.address(), own.signature);
        let agreed = g.agreed(20);
        assert_eq!(agreed.keys().copied().collect::<Vec<_>>().len(), 2);
        assert!(agreed.contains_key(&b.address()) && !agreed.contains_key(&c.address()));
        assert_eq!(metrics.peer_disagreements.load(std::sync::atomic::Ordering::Relaxed), 1);
        // the liar again: counted once per frame
        g.accept(signed(&c, 20, B256::repeat_byte(3))).unwrap();
        assert_eq!(metrics.peer_disagreements.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
