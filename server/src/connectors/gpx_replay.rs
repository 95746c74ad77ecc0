//! Drives a GPX replay schedule (`twin_ingest::gpx::replay`) in real time: each step is submitted
//! through the ingest queue when its offset has elapsed. Steps that fall due together go as one
//! batch, so a high speed-up does not flood the queue with single-observation batches.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;
use twin_core::{EntityKind, Position};
use twin_ingest::gpx::{parse, replay, GpxError, ReplayOptions, ReplayStep};

use crate::geojson::now;
use crate::writer::{IngestHandle, SubmitError};

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
    Submit(#[from] SubmitError),
}

/// Submits `steps` at their offsets after now. Returns how many observations were accepted.
pub async fn drive(steps: &[ReplayStep], ingest: &IngestHandle, source: &str) -> Result<usize, SubmitError> {
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
        accepted += ingest.submit(source, batch).await?.accepted;
    }
    Ok(accepted)
}

/// Reads the track of `section` (paths relative to `base_dir`) and replays it until the task is
/// aborted (or once, without `repeat`), each round starting at the current time.
pub async fn run(section: GpxReplaySection, base_dir: PathBuf, ingest: IngestHandle) -> Result<(), ReplayError> {
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
        let n = drive(&steps, &ingest, &source).await?;
        tracing::debug!(id = %section.id, accepted = n, "GPX replay round done");
        if !section.repeat || steps.is_empty() {
            return Ok(());
        }
    }
}
