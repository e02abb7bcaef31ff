//! The OpenAPI 3.1 document served at `/openapi.json`. It describes exactly the routes of
//! [`crate::routes`] (checked by tests).

use serde_json::{Value, json};

/// A parameter: name, location, required, schema, description.
type Param = (&'static str, &'static str, bool, Value, &'static str);

fn pool() -> Param {
    (
        "pool",
        "query",
        false,
        json!({"type": "string", "enum": ["public", "kyc"], "default": "public"}),
        "Which pool.",
    )
}
fn limit() -> Param {
    (
        "limit",
        "query",
        false,
        json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
        "Page size.",
    )
}
fn cursor() -> Param {
    ("cursor", "query", false, json!({"type": "string"}), "The `nextCursor` of the previous page.")
}
fn id() -> Param {
    ("id", "path", true, json!({"type": "integer", "minimum": 0}), "Operator id.")
}
fn kind(values: &[&str], what: &'static str) -> Param {
    ("kind", "query", false, json!({"type": "string", "enum": values}), what)
}

/// (method, path, summary, parameters, success content type, has JSON body).
type Operation = (&'static str, &'static str, &'static str, Vec<Param>, &'static str, bool);

fn operations() -> Vec<Operation> {
    let j = "application/json";
    vec![
        (
            "get",
            "/api/v1/summary",
            "Protocol summary: TVL, rate, 7/30-day APR, validators by type and status, insurance coverage, queue length and ETA.",
            vec![pool()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/rates",
            "Rate history (one point per applied oracle report), oldest first.",
            vec![pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/reports",
            "Oracle reports with validator counts and the resulting rate, oldest first.",
            vec![pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/reports/{refSlot}",
            "One oracle report: validator counts, rate, its extra data (chunks applied with their hashes and operators parts, complete, pending or dropped) and the losses it charged.",
            vec![
                (
                    "refSlot",
                    "path",
                    true,
                    json!({"type": "integer", "minimum": 0}),
                    "The report's reference slot.",
                ),
                pool(),
            ],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/losses",
            "Every loss through the waterfall, oldest first: operator, cause (slashing, missed_duties, missed_exit, front_run), amount and what the bond, the VFP pool and the insurance fund covered; the rest fell on holders.",
            vec![pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/rewards",
            "Operator rewards activity, oldest first: roots published by reports, claims, and rewards booked into the VFP pool; with the latest root.",
            vec![pool(), limit(), cursor(), kind(crate::REWARD_KINDS, "Only this kind.")],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/rewards/accounts/{address}",
            "A reward account's cumulative allocation under the current rewards root: the leaf of the oracle members' tree (downloaded from a configured member and used only after it rebuilt to the indexed on-chain root and total), what it claimed, what is claimable, and the Merkle proof for `OperatorRewards.claim(account, cumulativeShares, proof)`. `status` is `verified`, or `unavailable` with `reason` and the tree's amounts `null` (no member configured, no root yet, no member served a matching tree).",
            vec![
                (
                    "address",
                    "path",
                    true,
                    json!({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
                    "Reward account (an operator's reward address, or the VFP pool).",
                ),
                pool(),
            ],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/parameters",
            "Current governance parameters and wiring of the pool's contracts (type factors, missed-exit penalty, exit deadline, bond and VFP parameters, sanity limits, frame timing, targets …).",
            vec![pool()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/pool-events",
            "Pool-level events, oldest first: insurance burns, DepositSecurity sweeps, vault pulls, EIP-7002 exit requests sent by the withdrawal vault.",
            vec![pool(), limit(), cursor(), kind(crate::POOL_EVENT_KINDS, "Only this kind.")],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators",
            "Node operators: type, validators, score, bond, penalties, rewards, exit requests.",
            vec![pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}",
            "One operator with its recent notices.",
            vec![id(), pool()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}/exit-requests",
            "An operator's exit requests, oldest first: key, deadline, status (pending, awaiting_report, met, missed, forced, cleared, unknown), the report that judged it and the forced exit (EIP-7002) if any.",
            vec![id(), pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}/penalties",
            "An operator's penalties and front-run charges, oldest first, with what each loss layer covered.",
            vec![id(), pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}/rewards",
            "An operator's reward claims (by its reward address), claimed totals, the latest rewards root, and `allocation`: its reward address's cumulative allocation, claimed and claimable shares and Merkle proof under that root, as `/api/v1/rewards/accounts/{address}` serves them (`null` amounts with a `reason` when no oracle member served a tree matching the on-chain root).",
            vec![id(), pool(), limit(), cursor()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}/feed",
            "An operator's notices (exit requests with deadlines, missed exit deadlines, forced exits, penalties with their loss layers, front-run charges, bond shortfalls, missed duties), newest first.",
            vec![id(), pool(), limit()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/operators/{id}/feed.atom",
            "The same notices as an Atom feed.",
            vec![id(), pool()],
            "application/atom+xml",
            false,
        ),
        (
            "post",
            "/api/v1/operators/{id}/webhooks",
            "Subscribe a webhook to an operator's notices; deliveries carry `X-ClayStack-Signature: sha256=<HMAC-SHA256(secret, body)>`.",
            vec![id(), pool()],
            j,
            true,
        ),
        (
            "get",
            "/api/v1/operators/{id}/webhooks",
            "Webhook subscriptions of an operator and their delivery log.",
            vec![id(), pool()],
            j,
            false,
        ),
        (
            "get",
            "/api/v1/stakers/{address}",
            "A staker's position (shares, value) and withdrawal tickets.",
            vec![
                (
                    "address",
                    "path",
                    true,
                    json!({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
                    "Staker address.",
                ),
                pool(),
            ],
            j,
            false,
        ),
        ("get", "/openapi.json", "This document.", vec![], j, false),
        ("get", "/metrics", "Prometheus metrics.", vec![], "text/plain", false),
        ("get", "/health", "Liveness and the indexed block.", vec![], j, false),
        ("get", "/", "The dashboard page.", vec![], "text/html", false),
        ("get", "/app.js", "The dashboard script.", vec![], "text/javascript", false),
    ]
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, params, content, body) in operations() {
        let parameters: Vec<Value> = params
            .into_iter()
            .map(|(name, loc, required, schema, description)| {
                json!({"name": name, "in": loc, "required": required, "schema": schema, "description": description})
            })
            .collect();
        let mut responses = serde_json::Map::new();
        let ok = if method == "post" { "201" } else { "200" };
        responses.insert(ok.into(), json!({"description": "OK", "content": {content: {}}}));
        if content == "application/json" || content == "application/atom+xml" {
            responses.insert("304".into(), json!({"description": "Not modified (ETag matched)"}));
        }
        responses.insert("400".into(), json!({"$ref": "#/components/responses/Error"}));
        responses.insert("404".into(), json!({"$ref": "#/components/responses/Error"}));
        let mut op = json!({"summary": summary, "parameters": parameters, "responses": responses});
        if body {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object", "required": ["url", "secret"],
                "properties": {"url": {"type": "string", "format": "uri"}, "secret": {"type": "string", "minLength": 16, "maxLength": 256}}
            }}}});
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    // The allocation object: on the account endpoint and inside an operator's rewards.
    let allocation = json!({"$ref": "#/components/schemas/Allocation"});
    if let Some(ok) = paths
        .get_mut("/api/v1/rewards/accounts/{address}")
        .and_then(|p| p.pointer_mut("/get/responses/200/content/application~1json"))
    {
        *ok = json!({"schema": allocation});
    }
    if let Some(ok) = paths
        .get_mut("/api/v1/operators/{id}/rewards")
        .and_then(|p| p.pointer_mut("/get/responses/200/content/application~1json"))
    {
        *ok = json!({"schema": {"type": "object", "properties": {"allocation": allocation}}});
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "ClayStack API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Indexed on-chain data of the ClayStack pools. Amounts are decimal strings in wei; rates are 1e27 fixed point (`rateE27`) and floats (`rate`)."},
        "paths": paths,
        "components": {
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string", "enum": ["bad_request", "not_found", "internal"]}, "message": {"type": "string"}}
            }}}}},
            "schemas": {"Allocation": allocation_schema()}
        }
    })
}

