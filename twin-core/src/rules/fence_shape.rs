//! A geofence polygon prepared for fast point classification with a metric hysteresis band.
//!
//! Distances to the boundary are measured in a local equirectangular projection centred on the
//! query point: `x = Δlon · cos(lat₀) · R`, `y = Δlat · R` (radians, mean Earth radius). Over a few
//! kilometres this is within a fraction of a percent of the great-circle distance, which is plenty
//! for a hysteresis band of metres to tens of metres. Because the projection is a linear map of
//! lon/lat, containment computed on raw lon/lat (planar, as geo does) stays consistent with it.
//! Fences crossing the antimeridian are not supported.

use geo::{BoundingRect, MultiPolygon};
use rstar::primitives::Line;
use rstar::{RTree, AABB};

use crate::geodesy::EARTH_RADIUS_M;
use crate::Position;

/// Metres per degree of latitude (and of longitude at the equator) on the mean sphere.
pub(crate) const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Rings with more segments than this get a segment R-tree; short ones are scanned linearly.
const INDEX_MIN_SEGMENTS: usize = 32;

/// Slack added to search windows (degrees) so rounding never drops a segment at the window edge.
const EPS_DEG: f64 = 1e-9;

/// Where a point lies relative to a fence with a hysteresis band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Inside the area and at least the band width from its boundary.
    Inside,
    /// Outside the area and at least the band width from its boundary.
    Outside,
    /// Closer to the boundary than the band width: the previous state stands.
    Band,
}

/// All boundary segments of a multipolygon (every ring of every polygon), with their bounds.
#[derive(Debug, Clone)]
pub(crate) struct FenceShape {
    segments: Vec<Line<[f64; 2]>>,
    tree: Option<RTree<Line<[f64; 2]>>>,
    /// (min lon, min lat, max lon, max lat) of the area.
    bounds: [f64; 4],
}

impl FenceShape {
    /// `area` must be non-empty (validated before).
    pub(crate) fn new(area: &MultiPolygon<f64>) -> Self {
        let mut segments = Vec::new();
        for poly in area {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for seg in ring.lines() {
                    segments.push(Line::new([seg.start.x, seg.start.y], [seg.end.x, seg.end.y]));
                }
            }
        }
        let bounds = area.bounding_rect().map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        let tree = (segments.len() > INDEX_MIN_SEGMENTS).then(|| RTree::bulk_load(segments.clone()));
        Self { segments, tree, bounds }
    }

    /// The area's bounds grown by `margin_m` metres on every side, as an envelope that contains every
    /// point closer than `margin_m` to the area (so anything outside it is plainly [`Side::Outside`]).
    pub(crate) fn search_envelope(&self, margin_m: f64) -> AABB<[f64; 2]> {
        let [x0, y0, x1, y1] = self.bounds;
        let dlat = margin_m / M_PER_DEG + EPS_DEG;
        let (lo, hi) = ((y0 - dlat).max(-90.0), (y1 + dlat).min(90.0));
        // Longitude degrees are shortest where |lat| is largest, so size the margin there.
        let cos = lo.abs().max(hi.abs()).to_radians().cos();
        let dlon = if cos > 1e-9 { margin_m / (M_PER_DEG * cos) + EPS_DEG } else { 360.0 };
        AABB::from_corners([x0 - dlon, lo], [x1 + dlon, hi])
    }

    /// Classifies `p` against the area with a band of `band_m` metres either side of the boundary.
    /// With a zero band a point exactly on the boundary counts as inside.
    pub(crate) fn classify(&self, p: Position, band_m: f64) -> Side {
        let [x0, y0, x1, y1] = self.bounds;
        let outside_bounds = p.lon < x0 || p.lon > x1 || p.lat < y0 || p.lat > y1;
        let near = self.near_boundary(p, band_m);
        if band_m > 0.0 && near {
            Side::Band
        } else if near || (!outside_bounds && self.crossings_odd(p)) {
            // `near` with a zero band means "on the boundary".
            Side::Inside
        } else {
            Side::Outside
        }
    }

    /// True when some boundary segment is closer than `band_m` metres (or touches `p` when the
    /// band is zero).
    fn near_boundary(&self, p: Position, band_m: f64) -> bool {
        let kx = M_PER_DEG * p.lat.to_radians().cos();
        let limit_sq = band_m * band_m;
        let hit = |seg: &Line<[f64; 2]>| {
            let d = seg_dist_sq(p, kx, seg);
            if band_m > 0.0 {
                d < limit_sq
            } else {
                d == 0.0
            }
        };
        match &self.tree {
            None => self.segments.iter().any(hit),
            Some(tree) => {
                let dlat = band_m / M_PER_DEG + EPS_DEG;
                let dlon = if kx > 1e-6 { band_m / kx + EPS_DEG } else { 360.0 };
                let window = AABB::from_corners([p.lon - dlon, p.lat - dlat], [p.lon + dlon, p.lat + dlat]);
                tree.locate_in_envelope_intersecting(&window).any(hit)
            }
        }
    }

    /// Even-odd ray casting toward +lon over all rings (holes and several polygons included).
    fn crossings_odd(&self, p: Position) -> bool {
        let crosses = |seg: &&Line<[f64; 2]>| {
            let ([ax, ay], [bx, by]) = (seg.from, seg.to);
            (ay > p.lat) != (by > p.lat) && p.lon < ax + (p.lat - ay) * (bx - ax) / (by - ay)
        };
        let count = match &self.tree {
            None => self.segments.iter().filter(crosses).count(),
            Some(tree) => {
                // Only segments spanning the ray's latitude to the east of p can cross it.
                let ray = AABB::from_corners([p.lon, p.lat], [self.bounds[2] + 1.0, p.lat]);
                tree.locate_in_envelope_intersecting(&ray).filter(crosses).count()
            }
        };
        count % 2 == 1
    }
}

