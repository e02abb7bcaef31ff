//! Read queries over the indexer's store, one function per endpoint. Pure reads: they take the
//! store and validated parameters and return JSON documents.

use alloy::primitives::{Address, U256};
use claystack_indexer::{
    Store, Val,
    db::Row,
    store::{read_text, read_u64},
};
use serde_json::{Value, json};

use crate::ApiError;

/// Seconds in a year (365 days), for APR annualisation.
const YEAR: f64 = 365.0 * 86_400.0;

/// A validated page request: at most `limit` items after `after` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items per page, 1..=500.
    pub limit: u64,
    /// Position after which the page starts: (block, log index) or (id, 0).
    pub after: Option<(i64, i64)>,
}

fn e27() -> U256 {
    U256::from(10u64).pow(U256::from(27u64))
}

fn u256(s: &str) -> U256 {
    s.parse().unwrap_or(U256::ZERO)
}

fn f64_of(v: U256) -> f64 {
    v.to_string().parse().unwrap_or(0.0)
}

fn lim(page: &Page) -> Val {
    Val::Int(i64::try_from(page.limit).unwrap_or(500).saturating_add(1))
}

fn after(page: &Page) -> (Val, Val) {
    let (b, l) = page.after.unwrap_or((-1, -1));
    (Val::Int(b), Val::Int(l))
}

fn int_of(r: &Row, i: usize) -> i64 {
    r.get(i).and_then(Val::int).unwrap_or(0)
}

/// Splits `rows` (fetched with `limit + 1`) into the page and the next cursor.
fn paged(mut items: Vec<(Value, String)>, page: &Page) -> Value {
    let more = items.len() as u64 > page.limit;
    items.truncate(usize::try_from(page.limit).unwrap_or(500));
    let next = if more { items.last().map(|(_, c)| c.clone()) } else { None };
    json!({ "items": items.into_iter().map(|(v, _)| v).collect::<Vec<_>>(), "nextCursor": next })
}

/// Rate history of a pool, oldest first.
pub fn rates(store: &mut Store, pool: &str, page: &Page) -> Result<Value, ApiError> {
    let (b, l) = after(page);
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, ref_slot, total_pooled, total_shares, rate_e27 FROM rates WHERE pool = $1 AND (block_number > $2 OR (block_number = $2 AND log_index > $3)) ORDER BY block_number, log_index LIMIT $4",
        &[Val::from(pool), b, l, lim(page)],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push((
            json!({
                "block": int_of(r, 0),
                "time": int_of(r, 2),
                "refSlot": int_of(r, 3),
                "totalPooledEther": read_text(r, 4, "rates")?,
                "totalShares": read_text(r, 5, "rates")?,
                "rateE27": read_text(r, 6, "rates")?,
                "rate": f64_of(u256(&read_text(r, 6, "rates")?)) / 1e27,
            }),
            format!("{}-{}", int_of(r, 0), int_of(r, 1)),
        ));
    }
    Ok(paged(items, page))
}

/// Oracle reports of a pool, oldest first, with the rate they produced.
pub fn reports(store: &mut Store, pool: &str, page: &Page) -> Result<Value, ApiError> {
    let (b, l) = after(page);
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, ref_slot, data FROM reports WHERE pool = $1 AND (block_number > $2 OR (block_number = $2 AND log_index > $3)) ORDER BY block_number, log_index LIMIT $4",
        &[Val::from(pool), b, l, lim(page)],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut data: Value = serde_json::from_str(&read_text(r, 4, "reports")?)
            .map_err(|e| ApiError::Internal(format!("stored report: {e}")))?;
        let rate = store.db().query(
            "SELECT rate_e27, total_pooled FROM rates WHERE pool = $1 AND ref_slot = $2 ORDER BY block_number DESC LIMIT 1",
            &[Val::from(pool), Val::Int(int_of(r, 3))],
        )?;
        if let Some(obj) = data.as_object_mut() {
            obj.insert("block".into(), json!(int_of(r, 0)));
            obj.insert("time".into(), json!(int_of(r, 2)));
            obj.insert("refSlot".into(), json!(int_of(r, 3)));
            if let Some(rr) = rate.first() {
                obj.insert("rateE27".into(), json!(read_text(rr, 0, "rates")?));
                obj.insert("totalPooledEther".into(), json!(read_text(rr, 1, "rates")?));
            }
        }
        let mut extra = extra_data(store, pool, int_of(r, 3))?;
        if let Some(e) = extra.as_object_mut() {
            e.remove("chunks"); // per chunk: GET /api/v1/reports/{refSlot}
        }
        if let Some(obj) = data.as_object_mut() {
            obj.insert("extraData".into(), extra);
        }
        items.push((data, format!("{}-{}", int_of(r, 0), int_of(r, 1))));
    }
    Ok(paged(items, page))
}

