//! Raster tiles of a value sampled on the map (a scenario's water depth): 256-pixel RGBA PNGs,
//! coloured by a ramp, transparent where there is no value.

use crate::coord::world_to_lonlat;
use crate::{TileCoord, TileError};

/// Raster tile side (pixels).
pub const TILE_PX: u32 = 256;

/// Colour (RGBA) of a water depth: transparent below 1 cm (the flood solver's wet threshold) or on
/// NODATA, then one colour per class of the flooded-area layer (0.1 / 0.3 / 0.5 / 1 m), darker and
/// more opaque as it deepens (ColorBrewer "Blues").
pub fn depth_rgba(depth_m: f64) -> [u8; 4] {
    const RAMP: [(f64, [u8; 4]); 5] = [
        (1.0, [8, 48, 107, 235]),
        (0.5, [8, 81, 156, 220]),
        (0.3, [33, 113, 181, 205]),
        (0.1, [107, 174, 214, 185]),
        (0.01, [198, 219, 239, 150]),
    ];
    if depth_m.is_nan() {
        return [0; 4];
    }
    RAMP.iter().find(|(min, _)| depth_m >= *min).map_or([0; 4], |(_, c)| *c)
}

/// RGBA pixels of a tile: `sample(lon, lat)` at each pixel centre, coloured by `colour`; `None`
/// when no pixel is coloured (the caller serves a transparent tile, or none).
pub fn tile_pixels(
    tile: TileCoord,
    sample: impl Fn(f64, f64) -> Option<f64>,
    colour: impl Fn(f64) -> [u8; 4],
) -> Option<Vec<u8>> {
    let n = f64::from(1u32 << tile.z());
    let px = f64::from(TILE_PX);
    let world = |i: u32, origin: u32| (f64::from(origin) + (f64::from(i) + 0.5) / px) / n;
    // Longitude is linear in x and latitude depends on y alone: one projection per column and row.
    let lons: Vec<f64> = (0..TILE_PX).map(|i| world_to_lonlat(world(i, tile.x()), 0.5).0).collect();
    let lats: Vec<f64> = (0..TILE_PX).map(|j| world_to_lonlat(0.5, world(j, tile.y())).1).collect();
    let mut out = vec![0u8; (TILE_PX * TILE_PX * 4) as usize];
    let mut any = false;
    for (j, lat) in lats.iter().enumerate() {
        for (i, lon) in lons.iter().enumerate() {
            let Some(v) = sample(*lon, *lat) else { continue };
            let c = colour(v);
            if c[3] > 0 {
                let k = (j * TILE_PX as usize + i) * 4;
                out[k..k + 4].copy_from_slice(&c);
                any = true;
            }
        }
    }
    any.then_some(out)
}

/// PNG of a tile's RGBA pixels; a transparent tile for `None`.
pub fn encode_png(rgba: Option<&[u8]>) -> Result<Vec<u8>, TileError> {
    let blank;
    let rgba = match rgba {
        Some(px) => px,
        None => {
            blank = vec![0u8; (TILE_PX * TILE_PX * 4) as usize];
            &blank
        }
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, TILE_PX, TILE_PX);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| TileError::Png(e.to_string()))?;
        w.write_image_data(rgba).map_err(|e| TileError::Png(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn ramp_is_transparent_when_dry_and_darkens_with_depth() {
        assert_eq!(depth_rgba(0.0)[3], 0);
        assert_eq!(depth_rgba(0.009)[3], 0);
        assert_eq!(depth_rgba(f64::NAN)[3], 0);
        let classes = [0.01, 0.1, 0.3, 0.5, 1.0, 5.0];
        let colours: Vec<[u8; 4]> = classes.iter().map(|d| depth_rgba(*d)).collect();
        for w in colours.windows(2) {
            // Deeper is never lighter.
            assert!(
                u32::from(w[1][0]) + u32::from(w[1][1]) + u32::from(w[1][2])
                    <= u32::from(w[0][0]) + u32::from(w[0][1]) + u32::from(w[0][2])
            );
        }
        assert_eq!(depth_rgba(0.3), depth_rgba(0.49));
        assert_ne!(depth_rgba(0.3), depth_rgba(0.5));
    }

    #[test]
    fn transparent_and_coloured_tiles_decode_as_png() {
        let tile = TileCoord::containing(108.2, 16.05, 14).unwrap();
        let px = tile_pixels(tile, |lon, _| (lon > 108.2).then_some(0.7), depth_rgba).unwrap();
        let png = encode_png(Some(&px)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (TILE_PX, TILE_PX));
        // West half dry (transparent), east half coloured.
        assert_eq!(buf[3], 0);
        assert_eq!(&buf[(TILE_PX as usize - 1) * 4..TILE_PX as usize * 4], &depth_rgba(0.7));
        assert!(tile_pixels(tile, |_, _| None, depth_rgba).is_none());
        assert_eq!(&encode_png(None).unwrap()[1..4], b"PNG");
    }
}
