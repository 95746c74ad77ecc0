//! The durable log: every accepted batch is appended (length + CRC32 framing) before it is
//! acknowledged; snapshots bound replay time. Plain `std::fs`, no async runtime.
//!
//! A data directory holds `log/<first seq>.log` segments (see `segment`), `snapshots/` (see
//! `snapshot`) and, after a repair, `quarantine/` with everything that was cut off. Invariants:
//! sequence numbers are dense from 1 across segments; a segment's name is the seq of its first
//! record; a snapshot named `S` reflects exactly records `1..=S`; the two newest snapshots are
//! kept, with all log after the older one, so recovery can fall back when the newest is damaged.
//!
//! The log is also the one durable stream of alerts and the audit trail: raised alerts
//! ([`LogRecord::RaiseAlert`]) are numbered by the model like rule alerts, and every record from
//! outside names its [`ActorId`]. Other domain crates log their own changes as
//! [`LogRecord::Extension`] records through the same writer, keep their state in snapshot
//! sections ([`Store::snapshot_with`]) and get both back through a [`ReplaySink`]
//! ([`Store::open_with`]).
//!
//! Fuzzing: `cd twin-core && RUSTC_BOOTSTRAP=1 cargo fuzz run store_record -- -max_total_time=60`
//! (and `store_snapshot`); see `twin-core/fuzz/README.md`.

mod chunks;
mod codec;
mod extension;
mod reader;
mod records;
mod recovery;
mod segment;
mod snapshot;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

pub use codec::CodecError;
pub use extension::{
    CollectExtensions, ExtensionSection, ExtensionSections, ReplaySink, SinkError, StreamName, StreamNameError,
    MAX_STREAM_NAME,
};
pub use reader::LogReader;
pub use records::{decode_parts, decode_record, encode_parts, encode_record, encoded_len};
pub use segment::LOG_VERSION;
pub use snapshot::{decode_snapshot, encode_snapshot, SnapshotContents, SnapshotDecodeError, SNAPSHOT_VERSION};

use crate::rules::{RaiseAlert, RuleSet};
use crate::{ActorId, Applied, Change, EntityId, Observation, Timestamp, Twin, TwinConfig};

/// The actor of records written before the log attributed records to actors.
pub const UNATTRIBUTED: &str = "unattributed";

/// The largest log record payload, in bytes: `append` refuses larger records with
/// `StoreError::RecordTooLarge` (split batches; keep extension payloads well below it).
pub const MAX_RECORD_BYTES: usize = segment::MAX_PAYLOAD;

/// One entry of the log. Everything that changes the model is logged, so replay is exact; what
/// comes from outside names the actor, so the log is also the audit trail. Ticks are the
/// server's own (`system`).
#[derive(Debug, Clone, PartialEq)]
pub enum LogRecord {
    /// A batch of observations, all from one actor (a feed client, a device, `system` for
    /// simulators).
    Observations { actor: ActorId, batch: Vec<Observation> },
    /// Time passed (expiry and time-based rules ran at this instant).
    Tick(Timestamp),
    /// An operator deleted an entity.
    Remove { actor: ActorId, id: EntityId },
    /// An alert from outside the rule engine; numbered by the model like rule alerts.
    RaiseAlert { actor: ActorId, alert: RaiseAlert },
    /// Opaque state change of another domain crate (cases, dispatch …): logged, numbered and
    /// replayed to a [`ReplaySink`], ignored by the model.
    Extension { actor: ActorId, stream: StreamName, version: u16, payload: Vec<u8> },
}

impl LogRecord {
    /// Who made the change; `None` for ticks (the server itself).
    pub fn actor(&self) -> Option<&ActorId> {
        match self {
            LogRecord::Observations { actor, .. }
            | LogRecord::Remove { actor, .. }
            | LogRecord::RaiseAlert { actor, .. }
            | LogRecord::Extension { actor, .. } => Some(actor),
            LogRecord::Tick(_) => None,
        }
    }
}

