//! Cameras: `[[cameras]]` config, camera entities with view footprints, `/api/cameras`, and the
//! per-camera analytics workers. (Scaffold: filled in by the camera work.)

use std::path::Path;

use serde::Deserialize;

use crate::state::AppState;

/// One `[[cameras]]` entry of the city config.
#[derive(Debug, Clone, Deserialize)]
pub struct CameraSection {
    pub id: String,
}

/// Configured cameras and their workers' status.
#[derive(Debug, Default)]
pub struct CameraRegistry {}

/// Keeps the camera workers alive; dropping it stops them.
#[derive(Debug, Default)]
pub struct CameraWorkers {}

#[derive(utoipa::OpenApi)]
#[openapi(paths())]
pub struct CamerasApi;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}

/// Registers the configured cameras and starts their workers.
pub fn start(_state: &AppState, _sections: &[CameraSection], _base_dir: &Path) -> anyhow::Result<CameraWorkers> {
    Ok(CameraWorkers::default())
}
