//! One camera's analysis after the detector: class mapping, tracking, georeferencing, per-track
//! kinematics, counting, level of service and alert conditions, turned into observations for the
//! city model. No I/O and no clock: times are passed in, so it is tested frame by frame.

use std::collections::{BTreeMap, HashMap, VecDeque};

use twin_core::{EntityKind, Observation, Properties, PropertyValue, Timestamp};
use twin_vision::counting::{self, Alert, LineCounter, TrackPoint, ZoneKind};
use twin_vision::decode::nms;
use twin_vision::{Detection, Tracker, TrackerConfig};

use super::config::CameraSpec;

mod alerts;

use alerts::describe;
pub use alerts::{alert_kind, RaisedAlert, ALERT_KINDS};

/// Detections between this score and the camera's threshold only extend existing tracks
/// (ByteTrack's second association stage), so the detector runs at this threshold.
pub const LOW_SCORE: f32 = 0.1;
/// Camera measures are published at most this often.
const MEASURE_INTERVAL_MS: i64 = 1_000;
/// Position history per track for speed and heading.
const KINEMATICS_WINDOW_MS: i64 = 2_000;
/// Below a quarter second box jitter dominates the speed.
const MIN_SPEED_SPAN_MS: i64 = 250;
/// Slower than this (m/s) a vehicle counts as standing still.
const STILL_SPEED: f64 = 0.5;
/// Overlap above which two boxes of one class after relabelling are the same object.
const RELABEL_NMS_IOU: f32 = 0.5;
/// State of tracks unseen this long is dropped.
const FORGET_MS: i64 = 60_000;

/// One confirmed track in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackOut {
    pub track: u64,
    pub class: u32,
    pub score: f32,
    pub bbox: [f32; 4],
    /// Ground point; `None` when the box's foot is above the horizon.
    pub lonlat: Option<(f64, f64)>,
    pub speed_ms: Option<f64>,
    pub heading: Option<f64>,
}

/// What one frame produced.
#[derive(Debug, Clone, Default)]
pub struct FrameOutput {
    /// Detection entities, plus the camera entity when its measures are due.
    pub observations: Vec<Observation>,
    pub tracks: Vec<TrackOut>,
    pub alerts: Vec<Alert>,
    /// The detections kept after class mapping (for evidence snapshots).
    pub detections: Vec<Detection>,
    /// Flags that rose with this frame's measures (each one is worth an evidence snapshot).
    pub raised: Vec<RaisedAlert>,
}

#[derive(Debug, Default)]
struct TrackState {
    history: VecDeque<(i64, f64, f64)>,
    still_ms: i64,
    last_ms: i64,
    class: u32,
}

/// Analysis state of one camera.
pub struct Pipeline {
    spec: CameraSpec,
    tracker: Tracker,
    tracks: HashMap<u64, TrackState>,
    lines: Vec<(String, LineCounter)>,
    /// Without counting lines: (minute, class) → tracks first confirmed in that minute.
    new_tracks: BTreeMap<(i64, u32), u32>,
    last_measures_ms: Option<i64>,
    /// The alert flags as last published, in the order of [`ALERT_KINDS`].
    flags: [bool; 3],
    frames: u64,
}

impl Pipeline {
    pub fn new(spec: CameraSpec) -> Self {
        let cfg =
            TrackerConfig { high_score: spec.threshold.max(LOW_SCORE), low_score: LOW_SCORE, ..Default::default() };
        let lines = spec.lines.iter().map(|l| (l.id.clone(), LineCounter::new(l.from, l.to))).collect();
        Self {
            tracker: Tracker::new(cfg),
            spec,
            tracks: HashMap::new(),
            lines,
            new_tracks: BTreeMap::new(),
            last_measures_ms: None,
            flags: [false; 3],
            frames: 0,
        }
    }

    pub fn spec(&self) -> &CameraSpec {
        &self.spec
    }

