//! Query argument and result types, and the model's read-only spatial queries.

use std::collections::{BTreeMap, HashMap};

use geo::{BoundingRect, Intersects};
use serde::{Deserialize, Serialize};

use crate::geodesy::{cap_envelopes, DistanceFrom, LonLatRect};
use crate::{Entity, EntityId, EntityKind, Error, KindFilter, Position, Twin};

/// A lon/lat box in degrees; edges are inclusive. `min_lon > max_lon` is rejected (no antimeridian
/// wrap: split such a box in two).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Result<Self, Error> {
        let b = Self { min_lon, min_lat, max_lon, max_lat };
        let ok = [min_lon, min_lat, max_lon, max_lat].iter().all(|v| v.is_finite())
            && (-180.0..=180.0).contains(&min_lon)
            && (-180.0..=180.0).contains(&max_lon)
            && (-90.0..=90.0).contains(&min_lat)
            && (-90.0..=90.0).contains(&max_lat)
            && min_lon <= max_lon
            && min_lat <= max_lat;
        if ok {
            Ok(b)
        } else {
            Err(Error::InvalidQuery {
                field: "bbox",
                reason: format!("{min_lon},{min_lat},{max_lon},{max_lat} is not minLon,minLat,maxLon,maxLat in WGS84"),
            })
        }
    }

    pub const WORLD: BBox = BBox { min_lon: -180.0, min_lat: -90.0, max_lon: 180.0, max_lat: 90.0 };

    pub fn contains(&self, p: Position) -> bool {
        p.lon >= self.min_lon && p.lon <= self.max_lon && p.lat >= self.min_lat && p.lat <= self.max_lat
    }

    /// `None` for an inverted box (possible when the fields are set directly instead of via `new`):
    /// the R-tree would silently swap its corners.
    fn rect(&self) -> Option<LonLatRect> {
        (self.min_lon <= self.max_lon && self.min_lat <= self.max_lat)
            .then_some(LonLatRect { min: [self.min_lon, self.min_lat], max: [self.max_lon, self.max_lat] })
    }
}

/// Entity counts per kind, indexed by [`EntityKind::index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KindCounts(pub [u32; EntityKind::COUNT]);

impl KindCounts {
    pub fn get(&self, kind: EntityKind) -> u32 {
        self.0[kind.index()]
    }
    pub fn total(&self) -> u64 {
        self.0.iter().map(|&c| u64::from(c)).sum()
    }
    /// Non-zero counts, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (EntityKind, u32)> + '_ {
        EntityKind::ALL.iter().map(|k| (*k, self.0[k.index()])).filter(|(_, c)| *c > 0)
    }
}

/// One H3 cell of an aggregation query.
#[derive(Debug, Clone, PartialEq)]
pub struct CellCount {
    pub cell: h3o::CellIndex,
    pub counts: KindCounts,
}

impl Twin {
    /// Entities with a position inside `bbox` (edges inclusive), in id order.
    pub fn in_bbox(&self, bbox: BBox, kinds: KindFilter) -> Vec<&Entity> {
        let Some(rect) = bbox.rect() else { return Vec::new() };
        let mut ids = Vec::new();
        self.index().for_each_in(&rect, kinds, |p| ids.push(p.data));
        self.resolve_sorted(ids)
    }

    /// Entities within `radius_m` metres (great-circle, [`crate::geodesy::distance_m`]) of `center`,
    /// nearest first (ties by id), with their distance. An invalid center or a negative radius
    /// matches nothing; an infinite radius matches every positioned entity.
    pub fn within_radius(&self, center: Position, radius_m: f64, kinds: KindFilter) -> Vec<(&Entity, f64)> {
        self.radius_hits(center, radius_m, kinds)
            .into_iter()
            .filter_map(|(id, d)| self.get(id).map(|e| (e, d)))
            .collect()
    }

    /// Ids and distances within `radius_m`, sorted by (distance, id); entities are not touched.
    fn radius_hits(&self, center: Position, radius_m: f64, kinds: KindFilter) -> Vec<(EntityId, f64)> {
        if !center.is_valid() {
            return Vec::new();
        }
        let (rects, n) = cap_envelopes(center, radius_m);
        let from = DistanceFrom::new(center);
        let mut hits: Vec<(EntityId, f64)> = Vec::with_capacity(64);
        for rect in &rects[..n] {
            self.index().for_each_in(rect, kinds, |p| {
                let [lon, lat] = *p.geom();
                let d = from.to(Position { lon, lat });
                if d <= radius_m {
                    hits.push((p.data, d));
                }
            });
        }
        // Distances are ≥ 0 (`+ 0.0` turns a -0.0 into 0.0), so their bit patterns sort like the
        // numbers: an integer key compares faster than floats.
        hits.sort_unstable_by_key(|&(id, d)| ((d + 0.0).to_bits(), id));
        hits
    }

