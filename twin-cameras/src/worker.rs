//! One analysis thread per camera (plus its source thread): detector → tracker → georeference →
//! observations, published through a [`Sink`]. A slow or broken camera only ever holds its own threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use twin_core::rules::{AlertSubject, RaiseAlert, RuleKind, Severity};
use twin_core::{ActorId, EntityKind, Observation, PropertyValue, Timestamp};

use super::config::CameraSpec;
use super::detector::DetectorFactory;
use super::evidence::Capture;
use super::pipeline::{source_name, FrameOutput, Pipeline, RaisedAlert, LOW_SCORE};
use super::registry::CameraEntry;
use super::source::{self, SampledFrame};
use twin_runtime::writer::{IngestHandle, SubmitError};

/// Frames waiting between a source and its analysis.
const QUEUE: usize = 2;

/// Why a frame's observations were not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{count} observations refused, first: {first}")]
    Refused { count: usize, first: String },
    #[error(transparent)]
    Submit(#[from] SubmitError),
    #[error("stdout: {0}")]
    Stdout(std::io::Error),
    #[error("{url}: {source}")]
    Http { url: String, source: Box<ureq::Error> },
    /// The server answered other than 200; `body` is its first 300 characters.
    #[error("{url}: HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
}

/// Where a camera's observations go.
pub trait Sink: Send {
    fn publish(&mut self, source: &str, observations: Vec<Observation>, out: &FrameOutput) -> Result<(), PublishError>;

    /// Logs the alerts this frame raised and fills in their ids. Sinks outside a server (files,
    /// a remote server's ingest route) log none.
    fn raise(&mut self, _spec: &CameraSpec, _raised: &mut [RaisedAlert], _time: Timestamp) {}
}

/// The server's ingest path: durable log, then the model.
pub struct IngestSink {
    pub ingest: IngestHandle,
    pub runtime: tokio::runtime::Handle,
}

/// The model's alert kind, the rule name and the words for a camera alert kind (one of
/// `pipeline::ALERT_KINDS`).
pub fn rule_of(kind: &str) -> (RuleKind, &'static str, &'static str) {
    match kind {
        "queue" => (RuleKind::CameraQueue, "camera-queue", "Queue or jam in view of a camera"),
        "stopped_vehicle" => {
            (RuleKind::CameraStoppedVehicle, "camera-stopped-vehicle", "Vehicle stopped in a no-stopping zone")
        }
        _ => (RuleKind::CameraRestrictedZone, "camera-person-restricted", "Person in a restricted zone"),
    }
}

/// A camera alert as the log records it: about the camera entity, with the conditions as detail.
pub fn raise_record(spec: &CameraSpec, r: &RaisedAlert, time: Timestamp) -> RaiseAlert {
    let severity = if r.kind == "person_restricted" { Severity::Severe } else { Severity::Moderate };
    let subject = AlertSubject::Key { kind: EntityKind::Camera, external_id: spec.id.clone() };
    let (kind, rule, words) = rule_of(r.kind);
    let message = format!("{}: {words} ({})", spec.name, r.detail);
    let mut alert = RaiseAlert::new(time, kind, rule, severity, subject, message);
    alert.detail.insert("camera".into(), PropertyValue::Text(spec.id.clone()));
    alert.detail.insert("condition".into(), PropertyValue::Text(r.detail.clone()));
    alert
}

impl Sink for IngestSink {
    fn raise(&mut self, spec: &CameraSpec, raised: &mut [RaisedAlert], time: Timestamp) {
        for r in raised.iter_mut() {
            let record = raise_record(spec, r, time);
            match self.runtime.block_on(self.ingest.raise_alert(ActorId(format!("camera:{}", spec.id)), record)) {
                Ok(c) => r.alert_id = c.alerts.first().map(|id| id.0),
                Err(e) => tracing::warn!(camera = %spec.id, error = %e, "camera alert not logged"),
            }
        }
    }

