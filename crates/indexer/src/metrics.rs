//! Prometheus metrics of the indexer (text exposition format; names per STYLE.md).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and gauges of one indexer, shared with whoever serves `/metrics`.
#[derive(Debug, Default)]
pub struct IndexerMetrics {
    /// Chain head seen by the last poll.
    pub head_block: AtomicU64,
    /// Last indexed block (the cursor).
    pub indexed_block: AtomicU64,
    /// Logs decoded and stored.
    pub events_total: AtomicU64,
    /// Reorgs detected.
    pub reorgs_total: AtomicU64,
    /// Blocks rolled back by reorgs.
    pub rolled_back_blocks_total: AtomicU64,
    /// Failed JSON-RPC calls (each halves the `eth_getLogs` range).
    pub rpc_errors_total: AtomicU64,
    /// Current `eth_getLogs` block range.
    pub range_blocks: AtomicU64,
    /// Block ranges committed.
    pub batches_total: AtomicU64,
    /// Logs of followed contracts the bindings could not decode (kept raw).
    pub unknown_events_total: AtomicU64,
}

impl IndexerMetrics {
    /// Renders the metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, kind, help, v) in [
            (
                "claystack_indexer_head_block",
                "gauge",
                "Chain head block seen by the indexer.",
                g(&self.head_block),
            ),
            (
                "claystack_indexer_indexed_block",
                "gauge",
                "Last block indexed (the cursor).",
                g(&self.indexed_block),
            ),
            (
                "claystack_indexer_events_total",
                "counter",
                "Protocol logs decoded and stored.",
                g(&self.events_total),
            ),
            (
                "claystack_indexer_reorgs_total",
                "counter",
                "Chain reorganisations detected.",
                g(&self.reorgs_total),
            ),
            (
                "claystack_indexer_rolled_back_blocks_total",
                "counter",
                "Blocks rolled back by reorgs.",
                g(&self.rolled_back_blocks_total),
            ),
            (
                "claystack_indexer_rpc_errors_total",
                "counter",
                "Failed JSON-RPC calls.",
                g(&self.rpc_errors_total),
            ),
            (
                "claystack_indexer_range_blocks",
                "gauge",
                "Current eth_getLogs block range.",
                g(&self.range_blocks),
            ),
            (
                "claystack_indexer_batches_total",
                "counter",
                "Block ranges committed.",
                g(&self.batches_total),
            ),
            (
                "claystack_indexer_unknown_events_total",
                "counter",
                "Logs of followed contracts the bindings could not decode (kept raw).",
                g(&self.unknown_events_total),
            ),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_help_and_type() {
        let m = IndexerMetrics::default();
        m.unknown_events_total.store(2, Ordering::Relaxed);
        let text = m.render();
        for name in [
            "claystack_indexer_head_block",
            "claystack_indexer_indexed_block",
            "claystack_indexer_events_total",
            "claystack_indexer_reorgs_total",
            "claystack_indexer_rolled_back_blocks_total",
            "claystack_indexer_rpc_errors_total",
            "claystack_indexer_range_blocks",
            "claystack_indexer_batches_total",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(text.contains("claystack_indexer_unknown_events_total 2\n"), "{text}");
    }
}
