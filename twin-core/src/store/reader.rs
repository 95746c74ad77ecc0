//! Read-only access to the log for time travel, export and inspection. Unlike recovery it never
//! changes a file: a torn tail simply ends the iteration (it is not data), and a directory that a
//! writer is appending to can be read while it grows.

use std::fs;
use std::path::Path;

use super::segment::{self, HeaderState, Segment, FRAME_HEADER_LEN, HEADER_LEN};
use super::{records, LogRecord, StoreError};

/// Iterates `(seq, record)` from a data directory's log, oldest first: every kind of record,
/// extension records included (a tool rebuilding an extension's state starts from the snapshot's
/// sections, read with [`super::decode_snapshot`]).
pub struct LogReader {
    segments: Vec<Segment>,
    next_segment: usize,
    data: Vec<u8>,
    pos: usize,
    expected: u64,
    from_seq: u64,
    done: bool,
}

impl LogReader {
    /// Starts at the first record with seq ≥ `from_seq` still in the log (older segments may have
    /// been removed after a snapshot; check the first seq returned).
    pub fn open(dir: impl AsRef<Path>, from_seq: u64) -> Result<Self, StoreError> {
        let segments = segment::list_segments(&dir.as_ref().join("log"))?;
        // Skip segments that end before `from_seq`.
        let first = segments.iter().rposition(|s| s.first_seq <= from_seq).unwrap_or(0);
        let expected = segments.get(first).map_or(0, |s| s.first_seq);
        Ok(Self { segments, next_segment: first, data: Vec::new(), pos: 0, expected, from_seq, done: false })
    }

    fn corrupt(&mut self, offset: usize, reason: String) -> Option<Result<(u64, LogRecord), StoreError>> {
        self.done = true;
        let path = self.segments[self.next_segment - 1].path.clone();
        Some(Err(StoreError::Corrupt { path, offset: offset as u64, reason }))
    }

    /// Loads the next segment; `false` at the end of the log.
    fn load_next(&mut self) -> Result<bool, StoreError> {
        let Some(seg) = self.segments.get(self.next_segment) else { return Ok(false) };
        let path = seg.path.clone();
        if seg.first_seq != self.expected {
            return Err(StoreError::Corrupt {
                path,
                offset: 0,
                reason: format!(
                    "sequence gap: expected seq {}, the segment starts at seq {}",
                    self.expected, seg.first_seq
                ),
            });
        }
        self.next_segment += 1;
        self.data = fs::read(&path).map_err(super::io_err(&path))?;
        self.pos = HEADER_LEN;
        if segment::check_header(&path, &self.data)? == HeaderState::Torn {
            // A segment being created: nothing in it yet.
            self.pos = self.data.len();
        }
        Ok(true)
    }
}

impl Iterator for LogReader {
    type Item = Result<(u64, LogRecord), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if self.pos >= self.data.len() {
                match self.load_next() {
                    Ok(true) => continue,
                    Ok(false) => self.done = true,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                continue;
            }
            let pos = self.pos;
            let payload = match segment::read_frame(&self.data, pos) {
                Ok(payload) => payload,
                Err(bad) => {
                    let is_last = self.next_segment == self.segments.len();
                    let torn =
                        is_last && (bad.ends_at_eof || !segment::valid_frame_after(&self.data, pos, self.expected));
                    if torn {
                        self.done = true;
                        return None;
                    }
                    return self.corrupt(pos, bad.reason);
                }
            };
            self.pos += FRAME_HEADER_LEN + payload.len();
            let seq = segment::payload_seq(payload);
            if seq != self.expected {
                return self.corrupt(pos, format!("expected seq {}, found seq {seq}", self.expected));
            }
            self.expected = self.expected.saturating_add(1);
            if seq < self.from_seq {
                continue;
            }
            return match records::decode_record(payload) {
                Ok(item) => Some(Ok(item)),
                Err(e) => self.corrupt(pos, format!("undecodable record: {e}")),
            };
        }
        None
    }
}
