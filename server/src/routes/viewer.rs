//! The web viewer: `/` (the map), `/wall` (the operations map wall) and `/assets/*`, served from the
//! built `web-viewer/dist`. Without a build, `/` is the plain status page with a hint to build it.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::problem::Problem;

/// `[viewer]` of the city config. (Scaffold: wall layouts filled in by the viewer work.)
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewerSection {}

/// `web-viewer/dist` under the CWD, else the one beside the source tree. Resolved per request so a
/// viewer built while the server runs is picked up.
pub fn dist_dir() -> Option<PathBuf> {
    let candidates =
        [PathBuf::from("web-viewer/dist"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web-viewer/dist"))];
    candidates.into_iter().find(|d| d.join("index.html").is_file())
}

const BUILD_HINT: &str = "<p style=\"background:#fff3cd;color:#5c4400;padding:8px 12px;border-radius:4px\">\
The map viewer is not built. Run <code>npm ci --prefix web-viewer &amp;&amp; npm run build --prefix \
web-viewer</code> and reload.</p>";

async fn serve(file: PathBuf, req: Request) -> Response {
    match ServeFile::new(file).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "viewer-error", e.to_string()).into_response(),
    }
}

/// `GET /`: the viewer, or the status page with a build hint.
pub async fn index(req: Request) -> Response {
    match dist_dir() {
        Some(dir) => serve(dir.join("index.html"), req).await,
        None => {
            tracing::warn!("web-viewer/dist not found; serving the plain status page");
            let page = include_str!("../../assets/index.html");
            Html(page.replacen("<body>", &format!("<body>{BUILD_HINT}"), 1)).into_response()
        }
    }
}

/// `GET /wall`: the map wall (layout from the query string).
pub async fn wall(req: Request) -> Response {
    match dist_dir() {
        Some(dir) if dir.join("wall.html").is_file() => serve(dir.join("wall.html"), req).await,
        _ => Problem::not_found("the map wall needs the built viewer (npm run build --prefix web-viewer)")
            .into_response(),
    }
}

/// `GET /assets/*`: the viewer's hashed bundles.
pub async fn assets(req: Request) -> Response {
    let Some(dir) = dist_dir() else {
        return Problem::not_found("the viewer is not built").into_response();
    };
    // The router matched `/assets/{*path}`; ServeDir resolves the full URI path under dist/.
    match ServeDir::new(dir).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "viewer-error", e.to_string()).into_response(),
    }
}

/// `GET /api/viewer`: what the viewer needs to know before building its map (asking for a missing
/// resource would show up as a failed request on an operations screen).
#[utoipa::path(get, path = "/api/viewer", tag = "tiles",
    responses((status = 200, description = "`{\"terrain\": bool, \"bbox\": [minLon, minLat, maxLon, maxLat]}`")))]
pub async fn viewer_config(
    axum::extract::State(st): axum::extract::State<crate::state::AppState>,
) -> axum::Json<serde_json::Value> {
    let b = st.city_bbox;
    axum::Json(serde_json::json!({
        "terrain": st.tiles.dem().is_some(),
        "bbox": [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
    }))
}
