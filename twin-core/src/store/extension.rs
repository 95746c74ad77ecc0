//! Room in the log and in snapshots for the domain crates built on the model (cases, dispatch,
//! notices): opaque, versioned records that go through the same writer and sequence, and opaque
//! snapshot sections, both handed back on recovery through a [`ReplaySink`].

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

use super::LogRecord;
use crate::Applied;

/// Longest stream name, in bytes.
pub const MAX_STREAM_NAME: usize = 32;

/// Why a stream name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StreamNameError {
    #[error("stream name must be 1 to {MAX_STREAM_NAME} bytes, not {0}")]
    Length(usize),
    #[error("stream name `{0}` must start with a-z and hold only a-z, 0-9, `_`, `-` and `.`")]
    Chars(String),
}

/// The name of an extension stream (`cases`, `dispatch`, `notices.v2` …): 1 to
/// [`MAX_STREAM_NAME`] bytes of `a-z0-9_-.`, starting with a letter. Checked on construction and
/// on decoding, so a name read from disk is as valid as one written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamName(String);

impl StreamName {
    pub fn new(name: impl Into<String>) -> Result<Self, StreamNameError> {
        let name = name.into();
        if name.is_empty() || name.len() > MAX_STREAM_NAME {
            return Err(StreamNameError::Length(name.len()));
        }
        let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
        if !ok {
            return Err(StreamNameError::Chars(name));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for StreamName {
    type Error = StreamNameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

/// One extension's state in a snapshot: its own format version and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionSection {
    pub version: u16,
    pub payload: Vec<u8>,
}

/// The extension sections of a snapshot, one per stream.
pub type ExtensionSections = BTreeMap<StreamName, ExtensionSection>;

/// What a [`ReplaySink`] may fail with; recovery stops with `StoreError::Replay`.
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Receives what recovery restores besides the model, so that domain crates rebuild their state
/// exactly as of the last logged record.
///
/// Recovery calls [`ReplaySink::restore`] once, with the sections of the snapshot it starts from
/// (none without a snapshot), then [`ReplaySink::record`] for every record after that snapshot,
/// in sequence order, after the model applied it. Extension records are `LogRecord::Extension`;
/// the others are there for consumers that follow the model (alerts with the ids they got are in
/// `applied.alerts`).
pub trait ReplaySink {
    fn restore(&mut self, snapshot_seq: Option<u64>, sections: ExtensionSections) -> Result<(), SinkError> {
        let _ = (snapshot_seq, sections);
        Ok(())
    }

    fn record(&mut self, seq: u64, record: &LogRecord, applied: &Applied) -> Result<(), SinkError> {
        let _ = (seq, record, applied);
        Ok(())
    }
}

/// Ignores everything: recovery of the model alone.
impl ReplaySink for () {}

/// Keeps the snapshot's sections and the extension records after it, in memory. For tools and
/// tests: a long-running consumer should fold records into its state instead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectExtensions {
    pub snapshot_seq: Option<u64>,
    pub sections: ExtensionSections,
    /// `(seq, record)`, every record a `LogRecord::Extension`.
    pub records: Vec<(u64, LogRecord)>,
}

impl ReplaySink for CollectExtensions {
    fn restore(&mut self, snapshot_seq: Option<u64>, sections: ExtensionSections) -> Result<(), SinkError> {
        self.snapshot_seq = snapshot_seq;
        self.sections = sections;
        Ok(())
    }

    fn record(&mut self, seq: u64, record: &LogRecord, _: &Applied) -> Result<(), SinkError> {
        if matches!(record, LogRecord::Extension { .. }) {
            self.records.push((seq, record.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_checked() {
        for ok in ["cases", "dispatch-v2", "notices.sms", "a", "x_1"] {
            assert_eq!(StreamName::new(ok).map(|s| s.as_str().to_owned()), Ok(ok.to_owned()));
        }
        assert_eq!(StreamName::new(""), Err(StreamNameError::Length(0)));
        assert_eq!(StreamName::new("a".repeat(33)), Err(StreamNameError::Length(33)));
        assert!(StreamName::new("a".repeat(32)).is_ok());
        for bad in ["Cases", "1cases", "ca ses", "cases/x", "_x", "đ"] {
            assert!(matches!(StreamName::new(bad), Err(StreamNameError::Chars(_))), "{bad}");
        }
    }
}
