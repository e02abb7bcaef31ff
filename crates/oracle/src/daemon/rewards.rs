//! The operator-rewards trees of a member: every tree it computed is written to the state dir
//! (`rewards/tree-<root>.json`, atomically, before the report that commits it is signed), so that
//! the next report can extend the on-chain root's leaves. A member that lacks the on-chain root's
//! tree (new member, lost disk) fetches it from its peers and uses it only after rebuilding it and
//! checking the root and the cumulative total against the chain. The member's HTTP endpoint
//! serves the trees it holds: `GET /rewards/tree/{root}` and `GET /rewards/proof/{root}/{account}`
//! (public data, no authentication; bounded responses).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use claystack_bindings::operator_rewards::OperatorRewards;

use super::DaemonError;
use super::store::{StoreError, read_capped, write_atomic};
use crate::rewards::{MAX_TREE_LEAVES, ProofDocument, TreeDocument};
use crate::types::RewardsState;

/// Largest tree document read or downloaded (100,000 leaves of ~110 bytes fit).
pub const MAX_TREE_BYTES: u64 = 16 * 1024 * 1024;
/// Trees kept besides the on-chain root's.
const KEEP_TREES: usize = 16;

/// The `rewards/` directory of the state dir.
#[derive(Debug, Clone)]
pub struct TreeStore {
    dir: PathBuf,
}

impl TreeStore {
    /// Opens (creates) `state_dir/rewards`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let dir = state_dir.join("rewards");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError {
            action: "create rewards dir",
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    fn path(&self, root: B256) -> PathBuf {
        self.dir.join(format!("tree-{root:x}.json"))
    }

    /// The stored tree of `root`. The file is checked against its own root and total (a damaged
    /// file is an error).
    pub fn load(&self, root: B256) -> Result<Option<TreeDocument>, StoreError> {
        let path = self.path(root);
        let Some(body) = read_capped(&path, MAX_TREE_BYTES)? else { return Ok(None) };
        let bad = |e: String| StoreError {
            action: "parse rewards tree",
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        };
        let doc: TreeDocument = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        doc.verify(root, doc.cumulative_shares).map_err(|e| bad(e.to_string()))?;
        Ok(Some(doc))
    }

    /// Writes `doc` atomically.
    pub fn save(&self, doc: &TreeDocument) -> Result<(), StoreError> {
        let path = self.path(doc.root);
        let body = serde_json::to_vec(doc).map_err(|e| StoreError {
            action: "encode rewards tree",
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.dir, &path, &body)
    }

    /// Deletes all but the `KEEP_TREES` newest trees (by file time) and `keep`.
    pub fn prune(&self, keep: B256) -> Result<(), StoreError> {
        self.prune_keeping(&[keep]).map(|_| ())
    }

    /// Deletes all but the `KEEP_TREES` newest trees (by file time) and those of `keep`; returns
    /// how many files were deleted.
    pub fn prune_keeping(&self, keep: &[B256]) -> Result<usize, StoreError> {
        let list =
            |source| StoreError { action: "list rewards trees", path: self.dir.clone(), source };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)
            .map_err(list)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("tree-"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort_unstable_by_key(|f| std::cmp::Reverse(f.0));
        let keep_paths: Vec<PathBuf> = keep.iter().map(|r| self.path(*r)).collect();
        let mut deleted = 0usize;
        for (_, path) in files.into_iter().skip(KEEP_TREES).filter(|(_, p)| !keep_paths.contains(p))
        {
            std::fs::remove_file(&path).map_err(|source| StoreError {
                action: "delete rewards tree",
                path,
                source,
            })?;
            deleted = deleted.saturating_add(1);
        }
        Ok(deleted)
    }

    /// The tree files held (for tests and logs).
    pub fn count(&self) -> Result<usize, StoreError> {
        let list =
            |source| StoreError { action: "list rewards trees", path: self.dir.clone(), source };
        Ok(std::fs::read_dir(&self.dir)
            .map_err(list)?
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("tree-") && name.ends_with(".json")
            })
            .count())
    }
}

/// `OperatorRewards.rewardsRoot()` at the latest block, through `OracleReport.operatorsModule()`
/// → `operatorRewards()`; `None` without either or before the first root.
pub async fn on_chain_root(
    provider: &DynProvider,
    oracle: Address,
) -> Result<Option<B256>, DaemonError> {
    let rpc = |action: &'static str| {
        move |e: alloy::contract::Error| DaemonError::Rpc { action, source: Box::new(e) }
    };
    let module = claystack_bindings::oracle_report::OracleReport::new(oracle, provider.clone())
        .operatorsModule()
        .call()
        .await
        .map_err(rpc("read the operators module"))?;
    if module.is_zero() {
        return Ok(None);
    }
    let rewards =
        claystack_bindings::operators_module::OperatorsModule::new(module, provider.clone())
            .operatorRewards()
            .call()
            .await
            .map_err(rpc("read the operators module's OperatorRewards"))?;
    if rewards.is_zero() {
        return Ok(None);
    }
    let root = OperatorRewards::new(rewards, provider.clone())
        .rewardsRoot()
        .call()
        .await
        .map_err(rpc("read the rewards root"))?;
    Ok((!root.is_zero()).then_some(root))
}

