//! Result layers as GeoJSON FeatureCollections (WGS 84 via the caller's coordinate mapping).

use geo::{Centroid, CoordsIter};
use serde_json::{json, Value};
use twin_layers::roads::{EdgeId, RoadGraph};
use twin_layers::Layer;

use crate::flood::Grid;
use crate::traffic::{LinkQueue, Network};

use super::ClosedSegment;

/// Depth classes (m) of the flooded-area layer.
pub const DEPTH_CLASSES: [f64; 4] = [0.1, 0.3, 0.5, 1.0];

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// Flooded area per depth class as cell-union polygons: one MultiPolygon per class made of the
/// row runs of cells at least that deep (a run is a rectangle, so the union is exact).
/// `to_lonlat` maps grid coordinates to (lon, lat).
pub fn depth_class_polygons(depth: &Grid, classes: &[f64], to_lonlat: &dyn Fn(f64, f64) -> (f64, f64)) -> Value {
    let cs = depth.cellsize;
    let features = classes
        .iter()
        .map(|&class| {
            let mut polys: Vec<Value> = Vec::new();
            let mut cells = 0usize;
            for r in 0..depth.nrows {
                let y_top = depth.yll + (depth.nrows - r) as f64 * cs;
                let mut c = 0;
                while c < depth.ncols {
                    if depth.get(r, c).is_some_and(|d| d >= class) {
                        let start = c;
                        while c < depth.ncols && depth.get(r, c).is_some_and(|d| d >= class) {
                            c += 1;
                        }
                        cells += c - start;
                        let (x0, x1) = (depth.xll + start as f64 * cs, depth.xll + c as f64 * cs);
                        let ring: Vec<[f64; 2]> =
                            [(x0, y_top - cs), (x1, y_top - cs), (x1, y_top), (x0, y_top), (x0, y_top - cs)]
                                .iter()
                                .map(|(x, y)| {
                                    let (lon, lat) = to_lonlat(*x, *y);
                                    [lon, lat]
                                })
                                .collect();
                        polys.push(json!([ring]));
                    } else {
                        c += 1;
                    }
                }
            }
            json!({
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
                "properties": {"min_depth_m": class, "cells": cells, "area_m2": cells as f64 * cs * cs},
            })
        })
        .collect();
    collection(features)
}

fn edge_feature(graph: &RoadGraph, e: EdgeId, extra: Value) -> Value {
    let edge = graph.edge(e);
    let coords: Vec<[f64; 2]> = edge.geometry.iter().map(|p| [p.x, p.y]).collect();
    let mut props = json!({"edge": e.0, "name": edge.name, "class": edge.class, "length_m": edge.length_m});
    if let (Some(p), Value::Object(x)) = (props.as_object_mut(), extra) {
        p.extend(x);
    }
    json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props})
}

/// Road edges with a maximum depth of at least `min_depth_m`, with `depth_m`.
pub fn flooded_roads(graph: &RoadGraph, edge_depth: &[f64], min_depth_m: f64) -> Value {
    let features = edge_depth
        .iter()
        .enumerate()
        .filter(|(_, d)| **d >= min_depth_m)
        .map(|(i, d)| edge_feature(graph, EdgeId(i as u32), json!({"depth_m": d})))
        .collect();
    collection(features)
}

/// The closed segments.
pub fn closed_roads(graph: &RoadGraph, closed: &[ClosedSegment]) -> Value {
    let features = closed
        .iter()
        .filter_map(|c| c.edge.map(|e| edge_feature(graph, EdgeId(e), json!({"depth_m": c.depth_m, "closed": true}))))
        .collect();
    collection(features)
}

/// Link flows (veh/h), volume/capacity and travel times of an assignment.
pub fn link_flows(graph: &RoadGraph, net: &Network, flows: &[f64], times: &[f64]) -> Value {
    let features = net
        .links()
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let e = l.edge?;
            let vc = if l.capacity_veh_h > 0.0 { flows[i] / l.capacity_veh_h } else { 0.0 };
            Some(edge_feature(
                graph,
                e,
                json!({"flow_veh_h": flows[i], "v_c": vc, "time_s": times[i], "free_time_s": l.cost.free_time(), "closed": net.is_closed(i as u32)}),
            ))
        })
        .collect();
    collection(features)
}

/// Buildings whose footprint (vertices and centroid) has water at least `min_depth_m` deep,
/// with the deepest sampled value. `to_grid` maps (lon, lat) to grid coordinates.
pub fn flooded_buildings(
    buildings: &Layer,
    depth: &Grid,
    to_grid: &dyn Fn(f64, f64) -> (f64, f64),
    min_depth_m: f64,
) -> Value {
    let mut features = Vec::new();
    for (i, f) in buildings.features.iter().enumerate() {
        let mut deepest: f64 = 0.0;
        let points = f.geometry.coords_iter().chain(f.geometry.centroid().map(|c| c.0));
        for p in points {
            let (x, y) = to_grid(p.x, p.y);
            if let Some(d) = depth.cell_at(x, y).and_then(|(r, c)| depth.get(r, c)) {
                deepest = deepest.max(d);
            }
        }
        if deepest >= min_depth_m {
            let Some(c) = f.geometry.centroid() else { continue };
            let name = f.properties.get("name").cloned().unwrap_or(Value::Null);
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.x(), c.y()]},
                "properties": {"building": i, "name": name, "depth_m": deepest},
            }));
        }
    }
    collection(features)
}

/// Links whose queue grew during an incident, with their longest and pre-incident queue (m).
pub fn incident_queues(graph: &RoadGraph, net: &Network, queued: &[LinkQueue]) -> Value {
    let features = queued
        .iter()
        .filter_map(|q| {
            let e = net.link(q.link).edge?;
            let share = if q.length_m > 0.0 { (q.max_queue_m / q.length_m).min(1.0) } else { 0.0 };
            Some(edge_feature(
                graph,
                e,
                json!({"link": q.link, "max_queue_m": q.max_queue_m, "baseline_queue_m": q.baseline_queue_m,
                       "queued_share": share, "incident": q.incident}),
            ))
        })
        .collect();
    collection(features)
}
