//! Reading an archive back (whole file in memory; archives of one city are small).

use serde_json::Value;

use super::directory::{deserialize, Entry, HEADER_LEN};
use super::{tile_id, COMPRESSION_GZIP, COMPRESSION_NONE};
use crate::compress::gunzip;
use crate::coord::TileCoord;
use crate::TileError;

/// The fixed header, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u8,
    pub root_offset: u64,
    pub root_length: u64,
    pub metadata_offset: u64,
    pub metadata_length: u64,
    pub leaf_offset: u64,
    pub leaf_length: u64,
    pub data_offset: u64,
    pub data_length: u64,
    pub addressed_tiles: u64,
    pub tile_entries: u64,
    pub tile_contents: u64,
    pub clustered: bool,
    pub internal_compression: u8,
    pub tile_compression: u8,
    pub tile_type: u8,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub bounds: [f64; 4],
    pub center_zoom: u8,
    pub center: [f64; 2],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn e7_at(b: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    f64::from(i32::from_le_bytes(a)) / 1e7
}

impl Header {
    pub fn parse(b: &[u8]) -> Result<Self, TileError> {
        if b.len() < HEADER_LEN || &b[..7] != b"PMTiles" {
            return Err(TileError::Archive("not a PMTiles archive".into()));
        }
        if b[7] != 3 {
            return Err(TileError::Archive(format!("PMTiles version {} is not 3", b[7])));
        }
        let f = |i: usize| u64_at(b, 8 + 8 * i);
        Ok(Self {
            version: b[7],
            root_offset: f(0),
            root_length: f(1),
            metadata_offset: f(2),
            metadata_length: f(3),
            leaf_offset: f(4),
            leaf_length: f(5),
            data_offset: f(6),
            data_length: f(7),
            addressed_tiles: f(8),
            tile_entries: f(9),
            tile_contents: f(10),
            clustered: b[96] == 1,
            internal_compression: b[97],
            tile_compression: b[98],
            tile_type: b[99],
            minzoom: b[100],
            maxzoom: b[101],
            bounds: [e7_at(b, 102), e7_at(b, 106), e7_at(b, 110), e7_at(b, 114)],
            center_zoom: b[118],
            center: [e7_at(b, 119), e7_at(b, 123)],
        })
    }
}

#[derive(Debug)]
pub struct PmtilesReader {
    bytes: Vec<u8>,
    header: Header,
    root: Vec<Entry>,
}

impl PmtilesReader {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TileError> {
        let header = Header::parse(&bytes)?;
        let root = Self::directory(&bytes, &header, header.root_offset, header.root_length)?;
        Ok(Self { bytes, header, root })
    }

    fn section(bytes: &[u8], offset: u64, length: u64) -> Result<&[u8], TileError> {
        let (o, l) = (offset as usize, length as usize);
        bytes.get(o..o.saturating_add(l)).ok_or_else(|| TileError::Archive(format!("section {o}+{l} beyond the file")))
    }

    fn decompress(codec: u8, raw: &[u8]) -> Result<Vec<u8>, TileError> {
        match codec {
            COMPRESSION_GZIP => gunzip(raw).map_err(|e| TileError::Archive(e.to_string())),
            COMPRESSION_NONE => Ok(raw.to_vec()),
            other => Err(TileError::Archive(format!("compression {other} is not supported"))),
        }
    }

    fn directory(bytes: &[u8], h: &Header, offset: u64, length: u64) -> Result<Vec<Entry>, TileError> {
        let raw = Self::section(bytes, offset, length)?;
        deserialize(&Self::decompress(h.internal_compression, raw)?)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn root(&self) -> &[Entry] {
        &self.root
    }

    pub fn metadata(&self) -> Result<Value, TileError> {
        let raw = Self::section(&self.bytes, self.header.metadata_offset, self.header.metadata_length)?;
        let json = Self::decompress(self.header.internal_compression, raw)?;
        serde_json::from_slice(&json).map_err(|e| TileError::Archive(format!("metadata: {e}")))
    }

    /// Every tile entry, leaf directories expanded, in tile-id order.
    pub fn entries(&self) -> Result<Vec<Entry>, TileError> {
        let mut out = Vec::new();
        for e in &self.root {
            if e.run_length == 0 {
                let leaf = Self::directory(
                    &self.bytes,
                    &self.header,
                    self.header.leaf_offset + e.offset,
                    u64::from(e.length),
                )?;
                out.extend(leaf);
            } else {
                out.push(*e);
            }
        }
        Ok(out)
    }

    /// A tile's contents, decompressed; `None` when the archive does not hold it.
    pub fn get(&self, t: TileCoord) -> Result<Option<Vec<u8>>, TileError> {
        let id = tile_id(t);
        let mut dir = self.root.clone();
        for _ in 0..4 {
            let i = dir.partition_point(|e| e.tile_id <= id);
            let Some(e) = i.checked_sub(1).map(|i| dir[i]) else { return Ok(None) };
            if e.run_length == 0 {
                dir = Self::directory(
                    &self.bytes,
                    &self.header,
                    self.header.leaf_offset + e.offset,
                    u64::from(e.length),
                )?;
                continue;
            }
            if id >= e.tile_id + u64::from(e.run_length) {
                return Ok(None);
            }
            let raw = Self::section(&self.bytes, self.header.data_offset + e.offset, u64::from(e.length))?;
            return Self::decompress(self.header.tile_compression, raw).map(Some);
        }
        Err(TileError::Archive("directories nested too deep".into()))
    }
}
