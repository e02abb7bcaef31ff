//! Operator rewards: read the `OperatorRewards` state, get the proof of an account's cumulative
//! shares (from an oracle member's `GET /rewards/proof/{root}/{account}`, or built from a tree
//! JSON file as members serve it at `GET /rewards/tree/{root}`), verify it locally against the
//! on-chain root (OpenZeppelin `StandardMerkleTree` leaves `(address, uint256)`, commutative
//! keccak inner nodes), then `claim`. Nothing is trusted before it verifies against the chain.

use std::path::Path;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolValue as _;
use claystack_bindings::operator_rewards::OperatorRewards;
use serde_json::Value;

use crate::error::{CallContext as _, ClientError};
use crate::tx::{Mined, Progress, wait};

/// Largest proof or tree document accepted (a tree of 100,000 leaves fits).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// Most leaves a tree file may hold.
pub const MAX_LEAVES: usize = 100_000;

/// Why a rewards action failed.
#[derive(Debug, thiserror::Error)]
pub enum RewardsError {
    /// A chain read or the claim transaction failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// No rewards root has been published yet.
    #[error("no rewards root on chain yet: the oracle has not distributed operator rewards")]
    NoRoot,
    /// The oracle member did not serve a proof.
    #[error("fetch the rewards proof from {url}: {reason}")]
    Fetch {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A proof or tree document is malformed.
    #[error("read the rewards {what}: {reason}")]
    Document {
        /// Proof or tree.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The account has no leaf in the tree.
    #[error("{account} has no rewards in the tree of root {root}")]
    NoLeaf {
        /// The account.
        account: Address,
        /// The root.
        root: B256,
    },
    /// The proof or tree is for another root than the chain's (an old tree, or a wrong one).
    #[error(
        "the proof is for root {got}, the chain's root is {on_chain}: ask a member that follows \
         the chain, or use the current tree"
    )]
    WrongRoot {
        /// The proof's root.
        got: B256,
        /// The chain's.
        on_chain: B256,
    },
    /// The proof is for another account than the one asked about: a member (or a man in the
    /// middle) served a valid proof of someone else's leaf.
    #[error(
        "the proof is for {got}, not for {asked}: refusing to claim another account's rewards \
         (the proof source is wrong or tampered with)"
    )]
    WrongAccount {
        /// The account asked about.
        asked: Address,
        /// The account the proof is for.
        got: Address,
    },
    /// The proof does not verify against the on-chain root.
    #[error(
        "the proof of {account} for {cumulative} shares does not verify against the on-chain root \
         {root}: refusing to send a claim that would revert"
    )]
    Invalid {
        /// The account.
        account: Address,
        /// Cumulative shares claimed.
        cumulative: U256,
        /// The root.
        root: B256,
    },
    /// Everything up to the leaf was claimed already.
    #[error("nothing to claim: {account} already claimed {claimed} of its {cumulative} shares")]
    NothingToClaim {
        /// The account.
        account: Address,
        /// Its cumulative shares.
        cumulative: U256,
        /// Already claimed.
        claimed: U256,
    },
}

/// A proof of one account's cumulative shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardsProof {
    /// The root it is for.
    pub root: B256,
    /// The account.
    pub account: Address,
    /// Cumulative shares of the leaf.
    pub cumulative_shares: U256,
    /// Siblings from the leaf up.
    pub proof: Vec<B256>,
}

/// The on-chain state of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardsStatus {
    /// Current root (zero: none yet).
    pub root: B256,
    /// Total of the root.
    pub cumulative_shares: U256,
    /// Reference slot of the report that set it.
    pub ref_slot: U256,
    /// Shares the account claimed so far.
    pub claimed: U256,
    /// The token paid (csETH or kcsETH).
    pub token: Address,
}

/// The leaf hash of `(account, cumulativeShares)` (double keccak of the ABI encoding).
#[must_use]
pub fn leaf_hash(account: Address, cumulative_shares: U256) -> B256 {
    keccak256(keccak256((account, cumulative_shares).abi_encode()))
}

fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// OpenZeppelin `MerkleProof.verify` of a rewards leaf.
#[must_use]
pub fn verify(root: B256, account: Address, cumulative_shares: U256, proof: &[B256]) -> bool {
    proof.iter().fold(leaf_hash(account, cumulative_shares), |h, p| hash_pair(h, *p)) == root
}

/// An account's cumulative shares and proof.
pub type Leaf = (U256, Vec<B256>);

/// Builds the `StandardMerkleTree` of `leaves` and returns its root and the proof of `account`
/// (`None` when it has no leaf). Leaves sorted by hash, stored from the end of the node array.
pub fn tree_proof(
    leaves: &[(Address, U256)],
    account: Address,
) -> Result<(B256, Option<Leaf>), RewardsError> {
    let bad = |reason: &str| RewardsError::Document { what: "tree", reason: reason.to_owned() };
    if leaves.is_empty() || leaves.len() > MAX_LEAVES {
        return Err(bad("it must have 1 to 100,000 leaves"));
    }
    let mut hashed: Vec<(B256, usize)> =
        leaves.iter().enumerate().map(|(i, (a, s))| (leaf_hash(*a, *s), i)).collect();
    hashed.sort_unstable();
    let mut accounts: Vec<Address> = leaves.iter().map(|l| l.0).collect();
    accounts.sort_unstable();
    if accounts.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("an account has two leaves"));
    }
    let n = hashed.len();
    let len = 2 * n - 1;
    let mut nodes = vec![B256::ZERO; len];
    let mut position = None;
    for (k, (h, input)) in hashed.iter().enumerate() {
        let pos = len - 1 - k;
        nodes[pos] = *h;
        if leaves[*input].0 == account {
            position = Some((pos, leaves[*input].1));
        }
    }
    for i in (0..len - n).rev() {
        nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2]);
    }
    let root = nodes[0];
    let Some((mut pos, shares)) = position else { return Ok((root, None)) };
    let mut proof = Vec::new();
    while pos > 0 {
        let sibling = if pos % 2 == 1 { pos + 1 } else { pos - 1 };
        proof.push(nodes[sibling]);
        pos = (pos - 1) / 2;
    }
    Ok((root, Some((shares, proof))))
}

fn field<'a>(v: &'a Value, key: &str, what: &'static str) -> Result<&'a Value, RewardsError> {
    v.get(key).ok_or_else(|| RewardsError::Document { what, reason: format!("no `{key}`") })
}

fn parse_str<T: std::str::FromStr>(
    v: &Value,
    key: &str,
    what: &'static str,
) -> Result<T, RewardsError> {
    field(v, key, what)?.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        RewardsError::Document { what, reason: format!("`{key}` is not what it should be") }
    })
}

fn parse_decimal(v: &Value, key: &str, what: &'static str) -> Result<U256, RewardsError> {
    field(v, key, what)?.as_str().and_then(|s| U256::from_str_radix(s, 10).ok()).ok_or_else(|| {
        RewardsError::Document { what, reason: format!("`{key}` is not a decimal string") }
    })
}

