//! Traffic measures from tracks: directed counting lines, zone occupancy, per-minute counts,
//! mean speed from georeferenced positions, level of service, and alert conditions.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// COCO class indices the default model uses.
pub const PERSON: u32 = 0;
const VEHICLES: [u32; 5] = [1, 2, 3, 5, 7]; // bicycle, car, motorcycle, bus, truck

pub fn is_vehicle(class: u32) -> bool {
    VEHICLES.contains(&class)
}

/// Signed side of `p` relative to the directed line `a → b` (image coordinates).
fn side(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0)
}

fn segments_cross(a: (f64, f64), b: (f64, f64), p: (f64, f64), q: (f64, f64)) -> bool {
    let (d1, d2) = (side(a, b, p), side(a, b, q));
    let (d3, d4) = (side(p, q, a), side(p, q, b));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// A directed counting line as configured (`[[cameras.lines]]`), in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineConfig {
    pub id: String,
    pub from: (f64, f64),
    pub to: (f64, f64),
}

/// A directed counting line: a track counts once when its ground point moves from the
/// negative to the positive side of `a → b`, crossing the segment itself. In image
/// coordinates (y down) the positive side of a left-to-right line is below it.
#[derive(Debug, Clone)]
pub struct LineCounter {
    pub a: (f64, f64),
    pub b: (f64, f64),
    last: HashMap<u64, (f64, f64)>,
    counted: HashSet<u64>,
    /// (minute since epoch, class) → count.
    counts: BTreeMap<(i64, u32), u32>,
}

impl LineCounter {
    pub fn new(a: (f64, f64), b: (f64, f64)) -> Self {
        Self { a, b, last: HashMap::new(), counted: HashSet::new(), counts: BTreeMap::new() }
    }

    /// Feeds a track's ground point at `t_ms`; returns true when this observation counted it.
    pub fn observe(&mut self, track: u64, class: u32, p: (f64, f64), t_ms: i64) -> bool {
        let prev = self.last.insert(track, p);
        let Some(prev) = prev else { return false };
        let forward = side(self.a, self.b, prev) < 0.0 && side(self.a, self.b, p) > 0.0;
        if forward && segments_cross(self.a, self.b, prev, p) && self.counted.insert(track) {
            *self.counts.entry((t_ms.div_euclid(60_000), class)).or_insert(0) += 1;
            return true;
        }
        false
    }

    /// Counts per (minute, class).
    pub fn counts(&self) -> &BTreeMap<(i64, u32), u32> {
        &self.counts
    }

    /// Forgets tracks that are gone so memory stays bounded.
    pub fn forget(&mut self, track: u64) {
        self.last.remove(&track);
        self.counted.remove(&track);
    }
}

/// What a zone is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    Occupancy,
    NoStopping,
    Restricted,
}

/// A polygon zone in image pixels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    pub kind: ZoneKind,
    pub polygon: Vec<(f64, f64)>,
}

