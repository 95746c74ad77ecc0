//! `GET /api/feeds`: health of every feed; `GET /demo/gtfs-rt/{file}`: the GTFS-realtime feeds the
//! server publishes itself (the demo's buses and the replayed capture), with conditional requests.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::problem::Problem;
use crate::state::AppState;
use twin_feeds::feeds::Published;

/// Every feed: counters (received, accepted, rejected by reason, throttled), last message, rate,
/// stale flag and connection state, plus recent `feed_stale` alerts and the ingest queue depth.
#[utoipa::path(get, path = "/api/feeds", tag = "ops", responses((status = 200, description = "feed health"),
    (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(st): State<AppState>, caller: crate::auth::Caller) -> Result<Json<Value>, Problem> {
    caller.check(twin_auth::Action::Read, &twin_auth::Resource::Metrics, "feed health")?;
    let stale: Vec<twin_core::Alert> =
        st.twin.read().alerts().iter().filter(|a| a.rule_kind == twin_core::RuleKind::FeedStale).cloned().collect();
    Ok(Json(json!({
        "feeds": st.feeds.snapshot(),
        "alerts": stale.iter().map(twin_runtime::geojson::alert_json).collect::<Vec<_>>(),
        "queue_depth": st.queue_depth(),
    })))
}

/// An HTTP-date (RFC 9110 IMF-fixdate) for Unix seconds.
pub fn http_date(unix_s: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_s, 0).unwrap_or_default().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether a request's validators say the client already has `version` (RFC 9110 §13.1):
/// `If-None-Match` decides when present, else `If-Modified-Since`.
pub fn not_modified(headers: &HeaderMap, version: &Published) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        // Weak comparison, as GET allows.
        return inm.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == version.etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
        .is_some_and(|since| version.modified_s <= since.timestamp())
}

/// A GTFS-realtime feed the server publishes (`vehicle-positions.pb`: the demo's buses;
/// `replay-*.pb`: replayed real captures). Answers 304 to a matching `If-None-Match` or a fresh
/// `If-Modified-Since`.
#[utoipa::path(get, path = "/demo/gtfs-rt/{file}", tag = "feeds", security(()),
    params(("file" = String, Path, description = "e.g. vehicle-positions.pb")),
    responses(
        (status = 200, content_type = "application/x-protobuf", description = "GTFS-realtime FeedMessage"),
        (status = 304, description = "not modified since the validators sent"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such feed (the demo is not running)")))]
pub async fn published_gtfs_rt(State(st): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(version) = st.feeds.published(&file) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "no-such-feed",
            format!("no published GTFS-realtime feed {file:?}"),
        )
        .into_response();
    };
    let mut res = if not_modified(&headers, &version) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = version.body.clone().into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(version.content_type));
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&version.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(version.modified_s)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    // Pollers must revalidate every time: the feed changes every few seconds.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
