//! GDAL backend (feature `gdal`, needs libgdal): any OGR vector source (Shapefile, GeoPackage, …)
//! into a [`Layer`], and single-band rasters such as the SRTM GeoTIFF into a [`Raster`] grid.

use std::path::Path;

use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use serde_json::{Map, Number, Value};

use crate::{Feature, Layer, LayerError};

fn read_err(path: &Path, e: impl std::fmt::Display) -> LayerError {
    LayerError::Read { path: path.to_owned(), reason: e.to_string() }
}

fn field_to_json(v: FieldValue) -> Value {
    let num = |f: f64| Number::from_f64(f).map_or(Value::Null, Value::Number);
    match v {
        FieldValue::IntegerValue(i) => i.into(),
        FieldValue::Integer64Value(i) => i.into(),
        FieldValue::RealValue(f) => num(f),
        FieldValue::StringValue(s) => s.into(),
        FieldValue::IntegerListValue(l) => l.into(),
        FieldValue::Integer64ListValue(l) => l.into(),
        FieldValue::RealListValue(l) => Value::Array(l.into_iter().map(num).collect()),
        FieldValue::StringListValue(l) => l.into(),
        FieldValue::DateValue(d) => d.to_string().into(),
        FieldValue::DateTimeValue(d) => d.to_rfc3339().into(),
    }
}

/// Reads the first layer of an OGR data source. Features without geometry are skipped; null fields
/// are left out. Coordinates are taken as stored (the sources we use are WGS 84).
pub fn read_vector(name: &str, path: &Path) -> Result<Layer, LayerError> {
    let ds = Dataset::open(path).map_err(|e| read_err(path, e))?;
    let mut layer = ds.layer(0).map_err(|e| read_err(path, e))?;
    let mut features = Vec::new();
    for (index, f) in layer.features().enumerate() {
        let Some(g) = f.geometry() else { continue };
        let geometry =
            g.to_geo().map_err(|e| LayerError::Feature { path: path.to_owned(), index, reason: e.to_string() })?;
        let properties: Map<String, Value> = f.fields().filter_map(|(k, v)| v.map(|v| (k, field_to_json(v)))).collect();
        features.push(Feature { geometry, properties });
    }
    Ok(Layer { name: name.to_owned(), features })
}

/// A north-up raster grid: `values[row * width + col]`, `None` where the band has no data.
#[derive(Debug, Clone)]
pub struct Raster {
    pub width: usize,
    pub height: usize,
    /// GDAL geotransform: origin x, pixel width, row rotation, origin y, column rotation, pixel height.
    pub geo_transform: [f64; 6],
    pub values: Vec<Option<f64>>,
}

impl Raster {
    pub fn pixel(&self, col: usize, row: usize) -> Option<f64> {
        if col >= self.width || row >= self.height {
            return None;
        }
        self.values.get(row * self.width + col).copied().flatten()
    }
}

/// Reads band 1 of a raster (GeoTIFF or any GDAL raster format).
pub fn read_raster(path: &Path) -> Result<Raster, LayerError> {
    let ds = Dataset::open(path).map_err(|e| read_err(path, e))?;
    let geo_transform = ds.geo_transform().map_err(|e| read_err(path, e))?;
    let band = ds.rasterband(1).map_err(|e| read_err(path, e))?;
    let (width, height) = band.size();
    let nodata = band.no_data_value();
    let buf = band.read_as::<f64>((0, 0), (width, height), (width, height), None).map_err(|e| read_err(path, e))?;
    let values = buf.data().iter().map(|&v| if v.is_nan() || Some(v) == nodata { None } else { Some(v) }).collect();
    Ok(Raster { width, height, geo_transform, values })
}
