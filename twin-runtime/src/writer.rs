//! The single writer: a bounded ingest queue drained by one thread that appends each group of batches to
//! the durable log, applies them to the model, then publishes the changes.
//!
//! Invariant: a submitter is answered only after `Store::append` returned Ok for its batch, so nothing
//! acknowledged is ever lost. When the disk is full the writer refuses batches (`StorageFull`, 503)
//! and checks every tick whether space returned (a probe file of [`SPACE_PROBE_BYTES`]), then goes
//! on. After
//! any other append error it fails every pending batch and refuses new ones for good (the log can
//! no longer promise durability). A failed snapshot is retried with a growing pause.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::oneshot;
use twin_core::entity::MAX_FUTURE_MS;
use twin_core::rules::RaiseAlert;
use twin_core::store::{encoded_len, FsyncPolicy, LogRecord, Store, StoreError, MAX_RECORD_BYTES};
use twin_core::{ActorId, AlertId, Applied, Observation, Twin};

use crate::clock::now;
use crate::live::LiveHub;
use crate::metrics::Metrics;

/// How many observations of a submitted batch were accepted (durable and applied) and which were refused.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    pub accepted: usize,
    /// (index in the batch, reason)
    pub rejected: Vec<(usize, String)>,
}

/// What a logged record did: its sequence number and the alerts the model numbered for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    pub seq: u64,
    pub alerts: Vec<AlertId>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: retry later (HTTP 503 + Retry-After).
    #[error("ingest queue is full")]
    QueueFull,
    /// The writer stopped (shutting down, or the log failed).
    #[error("ingest writer is not running: {0}")]
    Unavailable(String),
    /// The data directory's file system is full: nothing was logged. Retry later (HTTP 503); the
    /// writer resumes by itself once space returns.
    #[error("the durable log cannot grow: {0}")]
    StorageFull(String),
    /// The batch or record encodes to more bytes than one log record may hold: split it (HTTP 413).
    #[error("the batch encodes to {bytes} bytes, more than the {max} bytes one log record holds; split it")]
    TooLarge { bytes: usize, max: usize },
    /// The record is invalid on its own (checked before anything is logged).
    #[error("{0}")]
    Invalid(#[from] twin_core::Error),
}

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Batches that may wait in the queue before `submit` fails with `QueueFull`.
    pub queue_capacity: usize,
    /// How often time passes in the model (`LogRecord::Tick`).
    pub tick_interval: Duration,
    /// Most batches committed together.
    pub max_group: usize,
    /// Largest encoded record accepted (`SubmitError::TooLarge` above it); at most
    /// [`MAX_RECORD_BYTES`], which is also the default.
    pub max_record_bytes: usize,
    /// Pause before retrying a failed snapshot; doubled after each further failure up to
    /// `snapshot_retry_max`, so a broken snapshot directory does not re-encode the model on every
    /// turn of the loop.
    pub snapshot_retry: Duration,
    pub snapshot_retry_max: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            tick_interval: Duration::from_secs(1),
            max_group: 256,
            max_record_bytes: MAX_RECORD_BYTES,
            snapshot_retry: Duration::from_secs(1),
            snapshot_retry_max: Duration::from_secs(5 * 60),
        }
    }
}

/// Free space, in bytes, that must be there before a writer refused for a full disk takes batches
/// again: far more than the slack in the last page of a segment, which tiny records still fit.
pub const SPACE_PROBE_BYTES: usize = 64 * 1024;
/// The probe's file, in the data directory; removed right after each probe.
const SPACE_PROBE_FILE: &str = ".space-probe";

/// Whether the durable log takes writes; what `/healthz` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogHealth {
    #[default]
    Ok,
    /// The disk is full: batches are refused until an append succeeds again (checked every tick).
    StorageFull(String),
    /// The log failed for good (a failed fsync, an unusable file): a restart is needed.
    Failed(String),
}

enum Job {
    /// Observations: answered with what the model accepted.
    Batch { actor: ActorId, batch: Vec<Observation>, reply: oneshot::Sender<Result<Accepted, SubmitError>> },
    /// Any other record (a raised alert, an extension's command, a delete).
    Record { record: LogRecord, reply: oneshot::Sender<Result<Committed, SubmitError>> },
}

impl Job {
    fn refuse(self, e: SubmitError) {
        match self {
            Job::Batch { reply, .. } => drop(reply.send(Err(e))),
            Job::Record { reply, .. } => drop(reply.send(Err(e))),
        }
    }
}

