//! Dirty-tile tracking: every live tile has a version; a change to an entity bumps the versions of
//! exactly the tiles that contained its old position and its new position, at every zoom up to
//! `max_zoom`. Cached tiles are valid only for the version they were drawn at.

use std::collections::{HashMap, HashSet};

use twin_core::{Applied, Change, EntityId, Position, Twin};

use crate::coord::TileCoord;
use crate::mvt::FxHasher;

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Versions of live tiles plus the last indexed position of every entity.
#[derive(Debug, Clone)]
pub struct DirtyTracker {
    max_zoom: u8,
    /// Monotonic: every bump takes the next value, so a version never repeats.
    clock: u64,
    /// Version of every tile not in `versions`.
    base: u64,
    versions: HashMap<TileCoord, u64, FxBuild>,
    positions: HashMap<EntityId, Position, FxBuild>,
    /// Past this many versioned tiles, all versions collapse into a new `base` (bounded memory).
    max_versions: usize,
}

impl DirtyTracker {
    pub fn new(max_zoom: u8) -> Self {
        Self {
            max_zoom: max_zoom.min(crate::coord::MAX_ZOOM),
            clock: 1,
            base: 1,
            versions: HashMap::default(),
            positions: HashMap::default(),
            max_versions: 2_000_000,
        }
    }

    /// Seeds the known positions from a model (at start, before any change).
    pub fn seed(&mut self, twin: &Twin) {
        for e in twin.entities() {
            if let Some(p) = e.position {
                self.positions.insert(e.id, p);
            }
        }
    }

    pub fn max_zoom(&self) -> u8 {
        self.max_zoom
    }

    /// Current version of a tile. Tiles above `max_zoom` are not tracked: they share the clock,
    /// which changes on every change anywhere, so caching them is pointless but never wrong.
    pub fn version(&self, tile: TileCoord) -> u64 {
        if tile.z() > self.max_zoom {
            return self.clock;
        }
        self.versions.get(&tile).copied().unwrap_or(self.base)
    }

    /// Applies one commit's changes; returns the tiles whose version changed with their new version.
    pub fn apply(&mut self, twin: &Twin, applied: &Applied) -> Vec<(TileCoord, u64)> {
        let mut touched: HashSet<TileCoord, FxBuild> = HashSet::default();
        for c in &applied.changes {
            let (id, new) = match c {
                Change::Upserted(id) => (*id, twin.get(*id).and_then(|e| e.position)),
                Change::Removed(e) => (e.id, None),
            };
            let old = match new {
                Some(p) => self.positions.insert(id, p),
                None => self.positions.remove(&id),
            };
            if old == new {
                continue;
            }
            for p in [old, new].into_iter().flatten() {
                self.touch_position(p, &mut touched);
            }
        }
        self.bump(touched)
    }

    /// Marks the tiles containing `p` at every tracked zoom. Chains are always inserted whole, so a
    /// tile already marked means its ancestors are too: stop there (busy areas share most of them).
    fn touch_position(&self, p: Position, out: &mut HashSet<TileCoord, FxBuild>) {
        if let Ok(t) = TileCoord::containing(p.lon, p.lat, self.max_zoom) {
            let mut t = Some(t);
            while let Some(tile) = t {
                if !out.insert(tile) {
                    break;
                }
                t = tile.parent();
            }
        }
    }

    fn bump(&mut self, touched: HashSet<TileCoord, FxBuild>) -> Vec<(TileCoord, u64)> {
        if touched.is_empty() {
            return Vec::new();
        }
        self.clock += 1;
        let v = self.clock;
        if self.versions.len() + touched.len() > self.max_versions {
            // Collapse: every tile (touched or not) moves to the new version.
            self.versions.clear();
            self.base = v;
        }
        touched
            .into_iter()
            .map(|t| {
                self.versions.insert(t, v);
                (t, v)
            })
            .collect()
    }

    /// Tracks tiles up to another zoom. Every tile changes version, since tiles that were untracked
    /// may have changed without a version of their own.
    pub fn set_max_zoom(&mut self, max_zoom: u8) {
        self.max_zoom = max_zoom.min(crate::coord::MAX_ZOOM);
        self.invalidate_all();
    }

    /// Every tile changes version (e.g. after the model was replaced).
    pub fn invalidate_all(&mut self) {
        self.clock += 1;
        self.base = self.clock;
        self.versions.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use twin_core::{EntityKind, Observation, Timestamp, TwinConfig};

    /// The expected set from first principles: for each zoom, the tile whose bounds hold the point.
    fn expected(points: &[(f64, f64)], max_zoom: u8) -> BTreeSet<TileCoord> {
        let mut s = BTreeSet::new();
        for &(lon, lat) in points {
            for z in 0..=max_zoom {
                let n = (1u64 << z) as f64;
                let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
                let r = lat.to_radians();
                let y = ((1.0 - r.tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
                s.insert(TileCoord::new(z, x, y).unwrap());
            }
        }
        s
    }

    #[test]
    fn moving_an_entity_dirties_exactly_its_old_and_new_tiles() {
        let mut twin = Twin::new(TwinConfig::default());
        let mut tracker = DirtyTracker::new(16);
        let a = twin.apply_batch(&[
            Observation::new(EntityKind::Bus, "b1", Timestamp(1000)).at(108.2208, 16.0678),
            Observation::new(EntityKind::Vessel, "v1", Timestamp(1000)).at(108.30, 16.10),
        ]);
        let first: BTreeSet<_> = tracker.apply(&twin, &a).into_iter().map(|(t, _)| t).collect();
        assert_eq!(first, expected(&[(108.2208, 16.0678), (108.30, 16.10)], 16));
        let before: HashMap<TileCoord, u64> = first.iter().map(|t| (*t, tracker.version(*t))).collect();

        let a = twin.apply_batch(&[Observation::new(EntityKind::Bus, "b1", Timestamp(2000)).at(108.2301, 16.0555)]);
        let moved = tracker.apply(&twin, &a);
        let got: BTreeSet<_> = moved.iter().map(|(t, _)| *t).collect();
        assert_eq!(got, expected(&[(108.2208, 16.0678), (108.2301, 16.0555)], 16));
        // Nothing else changed: the vessel's own tiles keep their version unless shared with the bus.
        for (t, v) in &before {
            if !got.contains(t) {
                assert_eq!(tracker.version(*t), *v, "{t} changed");
            } else {
                assert!(tracker.version(*t) > *v);
            }
        }
        // An update that does not move changes no tile.
        let a = twin.apply_batch(&[Observation::new(EntityKind::Bus, "b1", Timestamp(3000)).at(108.2301, 16.0555)]);
        assert!(tracker.apply(&twin, &a).is_empty());
        // Removing dirties the last position.
        let id = twin.id_of(EntityKind::Vessel, "v1").unwrap();
        let removed = twin.remove(id).unwrap();
        let a = Applied { changes: vec![Change::Removed(Box::new(removed))], ..Default::default() };
        let got: BTreeSet<_> = tracker.apply(&twin, &a).into_iter().map(|(t, _)| t).collect();
        assert_eq!(got, expected(&[(108.30, 16.10)], 16));
    }
}
