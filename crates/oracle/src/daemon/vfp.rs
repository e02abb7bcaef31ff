//! Booking the VfpPool's rewards (docs/adr/0005, "Booking the rewards"): the VfpPool's leaf
//! `(vfpPool, cumulativeShares)` of the operator-rewards tree is paid and added to its
//! `totalAssets` only when someone calls `VfpPool.claimRewards(cumulativeShares, proof)`; until
//! then VEF holders do not get it. So after every report, each member checks the current root:
//!
//! - the contracts are found as the report computation finds them, at the latest block:
//!   `OracleReport.operatorsModule()` → `OperatorsModule.operatorRewards()` and
//!   `.contracts().bonds` → `BondManager.contracts().vfpPool` (once per reported frame);
//! - the leaf and its proof come from the member's own tree of `OperatorRewards.rewardsRoot()`
//!   (else a peer's, checked against the chain's root and total, as for the next report);
//! - nothing is sent when the pool has no leaf, when `OperatorRewards.claimed(vfpPool)` already
//!   reaches the leaf and `VfpPool.pendingRewards()` is 0 (booked), or when the VfpPool books
//!   another OperatorRewards (`VfpPool.operatorRewards()`: a claim would revert; logged);
//!   `syncRewards()` when the leaf was claimed directly but not booked; else `claimRewards`;
//! - staggered like the report: the member that submitted the last report at once, the others
//!   `(rank + 1) × SUBMIT_STAGGER` after they first saw the root unbooked, so usually one
//!   transaction is sent (a racing second call books 0 and costs only gas);
//! - a failure (a read, the transaction, a revert, a receipt not seen within
//!   [`chain::RECEIPT_TIMEOUT`]) is logged and counted, and retried on the next tick (a booking
//!   still pending then is replaced, [`chain::TxSender`]); it never stops the member. Once the root is booked, nothing is read again until
//!   the next report (`lastRefSlot()` changes).

use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use claystack_bindings::bond_manager::BondManager;
use claystack_bindings::operator_rewards::OperatorRewards;
use claystack_bindings::operators_module::OperatorsModule;
use claystack_bindings::oracle_report::OracleReport;
use claystack_bindings::vfp_pool::VfpPool;

use super::metrics::inc;
use super::{DaemonError, SUBMIT_STAGGER, Worker, chain, rewards};

/// The contracts that pay and book the VfpPool's leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardsContracts {
    /// `OperatorsModule.operatorRewards()`: holds the root and pays the leaves.
    pub operator_rewards: Address,
    /// `BondManager.contracts().vfpPool`: the account of the leaf, and where it is booked.
    pub vfp_pool: Address,
}

/// What the chain says about the VfpPool's leaf of the current root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafState {
    /// The leaf's cumulative shares (`None`: the pool has no leaf in this root).
    pub leaf: Option<U256>,
    /// `OperatorRewards.claimed(vfpPool)`: what OperatorRewards has paid the pool in all.
    pub claimed: U256,
    /// `VfpPool.pendingRewards()`: paid by the current OperatorRewards and not booked.
    pub pending: U256,
    /// `VfpPool.operatorRewards()` is the OperatorRewards that holds the root.
    pub wired: bool,
}

/// What to do about the VfpPool's leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The pool has no leaf in the current root.
    NoLeaf,
    /// The VfpPool books another OperatorRewards (or none): a claim would revert.
    NotWired,
    /// Paid up to the leaf and booked.
    Booked,
    /// Paid up to the leaf (a direct claim on OperatorRewards) but not booked: `syncRewards()`.
    Sync,
    /// Not paid up to the leaf: `claimRewards(leaf, proof)`.
    Claim,
}

/// Decides what to send for `state` (pure).
#[must_use]
pub fn decide(state: &LeafState) -> Action {
    let Some(leaf) = state.leaf else { return Action::NoLeaf };
    if !state.wired {
        return Action::NotWired;
    }
    if state.claimed < leaf {
        Action::Claim
    } else if state.pending.is_zero() {
        Action::Booked
    } else {
        Action::Sync
    }
}

