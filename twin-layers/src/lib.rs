//! Reference layers of a city (roads, buildings, water, land use, POIs, boundaries) and the road graph.
//!
//! Layers are read from GeoJSON files named in the city config ([`LayerPaths`]) into memory as `geo`
//! geometries with their properties; roads and buildings get normalised attributes (see
//! [`normalize`]). [`roads::RoadGraph`] turns the roads layer into a routable directed graph.

pub mod cql2;
#[cfg(feature = "gdal")]
pub mod gdal;
mod geojson;
pub mod normalize;
#[cfg(feature = "postgis")]
pub mod postgis;
pub mod postgis_config;
pub mod roads;
pub mod sources;

use std::path::{Path, PathBuf};

use geo::BoundingRect;
use serde::Deserialize;
use serde_json::{json, Value};
use twin_core::BBox;

pub use geojson::{read_geometry, write_geometry, GeoJsonError};

/// Where a city's reference layers come from, as written in the `[layers]` table of the city config.
/// Relative paths are relative to the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPaths {
    pub roads: Option<PathBuf>,
    pub buildings: Option<PathBuf>,
    pub water: Option<PathBuf>,
    pub landuse: Option<PathBuf>,
    pub pois: Option<PathBuf>,
    pub boundaries: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read layer {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("layer {path} is not valid GeoJSON: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("layer {path}, feature {index}: {reason}")]
    Feature { path: PathBuf, index: usize, reason: String },
}

/// One feature of a reference layer.
#[derive(Debug, Clone)]
pub struct Feature {
    pub geometry: geo::Geometry<f64>,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A named reference layer held in memory.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub features: Vec<Feature>,
}

impl Layer {
    /// Reads a GeoJSON FeatureCollection file. Features without geometry are skipped.
    pub fn from_geojson_file(name: &str, path: &Path) -> Result<Self, LayerError> {
        let bytes =
            std::fs::read(path).map_err(|e| LayerError::Read { path: path.to_owned(), reason: e.to_string() })?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| LayerError::Parse { path: path.to_owned(), reason: e.to_string() })?;
        let raw = geojson::read_features(&doc).map_err(|(index, reason)| match index {
            Some(index) => LayerError::Feature { path: path.to_owned(), index, reason: reason.to_string() },
            None => LayerError::Parse { path: path.to_owned(), reason: reason.to_string() },
        })?;
        let features = raw
            .into_iter()
            .filter_map(|f| f.geometry.map(|geometry| Feature { geometry, properties: f.properties }))
            .collect();
        Ok(Layer { name: name.to_owned(), features })
    }

    /// The features intersecting `bbox` (all with `None`) as a GeoJSON FeatureCollection, at most
    /// `limit` of them. The test is on the feature's envelope. Each feature's `id` is its index in
    /// the layer.
    pub fn to_geojson(&self, bbox: Option<BBox>, limit: Option<usize>) -> serde_json::Value {
        let features: Vec<Value> = self
            .features
            .iter()
            .enumerate()
            .filter(|(_, f)| bbox.is_none_or(|b| envelope_intersects(&f.geometry, &b)))
            .take(limit.unwrap_or(usize::MAX))
            .map(|(i, f)| {
                json!({"type": "Feature", "id": i, "geometry": write_geometry(&f.geometry), "properties": f.properties})
            })
            .collect();
        json!({"type": "FeatureCollection", "name": self.name, "features": features})
    }
}

fn envelope_intersects(g: &geo::Geometry<f64>, b: &BBox) -> bool {
    g.bounding_rect().is_some_and(|r| {
        r.min().x <= b.max_lon && r.max().x >= b.min_lon && r.min().y <= b.max_lat && r.max().y >= b.min_lat
    })
}

/// All reference layers of a city.
#[derive(Debug, Clone, Default)]
pub struct ReferenceLayers {
    pub layers: Vec<Layer>,
}

impl ReferenceLayers {
    /// Loads every configured layer (relative paths against `base_dir`) into layers named `roads`,
    /// `buildings`, `water`, `landuse`, `pois` and `boundaries`; unconfigured layers are absent.
    pub fn load(paths: &LayerPaths, base_dir: &Path) -> Result<Self, LayerError> {
        let configured = [
            ("roads", &paths.roads),
            ("buildings", &paths.buildings),
            ("water", &paths.water),
            ("landuse", &paths.landuse),
            ("pois", &paths.pois),
            ("boundaries", &paths.boundaries),
        ];
        let mut layers = Vec::new();
        for (name, path) in configured {
            let Some(path) = path else { continue };
            let mut layer = Layer::from_path(name, &base_dir.join(path))?;
            let fix: Option<fn(&mut serde_json::Map<String, Value>)> = match name {
                "roads" => Some(normalize::normalize_road),
                "buildings" => Some(normalize::normalize_building),
                _ => None,
            };
            if let Some(fix) = fix {
                layer.features.iter_mut().for_each(|f| fix(&mut f.properties));
            }
            layers.push(layer);
        }
        Ok(Self { layers })
    }

    pub fn get(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }
}
