//! Staker actions on one pool (public csETH or KYC kcsETH): stake, unstake through the queue,
//! claim finalized tickets, Flash Exit with a fee cap, and a status view.

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
};
use claystack_bindings::{
    deployment::PoolAddresses, oracle_report::OracleReport, stake_pool::StakePool,
    withdrawal_queue::WithdrawalQueue,
};
use claystack_consensus::Wei;

use crate::{
    amount::format_eth,
    error::{CallContext as _, ClientError},
    tx::{Mined, Progress, wait},
};

/// Basis points in one.
pub const BPS: u64 = 10_000;
/// Tickets listed per `requestsOf` page (bounds the node's work per call).
const TICKET_PAGE: u64 = 1_000;
/// Most ticket pages scanned for one status (1,000,000 requests).
const MAX_TICKET_PAGES: u64 = 1_000;

/// Which of the two pools (same code, two instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// The public pool (csETH).
    Public,
    /// The permissioned KYC pool (kcsETH).
    Kyc,
}

impl PoolKind {
    /// The pool's token symbol.
    #[must_use]
    pub const fn token(self) -> &'static str {
        match self {
            Self::Public => "csETH",
            Self::Kyc => "kcsETH",
        }
    }
}

/// What to unstake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnstakeAmount {
    /// This much ETH worth of shares.
    Ether(Wei),
    /// All shares of the sender.
    All,
}

/// A stake that went through.
#[derive(Debug, Clone)]
pub struct Staked {
    /// ETH deposited.
    pub amount: Wei,
    /// Shares minted.
    pub shares: U256,
    /// The transaction.
    pub tx: Mined,
}

/// A withdrawal request that went through.
#[derive(Debug, Clone)]
pub struct Unstaked {
    /// The ticket (ERC-721 id).
    pub ticket: U256,
    /// Shares locked.
    pub shares: U256,
    /// Their ETH value at request time (the payout's upper bound).
    pub ether: Wei,
    /// The transaction.
    pub tx: Mined,
}

/// A Flash Exit quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashQuote {
    /// Shares burned.
    pub shares: U256,
    /// ETH paid out.
    pub eth_out: Wei,
    /// Fee kept by the pool.
    pub fee: Wei,
}

impl FlashQuote {
    /// The fee in basis points of the gross amount, rounded up.
    #[must_use]
    pub fn fee_bps(&self) -> u64 {
        let gross = self.eth_out.0.saturating_add(self.fee.0);
        if gross == 0 {
            return 0;
        }
        let bps = self.fee.0.saturating_mul(u128::from(BPS)).div_ceil(gross);
        u64::try_from(bps).unwrap_or(u64::MAX)
    }
}

/// A Flash Exit that went through.
#[derive(Debug, Clone)]
pub struct FlashExited {
    /// The quote it was made at.
    pub quote: FlashQuote,
    /// The minimum accepted.
    pub min_out: Wei,
    /// The transaction.
    pub tx: Mined,
}

/// One withdrawal ticket and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Its id.
    pub id: U256,
    /// ETH value when requested.
    pub ether_at_request: Wei,
    /// Finalized or waiting.
    pub state: TicketState,
}

/// Where a ticket stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketState {
    /// Finalized: claimable for this much.
    Claimable(Wei),
    /// Waiting in the queue.
    Pending {
        /// 1 = next to be finalized.
        position: U256,
        /// Unix time by which the next oracle report is due (the earliest finalization).
        next_report_by: u64,
    },
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            TicketState::Claimable(v) => {
                write!(f, "ticket #{}: finalized, claimable {}", self.id, format_eth(*v))
            }
            TicketState::Pending { position, next_report_by } => write!(
                f,
                "ticket #{}: pending ({} requested), position {} in the queue, \
                 earliest finalization at the next oracle report (due by unix {})",
                self.id,
                format_eth(self.ether_at_request),
                position,
                next_report_by
            ),
        }
    }
}

