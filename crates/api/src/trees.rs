//! Operators' cumulative reward allocations. The chain holds only the Merkle root of the rewards
//! tree (`OperatorRewards.RewardsRootSet`, indexed); the leaves — each reward account's cumulative
//! shares — live with the oracle members, who serve them at `GET /rewards/tree/{root}`. The API
//! downloads the current root's tree from a configured member (bounded size, timeouts), trusts it
//! only after rebuilding it and checking its root and total against the indexed on-chain root
//! (the oracle's own check, [`TreeDocument::verify`]), caches it per root, and answers per account:
//! the cumulative allocation, what was claimed, what is claimable and the proof that
//! `OperatorRewards.claim(account, cumulativeShares, proof)` takes. Without a member, or when no
//! member serves a tree that checks out, the amounts are `null` with the reason — never a guess.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256, U256};
use claystack_oracle::{
    daemon::rewards::fetch_tree,
    merkle::{RewardsTree, verify},
    rewards::TreeDocument,
};
use serde_json::{Value, json};

/// Time to connect to a member.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one member's whole answer (a 100,000-leaf tree is ~11 MB).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a root that no member served is not asked for again (requests meanwhile get the
/// reason at once).
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Roots kept in the cache (a new root comes once per oracle frame).
pub const CACHED_ROOTS: usize = 4;
/// Longest failure text kept per member.
const MAX_REASON_CHARS: usize = 300;

/// Why the member URLs are unusable.
#[derive(Debug, thiserror::Error)]
pub enum TreesConfigError {
    /// A URL does not parse or is not plain HTTP.
    #[error(
        "bad oracle member URL {url:?}: {reason} (expected a base URL such as http://127.0.0.1:9400)"
    )]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("build the oracle member HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Why an account's allocation is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// No member URL was configured.
    #[error(
        "no oracle member URL configured (claystack serve --oracle-url, or CLAYSTACK_ORACLE_URL): \
         the chain holds only the rewards root"
    )]
    NotConfigured,
    /// No root was published yet.
    #[error("no rewards root on chain yet")]
    NoRoot,
    /// The operator has no reward address in the index.
    #[error("the operator has no reward address in the index")]
    NoAccount,
    /// No member served a tree that matches the on-chain root and total.
    #[error(
        "no oracle member served a rewards tree matching the on-chain root {root} ({})",
        .failures.join("; ")
    )]
    NoValidTree {
        /// The on-chain root.
        root: B256,
        /// One line per member.
        failures: Vec<String>,
    },
}

/// A tree that rebuilt to the on-chain root and total.
#[derive(Debug)]
pub struct VerifiedTree {
    /// The document as the member served it.
    pub doc: TreeDocument,
    /// The rebuilt tree.
    pub tree: RewardsTree,
    /// The member that served it.
    pub member: String,
}

/// One cached root.
#[derive(Debug, Clone)]
enum Entry {
    Verified(Arc<VerifiedTree>),
    Failed { at: Instant, why: Unavailable },
}

/// The trees of the configured oracle members, fetched on demand and cached per root.
#[derive(Debug)]
pub struct RewardsTrees {
    members: Vec<String>,
    http: Option<reqwest::Client>,
    retry_after: Duration,
    cache: Mutex<VecDeque<(B256, Entry)>>,
    /// One fetch at a time: concurrent requests for a new root wait for the first one's result.
    fetching: tokio::sync::Mutex<()>,
    verified: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

impl RewardsTrees {
    /// No member: every allocation is [`Unavailable::NotConfigured`].
    #[must_use]
    pub fn disabled() -> Self {
        Self::build(Vec::new(), None, RETRY_AFTER)
    }

    /// The members at `urls` (base URLs; entries may be comma-separated lists), with the default
    /// timeouts.
    pub fn new(urls: &[String]) -> Result<Self, TreesConfigError> {
        Self::with_timeouts(urls, CONNECT_TIMEOUT, REQUEST_TIMEOUT, RETRY_AFTER)
    }

