//! Async connectors (feature `connectors`): MQTT sensors and AIS over TCP, UDP or a replayed file.
//!
//! Connectors never drop data to keep up: when the ingest queue is full they stop reading (the
//! broker or the TCP window holds the rest) and retry with a growing pause. What they hand over
//! goes through an [`ObservationSink`], which the server implements for its ingest handle.

pub mod ais;
pub mod mqtt;

/// The embedded broker's crate, configured by the server.
#[cfg(feature = "broker")]
pub use rumqttd;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use twin_core::Observation;

use crate::health::{FeedRegistry, TokenBucket};

/// Why a sink refused a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The queue is full: wait and retry.
    #[error("ingest queue is full")]
    Full,
    /// The sink stopped for good (shutdown, failed log).
    #[error("ingest is closed: {0}")]
    Closed(String),
}

/// How a batch fared: accepted count and per-observation refusals (index, reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkOutcome {
    pub accepted: usize,
    pub rejected: Vec<(usize, String)>,
}

/// Where connectors put observations. Resolves once the batch is durable (or refused).
pub trait ObservationSink: Clone + Send + Sync + 'static {
    fn submit(
        &self,
        source: &str,
        batch: Vec<Observation>,
    ) -> impl Future<Output = Result<SinkOutcome, SinkError>> + Send;
}

/// Pause after the first `Full`, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Submits `batch`, waiting while the sink is full, and counts the outcome on `health`.
/// Returns Err only when the sink is closed.
pub async fn submit_with_backpressure<S: ObservationSink>(
    sink: &S,
    health: &FeedRegistry,
    source: &str,
    batch: Vec<Observation>,
) -> Result<SinkOutcome, SinkError> {
    if batch.is_empty() {
        return Ok(SinkOutcome::default());
    }
    let mut pause = FIRST_BACKOFF;
    loop {
        match sink.submit(source, batch.clone()).await {
            Ok(outcome) => {
                health.accepted(source, outcome.accepted as u64);
                if !outcome.rejected.is_empty() {
                    health.rejected(source, "refused_by_model", outcome.rejected.len() as u64);
                }
                return Ok(outcome);
            }
            Err(SinkError::Full) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
            Err(e @ SinkError::Closed(_)) => return Err(e),
        }
    }
}

/// Milliseconds since the epoch, for health bookkeeping and receive times.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Optional per-source rate limit for connectors: waits for a token instead of refusing.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    bucket: Option<Arc<std::sync::Mutex<TokenBucket>>>,
}

impl Pacer {
    /// `None` or a non-positive rate: no limit.
    pub fn new(rate_per_s: Option<f64>) -> Self {
        let bucket =
            rate_per_s.filter(|r| *r > 0.0).map(|r| Arc::new(std::sync::Mutex::new(TokenBucket::new(r, r.max(1.0)))));
        Self { bucket }
    }

    /// Waits until one message may pass; counts the wait as throttling.
    pub async fn admit(&self, health: &FeedRegistry, source: &str) {
        let Some(bucket) = &self.bucket else { return };
        let mut counted = false;
        loop {
            let wait = bucket.lock().unwrap_or_else(|p| p.into_inner()).try_take(now_ms());
            match wait {
                Ok(()) => return,
                Err(ms) => {
                    if !counted {
                        health.throttled(source);
                        counted = true;
                    }
                    tokio::time::sleep(Duration::from_millis(ms.clamp(1, 1000))).await;
                }
            }
        }
    }
}