impl Zone {
    pub fn contains(&self, p: (f64, f64)) -> bool {
        let poly = &self.polygon;
        let mut inside = false;
        let mut j = poly.len().wrapping_sub(1);
        for i in 0..poly.len() {
            let ((xi, yi), (xj, yj)) = (poly[i], poly[j]);
            if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
}

/// One track's state in a frame, as the measures need it.
#[derive(Debug, Clone, Copy)]
pub struct TrackPoint {
    pub track: u64,
    pub class: u32,
    /// Ground point in image pixels (bottom-centre of the box).
    pub pixel: (f64, f64),
    /// Ground speed in m/s when known (from georeferenced positions).
    pub speed: Option<f64>,
    /// Seconds the track has been nearly still (speed below 0.5 m/s).
    pub still_s: f64,
}

/// Occupancy of a zone per class.
pub fn occupancy(zone: &Zone, points: &[TrackPoint]) -> BTreeMap<u32, u32> {
    let mut out = BTreeMap::new();
    for p in points.iter().filter(|p| zone.contains(p.pixel)) {
        *out.entry(p.class).or_insert(0) += 1;
    }
    out
}

/// Speed of a track from its georeferenced history.
#[derive(Debug, Clone, Default)]
pub struct SpeedEstimator {
    history: HashMap<u64, Vec<(i64, f64, f64)>>,
}

/// History kept per track for the speed estimate.
const SPEED_WINDOW_MS: i64 = 2_000;

impl SpeedEstimator {
    /// Adds a position (local metres) and returns the speed over the last window in m/s.
    pub fn observe(&mut self, track: u64, t_ms: i64, e: f64, n: f64) -> Option<f64> {
        let h = self.history.entry(track).or_default();
        h.push((t_ms, e, n));
        h.retain(|&(t, _, _)| t_ms - t <= SPEED_WINDOW_MS);
        let (t0, e0, n0) = *h.first()?;
        let dt = (t_ms - t0) as f64 / 1000.0;
        // Below a quarter second the box jitter dominates.
        (dt >= 0.25).then(|| (e - e0).hypot(n - n0) / dt)
    }

    pub fn forget(&mut self, track: u64) {
        self.history.remove(&track);
    }
}

/// Mean of the known speeds of vehicle tracks.
pub fn mean_vehicle_speed(points: &[TrackPoint]) -> Option<f64> {
    let v: Vec<f64> = points.iter().filter(|p| is_vehicle(p.class)).filter_map(|p| p.speed).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Level of service A–F from the ratio of mean speed to free-flow speed (HCM urban-street
/// thresholds: >85 %, >67 %, >50 %, >40 %, >30 %).
pub fn level_of_service(mean_speed: f64, free_flow: f64) -> char {
    let r = if free_flow > 0.0 { mean_speed / free_flow } else { 0.0 };
    match r {
        r if r > 0.85 => 'A',
        r if r > 0.67 => 'B',
        r if r > 0.50 => 'C',
        r if r > 0.40 => 'D',
        r if r > 0.30 => 'E',
        _ => 'F',
    }
}

/// Congestion index in 0..1: 0 free flow, 1 standstill.
pub fn congestion_index(mean_speed: f64, free_flow: f64) -> f64 {
    if free_flow <= 0.0 {
        return 0.0;
    }
    (1.0 - mean_speed / free_flow).clamp(0.0, 1.0)
}

/// Alert thresholds.
#[derive(Debug, Clone, Copy)]
pub struct AlertRules {
    /// Vehicles in an occupancy zone at or above which slow traffic is a queue.
    pub jam_vehicles: u32,
    /// Mean speed (m/s) under which a full zone is a queue.
    pub jam_speed: f64,
    /// Seconds still in a no-stopping zone before an alert.
    pub stop_dwell_s: f64,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self { jam_vehicles: 8, jam_speed: 2.0, stop_dwell_s: 30.0 }
    }
}

/// Alert raised by a camera's measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    Queue { zone: String, vehicles: u32, mean_speed: f64 },
    StoppedVehicle { zone: String, track: u64, still_s: f64 },
    PersonInRestrictedZone { zone: String, track: u64 },
}

/// Evaluates the alert conditions on one frame's tracks.
pub fn alerts(zones: &[Zone], points: &[TrackPoint], rules: &AlertRules) -> Vec<Alert> {
    let mut out = Vec::new();
    for z in zones {
        let inside: Vec<&TrackPoint> = points.iter().filter(|p| z.contains(p.pixel)).collect();
        match z.kind {
            ZoneKind::Occupancy => {
                let vehicles: Vec<TrackPoint> = inside.iter().filter(|p| is_vehicle(p.class)).map(|p| **p).collect();
                let n = vehicles.len() as u32;
                if let Some(v) = mean_vehicle_speed(&vehicles) {
                    if n >= rules.jam_vehicles && v < rules.jam_speed {
                        out.push(Alert::Queue { zone: z.id.clone(), vehicles: n, mean_speed: v });
                    }
                }
            }
            ZoneKind::NoStopping => {
                for p in inside.iter().filter(|p| is_vehicle(p.class)) {
                    if p.still_s >= rules.stop_dwell_s {
                        out.push(Alert::StoppedVehicle { zone: z.id.clone(), track: p.track, still_s: p.still_s });
                    }
                }
            }
            ZoneKind::Restricted => {
                for p in inside.iter().filter(|p| p.class == PERSON) {
                    out.push(Alert::PersonInRestrictedZone { zone: z.id.clone(), track: p.track });
                }
            }
        }
    }
    out
}