    /// Processes one frame's raw detections. `time` stamps the observations (wall clock);
    /// `media_ms` is the frame's own time (video time for a replay), used for speeds and counts.
    pub fn process(&mut self, raw: &[Detection], time: Timestamp, media_ms: i64) -> FrameOutput {
        self.frames += 1;
        let mapped: Vec<Detection> = raw
            .iter()
            .filter_map(|d| self.spec.map_class(d.class).map(|class| Detection { class, ..d.clone() }))
            .collect();
        // Relabelling can give one object two boxes of the same class (the model often scores a
        // car as both "cell phone" and "parking meter"): suppress again after mapping.
        let dets = if self.spec.relabel.is_empty() { mapped } else { nms(mapped, RELABEL_NMS_IOU) };
        let confirmed = self.tracker.update(&dets);
        let mut out = FrameOutput { detections: dets, ..FrameOutput::default() };
        let mut points = Vec::with_capacity(confirmed.len());
        for t in &confirmed {
            let [x1, _, x2, y2] = t.bbox;
            let foot = ((f64::from(x1) + f64::from(x2)) / 2.0, f64::from(y2));
            let local = self.spec.calibration.pixel_to_local(foot.0, foot.1, self.spec.ground_sign).ok();
            let is_new = !self.tracks.contains_key(&t.id);
            let st = self.tracks.entry(t.id).or_default();
            let dt = if is_new { 0 } else { (media_ms - st.last_ms).max(0) };
            st.last_ms = media_ms;
            st.class = t.class;
            let (speed, heading) = match local {
                Some((e, n)) => kinematics(st, media_ms, e, n),
                None => (None, None),
            };
            if speed.is_some_and(|s| s < STILL_SPEED) {
                st.still_ms += dt;
            } else if speed.is_some() {
                st.still_ms = 0;
            }
            if is_new && self.lines.is_empty() {
                *self.new_tracks.entry((media_ms.div_euclid(60_000), t.class)).or_insert(0) += 1;
            }
            for (_, counter) in &mut self.lines {
                counter.observe(t.id, t.class, foot, media_ms);
            }
            points.push(TrackPoint {
                track: t.id,
                class: t.class,
                pixel: foot,
                speed,
                still_s: st.still_ms as f64 / 1000.0,
            });
            let lonlat = local.map(|(e, n)| self.spec.calibration.frame.to_lonlat(e, n));
            let track = TrackOut {
                track: t.id,
                class: t.class,
                score: t.score,
                bbox: t.bbox,
                lonlat,
                speed_ms: speed,
                heading,
            };
            if let Some(o) = detection_observation(&self.spec, &track, time) {
                out.observations.push(o);
            }
            out.tracks.push(track);
        }
        self.forget_old(media_ms);
        out.alerts = counting::alerts(&self.spec.zones, &points, &self.spec.alert_rules);
        let due = self.last_measures_ms.is_none_or(|last| media_ms - last >= MEASURE_INTERVAL_MS || media_ms < last);
        if due {
            self.last_measures_ms = Some(media_ms);
            out.observations.push(self.measures(&points, &out.alerts, time, media_ms));
            out.raised = self.raised(&out.alerts);
        }
        out
    }

    fn forget_old(&mut self, now_ms: i64) {
        let gone: Vec<u64> = self
            .tracks
            .iter()
            .filter(|(_, s)| now_ms - s.last_ms > FORGET_MS || now_ms < s.last_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.tracks.remove(&id);
            for (_, c) in &mut self.lines {
                c.forget(id);
            }
        }
        let keep_from = now_ms.div_euclid(60_000) - 2;
        self.new_tracks.retain(|(m, _), _| *m >= keep_from);
    }

