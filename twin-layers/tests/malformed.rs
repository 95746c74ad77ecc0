//! Malformed layer files fail with errors that name the file and the feature.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::Write;

use twin_layers::{Layer, LayerError, LayerPaths, ReferenceLayers};

fn file_with(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".geojson").tempfile().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

#[test]
fn bad_feature_is_named_by_file_and_index() {
    let f = file_with(
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"highway":"primary"},"geometry":{"type":"LineString","coordinates":[[108.2,16.0],[108.3,16.1]]}},
        {"type":"Feature","properties":{},"geometry":null},
        {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[108.2,"x"],[108.3,16.1]]}}]}"#,
    );
    let paths = LayerPaths { roads: Some(f.path().to_owned()), ..Default::default() };
    let err = ReferenceLayers::load(&paths, std::path::Path::new("/")).unwrap_err();
    match &err {
        LayerError::Feature { path, index, .. } => {
            assert_eq!(path, f.path());
            assert_eq!(*index, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&f.path().display().to_string()) && msg.contains("feature 2"), "{msg}");
}

#[test]
fn null_geometries_are_skipped() {
    let f = file_with(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":null}]}"#,
    );
    let layer = Layer::from_geojson_file("x", f.path()).unwrap();
    assert!(layer.features.is_empty());
}

#[test]
fn broken_json_and_missing_files_name_the_file() {
    let f = file_with(r#"{"type":"FeatureCollection","features":[{"#);
    let err = Layer::from_geojson_file("x", f.path()).unwrap_err();
    assert!(matches!(err, LayerError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains(&f.path().display().to_string()));
    let not_fc = file_with(r#"{"type":"Point","coordinates":[1,2]}"#);
    assert!(matches!(Layer::from_geojson_file("x", not_fc.path()), Err(LayerError::Parse { .. })));
    let missing = std::path::Path::new("/nonexistent/roads.geojson");
    let err = Layer::from_geojson_file("x", missing).unwrap_err();
    assert!(matches!(err, LayerError::Read { .. }) && err.to_string().contains("/nonexistent/roads.geojson"));
}
