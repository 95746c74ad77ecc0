//! Entity queries: list by bbox/kind, one entity, its track, nearest, within a polygon, H3 aggregation.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};
use twin_core::{Entity, EntityId, Position};
use twin_runtime::live::without_track;

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::docs::{Feature, FeatureCollection};
use crate::routes::{body_problem, json_off_workers};
use crate::state::AppState;
use twin_runtime::clock::rfc3339;
use twin_runtime::geojson::{entity_feature, entity_feature_with_distance, feature_collection, parse_area};

/// As before the move off the workers: plain JSON (GeoJSON documents).
const GEOJSON: &str = "application/json";
const DEFAULT_LIMIT: usize = 10_000;
const MAX_LIMIT: usize = 1_000_000;
const MAX_K: usize = 10_000;

fn entity_id(raw: &str) -> Result<EntityId, Problem> {
    raw.parse::<u64>()
        .map(EntityId)
        .map_err(|_| Problem::bad_param("id", format!("`{raw}` is not an entity id (an integer)")))
}

/// Entities as a GeoJSON FeatureCollection.
#[utoipa::path(get, path = "/api/entities", tag = "entities",
    params(
        ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat; only entities with a position inside"),
        ("kind" = Option<String>, Query, description = "comma list of kinds, e.g. bus,vessel"),
        ("limit" = Option<usize>, Query, description = "most features returned (default 10000)"),
    ),
    responses((status = 200, body = FeatureCollection), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Response, Problem> {
    let bbox = p.bbox()?;
    let kinds = caller.kinds(p.kinds()?)?;
    let limit = p.usize("limit", MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let twin = st.twin.clone();
    json_off_workers(GEOJSON, move || {
        // The read lock is held only to copy the entities (without their tracks).
        let copied: Vec<Entity> = {
            let twin = twin.read();
            match bbox {
                Some(b) => twin.in_bbox(b, kinds).into_iter().filter_map(|e| caller.view(e)).take(limit).collect(),
                None => twin
                    .entities()
                    .filter(|e| kinds.contains(e.kind))
                    .filter_map(|e| caller.view(e))
                    .take(limit)
                    .collect(),
            }
        };
        feature_collection(copied.iter().map(entity_feature).collect())
    })
    .await
}

/// One entity as a GeoJSON Feature.
#[utoipa::path(get, path = "/api/entities/{id}", tag = "entities",
    params(("id" = u64, Path, description = "entity id")),
    responses((status = 200, body = Feature), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn one(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id = entity_id(&id)?;
    let twin = st.twin.read();
    // Not visible reads exactly like not there.
    let e = twin.get(id).and_then(|e| caller.view(e)).ok_or_else(|| Problem::not_found(format!("no entity {id}")))?;
    Ok(Json(entity_feature(&e)))
}

/// The entity's recent track as a LineString Feature with a `times` array (RFC 3339, one per vertex).
#[utoipa::path(get, path = "/api/entities/{id}/track", tag = "entities",
    params(("id" = u64, Path, description = "entity id"),
        ("from" = Option<String>, Query, description = "RFC 3339, inclusive"),
        ("to" = Option<String>, Query, description = "RFC 3339, inclusive")),
    responses((status = 200, body = Feature), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn track(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    p: Params,
) -> Result<Json<Value>, Problem> {
    let id = entity_id(&id)?;
    let from = p.time("from")?;
    let to = p.time("to")?;
    let twin = st.twin.read();
    let e = twin.get(id).filter(|e| caller.can_read(e)).ok_or_else(|| Problem::not_found(format!("no entity {id}")))?;
    let points: Vec<_> =
        e.track.iter().filter(|t| from.is_none_or(|f| t.time >= f) && to.is_none_or(|x| t.time <= x)).collect();
    let coords: Vec<[f64; 2]> = points.iter().map(|t| [t.position.lon, t.position.lat]).collect();
    let times: Vec<String> = points.iter().map(|t| rfc3339(t.time)).collect();
    let mut f = entity_feature(&caller.view(e).unwrap_or_else(|| without_track(e)));
    f["geometry"] = json!({"type": "LineString", "coordinates": coords});
    f["properties"]["times"] = json!(times);
    Ok(Json(f))
}

/// The k entities nearest to a point (great-circle), nearest first, each with `distance_m`.
#[utoipa::path(get, path = "/api/nearest", tag = "entities",
    params(("lon" = f64, Query), ("lat" = f64, Query),
        ("k" = Option<usize>, Query, description = "how many (default 10)"),
        ("kind" = Option<String>, Query, description = "comma list of kinds")),
    responses((status = 200, body = FeatureCollection), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn nearest(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Json<Value>, Problem> {
    let lon = p.required_f64("lon")?;
    let lat = p.required_f64("lat")?;
    let center = Position::new(lon, lat);
    if !center.is_valid() {
        let field = if (-180.0..=180.0).contains(&lon) { "lat" } else { "lon" };
        return Err(Problem::bad_param(field, format!("({lon}, {lat}) is not a WGS84 position")));
    }
    let k = p.usize("k", MAX_K)?.unwrap_or(10);
    let kinds = caller.kinds(p.kinds()?)?;
    let twin = st.twin.read();
    // Invisible entities of a readable kind (another agency's, a sensitive class) are skipped by
    // asking the index for more; the kinds were narrowed first, so this is rare.
    let mut want = k;
    let features = loop {
        let hits = twin.nearest(center, want, kinds);
        let exhausted = hits.len() < want;
        let visible: Vec<Value> = hits
            .into_iter()
            .filter_map(|(e, d)| caller.view(e).map(|v| entity_feature_with_distance(&v, d)))
            .take(k)
            .collect();
        if visible.len() == k || exhausted || want >= MAX_K * 4 {
            break visible;
        }
        want = (want * 4).min(MAX_K * 4);
    };
    Ok(Json(feature_collection(features)))
}

/// Entities inside a GeoJSON Polygon, MultiPolygon or a Feature holding one.
#[utoipa::path(post, path = "/api/within", tag = "entities",
    params(("kind" = Option<String>, Query, description = "comma list of kinds")),
    request_body(content = Object, description = "GeoJSON Polygon, MultiPolygon or Feature", content_type = "application/geo+json"),
    responses((status = 200, body = FeatureCollection),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn within(
    State(st): State<AppState>,
    caller: Caller,
    p: Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let kinds = caller.kinds(p.kinds()?)?;
    let body = body.map_err(|e| body_problem(&e, st.body_limit))?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-json", format!("body is not JSON: {e}")).field("body")
    })?;
    let area = parse_area(&v)
        .map_err(|r| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-geometry", r.0).field("geometry"))?;
    let twin = st.twin.clone();
    // The point-in-polygon pass is CPU work: off the async workers, under the read lock only while
    // it selects, then serialised after the lock is released.
    json_off_workers(GEOJSON, move || {
        let copied: Vec<Entity> =
            twin.read().within_polygon(&area, kinds).into_iter().filter_map(|e| caller.view(e)).collect();
        feature_collection(copied.iter().map(entity_feature).collect())
    })
    .await
}

/// Counts per kind in H3 cells of a bbox: hexagon polygons with `h3`, `total` and one count per kind.
#[utoipa::path(get, path = "/api/h3", tag = "entities",
    params(("res" = Option<u8>, Query, description = "H3 resolution ≤ the model's (default: min(8, model))"),
        ("bbox" = Option<String>, Query, description = "default: the city bbox"),
        ("kind" = Option<String>, Query, description = "comma list of kinds")),
    responses((status = 200, body = FeatureCollection), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn h3(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Json<Value>, Problem> {
    // Counts reveal presence: only kinds whose every entity the caller may read are counted.
    let kinds = caller.kinds(p.kinds()?)?.kinds().filter(|k| caller.principal().sees_every(*k)).collect();
    let bbox = p.bbox()?.unwrap_or(st.city_bbox);
    let twin = st.twin.read();
    let base = twin.config().h3_resolution;
    let res = match p.usize("res", 15)? {
        Some(r) => h3o::Resolution::try_from(r as u8).map_err(|e| Problem::bad_param("res", e.to_string()))?,
        None => base.min(h3o::Resolution::Eight),
    };
    if res > base {
        return Err(Problem::bad_param("res", format!("`res` must be ≤ the model's H3 resolution {}", u8::from(base))));
    }
    let cells = twin.h3_counts(bbox, res, kinds).map_err(|e| Problem::bad_param("bbox", e.to_string()))?;
    drop(twin);
    let features = cells
        .into_iter()
        .map(|c| {
            let mut ring: Vec<[f64; 2]> = c.cell.boundary().iter().map(|ll| [ll.lng(), ll.lat()]).collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            let mut props = serde_json::Map::new();
            props.insert("h3".into(), Value::from(c.cell.to_string()));
            props.insert("total".into(), Value::from(c.counts.total()));
            for (k, n) in c.counts.iter() {
                props.insert(k.as_str().into(), Value::from(n));
            }
            json!({"type": "Feature", "id": c.cell.to_string(),
                "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props})
        })
        .collect();
    Ok(Json(feature_collection(features)))
}
