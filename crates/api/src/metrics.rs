//! Prometheus metrics of the API: request counts by route and status, latency histograms.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

fn line(out: &mut String, s: &str) {
    out.push_str(s);
    out.push('\n');
}

/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters of one API server.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    /// Webhook deliveries by outcome.
    webhooks: Mutex<BTreeMap<&'static str, u64>>,
}

impl ApiMetrics {
    /// Records one request.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut d) = self.durations.lock() {
            let h = d.entry(route.to_owned()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// Records one webhook delivery attempt (`delivered` or `failed`).
    pub fn webhook(&self, outcome: &'static str) {
        if let Ok(mut w) = self.webhooks.lock() {
            *w.entry(outcome).or_default() += 1;
        }
    }

    /// Renders the metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP claystack_api_requests_total API requests by route and status.\n# TYPE claystack_api_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                line(
                    &mut out,
                    &format!(
                        "claystack_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    ),
                );
            }
        }
        out.push_str("# HELP claystack_api_request_duration_seconds API request latency.\n# TYPE claystack_api_request_duration_seconds histogram\n");
        if let Ok(d) = self.durations.lock() {
            for (route, h) in d.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    line(
                        &mut out,
                        &format!(
                            "claystack_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                            h.counts[i]
                        ),
                    );
                }
                line(
                    &mut out,
                    &format!(
                        "claystack_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nclaystack_api_request_duration_seconds_sum{{route=\"{route}\"}} {}\nclaystack_api_request_duration_seconds_count{{route=\"{route}\"}} {}",
                        h.count, h.sum, h.count
                    ),
                );
            }
        }
        out.push_str("# HELP claystack_api_webhook_deliveries_total Webhook delivery attempts by outcome.\n# TYPE claystack_api_webhook_deliveries_total counter\n");
        if let Ok(w) = self.webhooks.lock() {
            for (outcome, n) in w.iter() {
                line(
                    &mut out,
                    &format!("claystack_api_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"),
                );
            }
        }
        out
    }
}