/// State shared between the handles and the writer thread.
#[derive(Default)]
pub struct WriterShared {
    /// Sequence number of the last record in the log.
    pub seq: AtomicU64,
    pub queue_depth: AtomicUsize,
    /// Snapshots that failed since start (each one is retried later, with a growing pause).
    pub snapshot_failures: AtomicU64,
    stopped: AtomicBool,
    health: Mutex<LogHealth>,
}

impl WriterShared {
    /// Whether the log takes writes now.
    pub fn health(&self) -> LogHealth {
        self.health.lock().clone()
    }

    /// Why the log refuses writes, if it does (disk full or failed).
    pub fn log_error(&self) -> Option<String> {
        match self.health() {
            LogHealth::Ok => None,
            LogHealth::StorageFull(reason) | LogHealth::Failed(reason) => Some(reason),
        }
    }
}

/// Cheap to clone; every feed (HTTP, demo simulators, later MQTT/AIS connectors) submits through it.
#[derive(Clone)]
pub struct IngestHandle {
    tx: SyncSender<Job>,
    shared: Arc<WriterShared>,
}

impl IngestHandle {
    /// Queues `batch` (stamped with `source` if an observation has none) and resolves once it is
    /// durable in the log and applied to the model. Fails fast with `QueueFull` instead of waiting.
    /// The feed itself is the actor (`feed:<source>`); see [`IngestHandle::submit_as`].
    pub async fn submit(&self, source: &str, batch: Vec<Observation>) -> Result<Accepted, SubmitError> {
        self.submit_as(ActorId(format!("feed:{source}")), source, batch).await
    }

    /// [`IngestHandle::submit`] on behalf of an authenticated actor, who is logged with the batch.
    pub async fn submit_as(
        &self,
        actor: ActorId,
        source: &str,
        mut batch: Vec<Observation>,
    ) -> Result<Accepted, SubmitError> {
        for o in batch.iter_mut().filter(|o| o.source.is_empty()) {
            o.source = source.to_owned();
        }
        let (reply, rx) = oneshot::channel();
        self.enqueue(Job::Batch { actor, batch, reply })?;
        rx.await.unwrap_or_else(|_| Err(SubmitError::Unavailable("writer stopped before answering".into())))
    }

    /// Logs an alert raised outside the rule engine (stale feed, camera, alarm panel); the model
    /// numbers it in the same sequence as rule alerts and the live hub publishes it.
    pub async fn raise_alert(&self, actor: ActorId, alert: RaiseAlert) -> Result<Committed, SubmitError> {
        alert.validate()?;
        self.submit_record(LogRecord::RaiseAlert { actor, alert }).await
    }

    /// Logs any record and resolves once it is durable and applied.
    pub async fn submit_record(&self, record: LogRecord) -> Result<Committed, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.enqueue(Job::Record { record, reply })?;
        rx.await.unwrap_or_else(|_| Err(SubmitError::Unavailable("writer stopped before answering".into())))
    }

    fn enqueue(&self, job: Job) -> Result<(), SubmitError> {
        match self.shared.health() {
            LogHealth::Ok => {}
            LogHealth::StorageFull(reason) => return Err(SubmitError::StorageFull(reason)),
            LogHealth::Failed(reason) => return Err(SubmitError::Unavailable(reason)),
        }
        if self.shared.stopped.load(Ordering::Acquire) {
            return Err(SubmitError::Unavailable("shutting down".into()));
        }
        match self.tx.try_send(job) {
            Ok(()) => {
                self.shared.queue_depth.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(SubmitError::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Unavailable("writer stopped".into())),
        }
    }

    pub fn shared(&self) -> &Arc<WriterShared> {
        &self.shared
    }

    /// Whether the log takes writes now (see [`WriterShared::health`]).
    pub fn health(&self) -> LogHealth {
        self.shared.health()
    }
}

enum Reply {
    Batch(oneshot::Sender<Result<Accepted, SubmitError>>),
    Record(oneshot::Sender<Result<Committed, SubmitError>>),
}

impl Reply {
    fn refuse(self, e: SubmitError) {
        match self {
            Reply::Batch(r) => drop(r.send(Err(e))),
            Reply::Record(r) => drop(r.send(Err(e))),
        }
    }
}

