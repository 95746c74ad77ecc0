//! XYZ tile math on the Web Mercator (EPSG:3857) grid used by MapLibre, QGIS and GDAL.
//!
//! Tile `(z, x, y)` covers `2^z × 2^z` tiles of the square mercator world; `y` grows southwards.

use std::fmt;

use crate::error::TileError;

/// Largest zoom accepted by default.
pub const MAX_ZOOM: u8 = 24;
/// Half the side of the mercator square in metres (π × WGS84 semi-major axis).
pub const MERCATOR_HALF: f64 = std::f64::consts::PI * 6_378_137.0;
/// Latitude where the mercator square ends.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A validated tile address: `z ≤ MAX_ZOOM`, `x, y < 2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

/// A longitude/latitude rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLatBounds {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// A rectangle in mercator metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MercatorBounds {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

impl TileCoord {
    /// Checks the ranges against [`MAX_ZOOM`].
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileError> {
        Self::with_max_zoom(z, x, y, MAX_ZOOM)
    }

    /// Checks the ranges against a caller's zoom limit (still at most 31 so `2^z` fits).
    pub fn with_max_zoom(z: u8, x: u32, y: u32, max_zoom: u8) -> Result<Self, TileError> {
        if z > max_zoom.min(31) {
            return Err(TileError::ZoomOutOfRange { z, max: max_zoom.min(31) });
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::TileOutOfRange { z, x, y });
        }
        Ok(Self { z, x, y })
    }

    pub const fn z(self) -> u8 {
        self.z
    }
    pub const fn x(self) -> u32 {
        self.x
    }
    pub const fn y(self) -> u32 {
        self.y
    }

    /// The tile at zoom `z` that contains a longitude/latitude (latitudes beyond the mercator square
    /// are clamped to its edge; longitude 180 belongs to the last column).
    pub fn containing(lon: f64, lat: f64, z: u8) -> Result<Self, TileError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(TileError::InvalidPosition { lon, lat });
        }
        let (fx, fy) = lonlat_to_world(lon, lat);
        let n = (1u64 << z.min(31)) as f64;
        let last = (1u64 << z.min(31)) - 1;
        let x = ((fx * n).floor().max(0.0) as u64).min(last) as u32;
        let y = ((fy * n).floor().max(0.0) as u64).min(last) as u32;
        Self::new(z, x, y)
    }

    /// Bounds in longitude/latitude.
    pub fn bounds(self) -> LonLatBounds {
        let n = (1u64 << self.z) as f64;
        let (west, north) = world_to_lonlat(f64::from(self.x) / n, f64::from(self.y) / n);
        let (east, south) = world_to_lonlat(f64::from(self.x + 1) / n, f64::from(self.y + 1) / n);
        LonLatBounds { west, south, east, north }
    }

    /// Bounds in mercator metres.
    pub fn mercator_bounds(self) -> MercatorBounds {
        let size = 2.0 * MERCATOR_HALF / (1u64 << self.z) as f64;
        let min_x = -MERCATOR_HALF + f64::from(self.x) * size;
        let max_y = MERCATOR_HALF - f64::from(self.y) * size;
        MercatorBounds { min_x, min_y: max_y - size, max_x: min_x + size, max_y }
    }

    /// Longitude/latitude bounds grown by `buffer / extent` of the tile on each side (the buffer is in
    /// tile units, e.g. 64 of 4096), clamped to the world.
    pub fn buffered_bounds(self, buffer: u32, extent: u32) -> LonLatBounds {
        let n = (1u64 << self.z) as f64;
        let pad = f64::from(buffer) / f64::from(extent.max(1));
        let x0 = ((f64::from(self.x) - pad) / n).clamp(0.0, 1.0);
        let y0 = ((f64::from(self.y) - pad) / n).clamp(0.0, 1.0);
        let x1 = ((f64::from(self.x) + 1.0 + pad) / n).clamp(0.0, 1.0);
        let y1 = ((f64::from(self.y) + 1.0 + pad) / n).clamp(0.0, 1.0);
        let (west, north) = world_to_lonlat(x0, y0);
        let (east, south) = world_to_lonlat(x1, y1);
        LonLatBounds { west, south, east, north }
    }

    /// Position of a longitude/latitude in this tile's pixel grid of `extent` units (may be outside
    /// `0..extent` for points outside the tile).
    pub fn project(self, lon: f64, lat: f64, extent: u32) -> (f64, f64) {
        let (fx, fy) = lonlat_to_world(lon, lat);
        let n = (1u64 << self.z) as f64;
        let e = f64::from(extent);
        ((fx * n - f64::from(self.x)) * e, (fy * n - f64::from(self.y)) * e)
    }

    /// The parent tile, `None` at zoom 0.
    pub fn parent(self) -> Option<Self> {
        (self.z > 0).then(|| Self { z: self.z - 1, x: self.x / 2, y: self.y / 2 })
    }
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Longitude/latitude → fraction of the mercator world, `(0,0)` at the north-west corner.
pub fn lonlat_to_world(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x, y)
}