impl Twin {
    /// Applies one log record: what the writer does after appending it and what replay does.
    /// Extension records change nothing here.
    pub fn apply_record(&mut self, record: &LogRecord) -> Applied {
        match record {
            LogRecord::Observations { batch, .. } => self.apply_batch(batch),
            LogRecord::Tick(now) => self.tick(*now),
            LogRecord::Remove { id, .. } => Applied {
                changes: self.remove(*id).map(|e| Change::Removed(Box::new(e))).into_iter().collect(),
                ..Applied::default()
            },
            LogRecord::RaiseAlert { alert, .. } => self.raise_alert(alert),
            LogRecord::Extension { .. } => Applied::default(),
        }
    }
}

/// When appended data reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before `append` returns: an acknowledged batch survives power loss.
    Always,
    /// fsync at most this often: an acknowledged batch survives a process crash (it is in the
    /// kernel's page cache) but the last interval may be lost on power loss.
    Interval(Duration),
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// Start a new segment file past this size.
    pub segment_bytes: u64,
    /// `needs_snapshot` turns true after this many bytes of log since the last snapshot.
    pub snapshot_after_bytes: u64,
    /// Truncate a corrupt log at the first bad record (moving the rest aside) instead of failing.
    pub repair: bool,
}

impl StoreConfig {
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
            fsync: FsyncPolicy::Always,
            segment_bytes: 64 << 20,
            snapshot_after_bytes: 256 << 20,
            repair: false,
        }
    }
}

/// What recovery found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveryReport {
    pub snapshot_seq: Option<u64>,
    pub replayed_records: u64,
    pub replayed_observations: u64,
    /// A torn tail that was cut off: (file, offset, bytes removed).
    pub truncated: Option<(PathBuf, u64, u64)>,
    /// With `repair`: where the log was cut and where the cut-off bytes were moved.
    pub repaired: Option<(PathBuf, u64, PathBuf)>,
    /// Things the operator should know (an unusable snapshot skipped, a repair): log them.
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "corrupt log record in {path} at byte offset {offset}: {reason} (start with --repair to cut the log there)"
    )]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("{path} has format version {found}, this build reads version {expected}")]
    Version { path: PathBuf, found: u32, expected: u32 },
    #[error("corrupt snapshot {path}: {reason}")]
    Snapshot { path: PathBuf, reason: String },
    #[error("{path} is locked: another process is using this data directory")]
    Locked { path: PathBuf },
    #[error("a log record of {bytes} bytes exceeds the limit of {max} bytes; split the batch")]
    RecordTooLarge { bytes: usize, max: usize },
    #[error("the replay consumer refused {}: {source}", replayed(.seq))]
    Replay { seq: Option<u64>, source: SinkError },
    #[error(transparent)]
    Model(#[from] crate::Error),
}

impl StoreError {
    /// The file system ran out of space (ENOSPC). An append that failed so took back what it
    /// wrote and the store stays usable: retry once space returns.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull || source.raw_os_error() == Some(ENOSPC)
            }
            _ => false,
        }
    }
}

/// `ENOSPC` on Linux and the BSDs; `ErrorKind::StorageFull` covers it where std maps it.
const ENOSPC: i32 = 28;

fn replayed(seq: &Option<u64>) -> String {
    seq.map_or_else(|| "the snapshot sections".to_owned(), |s| format!("record {s}"))
}

/// Maps an I/O error to `StoreError::Io` naming the file.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// The durable log of one data directory.
pub struct Store {
    config: StoreConfig,
    log_dir: PathBuf,
    snap_dir: PathBuf,
    /// The segment being appended to.
    file: File,
    path: PathBuf,
    segment_len: u64,
    next_seq: u64,
    unsynced: bool,
    last_sync: Instant,
    since_snapshot: u64,
    /// Set after a failed write or fsync: the file's state is unknown, so nothing more is appended.
    failed: bool,
    buf: Vec<u8>,
    /// Holds an exclusive lock on `<dir>/LOCK` for the store's lifetime.
    _lock: File,
}

