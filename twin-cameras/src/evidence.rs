//! Evidence snapshots: when a camera alert flag rises, the privacy-blurred frame and a JSON sidecar
//! (camera, alert, detail, time, tracked detections) are written to
//! `<data-dir>/evidence/<camera>/<yyyymmddThhmmssZ>-<alert>.jpg` and `….json`. A second rise of the
//! same alert within the same second gets `-2`, `-3`, … before the extension.
//!
//! Files are written off the frame loop (a blocking task), each to a temp file in the folder and
//! renamed into place, sidecar first, so a listed JPEG always has its sidecar. Only the newest
//! `evidence_keep` per camera stay. The folder is the index: listing reads it, so evidence
//! survives restarts.

mod name;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{json, Value};
use twin_core::Timestamp;
use twin_vision::{Detection, Frame};

use super::pipeline::{RaisedAlert, TrackOut};
use super::registry::encode_private_jpeg;

pub use name::{EvidenceName, Part};

/// One evidence pair as `GET /api/cameras/{id}/evidence` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    /// The JPEG's file name.
    pub file: String,
    pub alert: &'static str,
    /// The alert's id in `/api/alerts`, when it was logged.
    pub alert_id: Option<u64>,
    /// RFC 3339, whole seconds.
    pub time: String,
    pub url: String,
    pub sidecar: String,
    pub sidecar_url: String,
}

/// One analysed frame at the moment alert flags rose.
pub struct Capture {
    pub frame: Frame,
    /// Detections after class mapping (person boxes are pixelated).
    pub detections: Vec<Detection>,
    /// Confirmed tracks, listed in the sidecar.
    pub tracks: Vec<TrackOut>,
    pub raised: Vec<RaisedAlert>,
    pub time: Timestamp,
}

/// A camera's evidence folder.
pub struct EvidenceStore {
    camera: String,
    dir: PathBuf,
    /// Pairs kept; 0 writes none.
    keep: usize,
    /// Runs the writes off the frame loop; without one, a short-lived thread does.
    runtime: Option<tokio::runtime::Handle>,
    /// One write and its pruning at a time.
    write_lock: Mutex<()>,
    tmp_counter: AtomicU64,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceStore").field("dir", &self.dir).field("keep", &self.keep).finish()
    }
}