    /// As [`RewardsTrees::new`] with explicit timeouts (tests).
    pub fn with_timeouts(
        urls: &[String],
        connect: Duration,
        request: Duration,
        retry_after: Duration,
    ) -> Result<Self, TreesConfigError> {
        let mut members = Vec::new();
        for url in urls.iter().flat_map(|u| u.split(',')).map(str::trim).filter(|u| !u.is_empty()) {
            let bad = |reason: &str| TreesConfigError::Url {
                url: url.to_owned(),
                reason: reason.to_owned(),
            };
            let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
            if parsed.scheme() != "http" {
                return Err(bad("only http:// is supported (this build has no TLS client)"));
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(bad("a base URL has no query or fragment"));
            }
            members.push(url.trim_end_matches('/').to_owned());
        }
        if members.is_empty() {
            return Ok(Self::disabled());
        }
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self::build(members, Some(http), retry_after))
    }

    fn build(members: Vec<String>, http: Option<reqwest::Client>, retry_after: Duration) -> Self {
        Self {
            members,
            http,
            retry_after,
            cache: Mutex::new(VecDeque::new()),
            fetching: tokio::sync::Mutex::new(()),
            verified: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// The configured member base URLs.
    #[must_use]
    pub fn members(&self) -> &[String] {
        &self.members
    }

    fn cached(&self, root: B256) -> Option<Result<Arc<VerifiedTree>, Unavailable>> {
        let cache = self.cache.lock().ok()?;
        let (_, entry) = cache.iter().find(|(r, _)| *r == root)?;
        match entry {
            Entry::Verified(t) => Some(Ok(Arc::clone(t))),
            Entry::Failed { at, why } if at.elapsed() < self.retry_after => Some(Err(why.clone())),
            Entry::Failed { .. } => None,
        }
    }

    fn remember(&self, root: B256, entry: Entry) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|(r, _)| *r != root);
            cache.push_back((root, entry));
            while cache.len() > CACHED_ROOTS {
                cache.pop_front();
            }
        }
    }

    /// The verified tree of the on-chain `root` whose leaves sum to `cumulative`.
    pub async fn tree(
        &self,
        root: B256,
        cumulative: U256,
    ) -> Result<Arc<VerifiedTree>, Unavailable> {
        let Some(http) = &self.http else { return Err(Unavailable::NotConfigured) };
        if root.is_zero() {
            return Err(Unavailable::NoRoot);
        }
        let check = |t: Arc<VerifiedTree>| {
            // The index gave another total for this root than when it was verified: never serve
            // numbers the chain does not back.
            if t.doc.cumulative_shares == cumulative {
                Ok(t)
            } else {
                Err(Unavailable::NoValidTree {
                    root,
                    failures: vec![format!(
                        "the indexed total {cumulative} differs from the verified tree's {}",
                        t.doc.cumulative_shares
                    )],
                })
            }
        };
        if let Some(hit) = self.cached(root) {
            return hit.and_then(check);
        }
        let _one_fetch = self.fetching.lock().await;
        if let Some(hit) = self.cached(root) {
            return hit.and_then(check);
        }
        let entry = match self.fetch(http, root, cumulative).await {
            Ok(t) => Entry::Verified(Arc::new(t)),
            Err(failures) => Entry::Failed {
                at: Instant::now(),
                why: Unavailable::NoValidTree { root, failures },
            },
        };
        self.remember(root, entry.clone());
        match entry {
            Entry::Verified(t) => check(t),
            Entry::Failed { why, .. } => Err(why),
        }
    }

    /// Asks each member in turn; the first tree that checks out wins. Errors: one line per member.
    async fn fetch(
        &self,
        http: &reqwest::Client,
        root: B256,
        cumulative: U256,
    ) -> Result<VerifiedTree, Vec<String>> {
        let mut failures = Vec::new();
        for member in &self.members {
            let url = format!("{member}/rewards/tree/{root}");
            let doc = match fetch_tree(http, &url).await {
                Ok(doc) => doc,
                Err(e) => {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "api::rewards", %url, error = %e, "fetch a rewards tree");
                    failures.push(format!("{member}: {}", short(&e)));
                    continue;
                }
            };
            // Rebuilding a 100,000-leaf tree is ~0.1 s of hashing: off the async workers.
            let checked = tokio::task::spawn_blocking(move || {
                let tree = doc.verify(root, cumulative);
                (doc, tree)
            })
            .await;
            match checked {
                Ok((doc, Ok(tree))) => {
                    self.verified.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(target: "api::rewards", %url, leaves = doc.leaves.len(), "rewards tree verified against the on-chain root");
                    return Ok(VerifiedTree { doc, tree, member: member.clone() });
                }
                Ok((_, Err(e))) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "api::rewards", %url, error = %e, "a member served a rewards tree that does not match the chain");
                    failures.push(format!("{member}: refused: {}", short(&e.to_string())));
                }
                Err(e) => failures.push(format!("{member}: check the tree: {e}")),
            }
        }
        Err(failures)
    }

    /// Prometheus lines: member tree fetches by outcome.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP claystack_api_rewards_trees_total Rewards trees fetched from oracle members, by outcome (verified against the on-chain root, refused because they did not match it, failed to download).\n# TYPE claystack_api_rewards_trees_total counter\n",
        );
        for (outcome, n) in
            [("verified", &self.verified), ("refused", &self.refused), ("failed", &self.failed)]
        {
            out.push_str(&format!(
                "claystack_api_rewards_trees_total{{outcome=\"{outcome}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= MAX_REASON_CHARS {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(MAX_REASON_CHARS).collect();
    s.push('…');
    s
}

/// The indexed rewards root: root, total, reference slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedRoot {
    /// The root.
    pub root: B256,
    /// `rewardsCumulativeShares` set with it.
    pub cumulative_shares: U256,
    /// The report's reference slot.
    pub ref_slot: u64,
}

impl IndexedRoot {
    /// From the `latestRoot` object of the rewards queries (`null`: none yet).
    #[must_use]
    pub fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            root: v.get("root")?.as_str()?.parse().ok()?,
            cumulative_shares: U256::from_str_radix(v.get("cumulativeShares")?.as_str()?, 10)
                .ok()?,
            ref_slot: v.get("refSlot")?.as_u64()?,
        })
    }
}

