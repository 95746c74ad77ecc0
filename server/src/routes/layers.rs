//! Reference layers (roads, buildings, water, POIs, boundaries) as GeoJSON.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::params::Params;
use crate::problem::Problem;
use crate::routes::docs::FeatureCollection;
use crate::state::AppState;

/// The loaded reference layers and their feature counts.
#[utoipa::path(get, path = "/api/layers", tag = "layers", responses((status = 200, description = "{layers: [{name, features}]}")))]
pub async fn list(State(st): State<AppState>) -> Json<Value> {
    let layers: Vec<Value> =
        st.layers.layers.iter().map(|l| json!({"name": l.name, "features": l.features.len()})).collect();
    Json(json!({ "layers": layers }))
}

/// One reference layer as a FeatureCollection, optionally cut to a bbox.
#[utoipa::path(get, path = "/api/layers/{name}", tag = "layers",
    params(("name" = String, Path), ("bbox" = Option<String>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = FeatureCollection), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn one(State(st): State<AppState>, Path(name): Path<String>, p: Params) -> Result<Json<Value>, Problem> {
    let bbox = p.bbox()?;
    let limit = p.usize("limit", 10_000_000)?;
    let layer = st.layers.get(&name).ok_or_else(|| Problem::not_found(format!("no reference layer `{name}`")))?;
    Ok(Json(layer.to_geojson(bbox, limit)))
}
