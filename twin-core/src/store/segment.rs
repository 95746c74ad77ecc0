//! Log segment files: naming, the file header, record framing and reading frames back.
//!
//! A segment is `<dir>/log/<first seq, 20 digits>.log`: a 12-byte header (magic, format version)
//! followed by frames `[u32 payload_len][u32 crc32(payload)][payload]`, all little-endian, where the
//! payload starts with the record's u64 sequence number.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{io_err, records, LogRecord, StoreError};

pub(crate) const LOG_MAGIC: [u8; 8] = *b"CTWINLOG";
/// Version of the segment format this build writes and reads.
pub const LOG_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 12;
pub(crate) const FRAME_HEADER_LEN: usize = 8;
/// A sequence number and a record tag.
pub(crate) const MIN_PAYLOAD: usize = 9;
/// Larger lengths can only come from corruption; `append` refuses records this big.
pub(crate) const MAX_PAYLOAD: usize = 512 << 20;

pub(crate) fn header(magic: [u8; 8], version: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&magic);
    h[8..].copy_from_slice(&version.to_le_bytes());
    h
}

/// A segment file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub first_seq: u64,
    pub path: PathBuf,
}

pub(crate) fn segment_path(log_dir: &Path, first_seq: u64) -> PathBuf {
    log_dir.join(format!("{first_seq:020}.log"))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Sequence numbers start at 1.
    digits.parse().ok().filter(|&seq| seq > 0)
}

