//! Geometry command streams (MVT 2.1 §4.3): MoveTo/LineTo/ClosePath with zigzag deltas, repeated
//! points dropped, degenerate lines and rings skipped, ring winding fixed.

use super::wire;
use super::TilePoint;

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

fn delta(cursor: &mut TilePoint, p: TilePoint, out: &mut Vec<u32>) {
    out.push(wire::zigzag(i64::from(p.0) - i64::from(cursor.0)) as u32);
    out.push(wire::zigzag(i64::from(p.1) - i64::from(cursor.1)) as u32);
    *cursor = p;
}

pub(crate) fn encode_points(pts: &[TilePoint], out: &mut Vec<u32>) {
    if pts.is_empty() {
        return;
    }
    out.push(command(1, pts.len()));
    let mut cursor = (0, 0);
    for p in pts {
        delta(&mut cursor, *p, out);
    }
}

/// Consecutive duplicates removed (and the closing point of a ring).
fn dedup(points: &[TilePoint], ring: bool) -> Vec<TilePoint> {
    let mut v: Vec<TilePoint> = Vec::with_capacity(points.len());
    for p in points {
        if v.last() != Some(p) {
            v.push(*p);
        }
    }
    if ring {
        while v.len() > 1 && v.first() == v.last() {
            v.pop();
        }
    }
    v
}

pub(crate) fn encode_lines(lines: &[Vec<TilePoint>], out: &mut Vec<u32>) {
    let mut cursor = (0, 0);
    for line in lines {
        let pts = dedup(line, false);
        if pts.len() < 2 {
            continue;
        }
        out.push(command(1, 1));
        delta(&mut cursor, pts[0], out);
        out.push(command(2, pts.len() - 1));
        for p in &pts[1..] {
            delta(&mut cursor, *p, out);
        }
    }
}

/// Twice the signed area in screen coordinates (y down): positive means clockwise on screen,
/// which MVT 2.1 requires of exterior rings.
pub fn ring_area2(ring: &[TilePoint]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

pub(crate) fn encode_polygons(polys: &[Vec<Vec<TilePoint>>], out: &mut Vec<u32>) {
    let mut cursor = (0, 0);
    for poly in polys {
        let mut rings = poly.iter();
        let Some(exterior) = rings.next() else { continue };
        // A polygon whose exterior collapsed is dropped with its holes.
        if !encode_ring(exterior, true, &mut cursor, out) {
            continue;
        }
        for hole in rings {
            encode_ring(hole, false, &mut cursor, out);
        }
    }
}

pub(crate) fn encode_ring(ring: &[TilePoint], exterior: bool, cursor: &mut TilePoint, out: &mut Vec<u32>) -> bool {
    let mut pts = dedup(ring, true);
    let area = ring_area2(&pts);
    if pts.len() < 3 || area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        pts.reverse();
    }
    out.push(command(1, 1));
    delta(cursor, pts[0], out);
    out.push(command(2, pts.len() - 1));
    for p in &pts[1..] {
        delta(cursor, *p, out);
    }
    out.push(command(7, 1));
    true
}