/// `OperatorRewards` at the reference block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainRewards {
    /// `rewardsRoot()` (zero: no root yet).
    pub root: B256,
    /// `rewardsCumulativeShares()`.
    pub cumulative_shares: U256,
    /// `totalReceived()`.
    pub total_received: U256,
}

/// Reads `OperatorRewards` at `block`.
pub async fn read_chain(
    provider: &DynProvider,
    rewards: Address,
    block: u64,
) -> Result<ChainRewards, DaemonError> {
    let at = BlockId::number(block);
    let c = OperatorRewards::new(rewards, provider.clone());
    let rpc = |action: &'static str| {
        move |e: alloy::contract::Error| DaemonError::Rpc { action, source: Box::new(e) }
    };
    Ok(ChainRewards {
        root: c.rewardsRoot().block(at).call().await.map_err(rpc("read the rewards root"))?,
        cumulative_shares: c
            .rewardsCumulativeShares()
            .block(at)
            .call()
            .await
            .map_err(rpc("read the rewards cumulative shares"))?,
        total_received: c
            .totalReceived()
            .block(at)
            .call()
            .await
            .map_err(rpc("read the shares OperatorRewards received"))?,
    })
}

/// Why the previous tree could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TreeFetchError {
    /// No peer served a tree that checks out; each peer's failure.
    #[error(
        "no tree for the on-chain rewards root {root}: not in the state dir and no peer served a \
         valid one ({})",
        .failures.join("; ")
    )]
    Unavailable {
        /// The root.
        root: B256,
        /// One line per peer.
        failures: Vec<String>,
    },
}

/// The rewards state `compute` needs: the on-chain root's leaves, from the store or else from a
/// peer (checked against the chain, then stored).
pub async fn rewards_state(
    store: &TreeStore,
    http: &reqwest::Client,
    peers: &[String],
    chain: ChainRewards,
    metrics: &super::metrics::Metrics,
) -> Result<RewardsState, DaemonError> {
    if chain.root.is_zero() {
        return Ok(RewardsState {
            shares_received_total: chain.total_received,
            cumulative_shares: chain.cumulative_shares,
            accounts: Vec::new(),
        });
    }
    let doc = match store.load(chain.root)? {
        Some(doc) => {
            doc.verify(chain.root, chain.cumulative_shares).map_err(DaemonError::Tree)?;
            doc
        }
        None => {
            let doc = fetch_from_peers(http, peers, chain.root, chain.cumulative_shares).await?;
            store.save(&doc)?;
            super::metrics::inc(&metrics.rewards_trees_fetched);
            tracing::info!(target: "oracle::rewards", root = %chain.root, leaves = doc.leaves.len(), "rewards tree fetched from a peer and checked against the chain");
            doc
        }
    };
    Ok(RewardsState {
        shares_received_total: chain.total_received,
        cumulative_shares: chain.cumulative_shares,
        accounts: doc.pairs(),
    })
}

async fn fetch_from_peers(
    http: &reqwest::Client,
    peers: &[String],
    root: B256,
    cumulative: U256,
) -> Result<TreeDocument, TreeFetchError> {
    let mut failures = Vec::new();
    for peer in peers {
        let url = format!("{}/rewards/tree/{root}", peer.trim_end_matches('/'));
        match fetch_tree(http, &url).await {
            Ok(doc) => match doc.verify(root, cumulative) {
                Ok(_) => return Ok(doc),
                Err(e) => {
                    tracing::warn!(target: "oracle::rewards", %url, error = %e, "a peer served a tree that does not match the chain");
                    failures.push(format!("{peer}: {e}"));
                }
            },
            Err(e) => failures.push(format!("{peer}: {e}")),
        }
    }
    Err(TreeFetchError::Unavailable { root, failures })
}

