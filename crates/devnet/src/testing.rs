//! Helpers the end-to-end tests share (here so that every crate's devnet tests use one copy):
//! the repository root, free ports, and polling chain state with a timeout that says what did
//! not happen instead of sleeping.

use std::{future::Future, path::PathBuf, time::Duration};

/// The repository root (holds `contracts/` and `node_modules/`).
#[must_use]
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

/// The checkout whose contracts and toolchain a test devnet uses: `CLAYSTACK_HOME` when set
/// (e.g. an export of the last commit's `contracts/`, while the working tree has unfinished
/// contract changes), else [`repo_root`].
#[must_use]
pub fn devnet_home() -> PathBuf {
    std::env::var_os("CLAYSTACK_HOME").map_or_else(repo_root, PathBuf::from)
}

/// A TCP port free at the time of the call (0 when none could be bound).
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(0, |a| a.port())
}

/// Calls `read` every half second until it returns `Some`, and returns that; after `timeout`
/// fails with `what` and the last value `read` saw (the `Err` side), so that a test says what
/// did not happen.
pub async fn poll<T, E: std::fmt::Debug, F, Fut>(
    timeout: Duration,
    what: &str,
    mut read: F,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        match read().await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("{what} did not happen within {timeout:?}; last seen: {last:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn poll_returns_the_value_or_says_what_did_not_happen() {
        let mut n = 0;
        let v = poll(Duration::from_secs(5), "the third call", || {
            n += 1;
            let now = n;
            async move { if now >= 3 { Ok(now) } else { Err(now) } }
        })
        .await
        .unwrap();
        assert_eq!(v, 3);
        let e = poll(Duration::from_millis(600), "never", || async { Err::<(), _>("nope") })
            .await
            .unwrap_err();
        assert!(e.contains("never did not happen") && e.contains("nope"), "{e}");
        assert!(repo_root().join("contracts").exists());
        assert_ne!(free_port(), 0);
    }
}
