//! Helpers the end-to-end tests share (here so that every crate's devnet tests use one copy):
//! the repository root, free ports, and polling chain state with a timeout that says what did
//! not happen instead of sleeping.

use std::{future::Future, path::PathBuf, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use claystack_beacon::{BeaconClient, StateId, ValidatorData, ValidatorId, ValidatorStatus};

use crate::{Devnet, setup, status::FrameStatus};

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

/// The `E` events of `address` from block `from` on, decoded (undecodable logs are skipped).
pub async fn events<E: SolEvent>(
    provider: &DynProvider,
    address: Address,
    from: u64,
) -> Result<Vec<E>, String> {
    let filter = Filter::new().address(address).event_signature(E::SIGNATURE_HASH).from_block(from);
    let logs = provider.get_logs(&filter).await.map_err(|e| format!("read logs: {e}"))?;
    Ok(logs.iter().filter_map(|l| l.log_decode::<E>().ok()).map(|l| l.inner.data).collect())
}

/// [`events`] with the block number of each (logs without one are skipped), oldest first.
pub async fn events_with_blocks<E: SolEvent>(
    provider: &DynProvider,
    address: Address,
    from: u64,
) -> Result<Vec<(u64, E)>, String> {
    let filter = Filter::new().address(address).event_signature(E::SIGNATURE_HASH).from_block(from);
    let logs = provider.get_logs(&filter).await.map_err(|e| format!("read logs: {e}"))?;
    Ok(logs
        .iter()
        .filter_map(|l| Some((l.block_number?, l.log_decode::<E>().ok()?.inner.data)))
        .collect())
}

impl Devnet {
    /// Polls a pool's status (`kyc`: the KYC pool's) until `done` holds; the error says `what`
    /// did not happen and the last status.
    pub async fn wait_status(
        &self,
        kyc: bool,
        timeout: Duration,
        what: &str,
        done: impl Fn(&FrameStatus) -> bool,
    ) -> Result<FrameStatus, String> {
        poll(timeout, what, || async {
            let s = self.status(kyc).await.map_err(|e| e.to_string())?;
            if done(&s) { Ok(s) } else { Err(format!("{s:?}")) }
        })
        .await
    }
}

/// Polls the beacon node until the validator `pubkey` exists with a status `ok` accepts.
pub async fn wait_validator(
    beacon: &BeaconClient,
    pubkey: [u8; 48],
    timeout: Duration,
    what: &str,
    ok: impl Fn(ValidatorStatus) -> bool,
) -> Result<ValidatorData, String> {
    poll(timeout, what, || async {
        let v = beacon
            .validator(StateId::Head, ValidatorId::Pubkey(pubkey))
            .await
            .map_err(|e| e.to_string())?;
        if ok(v.data.status) { Ok(v.data) } else { Err(v.data.status.as_str().to_owned()) }
    })
    .await
}

/// The registry id of the sample operator `label` (its manager's last registration).
pub async fn operator_id(
    provider: &DynProvider,
    registry: Address,
    label: &str,
) -> Result<U256, String> {
    let ops = claystack_client::operator::Operators::new(provider.clone(), registry, registry);
    let ids = ops.operators_of(setup::account(label).address()).await.map_err(|e| e.to_string())?;
    ids.last().copied().ok_or_else(|| format!("{label} is not registered in {registry}"))
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
