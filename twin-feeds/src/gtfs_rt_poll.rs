//! GTFS-realtime HTTP poll connector: fetches a feed every interval with conditional requests
//! (`If-None-Match` / `If-Modified-Since`, so an unchanged feed costs a 304), decodes it and
//! submits its Bus observations through the ingest queue. Errors back off exponentially up to a
//! ceiling; a full ingest queue counts as an error, so the poller slows down instead of piling up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use twin_core::PropertyValue;
use twin_ingest::gtfs_rt::{decode_feed, to_observations, GtfsRtError, ObservationOptions};
use twin_ingest::health::FeedRegistry;

use twin_runtime::clock::now;
use twin_runtime::writer::{IngestHandle, SubmitError};

#[derive(Debug, Clone)]
pub struct PollConfig {
    pub url: String,
    /// Source name of the observations.
    pub source: String,
    pub interval: Duration,
    pub max_backoff: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Largest feed accepted, bytes.
    pub max_bytes: u64,
    /// Added to every observation: labels the protocol cannot carry (`simulated`, `replay_of`).
    pub labels: Vec<(String, PropertyValue)>,
    /// Time every observation at the fetch, not by the feed's timestamps: a replayed old capture
    /// is shown as if live (as the AIS replay does).
    pub retime: bool,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            source: "gtfs-rt".into(),
            interval: Duration::from_secs(15),
            max_backoff: Duration::from_secs(300),
            timeout: Duration::from_secs(20),
            max_bytes: 32 << 20,
            labels: Vec::new(),
            retime: false,
        }
    }
}

/// Validators of the last feed we got, sent back on the next request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Counters of one poller, readable while it runs.
#[derive(Debug, Default)]
pub struct PollStats {
    pub fetched: AtomicU64,
    pub not_modified: AtomicU64,
    pub errors: AtomicU64,
    pub observations: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("HTTP request failed: {0}")]
    Http(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error(transparent)]
    Decode(#[from] GtfsRtError),
    #[error(transparent)]
    Submit(#[from] SubmitError),
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    NotModified,
    /// The feed was fetched; this many observations were accepted.
    Ingested {
        accepted: usize,
        skipped: usize,
    },
}

/// Delay before the next poll after `failures` consecutive errors: the interval doubled per
/// failure, at most `max`.
pub fn backoff(interval: Duration, failures: u32, max: Duration) -> Duration {
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    interval.saturating_mul(factor).min(max.max(interval))
}

enum Fetched {
    NotModified,
    Body(Vec<u8>, Validators),
}

fn fetch_blocking(agent: &ureq::Agent, cfg: &PollConfig, v: &Validators) -> Result<Fetched, PollError> {
    let mut req = agent.get(&cfg.url).header("Accept", "application/x-protobuf, application/octet-stream");
    if let Some(e) = &v.etag {
        req = req.header("If-None-Match", e);
    }
    if let Some(m) = &v.last_modified {
        req = req.header("If-Modified-Since", m);
    }
    let mut resp = req.call().map_err(|e| PollError::Http(e.to_string()))?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(Fetched::NotModified);
    }
    if status != 200 {
        return Err(PollError::Status(status));
    }
    let header = |name: &str| resp.headers().get(name).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let validators = Validators { etag: header("etag"), last_modified: header("last-modified") };
    let body =
        resp.body_mut().with_config().limit(cfg.max_bytes).read_to_vec().map_err(|e| PollError::Http(e.to_string()))?;
    Ok(Fetched::Body(body, validators))
}

/// A poller's HTTP agent: status codes are answers, not errors, so 304 reaches us.
pub fn agent(cfg: &PollConfig) -> ureq::Agent {
    let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(cfg.timeout)).build();
    ureq::Agent::new_with_config(config)
}

