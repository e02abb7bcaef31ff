//! The store: raw logs, decoded events and the derived tables, written one block range per
//! transaction, rolled back to a fork point in one transaction, and read by the API.
//!
//! Derived rows are append-only and carry the block that produced them; the current value of an
//! entity (a pool, a position, a ticket) is its latest row. That makes a rollback a plain
//! `DELETE … WHERE block_number > fork` over every block table, with nothing to undo by hand.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::{
    db::{self, BLOCK_TABLES, Db, DbError, Dialect, Row, Val},
    decode::{self, Contract, Effect, Source},
};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A number does not fit the column (block numbers beyond `i64::MAX`, ids beyond `u64`).
    #[error("{what} out of range: {value}")]
    OutOfRange {
        /// What was converted.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// Arithmetic over stored amounts overflowed or went negative: the chain and the store disagree.
    #[error("accounting {op} overflow in {what}")]
    Arithmetic {
        /// add or sub.
        op: &'static str,
        /// The quantity.
        what: &'static str,
    },
    /// A stored JSON document could not be read back.
    #[error("stored json in {what}: {source}")]
    Json {
        /// Which table.
        what: &'static str,
        /// The error.
        source: serde_json::Error,
    },
}

/// One log as fetched from the node, with what the store needs besides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedLog {
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block timestamp (seconds).
    pub block_time: u64,
    /// Index of the log in its block.
    pub log_index: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Emitting contract.
    pub address: Address,
    /// Topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Vec<u8>,
    /// Input of the emitting transaction, fetched only for oracle reports (validator counts).
    pub tx_input: Option<Vec<u8>>,
}

/// A block range ready to commit.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Last block of the range (the new cursor).
    pub to_block: u64,
    /// Its hash.
    pub to_hash: B256,
    /// Its timestamp.
    pub to_time: u64,
    /// The range's logs of followed contracts, in chain order.
    pub logs: Vec<IndexedLog>,
}

/// Pool-wide state, maintained from events (invariant 1 of DESIGN.md: total pooled ether changes
/// only by deposits, withdrawals, oracle reports and flash exits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolState {
    /// Total pooled ether (wei, decimal).
    pub total_pooled: String,
    /// Total shares (decimal).
    pub total_shares: String,
    /// Last withdrawal request id.
    pub last_request_id: u64,
    /// Last finalized request id.
    pub finalized_to: u64,
    /// Cumulative ether requested into the queue (decimal).
    pub requested_ether_cum: String,
    /// Reports applied.
    pub reports: u64,
    /// Time of the last applied report.
    pub last_report_time: u64,
    /// Deposits made.
    pub deposits: u64,
    /// The insurance fund's address, once known.
    pub insurance_fund: Option<Address>,
}

/// Stored data of a withdrawal ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketData {
    /// Shares locked.
    pub shares: String,
    /// ETH value at request.
    pub ether: String,
    /// Cumulative ETH requested up to and including this ticket.
    pub cum_ether: String,
    /// Claimed amount, once claimed.
    pub claimed: Option<String>,
    /// Request time.
    pub requested_at: u64,
}

fn parse_u256(s: &str, what: &'static str) -> Result<U256, StoreError> {
    if s.is_empty() {
        return Ok(U256::ZERO);
    }
    s.parse().map_err(|_| StoreError::OutOfRange { what, value: s.to_owned() })
}

fn add(a: U256, b: U256, what: &'static str) -> Result<U256, StoreError> {
    a.checked_add(b).ok_or(StoreError::Arithmetic { op: "add", what })
}

fn sub(a: U256, b: U256, what: &'static str) -> Result<U256, StoreError> {
    a.checked_sub(b).ok_or(StoreError::Arithmetic { op: "sub", what })
}

fn int(v: u64, what: &'static str) -> Result<Val, StoreError> {
    i64::try_from(v)
        .map(Val::Int)
        .map_err(|_| StoreError::OutOfRange { what, value: v.to_string() })
}

fn small(v: U256, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::OutOfRange { what, value: v.to_string() })
}

fn addr_key(a: &Address) -> String {
    format!("{a:#x}")
}

/// Counts of what one [`Store::apply`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Logs stored.
    pub logs: u64,
}

/// Log index of rows the follower derives from contract views at the end of a range (bond
/// checks): far above any real log index, one slot per operator and pool (`2·id + pool`).
pub const SYNTHETIC_LOG_INDEX: u64 = 1 << 40;

/// The indexer's database.
pub struct Store {
    db: Box<dyn Db>,
    sources: HashMap<Address, Source>,
    unknown_events: u64,
    touched: Vec<(&'static str, u64)>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dialect", &self.db.dialect()).finish_non_exhaustive()
    }
}