/// Takes the directory's lock: two writers on one log would interleave records.
fn lock_dir(dir: &Path) -> Result<File, StoreError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join("LOCK");
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked { path }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
    }
}

impl Store {
    /// Opens (or creates) the data directory, loads the newest snapshot and replays the log after it.
    /// Extension sections and records are skipped: see [`Store::open_with`].
    pub fn open(
        config: StoreConfig,
        twin_config: TwinConfig,
        rules: RuleSet,
    ) -> Result<(Store, Twin, RecoveryReport), StoreError> {
        Self::open_with(config, twin_config, rules, &mut ())
    }

    /// Like [`Store::open`], handing the snapshot's extension sections and every replayed record
    /// to `sink` (see [`ReplaySink`] for the order), so other domain crates rebuild their state.
    pub fn open_with(
        config: StoreConfig,
        twin_config: TwinConfig,
        rules: RuleSet,
        sink: &mut dyn ReplaySink,
    ) -> Result<(Store, Twin, RecoveryReport), StoreError> {
        let lock = lock_dir(&config.dir)?;
        let recovered = recovery::recover(&config, twin_config, rules, sink)?;
        let log_dir = config.dir.join("log");
        let snap_dir = config.dir.join("snapshots");
        let (file, path) = match recovered.active {
            Some(seg) => (OpenOptions::new().append(true).open(&seg.path).map_err(io_err(&seg.path))?, seg.path),
            None => segment::create_segment(&log_dir, recovered.next_seq)?,
        };
        let segment_len = file.metadata().map_err(io_err(&path))?.len();
        let store = Store {
            config,
            log_dir,
            snap_dir,
            file,
            path,
            segment_len,
            next_seq: recovered.next_seq,
            unsynced: false,
            last_sync: Instant::now(),
            since_snapshot: recovered.replayed_bytes,
            failed: false,
            buf: Vec::new(),
            _lock: lock,
        };
        Ok((store, recovered.twin, recovered.report))
    }

    /// Appends records as one group commit; returns once they are durable per the fsync policy.
    /// Returns the sequence number of the last record. A failed write (the disk is full: see
    /// [`StoreError::is_storage_full`]) is cut back off the segment, so the log stays valid and a
    /// later append may succeed; a failed fsync makes the store unusable.
    pub fn append(&mut self, records: &[LogRecord]) -> Result<u64, StoreError> {
        self.check_usable()?;
        if records.is_empty() {
            return Ok(self.last_seq());
        }
        if self.segment_len >= self.config.segment_bytes && self.segment_len > segment::HEADER_LEN as u64 {
            self.rotate()?;
        }
        self.buf.clear();
        for (seq, record) in (self.next_seq..).zip(records) {
            segment::push_frame(&mut self.buf, seq, record)
                .map_err(|bytes| StoreError::RecordTooLarge { bytes, max: segment::MAX_PAYLOAD })?;
        }
        if let Err(source) = self.file.write_all(&self.buf) {
            // Take back a partial write so that later records do not follow garbage.
            self.failed = self.file.set_len(self.segment_len).is_err();
            return Err(StoreError::Io { path: self.path.clone(), source });
        }
        let written = self.buf.len() as u64;
        self.segment_len += written;
        self.since_snapshot += written;
        self.next_seq += records.len() as u64;
        self.unsynced = true;
        let due = match self.config.fsync {
            FsyncPolicy::Always => true,
            FsyncPolicy::Interval(every) => self.last_sync.elapsed() >= every,
        };
        if due {
            self.sync()?;
        }
        // Keep a large one-off batch from pinning memory.
        if self.buf.capacity() > 16 << 20 {
            self.buf = Vec::new();
        }
        Ok(self.last_seq())
    }

