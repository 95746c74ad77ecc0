//! The durable log: every accepted batch is appended (length + CRC32 framing) before it is
//! acknowledged; snapshots bound replay time. Plain `std::fs`, no async runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::rules::RuleSet;
use crate::{EntityId, Observation, Timestamp, Twin, TwinConfig};

/// One entry of the log. Everything that changes the model is logged, so replay is exact.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRecord {
    Observations(Vec<Observation>),
    /// Time passed (expiry and time-based rules ran at this instant).
    Tick(Timestamp),
    /// An operator deleted an entity.
    Remove(EntityId),
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
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("corrupt log record in {path} at byte offset {offset}: {reason} (start with --repair to cut the log there)")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("{path} has format version {found}, this build reads version {expected}")]
    Version { path: PathBuf, found: u32, expected: u32 },
    #[error("corrupt snapshot {path}: {reason}")]
    Snapshot { path: PathBuf, reason: String },
    #[error(transparent)]
    Model(#[from] crate::Error),
}

/// The durable log of one data directory.
pub struct Store {
    config: StoreConfig,
}

impl Store {
    /// Opens (or creates) the data directory, loads the newest snapshot and replays the log after it.
    pub fn open(config: StoreConfig, twin_config: TwinConfig, rules: RuleSet) -> Result<(Store, Twin, RecoveryReport), StoreError> {
        let _ = (config, twin_config, rules);
        todo!()
    }

    /// Appends records as one group commit; returns once they are durable per the fsync policy.
    /// Returns the sequence number of the last record.
    pub fn append(&mut self, records: &[LogRecord]) -> Result<u64, StoreError> {
        let _ = records;
        todo!()
    }

    /// Forces an fsync now (for `FsyncPolicy::Interval`, call on a timer).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        todo!()
    }

    /// True once enough log has accumulated since the last snapshot.
    pub fn needs_snapshot(&self) -> bool {
        todo!()
    }

    /// Writes a snapshot of `twin` (which must reflect every appended record), then drops log
    /// segments it makes obsolete.
    pub fn snapshot(&mut self, twin: &Twin) -> Result<(), StoreError> {
        let _ = twin;
        todo!()
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }
}