/// The running writer thread.
pub struct Writer {
    handle: IngestHandle,
    join: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread. `twin` must be the model `store` recovered.
    pub fn spawn(
        store: Store,
        twin: Arc<RwLock<Twin>>,
        hub: LiveHub,
        metrics: Arc<Metrics>,
        config: WriterConfig,
        seq: u64,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let shared = Arc::new(WriterShared::default());
        shared.seq.store(seq, Ordering::Relaxed);
        let snapshot_backoff = Backoff::new(config.snapshot_retry, config.snapshot_retry_max);
        let ctx = Ctx { store, twin, hub, metrics, config, shared: shared.clone(), snapshot_backoff };
        let join = std::thread::Builder::new().name("citytwin-writer".into()).spawn(move || ctx.run(rx))?;
        Ok(Writer { handle: IngestHandle { tx, shared }, join: Some(join) })
    }

    pub fn handle(&self) -> IngestHandle {
        self.handle.clone()
    }

    /// Stops accepting, commits what is queued, fsyncs and waits for the thread. Blocking.
    pub fn shutdown(mut self) {
        self.handle.shared.stopped.store(true, Ordering::Release);
        if let Some(j) = self.join.take() {
            if j.join().is_err() {
                tracing::error!("writer thread panicked");
            }
        }
    }
}

struct Ctx {
    store: Store,
    twin: Arc<RwLock<Twin>>,
    hub: LiveHub,
    metrics: Arc<Metrics>,
    config: WriterConfig,
    shared: Arc<WriterShared>,
    snapshot_backoff: Backoff,
}

/// Paces the retries of something that keeps failing: the first after `first`, each later one
/// after twice the previous pause, at most `max`; a success starts over.
#[derive(Debug)]
struct Backoff {
    first: Duration,
    max: Duration,
    pause: Duration,
    next: Option<Instant>,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Self {
        Self { first, max: max.max(first), pause: first, next: None }
    }

    fn ready(&self, now: Instant) -> bool {
        self.next.is_none_or(|at| now >= at)
    }

    /// Records a failure at `now`; returns the pause before the next try.
    fn failed(&mut self, now: Instant) -> Duration {
        let pause = self.pause;
        self.next = Some(now + pause);
        self.pause = (pause * 2).min(self.max);
        pause
    }

    fn succeeded(&mut self) {
        self.pause = self.first;
        self.next = None;
    }
}

/// One job of a group commit, waiting for its record's append.
struct Pending {
    reply: Reply,
    /// Observations refused before logging: (index in the submitted batch, reason).
    early: Vec<(usize, String)>,
    /// Index in the submitted batch of each logged observation.
    kept: Vec<usize>,
    submitted: usize,
    source: String,
}

