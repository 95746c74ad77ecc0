//! The live congestion layer: speed samples matched to road segments, cached per sample set.

use std::sync::{Arc, OnceLock};

use crate::traffic::CongestionMap;
use parking_lot::Mutex;
use serde_json::Value;
use twin_layers::roads::RoadGraph;
use twin_layers::ReferenceLayers;
use twin_tiles::reference::ReferenceIndex;

use super::index_geojson;

/// A speed sample: longitude, latitude, speed (m/s), heading (degrees).
pub type SpeedSample = (f64, f64, f64, Option<f64>);

/// Congestion per road segment as of one set of speed samples.
#[derive(Debug)]
pub struct CongestionSnapshot {
    /// Hash of the samples it was computed from (the tiles' version).
    pub version: u64,
    pub geojson: Value,
    /// The same features indexed for vector tiles (layer `congestion`).
    pub index: ReferenceIndex,
}

/// The road graph's matching index, built once, and the latest congestion snapshot: it is
/// recomputed only when the speed samples change, so a burst of tile requests matches once.
#[derive(Debug, Default)]
pub struct CongestionCache {
    base: OnceLock<Option<(Arc<RoadGraph>, CongestionMap)>>,
    latest: Mutex<Option<Arc<CongestionSnapshot>>>,
}

/// Version of a set of samples (bit-exact: any change in any sample gives a new version).
pub fn samples_version(samples: &[SpeedSample]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (lon, lat, v, heading) in samples {
        (lon.to_bits(), lat.to_bits(), v.to_bits(), heading.map(f64::to_bits)).hash(&mut h);
    }
    samples.len().hash(&mut h);
    h.finish()
}

impl CongestionCache {
    /// Congestion from `samples` (oldest first per vehicle); `None` without a `roads` layer.
    pub fn snapshot(&self, layers: &ReferenceLayers, samples: &[SpeedSample]) -> Option<Arc<CongestionSnapshot>> {
        let (graph, base) = self
            .base
            .get_or_init(|| {
                let graph = RoadGraph::from_layer(layers.get("roads")?);
                let map = CongestionMap::new(&graph);
                Some((Arc::new(graph), map))
            })
            .as_ref()?;
        let version = samples_version(samples);
        // Held while computing, so concurrent requests for the same samples wait and reuse.
        let mut latest = self.latest.lock();
        if let Some(s) = latest.as_ref().filter(|s| s.version == version) {
            return Some(s.clone());
        }
        let mut map = base.clone();
        map.clear();
        for (lon, lat, speed_m_s, heading) in samples {
            map.observe(*lon, *lat, speed_m_s * 3.6, *heading);
        }
        let geojson = map.to_geojson(graph);
        let index = index_geojson("congestion", &geojson);
        let snap = Arc::new(CongestionSnapshot { version, geojson, index });
        *latest = Some(snap.clone());
        Some(snap)
    }
}
