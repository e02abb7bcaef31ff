//! Prometheus metrics of a member (text exposition format, no registry crate needed).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and gauges of one member.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reports this member submitted.
    pub frames_submitted: AtomicU64,
    /// Frames settled by another member's submission.
    pub frames_done_by_others: AtomicU64,
    /// Last report computation time, microseconds.
    pub compute_micros: AtomicU64,
    /// Signatures from peers over a different digest than ours.
    pub peer_disagreements: AtomicU64,
    /// Valid signatures received from peers over our digest.
    pub signatures_received: AtomicU64,
    /// Gossip messages refused (bad signature, not a member, out of window, oversized).
    pub gossip_rejected: AtomicU64,
    /// Submission attempts that failed.
    pub submit_failures: AtomicU64,
    /// Report computations that failed (a sanity bound, an inconsistent input, a read error).
    pub compute_failures: AtomicU64,
    /// Reference slot of the last frame this member signed.
    pub last_signed_ref_slot: AtomicU64,
    /// Epochs whose liveness was recorded in the state dir.
    pub liveness_epochs_recorded: AtomicU64,
    /// Liveness requests that failed (node down, or the epoch no longer served).
    pub liveness_fetch_failures: AtomicU64,
    /// Frames not signed because an epoch's liveness could be neither read nor was recorded.
    pub liveness_missing: AtomicU64,
    /// Frames not signed because the on-chain rewards root's tree could not be obtained.
    pub rewards_tree_missing: AtomicU64,
    /// Rewards trees fetched from a peer (and checked against the chain).
    pub rewards_trees_fetched: AtomicU64,
    /// Extra-data chunks after chunk 0 this member delivered (`submitExtraDataChunk`).
    pub chunks_delivered: AtomicU64,
    /// Chunk deliveries that failed (another member was first, a revert, an RPC error).
    pub chunk_delivery_failures: AtomicU64,
    /// VfpPool rewards bookings this member sent and saw mined (`claimRewards`/`syncRewards`).
    pub vfp_claims: AtomicU64,
    /// VfpPool booking steps that failed (a read, the transaction, a revert; retried next tick).
    pub vfp_claim_failures: AtomicU64,
}

impl Metrics {
    /// Renders the text exposition format.
    #[must_use]
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            // writing to a String cannot fail
            let _ignored =
                write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
        };
        metric(
            "claystack_oracle_frames_submitted_total",
            "counter",
            "Reports this member submitted.",
            g(&self.frames_submitted).to_string(),
        );
        metric(
            "claystack_oracle_frames_done_by_others_total",
            "counter",
            "Frames settled by another member's submission.",
            g(&self.frames_done_by_others).to_string(),
        );
        let micros = g(&self.compute_micros);
        metric(
            "claystack_oracle_report_compute_seconds",
            "gauge",
            "Time the last report computation took.",
            format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000),
        );
        metric(
            "claystack_oracle_peer_disagreements_total",
            "counter",
            "Peer signatures over a digest other than ours.",
            g(&self.peer_disagreements).to_string(),
        );
        metric(
            "claystack_oracle_signatures_received_total",
            "counter",
            "Valid peer signatures over our digest.",
            g(&self.signatures_received).to_string(),
        );
        metric(
            "claystack_oracle_gossip_rejected_total",
            "counter",
            "Gossip messages refused.",
            g(&self.gossip_rejected).to_string(),
        );
        metric(
            "claystack_oracle_submit_failures_total",
            "counter",
            "Failed submission attempts.",
            g(&self.submit_failures).to_string(),
        );
        metric(
            "claystack_oracle_compute_failures_total",
            "counter",
            "Failed report computations.",
            g(&self.compute_failures).to_string(),
        );
        metric(
            "claystack_oracle_last_signed_ref_slot",
            "gauge",
            "Reference slot of the last frame this member signed.",
            g(&self.last_signed_ref_slot).to_string(),
        );
        metric(
            "claystack_oracle_liveness_epochs_recorded_total",
            "counter",
            "Epochs whose liveness was recorded in the state dir.",
            g(&self.liveness_epochs_recorded).to_string(),
        );
        metric(
            "claystack_oracle_liveness_fetch_failures_total",
            "counter",
            "Failed liveness requests.",
            g(&self.liveness_fetch_failures).to_string(),
        );
        metric(
            "claystack_oracle_liveness_missing_total",
            "counter",
            "Frames not signed: an epoch's liveness was neither recorded nor served.",
            g(&self.liveness_missing).to_string(),
        );
        metric(
            "claystack_oracle_rewards_tree_missing_total",
            "counter",
            "Frames not signed: the on-chain rewards root's tree was unavailable or did not verify.",
            g(&self.rewards_tree_missing).to_string(),
        );
        metric(
            "claystack_oracle_rewards_trees_fetched_total",
            "counter",
            "Rewards trees fetched from a peer and checked against the chain.",
            g(&self.rewards_trees_fetched).to_string(),
        );
        metric(
            "claystack_oracle_extra_data_chunks_delivered_total",
            "counter",
            "Extra-data chunks after chunk 0 this member delivered.",
            g(&self.chunks_delivered).to_string(),
        );
        metric(
            "claystack_oracle_extra_data_delivery_failures_total",
            "counter",
            "Failed extra-data chunk deliveries (retried on the next tick).",
            g(&self.chunk_delivery_failures).to_string(),
        );
        metric(
            "claystack_oracle_vfp_rewards_claims_total",
            "counter",
            "VfpPool rewards bookings (claimRewards or syncRewards) this member sent, mined.",
            g(&self.vfp_claims).to_string(),
        );
        metric(
            "claystack_oracle_vfp_rewards_claim_failures_total",
            "counter",
            "Failed VfpPool rewards booking steps (retried on the next tick).",
            g(&self.vfp_claim_failures).to_string(),
        );
        out
    }
}

/// Adds one to a counter.
pub fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}