/// Pending per-entity writes of one block, flushed when the block changes.
#[derive(Default)]
struct Pending {
    operators: std::collections::BTreeSet<(&'static str, u64)>,
    pools: HashMap<&'static str, (PoolState, u64)>,
    positions: HashMap<(&'static str, Address), (U256, u64)>,
}

impl Store {
    /// Wraps a database, applying pending migrations.
    pub fn open(mut db: Box<dyn Db>, sources: &[Source]) -> Result<Self, StoreError> {
        db::migrate(db.as_mut())?;
        Ok(Self {
            db,
            sources: sources.iter().map(|s| (s.address, *s)).collect(),
            unknown_events: 0,
            touched: Vec::new(),
        })
    }

    /// The engine behind the store.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Direct access for the API's read queries.
    pub fn db(&mut self) -> &mut dyn Db {
        self.db.as_mut()
    }

    /// The last indexed block and its hash.
    pub fn cursor(&mut self) -> Result<Option<(u64, B256)>, StoreError> {
        let rows =
            self.db.query("SELECT block_number, block_hash FROM cursor WHERE id = 0", &[])?;
        let Some(r) = rows.first() else { return Ok(None) };
        Ok(Some((read_u64(r, 0, "cursor")?, read_b256(r, 1, "cursor")?)))
    }

    /// Stored block hashes at or below `below`, newest first (fork-point search).
    pub fn blocks_desc(&mut self, below: u64, limit: u64) -> Result<Vec<(u64, B256)>, StoreError> {
        let rows = self.db.query(
            "SELECT number, hash FROM blocks WHERE number <= $1 ORDER BY number DESC LIMIT $2",
            &[int(below, "block")?, int(limit, "limit")?],
        )?;
        rows.iter().map(|r| Ok((read_u64(r, 0, "blocks")?, read_b256(r, 1, "blocks")?))).collect()
    }

    fn in_tx<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.batch("BEGIN")?;
        match f(self) {
            Ok(v) => {
                self.db.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                if let Err(rb) = self.db.batch("ROLLBACK") {
                    tracing::error!(target: "indexer::store", error = %rb, "roll back a failed batch");
                }
                Err(e)
            }
        }
    }

    /// Deletes everything past `fork` and moves the cursor to it, in one transaction.
    pub fn rollback_to(&mut self, fork: u64, fork_hash: B256) -> Result<(), StoreError> {
        self.in_tx(|s| {
            let f = int(fork, "fork block")?;
            for t in BLOCK_TABLES {
                let col = if *t == "blocks" { "number" } else { "block_number" };
                s.db.exec(&format!("DELETE FROM {t} WHERE {col} > $1"), std::slice::from_ref(&f))?;
            }
            s.set_cursor(fork, fork_hash)
        })
    }

    fn set_cursor(&mut self, block: u64, hash: B256) -> Result<(), StoreError> {
        let args = [int(block, "block")?, Val::Text(hash.to_string())];
        if self
            .db
            .exec("UPDATE cursor SET block_number = $1, block_hash = $2 WHERE id = 0", &args)?
            == 0
        {
            self.db.exec(
                "INSERT INTO cursor (id, block_number, block_hash) VALUES (0, $1, $2)",
                &args,
            )?;
        }
        Ok(())
    }

    /// Stores a block range: raw logs, decoded events, derived rows, block hashes and the cursor,
    /// all in one transaction.
    pub fn apply(&mut self, batch: &Batch) -> Result<ApplyStats, StoreError> {
        self.in_tx(|s| s.apply_inner(batch))
    }

    fn apply_inner(&mut self, batch: &Batch) -> Result<ApplyStats, StoreError> {
        self.touched.clear();
        let mut pending = Pending::default();
        let mut current_block: Option<(u64, u64)> = None;
        let mut blocks: BTreeMap<u64, (B256, u64)> = BTreeMap::new();
        for log in &batch.logs {
            if current_block.map(|(n, _)| n) != Some(log.block_number) {
                self.flush(&mut pending, current_block)?;
                current_block = Some((log.block_number, log.block_time));
            }
            blocks.insert(log.block_number, (log.block_hash, log.block_time));
            self.apply_log(log, &mut pending)?;
        }
        self.flush(&mut pending, current_block)?;
        self.touched.extend(pending.operators.iter().copied());
        blocks.insert(batch.to_block, (batch.to_hash, batch.to_time));
        for (n, (h, t)) in blocks {
            self.db.exec("DELETE FROM blocks WHERE number = $1", &[int(n, "block")?])?;
            self.db.exec(
                "INSERT INTO blocks (number, hash, time) VALUES ($1, $2, $3)",
                &[int(n, "block")?, Val::Text(h.to_string()), int(t, "time")?],
            )?;
        }
        self.set_cursor(batch.to_block, batch.to_hash)?;
        Ok(ApplyStats { logs: batch.logs.len() as u64 })
    }

    fn apply_log(&mut self, log: &IndexedLog, p: &mut Pending) -> Result<(), StoreError> {
        let bn = int(log.block_number, "block")?;
        let li = int(log.log_index, "log index")?;
        let bt = int(log.block_time, "time")?;
        self.db.exec(
            "INSERT INTO raw_logs (block_number, log_index, block_hash, tx_hash, address, topics, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                bn.clone(),
                li.clone(),
                Val::Text(log.block_hash.to_string()),
                Val::Text(log.tx_hash.to_string()),
                Val::Text(addr_key(&log.address)),
                Val::Text(log.topics.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
                Val::Text(alloy::hex::encode_prefixed(&log.data)),
            ],
        )?;
        let Some(source) = self.sources.get(&log.address).copied() else {
            return Ok(()); // not followed: kept raw only
        };
        // An upgradeable contract may emit events newer than our bindings: keep the raw log, mark
        // the event unknown and go on (halting would stop the whole index on an upgrade).
        let decoded = match decode::decode(source.contract, &log.topics, &log.data) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(target: "indexer::store", error = %e, block = log.block_number, "unknown event kept raw");
                self.unknown_events = self.unknown_events.saturating_add(1);
                decode::Decoded { name: "unknown", args: e.to_string(), effect: None }
            }
        };
        self.db.exec(
            "INSERT INTO events (block_number, log_index, block_time, contract, pool, name, args) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                bn.clone(),
                li.clone(),
                bt.clone(),
                Val::from(source.contract.name()),
                Val::from(source.pool),
                Val::from(decoded.name),
                Val::Text(decoded.args),
            ],
        )?;
        let Some(effect) = decoded.effect else { return Ok(()) };
        let pool = source.pool;
        match effect {
            Effect::Deposited { amount, shares, .. } => {
                let st = self.pool_mut(p, pool, log.log_index)?;
                let first = st.deposits == 0;
                st.total_pooled =
                    add(parse_u256(&st.total_pooled, "pool")?, amount, "total pooled")?.to_string();
                st.deposits = st.deposits.saturating_add(1);
                // The pool's seed deposit fixes the starting rate: the baseline of the rate
                // history, so the first report's growth shows in the APR.
                if first && !shares.is_zero() {
                    let rate = amount
                        .checked_mul(U256::from(10u64).pow(U256::from(27u64)))
                        .ok_or(StoreError::Arithmetic { op: "mul", what: "rate" })?
                        / shares;
                    self.db.exec(
                        "INSERT INTO rates (pool, block_number, log_index, block_time, ref_slot, total_pooled, total_shares, rate_e27) VALUES ($1, $2, $3, $4, 0, $5, $6, $7)",
                        &[
                            Val::from(pool),
                            bn,
                            li,
                            bt,
                            Val::Text(amount.to_string()),
                            Val::Text(shares.to_string()),
                            Val::Text(rate.to_string()),
                        ],
                    )?;
                }
            }
            Effect::ShareTransfer { from, to, value } => {
                if from == Address::ZERO || to == Address::ZERO {
                    let st = self.pool_mut(p, pool, log.log_index)?;
                    let shares = parse_u256(&st.total_shares, "pool")?;
                    st.total_shares = if from == Address::ZERO {
                        add(shares, value, "total shares")?
                    } else {
                        sub(shares, value, "total shares")?
                    }
                    .to_string();
                }
                if from != Address::ZERO {
                    let bal = self.position_mut(p, pool, from, log.log_index)?;
                    *bal = sub(*bal, value, "position")?;
                }
                if to != Address::ZERO {
                    let bal = self.position_mut(p, pool, to, log.log_index)?;
                    *bal = add(*bal, value, "position")?;
                }
            }
            Effect::FlashExited { eth_out } => {
                let st = self.pool_mut(p, pool, log.log_index)?;
                st.total_pooled =
                    sub(parse_u256(&st.total_pooled, "pool")?, eth_out, "total pooled")?
                        .to_string();
            }
            Effect::ReportApplied { ref_slot, post_total, total_shares } => {
                let rate = if total_shares.is_zero() {
                    U256::ZERO
                } else {
                    post_total
                        .checked_mul(U256::from(10u64).pow(U256::from(27u64)))
                        .ok_or(StoreError::Arithmetic { op: "mul", what: "rate" })?
                        / total_shares
                };
                let st = self.pool_mut(p, pool, log.log_index)?;
                st.total_pooled = post_total.to_string();
                st.reports = st.reports.saturating_add(1);
                st.last_report_time = log.block_time;
                self.db.exec(
                    "INSERT INTO rates (pool, block_number, log_index, block_time, ref_slot, total_pooled, total_shares, rate_e27) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        Val::from(pool),
                        bn,
                        li,
                        bt,
                        int(small(ref_slot, "ref slot")?, "ref slot")?,
                        Val::Text(post_total.to_string()),
                        Val::Text(total_shares.to_string()),
                        Val::Text(rate.to_string()),
                    ],
                )?;
            }
            Effect::PoolFinalized { ether_locked } => {
                let st = self.pool_mut(p, pool, log.log_index)?;
                st.total_pooled =
                    sub(parse_u256(&st.total_pooled, "pool")?, ether_locked, "total pooled")?
                        .to_string();
            }
            Effect::FeeRecipients { insurance_fund } => {
                self.pool_mut(p, pool, log.log_index)?.insurance_fund = Some(insurance_fund);
            }
            Effect::FeeMinted { .. } => {}
            Effect::ReportSubmitted { ref_slot, report_hash, submitter, signatures } => {
                let validators = log.tx_input.as_deref().and_then(decode::report_validators);
                let data = serde_json::json!({
                    "reportHash": report_hash.to_string(),
                    "submitter": addr_key(&submitter),
                    "signatures": signatures.to_string(),
                    "txHash": log.tx_hash.to_string(),
                    "validators": validators,
                });
                self.db.exec(
                    "INSERT INTO reports (pool, block_number, log_index, block_time, ref_slot, data) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        Val::from(pool),
                        bn,
                        li,
                        bt,
                        int(small(ref_slot, "ref slot")?, "ref slot")?,
                        Val::Text(data.to_string()),
                    ],
                )?;
            }
            Effect::WithdrawalRequested { id, owner, shares, ether } => {
                let id = small(id, "request id")?;
                let st = self.pool_mut(p, pool, log.log_index)?;
                st.last_request_id = st.last_request_id.max(id);
                let cum = add(parse_u256(&st.requested_ether_cum, "pool")?, ether, "queue")?;
                st.requested_ether_cum = cum.to_string();
                let data = TicketData {
                    shares: shares.to_string(),
                    ether: ether.to_string(),
                    cum_ether: cum.to_string(),
                    claimed: None,
                    requested_at: log.block_time,
                };
                self.write_ticket(pool, id, log, owner, &data)?;
            }
            Effect::QueueFinalized { to } => {
                let to = small(to, "request id")?;
                let st = self.pool_mut(p, pool, log.log_index)?;
                st.finalized_to = st.finalized_to.max(to);
            }
            Effect::WithdrawalClaimed { id, amount } => {
                let id = small(id, "request id")?;
                if let Some((owner, mut data)) = self.ticket(pool, id)? {
                    data.claimed = Some(amount.to_string());
                    self.write_ticket(pool, id, log, owner, &data)?;
                }
            }
            Effect::Operator { id, change } => {
                let id = small(id, "operator id")?;
                self.apply_operator(pool, id, log, change)?;
                p.operators.insert((pool, id));
            }
            Effect::RewardsClaimed { account, shares, cumulative_shares } => {
                self.row_rewards(
                    pool,
                    log,
                    "claim",
                    &addr_key(&account),
                    &serde_json::json!({
                        "shares": shares.to_string(),
                        "cumulativeShares": cumulative_shares.to_string(),
                    }),
                )?;
                // Rewards are claimed by reward address; credit the operator(s) using it.
                let rows = self.db.query(
                    "SELECT o.operator_id, o.data FROM operators o WHERE o.pool = $1 AND NOT EXISTS (SELECT 1 FROM operators n WHERE n.pool = o.pool AND n.operator_id = o.operator_id AND (n.block_number > o.block_number OR (n.block_number = o.block_number AND n.log_index > o.log_index)))",
                    &[Val::from(pool)],
                )?;
                let key = addr_key(&account);
                for r in &rows {
                    let op = read_u64(r, 0, "operators")?;
                    let data: serde_json::Value =
                        serde_json::from_str(&read_text(r, 1, "operators")?)
                            .map_err(|source| StoreError::Json { what: "operators", source })?;
                    if data.get("rewardAddress").and_then(|v| v.as_str()) == Some(key.as_str()) {
                        self.apply_operator(
                            pool,
                            op,
                            log,
                            decode::OperatorChange::RewardAddress(account),
                        )
                        .and_then(|()| {
                            self.bump_rewards(pool, op, log, shares, cumulative_shares)
                        })?;
                        break;
                    }
                }
            }
            Effect::RewardsRoot { root, cumulative_shares, ref_slot } => {
                self.row_rewards(
                    pool,
                    log,
                    "root",
                    "",
                    &serde_json::json!({
                        "root": root.to_string(),
                        "cumulativeShares": cumulative_shares.to_string(),
                        "refSlot": small(ref_slot, "ref slot")?,
                    }),
                )?;
            }
            Effect::VfpRewardsBooked { from, shares } => {
                self.row_rewards(
                    pool,
                    log,
                    "vfp_booked",
                    &addr_key(&from),
                    &serde_json::json!({ "shares": shares.to_string() }),
                )?;
            }
            Effect::InsuranceBurned { shares_requested, shares_burned } => {
                self.row_pool_event(
                    pool,
                    source.contract,
                    log,
                    "insurance_burn",
                    &serde_json::json!({
                        "sharesRequested": shares_requested.to_string(),
                        "sharesBurned": shares_burned.to_string(),
                    }),
                )?;
            }
            Effect::Swept { to, amount } => {
                self.row_pool_event(
                    pool,
                    source.contract,
                    log,
                    "swept",
                    &serde_json::json!({ "to": addr_key(&to), "amountWei": amount.to_string() }),
                )?;
            }
            Effect::VaultPulled { amount } => {
                self.row_pool_event(
                    pool,
                    source.contract,
                    log,
                    "vault_pulled",
                    &serde_json::json!({ "amountWei": amount.to_string() }),
                )?;
            }
            Effect::Eip7002Request { pubkey, fee } => {
                self.row_pool_event(
                    pool,
                    source.contract,
                    log,
                    "eip7002_request",
                    &serde_json::json!({ "pubkey": pubkey.to_string(), "feeWei": fee.to_string() }),
                )?;
            }
            Effect::ExtraDataChunk { ref_slot, index, chunk_hash, next_hash } => {
                self.row_report_part(
                    pool,
                    log,
                    ref_slot,
                    "chunk",
                    &serde_json::json!({
                        "index": small(index, "chunk index")?,
                        "chunkHash": chunk_hash.to_string(),
                        "nextHash": next_hash.to_string(),
                        "last": next_hash.is_zero(),
                    }),
                )?;
            }
            Effect::ExtraDataDropped { ref_slot, chunks_applied, next_hash } => {
                self.row_report_part(
                    pool,
                    log,
                    ref_slot,
                    "dropped",
                    &serde_json::json!({
                        "chunksApplied": small(chunks_applied, "chunk count")?,
                        "nextHash": next_hash.to_string(),
                    }),
                )?;
            }
            Effect::OperatorsPart {
                ref_slot,
                pre_deposits,
                front_run,
                penalties,
                exit_requests,
                rewards_root,
            } => {
                self.row_report_part(
                    pool,
                    log,
                    ref_slot,
                    "operators",
                    &serde_json::json!({
                        "preDeposits": small(pre_deposits, "list length")?,
                        "frontRun": small(front_run, "list length")?,
                        "penalties": small(penalties, "list length")?,
                        "exitRequests": small(exit_requests, "list length")?,
                        "rewardsRoot": (!rewards_root.is_zero()).then(|| rewards_root.to_string()),
                    }),
                )?;
            }
            Effect::Parameters(list) => {
                for (name, value) in list {
                    self.db.exec(
                        "INSERT INTO parameters (pool, contract, address, name, block_number, log_index, block_time, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &[
                            Val::from(pool),
                            Val::from(source.contract.name()),
                            Val::Text(addr_key(&log.address)),
                            Val::Text(name),
                            bn.clone(),
                            li.clone(),
                            bt.clone(),
                            Val::Text(value),
                        ],
                    )?;
                }
            }
            Effect::TicketTransfer { to, id } => {
                let id = small(id, "request id")?;
                // The mint is recorded by WithdrawalRequested (same transaction, later log);
                // transfers after it move ownership; the burn on claim keeps the last owner.
                if to != Address::ZERO
                    && let Some((owner, data)) = self.ticket(pool, id)?
                    && owner != to
                {
                    self.write_ticket(pool, id, log, to, &data)?;
                }
            }
        }
        Ok(())
    }

    /// The latest stored document of an operator (an empty object if unknown).
    pub fn operator_data(&mut self, pool: &str, id: u64) -> Result<serde_json::Value, StoreError> {
        let rows = self.db.query(
            "SELECT data FROM operators WHERE pool = $1 AND operator_id = $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool), int(id, "operator id")?],
        )?;
        match rows.first() {
            Some(r) => serde_json::from_str(&read_text(r, 0, "operators")?)
                .map_err(|source| StoreError::Json { what: "operators", source }),
            None => Ok(serde_json::json!({})),
        }
    }

    fn write_operator(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        // Several changes to one operator in one log (reward claim) replace the row.
        let key = [
            Val::from(pool),
            int(id, "operator id")?,
            int(log.block_number, "block")?,
            int(log.log_index, "log index")?,
        ];
        self.db.exec(
            "DELETE FROM operators WHERE pool = $1 AND operator_id = $2 AND block_number = $3 AND log_index = $4",
            &key,
        )?;
        self.db.exec(
            "INSERT INTO operators (pool, operator_id, block_number, log_index, data) VALUES ($1, $2, $3, $4, $5)",
            &[key[0].clone(), key[1].clone(), key[2].clone(), key[3].clone(), Val::Text(data.to_string())],
        )?;
        Ok(())
    }

    fn notice(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        kind: &str,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO operator_notices (pool, operator_id, block_number, log_index, block_time, kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                Val::from(pool),
                int(id, "operator id")?,
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::from(kind),
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    fn bump_rewards(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        shares: U256,
        cumulative: U256,
    ) -> Result<(), StoreError> {
        let mut d = self.operator_data(pool, id)?;
        let prev =
            parse_u256(d.get("rewardsShares").and_then(|v| v.as_str()).unwrap_or("0"), "rewards")?;
        d["rewardsShares"] = serde_json::json!(add(prev, shares, "rewards")?.to_string());
        // OperatorRewards' own record of the reward address's claimed total
        d["rewardsClaimedCumulativeShares"] = serde_json::json!(cumulative.to_string());
        self.write_operator(pool, id, log, &d)
    }

    fn row_rewards(
        &mut self,
        pool: &str,
        log: &IndexedLog,
        kind: &str,
        account: &str,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO rewards (pool, block_number, log_index, block_time, tx_hash, kind, account, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Val::from(pool),
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::Text(log.tx_hash.to_string()),
                Val::from(kind),
                Val::from(account),
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    fn row_pool_event(
        &mut self,
        pool: &str,
        contract: Contract,
        log: &IndexedLog,
        kind: &str,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO pool_events (pool, block_number, log_index, block_time, tx_hash, contract, address, kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                Val::from(pool),
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::Text(log.tx_hash.to_string()),
                Val::from(contract.name()),
                Val::Text(addr_key(&log.address)),
                Val::from(kind),
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    fn row_report_part(
        &mut self,
        pool: &str,
        log: &IndexedLog,
        ref_slot: U256,
        kind: &str,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO report_parts (pool, block_number, log_index, block_time, tx_hash, ref_slot, kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Val::from(pool),
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::Text(log.tx_hash.to_string()),
                int(small(ref_slot, "ref slot")?, "ref slot")?,
                Val::from(kind),
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one column each
    fn row_exit(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        key: u64,
        ref_slot: i64,
        kind: &str,
        deadline: u64,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO exit_requests (pool, operator_id, key_index, block_number, log_index, block_time, tx_hash, ref_slot, kind, deadline, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                Val::from(pool),
                int(id, "operator id")?,
                int(key, "key index")?,
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::Text(log.tx_hash.to_string()),
                Val::Int(ref_slot),
                Val::from(kind),
                int(deadline, "deadline")?,
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    fn row_loss(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        ref_slot: i64,
        cause: &str,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO losses (pool, operator_id, block_number, log_index, block_time, tx_hash, ref_slot, cause, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                Val::from(pool),
                int(id, "operator id")?,
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                int(log.block_time, "time")?,
                Val::Text(log.tx_hash.to_string()),
                Val::Int(ref_slot),
                Val::from(cause),
                Val::Text(data.to_string()),
            ],
        )?;
        Ok(())
    }

    /// Names the cause of the waterfall row `BondManager.LossCovered` wrote earlier in the same
    /// transaction for this operator (the module emits its event right after the waterfall), and
    /// returns the report's ref slot and the loss's layers. Without such a row (BondManager not
    /// followed) a row is written from the module's own figures, with the VFP and insurance
    /// parts together as `otherLayersWei`.
    #[allow(clippy::too_many_arguments)] // the module event's fields
    fn attach_loss(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        cause: &str,
        amount: U256,
        from_bond: U256,
        uncovered: U256,
        extra: &serde_json::Value,
    ) -> Result<(i64, serde_json::Value), StoreError> {
        let rows = self.db.query(
            "SELECT block_number, log_index, ref_slot, data FROM losses WHERE pool = $1 AND operator_id = $2 AND tx_hash = $3 AND cause = 'loss' AND block_number = $4 AND log_index < $5 ORDER BY log_index DESC LIMIT 1",
            &[
                Val::from(pool),
                int(id, "operator id")?,
                Val::Text(log.tx_hash.to_string()),
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
            ],
        )?;
        let merge = |mut layers: serde_json::Value| {
            if let (Some(l), Some(e)) = (layers.as_object_mut(), extra.as_object()) {
                l.extend(e.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            layers
        };
        if let Some(r) = rows.first() {
            let ref_slot = r.get(2).and_then(Val::int).unwrap_or(-1);
            let layers: serde_json::Value = serde_json::from_str(&read_text(r, 3, "losses")?)
                .map_err(|source| StoreError::Json { what: "losses", source })?;
            let layers = merge(layers);
            self.db.exec(
                "UPDATE losses SET cause = $1, data = $2 WHERE pool = $3 AND block_number = $4 AND log_index = $5",
                &[
                    Val::from(cause),
                    Val::Text(layers.to_string()),
                    Val::from(pool),
                    Val::Int(r.first().and_then(Val::int).unwrap_or(0)),
                    Val::Int(r.get(1).and_then(Val::int).unwrap_or(0)),
                ],
            )?;
            return Ok((ref_slot, layers));
        }
        let ref_slot = self.latest_ref_slot(pool)?;
        let other = amount.saturating_sub(from_bond).saturating_sub(uncovered);
        let layers = merge(serde_json::json!({
            "amountWei": amount.to_string(),
            "fromBondWei": from_bond.to_string(),
            "otherLayersWei": other.to_string(),
            "uncoveredWei": uncovered.to_string(),
        }));
        self.row_loss(pool, id, log, ref_slot, cause, &layers)?;
        Ok((ref_slot, layers))
    }

    /// Missed exits a kind-2 penalty of `amount` stands for: `amount / missedExitPenalty` in
    /// force at `block`, when that penalty is known, non-zero and divides the amount.
    fn missed_exits(
        &mut self,
        pool: &str,
        block: u64,
        amount: U256,
    ) -> Result<Option<u64>, StoreError> {
        let per = self
            .parameter_at(pool, Contract::OperatorsModule, "missedExitPenalty", block)?
            .and_then(|v| v.parse::<U256>().ok());
        Ok(per
            .filter(|p| !p.is_zero() && (amount % *p).is_zero())
            .and_then(|p| u64::try_from(amount / p).ok()))
    }

    /// Keys of the operator whose exit deadline falls in the window the report for `ref_slot`
    /// judged (deadline slot after the previous report's ref slot, at most `ref_slot`); `None`
    /// without the pool's slot timing.
    fn due_keys(
        &mut self,
        pool: &str,
        id: u64,
        ref_slot: i64,
    ) -> Result<Option<Vec<u64>>, StoreError> {
        let Some(timing) = self.timing(pool)? else { return Ok(None) };
        let Ok(ref_slot) = u64::try_from(ref_slot) else { return Ok(None) };
        let prev = self.db.query(
            "SELECT ref_slot FROM reports WHERE pool = $1 AND ref_slot < $2 ORDER BY ref_slot DESC LIMIT 1",
            &[Val::from(pool), int(ref_slot, "ref slot")?],
        )?;
        let prev = prev.first().and_then(|r| r.first()).and_then(Val::int);
        let prev = prev.and_then(|p| u64::try_from(p).ok());
        let rows = self.db.query(
            "SELECT key_index, deadline FROM exit_requests WHERE pool = $1 AND operator_id = $2 AND kind = 'requested' ORDER BY block_number, log_index",
            &[Val::from(pool), int(id, "operator id")?],
        )?;
        let mut keys = Vec::new();
        for r in &rows {
            let (key, deadline) =
                (read_u64(r, 0, "exit_requests")?, read_u64(r, 1, "exit_requests")?);
            let due = timing.slot_of(deadline);
            if due <= ref_slot && prev.is_none_or(|p| due > p) {
                keys.push(key);
            }
        }
        Ok(Some(keys))
    }

    /// Every exit request of an operator, oldest first, with its status (see [`crate::exits`]):
    /// `(block, log index, document)`.
    pub fn exit_request_views(
        &mut self,
        pool: &str,
        id: u64,
    ) -> Result<Vec<(u64, u64, serde_json::Value)>, StoreError> {
        use crate::exits::{Judgement, Request, resolve};
        let rows = self.db.query(
            "SELECT block_number, log_index, block_time, tx_hash, ref_slot, kind, key_index, deadline, data FROM exit_requests WHERE pool = $1 AND operator_id = $2 ORDER BY block_number, log_index",
            &[Val::from(pool), int(id, "operator id")?],
        )?;
        struct Row {
            block: u64,
            log: u64,
            time: u64,
            tx: String,
            ref_slot: i64,
            forced: Option<serde_json::Value>,
            closed_at: Option<u64>,
            req: Request,
        }
        let mut out: Vec<Row> = Vec::new();
        for r in &rows {
            let kind = read_text(r, 5, "exit_requests")?;
            let key = read_u64(r, 6, "exit_requests")?;
            let deadline = read_u64(r, 7, "exit_requests")?;
            let time = read_u64(r, 2, "exit_requests")?;
            match kind.as_str() {
                "requested" => out.push(Row {
                    block: read_u64(r, 0, "exit_requests")?,
                    log: read_u64(r, 1, "exit_requests")?,
                    time,
                    tx: read_text(r, 3, "exit_requests")?,
                    ref_slot: r.get(4).and_then(Val::int).unwrap_or(-1),
                    forced: None,
                    closed_at: None,
                    req: Request { key, deadline, cleared_in: None, forced: false },
                }),
                "enforced" => {
                    let data: serde_json::Value =
                        serde_json::from_str(&read_text(r, 8, "exit_requests")?)
                            .map_err(|source| StoreError::Json { what: "exit_requests", source })?;
                    if let Some(q) = out
                        .iter_mut()
                        .rev()
                        .find(|q| q.req.key == key && q.req.deadline == deadline)
                    {
                        q.req.forced = true;
                        let mut f = data;
                        f["at"] = serde_json::json!(time);
                        q.forced = Some(f);
                    }
                }
                "cleared" => {
                    let ref_slot = r.get(4).and_then(Val::int).unwrap_or(-1);
                    if let Some(q) = out
                        .iter_mut()
                        .rev()
                        .find(|q| q.req.key == key && q.req.cleared_in.is_none())
                    {
                        // closed by a report (`exitsStarted`): the oracle saw the exit by then
                        q.req.cleared_in = u64::try_from(ref_slot).ok();
                        q.closed_at = Some(time);
                    }
                }
                _ => {}
            }
        }
        let timing = self.timing(pool)?;
        // The pool's reports; the missed exits charged to this operator are read only for the
        // reports that judge one of its requests (the first at or after each deadline's slot).
        let reports = self.db.query(
            "SELECT ref_slot, MAX(block_number) FROM reports WHERE pool = $1 GROUP BY ref_slot ORDER BY ref_slot",
            &[Val::from(pool)],
        )?;
        let mut slots = Vec::with_capacity(reports.len());
        for r in &reports {
            slots.push((read_u64(r, 0, "reports")?, read_u64(r, 1, "reports")?));
        }
        let mut judging: Vec<(u64, u64)> = match timing {
            Some(t) => out
                .iter()
                .filter_map(|q| {
                    let due = t.slot_of(q.req.deadline);
                    slots.iter().find(|(slot, _)| *slot >= due).copied()
                })
                .collect(),
            None => Vec::new(),
        };
        judging.sort_unstable();
        judging.dedup();
        let mut judgements = Vec::with_capacity(judging.len());
        for (ref_slot, block) in judging {
            let slot = int(ref_slot, "ref slot")?;
            let dropped = !self
                .db
                .query(
                    "SELECT 1 FROM report_parts WHERE pool = $1 AND ref_slot = $2 AND kind = 'dropped' LIMIT 1",
                    &[Val::from(pool), slot.clone()],
                )?
                .is_empty();
            let penalties = self.db.query(
                "SELECT data FROM losses WHERE pool = $1 AND operator_id = $2 AND ref_slot = $3 AND cause = 'missed_exit'",
                &[Val::from(pool), int(id, "operator id")?, slot],
            )?;
            let mut amount = U256::ZERO;
            for p in &penalties {
                let d: serde_json::Value = serde_json::from_str(&read_text(p, 0, "losses")?)
                    .map_err(|source| StoreError::Json { what: "losses", source })?;
                let a = parse_u256(d["amountWei"].as_str().unwrap_or("0"), "losses")?;
                amount = add(amount, a, "missed exit penalties")?;
            }
            let missed = if amount.is_zero() {
                // no penalty: zero missed, unless the penalty per exit was zero or unknown
                let per = self
                    .parameter_at(pool, Contract::OperatorsModule, "missedExitPenalty", block)?
                    .and_then(|v| v.parse::<U256>().ok());
                per.filter(|p| !p.is_zero()).map(|_| 0)
            } else {
                self.missed_exits(pool, block, amount)?
            };
            judgements.push(Judgement { ref_slot, missed, dropped });
        }
        let now = {
            let rows =
                self.db.query("SELECT time FROM blocks ORDER BY number DESC LIMIT 1", &[])?;
            rows.first().map(|r| read_u64(r, 0, "blocks")).transpose()?.unwrap_or(0)
        };
        let requests: Vec<Request> = out.iter().map(|q| q.req.clone()).collect();
        let resolved = resolve(&requests, &judgements, timing, now);
        Ok(out
            .into_iter()
            .zip(resolved)
            .map(|(q, r)| {
                let doc = serde_json::json!({
                    "keyIndex": q.req.key,
                    "deadline": q.req.deadline,
                    "requestedAt": q.time,
                    "requestedInRefSlot": (q.ref_slot >= 0).then_some(q.ref_slot),
                    "txHash": q.tx,
                    "status": r.status,
                    "deadlineMet": match r.status {
                        crate::exits::Status::Met => Some(true),
                        crate::exits::Status::Missed | crate::exits::Status::Forced => Some(false),
                        _ => None,
                    },
                    "secondsLeft": (now <= q.req.deadline).then(|| q.req.deadline - now),
                    "judgedByRefSlot": r.judged_by,
                    "reportMissedExits": r.missed_of.map(|(m, _)| m),
                    "reportDueRequests": r.missed_of.map(|(_, n)| n),
                    "closedInRefSlot": q.req.cleared_in,
                    "closedAt": q.closed_at,
                    "forcedExit": q.forced,
                });
                (q.block, q.log, doc)
            })
            .collect())
    }

    /// The reference slot of the pool's latest report (`-1`: none yet). Operator data applied by
    /// a report always belongs to the latest one: chunk 0 is applied inside `submitReport` after
    /// `ReportSubmitted`, later chunks only while their report is the latest (ADR 0008).
    fn latest_ref_slot(&mut self, pool: &str) -> Result<i64, StoreError> {
        let rows = self.db.query(
            "SELECT ref_slot FROM reports WHERE pool = $1 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool)],
        )?;
        Ok(rows.first().and_then(|r| r.first()).and_then(Val::int).unwrap_or(-1))
    }

    /// The latest value of a parameter of `contract` in `pool` at or before `block`.
    pub fn parameter_at(
        &mut self,
        pool: &str,
        contract: Contract,
        name: &str,
        block: u64,
    ) -> Result<Option<String>, StoreError> {
        let rows = self.db.query(
            "SELECT value FROM parameters WHERE pool = $1 AND contract = $2 AND name = $3 AND block_number <= $4 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool), Val::from(contract.name()), Val::from(name), int(block, "block")?],
        )?;
        rows.first().map(|r| read_text(r, 0, "parameters")).transpose()
    }

    /// The oracle's slot timing of a pool, once its `FrameConfigUpdated` was indexed.
    pub fn timing(&mut self, pool: &str) -> Result<Option<crate::exits::Timing>, StoreError> {
        let at = i64::MAX as u64;
        let g = self.parameter_at(pool, Contract::OracleReport, "frame.genesisTime", at)?;
        let s = self.parameter_at(pool, Contract::OracleReport, "frame.secondsPerSlot", at)?;
        Ok(match (g.and_then(|g| g.parse().ok()), s.and_then(|s| s.parse().ok())) {
            (Some(genesis_time), Some(seconds_per_slot)) if seconds_per_slot > 0 => {
                Some(crate::exits::Timing { genesis_time, seconds_per_slot })
            }
            _ => None,
        })
    }

    fn apply_operator(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        change: decode::OperatorChange,
    ) -> Result<(), StoreError> {
        use decode::OperatorChange as C;
        use serde_json::json;
        let mut d = self.operator_data(pool, id)?;
        let num = |d: &serde_json::Value, k: &str| -> Result<U256, StoreError> {
            parse_u256(d.get(k).and_then(|v| v.as_str()).unwrap_or("0"), "operator field")
        };
        let u = |v: U256| -> Result<u64, StoreError> { small(v, "operator count") };
        match change {
            C::Registered { kind, manager, reward_address } => {
                let t = ["Professional", "Kyc", "Dvt", "Home"]
                    .get(usize::from(kind))
                    .copied()
                    .unwrap_or("unknown");
                d["type"] = json!(t);
                d["manager"] = json!(addr_key(&manager));
                d["rewardAddress"] = json!(addr_key(&reward_address));
                d["registeredAt"] = json!(log.block_time);
            }
            C::RewardAddress(a) => d["rewardAddress"] = json!(addr_key(&a)),
            C::Deposited(n) => d["deposited"] = json!(u(n)?),
            C::ExitedStuck { exited, stuck } => {
                d["exited"] = json!(u(exited)?);
                d["stuck"] = json!(u(stuck)?);
            }
            C::Score(score) => {
                let prev = d.get("score").and_then(serde_json::Value::as_u64);
                let now = u(score)?;
                d["score"] = json!(now);
                if let Some(p) = prev
                    && now < p
                {
                    self.notice(
                        pool,
                        id,
                        log,
                        "missed_duties",
                        &json!({"scoreBefore": p, "scoreAfter": now}),
                    )?;
                }
            }
            C::Stopped(b) => d["stopped"] = json!(b),
            C::TotalKeys(n) => d["totalKeys"] = json!(u(n)?),
            C::ExitRequested { key, deadline } => {
                let open = d.get("exitRequests").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["exitRequests"] = json!(open.saturating_add(1));
                let total =
                    d.get("exitRequestsTotal").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["exitRequestsTotal"] = json!(total.saturating_add(1));
                let ref_slot = self.latest_ref_slot(pool)?;
                let (key, deadline) = (u(key)?, u(deadline)?);
                self.row_exit(pool, id, log, key, ref_slot, "requested", deadline, &json!({}))?;
                self.notice(
                    pool,
                    id,
                    log,
                    "exit_request",
                    &json!({"keyIndex": key, "deadline": deadline,
                        "refSlot": (ref_slot >= 0).then_some(ref_slot)}),
                )?;
            }
            C::ExitCleared { key } => {
                let open = d.get("exitRequests").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["exitRequests"] = json!(open.saturating_sub(1));
                let ref_slot = self.latest_ref_slot(pool)?;
                self.row_exit(pool, id, log, u(key)?, ref_slot, "cleared", 0, &json!({}))?;
                self.notice(pool, id, log, "exit_request_cleared", &json!({"keyIndex": u(key)?}))?;
            }
            C::FrontRun { key } => {
                self.notice(pool, id, log, "key_front_run", &json!({"keyIndex": u(key)?}))?;
            }
            C::BondDeposited(v) => {
                d["bondWei"] = json!(add(num(&d, "bondWei")?, v, "bond")?.to_string());
            }
            C::BondClaimed(v) => {
                d["bondWei"] = json!(num(&d, "bondWei")?.saturating_sub(v).to_string());
            }
            C::Penalized { requested, covered } => {
                // The bond's part of a loss; the module's PenaltyApplied / PreDepositForfeited
                // that follows in the same transaction writes the notice with every layer.
                d["bondWei"] = json!(num(&d, "bondWei")?.saturating_sub(covered).to_string());
                d["penaltiesWei"] =
                    json!(add(num(&d, "penaltiesWei")?, requested, "penalties")?.to_string());
            }
            C::Loss { loss, from_bond, from_vfp, from_insurance, uncovered } => {
                let ref_slot = self.latest_ref_slot(pool)?;
                let layers = json!({
                    "amountWei": loss.to_string(),
                    "fromBondWei": from_bond.to_string(),
                    "fromVfpWei": from_vfp.to_string(),
                    "fromInsuranceWei": from_insurance.to_string(),
                    "uncoveredWei": uncovered.to_string(),
                });
                self.row_loss(pool, id, log, ref_slot, "loss", &layers)?;
            }
            C::PenaltyReported { kind, amount, from_bond, uncovered } => {
                // The bond's own `BondPenalized` already moved `bondWei` and `penaltiesWei`;
                // this is the oracle's record, kept apart so that a penalty on an operator
                // without bond is not lost.
                d["reportedPenaltiesWei"] =
                    json!(add(num(&d, "reportedPenaltiesWei")?, amount, "penalties")?.to_string());
                d["uncoveredPenaltiesWei"] = json!(
                    add(num(&d, "uncoveredPenaltiesWei")?, uncovered, "penalties")?.to_string()
                );
                let cause = penalty_kind_name(kind);
                let (ref_slot, layers) = self.attach_loss(
                    pool,
                    id,
                    log,
                    cause,
                    amount,
                    from_bond,
                    uncovered,
                    &json!({}),
                )?;
                add_layers(&mut d, cause, &layers)?;
                d["lastPenalty"] = json!({"kind": kind.to_string(), "amountWei": amount.to_string(),
                    "fromBondWei": from_bond.to_string(), "uncoveredWei": uncovered.to_string(),
                    "at": log.block_time});
                let mut notice = layers.clone();
                notice["kind"] = json!(cause);
                notice["refSlot"] = json!((ref_slot >= 0).then_some(ref_slot));
                if cause == "missed_exit" {
                    // One notice per log: a missed-exit penalty is the missed-deadline notice,
                    // with how many exits it stands for and the keys that were due.
                    let missed = self.missed_exits(pool, log.block_number, amount)?;
                    if let Some(m) = missed {
                        let n = d.get("missedExitsCharged").and_then(serde_json::Value::as_u64);
                        d["missedExitsCharged"] = json!(n.unwrap_or(0).saturating_add(m));
                    }
                    notice["missedExits"] = json!(missed);
                    notice["dueKeys"] = json!(self.due_keys(pool, id, ref_slot)?);
                    self.notice(pool, id, log, "exit_deadline_missed", &notice)?;
                } else {
                    self.notice(pool, id, log, "penalty", &notice)?;
                }
            }
            C::PreDepositForfeited { key, from_bond, uncovered } => {
                let n = d.get("frontRuns").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["frontRuns"] = json!(n.saturating_add(1));
                let amount = U256::from(10u64).pow(U256::from(18u64));
                let extra = json!({"keyIndex": u(key)?});
                let (ref_slot, layers) = self.attach_loss(
                    pool,
                    id,
                    log,
                    "front_run",
                    amount,
                    from_bond,
                    uncovered,
                    &extra,
                )?;
                add_layers(&mut d, "front_run", &layers)?;
                let mut notice = layers.clone();
                notice["keyIndex"] = json!(u(key)?);
                notice["refSlot"] = json!((ref_slot >= 0).then_some(ref_slot));
                self.notice(pool, id, log, "pre_deposit_forfeited", &notice)?;
            }
            C::PreDeposited { count } => {
                d["preDeposited"] =
                    json!(add(num(&d, "preDeposited")?, count, "keys")?.to_string());
            }
            C::ToppedUp { deposited, processed: _ } => {
                d["toppedUp"] = json!(add(num(&d, "toppedUp")?, deposited, "keys")?.to_string());
            }
            C::DepositListed(listed) => d["depositListed"] = json!(listed),
            C::VfpFunded { shares, ether } => {
                d["vfpShares"] = json!(add(num(&d, "vfpShares")?, shares, "vfp")?.to_string());
                d["vfpFundedWei"] = json!(add(num(&d, "vfpFundedWei")?, ether, "vfp")?.to_string());
            }
            C::VfpReleased(shares) => {
                d["vfpShares"] = json!(num(&d, "vfpShares")?.saturating_sub(shares).to_string());
            }
            C::VfpLossAbsorbed { requested, burned } => {
                d["vfpShares"] = json!(num(&d, "vfpShares")?.saturating_sub(burned).to_string());
                self.notice(
                    pool,
                    id,
                    log,
                    "vfp_loss_absorbed",
                    &json!({
                    "sharesRequested": requested.to_string(), "sharesBurned": burned.to_string()}),
                )?;
            }
            C::ExitEnforced { key, deadline, missed, caller, fee } => {
                let forced = d.get("forcedExits").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["forcedExits"] = json!(forced.saturating_add(1));
                d["missedExits"] = json!(u(missed)?);
                let data = json!({"keyIndex": u(key)?, "deadline": u(deadline)?,
                    "missedExits": u(missed)?, "caller": addr_key(&caller),
                    "feeWei": fee.to_string(), "txHash": log.tx_hash.to_string()});
                self.row_exit(pool, id, log, u(key)?, -1, "enforced", u(deadline)?, &data)?;
                self.notice(pool, id, log, "exit_enforced", &data)?;
            }
            C::VoluntaryExitRequested { key } => {
                let n = d.get("voluntaryExitRequests").and_then(serde_json::Value::as_u64);
                d["voluntaryExitRequests"] = json!(n.unwrap_or(0).saturating_add(1));
                self.row_exit(pool, id, log, u(key)?, -1, "voluntary", 0, &json!({}))?;
                self.notice(
                    pool,
                    id,
                    log,
                    "voluntary_exit_requested",
                    &json!({"keyIndex": u(key)?}),
                )?;
            }
            C::ExitsSettled(n) => d["settledExits"] = json!(u(n)?),
            C::PreDepositsConfirmed(n) => d["confirmed"] = json!(u(n)?),
            C::VettedLimit(n) => d["vettedLimit"] = json!(u(n)?),
            C::ManagerChanged(a) => d["manager"] = json!(addr_key(&a)),
        }
        let deposited = d.get("deposited").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let exited = d.get("exited").and_then(serde_json::Value::as_u64).unwrap_or(0);
        d["validators"] = json!(deposited.saturating_sub(exited));
        d["pool"] = json!(pool);
        self.write_operator(pool, id, log, &d)
    }

    fn write_ticket(
        &mut self,
        pool: &str,
        id: u64,
        log: &IndexedLog,
        owner: Address,
        data: &TicketData,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(data)
            .map_err(|source| StoreError::Json { what: "tickets", source })?;
        self.db.exec(
            "INSERT INTO tickets (pool, request_id, block_number, log_index, owner, data) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Val::from(pool),
                int(id, "request id")?,
                int(log.block_number, "block")?,
                int(log.log_index, "log index")?,
                Val::Text(addr_key(&owner)),
                Val::Text(json),
            ],
        )?;
        Ok(())
    }

    /// The latest state of a ticket: owner and data.
    pub fn ticket(
        &mut self,
        pool: &str,
        id: u64,
    ) -> Result<Option<(Address, TicketData)>, StoreError> {
        let rows = self.db.query(
            "SELECT owner, data FROM tickets WHERE pool = $1 AND request_id = $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool), int(id, "request id")?],
        )?;
        let Some(r) = rows.first() else { return Ok(None) };
        let owner = read_text(r, 0, "tickets")?
            .parse()
            .map_err(|_| corrupt("tickets", read_text(r, 0, "tickets").unwrap_or_default()))?;
        let data = serde_json::from_str(&read_text(r, 1, "tickets")?)
            .map_err(|source| StoreError::Json { what: "tickets", source })?;
        Ok(Some((owner, data)))
    }

    fn pool_mut<'a>(
        &mut self,
        p: &'a mut Pending,
        pool: &'static str,
        log_index: u64,
    ) -> Result<&'a mut PoolState, StoreError> {
        if !p.pools.contains_key(pool) {
            let st = self.pool_state(pool)?.unwrap_or_default();
            p.pools.insert(pool, (st, log_index));
        }
        let entry = p
            .pools
            .get_mut(pool)
            .ok_or(StoreError::OutOfRange { what: "pool cache", value: pool.to_owned() })?;
        entry.1 = log_index;
        Ok(&mut entry.0)
    }

    fn position_mut<'a>(
        &mut self,
        p: &'a mut Pending,
        pool: &'static str,
        account: Address,
        log_index: u64,
    ) -> Result<&'a mut U256, StoreError> {
        let key = (pool, account);
        if let std::collections::hash_map::Entry::Vacant(e) = p.positions.entry(key) {
            let shares = self.position(pool, account)?.unwrap_or(U256::ZERO);
            e.insert((shares, log_index));
        }
        let entry = p
            .positions
            .get_mut(&key)
            .ok_or(StoreError::OutOfRange { what: "position cache", value: addr_key(&account) })?;
        entry.1 = log_index;
        Ok(&mut entry.0)
    }

    fn flush(&mut self, p: &mut Pending, block: Option<(u64, u64)>) -> Result<(), StoreError> {
        let Some((block, time)) = block else { return Ok(()) };
        let bn = int(block, "block")?;
        for (pool, (st, li)) in p.pools.drain() {
            let json = serde_json::to_string(&st)
                .map_err(|source| StoreError::Json { what: "pool_states", source })?;
            self.db.exec(
                "INSERT INTO pool_states (pool, block_number, log_index, block_time, data) VALUES ($1, $2, $3, $4, $5)",
                &[Val::from(pool), bn.clone(), int(li, "log index")?, int(time, "time")?, Val::Text(json)],
            )?;
        }
        for ((pool, account), (shares, li)) in p.positions.drain() {
            self.db.exec(
                "INSERT INTO positions (pool, account, block_number, log_index, shares) VALUES ($1, $2, $3, $4, $5)",
                &[
                    Val::from(pool),
                    Val::Text(addr_key(&account)),
                    bn.clone(),
                    int(li, "log index")?,
                    Val::Text(shares.to_string()),
                ],
            )?;
        }
        Ok(())
    }

    /// The latest state of a pool.
    pub fn pool_state(&mut self, pool: &str) -> Result<Option<PoolState>, StoreError> {
        let rows = self.db.query(
            "SELECT data FROM pool_states WHERE pool = $1 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool)],
        )?;
        let Some(r) = rows.first() else { return Ok(None) };
        serde_json::from_str(&read_text(r, 0, "pool_states")?)
            .map(Some)
            .map_err(|source| StoreError::Json { what: "pool_states", source })
    }

    /// The latest share balance of an account.
    pub fn position(&mut self, pool: &str, account: Address) -> Result<Option<U256>, StoreError> {
        let rows = self.db.query(
            "SELECT shares FROM positions WHERE pool = $1 AND account = $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            &[Val::from(pool), Val::Text(addr_key(&account))],
        )?;
        let Some(r) = rows.first() else { return Ok(None) };
        parse_u256(&read_text(r, 0, "positions")?, "positions").map(Some)
    }

    /// Number of decoded events stored.
    pub fn event_count(&mut self) -> Result<u64, StoreError> {
        let rows = self.db.query("SELECT COUNT(*) FROM events", &[])?;
        rows.first().map_or(Ok(0), |r| read_u64(r, 0, "events"))
    }

    /// Operators (pool, id) changed by the last [`Store::apply`], for the follower's bond checks.
    pub fn touched_operators(&self) -> &[(&'static str, u64)] {
        &self.touched
    }

    /// Records a bond check of an operator at the end of a range (`block`): the required bond and
    /// the bond's value from the `BondManager` views. Writes a `bond_below_requirement` notice
    /// when the bond falls below the requirement (once per shortfall, not on every check).
    /// Returns whether a notice was written.
    pub fn record_bond_check(
        &mut self,
        pool: &'static str,
        id: u64,
        block: u64,
        block_time: u64,
        required: U256,
        value: U256,
    ) -> Result<bool, StoreError> {
        self.in_tx(|s| {
            let mut d = s.operator_data(pool, id)?;
            let was_below =
                d.get("bondBelowRequirement").and_then(serde_json::Value::as_bool) == Some(true);
            let below = value < required;
            d["requiredBondWei"] = serde_json::json!(required.to_string());
            d["bondValueWei"] = serde_json::json!(value.to_string());
            d["bondBelowRequirement"] = serde_json::json!(below);
            let log = IndexedLog {
                block_number: block,
                block_hash: B256::ZERO,
                block_time,
                log_index: SYNTHETIC_LOG_INDEX
                    .saturating_add(id.saturating_mul(2))
                    .saturating_add(u64::from(pool == "kyc")),
                tx_hash: B256::ZERO,
                address: Address::ZERO,
                topics: Vec::new(),
                data: Vec::new(),
                tx_input: None,
            };
            s.write_operator(pool, id, &log, &d)?;
            if below && !was_below {
                s.notice(
                    pool,
                    id,
                    &log,
                    "bond_below_requirement",
                    &serde_json::json!({
                        "requiredWei": required.to_string(),
                        "bondValueWei": value.to_string(),
                        "shortfallWei": required.saturating_sub(value).to_string(),
                    }),
                )?;
                return Ok(true);
            }
            Ok(false)
        })
    }

    /// Logs of followed contracts that the bindings could not decode, since this store was opened.
    pub fn unknown_events(&self) -> u64 {
        self.unknown_events
    }

    /// Whether `contract` is followed at `address`.
    pub fn source(&self, address: &Address) -> Option<Contract> {
        self.sources.get(address).map(|s| s.contract)
    }
}

/// The name of an oracle penalty kind (`IOperatorsReport.OperatorPenalty.kind`).
pub fn penalty_kind_name(kind: U256) -> &'static str {
    match u8::try_from(kind) {
        Ok(0) => "slashing",
        Ok(1) => "missed_duties",
        Ok(2) => "missed_exit",
        _ => "other",
    }
}

/// Adds one loss's layers to the operator document's `penaltiesByKind[cause]`.
fn add_layers(
    d: &mut serde_json::Value,
    cause: &str,
    layers: &serde_json::Value,
) -> Result<(), StoreError> {
    let entry = &mut d["penaltiesByKind"][cause];
    let count = entry.get("count").and_then(serde_json::Value::as_u64).unwrap_or(0);
    entry["count"] = serde_json::json!(count.saturating_add(1));
    for k in [
        "amountWei",
        "fromBondWei",
        "fromVfpWei",
        "fromInsuranceWei",
        "otherLayersWei",
        "uncoveredWei",
    ] {
        let Some(v) = layers.get(k).and_then(serde_json::Value::as_str) else { continue };
        let prev =
            parse_u256(entry.get(k).and_then(serde_json::Value::as_str).unwrap_or("0"), "layers")?;
        entry[k] = serde_json::json!(add(prev, parse_u256(v, "layers")?, "layers")?.to_string());
    }
    Ok(())
}

fn corrupt(what: &'static str, value: String) -> StoreError {
    StoreError::Db(DbError::Corrupt { what, value })
}

/// Reads a text column.
pub fn read_text(r: &Row, i: usize, what: &'static str) -> Result<String, StoreError> {
    match r.get(i) {
        Some(Val::Text(t)) => Ok(t.clone()),
        other => Err(corrupt(what, format!("{other:?}"))),
    }
}

/// Reads a non-negative integer column.
pub fn read_u64(r: &Row, i: usize, what: &'static str) -> Result<u64, StoreError> {
    match r.get(i) {
        Some(Val::Int(v)) => u64::try_from(*v).map_err(|_| corrupt(what, v.to_string())),
        other => Err(corrupt(what, format!("{other:?}"))),
    }
}

fn read_b256(r: &Row, i: usize, what: &'static str) -> Result<B256, StoreError> {
    let t = read_text(r, i, what)?;
    t.parse().map_err(|_| corrupt(what, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::SqliteDb;
    use alloy::{primitives::LogData, sol_types::SolEvent};
    use claystack_bindings::{
        bond_manager::BondManager, operator_registry::OperatorRegistry,
        operator_rewards::OperatorRewards, stake_pool::StakePool,
    };

    const REGISTRY: Address = Address::repeat_byte(0x21);
    const BONDS: Address = Address::repeat_byte(0x22);
    const REWARDS: Address = Address::repeat_byte(0x23);
    const POOL: Address = Address::repeat_byte(0x24);

    fn store() -> Store {
        let sources = [
            Source { address: REGISTRY, contract: Contract::OperatorRegistry, pool: "public" },
            Source { address: BONDS, contract: Contract::BondManager, pool: "public" },
            Source { address: REWARDS, contract: Contract::OperatorRewards, pool: "public" },
            Source { address: POOL, contract: Contract::StakePool, pool: "public" },
        ];
        Store::open(Box::new(SqliteDb::memory().unwrap()), &sources).unwrap()
    }

    fn batch(block: u64, logs: Vec<(Address, LogData)>) -> Batch {
        let hash = B256::from(U256::from(block));
        Batch {
            to_block: block,
            to_hash: hash,
            to_time: 1_000 + block,
            logs: logs
                .into_iter()
                .enumerate()
                .map(|(i, (address, d))| IndexedLog {
                    block_number: block,
                    block_hash: hash,
                    block_time: 1_000 + block,
                    log_index: i as u64,
                    tx_hash: B256::ZERO,
                    address,
                    topics: d.topics().to_vec(),
                    data: d.data.to_vec(),
                    tx_input: None,
                })
                .collect(),
        }
    }

    fn notices(s: &mut Store) -> Vec<String> {
        s.db.query("SELECT kind FROM operator_notices ORDER BY block_number, log_index", &[])
            .unwrap()
            .iter()
            .map(|r| r[0].text().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn operator_events_build_stats_and_notices() {
        let mut s = store();
        let id = U256::from(3u64);
        let reward = Address::repeat_byte(0x99);
        let eth = |n: u64| U256::from(n) * U256::from(10u64).pow(U256::from(18u64));
        s.apply(&batch(
            1,
            vec![
                (
                    REGISTRY,
                    OperatorRegistry::OperatorRegistered {
                        operatorId: id,
                        operatorType: 3,
                        manager: Address::repeat_byte(1),
                        rewardAddress: reward,
                    }
                    .encode_log_data(),
                ),
                (
                    BONDS,
                    BondManager::BondDeposited {
                        operatorId: id,
                        from: Address::repeat_byte(1),
                        shares: eth(2),
                        etherValue: eth(2),
                    }
                    .encode_log_data(),
                ),
                (
                    REGISTRY,
                    OperatorRegistry::KeysDeposited {
                        operatorId: id,
                        processed: U256::from(5u64),
                        deposited: U256::from(5u64),
                    }
                    .encode_log_data(),
                ),
                (
                    REGISTRY,
                    OperatorRegistry::ScoreSet { operatorId: id, score: U256::from(9_000u64) }
                        .encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        s.apply(&batch(
            2,
            vec![
                (
                    REGISTRY,
                    OperatorRegistry::ScoreSet { operatorId: id, score: U256::from(8_000u64) }
                        .encode_log_data(),
                ),
                (
                    REGISTRY,
                    OperatorRegistry::ExitRequested {
                        operatorId: id,
                        keyIndex: U256::from(1u64),
                        deadline: U256::from(5_000u64),
                    }
                    .encode_log_data(),
                ),
                (
                    BONDS,
                    BondManager::BondPenalized {
                        operatorId: id,
                        etherRequested: eth(1),
                        etherCovered: eth(1),
                        shares: eth(1),
                    }
                    .encode_log_data(),
                ),
                (
                    REGISTRY,
                    OperatorRegistry::ExitedAndStuckUpdated {
                        operatorId: id,
                        exited: U256::from(1u64),
                        stuck: U256::ZERO,
                    }
                    .encode_log_data(),
                ),
                (
                    REWARDS,
                    OperatorRewards::RewardsClaimed {
                        account: reward,
                        shares: U256::from(7u64),
                        cumulativeShares: U256::from(7u64),
                    }
                    .encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        let d = s.operator_data("public", 3).unwrap();
        assert_eq!(d["type"], "Home");
        assert_eq!(d["validators"], 4);
        assert_eq!(d["score"], 8_000);
        assert_eq!(d["bondWei"], eth(1).to_string());
        assert_eq!(d["penaltiesWei"], eth(1).to_string());
        assert_eq!(d["exitRequests"], 1);
        assert_eq!(d["rewardsShares"], "7");
        // The bond's BondPenalized alone writes no notice (the module's penalty event does).
        assert_eq!(notices(&mut s), ["missed_duties", "exit_request"]);

        // A reorg past block 1 restores block 1's view exactly.
        s.rollback_to(1, B256::from(U256::from(1u64))).unwrap();
        let d = s.operator_data("public", 3).unwrap();
        assert_eq!((d["score"].as_u64(), d["validators"].as_u64()), (Some(9_000), Some(5)));
        assert_eq!(d["bondWei"], eth(2).to_string());
        assert!(notices(&mut s).is_empty());
        assert_eq!(s.cursor().unwrap(), Some((1, B256::from(U256::from(1u64)))));
    }

    #[test]
    fn vfp_module_and_deposit_security_events_feed_operator_stats_and_notices() {
        use claystack_bindings::{
            deposit_security::DepositSecurity, operators_module::OperatorsModule, vfp_pool::VfpPool,
        };
        const VFP: Address = Address::repeat_byte(0x31);
        const MODULE: Address = Address::repeat_byte(0x32);
        const SECURITY: Address = Address::repeat_byte(0x33);
        let sources = [
            Source { address: VFP, contract: Contract::VfpPool, pool: "kyc" },
            Source { address: MODULE, contract: Contract::OperatorsModule, pool: "kyc" },
            Source { address: SECURITY, contract: Contract::DepositSecurity, pool: "kyc" },
        ];
        let mut s = Store::open(Box::new(SqliteDb::memory().unwrap()), &sources).unwrap();
        let id = U256::from(5u64);
        let n = U256::from;
        s.apply(&batch(
            1,
            vec![
                (
                    SECURITY,
                    DepositSecurity::OperatorListedSet { operatorId: id, listed: true }
                        .encode_log_data(),
                ),
                (
                    SECURITY,
                    DepositSecurity::PreDeposited { operatorId: id, fromIndex: n(0), count: n(3) }
                        .encode_log_data(),
                ),
                (
                    VFP,
                    VfpPool::OperatorFunded {
                        operatorId: id,
                        csShares: n(100),
                        etherValue: n(110),
                    }
                    .encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        s.apply(&batch(
            2,
            vec![
                (
                    MODULE,
                    OperatorsModule::PreDepositForfeited {
                        operatorId: id,
                        keyIndex: n(1),
                        fromBond: n(7),
                        uncovered: n(0),
                    }
                    .encode_log_data(),
                ),
                (
                    SECURITY,
                    DepositSecurity::ToppedUp { operatorId: id, processed: n(3), deposited: n(2) }
                        .encode_log_data(),
                ),
                (
                    MODULE,
                    OperatorsModule::PenaltyApplied {
                        operatorId: id,
                        kind: n(1),
                        amountWei: n(50),
                        fromBond: n(20),
                        uncovered: n(5),
                    }
                    .encode_log_data(),
                ),
                (
                    VFP,
                    VfpPool::LossAbsorbed {
                        operatorId: id,
                        csSharesRequested: n(30),
                        csSharesBurned: n(25),
                    }
                    .encode_log_data(),
                ),
                (
                    VFP,
                    VfpPool::OperatorReleased { operatorId: id, csShares: n(10) }.encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        let d = s.operator_data("kyc", 5).unwrap();
        assert_eq!(d["depositListed"], true);
        assert_eq!((d["preDeposited"].as_str(), d["toppedUp"].as_str()), (Some("3"), Some("2")));
        assert_eq!(d["frontRuns"], 1);
        assert_eq!(d["reportedPenaltiesWei"], "50");
        assert_eq!(d["uncoveredPenaltiesWei"], "5");
        assert_eq!(d["lastPenalty"]["kind"], "1");
        assert_eq!(d["vfpFundedWei"], "110");
        assert_eq!(d["vfpShares"], "65", "100 funded − 25 burned − 10 released");
        assert_eq!(notices(&mut s), ["pre_deposit_forfeited", "penalty", "vfp_loss_absorbed"]);
        // Without the BondManager followed, the module's own figures make the loss rows.
        let d = s.operator_data("kyc", 5).unwrap();
        assert_eq!(d["penaltiesByKind"]["missed_duties"]["otherLayersWei"], "25");
        assert_eq!(d["penaltiesByKind"]["front_run"]["fromBondWei"], "7");
        // Nothing leaks into the other pool's operator with the same id.
        assert!(s.operator_data("public", 5).unwrap().get("preDeposited").is_none());

        s.rollback_to(1, B256::from(U256::from(1u64))).unwrap();
        let d = s.operator_data("kyc", 5).unwrap();
        assert_eq!((d["preDeposited"].as_str(), d["vfpShares"].as_str()), (Some("3"), Some("100")));
        assert!(d.get("toppedUp").is_none());
        assert!(notices(&mut s).is_empty());
    }

    /// A pool with every contract the new tables read, at fixed addresses.
    fn full_store() -> (Store, [Address; 9]) {
        let a = [
            Address::repeat_byte(0x41), // OracleReport
            Address::repeat_byte(0x42), // OperatorsModule
            Address::repeat_byte(0x43), // BondManager
            Address::repeat_byte(0x44), // OperatorRegistry
            Address::repeat_byte(0x45), // ExitEnforcer
            Address::repeat_byte(0x46), // OperatorRewards
            Address::repeat_byte(0x47), // VfpPool
            Address::repeat_byte(0x48), // InsuranceFund
            Address::repeat_byte(0x49), // DepositSecurity
        ];
        let kinds = [
            Contract::OracleReport,
            Contract::OperatorsModule,
            Contract::BondManager,
            Contract::OperatorRegistry,
            Contract::ExitEnforcer,
            Contract::OperatorRewards,
            Contract::VfpPool,
            Contract::InsuranceFund,
            Contract::DepositSecurity,
        ];
        let sources: Vec<Source> = a
            .iter()
            .zip(kinds)
            .map(|(address, contract)| Source { address: *address, contract, pool: "public" })
            .collect();
        (Store::open(Box::new(SqliteDb::memory().unwrap()), &sources).unwrap(), a)
    }

    /// A batch of one block at `time` (several logs in one transaction, as a report is).
    fn block_at(block: u64, time: u64, logs: Vec<(Address, LogData)>) -> Batch {
        let mut b = batch(block, logs);
        b.to_time = time;
        for l in &mut b.logs {
            l.block_time = time;
            l.tx_hash = B256::from(U256::from(block));
        }
        b
    }

    fn statuses(s: &mut Store) -> Vec<(u64, String)> {
        s.exit_request_views("public", 3)
            .unwrap()
            .into_iter()
            .map(|(_, _, v)| {
                (v["keyIndex"].as_u64().unwrap(), v["status"].as_str().unwrap().to_owned())
            })
            .collect()
    }

    #[test]
    fn reports_chunks_losses_exit_requests_and_rewards_are_derived_and_roll_back() {
        use claystack_bindings::{
            exit_enforcer::ExitEnforcer, insurance_fund::InsuranceFund,
            operators_module::OperatorsModule, oracle_report::OracleReport, vfp_pool::VfpPool,
        };
        let (mut s, [oracle, module, bonds, registry, enforcer, rewards, vfp, fund, _]) =
            full_store();
        let n = U256::from;
        let gwei = |g: u64| U256::from(g) * U256::from(1_000_000_000u64);
        let id = n(3);
        // genesis 1,000, 12 s slots: slot k starts at 1,000 + 12 k
        let slot = |k: u64| 1_000 + 12 * k;
        let report = |ref_slot: u64| {
            (
                oracle,
                OracleReport::ReportSubmitted {
                    refSlot: n(ref_slot),
                    reportHash: B256::repeat_byte(9),
                    submitter: Address::repeat_byte(1),
                    signatures: n(2),
                }
                .encode_log_data(),
            )
        };
        let chunk = |ref_slot: u64, index: u64, next: B256| {
            (
                oracle,
                OracleReport::ExtraDataChunkApplied {
                    refSlot: n(ref_slot),
                    index: n(index),
                    chunkHash: B256::repeat_byte(0x10 + u8::try_from(index).unwrap()),
                    nextHash: next,
                }
                .encode_log_data(),
            )
        };
        let part = |ref_slot: u64, penalties: u64, exits: u64| {
            (
                module,
                OperatorsModule::OperatorsReportApplied {
                    refSlot: n(ref_slot),
                    preDeposits: n(0),
                    frontRun: n(0),
                    penalties: n(penalties),
                    exitRequests: n(exits),
                    rewardsRoot: B256::ZERO,
                }
                .encode_log_data(),
            )
        };
        let exit = |key: u64, deadline: u64| {
            (
                registry,
                OperatorRegistry::ExitRequested {
                    operatorId: id,
                    keyIndex: n(key),
                    deadline: n(deadline),
                }
                .encode_log_data(),
            )
        };
        let loss = |amount: u64, bond: u64, vfp: u64, ins: u64| {
            (
                bonds,
                BondManager::LossCovered {
                    operatorId: id,
                    loss: gwei(amount),
                    fromBond: gwei(bond),
                    fromVfp: gwei(vfp),
                    fromInsurance: gwei(ins),
                    uncovered: gwei(amount - bond - vfp - ins),
                }
                .encode_log_data(),
            )
        };
        let penalty = |kind: u64, amount: u64, bond: u64, unc: u64| {
            (
                module,
                OperatorsModule::PenaltyApplied {
                    operatorId: id,
                    kind: n(kind),
                    amountWei: gwei(amount),
                    fromBond: gwei(bond),
                    uncovered: gwei(unc),
                }
                .encode_log_data(),
            )
        };

        // 1. wiring: frame timing, the missed-exit penalty (0.1 ETH), an operator
        s.apply(&block_at(
            1,
            1_001,
            vec![
                (
                    oracle,
                    OracleReport::FrameConfigUpdated {
                        config: claystack_bindings::oracle_report::IOracleReport::FrameConfig {
                            genesisTime: 1_000,
                            secondsPerSlot: 12,
                            slotsPerEpoch: 32,
                            epochsPerFrame: 225,
                        },
                    }
                    .encode_log_data(),
                ),
                (
                    module,
                    OperatorsModule::ParameterUpdated {
                        parameter: B256::right_padding_from(b"missedExitPenalty"),
                        value: gwei(100_000_000),
                    }
                    .encode_log_data(),
                ),
                (
                    registry,
                    OperatorRegistry::OperatorRegistered {
                        operatorId: id,
                        operatorType: 3,
                        manager: Address::repeat_byte(1),
                        rewardAddress: Address::repeat_byte(0x77),
                    }
                    .encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        // 2. report 100 in two chunks: a slashing covered by three layers, two exit requests
        s.apply(&block_at(
            2,
            slot(101),
            vec![
                report(100),
                loss(1_000, 600, 300, 100),
                penalty(0, 1_000, 600, 0),
                exit(1, slot(150)),
                exit(2, slot(160)),
                part(100, 1, 2),
                chunk(100, 0, B256::repeat_byte(0x11)),
            ],
        ))
        .unwrap();
        s.apply(&block_at(3, slot(102), vec![part(100, 0, 0), chunk(100, 1, B256::ZERO)])).unwrap();
        assert_eq!(statuses(&mut s), [(1, "pending".into()), (2, "pending".into())]);
        // 4. past both deadlines, a keeper forces key 1
        s.apply(&block_at(
            4,
            slot(170),
            vec![(
                enforcer,
                ExitEnforcer::ExitEnforced {
                    operatorId: id,
                    keyIndex: n(1),
                    pubkey: vec![1; 48].into(),
                    caller: Address::repeat_byte(0x88),
                    fee: n(1),
                    deadline: n(slot(150)),
                    missedExits: n(1),
                }
                .encode_log_data(),
            )],
        ))
        .unwrap();
        assert_eq!(statuses(&mut s), [(1, "forced".into()), (2, "awaiting_report".into())]);
        // 5. report 200 charges two missed exits (0.2 ETH), publishes a rewards root, books the
        // VFP pool's leaf; a third request; its second chunk is never delivered
        s.apply(&block_at(
            5,
            slot(201),
            vec![
                report(200),
                loss(200_000_000, 200_000_000, 0, 0),
                penalty(2, 200_000_000, 200_000_000, 0),
                exit(3, slot(250)),
                (
                    rewards,
                    OperatorRewards::RewardsRootSet {
                        root: B256::repeat_byte(0xaa),
                        cumulativeShares: n(1_000),
                        refSlot: n(200),
                    }
                    .encode_log_data(),
                ),
                part(200, 1, 1),
                chunk(200, 0, B256::repeat_byte(0x12)),
                (
                    vfp,
                    VfpPool::RewardsReceived { from: rewards, csShares: n(50) }.encode_log_data(),
                ),
                (
                    fund,
                    InsuranceFund::LossCovered { sharesRequested: n(9), sharesBurned: n(9) }
                        .encode_log_data(),
                ),
            ],
        ))
        .unwrap();
        let views = s.exit_request_views("public", 3).unwrap();
        let v = &views[1].2;
        assert_eq!(v["status"], "missed", "two missed, one of them forced: key 2 missed too");
        assert_eq!(
            (
                v["judgedByRefSlot"].as_u64(),
                v["reportMissedExits"].as_u64(),
                v["reportDueRequests"].as_u64()
            ),
            (Some(200), Some(2), Some(2))
        );
        assert_eq!(v["deadlineMet"], false);
        assert_eq!(
            views[0].2["forcedExit"]["caller"],
            format!("{:#x}", Address::repeat_byte(0x88))
        );
        assert_eq!(views[2].2["status"], "pending");
        assert_eq!(views[2].2["secondsLeft"], 12 * 49);
        // 6. report 300: drops report 200's undelivered chunk, charges nothing
        s.apply(&block_at(
            6,
            slot(301),
            vec![
                report(300),
                (
                    oracle,
                    OracleReport::ExtraDataDropped {
                        refSlot: n(200),
                        chunksApplied: n(1),
                        nextHash: B256::repeat_byte(0x12),
                    }
                    .encode_log_data(),
                ),
                (
                    registry,
                    OperatorRegistry::ExitRequestCleared { operatorId: id, keyIndex: n(3) }
                        .encode_log_data(),
                ),
                // a front-run key charged its 1 ETH: bond, then VFP pool, then holders
                loss(1_000_000_000, 400_000_000, 500_000_000, 0),
                (
                    module,
                    OperatorsModule::PreDepositForfeited {
                        operatorId: id,
                        keyIndex: n(7),
                        fromBond: gwei(400_000_000),
                        uncovered: gwei(100_000_000),
                    }
                    .encode_log_data(),
                ),
                part(300, 0, 0),
                chunk(300, 0, B256::ZERO),
            ],
        ))
        .unwrap();
        let views = s.exit_request_views("public", 3).unwrap();
        assert_eq!(views[2].2["closedInRefSlot"], 300, "the oracle saw key 3 exiting");
        assert_eq!(
            statuses(&mut s),
            [(1, "forced".into()), (2, "missed".into()), (3, "met".into())]
        );

        let kinds = |s: &mut Store, sql: &str| -> Vec<String> {
            s.db.query(sql, &[]).unwrap().iter().map(|r| r[0].text().unwrap().to_owned()).collect()
        };
        assert_eq!(
            notices(&mut s),
            [
                "penalty",
                "exit_request",
                "exit_request",
                "exit_enforced",
                "exit_deadline_missed",
                "exit_request",
                "exit_request_cleared",
                "pre_deposit_forfeited"
            ]
        );
        let missed = s
            .db
            .query("SELECT data FROM operator_notices WHERE kind = 'exit_deadline_missed'", &[])
            .unwrap();
        let missed: serde_json::Value = serde_json::from_str(missed[0][0].text().unwrap()).unwrap();
        assert_eq!(missed["missedExits"], 2);
        assert_eq!(missed["refSlot"], 200);
        assert_eq!(missed["dueKeys"], serde_json::json!([1, 2]));
        assert_eq!(missed["amountWei"], gwei(200_000_000).to_string());
        let slashing = s
            .db
            .query("SELECT data FROM operator_notices WHERE kind = 'penalty' ORDER BY block_number LIMIT 1", &[])
            .unwrap();
        let slashing: serde_json::Value =
            serde_json::from_str(slashing[0][0].text().unwrap()).unwrap();
        assert_eq!(
            (
                slashing["kind"].as_str(),
                slashing["fromVfpWei"].as_str(),
                slashing["fromInsuranceWei"].as_str(),
                slashing["refSlot"].as_u64()
            ),
            (
                Some("slashing"),
                Some(gwei(300).to_string().as_str()),
                Some(gwei(100).to_string().as_str()),
                Some(100)
            )
        );
        assert_eq!(
            kinds(&mut s, "SELECT cause FROM losses ORDER BY block_number, log_index"),
            ["slashing", "missed_exit", "front_run"]
        );
        let d = s.operator_data("public", 3).unwrap();
        assert_eq!(d["penaltiesByKind"]["slashing"]["fromVfpWei"], gwei(300).to_string());
        assert_eq!(d["penaltiesByKind"]["missed_exit"]["count"], 1);
        let front_run = &d["penaltiesByKind"]["front_run"];
        assert_eq!(
            (front_run["fromVfpWei"].as_str(), front_run["uncoveredWei"].as_str()),
            (
                Some(gwei(500_000_000).to_string().as_str()),
                Some(gwei(100_000_000).to_string().as_str())
            )
        );
        assert_eq!(d["frontRuns"], 1);
        assert_eq!(
            (d["forcedExits"].as_u64(), d["missedExitsCharged"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(
            (d["exitRequests"].as_u64(), d["exitRequestsTotal"].as_u64()),
            (Some(2), Some(3))
        );
        assert_eq!(
            kinds(
                &mut s,
                "SELECT kind FROM report_parts WHERE ref_slot = 100 ORDER BY block_number, log_index"
            ),
            ["operators", "chunk", "operators", "chunk"]
        );
        assert_eq!(
            kinds(
                &mut s,
                "SELECT kind FROM report_parts WHERE ref_slot = 200 ORDER BY block_number, log_index"
            ),
            ["operators", "chunk", "dropped"]
        );
        assert_eq!(
            kinds(&mut s, "SELECT kind FROM rewards ORDER BY log_index"),
            ["root", "vfp_booked"]
        );
        assert_eq!(kinds(&mut s, "SELECT kind FROM pool_events"), ["insurance_burn"]);
        assert_eq!(
            s.parameter_at("public", Contract::OracleReport, "frame.secondsPerSlot", 9)
                .unwrap()
                .as_deref(),
            Some("12")
        );

        // A reorg back to block 4 forgets report 200 and everything after it.
        s.rollback_to(4, B256::from(U256::from(4u64))).unwrap();
        assert_eq!(statuses(&mut s), [(1, "forced".into()), (2, "awaiting_report".into())]);
        assert_eq!(kinds(&mut s, "SELECT cause FROM losses"), ["slashing"]);
        assert_eq!(kinds(&mut s, "SELECT kind FROM rewards"), Vec::<String>::new());
        assert_eq!(kinds(&mut s, "SELECT kind FROM pool_events"), Vec::<String>::new());
        assert_eq!(notices(&mut s).len(), 4);
        assert!(s.operator_data("public", 3).unwrap().get("missedExitsCharged").is_none());
    }

    #[test]
    fn bond_checks_notify_once_per_shortfall_and_roll_back() {
        let mut s = store();
        let (req, ok, low) = (U256::from(100u64), U256::from(150u64), U256::from(60u64));
        assert!(!s.record_bond_check("public", 4, 10, 1_010, req, ok).unwrap());
        assert!(s.record_bond_check("public", 4, 11, 1_011, req, low).unwrap());
        assert!(
            !s.record_bond_check("public", 4, 12, 1_012, req, low).unwrap(),
            "still short: no repeat"
        );
        assert!(!s.record_bond_check("public", 4, 13, 1_013, req, ok).unwrap());
        assert!(s.record_bond_check("public", 4, 14, 1_014, req, low).unwrap(), "short again");
        assert_eq!(notices(&mut s), ["bond_below_requirement", "bond_below_requirement"]);
        let d = s.operator_data("public", 4).unwrap();
        assert_eq!(
            (d["requiredBondWei"].as_str(), d["bondBelowRequirement"].as_bool()),
            (Some("100"), Some(true))
        );
        s.rollback_to(12, B256::ZERO).unwrap();
        assert_eq!(notices(&mut s).len(), 1);
        assert_eq!(s.operator_data("public", 4).unwrap()["bondValueWei"], "60");
        // The same operator id in the other pool, checked at the same block.
        assert!(s.record_bond_check("kyc", 4, 12, 1_012, req, low).unwrap());
        assert!(!s.record_bond_check("public", 4, 12, 1_012, req, low).unwrap());
    }

    #[test]
    fn undecodable_logs_are_kept_raw_and_counted() {
        let mut s = store();
        let bogus = LogData::new_unchecked(vec![B256::repeat_byte(0xee)], vec![1, 2, 3].into());
        s.apply(&batch(1, vec![(POOL, bogus)])).unwrap();
        assert_eq!(s.unknown_events(), 1);
        let rows = s.db.query("SELECT name FROM events", &[]).unwrap();
        assert_eq!(rows, vec![vec![Val::from("unknown")]]);
    }

    #[test]
    fn accounting_underflow_is_an_error_and_rolls_back() {
        let mut s = store();
        // A burn of shares nobody holds: the store refuses rather than wrapping.
        let burn = StakePool::Transfer {
            from: Address::repeat_byte(5),
            to: Address::ZERO,
            value: U256::from(1u64),
        };
        let err = s.apply(&batch(1, vec![(POOL, burn.encode_log_data())])).unwrap_err();
        assert!(matches!(err, StoreError::Arithmetic { op: "sub", .. }), "{err}");
        assert_eq!(s.cursor().unwrap(), None, "nothing committed");
        assert_eq!(s.event_count().unwrap(), 0);
    }
}
