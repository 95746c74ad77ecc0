//! The optional PostGIS backend: tile layers served from tables or views, and periodic entity
//! snapshots. (Scaffold: filled in by the PostGIS work.)

use serde::Deserialize;

use crate::state::AppState;

/// `[postgis]` of the city config.
#[derive(Debug, Clone, Deserialize)]
pub struct PostgisSection {
    pub url: String,
}

/// Keeps the backend's tasks alive.
#[derive(Debug, Default)]
pub struct PostgisBackend {}

pub async fn start(_state: &AppState, section: Option<&PostgisSection>) -> anyhow::Result<PostgisBackend> {
    if section.is_some() {
        anyhow::bail!("[postgis] needs a build with the `postgis` feature");
    }
    Ok(PostgisBackend::default())
}