    /// Counts of `minute` per class: line crossings (all lines) or, without lines, new tracks.
    fn counts_in_minute(&self, minute: i64) -> BTreeMap<u32, u32> {
        let mut out = BTreeMap::new();
        if self.lines.is_empty() {
            for ((m, c), n) in &self.new_tracks {
                if *m == minute {
                    *out.entry(*c).or_insert(0) += n;
                }
            }
        } else {
            for (_, counter) in &self.lines {
                for ((m, c), n) in counter.counts() {
                    if *m == minute {
                        *out.entry(*c).or_insert(0) += n;
                    }
                }
            }
        }
        out
    }

    fn measures(&self, points: &[TrackPoint], alerts: &[Alert], time: Timestamp, media_ms: i64) -> Observation {
        let mut o = camera_observation(&self.spec, time);
        let p = &mut o.properties;
        let vehicles = points.iter().filter(|t| counting::is_vehicle(t.class)).count();
        let persons = points.iter().filter(|t| t.class == counting::PERSON).count();
        p.insert("vehicles_in_view".into(), PropertyValue::Int(vehicles as i64));
        p.insert("persons_in_view".into(), PropertyValue::Int(persons as i64));
        p.insert("frames".into(), PropertyValue::Int(self.frames as i64));
        // The last complete minute, and the one under way.
        let minute = media_ms.div_euclid(60_000);
        let (last, current) = (self.counts_in_minute(minute - 1), self.counts_in_minute(minute));
        for &c in &self.spec.classes {
            let name = class_key(c);
            p.insert(
                format!("count_{name}_per_min"),
                PropertyValue::Int(i64::from(last.get(&c).copied().unwrap_or(0))),
            );
            p.insert(
                format!("count_{name}_this_min"),
                PropertyValue::Int(i64::from(current.get(&c).copied().unwrap_or(0))),
            );
        }
        for (id, counter) in &self.lines {
            let total: u32 = counter.counts().iter().filter(|((m, _), _)| *m == minute - 1).map(|(_, n)| n).sum();
            p.insert(format!("line_{id}_per_min"), PropertyValue::Int(i64::from(total)));
        }
        for z in self.spec.zones.iter().filter(|z| z.kind == ZoneKind::Occupancy) {
            let occ: u32 = counting::occupancy(z, points).values().sum();
            p.insert(format!("occupancy_{}", z.id), PropertyValue::Int(i64::from(occ)));
        }
        // No moving vehicle in view is free flow.
        let mean = counting::mean_vehicle_speed(points);
        let speed = mean.unwrap_or(self.spec.free_flow_ms);
        if let Some(v) = mean {
            p.insert("mean_speed_kmh".into(), PropertyValue::Float(round(v * 3.6, 1)));
        }
        p.insert(
            "los".into(),
            PropertyValue::Text(counting::level_of_service(speed, self.spec.free_flow_ms).to_string()),
        );
        p.insert(
            "congestion_index".into(),
            PropertyValue::Float(round(counting::congestion_index(speed, self.spec.free_flow_ms), 3)),
        );
        for kind in ALERT_KINDS {
            let up = alerts.iter().any(|a| alert_kind(a) == kind);
            p.insert(format!("alert_{kind}"), PropertyValue::Int(i64::from(up)));
        }
        p.insert(
            "alert_detail".into(),
            PropertyValue::Text(alerts.iter().map(describe).collect::<Vec<_>>().join("; ")),
        );
        o
    }
}

