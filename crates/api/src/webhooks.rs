//! Operator notifications: Atom feed rendering and signed webhooks (HMAC-SHA256 of the body with
//! the subscriber's secret in `X-ClayStack-Signature: sha256=<hex>`), delivered by a worker with
//! exponential backoff and a delivery log.

use std::{sync::Arc, time::Duration};

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use claystack_indexer::{
    Store, Val,
    db::unix_now,
    store::{read_text, read_u64},
};
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{ApiError, AppState, json_body, operator_id, pool_param, query};

/// Delivery attempts per notice and subscriber before giving up.
pub const MAX_ATTEMPTS: u64 = 6;

/// `sha256=<hex>` signature of `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, serde::Deserialize)]
struct Subscribe {
    url: String,
    secret: String,
}

/// `POST /api/v1/operators/{id}/webhooks` with `{"url": …, "secret": …}`.
pub(crate) async fn subscribe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let req: Subscribe = json_body(&body)?;
    if !(req.url.starts_with("http://") || req.url.starts_with("https://")) || req.url.len() > 2048
    {
        return Err(ApiError::BadRequest(format!("bad url {:?}: expected http(s)://…", req.url)));
    }
    if req.secret.len() < 16 || req.secret.len() > 256 {
        return Err(ApiError::BadRequest("bad secret: expected 16 to 256 characters".into()));
    }
    let hook = st
        .read(move |s| {
            if !query::operator_exists(s, pool, id)? {
                return Err(ApiError::NotFound(format!("operator {id} not found")));
            }
            let rows = s.db().query("SELECT COALESCE(MAX(id), 0) FROM webhooks", &[])?;
            let next = rows.first().and_then(|r| r.first()).and_then(Val::int).unwrap_or(0) + 1;
            s.db().exec(
                "INSERT INTO webhooks (id, operator_id, url, secret, created_at, pool) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Val::Int(next),
                    Val::Int(i64::try_from(id).unwrap_or(i64::MAX)),
                    Val::Text(req.url),
                    Val::Text(req.secret),
                    Val::Int(unix_now()),
                    Val::from(pool),
                ],
            )?;
            Ok(next)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": hook, "operator": id, "pool": pool })))
        .into_response())
}

/// `GET /api/v1/operators/{id}/webhooks`: subscriptions (without secrets) and their delivery log.
pub(crate) async fn list(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = operator_id(&id)?;
    let pool = pool_param(&q)?;
    let v = st
        .read(move |s| {
            if !query::operator_exists(s, pool, id)? {
                return Err(ApiError::NotFound(format!("operator {id} not found")));
            }
            let hooks = s.db().query(
                "SELECT id, url FROM webhooks WHERE pool = $2 AND operator_id = $1 ORDER BY id",
                &[Val::Int(i64::try_from(id).unwrap_or(i64::MAX)), Val::from(pool)],
            )?;
            let mut out = Vec::new();
            for h in &hooks {
                let hid = h.first().and_then(Val::int).unwrap_or(0);
                let log = s.db().query(
                    "SELECT notice_key, attempt, status, at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY at DESC, attempt DESC LIMIT 100",
                    &[Val::Int(hid)],
                )?;
                let mut deliveries = Vec::new();
                for d in &log {
                    deliveries.push(json!({
                        "notice": read_text(d, 0, "webhook_deliveries")?,
                        "attempt": read_u64(d, 1, "webhook_deliveries")?,
                        "status": read_text(d, 2, "webhook_deliveries")?,
                        "at": read_u64(d, 3, "webhook_deliveries")?,
                    }));
                }
                out.push(json!({ "id": hid, "url": read_text(h, 1, "webhooks")?, "deliveries": deliveries }));
            }
            Ok(json!({ "operator": id, "webhooks": out }))
        })
        .await?;
    Ok(Json(v))
}

/// One pending delivery.
#[derive(Debug, Clone)]
struct Due {
    webhook: i64,
    url: String,
    secret: String,
    key: String,
    attempt: u64,
    body: Vec<u8>,
}

