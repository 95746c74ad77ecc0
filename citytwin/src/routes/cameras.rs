//! `GET /api/cameras` (optionally `?covering=lon,lat`), `GET /api/cameras/{id}/snapshot.jpg` and the
//! camera's evidence: `GET /api/cameras/{id}/evidence` and `GET /api/cameras/{id}/evidence/{file}`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::state::AppState;
use twin_auth::{Action, Owner, Resource};
use twin_cameras::evidence::EvidenceName;

/// Parses `lon,lat` (WGS84).
pub fn parse_lon_lat(raw: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
    let [lon, lat] = parts.as_slice() else {
        return Err(format!("`{raw}` is not `lon,lat`"));
    };
    let num = |s: &str, what: &str| {
        s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{what} `{s}` is not a number"))
    };
    let (lon, lat) = (num(lon, "lon")?, num(lat, "lat")?);
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("({lon}, {lat}) is not a WGS84 position"));
    }
    Ok((lon, lat))
}

/// Cameras with position, view footprint (GeoJSON Polygon) and worker status; with
/// `covering=lon,lat` only those whose footprint contains the point.
#[utoipa::path(get, path = "/api/cameras", tag = "cameras",
    params(("covering" = Option<String>, Query, description = "lon,lat: only cameras whose view footprint contains this point")),
    responses(
        (status = 200, description = "{cameras: [{id, name, position, heading, source, replay, footprint, status: {state, frames, fps, last_error, …}}]}"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "covering is not lon,lat")))]
pub async fn list(State(st): State<AppState>, caller: Caller, p: Params) -> Result<Json<Value>, Problem> {
    let cameras = Resource::Entity { kind: twin_core::EntityKind::Camera, class: None, owner: Owner::NONE };
    caller.check(Action::Read, &cameras, "cameras")?;
    let covering =
        p.get("covering").map(|raw| parse_lon_lat(raw).map_err(|e| Problem::bad_param("covering", e))).transpose()?;
    let cameras: Vec<Value> = st
        .cameras
        .all()
        .iter()
        .filter(|c| covering.is_none_or(|(lon, lat)| c.covers(lon, lat)))
        .map(|c| c.view())
        .collect();
    Ok(Json(json!({ "cameras": cameras })))
}

/// The camera's last analysed frame as JPEG, the upper third of every person box pixelated.
#[utoipa::path(get, path = "/api/cameras/{id}/snapshot.jpg", tag = "cameras", params(("id" = String, Path)),
    responses(
        (status = 200, content_type = "image/jpeg", description = "last analysed frame, faces pixelated"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such camera, or no frame yet")))]
pub async fn snapshot(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    // Frames show people: only for those granted them; others see no such camera.
    caller.check(Action::Read, &Resource::CameraFrames(Owner::NONE), &format!("camera `{id}`"))?;
    let cam = st.cameras.get(&id).ok_or_else(|| Problem::not_found(format!("no camera `{id}`")))?;
    let jpeg = tokio::task::spawn_blocking(move || cam.snapshot_jpeg())
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "snapshot", e.to_string()))?
        .ok_or_else(|| Problem::not_found(format!("camera `{id}` has not analysed a frame yet")))?
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "snapshot", e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "no-store")], jpeg))
}

fn internal(slug: &str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, slug, detail)
}

/// Evidence snapshots saved when the camera's alert flags rose, newest first.
#[utoipa::path(get, path = "/api/cameras/{id}/evidence", tag = "cameras", params(("id" = String, Path)),
    responses(
        (status = 200, description = "{camera, evidence: [{file, alert, time, url, sidecar, sidecar_url}]}, newest first"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such camera")))]
pub async fn evidence_list(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    caller.check(Action::Read, &Resource::Evidence(Owner::NONE), &format!("camera `{id}`"))?;
    let cam = st.cameras.get(&id).ok_or_else(|| Problem::not_found(format!("no camera `{id}`")))?;
    let Some(store) = cam.evidence().cloned() else {
        return Ok(Json(json!({ "camera": id, "evidence": [] })));
    };
    let items = tokio::task::spawn_blocking(move || store.list())
        .await
        .map_err(|e| internal("evidence", e.to_string()))?
        .map_err(|e| internal("evidence", format!("cannot list the evidence of `{id}`: {e}")))?;
    Ok(Json(json!({ "camera": id, "evidence": items })))
}

/// One evidence file: the JPEG (`….jpg`, heads of people pixelated) or its JSON sidecar (`….json`).
/// Only names the server writes are accepted.
#[utoipa::path(get, path = "/api/cameras/{id}/evidence/{file}", tag = "cameras",
    params(("id" = String, Path), ("file" = String, Path, description = "yyyymmddThhmmssZ-<alert>.jpg or .json, as listed")),
    responses(
        (status = 200, content_type = "image/jpeg", description = "the evidence JPEG, or its sidecar as application/json"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "not an evidence file name"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such camera or file")))]
pub async fn evidence_file(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(String, String)>,
) -> Result<impl IntoResponse, Problem> {
    caller.check(Action::Read, &Resource::Evidence(Owner::NONE), &format!("camera `{id}`"))?;
    let cam = st.cameras.get(&id).ok_or_else(|| Problem::not_found(format!("no camera `{id}`")))?;
    let name = EvidenceName::parse(&file).ok_or_else(|| {
        Problem::bad_param("file", format!("`{file}` is not an evidence file name (yyyymmddThhmmssZ-<alert>.jpg|json)"))
    })?;
    let missing = || Problem::not_found(format!("camera `{id}` has no evidence `{file}`"));
    let store = cam.evidence().cloned().ok_or_else(missing)?;
    let part = name.part;
    let bytes = tokio::task::spawn_blocking(move || store.read(&name))
        .await
        .map_err(|e| internal("evidence", e.to_string()))?
        .map_err(|e| internal("evidence", format!("cannot read `{file}`: {e}")))?
        .ok_or_else(missing)?;
    Ok(([(header::CONTENT_TYPE, part.content_type()), (header::CACHE_CONTROL, "private, max-age=3600")], bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lon_lat_parsing() {
        assert_eq!(parse_lon_lat("108.21, 16.06"), Ok((108.21, 16.06)));
        for bad in ["108.21", "a,b", "108,16,3", "200,16", "108,NaN", ",", "108.2,"] {
            assert!(parse_lon_lat(bad).is_err(), "{bad}");
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, snapshot, evidence_list, evidence_file))]
pub struct CamerasApi;

pub fn router() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/cameras", get(list))
        .route("/api/cameras/{id}/snapshot.jpg", get(snapshot))
        .route("/api/cameras/{id}/evidence", get(evidence_list))
        .route("/api/cameras/{id}/evidence/{file}", get(evidence_file))
}
