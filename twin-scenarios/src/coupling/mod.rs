//! Flood → traffic: roads under deep water close, traffic reassigns, and emergency reach shrinks.
//!
//! 1. [`edge_max_depth`] samples a depth grid along every road edge (every half cell) and keeps
//!    the largest depth.
//! 2. [`flood_to_traffic`] closes links whose depth exceeds the threshold (default 0.3 m, where
//!    ordinary cars and motorbikes stall), solves the user equilibrium before and after, and
//!    measures the road length reachable from each emergency station within the isochrone budgets
//!    on congested travel times, before and after.

pub mod layers;

use std::sync::atomic::AtomicBool;

use serde::Serialize;
use twin_layers::roads::RoadGraph;

use crate::flood::Grid;
use crate::traffic::{assign, reachable_length_m, Assignment, AssignmentConfig, Network, OdPair, TrafficError};

/// Largest depth (m) along each road-graph edge; 0 where the road is outside the grid or dry.
/// `to_grid` maps (lon, lat) to the grid's coordinates.
pub fn edge_max_depth(graph: &RoadGraph, depth: &Grid, to_grid: &dyn Fn(f64, f64) -> (f64, f64)) -> Vec<f64> {
    let step = 0.5 * depth.cellsize;
    graph
        .edges()
        .map(|(_, e)| {
            let mut best: f64 = 0.0;
            let pts: Vec<(f64, f64)> = e.geometry.iter().map(|c| to_grid(c.x, c.y)).collect();
            let mut sample = |x: f64, y: f64| {
                if let Some(d) = depth.cell_at(x, y).and_then(|(r, c)| depth.get(r, c)) {
                    best = best.max(d);
                }
            };
            for w in pts.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
                let n = ((len / step).ceil() as usize).max(1);
                for k in 0..=n {
                    let t = k as f64 / n as f64;
                    sample(x0 + t * (x1 - x0), y0 + t * (y1 - y0));
                }
            }
            best
        })
        .collect()
}

/// The road network and its demand.
#[derive(Debug, Clone, Copy)]
pub struct TrafficInputs<'a> {
    pub graph: &'a RoadGraph,
    pub net: &'a Network,
    pub ods: &'a [OdPair],
}

/// An emergency base (hospital, fire station).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Station {
    pub name: String,
    pub kind: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CouplingConfig {
    pub depth_threshold_m: f64,
    /// Isochrone budgets (minutes).
    pub isochrone_min: Vec<f64>,
    pub assignment: AssignmentConfig,
}

impl Default for CouplingConfig {
    fn default() -> Self {
        Self { depth_threshold_m: 0.3, isochrone_min: vec![5.0, 10.0], assignment: AssignmentConfig::default() }
    }
}

/// A road segment closed by water.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedSegment {
    pub link: u32,
    pub edge: Option<u32>,
    pub depth_m: f64,
}

/// Network-wide figures of one assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficSummary {
    pub total_travel_time_veh_h: f64,
    /// Demand-weighted mean OD travel time (s) over OD pairs that still have a path.
    pub mean_od_time_s: f64,
    pub unserved_demand_veh_h: f64,
    pub relative_gap: f64,
    pub iterations: usize,
}

impl TrafficSummary {
    pub fn of(a: &Assignment, ods: &[OdPair]) -> Self {
        let (mut w, mut sum) = (0.0, 0.0);
        for (od, c) in ods.iter().zip(&a.od_costs) {
            if c.is_finite() && od.origin != od.dest {
                w += od.demand;
                sum += od.demand * c;
            }
        }
        Self {
            total_travel_time_veh_h: a.total_travel_time_veh_h,
            mean_od_time_s: if w > 0.0 { sum / w } else { 0.0 },
            unserved_demand_veh_h: a.unserved_demand,
            relative_gap: a.relative_gap,
            iterations: a.iterations,
        }
    }
}

/// Reach of one station before and after the closures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationReach {
    pub station: Station,
    pub node: u32,
    pub isochrone_min: Vec<f64>,
    pub reach_before_m: Vec<f64>,
    pub reach_after_m: Vec<f64>,
}

