//! Streaming readers built on geozero: GeoJSON FeatureCollections (one feature in memory at a time,
//! never the whole document) and FlatGeobuf files, both into [`Layer`]s.
//!
//! [`Collector`] is the geozero `FeatureProcessor` that turns the event stream of any geozero source
//! into [`Feature`]s; the PostGIS and GDAL backends reuse the property conversion.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use geozero::geo_types::GeoWriter;
use geozero::{ColumnValue, FeatureProcessor, GeomProcessor, PropertyProcessor};
use serde_json::{Map, Number, Value};

use crate::{Feature, Layer, LayerError};

/// Collects geozero events into features. Features without a geometry are skipped, as in
/// [`Layer::from_geojson_file`].
#[derive(Default)]
pub struct Collector {
    geometry: GeoWriter,
    properties: Map<String, Value>,
    pub features: Vec<Feature>,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }
}

/// A geozero property value as JSON. Non-finite floats become `null` (JSON has no NaN); JSON
/// columns are parsed; binary columns are dropped (`None`).
pub fn column_to_json(v: &ColumnValue<'_>) -> Option<Value> {
    let float = |f: f64| Some(Number::from_f64(f).map_or(Value::Null, Value::Number));
    match *v {
        ColumnValue::Byte(x) => Some(x.into()),
        ColumnValue::UByte(x) => Some(x.into()),
        ColumnValue::Bool(x) => Some(x.into()),
        ColumnValue::Short(x) => Some(x.into()),
        ColumnValue::UShort(x) => Some(x.into()),
        ColumnValue::Int(x) => Some(x.into()),
        ColumnValue::UInt(x) => Some(x.into()),
        ColumnValue::Long(x) => Some(x.into()),
        ColumnValue::ULong(x) => Some(x.into()),
        ColumnValue::Float(x) => float(f64::from(x)),
        ColumnValue::Double(x) => float(x),
        ColumnValue::String(s) | ColumnValue::DateTime(s) => Some(Value::String(s.to_owned())),
        // A JSON column that does not parse is kept as its text rather than failing the layer.
        ColumnValue::Json(s) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))),
        ColumnValue::Binary(_) => None,
    }
}

impl PropertyProcessor for Collector {
    fn property(&mut self, _idx: usize, name: &str, value: &ColumnValue<'_>) -> geozero::error::Result<bool> {
        if let Some(v) = column_to_json(value) {
            self.properties.insert(name.to_owned(), v);
        }
        Ok(false)
    }
}

impl FeatureProcessor for Collector {
    fn feature_begin(&mut self, _idx: u64) -> geozero::error::Result<()> {
        self.properties = Map::new();
        Ok(())
    }

    fn feature_end(&mut self, _idx: u64) -> geozero::error::Result<()> {
        let properties = std::mem::take(&mut self.properties);
        if let Some(geometry) = self.geometry.take_geometry() {
            self.features.push(Feature { geometry, properties });
        }
        Ok(())
    }
}

/// Forwards geometry events to the inner `GeoWriter`.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)+) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> geozero::error::Result<()> {
            self.geometry.$name($($arg),*)
        })+
    };
}

impl GeomProcessor for Collector {
    forward! {
        xy(x: f64, y: f64, idx: usize);
        point_begin(idx: usize);
        point_end(idx: usize);
        multipoint_begin(size: usize, idx: usize);
        multipoint_end(idx: usize);
        linestring_begin(tagged: bool, size: usize, idx: usize);
        linestring_end(tagged: bool, idx: usize);
        multilinestring_begin(size: usize, idx: usize);
        multilinestring_end(idx: usize);
        polygon_begin(tagged: bool, size: usize, idx: usize);
        polygon_end(tagged: bool, idx: usize);
        multipolygon_begin(size: usize, idx: usize);
        multipolygon_end(idx: usize);
        geometrycollection_begin(size: usize, idx: usize);
        geometrycollection_end(idx: usize);
    }
}

fn open(path: &Path) -> Result<BufReader<File>, LayerError> {
    File::open(path).map(BufReader::new).map_err(|e| LayerError::Read { path: path.to_owned(), reason: e.to_string() })
}

fn parse_error(path: &Path, e: impl std::fmt::Display) -> LayerError {
    LayerError::Parse { path: path.to_owned(), reason: e.to_string() }
}

impl Layer {
    /// Reads a GeoJSON FeatureCollection feature by feature with geozero, so memory holds the
    /// features read so far but never the document tree. Prefer it for large files; the
    /// [`Layer::from_geojson_file`] reader gives finer error messages.
    pub fn from_geojson_streaming(name: &str, path: &Path) -> Result<Self, LayerError> {
        let mut collector = Collector::new();
        geozero::geojson::read_geojson_fc(open(path)?, &mut collector).map_err(|e| parse_error(path, e))?;
        Ok(Layer { name: name.to_owned(), features: collector.features })
    }

    /// Reads a FlatGeobuf file sequentially (no index needed).
    pub fn from_flatgeobuf_file(name: &str, path: &Path) -> Result<Self, LayerError> {
        let mut reader = open(path)?;
        let fgb = flatgeobuf::FgbReader::open(&mut reader).map_err(|e| parse_error(path, e))?;
        let mut features = fgb.select_all_seq().map_err(|e| parse_error(path, e))?;
        let mut collector = Collector::new();
        features.process_features(&mut collector).map_err(|e| parse_error(path, e))?;
        Ok(Layer { name: name.to_owned(), features: collector.features })
    }

    /// Reads a layer, choosing the reader from the file extension: `.fgb` FlatGeobuf; with the
    /// `gdal` feature `.shp`, `.gpkg` and other OGR formats; otherwise GeoJSON (files over
    /// [`STREAMING_THRESHOLD`] bytes with the streaming reader).
    pub fn from_path(name: &str, path: &Path) -> Result<Self, LayerError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("fgb") => Self::from_flatgeobuf_file(name, path),
            #[cfg(feature = "gdal")]
            Some("shp" | "gpkg" | "gml" | "kml" | "sqlite") => crate::gdal::read_vector(name, path),
            _ => {
                let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                if len > STREAMING_THRESHOLD {
                    Self::from_geojson_streaming(name, path)
                } else {
                    Self::from_geojson_file(name, path)
                }
            }
        }
    }
}

/// GeoJSON files larger than this are read with the streaming reader.
pub const STREAMING_THRESHOLD: u64 = 64 * 1024 * 1024;
