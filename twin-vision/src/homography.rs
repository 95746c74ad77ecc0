//! Image ↔ ground georeferencing: a plane homography fitted to control points by the
//! normalised DLT (Hartley), in a local metric frame around the camera, then lon/lat.

use serde::{Deserialize, Serialize};
use thiserror::Error;

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Why a calibration cannot be built or a point cannot be mapped.
#[derive(Debug, Error, PartialEq)]
pub enum GeoError {
    #[error("a homography needs at least 4 control points, got {0}")]
    TooFewPoints(usize),
    #[error("control points {0} and {1} are duplicates")]
    Duplicate(usize, usize),
    #[error("the {0} control points are collinear (or three of four are): the ground plane is undetermined")]
    Collinear(&'static str),
    #[error("control points are degenerate: the linear system is singular")]
    Singular,
    #[error("a coordinate is not finite")]
    NotFinite,
    #[error("the image point is on or above the horizon")]
    AboveHorizon,
}

/// 3×3 projective transform, row-major, `h[8]` normalised to 1 where possible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// Applies the transform; `None` when the point maps to infinity.
    pub fn apply(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        if w.abs() < 1e-12 {
            return None;
        }
        Some(((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w))
    }

    /// The projective denominator at an image point; its sign tells which side of the horizon.
    pub fn denominator(&self, x: f64, y: f64) -> f64 {
        self.0[6] * x + self.0[7] * y + self.0[8]
    }

    /// Fits `src → dst` by least squares on the normalised DLT with `h33 = 1`.
    pub fn fit(src: &[(f64, f64)], dst: &[(f64, f64)]) -> Result<Self, GeoError> {
        let n = src.len().min(dst.len());
        check_points(&src[..n], "image")?;
        check_points(&dst[..n], "map")?;
        let (ts, ns) = normalise(&src[..n]);
        let (td, nd) = normalise(&dst[..n]);
        // Normal equations AᵀA h = Aᵀb on the 8 unknowns.
        let mut ata = [[0.0f64; 8]; 8];
        let mut atb = [0.0f64; 8];
        for (&(x, y), &(u, v)) in ns.iter().zip(&nd) {
            let rows =
                [([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u], u), ([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v], v)];
            for (a, b) in rows {
                for i in 0..8 {
                    atb[i] += a[i] * b;
                    for j in 0..8 {
                        ata[i][j] += a[i] * a[j];
                    }
                }
            }
        }
        let h = solve8(ata, atb).ok_or(GeoError::Singular)?;
        let hn = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
        // Undo the normalisations: H = Td⁻¹ · Hn · Ts.
        let full = mul(&mul(&inverse_similarity(&td), &hn), &ts);
        let s = if full[8].abs() > 1e-12 { full[8] } else { 1.0 };
        Ok(Self(full.map(|v| v / s)))
    }
}

fn check_points(p: &[(f64, f64)], which: &'static str) -> Result<(), GeoError> {
    if p.len() < 4 {
        return Err(GeoError::TooFewPoints(p.len()));
    }
    if p.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(GeoError::NotFinite);
    }
    let spread = p.iter().map(|a| dist(*a, p[0])).fold(0.0, f64::max).max(1e-9);
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            if dist(p[i], p[j]) < 1e-6 * spread {
                return Err(GeoError::Duplicate(i, j));
            }
        }
    }
    // Twice the triangle area relative to the spread²: small means the three are on a line.
    let flat = |a: (f64, f64), b: (f64, f64), c: (f64, f64)| {
        ((b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)).abs() < 1e-6 * spread * spread
    };
    let mut any_triangle = false;
    let mut any_flat = false;
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            for k in j + 1..p.len() {
                if flat(p[i], p[j], p[k]) {
                    any_flat = true;
                } else {
                    any_triangle = true;
                }
            }
        }
    }
    // With exactly four points a collinear triple leaves the homography undetermined.
    if !any_triangle || (p.len() == 4 && any_flat) {
        return Err(GeoError::Collinear(which));
    }
    Ok(())
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Hartley normalisation: centroid to the origin, mean distance √2. Returns (T, points).
fn normalise(p: &[(f64, f64)]) -> ([f64; 9], Vec<(f64, f64)>) {
    let n = p.len() as f64;
    let cx = p.iter().map(|a| a.0).sum::<f64>() / n;
    let cy = p.iter().map(|a| a.1).sum::<f64>() / n;
    let mean = p.iter().map(|a| dist(*a, (cx, cy))).sum::<f64>() / n;
    let s = std::f64::consts::SQRT_2 / mean.max(1e-12);
    let t = [s, 0.0, -s * cx, 0.0, s, -s * cy, 0.0, 0.0, 1.0];
    (t, p.iter().map(|a| (s * (a.0 - cx), s * (a.1 - cy))).collect())
}

fn inverse_similarity(t: &[f64; 9]) -> [f64; 9] {
    let s = t[0];
    [1.0 / s, 0.0, -t[2] / s, 0.0, 1.0 / s, -t[5] / s, 0.0, 0.0, 1.0]
}

