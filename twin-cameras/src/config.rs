//! `[[cameras]]` entries: parsing (serde) and validation into a [`CameraSpec`] with the calibration,
//! footprint and resolved classes a worker needs. Every error names the camera and the field.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use twin_vision::counting::{AlertRules, LineConfig, Zone};
use twin_vision::footprint::{footprint, to_geojson};
use twin_vision::{Calibration, ControlPoint};

use super::detector::{class_id, class_name};

/// One `[[cameras]]` entry of the city config (format: see the module documentation).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSection {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// `[lon, lat]` of the camera.
    pub position: [f64; 2],
    /// Degrees clockwise from north the camera looks; derived from the calibration when absent.
    #[serde(default)]
    pub heading: Option<f64>,
    /// Video file replayed in a loop (path relative to the config file).
    #[serde(default)]
    pub video: Option<String>,
    /// `multipart/x-mixed-replace` MJPEG stream URL.
    #[serde(default)]
    pub mjpeg: Option<String>,
    /// JPEG snapshot URL polled every `snapshot_interval_s`.
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default = "default_snapshot_interval")]
    pub snapshot_interval_s: f64,
    /// Frames analysed per second.
    #[serde(default = "default_sample_fps")]
    pub sample_fps: f64,
    /// `[width, height]` in pixels the control points, lines and zones refer to; frames of
    /// another size are scaled to it.
    pub image_size: [u32; 2],
    /// At least 4 image ↔ map pairs `{ px, py, lon, lat }`.
    pub control_points: Vec<ControlPoint>,
    /// Cap on how far the footprint reaches, metres (default 150).
    #[serde(default)]
    pub max_range_m: Option<f64>,
    #[serde(default)]
    pub lines: Vec<LineConfig>,
    #[serde(default)]
    pub zones: Vec<Zone>,
    /// The source replays a recording: detections are labelled `replay = true`.
    #[serde(default)]
    pub replay: bool,
    /// Detector weights; default the committed CenterNet weights.
    #[serde(default)]
    pub model: Option<PathBuf>,
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Class names that become detections (default: person and road vehicles).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Per-camera relabelling of the model's classes, applied before the class filter, e.g.
    /// `{ "cell phone" = "car" }` for an overhead camera where the model misnames cars.
    #[serde(default)]
    pub relabel: BTreeMap<String, String>,
    /// Free-flow speed of the road in view, for the level of service (default 40 km/h).
    #[serde(default = "default_free_flow")]
    pub free_flow_kmh: f64,
    /// Vehicles in an occupancy zone at or above which slow traffic is a queue (default 8).
    #[serde(default)]
    pub jam_vehicles: Option<u32>,
    /// Mean speed under which a full zone is a queue, km/h (default 7.2).
    #[serde(default)]
    pub jam_speed_kmh: Option<f64>,
    /// Seconds a vehicle may stand still in a no-stopping zone (default 30).
    #[serde(default)]
    pub stop_dwell_s: Option<f64>,
    /// Evidence snapshots kept per camera, newest first (default 200; 0 records none).
    #[serde(default = "default_evidence_keep")]
    pub evidence_keep: u32,
}

fn default_snapshot_interval() -> f64 {
    1.0
}
fn default_sample_fps() -> f64 {
    2.0
}
fn default_threshold() -> f32 {
    0.3
}
fn default_free_flow() -> f64 {
    40.0
}
fn default_evidence_keep() -> u32 {
    200
}

/// Road users tracked by default: person, bicycle, car, motorcycle, bus, truck.
const DEFAULT_CLASSES: [&str; 6] = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];
/// Default footprint range, metres.
const DEFAULT_RANGE_M: f64 = 150.0;

/// A camera entry that failed validation.
#[derive(Debug, thiserror::Error)]
#[error("camera `{camera}`: {field}: {reason}")]
pub struct CameraConfigError {
    pub camera: String,
    pub field: String,
    pub reason: String,
}