/// How long a member waits after first seeing a root unbooked: the member that submitted the
/// last report not at all, the others `(rank + 1) × SUBMIT_STAGGER` (rank: members with a lower
/// address), as for the later extra-data chunks.
#[must_use]
pub fn stagger(rank: usize, submitted_last_report: bool) -> Duration {
    if submitted_last_report {
        return Duration::ZERO;
    }
    SUBMIT_STAGGER.saturating_mul(u32::try_from(rank.saturating_add(1)).unwrap_or(u32::MAX))
}

/// The leaf of the VfpPool in a checked tree, with its proof.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Leaf {
    cumulative: U256,
    proof: Vec<B256>,
}

/// The booking's memory between ticks (one per member).
#[derive(Debug, Default)]
pub struct BookingState {
    /// `lastRefSlot()` at which the then-current root was found booked (or had nothing to
    /// book): nothing is read again until the next report.
    settled_at: Option<u64>,
    /// The contracts, resolved at `lastRefSlot()` = `.0`.
    contracts: Option<(u64, Option<RewardsContracts>)>,
    /// The VfpPool's leaf of a root (read from the tree once per root).
    leaf: Option<(B256, Address, Option<Leaf>)>,
    /// When this member first saw a root unbooked.
    first_seen: Option<(B256, Instant)>,
}

fn rpc<E: std::error::Error + Send + Sync + 'static>(
    action: &'static str,
) -> impl FnOnce(E) -> DaemonError {
    move |e| DaemonError::Rpc { action, source: Box::new(e) }
}

/// The OperatorRewards and VfpPool behind `oracle` at `block`. `Ok(None)`: no operators module,
/// no OperatorRewards or no VfpPool (nothing to book).
pub async fn rewards_contracts(
    provider: &DynProvider,
    oracle: Address,
    block: u64,
) -> Result<Option<RewardsContracts>, DaemonError> {
    let at = BlockId::number(block);
    let module = OracleReport::new(oracle, provider.clone())
        .operatorsModule()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module"))?;
    if module.is_zero() {
        return Ok(None);
    }
    let module = OperatorsModule::new(module, provider.clone());
    let operator_rewards = module
        .operatorRewards()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module's OperatorRewards"))?;
    if operator_rewards.is_zero() {
        return Ok(None);
    }
    let bonds = module
        .contracts()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the operators module's contracts"))?
        .bonds;
    let vfp_pool = BondManager::new(bonds, provider.clone())
        .contracts()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the bond manager's contracts"))?
        .vfpPool;
    Ok((!vfp_pool.is_zero()).then_some(RewardsContracts { operator_rewards, vfp_pool }))
}

/// Reads the chain's side of [`LeafState`] at `block` (`leaf` is the caller's).
pub async fn leaf_state(
    provider: &DynProvider,
    c: RewardsContracts,
    leaf: Option<U256>,
    block: u64,
) -> Result<LeafState, DaemonError> {
    let at = BlockId::number(block);
    let vfp = VfpPool::new(c.vfp_pool, provider.clone());
    let claimed = OperatorRewards::new(c.operator_rewards, provider.clone())
        .claimed(c.vfp_pool)
        .block(at)
        .call()
        .await
        .map_err(rpc("read what OperatorRewards paid the VfpPool"))?;
    let booking = vfp
        .operatorRewards()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the VfpPool's OperatorRewards"))?;
    let pending = vfp
        .pendingRewards()
        .block(at)
        .call()
        .await
        .map_err(rpc("read the VfpPool's unbooked rewards"))?;
    Ok(LeafState { leaf, claimed, pending, wired: booking == c.operator_rewards })
}

