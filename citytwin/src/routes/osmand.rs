//! `GET`/`POST /ingest/osmand`: position reports from GPS trackers speaking the OsmAnd protocol
//! (Traccar Client and many hardware trackers). The parameters come in the query string, in a
//! form body, or as the Traccar Client JSON body; see `twin_ingest::osmand` for the fields and
//! units. Devices are looked up in the city's `[[devices]]` registry.
//!
//! Answers 200 once the report is durable (trackers retry anything else), 400 for a malformed
//! report, 404 for a device the registry does not know (unless it accepts unknown devices),
//! 422 when the model refuses the observation, 503 + `Retry-After` when the ingest queue is full.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use twin_ingest::osmand::{parse_json, parse_query, Fix, OsmandError};
use utoipa::ToSchema;

use crate::auth::{denied, Caller};
use crate::problem::Problem;
use crate::routes::body_problem;
use crate::state::AppState;
use twin_auth::{authorize, parse_basic_auth, Action, Decision, Principal, Resource};
use twin_runtime::clock::now;

/// Source name of tracker observations.
pub const SOURCE: &str = twin_feeds::feeds::OSMAND_SOURCE;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OsmandResponse {
    /// Position reports now durable and applied.
    pub accepted: usize,
}

fn problem(e: &OsmandError) -> Problem {
    let (status, slug, field) = match e {
        OsmandError::UnknownDevice(_) => (StatusCode::NOT_FOUND, "unknown-device", "id"),
        OsmandError::Missing(f) => (StatusCode::BAD_REQUEST, "missing-parameter", *f),
        OsmandError::BadNumber { field, .. } => (StatusCode::BAD_REQUEST, "invalid-parameter", *field),
        OsmandError::BadPosition { .. } => (StatusCode::BAD_REQUEST, "invalid-position", "lat/lon"),
        OsmandError::BadTimestamp(_) => (StatusCode::BAD_REQUEST, "invalid-timestamp", "timestamp"),
        OsmandError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed-request", "body"),
    };
    Problem::new(status, slug, e.to_string()).field(field)
}

/// The fixes of a request: from the query string when it names a device or position, else from
/// the body (JSON when it looks like JSON, else a form body).
fn fixes(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Fix>, OsmandError> {
    if let Some(q) = query.filter(|q| !q.trim().is_empty()) {
        if body.iter().all(u8::is_ascii_whitespace)
            || q.split('&').any(|p| p.starts_with("lat=") || p.starts_with("id="))
        {
            return parse_query(q).map(|f| vec![f]);
        }
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if json {
        return parse_json(body);
    }
    let text = std::str::from_utf8(body).map_err(|_| OsmandError::Malformed("body is not UTF-8".into()))?;
    parse_query(text.trim()).map(|f| vec![f])
}

/// Who sends: a bearer token's account, else the device of Basic auth, else the device named by
/// the report's `id` with its secret in `key=` (as Traccar users know it).
fn tracker(
    st: &AppState,
    caller: &Caller,
    query: Option<&str>,
    headers: &HeaderMap,
    fixes: &[Fix],
) -> Result<std::sync::Arc<Principal>, Problem> {
    if !caller.principal().is_anonymous() {
        return Ok(caller.0.clone());
    }
    let unauthenticated = || denied(Decision::Unauthenticated, "");
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).filter(|v| v.starts_with("Basic "));
    let (name, secret) = match basic {
        Some(v) => parse_basic_auth(v).map_err(|_| unauthenticated())?,
        None => {
            let key = query
                .and_then(|q| {
                    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "key").map(|(_, v)| v.into_owned())
                })
                .ok_or_else(unauthenticated)?;
            // One request, one device: its id names the account.
            let id = fixes.first().map(|f| f.device_id.clone()).ok_or_else(unauthenticated)?;
            if fixes.iter().any(|f| f.device_id != id) {
                return Err(denied(Decision::Forbidden, ""));
            }
            (id, key)
        }
    };
    st.auth.access.device(&name, &secret).map(std::sync::Arc::new).map_err(|_| unauthenticated())
}

/// Ingests tracker reports (OsmAnd query/form parameters or Traccar Client JSON).
#[utoipa::path(post, path = "/ingest/osmand", tag = "ingest",
    security(("bearer" = []), ("osmand_key" = []), ("basic" = [])),
    params(
        ("id" = Option<String>, Query, description = "device id (also `deviceid`)"),
        ("key" = Option<String>, Query, description = "the device's secret (the account named by `id`), unless Basic auth or a bearer token is sent"),
        ("lat" = Option<f64>, Query, description = "WGS84 latitude"),
        ("lon" = Option<f64>, Query, description = "WGS84 longitude"),
        ("timestamp" = Option<String>, Query, description = "Unix seconds, Unix milliseconds or ISO 8601; default: receive time"),
        ("speed" = Option<f64>, Query, description = "knots"),
        ("bearing" = Option<f64>, Query, description = "degrees from north"),
        ("altitude" = Option<f64>, Query, description = "metres"),
        ("accuracy" = Option<f64>, Query, description = "metres"),
        ("batt" = Option<f64>, Query, description = "battery %"),
    ),
    request_body(content = Object, description = "optional: form body with the same fields, or Traccar Client JSON {device_id, location: {timestamp, coords: {latitude, longitude, speed (m/s), heading, altitude, accuracy}, battery: {level, is_charging}}}"),
    responses(
        (status = 200, body = OsmandResponse, description = "durable"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "missing id/lat/lon, bad number, position or timestamp"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "no or wrong key/credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "the account may not report for this device"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "device not in the registry"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "refused by the model"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "queue full (Retry-After)")))]
pub async fn osmand(
    State(st): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OsmandResponse>, Problem> {
    // No credentials at all: refused before anything is parsed.
    let has_key = query.as_deref().is_some_and(|q| q.split('&').any(|kv| kv.starts_with("key=")));
    if caller.principal().is_anonymous() && !has_key && !headers.contains_key(header::AUTHORIZATION) {
        return Err(denied(Decision::Unauthenticated, ""));
    }
    let body = body.map_err(|e| body_problem(&e, st.body_limit))?;
    let fixes = fixes(query.as_deref(), &headers, &body).map_err(|e| {
        tracing::debug!(reason = e.reason(), error = %e, "osmand report refused");
        problem(&e)
    })?;
    let device = tracker(&st, &caller, query.as_deref(), &headers, &fixes)?;
    for f in &fixes {
        let own = format!("{SOURCE}:{}", f.device_id);
        let allowed = [own.as_str(), SOURCE]
            .iter()
            .any(|s| authorize(&device, Action::Write, &Resource::IngestSource(s)).is_allowed());
        if !allowed {
            return Err(denied(Decision::Forbidden, ""));
        }
    }
    let received = now();
    let batch = {
        let registry = &st.devices;
        fixes
            .iter()
            .map(|f| registry.to_observation(f, received, SOURCE))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| problem(&e))?
    };
    let n = batch.len();
    let result = st.ingest.submit_as(device.actor(), SOURCE, batch).await?;
    if result.accepted == 0 && n > 0 {
        let reason = result.rejected.first().map(|(_, r)| r.clone()).unwrap_or_default();
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-observation", reason));
    }
    Ok(Json(OsmandResponse { accepted: result.accepted }))
}
