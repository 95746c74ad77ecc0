//! Drives a GPX replay schedule (`twin_ingest::gpx::replay`) in real time: each step is submitted
//! through the ingest queue when its offset has elapsed. Steps that fall due together go as one
//! batch, so a high speed-up does not flood the queue with single-observation batches.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;
use twin_core::{EntityKind, Position};
use twin_ingest::gpx::{parse, replay, GpxError, ReplayOptions, ReplayStep};

use twin_ingest::health::FeedRegistry;
use twin_runtime::clock::now;

use crate::sink::{submit_with_backpressure, ObservationSink, SinkError};

/// One `[[gpx_replay]]` entry of the city config: a recorded track driven as a live vehicle.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpxReplaySection {
    /// GPX file, relative to the config.
    pub gpx: PathBuf,
    pub kind: EntityKind,
    pub id: String,
    /// Replay speed factor (default 1).
    #[serde(default = "one")]
    pub speedup: f64,
    /// `[lon, lat]` where the track's first point is moved to (default: where it was recorded).
    pub start_at: Option<[f64; 2]>,
    /// Start over when the track ends (default true).
    #[serde(default = "yes")]
    pub repeat: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Gpx { path: PathBuf, source: GpxError },
    #[error(transparent)]
    Submit(#[from] SinkError),
}

/// Submits `steps` at their offsets after now, through the connectors' back-pressure policy: a
/// batch that waited too long for a full queue is dropped and counted, and the replay goes on.
/// Returns how many observations were accepted; fails only when ingest closed.
pub async fn drive<S: ObservationSink>(
    steps: &[ReplayStep],
    ingest: &S,
    health: &FeedRegistry,
    source: &str,
) -> Result<usize, SinkError> {
    let start = Instant::now();
    let mut accepted = 0;
    let mut i = 0;
    while i < steps.len() {
        let due = start + Duration::from_millis(u64::try_from(steps[i].offset_ms).unwrap_or(0));
        tokio::time::sleep_until(due).await;
        let elapsed = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
        let batch: Vec<_> =
            steps[i..].iter().take_while(|s| s.offset_ms <= elapsed).map(|s| s.observation.clone()).collect();
        i += batch.len().max(1);
        match submit_with_backpressure(ingest, health, source, batch).await {
            Ok(outcome) => accepted += outcome.accepted,
            Err(SinkError::Full) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(accepted)
}

/// Reads the track of `section` (paths relative to `base_dir`) and replays it until the task is
/// aborted (or once, without `repeat`), each round starting at the current time.
pub async fn run<S: ObservationSink>(
    section: GpxReplaySection,
    base_dir: PathBuf,
    ingest: S,
    health: std::sync::Arc<FeedRegistry>,
) -> Result<(), ReplayError> {
    let path = base_dir.join(&section.gpx);
    let bytes = tokio::fs::read(&path).await.map_err(|source| ReplayError::Read { path: path.clone(), source })?;
    let gpx = parse(&bytes).map_err(|source| ReplayError::Gpx { path: path.clone(), source })?;
    let points: Vec<_> = gpx.points().copied().collect();
    let source = format!("gpx:{}", section.id);
    loop {
        let opts = ReplayOptions {
            kind: section.kind,
            external_id: section.id.clone(),
            source: source.clone(),
            start_time: now(),
            speedup: section.speedup,
            start_at: section.start_at.map(|[lon, lat]| Position::new(lon, lat)),
            ..ReplayOptions::default()
        };
        let steps = replay(&points, &opts);
        health.register(&source, "gpx-replay", twin_runtime::clock::now().as_millis());
        let n = drive(&steps, &ingest, &health, &source).await?;
        tracing::debug!(id = %section.id, accepted = n, "GPX replay round done");
        if !section.repeat || steps.is_empty() {
            return Ok(());
        }
    }
}