/// Segments of `log_dir`, oldest first. Files that are not segments are ignored.
pub(crate) fn list_segments(log_dir: &Path) -> Result<Vec<Segment>, StoreError> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(log_dir).map_err(io_err(log_dir))? {
        let entry = entry.map_err(io_err(log_dir))?;
        if let Some(first_seq) = entry.file_name().to_str().and_then(parse_segment_name) {
            segments.push(Segment { first_seq, path: entry.path() });
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// fsync a directory so that a create, rename or delete in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

/// Creates a new, empty segment (header only) and makes it durable. Opened in append mode, so a
/// write after a failed one that was cut back lands at the end, never past a hole.
pub(crate) fn create_segment(log_dir: &Path, first_seq: u64) -> Result<(File, PathBuf), StoreError> {
    let path = segment_path(log_dir, first_seq);
    let mut file = OpenOptions::new().create_new(true).append(true).open(&path).map_err(io_err(&path))?;
    let made = file
        .write_all(&header(LOG_MAGIC, LOG_VERSION))
        .and_then(|()| file.sync_all())
        .map_err(io_err(&path))
        .and_then(|()| sync_dir(log_dir));
    if let Err(e) = made {
        // Take the file back so that a retry (the disk was full) can create it again; a torn
        // header left by a crash here is what recovery expects anyway.
        drop(file);
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    Ok((file, path))
}

/// Appends one framed record to `buf`. Returns the payload length when it is too large to log.
pub(crate) fn push_frame(buf: &mut Vec<u8>, seq: u64, record: &LogRecord) -> Result<(), usize> {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    records::put_record(buf, seq, record);
    let payload_len = buf.len() - start - FRAME_HEADER_LEN;
    if payload_len > MAX_PAYLOAD {
        buf.truncate(start);
        return Err(payload_len);
    }
    let crc = crc32fast::hash(&buf[start + FRAME_HEADER_LEN..]);
    buf[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// State of a segment's header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderState {
    Complete,
    /// Shorter than a header but consistent with one being written when the process stopped.
    Torn,
}

/// Checks magic and version. A wrong version is a `Version` error, a wrong magic `Corrupt`.
pub(crate) fn check_header(path: &Path, data: &[u8]) -> Result<HeaderState, StoreError> {
    let expected = header(LOG_MAGIC, LOG_VERSION);
    if data.len() < HEADER_LEN {
        let n = data.len().min(8);
        if data[..n] == LOG_MAGIC[..n] {
            return Ok(HeaderState::Torn);
        }
    }
    if data.len() < 8 || data[..8] != LOG_MAGIC {
        return Err(StoreError::Corrupt { path: path.to_path_buf(), offset: 0, reason: "not a log segment".into() });
    }
    if data.len() >= HEADER_LEN && data[..HEADER_LEN] != expected {
        let mut v = [0u8; 4];
        v.copy_from_slice(&data[8..12]);
        return Err(StoreError::Version {
            path: path.to_path_buf(),
            found: u32::from_le_bytes(v),
            expected: LOG_VERSION,
        });
    }
    Ok(if data.len() < HEADER_LEN { HeaderState::Torn } else { HeaderState::Complete })
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(b)
}

/// A frame that failed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadFrame {
    pub reason: String,
    /// The CRC did not match and the frame ends exactly at the end of the file.
    pub ends_at_eof: bool,
}

/// Reads the frame at `pos` (which must be `< data.len()`), returning its payload.
pub(crate) fn read_frame(data: &[u8], pos: usize) -> Result<&[u8], BadFrame> {
    let bad = |reason: String| BadFrame { reason, ends_at_eof: false };
    let left = data.len() - pos;
    if left < FRAME_HEADER_LEN {
        return Err(bad(format!("incomplete frame header ({left} of {FRAME_HEADER_LEN} bytes)")));
    }
    let len = u32_at(data, pos) as usize;
    if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len) {
        return Err(bad(format!("impossible record length {len}")));
    }
    let end = pos + FRAME_HEADER_LEN + len;
    if end > data.len() {
        return Err(bad(format!("record of {len} bytes extends {} bytes past the end of the file", end - data.len())));
    }
    let payload = &data[pos + FRAME_HEADER_LEN..end];
    if crc32fast::hash(payload) != u32_at(data, pos + 4) {
        return Err(BadFrame { reason: "CRC mismatch".into(), ends_at_eof: end == data.len() });
    }
    Ok(payload)
}

/// Sequence number at the start of a payload that `read_frame` accepted.
pub(crate) fn payload_seq(payload: &[u8]) -> u64 {
    u64_at(payload, 0)
}

/// Whether a well-formed frame carrying a plausible later sequence number (≥ `expected_seq`) starts
/// anywhere after `from`. Tells a torn tail (nothing valid follows) from damage in the middle.
pub(crate) fn valid_frame_after(data: &[u8], from: usize, expected_seq: u64) -> bool {
    let min_frame = FRAME_HEADER_LEN + MIN_PAYLOAD;
    // No more records than could fit in what is left.
    let max_seq = expected_seq.saturating_add((data.len().saturating_sub(from) / min_frame) as u64);
    let mut p = from + 1;
    while p + min_frame <= data.len() {
        let len = u32_at(data, p) as usize;
        if (MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len) && p + FRAME_HEADER_LEN + len <= data.len() {
            let seq = u64_at(data, p + FRAME_HEADER_LEN);
            // Cheap checks first; the CRC only for candidates that look like the next records.
            if (expected_seq..=max_seq).contains(&seq) && read_frame(data, p).is_ok() {
                return true;
            }
        }
        p += 1;
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::Timestamp;

    fn segment_bytes(records: &[(u64, LogRecord)]) -> (Vec<u8>, Vec<usize>) {
        let mut data = header(LOG_MAGIC, LOG_VERSION).to_vec();
        let mut offsets = Vec::new();
        for (seq, rec) in records {
            offsets.push(data.len());
            push_frame(&mut data, *seq, rec).unwrap();
        }
        (data, offsets)
    }

    #[test]
    fn names_round_trip_and_sort() {
        let p = segment_path(Path::new("/x"), 42);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "00000000000000000042.log");
        assert_eq!(parse_segment_name(name), Some(42));
        assert_eq!(parse_segment_name("42.log"), None);
        assert_eq!(parse_segment_name("0000000000000000004x.log"), None);
    }

    #[test]
    fn frames_read_back() {
        let recs: Vec<_> = (1..=3).map(|s| (s, LogRecord::Tick(Timestamp(s as i64 * 10)))).collect();
        let (data, offsets) = segment_bytes(&recs);
        assert_eq!(check_header(Path::new("s"), &data).unwrap(), HeaderState::Complete);
        for (i, off) in offsets.iter().enumerate() {
            let payload = read_frame(&data, *off).unwrap();
            assert_eq!(payload_seq(payload), recs[i].0);
            assert_eq!(records::decode_record(payload).unwrap(), recs[i].clone());
        }
    }

    #[test]
    fn damage_is_classified() {
        let recs: Vec<_> = (1..=3).map(|s| (s, LogRecord::Tick(Timestamp(s as i64)))).collect();
        let (data, offsets) = segment_bytes(&recs);
        // A flipped payload byte in the middle record: bad CRC, a valid frame follows.
        let mut d = data.clone();
        d[offsets[1] + 12] ^= 0x40;
        let err = read_frame(&d, offsets[1]).unwrap_err();
        assert!(!err.ends_at_eof);
        assert!(valid_frame_after(&d, offsets[1], 2));
        // The same in the last record: ends at end of file, nothing valid follows.
        let mut d = data.clone();
        d[offsets[2] + 12] ^= 0x40;
        assert!(read_frame(&d, offsets[2]).unwrap_err().ends_at_eof);
        assert!(!valid_frame_after(&d, offsets[2], 3));
        // A cut inside the last record.
        let d = &data[..data.len() - 3];
        assert!(read_frame(d, offsets[2]).is_err());
        assert!(!valid_frame_after(d, offsets[2], 3));
    }

    #[test]
    fn header_checks() {
        let p = Path::new("s");
        assert_eq!(check_header(p, b"CTWI").unwrap(), HeaderState::Torn);
        assert_eq!(check_header(p, b"").unwrap(), HeaderState::Torn);
        assert!(matches!(check_header(p, b"NOTALOGFILE!"), Err(StoreError::Corrupt { offset: 0, .. })));
        let h = header(LOG_MAGIC, 99);
        assert!(matches!(check_header(p, &h), Err(StoreError::Version { found: 99, expected: 1, .. })));
    }
}
