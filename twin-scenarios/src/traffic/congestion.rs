//! Congestion from live vehicle speeds: positions are matched to the nearest road edge (with the
//! travel direction chosen by heading when known), and each edge keeps an exponentially smoothed
//! ratio of observed to free-flow speed. The congestion index is `1 − ratio`, clamped to [0, 1]:
//! 0 is free flow, 1 standstill.

use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;
use serde_json::{json, Value};
use twin_layers::roads::{EdgeId, RoadGraph};

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

type Segment = GeomWithData<Line<[f64; 2]>, u32>;

/// Smoothed speed ratios per edge.
#[derive(Debug, Clone)]
pub struct CongestionMap {
    tree: RTree<Segment>,
    /// Longitude scale of the local planar frame (cos of the mean latitude).
    kx: f64,
    bearings: Vec<Option<f64>>,
    free_kmh: Vec<f64>,
    ratio: Vec<Option<f64>>,
    samples: Vec<u32>,
    /// Weight of a new sample in the moving average.
    pub alpha: f64,
    /// Farthest match (m).
    pub max_distance_m: f64,
}

/// One edge's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeCongestion {
    pub edge: EdgeId,
    pub speed_ratio: f64,
    pub index: f64,
    pub samples: u32,
}

fn bearing(a: [f64; 2], b: [f64; 2]) -> f64 {
    (b[0] - a[0]).atan2(b[1] - a[1]).to_degrees().rem_euclid(360.0)
}

impl CongestionMap {
    pub fn new(graph: &RoadGraph) -> Self {
        let mean_lat = if graph.node_count() > 0 {
            (0..graph.node_count() as u32).map(|n| graph.node(twin_layers::roads::NodeId(n)).y).sum::<f64>()
                / graph.node_count() as f64
        } else {
            0.0
        };
        let kx = mean_lat.to_radians().cos();
        let mut segs = Vec::new();
        let mut bearings = Vec::new();
        for (id, e) in graph.edges() {
            let pts: Vec<[f64; 2]> = e.geometry.iter().map(|c| [c.x * kx, c.y]).collect();
            for w in pts.windows(2) {
                segs.push(GeomWithData::new(Line::new(w[0], w[1]), id.0));
            }
            let b = (pts.len() >= 2).then(|| bearing(pts[0], pts[pts.len() - 1]));
            bearings.push(b);
        }
        let m = graph.edge_count();
        Self {
            tree: RTree::bulk_load(segs),
            kx,
            bearings,
            free_kmh: graph.edges().map(|(_, e)| e.speed_kmh).collect(),
            ratio: vec![None; m],
            samples: vec![0; m],
            alpha: 0.3,
            max_distance_m: 30.0,
        }
    }

    /// The edge a vehicle at (lon, lat) heading `heading_deg` is on, if any is close enough.
    pub fn match_edge(&self, lon: f64, lat: f64, heading_deg: Option<f64>) -> Option<EdgeId> {
        let p = [lon * self.kx, lat];
        let max_d = self.max_distance_m / M_PER_DEG;
        let mut best: Option<(f64, u32)> = None;
        for (seg, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&p) {
            let d = d2.sqrt();
            if d > max_d {
                break;
            }
            // Distance plus a heading mismatch penalty (90° off costs as much as 20 m).
            let penalty = match (heading_deg, self.bearings[seg.data as usize]) {
                (Some(h), Some(b)) => {
                    let diff = ((h - b + 540.0).rem_euclid(360.0) - 180.0).abs();
                    diff / 90.0 * 20.0 / M_PER_DEG
                }
                _ => 0.0,
            };
            let score = d + penalty;
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, seg.data));
            }
            if d > best.map_or(0.0, |b| b.0) {
                break; // nothing farther can beat the best score
            }
        }
        best.map(|(_, e)| EdgeId(e))
    }

    /// Forgets every observation (the matching index is kept, so a cleared clone is a cheap start).
    pub fn clear(&mut self) {
        self.ratio.iter_mut().for_each(|r| *r = None);
        self.samples.iter_mut().for_each(|n| *n = 0);
    }

    /// Books a speed observation; returns the matched edge.
    pub fn observe(&mut self, lon: f64, lat: f64, speed_kmh: f64, heading_deg: Option<f64>) -> Option<EdgeId> {
        if !(speed_kmh.is_finite() && speed_kmh >= 0.0 && lon.is_finite() && lat.is_finite()) {
            return None;
        }
        let e = self.match_edge(lon, lat, heading_deg)?;
        let i = e.0 as usize;
        let free = self.free_kmh[i];
        if free <= 0.0 {
            return None;
        }
        let r = (speed_kmh / free).min(1.5);
        self.ratio[i] = Some(match self.ratio[i] {
            Some(old) => self.alpha * r + (1.0 - self.alpha) * old,
            None => r,
        });
        self.samples[i] += 1;
        Some(e)
    }

    /// Edges with at least one sample.
    pub fn edges(&self) -> Vec<EdgeCongestion> {
        self.ratio
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.map(|speed_ratio| EdgeCongestion {
                    edge: EdgeId(i as u32),
                    speed_ratio,
                    index: (1.0 - speed_ratio).clamp(0.0, 1.0),
                    samples: self.samples[i],
                })
            })
            .collect()
    }

    /// Observed edges as a GeoJSON FeatureCollection (LineStrings with `congestion` in [0, 1]).
    pub fn to_geojson(&self, graph: &RoadGraph) -> Value {
        let features: Vec<Value> = self
            .edges()
            .into_iter()
            .map(|c| {
                let e = graph.edge(c.edge);
                let coords: Vec<[f64; 2]> = e.geometry.iter().map(|p| [p.x, p.y]).collect();
                json!({
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "edge": c.edge.0, "name": e.name, "class": e.class,
                        "congestion": c.index, "speed_ratio": c.speed_ratio,
                        "free_flow_kmh": e.speed_kmh, "samples": c.samples,
                    }
                })
            })
            .collect();
        json!({"type": "FeatureCollection", "features": features})
    }
}