/// Deliveries due now: notices without a successful delivery, under the attempt limit, whose
/// backoff (1, 2, 4, … s after the last attempt) has passed.
fn due(store: &mut Store, now: i64) -> Result<Vec<Due>, ApiError> {
    let hooks = store.db().query("SELECT id, operator_id, url, secret, pool FROM webhooks", &[])?;
    let mut out = Vec::new();
    for h in &hooks {
        let hid = h.first().and_then(Val::int).unwrap_or(0);
        let op = h.get(1).and_then(Val::int).and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        let pool = read_text(h, 4, "webhooks")?;
        for n in query::notices(store, &pool, op, 100)? {
            let key = n.get("key").and_then(Value::as_str).unwrap_or_default().to_owned();
            let log = store.db().query(
                "SELECT attempt, status, at FROM webhook_deliveries WHERE webhook_id = $1 AND notice_key = $2 ORDER BY attempt DESC LIMIT 1",
                &[Val::Int(hid), Val::Text(key.clone())],
            )?;
            let attempt = match log.first() {
                None => 1,
                Some(r) => {
                    let a = read_u64(r, 0, "webhook_deliveries")?;
                    let delivered = read_text(r, 1, "webhook_deliveries")? == "delivered";
                    let at = r.get(2).and_then(Val::int).unwrap_or(0);
                    let backoff = 1i64 << a.min(20);
                    if delivered || a >= MAX_ATTEMPTS || now < at.saturating_add(backoff) {
                        continue;
                    }
                    a + 1
                }
            };
            let body =
                json!({ "pool": pool, "operator": op, "notice": n }).to_string().into_bytes();
            out.push(Due {
                webhook: hid,
                url: read_text(h, 2, "webhooks")?,
                secret: read_text(h, 3, "webhooks")?,
                key,
                attempt,
                body,
            });
        }
    }
    Ok(out)
}

/// Delivers due webhooks every `interval` until `shutdown` resolves.
pub async fn run_deliveries(
    st: AppState,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(target: "api::webhooks", error = %e, "build the http client");
            return;
        }
    };
    loop {
        if let Err(e) = deliver_once(&st, &client).await {
            tracing::warn!(target: "api::webhooks", error = %e, "deliver webhooks");
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One delivery round; returns the attempts made.
pub async fn deliver_once(st: &AppState, client: &reqwest::Client) -> Result<usize, ApiError> {
    let now = unix_now();
    let due = st.read(move |s| due(s, now)).await?;
    let n = due.len();
    for d in due {
        let sig = sign(d.secret.as_bytes(), &d.body);
        let res = client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-claystack-signature", sig)
            .header("x-claystack-delivery", &d.key)
            .body(d.body.clone())
            .send()
            .await;
        let status = match res {
            Ok(r) if r.status().is_success() => "delivered".to_owned(),
            Ok(r) => format!("failed: http {}", r.status().as_u16()),
            Err(e) => format!("failed: {e}"),
        };
        st.metrics.webhook(if status == "delivered" { "delivered" } else { "failed" });
        let metrics = Arc::clone(&st.metrics);
        st.read(move |s| {
            s.db().exec(
                "INSERT INTO webhook_deliveries (webhook_id, notice_key, attempt, status, at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    Val::Int(d.webhook),
                    Val::Text(d.key),
                    Val::Int(i64::try_from(d.attempt).unwrap_or(i64::MAX)),
                    Val::Text(status),
                    Val::Int(unix_now()),
                ],
            )?;
            drop(metrics);
            Ok(())
        })
        .await?;
    }
    Ok(n)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// RFC 3339 UTC time of a Unix timestamp (civil-from-days, no date library).
pub fn rfc3339(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The Atom feed of an operator's notices.
pub fn atom(id: u64, items: &[Value]) -> String {
    let updated = items.first().and_then(|n| n.get("time")).and_then(Value::as_i64).unwrap_or(0);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>ClayStack operator {id} notices</title>\n<id>urn:claystack:operator:{id}</id>\n<updated>{}</updated>\n<link rel=\"self\" href=\"/api/v1/operators/{id}/feed.atom\"/>\n",
        rfc3339(updated)
    );
    for n in items {
        let key = n.get("key").and_then(Value::as_str).unwrap_or_default();
        let kind = n.get("kind").and_then(Value::as_str).unwrap_or_default();
        let time = n.get("time").and_then(Value::as_i64).unwrap_or(0);
        let data = n.get("data").map(Value::to_string).unwrap_or_default();
        out.push_str(&format!(
            "<entry>\n<id>urn:claystack:operator:{id}:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<content type=\"text\">{}</content>\n</entry>\n",
            xml_escape(key),
            xml_escape(kind),
            rfc3339(time),
            xml_escape(&data)
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_541_172), "2026-11-24T17:26:12Z"); // date -u -d @1795541172
    }

    #[test]
    fn signature_is_rfc4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn atom_escapes_content() {
        let feed = atom(
            7,
            &[json!({"key": "7-1-0", "kind": "exit<request>", "time": 0, "data": {"x": "a&b"}})],
        );
        assert!(feed.contains("<title>exit&lt;request&gt;</title>"), "{feed}");
        assert!(feed.contains("a&amp;b"), "{feed}");
        assert!(feed.contains("urn:claystack:operator:7:7-1-0"));
    }
}