/// One conditional fetch, decode and submit. `validators` is updated after a fresh feed.
pub async fn poll_once(
    agent: &ureq::Agent,
    cfg: &PollConfig,
    validators: &mut Validators,
    ingest: &IngestHandle,
    stats: &PollStats,
) -> Result<PollOutcome, PollError> {
    let fetched = {
        let (agent, cfg, v) = (agent.clone(), cfg.clone(), validators.clone());
        tokio::task::spawn_blocking(move || fetch_blocking(&agent, &cfg, &v))
            .await
            .map_err(|e| PollError::Http(e.to_string()))??
    };
    let (body, fresh) = match fetched {
        Fetched::NotModified => {
            stats.not_modified.fetch_add(1, Ordering::Relaxed);
            return Ok(PollOutcome::NotModified);
        }
        Fetched::Body(body, v) => (body, v),
    };
    stats.fetched.fetch_add(1, Ordering::Relaxed);
    let feed = decode_feed(&body)?;
    let fetched_at = now();
    let opts = ObservationOptions { source: cfg.source.clone(), fallback_time: fetched_at };
    let mut out = to_observations(&feed, &opts);
    for o in &mut out.observations {
        if cfg.retime {
            o.time = fetched_at;
        }
        o.properties.extend(cfg.labels.iter().cloned());
    }
    let accepted =
        if out.observations.is_empty() { 0 } else { ingest.submit(&cfg.source, out.observations).await?.accepted };
    // Remember the validators only once the feed is in, so a failed submit is fetched again.
    *validators = fresh;
    stats.observations.fetch_add(accepted as u64, Ordering::Relaxed);
    Ok(PollOutcome::Ingested { accepted, skipped: out.skipped })
}

/// Reports one poll to the feed-health registry: a fetched feed is a message (accepted or
/// rejected as malformed), a transport failure a connection error.
fn report(health: &FeedRegistry, source: &str, result: &Result<PollOutcome, PollError>) {
    let now_ms = now().as_millis();
    match result {
        Ok(PollOutcome::NotModified) => health.connection(source, true, None),
        Ok(PollOutcome::Ingested { accepted, .. }) => {
            health.connection(source, true, None);
            health.received(source, now_ms);
            health.accepted(source, *accepted as u64);
        }
        Err(PollError::Decode(e)) => {
            health.connection(source, true, None);
            health.received(source, now_ms);
            health.rejected(source, e.reason(), 1);
        }
        Err(PollError::Submit(_)) => health.rejected(source, "queue_full", 1),
        Err(e @ (PollError::Http(_) | PollError::Status(_))) => health.connection(source, false, Some(e.to_string())),
    }
}

/// Starts polling until the task is aborted; counts go to `health` when given.
pub fn spawn(
    cfg: PollConfig,
    ingest: IngestHandle,
    health: Option<Arc<FeedRegistry>>,
) -> (JoinHandle<()>, Arc<PollStats>) {
    let stats = Arc::new(PollStats::default());
    let task_stats = stats.clone();
    let task = tokio::spawn(async move {
        let agent = agent(&cfg);
        let mut validators = Validators::default();
        let mut failures = 0u32;
        if let Some(h) = &health {
            h.register(&cfg.source, "gtfs-rt", now().as_millis());
        }
        loop {
            let result = poll_once(&agent, &cfg, &mut validators, &ingest, &task_stats).await;
            if let Some(h) = &health {
                report(h, &cfg.source, &result);
            }
            match result {
                Ok(outcome) => {
                    failures = 0;
                    tracing::debug!(url = %cfg.url, ?outcome, "GTFS-realtime poll");
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    task_stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(url = %cfg.url, failures, error = %e, "GTFS-realtime poll failed");
                }
            }
            let wait = if failures == 0 { cfg.interval } else { backoff(cfg.interval, failures, cfg.max_backoff) };
            tokio::time::sleep(wait).await;
        }
    });
    (task, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(15), 1, s(300)), s(30));
        assert_eq!(backoff(s(15), 2, s(300)), s(60));
        assert_eq!(backoff(s(15), 5, s(300)), s(300));
        assert_eq!(backoff(s(15), 40, s(300)), s(300));
        assert_eq!(backoff(s(15), 3, s(5)), s(15), "never below the interval");
    }
}
