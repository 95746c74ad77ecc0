//! Movement along a polyline: position and heading at a distance travelled, and a small seeded PRNG
//! so every simulated fleet is the same on every run.

use geo::Coord;
use twin_core::geodesy::distance_m;
use twin_core::Position;

/// A polyline with cumulative great-circle distances, traversed by distance.
#[derive(Debug, Clone)]
pub struct Track {
    pts: Vec<Coord<f64>>,
    cum: Vec<f64>,
}

fn pos(c: Coord<f64>) -> Position {
    Position::new(c.x, c.y)
}

impl Track {
    /// `None` for fewer than two points or a zero-length line.
    pub fn new(pts: Vec<Coord<f64>>) -> Option<Self> {
        let mut cum = Vec::with_capacity(pts.len());
        let mut total = 0.0;
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                total += distance_m(pos(pts[i - 1]), pos(*p));
            }
            cum.push(total);
        }
        (pts.len() >= 2 && total > 0.0).then_some(Self { pts, cum })
    }

    /// The track there and back again (a closed loop), for vehicles that shuttle on one line.
    pub fn there_and_back(mut pts: Vec<Coord<f64>>) -> Option<Self> {
        let back: Vec<_> = pts.iter().rev().skip(1).copied().collect();
        pts.extend(back);
        Self::new(pts)
    }

    pub fn length_m(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    pub fn points(&self) -> &[Coord<f64>] {
        &self.pts
    }

    /// Position and heading (degrees true, `[0, 360)`) after travelling `s` metres, clamped to the ends.
    pub fn at(&self, s: f64) -> (Position, f64) {
        let s = s.clamp(0.0, self.length_m());
        // First segment whose end is at or beyond s (skipping zero-length segments).
        let i = self.cum.partition_point(|c| *c < s).clamp(1, self.pts.len() - 1);
        let (a, b) = (self.pts[i - 1], self.pts[i]);
        let seg = self.cum[i] - self.cum[i - 1];
        let f = if seg > 0.0 { (s - self.cum[i - 1]) / seg } else { 0.0 };
        let p = Position::new(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f);
        (p, bearing_deg(pos(a), pos(b)))
    }

    /// Like [`Track::at`] but wrapping around: the track is a loop.
    pub fn at_looped(&self, s: f64) -> (Position, f64) {
        self.at(s.rem_euclid(self.length_m()))
    }
}

/// Initial great-circle bearing from `a` to `b`, degrees true in `[0, 360)`.
pub fn bearing_deg(a: Position, b: Position) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlon = (b.lon - a.lon).to_radians();
    let y = dlon.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlon.cos();
    let deg = y.atan2(x).to_degrees().rem_euclid(360.0);
    // rem_euclid can return 360.0 for tiny negative inputs.
    if deg >= 360.0 {
        0.0
    } else {
        deg
    }
}

/// SplitMix64: tiny, seedable and stable across dependency upgrades (the fleets must not change).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn interpolates_and_heads_along_segments() {
        let t =
            Track::new(vec![Coord { x: 108.0, y: 16.0 }, Coord { x: 108.0, y: 16.01 }, Coord { x: 108.01, y: 16.01 }])
                .unwrap();
        let north = t.cum[1];
        let (p, h) = t.at(north / 2.0);
        assert!((p.lat - 16.005).abs() < 1e-9 && p.lon == 108.0);
        assert!(h.abs() < 1e-9, "heading north, got {h}");
        let (_, h) = t.at(north + 1.0);
        assert!((h - 90.0).abs() < 0.01, "heading east, got {h}");
        let (end, _) = t.at(1e9);
        assert_eq!((end.lon, end.lat), (108.01, 16.01));
        let (start, _) = t.at_looped(t.length_m());
        assert_eq!((start.lon, start.lat), (108.0, 16.0));
    }

    #[test]
    fn there_and_back_returns_to_the_start() {
        let t = Track::there_and_back(vec![Coord { x: 0.0, y: 0.0 }, Coord { x: 0.001, y: 0.0 }]).unwrap();
        assert!((t.length_m() - 2.0 * 111.195).abs() < 0.5);
        let (p, h) = t.at(t.length_m() * 0.75);
        assert!((p.lon - 0.0005).abs() < 1e-9);
        assert!((h - 270.0).abs() < 1e-6);
        assert!(Track::new(vec![Coord { x: 1.0, y: 1.0 }, Coord { x: 1.0, y: 1.0 }]).is_none());
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
            assert!(a.below(5) < 5 && b.below(5) < 5);
        }
    }
}
