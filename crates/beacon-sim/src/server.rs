//! The HTTP server: the standard Beacon API endpoints ClayStack uses, with the spec's JSON shapes,
//! and the `/admin/` scripting API.
//!
//! Admin API (JSON bodies; `{id}` is an index or a 0x-pubkey):
//! - `GET  /admin/status` — head, finality, counts, execution cursor, last error;
//! - `POST /admin/advance` `{"slots": n}` or `{"epochs": n}` — manual clock only;
//! - `POST /admin/validators/{id}/performance` `{"ppm": 0..=1000000}` — 0 takes it offline;
//! - `POST /admin/validators/{id}/fee_recipient` `{"address": "0x…" | null}`;
//! - `POST /admin/validators/{id}/slash`, `POST /admin/validators/{id}/exit` (voluntary exit);
//! - `POST /admin/finality` `{"halted": true|false}`;
//! - `POST /admin/withdrawal_requests` `{"source_address", "validator_pubkey", "amount"}` — an
//!   EIP-7002 request as if read from the execution layer;
//! - `GET  /admin/proposals`, `GET /admin/withdrawals` — recent ones, oldest first;
//! - `POST /admin/snapshot` — write a snapshot now;
//! - `POST /admin/warp` `{"seconds": n, "timeout_seconds"?: t}` — wall clock only: move the
//!   clock `n` seconds forward (the execution node must be warped by as much, e.g.
//!   `evm_increaseTime`); answers once the skipped slots are processed, or with a 503 naming the
//!   last error when the head has not moved for `t` seconds (60 by default).
//!
//! Besides the endpoints the client reads, `POST /eth/v1/validator/liveness/{epoch}` answers from
//! the seeded participation of the last `liveness_epochs` ended epochs,
//! `POST /eth/v1/beacon/rewards/attestations/{epoch}` answers from the same archive (see
//! [`attestation_rewards`] for the figures), and
//! `POST /eth/v1/beacon/pool/voluntary_exits` takes a `SignedVoluntaryExit`, checks it as
//! `process_voluntary_exit` does (known, active, not exiting, active long enough, epoch not in the
//! future, BLS signature under the EIP-7044 domain) and pools it for the next block.

use crate::core::deposit::WithdrawalRequest;
use crate::core::{AdminOp, BlockInfo, status_at};
use crate::node::{NodeError, Shared, StateView};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use claystack_beacon::{
    ApiErrorBody, BeaconBlockHeader, Fork, Genesis, HeaderData, NodeVersion,
    SignedBeaconBlockHeader, StateId, SyncStatus, ValidatorBalance, ValidatorData, ValidatorId,
    ValidatorStatus,
};
use claystack_consensus::hexutil;
use claystack_consensus::{Slot, ValidatorIndex};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type AppState = Arc<Shared>;

