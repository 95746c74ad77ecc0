//! `GET /api/history`: every entity's track inside a time window in one compact document, for the
//! viewer's time slider (replaying the last hours without one request per entity).
//!
//! `GET /api/entities/{id}/series`: a sensor's past readings (every numeric property) for the details
//! panel's chart. The model keeps only the latest properties, so a commit observer on the live hub
//! records the readings of sensor kinds as they are applied, in a bounded ring per entity and
//! property ([`SeriesStore`]). It starts with the model's current values when the router is built.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use parking_lot::Mutex;
use serde_json::{json, Value};
use twin_core::{Applied, Change, Entity, EntityId, EntityKind, Twin};

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

/// Kinds whose numeric properties are readings worth a chart.
pub const SERIES_KINDS: [EntityKind; 4] =
    [EntityKind::FloodSensor, EntityKind::RainGauge, EntityKind::AirQualityStation, EntityKind::WaterQualityStation];

/// Readings kept per entity and property: two hours of a reading every 5 s.
pub const SERIES_CAPACITY: usize = 1440;

/// Default series window: the last two hours.
const DEFAULT_SERIES_WINDOW_MS: i64 = DEFAULT_WINDOW_MS;

type Series = VecDeque<(i64, f64)>;

/// Recent readings of every sensor, per entity and numeric property, oldest first.
#[derive(Default)]
pub struct SeriesStore {
    entities: Mutex<HashMap<EntityId, BTreeMap<String, Series>>>,
}

impl SeriesStore {
    /// Adds the entity's current numeric properties at its observation time. A reading at or before
    /// the last one of that property is not added (a late observation leaves the properties as
    /// they were, and replays of the same state add nothing).
    pub fn record(&self, e: &Entity) {
        if !SERIES_KINDS.contains(&e.kind) {
            return;
        }
        let t = e.last_seen.as_millis();
        let mut all = self.entities.lock();
        let series = all.entry(e.id).or_default();
        for (key, value) in &e.properties {
            let Some(v) = value.as_f64().filter(|v| v.is_finite()) else { continue };
            if matches!(value, twin_core::PropertyValue::Bool(_)) {
                continue;
            }
            let s = series.entry(key.clone()).or_default();
            if s.back().is_some_and(|&(last, _)| last >= t) {
                continue;
            }
            if s.len() >= SERIES_CAPACITY {
                s.pop_front();
            }
            s.push_back((t, v));
        }
    }

    /// A store seeded with the model's current readings that follows every later commit. Call
    /// before the writer starts (boot does), so no commit is missed and no lock is contended.
    pub fn recording(twin: &Twin, hub: &crate::live::LiveHub) -> Arc<Self> {
        let store = Arc::new(SeriesStore::default());
        for e in twin.entities() {
            store.record(e);
        }
        let observer = store.clone();
        hub.observe(Arc::new(move |twin, applied| observer.observe(twin, applied)));
        store
    }

    /// Follows one commit (called by the writer with the model held: only copies a few numbers).
    pub fn observe(&self, twin: &Twin, applied: &Applied) {
        for change in &applied.changes {
            match change {
                Change::Upserted(id) => {
                    if let Some(e) = twin.get(*id) {
                        self.record(e);
                    }
                }
                Change::Removed(e) => {
                    self.entities.lock().remove(&e.id);
                }
            }
        }
    }

    /// The entity's readings in [from, to], per property (`key` picks one), as `(times, values)`.
    pub fn series(
        &self,
        id: EntityId,
        from: i64,
        to: i64,
        key: Option<&str>,
    ) -> BTreeMap<String, (Vec<i64>, Vec<f64>)> {
        let all = self.entities.lock();
        let Some(series) = all.get(&id) else { return BTreeMap::new() };
        series
            .iter()
            .filter(|(k, _)| key.is_none_or(|want| want == k.as_str()))
            .map(|(k, s)| {
                let (t, v): (Vec<i64>, Vec<f64>) = s.iter().filter(|(t, _)| (from..=to).contains(t)).copied().unzip();
                (k.clone(), (t, v))
            })
            .collect()
    }
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
pub async fn series(State(st): State<AppState>, Path(id): Path<String>, p: Params) -> Result<Json<Value>, Problem> {
    let id = id
        .parse::<u64>()
        .map(EntityId)
        .map_err(|_| Problem::bad_param("id", format!("`{id}` is not an entity id (an integer)")))?;
    let to = p.time("to")?.unwrap_or_else(now);
    let from =
        p.time("from")?.unwrap_or_else(|| twin_core::Timestamp::from_millis(to.as_millis() - DEFAULT_SERIES_WINDOW_MS));
    if from > to {
        return Err(Problem::bad_param("from", "`from` is after `to`"));
    }
    let key = p.get("key");
    let (kind, name) = {
        let twin = st.twin.read();
        let e = twin.get(id).ok_or_else(|| Problem::not_found(format!("no entity {id}")))?;
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
    use twin_core::{Observation, PropertyValue, Timestamp};
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
        let res = crate::app::app(st.clone()).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[test]
    fn store_keeps_numeric_readings_in_order_and_bounded() {
        let store = SeriesStore::default();
        let mut twin = Twin::new(twin_core::TwinConfig::default());
        let feed = |twin: &mut Twin, o: Observation| {
            let applied = twin.apply_batch(&[o]);
            store.observe(twin, &applied);
        };
        feed(&mut twin, reading("s1", 1_000, 0.10));
        feed(&mut twin, reading("s1", 2_000, 0.25));
        // Late: the model keeps the newer state, the series gains nothing.
        feed(&mut twin, reading("s1", 1_500, 9.0));
        let mut bus = Observation::new(EntityKind::Bus, "b1", Timestamp::from_millis(1_000)).at(108.2, 16.05);
        bus.properties.insert("occupancy".into(), PropertyValue::Int(12));
        feed(&mut twin, bus);
        let id = twin.entities().find(|e| e.external_id == "s1").unwrap().id;
        let s = store.series(id, 0, i64::MAX, None);
        assert_eq!(s.keys().collect::<Vec<_>>(), ["water_depth_m"], "text and bool properties are not series");
        assert_eq!(s["water_depth_m"], (vec![1_000, 2_000], vec![0.10, 0.25]));
        assert_eq!(store.series(id, 1_500, 3_000, None)["water_depth_m"].0, [2_000]);
        assert!(store.series(id, 0, i64::MAX, Some("pm25_ugm3")).is_empty());
        let bus_id = twin.entities().find(|e| e.external_id == "b1").unwrap().id;
        assert!(store.series(bus_id, 0, i64::MAX, None).is_empty(), "vehicles are not recorded");

        for i in 0..(SERIES_CAPACITY as i64 + 10) {
            feed(&mut twin, reading("s1", 10_000 + i, i as f64));
        }
        let (t, v) = &store.series(id, 0, i64::MAX, None)["water_depth_m"];
        assert_eq!(t.len(), SERIES_CAPACITY);
        assert_eq!(v.last().copied(), Some((SERIES_CAPACITY + 9) as f64));
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn series_route_returns_readings_since_the_router_was_built() {
        let dir = tempfile::tempdir().unwrap();
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
