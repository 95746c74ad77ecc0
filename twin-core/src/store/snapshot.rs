//! Snapshot files: `<dir>/snapshots/snapshot-<seq, 20 digits>.bin` holding magic, format version,
//! the sequence number of the last record they include, the encoded `TwinParts` and a trailing
//! CRC32 of everything before it. Written to a temporary file, fsynced, then renamed into place.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::segment::{header, sync_dir, HEADER_LEN};
use super::{io_err, records, StoreError};
use crate::TwinParts;

pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"CTWINSNP";
/// Version of the snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;
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

/// Encodes the whole snapshot into memory, then writes it with one write and makes it durable.
pub(crate) fn write_snapshot(dir: &Path, seq: u64, parts: &TwinParts) -> Result<PathBuf, StoreError> {
    let mut buf = Vec::with_capacity(64 + parts.entities.len() * 160);
    buf.extend_from_slice(&header(SNAPSHOT_MAGIC, SNAPSHOT_VERSION));
    buf.extend_from_slice(&seq.to_le_bytes());
    records::encode_parts(&mut buf, parts);
    let crc = crc32fast::hash(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());

    let path = snapshot_path(dir, seq);
    let mut tmp = path.clone().into_os_string();
    tmp.push(TMP_SUFFIX);
    let tmp = PathBuf::from(tmp);
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(&buf).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
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

/// Reads and validates one snapshot: returns the sequence number it covers and its contents.
pub(crate) fn read_snapshot(path: &Path) -> Result<(u64, TwinParts), SnapshotProblem> {
    let data = fs::read(path).map_err(|e| SnapshotProblem::Invalid(format!("cannot read: {e}")))?;
    let min_len = HEADER_LEN + 8 + 4;
    if data.len() < min_len {
        return Err(SnapshotProblem::Invalid(format!("only {} bytes", data.len())));
    }
    if data[..8] != SNAPSHOT_MAGIC {
        return Err(SnapshotProblem::Invalid("not a snapshot file".into()));
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&data[8..12]);
    let version = u32::from_le_bytes(v);
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotProblem::Fatal(StoreError::Version {
            path: path.to_path_buf(),
            found: version,
            expected: SNAPSHOT_VERSION,
        }));
    }
    let (body, crc) = data.split_at(data.len() - 4);
    let mut c = [0u8; 4];
    c.copy_from_slice(crc);
    if crc32fast::hash(body) != u32::from_le_bytes(c) {
        return Err(SnapshotProblem::Invalid("CRC mismatch".into()));
    }
    let mut s = [0u8; 8];
    s.copy_from_slice(&body[HEADER_LEN..HEADER_LEN + 8]);
    let seq = u64::from_le_bytes(s);
    let parts = records::decode_parts(&body[HEADER_LEN + 8..])
        .map_err(|e| SnapshotProblem::Invalid(format!("undecodable contents: {e}")))?;
    Ok((seq, parts))
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
