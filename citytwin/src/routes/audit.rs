//! `GET /api/audit`: the audit trail, read from the durable log itself — every write there names
//! its actor, and the server's ticks (one a second) date the records between them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use twin_auth::{Action, Resource};
use twin_core::store::{LogReader, LogRecord};
use twin_runtime::clock::rfc3339;

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::off_workers;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 10_000;
/// Records read at most per request (ticks included), so one request cannot scan a huge log.
const MAX_SCANNED: usize = 200_000;

fn entry(seq: u64, at: Option<twin_core::Timestamp>, record: &LogRecord) -> Option<Value> {
    let (action, detail) = match record {
        LogRecord::Tick(_) => return None,
        LogRecord::Observations { batch, .. } => {
            let mut sources: Vec<&str> = batch.iter().map(|o| o.source.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            ("observations", json!({"count": batch.len(), "sources": sources}))
        }
        LogRecord::Remove { id, .. } => ("remove", json!({"entity": id.0})),
        LogRecord::RaiseAlert { alert, .. } => ("raise_alert", json!({"rule": alert.rule, "message": alert.message})),
        LogRecord::Extension { stream, version, payload, .. } => {
            ("extension", json!({"stream": stream.as_str(), "version": version, "bytes": payload.len()}))
        }
    };
    Some(json!({
        "seq": seq,
        "at": at.map(rfc3339),
        "actor": record.actor().map(|a| a.as_str()),
        "action": action,
        "detail": detail,
    }))
}

/// Who changed what, when: log records oldest first from `from_seq` (default: the newest ones),
/// optionally of one `actor`. `at` is the server time of the tick before the record.
#[utoipa::path(get, path = "/api/audit", tag = "ops",
    params(("from_seq" = Option<u64>, Query, description = "first log sequence number (default: the last 5000 records)"),
        ("actor" = Option<String>, Query, description = "only this actor, e.g. user:police or device:115-01"),
        ("limit" = Option<usize>, Query, description = "most entries (default 500, max 10000)")),
    responses((status = 200, description = "{\"entries\": [{seq, at, actor, action, detail}], \"next_seq\"}"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn audit(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Json<Value>, Problem> {
    caller.check(Action::Read, &Resource::Audit, "audit trail")?;
    let limit = p.usize("limit", MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let last = st.log_seq();
    let from_seq = match p.get("from_seq") {
        Some(v) => {
            v.parse::<u64>().map_err(|_| Problem::bad_param("from_seq", format!("`{v}` is not a sequence number")))?
        }
        None => last.saturating_sub(5000),
    };
    let actor = p.get("actor").map(str::to_owned);
    let dir = st.data_dir.clone();
    let result = off_workers(move || -> Result<Value, twin_core::store::StoreError> {
        let mut entries = Vec::new();
        let mut at = None;
        let mut next_seq = from_seq;
        for item in LogReader::open(&dir, from_seq)?.take(MAX_SCANNED) {
            let (seq, record) = item?;
            next_seq = seq + 1;
            if let LogRecord::Tick(t) = record {
                at = Some(t);
                continue;
            }
            if seq < from_seq || actor.as_deref().is_some_and(|a| record.actor().map(|x| x.as_str()) != Some(a)) {
                continue;
            }
            if let Some(e) = entry(seq, at, &record) {
                entries.push(e);
                if entries.len() >= limit {
                    break;
                }
            }
        }
        Ok(json!({"entries": entries, "next_seq": next_seq}))
    })
    .await?;
    let doc = result.map_err(|e| {
        tracing::error!(error = %e, "reading the log for the audit trail failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the log could not be read")
    })?;
    Ok(Json(doc))
}