/// The outcome of a flood → traffic run.
#[derive(Debug, Clone, Serialize)]
pub struct CouplingResult {
    pub closed: Vec<ClosedSegment>,
    pub before: TrafficSummary,
    pub after: TrafficSummary,
    pub total_travel_time_increase_pct: f64,
    pub mean_od_time_increase_s: f64,
    /// Mean over OD pairs served both times of the per-pair increase (s).
    pub mean_per_od_increase_s: f64,
    pub stations: Vec<StationReach>,
    #[serde(skip)]
    pub link_flows_after: Vec<f64>,
    #[serde(skip)]
    pub link_times_after: Vec<f64>,
}

/// Closes links whose depth (per link, from [`edge_max_depth`] through `Link::edge`) exceeds the
/// threshold, reassigns, and compares. `progress` gets a fraction in [0, 1].
pub fn flood_to_traffic(
    city: TrafficInputs<'_>,
    edge_depth: &[f64],
    stations: &[Station],
    cfg: &CouplingConfig,
    mut progress: impl FnMut(f64),
    cancel: &AtomicBool,
) -> Result<CouplingResult, TrafficError> {
    let TrafficInputs { graph, net, ods } = city;
    let before = assign(net, ods, &cfg.assignment, |p| progress(0.45 * iter_fraction(p.relative_gap)), cancel)?;
    let mut flooded = net.clone();
    let mut closed = Vec::new();
    for (i, l) in net.links().iter().enumerate() {
        let depth = l.edge.and_then(|e| edge_depth.get(e.0 as usize)).copied().unwrap_or(0.0);
        if depth > cfg.depth_threshold_m {
            flooded.set_closed(i as u32, true);
            closed.push(ClosedSegment { link: i as u32, edge: l.edge.map(|e| e.0), depth_m: depth });
        }
    }
    let after =
        assign(&flooded, ods, &cfg.assignment, |p| progress(0.45 + 0.45 * iter_fraction(p.relative_gap)), cancel)?;
    let budgets: Vec<f64> = cfg.isochrone_min.iter().map(|m| m * 60.0).collect();
    let mut reach = Vec::new();
    for s in stations {
        let Some(node) = graph.nearest_node(twin_core::Position::new(s.lon, s.lat), None) else { continue };
        reach.push(StationReach {
            station: s.clone(),
            node: node.0,
            isochrone_min: cfg.isochrone_min.clone(),
            reach_before_m: reachable_length_m(net, &before.link_times, node.0, &budgets),
            reach_after_m: reachable_length_m(&flooded, &after.link_times, node.0, &budgets),
        });
    }
    progress(1.0);
    let (sb, sa) = (TrafficSummary::of(&before, ods), TrafficSummary::of(&after, ods));
    let (mut n, mut inc) = (0usize, 0.0);
    for (b, a) in before.od_costs.iter().zip(&after.od_costs) {
        if b.is_finite() && a.is_finite() {
            n += 1;
            inc += a - b;
        }
    }
    Ok(CouplingResult {
        closed,
        total_travel_time_increase_pct: if sb.total_travel_time_veh_h > 0.0 {
            100.0 * (sa.total_travel_time_veh_h - sb.total_travel_time_veh_h) / sb.total_travel_time_veh_h
        } else {
            0.0
        },
        mean_od_time_increase_s: sa.mean_od_time_s - sb.mean_od_time_s,
        mean_per_od_increase_s: if n > 0 { inc / n as f64 } else { 0.0 },
        before: sb,
        after: sa,
        stations: reach,
        link_flows_after: after.link_flows,
        link_times_after: after.link_times,
    })
}

/// Rough progress from the gap: 1e-1 → 0, 1e-4 → 1 on a log scale.
fn iter_fraction(gap: f64) -> f64 {
    if gap <= 0.0 {
        return 1.0;
    }
    ((-gap.log10() - 1.0) / 3.0).clamp(0.0, 1.0)
}