/// A reward account's allocation under the current root (`crate::trees::allocation`).
pub(crate) fn allocation_schema() -> Value {
    let amount =
        |d: &str| json!({"type": ["string", "null"], "pattern": "^[0-9]+$", "description": d});
    json!({
        "type": "object",
        "required": ["status", "reason", "account", "root", "refSlot", "claimedShares", "cumulativeShares", "claimableShares", "proof", "member", "treeLeaves"],
        "properties": {
            "status": {"type": "string", "enum": ["verified", "unavailable"],
                       "description": "`verified`: the tree rebuilt to the indexed on-chain root and total; `unavailable`: see `reason`, the tree's amounts are null."},
            "reason": {"type": ["string", "null"], "description": "Why the allocation is unavailable, or why a verified one is zero (no leaf)."},
            "account": {"type": ["string", "null"], "description": "The reward account."},
            "root": {"type": ["string", "null"], "description": "The on-chain rewards root (null: none yet)."},
            "refSlot": {"type": ["integer", "null"], "description": "Reference slot of the report that set the root."},
            "claimedShares": amount("Shares the account claimed so far (`OperatorRewards.claimed`, from its claim events)."),
            "cumulativeShares": amount("The account's leaf: shares allocated to it up to this root (csETH/kcsETH shares)."),
            "claimableShares": amount("cumulativeShares − claimedShares."),
            "proof": {"type": ["array", "null"], "items": {"type": "string"}, "description": "Sibling hashes for `OperatorRewards.claim(account, cumulativeShares, proof)`."},
            "member": {"type": ["string", "null"], "description": "The oracle member whose tree was verified."},
            "treeLeaves": {"type": ["integer", "null"], "description": "Leaves of the verified tree."}
        }
    })
}

/// (method, path) pairs the document describes, for the route check.
pub fn described() -> Vec<(String, String)> {
    operations().into_iter().map(|(m, p, ..)| (m.to_uppercase(), p.to_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_describes_exactly_the_routes() {
        let mut routes: Vec<(String, String)> =
            crate::routes().into_iter().map(|(m, p, _)| (m.to_string(), p.to_owned())).collect();
        let mut doc = described();
        routes.sort();
        doc.sort();
        assert_eq!(routes, doc);
        let d = document();
        assert_eq!(d["openapi"], "3.1.0");
        for (m, p) in described() {
            assert!(d["paths"][&p][m.to_lowercase()].is_object(), "{m} {p}");
        }
    }
}
