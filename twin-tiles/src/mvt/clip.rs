//! Clipping in tile units against the buffered tile square: Liang–Barsky for lines (a line may
//! leave and re-enter, giving several pieces), Sutherland–Hodgman for polygon rings.

/// An axis-aligned square `[min, max]²` in tile units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipRect {
    pub min: f64,
    pub max: f64,
}

impl ClipRect {
    /// The tile `[0, extent]²` grown by `buffer` units on each side.
    pub fn buffered(extent: u32, buffer: u32) -> Self {
        Self { min: -f64::from(buffer), max: f64::from(extent) + f64::from(buffer) }
    }

    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.min && p.0 <= self.max && p.1 >= self.min && p.1 <= self.max
    }
}

/// Clips one segment; `None` when it lies outside.
fn clip_segment(r: &ClipRect, a: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [(-dx, a.0 - r.min), (dx, r.max - a.0), (-dy, a.1 - r.min), (dy, r.max - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some(((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy)))
}

/// The visible pieces of a polyline.
pub fn clip_line(r: &ClipRect, line: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(r, w[0], w[1]) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() >= 2 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
                // The segment was cut at its end: the line leaves here.
                if q != w[1] {
                    if current.len() >= 2 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                }
            }
            None => {
                if current.len() >= 2 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// A ring clipped to the rectangle (may come back empty or degenerate; the encoder drops those).
pub fn clip_ring(r: &ClipRect, ring: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if ring.iter().all(|p| r.contains(*p)) {
        return ring.to_vec();
    }
    let mut pts = ring.to_vec();
    // Edges: x ≥ min, x ≤ max, y ≥ min, y ≤ max.
    for edge in 0..4 {
        if pts.is_empty() {
            break;
        }
        let inside = |p: (f64, f64)| match edge {
            0 => p.0 >= r.min,
            1 => p.0 <= r.max,
            2 => p.1 >= r.min,
            _ => p.1 <= r.max,
        };
        let cross = |a: (f64, f64), b: (f64, f64)| {
            let (t, fixed) = match edge {
                0 => ((r.min - a.0) / (b.0 - a.0), r.min),
                1 => ((r.max - a.0) / (b.0 - a.0), r.max),
                2 => ((r.min - a.1) / (b.1 - a.1), r.min),
                _ => ((r.max - a.1) / (b.1 - a.1), r.max),
            };
            if edge < 2 {
                (fixed, a.1 + t * (b.1 - a.1))
            } else {
                (a.0 + t * (b.0 - a.0), fixed)
            }
        };
        let input = std::mem::take(&mut pts);
        let n = input.len();
        for i in 0..n {
            let cur = input[i];
            let prev = input[(i + n - 1) % n];
            match (inside(prev), inside(cur)) {
                (true, true) => pts.push(cur),
                (true, false) => pts.push(cross(prev, cur)),
                (false, true) => {
                    pts.push(cross(prev, cur));
                    pts.push(cur);
                }
                (false, false) => {}
            }
        }
    }
    pts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_at_the_edges() {
        let r = ClipRect { min: 0.0, max: 10.0 };
        let pieces = clip_line(&r, &[(-5.0, 5.0), (5.0, 5.0), (5.0, 20.0), (8.0, 20.0), (8.0, 5.0)]);
        assert_eq!(pieces, vec![vec![(0.0, 5.0), (5.0, 5.0), (5.0, 10.0)], vec![(8.0, 10.0), (8.0, 5.0)]]);
        assert!(clip_line(&r, &[(20.0, 20.0), (30.0, 30.0)]).is_empty());
    }

    #[test]
    fn rings_are_cut_to_the_square() {
        let r = ClipRect { min: 0.0, max: 10.0 };
        let clipped = clip_ring(&r, &[(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)]);
        let area: f64 = (0..clipped.len())
            .map(|i| {
                let (a, b) = (clipped[i], clipped[(i + 1) % clipped.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            / 2.0;
        assert!((area.abs() - 25.0).abs() < 1e-9, "area {area}");
        assert!(clipped.iter().all(|p| r.contains(*p)));
    }
}
