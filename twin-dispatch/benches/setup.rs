//! Networks and random cases shared by the benchmark and the latency example.
#![allow(dead_code)]

use std::path::Path;

use rand::{rngs::StdRng, Rng, SeedableRng};
use twin_core::{AgencyId, EntityKind, Position};
use twin_dispatch::synthetic::{grid_layer, GRID_STEP_DEG};
use twin_dispatch::{Candidate, Dispatcher};
use twin_layers::roads::{EdgeId, RoadGraph};
use twin_layers::Layer;

pub const GRID_SIDE: usize = 317; // 100,489 junctions

pub struct Scenario {
    pub name: &'static str,
    pub dispatcher: Dispatcher,
    pub units: Vec<Candidate<String>>,
    pub cases: Vec<Position>,
}

fn on_edge(d: &Dispatcher, rng: &mut StdRng) -> Position {
    let e = d.graph().edge(EdgeId(rng.gen_range(0..d.graph().edge_count() as u32)));
    let (a, b) = (e.geometry[0], e.geometry[e.geometry.len() - 1]);
    let t = rng.gen_range(0.0..1.0);
    Position::new(
        a.x + (b.x - a.x) * t + rng.gen_range(-3e-4..3e-4),
        a.y + (b.y - a.y) * t + rng.gen_range(-3e-4..3e-4),
    )
}

fn units(
    d: &Dispatcher,
    n: usize,
    rng: &mut StdRng,
    place: &dyn Fn(&Dispatcher, &mut StdRng) -> Position,
) -> Vec<Candidate<String>> {
    (0..n)
        .map(|i| Candidate {
            id: format!("unit-{i}"),
            position: place(d, rng),
            // A quarter are fire trucks of another agency, filtered out by the benchmark's predicate.
            kind: if i % 4 == 3 { EntityKind::FireTruck } else { EntityKind::Ambulance },
            agency: Some(AgencyId(if i % 4 == 3 { "fire" } else { "health" }.into())),
        })
        .collect()
}

pub fn danang(n_units: usize, n_cases: usize) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/osm/danang_haichau_roads.geojson");
    let Ok(roads) = Layer::from_geojson_file("roads", &path) else { panic!("data/ roads layer missing") };
    let Ok(dispatcher) = Dispatcher::new(RoadGraph::from_layer(&roads)) else { panic!("network") };
    let mut rng = StdRng::seed_from_u64(1);
    let units = units(&dispatcher, n_units, &mut rng, &on_edge);
    let cases = (0..n_cases).map(|_| on_edge(&dispatcher, &mut rng)).collect();
    Scenario { name: "danang_haichau", dispatcher, units, cases }
}

pub fn grid(n_units: usize, n_cases: usize) -> Scenario {
    let origin = (108.0, 15.9);
    let Ok(dispatcher) = Dispatcher::new(RoadGraph::from_layer(&grid_layer(GRID_SIDE, GRID_SIDE, origin))) else {
        panic!("network")
    };
    let span = (GRID_SIDE - 1) as f64 * GRID_STEP_DEG;
    let uniform = move |_: &Dispatcher, rng: &mut StdRng| {
        Position::new(origin.0 + rng.gen_range(0.0..span), origin.1 + rng.gen_range(0.0..span))
    };
    let mut rng = StdRng::seed_from_u64(2);
    let units = units(&dispatcher, n_units, &mut rng, &uniform);
    let cases = (0..n_cases).map(|_| uniform(&dispatcher, &mut rng)).collect();
    Scenario { name: "grid_100k", dispatcher, units, cases }
}

pub fn ambulances_of_health(c: &Candidate<String>) -> bool {
    c.kind == EntityKind::Ambulance && c.agency.as_ref().is_some_and(|a| a.as_str() == "health")
}
