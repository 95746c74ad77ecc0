//! Directory entries and their varint column encoding (spec §4: counts, delta tile ids, run lengths,
//! lengths, then offsets where 0 means "right after the previous entry" and others are offset + 1).

use crate::mvt_wire::put_varint;
use crate::TileError;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 127;
/// Header and root directory together must fit in the first 16 KiB.
pub const ROOT_MAX: usize = 16_384;

/// A run of `run_length` consecutive tile ids sharing the data at `offset`; `run_length == 0` points
/// to a leaf directory instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub tile_id: u64,
    pub offset: u64,
    pub length: u32,
    pub run_length: u32,
}

pub fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 6 + 8);
    put_varint(&mut out, entries.len() as u64);
    let mut last = 0;
    for e in entries {
        put_varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        put_varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        put_varint(&mut out, u64::from(e.length));
    }
    for (i, e) in entries.iter().enumerate() {
        let follows = i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length);
        put_varint(&mut out, if follows { 0 } else { e.offset + 1 });
    }
    out
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Result<u64, TileError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| TileError::Archive("directory ends inside a varint".into()))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(TileError::Archive("varint longer than 64 bits".into()))
}

pub fn deserialize(buf: &[u8]) -> Result<Vec<Entry>, TileError> {
    let mut pos = 0;
    let n = get_varint(buf, &mut pos)? as usize;
    if n > buf.len() {
        return Err(TileError::Archive(format!("directory claims {n} entries in {} bytes", buf.len())));
    }
    let mut entries = vec![Entry { tile_id: 0, offset: 0, length: 0, run_length: 0 }; n];
    let mut last = 0u64;
    for e in entries.iter_mut() {
        last += get_varint(buf, &mut pos)?;
        e.tile_id = last;
    }
    for e in entries.iter_mut() {
        e.run_length =
            u32::try_from(get_varint(buf, &mut pos)?).map_err(|_| TileError::Archive("run length".into()))?;
    }
    for e in entries.iter_mut() {
        e.length = u32::try_from(get_varint(buf, &mut pos)?).map_err(|_| TileError::Archive("length".into()))?;
    }
    for i in 0..n {
        let v = get_varint(buf, &mut pos)?;
        entries[i].offset = if v == 0 && i > 0 {
            entries[i - 1].offset + u64::from(entries[i - 1].length)
        } else {
            v.checked_sub(1).ok_or_else(|| TileError::Archive("first entry has no offset".into()))?
        };
    }
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e = vec![
            Entry { tile_id: 0, offset: 0, length: 10, run_length: 1 },
            Entry { tile_id: 5, offset: 10, length: 7, run_length: 3 },
            Entry { tile_id: 9, offset: 0, length: 10, run_length: 1 },
        ];
        let bytes = serialize(&e);
        // count, deltas, runs, lengths, offsets (second one "follows" → 0).
        assert_eq!(bytes, [3, 0, 5, 4, 1, 3, 1, 10, 7, 10, 1, 0, 1]);
        assert_eq!(deserialize(&bytes).unwrap(), e);
    }
}
