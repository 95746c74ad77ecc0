//! Depth sampling along roads, depth-class polygons and emergency reach on hand-made inputs
//! whose answers follow from geometry.

#![allow(clippy::unwrap_used)] // tests may unwrap

use geo::{Geometry, LineString};
use serde_json::{json, Map};
use twin_layers::roads::RoadGraph;
use twin_layers::{Feature, Layer};
use twin_scenarios::coupling::edge_max_depth;
use twin_scenarios::coupling::layers::depth_class_polygons;
use twin_scenarios::flood::Grid;
use twin_scenarios::traffic::{reachable_length_m, LinkCost, Network, TurnRules};

fn road(coords: &[(f64, f64)]) -> Feature {
    let mut properties = Map::new();
    properties.insert("highway".into(), json!("residential"));
    properties.insert("oneway".into(), json!("yes"));
    Feature { geometry: Geometry::LineString(LineString::from(coords.to_vec())), properties }
}

#[test]
fn deepest_cell_under_a_road_is_found() {
    // 10 × 10 grid of 1-unit cells; column 5 holds 0.8 m, everything else 0.05 m.
    let mut grid = Grid::filled(10, 10, 1.0, 0.05);
    for r in 0..10 {
        grid.data[r * 10 + 5] = 0.8;
    }
    let layer = Layer {
        name: "roads".into(),
        features: vec![
            road(&[(0.5, 2.5), (9.5, 2.5)]),     // crosses column 5
            road(&[(0.5, 7.5), (4.5, 7.5)]),     // stays west of it
            road(&[(20.0, 20.0), (30.0, 20.0)]), // outside the grid
        ],
    };
    let graph = RoadGraph::from_layer(&layer);
    assert_eq!(graph.edge_count(), 3);
    let depth = edge_max_depth(&graph, &grid, &|x, y| (x, y));
    for ((_, e), &d) in graph.edges().zip(&depth) {
        let y = e.geometry[0].y;
        let expected = if y == 2.5 {
            0.8
        } else if y == 7.5 {
            0.05
        } else {
            0.0
        };
        assert_eq!(d, expected, "road at y = {y}");
    }
}

#[test]
fn depth_class_polygons_cover_exactly_the_deep_cells() {
    let mut grid = Grid::filled(4, 3, 2.0, 0.0);
    // Row 0: cells 1 and 2 deep (one run); row 2: cell 0 and cell 3 (two runs).
    for i in [1, 2, 8, 11] {
        grid.data[i] = 0.6;
    }
    grid.data[5] = 0.2;
    let fc = depth_class_polygons(&grid, &[0.1, 0.5], &|x, y| (x, y));
    let f = fc["features"].as_array().unwrap();
    assert_eq!(f[0]["properties"]["cells"], 5);
    assert_eq!(f[1]["properties"]["cells"], 4);
    assert_eq!(f[1]["properties"]["area_m2"], 16.0);
    // Row 0 (north, y from 4 to 6) has one rectangle from x = 2 to 6.
    let polys = f[1]["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(polys.len(), 3);
    assert_eq!(polys[0], json!([[[2.0, 4.0], [6.0, 4.0], [6.0, 6.0], [2.0, 6.0], [2.0, 4.0]]]));
}

#[test]
fn reach_on_a_straight_road_is_speed_times_budget() {
    // 0 → 1 → 2 → 3, links of 1000 m at 10 m/s (100 s each), both directions.
    let mut net = Network::new(4, TurnRules { ban_u_turns: true, left_turn_s: 0.0, right_turn_s: 0.0 });
    for i in 0..3u32 {
        for (a, b) in [(i, i + 1), (i + 1, i)] {
            let id = net.add_simple(a, b, LinkCost::bpr(100.0, 1000.0)).unwrap();
            assert_eq!(id as usize + 1, net.link_count());
        }
    }
    let mut links = net.links().to_vec();
    for l in &mut links {
        l.length_m = 1000.0;
    }
    let mut with_len = Network::new(4, net.turns);
    for l in links {
        with_len.add_link(l).unwrap();
    }
    let times: Vec<f64> = with_len.links().iter().map(|l| l.cost.free_time()).collect();
    let reach = reachable_length_m(&with_len, &times, 0, &[50.0, 150.0, 1000.0]);
    assert!((reach[0] - 500.0).abs() < 1e-9);
    assert!((reach[1] - 1500.0).abs() < 1e-9);
    assert!((reach[2] - 3000.0).abs() < 1e-9);
    // Close the middle road one way: reach from 0 stops after the first link.
    let mid =
        (0..with_len.link_count() as u32).find(|l| with_len.link(*l).from == 1 && with_len.link(*l).to == 2).unwrap();
    with_len.set_closed(mid, true);
    let reach = reachable_length_m(&with_len, &times, 0, &[1000.0]);
    assert!((reach[0] - 1000.0).abs() < 1e-9);
}
