//! Prometheus metrics of the DVT daemons (text exposition format 0.0.4 on `GET /metrics`):
//! [`NodeMetrics`] for an operator's node, [`FrontMetrics`] for the cluster's signing front.
//! The `node` label is a share index, so its cardinality is the cluster size.

use claystack_signer::metrics::Histogram;
use std::{
    collections::BTreeMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"));
}

/// Counters of one operator's node.
#[derive(Debug, Default)]
pub struct NodeMetrics {
    signed: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

impl NodeMetrics {
    /// Counts a partial signature released.
    pub fn signed(&self) {
        self.signed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused by slashing protection.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts any other failed request (unknown key, bad body, database, auth).
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        counter(
            &mut out,
            "claystack_dvt_node_partials_signed_total",
            "Partial signatures this node released.",
            self.signed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "claystack_dvt_node_partials_refused_total",
            "Partial signature requests refused by this node's slashing protection.",
            self.refused.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "claystack_dvt_node_requests_failed_total",
            "Partial signature requests that failed otherwise (unknown key, bad request, \
             database, authentication).",
            self.failed.load(Ordering::Relaxed),
        );
        out
    }
}

#[derive(Debug, Default)]
struct FrontInner {
    combined: u64,
    failed: u64,
    partial_failures: BTreeMap<u64, u64>,
    /// Whether each node answered (a partial or a refusal) the last time it was asked.
    up: BTreeMap<u64, bool>,
    duration: Histogram,
}

/// Counters of a cluster's signing front.
#[derive(Debug, Default)]
pub struct FrontMetrics {
    inner: Mutex<FrontInner>,
}

impl FrontMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, FrontInner> {
        // A poisoned lock only means a request panicked mid-update; counters stay usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers the nodes (share indices) of the served clusters, as up until asked.
    pub fn register_nodes(&self, nodes: impl IntoIterator<Item = u64>) {
        let mut inner = self.lock();
        for n in nodes {
            inner.partial_failures.entry(n).or_default();
            inner.up.entry(n).or_insert(true);
        }
    }

    /// A node answered with a partial signature or a reasoned refusal.
    pub fn node_answered(&self, node: u64) {
        self.lock().up.insert(node, true);
    }

    /// A node failed: unreachable, timed out, a bad answer or an invalid partial signature.
    pub fn partial_failed(&self, node: u64, reachable: bool) {
        let mut inner = self.lock();
        let n = inner.partial_failures.entry(node).or_default();
        *n = n.saturating_add(1);
        if !reachable {
            inner.up.insert(node, false);
        }
    }

    /// Records the end of one fan-out: combined into a group signature or not, after `elapsed`.
    pub fn finished(&self, combined: bool, elapsed: Duration) {
        let mut inner = self.lock();
        if combined {
            inner.combined = inner.combined.saturating_add(1);
            inner.duration.observe(elapsed);
        } else {
            inner.failed = inner.failed.saturating_add(1);
        }
    }

    /// Group signatures combined so far.
    #[must_use]
    pub fn combined(&self) -> u64 {
        self.lock().combined
    }

    /// Nodes that answered the last time they were asked.
    #[must_use]
    pub fn nodes_up(&self) -> usize {
        self.lock().up.values().filter(|u| **u).count()
    }

    /// Failures counted for one node.
    #[must_use]
    pub fn partial_failures(&self, node: u64) -> u64 {
        self.lock().partial_failures.get(&node).copied().unwrap_or(0)
    }

    /// The text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        counter(
            &mut out,
            "claystack_dvt_combined_total",
            "Group signatures combined from threshold partials and verified.",
            inner.combined,
        );
        counter(
            &mut out,
            "claystack_dvt_combine_failures_total",
            "Fan-outs that ended without a group signature (refusals, too few valid partials).",
            inner.failed,
        );
        out.push_str(
            "# HELP claystack_dvt_partial_failures_total Partial signature requests a node failed \
             (unreachable, timed out, bad answer, invalid partial).\n\
             # TYPE claystack_dvt_partial_failures_total counter\n",
        );
        for (node, n) in &inner.partial_failures {
            out.push_str(&format!("claystack_dvt_partial_failures_total{{node=\"{node}\"}} {n}\n"));
        }
        out.push_str(
            "# HELP claystack_dvt_combine_duration_seconds Time from fan-out to a verified group \
             signature.\n# TYPE claystack_dvt_combine_duration_seconds histogram\n",
        );
        inner.duration.render(&mut out, "claystack_dvt_combine_duration_seconds", "");
        let up = inner.up.values().filter(|u| **u).count();
        out.push_str(&format!(
            "# HELP claystack_dvt_nodes_up Nodes that answered the last time they were asked.\n\
             # TYPE claystack_dvt_nodes_up gauge\nclaystack_dvt_nodes_up {up}\n"
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_tracks_failures_per_node_and_nodes_up() {
        let m = FrontMetrics::default();
        m.register_nodes([1, 2, 3, 4]);
        assert_eq!(m.nodes_up(), 4);
        m.partial_failed(2, false);
        m.partial_failed(3, true);
        m.finished(true, Duration::from_millis(3));
        assert_eq!(m.nodes_up(), 3);
        m.node_answered(2);
        assert_eq!(m.nodes_up(), 4);
        let text = m.render();
        assert!(text.contains("claystack_dvt_partial_failures_total{node=\"1\"} 0\n"), "{text}");
        assert!(text.contains("claystack_dvt_partial_failures_total{node=\"2\"} 1\n"), "{text}");
        assert!(text.contains("claystack_dvt_combined_total 1\n"), "{text}");
        assert!(text.contains("claystack_dvt_combine_duration_seconds_count 1\n"), "{text}");
        assert!(text.contains("claystack_dvt_nodes_up 4\n"), "{text}");
    }

    #[test]
    fn node_counts_signed_and_refused() {
        let m = NodeMetrics::default();
        m.signed();
        m.refused();
        m.refused();
        let text = m.render();
        assert!(text.contains("claystack_dvt_node_partials_signed_total 1\n"));
        assert!(text.contains("claystack_dvt_node_partials_refused_total 2\n"));
    }
}