/// Claims made and tickets still waiting.
#[derive(Debug, Clone)]
pub struct ClaimOutcome {
    /// Tickets claimed and the ETH each paid.
    pub claimed: Vec<(U256, Wei)>,
    /// Tickets not finalized yet.
    pub pending: Vec<Ticket>,
    /// The claim transaction, when one was sent.
    pub tx: Option<Mined>,
}

/// A pool-wide and per-account view.
#[derive(Debug, Clone)]
pub struct Status {
    /// The account.
    pub account: Address,
    /// Its shares.
    pub shares: U256,
    /// Their ETH value now.
    pub ether: Wei,
    /// ETH per share, 1e27 precision.
    pub share_rate: U256,
    /// Its unclaimed tickets.
    pub tickets: Vec<Ticket>,
    /// Total pooled ETH (TVL).
    pub total_pooled: Wei,
    /// ETH in the buffer.
    pub buffered: Wei,
    /// Buffer not owed to the queue (depositable / Flash Exit liquidity).
    pub depositable: Wei,
    /// Withdrawal requests made so far.
    pub last_request_id: U256,
    /// Last finalized request.
    pub last_finalized_request_id: U256,
    /// ETH the queue still owes to unfinalized requests.
    pub unfinalized: Wei,
    /// ETH locked for finalized, unclaimed requests.
    pub locked: Wei,
    /// Whether deposits are paused.
    pub paused: bool,
}

impl Status {
    /// The share rate as ETH per whole token, e.g. `1.0003 ETH`.
    #[must_use]
    pub fn rate_text(&self) -> String {
        // 1e27 rate → wei per 1e18 shares: divide by 1e9
        let per_token = self.share_rate / U256::from(1_000_000_000u64);
        u128::try_from(per_token)
            .map_or_else(|_| self.share_rate.to_string(), |w| format_eth(Wei(w)))
    }
}

/// Converts a chain amount to [`Wei`].
pub fn wei(what: &'static str, v: U256) -> Result<Wei, ClientError> {
    u128::try_from(v).map(Wei).map_err(|_| ClientError::OutOfRange { what, value: v.to_string() })
}

/// One pool, seen through a provider.
#[derive(Debug, Clone)]
pub struct Pool {
    provider: DynProvider,
    addrs: PoolAddresses,
    kind: PoolKind,
}

impl Pool {
    /// The pool at `addrs`.
    #[must_use]
    pub fn new(provider: DynProvider, addrs: PoolAddresses, kind: PoolKind) -> Self {
        Self { provider, addrs, kind }
    }

    /// Which pool this is.
    #[must_use]
    pub const fn kind(&self) -> PoolKind {
        self.kind
    }

    fn pool(&self) -> StakePool::StakePoolInstance<DynProvider> {
        StakePool::new(self.addrs.stake_pool, self.provider.clone())
    }

    fn queue(&self) -> WithdrawalQueue::WithdrawalQueueInstance<DynProvider> {
        WithdrawalQueue::new(self.addrs.withdrawal_queue, self.provider.clone())
    }