    /// The `k` entities nearest to `center` by great-circle distance, nearest first (ties by id).
    ///
    /// The R-trees' planar nearest-neighbour search proposes candidates, largest tree first, until
    /// there are `k`; the largest great-circle distance D among those `k` bounds the answer (at
    /// least `k` matching entities lie within D), so an exact radius query at D cut to `k` is exact.
    /// One dense kind usually gives a tight enough D, so the other trees are only range-searched.
    pub fn nearest(&self, center: Position, k: usize, kinds: KindFilter) -> Vec<(&Entity, f64)> {
        if k == 0 || !center.is_valid() {
            return Vec::new();
        }
        let q = [center.lon, center.lat];
        let from = DistanceFrom::new(center);
        let mut trees: Vec<_> = kinds.kinds().map(|kind| self.index().tree(kind)).filter(|t| t.size() > 0).collect();
        trees.sort_unstable_by_key(|t| std::cmp::Reverse(t.size()));
        let searched_trees = trees.len();
        let mut dists: Vec<f64> = Vec::with_capacity(k.min(1024));
        for tree in trees {
            dists.extend(tree.nearest_neighbor_iter(&q).take(k - dists.len()).map(|p| {
                let [lon, lat] = *p.geom();
                from.to(Position { lon, lat })
            }));
            if dists.len() == k {
                break;
            }
        }
        let bound = if dists.len() < k { f64::INFINITY } else { dists.iter().copied().fold(0.0, f64::max) };
        // With several kinds of similar density, D from one kind is loose: a disc of D·√(2/trees)
        // is expected to hold about 2k entities. If it holds k it is exact too, and much cheaper.
        let mut hits = Vec::new();
        if searched_trees > 2 && bound.is_finite() {
            hits = self.radius_hits(center, bound * (2.0 / searched_trees as f64).sqrt(), kinds);
        }
        if hits.len() < k {
            hits = self.radius_hits(center, bound, kinds);
        }
        hits.truncate(k);
        hits.into_iter().filter_map(|(id, d)| self.get(id).map(|e| (e, d))).collect()
    }

    /// Entities whose position lies inside or on the boundary of `area`, in id order.
    pub fn within_polygon(&self, area: &geo::MultiPolygon<f64>, kinds: KindFilter) -> Vec<&Entity> {
        let Some(bounds) = area.bounding_rect() else { return Vec::new() };
        let rect = LonLatRect { min: [bounds.min().x, bounds.min().y], max: [bounds.max().x, bounds.max().y] };
        let mut ids = Vec::new();
        self.index().for_each_in(&rect, kinds, |p| {
            let [lon, lat] = *p.geom();
            if area.intersects(&geo::Point::new(lon, lat)) {
                ids.push(p.data);
            }
        });
        self.resolve_sorted(ids)
    }

    /// Counts per kind aggregated to H3 cells at `resolution` (≤ the index resolution): every cell
    /// whose centroid lies in `bbox`, with all matching entities whose position falls in the cell.
    /// "Falls in" is H3's hierarchy: an entity belongs to the ancestor at `resolution` of its cell at
    /// the index resolution. Cells with no matching entity are omitted. Sorted by cell index.
    pub fn h3_counts(
        &self,
        bbox: BBox,
        resolution: h3o::Resolution,
        kinds: KindFilter,
    ) -> Result<Vec<CellCount>, Error> {
        let index_res = self.index().resolution();
        if resolution > index_res {
            return Err(Error::InvalidQuery {
                field: "res",
                reason: format!("{resolution} is finer than the index resolution {index_res}"),
            });
        }
        let mut centroid_inside: HashMap<h3o::CellIndex, bool> = HashMap::new();
        let mut acc: BTreeMap<h3o::CellIndex, KindCounts> = BTreeMap::new();
        for (cell, counts) in self.index().cells() {
            let Some(parent) = cell.parent(resolution) else { continue };
            let inside = *centroid_inside.entry(parent).or_insert_with(|| {
                let c = h3o::LatLng::from(parent);
                bbox.contains(Position::new(c.lng(), c.lat()))
            });
            if !inside {
                continue;
            }
            let slot = acc.entry(parent).or_default();
            for kind in kinds.kinds() {
                slot.0[kind.index()] += counts.get(kind);
            }
        }
        Ok(acc.into_iter().filter(|(_, c)| c.total() > 0).map(|(cell, counts)| CellCount { cell, counts }).collect())
    }

    fn resolve_sorted(&self, mut ids: Vec<EntityId>) -> Vec<&Entity> {
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.get(id)).collect()
    }
}