fn mul(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut r = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            r[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    r
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    for col in 0..8 {
        let piv = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-10 * scale {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..8 {
            let f = a[r][col] / a[col][col];
            let pivot_row = a[col];
            for (dst, src) in a[r][col..].iter_mut().zip(&pivot_row[col..]) {
                *dst -= f * src;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; 8];
    for r in (0..8).rev() {
        let s: f64 = (r + 1..8).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Equirectangular local frame (east, north in metres) around an origin; accurate to
/// centimetres within a few hundred metres, which covers one camera's view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalFrame {
    pub lon0: f64,
    pub lat0: f64,
}

impl LocalFrame {
    pub fn to_local(&self, lon: f64, lat: f64) -> (f64, f64) {
        let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        ((lon - self.lon0) * k * self.lat0.to_radians().cos(), (lat - self.lat0) * k)
    }

    pub fn to_lonlat(&self, e: f64, n: f64) -> (f64, f64) {
        let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        (self.lon0 + e / (k * self.lat0.to_radians().cos()), self.lat0 + n / k)
    }
}

/// One image pixel ↔ map lon/lat pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ControlPoint {
    pub px: f64,
    pub py: f64,
    pub lon: f64,
    pub lat: f64,
}

/// A camera's image → ground mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub frame: LocalFrame,
    /// Image pixels → local metres (east, north).
    pub to_ground: Homography,
}

impl Calibration {
    /// Builds the calibration around the camera position `(lon, lat)`.
    pub fn from_control_points(lon: f64, lat: f64, pts: &[ControlPoint]) -> Result<Self, GeoError> {
        let frame = LocalFrame { lon0: lon, lat0: lat };
        let src: Vec<_> = pts.iter().map(|p| (p.px, p.py)).collect();
        let dst: Vec<_> = pts.iter().map(|p| frame.to_local(p.lon, p.lat)).collect();
        Ok(Self { frame, to_ground: Homography::fit(&src, &dst)? })
    }

    /// Side of the horizon that holds the ground, judged at the bottom-centre of the image.
    pub fn ground_sign(&self, width: f64, height: f64) -> f64 {
        self.to_ground.denominator(width / 2.0, height).signum()
    }

    /// Image pixel → local metres; `AboveHorizon` when the ray does not meet the ground.
    pub fn pixel_to_local(&self, x: f64, y: f64, sign: f64) -> Result<(f64, f64), GeoError> {
        if self.to_ground.denominator(x, y) * sign <= 1e-12 {
            return Err(GeoError::AboveHorizon);
        }
        self.to_ground.apply(x, y).ok_or(GeoError::AboveHorizon)
    }

    /// Ground point of a box (bottom-centre) as lon/lat.
    pub fn box_to_lonlat(&self, bbox: &[f32; 4], sign: f64) -> Result<(f64, f64), GeoError> {
        let x = (bbox[0] as f64 + bbox[2] as f64) / 2.0;
        let (e, n) = self.pixel_to_local(x, bbox[3] as f64, sign)?;
        Ok(self.frame.to_lonlat(e, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_homography() {
        let h = Homography([1.2, 0.1, 5.0, -0.2, 0.9, 3.0, 0.001, 0.002, 1.0]);
        let src: Vec<_> = [(0.0, 0.0), (100.0, 0.0), (100.0, 80.0), (0.0, 80.0), (50.0, 30.0)].to_vec();
        let dst: Vec<_> = src.iter().map(|&(x, y)| h.apply(x, y).unwrap()).collect();
        let fit = Homography::fit(&src, &dst).unwrap();
        for (a, b) in fit.0.iter().zip(h.0) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn degenerate_sets_are_rejected() {
        let sq = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        assert_eq!(Homography::fit(&sq[..3], &sq[..3]), Err(GeoError::TooFewPoints(3)));
        let dup = [(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (0.0, 1.0)];
        assert_eq!(Homography::fit(&dup, &sq), Err(GeoError::Duplicate(1, 2)));
        let line = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 4.0)];
        let five = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.2)];
        assert_eq!(Homography::fit(&line, &five), Err(GeoError::Collinear("image")));
        let three_on_line = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 1.0)];
        assert_eq!(Homography::fit(&sq, &three_on_line), Err(GeoError::Collinear("map")));
        let nan = [(f64::NAN, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        assert_eq!(Homography::fit(&nan, &sq), Err(GeoError::NotFinite));
    }

    #[test]
    fn local_frame_round_trip_and_scale() {
        let f = LocalFrame { lon0: 108.22, lat0: 16.06 };
        let (e, n) = f.to_local(108.221, 16.061);
        // 0.001° of latitude is about 111 m; of longitude, cos(16°) of that.
        assert!((n - 111.19).abs() < 0.1);
        assert!((e - 111.19 * 16.06f64.to_radians().cos()).abs() < 0.1);
        let (lon, lat) = f.to_lonlat(e, n);
        assert!((lon - 108.221).abs() < 1e-12 && (lat - 16.061).abs() < 1e-12);
    }
}
