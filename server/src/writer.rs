//! The single writer: a bounded ingest queue drained by one task that appends each group of batches to
//! the durable log, applies them to the model, then publishes the changes.
//! STUB: API contract only; the implementation is being written.

use twin_core::Observation;

/// How many observations of a submitted batch were accepted (durable and applied) and which were refused.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    pub accepted: usize,
    /// (index in the batch, reason)
    pub rejected: Vec<(usize, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: retry later (HTTP 503 + Retry-After).
    #[error("ingest queue is full")]
    QueueFull,
    /// The writer stopped (shutting down, or the log failed).
    #[error("ingest writer is not running: {0}")]
    Unavailable(String),
}

/// Cheap to clone; every feed (HTTP, demo simulators, later MQTT/AIS connectors) submits through it.
#[derive(Clone)]
pub struct IngestHandle {}

impl IngestHandle {
    /// Queues `batch` (stamped with `source` if an observation has none) and resolves once it is
    /// durable in the log and applied to the model. Fails fast with `QueueFull` instead of waiting.
    pub async fn submit(&self, source: &str, batch: Vec<Observation>) -> Result<Accepted, SubmitError> {
        let _ = (source, batch);
        todo!()
    }
}
