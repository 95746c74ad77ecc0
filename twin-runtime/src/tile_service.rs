//! The tile side of the server: renderer, versioned cache, dirty-tile tracker fed by the writer's
//! commits, the optional DEM for terrain, and the stream of changed tiles for `/ws` subscribers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use parking_lot::RwLock;
use serde::Deserialize;
use tokio::sync::broadcast;
use twin_core::{Applied, Twin};
use twin_layers::ReferenceLayers;
use twin_tiles::cache::{GZIP, PLAIN};
use twin_tiles::compress::gzip;
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::terrain::{terrain_png, Dem};
use twin_tiles::{DirtyTracker, TileCache, TileCoord, TileError, TileLayer, TileRenderer};

use crate::clock::now;

/// `[tiles]` of the city config (optional).
///
/// ```toml
/// [tiles]
/// dem = "dem/danang_srtm_gl1_30m.tif"   # GeoTIFF DEM for /tiles/terrain (relative to the config)
/// max_zoom = 18                         # highest zoom served (0..=24, default 18); clients overzoom
/// cache_mb = 256                        # tile cache size in MiB (default 256; 0 turns caching off)
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TilesSection {
    pub dem: Option<PathBuf>,
    #[serde(deserialize_with = "max_zoom")]
    pub max_zoom: u8,
    pub cache_mb: usize,
}

impl Default for TilesSection {
    fn default() -> Self {
        Self { dem: None, max_zoom: TRACKED_MAX_ZOOM, cache_mb: CACHE_BYTES >> 20 }
    }
}

fn max_zoom<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let z = u8::deserialize(d)?;
    if z > twin_tiles::coord::MAX_ZOOM {
        return Err(serde::de::Error::custom(format!(
            "max_zoom {z} is above {}, the highest zoom tiles are drawn at",
            twin_tiles::coord::MAX_ZOOM
        )));
    }
    Ok(z)
}

/// What a caller sees of the live layers: its visibility class keys the cache (one cache per
/// class, not per user), the filter draws the tile. Reference layers are the same for everyone.
#[derive(Clone)]
pub struct TileView {
    /// `None`: everything (the cache key is the layer name alone).
    pub class: Option<String>,
    pub filter: Arc<dyn twin_tiles::live::EntityFilter + Send>,
}

impl TileView {
    /// Sees every entity.
    pub fn all() -> Self {
        Self { class: None, filter: Arc::new(twin_tiles::live::ShowAll) }
    }

    pub fn key<'a>(&self, layer: &'a TileLayer) -> std::borrow::Cow<'a, str> {
        match (&self.class, layer.is_live()) {
            (Some(c), true) => std::borrow::Cow::Owned(format!("{}@{c}", layer.name())),
            _ => std::borrow::Cow::Borrowed(layer.name()),
        }
    }
}

/// Default highest zoom served; live tiles are tracked (so cached and announced to subscribers)
/// up to it.
pub const TRACKED_MAX_ZOOM: u8 = 18;
/// Default tile cache size.
pub const CACHE_BYTES: usize = 256 << 20;
/// Default longest time a live tile is served unchanged (its `stale` flags depend on the clock).
pub const STALE_EPOCH_MS: i64 = 30_000;

/// Tiles whose version changed in one commit, with their new version.
pub type TileChanges = Arc<Vec<(TileCoord, u64)>>;

/// A rendered tile as served.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Empty when nothing falls in the tile.
    pub bytes: Arc<Vec<u8>>,
    pub gzipped: bool,
}

/// Why [`TileService::add_external`] refused a layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalLayerError {
    #[error("tile layer name {0:?} is already taken")]
    NameTaken(String),
    #[error("tile layer name {0:?} cannot be part of a tile URL")]
    BadName(String),
}

/// Why a tile of an external layer could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ExternalTileError {
    /// The layer's source failed (its own error, e.g. a database error).
    #[error("{0}")]
    Source(Box<dyn std::error::Error + Send + Sync>),
    #[error("gzip task: {0}")]
    Gzip(#[from] tokio::task::JoinError),
}

