//! Query argument and result types.

use serde::{Deserialize, Serialize};

use crate::{EntityKind, Error, Position};

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