/// Where frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// Replayed in a loop at real speed (slower when analysis cannot keep up: no frame is skipped).
    Video(PathBuf),
    Mjpeg(String),
    Snapshot {
        url: String,
        interval_s: f64,
    },
}

impl SourceSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Video(_) => "video",
            SourceSpec::Mjpeg(_) => "mjpeg",
            SourceSpec::Snapshot { .. } => "snapshot",
        }
    }

    /// What the source reads, for status and labels.
    pub fn describe(&self) -> String {
        match self {
            SourceSpec::Video(p) => p.display().to_string(),
            SourceSpec::Mjpeg(u) | SourceSpec::Snapshot { url: u, .. } => u.clone(),
        }
    }
}

/// A validated camera.
#[derive(Debug, Clone)]
pub struct CameraSpec {
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub heading: f64,
    pub width: usize,
    pub height: usize,
    pub source: SourceSpec,
    /// The `video` value as written in the config (for `replay_of` labels).
    pub source_label: String,
    pub sample_fps: f64,
    pub replay: bool,
    pub calibration: Calibration,
    /// Which side of the horizon holds the ground (see `Calibration::ground_sign`).
    pub ground_sign: f64,
    /// Closed lon/lat ring of the view on the ground.
    pub footprint: Vec<(f64, f64)>,
    pub footprint_geojson: String,
    pub lines: Vec<LineConfig>,
    pub zones: Vec<Zone>,
    pub model: Option<PathBuf>,
    pub threshold: f32,
    pub classes: BTreeSet<u32>,
    /// Model class → reported class.
    pub relabel: BTreeMap<u32, u32>,
    pub free_flow_ms: f64,
    pub alert_rules: AlertRules,
    /// Evidence snapshots kept; 0: none recorded.
    pub evidence_keep: usize,
}

impl CameraSpec {
    /// The class a model class is reported as, or `None` when the camera ignores it.
    pub fn map_class(&self, class: u32) -> Option<u32> {
        let c = self.relabel.get(&class).copied().unwrap_or(class);
        self.classes.contains(&c).then_some(c)
    }

    pub fn class_name(&self, class: u32) -> &'static str {
        class_name(class)
    }
}

/// Validates every entry (ids unique) and resolves relative paths against `base_dir`.
pub fn validate_all(sections: &[CameraSection], base_dir: &Path) -> Result<Vec<CameraSpec>, CameraConfigError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(sections.len());
    for s in sections {
        if !seen.insert(s.id.as_str()) {
            return Err(err(&s.id, "id", "is used by another camera"));
        }
        out.push(validate(s, base_dir)?);
    }
    Ok(out)
}

fn err(camera: &str, field: &str, reason: impl Into<String>) -> CameraConfigError {
    CameraConfigError { camera: camera.to_owned(), field: field.to_owned(), reason: reason.into() }
}

