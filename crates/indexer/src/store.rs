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
            Effect::RewardsClaimed { account, shares } => {
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
                        .and_then(|()| self.bump_rewards(pool, op, log, shares))?;
                        break;
                    }
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
    ) -> Result<(), StoreError> {
        let mut d = self.operator_data(pool, id)?;
        let prev =
            parse_u256(d.get("rewardsShares").and_then(|v| v.as_str()).unwrap_or("0"), "rewards")?;
        d["rewardsShares"] = serde_json::json!(add(prev, shares, "rewards")?.to_string());
        self.write_operator(pool, id, log, &d)
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
                self.notice(
                    pool,
                    id,
                    log,
                    "exit_request",
                    &json!({"keyIndex": u(key)?, "deadline": u(deadline)?}),
                )?;
            }
            C::ExitCleared { key } => {
                let open = d.get("exitRequests").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["exitRequests"] = json!(open.saturating_sub(1));
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
                d["bondWei"] = json!(num(&d, "bondWei")?.saturating_sub(covered).to_string());
                d["penaltiesWei"] =
                    json!(add(num(&d, "penaltiesWei")?, requested, "penalties")?.to_string());
                self.notice(pool, id, log, "penalty", &json!({"requestedWei": requested.to_string(), "coveredByBondWei": covered.to_string()}))?;
            }
            C::Loss { loss, uncovered } => {
                self.notice(
                    pool,
                    id,
                    log,
                    "loss",
                    &json!({"lossWei": loss.to_string(), "uncoveredWei": uncovered.to_string()}),
                )?;
            }
            C::PenaltyReported { kind, amount, from_bond, uncovered } => {
                // The bond's own `BondPenalized` / `LossCovered` already move `bondWei` and
                // `penaltiesWei` and notify; this is the oracle's record, kept apart so that a
                // penalty on an operator without bond is not lost.
                d["reportedPenaltiesWei"] =
                    json!(add(num(&d, "reportedPenaltiesWei")?, amount, "penalties")?.to_string());
                d["uncoveredPenaltiesWei"] = json!(
                    add(num(&d, "uncoveredPenaltiesWei")?, uncovered, "penalties")?.to_string()
                );
                d["lastPenalty"] = json!({"kind": kind.to_string(), "amountWei": amount.to_string(),
                    "fromBondWei": from_bond.to_string(), "uncoveredWei": uncovered.to_string(),
                    "at": log.block_time});
            }
            C::PreDepositForfeited { key, from_bond, uncovered } => {
                let n = d.get("frontRuns").and_then(serde_json::Value::as_u64).unwrap_or(0);
                d["frontRuns"] = json!(n.saturating_add(1));
                self.notice(
                    pool,
                    id,
                    log,
                    "pre_deposit_forfeited",
                    &json!({"keyIndex": u(key)?,
                    "fromBondWei": from_bond.to_string(), "uncoveredWei": uncovered.to_string()}),
                )?;
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
            C::ExitEnforced { key, deadline, missed } => {
                self.notice(pool, id, log, "exit_enforced", &json!({"keyIndex": u(key)?, "deadline": u(deadline)?, "missedExits": u(missed)?}))?;
            }
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
        assert_eq!(notices(&mut s), ["missed_duties", "exit_request", "penalty"]);

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
        assert_eq!(notices(&mut s), ["pre_deposit_forfeited", "vfp_loss_absorbed"]);
        // Nothing leaks into the other pool's operator with the same id.
        assert!(s.operator_data("public", 5).unwrap().get("preDeposited").is_none());

        s.rollback_to(1, B256::from(U256::from(1u64))).unwrap();
        let d = s.operator_data("kyc", 5).unwrap();
        assert_eq!((d["preDeposited"].as_str(), d["vfpShares"].as_str()), (Some("3"), Some("100")));
        assert!(d.get("toppedUp").is_none());
        assert!(notices(&mut s).is_empty());
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
