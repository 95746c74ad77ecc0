//! `GET /api/feeds`: health of every feed.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// Every feed: counters (received, accepted, rejected by reason, throttled), last message, rate,
/// stale flag and connection state, plus recent `feed_stale` alerts and the ingest queue depth.
#[utoipa::path(get, path = "/api/feeds", tag = "ops", responses((status = 200, description = "feed health")))]
pub async fn list(State(st): State<AppState>) -> Json<Value> {
    Json(json!({
        "feeds": st.feeds.snapshot(),
        "alerts": st.feeds.alerts(),
        "queue_depth": st.queue_depth(),
    }))
}
