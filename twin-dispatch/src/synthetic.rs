//! A synthetic grid city for benchmarks and tests: `cols × rows` junctions about 100 m apart, an
//! arterial (50 km/h) every tenth street, residential streets (30 km/h) between, and every third
//! residential street one-way, alternating in direction.

use geo::{Coord, Geometry, LineString};
use serde_json::{json, Map, Value};
use twin_layers::{Feature, Layer};

/// Degrees between neighbouring junctions (about 100 m of latitude).
pub const GRID_STEP_DEG: f64 = 0.0009;

fn street(pts: Vec<Coord<f64>>, i: usize) -> Feature {
    let (class, speed) = if i.is_multiple_of(10) { ("primary", "50") } else { ("residential", "30") };
    let mut tags: Map<String, Value> = Map::new();
    tags.insert("highway".into(), json!(class));
    tags.insert("maxspeed".into(), json!(speed));
    if !i.is_multiple_of(10) && i.is_multiple_of(3) {
        tags.insert("oneway".into(), json!(if i.is_multiple_of(2) { "yes" } else { "-1" }));
    }
    Feature { geometry: Geometry::LineString(LineString(pts)), properties: tags }
}

/// A roads layer of a grid whose south-west junction is at `origin` (lon, lat).
pub fn grid_layer(cols: usize, rows: usize, origin: (f64, f64)) -> Layer {
    let at =
        |c: usize, r: usize| Coord { x: origin.0 + c as f64 * GRID_STEP_DEG, y: origin.1 + r as f64 * GRID_STEP_DEG };
    let mut features = Vec::with_capacity(cols + rows);
    for r in 0..rows {
        features.push(street((0..cols).map(|c| at(c, r)).collect(), r));
    }
    for c in 0..cols {
        features.push(street((0..rows).map(|r| at(c, r)).collect(), c));
    }
    Layer { name: "roads".into(), features }
}