/// Parses a proof document (`{root, account, cumulativeShares, proof: [..]}`).
pub fn parse_proof(text: &[u8]) -> Result<RewardsProof, RewardsError> {
    const WHAT: &str = "proof";
    let v: Value = serde_json::from_slice(text)
        .map_err(|e| RewardsError::Document { what: WHAT, reason: e.to_string() })?;
    let proof = field(&v, "proof", WHAT)?
        .as_array()
        .ok_or_else(|| RewardsError::Document {
            what: WHAT,
            reason: "`proof` is not a list".into(),
        })?
        .iter()
        .map(|h| h.as_str().and_then(|s| s.parse::<B256>().ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| RewardsError::Document {
            what: WHAT,
            reason: "a proof hash is malformed".into(),
        })?;
    if proof.len() > 64 {
        return Err(RewardsError::Document { what: WHAT, reason: "proof deeper than 64".into() });
    }
    Ok(RewardsProof {
        root: parse_str(&v, "root", WHAT)?,
        account: parse_str(&v, "account", WHAT)?,
        cumulative_shares: parse_decimal(&v, "cumulativeShares", WHAT)?,
        proof,
    })
}

/// The proof of `account` from a tree document (`{root, cumulativeShares, refSlot, leaves:
/// [{account, cumulativeShares}]}`): the tree is rebuilt and must have the root it claims.
pub fn proof_from_tree(text: &[u8], account: Address) -> Result<RewardsProof, RewardsError> {
    const WHAT: &str = "tree";
    let v: Value = serde_json::from_slice(text)
        .map_err(|e| RewardsError::Document { what: WHAT, reason: e.to_string() })?;
    let claimed_root: B256 = parse_str(&v, "root", WHAT)?;
    let leaves = field(&v, "leaves", WHAT)?
        .as_array()
        .ok_or_else(|| RewardsError::Document {
            what: WHAT,
            reason: "`leaves` is not a list".into(),
        })?
        .iter()
        .map(|l| Ok((parse_str(l, "account", WHAT)?, parse_decimal(l, "cumulativeShares", WHAT)?)))
        .collect::<Result<Vec<(Address, U256)>, RewardsError>>()?;
    let (root, leaf) = tree_proof(&leaves, account)?;
    if root != claimed_root {
        return Err(RewardsError::Document {
            what: WHAT,
            reason: format!("its leaves build root {root}, the file says {claimed_root}"),
        });
    }
    let (cumulative_shares, proof) = leaf.ok_or(RewardsError::NoLeaf { account, root })?;
    Ok(RewardsProof { root, account, cumulative_shares, proof })
}

/// Reads a tree JSON file and returns the proof of `account`.
pub fn proof_from_tree_file(path: &Path, account: Address) -> Result<RewardsProof, RewardsError> {
    let text = std::fs::read(path).map_err(|e| RewardsError::Document {
        what: "tree",
        reason: format!("read {}: {e}", path.display()),
    })?;
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(RewardsError::Document { what: "tree", reason: "file too large".into() });
    }
    proof_from_tree(&text, account)
}

/// Checks that `proof` is the one asked for: `account`'s leaf in the tree of `root`. A served
/// proof may be a valid proof of another account or another root (a wrong member, a man in the
/// middle on plain HTTP); claiming with it would pay someone else.
pub fn ensure_proof_is_for(
    proof: &RewardsProof,
    account: Address,
    root: B256,
) -> Result<(), RewardsError> {
    if proof.account != account {
        return Err(RewardsError::WrongAccount { asked: account, got: proof.account });
    }
    if proof.root != root {
        return Err(RewardsError::WrongRoot { got: proof.root, on_chain: root });
    }
    Ok(())
}

/// Downloads the proof of `account` for `root` from an oracle member (`oracle_url` is its base
/// URL, e.g. `http://127.0.0.1:9400`). The answer must be that proof: a document for another
/// account or root is refused ([`RewardsError::WrongAccount`], [`RewardsError::WrongRoot`]).
pub async fn fetch_proof(
    oracle_url: &str,
    root: B256,
    account: Address,
) -> Result<RewardsProof, RewardsError> {
    let url = format!("{}/rewards/proof/{root}/{account}", oracle_url.trim_end_matches('/'));
    let fail = |reason: String| RewardsError::Fetch { url: url.clone(), reason };
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut resp = http.get(&url).send().await.map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(fail("response too large".into()));
        }
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        let msg = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "not found".into());
        return Err(fail(format!("the member has no such proof ({msg})")));
    }
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let proof = parse_proof(&body)?;
    ensure_proof_is_for(&proof, account, root)?;
    Ok(proof)
}

/// `OperatorRewards` of one pool.
#[derive(Debug, Clone)]
pub struct Rewards {
    provider: DynProvider,
    address: Address,
}

impl Rewards {
    /// The contract at `address`.
    #[must_use]
    pub fn new(provider: DynProvider, address: Address) -> Self {
        Self { provider, address }
    }

    fn c(&self) -> OperatorRewards::OperatorRewardsInstance<DynProvider> {
        OperatorRewards::new(self.address, self.provider.clone())
    }

