//! `POST /ingest/observations`: answered only once the accepted observations are durable.
//!
//! Status codes: 200 when at least one item was accepted (refused items are listed in `rejected`);
//! 422 when every item was refused; 400 when the body is not JSON/NDJSON (nothing is applied);
//! 413 when the body is over the limit; 503 + `Retry-After` when the ingest queue is full.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::problem::{Problem, RejectedItem};
use twin_auth::{Action, Resource};

/// The ingest source a device account names to post here (`--source observations`).
pub const SOURCE: &str = "observations";
use crate::routes::body_problem;
use crate::state::AppState;
use twin_ingest::observations::{decode, ItemError};
use twin_runtime::clock::now;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestResponse {
    /// Observations now durable and applied.
    pub accepted: usize,
    pub rejected: Vec<RejectedItem>,
}

fn rejected_item(e: &ItemError) -> RejectedItem {
    RejectedItem {
        index: e.pos.index,
        line: e.pos.line,
        field: Some(e.field.clone()),
        error: format!("{}: {}", e.field, e.message),
    }
}

/// Ingests observations: a JSON array, a single object, or NDJSON (`application/x-ndjson`, or detected).
#[utoipa::path(post, path = "/ingest/observations", tag = "ingest",
    request_body(content = Object, description = "JSON array, single object or NDJSON of {kind, id, time?, lon?, lat?, heading?, speed?, status?, properties?}"),
    responses(
        (status = 200, body = IngestResponse, description = "durable; refused items listed"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "malformed JSON; names line (NDJSON) or byte offset"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "no or invalid token"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "the account may not write to this source"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "every item invalid; names field and item/line"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "queue full (Retry-After) or log unavailable")))]
pub async fn observations(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResponse>, Problem> {
    caller.check(Action::Write, &Resource::IngestSource(SOURCE), "ingest source")?;
    let body = body.map_err(|e| body_problem(&e, st.body_limit))?;
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-ndjson") || ct.starts_with("application/ndjson"));
    let decoded = decode(&body, ndjson, now()).map_err(|e| {
        let mut p = Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "");
        if e.ndjson {
            p.detail = format!("line {}: malformed JSON: {}", e.line, e.message);
            p.line = Some(e.line);
        } else {
            p.detail = format!("malformed JSON at byte offset {}: {}", e.offset.unwrap_or(0), e.message);
            p.offset = e.offset;
        }
        p.field("body")
    })?;
    let mut rejected: Vec<RejectedItem> = decoded.errors.iter().map(rejected_item).collect();
    // Items refused here never reach the writer, which counts the rest.
    st.metrics.count_ingest("http", 0, rejected.len() as u64);
    if decoded.items.is_empty() {
        let first = decoded.errors.first();
        let detail = match first {
            Some(e) => {
                let at = e.pos.line.map_or_else(|| format!("item {}", e.pos.index), |l| format!("line {l}"));
                format!("no valid observation; {at}: {}: {}", e.field, e.message)
            }
            None => "the body holds no observation".to_owned(),
        };
        let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-observation", detail);
        if let Some(e) = first {
            p.field = Some(e.field.clone());
            p.line = e.pos.line;
            p.index = Some(e.pos.index);
        } else {
            p.field = Some("body".into());
        }
        p.rejected = Some(rejected);
        return Err(p);
    }
    let (positions, batch): (Vec<_>, Vec<_>) = decoded.items.into_iter().unzip();
    let result = st.ingest.submit_as(caller.actor(), "http", batch).await?;
    // The model may still refuse an observation it found invalid; map its index back to the body.
    for (i, reason) in result.rejected {
        if let Some(pos) = positions.get(i) {
            rejected.push(RejectedItem { index: pos.index, line: pos.line, field: None, error: reason });
        }
    }
    rejected.sort_by_key(|r| r.index);
    tracing::debug!(accepted = result.accepted, rejected = rejected.len(), "ingest batch");
    Ok(Json(IngestResponse { accepted: result.accepted, rejected }))
}
