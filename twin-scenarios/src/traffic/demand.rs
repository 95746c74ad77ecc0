//! Peak-hour demand from buildings and roads.
//!
//! Method:
//! 1. Zones: the road nodes of the largest strongly connected component are grouped by a square
//!    grid of `zone_size_m`; each zone is loaded and unloaded at its node nearest the zone's mean.
//! 2. Trip ends: a building's floor area is its footprint × storeys (`building:levels`, else
//!    `height` / 3 m, else 3). Residential types (`house`, `residential`, `apartments`, …) produce
//!    trips, commercial / office / public types attract them, and the untyped `yes` (most of the
//!    city's shophouses) does half of each. So that zones without mapped buildings still take part,
//!    every zone also gets `road_weight_m2_per_m` m² of both per metre of road in it.
//! 3. Distribution: a doubly constrained gravity model `T_ij = a_i b_j P_i A_j exp(−β c_ij)` with
//!    free-flow zone-to-zone times `c_ij` (s), balanced by Furness iterations.
//! 4. Scaling: the matrix is scaled to `peak_hour_trips` vehicle trips (PCU) per hour.

use std::collections::HashMap;

use geo::{Area, Centroid, Geometry};
use twin_core::geodesy::distance_m;
use twin_core::Position;
use twin_layers::roads::RoadGraph;
use twin_layers::Layer;

use super::assignment::OdPair;
use super::network::Network;
use super::paths::{LinkTree, Scratch};

/// Parameters of the demand model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandConfig {
    pub zone_size_m: f64,
    pub peak_hour_trips: f64,
    /// Deterrence β per second of free-flow time.
    pub beta_per_s: f64,
    pub road_weight_m2_per_m: f64,
    pub furness_iterations: usize,
}

impl Default for DemandConfig {
    fn default() -> Self {
        // 12 000 PCU/h: Hải Châu (~200 000 residents), ~10 % of daily car/motorbike trips in the
        // peak hour, motorbikes counted as 0.3 PCU.
        Self {
            zone_size_m: 400.0,
            peak_hour_trips: 12_000.0,
            beta_per_s: 0.1 / 60.0,
            road_weight_m2_per_m: 5.0,
            furness_iterations: 50,
        }
    }
}

/// A traffic zone: where its trips start and end, and its trip-end weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub node: u32,
    pub production: f64,
    pub attraction: f64,
}

/// Zones and the OD matrix between their nodes.
#[derive(Debug, Clone)]
pub struct Demand {
    pub zones: Vec<Zone>,
    pub ods: Vec<OdPair>,
}

fn floor_area_m2(geom: &Geometry<f64>, props: &serde_json::Map<String, serde_json::Value>) -> f64 {
    // Planar area in degrees², scaled to m² at the building's latitude (exact enough for a house).
    let lat = geom.centroid().map_or(0.0, |c| c.y());
    let footprint = geom.unsigned_area() * 111_320.0 * lat.to_radians().cos() * 110_574.0;
    let num = |k: &str| {
        props.get(k).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok())))
    };
    let levels = num("building:levels").or_else(|| num("height").map(|h| (h / 3.0).round())).unwrap_or(3.0);
    footprint * levels.clamp(1.0, 80.0)
}

/// (production share, attraction share) of a building type.
fn roles(kind: &str) -> (f64, f64) {
    match kind {
        "house" | "residential" | "apartments" | "detached" | "terrace" | "dormitory" => (1.0, 0.0),
        "yes" => (0.5, 0.5),
        "roof" | "shed" | "garage" | "garages" => (0.0, 0.0),
        _ => (0.0, 1.0),
    }
}