/// Squared distance in metres from `p` to a segment, in the equirectangular projection around `p`
/// (`kx` = metres per degree of longitude at `p`).
fn seg_dist_sq(p: Position, kx: f64, seg: &Line<[f64; 2]>) -> f64 {
    let (ax, ay) = ((seg.from[0] - p.lon) * kx, (seg.from[1] - p.lat) * M_PER_DEG);
    let (bx, by) = ((seg.to[0] - p.lon) * kx, (seg.to[1] - p.lat) * M_PER_DEG);
    let (dx, dy) = (bx - ax, by - ay);
    let len_sq = dx * dx + dy * dy;
    // Parameter of the origin's projection onto the segment, clamped to its ends.
    let t = if len_sq > 0.0 { (-(ax * dx + ay * dy) / len_sq).clamp(0.0, 1.0) } else { 0.0 };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    cx * cx + cy * cy
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains};
    use rstar::Envelope;

    fn square(n_per_side: usize) -> MultiPolygon<f64> {
        // A 0.01° square around Da Nang, with extra vertices so the indexed path is exercised.
        let (x0, y0, s) = (108.20, 16.05, 0.01);
        let mut ring = Vec::new();
        for side in 0..4 {
            for i in 0..n_per_side {
                let t = i as f64 / n_per_side as f64 * s;
                ring.push(match side {
                    0 => (x0 + t, y0),
                    1 => (x0 + s, y0 + t),
                    2 => (x0 + s - t, y0 + s),
                    _ => (x0, y0 + s - t),
                });
            }
        }
        MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])])
    }

    #[test]
    fn indexed_and_linear_paths_agree_with_geo() {
        for n in [1, 50] {
            let area = square(n);
            let shape = FenceShape::new(&area);
            assert_eq!(shape.tree.is_some(), n > 1);
            for i in 0..40 {
                for j in 0..40 {
                    let p = Position::new(108.195 + i as f64 * 0.0005, 16.045 + j as f64 * 0.0005 + 1e-7);
                    let inside = area.contains(&geo::Point::from(p));
                    let expected = if inside { Side::Inside } else { Side::Outside };
                    let near_edge = [108.20, 108.21].iter().any(|x| (p.lon - x).abs() < 1e-6);
                    if !near_edge {
                        assert_eq!(shape.classify(p, 0.0), expected, "n={n} at {p:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn band_measured_in_metres() {
        let shape = FenceShape::new(&square(1));
        let m_per_deg_lon = M_PER_DEG * 16.055f64.to_radians().cos();
        // West edge at lon 108.20; 8 m inside / outside with a 10 m band is in the band, 12 m is not.
        let at = |metres_east: f64| Position::new(108.20 + metres_east / m_per_deg_lon, 16.055);
        assert_eq!(shape.classify(at(8.0), 10.0), Side::Band);
        assert_eq!(shape.classify(at(-8.0), 10.0), Side::Band);
        assert_eq!(shape.classify(at(12.0), 10.0), Side::Inside);
        assert_eq!(shape.classify(at(-12.0), 10.0), Side::Outside);
    }

    #[test]
    fn holes_count_as_outside() {
        let outer = polygon![(x: 0.0, y: 0.0), (x: 0.1, y: 0.0), (x: 0.1, y: 0.1), (x: 0.0, y: 0.1)];
        let hole = polygon![(x: 0.04, y: 0.04), (x: 0.06, y: 0.04), (x: 0.06, y: 0.06), (x: 0.04, y: 0.06)];
        let donut = geo::Polygon::new(outer.exterior().clone(), vec![hole.exterior().clone()]);
        let shape = FenceShape::new(&MultiPolygon::new(vec![donut]));
        assert_eq!(shape.classify(Position::new(0.05, 0.05), 10.0), Side::Outside);
        assert_eq!(shape.classify(Position::new(0.02, 0.05), 10.0), Side::Inside);
    }

    #[test]
    fn envelope_covers_band() {
        let shape = FenceShape::new(&square(1));
        let env = shape.search_envelope(100.0);
        let m_per_deg_lon = M_PER_DEG * 16.06f64.to_radians().cos();
        let just_within = [108.21 + 99.0 / m_per_deg_lon, 16.055];
        let beyond = [108.21 + 101.0 / m_per_deg_lon, 16.055];
        assert!(env.contains_point(&just_within));
        assert!(!env.contains_point(&beyond));
    }
}
