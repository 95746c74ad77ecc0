//! One analysis thread per camera (plus its source thread): detector → tracker → georeference →
//! observations, published through a [`Sink`]. A slow or broken camera only ever holds its own threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use twin_core::Observation;

use super::detector::DetectorFactory;
use super::pipeline::{source_name, FrameOutput, Pipeline, LOW_SCORE};
use super::registry::CameraEntry;
use super::source::{self, SampledFrame};
use crate::writer::{IngestHandle, SubmitError};

/// Frames waiting between a source and its analysis.
const QUEUE: usize = 2;

/// Where a camera's observations go.
pub trait Sink: Send {
    fn publish(&mut self, source: &str, observations: Vec<Observation>, out: &FrameOutput) -> Result<(), String>;
}

/// The server's ingest path: durable log, then the model.
pub struct IngestSink {
    pub ingest: IngestHandle,
    pub runtime: tokio::runtime::Handle,
}

impl Sink for IngestSink {
    fn publish(&mut self, source: &str, observations: Vec<Observation>, _out: &FrameOutput) -> Result<(), String> {
        if observations.is_empty() {
            return Ok(());
        }
        match self.runtime.block_on(self.ingest.submit(source, observations)) {
            Ok(a) if a.rejected.is_empty() => Ok(()),
            Ok(a) => Err(format!("{} observations refused, first: {}", a.rejected.len(), a.rejected[0].1)),
            // A full queue drops this frame's batch; the next frame carries the same tracks.
            Err(e @ SubmitError::QueueFull) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
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
                entry.fail(&format!("detector: {e}"));
                continue;
            }
        };
        let time = crate::geojson::now();
        let out = pipeline.process(&dets, time, sampled.media_ms);
        let observations = out.observations.clone();
        if let Err(e) = sink.publish(&source, observations, &out) {
            tracing::warn!(camera = %entry.spec.id, error = %e, "camera observations not published");
            entry.source_error(&format!("publish: {e}"));
        }
        entry.frame_done(out.tracks.len(), started.elapsed().as_secs_f64() * 1000.0, time);
        entry.keep_frame(sampled.frame, out.detections);
    }
    tracing::info!(camera = %entry.spec.id, "camera stopped");
}

/// An observation as one item of `POST /ingest/observations`.
pub fn observation_json(o: &Observation) -> serde_json::Value {
    let mut v = serde_json::json!({
        "kind": o.kind.as_str(),
        "id": o.external_id,
        "time": crate::geojson::rfc3339(o.time),
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
    fn publish(&mut self, _source: &str, observations: Vec<Observation>, _out: &FrameOutput) -> Result<(), String> {
        use std::io::Write;
        let mut text = String::new();
        for o in &observations {
            text.push_str(&observation_json(o).to_string());
            text.push('\n');
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("stdout: {e}"))
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
    fn publish(&mut self, _source: &str, observations: Vec<Observation>, _out: &FrameOutput) -> Result<(), String> {
        if observations.is_empty() {
            return Ok(());
        }
        let body: String = observations.iter().map(|o| observation_json(o).to_string() + "\n").collect();
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-ndjson")
            .send(body.as_bytes())
            .map_err(|e| format!("{}: {e}", self.url))?;
        if resp.status() != 200 {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            return Err(format!(
                "{}: HTTP {}: {}",
                self.url,
                resp.status(),
                text.chars().take(300).collect::<String>()
            ));
        }
        Ok(())
    }
}
