//! A tiny Prometheus text exporter: counters and gauges in atomics, rendered on `GET /metrics`.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{Router, http::header, response::IntoResponse, routing::get};

/// The keeper's metrics (names per STYLE.md: `claystack_<what>_<unit|total>`).
#[derive(Debug, Default)]
pub struct KeeperMetrics {
    /// `depositBuffered` transactions mined.
    pub deposits_total: AtomicU64,
    /// EIP-7002 exits triggered.
    pub exits_triggered_total: AtomicU64,
    /// Failed observations, estimates or transactions.
    pub errors_total: AtomicU64,
    /// Unix time of the last completed run.
    pub last_run_timestamp_seconds: AtomicU64,
}

impl KeeperMetrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (version 0.0.4).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, v: &AtomicU64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        };
        metric(
            "claystack_keeper_deposits_total",
            "counter",
            "depositBuffered transactions mined by this keeper.",
            &self.deposits_total,
        );
        metric(
            "claystack_keeper_exits_triggered_total",
            "counter",
            "Overdue exits triggered through EIP-7002 by this keeper.",
            &self.exits_triggered_total,
        );
        metric(
            "claystack_keeper_errors_total",
            "counter",
            "Failed reads, gas estimates or transactions.",
            &self.errors_total,
        );
        metric(
            "claystack_keeper_last_run_timestamp_seconds",
            "gauge",
            "Unix time of the last completed keeper run.",
            &self.last_run_timestamp_seconds,
        );
        out
    }
}

/// Serves `GET /metrics` on `addr` until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<KeeperMetrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, metrics, shutdown).await
}

/// Serves `GET /metrics` on a bound listener until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    metrics: Arc<KeeperMetrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let m = Arc::clone(&metrics);
            async move {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], m.render())
                    .into_response()
            }
        }),
    );
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_type_and_value() {
        let m = KeeperMetrics::default();
        KeeperMetrics::inc(&m.deposits_total);
        KeeperMetrics::inc(&m.deposits_total);
        KeeperMetrics::inc(&m.errors_total);
        m.last_run_timestamp_seconds.store(1_700_000_000, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("# TYPE claystack_keeper_deposits_total counter\n"));
        assert!(text.contains("\nclaystack_keeper_deposits_total 2\n"));
        assert!(text.contains("\nclaystack_keeper_exits_triggered_total 0\n"));
        assert!(text.contains("\nclaystack_keeper_errors_total 1\n"));
        assert!(text.contains("# TYPE claystack_keeper_last_run_timestamp_seconds gauge\n"));
        assert!(text.contains("\nclaystack_keeper_last_run_timestamp_seconds 1700000000\n"));
    }

    #[tokio::test]
    async fn serves_over_http_and_shuts_down() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let m = Arc::new(KeeperMetrics::default());
        KeeperMetrics::inc(&m.exits_triggered_total);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_on(listener, Arc::clone(&m), async move {
            rx.await.ok();
        }));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut body = String::new();
        stream.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.contains("claystack_keeper_exits_triggered_total 1"), "{body}");
        tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
