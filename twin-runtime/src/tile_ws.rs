//! Tile subscriptions over `/ws`: a client sends
//! `{"type":"subscribe_tiles","layer":"live","tiles":[[z,x,y],…]}` (again to replace the set) and
//! receives `{"type":"tiles_changed","layer":"live","tiles":[[z,x,y,version],…]}` batched every
//! ~100 ms, so it refetches only what changed. Tiles above the tracked zoom are reported when
//! their ancestor at the tracked zoom changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use twin_tiles::{TileCoord, TileError, TileLayer};

use crate::live::{short_json, ServerMsg, DELTA_INTERVAL};
use crate::tile_service::TileService;

/// Most tiles one subscription may name.
pub const MAX_TILES: usize = 4096;

/// Is this a tile-subscription message (as opposed to an entity subscription)?
pub fn is_tiles_message(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("subscribe_tiles"))
}

#[derive(Debug, Default)]
struct Watched {
    layer: String,
    /// Tracked tile (the tile itself or its ancestor at the tracked zoom) → subscribed tiles.
    keys: HashMap<TileCoord, Vec<TileCoord>>,
}

/// Why a `subscribe_tiles` message was refused; the text goes back to the client.
#[derive(Debug, thiserror::Error)]
pub enum TileSubscribeError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Layer(TileError),
    #[error("layer {0} does not change while the server runs")]
    NotLive(String),
    #[error("tiles: expected [[z,x,y],…]")]
    TilesNotArray,
    #[error("tiles: at most {MAX_TILES} per subscription")]
    TooMany,
    #[error("tiles: {0} is not [z,x,y]")]
    NotATile(String),
    #[error("tiles: {0} is out of range")]
    OutOfRange(String),
    #[error("tiles: {0}")]
    Tile(TileError),
}

/// One client's tile subscription; the forwarding task stops when this is dropped.
pub struct TileWatch {
    service: Arc<TileService>,
    out: mpsc::Sender<ServerMsg>,
    watched: Arc<Mutex<Watched>>,
    task: Option<JoinHandle<()>>,
}

impl TileWatch {
    pub fn new(service: Arc<TileService>, out: mpsc::Sender<ServerMsg>) -> Self {
        Self { service, out, watched: Arc::default(), task: None }
    }

    /// Applies a `subscribe_tiles` message; the error text goes back to the client.
    pub fn subscribe(&mut self, text: &str) -> Result<(), TileSubscribeError> {
        let v: Value = serde_json::from_str(text)?;
        let layer_name = v.get("layer").and_then(Value::as_str).unwrap_or("live");
        let layer =
            TileLayer::parse(layer_name, &self.service.renderer.reference).map_err(TileSubscribeError::Layer)?;
        if !layer.is_live() {
            return Err(TileSubscribeError::NotLive(layer_name.to_owned()));
        }
        let list = v.get("tiles").and_then(Value::as_array).ok_or(TileSubscribeError::TilesNotArray)?;
        if list.len() > MAX_TILES {
            return Err(TileSubscribeError::TooMany);
        }
        let max_zoom = self.service.max_zoom();
        let mut keys: HashMap<TileCoord, Vec<TileCoord>> = HashMap::new();
        for t in list {
            let nums: Vec<u64> = t.as_array().map(|a| a.iter().filter_map(Value::as_u64).collect()).unwrap_or_default();
            let &[z, x, y] = nums.as_slice() else { return Err(TileSubscribeError::NotATile(short_json(t))) };
            let tile = u8::try_from(z)
                .ok()
                .zip(u32::try_from(x).ok())
                .zip(u32::try_from(y).ok())
                .ok_or_else(|| TileSubscribeError::OutOfRange(short_json(t)))
                .and_then(|((z, x), y)| TileCoord::new(z, x, y).map_err(TileSubscribeError::Tile))?;
            let mut key = tile;
            while key.z() > max_zoom {
                key = key.parent().unwrap_or(key);
            }
            keys.entry(key).or_default().push(tile);
        }
        *self.watched.lock() = Watched { layer: layer.name().to_owned(), keys };
        if self.task.is_none() {
            let rx = self.service.subscribe_changes();
            self.task = Some(tokio::spawn(forward(rx, self.watched.clone(), self.service.clone(), self.out.clone())));
        }
        Ok(())
    }
}

impl Drop for TileWatch {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Collects changed tiles the client watches and sends them in batches.
async fn forward(
    mut rx: broadcast::Receiver<crate::tile_service::TileChanges>,
    watched: Arc<Mutex<Watched>>,
    service: Arc<TileService>,
    out: mpsc::Sender<ServerMsg>,
) {
    let mut pending: BTreeMap<TileCoord, u64> = BTreeMap::new();
    let mut flush = tokio::time::interval(DELTA_INTERVAL);
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(changes) => {
                    let w = watched.lock();
                    for (key, version) in changes.iter() {
                        if let Some(tiles) = w.keys.get(key) {
                            for t in tiles {
                                pending.insert(*t, *version);
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Changes were missed: report every watched tile at its current version.
                    let w = watched.lock();
                    for (key, tiles) in &w.keys {
                        let v = service.tracked_version(*key);
                        pending.extend(tiles.iter().map(|t| (*t, v)));
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = flush.tick() => {
                if out.is_closed() {
                    return;
                }
                if pending.is_empty() {
                    continue;
                }
                let layer = watched.lock().layer.clone();
                let tiles: Vec<[u64; 4]> = std::mem::take(&mut pending)
                    .into_iter()
                    .map(|(t, v)| [u64::from(t.z()), u64::from(t.x()), u64::from(t.y()), v])
                    .collect();
                let msg = json!({"type": "tiles_changed", "layer": layer, "tiles": tiles});
                if out.send(ServerMsg::TilesChanged(msg)).await.is_err() {
                    return;
                }
            }
        }
    }
}
