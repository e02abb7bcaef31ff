//! The operator-rewards trees of a member: every tree it computed is written to the state dir
//! (`rewards/tree-<root>.json`, atomically, before the report that commits it is signed), so that
//! the next report can extend the on-chain root's leaves. A member that lacks the on-chain root's
//! tree (new member, lost disk) fetches it from its peers and uses it only after rebuilding it and
//! checking the root and the cumulative total against the chain. The member's HTTP endpoint
//! serves the trees it holds: `GET /rewards/tree/{root}` and `GET /rewards/proof/{root}/{account}`
//! (public data, no authentication; bounded responses). A tree is read and rebuilt once and then
//! served from a bounded in-memory cache ([`CACHED_TREES`] roots); at most [`MAX_TREE_LOADS`]
//! loads run at once, further requests for uncached trees get 503, so unauthenticated requests
//! cannot make the member rebuild trees in a loop.

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

/// Verified trees kept in memory for the HTTP endpoints (each up to 100,000 leaves: the
/// document, the rebuilt tree and its JSON, about 30 MB at most).
pub const CACHED_TREES: usize = 4;
/// Tree requests served at once that may read and rebuild a tree (the rest get 503 at once):
/// the endpoints are public, and a rebuild is CPU work.
pub const MAX_TREE_LOADS: usize = 2;

/// A stored tree, read, checked and rebuilt once, served from memory afterwards.
#[derive(Debug)]
struct ServedTree {
    doc: TreeDocument,
    tree: crate::merkle::RewardsTree,
    json: axum::body::Bytes,
}

/// The state of the tree endpoints: the store, a bounded cache of verified trees by root (trees
/// are content-addressed, so a cached one never goes stale), and a limit on concurrent loads.
#[derive(Debug)]
pub struct TreeServer {
    store: Arc<TreeStore>,
    cache: std::sync::Mutex<std::collections::VecDeque<(B256, Arc<ServedTree>)>>,
    loads: Arc<tokio::sync::Semaphore>,
    loaded: std::sync::atomic::AtomicU64,
}

impl TreeServer {
    /// Serves the trees of `store`.
    #[must_use]
    pub fn new(store: Arc<TreeStore>) -> Self {
        Self {
            store,
            cache: std::sync::Mutex::new(std::collections::VecDeque::new()),
            loads: Arc::new(tokio::sync::Semaphore::new(MAX_TREE_LOADS)),
            loaded: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many times a tree was read from disk and rebuilt (each root once while it stays in
    /// the cache).
    #[must_use]
    pub fn loads(&self) -> u64 {
        self.loaded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Holds every load permit (tests: a server whose loads are all busy).
    pub async fn occupy(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let n = u32::try_from(MAX_TREE_LOADS).ok()?;
        Arc::clone(&self.loads).acquire_many_owned(n).await.ok()
    }

    fn cached(&self, root: B256) -> Option<Arc<ServedTree>> {
        let mut cache = self.cache.lock().ok()?;
        let at = cache.iter().position(|(r, _)| *r == root)?;
        let hit = cache.remove(at)?;
        let tree = Arc::clone(&hit.1);
        cache.push_front(hit);
        Some(tree)
    }

    fn remember(&self, root: B256, tree: &Arc<ServedTree>) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|(r, _)| *r != root);
            cache.push_front((root, Arc::clone(tree)));
            cache.truncate(CACHED_TREES);
        }
    }

    /// The tree of `root`: from the cache, else read and rebuilt once (under a load permit; none
    /// free: busy).
    async fn tree(self: &Arc<Self>, root: &str) -> Result<Arc<ServedTree>, ServeError> {
        let root: B256 =
            root.parse().map_err(|_| ServeError::BadRequest(format!("invalid root {root:?}")))?;
        if let Some(t) = self.cached(root) {
            return Ok(t);
        }
        let permit = Arc::clone(&self.loads).try_acquire_owned().map_err(|_| ServeError::Busy)?;
        let me = Arc::clone(self);
        let served = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // another request may have loaded it meanwhile
            if let Some(t) = me.cached(root) {
                return Ok(t);
            }
            let doc = match me.store.load(root) {
                Ok(Some(doc)) => doc,
                Ok(None) => {
                    return Err(ServeError::NotFound(format!("no rewards tree with root {root}")));
                }
                Err(e) => {
                    tracing::warn!(target: "oracle::rewards", error = %e, "serve a rewards tree");
                    return Err(ServeError::Internal);
                }
            };
            let tree = doc.verify(doc.root, doc.cumulative_shares).map_err(|e| {
                tracing::warn!(target: "oracle::rewards", error = %e, "stored tree does not verify");
                ServeError::Internal
            })?;
            let json = serde_json::to_vec(&doc).map_err(|_| ServeError::Internal)?;
            me.loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let served = Arc::new(ServedTree { doc, tree, json: json.into() });
            me.remember(root, &served);
            Ok(served)
        })
        .await
        .map_err(|_| ServeError::Internal)??;
        Ok(served)
    }
}

/// Routes serving the stored trees (a [`TreeServer`] over `store`).
pub fn router(store: Arc<TreeStore>) -> Router {
    router_with(Arc::new(TreeServer::new(store)))
}

