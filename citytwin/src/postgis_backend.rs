//! The optional PostGIS backend (feature `postgis`): tile layers served from tables, views or
//! queries with `ST_AsMVT`, and periodic snapshots of every entity's latest state (the table
//! mirrors this server's model: rows of expired entities are deleted; one table per server).
//!
//! ```toml
//! [postgis]
//! url = "postgres://postgres@127.0.0.1:5432/city"
//! snapshot_table = "twin.entities"       # default "citytwin_entities"
//! snapshot_interval_s = 60               # default 60; 0 turns snapshots off
//! tile_cache_s = 60                      # tiles reused this long (default 60; 0: every request queries)
//!
//! [[postgis.layers]]
//! name = "parcels"                       # served at /tiles/parcels/{z}/{x}/{y}.mvt and /tiles/parcels.json
//! table = "cadastre.parcels"             # a table or view; or instead: sql = "SELECT ... FROM ..."
//! geometry_column = "geom"               # default "geom"; any SRID (transformed per tile)
//! id_column = "gid"                      # optional integer column written as the feature id
//! properties = ["owner", "area_m2"]      # columns written as attributes
//! minzoom = 12                           # default 0
//! maxzoom = 20                           # default 22
//! ```
//!
//! A build without the `postgis` feature refuses a config with a `[postgis]` section at start-up
//! rather than ignoring it.

use serde::Deserialize;
pub use twin_layers::postgis_config::PostgisLayerConfig;

/// `[postgis]` of the city config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgisSection {
    pub url: String,
    #[serde(default = "default_snapshot_table")]
    pub snapshot_table: String,
    #[serde(default = "default_snapshot_interval_s")]
    pub snapshot_interval_s: u64,
    #[serde(default = "default_tile_cache_s")]
    pub tile_cache_s: u64,
    #[serde(default)]
    pub layers: Vec<PostgisLayerConfig>,
}

fn default_snapshot_table() -> String {
    "citytwin_entities".to_owned()
}

fn default_snapshot_interval_s() -> u64 {
    60
}

fn default_tile_cache_s() -> u64 {
    60
}

impl PostgisSection {
    /// Checks what needs no database.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.url.trim().is_empty() {
            anyhow::bail!("[postgis] url is empty");
        }
        let mut names = std::collections::HashSet::new();
        for l in &self.layers {
            l.validate().map_err(|e| anyhow::anyhow!("[[postgis.layers]]: {e}"))?;
            if !names.insert(l.name.as_str()) {
                anyhow::bail!("[[postgis.layers]]: layer name {:?} is used twice", l.name);
            }
        }
        Ok(())
    }
}

/// Keeps the backend's tasks alive; dropping it stops the snapshots.
#[derive(Debug, Default)]
pub struct PostgisBackend {
    snapshots: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for PostgisBackend {
    fn drop(&mut self) {
        if let Some(h) = self.snapshots.take() {
            h.abort();
        }
    }
}

#[cfg(not(feature = "postgis"))]
pub async fn start(_core: &twin_runtime::Core, section: Option<&PostgisSection>) -> anyhow::Result<PostgisBackend> {
    if let Some(s) = section {
        s.validate()?;
        anyhow::bail!(
            "the city config has a [postgis] section, but this citytwin was built without PostGIS support \
             (build with `--features citytwin/postgis`, or remove the section)"
        );
    }
    Ok(PostgisBackend::default())
}

#[cfg(feature = "postgis")]
pub use with_postgis::start;

#[cfg(feature = "postgis")]
mod with_postgis {
    use std::sync::Arc;
    use std::time::Duration;

    use anyhow::Context;
    use futures_util::future::BoxFuture;
    use futures_util::FutureExt;
    use twin_layers::postgis::{self, spawn_snapshots, Pool as PgPool, PostgisTileLayer, SnapshotStore};
    use twin_tiles::TileCoord;

    use super::{PostgisBackend, PostgisSection};
    use twin_runtime::tile_service::{ExternalLayer, ExternalTileError};

    /// One `[[postgis.layers]]` entry as a tile layer of the server.
    struct SqlLayer {
        layer: Arc<PostgisTileLayer>,
        pool: PgPool,
        cache_ms: i64,
    }

    impl ExternalLayer for SqlLayer {
        fn name(&self) -> &str {
            self.layer.name()
        }

        fn zoom_range(&self) -> (u8, u8) {
            (self.layer.config.minzoom, self.layer.config.maxzoom)
        }

        fn fields(&self) -> &[(String, String)] {
            &self.layer.fields
        }

        fn cache_ms(&self) -> i64 {
            self.cache_ms
        }

        fn fetch(&self, tile: TileCoord) -> BoxFuture<'static, Result<Vec<u8>, ExternalTileError>> {
            let (layer, pool) = (self.layer.clone(), self.pool.clone());
            async move {
                layer
                    .tile(&pool, tile.z(), tile.x(), tile.y())
                    .await
                    .map_err(|e| ExternalTileError::Source(Box::new(e)))
            }
            .boxed()
        }
    }

    /// The URL without its password, for messages.
    fn redacted(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let user = &url[s + 3..at];
                let user = user.split(':').next().unwrap_or("");
                format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
            }
            _ => url.to_owned(),
        }
    }

    /// Connects, prepares every configured tile layer and starts the snapshots. Any failure stops
    /// start-up: a configured layer that cannot be served is an operator error to fix now.
    pub async fn start(core: &twin_runtime::Core, section: Option<&PostgisSection>) -> anyhow::Result<PostgisBackend> {
        let Some(section) = section else { return Ok(PostgisBackend::default()) };
        section.validate()?;
        let pool = postgis::connect(&section.url)
            .await
            .with_context(|| format!("[postgis] cannot use {}", redacted(&section.url)))?;
        let cache_ms = i64::try_from(section.tile_cache_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        for config in &section.layers {
            let name = config.name.clone();
            let layer = PostgisTileLayer::new(&pool, config.clone())
                .await
                .with_context(|| format!("[[postgis.layers]] {name:?}"))?;
            tracing::info!(layer = %name, fields = layer.fields.len(), "PostGIS tile layer ready");
            let ext = SqlLayer { layer: Arc::new(layer), pool: pool.clone(), cache_ms };
            core.tiles.add_external(Arc::new(ext)).map_err(|e| anyhow::anyhow!("[[postgis.layers]]: {e}"))?;
        }
        let snapshots = if section.snapshot_interval_s > 0 {
            let store = SnapshotStore::create(&pool, &section.snapshot_table)
                .await
                .with_context(|| format!("[postgis] snapshot table {:?}", section.snapshot_table))?;
            let twin = core.twin.clone();
            let period = Duration::from_secs(section.snapshot_interval_s);
            tracing::info!(table = %section.snapshot_table, every_s = section.snapshot_interval_s, "PostGIS entity snapshots");
            // Tracks are not stored, so they are not copied out of the model either.
            Some(spawn_snapshots(pool, store, period, move || {
                twin.read().entities().map(twin_runtime::live::without_track).collect()
            }))
        } else {
            None
        };
        Ok(PostgisBackend { snapshots })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn passwords_stay_out_of_messages() {
            assert_eq!(super::redacted("postgres://u:secret@h:5432/db"), "postgres://u@h:5432/db");
            assert_eq!(super::redacted("postgres://h/db"), "postgres://h/db");
        }
    }
}
