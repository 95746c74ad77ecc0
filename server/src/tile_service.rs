//! The tile side of the server: renderer, versioned cache, dirty-tile tracker fed by the writer's
//! commits, the optional DEM for terrain, and the stream of changed tiles for `/ws` subscribers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use tokio::sync::broadcast;
use twin_core::{Applied, Twin};
use twin_layers::ReferenceLayers;
use twin_tiles::compress::gzip;
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::terrain::{terrain_png, Dem};
use twin_tiles::{DirtyTracker, TileCache, TileCoord, TileError, TileLayer, TileRenderer};

use crate::geojson::now;

/// `[tiles]` of the city config (optional).
///
/// ```toml
/// [tiles]
/// dem = "dem/danang_srtm_gl1_30m.tif"   # GeoTIFF DEM for /tiles/terrain (relative to the config)
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TilesSection {
    pub dem: Option<PathBuf>,
}

/// Highest zoom whose live tiles are tracked (and so cached and announced to subscribers).
pub const TRACKED_MAX_ZOOM: u8 = 18;
/// Tile cache size.
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

pub struct TileService {
    pub renderer: TileRenderer,
    cache: TileCache,
    tracker: Mutex<DirtyTracker>,
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
            cache: TileCache::new(CACHE_BYTES),
            tracker: Mutex::new(tracker),
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
        let changed = self.tracker.lock().apply(twin, applied);
        if !changed.is_empty() && self.changes.receiver_count() > 0 {
            let _ = self.changes.send(Arc::new(changed));
        }
    }

    pub fn subscribe_changes(&self) -> broadcast::Receiver<TileChanges> {
        self.changes.subscribe()
    }

    pub fn max_zoom(&self) -> u8 {
        self.tracker.lock().max_zoom()
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
        self.tracker.lock().version(tile)
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
    pub fn cached(&self, layer: &TileLayer, tile: TileCoord, version: u64, gzipped: bool) -> Option<Rendered> {
        if gzipped {
            if let Some(bytes) = self.cache.get(&format!("{}|gz", layer.name()), tile, version) {
                return Some(Rendered { bytes, gzipped: true });
            }
        }
        let raw = self.cache.get(layer.name(), tile, version)?;
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
    ) -> Result<Rendered, TileError> {
        let key = if gzipped { format!("{}|gz", layer.name()) } else { layer.name().to_owned() };
        if let Some(bytes) = self.cache.get(&key, tile, version) {
            return Ok(Rendered { bytes, gzipped });
        }
        let raw = match self.cache.get(layer.name(), tile, version) {
            Some(b) => b,
            None => {
                let bytes = {
                    let twin = twin.read();
                    self.renderer.render(layer, tile, &twin, now())?
                };
                let b = Arc::new(bytes);
                self.cache.put(layer.name(), tile, version, b.clone());
                b
            }
        };
        if !gzipped || raw.is_empty() {
            return Ok(Rendered { bytes: raw, gzipped: false });
        }
        let z = Arc::new(gzip(&raw));
        self.cache.put(&key, tile, version, z.clone());
        Ok(Rendered { bytes: z, gzipped: true })
    }

    /// Loads the DEM named by `[tiles] dem` (relative to `base_dir`), if any.
    pub fn load_dem(&self, section: &TilesSection, base_dir: &std::path::Path) -> Result<(), TileError> {
        if let Some(p) = &section.dem {
            let dem = Dem::read_geotiff(&base_dir.join(p))?;
            tracing::info!(width = dem.width, height = dem.height, "terrain DEM loaded");
            self.set_dem(dem);
        }
        Ok(())
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