/// Speed (m/s) and heading (degrees) over the recent history of a track.
fn kinematics(st: &mut TrackState, t: i64, e: f64, n: f64) -> (Option<f64>, Option<f64>) {
    st.history.push_back((t, e, n));
    while st.history.front().is_some_and(|&(t0, _, _)| t - t0 > KINEMATICS_WINDOW_MS || t0 > t) {
        st.history.pop_front();
    }
    let Some(&(t0, e0, n0)) = st.history.front() else { return (None, None) };
    let span = t - t0;
    if span < MIN_SPEED_SPAN_MS {
        return (None, None);
    }
    let (de, dn) = (e - e0, n - n0);
    let speed = de.hypot(dn) / (span as f64 / 1000.0);
    // A heading from a displacement under half a metre is noise.
    let heading = (de.hypot(dn) >= 0.5).then(|| (de.atan2(dn).to_degrees() + 360.0) % 360.0);
    (Some(speed), heading)
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

/// Property-key form of a class name ("traffic light" → "traffic_light").
fn class_key(class: u32) -> String {
    super::detector::class_name(class).replace(' ', "_")
}

/// Feed name of a camera's observations.
pub fn source_name(spec: &CameraSpec) -> String {
    format!("camera:{}", spec.id)
}

fn label(spec: &CameraSpec, p: &mut Properties) {
    if spec.replay {
        p.insert("replay".into(), PropertyValue::Bool(true));
        p.insert("replay_of".into(), PropertyValue::Text(spec.source_label.clone()));
    }
}

/// The camera entity as registered at start: position, heading and footprint, no measures yet.
pub fn camera_observation(spec: &CameraSpec, time: Timestamp) -> Observation {
    let mut o = Observation::new(EntityKind::Camera, spec.id.clone(), time).at(spec.lon, spec.lat);
    o.source = source_name(spec);
    o.heading = Some(spec.heading);
    let p = &mut o.properties;
    p.insert("name".into(), PropertyValue::Text(spec.name.clone()));
    p.insert("footprint".into(), PropertyValue::Text(spec.footprint_geojson.clone()));
    p.insert("source_kind".into(), PropertyValue::Text(spec.source.kind().into()));
    p.insert("sample_fps".into(), PropertyValue::Float(spec.sample_fps));
    label(spec, p);
    o
}

fn detection_observation(spec: &CameraSpec, t: &TrackOut, time: Timestamp) -> Option<Observation> {
    let (lon, lat) = t.lonlat?;
    let mut o = Observation::new(EntityKind::Detection, format!("{}-{}", spec.id, t.track), time).at(lon, lat);
    o.source = source_name(spec);
    o.speed = t.speed_ms;
    o.heading = t.heading;
    let p = &mut o.properties;
    p.insert("class".into(), PropertyValue::Text(super::detector::class_name(t.class).into()));
    p.insert("class_id".into(), PropertyValue::Int(i64::from(t.class)));
    p.insert("score".into(), PropertyValue::Float(round(f64::from(t.score), 3)));
    p.insert("camera".into(), PropertyValue::Text(spec.id.clone()));
    p.insert("track_id".into(), PropertyValue::Int(t.track as i64));
    label(spec, p);
    Some(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{validate, CameraSection};

    /// An overhead camera looking north: 768×432 pixels over 12.8 × 7.2 m (60 px per metre).
    pub(super) fn spec(extra: &str) -> CameraSpec {
        let f = twin_vision::homography::LocalFrame { lon0: 108.2111, lat0: 16.0600 };
        let pt = |px: f64, py: f64| {
            let (lon, lat) = f.to_lonlat((px - 384.0) / 60.0, (216.0 - py) / 60.0);
            format!("{{ px = {px}, py = {py}, lon = {lon}, lat = {lat} }}")
        };
        let text = format!(
            "id = \"c1\"\nposition = [108.2111, 16.06]\nvideo = \"v.mp4\"\nreplay = true\nimage_size = [768, 432]\n\
             control_points = [{}, {}, {}, {}]\n{extra}",
            pt(0.0, 0.0),
            pt(768.0, 0.0),
            pt(768.0, 432.0),
            pt(0.0, 432.0)
        );
        let s: CameraSection = toml::from_str(&text).unwrap();
        validate(&s, Path::new("/")).unwrap()
    }

    pub(super) fn det(class: u32, score: f32, cx: f32, cy: f32) -> Detection {
        Detection { class, score, bbox: [cx - 40.0, cy - 60.0, cx + 40.0, cy + 60.0] }
    }

    pub(super) fn prop<'a>(o: &'a Observation, k: &str) -> &'a PropertyValue {
        o.properties.get(k).unwrap_or_else(|| panic!("no {k} in {:?}", o.properties))
    }

    #[test]
    fn a_car_driving_north_becomes_a_tracked_detection_with_speed_and_heading() {
        let mut p = Pipeline::new(spec("[[lines]]\nid = \"north\"\nfrom = [768, 216]\nto = [0, 216]\n"));
        let t0 = 1_700_000_000_000i64;
        let mut last = FrameOutput::default();
        let mut ids = Vec::new();
        // 2 frames per second; 0.9 m per frame = 1.8 m/s northwards (up the image).
        for k in 0..8 {
            let t = t0 + k * 500;
            let cy = 380.0 - 54.0 * k as f32;
            last = p.process(&[det(2, 0.8, 300.0, cy)], Timestamp(t), t);
            ids.extend(last.tracks.iter().map(|t| t.track));
        }
        ids.dedup();
        assert_eq!(ids, vec![1], "one track throughout");
        let d = last.observations.iter().find(|o| o.kind == EntityKind::Detection).unwrap();
        assert_eq!(d.external_id, "c1-1");
        assert_eq!(d.source, "camera:c1");
        assert_eq!(prop(d, "class"), &PropertyValue::Text("car".into()));
        assert_eq!(prop(d, "track_id"), &PropertyValue::Int(1));
        assert_eq!(prop(d, "replay"), &PropertyValue::Bool(true));
        assert_eq!(prop(d, "replay_of"), &PropertyValue::Text("v.mp4".into()));
        let speed = d.speed.unwrap();
        assert!((speed - 1.8).abs() < 0.05, "speed {speed}");
        let h = d.heading.unwrap();
        assert!(!(1.0..=359.0).contains(&h), "heading {h}");
        // The box's foot 300 px across, 60 px below the last centre → 1.4 m west of the centre.
        let pos = d.position.unwrap();
        let (e, _) = p.spec().calibration.frame.to_local(pos.lon, pos.lat);
        assert!((e - (300.0 - 384.0) / 60.0).abs() < 0.01, "east {e}");

        // It crossed the northbound line once: counted in the minute after.
        let t = t0 + 60_000;
        let out = p.process(&[], Timestamp(t), t);
        let cam = out.observations.iter().find(|o| o.kind == EntityKind::Camera).unwrap();
        let minute_of_crossing = (t0 + 2_000).div_euclid(60_000);
        let expected = if t.div_euclid(60_000) == minute_of_crossing + 1 { 1 } else { 0 };
        assert_eq!(prop(cam, "line_north_per_min"), &PropertyValue::Int(expected));
        assert_eq!(prop(cam, "count_car_per_min"), &PropertyValue::Int(expected));
        assert!(cam.properties.contains_key("footprint"));
    }

    #[test]
    fn unmapped_classes_are_dropped_and_relabelled_ones_kept() {
        let mut p = Pipeline::new(spec("relabel = { \"cell phone\" = \"car\" }\n"));
        let mut out = FrameOutput::default();
        for k in 0..4 {
            out = p.process(
                &[det(67, 0.9, 300.0, 200.0 + k as f32), det(62, 0.9, 600.0, 200.0)],
                Timestamp(k * 500),
                k * 500,
            );
        }
        assert_eq!(out.tracks.len(), 1);
        assert_eq!(out.tracks[0].class, 2);
    }

    #[test]
    fn one_object_under_two_relabelled_classes_is_one_track() {
        let mut p = Pipeline::new(spec("relabel = { \"cell phone\" = \"car\", \"parking meter\" = \"car\" }\n"));
        let mut ids = std::collections::BTreeSet::new();
        for k in 0..6 {
            let y = 200.0 + 10.0 * k as f32;
            let out = p.process(&[det(12, 0.47, 300.0, y), det(67, 0.41, 301.0, y + 1.0)], Timestamp(k * 500), k * 500);
            ids.extend(out.tracks.iter().map(|t| t.track));
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
    }
}