/// Latest rate (1e27 fixed point) of a pool, from its pool state.
fn current_rate(tvl: U256, shares: U256) -> U256 {
    if shares.is_zero() { e27() } else { tvl.saturating_mul(e27()) / shares }
}

/// Annualised rate growth over the last `window` seconds of rate history.
fn apr(store: &mut Store, pool: &str, window: i64) -> Result<Option<f64>, ApiError> {
    let last = store.db().query(
        "SELECT block_time, rate_e27 FROM rates WHERE pool = $1 ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::from(pool)],
    )?;
    let Some(last) = last.first() else { return Ok(None) };
    let t1 = int_of(last, 0);
    let r1 = f64_of(u256(&read_text(last, 1, "rates")?));
    let first = store.db().query(
        "SELECT block_time, rate_e27 FROM rates WHERE pool = $1 AND block_time >= $2 ORDER BY block_number, log_index LIMIT 1",
        &[Val::from(pool), Val::Int(t1.saturating_sub(window))],
    )?;
    let Some(first) = first.first() else { return Ok(None) };
    let t0 = int_of(first, 0);
    let r0 = f64_of(u256(&read_text(first, 1, "rates")?));
    if t1 <= t0 || r0 <= 0.0 {
        return Ok(None);
    }
    #[allow(clippy::cast_precision_loss)] // seconds, far below 2^52
    let span = (t1 - t0) as f64;
    Ok(Some((r1 / r0 - 1.0) * YEAR / span))
}

