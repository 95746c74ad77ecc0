//! GPX 1.0 / 1.1 tracks: parsing ([`parse`]), summaries (point counts, bounds, times, length) and
//! replay of a recorded track as live observations ([`replay`]).
//!
//! ```
//! let xml = br#"<gpx version="1.1" creator="x"><trk><trkseg>
//!   <trkpt lat="16.06" lon="108.22"><time>2024-01-01T00:00:00Z</time></trkpt>
//!   <trkpt lat="16.07" lon="108.22"><time>2024-01-01T00:01:00Z</time></trkpt>
//! </trkseg></trk></gpx>"#;
//! let gpx = twin_ingest::gpx::parse(xml).unwrap();
//! assert_eq!(gpx.point_count(), 2);
//! assert!((gpx.length_2d() - 1112.0).abs() < 2.0);
//! ```

mod error;
mod parse;
mod replay;

pub use error::GpxError;
pub use parse::parse;
pub use replay::{replay, ReplayOptions, ReplayStep};

use twin_core::{BBox, Timestamp};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    pub lat: f64,
    pub lon: f64,
    /// Metres.
    pub ele: Option<f64>,
    pub time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    pub name: Option<String>,
    pub segments: Vec<Vec<TrackPoint>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gpx {
    pub version: Option<String>,
    pub creator: Option<String>,
    pub tracks: Vec<Track>,
    /// `<wpt>` elements (not otherwise read).
    pub waypoints: usize,
    /// `<rte>` elements (not otherwise read).
    pub routes: usize,
}

impl Gpx {
    pub fn segments(&self) -> impl Iterator<Item = &[TrackPoint]> {
        self.tracks.iter().flat_map(|t| t.segments.iter().map(Vec::as_slice))
    }

    pub fn points(&self) -> impl Iterator<Item = &TrackPoint> {
        self.segments().flatten()
    }

    pub fn segment_count(&self) -> usize {
        self.segments().count()
    }

    pub fn point_count(&self) -> usize {
        self.points().count()
    }

    /// Bounds of all track points (`None` without points).
    pub fn bounds(&self) -> Option<BBox> {
        self.points().fold(None, |b, p| {
            Some(match b {
                None => BBox { min_lon: p.lon, min_lat: p.lat, max_lon: p.lon, max_lat: p.lat },
                Some(b) => BBox {
                    min_lon: b.min_lon.min(p.lon),
                    min_lat: b.min_lat.min(p.lat),
                    max_lon: b.max_lon.max(p.lon),
                    max_lat: b.max_lat.max(p.lat),
                },
            })
        })
    }

    /// Time of the first and the last point that have one.
    pub fn time_bounds(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self.points().find_map(|p| p.time)?;
        let last = self.points().filter_map(|p| p.time).last()?;
        Some((first, last))
    }

    /// Sum over segments of last minus first point time, in seconds; `None` when a segment with
    /// points lacks the time of its first or last point.
    pub fn duration_s(&self) -> Option<f64> {
        self.segments().filter(|s| !s.is_empty()).try_fold(0.0, |acc, s| {
            let (a, b) = (s.first()?.time?, s.last()?.time?);
            Some(acc + (b.as_millis() - a.as_millis()) as f64 / 1000.0)
        })
    }

    /// Length along the ground, metres: great-circle distances between consecutive points of each
    /// segment (segments are not joined).
    pub fn length_2d(&self) -> f64 {
        self.segments().map(|s| s.windows(2).map(|w| haversine_m(&w[0], &w[1])).sum::<f64>()).sum()
    }

    /// Length including climbs, metres: each step is `sqrt(ground² + Δele²)` when both points
    /// have an elevation.
    pub fn length_3d(&self) -> f64 {
        self.segments()
            .map(|s| {
                s.windows(2)
                    .map(|w| {
                        let d = haversine_m(&w[0], &w[1]);
                        match (w[0].ele, w[1].ele) {
                            (Some(a), Some(b)) => d.hypot(b - a),
                            _ => d,
                        }
                    })
                    .sum::<f64>()
            })
            .sum()
    }
}

/// Great-circle distance in metres.
pub fn haversine_m(a: &TrackPoint, b: &TrackPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in `[0, 360)`.
pub fn bearing_deg(a: &TrackPoint, b: &TrackPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlon = (b.lon - a.lon).to_radians();
    let y = dlon.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlon.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}
