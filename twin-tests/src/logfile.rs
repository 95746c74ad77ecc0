//! Reads the durable log's segment files from the outside: after a header, records framed as
//! `[u32 len][u32 crc32][payload]`. The tests use it to damage a log at exact record boundaries.
//!
//! The header length is found rather than hard-coded: it is the smallest offset from which the
//! framing walks to the exact end of the file with every CRC valid, so a change of header layout
//! does not silently move the damage somewhere else.

use std::fs;
use std::path::{Path, PathBuf};

/// Largest header the walker tries.
const MAX_HEADER: usize = 256;
const FRAME: usize = 8;

/// One framed record inside a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// Byte offset of the length prefix.
    pub offset: u64,
    /// Payload length.
    pub len: u64,
}

impl RecordSpan {
    pub fn payload_offset(&self) -> u64 {
        self.offset + FRAME as u64
    }
    pub fn end(&self) -> u64 {
        self.payload_offset() + self.len
    }
}

/// A segment file with its header size and records.
#[derive(Debug, Clone)]
pub struct Segment {
    pub path: PathBuf,
    pub header_len: u64,
    pub records: Vec<RecordSpan>,
    pub bytes: Vec<u8>,
}

impl Segment {
    /// The payload bytes of a record.
    pub fn payload(&self, r: &RecordSpan) -> &[u8] {
        &self.bytes[r.payload_offset() as usize..r.end() as usize]
    }
}

/// `*.log` files of `<data_dir>/log`, sorted by name (segment order).
pub fn segment_files(data_dir: &Path) -> Vec<PathBuf> {
    let dir = data_dir.join("log");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
}

/// Parses a segment; `None` if no header length makes the whole file a valid record chain.
pub fn parse_segment(path: &Path) -> Option<Segment> {
    let bytes = fs::read(path).ok()?;
    let (header_len, records) = find_framing(&bytes)?;
    Some(Segment { path: path.to_path_buf(), header_len, records, bytes })
}

/// The header length and records of a segment image: the smallest header for which the framing
/// (little-endian, CRC32 of the payload) reaches exactly the end with every checksum valid.
/// A header-only segment gives no records.
pub fn find_framing(bytes: &[u8]) -> Option<(u64, Vec<RecordSpan>)> {
    let mut header_only = None;
    for header in 0..=MAX_HEADER.min(bytes.len()) {
        match walk(bytes, header) {
            Some(records) if !records.is_empty() => return Some((header as u64, records)),
            Some(_) if header_only.is_none() && header > 0 => header_only = Some(header),
            _ => {}
        }
    }
    // A segment with no records walks from any header length equal to its size; that is the header.
    header_only.filter(|h| *h == bytes.len()).map(|h| (h as u64, Vec::new()))
}

fn walk(bytes: &[u8], header: usize) -> Option<Vec<RecordSpan>> {
    let mut records = Vec::new();
    let mut at = header;
    while at < bytes.len() {
        let frame = bytes.get(at..at + FRAME)?;
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let payload = bytes.get(at + FRAME..at + FRAME + len)?;
        if len == 0 || crc32fast::hash(payload) != crc {
            return None;
        }
        records.push(RecordSpan { offset: at as u64, len: len as u64 });
        at += FRAME + len;
    }
    Some(records)
}

/// Writes a framed record the way the log does (used by the tests of this module).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_header_and_the_records() {
        let mut img = b"CTLOG\0\0\0\x01\0\0\0".to_vec();
        let a = frame(b"first record");
        let b = frame(b"second, longer record");
        img.extend_from_slice(&a);
        img.extend_from_slice(&b);
        let (header, records) = find_framing(&img).unwrap();
        assert_eq!(header, 12);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], RecordSpan { offset: 12, len: 12 });
        assert_eq!(records[1].offset, 12 + a.len() as u64);
        assert_eq!(records[1].end(), img.len() as u64);
    }

    #[test]
    fn a_flipped_byte_breaks_the_chain() {
        let mut img = b"HDR!".to_vec();
        img.extend_from_slice(&frame(b"one"));
        img.extend_from_slice(&frame(b"two"));
        img[4 + 8 + 1] ^= 0x40;
        // Only the intact suffix still forms a chain; it no longer starts after the real header.
        assert_eq!(find_framing(&img).map(|(h, r)| (h, r.len())), Some((15, 1)));
    }

    #[test]
    fn header_only_segment_has_no_records() {
        let img = b"HDR!\x01\0\0\0".to_vec();
        assert_eq!(find_framing(&img), Some((8, Vec::new())));
    }
}
