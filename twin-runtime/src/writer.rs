//! The single writer: a bounded ingest queue drained by one thread that appends each group of batches to
//! the durable log, applies them to the model, then publishes the changes.
//!
//! Invariant: a submitter is answered only after `Store::append` returned Ok for its batch, so nothing
//! acknowledged is ever lost. After an append error the writer fails every pending batch and refuses
//! new ones (the log can no longer promise durability).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::oneshot;
use twin_core::rules::RaiseAlert;
use twin_core::store::{FsyncPolicy, LogRecord, Store};
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

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: retry later (HTTP 503 + Retry-After).
    #[error("ingest queue is full")]
    QueueFull,
    /// The writer stopped (shutting down, or the log failed).
    #[error("ingest writer is not running: {0}")]
    Unavailable(String),
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
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self { queue_capacity: 1024, tick_interval: Duration::from_secs(1), max_group: 256 }
    }
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
    stopped: AtomicBool,
    failure: Mutex<Option<String>>,
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
        if let Some(reason) = self.shared.failure.lock().clone() {
            return Err(SubmitError::Unavailable(reason));
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
        let ctx = Ctx { store, twin, hub, metrics, config, shared: shared.clone() };
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
            if !self.failed() && self.store.needs_snapshot() {
                let started = Instant::now();
                let res = self.store.snapshot(&self.twin.read());
                match res {
                    Ok(()) => tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "snapshot written"),
                    Err(e) => tracing::error!(error = %e, "snapshot failed; the log still holds everything"),
                }
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
        self.shared.failure.lock().is_some()
    }

    fn fail(&self, reason: &str) {
        tracing::error!(error = reason, "durable log failed; ingest stops");
        *self.shared.failure.lock() = Some(format!("durable log failed: {reason}"));
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        let _span = tracing::debug_span!("commit", records = jobs.len()).entered();
        let mut replies = Vec::with_capacity(jobs.len());
        let mut records = Vec::with_capacity(jobs.len());
        for j in jobs {
            match j {
                Job::Batch { actor, batch, reply } => {
                    replies.push(Reply::Batch(reply));
                    records.push(LogRecord::Observations { actor, batch });
                }
                Job::Record { record, reply } => {
                    replies.push(Reply::Record(reply));
                    records.push(record);
                }
            }
        }
        let started = Instant::now();
        let last = match self.store.append(&records) {
            Ok(seq) => seq,
            Err(e) => {
                self.fail(&e.to_string());
                for r in replies {
                    r.refuse(SubmitError::Unavailable("durable log failed".into()));
                }
                return;
            }
        };
        self.metrics.observe_append(started.elapsed());
        self.shared.seq.store(last, Ordering::Relaxed);
        // Records of one append get consecutive sequence numbers ending at `last`.
        let first = last + 1 - records.len() as u64;
        let mut merged = Applied::default();
        let mut twin = self.twin.write();
        for ((i, record), reply) in records.iter().enumerate().zip(replies) {
            let applied = twin.apply_record(record);
            match (record, reply) {
                (LogRecord::Observations { batch, .. }, Reply::Batch(reply)) => {
                    let rejected: Vec<(usize, String)> =
                        applied.rejected.iter().map(|(i, e)| (*i, e.to_string())).collect();
                    let accepted = batch.len().saturating_sub(rejected.len());
                    let source = batch.first().map_or("", |o| o.source.as_str());
                    self.metrics.count_ingest(source, accepted as u64, rejected.len() as u64);
                    let _ = reply.send(Ok(Accepted { accepted, rejected }));
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
        let seq = match self.store.append(&[LogRecord::Tick(now)]) {
            Ok(seq) => seq,
            Err(e) => return self.fail(&e.to_string()),
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