    /// The root, its total and slot, and what `account` claimed.
    pub async fn status(&self, account: Address) -> Result<RewardsStatus, RewardsError> {
        let c = self.c();
        Ok(RewardsStatus {
            root: c.rewardsRoot().call().await.action("read the rewards root")?,
            cumulative_shares: c
                .rewardsCumulativeShares()
                .call()
                .await
                .action("read the rewards total")?,
            ref_slot: c.rewardsRefSlot().call().await.action("read the rewards slot")?,
            claimed: c.claimed(account).call().await.action("read the claimed shares")?,
            token: c.token().call().await.action("read the rewards token")?,
        })
    }

    /// Checks that `proof` is `account`'s ([`RewardsError::WrongAccount`] otherwise), then
    /// [`Self::check`]s it. Use this for a proof from a member or a file: it pays `proof.account`.
    pub async fn check_for(
        &self,
        account: Address,
        proof: &RewardsProof,
    ) -> Result<U256, RewardsError> {
        if proof.account != account {
            return Err(RewardsError::WrongAccount { asked: account, got: proof.account });
        }
        self.check(proof).await
    }

    /// Checks `proof` locally against the on-chain root (the proof's root must be the current
    /// one) and the account's claims: `Ok(shares)` still claimable, never zero. It does not know
    /// which account the caller meant: see [`Self::check_for`].
    pub async fn check(&self, proof: &RewardsProof) -> Result<U256, RewardsError> {
        let s = self.status(proof.account).await?;
        if s.root.is_zero() {
            return Err(RewardsError::NoRoot);
        }
        if proof.root != s.root {
            return Err(RewardsError::WrongRoot { got: proof.root, on_chain: s.root });
        }
        if !verify(s.root, proof.account, proof.cumulative_shares, &proof.proof) {
            return Err(RewardsError::Invalid {
                account: proof.account,
                cumulative: proof.cumulative_shares,
                root: s.root,
            });
        }
        if proof.cumulative_shares <= s.claimed {
            return Err(RewardsError::NothingToClaim {
                account: proof.account,
                cumulative: proof.cumulative_shares,
                claimed: s.claimed,
            });
        }
        Ok(proof.cumulative_shares - s.claimed)
    }

    /// [`Self::claim`] for `account` only: a proof of another account is refused before
    /// anything is sent ([`RewardsError::WrongAccount`]).
    pub async fn claim_for(
        &self,
        account: Address,
        proof: &RewardsProof,
        progress: &dyn Progress,
    ) -> Result<(U256, Mined), RewardsError> {
        if proof.account != account {
            return Err(RewardsError::WrongAccount { asked: account, got: proof.account });
        }
        self.claim(proof, progress).await
    }

