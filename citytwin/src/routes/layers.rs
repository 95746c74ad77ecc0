//! Reference layers (roads, buildings, water, POIs, boundaries) as GeoJSON.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::docs::FeatureCollection;
use crate::routes::json_off_workers;
use crate::state::AppState;
use twin_auth::{Action, Resource};

/// The loaded reference layers and their feature counts.
#[utoipa::path(get, path = "/api/layers", tag = "layers", responses((status = 200, description = "{layers: [{name, features}]}")))]
pub async fn list(State(st): State<AppState>, caller: Caller) -> Json<Value> {
    let layers: Vec<Value> = st
        .layers
        .layers
        .iter()
        .filter(|l| caller.check(Action::Read, &Resource::Layer(&l.name), "").is_ok())
        .map(|l| json!({"name": l.name, "features": l.features.len()}))
        .collect();
    Json(json!({ "layers": layers }))
}

/// One reference layer as a FeatureCollection, optionally cut to a bbox.
#[utoipa::path(get, path = "/api/layers/{name}", tag = "layers",
    params(("name" = String, Path), ("bbox" = Option<String>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = FeatureCollection), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    p: Params,
) -> Result<Response, Problem> {
    let bbox = p.bbox()?;
    let limit = p.usize("limit", 10_000_000)?;
    if st.layers.get(&name).is_none() || caller.check(Action::Read, &Resource::Layer(&name), "").is_err() {
        return Err(Problem::not_found(format!("no reference layer `{name}`")));
    }
    // A whole buildings layer is tens of MB of JSON: built and written off the async workers.
    let layers = st.layers.clone();
    json_off_workers("application/json", move || {
        layers.get(&name).map(|l| l.to_geojson(bbox, limit)).unwrap_or(Value::Null)
    })
    .await
}
