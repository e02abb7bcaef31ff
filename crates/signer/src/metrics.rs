//! Prometheus metrics of the remote signer, rendered in the text exposition format (0.0.4) on
//! `GET /metrics`. Names follow STYLE.md (`claystack_signer_<what>_<unit|total>`); label values
//! come from closed sets (message types, outcomes), so cardinality is bounded.

use crate::request::MessageType;
use std::{collections::BTreeMap, sync::Mutex, time::Duration};

/// Upper bounds (seconds) of the signing-latency histogram buckets: 0.5 ms … 5 s.
pub const DURATION_BUCKETS: [f64; 13] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// How a sign request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// A signature was returned.
    Signed,
    /// Slashing protection refused (HTTP 412).
    RefusedSlashing,
    /// Malformed or inconsistent request (HTTP 400).
    BadRequest,
    /// No key for the public key (HTTP 404).
    UnknownKey,
    /// The database or backend failed (HTTP 5xx).
    Error,
}

impl Outcome {
    /// The `outcome` label value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::RefusedSlashing => "refused_slashing",
            Self::BadRequest => "bad_request",
            Self::UnknownKey => "unknown_key",
            Self::Error => "error",
        }
    }
}

/// The `type` label value of a message type: its Web3Signer wire name (`BLOCK_V2`, …).
#[must_use]
pub fn type_label(kind: Option<MessageType>) -> String {
    kind.and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from("unknown"))
}

/// A cumulative histogram over [`DURATION_BUCKETS`].
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Observations at or below each bucket's bound.
    buckets: [u64; 13],
    /// Observations in all.
    count: u64,
    /// Sum of observations, seconds.
    sum: f64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, n) in DURATION_BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if secs <= *bound {
                *n = n.saturating_add(1);
            }
        }
        self.count = self.count.saturating_add(1);
        self.sum += secs;
    }

    /// Observations in all.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Appends the `_bucket`, `_sum` and `_count` series of `name` (with `labels`, written as
    /// `k="v",` pairs or empty) to `out`.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, n) in DURATION_BUCKETS.iter().zip(self.buckets.iter()) {
            out.push_str(&format!("{name}_bucket{{{labels}le=\"{bound}\"}} {n}\n"));
        }
        out.push_str(&format!("{name}_bucket{{{labels}le=\"+Inf\"}} {}\n", self.count));
        let plain = labels.trim_end_matches(',');
        let braces = if plain.is_empty() { String::new() } else { format!("{{{plain}}}") };
        out.push_str(&format!("{name}_sum{braces} {}\n", self.sum));
        out.push_str(&format!("{name}_count{braces} {}\n", self.count));
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, Outcome), u64>,
    duration: Histogram,
}

/// The signer's counters, shared by every request.
#[derive(Debug, Default)]
pub struct SignerMetrics {
    inner: Mutex<Inner>,
}

impl SignerMetrics {
    /// Records one sign request of `kind` (unknown when the body did not parse) that ended with
    /// `outcome` after `elapsed`.
    pub fn record(&self, kind: Option<MessageType>, outcome: Outcome, elapsed: Duration) {
        // A poisoned lock only means another request panicked mid-update; counters stay usable.
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = inner.requests.entry((type_label(kind), outcome)).or_default();
        *n = n.saturating_add(1);
        inner.duration.observe(elapsed);
    }

    /// Requests counted with this type label and outcome.
    #[must_use]
    pub fn requests(&self, type_label: &str, outcome: Outcome) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.requests.get(&(type_label.to_owned(), outcome)).copied().unwrap_or(0)
    }

    /// The text exposition, with `keys_loaded` as the keys gauge.
    #[must_use]
    pub fn render(&self, keys_loaded: usize) -> String {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str(
            "# HELP claystack_signer_requests_total Sign requests by message type and outcome.\n\
             # TYPE claystack_signer_requests_total counter\n",
        );
        for ((kind, outcome), n) in &inner.requests {
            out.push_str(&format!(
                "claystack_signer_requests_total{{type=\"{kind}\",outcome=\"{}\"}} {n}\n",
                outcome.as_str()
            ));
        }
        out.push_str(
            "# HELP claystack_signer_sign_duration_seconds Time to answer a sign request \
             (parse, slashing check, signature).\n\
             # TYPE claystack_signer_sign_duration_seconds histogram\n",
        );
        inner.duration.render(&mut out, "claystack_signer_sign_duration_seconds", "");
        out.push_str(&format!(
            "# HELP claystack_signer_keys_loaded Validator keys this signer signs for.\n\
             # TYPE claystack_signer_keys_loaded gauge\n\
             claystack_signer_keys_loaded {keys_loaded}\n"
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_type_and_outcome_and_fills_buckets() {
        let m = SignerMetrics::default();
        m.record(Some(MessageType::BlockV2), Outcome::Signed, Duration::from_millis(2));
        m.record(Some(MessageType::BlockV2), Outcome::Signed, Duration::from_millis(20));
        m.record(None, Outcome::BadRequest, Duration::from_micros(100));
        assert_eq!(m.requests("BLOCK_V2", Outcome::Signed), 2);
        assert_eq!(m.requests("unknown", Outcome::BadRequest), 1);
        assert_eq!(m.requests("BLOCK_V2", Outcome::RefusedSlashing), 0);
        let text = m.render(3);
        assert!(
            text.contains(
                "claystack_signer_requests_total{type=\"BLOCK_V2\",outcome=\"signed\"} 2\n"
            )
        );
        assert!(text.contains("claystack_signer_sign_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("claystack_signer_sign_duration_seconds_bucket{le=\"0.0025\"} 2\n"));
        assert!(text.contains("claystack_signer_sign_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("claystack_signer_sign_duration_seconds_count 3\n"));
        assert!(text.contains("claystack_signer_keys_loaded 3\n"));
    }
}
