//! Road-graph costs on the real Da Nang roads: building the graph, a cross-district shortest path,
//! nearest-node lookup and the largest strongly connected component.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use twin_core::Position;
use twin_layers::roads::{Metric, RoadGraph};
use twin_layers::{LayerPaths, ReferenceLayers};

fn bench(c: &mut Criterion) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let paths = LayerPaths { roads: Some("osm/danang_haichau_roads.geojson".into()), ..Default::default() };
    let Ok(layers) = ReferenceLayers::load(&paths, &data) else { panic!("data/ roads layer missing") };
    let Some(roads) = layers.get("roads") else { panic!("no roads layer") };
    c.bench_function("road_graph_build_danang", |b| b.iter(|| RoadGraph::from_layer(black_box(roads))));
    let g = RoadGraph::from_layer(roads);
    let main = g.largest_component();
    let key = |n: &twin_layers::roads::NodeId| {
        let p = g.node(*n);
        p.x + p.y
    };
    let (Some(a), Some(z)) = (
        main.iter().min_by(|x, y| key(x).total_cmp(&key(y))).copied(),
        main.iter().max_by(|x, y| key(x).total_cmp(&key(y))).copied(),
    ) else {
        panic!("empty main component")
    };
    c.bench_function("shortest_path_time_danang_diagonal", |b| {
        b.iter(|| g.shortest_path(black_box(a), black_box(z), Metric::Time))
    });
    c.bench_function("nearest_node_danang", |b| {
        b.iter(|| g.nearest_node(black_box(Position::new(108.2160, 16.0600)), None))
    });
    c.bench_function("largest_component_danang", |b| b.iter(|| g.largest_component()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
