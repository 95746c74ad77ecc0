//! PMTiles v3 archives: a 127-byte header, a gzip-compressed root directory (run-length entries keyed
//! by Hilbert tile id), JSON metadata, optional leaf directories and the tile data, written so that
//! tile data follows tile-id order (clustered) and identical tiles are stored once.

mod directory;
mod reader;
mod writer;

pub use directory::{Entry, HEADER_LEN, ROOT_MAX};
pub use reader::{Header, PmtilesReader};
pub use writer::{write_pmtiles, ArchiveInfo, ArchiveStats};

use crate::coord::TileCoord;

/// Compression codes of the header.
pub const COMPRESSION_NONE: u8 = 1;
pub const COMPRESSION_GZIP: u8 = 2;
/// Tile type codes of the header.
pub const TILE_TYPE_MVT: u8 = 1;
pub const TILE_TYPE_PNG: u8 = 2;

/// The PMTiles tile id: tiles of all lower zooms come first, then the Hilbert index at this zoom.
pub fn tile_id(t: TileCoord) -> u64 {
    let z = u32::from(t.z());
    let base = ((1u64 << (2 * z)) - 1) / 3;
    let n = 1u64 << z;
    let (mut x, mut y) = (u64::from(t.x()), u64::from(t.y()));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the curve stays continuous.
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    base + d
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn tile_ids_match_the_spec_examples() {
        // Values from the PMTiles v3 specification's tile id section and reference implementations.
        let id = |z, x, y| tile_id(TileCoord::new(z, x, y).unwrap());
        assert_eq!(id(0, 0, 0), 0);
        assert_eq!(id(1, 0, 0), 1);
        assert_eq!(id(1, 0, 1), 2);
        assert_eq!(id(1, 1, 1), 3);
        assert_eq!(id(1, 1, 0), 4);
        assert_eq!(id(2, 0, 0), 5);
        assert_eq!(id(2, 1, 3), 11);
        assert_eq!(id(3, 3, 0), 26);
        // Every tile of a zoom gets a distinct id in that zoom's range.
        let mut ids: Vec<u64> = (0..16).flat_map(|x| (0..16).map(move |y| id(4, x, y))).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 256);
        assert_eq!((ids[0], ids[255]), (85, 85 + 255));
    }
}