/// Protocol summary of a pool.
pub fn summary(
    store: &mut Store,
    pool: &str,
    frame_seconds: Option<u64>,
) -> Result<Value, ApiError> {
    let state = store.pool_state(pool)?.unwrap_or_default();
    let tvl = u256(&state.total_pooled);
    let shares = u256(&state.total_shares);
    let rate = current_rate(tvl, shares);
    let apr7 = apr(store, pool, 7 * 86_400)?;
    let apr30 = apr(store, pool, 30 * 86_400)?;

    // Validators by status: the latest report's counts.
    let rep = store.db().query(
        "SELECT data FROM reports WHERE pool = $1 ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::from(pool)],
    )?;
    let by_status = match rep.first() {
        Some(r) => serde_json::from_str::<Value>(&read_text(r, 0, "reports")?)
            .ok()
            .and_then(|v| v.get("validators").cloned())
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    let by_type = operators_by_type(store, pool)?;

    // Insurance coverage: the insurance fund's shares at the current rate, over TVL.
    let insurance = match state.insurance_fund {
        Some(fund) => {
            let s = store.position(pool, fund)?.unwrap_or(U256::ZERO);
            let value = s.saturating_mul(rate) / e27();
            let ratio = if tvl.is_zero() { 0.0 } else { f64_of(value) / f64_of(tvl) };
            json!({ "fund": format!("{fund:#x}"), "shares": s.to_string(), "valueWei": value.to_string(), "coverageRatio": ratio })
        }
        None => Value::Null,
    };
    let losses = loss_totals(store, pool)?;
    let insurance = match insurance {
        Value::Object(mut o) => {
            // what the fund paid so far: the loss layers it covered, the csETH it burned
            o.insert("coveredLossesWei".into(), losses["fromInsuranceWei"].clone());
            o.insert(
                "burnedShares".into(),
                json!(pool_event_sum(store, pool, "insurance_burn", "sharesBurned")?),
            );
            Value::Object(o)
        }
        other => other,
    };
    let rewards = json!({
        "latestRoot": latest_root(store, pool)?,
        "claimedShares": rewards_sum(store, pool, "claim")?,
        "vfpBookedShares": rewards_sum(store, pool, "vfp_booked")?,
    });
    let swept = pool_event_sum(store, pool, "swept", "amountWei")?;
    let targets = targets(store, pool)?;

    // Queue: requests after the last finalized one.
    let pending = state.last_request_id.saturating_sub(state.finalized_to);
    let finalized_cum = match store.ticket(pool, state.finalized_to)? {
        Some((_, t)) if state.finalized_to > 0 => u256(&t.cum_ether),
        _ => U256::ZERO,
    };
    let pending_ether = u256(&state.requested_ether_cum).saturating_sub(finalized_cum);
    let head = store.cursor()?.map(|(n, _)| n);
    let now = chain_time(store)?;
    // ETA: requests are finalized by the next oracle report, one frame after the last one.
    let eta = match (pending, frame_seconds) {
        (0, _) | (_, None) => None,
        (_, Some(frame)) => {
            let next = state.last_report_time.saturating_add(frame);
            Some(next.saturating_sub(now))
        }
    };
    Ok(json!({
        "pool": pool,
        "indexedBlock": head,
        "chainTime": now,
        "tvlWei": tvl.to_string(),
        "totalShares": shares.to_string(),
        "rateE27": rate.to_string(),
        "rate": f64_of(rate) / 1e27,
        "apr7d": apr7,
        "apr30d": apr30,
        "deposits": state.deposits,
        "reports": state.reports,
        "validators": { "byStatus": by_status, "byType": by_type },
        "insurance": insurance,
        "queue": {
            "length": pending,
            "pendingEtherWei": pending_ether.to_string(),
            "lastRequestId": state.last_request_id,
            "finalizedUpTo": state.finalized_to,
            "etaSeconds": eta,
        },
        "targets": targets,
        "losses": losses,
        "rewards": rewards,
        "sweptWei": swept,
    }))
}

fn chain_time(store: &mut Store) -> Result<u64, ApiError> {
    let rows = store.db().query("SELECT time FROM blocks ORDER BY number DESC LIMIT 1", &[])?;
    Ok(rows.first().map_or(0, |r| u64::try_from(int_of(r, 0)).unwrap_or(0)))
}

const LATEST_OPERATORS: &str = "SELECT o.operator_id, o.data FROM operators o WHERE o.pool = $3 AND o.operator_id > $1 AND NOT EXISTS (SELECT 1 FROM operators n WHERE n.pool = o.pool AND n.operator_id = o.operator_id AND (n.block_number > o.block_number OR (n.block_number = o.block_number AND n.log_index > o.log_index))) ORDER BY o.operator_id LIMIT $2";

fn operators_by_type(store: &mut Store, pool: &str) -> Result<Value, ApiError> {
    let rows =
        store.db().query(LATEST_OPERATORS, &[Val::Int(-1), Val::Int(100_000), Val::from(pool)])?;
    let mut by_type = serde_json::Map::new();
    for r in &rows {
        let d: Value = serde_json::from_str(&read_text(r, 1, "operators")?).unwrap_or(Value::Null);
        let t = d.get("type").and_then(Value::as_str).unwrap_or("unknown").to_owned();
        let v = d.get("validators").and_then(Value::as_u64).unwrap_or(0);
        let e = by_type.entry(t).or_insert(json!(0));
        *e = json!(e.as_u64().unwrap_or(0).saturating_add(v));
    }
    Ok(Value::Object(by_type))
}

/// Operators, by id.
pub fn operators(store: &mut Store, pool: &str, page: &Page) -> Result<Value, ApiError> {
    let (b, _) = after(page);
    let rows = store.db().query(LATEST_OPERATORS, &[b, lim(page), Val::from(pool)])?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut d: Value = serde_json::from_str(&read_text(r, 1, "operators")?)
            .map_err(|e| ApiError::Internal(format!("stored operator: {e}")))?;
        if let Some(o) = d.as_object_mut() {
            o.insert("id".into(), json!(int_of(r, 0)));
        }
        items.push((d, format!("{}", int_of(r, 0))));
    }
    Ok(paged(items, page))
}

/// One operator with its recent notices.
pub fn operator(store: &mut Store, pool: &str, id: u64) -> Result<Value, ApiError> {
    let idv = i64::try_from(id).map_err(|_| ApiError::NotFound(format!("operator {id}")))?;
    let rows = store.db().query(
        "SELECT data FROM operators WHERE pool = $2 AND operator_id = $1 ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::Int(idv), Val::from(pool)],
    )?;
    let Some(r) = rows.first() else {
        return Err(ApiError::NotFound(format!("operator {id} not found")));
    };
    let mut d: Value = serde_json::from_str(&read_text(r, 0, "operators")?)
        .map_err(|e| ApiError::Internal(format!("stored operator: {e}")))?;
    let feed = notices(store, pool, id, 20)?;
    let by_status = exit_status_counts(store, pool, id)?;
    if let Some(o) = d.as_object_mut() {
        o.insert("id".into(), json!(id));
        o.insert("exitRequestsByStatus".into(), by_status);
        o.insert("notices".into(), Value::Array(feed));
    }
    Ok(d)
}

