//! A size-capped tile cache keyed by (layer, variant, tile). An entry remembers the version it was
//! drawn at and is served only while that version is current, so invalidation is just a version bump
//! elsewhere. Eviction is approximately least-recently-used: past a shard's cap, its oldest quarter
//! goes.
//!
//! Lookups are on the hot path of every cached tile request, so they allocate nothing: the key is a
//! hash of the layer name and variant plus the tile, the entry keeps the name to confirm a match,
//! and the table is split into shards so concurrent requests rarely wait on the same lock.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::coord::TileCoord;
use crate::mvt::FxHasher;

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Bytes counted per entry beyond the tile itself (key, bookkeeping).
const OVERHEAD: usize = 64;
/// Below this cap one shard keeps the eviction order exact; above it, [`SHARDS`] shards.
const SHARD_FROM_BYTES: usize = 16 << 20;
const SHARDS: usize = 16;

/// An encoding or other form of a layer's tile kept side by side with the plain one.
pub type Variant = u8;
/// The MVT bytes as drawn.
pub const PLAIN: Variant = 0;
/// The gzip-compressed bytes.
pub const GZIP: Variant = 1;

#[derive(Debug)]
struct Entry {
    layer: Arc<str>,
    variant: Variant,
    version: u64,
    bytes: Arc<Vec<u8>>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Shard {
    entries: HashMap<(u64, TileCoord), Entry, FxBuild>,
    bytes: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
pub struct TileCache {
    shards: Box<[Mutex<Shard>]>,
    max_bytes: AtomicUsize,
}

/// Hit and miss counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

fn key_hash(layer: &str, variant: Variant) -> u64 {
    let mut h = FxBuild::default().build_hasher();
    h.write(layer.as_bytes());
    h.write_u8(variant);
    h.finish()
}

impl TileCache {
    pub fn new(max_bytes: usize) -> Self {
        let n = if max_bytes >= SHARD_FROM_BYTES { SHARDS } else { 1 };
        Self { shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(), max_bytes: AtomicUsize::new(max_bytes) }
    }

    /// Changes the cap (entries above the new cap go on the next insert into their shard).
    pub fn set_max_bytes(&self, max_bytes: usize) {
        self.max_bytes.store(max_bytes, Ordering::Relaxed);
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes.load(Ordering::Relaxed)
    }

    fn shard(&self, key: (u64, TileCoord)) -> &Mutex<Shard> {
        let mut h = FxBuild::default().build_hasher();
        h.write_u64(key.0);
        h.write_u64((u64::from(key.1.z()) << 58) ^ (u64::from(key.1.x()) << 29) ^ u64::from(key.1.y()));
        // The high bits of the product mix best.
        &self.shards[(h.finish() >> 40) as usize % self.shards.len()]
    }

    /// The cached plain tile if it was drawn at `version`.
    pub fn get(&self, layer: &str, tile: TileCoord, version: u64) -> Option<Arc<Vec<u8>>> {
        self.get_variant(layer, PLAIN, tile, version)
    }

    /// The cached tile in one variant if it was drawn at `version`.
    pub fn get_variant(&self, layer: &str, variant: Variant, tile: TileCoord, version: u64) -> Option<Arc<Vec<u8>>> {
        let key = (key_hash(layer, variant), tile);
        let mut g = self.shard(key).lock();
        g.tick += 1;
        let tick = g.tick;
        let hit = match g.entries.get_mut(&key) {
            Some(e) if e.version == version && e.variant == variant && &*e.layer == layer => {
                e.last_used = tick;
                Some(e.bytes.clone())
            }
            _ => None,
        };
        if hit.is_some() {
            g.hits += 1;
        } else {
            g.misses += 1;
        }
        hit
    }

    /// Stores a plain tile drawn at `version` (read the version BEFORE reading the model, so a change
    /// that lands while drawing can only make the entry stale, never wrongly current).
    pub fn put(&self, layer: &str, tile: TileCoord, version: u64, bytes: Arc<Vec<u8>>) {
        self.put_variant(layer, PLAIN, tile, version, bytes);
    }

    /// Stores one variant of a tile drawn at `version` (see [`TileCache::put`]).
    pub fn put_variant(&self, layer: &str, variant: Variant, tile: TileCoord, version: u64, bytes: Arc<Vec<u8>>) {
        let size = bytes.len() + OVERHEAD;
        let cap = self.max_bytes() / self.shards.len();
        if size > cap {
            return;
        }
        let key = (key_hash(layer, variant), tile);
        let mut g = self.shard(key).lock();
        g.tick += 1;
        let entry = Entry { layer: Arc::from(layer), variant, version, bytes, last_used: g.tick };
        // A colliding (layer, variant) hash simply replaces the other entry.
        if let Some(old) = g.entries.insert(key, entry) {
            g.bytes -= old.bytes.len() + OVERHEAD;
        }
        g.bytes += size;
        if g.bytes > cap {
            evict(&mut g, cap * 3 / 4, key);
        }
    }

    pub fn stats(&self) -> CacheStats {
        let mut s = CacheStats::default();
        for shard in self.shards.iter() {
            let g = shard.lock();
            s.entries += g.entries.len();
            s.bytes += g.bytes;
            s.hits += g.hits;
            s.misses += g.misses;
        }
        s
    }
}

/// Drops the least recently used entries until the shard is under `target`, keeping `keep` (the
/// entry just stored).
fn evict(g: &mut Shard, target: usize, keep: (u64, TileCoord)) {
    let mut ages: Vec<(u64, (u64, TileCoord))> =
        g.entries.iter().filter(|(k, _)| **k != keep).map(|(k, e)| (e.last_used, *k)).collect();
    ages.sort_unstable_by_key(|(t, _)| *t);
    for (_, k) in ages {
        if g.bytes <= target {
            break;
        }
        if let Some(e) = g.entries.remove(&k) {
            g.bytes -= e.bytes.len() + OVERHEAD;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn serves_only_current_versions_and_stays_under_its_cap() {
        let c = TileCache::new(10_000);
        let t = TileCoord::new(3, 1, 2).unwrap();
        c.put("live", t, 5, Arc::new(vec![1, 2, 3]));
        assert_eq!(c.get("live", t, 5).as_deref(), Some(&vec![1, 2, 3]));
        assert!(c.get("live", t, 6).is_none());
        assert!(c.get("roads", t, 5).is_none());
        for i in 0..100u32 {
            c.put("live", TileCoord::new(10, i, 0).unwrap(), 1, Arc::new(vec![0; 500]));
            assert!(c.stats().bytes <= 10_000);
        }
        // The most recent entry survives eviction, the oldest does not.
        assert!(c.get("live", TileCoord::new(10, 99, 0).unwrap(), 1).is_some());
        assert!(c.get("live", TileCoord::new(10, 0, 0).unwrap(), 1).is_none());
    }

    #[test]
    fn variants_and_layers_are_kept_apart() {
        let c = TileCache::new(64 << 20);
        let t = TileCoord::new(14, 13_120, 7_548).unwrap();
        c.put_variant("live", PLAIN, t, 1, Arc::new(vec![1]));
        c.put_variant("live", GZIP, t, 1, Arc::new(vec![2]));
        c.put_variant("bus", PLAIN, t, 1, Arc::new(vec![3]));
        assert_eq!(c.get_variant("live", PLAIN, t, 1).as_deref(), Some(&vec![1]));
        assert_eq!(c.get_variant("live", GZIP, t, 1).as_deref(), Some(&vec![2]));
        assert_eq!(c.get("bus", t, 1).as_deref(), Some(&vec![3]));
        assert!(c.get_variant("bus", GZIP, t, 1).is_none());
        let s = c.stats();
        assert_eq!((s.entries, s.hits, s.misses), (3, 3, 1));
    }

    #[test]
    fn a_sharded_cache_stays_under_its_cap_and_keeps_recent_tiles() {
        let c = TileCache::new(SHARD_FROM_BYTES);
        for i in 0..4_000u32 {
            c.put("live", TileCoord::new(14, i, 7).unwrap(), 1, Arc::new(vec![0; 8_000]));
            assert!(c.stats().bytes <= SHARD_FROM_BYTES);
        }
        let recent = (3_900..4_000).filter(|&i| c.get("live", TileCoord::new(14, i, 7).unwrap(), 1).is_some()).count();
        assert!(recent >= 90, "{recent} of the last 100 tiles still cached");
        // A smaller cap applies to the shard of the next insert.
        let before = c.stats().bytes;
        c.set_max_bytes(1 << 20);
        c.put("live", TileCoord::new(14, 0, 8).unwrap(), 1, Arc::new(vec![0; 100]));
        assert!(c.stats().bytes < before - 500_000);
    }
}
