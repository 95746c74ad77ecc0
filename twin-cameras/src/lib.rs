//! Cameras: `[[cameras]]` config, camera entities with view footprints, `/api/cameras`, and the
//! per-camera analytics workers.
//!
//! ```toml
//! [[cameras]]
//! id = "cam-ham-nghi"                          # external id of the `camera` entity
//! name = "Hàm Nghi × Nguyễn Văn Linh"          # optional, default the id
//! position = [108.21112, 16.05998]             # [lon, lat] of the camera
//! heading = 352                                # optional; default: from the calibration
//! # exactly one source:
//! video = "video/car-detection.mp4"            # file replayed in a loop at real speed (ffmpeg)
//! # mjpeg = "http://10.0.0.5/video.mjpg"       # multipart/x-mixed-replace stream
//! # snapshot = "http://10.0.0.6/snap.jpg"      # JPEG polled every snapshot_interval_s
//! # snapshot_interval_s = 1.0                  # (default 1)
//! replay = true                                # a recording: observations say `replay_of`
//! sample_fps = 2                               # frames analysed per second (default 2)
//! image_size = [768, 432]                      # pixels the points below refer to; frames are scaled to it
//! max_range_m = 150                            # footprint cut-off (default 150)
//! # ≥ 4 image ↔ map pairs → homography (normalised DLT, least squares beyond 4). Collinear,
//! # duplicate or too few points are a config error naming the camera.
//! control_points = [
//!   { px = 0, py = 0, lon = 108.21102, lat = 16.06005 },
//!   …
//! ]
//! model = "models/my-centernet.bpk"            # optional; default the committed CenterNet weights
//! threshold = 0.3                              # score that starts a track (default 0.3)
//! classes = ["person", "car", "motorcycle"]    # optional; default person and road vehicles
//! relabel = { "cell phone" = "car" }           # optional per-camera class fixes (COCO names)
//! free_flow_kmh = 40                           # level-of-service reference (default 40)
//! jam_vehicles = 8                             # queue alert: vehicles in an occupancy zone (default 8)
//! jam_speed_kmh = 7.2                          #   … moving slower than this (default 7.2)
//! stop_dwell_s = 30                            # stopped-vehicle alert after this long (default 30)
//! evidence_keep = 200                          # evidence snapshots kept (default 200; 0: none saved)
//! [[cameras.lines]]                            # directed counting line (image pixels): counts
//! id = "northbound"                            # tracks crossing from its right to its left side
//! from = [768, 216]
//! to = [0, 216]
//! [[cameras.zones]]
//! id = "kerb"
//! kind = "no_stopping"                         # occupancy | no_stopping | restricted
//! polygon = [[0, 300], [200, 300], [200, 432], [0, 432]]
//! ```
//!
//! Each camera is a `camera` entity at its position carrying `footprint` (GeoJSON Polygon text) and,
//! about once a second, its measures: `vehicles_in_view`, `count_<class>_per_min` (last full
//! minute, from the counting lines or, without lines, new tracks), `mean_speed_kmh`, `los` (A–F),
//! `congestion_index` (0–1), `occupancy_<zone>` and the alert flags `alert_queue`,
//! `alert_stopped_vehicle`, `alert_person_restricted` (0/1) with `alert_detail`. When a flag rises
//! the worker logs a raised alert (`camera_queue`, `camera_stopped_vehicle`,
//! `camera_restricted_zone`) through the writer, numbered with every other alert, and files the
//! evidence under that alert's id. Each confirmed track is a
//! short-lived `detection` entity `{camera}-{track}` (class, score, camera, track_id, speed and
//! heading from georeferenced positions). Video files need the `ffmpeg` program.
//!
//! When a flag rises (0 → 1) the frame is kept as evidence: the JPEG with the heads of people
//! pixelated (as `snapshot.jpg`) and a JSON sidecar (camera, alert, detail, time, the tracked
//! detections with class, score, box and track id) under
//! `<data-dir>/evidence/<camera>/<yyyymmddThhmmssZ>-<alert>.{jpg,json}` (module [`evidence`]).
//!
//! Each camera is also a feed in `GET /api/feeds`, named like its observations' source
//! (`camera:<id>`, protocol `camera-video` / `camera-mjpeg` / `camera-snapshot`): `received` counts
//! frames from the source, `accepted` frames analysed, `throttled` live frames dropped while the
//! analysis was busy, `rejected` source and analysis errors by reason (`video`, `connect`,
//! `http_<status>`, `read`, `stream`, `decode`, `detector`, `publish`); `connected` is false while
//! the source waits to reconnect. A camera that stops delivering frames goes stale like any feed.
//!
//! Routes: `GET /api/cameras[?covering=lon,lat]`, `GET /api/cameras/{id}/snapshot.jpg` (last
//! analysed frame), `GET /api/cameras/{id}/evidence` (evidence, newest first: file, alert, time,
//! url, sidecar, sidecar_url) and `GET /api/cameras/{id}/evidence/{file}` (a JPEG or its sidecar).

