//! Traffic benches: user-equilibrium assignment to relative gap 1e-4 on the Hải Châu network, and
//! cell transmission model throughput (cell updates per second, one core).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twin_layers::roads::RoadGraph;
use twin_layers::Layer;
use twin_scenarios::traffic::{
    assign, network_ctm, AssignmentConfig, Ctm, Demand, DemandConfig, IncidentConfig, Network, Triangular, TurnRules,
};

fn assignment(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (Ok(roads), Ok(buildings)) = (
        Layer::from_geojson_file("roads", &dir.join("danang_haichau_roads.geojson")),
        Layer::from_geojson_file("buildings", &dir.join("danang_haichau_buildings.geojson")),
    ) else {
        eprintln!("test data missing; skipping the assignment bench");
        return;
    };
    let graph = RoadGraph::from_layer(&roads);
    let net = Network::from_road_graph(&graph, Some(&roads), TurnRules::default());
    let cfg = AssignmentConfig { target_gap: 1e-4, max_iterations: 1000 };
    let cancel = AtomicBool::new(false);
    let mut g = c.benchmark_group("assignment");
    g.sample_size(10);
    // The default peak hour, and three times it (heavily congested: many paths per OD pair).
    for trips in [12_000.0, 36_000.0] {
        let cfg_d = DemandConfig { peak_hour_trips: trips, ..DemandConfig::default() };
        let demand = Demand::generate(&graph, &net, Some(&buildings), &cfg_d);
        if let Ok(r) = assign(&net, &demand.ods, &cfg, |_| {}, &cancel) {
            eprintln!(
                "Hai Chau, {trips} trips/h: {} nodes, {} links, {} zones, {} OD pairs; gap {:.2e} after {} iterations",
                net.node_count(),
                net.link_count(),
                demand.zones.len(),
                demand.ods.len(),
                r.relative_gap,
                r.iterations
            );
        }
        g.bench_function(format!("hai_chau_{trips}_gap_1e-4"), |b| {
            b.iter(|| assign(&net, &demand.ods, &cfg, |_| {}, &cancel))
        });
    }
    g.finish();
}

fn ctm(c: &mut Criterion) {
    // 1000 links of 3 km in series (200 cells each at vf Δt = 15 m): 200 000 cells, half full.
    let fd = Triangular { vf: 15.0, w: 5.0, kj: 0.15 };
    let links = 1000;
    let Ok(mut model) = Ctm::new(1.0, links + 1) else { return };
    for i in 0..links {
        let _ = model.add_link(i as u32, i as u32 + 1, 3000.0, fd);
    }
    model.set_source(0, 0.9 * fd.qmax());
    model.set_capacity_factor(links - 1, 100..101, 0.5);
    for _ in 0..3000 {
        model.step();
    }
    let cells = model.cell_count() as u64;
    let mut g = c.benchmark_group("ctm");
    g.throughput(Throughput::Elements(cells));
    g.bench_function("step_200k_cells", |b| b.iter(|| model.step()));
    g.finish();
}

/// The CTM of the Hải Châu network loaded by the peak-hour equilibrium (turning movements from the
/// path flows, trips entering and leaving inside the network), after a 15-minute fill.
fn ctm_network(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (Ok(roads), Ok(buildings)) = (
        Layer::from_geojson_file("roads", &dir.join("danang_haichau_roads.geojson")),
        Layer::from_geojson_file("buildings", &dir.join("danang_haichau_buildings.geojson")),
    ) else {
        eprintln!("test data missing; skipping the network CTM bench");
        return;
    };
    let graph = RoadGraph::from_layer(&roads);
    let net = Network::from_road_graph(&graph, Some(&roads), TurnRules::default());
    let demand = Demand::generate(&graph, &net, Some(&buildings), &DemandConfig::default());
    let Ok(eq) = assign(&net, &demand.ods, &AssignmentConfig::default(), |_| {}, &AtomicBool::new(false)) else {
        return;
    };
    let Ok(mut model) = network_ctm(&net, &eq, &IncidentConfig::default()) else { return };
    for _ in 0..900 {
        model.step();
    }
    eprintln!(
        "Hai Chau CTM: {} links, {} cells, {:.0} vehicles on the links",
        net.link_count(),
        model.cell_count(),
        model.vehicles()
    );
    let mut g = c.benchmark_group("ctm");
    g.throughput(Throughput::Elements(model.cell_count() as u64));
    g.bench_function("step_hai_chau_network", |b| b.iter(|| model.step()));
    g.finish();
}

criterion_group!(benches, assignment, ctm, ctm_network);
criterion_main!(benches);