/// Downloads a tree document from `url`, at most [`MAX_TREE_BYTES`].
pub async fn fetch_tree(http: &reqwest::Client, url: &str) -> Result<TreeDocument, String> {
    let mut resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    if resp.content_length().is_some_and(|n| n > MAX_TREE_BYTES) {
        return Err(format!("response larger than {MAX_TREE_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > MAX_TREE_BYTES {
            return Err(format!("response larger than {MAX_TREE_BYTES} bytes"));
        }
    }
    let doc: TreeDocument = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    if doc.leaves.len() > MAX_TREE_LEAVES {
        return Err(format!("{} leaves", doc.leaves.len()));
    }
    Ok(doc)
}

/// Routes serving the stored trees.
pub fn router(store: Arc<TreeStore>) -> Router {
    Router::new()
        .route("/rewards/tree/{root}", get(get_tree))
        .route("/rewards/proof/{root}/{account}", get(get_proof))
        .with_state(store)
}

/// A refusal of the tree endpoints, as a Beacon-API-style JSON error.
#[derive(Debug)]
enum ServeError {
    BadRequest(String),
    NotFound(String),
    Internal,
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "tree unreadable".to_owned()),
        };
        (code, Json(serde_json::json!({ "code": code.as_u16(), "message": message })))
            .into_response()
    }
}

fn load_tree(store: &TreeStore, root: &str) -> Result<TreeDocument, ServeError> {
    let root: B256 =
        root.parse().map_err(|_| ServeError::BadRequest(format!("invalid root {root:?}")))?;
    match store.load(root) {
        Ok(Some(doc)) => Ok(doc),
        Ok(None) => Err(ServeError::NotFound(format!("no rewards tree with root {root}"))),
        Err(e) => {
            tracing::warn!(target: "oracle::rewards", error = %e, "serve a rewards tree");
            Err(ServeError::Internal)
        }
    }
}

async fn get_tree(
    State(store): State<Arc<TreeStore>>,
    UrlPath(root): UrlPath<String>,
) -> Result<Json<TreeDocument>, ServeError> {
    tokio::task::spawn_blocking(move || load_tree(&store, &root))
        .await
        .map_err(|_| ServeError::Internal)?
        .map(Json)
}

async fn get_proof(
    State(store): State<Arc<TreeStore>>,
    UrlPath((root, account)): UrlPath<(String, String)>,
) -> Result<Json<ProofDocument>, ServeError> {
    let account: Address = account
        .parse()
        .map_err(|_| ServeError::BadRequest(format!("invalid account {account:?}")))?;
    let work = move || {
        let doc = load_tree(&store, &root)?;
        let tree = doc.verify(doc.root, doc.cumulative_shares).map_err(|e| {
            tracing::warn!(target: "oracle::rewards", error = %e, "stored tree does not verify");
            ServeError::Internal
        })?;
        doc.proof(&tree, account).ok_or_else(|| {
            ServeError::NotFound(format!("account {account} has no leaf in {}", doc.root))
        })
    };
    tokio::task::spawn_blocking(work).await.map_err(|_| ServeError::Internal)?.map(Json)
}

/// Converts a tree error (used by the daemon's error type).
impl From<TreeFetchError> for DaemonError {
    fn from(e: TreeFetchError) -> Self {
        Self::TreeUnavailable(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(amounts: &[u64]) -> TreeDocument {
        let leaves: Vec<(Address, U256)> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| (Address::with_last_byte(u8::try_from(i + 1).unwrap()), U256::from(*a)))
            .collect();
        TreeDocument::new(32, &leaves).unwrap()
    }

    #[test]
    fn trees_round_trip_and_a_damaged_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = TreeStore::open(dir.path()).unwrap();
        let d = doc(&[3, 4, 5]);
        assert_eq!(store.load(d.root).unwrap(), None);
        store.save(&d).unwrap();
        assert_eq!(store.load(d.root).unwrap(), Some(d.clone()));
        // the same leaves stored under another root's name do not pass
        let other = doc(&[3, 4, 6]);
        std::fs::copy(store.path(d.root), store.path(other.root)).unwrap();
        assert!(store.load(other.root).is_err());
        std::fs::write(store.path(other.root), b"{}").unwrap();
        assert!(store.load(other.root).is_err());
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_on_chain_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = TreeStore::open(dir.path()).unwrap();
        let first = doc(&[1]);
        store.save(&first).unwrap();
        let mut roots = Vec::new();
        for i in 0..(KEEP_TREES as u64 + 3) {
            std::thread::sleep(std::time::Duration::from_millis(5));
            let d = doc(&[i + 2, 1]);
            store.save(&d).unwrap();
            roots.push(d.root);
        }
        store.prune(first.root).unwrap();
        assert!(store.load(first.root).unwrap().is_some(), "the on-chain root's tree was deleted");
        assert!(store.load(roots[0]).unwrap().is_none());
        assert!(store.load(*roots.last().unwrap()).unwrap().is_some());
    }
}