/// Whether an operator is known (feeds of unknown operators are 404s).
pub fn operator_exists(store: &mut Store, pool: &str, id: u64) -> Result<bool, ApiError> {
    let idv = i64::try_from(id).map_err(|_| ApiError::NotFound(format!("operator {id}")))?;
    let rows = store.db().query(
        "SELECT 1 FROM operators WHERE pool = $2 AND operator_id = $1 LIMIT 1",
        &[Val::Int(idv), Val::from(pool)],
    )?;
    Ok(!rows.is_empty())
}

/// An operator's notices (exit requests, penalties, bond shortfalls, missed duties), newest first.
pub fn notices(store: &mut Store, pool: &str, id: u64, limit: u64) -> Result<Vec<Value>, ApiError> {
    let idv = i64::try_from(id).map_err(|_| ApiError::NotFound(format!("operator {id}")))?;
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, kind, data FROM operator_notices WHERE pool = $3 AND operator_id = $1 ORDER BY block_number DESC, log_index DESC LIMIT $2",
        &[Val::Int(idv), Val::Int(i64::try_from(limit).unwrap_or(500)), Val::from(pool)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let data: Value =
            serde_json::from_str(&read_text(r, 4, "operator_notices")?).unwrap_or(Value::Null);
        out.push(json!({
            "key": format!("{pool}-{id}-{}-{}", int_of(r, 0), int_of(r, 1)),
            "block": int_of(r, 0),
            "time": int_of(r, 2),
            "kind": read_text(r, 3, "operator_notices")?,
            "data": data,
        }));
    }
    Ok(out)
}

/// A staker's position and withdrawal tickets in a pool.
pub fn staker(store: &mut Store, pool: &str, account: Address) -> Result<Value, ApiError> {
    let shares = store.position(pool, account)?.unwrap_or(U256::ZERO);
    let state = store.pool_state(pool)?.unwrap_or_default();
    let rate = current_rate(u256(&state.total_pooled), u256(&state.total_shares));
    let key = format!("{account:#x}");
    let ids = store.db().query(
        "SELECT DISTINCT request_id FROM tickets WHERE pool = $1 AND owner = $2 ORDER BY request_id LIMIT 500",
        &[Val::from(pool), Val::Text(key.clone())],
    )?;
    let mut tickets = Vec::new();
    for r in &ids {
        let id = read_u64(r, 0, "tickets")?;
        let Some((owner, t)) = store.ticket(pool, id)? else { continue };
        if owner != account {
            continue; // transferred away since
        }
        let status = if t.claimed.is_some() {
            "claimed"
        } else if id <= state.finalized_to {
            "finalized"
        } else {
            "pending"
        };
        tickets.push(json!({
            "id": id, "status": status, "shares": t.shares, "etherWei": t.ether,
            "claimedWei": t.claimed, "requestedAt": t.requested_at,
        }));
    }
    Ok(json!({
        "pool": pool,
        "address": key,
        "shares": shares.to_string(),
        "valueWei": (shares.saturating_mul(rate) / e27()).to_string(),
        "tickets": tickets,
    }))
}

fn parse_doc(text: &str, what: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored {what}: {e}")))
}

fn ref_slot_json(v: i64) -> Value {
    if v >= 0 { json!(v) } else { Value::Null }
}

/// Pages an in-memory list ordered by (block, log index).
fn paged_positions(items: Vec<(Value, (i64, i64))>, page: &Page) -> Value {
    let start = page.after.unwrap_or((-1, -1));
    let rest: Vec<(Value, String)> = items
        .into_iter()
        .filter(|(_, pos)| *pos > start)
        .take(usize::try_from(page.limit).unwrap_or(500).saturating_add(1))
        .map(|(v, (b, l))| (v, format!("{b}-{l}")))
        .collect();
    paged(rest, page)
}