/// An error response in the Beacon API's shape.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody { code: self.0.as_u16(), message: self.1 };
        (self.0, Json(body)).into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        let code = match &e {
            NodeError::Sim(crate::core::SimError::UnknownValidator(_)) => StatusCode::NOT_FOUND,
            NodeError::Sim(crate::core::SimError::Rejected { .. }) => StatusCode::BAD_REQUEST,
            NodeError::NotManual => StatusCode::CONFLICT,
            NodeError::BadExitSignature { .. } | NodeError::Warp(_) => StatusCode::BAD_REQUEST,
            NodeError::CatchUpStalled { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self(code, e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, msg.into())
}

/// The router of the Beacon API and the admin API.
pub fn router(shared: AppState) -> Router {
    Router::new()
        .route("/eth/v1/beacon/genesis", get(genesis))
        .route("/eth/v1/config/spec", get(spec))
        .route("/eth/v1/config/deposit_contract", get(deposit_contract))
        .route("/eth/v1/node/version", get(version))
        .route("/eth/v1/node/health", get(health))
        .route("/eth/v1/node/syncing", get(syncing))
        .route("/eth/v1/beacon/headers/{block_id}", get(header_by_id))
        .route("/eth/v1/beacon/states/{state_id}/root", get(state_root))
        .route("/eth/v1/beacon/states/{state_id}/fork", get(fork))
        .route("/eth/v1/beacon/states/{state_id}/finality_checkpoints", get(finality))
        .route(
            "/eth/v1/beacon/states/{state_id}/validators",
            get(validators_get).post(validators_post),
        )
        .route("/eth/v1/beacon/states/{state_id}/validators/{validator_id}", get(validator_one))
        .route(
            "/eth/v1/beacon/states/{state_id}/validator_balances",
            get(balances_get).post(balances_post),
        )
        .route("/eth/v1/validator/liveness/{epoch}", post(liveness))
        .route("/eth/v1/beacon/rewards/attestations/{epoch}", post(attestation_rewards))
        .route("/eth/v1/beacon/pool/voluntary_exits", post(submit_voluntary_exit))
        .route("/admin/status", get(admin_status))
        .route("/admin/advance", post(admin_advance))
        .route("/admin/validators/{id}/performance", post(admin_performance))
        .route("/admin/validators/{id}/fee_recipient", post(admin_fee_recipient))
        .route("/admin/validators/{id}/slash", post(admin_slash))
        .route("/admin/validators/{id}/exit", post(admin_exit))
        .route("/admin/finality", post(admin_finality))
        .route("/admin/withdrawal_requests", post(admin_withdrawal_request))
        .route("/admin/proposals", get(admin_proposals))
        .route("/admin/withdrawals", get(admin_withdrawals))
        .route("/admin/snapshot", post(admin_snapshot))
        .route("/admin/warp", post(admin_warp))
        .with_state(shared)
}

fn data(v: impl serde::Serialize) -> Response {
    Json(json!({ "data": v })).into_response()
}

fn data_flags(v: impl serde::Serialize, finalized: bool) -> Response {
    Json(json!({ "execution_optimistic": false, "finalized": finalized, "data": v }))
        .into_response()
}

async fn genesis(State(s): State<AppState>) -> Response {
    let inner = s.read();
    let root = match inner {
        Ok(i) => i.state.genesis_validators_root,
        Err(e) => return ApiError::from(e).into_response(),
    };
    data(Genesis {
        genesis_time: s.cfg.genesis_time,
        genesis_validators_root: root,
        genesis_fork_version: s.cfg.genesis_fork_version,
    })
}

async fn spec(State(s): State<AppState>) -> Response {
    let c = &s.cfg;
    let n = |v: u64| Value::String(v.to_string());
    let spec = json!({
        "CONFIG_NAME": c.preset,
        "PRESET_BASE": c.preset,
        "SECONDS_PER_SLOT": n(c.seconds_per_slot),
        "SLOTS_PER_EPOCH": n(c.slots_per_epoch),
        "MAX_EFFECTIVE_BALANCE": n(c.max_effective_balance.get()),
        "EFFECTIVE_BALANCE_INCREMENT": n(c.effective_balance_increment.get()),
        "EJECTION_BALANCE": n(c.ejection_balance.get()),
        "MIN_PER_EPOCH_CHURN_LIMIT": n(c.min_per_epoch_churn_limit),
        "CHURN_LIMIT_QUOTIENT": n(c.churn_limit_quotient),
        "MAX_PER_EPOCH_ACTIVATION_CHURN_LIMIT": n(c.max_per_epoch_activation_churn_limit),
        "MAX_SEED_LOOKAHEAD": n(c.max_seed_lookahead),
        "MIN_VALIDATOR_WITHDRAWABILITY_DELAY": n(c.min_validator_withdrawability_delay),
        "SHARD_COMMITTEE_PERIOD": n(c.shard_committee_period),
        "EPOCHS_PER_SLASHINGS_VECTOR": n(c.epochs_per_slashings_vector),
        "MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX": n(c.min_slashing_penalty_quotient),
        "PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX": n(c.proportional_slashing_multiplier),
        "WHISTLEBLOWER_REWARD_QUOTIENT": n(c.whistleblower_reward_quotient),
        "MIN_EPOCHS_TO_INACTIVITY_PENALTY": n(c.min_epochs_to_inactivity_penalty),
        "INACTIVITY_PENALTY_QUOTIENT_BELLATRIX": n(c.inactivity_penalty_quotient),
        "MAX_DEPOSITS": n(c.max_deposits_per_block),
        "MAX_WITHDRAWALS_PER_PAYLOAD": n(c.max_withdrawals_per_payload),
        "MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP": n(c.max_validators_per_withdrawals_sweep),
        "GENESIS_FORK_VERSION": hexutil::encode_prefixed(c.genesis_fork_version),
        "CAPELLA_FORK_VERSION": hexutil::encode_prefixed(c.capella_fork_version()),
        "CAPELLA_FORK_EPOCH": n(0),
        "MAX_VOLUNTARY_EXITS": n(u64::try_from(crate::core::MAX_VOLUNTARY_EXITS).unwrap_or(u64::MAX)),
        "MIN_GENESIS_TIME": n(c.genesis_time),
        "GENESIS_DELAY": n(0),
        "DEPOSIT_CONTRACT_ADDRESS": hexutil::encode_prefixed(c.deposit_contract),
        "DEPOSIT_CHAIN_ID": n(c.deposit_chain_id),
        "DEPOSIT_NETWORK_ID": n(c.deposit_chain_id),
        "FAR_FUTURE_EPOCH": n(u64::MAX),
    });
    data(spec)
}

async fn deposit_contract(State(s): State<AppState>) -> Response {
    data(json!({
        "chain_id": s.cfg.deposit_chain_id.to_string(),
        "address": hexutil::encode_prefixed(s.cfg.deposit_contract),
    }))
}

async fn version() -> Response {
    data(NodeVersion { version: format!("claystack-beacon-sim/v{}", env!("CARGO_PKG_VERSION")) })
}

async fn health() -> StatusCode {
    StatusCode::OK
}

async fn syncing(State(s): State<AppState>) -> Result<Response, ApiError> {
    let inner = s.read()?;
    let el_offline =
        inner.last_error.as_deref().is_some_and(|e| e.starts_with("poll execution node"));
    Ok(data(SyncStatus {
        head_slot: inner.state.slot,
        sync_distance: 0,
        is_syncing: false,
        is_optimistic: false,
        el_offline,
    }))
}

fn parse_state_id(id: &str) -> Result<StateId, ApiError> {
    id.parse::<StateId>().map_err(bad)
}

/// Resolves a state id to a retained view; also returns whether it is finalized.
fn resolve_state(s: &Shared, id: &str) -> Result<(Arc<StateView>, bool), ApiError> {
    let id = parse_state_id(id)?;
    let inner = s.read()?;
    let spe = s.cfg.slots_per_epoch;
    let head = inner.history.back().cloned().unwrap_or_else(|| Arc::clone(&s.genesis_view));
    let finalized_slot = head.finalized.epoch.start_slot(spe).unwrap_or(Slot::MAX);
    let by_slot = |slot: Slot| -> Result<Arc<StateView>, ApiError> {
        if slot > head.slot {
            return Err(not_found(format!("state at slot {slot} is in the future")));
        }
        if slot == Slot(0) {
            return Ok(Arc::clone(&s.genesis_view));
        }
        inner
            .history
            .iter()
            .rev()
            .find(|v| v.slot == slot)
            .cloned()
            .ok_or_else(|| not_found(format!("state at slot {slot} is no longer retained")))
    };
    let view = match id {
        StateId::Head => Arc::clone(&head),
        StateId::Genesis => Arc::clone(&s.genesis_view),
        StateId::Finalized => by_slot(finalized_slot)?,
        StateId::Justified => {
            by_slot(head.current_justified.epoch.start_slot(spe).unwrap_or(Slot::MAX))?
        }
        StateId::Slot(slot) => by_slot(slot)?,
        StateId::Root(r) => {
            if s.genesis_view.state_root == r {
                Arc::clone(&s.genesis_view)
            } else {
                inner
                    .history
                    .iter()
                    .find(|v| v.state_root == r)
                    .cloned()
                    .ok_or_else(|| not_found("state root not found"))?
            }
        }
    };
    let finalized = view.slot <= finalized_slot;
    Ok((view, finalized))
}

async fn state_root(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (view, fin) = resolve_state(&s, &id)?;
    Ok(data_flags(json!({ "root": hexutil::encode_prefixed(view.state_root) }), fin))
}

async fn fork(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (_, fin) = resolve_state(&s, &id)?;
    let v = s.cfg.genesis_fork_version;
    Ok(data_flags(
        Fork { previous_version: v, current_version: v, epoch: claystack_consensus::Epoch(0) },
        fin,
    ))
}

async fn finality(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (view, fin) = resolve_state(&s, &id)?;
    Ok(data_flags(
        claystack_beacon::FinalityCheckpoints {
            previous_justified: view.previous_justified,
            current_justified: view.current_justified,
            finalized: view.finalized,
        },
        fin,
    ))
}

fn resolve_block(s: &Shared, id: &str) -> Result<(BlockInfo, bool), ApiError> {
    let id = parse_state_id(id)?;
    let inner = s.read()?;
    let st = &inner.state;
    let finalized_slot = st.finalized.epoch.start_slot(s.cfg.slots_per_epoch).unwrap_or(Slot::MAX);
    let by_root = |r: &[u8; 32]| {
        if *r == s.genesis_block.root {
            Some(s.genesis_block)
        } else {
            st.find_block(None, Some(r))
        }
    };
    let block = match id {
        StateId::Head => Some(st.latest_block),
        StateId::Genesis => Some(s.genesis_block),
        StateId::Finalized => by_root(&st.finalized.root),
        StateId::Justified => by_root(&st.current_justified.root),
        StateId::Slot(Slot(0)) => Some(s.genesis_block),
        StateId::Slot(slot) => st.find_block(Some(slot), None),
        StateId::Root(r) => by_root(&r),
    }
    .ok_or_else(|| not_found(format!("no block for {id} (missed slot or no longer retained)")))?;
    Ok((block, block.slot <= finalized_slot))
}

async fn header_by_id(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (b, fin) = resolve_block(&s, &id)?;
    let mut signature = vec![0u8; 96];
    if let Some(first) = signature.first_mut() {
        *first = 0xc0; // the compressed point at infinity: clearly not a real signature
    }
    Ok(data_flags(
        HeaderData {
            root: b.root,
            canonical: true,
            header: SignedBeaconBlockHeader {
                message: BeaconBlockHeader {
                    slot: b.slot,
                    proposer_index: b.proposer_index,
                    parent_root: b.parent_root,
                    state_root: b.state_root,
                    body_root: b.body_root,
                },
                signature,
            },
        },
        fin,
    ))
}

/// Parsed `id` / `status` filters.
#[derive(Debug, Default)]
struct Filter {
    ids: Vec<ValidatorId>,
    statuses: Vec<ValidatorStatus>,
}

fn parse_query(raw: Option<&str>) -> Result<Filter, ApiError> {
    let mut f = Filter::default();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = v.replace("%2C", ",").replace("%2c", ",");
        for item in v.split(',').filter(|x| !x.is_empty()) {
            match k {
                "id" => f.ids.push(item.parse().map_err(bad)?),
                "status" => f.statuses.push(
                    ValidatorStatus::parse(item)
                        .ok_or_else(|| bad(format!("invalid status {item:?}")))?,
                ),
                _ => return Err(bad(format!("unknown query parameter {k:?}"))),
            }
        }
    }
    Ok(f)
}