    fn publish(
        &mut self,
        source: &str,
        observations: Vec<Observation>,
        _out: &FrameOutput,
    ) -> Result<(), PublishError> {
        if observations.is_empty() {
            return Ok(());
        }
        match self.runtime.block_on(self.ingest.submit(source, observations)) {
            Ok(a) => match a.rejected.first() {
                None => Ok(()),
                Some((_, first)) => Err(PublishError::Refused { count: a.rejected.len(), first: first.clone() }),
            },
            // A full queue drops this frame's batch; the next frame carries the same tracks.
            Err(e) => Err(PublishError::Submit(e)),
        }
    }
}

/// Starts the camera's analysis thread (which starts its source thread once the detector loaded).
pub fn spawn(
    entry: Arc<CameraEntry>,
    factory: DetectorFactory,
    sink: Box<dyn Sink>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let name = format!("camera-{}", entry.spec.id);
    std::thread::Builder::new().name(name).spawn(move || analyse(entry, factory, sink, stop))
}

fn analyse(entry: Arc<CameraEntry>, factory: DetectorFactory, mut sink: Box<dyn Sink>, stop: Arc<AtomicBool>) {
    let spec = entry.spec.clone();
    let mut detector = match factory(spec.model.as_deref(), LOW_SCORE) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(camera = %spec.id, error = %e, "camera detector unavailable");
            entry.fail(&format!("detector: {e}"));
            return;
        }
    };
    let (tx, rx) = sync_channel::<SampledFrame>(QUEUE);
    let src_entry = entry.clone();
    let src_stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("camera-src-{}", spec.id))
        .spawn(move || source::run(src_entry, tx, src_stop));
    if let Err(e) = spawned {
        entry.fail(&format!("cannot start the source thread: {e}"));
        return;
    }
    tracing::info!(camera = %spec.id, source = %spec.source.describe(), fps = spec.sample_fps, "camera started");
    let source = source_name(&spec);
    let mut pipeline = Pipeline::new(spec);
    while !stop.load(Ordering::Relaxed) {
        let sampled = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(s) => s,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let started = Instant::now();
        let dets = match detector.detect_frame(&sampled.frame) {
            Ok(d) => d,
            Err(e) => {
                entry.analysis_error("detector", &format!("detector: {e}"));
                continue;
            }
        };
        let time = twin_runtime::clock::now();
        let mut out = pipeline.process(&dets, time, sampled.media_ms);
        let observations = out.observations.clone();
        if let Err(e) = sink.publish(&source, observations, &out) {
            tracing::warn!(camera = %entry.spec.id, error = %e, "camera observations not published");
            entry.analysis_error("publish", &format!("publish: {e}"));
        }
        entry.frame_done(out.tracks.len(), started.elapsed().as_secs_f64() * 1000.0, time);
        if !out.raised.is_empty() {
            sink.raise(&entry.spec, &mut out.raised, time);
        }
        if let Some(store) = entry.evidence().filter(|s| s.enabled() && !out.raised.is_empty()) {
            // Encoding and writing happen on a blocking task; here only the frame is copied.
            let raised = std::mem::take(&mut out.raised);
            tracing::info!(camera = %entry.spec.id, alerts = ?raised.iter().map(|r| r.kind).collect::<Vec<_>>(), "camera alert raised");
            store.record(Capture {
                frame: sampled.frame.clone(),
                detections: out.detections.clone(),
                tracks: std::mem::take(&mut out.tracks),
                raised,
                time,
            });
        }
        entry.keep_frame(sampled.frame, out.detections);
    }
    tracing::info!(camera = %entry.spec.id, "camera stopped");
}

/// An observation as one item of `POST /ingest/observations`.
pub fn observation_json(o: &Observation) -> serde_json::Value {
    let mut v = serde_json::json!({
        "kind": o.kind.as_str(),
        "id": o.external_id,
        "time": twin_runtime::clock::rfc3339(o.time),
        "properties": o.properties,
    });
    if let Some(p) = o.position {
        v["lon"] = p.lon.into();
        v["lat"] = p.lat.into();
    }
    if let Some(h) = o.heading {
        v["heading"] = h.into();
    }
    if let Some(s) = o.speed {
        v["speed"] = s.into();
    }
    v
}

