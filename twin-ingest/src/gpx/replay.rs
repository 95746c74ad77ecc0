//! Replaying a recorded track as live observations: moved to a start point, starting at a given
//! time, N times faster than recorded. Pure: it returns the schedule; a driver sleeps between steps.

use twin_core::{EntityKind, Observation, Position, PropertyValue, Timestamp};

use super::{bearing_deg, haversine_m, TrackPoint};

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub kind: EntityKind,
    pub external_id: String,
    pub source: String,
    /// Time of the first observation.
    pub start_time: Timestamp,
    /// Replay speed factor (2.0: twice as fast as recorded). Values ≤ 0 or not finite mean 1.
    pub speedup: f64,
    /// Translate the whole track so its first point lands here (keeps its shape).
    pub start_at: Option<Position>,
    /// Spacing assumed between points that carry no time, in recorded milliseconds.
    pub untimed_interval_ms: i64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            kind: EntityKind::PoliceUnit,
            external_id: "gpx-replay".into(),
            source: "gpx".into(),
            start_time: Timestamp::from_millis(0),
            speedup: 1.0,
            start_at: None,
            untimed_interval_ms: 1000,
        }
    }
}

/// One observation and when to emit it, in milliseconds after the replay started.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStep {
    pub offset_ms: i64,
    pub observation: Observation,
}

/// The schedule of a replay: one step per point, offsets non-decreasing; observation times are
/// `start_time + offset`. Speed and heading come from the previous point (speed scaled by the
/// speed-up, since the replayed vehicle covers the same ground in less time).
pub fn replay(points: &[TrackPoint], opts: &ReplayOptions) -> Vec<ReplayStep> {
    let speedup = if opts.speedup.is_finite() && opts.speedup > 0.0 { opts.speedup } else { 1.0 };
    let (dlon, dlat) = match (opts.start_at, points.first()) {
        (Some(to), Some(p0)) => (to.lon - p0.lon, to.lat - p0.lat),
        _ => (0.0, 0.0),
    };
    let mut steps = Vec::with_capacity(points.len());
    let mut recorded_ms: i64 = 0;
    let mut prev: Option<(&TrackPoint, i64)> = None;
    let mut last_time: Option<Timestamp> = None;
    for p in points {
        if let Some((q, _)) = prev {
            let step = match (q.time, p.time, last_time) {
                (_, Some(t), Some(lt)) => (t.as_millis() - lt.as_millis()).max(0),
                _ => opts.untimed_interval_ms.max(0),
            };
            recorded_ms = recorded_ms.saturating_add(step);
        }
        if p.time.is_some() {
            last_time = p.time;
        }
        let offset_ms = (recorded_ms as f64 / speedup).round() as i64;
        let moved = Position::new(p.lon + dlon, p.lat + dlat);
        let mut obs = Observation::new(opts.kind, opts.external_id.clone(), opts.start_time.plus_millis(offset_ms));
        obs.source = opts.source.clone();
        obs.position = moved.is_valid().then_some(moved);
        if let Some((q, q_offset)) = prev {
            let dt_s = (offset_ms - q_offset) as f64 / 1000.0;
            let d = haversine_m(q, p);
            if dt_s > 0.0 {
                obs.speed = Some(d / dt_s);
            }
            if d > 0.0 {
                obs.heading = Some(bearing_deg(q, p));
            }
        }
        if let Some(e) = p.ele {
            obs.properties.insert("altitude_m".into(), PropertyValue::Float(e));
        }
        steps.push(ReplayStep { offset_ms, observation: obs });
        prev = Some((p, offset_ms));
    }
    steps
}
