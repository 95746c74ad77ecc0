use serde_json::json;

use super::*;
use crate::{normalize::normalize_road, Feature, Layer};

fn road(coords: &[(f64, f64)], tags: serde_json::Value) -> Feature {
    let mut properties = tags.as_object().cloned().unwrap();
    normalize_road(&mut properties);
    let line = geo::LineString(coords.iter().map(|&(x, y)| Coord { x, y }).collect());
    Feature { geometry: Geometry::LineString(line), properties }
}

/// Four junctions on a ~111 m grid: A two-way along y=0, B one-way north from (0.001,0),
/// C mapped (0.001,0.001)→(0.002,0.001)→(0.002,0) with oneway=-1, i.e. drivable the other way.
fn grid() -> RoadGraph {
    let layer = Layer {
        name: "roads".into(),
        features: vec![
            road(&[(0.0, 0.0), (0.001, 0.0), (0.002, 0.0)], json!({"highway": "residential"})),
            road(&[(0.001, 0.0), (0.001, 0.001)], json!({"highway": "service", "oneway": "yes", "maxspeed": "5"})),
            road(
                &[(0.001, 0.001), (0.002, 0.001), (0.002, 0.0)],
                json!({"highway": "primary", "oneway": "-1", "maxspeed": "100"}),
            ),
            road(&[(0.0, 0.0), (-0.001, 0.0)], json!({"highway": "footway"})),
        ],
    };
    RoadGraph::from_layer(&layer)
}

fn node_near(g: &RoadGraph, x: f64, y: f64) -> NodeId {
    let n = g.nearest_node(Position::new(x, y), None).unwrap();
    assert_eq!(g.node(n), Coord { x, y });
    n
}

#[test]
fn nodes_at_shared_vertices_and_oneway_edges() {
    let g = grid();
    // (0.002, 0.001) is used by one way only: not a node. The footway is not drivable.
    assert_eq!(g.node_count(), 4);
    // A: 2 pieces × 2 directions, B: 1, C: 1.
    assert_eq!(g.edge_count(), 6);
    let corner = node_near(&g, 0.002, 0.0);
    let top = node_near(&g, 0.001, 0.001);
    assert!(g.outgoing(top).is_empty(), "both ways into the top node are one-way towards it");
    let c = g.outgoing(corner).iter().map(|e| g.edge(*e)).find(|e| e.to == top).unwrap();
    assert_eq!(c.geometry.len(), 3, "the edge keeps the way's inner vertex");
    assert!((c.length_m - 2.0 * 111.195).abs() < 1.0, "length {}", c.length_m);
    assert_eq!(c.speed_kmh, 100.0);
    assert_eq!(c.class, "primary");
}

#[test]
fn shortest_path_by_length_and_by_time() {
    let g = grid();
    let start = node_near(&g, 0.0, 0.0);
    let top = node_near(&g, 0.001, 0.001);
    let short = g.shortest_path(start, top, Metric::Length).unwrap();
    assert_eq!(short.edges.len(), 2);
    assert!((short.length_m - 2.0 * 111.195).abs() < 1.0);
    let fast = g.shortest_path(start, top, Metric::Time).unwrap();
    assert_eq!(fast.edges.len(), 3, "the slow one-way service road is avoided");
    assert!(fast.time_s < short.time_s);
    assert!(fast.length_m > short.length_m);
    // Consecutive edges connect.
    for w in fast.edges.windows(2) {
        assert_eq!(g.edge(w[0]).to, g.edge(w[1]).from);
    }
    let line = g.route_polyline(&fast);
    assert_eq!(line.0.first(), Some(&g.node(start)));
    assert_eq!(line.0.last(), Some(&g.node(top)));
    assert_eq!(line.0.len(), 5);
}

#[test]
fn no_path_against_one_way_streets() {
    let g = grid();
    let start = node_near(&g, 0.0, 0.0);
    let top = node_near(&g, 0.001, 0.001);
    assert!(g.shortest_path(top, start, Metric::Length).is_none());
    let same = g.shortest_path(start, start, Metric::Length).unwrap();
    assert!(same.edges.is_empty());
    assert_eq!(g.route_polyline(&same).0, vec![g.node(start)]);
}

#[test]
fn largest_component_excludes_the_dead_end() {
    let g = grid();
    let main = g.largest_component();
    assert_eq!(main.len(), 3);
    assert!(!main.contains(&node_near(&g, 0.001, 0.001)));
    let comps = g.strongly_connected_components();
    assert_eq!(comps.iter().collect::<std::collections::HashSet<_>>().len(), 2);
}

#[test]
fn nearest_node_among_candidates() {
    let g = grid();
    let main = g.largest_component();
    let n = g.nearest_node(Position::new(0.0011, 0.0009), Some(&main)).unwrap();
    assert_ne!(g.node(n), Coord { x: 0.001, y: 0.001 });
    assert!(RoadGraph::default().nearest_node(Position::new(0.0, 0.0), None).is_none());
}