/// Observations as NDJSON lines on standard output.
pub struct NdjsonSink;

impl Sink for NdjsonSink {
    fn publish(
        &mut self,
        _source: &str,
        observations: Vec<Observation>,
        _out: &FrameOutput,
    ) -> Result<(), PublishError> {
        use std::io::Write;
        let mut text = String::new();
        for o in &observations {
            text.push_str(&observation_json(o).to_string());
            text.push('\n');
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(PublishError::Stdout)
    }
}

/// Observations posted as NDJSON to a server's `/ingest/observations`.
pub struct HttpSink {
    pub url: String,
    pub agent: ureq::Agent,
}

impl HttpSink {
    pub fn new(server: &str) -> Self {
        let url = format!("{}/ingest/observations", server.trim_end_matches('/'));
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        Self { url, agent: ureq::Agent::new_with_config(config) }
    }
}

impl Sink for HttpSink {
    fn publish(
        &mut self,
        _source: &str,
        observations: Vec<Observation>,
        _out: &FrameOutput,
    ) -> Result<(), PublishError> {
        if observations.is_empty() {
            return Ok(());
        }
        let body: String = observations.iter().map(|o| observation_json(o).to_string() + "\n").collect();
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-ndjson")
            .send(body.as_bytes())
            .map_err(|e| PublishError::Http { url: self.url.clone(), source: Box::new(e) })?;
        if resp.status() != 200 {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            return Err(PublishError::Status {
                url: self.url.clone(),
                status: resp.status().as_u16(),
                body: text.chars().take(300).collect(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use std::io::Write;
    use std::net::TcpListener;
    use std::path::Path;

    use twin_ingest::health::FeedRegistry;
    use twin_vision::{Detection, Frame};

    use super::*;
    use crate::config::{validate, CameraSection};
    use crate::detector::{DetectorError, FrameDetector};
    use crate::evidence::EvidenceStore;

    /// Sees one parked car in every frame.
    struct ParkedCar;

    impl FrameDetector for ParkedCar {
        fn detect_frame(&mut self, _frame: &Frame) -> Result<Vec<Detection>, DetectorError> {
            Ok(vec![Detection { class: 2, score: 0.9, bbox: [10.0, 10.0, 30.0, 25.0] }])
        }
    }

    /// Counts what would be published.
    struct Count(Arc<std::sync::atomic::AtomicUsize>);

    impl Sink for Count {
        fn publish(&mut self, _: &str, observations: Vec<Observation>, _: &FrameOutput) -> Result<(), PublishError> {
            self.0.fetch_add(observations.len(), Ordering::Relaxed);
            Ok(())
        }
    }

    fn section(source: &str) -> CameraSection {
        let text = format!(
            "id = \"w\"\nposition = [108.2, 16.0]\n{source}\nsample_fps = 4\nimage_size = [64, 36]\nstop_dwell_s = 1\n\
             control_points = [{{ px = 0, py = 0, lon = 108.2, lat = 16.0001 }}, {{ px = 64, py = 0, lon = 108.2001, lat = 16.0001 }},\
             {{ px = 64, py = 36, lon = 108.2001, lat = 16.0 }}, {{ px = 0, py = 36, lon = 108.2, lat = 16.0 }}]\n\
             [[zones]]\nid = \"all\"\nkind = \"no_stopping\"\npolygon = [[0, 0], [64, 0], [64, 36], [0, 36]]\n"
        );
        toml::from_str(&text).unwrap()
    }

    /// Answers every request with a small JPEG.
    fn snapshot_server() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&[120u8; 64 * 36 * 3], 64, 36, image::ExtendedColorType::Rgb8)
            .unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                let mut req = [0u8; 1024];
                let _ = std::io::Read::read(&mut s, &mut req);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    jpeg.len()
                );
                let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&jpeg));
            }
        });
        addr
    }

    fn wait_for(what: &str, deadline_s: u64, mut ok: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(deadline_s);
        while !ok() {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn a_parked_car_leaves_evidence_and_the_camera_feed_counts_frames() {
        let addr = snapshot_server();
        let spec = validate(
            &section(&format!("snapshot = \"http://{addr}/snap.jpg\"\nsnapshot_interval_s = 0.1")),
            Path::new("/"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let feeds = Arc::new(FeedRegistry::default());
        let store = Arc::new(EvidenceStore::new(dir.path(), "w", 5, None));
        let entry =
            Arc::new(CameraEntry::new(spec).with_feed(feeds.clone(), "camera:w".into()).with_evidence(store.clone()));
        let factory: DetectorFactory = Arc::new(|_, _| Ok(Box::new(ParkedCar) as Box<dyn FrameDetector>));
        let published = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        spawn(entry.clone(), factory, Box::new(Count(published.clone())), stop.clone()).unwrap();

        let feed =
            || feeds.snapshot(twin_runtime::clock::now().as_millis()).into_iter().find(|f| f.source == "camera:w");
        assert_eq!(feed().unwrap().protocol, "camera-snapshot", "listed from the start");
        wait_for("evidence", 60, || !store.list().unwrap().is_empty());
        let first = feed().unwrap();
        wait_for("more frames", 60, || feed().unwrap().accepted > first.accepted);
        stop.store(true, Ordering::Relaxed);

        let items = store.list().unwrap();
        assert_eq!(items.len(), 1, "one rise while the car stays: {items:?}");
        assert_eq!(items[0].alert, "stopped_vehicle");
        let side: serde_json::Value =
            serde_json::from_slice(&std::fs::read(store.dir().join(&items[0].sidecar)).unwrap()).unwrap();
        assert_eq!(side["camera"], "w");
        assert!(side["detail"].as_str().unwrap().contains("no-stopping zone all"), "{side}");
        assert_eq!(side["detections"][0]["class"], "car");
        assert!(side["detections"][0]["track_id"].as_u64().is_some(), "{side}");

        let f = feed().unwrap();
        assert!(f.received >= f.accepted && f.accepted >= 2, "{f:?}");
        assert_eq!(f.connected, Some(true));
        assert_eq!(f.rejected_total, 0, "{f:?}");
        assert!(f.last_message_ms.is_some() && f.rate_per_s > 0.0, "{f:?}");
        assert!(published.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn a_dead_snapshot_url_shows_as_errors_of_a_reconnecting_feed() {
        // Bound then closed: nothing listens there.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let spec =
            validate(&section(&format!("snapshot = \"http://127.0.0.1:{port}/snap.jpg\"")), Path::new("/")).unwrap();
        let feeds = Arc::new(FeedRegistry::default());
        let entry = Arc::new(CameraEntry::new(spec).with_feed(feeds.clone(), "camera:w".into()));
        let factory: DetectorFactory = Arc::new(|_, _| Ok(Box::new(ParkedCar) as Box<dyn FrameDetector>));
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        spawn(entry.clone(), factory, Box::new(Count(counter)), stop.clone()).unwrap();
        let feed = || feeds.snapshot(twin_runtime::clock::now().as_millis()).into_iter().next().unwrap();
        wait_for("a source error", 30, || feed().rejected_total > 0);
        stop.store(true, Ordering::Relaxed);
        let f = feed();
        assert_eq!(f.source, "camera:w");
        assert!(f.rejected.get("connect").copied().unwrap_or(0) >= 1, "{f:?}");
        assert_eq!((f.received, f.accepted), (0, 0));
        assert_eq!(f.connected, Some(false));
        assert!(f.last_error.unwrap().contains(&format!("127.0.0.1:{port}/snap.jpg")));
        assert_eq!(entry.status().state, "error");
    }
}
