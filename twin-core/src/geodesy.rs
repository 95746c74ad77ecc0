//! Distances on the Earth. All "metres" in the model are great-circle metres on the mean sphere.

use std::f64::consts::{FRAC_PI_2, PI};

use crate::Position;

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle (haversine) distance in metres.
pub fn distance_m(a: Position, b: Position) -> f64 {
    DistanceFrom::new(a).to(b)
}

/// Distances from one fixed point: the point's trigonometry is computed once. Gives exactly the
/// same values as [`distance_m`] (same operations in the same order).
#[derive(Debug, Clone, Copy)]
pub struct DistanceFrom {
    lon: f64,
    lat_rad: f64,
    cos_lat: f64,
}

impl DistanceFrom {
    pub fn new(from: Position) -> Self {
        let lat_rad = from.lat.to_radians();
        Self { lon: from.lon, lat_rad, cos_lat: lat_rad.cos() }
    }

    pub fn to(&self, b: Position) -> f64 {
        let la2 = b.lat.to_radians();
        let dlat = la2 - self.lat_rad;
        let dlon = (b.lon - self.lon).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + self.cos_lat * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

/// A lon/lat rectangle in degrees, edges inclusive: `min = [lon, lat]`, `max = [lon, lat]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLatRect {
    pub min: [f64; 2],
    pub max: [f64; 2],
}

impl LonLatRect {
    pub fn contains(&self, p: Position) -> bool {
        p.lon >= self.min[0] && p.lon <= self.max[0] && p.lat >= self.min[1] && p.lat <= self.max[1]
    }
}

/// Rectangles (one, or two when split at the antimeridian) that together contain every point within
/// `radius_m` great-circle metres of `center`. Conservative: callers filter by [`distance_m`].
///
/// A spherical cap of angular radius δ around latitude φ spans φ ± δ in latitude and, when it does not
/// contain a pole, λ ± asin(sin δ / cos φ) in longitude. Caps that reach a pole span every longitude.
/// A small angular margin absorbs rounding in the haversine so boundary points are never missed.
pub fn cap_envelopes(center: Position, radius_m: f64) -> ([LonLatRect; 2], usize) {
    const WORLD: LonLatRect = LonLatRect { min: [-180.0, -90.0], max: [180.0, 90.0] };
    let unused = WORLD;
    if radius_m.is_nan() || radius_m < 0.0 {
        return ([unused, unused], 0);
    }
    // About 0.6 m of slack plus a relative part: far below any useful radius, far above rounding.
    let delta = (radius_m / EARTH_RADIUS_M) * (1.0 + 1e-9) + 1e-7;
    if delta >= PI {
        return ([WORLD, unused], 1);
    }
    let phi = center.lat.to_radians();
    let min_lat = (center.lat - delta.to_degrees()).max(-90.0);
    let max_lat = (center.lat + delta.to_degrees()).min(90.0);
    let reaches_pole = phi.abs() + delta >= FRAC_PI_2;
    let s = if reaches_pole { 1.0 } else { delta.sin() / phi.cos() };
    if s >= 1.0 {
        return ([LonLatRect { min: [-180.0, min_lat], max: [180.0, max_lat] }, unused], 1);
    }
    let dlon = s.asin().to_degrees() * (1.0 + 1e-9) + 1e-9;
    let (west, east) = (center.lon - dlon, center.lon + dlon);
    if west < -180.0 {
        (
            [
                LonLatRect { min: [-180.0, min_lat], max: [east, max_lat] },
                LonLatRect { min: [west + 360.0, min_lat], max: [180.0, max_lat] },
            ],
            2,
        )
    } else if east > 180.0 {
        (
            [
                LonLatRect { min: [west, min_lat], max: [180.0, max_lat] },
                LonLatRect { min: [-180.0, min_lat], max: [east - 360.0, max_lat] },
            ],
            2,
        )
    } else {
        ([LonLatRect { min: [west, min_lat], max: [east, max_lat] }, unused], 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(center: Position, r: f64, p: Position) -> bool {
        let (rects, n) = cap_envelopes(center, r);
        rects[..n].iter().any(|b| b.contains(p))
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = distance_m(Position::new(108.2, 16.0), Position::new(108.2, 17.0));
        assert!((d - 111_195.0).abs() < 1.0, "{d}");
    }

    #[test]
    fn antimeridian_is_split_and_covers_both_sides() {
        let c = Position::new(179.999, 10.0);
        let p = Position::new(-179.999, 10.0);
        let d = distance_m(c, p);
        assert!(d < 300.0);
        assert_eq!(cap_envelopes(c, d).1, 2);
        assert!(covered(c, d, p));
    }

    #[test]
    fn caps_over_a_pole_span_all_longitudes() {
        let c = Position::new(0.0, 89.9);
        let p = Position::new(180.0, 89.9);
        let d = distance_m(c, p);
        assert!(covered(c, d, p));
    }

    #[test]
    fn negative_radius_covers_nothing() {
        assert_eq!(cap_envelopes(Position::new(0.0, 0.0), -1.0).1, 0);
        assert_eq!(cap_envelopes(Position::new(0.0, 0.0), f64::NAN).1, 0);
    }

    #[test]
    fn points_on_a_circle_are_covered() {
        // Sample the boundary of caps at several latitudes: every point at distance r lies inside.
        for &lat in &[0.0, 16.0, 60.0, 85.0, -89.0] {
            let c = Position::new(108.2, lat);
            for &r in &[10.0, 500.0, 50_000.0, 900_000.0] {
                for i in 0..360 {
                    let bearing = f64::from(i).to_radians();
                    let p = destination(c, bearing, r);
                    assert!(covered(c, distance_m(c, p), p), "lat {lat} r {r} bearing {i}: {p:?}");
                }
            }
        }
    }

    // Direct geodesic problem on the sphere, written independently of the envelope formula.
    fn destination(c: Position, bearing: f64, r: f64) -> Position {
        let d = r / EARTH_RADIUS_M;
        let (p1, l1) = (c.lat.to_radians(), c.lon.to_radians());
        let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * bearing.cos()).asin();
        let l2 = l1 + (bearing.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
        let lon = (l2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
        Position::new(lon, p2.to_degrees())
    }
}
