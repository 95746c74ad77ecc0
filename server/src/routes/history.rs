//! `GET /api/history`: every entity's track inside a time window in one compact document, for the
//! viewer's time slider (replaying the last hours without one request per entity).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::geojson::{now, rfc3339};
use crate::params::Params;
use crate::problem::Problem;
use crate::state::AppState;

/// Default window: the last two hours.
const DEFAULT_WINDOW_MS: i64 = 2 * 3600 * 1000;

/// Tracks in [from, to]: `{"from","to","entities":[{"id","kind","name","t":[ms…],"c":[[lon,lat]…],"h":[heading|null…]}]}`.
#[utoipa::path(get, path = "/api/history", tag = "entities",
    params(("from" = Option<String>, Query, description = "RFC 3339 (default: two hours ago)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)"),
        ("kind" = Option<String>, Query, description = "comma list of kinds")),
    responses((status = 200, description = "tracks of every entity in the window"),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn history(State(st): State<AppState>, p: Params) -> Result<Json<Value>, Problem> {
    let to = p.time("to")?.unwrap_or_else(now);
    let from = p.time("from")?.unwrap_or_else(|| twin_core::Timestamp::from_millis(to.as_millis() - DEFAULT_WINDOW_MS));
    let kinds = p.kinds()?;
    let twin = st.twin.read();
    let entities: Vec<Value> = twin
        .entities()
        .filter(|e| kinds.contains(e.kind))
        .filter_map(|e| {
            let pts: Vec<_> = e.track.iter().filter(|t| t.time >= from && t.time <= to).collect();
            if pts.is_empty() {
                return None;
            }
            Some(json!({
                "id": e.id.0,
                "kind": e.kind.as_str(),
                "name": e.name(),
                "t": pts.iter().map(|t| t.time.as_millis()).collect::<Vec<_>>(),
                "c": pts.iter().map(|t| [t.position.lon, t.position.lat]).collect::<Vec<_>>(),
                "h": pts.iter().map(|t| t.heading).collect::<Vec<_>>(),
            }))
        })
        .collect();
    Ok(Json(json!({"from": rfc3339(from), "to": rfc3339(to), "entities": entities})))
}