    /// Deposits `amount` ETH for the sender. The gas estimate runs the call first, so a deposit
    /// that would revert (below minimum, limit, paused, not attested) is never sent.
    pub async fn stake(&self, amount: Wei, progress: &dyn Progress) -> Result<Staked, ClientError> {
        const ACTION: &str = "stake";
        let pending =
            self.pool().deposit().value(U256::from(amount.0)).send().await.action(ACTION)?;
        let tx = wait(ACTION, pending, progress).await?;
        let shares = tx
            .receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<StakePool::Deposited>().ok())
            .map(|l| l.inner.data.shares)
            .ok_or(ClientError::MissingEvent {
                action: ACTION,
                hash: tx.hash,
                event: "Deposited",
            })?;
        Ok(Staked { amount, shares, tx })
    }

    /// Shares worth `amount` ETH now (rounded down by the contract).
    pub async fn shares_for(&self, amount: Wei) -> Result<U256, ClientError> {
        self.pool().convertToShares(U256::from(amount.0)).call().await.action("convert to shares")
    }

    /// Shares held by `account`.
    pub async fn shares_of(&self, account: Address) -> Result<U256, ClientError> {
        self.pool().balanceOf(account).call().await.action("read balance")
    }

    /// Requests a withdrawal through the queue; returns the ticket.
    pub async fn unstake(
        &self,
        owner: Address,
        amount: UnstakeAmount,
        progress: &dyn Progress,
    ) -> Result<Unstaked, ClientError> {
        const ACTION: &str = "unstake";
        let shares = match amount {
            UnstakeAmount::All => self.shares_of(owner).await?,
            UnstakeAmount::Ether(v) => self.shares_for(v).await?,
        };
        if shares.is_zero() {
            return Err(ClientError::Nothing(format!(
                "unstake: nothing to unstake ({owner} holds no {} for that amount)",
                self.kind.token()
            )));
        }
        let pending = self.queue().requestWithdrawal(shares, owner).send().await.action(ACTION)?;
        let tx = wait(ACTION, pending, progress).await?;
        let ev = tx
            .receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<WithdrawalQueue::WithdrawalRequested>().ok())
            .ok_or(ClientError::MissingEvent {
                action: ACTION,
                hash: tx.hash,
                event: "WithdrawalRequested",
            })?;
        let data = ev.inner.data;
        Ok(Unstaked {
            ticket: data.requestId,
            shares: data.shares,
            ether: wei("request ether", data.etherAmount)?,
            tx,
        })
    }

    /// The unclaimed tickets of `owner`, oldest first (bounded scan of `requestsOf` pages).
    pub async fn tickets_of(&self, owner: Address) -> Result<Vec<U256>, ClientError> {
        let last = self.queue().lastRequestId().call().await.action("read last request id")?;
        let mut ids = Vec::new();
        let mut from = U256::from(1u64);
        let page = U256::from(TICKET_PAGE);
        for _ in 0..MAX_TICKET_PAGES {
            if from > last {
                break;
            }
            let to = from.saturating_add(page).saturating_sub(U256::from(1u64));
            let found =
                self.queue().requestsOf(owner, from, to).call().await.action("list tickets")?;
            ids.extend(found);
            from = to.saturating_add(U256::from(1u64));
        }
        Ok(ids)
    }

    /// Where each ticket stands.
    pub async fn ticket_states(&self, ids: &[U256]) -> Result<Vec<Ticket>, ClientError> {
        let queue = self.queue();
        let finalized =
            queue.lastFinalizedRequestId().call().await.action("read finalized request id")?;
        let oracle = OracleReport::new(self.addrs.oracle_report, self.provider.clone());
        let frame = oracle.currentFrame().call().await.action("read oracle frame")?;
        let next_report_by = u64::try_from(frame.deadline).unwrap_or(u64::MAX);
        let last = queue.lastRequestId().call().await.action("read last request id")?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if id.is_zero() || id > last {
                return Err(ClientError::Nothing(format!(
                    "ticket #{id} does not exist (the queue has {last} requests)"
                )));
            }
            let req = queue.getRequest(id).call().await.action("read request")?;
            let ether_at_request = Wei(req.etherAtRequest);
            let state = if id <= finalized {
                let v = queue.claimableEther(id).call().await.action("read claimable ether")?;
                TicketState::Claimable(wei("claimable ether", v)?)
            } else {
                TicketState::Pending { position: id - finalized, next_report_by }
            };
            out.push(Ticket { id, ether_at_request, state });
        }
        Ok(out)
    }

    /// Claims the finalized ones among `tickets` (all of the owner's when empty) to the owner;
    /// reports the others as pending.
    pub async fn claim(
        &self,
        owner: Address,
        tickets: &[U256],
        progress: &dyn Progress,
    ) -> Result<ClaimOutcome, ClientError> {
        const ACTION: &str = "claim";
        let ids = if tickets.is_empty() { self.tickets_of(owner).await? } else { tickets.to_vec() };
        let states = self.ticket_states(&ids).await?;
        let mut claim_ids = Vec::new();
        let mut claimed = Vec::new();
        let mut pending = Vec::new();
        for t in states {
            match t.state {
                TicketState::Claimable(v) => {
                    claim_ids.push(t.id);
                    claimed.push((t.id, v));
                }
                TicketState::Pending { .. } => pending.push(t),
            }
        }
        if claim_ids.is_empty() {
            return Ok(ClaimOutcome { claimed, pending, tx: None });
        }
        let mut hints = Vec::with_capacity(claim_ids.len());
        for &id in &claim_ids {
            hints.push(self.queue().findCheckpointHint(id).call().await.action("find hint")?);
        }
        let pending_tx =
            self.queue().claimBatch(claim_ids, hints, owner).send().await.action(ACTION)?;
        let tx = wait(ACTION, pending_tx, progress).await?;
        // the events carry what was paid (equal to the views, unless the state moved meanwhile)
        let paid: Vec<(U256, Wei)> = tx
            .receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| l.log_decode::<WithdrawalQueue::WithdrawalClaimed>().ok())
            .map(|l| {
                (
                    l.inner.data.requestId,
                    Wei(u128::try_from(l.inner.data.etherAmount).unwrap_or(u128::MAX)),
                )
            })
            .collect();
        Ok(ClaimOutcome {
            claimed: if paid.is_empty() { claimed } else { paid },
            pending,
            tx: Some(tx),
        })
    }

    /// What a Flash Exit of `amount` ETH worth of shares would pay now.
    pub async fn flash_quote(
        &self,
        amount: UnstakeAmount,
        owner: Address,
    ) -> Result<FlashQuote, ClientError> {
        let shares = match amount {
            UnstakeAmount::All => self.shares_of(owner).await?,
            UnstakeAmount::Ether(v) => self.shares_for(v).await?,
        };
        if shares.is_zero() {
            return Err(ClientError::Nothing("flash-exit: nothing to exit".into()));
        }
        let q = self.pool().flashExitQuote(shares).call().await.action("quote flash exit")?;
        Ok(FlashQuote {
            shares,
            eth_out: wei("flash exit out", q.ethOut)?,
            fee: wei("flash exit fee", q.fee)?,
        })
    }

    /// Quotes, refuses a fee above `max_fee_bps`, then exits with `minEthOut` set so that the
    /// fee can never exceed `max_fee_bps` (and never pay less than `min_out` when given).
    pub async fn flash_exit(
        &self,
        owner: Address,
        amount: UnstakeAmount,
        max_fee_bps: u64,
        min_out: Option<Wei>,
        progress: &dyn Progress,
    ) -> Result<FlashExited, ClientError> {
        const ACTION: &str = "flash-exit";
        let quote = self.flash_quote(amount, owner).await?;
        if quote.fee_bps() > max_fee_bps {
            return Err(ClientError::FeeAboveMaximum {
                fee_bps: quote.fee_bps(),
                fee: format_eth(quote.fee),
                max_bps: max_fee_bps,
            });
        }
        let min_out = min_flash_out(quote, max_fee_bps, min_out);
        let pending = self
            .pool()
            .flashExit(quote.shares, U256::from(min_out.0))
            .send()
            .await
            .action(ACTION)?;
        let tx = wait(ACTION, pending, progress).await?;
        Ok(FlashExited { quote, min_out, tx })
    }

    /// Account and pool figures.
    pub async fn status(&self, account: Address) -> Result<Status, ClientError> {
        let pool = self.pool();
        let shares = self.shares_of(account).await?;
        let ether =
            wei("balance", pool.convertToAssets(shares).call().await.action("convert to assets")?)?;
        let share_rate = pool.shareRate().call().await.action("read share rate")?;
        let ids = self.tickets_of(account).await?;
        let tickets = self.ticket_states(&ids).await?;
        let q = self.queue().status().call().await.action("read queue status")?;
        Ok(Status {
            account,
            shares,
            ether,
            share_rate,
            tickets,
            total_pooled: wei(
                "total pooled ether",
                pool.totalPooledEther().call().await.action("read TVL")?,
            )?,
            buffered: wei(
                "buffered ether",
                pool.bufferedEther().call().await.action("read buffer")?,
            )?,
            depositable: wei(
                "depositable ether",
                pool.depositableEther().call().await.action("read depositable ether")?,
            )?,
            last_request_id: q.lastRequestId,
            last_finalized_request_id: q.lastFinalizedRequestId,
            unfinalized: wei("unfinalized ether", q.unfinalizedEther)?,
            locked: wei("locked ether", q.lockedEther)?,
            paused: pool.paused().call().await.action("read paused")?,
        })
    }
}

