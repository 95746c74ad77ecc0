//! The configured cameras as the API sees them: what each is, and how its worker is doing.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::{json, Value};
use twin_ingest::health::FeedRegistry;
use twin_vision::privacy::{blur_boxes, BlurRegion};
use twin_vision::{Detection, Frame};

use super::config::CameraSpec;
use super::evidence::EvidenceStore;

/// A worker's health.
#[derive(Debug, Clone, Serialize)]
pub struct CameraStatus {
    /// `starting`, `running` or `error`.
    pub state: &'static str,
    /// Frames analysed.
    pub frames: u64,
    /// Live frames dropped because the analysis was busy.
    pub dropped: u64,
    /// Frames analysed per second, recently.
    pub fps: f64,
    /// Milliseconds the last frame took from detector to published observations.
    pub ms_per_frame: f64,
    /// Confirmed tracks in the last frame.
    pub tracks: usize,
    /// RFC 3339 time of the last analysed frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_frame: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Default for CameraStatus {
    fn default() -> Self {
        Self {
            state: "starting",
            frames: 0,
            dropped: 0,
            fps: 0.0,
            ms_per_frame: 0.0,
            tracks: 0,
            last_frame: None,
            last_error: None,
        }
    }
}

/// The last analysed frame with its detections, kept for the evidence snapshot.
struct LastFrame {
    frame: Frame,
    detections: Vec<Detection>,
}

/// The camera as a feed of the server's feed-health registry (`/api/feeds`).
struct FeedHealth {
    registry: Arc<FeedRegistry>,
    source: String,
}

/// One camera: its validated config and live status.
pub struct CameraEntry {
    pub spec: CameraSpec,
    status: Mutex<CameraStatus>,
    last_frame_at: Mutex<Option<Instant>>,
    last: Mutex<Option<LastFrame>>,
    feed: Option<FeedHealth>,
    evidence: Option<Arc<EvidenceStore>>,
}

fn now_ms() -> i64 {
    twin_runtime::clock::now().as_millis()
}

impl CameraEntry {
    pub fn new(spec: CameraSpec) -> Self {
        Self {
            spec,
            status: Mutex::default(),
            last_frame_at: Mutex::new(None),
            last: Mutex::new(None),
            feed: None,
            evidence: None,
        }
    }

    /// Reports the camera as feed `source` (registered now, so it is listed before a first frame):
    /// frames received and analysed, source errors by reason, connection state.
    pub fn with_feed(mut self, registry: Arc<FeedRegistry>, source: String) -> Self {
        registry.register(&source, &format!("camera-{}", self.spec.source.kind()), now_ms());
        self.feed = Some(FeedHealth { registry, source });
        self
    }

    /// Saves evidence snapshots when alert flags rise.
    pub fn with_evidence(mut self, store: Arc<EvidenceStore>) -> Self {
        self.evidence = Some(store);
        self
    }

    pub fn evidence(&self) -> Option<&Arc<EvidenceStore>> {
        self.evidence.as_ref()
    }

    fn health(&self, f: impl FnOnce(&FeedRegistry, &str)) {
        if let Some(h) = &self.feed {
            f(&h.registry, &h.source);
        }
    }

    pub fn status(&self) -> CameraStatus {
        self.status.lock().clone()
    }

    /// The worker cannot go on (no detector, …): the camera reports this instead of frames.
    pub fn fail(&self, error: &str) {
        let mut s = self.status.lock();
        s.state = "error";
        s.last_error = Some(error.to_owned());
    }

    /// The analysis of one frame failed (`reason`: `detector`, `publish`).
    pub fn analysis_error(&self, reason: &str, error: &str) {
        self.fail(error);
        self.health(|r, s| r.rejected(s, reason, 1));
    }

    /// The source failed and will be reopened after a pause: counted under `reason`, and the
    /// feed shows as reconnecting (not connected, with the error).
    pub fn source_error(&self, reason: &str, error: &str) {
        self.fail(error);
        self.health(|r, s| {
            r.rejected(s, reason, 1);
            r.connection(s, false, Some(error.to_owned()));
        });
    }

    /// One frame of a source that is otherwise working could not be used (`reason`: `decode`).
    pub fn frame_error(&self, reason: &str, error: &str) {
        self.fail(error);
        self.health(|r, s| r.rejected(s, reason, 1));
    }

    /// The source is open (file opened, stream or snapshot answered).
    pub fn source_connected(&self) {
        self.health(|r, s| r.connection(s, true, None));
    }

    /// A frame arrived from the source (before decoding).
    pub fn frame_received(&self) {
        self.health(|r, s| r.received(s, now_ms()));
    }

    /// A live frame was dropped because the analysis was busy.
    pub fn dropped(&self) {
        self.status.lock().dropped += 1;
        self.health(|r, s| r.throttled(s));
    }