    /// Forces an fsync now (for `FsyncPolicy::Interval`, call on a timer).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.check_usable()?;
        if self.unsynced {
            if let Err(source) = self.file.sync_data() {
                // After a failed fsync the kernel may have dropped the dirty pages: stop here.
                self.failed = true;
                return Err(StoreError::Io { path: self.path.clone(), source });
            }
            self.unsynced = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// True once enough log has accumulated since the last snapshot.
    pub fn needs_snapshot(&self) -> bool {
        self.since_snapshot >= self.config.snapshot_after_bytes
    }

    /// Writes a snapshot of `twin` (which must reflect every appended record), then drops log
    /// segments it makes obsolete. It holds no extension sections: where extension records are
    /// logged, use [`Store::snapshot_with`], or their state before the snapshot is lost.
    pub fn snapshot(&mut self, twin: &Twin) -> Result<(), StoreError> {
        self.snapshot_with(twin, &ExtensionSections::new())
    }

    /// Writes a snapshot of `twin` and of the extensions' own state, `sections`: each must reflect
    /// every appended record, as the model does. Recovery hands them back to
    /// [`ReplaySink::restore`].
    pub fn snapshot_with(&mut self, twin: &Twin, sections: &ExtensionSections) -> Result<(), StoreError> {
        // A snapshot must never cover records the log could still lose.
        self.sync()?;
        let seq = self.last_seq();
        snapshot::write_snapshot(&self.snap_dir, seq, &twin.to_parts(), sections)?;
        self.since_snapshot = 0;
        self.prune()
    }

    /// Keeps the newest two snapshots and the log after the older of them, so that recovery can
    /// still fall back to it if the newest turns out unreadable.
    fn prune(&mut self) -> Result<(), StoreError> {
        let snapshots = snapshot::list_snapshots(&self.snap_dir)?;
        let keep_from = snapshots.len().saturating_sub(2);
        for (_, path) in &snapshots[..keep_from] {
            std::fs::remove_file(path).map_err(io_err(path))?;
        }
        let Some(&(covered, _)) = snapshots.get(keep_from).filter(|_| snapshots.len() >= 2) else {
            return Ok(());
        };
        let segments = segment::list_segments(&self.log_dir)?;
        let mut removed = false;
        for pair in segments.windows(2) {
            // A segment ends right before the next one starts.
            if pair[1].first_seq <= covered.saturating_add(1) && pair[0].path != self.path {
                std::fs::remove_file(&pair[0].path).map_err(io_err(&pair[0].path))?;
                removed = true;
            }
        }
        if removed || keep_from > 0 {
            segment::sync_dir(&self.log_dir)?;
            segment::sync_dir(&self.snap_dir)?;
        }
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), StoreError> {
        self.sync()?;
        let (file, path) = segment::create_segment(&self.log_dir, self.next_seq)?;
        self.file = file;
        self.path = path;
        self.segment_len = segment::HEADER_LEN as u64;
        Ok(())
    }

    fn check_usable(&self) -> Result<(), StoreError> {
        if self.failed {
            let source = std::io::Error::other("an earlier write or fsync failed; restart to recover from the log");
            return Err(StoreError::Io { path: self.path.clone(), source });
        }
        Ok(())
    }

    /// False once a write or fsync failed in a way that leaves the file's state unknown: nothing
    /// more can be appended until a restart recovers from the log. A write that failed for lack
    /// of space and was taken back leaves the store usable.
    pub fn is_usable(&self) -> bool {
        !self.failed
    }

    /// Sequence number of the last appended record (0 when the log is empty).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Bytes of log appended (or replayed) since the last snapshot.
    pub fn bytes_since_snapshot(&self) -> u64 {
        self.since_snapshot
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Best effort on a clean shutdown; a crash is what the log framing is for.
        if !self.failed && self.unsynced {
            let _ = self.file.sync_data();
        }
    }
}