/// The extra data of one report: chunks applied, whether the chain completed or was dropped,
/// and the operators parts summed over its chunks.
fn extra_data(store: &mut Store, pool: &str, ref_slot: i64) -> Result<Value, ApiError> {
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, tx_hash, kind, data FROM report_parts WHERE pool = $1 AND ref_slot = $2 ORDER BY block_number, log_index",
        &[Val::from(pool), Val::Int(ref_slot)],
    )?;
    let mut chunks = Vec::new();
    let mut dropped = Value::Null;
    let mut complete = false;
    let mut sums = [0u64; 4];
    let mut roots = Vec::new();
    // The operators part of a chunk precedes its chunk event in the same transaction.
    let mut part = Value::Null;
    for r in &rows {
        let data = parse_doc(&read_text(r, 5, "report_parts")?, "report part")?;
        match read_text(r, 4, "report_parts")?.as_str() {
            "operators" => {
                for (i, k) in
                    ["preDeposits", "frontRun", "penalties", "exitRequests"].iter().enumerate()
                {
                    let v = data[*k].as_u64().unwrap_or(0);
                    if let Some(s) = sums.get_mut(i) {
                        *s = s.saturating_add(v);
                    }
                }
                if let Some(root) = data["rewardsRoot"].as_str() {
                    roots.push(json!(root));
                }
                part = data;
            }
            "chunk" => {
                complete = data["last"].as_bool().unwrap_or(false);
                chunks.push(json!({
                    "index": data["index"],
                    "chunkHash": data["chunkHash"],
                    "nextHash": data["nextHash"],
                    "block": int_of(r, 0),
                    "time": int_of(r, 2),
                    "txHash": read_text(r, 3, "report_parts")?,
                    "operators": std::mem::take(&mut part),
                }));
            }
            "dropped" => {
                dropped = json!({
                    "chunksApplied": data["chunksApplied"],
                    "nextHash": data["nextHash"],
                    "block": int_of(r, 0),
                    "time": int_of(r, 2),
                });
            }
            _ => {}
        }
    }
    let status = if chunks.is_empty() {
        "none"
    } else if complete {
        "complete"
    } else if dropped.is_null() {
        "pending"
    } else {
        "dropped"
    };
    Ok(json!({
        "status": status,
        "chunksApplied": chunks.len(),
        "dropped": dropped,
        "operators": {
            "preDeposits": sums[0], "frontRun": sums[1], "penalties": sums[2], "exitRequests": sums[3],
            "rewardsRoot": roots.first(),
        },
        "chunks": chunks,
    }))
}

/// One oracle report by reference slot, with its extra-data chunks and the losses it charged.
pub fn report(store: &mut Store, pool: &str, ref_slot: u64) -> Result<Value, ApiError> {
    let slot =
        i64::try_from(ref_slot).map_err(|_| ApiError::NotFound(format!("report {ref_slot}")))?;
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, data FROM reports WHERE pool = $1 AND ref_slot = $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::from(pool), Val::Int(slot)],
    )?;
    let Some(r) = rows.first() else {
        return Err(ApiError::NotFound(format!(
            "no report for ref slot {ref_slot} in pool {pool}"
        )));
    };
    let mut d = parse_doc(&read_text(r, 3, "reports")?, "report")?;
    let losses = store.db().query(
        "SELECT operator_id, cause, data FROM losses WHERE pool = $1 AND ref_slot = $2 ORDER BY block_number, log_index",
        &[Val::from(pool), Val::Int(slot)],
    )?;
    let mut items = Vec::with_capacity(losses.len());
    for l in &losses {
        let mut v = parse_doc(&read_text(l, 2, "losses")?, "loss")?;
        v["operator"] = json!(int_of(l, 0));
        v["cause"] = json!(read_text(l, 1, "losses")?);
        items.push(v);
    }
    let extra = extra_data(store, pool, slot)?;
    let rate = store.db().query(
        "SELECT rate_e27, total_pooled FROM rates WHERE pool = $1 AND ref_slot = $2 ORDER BY block_number DESC LIMIT 1",
        &[Val::from(pool), Val::Int(slot)],
    )?;
    if let (Some(o), Some(rr)) = (d.as_object_mut(), rate.first()) {
        o.insert("rateE27".into(), json!(read_text(rr, 0, "rates")?));
        o.insert("totalPooledEther".into(), json!(read_text(rr, 1, "rates")?));
    }
    if let Some(o) = d.as_object_mut() {
        o.insert("refSlot".into(), json!(ref_slot));
        o.insert("block".into(), json!(int_of(r, 0)));
        o.insert("time".into(), json!(int_of(r, 2)));
        o.insert("extraData".into(), extra);
        o.insert("losses".into(), Value::Array(items));
    }
    Ok(d)
}

/// An operator's exit requests, oldest first: deadline, status (`pending`, `awaiting_report`,
/// `met`, `missed`, `forced`, `cleared`, `unknown`), the forced exit if any.
pub fn exit_requests(
    store: &mut Store,
    pool: &str,
    id: u64,
    page: &Page,
) -> Result<Value, ApiError> {
    require_operator(store, pool, id)?;
    let views = store.exit_request_views(pool, id)?;
    let items = views
        .into_iter()
        .map(|(b, l, v)| {
            (v, (i64::try_from(b).unwrap_or(i64::MAX), i64::try_from(l).unwrap_or(i64::MAX)))
        })
        .collect();
    Ok(paged_positions(items, page))
}

