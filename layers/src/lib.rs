//! Reference layers of a city (roads, buildings, water, land use, POIs, boundaries) and the road graph.
//! STUB: API contract only; the implementation is being written.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use twin_core::BBox;

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
    /// The features intersecting `bbox` (all with `None`) as a GeoJSON FeatureCollection.
    pub fn to_geojson(&self, bbox: Option<BBox>, limit: Option<usize>) -> serde_json::Value {
        let _ = (bbox, limit);
        todo!()
    }
}

/// All reference layers of a city.
#[derive(Debug, Clone, Default)]
pub struct ReferenceLayers {
    pub layers: Vec<Layer>,
}

impl ReferenceLayers {
    pub fn load(paths: &LayerPaths, base_dir: &Path) -> Result<Self, LayerError> {
        let _ = (paths, base_dir);
        todo!()
    }
    pub fn get(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }
}
