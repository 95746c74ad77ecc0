//! The loader and the road graph on the real Da Nang layers shipped in `data/`.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};

use twin_core::geodesy::distance_m;
use twin_core::{BBox, Position};
use twin_layers::roads::{Metric, RoadGraph};
use twin_layers::{LayerPaths, ReferenceLayers};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn paths() -> LayerPaths {
    LayerPaths {
        roads: Some("osm/danang_haichau_roads.geojson".into()),
        buildings: Some("osm/danang_haichau_buildings.geojson".into()),
        water: Some("osm/danang_haichau_water.geojson".into()),
        landuse: None,
        pois: Some("osm/danang_haichau_poi_emergency.geojson".into()),
        boundaries: Some("boundaries/danang_districts_dvhcvn.geojson".into()),
    }
}

#[test]
fn loads_the_real_layers_with_normalised_attributes() {
    let layers = ReferenceLayers::load(&paths(), &data_dir()).unwrap();
    let roads = layers.get("roads").unwrap();
    assert_eq!(roads.features.len(), 1521, "PROVENANCE.md lists 1,521 highway lines");
    assert!(roads.features.iter().all(|f| f.properties["class"].is_string()));
    let with_speed = roads.features.iter().filter(|f| f.properties["maxspeed"].is_number()).count();
    assert!(with_speed > 50, "{with_speed} roads have a numeric maxspeed");
    let buildings = layers.get("buildings").unwrap();
    assert_eq!(buildings.features.len(), 314);
    assert!(buildings.features.iter().all(|f| f.properties["height"].as_f64().is_some_and(|h| h > 0.0)));
    assert!(buildings.features.iter().any(|f| f.properties["height_source"] == "levels"));
    assert_eq!(layers.get("boundaries").unwrap().features.len(), 9);
    assert!(layers.get("landuse").is_none());
}

#[test]
fn geojson_export_filters_by_envelope_and_limit() {
    let layers = ReferenceLayers::load(&paths(), &data_dir()).unwrap();
    let pois = layers.get("pois").unwrap();
    let all = pois.to_geojson(None, None);
    assert_eq!(all["features"].as_array().unwrap().len(), pois.features.len());
    // A small box around Hoan My hospital (108.2098753, 16.059401).
    let bbox = BBox::new(108.2095, 16.0590, 108.2102, 16.0598).unwrap();
    let some = pois.to_geojson(Some(bbox), None);
    let features = some["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        assert!(bbox.contains(Position::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap())));
    }
    assert_eq!(pois.to_geojson(None, Some(3))["features"].as_array().unwrap().len(), 3);
}

#[test]
fn road_graph_is_routable_between_far_nodes() {
    let layers = ReferenceLayers::load(&paths(), &data_dir()).unwrap();
    let g = RoadGraph::from_layer(layers.get("roads").unwrap());
    assert!(g.node_count() > 1000 && g.edge_count() > 2000, "{} nodes {} edges", g.node_count(), g.edge_count());
    let main = g.largest_component();
    assert!(main.len() * 2 > g.node_count(), "main component {} of {}", main.len(), g.node_count());
    // The two main-component nodes farthest apart along one diagonal.
    let pos = |n| {
        let c = g.node(n);
        Position::new(c.x, c.y)
    };
    let a =
        *main.iter().min_by(|x, y| (pos(**x).lon + pos(**x).lat).total_cmp(&(pos(**y).lon + pos(**y).lat))).unwrap();
    let b =
        *main.iter().max_by(|x, y| (pos(**x).lon + pos(**x).lat).total_cmp(&(pos(**y).lon + pos(**y).lat))).unwrap();
    assert!(distance_m(pos(a), pos(b)) > 3000.0);
    for metric in [Metric::Length, Metric::Time] {
        let route = g.shortest_path(a, b, metric).unwrap();
        assert_eq!(g.edge(route.edges[0]).from, a);
        assert_eq!(g.edge(*route.edges.last().unwrap()).to, b);
        for w in route.edges.windows(2) {
            assert_eq!(g.edge(w[0]).to, g.edge(w[1]).from, "the path follows edges");
        }
        let line = g.route_polyline(&route);
        let along: f64 =
            line.0.windows(2).map(|w| distance_m(Position::new(w[0].x, w[0].y), Position::new(w[1].x, w[1].y))).sum();
        assert!((along - route.length_m).abs() < 1e-6 * route.length_m.max(1.0));
        assert!(route.length_m >= distance_m(pos(a), pos(b)));
    }
}