/// Counts of an operator's exit requests by status.
fn exit_status_counts(store: &mut Store, pool: &str, id: u64) -> Result<Value, ApiError> {
    let mut counts = serde_json::Map::new();
    for (_, _, v) in store.exit_request_views(pool, id)? {
        let s = v["status"].as_str().unwrap_or("unknown").to_owned();
        let e = counts.entry(s).or_insert(json!(0));
        *e = json!(e.as_u64().unwrap_or(0).saturating_add(1));
    }
    Ok(Value::Object(counts))
}

fn require_operator(store: &mut Store, pool: &str, id: u64) -> Result<(), ApiError> {
    if operator_exists(store, pool, id)? {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("operator {id} not found")))
    }
}

/// Loss rows (`losses` table) of a pool, optionally of one operator, oldest first.
fn loss_rows(
    store: &mut Store,
    pool: &str,
    operator: Option<u64>,
    page: &Page,
) -> Result<Value, ApiError> {
    let (b, l) = after(page);
    let op = operator.map_or(-1, |o| i64::try_from(o).unwrap_or(i64::MAX));
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, tx_hash, operator_id, ref_slot, cause, data FROM losses WHERE pool = $1 AND ($2 < 0 OR operator_id = $2) AND (block_number > $3 OR (block_number = $3 AND log_index > $4)) ORDER BY block_number, log_index LIMIT $5",
        &[Val::from(pool), Val::Int(op), b, l, lim(page)],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let layers = parse_doc(&read_text(r, 7, "losses")?, "loss")?;
        let field = |k: &str| layers.get(k).cloned().unwrap_or(Value::Null);
        items.push((
            json!({
                "block": int_of(r, 0),
                "time": int_of(r, 2),
                "txHash": read_text(r, 3, "losses")?,
                "operator": int_of(r, 4),
                "refSlot": ref_slot_json(int_of(r, 5)),
                "cause": read_text(r, 6, "losses")?,
                "keyIndex": field("keyIndex"),
                "amountWei": field("amountWei"),
                "covered": {
                    "bondWei": field("fromBondWei"),
                    "vfpWei": field("fromVfpWei"),
                    "insuranceWei": field("fromInsuranceWei"),
                    "otherLayersWei": field("otherLayersWei"),
                },
                "uncoveredWei": field("uncoveredWei"),
            }),
            format!("{}-{}", int_of(r, 0), int_of(r, 1)),
        ));
    }
    Ok(paged(items, page))
}

/// An operator's penalties and front-run charges with what each loss layer covered.
pub fn operator_penalties(
    store: &mut Store,
    pool: &str,
    id: u64,
    page: &Page,
) -> Result<Value, ApiError> {
    require_operator(store, pool, id)?;
    loss_rows(store, pool, Some(id), page)
}

/// Every loss of a pool through the waterfall (bond, VFP pool, insurance fund, holders).
pub fn losses(store: &mut Store, pool: &str, page: &Page) -> Result<Value, ApiError> {
    loss_rows(store, pool, None, page)
}

/// The latest rewards root of a pool.
/// The pool's latest rewards root (`{root, cumulativeShares, refSlot, block, time}`), `null` before
/// the first.
pub fn latest_root(store: &mut Store, pool: &str) -> Result<Value, ApiError> {
    let rows = store.db().query(
        "SELECT block_number, block_time, data FROM rewards WHERE pool = $1 AND kind = 'root' ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::from(pool)],
    )?;
    let Some(r) = rows.first() else { return Ok(Value::Null) };
    let mut d = parse_doc(&read_text(r, 2, "rewards")?, "rewards root")?;
    d["block"] = json!(int_of(r, 0));
    d["time"] = json!(int_of(r, 1));
    Ok(d)
}

/// What `account` claimed from the pool's `OperatorRewards` so far (`claimed(account)`: the
/// cumulative total of its latest `RewardsClaimed`), zero before its first claim.
pub fn account_claimed(store: &mut Store, pool: &str, account: Address) -> Result<U256, ApiError> {
    let rows = store.db().query(
        "SELECT data FROM rewards WHERE pool = $1 AND kind = 'claim' AND account = $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
        &[Val::from(pool), Val::Text(format!("{account:#x}"))],
    )?;
    let Some(r) = rows.first() else { return Ok(U256::ZERO) };
    let d = parse_doc(&read_text(r, 0, "rewards")?, "rewards claim")?;
    d["cumulativeShares"]
        .as_str()
        .and_then(|s| U256::from_str_radix(s, 10).ok())
        .ok_or_else(|| ApiError::Internal(format!("read the claimed total of {account:#x}: {d}")))
}

