//! A georeferenced elevation grid read from a single-band GeoTIFF (Int16/Int32/Float32, any
//! compression the `tiff` crate decodes, strips or tiles) in EPSG:4326. The geotransform comes
//! from the ModelPixelScale and ModelTiepoint tags; nodata from GDAL's GDAL_NODATA tag.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use crate::TileError;

/// Elevations in metres on a regular lon/lat grid; row 0 is the northern edge.
#[derive(Debug, Clone)]
pub struct Dem {
    pub width: usize,
    pub height: usize,
    /// Longitude and latitude of the north-west corner of pixel (0, 0) (its outer corner).
    pub west: f64,
    pub north: f64,
    /// Pixel size in degrees (both positive).
    pub dx: f64,
    pub dy: f64,
    /// `NaN` where the source had nodata.
    data: Vec<f32>,
}

impl Dem {
    /// A DEM from values in row-major order (north row first).
    pub fn from_grid(width: usize, height: usize, west: f64, north: f64, dx: f64, dy: f64, data: Vec<f32>) -> Self {
        Self { width, height, west, north, dx, dy, data }
    }

    pub fn read_geotiff(path: &Path) -> Result<Self, TileError> {
        let bad = |reason: String| TileError::Dem { path: path.to_owned(), reason };
        let file = File::open(path).map_err(|e| TileError::Io { path: path.to_owned(), reason: e.to_string() })?;
        let mut dec = Decoder::new(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
        let (w, h) = dec.dimensions().map_err(|e| bad(e.to_string()))?;
        let scale = dec.get_tag_f64_vec(Tag::ModelPixelScaleTag).map_err(|e| bad(format!("ModelPixelScale: {e}")))?;
        let tie = dec.get_tag_f64_vec(Tag::ModelTiepointTag).map_err(|e| bad(format!("ModelTiepoint: {e}")))?;
        if scale.len() < 2 || tie.len() < 6 || scale[0] <= 0.0 || scale[1] <= 0.0 {
            return Err(bad("needs a north-up ModelPixelScale and one ModelTiepoint".into()));
        }
        // Tiepoint (i, j, k) ↔ (x, y, z): raster position (i, j) is at (x, y).
        let (dx, dy) = (scale[0], scale[1]);
        let west = tie[3] - tie[0] * dx;
        let north = tie[4] + tie[1] * dy;
        let nodata: Option<f64> = dec
            .get_tag_ascii_string(Tag::GdalNodata)
            .ok()
            .and_then(|s| s.trim_matches(char::from(0)).trim().parse().ok());
        let raw: Vec<f64> = match dec.read_image().map_err(|e| bad(e.to_string()))? {
            DecodingResult::I16(v) => v.into_iter().map(f64::from).collect(),
            DecodingResult::U16(v) => v.into_iter().map(f64::from).collect(),
            DecodingResult::I32(v) => v.into_iter().map(f64::from).collect(),
            DecodingResult::F32(v) => v.into_iter().map(f64::from).collect(),
            DecodingResult::F64(v) => v,
            _ => return Err(bad("unsupported sample type (need Int16, UInt16, Int32 or Float)".into())),
        };
        let (width, height) = (w as usize, h as usize);
        if raw.len() != width * height {
            return Err(bad(format!("{} samples for {width}×{height} pixels (one band expected)", raw.len())));
        }
        let data = raw.into_iter().map(|v| if Some(v) == nodata { f32::NAN } else { v as f32 }).collect();
        Ok(Self { width, height, west, north, dx, dy, data })
    }

    /// Elevation of pixel (column, row); `None` outside or at nodata.
    pub fn pixel(&self, col: usize, row: usize) -> Option<f64> {
        if col >= self.width || row >= self.height {
            return None;
        }
        let v = self.data[row * self.width + col];
        (!v.is_nan()).then_some(f64::from(v))
    }

    /// `[west, south, east, north]`.
    pub fn bounds(&self) -> [f64; 4] {
        [self.west, self.north - self.height as f64 * self.dy, self.west + self.width as f64 * self.dx, self.north]
    }

    /// Bilinear elevation at a position, between pixel centres (clamped at the edges); `None`
    /// outside the grid or where a needed pixel is nodata.
    pub fn sample(&self, lon: f64, lat: f64) -> Option<f64> {
        let fx = (lon - self.west) / self.dx - 0.5;
        let fy = (self.north - lat) / self.dy - 0.5;
        if !(fx >= -0.5 && fy >= -0.5 && fx <= self.width as f64 - 0.5 && fy <= self.height as f64 - 0.5) {
            return None;
        }
        let maxc = (self.width - 1) as f64;
        let maxr = (self.height - 1) as f64;
        let (fx, fy) = (fx.clamp(0.0, maxc), fy.clamp(0.0, maxr));
        let (c0, r0) = (fx.floor() as usize, fy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.width - 1), (r0 + 1).min(self.height - 1));
        let (tx, ty) = (fx - c0 as f64, fy - r0 as f64);
        let top = self.pixel(c0, r0)? * (1.0 - tx) + self.pixel(c1, r0)? * tx;
        let bottom = self.pixel(c0, r1)? * (1.0 - tx) + self.pixel(c1, r1)? * tx;
        Some(top * (1.0 - ty) + bottom * ty)
    }

    /// (min, max, mean) over valid pixels.
    pub fn stats(&self) -> Option<(f64, f64, f64)> {
        let valid = self.data.iter().filter(|v| !v.is_nan()).map(|v| f64::from(*v));
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for v in valid {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            n += 1;
        }
        (n > 0).then(|| (min, max, sum / n as f64))
    }
}