fn finite_positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// Validates one entry.
pub fn validate(s: &CameraSection, base_dir: &Path) -> Result<CameraSpec, CameraConfigError> {
    let id = s.id.trim();
    if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(&s.id, "id", "must be non-empty without spaces"));
    }
    // The id names the camera's evidence folder.
    if id.contains(['/', '\\']) || id == "." || id == ".." {
        return Err(err(&s.id, "id", "must not contain `/` or `\\` or be `.` or `..`"));
    }
    let e = |field: &str, reason: String| err(id, field, reason);
    let [lon, lat] = s.position;
    if !(lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
        return Err(e("position", format!("[{lon}, {lat}] is not a WGS84 [lon, lat]")));
    }
    let source = match (&s.video, &s.mjpeg, &s.snapshot) {
        (Some(v), None, None) => SourceSpec::Video(base_dir.join(v)),
        (None, Some(u), None) => SourceSpec::Mjpeg(http_url(id, "mjpeg", u)?),
        (None, None, Some(u)) => {
            if !finite_positive(s.snapshot_interval_s) {
                return Err(e("snapshot_interval_s", format!("{} is not a positive number", s.snapshot_interval_s)));
            }
            SourceSpec::Snapshot { url: http_url(id, "snapshot", u)?, interval_s: s.snapshot_interval_s }
        }
        _ => return Err(e("source", "exactly one of `video`, `mjpeg`, `snapshot` is required".into())),
    };
    if !finite_positive(s.sample_fps) || s.sample_fps > 60.0 {
        return Err(e("sample_fps", format!("{} is not in (0, 60]", s.sample_fps)));
    }
    let [w, h] = s.image_size;
    if w == 0 || h == 0 || w > 16384 || h > 16384 {
        return Err(e("image_size", format!("[{w}, {h}] is not a usable image size")));
    }
    let (wf, hf) = (f64::from(w), f64::from(h));
    let inside = |x: f64, y: f64| x.is_finite() && y.is_finite() && (0.0..=wf).contains(&x) && (0.0..=hf).contains(&y);
    for (i, p) in s.control_points.iter().enumerate() {
        if !inside(p.px, p.py) {
            return Err(e(
                "control_points",
                format!("point {i}: pixel ({}, {}) is outside the {w}×{h} image", p.px, p.py),
            ));
        }
    }
    let calibration = Calibration::from_control_points(lon, lat, &s.control_points)
        .map_err(|g| e("control_points", g.to_string()))?;
    let ground_sign = calibration.ground_sign(wf, hf);
    let range = s.max_range_m.unwrap_or(DEFAULT_RANGE_M);
    if !finite_positive(range) {
        return Err(e("max_range_m", format!("{range} is not a positive number of metres")));
    }
    let ring = footprint(&calibration, wf, hf, range);
    if ring.len() < 4 {
        return Err(e("control_points", "no part of the image sees the ground: check the calibration".into()));
    }
    for (i, l) in s.lines.iter().enumerate() {
        if l.id.trim().is_empty() {
            return Err(e("lines", format!("line {i} has no id")));
        }
        if !inside(l.from.0, l.from.1) || !inside(l.to.0, l.to.1) || l.from == l.to {
            return Err(e(&format!("lines.{}", l.id), "from/to must be two distinct points in the image".into()));
        }
    }
    for (i, z) in s.zones.iter().enumerate() {
        if z.id.trim().is_empty() {
            return Err(e("zones", format!("zone {i} has no id")));
        }
        if z.polygon.len() < 3 || z.polygon.iter().any(|&(x, y)| !x.is_finite() || !y.is_finite()) {
            return Err(e(&format!("zones.{}", z.id), "polygon needs at least 3 finite image points".into()));
        }
    }
    let lookup = |field: &str, name: &str| {
        class_id(name)
            .ok_or_else(|| e(field, format!("`{name}` is not a class of the model (COCO names, e.g. \"car\")")))
    };
    let names: Vec<String> = match &s.classes {
        Some(c) => c.clone(),
        None => DEFAULT_CLASSES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let classes = names.iter().map(|n| lookup("classes", n)).collect::<Result<BTreeSet<_>, _>>()?;
    let mut relabel = BTreeMap::new();
    for (from, to) in &s.relabel {
        relabel.insert(lookup("relabel", from)?, lookup("relabel", to)?);
    }
    if !(0.0..=1.0).contains(&s.threshold) {
        return Err(e("threshold", format!("{} is not in [0, 1]", s.threshold)));
    }
    if !finite_positive(s.free_flow_kmh) {
        return Err(e("free_flow_kmh", format!("{} is not a positive speed", s.free_flow_kmh)));
    }
    let mut alert_rules = AlertRules::default();
    if let Some(n) = s.jam_vehicles {
        alert_rules.jam_vehicles = n.max(1);
    }
    if let Some(v) = s.jam_speed_kmh {
        if !(v.is_finite() && v >= 0.0) {
            return Err(e("jam_speed_kmh", format!("{v} is not a speed")));
        }
        alert_rules.jam_speed = v / 3.6;
    }
    if let Some(d) = s.stop_dwell_s {
        if !(d.is_finite() && d >= 0.0) {
            return Err(e("stop_dwell_s", format!("{d} is not a duration")));
        }
        alert_rules.stop_dwell_s = d;
    }
    let heading = match s.heading {
        Some(hd) if hd.is_finite() && (0.0..=360.0).contains(&hd) => hd % 360.0,
        Some(hd) => return Err(e("heading", format!("{hd} is not in [0, 360]"))),
        None => view_heading(&calibration, ground_sign, wf, hf),
    };
    Ok(CameraSpec {
        id: id.to_owned(),
        name: if s.name.trim().is_empty() { id.to_owned() } else { s.name.clone() },
        lon,
        lat,
        heading,
        width: w as usize,
        height: h as usize,
        source,
        source_label: s.video.clone().or_else(|| s.mjpeg.clone()).or_else(|| s.snapshot.clone()).unwrap_or_default(),
        sample_fps: s.sample_fps,
        replay: s.replay,
        ground_sign,
        footprint_geojson: to_geojson(&ring),
        footprint: ring,
        calibration,
        lines: s.lines.clone(),
        zones: s.zones.clone(),
        model: s.model.as_ref().map(|m| base_dir.join(m)),
        threshold: s.threshold,
        classes,
        relabel,
        free_flow_ms: s.free_flow_kmh / 3.6,
        alert_rules,
        evidence_keep: s.evidence_keep as usize,
    })
}