/// Rows of the `rewards` table, oldest first, filtered by kind and account.
fn reward_rows(
    store: &mut Store,
    pool: &str,
    kind: Option<&str>,
    account: Option<&str>,
    page: &Page,
) -> Result<Value, ApiError> {
    let (b, l) = after(page);
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, tx_hash, kind, account, data FROM rewards WHERE pool = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR account = $3) AND (block_number > $4 OR (block_number = $4 AND log_index > $5)) ORDER BY block_number, log_index LIMIT $6",
        &[
            Val::from(pool),
            Val::from(kind.unwrap_or_default()),
            Val::from(account.unwrap_or_default()),
            b,
            l,
            lim(page),
        ],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut d = parse_doc(&read_text(r, 6, "rewards")?, "rewards")?;
        if let Some(o) = d.as_object_mut() {
            o.insert("kind".into(), json!(read_text(r, 4, "rewards")?));
            let account = read_text(r, 5, "rewards")?;
            if !account.is_empty() {
                o.insert("account".into(), json!(account));
            }
            o.insert("block".into(), json!(int_of(r, 0)));
            o.insert("time".into(), json!(int_of(r, 2)));
            o.insert("txHash".into(), json!(read_text(r, 3, "rewards")?));
        }
        items.push((d, format!("{}-{}", int_of(r, 0), int_of(r, 1))));
    }
    Ok(paged(items, page))
}

/// Rewards activity of a pool: roots published, claims, VfpPool bookings (`kind` filter).
pub fn rewards(
    store: &mut Store,
    pool: &str,
    kind: Option<&str>,
    page: &Page,
) -> Result<Value, ApiError> {
    let mut v = reward_rows(store, pool, kind, None, page)?;
    v["latestRoot"] = latest_root(store, pool)?;
    Ok(v)
}

/// An operator's rewards: claims by its reward address (paged), the claimed totals and the latest
/// root. The operator's cumulative allocation is its leaf in the tree behind that root, which the
/// oracle members serve; the handler adds it (`allocation`, see [`crate::trees`]).
pub fn operator_rewards(
    store: &mut Store,
    pool: &str,
    id: u64,
    page: &Page,
) -> Result<Value, ApiError> {
    require_operator(store, pool, id)?;
    let d = store.operator_data(pool, id)?;
    let account = d["rewardAddress"].as_str().map(str::to_owned);
    let mut v = match &account {
        Some(a) => reward_rows(store, pool, Some("claim"), Some(a), page)?,
        None => json!({"items": [], "nextCursor": null}),
    };
    v["operator"] = json!(id);
    v["rewardAddress"] = json!(account);
    v["claimedShares"] = d.get("rewardsShares").cloned().unwrap_or(json!("0"));
    v["claimedCumulativeShares"] =
        d.get("rewardsClaimedCumulativeShares").cloned().unwrap_or(json!("0"));
    v["latestRoot"] = latest_root(store, pool)?;
    Ok(v)
}

/// Current governance parameters and wiring of a pool's contracts (latest value of each).
pub fn parameters(store: &mut Store, pool: &str) -> Result<Value, ApiError> {
    let rows = store.db().query(
        "SELECT p.contract, p.address, p.name, p.value, p.block_number, p.block_time FROM parameters p WHERE p.pool = $1 AND NOT EXISTS (SELECT 1 FROM parameters n WHERE n.pool = p.pool AND n.address = p.address AND n.name = p.name AND (n.block_number > p.block_number OR (n.block_number = p.block_number AND n.log_index > p.log_index))) ORDER BY p.contract, p.address, p.name",
        &[Val::from(pool)],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(json!({
            "contract": read_text(r, 0, "parameters")?,
            "address": read_text(r, 1, "parameters")?,
            "name": read_text(r, 2, "parameters")?,
            "value": read_text(r, 3, "parameters")?,
            "block": int_of(r, 4),
            "time": int_of(r, 5),
        }));
    }
    Ok(json!({ "pool": pool, "items": items }))
}

