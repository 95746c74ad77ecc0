//! Operations: health, stats, alerts, Prometheus metrics, the OpenAPI document and the index page.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::state::AppState;
use twin_runtime::geojson::alert_json;

/// Liveness: the process answers and the writer accepts work; 503 with the reason while the
/// durable log refuses writes (disk full, or failed for good).
#[utoipa::path(get, path = "/healthz", tag = "ops", security(()), responses((status = 200, description = "ok"), (status = 503, description = "the durable log refuses writes; `reason` says why")))]
pub async fn healthz(State(st): State<AppState>) -> (axum::http::StatusCode, Json<Value>) {
    use twin_runtime::writer::LogHealth;
    match st.ingest.health() {
        LogHealth::Ok => (axum::http::StatusCode::OK, Json(json!({"status": "ok"}))),
        LogHealth::StorageFull(reason) => {
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "storage_full", "reason": reason})))
        }
        LogHealth::Failed(reason) => {
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "log_failed", "reason": reason})))
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub city: String,
    /// Live entities.
    pub total: u64,
    /// Live entities per kind (kinds with none are omitted).
    #[schema(value_type = Object)]
    pub counts: Map<String, Value>,
    /// Sequence number of the last durable log record.
    pub log_seq: u64,
    pub uptime_s: f64,
    pub alerts: usize,
    pub queue_depth: usize,
}

/// Counts per kind (of the kinds the caller sees in full), total, log sequence and uptime.
#[utoipa::path(get, path = "/api/stats", tag = "ops", responses((status = 200, body = Stats)))]
pub async fn stats(State(st): State<AppState>, caller: Caller) -> Json<Stats> {
    let (counts, alerts) = {
        let twin = st.twin.read();
        (twin.counts(), twin.alerts().iter().filter(|a| caller.can_read_alert(a.entity_kind)).count())
    };
    let visible: Vec<(twin_core::EntityKind, u64)> =
        counts.iter().filter(|(k, _)| caller.principal().sees_every(*k)).map(|(k, n)| (k, u64::from(n))).collect();
    Json(Stats {
        city: st.city_name.clone(),
        total: visible.iter().map(|(_, n)| n).sum(),
        counts: visible.iter().map(|(k, n)| (k.as_str().to_owned(), Value::from(*n))).collect(),
        log_seq: st.log_seq(),
        uptime_s: st.started.elapsed().as_secs_f64(),
        alerts,
        queue_depth: st.queue_depth(),
    })
}

/// Most recent alerts, newest first, of every source: the model's rules, stale feeds
/// (`rule_kind = "feed_stale"`) and cameras, all numbered in one sequence by the log.
#[utoipa::path(get, path = "/api/alerts", tag = "ops",
    params(("limit" = Option<usize>, Query, description = "default 100")),
    responses((status = 200, body = crate::routes::docs::AlertList, description = "newest first"), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn alerts(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Json<Value>, Problem> {
    let limit = p.usize("limit", 100_000)?.unwrap_or(100);
    // Copied under the read lock, serialised after it.
    let recent: Vec<twin_core::Alert> = st
        .twin
        .read()
        .alerts()
        .iter()
        .rev()
        .filter(|a| caller.can_read_alert(a.entity_kind))
        .take(limit)
        .cloned()
        .collect();
    let list: Vec<Value> = recent.iter().map(alert_json).collect();
    Ok(Json(json!({ "alerts": list })))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain", description = "Prometheus text format"),
    (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(State(st): State<AppState>, caller: Caller) -> Result<impl IntoResponse, Problem> {
    caller.check(twin_auth::Action::Read, &twin_auth::Resource::Metrics, "metrics")?;
    let counts = st.twin.read().counts();
    let mut text = st.metrics.render(&counts, st.queue_depth(), st.log_seq(), st.started.elapsed());
    text.push_str(&twin_feeds::feeds::render_metrics(&st.feeds));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text))
}

/// A plain page with counts per kind and links to the API, until the web viewer exists.
pub async fn index() -> Html<&'static str> {
    Html(include_str!("../../assets/index.html"))
}