/// Routes serving the trees of `server`.
pub fn router_with(server: Arc<TreeServer>) -> Router {
    Router::new()
        .route("/rewards/tree/{root}", get(get_tree))
        .route("/rewards/proof/{root}/{account}", get(get_proof))
        .with_state(server)
}

/// A refusal of the tree endpoints, as a Beacon-API-style JSON error.
#[derive(Debug)]
enum ServeError {
    BadRequest(String),
    NotFound(String),
    Busy,
    Internal,
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::Busy => {
                (StatusCode::SERVICE_UNAVAILABLE, "busy loading trees; retry later".to_owned())
            }
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "tree unreadable".to_owned()),
        };
        (code, Json(serde_json::json!({ "code": code.as_u16(), "message": message })))
            .into_response()
    }
}

async fn get_tree(
    State(server): State<Arc<TreeServer>>,
    UrlPath(root): UrlPath<String>,
) -> Result<Response, ServeError> {
    let served = server.tree(&root).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], served.json.clone())
        .into_response())
}

async fn get_proof(
    State(server): State<Arc<TreeServer>>,
    UrlPath((root, account)): UrlPath<(String, String)>,
) -> Result<Json<ProofDocument>, ServeError> {
    let account: Address = account
        .parse()
        .map_err(|_| ServeError::BadRequest(format!("invalid account {account:?}")))?;
    let served = server.tree(&root).await?;
    served.doc.proof(&served.tree, account).map(Json).ok_or_else(|| {
        ServeError::NotFound(format!("account {account} has no leaf in {}", served.doc.root))
    })
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

    async fn serve(server: Arc<TreeServer>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = router_with(server);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// A tree is read and rebuilt once, then served from memory: the tree and proof endpoints
    /// answer many requests with one load (before: a 16 MiB read and a rebuild per request, two
    /// for a proof), and still answer after the file is gone.
    #[tokio::test]
    async fn trees_are_loaded_once_and_served_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(TreeStore::open(dir.path()).unwrap());
        let d = doc(&[3, 4, 5]);
        store.save(&d).unwrap();
        let server = Arc::new(TreeServer::new(Arc::clone(&store)));
        let url = serve(Arc::clone(&server)).await;
        let http = reqwest::Client::new();
        let account = Address::with_last_byte(2);
        for _ in 0..5 {
            let tree: TreeDocument = http
                .get(format!("{url}/rewards/tree/{}", d.root))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(tree, d);
            let proof: ProofDocument = http
                .get(format!("{url}/rewards/proof/{}/{account}", d.root))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(proof.cumulative_shares, U256::from(4));
        }
        assert_eq!(server.loads(), 1);
        std::fs::remove_file(store.path(d.root)).unwrap();
        let r = http.get(format!("{url}/rewards/tree/{}", d.root)).send().await.unwrap();
        assert_eq!(r.status(), 200, "served from memory");
        assert_eq!(server.loads(), 1);
        // an unknown root is a 404, an account without a leaf too
        let other = doc(&[9]);
        let r = http.get(format!("{url}/rewards/tree/{}", other.root)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let nobody = Address::repeat_byte(0xEE);
        let r = http.get(format!("{url}/rewards/proof/{}/{nobody}", d.root)).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }

    /// The cache is bounded (least recently used out), and loads are limited: with every load
    /// permit taken an uncached tree is refused with 503 at once, a cached one is still served.
    #[tokio::test]
    async fn the_cache_is_bounded_and_loads_are_limited() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(TreeStore::open(dir.path()).unwrap());
        let docs: Vec<TreeDocument> = (0..CACHED_TREES as u64 + 2).map(|i| doc(&[i + 1])).collect();
        for d in &docs {
            store.save(d).unwrap();
        }
        let server = Arc::new(TreeServer::new(Arc::clone(&store)));
        let url = serve(Arc::clone(&server)).await;
        let http = reqwest::Client::new();
        let get = |root: B256| http.get(format!("{url}/rewards/tree/{root}")).send();
        for d in &docs {
            assert_eq!(get(d.root).await.unwrap().status(), 200);
        }
        assert_eq!(server.loads(), docs.len() as u64);
        assert_eq!(server.cache.lock().unwrap().len(), CACHED_TREES);
        // the first ones were evicted: loaded again
        assert_eq!(get(docs[0].root).await.unwrap().status(), 200);
        assert_eq!(server.loads(), docs.len() as u64 + 1);
        let busy = server.occupy().await.unwrap();
        let newest = docs.last().unwrap().root;
        assert_eq!(get(newest).await.unwrap().status(), 200, "cached: no load needed");
        assert_eq!(get(docs[1].root).await.unwrap().status(), 503, "evicted, and no load free");
        drop(busy);
        assert_eq!(get(docs[1].root).await.unwrap().status(), 200);
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
        assert_eq!(store.count().unwrap(), KEEP_TREES + 4);
        assert_eq!(store.prune_keeping(&[first.root]).unwrap(), 3);
        assert_eq!(store.count().unwrap(), KEEP_TREES + 1);
        assert!(store.load(first.root).unwrap().is_some(), "the on-chain root's tree was deleted");
        assert!(store.load(roots[0]).unwrap().is_none());
        assert!(store.load(*roots.last().unwrap()).unwrap().is_some());
    }
}