pub mod config;
pub mod detector;
pub mod evidence;
pub mod pipeline;
pub mod registry;
pub mod source;
pub mod worker;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use twin_core::{EntityKind, TwinConfig};

pub use config::{CameraConfigError, CameraSection, CameraSpec};
pub use registry::{CameraEntry, CameraRegistry};

use twin_ingest::health::FeedRegistry;
use twin_runtime::Core;

/// How long a detection stays in the model after its track was last seen, unless the config
/// sets `[model.expiry_s] detection`.
pub const DETECTION_EXPIRY_MS: i64 = 10_000;

/// Keeps the camera workers running; dropping it asks them to stop.
#[derive(Debug, Default)]
pub struct CameraWorkers {
    stop: Arc<AtomicBool>,
    threads: usize,
}

impl CameraWorkers {
    pub fn len(&self) -> usize {
        self.threads
    }

    pub fn is_empty(&self) -> bool {
        self.threads == 0
    }
}

impl Drop for CameraWorkers {
    fn drop(&mut self) {
        // Workers notice within half a second; they are not joined, a source may sit in a read.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A short expiry for detections. Call on the model's config before the store is opened, so
/// replaying the log expires them the same way. (Camera alerts are logged by the workers as raised
/// alerts, numbered with every other alert; no rule of the model raises them.)
pub fn model_defaults(sections: &[CameraSection], twin: &mut TwinConfig) {
    if sections.is_empty() {
        return;
    }
    let slot = &mut twin.expiry_ms[EntityKind::Detection.index()];
    if slot.is_none() {
        *slot = Some(DETECTION_EXPIRY_MS);
    }
}

/// Registers the configured cameras and starts their workers with the default detector. Paths
/// of the config resolve against `base_dir`; evidence goes under `data_dir`.
pub fn start(
    core: &Core,
    cameras: &CameraRegistry,
    health: &Arc<FeedRegistry>,
    sections: &[CameraSection],
    base_dir: &Path,
    data_dir: &Path,
) -> Result<CameraWorkers, StartError> {
    start_with(core, cameras, health, sections, base_dir, data_dir, detector::default_factory())
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] CameraConfigError),
    #[error("cameras must start inside the tokio runtime")]
    NoRuntime,
    #[error("cannot start a camera thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// [`start`] with a chosen detector. Call inside the tokio runtime.
pub fn start_with(
    core: &Core,
    cameras: &CameraRegistry,
    health: &Arc<FeedRegistry>,
    sections: &[CameraSection],
    base_dir: &Path,
    data_dir: &Path,
    factory: detector::DetectorFactory,
) -> Result<CameraWorkers, StartError> {
    let specs = config::validate_all(sections, base_dir)?;
    let mut workers = CameraWorkers::default();
    if specs.is_empty() {
        return Ok(workers);
    }
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
    for spec in specs {
        let evidence = evidence::EvidenceStore::new(data_dir, &spec.id, spec.evidence_keep, Some(runtime.clone()));
        let feed = pipeline::source_name(&spec);
        let entry = Arc::new(CameraEntry::new(spec).with_feed(health.clone(), feed).with_evidence(Arc::new(evidence)));
        cameras.add(entry.clone());
        // The camera and its footprint are in the model even before (or without) a first frame.
        let obs = pipeline::camera_observation(&entry.spec, twin_runtime::clock::now());
        let (ingest, source, id) = (core.ingest.clone(), pipeline::source_name(&entry.spec), entry.spec.id.clone());
        runtime.spawn(async move {
            if let Err(e) = ingest.submit(&source, vec![obs]).await {
                tracing::warn!(camera = %id, error = %e, "camera entity not registered");
            }
        });
        let sink = worker::IngestSink { ingest: core.ingest.clone(), runtime: runtime.clone() };
        worker::spawn(entry, factory.clone(), Box::new(sink), workers.stop.clone())?;
        workers.threads += 1;
    }
    Ok(workers)
}
