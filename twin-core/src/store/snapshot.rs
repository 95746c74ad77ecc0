//! Snapshot files: `<dir>/snapshots/snapshot-<seq, 20 digits>.bin` holding magic, format version,
//! the sequence number of the last record they include, the encoded `TwinParts`, (from version 2)
//! the extension sections, and a trailing CRC32 of everything before it. Written to a temporary
//! file, fsynced, then renamed into place.
//!
//! Version 1 (no extension sections, alerts always about an entity, no alert detail) is still read.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::codec::{CodecError, Reader, Writer};
use super::extension::ExtensionSections;
use super::segment::{header, sync_dir, HEADER_LEN};
use super::{io_err, records, StoreError};
use crate::TwinParts;

pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"CTWINSNP";
/// Version of the snapshot format this build writes; it also reads every older one.
pub const SNAPSHOT_VERSION: u32 = 2;
const TMP_SUFFIX: &str = ".tmp";

pub(crate) fn snapshot_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("snapshot-{seq:020}.bin"))
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".bin")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Snapshots in `dir`, oldest first. Leftover temporary files of an interrupted write are removed.
pub(crate) fn list_snapshots(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("snapshot-") && name.ends_with(TMP_SUFFIX) {
            let path = entry.path();
            fs::remove_file(&path).map_err(io_err(&path))?;
        } else if let Some(seq) = parse_snapshot_name(name) {
            found.push((seq, entry.path()));
        }
    }
    found.sort_by_key(|(seq, _)| *seq);
    Ok(found)
}

/// The bytes of a snapshot file in the current version, as [`decode_snapshot`] reads them.
pub fn encode_snapshot(seq: u64, parts: &TwinParts, sections: &ExtensionSections) -> Vec<u8> {
    let extra: usize = sections.values().map(|s| s.payload.len() + 64).sum();
    let mut buf = Vec::with_capacity(64 + parts.entities.len() * 160 + extra);
    buf.extend_from_slice(&header(SNAPSHOT_MAGIC, SNAPSHOT_VERSION));
    buf.extend_from_slice(&seq.to_le_bytes());
    records::encode_parts(&mut buf, parts);
    records::put_sections(&mut Writer::new(&mut buf), sections);
    let crc = crc32fast::hash(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// Encodes the whole snapshot into memory, then writes it with one write and makes it durable.
pub(crate) fn write_snapshot(
    dir: &Path,
    seq: u64,
    parts: &TwinParts,
    sections: &ExtensionSections,
) -> Result<PathBuf, StoreError> {
    let buf = encode_snapshot(seq, parts, sections);

    let path = snapshot_path(dir, seq);
    let mut tmp = path.clone().into_os_string();
    tmp.push(TMP_SUFFIX);
    let tmp = PathBuf::from(tmp);
    let written = File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(&buf)?;
            file.sync_all()
        })
        .map_err(io_err(&tmp))
        .and_then(|()| fs::rename(&tmp, &path).map_err(io_err(&path)));
    if let Err(e) = written {
        // A half-written snapshot is of no use, and on a full disk it holds the space the log needs.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)?;
    Ok(path)
}

/// Why a snapshot could not be used.
#[derive(Debug)]
pub(crate) enum SnapshotProblem {
    /// Written by another format version: recovery must stop rather than guess.
    Fatal(StoreError),
    /// Damaged; recovery may fall back to an older snapshot.
    Invalid(String),
}

/// What a snapshot file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SnapshotContents {
    /// The sequence number of the last log record it reflects.
    pub seq: u64,
    pub parts: TwinParts,
    pub sections: ExtensionSections,
}

/// Why the bytes of a snapshot file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotDecodeError {
    #[error("only {0} bytes")]
    TooShort(usize),
    #[error("not a snapshot file")]
    Magic,
    #[error("format version {0}, this build reads 1 to {SNAPSHOT_VERSION}")]
    Version(u32),
    #[error("CRC mismatch")]
    Crc,
    #[error("undecodable contents: {0}")]
    Contents(#[from] CodecError),
}

/// Decodes a whole snapshot file (magic, version, seq, contents, CRC) of any version this build
/// reads. Never panics, whatever the bytes.
pub fn decode_snapshot(data: &[u8]) -> Result<SnapshotContents, SnapshotDecodeError> {
    if data.len() < HEADER_LEN + 8 + 4 {
        return Err(SnapshotDecodeError::TooShort(data.len()));
    }
    if data[..8] != SNAPSHOT_MAGIC {
        return Err(SnapshotDecodeError::Magic);
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&data[8..12]);
    let version = u32::from_le_bytes(v);
    if !(1..=SNAPSHOT_VERSION).contains(&version) {
        return Err(SnapshotDecodeError::Version(version));
    }
    let (body, crc) = data.split_at(data.len() - 4);
    let mut c = [0u8; 4];
    c.copy_from_slice(crc);
    if crc32fast::hash(body) != u32::from_le_bytes(c) {
        return Err(SnapshotDecodeError::Crc);
    }
    let mut r = Reader::new(&body[HEADER_LEN..]);
    let seq = r.u64()?;
    let parts = records::get_parts(&mut r, version)?;
    let sections = if version >= records::PARTS_V2 { records::get_sections(&mut r)? } else { Default::default() };
    r.finish()?;
    Ok(SnapshotContents { seq, parts, sections })
}

/// Reads and validates one snapshot.
pub(crate) fn read_snapshot(path: &Path) -> Result<SnapshotContents, SnapshotProblem> {
    let data = fs::read(path).map_err(|e| SnapshotProblem::Invalid(format!("cannot read: {e}")))?;
    decode_snapshot(&data).map_err(|e| match e {
        SnapshotDecodeError::Version(found) => {
            SnapshotProblem::Fatal(StoreError::Version { path: path.to_path_buf(), found, expected: SNAPSHOT_VERSION })
        }
        other => SnapshotProblem::Invalid(other.to_string()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        let p = snapshot_path(Path::new("/d"), 7);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(parse_snapshot_name(name), Some(7));
        assert_eq!(parse_snapshot_name("snapshot-7.bin"), None);
        assert_eq!(parse_snapshot_name(&format!("{name}{TMP_SUFFIX}")), None);
    }
}