fn http_url(camera: &str, field: &str, url: &str) -> Result<String, CameraConfigError> {
    let u = url.trim();
    if u.starts_with("http://") && u.len() > "http://".len() {
        Ok(u.to_owned())
    } else {
        Err(err(camera, field, format!("`{url}` is not an http:// URL")))
    }
}

/// Direction of view: from the camera towards the ground point seen at the image centre (or, for a
/// camera looking straight down, the direction of the image's "up").
fn view_heading(cal: &Calibration, sign: f64, w: f64, h: f64) -> f64 {
    let centre = cal.pixel_to_local(w / 2.0, h / 2.0, sign).ok();
    let bottom = cal.pixel_to_local(w / 2.0, h, sign).ok();
    let (e, n) = match (centre, bottom) {
        (Some(c), _) if c.0.hypot(c.1) > 1.0 => c,
        (Some(c), Some(b)) => (c.0 - b.0, c.1 - b.1),
        _ => return 0.0,
    };
    (e.atan2(n).to_degrees() + 360.0) % 360.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    const OK: &str = r#"
        id = "cam-1"
        name = "Hàm Nghi × Nguyễn Văn Linh"
        position = [108.21106, 16.05990]
        video = "video/x.mp4"
        image_size = [768, 432]
        control_points = [
          { px = 0, py = 0, lon = 108.21100, lat = 16.06010 },
          { px = 768, py = 0, lon = 108.21112, lat = 16.06010 },
          { px = 768, py = 432, lon = 108.21112, lat = 16.05995 },
          { px = 0, py = 432, lon = 108.21100, lat = 16.05995 },
        ]
        [[lines]]
        id = "northbound"
        from = [768, 216]
        to = [0, 216]
        [[zones]]
        id = "box"
        kind = "no_stopping"
        polygon = [[0, 0], [768, 0], [768, 432]]
    "#;

    fn parse(text: &str) -> Result<CameraSection, toml::de::Error> {
        toml::from_str(text)
    }

    fn check(text: &str) -> Result<CameraSpec, CameraConfigError> {
        validate(&parse(text).unwrap(), Path::new("/city"))
    }

    #[test]
    fn a_good_entry_validates_with_footprint_and_heading() {
        let spec = check(OK).unwrap();
        assert_eq!(spec.source, SourceSpec::Video(PathBuf::from("/city/video/x.mp4")));
        assert_eq!(spec.sample_fps, 2.0);
        assert!(spec.footprint_geojson.starts_with("{\"type\":\"Polygon\""));
        assert!(twin_vision::footprint::contains(&spec.footprint, 108.21106, 16.06002));
        assert!(!twin_vision::footprint::contains(&spec.footprint, 108.2115, 16.06002));
        // The camera stands 14 m south of the centre of its view.
        assert!(spec.heading < 1.0 || spec.heading > 359.0, "{}", spec.heading);
        assert_eq!(spec.map_class(2), Some(2));
        assert_eq!(spec.map_class(67), None, "cell phone is not tracked by default");
        assert_eq!(spec.evidence_keep, 200);
        let off = check(&OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nevidence_keep = 0")).unwrap();
        assert_eq!(off.evidence_keep, 0);
    }

    #[test]
    fn degenerate_control_points_name_the_camera() {
        let collinear = OK.replace(
            "{ px = 768, py = 432, lon = 108.21112, lat = 16.05995 }",
            "{ px = 384, py = 0, lon = 108.21106, lat = 16.06010 }",
        );
        let e = check(&collinear).unwrap_err();
        assert_eq!(e.camera, "cam-1");
        assert_eq!(e.field, "control_points");
        let text = e.to_string();
        assert!(text.starts_with("camera `cam-1`: control_points:") && text.contains("collinear"), "{text}");

        let three = OK.replace("{ px = 0, py = 432, lon = 108.21100, lat = 16.05995 },", "");
        let e = check(&three).unwrap_err();
        assert!(e.to_string().contains("at least 4 control points, got 3"), "{e}");

        let outside = OK.replace("px = 768, py = 0,", "px = 900, py = 0,");
        assert!(check(&outside).unwrap_err().to_string().contains("outside the 768×432 image"));
    }

    #[test]
    fn malformed_entries_are_refused_with_the_field() {
        let cases = [
            (OK.replace("video = \"video/x.mp4\"", ""), "source"),
            (OK.replace("video = \"video/x.mp4\"", "video = \"a\"\nmjpeg = \"http://x/\""), "source"),
            (OK.replace("video = \"video/x.mp4\"", "snapshot = \"ftp://x/snap.jpg\""), "snapshot"),
            (OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nsample_fps = 0"), "sample_fps"),
            (OK.replace("position = [108.21106, 16.05990]", "position = [208.2, 16.06]"), "position"),
            (OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nclasses = [\"tank\"]"), "classes"),
            (
                OK.replace(
                    "image_size = [768, 432]",
                    "image_size = [768, 432]\nrelabel = { \"cell phone\" = \"carr\" }",
                ),
                "relabel",
            ),
            (OK.replace("from = [768, 216]", "from = [0, 216]"), "lines.northbound"),
            (OK.replace("[[0, 0], [768, 0], [768, 432]]", "[[0, 0], [768, 0]]"), "zones.box"),
            (OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nheading = 400"), "heading"),
        ];
        for (text, field) in cases {
            let e = check(&text).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert_eq!(e.camera, "cam-1");
        }
        // An id that would leave the evidence folder.
        for id in ["../etc", "a/b", "..", "a\\b"] {
            let e = check(&OK.replace("id = \"cam-1\"", &format!("id = {id:?}"))).unwrap_err();
            assert_eq!(e.field, "id", "{id}: {e}");
        }
        assert!(parse(&OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nevidence_keep = -1")).is_err());
        // Unknown keys (a typo) and wrong types are parse errors.
        assert!(parse(&OK.replace("image_size = [768, 432]", "image_size = [768, 432]\nsped = 3")).is_err());
        assert!(parse(&OK.replace("image_size = [768, 432]", "image_size = \"big\"")).is_err());
    }

    #[test]
    fn relabel_and_class_filter_apply_in_order() {
        let text = OK.replace(
            "image_size = [768, 432]",
            "image_size = [768, 432]\nclasses = [\"car\"]\nrelabel = { \"cell phone\" = \"car\" }",
        );
        let spec = check(&text).unwrap();
        assert_eq!(spec.map_class(67), Some(2));
        assert_eq!(spec.map_class(0), None);
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let s = parse(OK).unwrap();
        let e = validate_all(&[s.clone(), s], Path::new("/")).unwrap_err();
        assert_eq!(e.field, "id");
    }
}
