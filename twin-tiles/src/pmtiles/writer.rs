//! Writing an archive from rendered tiles.

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;

use super::directory::{serialize, Entry, HEADER_LEN, ROOT_MAX};
use super::{tile_id, COMPRESSION_GZIP, COMPRESSION_NONE, TILE_TYPE_MVT};
use crate::compress::gzip;
use crate::coord::TileCoord;
use crate::TileError;

/// What the header and metadata say about the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveInfo {
    pub tile_type: u8,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub center: [f64; 2],
    pub center_zoom: u8,
    /// JSON metadata (e.g. `vector_layers`, `attribution`).
    pub metadata: Value,
}

/// Counts as recorded in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArchiveStats {
    pub addressed_tiles: u64,
    pub tile_entries: u64,
    pub tile_contents: u64,
    pub leaf_directories: u64,
    pub bytes: u64,
}

fn e7(v: f64) -> i32 {
    (v * 1e7).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// Splits entries into leaf directories until the root fits in the first 16 KiB.
fn directories(entries: &[Entry]) -> (Vec<u8>, Vec<u8>, u64) {
    let root = gzip(&serialize(entries));
    if HEADER_LEN + root.len() <= ROOT_MAX {
        return (root, Vec::new(), 0);
    }
    let mut leaf_size = 4096;
    loop {
        let mut leaves = Vec::new();
        let mut root_entries = Vec::new();
        for chunk in entries.chunks(leaf_size) {
            let leaf = gzip(&serialize(chunk));
            root_entries.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: leaf.len() as u32,
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = gzip(&serialize(&root_entries));
        if HEADER_LEN + root.len() <= ROOT_MAX {
            return (root, leaves, root_entries.len() as u64);
        }
        leaf_size *= 2;
    }
}

/// Writes an archive of `tiles` (uncompressed contents; empty ones are skipped). MVT tiles are stored
/// gzip-compressed, other types as they are.
pub fn write_pmtiles<W: Write>(
    out: &mut W,
    tiles: Vec<(TileCoord, Vec<u8>)>,
    info: &ArchiveInfo,
) -> Result<ArchiveStats, TileError> {
    let compress = info.tile_type == TILE_TYPE_MVT;
    let mut tiles: Vec<(u64, Vec<u8>)> =
        tiles.into_iter().filter(|(_, d)| !d.is_empty()).map(|(t, d)| (tile_id(t), d)).collect();
    tiles.sort_unstable_by_key(|(id, _)| *id);
    tiles.dedup_by_key(|(id, _)| *id);
    let mut data: Vec<u8> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashMap<Vec<u8>, (u64, u32)> = HashMap::new();
    for (id, raw) in &tiles {
        let stored = if compress { gzip(raw) } else { raw.clone() };
        if let Some(last) = entries.last_mut() {
            // Same bytes as the previous tile and the next id: extend its run.
            let same = seen.get(&stored).is_some_and(|&(o, l)| o == last.offset && l == last.length);
            if same && last.tile_id + u64::from(last.run_length) == *id {
                last.run_length += 1;
                continue;
            }
        }
        let (offset, length) = match seen.get(&stored) {
            Some(&ol) => ol,
            None => {
                let ol = (data.len() as u64, stored.len() as u32);
                data.extend_from_slice(&stored);
                seen.insert(stored, ol);
                ol
            }
        };
        entries.push(Entry { tile_id: *id, offset, length, run_length: 1 });
    }
    let (root, leaves, leaf_count) = directories(&entries);
    let metadata = gzip(info.metadata.to_string().as_bytes());
    let root_off = HEADER_LEN as u64;
    let meta_off = root_off + root.len() as u64;
    let leaf_off = meta_off + metadata.len() as u64;
    let data_off = leaf_off + leaves.len() as u64;
    let stats = ArchiveStats {
        addressed_tiles: entries.iter().map(|e| u64::from(e.run_length)).sum(),
        tile_entries: entries.len() as u64,
        tile_contents: seen.len() as u64,
        leaf_directories: leaf_count,
        bytes: data_off + data.len() as u64,
    };
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(b"PMTiles");
    h.push(3);
    for v in [
        root_off,
        root.len() as u64,
        meta_off,
        metadata.len() as u64,
        leaf_off,
        leaves.len() as u64,
        data_off,
        data.len() as u64,
        stats.addressed_tiles,
        stats.tile_entries,
        stats.tile_contents,
    ] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.push(1); // clustered: data follows tile-id order
    h.push(COMPRESSION_GZIP); // internal compression
    h.push(if compress { COMPRESSION_GZIP } else { COMPRESSION_NONE });
    h.push(info.tile_type);
    h.push(info.minzoom);
    h.push(info.maxzoom);
    for v in [info.bounds[0], info.bounds[1], info.bounds[2], info.bounds[3]] {
        h.extend_from_slice(&e7(v).to_le_bytes());
    }
    h.push(info.center_zoom);
    h.extend_from_slice(&e7(info.center[0]).to_le_bytes());
    h.extend_from_slice(&e7(info.center[1]).to_le_bytes());
    debug_assert_eq!(h.len(), HEADER_LEN);
    let io = |e: std::io::Error| TileError::Archive(e.to_string());
    for part in [&h, &root, &metadata, &leaves, &data] {
        out.write_all(part).map_err(io)?;
    }
    Ok(stats)
}