    /// Verifies `proof` locally, then claims: the shares go to `proof.account` (whoever sends).
    /// Returns the shares paid. The caller vouches for `proof.account`; with a proof from a
    /// member or a file use [`Self::claim_for`].
    pub async fn claim(
        &self,
        proof: &RewardsProof,
        progress: &dyn Progress,
    ) -> Result<(U256, Mined), RewardsError> {
        const ACTION: &str = "claim operator rewards";
        let shares = self.check(proof).await?;
        let pending = self
            .c()
            .claim(proof.account, proof.cumulative_shares, proof.proof.clone())
            .send()
            .await
            .action(ACTION)?;
        let mined = wait(ACTION, pending, progress).await?;
        Ok((shares, mined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u8) -> Vec<(Address, U256)> {
        (1..=n).map(|i| (Address::with_last_byte(i), U256::from(u64::from(i) * 1000))).collect()
    }

    #[test]
    fn every_proof_of_a_built_tree_verifies_and_a_changed_amount_does_not() {
        for n in 1..=9u8 {
            let l = leaves(n);
            for (a, s) in &l {
                let (root, leaf) = tree_proof(&l, *a).unwrap();
                let (shares, proof) = leaf.unwrap();
                assert_eq!(shares, *s);
                assert!(verify(root, *a, shares, &proof));
                assert!(!verify(root, *a, shares + U256::from(1u8), &proof));
            }
            assert!(tree_proof(&l, Address::repeat_byte(0xee)).unwrap().1.is_none());
        }
        assert!(tree_proof(&[], Address::ZERO).is_err());
        let mut dup = leaves(3);
        dup[2].0 = dup[0].0;
        assert!(tree_proof(&dup, Address::ZERO).is_err());
    }

    #[test]
    fn documents_parse_and_a_tree_that_lies_about_its_root_is_refused() {
        let l = leaves(3);
        let (root, _) = tree_proof(&l, Address::ZERO).unwrap();
        let tree = serde_json::json!({
            "root": root.to_string(),
            "cumulativeShares": "6000",
            "refSlot": 31,
            "leaves": l.iter().map(|(a, s)| serde_json::json!({"account": a.to_string(), "cumulativeShares": s.to_string()})).collect::<Vec<_>>(),
        });
        let text = serde_json::to_vec(&tree).unwrap();
        let p = proof_from_tree(&text, Address::with_last_byte(2)).unwrap();
        assert_eq!(p.cumulative_shares, U256::from(2000u64));
        assert!(verify(root, p.account, p.cumulative_shares, &p.proof));
        assert!(matches!(
            proof_from_tree(&text, Address::with_last_byte(9)),
            Err(RewardsError::NoLeaf { .. })
        ));
        let mut lying = tree;
        lying["leaves"][1]["cumulativeShares"] = "2001".into();
        let err = proof_from_tree(&serde_json::to_vec(&lying).unwrap(), Address::with_last_byte(2));
        assert!(matches!(err, Err(RewardsError::Document { .. })), "{err:?}");

        let doc = serde_json::json!({
            "root": root.to_string(),
            "account": p.account.to_string(),
            "cumulativeShares": "2000",
            "proof": p.proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        assert_eq!(parse_proof(&serde_json::to_vec(&doc).unwrap()).unwrap(), p);
        assert!(parse_proof(b"{\"root\": 1}").is_err());
    }

    fn proof_doc(p: &RewardsProof) -> serde_json::Value {
        serde_json::json!({
            "root": p.root.to_string(),
            "account": p.account.to_string(),
            "cumulativeShares": p.cumulative_shares.to_string(),
            "proof": p.proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }

    /// A member that answers every proof request with the same document.
    async fn member_serving(doc: serde_json::Value) -> String {
        let app = axum::Router::new().route(
            "/rewards/proof/{root}/{account}",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn a_served_proof_of_another_account_or_root_is_refused() {
        let l = leaves(3);
        let victim = Address::with_last_byte(1);
        let other = Address::with_last_byte(3);
        let (root, leaf) = tree_proof(&l, other).unwrap();
        let (shares, proof) = leaf.unwrap();
        let others = RewardsProof { root, account: other, cumulative_shares: shares, proof };
        assert!(verify(root, other, shares, &others.proof), "a valid proof, of someone else");

        // asked for the victim, served the other account's valid proof
        let url = member_serving(proof_doc(&others)).await;
        let err = fetch_proof(&url, root, victim).await.unwrap_err();
        assert!(
            matches!(err, RewardsError::WrongAccount { asked, got } if asked == victim && got == other),
            "{err:?}"
        );
        assert!(err.to_string().contains("refusing to claim another account's rewards"), "{err}");
        // the other account's own request gets it
        assert_eq!(fetch_proof(&url, root, other).await.unwrap(), others);

        // the right account, but a proof of an older tree
        let (old_root, old_leaf) = tree_proof(&leaves(2), victim).unwrap();
        let (s, p) = old_leaf.unwrap();
        let stale =
            RewardsProof { root: old_root, account: victim, cumulative_shares: s, proof: p };
        let url = member_serving(proof_doc(&stale)).await;
        let err = fetch_proof(&url, root, victim).await.unwrap_err();
        assert!(
            matches!(err, RewardsError::WrongRoot { got, on_chain } if got == old_root && on_chain == root),
            "{err:?}"
        );

        assert!(ensure_proof_is_for(&others, other, root).is_ok());
        assert!(ensure_proof_is_for(&others, victim, root).is_err());
        assert!(ensure_proof_is_for(&others, other, old_root).is_err());
    }
}