/// The `minEthOut` of a Flash Exit: gross × (1 − max fee), raised to `min_out` when given.
#[must_use]
pub fn min_flash_out(quote: FlashQuote, max_fee_bps: u64, min_out: Option<Wei>) -> Wei {
    let gross = quote.eth_out.0.saturating_add(quote.fee.0);
    let keep = u128::from(BPS.saturating_sub(max_fee_bps.min(BPS)));
    // gross ≤ u128::MAX / 1e4 in practice; fall back to the quoted amount if not
    let by_fee = gross.checked_mul(keep).map_or(quote.eth_out.0, |v| v.div_ceil(u128::from(BPS)));
    Wei(by_fee.max(min_out.map_or(0, |m| m.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH: u128 = crate::amount::WEI_PER_ETH;

    #[test]
    fn fee_bps_rounds_up() {
        let q = FlashQuote {
            shares: U256::ZERO,
            eth_out: Wei(995 * ETH / 1000),
            fee: Wei(5 * ETH / 1000),
        };
        assert_eq!(q.fee_bps(), 50);
        let q = FlashQuote { shares: U256::ZERO, eth_out: Wei(9_999), fee: Wei(1) };
        assert_eq!(q.fee_bps(), 1);
        let q = FlashQuote { shares: U256::ZERO, eth_out: Wei(0), fee: Wei(0) };
        assert_eq!(q.fee_bps(), 0);
    }

    #[test]
    fn min_out_caps_the_fee() {
        let q = FlashQuote {
            shares: U256::ZERO,
            eth_out: Wei(995 * ETH / 1000),
            fee: Wei(5 * ETH / 1000),
        };
        assert_eq!(min_flash_out(q, 100, None), Wei(99 * ETH / 100));
        assert_eq!(min_flash_out(q, 50, None), Wei(995 * ETH / 1000));
        assert_eq!(min_flash_out(q, 100, Some(Wei(2 * ETH))), Wei(2 * ETH));
        // the computed minimum is always ≤ what the quote pays when the fee is within the cap
        assert!(min_flash_out(q, 60, None) <= q.eth_out);
        assert_eq!(min_flash_out(q, 20_000, None), Wei(0));
    }

    #[test]
    fn ticket_lines() {
        let t = Ticket {
            id: U256::from(3u64),
            ether_at_request: Wei(2 * ETH),
            state: TicketState::Pending { position: U256::from(2u64), next_report_by: 100 },
        };
        let s = t.to_string();
        assert!(s.contains("ticket #3: pending (2 ETH requested), position 2"), "{s}");
        let t = Ticket { state: TicketState::Claimable(Wei(ETH)), ..t };
        assert_eq!(t.to_string(), "ticket #3: finalized, claimable 1 ETH");
    }
}