/// Sends `VfpPool.claimRewards(cumulative, proof)` (`Some`) or `syncRewards()` (`None`) through
/// `sender` (receipt awaited at most its timeout; a stuck earlier transaction replaced); returns
/// the transaction hash and the shares booked (`RewardsReceived`, 0 when another call was
/// first) once mined successfully.
pub async fn send_booking(
    provider: &DynProvider,
    sender: &chain::TxSender,
    vfp_pool: Address,
    claim: Option<(U256, Vec<B256>)>,
) -> Result<(B256, U256), DaemonError> {
    let vfp = VfpPool::new(vfp_pool, provider.clone());
    let tx = match claim {
        Some((cumulative, proof)) => vfp.claimRewards(cumulative, proof).into_transaction_request(),
        None => vfp.syncRewards().into_transaction_request(),
    };
    let receipt = sender.send(provider, tx, "send the VfpPool's rewards booking").await?;
    let booked = receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == vfp_pool)
        .filter_map(|l| l.log_decode::<VfpPool::RewardsReceived>().ok())
        .fold(U256::ZERO, |sum, e| sum.saturating_add(e.inner.data.csShares));
    Ok((receipt.transaction_hash, booked))
}

impl Worker {
    /// One booking step (see the module doc); failures are logged and counted, never returned.
    pub(super) async fn book_vfp_rewards(&self, view: &chain::FrameView) {
        if let Err(e) = self.vfp_step(view).await {
            inc(&self.metrics.vfp_claim_failures);
            tracing::warn!(target: "oracle::vfp", error = %e, "booking the VfpPool's rewards failed; retrying next tick");
        }
    }

