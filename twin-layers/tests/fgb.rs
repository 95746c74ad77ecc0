//! The geozero readers against the hand-written GeoJSON reader: the streaming GeoJSON reader on the
//! shipped OSM layers, and FlatGeobuf files that GDAL's `ogr2ogr` wrote from the same GeoJSON
//! (tests/data/NOTICE.md), so both sides come from independent writers.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};

use geo::CoordsIter;
use serde_json::Value;
use twin_layers::{Layer, LayerPaths, ReferenceLayers};

fn repo_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data").join(rel)
}

fn test_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// Same value, numbers compared as f64 (FlatGeobuf types integers and doubles by column).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn coords(g: &geo::Geometry<f64>) -> Vec<(f64, f64)> {
    g.coords_iter().map(|c| (c.x, c.y)).collect()
}

fn assert_same_layers(reference: &Layer, other: &Layer) {
    assert_eq!(reference.features.len(), other.features.len());
    assert!(!reference.features.is_empty());
    for (i, (r, o)) in reference.features.iter().zip(&other.features).enumerate() {
        // GDAL writes coordinates at 15 significant digits, so compare to a nanodegree.
        let (rc, oc) = (coords(&r.geometry), coords(&o.geometry));
        assert_eq!(rc.len(), oc.len(), "vertices of feature {i}");
        assert!(rc.iter().zip(&oc).all(|(a, b)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9), "feature {i}");
        assert_eq!(std::mem::discriminant(&r.geometry), std::mem::discriminant(&o.geometry));
        for (k, v) in &r.properties {
            let got = o.properties.get(k).unwrap_or_else(|| panic!("feature {i} lacks {k}"));
            assert!(same_value(v, got), "feature {i} {k}: {v} vs {got}");
        }
    }
}

#[test]
fn streaming_geojson_reads_the_same_features_as_the_dom_reader() {
    for file in
        ["osm/danang_haichau_roads.geojson", "osm/danang_haichau_buildings.geojson", "osm/danang_haichau_water.geojson"]
    {
        let path = repo_data(file);
        let dom = Layer::from_geojson_file("l", &path).unwrap();
        let streamed = Layer::from_geojson_streaming("l", &path).unwrap();
        assert_same_layers(&dom, &streamed);
        // Streaming keeps every property too (the DOM reader's keys are checked above).
        for (d, s) in dom.features.iter().zip(&streamed.features) {
            assert_eq!(d.properties.len(), s.properties.len());
        }
    }
}

#[test]
fn flatgeobuf_written_by_ogr2ogr_matches_the_geojson_source() {
    for (fgb, geojson) in [
        ("danang_haichau_water.fgb", "osm/danang_haichau_water.geojson"),
        ("danang_haichau_buildings.fgb", "osm/danang_haichau_buildings.geojson"),
    ] {
        let mut reference = Layer::from_geojson_file("l", &repo_data(geojson)).unwrap();
        let mut read = Layer::from_flatgeobuf_file("l", &test_data(fgb)).unwrap();
        // ogr2ogr writes a spatial index and so stores features in Hilbert order, not file order.
        for layer in [&mut reference, &mut read] {
            layer.features.sort_by_cached_key(|f| format!("{:.6?}", coords(&f.geometry)));
        }
        assert_same_layers(&reference, &read);
    }
}

#[test]
fn the_loader_picks_flatgeobuf_by_extension_and_normalises_it() {
    let paths = LayerPaths { buildings: Some("danang_haichau_buildings.fgb".into()), ..Default::default() };
    let layers = ReferenceLayers::load(&paths, &test_data("")).unwrap();
    let buildings = layers.get("buildings").unwrap();
    assert_eq!(buildings.features.len(), 314);
    // Normalisation ran: every building has a numeric height.
    assert!(buildings.features.iter().all(|f| f.properties.get("height").and_then(Value::as_f64).is_some()));
}

#[test]
fn a_truncated_flatgeobuf_is_an_error_not_a_panic() {
    let bytes = std::fs::read(test_data("danang_haichau_water.fgb")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in [0, 7, 100, bytes.len() / 2] {
        let path = dir.path().join("cut.fgb");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(Layer::from_flatgeobuf_file("l", &path).is_err(), "cut at {cut}");
    }
}