/// Pool-level events: insurance burns, DepositSecurity sweeps, vault pulls, EIP-7002 requests
/// sent by the withdrawal vault (`kind` filter), oldest first.
pub fn pool_events(
    store: &mut Store,
    pool: &str,
    kind: Option<&str>,
    page: &Page,
) -> Result<Value, ApiError> {
    let (b, l) = after(page);
    let rows = store.db().query(
        "SELECT block_number, log_index, block_time, tx_hash, contract, address, kind, data FROM pool_events WHERE pool = $1 AND ($2 = '' OR kind = $2) AND (block_number > $3 OR (block_number = $3 AND log_index > $4)) ORDER BY block_number, log_index LIMIT $5",
        &[Val::from(pool), Val::from(kind.unwrap_or_default()), b, l, lim(page)],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut d = parse_doc(&read_text(r, 7, "pool_events")?, "pool event")?;
        if let Some(o) = d.as_object_mut() {
            o.insert("kind".into(), json!(read_text(r, 6, "pool_events")?));
            o.insert("contract".into(), json!(read_text(r, 4, "pool_events")?));
            o.insert("address".into(), json!(read_text(r, 5, "pool_events")?));
            o.insert("block".into(), json!(int_of(r, 0)));
            o.insert("time".into(), json!(int_of(r, 2)));
            o.insert("txHash".into(), json!(read_text(r, 3, "pool_events")?));
        }
        items.push((d, format!("{}-{}", int_of(r, 0), int_of(r, 1))));
    }
    Ok(paged(items, page))
}

/// Sums of a pool's losses by layer.
fn loss_totals(store: &mut Store, pool: &str) -> Result<Value, ApiError> {
    let rows = store.db().query("SELECT data FROM losses WHERE pool = $1", &[Val::from(pool)])?;
    let keys = [
        "amountWei",
        "fromBondWei",
        "fromVfpWei",
        "fromInsuranceWei",
        "otherLayersWei",
        "uncoveredWei",
    ];
    let mut sums = [U256::ZERO; 6];
    for r in &rows {
        let d = parse_doc(&read_text(r, 0, "losses")?, "loss")?;
        for (s, k) in sums.iter_mut().zip(keys) {
            *s = s.saturating_add(u256(d[k].as_str().unwrap_or("0")));
        }
    }
    Ok(json!({
        "count": rows.len(),
        "totalWei": sums[0].to_string(),
        "fromBondWei": sums[1].to_string(),
        "fromVfpWei": sums[2].to_string(),
        "fromInsuranceWei": sums[3].to_string(),
        "otherLayersWei": sums[4].to_string(),
        "uncoveredWei": sums[5].to_string(),
    }))
}

/// Sum of a decimal field over `pool_events` of one kind.
fn pool_event_sum(
    store: &mut Store,
    pool: &str,
    kind: &str,
    field: &str,
) -> Result<String, ApiError> {
    let rows = store.db().query(
        "SELECT data FROM pool_events WHERE pool = $1 AND kind = $2",
        &[Val::from(pool), Val::from(kind)],
    )?;
    let mut sum = U256::ZERO;
    for r in &rows {
        let d = parse_doc(&read_text(r, 0, "pool_events")?, "pool event")?;
        sum = sum.saturating_add(u256(d[field].as_str().unwrap_or("0")));
    }
    Ok(sum.to_string())
}

/// Sum of `shares` over `rewards` rows of one kind.
fn rewards_sum(store: &mut Store, pool: &str, kind: &str) -> Result<String, ApiError> {
    let rows = store.db().query(
        "SELECT data FROM rewards WHERE pool = $1 AND kind = $2",
        &[Val::from(pool), Val::from(kind)],
    )?;
    let mut sum = U256::ZERO;
    for r in &rows {
        let d = parse_doc(&read_text(r, 0, "rewards")?, "rewards")?;
        sum = sum.saturating_add(u256(d["shares"].as_str().unwrap_or("0")));
    }
    Ok(sum.to_string())
}

/// The balancing targets: the Allocator's `TargetsUpdated` once indexed, else the defaults.
fn targets(store: &mut Store, pool: &str) -> Result<Value, ApiError> {
    let mut out = json!({ "Professional": 0.35, "Dvt": 0.35, "Home": 0.20, "Kyc": 0.10 });
    for t in ["Professional", "Dvt", "Home", "Kyc"] {
        let v = store.parameter_at(
            pool,
            claystack_indexer::decode::Contract::Allocator,
            &format!("targetBps.{t}"),
            u64::try_from(i64::MAX).unwrap_or(u64::MAX),
        )?;
        if let Some(bps) = v.and_then(|v| v.parse::<f64>().ok()) {
            out[t] = json!(bps / 10_000.0);
        }
    }
    Ok(out)
}
