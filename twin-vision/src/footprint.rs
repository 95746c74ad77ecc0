//! Camera view footprint: the image border projected to the ground, clipped below the
//! horizon and at a maximum range, as a lon/lat polygon.

use crate::homography::Calibration;

/// Border samples per image edge: enough to follow lens-free projective curves (which are
/// straight) through the horizon clip with a tight polygon.
const SAMPLES_PER_EDGE: usize = 16;

/// Ground footprint as a closed lon/lat ring (first point repeated last). Empty when no
/// part of the image sees the ground.
pub fn footprint(cal: &Calibration, width: f64, height: f64, max_range_m: f64) -> Vec<(f64, f64)> {
    let sign = cal.ground_sign(width, height);
    let w_ref = cal.to_ground.denominator(width / 2.0, height).abs();
    // Keep a margin under the horizon: points right at it map to infinity.
    let min_w = 1e-3 * w_ref;
    let border = border(width, height);
    let side = |p: (f64, f64)| sign * cal.to_ground.denominator(p.0, p.1) - min_w;
    let clipped = clip(&border, side);
    let mut ring: Vec<(f64, f64)> = clipped
        .iter()
        .filter_map(|&(x, y)| cal.to_ground.apply(x, y))
        .map(|(e, n)| {
            let d = e.hypot(n);
            if d > max_range_m && d > 0.0 {
                (e * max_range_m / d, n * max_range_m / d)
            } else {
                (e, n)
            }
        })
        .map(|(e, n)| cal.frame.to_lonlat(e, n))
        .collect();
    if ring.len() < 3 {
        return Vec::new();
    }
    ring.push(ring[0]);
    ring
}

fn border(width: f64, height: f64) -> Vec<(f64, f64)> {
    let corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)];
    let mut out = Vec::with_capacity(4 * SAMPLES_PER_EDGE);
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        for s in 0..SAMPLES_PER_EDGE {
            let t = s as f64 / SAMPLES_PER_EDGE as f64;
            out.push((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
        }
    }
    out
}

/// Sutherland–Hodgman clip of a polygon to the half-plane `side(p) >= 0` (side is affine).
fn clip(poly: &[(f64, f64)], side: impl Fn((f64, f64)) -> f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(poly.len() + 2);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let (sa, sb) = (side(a), side(b));
        if sa >= 0.0 {
            out.push(a);
        }
        if (sa >= 0.0) != (sb >= 0.0) {
            let t = sa / (sa - sb);
            out.push((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
        }
    }
    out
}

/// Even–odd point-in-polygon test on a lon/lat ring.
pub fn contains(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// The ring as a GeoJSON Polygon geometry (text), for entity properties.
pub fn to_geojson(ring: &[(f64, f64)]) -> String {
    let coords: Vec<String> = ring.iter().map(|(x, y)| format!("[{x:.7},{y:.7}]")).collect();
    format!("{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}", coords.join(","))
}