/// The allocation of `account` under `root` as served in JSON: `status` `verified` with the
/// cumulative, claimed and claimable shares and the proof, or `unavailable` with `reason` and the
/// amounts the tree would give `null` (`claimedShares`, from the chain's claim events, is always
/// there). An account without a leaf in a verified tree has a verified allocation of zero.
pub async fn allocation(
    trees: &RewardsTrees,
    account: Option<Address>,
    root: Option<IndexedRoot>,
    claimed: U256,
) -> Value {
    let looked_up = match (account, root) {
        (None, _) => Err(Unavailable::NoAccount),
        (_, None) => {
            if trees.http.is_none() {
                Err(Unavailable::NotConfigured)
            } else {
                Err(Unavailable::NoRoot)
            }
        }
        (Some(_), Some(r)) => trees.tree(r.root, r.cumulative_shares).await,
    };
    let mut v = json!({
        "account": account.map(|a| format!("{a:#x}")),
        "root": root.map(|r| r.root.to_string()),
        "refSlot": root.map(|r| r.ref_slot),
        "claimedShares": claimed.to_string(),
        "cumulativeShares": null,
        "claimableShares": null,
        "proof": null,
        "member": null,
        "treeLeaves": null,
    });
    let tree = match (looked_up, account) {
        (Ok(tree), Some(account)) => (tree, account),
        (Ok(_), None) => return unavailable(v, &Unavailable::NoAccount),
        (Err(why), _) => return unavailable(v, &why),
    };
    let (tree, account) = tree;
    let (cumulative, proof, reason) = match tree.tree.proof(account) {
        Some((shares, proof)) if verify(tree.doc.root, account, shares, &proof) => {
            (shares, proof, Value::Null)
        }
        Some(_) => {
            // Cannot happen for a tree that rebuilt to the root; refuse rather than guess.
            let why = Unavailable::NoValidTree {
                root: tree.doc.root,
                failures: vec![format!(
                    "{}: the rebuilt tree's proof does not verify",
                    tree.member
                )],
            };
            return unavailable(v, &why);
        }
        None => (
            U256::ZERO,
            Vec::new(),
            json!("the account has no leaf in the verified tree: nothing allocated"),
        ),
    };
    v["status"] = json!("verified");
    v["reason"] = reason;
    v["cumulativeShares"] = json!(cumulative.to_string());
    v["claimableShares"] = json!(cumulative.saturating_sub(claimed).to_string());
    v["proof"] = json!(proof.iter().map(ToString::to_string).collect::<Vec<_>>());
    v["member"] = json!(tree.member);
    v["treeLeaves"] = json!(tree.doc.leaves.len());
    v
}

