//! Terrarium RGB encoding and PNG terrain tiles.

use crate::coord::{world_to_lonlat, TileCoord};
use crate::terrain::Dem;
use crate::TileError;

/// Pixels per terrain tile side.
pub const TERRAIN_TILE_SIZE: u32 = 256;

/// Elevation in metres → Terrarium RGB.
pub fn encode_terrarium(elevation: f64) -> [u8; 3] {
    let v = (elevation + 32768.0).clamp(0.0, 65535.996);
    let whole = v.floor();
    [(whole / 256.0) as u8, (whole % 256.0) as u8, ((v - whole) * 256.0).floor() as u8]
}

/// Terrarium RGB → elevation in metres.
pub fn decode_terrarium(rgb: [u8; 3]) -> f64 {
    f64::from(rgb[0]) * 256.0 + f64::from(rgb[1]) + f64::from(rgb[2]) / 256.0 - 32768.0
}

/// A 256×256 RGB PNG of the tile; pixels outside the DEM or at nodata are sea level (0 m).
pub fn terrain_png(dem: &Dem, tile: TileCoord) -> Result<Vec<u8>, TileError> {
    let size = TERRAIN_TILE_SIZE as usize;
    let n = (1u64 << tile.z()) as f64;
    let mut rgb = Vec::with_capacity(size * size * 3);
    for row in 0..size {
        let wy = (f64::from(tile.y()) + (row as f64 + 0.5) / size as f64) / n;
        for col in 0..size {
            let wx = (f64::from(tile.x()) + (col as f64 + 0.5) / size as f64) / n;
            let (lon, lat) = world_to_lonlat(wx, wy);
            rgb.extend_from_slice(&encode_terrarium(dem.sample(lon, lat).unwrap_or(0.0)));
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, TERRAIN_TILE_SIZE, TERRAIN_TILE_SIZE);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().map_err(|e| TileError::Png(e.to_string()))?;
        w.write_image_data(&rgb).map_err(|e| TileError::Png(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn terrarium_round_trips_to_a_256th_of_a_metre() {
        for e in [-25.0, 0.0, 0.5, 12.75, 686.0, 8848.3] {
            assert!((decode_terrarium(encode_terrarium(e)) - e).abs() < 1.0 / 256.0 + 1e-9, "{e}");
        }
        // Reference value from the Terrarium format description: 0 m is (128, 0, 0).
        assert_eq!(encode_terrarium(0.0), [128, 0, 0]);
    }
}