impl Demand {
    /// Builds zones and a peak-hour OD matrix on `net` (built from `graph`).
    pub fn generate(graph: &RoadGraph, net: &Network, buildings: Option<&Layer>, cfg: &DemandConfig) -> Self {
        let nodes = graph.largest_component();
        if nodes.is_empty() {
            return Self { zones: Vec::new(), ods: Vec::new() };
        }
        let origin = graph.node(nodes[0]);
        let kx = origin.y.to_radians().cos() * 111_320.0;
        let ky = 110_574.0;
        let cell_of = |x: f64, y: f64| -> (i64, i64) {
            (
                ((x - origin.x) * kx / cfg.zone_size_m).floor() as i64,
                ((y - origin.y) * ky / cfg.zone_size_m).floor() as i64,
            )
        };
        let mut members: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        for n in &nodes {
            let c = graph.node(*n);
            members.entry(cell_of(c.x, c.y)).or_default().push(n.0);
        }
        let mut keys: Vec<(i64, i64)> = members.keys().copied().collect();
        keys.sort_unstable();
        let index: HashMap<(i64, i64), usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let mut zones: Vec<Zone> = keys
            .iter()
            .map(|k| {
                let ns = &members[k];
                let (mx, my) = ns.iter().fold((0.0, 0.0), |(a, b), n| {
                    let c = graph.node(twin_layers::roads::NodeId(*n));
                    (a + c.x / ns.len() as f64, b + c.y / ns.len() as f64)
                });
                let ids: Vec<twin_layers::roads::NodeId> = ns.iter().map(|n| twin_layers::roads::NodeId(*n)).collect();
                let node = graph.nearest_node(Position::new(mx, my), Some(&ids)).map_or(ns[0], |n| n.0);
                Zone { node, production: 0.0, attraction: 0.0 }
            })
            .collect();
        // Road length as a land-use proxy (each direction counts half).
        for (_, e) in graph.edges() {
            let a = graph.node(e.from);
            if let Some(&z) = index.get(&cell_of(a.x, a.y)) {
                let w = 0.5 * e.length_m * cfg.road_weight_m2_per_m;
                zones[z].production += w;
                zones[z].attraction += w;
            }
        }
        if let Some(layer) = buildings {
            for f in &layer.features {
                let Some(c) = f.geometry.centroid() else { continue };
                let area = floor_area_m2(&f.geometry, &f.properties);
                let kind = f.properties.get("building").and_then(|v| v.as_str()).unwrap_or("yes");
                let (p, a) = roles(kind);
                // Buildings outside every zone go to the nearest zone centre.
                let z = index.get(&cell_of(c.x(), c.y())).copied().or_else(|| {
                    let here = Position::new(c.x(), c.y());
                    (0..zones.len()).min_by(|&i, &j| {
                        let d = |z: usize| {
                            let n = graph.node(twin_layers::roads::NodeId(zones[z].node));
                            distance_m(here, Position::new(n.x, n.y))
                        };
                        d(i).total_cmp(&d(j))
                    })
                });
                if let Some(z) = z {
                    zones[z].production += p * area;
                    zones[z].attraction += a * area;
                }
            }
        }
        let ods = gravity(net, &zones, cfg);
        Self { zones, ods }
    }
}

/// Doubly constrained gravity model on free-flow times, scaled to the peak-hour total.
fn gravity(net: &Network, zones: &[Zone], cfg: &DemandConfig) -> Vec<OdPair> {
    let nz = zones.len();
    let times: Vec<f64> = net.links().iter().map(|l| l.cost.free_time()).collect();
    let mut scratch = Scratch::default();
    let mut f = vec![0.0; nz * nz];
    for i in 0..nz {
        let tree = LinkTree::build(net, &times, zones[i].node, f64::INFINITY, &mut scratch);
        for j in 0..nz {
            let c = tree.cost_to(net, zones[j].node);
            if i != j && c.is_finite() {
                f[i * nz + j] = (-cfg.beta_per_s * c).exp();
            }
        }
    }
    let p_total: f64 = zones.iter().map(|z| z.production).sum();
    let a_total: f64 = zones.iter().map(|z| z.attraction).sum();
    if p_total <= 0.0 || a_total <= 0.0 {
        return Vec::new();
    }
    // Targets in trips, with attractions rescaled to the production total.
    let p: Vec<f64> = zones.iter().map(|z| cfg.peak_hour_trips * z.production / p_total).collect();
    let a: Vec<f64> = zones.iter().map(|z| cfg.peak_hour_trips * z.attraction / a_total).collect();
    let mut bi = vec![1.0; nz];
    let mut bj = vec![1.0; nz];
    for _ in 0..cfg.furness_iterations {
        for i in 0..nz {
            let s: f64 = (0..nz).map(|j| bj[j] * a[j] * f[i * nz + j]).sum();
            bi[i] = if s > 0.0 { 1.0 / s } else { 0.0 };
        }
        for j in 0..nz {
            let s: f64 = (0..nz).map(|i| bi[i] * p[i] * f[i * nz + j]).sum();
            bj[j] = if s > 0.0 { 1.0 / s } else { 0.0 };
        }
    }
    let mut ods = Vec::new();
    for i in 0..nz {
        for j in 0..nz {
            let t = bi[i] * p[i] * bj[j] * a[j] * f[i * nz + j];
            if t > 1e-6 {
                ods.push(OdPair { origin: zones[i].node, dest: zones[j].node, demand: t });
            }
        }
    }
    // Zones the balancing could not serve leave the total short: scale back to the control total.
    let total: f64 = ods.iter().map(|o| o.demand).sum();
    if total > 0.0 {
        for o in &mut ods {
            o.demand *= cfg.peak_hour_trips / total;
        }
    }
    ods
}