/// Fraction of the mercator world → longitude/latitude.
pub fn world_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees();
    (lon, lat)
}

/// Longitude/latitude → mercator metres.
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = lonlat_to_world(lon, lat);
    ((x * 2.0 - 1.0) * MERCATOR_HALF, (1.0 - y * 2.0) * MERCATOR_HALF)
}

/// Mercator metres → longitude/latitude.
pub fn mercator_to_lonlat(mx: f64, my: f64) -> (f64, f64) {
    world_to_lonlat((mx / MERCATOR_HALF + 1.0) / 2.0, (1.0 - my / MERCATOR_HALF) / 2.0)
}

/// The tiles at zoom `z` covering a longitude/latitude rectangle, as inclusive x and y ranges.
pub fn tile_range(bounds: LonLatBounds, z: u8) -> Result<(TileCoord, TileCoord), TileError> {
    let nw = TileCoord::containing(bounds.west, bounds.north, z)?;
    let se = TileCoord::containing(bounds.east, bounds.south, z)?;
    Ok((nw, se))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_tiles() {
        // Da Nang city hall (108.2208 E, 16.0678 N) at z14: computed by the OSM wiki formula by hand.
        let t = TileCoord::containing(108.2208, 16.0678, 14).unwrap();
        let n = 16384.0_f64;
        let ex = ((108.2208 + 180.0) / 360.0 * n).floor() as u32;
        let lat = 16.0678_f64.to_radians();
        let ey = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
        assert_eq!((t.x(), t.y()), (ex, ey));
        let b = TileCoord::new(0, 0, 0).unwrap().bounds();
        assert!((b.west + 180.0).abs() < 1e-9 && (b.east - 180.0).abs() < 1e-9);
        assert!((b.north - MAX_LAT).abs() < 1e-9 && (b.south + MAX_LAT).abs() < 1e-9);
        let m = TileCoord::new(0, 0, 0).unwrap().mercator_bounds();
        assert!((m.max_x - 20_037_508.342_789_244).abs() < 1e-6);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(TileCoord::new(25, 0, 0).is_err());
        assert!(TileCoord::new(3, 8, 0).is_err());
        assert!(TileCoord::new(3, 0, 8).is_err());
        assert!(TileCoord::new(3, 7, 7).is_ok());
        assert!(TileCoord::containing(f64::NAN, 0.0, 3).is_err());
    }

    proptest! {
        #[test]
        fn lonlat_tile_round_trip(lon in -180.0f64..180.0, lat in -85.0f64..85.0, z in 0u8..=24) {
            let t = TileCoord::containing(lon, lat, z).unwrap();
            let b = t.bounds();
            prop_assert!(b.west <= lon + 1e-9 && lon <= b.east + 1e-9);
            prop_assert!(b.south <= lat + 1e-9 && lat <= b.north + 1e-9);
            let (px, py) = t.project(lon, lat, 4096);
            prop_assert!((-1e-3..=4096.001).contains(&px) && (-1e-3..=4096.001).contains(&py));
            if let Some(p) = t.parent() {
                prop_assert_eq!(p, TileCoord::containing(lon, lat, z - 1).unwrap());
            }
        }

        #[test]
        fn mercator_round_trip(lon in -180.0f64..180.0, lat in -85.0f64..85.0) {
            let (mx, my) = lonlat_to_mercator(lon, lat);
            let (lon2, lat2) = mercator_to_lonlat(mx, my);
            prop_assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }

        #[test]
        fn bounds_agree(z in 0u8..=20, xf in 0.0f64..1.0, yf in 0.0f64..1.0, buf in 0u32..512) {
            let n = 1u32 << z;
            let t = TileCoord::new(z, ((xf * f64::from(n)) as u32).min(n - 1), ((yf * f64::from(n)) as u32).min(n - 1)).unwrap();
            let b = t.bounds();
            let m = t.mercator_bounds();
            let (w, s) = mercator_to_lonlat(m.min_x, m.min_y);
            prop_assert!((w - b.west).abs() < 1e-7 && (s - b.south).abs() < 1e-7);
            let bb = t.buffered_bounds(buf, 4096);
            prop_assert!(bb.west <= b.west && bb.east >= b.east && bb.south <= b.south && bb.north >= b.north);
        }
    }
}