impl Ctx {
    fn run(mut self, rx: Receiver<Job>) {
        let sync_every = match self.store.config().fsync {
            FsyncPolicy::Interval(d) => Some(d),
            FsyncPolicy::Always => None,
        };
        let mut next_tick = Instant::now() + self.config.tick_interval;
        let mut next_sync = sync_every.map(|d| Instant::now() + d);
        loop {
            let stopping = self.shared.stopped.load(Ordering::Acquire);
            let wake = next_sync.map_or(next_tick, |s| s.min(next_tick));
            // While stopping, only drain what is already queued.
            let wait = if stopping {
                Duration::ZERO
            } else {
                wake.saturating_duration_since(Instant::now()).min(Duration::from_millis(100))
            };
            match rx.recv_timeout(wait) {
                Ok(first) => {
                    let mut jobs = vec![first];
                    while jobs.len() < self.config.max_group {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    self.shared.queue_depth.fetch_sub(jobs.len(), Ordering::Relaxed);
                    self.commit(jobs);
                }
                Err(RecvTimeoutError::Timeout) if stopping => break,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.failed() {
                // Refuse whatever is still queued: it can no longer be made durable.
                while let Ok(j) = rx.try_recv() {
                    self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
                    j.refuse(SubmitError::Unavailable("durable log failed".into()));
                }
                if stopping {
                    break;
                }
                continue;
            }
            let now_i = Instant::now();
            if now_i >= next_tick {
                next_tick = now_i + self.config.tick_interval;
                self.probe_space();
                self.tick();
            }
            if let (Some(at), Some(every)) = (next_sync, sync_every) {
                if now_i >= at {
                    next_sync = Some(now_i + every);
                    if let Err(e) = self.store.sync() {
                        self.fail(&e.to_string());
                    }
                }
            }
            if self.shared.health() == LogHealth::Ok
                && self.store.needs_snapshot()
                && self.snapshot_backoff.ready(Instant::now())
            {
                self.snapshot();
            }
        }
        if !self.failed() {
            match self.store.sync() {
                Ok(()) => tracing::info!(seq = self.shared.seq.load(Ordering::Relaxed), "durable log flushed"),
                Err(e) => tracing::error!(error = %e, "final fsync failed"),
            }
        }
    }

    fn failed(&self) -> bool {
        matches!(*self.shared.health.lock(), LogHealth::Failed(_))
    }

    fn fail(&self, reason: &str) {
        tracing::error!(error = reason, "durable log failed; ingest stops");
        *self.shared.health.lock() = LogHealth::Failed(format!("durable log failed: {reason}"));
    }

    fn snapshot(&mut self) {
        let started = Instant::now();
        let res = self.store.snapshot(&self.twin.read());
        match res {
            Ok(()) => {
                self.snapshot_backoff.succeeded();
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "snapshot written");
            }
            Err(e) => {
                self.shared.snapshot_failures.fetch_add(1, Ordering::Relaxed);
                let retry = self.snapshot_backoff.failed(Instant::now());
                tracing::error!(error = %e, retry_in_s = retry.as_secs_f64(), "snapshot failed; the log still holds everything");
            }
        }
    }

    /// A batch or record was appended: if the disk was full, it has room again.
    fn appended(&self) {
        let mut health = self.shared.health.lock();
        if matches!(*health, LogHealth::StorageFull(_)) {
            tracing::info!("the durable log takes writes again; ingest resumes");
            *health = LogHealth::Ok;
        }
    }

    /// While the disk is full: whether [`SPACE_PROBE_BYTES`] fit now, by writing and removing a
    /// file of that size. A tick record that fits proves nothing (it may fit in the last page of
    /// the segment), so ingest resumes on this or on an appended batch.
    fn probe_space(&self) {
        if !matches!(self.shared.health(), LogHealth::StorageFull(_)) {
            return;
        }
        let path = self.store.config().dir.join(SPACE_PROBE_FILE);
        let fits = std::fs::File::create(&path).and_then(|mut f| f.write_all(&[0u8; SPACE_PROBE_BYTES])).is_ok();
        // Whatever it got, the probe gives back at once.
        let _ = std::fs::remove_file(&path);
        if fits {
            self.appended();
        }
    }

    /// Sorts out a failed append: a full disk refuses for now (the failed write was taken back),
    /// anything else fails the log for good. Returns what to answer the submitters.
    fn append_failed(&self, e: &StoreError) -> SubmitError {
        if e.is_storage_full() && self.store.is_usable() {
            let reason = format!("the data directory's disk is full: {e}");
            let mut health = self.shared.health.lock();
            if *health == LogHealth::Ok {
                tracing::error!(error = %e, "disk full: ingest refused until space returns");
            }
            *health = LogHealth::StorageFull(reason.clone());
            return SubmitError::StorageFull(reason);
        }
        if let StoreError::RecordTooLarge { bytes, max } = *e {
            // Checked before appending; should the store's own limit still refuse, nothing was written.
            return SubmitError::TooLarge { bytes, max };
        }
        self.fail(&e.to_string());
        SubmitError::Unavailable("durable log failed".into())
    }

    /// Turns a job into the record to log, or answers it at once: observations more than
    /// [`MAX_FUTURE_MS`] ahead of the server's clock are refused here, before logging (replay
    /// cannot judge them: by then they are in the past), and a record too large to log is the
    /// client's error.
    fn prepare(&self, job: Job, now: twin_core::Timestamp) -> Option<(LogRecord, Pending)> {
        let max = self.config.max_record_bytes.min(MAX_RECORD_BYTES);
        let (record, pending) = match job {
            Job::Batch { actor, batch, reply } => {
                let submitted = batch.len();
                let source = batch.first().map(|o| o.source.clone()).unwrap_or_default();
                let latest = now.plus_millis(MAX_FUTURE_MS);
                let mut early = Vec::new();
                let mut kept = Vec::with_capacity(submitted);
                let mut logged = Vec::with_capacity(submitted);
                for (i, o) in batch.into_iter().enumerate() {
                    // Only a time past the bound needs the full check (which names the field).
                    match (o.time > latest).then(|| o.validate_at(now)) {
                        Some(Err(e)) => early.push((i, e.to_string())),
                        _ => {
                            kept.push(i);
                            logged.push(o);
                        }
                    }
                }
                let pending = Pending { reply: Reply::Batch(reply), early, kept, submitted, source };
                if logged.is_empty() {
                    self.answer_batch(pending, &[]);
                    return None;
                }
                (LogRecord::Observations { actor, batch: logged }, pending)
            }
            Job::Record { record, reply } => (
                record,
                Pending {
                    reply: Reply::Record(reply),
                    early: Vec::new(),
                    kept: Vec::new(),
                    submitted: 0,
                    source: String::new(),
                },
            ),
        };
        let bytes = encoded_len(&record);
        if bytes > max {
            pending.reply.refuse(SubmitError::TooLarge { bytes, max });
            return None;
        }
        Some((record, pending))
    }

    /// Answers a batch once its record was applied (`rejected` indexes the logged observations).
    fn answer_batch(&self, pending: Pending, rejected: &[(usize, twin_core::Error)]) {
        let Pending { reply, mut early, kept, submitted, source } = pending;
        early.extend(rejected.iter().filter_map(|(i, e)| Some((*kept.get(*i)?, e.to_string()))));
        early.sort_by_key(|(i, _)| *i);
        let accepted = submitted.saturating_sub(early.len());
        self.metrics.count_ingest(&source, accepted as u64, early.len() as u64);
        if let Reply::Batch(reply) = reply {
            let _ = reply.send(Ok(Accepted { accepted, rejected: early }));
        }
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        let _span = tracing::debug_span!("commit", records = jobs.len()).entered();
        let now = now();
        let mut pending = Vec::with_capacity(jobs.len());
        let mut records = Vec::with_capacity(jobs.len());
        for j in jobs {
            if let Some((record, p)) = self.prepare(j, now) {
                records.push(record);
                pending.push(p);
            }
        }
        if records.is_empty() {
            return;
        }
        let started = Instant::now();
        let last = match self.store.append(&records) {
            Ok(seq) => seq,
            Err(e) => {
                let refusal = self.append_failed(&e);
                for p in pending {
                    p.reply.refuse(refusal.clone());
                }
                return;
            }
        };
        self.appended();
        self.metrics.observe_append(started.elapsed());
        self.shared.seq.store(last, Ordering::Relaxed);
        // Records of one append get consecutive sequence numbers ending at `last`.
        let first = last + 1 - records.len() as u64;
        let mut merged = Applied::default();
        let mut twin = self.twin.write();
        for ((i, record), p) in records.iter().enumerate().zip(pending) {
            let applied = twin.apply_record(record);
            match (record, p.reply) {
                (LogRecord::Observations { .. }, Reply::Batch(reply)) => {
                    self.answer_batch(Pending { reply: Reply::Batch(reply), ..p }, &applied.rejected);
                }
                (_, Reply::Record(reply)) => {
                    let alerts = applied.alerts.iter().map(|a| a.id).collect();
                    let _ = reply.send(Ok(Committed { seq: first + i as u64, alerts }));
                }
                (_, Reply::Batch(reply)) => {
                    let _ = reply.send(Ok(Accepted::default()));
                }
            }
            merged.changes.extend(applied.changes);
            merged.alerts.extend(applied.alerts);
        }
        let prepared = self.hub.publish(last, &twin, merged);
        drop(twin);
        if let Some(p) = prepared {
            self.hub.send(p);
        }
    }

    fn tick(&mut self) {
        let now = now();
        // While the disk is full this is also the periodic retry: a tick that fits ends the refusal.
        let seq = match self.store.append(&[LogRecord::Tick(now)]) {
            Ok(seq) => seq,
            Err(e) => {
                self.append_failed(&e);
                return;
            }
        };
        self.shared.seq.store(seq, Ordering::Relaxed);
        let mut twin = self.twin.write();
        let applied = twin.tick(now);
        if !applied.changes.is_empty() || !applied.alerts.is_empty() {
            tracing::debug!(changes = applied.changes.len(), alerts = applied.alerts.len(), "tick");
        }
        let prepared = self.hub.publish(seq, &twin, applied);
        drop(twin);
        if let Some(p) = prepared {
            self.hub.send(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_retries_double_up_to_the_cap_and_start_over_after_a_success() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        assert!(b.ready(t0));
        // A loop turning every 100 ms for an hour tries only when the pause has passed.
        let mut tries = 0;
        let mut pauses = Vec::new();
        for step in 0..36_000u64 {
            let at = t0 + Duration::from_millis(step * 100);
            if b.ready(at) {
                tries += 1;
                pauses.push(b.failed(at).as_secs());
            }
        }
        assert_eq!(&pauses[..10], &[1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        // 1 + 2 + … + 256 = 511 s, then every 300 s: 9 + (3600 - 511) / 300 + 1 tries.
        assert_eq!(tries, 9 + 3089 / 300 + 1);
        b.succeeded();
        assert!(b.ready(t0));
        assert_eq!(b.failed(t0), Duration::from_secs(1));
    }
}
