//! A size-capped tile cache keyed by (layer, tile). An entry remembers the version it was drawn at and
//! is served only while that version is current, so invalidation is just a version bump elsewhere.
//! Eviction is approximately least-recently-used: past the cap, the oldest quarter goes.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::coord::TileCoord;

#[derive(Debug)]
struct Entry {
    version: u64,
    bytes: Arc<Vec<u8>>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<(Arc<str>, TileCoord), Entry>,
    bytes: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
pub struct TileCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

/// Hit and miss counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

impl TileCache {
    pub fn new(max_bytes: usize) -> Self {
        Self { inner: Mutex::new(Inner::default()), max_bytes }
    }

    /// The cached tile if it was drawn at `version`.
    pub fn get(&self, layer: &str, tile: TileCoord, version: u64) -> Option<Arc<Vec<u8>>> {
        let mut g = self.inner.lock();
        g.tick += 1;
        let tick = g.tick;
        let hit = match g.entries.get_mut(&(Arc::from(layer), tile)) {
            Some(e) if e.version == version => {
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

    /// Stores a tile drawn at `version` (read the version BEFORE reading the model, so a change that
    /// lands while drawing can only make the entry stale, never wrongly current).
    pub fn put(&self, layer: &str, tile: TileCoord, version: u64, bytes: Arc<Vec<u8>>) {
        let size = bytes.len() + 64;
        if size > self.max_bytes {
            return;
        }
        let mut g = self.inner.lock();
        g.tick += 1;
        let entry = Entry { version, bytes, last_used: g.tick };
        if let Some(old) = g.entries.insert((Arc::from(layer), tile), entry) {
            g.bytes -= old.bytes.len() + 64;
        }
        g.bytes += size;
        if g.bytes > self.max_bytes {
            evict(&mut g, self.max_bytes * 3 / 4);
        }
    }

    pub fn stats(&self) -> CacheStats {
        let g = self.inner.lock();
        CacheStats { entries: g.entries.len(), bytes: g.bytes, hits: g.hits, misses: g.misses }
    }
}

fn evict(g: &mut Inner, target: usize) {
    let mut ages: Vec<(u64, (Arc<str>, TileCoord))> = g.entries.iter().map(|(k, e)| (e.last_used, k.clone())).collect();
    ages.sort_unstable_by_key(|(t, _)| *t);
    for (_, k) in ages {
        if g.bytes <= target {
            break;
        }
        if let Some(e) = g.entries.remove(&k) {
            g.bytes -= e.bytes.len() + 64;
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
}