    fn vfp_state(&self) -> Result<std::sync::MutexGuard<'_, BookingState>, DaemonError> {
        self.vfp.lock().map_err(|_| DaemonError::Setup("the VfpPool booking state lock".into()))
    }

    fn vfp_settle(&self, last_ref_slot: u64) -> Result<(), DaemonError> {
        let mut s = self.vfp_state()?;
        s.settled_at = Some(last_ref_slot);
        s.first_seen = None;
        Ok(())
    }

    async fn vfp_step(&self, view: &chain::FrameView) -> Result<(), DaemonError> {
        let last = view.last_ref_slot;
        // nothing reported yet, or this report's root already booked
        if last == 0 || self.vfp_state()?.settled_at == Some(last) {
            return Ok(());
        }
        let block = self.provider.get_block_number().await.map_err(rpc("read the block number"))?;
        let cached = self.vfp_state()?.contracts.filter(|(at, _)| *at == last).map(|(_, c)| c);
        let contracts = match cached {
            Some(c) => c,
            None => {
                let c =
                    rewards_contracts(&self.provider, self.cfg.pool.oracle_report, block).await?;
                self.vfp_state()?.contracts = Some((last, c));
                c
            }
        };
        let Some(c) = contracts else { return self.vfp_settle(last) };
        let on_chain = rewards::read_chain(&self.provider, c.operator_rewards, block).await?;
        if on_chain.root.is_zero() {
            return self.vfp_settle(last);
        }
        let leaf = self.vfp_leaf(on_chain, c.vfp_pool).await?;
        let state =
            leaf_state(&self.provider, c, leaf.as_ref().map(|l| l.cumulative), block).await?;
        let action = decide(&state);
        let root = on_chain.root;
        match action {
            Action::NoLeaf | Action::Booked => {
                tracing::debug!(target: "oracle::vfp", %root, ?action, "nothing to book for the VfpPool");
                return self.vfp_settle(last);
            }
            Action::NotWired => {
                tracing::warn!(target: "oracle::vfp", %root, vfp_pool = %c.vfp_pool, operator_rewards = %c.operator_rewards, "the VfpPool does not book this OperatorRewards (VfpPool.setOperatorRewards): its leaf is not claimed");
                return self.vfp_settle(last);
            }
            Action::Sync | Action::Claim => {}
        }
        // staggered: usually one member sends, the others then find the leaf booked
        let me = self.cfg.member_key.address();
        let rank = view.members.iter().filter(|m| **m < me).count();
        let submitted = self.store.load(last)?.is_some_and(|r| r.submitted_tx.is_some());
        let since = {
            let mut s = self.vfp_state()?;
            match s.first_seen {
                Some((r, t)) if r == root => t,
                _ => {
                    let now = Instant::now();
                    s.first_seen = Some((root, now));
                    now
                }
            }
        };
        if since.elapsed() < stagger(rank, submitted) {
            return Ok(());
        }
        // `Claim` always has a leaf (`decide` says `NoLeaf` without one); `Sync` needs no proof
        let claim = match (action, leaf) {
            (Action::Claim, Some(l)) => Some((l.cumulative, l.proof)),
            _ => None,
        };
        let (tx, booked) = send_booking(&self.provider, &self.sender, c.vfp_pool, claim).await?;
        inc(&self.metrics.vfp_claims);
        tracing::info!(
            target: "oracle::vfp",
            %root, %tx, %booked,
            leaf = %state.leaf.unwrap_or_default(),
            paid_before = %state.claimed,
            call = if action == Action::Claim { "claimRewards" } else { "syncRewards" },
            member = %self.cfg.member_key.address(),
            "VfpPool rewards booked"
        );
        self.vfp_settle(last)
    }

    /// The VfpPool's leaf of the on-chain root, with its proof: from the member's tree of that
    /// root, else from a peer's (checked against the chain and stored, as for the next report).
    async fn vfp_leaf(
        &self,
        on_chain: rewards::ChainRewards,
        vfp_pool: Address,
    ) -> Result<Option<Leaf>, DaemonError> {
        let root = on_chain.root;
        if let Some((r, pool, leaf)) = &self.vfp_state()?.leaf
            && *r == root
            && *pool == vfp_pool
        {
            return Ok(leaf.clone());
        }
        let doc = match self.trees.load(root)? {
            Some(doc) => doc,
            None => {
                rewards::rewards_state(
                    &self.trees,
                    &self.http,
                    &self.cfg.peers,
                    on_chain,
                    &self.metrics,
                )
                .await?;
                self.trees.load(root)?.ok_or_else(|| {
                    DaemonError::Setup(format!(
                        "the rewards tree {root} was fetched but not stored"
                    ))
                })?
            }
        };
        let tree = doc.verify(root, on_chain.cumulative_shares).map_err(DaemonError::Tree)?;
        let leaf = doc
            .proof(&tree, vfp_pool)
            .map(|p| Leaf { cumulative: p.cumulative_shares, proof: p.proof });
        self.vfp_state()?.leaf = Some((root, vfp_pool, leaf.clone()));
        Ok(leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(leaf: Option<u64>, claimed: u64, pending: u64, wired: bool) -> LeafState {
        LeafState {
            leaf: leaf.map(U256::from),
            claimed: U256::from(claimed),
            pending: U256::from(pending),
            wired,
        }
    }

    #[test]
    fn a_leaf_is_claimed_until_paid_then_synced_until_booked() {
        // nothing paid yet, or an earlier root's leaf paid: claim the increment
        assert_eq!(decide(&state(Some(10), 0, 0, true)), Action::Claim);
        assert_eq!(decide(&state(Some(10), 7, 0, true)), Action::Claim);
        // unbooked shares of an earlier direct claim are booked by claimRewards too
        assert_eq!(decide(&state(Some(10), 7, 7, true)), Action::Claim);
        // paid up to the leaf by a direct claim on OperatorRewards: book it
        assert_eq!(decide(&state(Some(10), 10, 3, true)), Action::Sync);
        // paid and booked: nothing (idempotent: a second member sends nothing)
        assert_eq!(decide(&state(Some(10), 10, 0, true)), Action::Booked);
        assert_eq!(decide(&state(Some(10), 12, 0, true)), Action::Booked);
    }

    #[test]
    fn no_leaf_or_a_pool_booking_another_contract_sends_nothing() {
        assert_eq!(decide(&state(None, 0, 0, true)), Action::NoLeaf);
        assert_eq!(decide(&state(None, 0, 5, true)), Action::NoLeaf);
        assert_eq!(decide(&state(Some(10), 0, 0, false)), Action::NotWired);
        assert_eq!(decide(&state(Some(10), 10, 4, false)), Action::NotWired);
    }

    #[test]
    fn the_submitter_books_at_once_the_others_by_rank() {
        assert_eq!(stagger(0, true), Duration::ZERO);
        assert_eq!(stagger(2, true), Duration::ZERO);
        assert_eq!(stagger(0, false), SUBMIT_STAGGER);
        assert_eq!(stagger(2, false), SUBMIT_STAGGER * 3);
        assert_eq!(stagger(usize::MAX, false), SUBMIT_STAGGER.saturating_mul(u32::MAX));
    }
}