fn unavailable(mut v: Value, why: &Unavailable) -> Value {
    v["status"] = json!("unavailable");
    v["reason"] = json!(why.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn doc(amounts: &[u64]) -> TreeDocument {
        let leaves: Vec<(Address, U256)> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| (Address::with_last_byte(u8::try_from(i + 1).unwrap()), U256::from(*a)))
            .collect();
        TreeDocument::new(64, &leaves).unwrap()
    }

    /// A member serving `body` for every tree, counting requests; `delay` before answering.
    async fn member(body: Vec<u8>, delay: Duration) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&hits);
        let app = axum::Router::new().route(
            "/rewards/tree/{root}",
            axum::routing::get(move || {
                let body = body.clone();
                let seen = Arc::clone(&seen);
                async move {
                    seen.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    body
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, hits)
    }

    fn trees(urls: &[String]) -> RewardsTrees {
        RewardsTrees::with_timeouts(
            urls,
            Duration::from_secs(2),
            Duration::from_millis(800),
            Duration::from_millis(300),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_tampered_tree_is_refused_and_the_next_member_is_used_then_cached() {
        let good = doc(&[100, 200, 300]);
        // Same leaves but one amount raised, still claiming the chain's root and total.
        let mut lying = good.clone();
        lying.leaves[1].cumulative_shares = U256::from(250u64);
        lying.leaves[0].cumulative_shares = U256::from(50u64);
        let (bad_url, bad_hits) = member(serde_json::to_vec(&lying).unwrap(), Duration::ZERO).await;
        let (good_url, good_hits) =
            member(serde_json::to_vec(&good).unwrap(), Duration::ZERO).await;

        let only_bad = trees(std::slice::from_ref(&bad_url));
        let err = only_bad.tree(good.root, good.cumulative_shares).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("refused") && text.contains(&bad_url), "{text}");
        assert!(only_bad.render().contains("outcome=\"refused\"} 1"), "{}", only_bad.render());
        // The allocation says why and gives no number.
        let root = IndexedRoot {
            root: good.root,
            cumulative_shares: good.cumulative_shares,
            ref_slot: 64,
        };
        let refused =
            allocation(&only_bad, Some(Address::with_last_byte(2)), Some(root), U256::ZERO).await;
        let a = &refused;
        assert_eq!(a["status"], "unavailable");
        assert!(
            a["cumulativeShares"].is_null()
                && a["claimableShares"].is_null()
                && a["proof"].is_null(),
            "{a}"
        );
        assert!(a["reason"].as_str().unwrap().contains("refused"), "{a}");

        let both = trees(&[format!("{bad_url},{good_url}/")]);
        assert_eq!(both.members(), [bad_url.clone(), good_url.clone()]);
        let a = allocation(&both, Some(Address::with_last_byte(2)), Some(root), U256::from(150u64))
            .await;
        assert_eq!(a["status"], "verified", "{a}");
        assert_eq!(a["cumulativeShares"], "200");
        assert_eq!(a["claimedShares"], "150");
        assert_eq!(a["claimableShares"], "50");
        assert_eq!(a["member"], good_url);
        assert_eq!(a["treeLeaves"], 3);
        let proof: Vec<B256> = a["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().parse().unwrap())
            .collect();
        assert!(verify(good.root, Address::with_last_byte(2), U256::from(200u64), &proof));
        // Both shapes carry exactly the fields the OpenAPI schema lists.
        let schema = crate::openapi::allocation_schema();
        let mut required: Vec<&str> =
            schema["required"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        required.sort_unstable();
        for shape in [&a, &refused] {
            let mut keys: Vec<&str> =
                shape.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, required, "{shape}");
        }
        // Cached: no second download; an account without a leaf is a verified zero.
        let (bad_before, good_before) =
            (bad_hits.load(Ordering::SeqCst), good_hits.load(Ordering::SeqCst));
        let none = allocation(&both, Some(Address::repeat_byte(9)), Some(root), U256::ZERO).await;
        assert_eq!(
            (none["status"].as_str(), none["cumulativeShares"].as_str()),
            (Some("verified"), Some("0"))
        );
        assert_eq!(none["proof"], json!([]));
        assert_eq!(
            (bad_hits.load(Ordering::SeqCst), good_hits.load(Ordering::SeqCst)),
            (bad_before, good_before)
        );
        // A different indexed total for the same root is refused even from the cache.
        assert!(both.tree(good.root, U256::from(601u64)).await.is_err());
    }

    #[tokio::test]
    async fn a_tree_for_another_root_a_slow_member_and_junk_are_refused_then_retried_later() {
        let good = doc(&[7, 8]);
        let other = doc(&[7, 9]);
        let (other_url, _) = member(serde_json::to_vec(&other).unwrap(), Duration::ZERO).await;
        let (slow_url, _) =
            member(serde_json::to_vec(&good).unwrap(), Duration::from_secs(5)).await;
        let (junk_url, junk_hits) = member(b"not json".to_vec(), Duration::ZERO).await;
        let t = trees(&[other_url.clone(), slow_url.clone(), junk_url.clone()]);
        let start = Instant::now();
        let err = t.tree(good.root, good.cumulative_shares).await.unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the request timeout bounds a slow member"
        );
        let Unavailable::NoValidTree { failures, .. } = &err else { panic!("{err:?}") };
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(
            failures[0].starts_with(&other_url) && failures[0].contains("refused"),
            "{failures:?}"
        );
        assert!(failures[1].starts_with(&slow_url), "{failures:?}");
        assert!(failures[2].starts_with(&junk_url), "{failures:?}");
        // Within RETRY_AFTER the reason is answered from the cache; after it, members are asked again.
        let hits = junk_hits.load(Ordering::SeqCst);
        assert!(t.tree(good.root, good.cumulative_shares).await.is_err());
        assert_eq!(junk_hits.load(Ordering::SeqCst), hits);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(t.tree(good.root, good.cumulative_shares).await.is_err());
        assert_eq!(junk_hits.load(Ordering::SeqCst), hits + 1);
    }

    #[tokio::test]
    async fn an_oversized_answer_is_cut_off() {
        let big = vec![
            b' ';
            usize::try_from(claystack_oracle::daemon::rewards::MAX_TREE_BYTES).unwrap()
                + 10
        ];
        let (url, _) = member(big, Duration::ZERO).await;
        let t = trees(std::slice::from_ref(&url));
        let err = t.tree(B256::repeat_byte(1), U256::from(1u8)).await.unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
    }

    #[tokio::test]
    async fn without_members_or_root_nothing_is_fetched() {
        let off = RewardsTrees::new(&[String::new()]).unwrap();
        let root = IndexedRoot {
            root: B256::repeat_byte(1),
            cumulative_shares: U256::from(1u8),
            ref_slot: 1,
        };
        let a = allocation(&off, Some(Address::repeat_byte(1)), Some(root), U256::ZERO).await;
        assert_eq!(a["status"], "unavailable");
        assert!(a["reason"].as_str().unwrap().contains("--oracle-url"), "{a}");
        assert!(a["cumulativeShares"].is_null());
        let on = RewardsTrees::new(&["http://127.0.0.1:9".into()]).unwrap();
        let a = allocation(&on, Some(Address::repeat_byte(1)), None, U256::ZERO).await;
        assert_eq!(a["reason"], Unavailable::NoRoot.to_string());
        let a = allocation(&on, None, Some(root), U256::ZERO).await;
        assert_eq!(a["reason"], Unavailable::NoAccount.to_string());
        for bad in ["https://member.example", "ftp://x", "not a url", "http://x/?a=1"] {
            assert!(RewardsTrees::new(&[bad.into()]).is_err(), "{bad} accepted");
        }
    }
}