/// A vector tile layer drawn outside this process (a PostGIS table or view), served at the same
/// `/tiles/{layer}/…` URLs as our own layers.
pub trait ExternalLayer: Send + Sync {
    fn name(&self) -> &str;
    /// Zooms with data; other zooms are answered empty without asking the source.
    fn zoom_range(&self) -> (u8, u8);
    /// Attributes and their TileJSON types.
    fn fields(&self) -> &[(String, String)];
    /// How long a drawn tile is reused (0: every request asks the source). The source may change
    /// at any time, so this bounds how stale a served tile can be.
    fn cache_ms(&self) -> i64;
    /// The MVT bytes of a tile (empty when nothing is in it).
    fn fetch(&self, tile: TileCoord) -> BoxFuture<'static, Result<Vec<u8>, ExternalTileError>>;
}

pub struct TileService {
    pub renderer: TileRenderer,
    external: RwLock<BTreeMap<String, Arc<dyn ExternalLayer>>>,
    cache: TileCache,
    tracker: RwLock<DirtyTracker>,
    /// The tracker's max zoom, read on every request without its lock.
    max_zoom: AtomicU8,
    changes: broadcast::Sender<TileChanges>,
    dem: RwLock<Option<Arc<Dem>>>,
    stale_epoch_ms: AtomicI64,
    /// Changes on every start so ETags of a previous run never match (versions restart at 1).
    nonce: u64,
}

impl std::fmt::Debug for TileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileService").field("cache", &self.cache.stats()).finish_non_exhaustive()
    }
}

