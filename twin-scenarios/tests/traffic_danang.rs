//! Assignment and coupling on the real Hải Châu road network (OSM, see data/NOTICE.md).

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::sync::atomic::AtomicBool;

use twin_layers::roads::RoadGraph;
use twin_layers::Layer;
use twin_scenarios::coupling::{flood_to_traffic, CouplingConfig, Station, TrafficInputs};
use twin_scenarios::traffic::{assign, AssignmentConfig, Demand, DemandConfig, Network, TurnRules};

fn layer(name: &str, file: &str) -> Layer {
    Layer::from_geojson_file(name, &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)).unwrap()
}

fn setup() -> (RoadGraph, Network, Demand) {
    let roads = layer("roads", "danang_haichau_roads.geojson");
    let buildings = layer("buildings", "danang_haichau_buildings.geojson");
    let graph = RoadGraph::from_layer(&roads);
    let net = Network::from_road_graph(&graph, Some(&roads), TurnRules::default());
    let demand = Demand::generate(&graph, &net, Some(&buildings), &DemandConfig::default());
    (graph, net, demand)
}

#[test]
fn equilibrium_on_hai_chau_conserves_flow_and_reaches_the_gap() {
    let (_graph, net, demand) = setup();
    assert!(demand.zones.len() > 10, "zones: {}", demand.zones.len());
    let total: f64 = demand.ods.iter().map(|o| o.demand).sum();
    assert!((total - DemandConfig::default().peak_hour_trips).abs() < 1e-6 * total);
    let cfg = AssignmentConfig { target_gap: 1e-4, max_iterations: 300 };
    let res = assign(&net, &demand.ods, &cfg, |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(res.relative_gap <= 1e-4, "gap {} after {} iterations", res.relative_gap, res.iterations);
    assert_eq!(res.unserved_demand, 0.0, "zones sit in one strongly connected component");
    // Flow conservation: at every node, out − in equals produced − attracted trips.
    let mut balance = vec![0.0; net.node_count()];
    for od in &demand.ods {
        balance[od.origin as usize] += od.demand;
        balance[od.dest as usize] -= od.demand;
    }
    for (i, l) in net.links().iter().enumerate() {
        balance[l.from as usize] -= res.link_flows[i];
        balance[l.to as usize] += res.link_flows[i];
    }
    let worst = balance.iter().fold(0.0_f64, |m, b| m.max(b.abs()));
    assert!(worst < 1e-6 * total, "node imbalance {worst}");
}

#[test]
fn flooded_roads_close_and_traffic_avoids_them() {
    let (graph, net, demand) = setup();
    // Pretend every edge touching the busiest node is under 0.5 m of water.
    let cfg = CouplingConfig::default();
    let free = assign(&net, &demand.ods, &cfg.assignment, |_| {}, &AtomicBool::new(false)).unwrap();
    let busiest = net
        .links()
        .iter()
        .enumerate()
        .max_by(|a, b| free.link_flows[a.0].total_cmp(&free.link_flows[b.0]))
        .unwrap()
        .1
        .to;
    let mut depth = vec![0.0; graph.edge_count()];
    for l in net.links().iter().filter(|l| l.from == busiest || l.to == busiest) {
        depth[l.edge.unwrap().0 as usize] = 0.5;
    }
    let stations = [Station { name: "test".into(), kind: "hospital".into(), lon: 108.2160, lat: 16.0520 }];
    let res = flood_to_traffic(
        TrafficInputs { graph: &graph, net: &net, ods: &demand.ods },
        &depth,
        &stations,
        &cfg,
        |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(!res.closed.is_empty());
    for c in &res.closed {
        assert!(c.depth_m > cfg.depth_threshold_m);
        assert_eq!(res.link_flows_after[c.link as usize], 0.0, "closed link {} carries traffic", c.link);
    }
    assert!(res.after.relative_gap <= 1e-4);
    assert_eq!(res.stations.len(), 1);
    let s = &res.stations[0];
    // Reach grows with the budget.
    assert!(s.reach_before_m[1] >= s.reach_before_m[0] && s.reach_before_m[0] > 0.0);
}