#[derive(Debug, Deserialize)]
struct PostFilter {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    statuses: Vec<String>,
}

fn parse_post(body: &[u8]) -> Result<Filter, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Filter::default());
    }
    let p: PostFilter =
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid body: {e}")))?;
    let mut f = Filter::default();
    for id in p.ids {
        f.ids.push(id.parse().map_err(bad)?);
    }
    for st in p.statuses {
        f.statuses.push(
            ValidatorStatus::parse(&st).ok_or_else(|| bad(format!("invalid status {st:?}")))?,
        );
    }
    Ok(f)
}

fn select(s: &Shared, view: &StateView, f: &Filter) -> Result<Vec<ValidatorData>, ApiError> {
    let epoch = view.slot.epoch(s.cfg.slots_per_epoch).map_err(|e| bad(e.to_string()))?;
    let make = |i: usize| -> Option<ValidatorData> {
        let v = view.validators.get(i)?;
        Some(ValidatorData {
            index: ValidatorIndex(u64::try_from(i).ok()?),
            balance: v.balance,
            status: status_at(&v.record, v.balance, epoch),
            validator: v.record.clone(),
        })
    };
    let indices: Vec<usize> = if f.ids.is_empty() {
        (0..view.validators.len()).collect()
    } else {
        let inner = s.read()?;
        let mut out = Vec::new();
        for id in &f.ids {
            let i = match id {
                ValidatorId::Index(i) => usize::try_from(i.get()).ok(),
                ValidatorId::Pubkey(pk) => {
                    inner.state.index_of(pk).and_then(|i| usize::try_from(i).ok())
                }
            };
            if let Some(i) = i.filter(|i| *i < view.validators.len())
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
        out
    };
    Ok(indices
        .into_iter()
        .filter_map(make)
        .filter(|d| f.statuses.is_empty() || f.statuses.iter().any(|st| d.status.matches(*st)))
        .collect())
}

fn validators_response(s: &Shared, id: &str, f: &Filter) -> Result<Response, ApiError> {
    let (view, fin) = resolve_state(s, id)?;
    let items = select(s, &view, f)?;
    let mut body = Vec::with_capacity(items.len().saturating_mul(400).saturating_add(64));
    crate::api_json::write_validators_response(&mut body, false, fin, items).map_err(|e| {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("serialize validators: {e}"))
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn validators_get(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let f = parse_query(q.as_deref())?;
    validators_response(&s, &id, &f)
}

async fn validators_post(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let f = parse_post(&body)?;
    validators_response(&s, &id, &f)
}

async fn validator_one(
    State(s): State<AppState>,
    Path((id, vid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (view, fin) = resolve_state(&s, &id)?;
    let f = Filter { ids: vec![vid.parse().map_err(bad)?], statuses: Vec::new() };
    let item = select(&s, &view, &f)?
        .into_iter()
        .next()
        .ok_or_else(|| not_found(format!("validator {vid} not found")))?;
    Ok(data_flags(item, fin))
}

fn balances_response(s: &Shared, id: &str, f: &Filter) -> Result<Response, ApiError> {
    let (view, fin) = resolve_state(s, id)?;
    let items: Vec<ValidatorBalance> = select(s, &view, f)?
        .into_iter()
        .map(|d| ValidatorBalance { index: d.index, balance: d.balance })
        .collect();
    Ok(data_flags(items, fin))
}

async fn balances_get(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let f = parse_query(q.as_deref())?;
    if !f.statuses.is_empty() {
        return Err(bad("validator_balances takes no status filter"));
    }
    balances_response(&s, &id, &f)
}

async fn balances_post(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The POST form of validator_balances is a bare JSON array of ids.
    let ids: Vec<String> = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad(format!("invalid body: {e}")))?
    };
    let mut f = Filter::default();
    for i in ids {
        f.ids.push(i.parse().map_err(bad)?);
    }
    balances_response(&s, &id, &f)
}

async fn liveness(
    State(s): State<AppState>,
    Path(epoch): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let epoch: u64 = epoch.parse().map_err(|_| bad(format!("invalid epoch {epoch:?}")))?;
    let ids: Vec<String> = json_body(&body)?;
    let inner = s.read()?;
    let Some(p) = inner.liveness_of(claystack_consensus::Epoch(epoch)) else {
        return Err(bad(format!(
            "liveness of epoch {epoch} is not known (not ended yet or no longer retained)"
        )));
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let index: u64 = id.parse().map_err(|_| bad(format!("invalid validator index {id:?}")))?;
        out.push(claystack_beacon::ValidatorLiveness {
            index: ValidatorIndex(index),
            is_live: p.is_live(index),
        });
    }
    Ok(data(out))
}

/// Shares of the base reward per attestation component (Altair's weights over
/// `WEIGHT_DENOMINATOR` 64, without the proposer's and sync committee's): the epoch transition
/// credits a participant 54/64 of its base reward and debits a miss 40/64 (source and target).
const SOURCE_WEIGHT: u64 = 14;
const TARGET_WEIGHT: u64 = 26;
const HEAD_WEIGHT: u64 = 14;
const WEIGHT_DENOMINATOR: u64 = 64;

/// Source, target and head rewards (gwei) of a validator with `effective_balance` that
/// participated (`true`: positive) or missed (`false`: negative source and target, zero head).
/// Each component is at least 1 gwei in magnitude, so a miss is always negative (as on mainnet,
/// where a base reward is never zero), even with a zero APR.
fn reward_components(
    cfg: &crate::ChainConfig,
    effective_balance: claystack_consensus::Gwei,
    participated: bool,
) -> Result<(i64, i64, i64), ApiError> {
    let base = crate::core::BeaconState::base_reward(cfg, effective_balance)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let part = |w: u64| -> i64 {
        let g = u128::from(base).saturating_mul(u128::from(w)) / u128::from(WEIGHT_DENOMINATOR);
        i64::try_from(g).unwrap_or(i64::MAX).max(1)
    };
    let (source, target, head) = (part(SOURCE_WEIGHT), part(TARGET_WEIGHT), part(HEAD_WEIGHT));
    Ok(if participated { (source, target, head) } else { (-source, -target, 0) })
}

/// `POST /eth/v1/beacon/rewards/attestations/{epoch}`: from the participation archive the
/// liveness endpoint serves. A validator eligible in the epoch (the epoch transition's rule:
/// active in it, or slashed and not yet withdrawable) that participated gets positive source,
/// target and head rewards, one that missed — or was slashed by the end of `epoch + 1`, whose
/// flags never count (the spec's unslashed participating set) — negative source and target and
/// a zero head —
/// 14/64, 26/64 and 14/64 of its base reward at the configured APR and its head-state effective
/// balance, the split of what the epoch transition credits (54/64) and debits (40/64). The
/// figures ignore an inactivity leak (the archive does not keep whether the epoch leaked):
/// inactivity is always 0. Validators not eligible are left out; an unknown one is a 400; an
/// empty list means every validator. Like a real client, the epoch needs the state at the end
/// of `epoch + 1` (400 before that: not yet computable), and an epoch no longer archived is a
/// 404.
async fn attestation_rewards(
    State(s): State<AppState>,
    Path(epoch): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let epoch: u64 = epoch.parse().map_err(|_| bad(format!("invalid epoch {epoch:?}")))?;
    let ids: Vec<String> =
        if body.iter().all(u8::is_ascii_whitespace) { Vec::new() } else { json_body(&body)? };
    let inner = s.read()?;
    let st = &inner.state;
    let spe = s.cfg.slots_per_epoch;
    let needed = epoch
        .checked_add(2)
        .and_then(|e| e.checked_mul(spe))
        .and_then(|slot| slot.checked_sub(1))
        .unwrap_or(u64::MAX);
    if st.slot.get() < needed {
        return Err(bad(format!(
            "attestation rewards of epoch {epoch} need the state at the end of epoch {}, past \
             the head (slot {})",
            epoch.saturating_add(1),
            st.slot
        )));
    }
    let Some(p) = inner.liveness_of(claystack_consensus::Epoch(epoch)) else {
        return Err(not_found(format!(
            "attestation rewards of epoch {epoch}: its participation is no longer retained"
        )));
    };
    let mut indices = std::collections::BTreeSet::new();
    if ids.is_empty() {
        indices.extend(0..u64::try_from(st.validators.len()).unwrap_or(u64::MAX));
    }
    for id in ids {
        let index = match id.parse::<ValidatorId>().map_err(bad)? {
            ValidatorId::Index(i) => i.get(),
            ValidatorId::Pubkey(pk) => {
                st.index_of(&pk).ok_or_else(|| bad(format!("unknown validator {id}")))?
            }
        };
        st.validator(index).map_err(|_| bad(format!("unknown validator {id}")))?;
        indices.insert(index);
    }
    let mut ideal = std::collections::BTreeMap::new();
    let mut total = Vec::with_capacity(indices.len());
    for index in indices {
        let v = st.validator(index).map_err(NodeError::from)?;
        let r = &v.record;
        let eligible = (r.activation_epoch.get() <= epoch && epoch < r.exit_epoch.get())
            || (r.slashed && epoch.saturating_add(1) < r.withdrawable_epoch.get());
        if !eligible {
            continue;
        }
        // slashed in the state at the end of `epoch + 1` (slashing epoch = withdrawable −
        // EPOCHS_PER_SLASHINGS_VECTOR): never in the unslashed participating set, so penalised
        // as a miss whatever it did, as the epoch transition does
        let slashed_by_then = r.slashed
            && r.withdrawable_epoch.get().saturating_sub(s.cfg.epochs_per_slashings_vector)
                <= epoch.saturating_add(1);
        let participated = p.is_live(index) && !slashed_by_then;
        let (source, target, head) = reward_components(&s.cfg, r.effective_balance, participated)?;
        total.push(claystack_beacon::TotalAttestationRewards {
            validator_index: ValidatorIndex(index),
            head,
            target,
            source,
            inclusion_delay: None,
            inactivity: 0,
        });
        if let std::collections::btree_map::Entry::Vacant(slot) = ideal.entry(r.effective_balance) {
            let (source, target, head) = reward_components(&s.cfg, r.effective_balance, true)?;
            slot.insert(claystack_beacon::IdealAttestationRewards {
                effective_balance: r.effective_balance,
                head,
                target,
                source,
                inclusion_delay: None,
                inactivity: 0,
            });
        }
    }
    let finalized = epoch <= st.finalized.epoch.get();
    let rewards = claystack_beacon::AttestationRewards {
        ideal_rewards: ideal.into_values().collect(),
        total_rewards: total,
    };
    Ok(data_flags(rewards, finalized))
}

#[derive(Debug, Deserialize)]
struct VoluntaryExitJson {
    epoch: String,
    validator_index: String,
}

#[derive(Debug, Deserialize)]
struct SignedVoluntaryExitJson {
    message: VoluntaryExitJson,
    signature: String,
}

/// `POST /eth/v1/beacon/pool/voluntary_exits`: 200 once pooled (or already pooled), 400 with the
/// reason when the exit can never be valid.
async fn submit_voluntary_exit(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let invalid = |why: String| bad(format!("invalid voluntary exit: {why}"));
    let b: SignedVoluntaryExitJson = serde_json::from_slice(&body)
        .map_err(|e| invalid(format!("body is not a SignedVoluntaryExit: {e}")))?;
    let epoch: u64 =
        b.message.epoch.parse().map_err(|_| invalid(format!("epoch {:?}", b.message.epoch)))?;
    let index: u64 = b
        .message
        .validator_index
        .parse()
        .map_err(|_| invalid(format!("validator_index {:?}", b.message.validator_index)))?;
    let signature = hexutil::decode_fixed::<96>(&b.signature)
        .map_err(|e| invalid(format!("signature: {e}")))?;
    match s.submit_voluntary_exit(claystack_consensus::Epoch(epoch), index, &signature) {
        Ok(_) => Ok(StatusCode::OK.into_response()),
        // an unknown validator is a bad request here (the exit can never be valid), not a 404
        Err(NodeError::Sim(crate::core::SimError::UnknownValidator(v))) => {
            Err(invalid(format!("unknown validator {v}")))
        }
        Err(
            e @ (NodeError::Sim(crate::core::SimError::Rejected { .. })
            | NodeError::BadExitSignature { .. }),
        ) => Err(invalid(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

// ---- admin ----

fn admin_index(s: &Shared, id: &str) -> Result<u64, ApiError> {
    match id.parse::<ValidatorId>().map_err(bad)? {
        ValidatorId::Index(i) => Ok(i.get()),
        ValidatorId::Pubkey(pk) => s
            .read()?
            .state
            .index_of(&pk)
            .ok_or_else(|| not_found(format!("validator {id} not found"))),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid body: {e}")))
}

fn ok() -> Response {
    Json(json!({ "ok": true })).into_response()
}

async fn admin_status(State(s): State<AppState>) -> Result<Response, ApiError> {
    let inner = s.read()?;
    let st = &inner.state;
    let epoch = st.current_epoch(&s.cfg).map_err(NodeError::from)?;
    let mut counts = std::collections::BTreeMap::<&'static str, u64>::new();
    for v in &st.validators {
        let c = counts.entry(status_at(&v.record, v.balance, epoch).as_str()).or_default();
        *c = c.saturating_add(1);
    }
    Ok(Json(json!({
        "head_slot": st.slot.to_string(),
        "epoch": epoch.to_string(),
        "finalized_epoch": st.finalized.epoch.to_string(),
        "justified_epoch": st.current_justified.epoch.to_string(),
        "finality_halted": st.finality_halted,
        "manual_clock": s.manual,
        "validators": st.validators.len(),
        "statuses": counts,
        "deposits_processed": st.deposits_processed.to_string(),
        "deposits_pending": st.deposit_queue.len(),
        "withdrawal_requests_pending": st.withdrawal_requests.len(),
        "el_credits_pending": st.el_outbox.len(),
        "el_credits_in_flight": inner.pending_credits.as_ref().map_or(0, |p| p.batch.credits.len()),
        "clock_failures": s.clock_failures(),
        "el_cursor": inner.el_cursor.to_string(),
        "next_withdrawal_index": st.next_withdrawal_index.to_string(),
        "last_error": inner.last_error,
        "voluntary_exits_pending": st.voluntary_exit_pool.len(),
        "clock_offset_seconds": s.clock_offset().as_secs().to_string(),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    slots: Option<u64>,
    epochs: Option<u64>,
}

async fn admin_advance(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: AdvanceBody = if body.iter().all(u8::is_ascii_whitespace) {
        AdvanceBody { slots: Some(1), epochs: None }
    } else {
        json_body(&body)?
    };
    let slots = match (b.slots, b.epochs) {
        (Some(n), None) => n,
        (None, Some(e)) => {
            e.checked_mul(s.cfg.slots_per_epoch).ok_or_else(|| bad("too many epochs"))?
        }
        (None, None) => 1,
        (Some(_), Some(_)) => return Err(bad("give slots or epochs, not both")),
    };
    if slots > 1_000_000 {
        return Err(bad("at most 1000000 slots per call"));
    }
    if !s.manual {
        return Err(NodeError::NotManual.into());
    }
    let head = s.advance(slots).await?;
    Ok(Json(json!({ "head_slot": head.to_string() })).into_response())
}

#[derive(Debug, Deserialize)]
struct PerformanceBody {
    ppm: u32,
}

async fn admin_performance(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let index = admin_index(&s, &id)?;
    let b: PerformanceBody = json_body(&body)?;
    s.admin(&AdminOp::SetPerformance { index, ppm: b.ppm })?;
    Ok(ok())
}

#[derive(Debug, Deserialize)]
struct FeeRecipientBody {
    address: Option<String>,
}

async fn admin_fee_recipient(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let index = admin_index(&s, &id)?;
    let b: FeeRecipientBody = json_body(&body)?;
    let address = b
        .address
        .map(|a| hexutil::decode_fixed::<20>(&a).map_err(|e| bad(format!("address: {e}"))))
        .transpose()?;
    s.admin(&AdminOp::SetFeeRecipient { index, address })?;
    Ok(ok())
}

async fn admin_slash(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let index = admin_index(&s, &id)?;
    s.admin(&AdminOp::Slash { index })?;
    Ok(ok())
}

async fn admin_exit(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let index = admin_index(&s, &id)?;
    s.admin(&AdminOp::VoluntaryExit { index })?;
    Ok(ok())
}

#[derive(Debug, Deserialize)]
struct FinalityBody {
    halted: bool,
}

async fn admin_finality(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: FinalityBody = json_body(&body)?;
    s.admin(&AdminOp::HaltFinality { halted: b.halted })?;
    Ok(ok())
}

async fn admin_withdrawal_request(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r: WithdrawalRequest = json_body(&body)?;
    s.inject_withdrawal_request(r)?;
    Ok(ok())
}

async fn admin_proposals(State(s): State<AppState>) -> Result<Response, ApiError> {
    let inner = s.read()?;
    Ok(data(&inner.state.recent_proposals))
}

async fn admin_withdrawals(State(s): State<AppState>) -> Result<Response, ApiError> {
    let inner = s.read()?;
    Ok(data(&inner.state.recent_withdrawals))
}

#[derive(Debug, Deserialize)]
struct WarpBody {
    seconds: u64,
    /// Seconds without progress before the call gives up (default 60).
    timeout_seconds: Option<u64>,
}

async fn admin_warp(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: WarpBody = json_body(&body)?;
    let offset = s.warp(std::time::Duration::from_secs(b.seconds))?;
    let stall = b
        .timeout_seconds
        .map_or(crate::node::CATCH_UP_STALL_TIMEOUT, std::time::Duration::from_secs);
    let head = s.wait_caught_up_within(stall).await?;
    Ok(Json(json!({
        "head_slot": head.to_string(),
        "clock_offset_seconds": offset.as_secs().to_string(),
    }))
    .into_response())
}

async fn admin_snapshot(State(s): State<AppState>) -> Result<Response, ApiError> {
    s.save_snapshot().await?;
    Ok(ok())
}