impl TileService {
    /// Indexes the reference layers and seeds entity positions from the recovered model.
    pub fn new(layers: &ReferenceLayers, twin: &Twin) -> Arc<Self> {
        let mut tracker = DirtyTracker::new(TRACKED_MAX_ZOOM);
        tracker.seed(twin);
        let nonce =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()).rotate_left(32);
        Arc::new(Self {
            renderer: TileRenderer::new(ReferenceIndex::build(layers)),
            external: RwLock::new(BTreeMap::new()),
            cache: TileCache::new(CACHE_BYTES),
            tracker: RwLock::new(tracker),
            max_zoom: AtomicU8::new(TRACKED_MAX_ZOOM),
            changes: broadcast::channel(256).0,
            dem: RwLock::new(None),
            stale_epoch_ms: AtomicI64::new(STALE_EPOCH_MS),
            nonce,
        })
    }

    /// Called by the writer for every commit while it holds the model: bumps the versions of the tiles
    /// that held the old and new position of every changed entity, and tells tile subscribers.
    pub fn observe(&self, twin: &Twin, applied: &Applied) {
        if applied.changes.is_empty() {
            return;
        }
        let changed = self.tracker.write().apply(twin, applied);
        if !changed.is_empty() && self.changes.receiver_count() > 0 {
            let _ = self.changes.send(Arc::new(changed));
        }
    }

    pub fn cache_stats(&self) -> twin_tiles::cache::CacheStats {
        self.cache.stats()
    }

    pub fn subscribe_changes(&self) -> broadcast::Receiver<TileChanges> {
        self.changes.subscribe()
    }

    /// Highest zoom served (`[tiles] max_zoom`).
    pub fn max_zoom(&self) -> u8 {
        self.max_zoom.load(Ordering::Relaxed)
    }

    /// Current version of a tile of a layer (reference layers never change while running).
    ///
    /// Live tiles carry each entity's `stale` flag, which changes with time alone, so their version
    /// also moves every [`STALE_EPOCH_MS`]: a cached or revalidated live tile is never older than that.
    pub fn version(&self, layer: &TileLayer, tile: TileCoord) -> u64 {
        if layer.is_live() {
            let every = self.stale_epoch_ms.load(Ordering::Relaxed).max(1);
            let epoch = (now().as_millis().div_euclid(every) as u64) & 0xffff;
            (self.tracked_version(tile) << 16) | epoch
        } else {
            0
        }
    }

    /// Changes how long a live tile may be served unchanged (default [`STALE_EPOCH_MS`]).
    pub fn set_stale_epoch_ms(&self, ms: i64) {
        self.stale_epoch_ms.store(ms, Ordering::Relaxed);
    }

    /// The dirty-tile version alone (what `/ws` tile subscribers are told).
    pub fn tracked_version(&self, tile: TileCoord) -> u64 {
        self.tracker.read().version(tile)
    }

    /// The version as of the latest commit applied to `twin`: commits bump versions while holding the
    /// model's write lock, so under the read lock the pair is consistent (a client that had its
    /// ingest acknowledged never gets the version from before its change).
    pub fn current_version(&self, layer: &TileLayer, tile: TileCoord, twin: &RwLock<Twin>) -> u64 {
        let _model = twin.read();
        self.version(layer, tile)
    }

    /// A strong ETag for (layer, tile, version) in one run; the encoding is part of the entity.
    pub fn etag(&self, layer: &str, tile: TileCoord, version: u64, gzipped: bool) -> String {
        let enc = if gzipped { "-gz" } else { "" };
        format!("\"{:x}-{layer}-{}-{}-{}-{version}{enc}\"", self.nonce, tile.z(), tile.x(), tile.y())
    }

    /// The tile at `version` if the cache has it in the wanted encoding (cheap: no drawing, no gzip).
    /// `view` keys the cache: one cache per visibility class of live tiles.
    pub fn cached(
        &self,
        layer: &TileLayer,
        tile: TileCoord,
        version: u64,
        gzipped: bool,
        view: &TileView,
    ) -> Option<Rendered> {
        self.cached_named(&view.key(layer), tile, version, gzipped)
    }

    fn cached_named(&self, name: &str, tile: TileCoord, version: u64, gzipped: bool) -> Option<Rendered> {
        if gzipped {
            if let Some(bytes) = self.cache.get_variant(name, GZIP, tile, version) {
                return Some(Rendered { bytes, gzipped: true });
            }
        }
        let raw = self.cache.get(name, tile, version)?;
        // An empty tile is never gzipped; a non-empty one still needs compressing.
        (!gzipped || raw.is_empty()).then_some(Rendered { bytes: raw, gzipped: false })
    }

    /// The tile at `version` from the cache, else drawn now (blocking: call off the async threads).
    /// `version` must have been read before this call (see `TileCache::put`).
    pub fn tile(
        &self,
        layer: &TileLayer,
        tile: TileCoord,
        version: u64,
        twin: &RwLock<Twin>,
        gzipped: bool,
        view: &TileView,
    ) -> Result<Rendered, TileError> {
        let key = view.key(layer);
        let variant = if gzipped { GZIP } else { PLAIN };
        if let Some(bytes) = self.cache.get_variant(&key, variant, tile, version) {
            return Ok(Rendered { bytes, gzipped });
        }
        let raw = match self.cache.get(&key, tile, version) {
            Some(b) => b,
            None => {
                let bytes = {
                    let twin = twin.read();
                    self.renderer.render_for(layer, tile, &twin, now(), view.filter.as_ref())?
                };
                let b = Arc::new(bytes);
                self.cache.put(&key, tile, version, b.clone());
                b
            }
        };
        if !gzipped || raw.is_empty() {
            return Ok(Rendered { bytes: raw, gzipped: false });
        }
        let z = Arc::new(gzip(&raw));
        self.cache.put_variant(&key, GZIP, tile, version, z.clone());
        Ok(Rendered { bytes: z, gzipped: true })
    }

    /// Adds a layer drawn elsewhere; its name must not be taken by one of ours.
    pub fn add_external(&self, layer: Arc<dyn ExternalLayer>) -> Result<(), ExternalLayerError> {
        let name = layer.name().to_owned();
        let reserved = ["terrain", "live", "basemap"].contains(&name.as_str())
            || TileLayer::parse(&name, &self.renderer.reference).is_ok();
        let mut ext = self.external.write();
        if reserved || ext.contains_key(&name) {
            return Err(ExternalLayerError::NameTaken(name));
        }
        if name.is_empty() || name.contains(['/', '.', '?', '#', '%']) {
            return Err(ExternalLayerError::BadName(name));
        }
        ext.insert(name, layer);
        Ok(())
    }

    pub fn external(&self, name: &str) -> Option<Arc<dyn ExternalLayer>> {
        self.external.read().get(name).cloned()
    }

    /// Version of an external layer's tiles: the current period of its cache time.
    pub fn external_version(&self, layer: &dyn ExternalLayer) -> u64 {
        let every = layer.cache_ms();
        if every <= 0 {
            return now().as_millis() as u64;
        }
        now().as_millis().div_euclid(every) as u64
    }

    /// A tile of an external layer: from the cache at `version`, else fetched from the source.
    pub async fn external_tile(
        &self,
        layer: &Arc<dyn ExternalLayer>,
        tile: TileCoord,
        version: u64,
        gzipped: bool,
    ) -> Result<Rendered, ExternalTileError> {
        let name = layer.name();
        if gzipped {
            if let Some(bytes) = self.cache.get_variant(name, GZIP, tile, version) {
                return Ok(Rendered { bytes, gzipped: true });
            }
        }
        let raw = match self.cache.get(name, tile, version) {
            Some(b) => b,
            None => {
                let (lo, hi) = layer.zoom_range();
                let bytes = if (lo..=hi).contains(&tile.z()) { layer.fetch(tile).await? } else { Vec::new() };
                let b = Arc::new(bytes);
                if layer.cache_ms() > 0 {
                    self.cache.put(name, tile, version, b.clone());
                }
                b
            }
        };
        if !gzipped || raw.is_empty() {
            return Ok(Rendered { bytes: raw, gzipped: false });
        }
        let z = tokio::task::spawn_blocking(move || gzip(&raw)).await?;
        let z = Arc::new(z);
        if layer.cache_ms() > 0 {
            self.cache.put_variant(name, GZIP, tile, version, z.clone());
        }
        Ok(Rendered { bytes: z, gzipped: true })
    }

    /// Applies `[tiles]`: the served zoom range and cache size, then the DEM (see [`Self::load_dem`]).
    /// Call at start, before feeds run: changing the zoom range gives every tile a new version.
    pub fn configure(&self, section: &TilesSection, base_dir: &std::path::Path) -> Result<(), TileError> {
        if section.max_zoom != self.max_zoom() {
            let mut tracker = self.tracker.write();
            tracker.set_max_zoom(section.max_zoom);
            self.max_zoom.store(tracker.max_zoom(), Ordering::Relaxed);
        }
        self.cache.set_max_bytes(section.cache_mb.saturating_mul(1 << 20));
        if let Some(p) = &section.dem {
            let dem = Dem::read_geotiff(&base_dir.join(p))?;
            tracing::info!(width = dem.width, height = dem.height, "terrain DEM loaded");
            self.set_dem(dem);
        }
        Ok(())
    }

    /// The whole `[tiles]` section: the start-up code calls it by this name (the DEM was its first
    /// setting); see [`Self::configure`].
    pub fn load_dem(&self, section: &TilesSection, base_dir: &std::path::Path) -> Result<(), TileError> {
        self.configure(section, base_dir)
    }

    pub fn set_dem(&self, dem: Dem) {
        *self.dem.write() = Some(Arc::new(dem));
    }

    pub fn dem(&self) -> Option<Arc<Dem>> {
        self.dem.read().clone()
    }

    /// A Terrarium PNG, `None` without a DEM.
    pub fn terrain(&self, tile: TileCoord) -> Result<Option<Arc<Vec<u8>>>, TileError> {
        let Some(dem) = self.dem() else { return Ok(None) };
        if let Some(b) = self.cache.get("terrain", tile, 0) {
            return Ok(Some(b));
        }
        let b = Arc::new(terrain_png(&dem, tile)?);
        self.cache.put("terrain", tile, 0, b.clone());
        Ok(Some(b))
    }

    /// ETag of a terrain tile (the DEM does not change while running).
    pub fn terrain_etag(&self, tile: TileCoord) -> String {
        self.etag("terrain", tile, 0, false)
    }
}
