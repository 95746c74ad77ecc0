//! Where connectors put observations, and the one back-pressure policy they share.
//!
//! When the ingest queue is full a connector stops reading (the broker or the TCP window holds the
//! rest) and retries with a growing pause, for a bounded time; what it finally cannot hand over is
//! counted as dropped in its feed's health, never lost silently.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use twin_core::Observation;
use twin_ingest::health::{FeedRegistry, TokenBucket};
use twin_runtime::writer::{IngestHandle, SubmitError};

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
/// How long one batch may wait for room in the queue before it is dropped (and counted). A feed
/// that falls this far behind has a stuck writer, not a burst: holding on forever would only move
/// the loss into unbounded memory upstream.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// The one back-pressure policy of every connector: submits `batch`, waiting with a doubling pause
/// while the sink is full, for at most [`MAX_WAIT`]; then drops it, counted on `health` as
/// `dropped_queue_full` and logged — never silently. Counts the outcome on `health`.
pub async fn submit_with_backpressure<S: ObservationSink>(
    sink: &S,
    health: &FeedRegistry,
    source: &str,
    batch: Vec<Observation>,
) -> Result<SinkOutcome, SinkError> {
    submit_within(sink, health, source, batch, MAX_WAIT).await
}

/// [`submit_with_backpressure`] with its own bound on the wait (tests).
pub async fn submit_within<S: ObservationSink>(
    sink: &S,
    health: &FeedRegistry,
    source: &str,
    batch: Vec<Observation>,
    max_wait: Duration,
) -> Result<SinkOutcome, SinkError> {
    if batch.is_empty() {
        return Ok(SinkOutcome::default());
    }
    let started = tokio::time::Instant::now();
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
            Err(SinkError::Full) if started.elapsed() + pause <= max_wait => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
            Err(SinkError::Full) => {
                health.rejected(source, "dropped_queue_full", batch.len() as u64);
                tracing::warn!(%source, observations = batch.len(), "ingest queue full for too long: batch dropped");
                return Err(SinkError::Full);
            }
            Err(e @ SinkError::Closed(_)) => return Err(e),
        }
    }
}

impl ObservationSink for IngestHandle {
    async fn submit(&self, source: &str, batch: Vec<Observation>) -> Result<SinkOutcome, SinkError> {
        match IngestHandle::submit(self, source, batch).await {
            Ok(a) => Ok(SinkOutcome { accepted: a.accepted, rejected: a.rejected }),
            // A full disk is waited out like a full queue: the writer resumes once space returns.
            Err(SubmitError::QueueFull | SubmitError::StorageFull(_)) => Err(SinkError::Full),
            Err(SubmitError::Unavailable(m)) => Err(SinkError::Closed(m)),
            Err(e @ (SubmitError::Invalid(_) | SubmitError::TooLarge { .. })) => Err(SinkError::Closed(e.to_string())),
        }
    }
}

/// Milliseconds since the epoch, for health bookkeeping and receive times (the runtime's one clock).
pub fn now_ms() -> i64 {
    twin_runtime::clock::now().as_millis()
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
