//! `GET /api/history`: every entity's track inside a time window in one compact document, for the
//! viewer's time slider (replaying the last hours without one request per entity).
//!
//! `GET /api/entities/{id}/series`: a sensor's past readings (every numeric property) for the details
//! panel's chart. The model keeps only the latest properties, so a commit observer on the live hub
//! records the readings of sensor kinds as they are applied, in a bounded ring per entity and
//! property (`twin_runtime::series::SeriesStore`). It starts with the model's current values when the router is built.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};
use twin_core::EntityId;

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::json_off_workers;
use crate::state::AppState;
use twin_runtime::clock::{now, rfc3339};

/// Default window: the last two hours.
const DEFAULT_WINDOW_MS: i64 = 2 * 3600 * 1000;

/// Tracks in [from, to]: `{"from","to","entities":[{"id","kind","name","t":[ms…],"c":[[lon,lat]…],"h":[heading|null…]}]}`.
#[utoipa::path(get, path = "/api/history", tag = "entities",
    params(("from" = Option<String>, Query, description = "RFC 3339 (default: two hours ago)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)"),
        ("kind" = Option<String>, Query, description = "comma list of kinds")),
    responses((status = 200, description = "tracks of every entity in the window"),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn history(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Response, Problem> {
    let to = p.time("to")?.unwrap_or_else(now);
    let from = p.time("from")?.unwrap_or_else(|| twin_core::Timestamp::from_millis(to.as_millis() - DEFAULT_WINDOW_MS));
    let kinds = caller.kinds(p.kinds()?)?;
    let twin = st.twin.clone();
    json_off_workers("application/json", move || {
        // Under the read lock only the points in the window are copied; the JSON is built after.
        type Track = (u64, &'static str, String, Vec<twin_core::TrackPoint>);
        let tracks: Vec<Track> = {
            let twin = twin.read();
            twin.entities()
                .filter(|e| kinds.contains(e.kind) && caller.can_read(e))
                .filter_map(|e| {
                    let pts: Vec<_> = e.track.iter().filter(|t| t.time >= from && t.time <= to).cloned().collect();
                    (!pts.is_empty()).then(|| (e.id.0, e.kind.as_str(), e.name().to_owned(), pts))
                })
                .collect()
        };
        let entities: Vec<Value> = tracks
            .into_iter()
            .map(|(id, kind, name, pts)| {
                json!({
                    "id": id,
                    "kind": kind,
                    "name": name,
                    "t": pts.iter().map(|t| t.time.as_millis()).collect::<Vec<_>>(),
                    "c": pts.iter().map(|t| [t.position.lon, t.position.lat]).collect::<Vec<_>>(),
                    "h": pts.iter().map(|t| t.heading).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({"from": rfc3339(from), "to": rfc3339(to), "entities": entities})
    })
    .await
}

/// A sensor's readings in [from, to]: `{"id","kind","name","from","to","series":{"<property>":{"t":[ms…],"v":[…]}}}`.
#[utoipa::path(get, path = "/api/entities/{id}/series", tag = "entities",
    params(("id" = u64, Path, description = "entity id"),
        ("from" = Option<String>, Query, description = "RFC 3339 (default: two hours before `to`)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)"),
        ("key" = Option<String>, Query, description = "one property, e.g. water_depth_m (default: every numeric one)")),
    responses((status = 200, description = "the readings per numeric property, oldest first"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn series(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    p: Params,
) -> Result<Json<Value>, Problem> {
    let id = id
        .parse::<u64>()
        .map(EntityId)
        .map_err(|_| Problem::bad_param("id", format!("`{id}` is not an entity id (an integer)")))?;
    let to = p.time("to")?.unwrap_or_else(now);
    let from = p.time("from")?.unwrap_or_else(|| twin_core::Timestamp::from_millis(to.as_millis() - DEFAULT_WINDOW_MS));
    if from > to {
        return Err(Problem::bad_param("from", "`from` is after `to`"));
    }
    let key = p.get("key");
    let (kind, name) = {
        let twin = st.twin.read();
        let e =
            twin.get(id).filter(|e| caller.can_read(e)).ok_or_else(|| Problem::not_found(format!("no entity {id}")))?;
        (e.kind, e.name().to_owned())
    };
    let series: serde_json::Map<String, Value> = st
        .series
        .series(id, from.as_millis(), to.as_millis(), key)
        .into_iter()
        .map(|(k, (t, v))| (k, json!({"t": t, "v": v})))
        .collect();
    Ok(Json(json!({
        "id": id.0, "kind": kind.as_str(), "name": name,
        "from": rfc3339(from), "to": rfc3339(to), "series": series,
    })))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;
    use twin_core::{EntityKind, Observation, PropertyValue, Timestamp};
    use twin_layers::ReferenceLayers;

    use super::*;
    use crate::boot::{self, ServerOptions};

    fn reading(id: &str, t: i64, depth: f64) -> Observation {
        let mut o = Observation::new(EntityKind::FloodSensor, id, Timestamp::from_millis(t)).at(108.2, 16.05);
        o.properties.insert("water_depth_m".into(), PropertyValue::Float(depth));
        o.properties.insert("status_text".into(), PropertyValue::Text("ok".into()));
        o.properties.insert("simulated".into(), PropertyValue::Bool(true));
        o
    }

    async fn get(st: &AppState, uri: &str) -> (StatusCode, Value) {
        let req = twin_auth::TokenRequest::Password { username: "admin".into(), password: "admin-password".into() };
        let local = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let token = st.auth.access.token(&req, local, twin_runtime::clock::now()).unwrap().access_token;
        let req = Request::get(uri).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
        let res = crate::app::app(st.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn series_route_returns_readings_since_the_router_was_built() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = twin_auth::UserStore::new();
        users.add_user("admin", twin_auth::Role::Admin, None, "admin-password", &mut rand::rngs::OsRng).unwrap();
        users.save(&dir.path().join(twin_auth::service::USERS_FILE)).unwrap();
        let running = boot::start(ServerOptions::new(dir.path()), Arc::new(ReferenceLayers::default())).unwrap();
        let st = running.state.clone();
        let now = chrono::Utc::now().timestamp_millis();
        // A reading from before the router existed: the store starts with the model's current value.
        st.ingest.submit("test", vec![reading("s1", now - 50_000, 0.05)]).await.unwrap();
        let _ = crate::app::app(st.clone());
        for (i, d) in [0.12, 0.31, 0.47].into_iter().enumerate() {
            st.ingest.submit("test", vec![reading("s1", now - 40_000 + i as i64 * 10_000, d)]).await.unwrap();
        }
        let id = st.twin.read().entities().next().unwrap().id.0;

        let (status, v) = get(&st, &format!("/api/entities/{id}/series")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["kind"], "flood_sensor");
        let depth = &v["series"]["water_depth_m"];
        assert_eq!(depth["v"], json!([0.05, 0.12, 0.31, 0.47]), "{v}");
        assert_eq!(depth["t"][0].as_i64(), Some(now - 50_000));

        let from = chrono::DateTime::from_timestamp_millis(now - 35_000).unwrap().to_rfc3339().replace('+', "%2B");
        let (_, v) = get(&st, &format!("/api/entities/{id}/series?from={from}&key=water_depth_m")).await;
        assert_eq!(v["series"]["water_depth_m"]["v"], json!([0.31, 0.47]), "{v}");

        // Bad input: clear 4xx problems.
        assert_eq!(get(&st, "/api/entities/abc/series").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(get(&st, "/api/entities/999999/series").await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&st, &format!("/api/entities/{id}/series?from=soon")).await.0, StatusCode::BAD_REQUEST);
        let (status, v) =
            get(&st, &format!("/api/entities/{id}/series?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z")).await;
        assert_eq!((status, v["field"].as_str()), (StatusCode::BAD_REQUEST, Some("from")), "{v}");
        running.shutdown();
    }
}