    /// Books one analysed frame.
    pub fn frame_done(&self, tracks: usize, took_ms: f64, time: twin_core::Timestamp) {
        self.health(|r, s| r.accepted(s, 1));
        let now = Instant::now();
        let gap = self.last_frame_at.lock().replace(now).map(|t| now.duration_since(t).as_secs_f64());
        let mut s = self.status.lock();
        s.state = "running";
        s.frames += 1;
        s.tracks = tracks;
        s.ms_per_frame = (took_ms * 10.0).round() / 10.0;
        if let Some(g) = gap.filter(|g| *g > 0.0) {
            // Exponential average over about ten frames.
            let fps = 1.0 / g;
            s.fps = if s.fps == 0.0 { fps } else { s.fps * 0.9 + fps * 0.1 };
            s.fps = (s.fps * 100.0).round() / 100.0;
        }
        s.last_frame = Some(twin_runtime::clock::rfc3339(time));
    }

    /// Keeps the frame for `/api/cameras/{id}/snapshot.jpg`.
    pub fn keep_frame(&self, frame: Frame, detections: Vec<Detection>) {
        *self.last.lock() = Some(LastFrame { frame, detections });
    }

    /// The last analysed frame as JPEG, with the upper part of every person box pixelated.
    pub fn snapshot_jpeg(&self) -> Option<Result<Vec<u8>, image::ImageError>> {
        let (mut frame, dets) = {
            let last = self.last.lock();
            let l = last.as_ref()?;
            (l.frame.clone(), l.detections.clone())
        };
        Some(encode_private_jpeg(&mut frame, &dets))
    }

    /// The API view.
    pub fn view(&self) -> Value {
        let s = &self.spec;
        let footprint: Value = serde_json::from_str(&s.footprint_geojson).unwrap_or(Value::Null);
        json!({
            "id": s.id,
            "name": s.name,
            "position": [s.lon, s.lat],
            "heading": s.heading,
            "source": { "kind": s.source.kind(), "target": s.source.describe() },
            "replay": s.replay,
            "sample_fps": s.sample_fps,
            "image_size": [s.width, s.height],
            "footprint": footprint,
            "status": self.status(),
        })
    }

    pub fn covers(&self, lon: f64, lat: f64) -> bool {
        twin_vision::footprint::contains(&self.spec.footprint, lon, lat)
    }
}

/// Pixelates the heads of person boxes (class 0), then encodes JPEG.
pub fn encode_private_jpeg(frame: &mut Frame, dets: &[Detection]) -> Result<Vec<u8>, image::ImageError> {
    blur_boxes(frame, dets, twin_vision::counting::PERSON, BlurRegion::Head);
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    image::ImageEncoder::write_image(
        enc,
        &frame.rgb,
        frame.width as u32,
        frame.height as u32,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// Configured cameras and their workers' status.
#[derive(Default)]
pub struct CameraRegistry {
    cameras: RwLock<Vec<Arc<CameraEntry>>>,
}

impl std::fmt::Debug for CameraRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraRegistry").field("cameras", &self.cameras.read().len()).finish()
    }
}

impl CameraRegistry {
    pub fn add(&self, entry: Arc<CameraEntry>) {
        self.cameras.write().push(entry);
    }

    pub fn all(&self) -> Vec<Arc<CameraEntry>> {
        self.cameras.read().clone()
    }

    pub fn get(&self, id: &str) -> Option<Arc<CameraEntry>> {
        self.cameras.read().iter().find(|c| c.spec.id == id).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    /// Mean absolute difference between horizontally adjacent pixels (red channel) in a region.
    fn roughness(f: &Frame, x0: usize, y0: usize, x1: usize, y1: usize) -> f64 {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in y0..y1 {
            for x in x0..x1 - 1 {
                let a = f.rgb[(y * f.width + x) * 3] as f64;
                let b = f.rgb[(y * f.width + x + 1) * 3] as f64;
                sum += (a - b).abs();
                n += 1.0;
            }
        }
        sum / n
    }

    #[test]
    fn evidence_snapshots_pixelate_the_heads_of_people_only() {
        // A fine checkerboard everywhere: any pixelation shows as lost detail.
        let (w, h) = (160, 120);
        let mut frame = Frame::filled(w, h, [0, 0, 0]);
        for y in 0..h {
            for x in 0..w {
                let v = if (x / 2 + y / 2) % 2 == 0 { 230 } else { 20 };
                frame.rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[v, v, v]);
            }
        }
        let person = Detection { class: 0, score: 0.9, bbox: [40.0, 10.0, 100.0, 100.0] };
        let car = Detection { class: 2, score: 0.9, bbox: [110.0, 10.0, 150.0, 60.0] };
        let jpeg = encode_private_jpeg(&mut frame.clone(), &[person, car]).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let out = Frame { width: img.width() as usize, height: img.height() as usize, rgb: img.into_raw() };
        assert_eq!((out.width, out.height), (w, h));
        let before_head = roughness(&frame, 42, 12, 98, 38);
        let head = roughness(&out, 42, 12, 98, 38);
        let body = roughness(&out, 42, 50, 98, 98);
        let car_region = roughness(&out, 112, 12, 148, 58);
        assert!(head < before_head / 4.0, "head still detailed: {head:.1} vs {before_head:.1}");
        assert!(body > before_head / 2.0 && car_region > before_head / 2.0, "body {body:.1}, car {car_region:.1}");
    }
}