/// Percent-encodes a path segment (camera ids may hold characters a URL path cannot).
fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl EvidenceStore {
    /// The store of camera `camera` under `<data_dir>/evidence/<camera>`.
    pub fn new(data_dir: &Path, camera: &str, keep: usize, runtime: Option<tokio::runtime::Handle>) -> Self {
        Self {
            camera: camera.to_owned(),
            dir: data_dir.join("evidence").join(camera),
            keep,
            runtime,
            write_lock: Mutex::new(()),
            tmp_counter: AtomicU64::new(0),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether rises are recorded (`evidence_keep` > 0).
    pub fn enabled(&self) -> bool {
        self.keep > 0
    }

    /// Saves the capture in the background: JPEG encoding and disk writes never hold up the
    /// frame loop. Failures are logged.
    pub fn record(self: &Arc<Self>, capture: Capture) {
        if !self.enabled() || capture.raised.is_empty() {
            return;
        }
        let store = self.clone();
        let job = move || match store.save(capture) {
            Ok(files) => {
                for f in files {
                    tracing::info!(camera = %store.camera, file = %f, "evidence saved");
                }
            }
            Err(e) => {
                tracing::warn!(camera = %store.camera, dir = %store.dir.display(), error = %e, "evidence not saved")
            }
        };
        match &self.runtime {
            Some(rt) => {
                rt.spawn_blocking(job);
            }
            None => {
                if let Err(e) = std::thread::Builder::new().name("camera-evidence".into()).spawn(job) {
                    tracing::warn!(camera = %self.camera, error = %e, "evidence not saved: no thread");
                }
            }
        }
    }

    /// Writes one JPEG + sidecar per raised alert, then prunes. Returns the JPEG names.
    pub fn save(&self, capture: Capture) -> io::Result<Vec<String>> {
        let Capture { mut frame, detections, tracks, raised, time } = capture;
        if raised.is_empty() {
            return Ok(Vec::new());
        }
        let jpeg = encode_private_jpeg(&mut frame, &detections).map_err(io::Error::other)?;
        let at = DateTime::<Utc>::from_timestamp(time.as_millis().div_euclid(1000), 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame time out of range"))?
            .naive_utc();
        let _guard = self.write_lock.lock();
        fs::create_dir_all(&self.dir)?;
        let mut written = Vec::with_capacity(raised.len());
        for r in &raised {
            let mut name = EvidenceName { time: at, alert: r.kind, alert_id: r.alert_id, seq: 1, part: Part::Jpeg };
            while self.dir.join(name.file_name()).exists()
                || self.dir.join(name.with_part(Part::Sidecar).file_name()).exists()
            {
                name.seq += 1;
            }
            let sidecar = json!({
                "camera": self.camera,
                "alert": r.kind,
                "alert_id": r.alert_id,
                "detail": r.detail,
                "time": twin_runtime::clock::rfc3339(time),
                "image": name.file_name(),
                "image_size": [frame.width, frame.height],
                "detections": tracks.iter().map(track_json).collect::<Vec<Value>>(),
            });
            let text = serde_json::to_vec_pretty(&sidecar).map_err(io::Error::other)?;
            // Sidecar first: once the JPEG is visible, its sidecar is too.
            self.write_atomic(&name.with_part(Part::Sidecar).file_name(), &text)?;
            self.write_atomic(&name.file_name(), &jpeg)?;
            written.push(name.file_name());
        }
        self.prune()?;
        Ok(written)
    }

    fn write_atomic(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, self.dir.join(name))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Every file of ours in the folder (an absent folder holds none).
    fn names(&self) -> io::Result<Vec<EvidenceName>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry?;
            if let Some(n) = entry.file_name().to_str().and_then(EvidenceName::parse) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Deletes all but the newest `keep` pairs, and temp files a crash left behind.
    fn prune(&self) -> io::Result<usize> {
        let mut names = self.names()?;
        names.sort_by_key(|n| std::cmp::Reverse(n.order_key()));
        let mut stems: Vec<_> = names.iter().map(EvidenceName::order_key).collect();
        stems.dedup();
        let Some(&oldest_kept) = stems.get(self.keep.max(1) - 1) else {
            return Ok(0);
        };
        let mut removed = 0;
        for n in names.iter().filter(|n| n.order_key() < oldest_kept) {
            match fs::remove_file(self.dir.join(n.file_name())) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        // Under the write lock no temp file is in use.
        for entry in fs::read_dir(&self.dir)?.flatten() {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.starts_with('.') && n.contains(".tmp-")) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(removed)
    }

    /// Evidence pairs, newest first (a JPEG whose sidecar is missing is still listed).
    pub fn list(&self) -> io::Result<Vec<EvidenceItem>> {
        let mut jpegs: Vec<EvidenceName> = self.names()?.into_iter().filter(|n| n.part == Part::Jpeg).collect();
        jpegs.sort_by_key(|n| std::cmp::Reverse(n.order_key()));
        let base = format!("/api/cameras/{}/evidence", url_segment(&self.camera));
        Ok(jpegs
            .into_iter()
            .map(|n| {
                let (file, sidecar) = (n.file_name(), n.with_part(Part::Sidecar).file_name());
                EvidenceItem {
                    url: format!("{base}/{file}"),
                    sidecar_url: format!("{base}/{sidecar}"),
                    file,
                    sidecar,
                    alert: n.alert,
                    alert_id: n.alert_id,
                    time: n.time.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                }
            })
            .collect())
    }

    /// The bytes of one of our files; `None` when it does not exist.
    pub fn read(&self, name: &EvidenceName) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.dir.join(name.file_name())) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn track_json(t: &TrackOut) -> Value {
    json!({
        "track_id": t.track,
        "class": super::detector::class_name(t.class),
        "class_id": t.class,
        "score": (f64::from(t.score) * 1000.0).round() / 1000.0,
        "bbox": t.bbox.map(|v| (f64::from(v) * 10.0).round() / 10.0),
        "lon": t.lonlat.map(|p| p.0),
        "lat": t.lonlat.map(|p| p.1),
        "speed_ms": t.speed_ms.map(|v| (v * 100.0).round() / 100.0),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn capture(at_ms: i64, kinds: &[&'static str]) -> Capture {
        let mut frame = Frame::filled(64, 48, [40, 90, 160]);
        frame.rgb[0] = 255;
        Capture {
            frame,
            detections: vec![Detection { class: 2, score: 0.8, bbox: [4.0, 4.0, 30.0, 20.0] }],
            tracks: vec![TrackOut {
                track: 7,
                class: 2,
                score: 0.8,
                bbox: [4.0, 4.0, 30.0, 20.0],
                lonlat: Some((108.2, 16.06)),
                speed_ms: Some(0.0),
                heading: None,
            }],
            raised: kinds
                .iter()
                .map(|k| RaisedAlert { kind: k, detail: format!("{k} in kerb"), alert_id: None })
                .collect(),
            time: Timestamp::from_millis(at_ms),
        }
    }

    // 2026-03-01T08:30:00Z
    const T0: i64 = 1_772_353_800_000;

    #[test]
    fn a_rise_is_saved_as_a_blurred_jpeg_and_a_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path(), "cam-1", 10, None);
        let files = store.save(capture(T0 + 400, &["stopped_vehicle"])).unwrap();
        assert_eq!(files, ["20260301T083000Z-stopped_vehicle.jpg"]);
        let folder = dir.path().join("evidence/cam-1");
        let jpeg = std::fs::read(folder.join(&files[0])).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (64, 48));
        let side: Value =
            serde_json::from_slice(&std::fs::read(folder.join("20260301T083000Z-stopped_vehicle.json")).unwrap())
                .unwrap();
        assert_eq!(side["camera"], "cam-1");
        assert_eq!(side["alert"], "stopped_vehicle");
        assert_eq!(side["detail"], "stopped_vehicle in kerb");
        assert_eq!(side["time"], "2026-03-01T08:30:00.400Z");
        assert_eq!(side["image"], files[0].as_str());
        let d = &side["detections"][0];
        assert_eq!((d["track_id"].as_u64(), d["class"].as_str()), (Some(7), Some("car")));
        assert_eq!(d["bbox"], json!([4.0, 4.0, 30.0, 20.0]));
        assert!((d["score"].as_f64().unwrap() - 0.8).abs() < 1e-9);
        // Nothing else is left in the folder (no temp files).
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 2);

        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].alert, "stopped_vehicle");
        assert_eq!(listed[0].time, "2026-03-01T08:30:00Z");
        assert_eq!(listed[0].url, "/api/cameras/cam-1/evidence/20260301T083000Z-stopped_vehicle.jpg");
        assert_eq!(listed[0].sidecar, "20260301T083000Z-stopped_vehicle.json");
        let read = store.read(&EvidenceName::parse(&listed[0].file).unwrap()).unwrap().unwrap();
        assert_eq!(read, jpeg);
        assert_eq!(store.read(&EvidenceName::parse("20260301T083001Z-queue.jpg").unwrap()).unwrap(), None);
    }

    #[test]
    fn retention_keeps_the_newest_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path(), "c", 3, None);
        for k in 0..5 {
            store.save(capture(T0 + k * 60_000, &["queue"])).unwrap();
        }
        let files = |s: &EvidenceStore| s.list().unwrap().into_iter().map(|i| i.file).collect::<Vec<_>>();
        assert_eq!(
            files(&store),
            ["20260301T083400Z-queue.jpg", "20260301T083300Z-queue.jpg", "20260301T083200Z-queue.jpg"]
        );
        // A temp file a crash left behind goes at the next write.
        let stray = dir.path().join("evidence/c/.20260301T090000Z-queue.jpg.tmp-1-9");
        std::fs::write(&stray, b"x").unwrap();
        // Two alerts in one frame, then the same alert again within the second.
        store.save(capture(T0 + 600_000, &["queue", "person_restricted"])).unwrap();
        store.save(capture(T0 + 600_500, &["queue"])).unwrap();
        let expected =
            ["20260301T084000Z-queue-2.jpg", "20260301T084000Z-queue.jpg", "20260301T084000Z-person_restricted.jpg"];
        assert_eq!(files(&store), expected);
        assert!(!stray.exists());
        // Three pairs, nothing else.
        assert_eq!(std::fs::read_dir(dir.path().join("evidence/c")).unwrap().count(), 6);
        // After a restart the folder is the list.
        let again = EvidenceStore::new(dir.path(), "c", 3, None);
        assert_eq!(files(&again), expected);
    }

    #[test]
    fn keep_zero_records_nothing_and_an_absent_folder_lists_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EvidenceStore::new(dir.path(), "c", 0, None));
        store.record(capture(T0, &["queue"]));
        assert!(!store.enabled());
        assert!(store.list().unwrap().is_empty());
        assert!(!dir.path().join("evidence").exists());
    }

    #[test]
    fn camera_ids_are_percent_encoded_in_urls() {
        assert_eq!(url_segment("cam-1_a.b~"), "cam-1_a.b~");
        assert_eq!(url_segment("cam?1#x"), "cam%3F1%23x");
        assert_eq!(url_segment("ngã"), "ng%C3%A3");
    }
}
