//! `citytwin demo`: live Đà Nẵng entities that move, and the pages and documents it serves.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use serde_json::Value;
use twin_tests::obs::{attr_str, bbox_param, entity_id, features, point, DA_NANG_BBOX};
use twin_tests::{temp_dir, Client, Server};

const MOVING_KINDS: &[&str] = &["bus", "ambulance", "fire_truck", "police_unit", "vessel", "fishing_boat", "drone"];

fn moving_positions(collection: &Value) -> HashMap<String, (f64, f64)> {
    features(collection)
        .iter()
        .filter(|f| attr_str(f, "kind").is_some_and(|k| MOVING_KINDS.contains(&k)))
        .filter_map(|f| Some((entity_id(f)?, point(f)?)))
        .collect()
}

#[test]
fn demo_serves_live_moving_entities_in_da_nang() {
    let dir = temp_dir("e2e-demo-");
    let data = dir.path().join("data");
    let server = Server::start(&["demo".to_owned(), "--data-dir".to_owned(), data.display().to_string()]);
    let client = Client::default();
    let url = server.url(&format!("/api/entities?bbox={}&limit=100000", bbox_param(DA_NANG_BBOX)));

    // The spec asks for this within a minute; a loaded CI machine gets some slack on top.
    let first =
        client.poll_json(&url, Duration::from_secs(90), |v| features(v).len() >= 90).unwrap_or_else(|e| panic!("{e}"));
    for f in features(&first) {
        let (lon, lat) = point(f).unwrap_or_else(|| panic!("entity without a point: {f}"));
        assert!(
            (DA_NANG_BBOX[0]..=DA_NANG_BBOX[2]).contains(&lon) && (DA_NANG_BBOX[1]..=DA_NANG_BBOX[3]).contains(&lat),
            "outside the bbox: {f}"
        );
    }
    let before = moving_positions(&first);
    assert!(before.len() >= 20, "expected simulated vehicles and vessels, got {}", before.len());

    thread::sleep(Duration::from_secs(5));
    let after = moving_positions(&client.get_json(&url));
    let moved = before.iter().filter(|(id, p)| after.get(*id).is_some_and(|q| q != *p)).count();
    eprintln!(
        "{} entities in Da Nang; {moved} of {} moving ones changed position in 5 s",
        features(&first).len(),
        before.len()
    );
    assert!(
        moved >= 10.min(before.len() / 2),
        "only {moved} of {} moving entities changed position in 5 s",
        before.len()
    );

    let home = client.get(&server.url("/")).unwrap();
    assert_eq!(home.status, 200);
    assert!(home.content_type.starts_with("text/html"), "content type {}", home.content_type);
    assert!(
        home.body.to_lowercase().contains("<html"),
        "not an HTML page: {}",
        home.body.chars().take(300).collect::<String>()
    );

    let api = client.get_json(&server.url("/openapi.json"));
    assert!(api["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "not OpenAPI 3: {}", api["openapi"]);
    let paths = api["paths"].as_object().map(|p| p.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    for p in ["/api/entities", "/api/nearest", "/ingest/observations"] {
        assert!(paths.iter().any(|k| k == p), "{p} missing from the OpenAPI paths {paths:?}");
    }

    let metrics = client.get(&server.url("/metrics")).unwrap();
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.starts_with("text/plain"), "content type {}", metrics.content_type);
    // Prometheus text: at least one `name value` sample line.
    let samples = metrics
        .body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| l.rsplit(' ').next().is_some_and(|v| v.parse::<f64>().is_ok()))
        .count();
    assert!(samples > 0, "no metric samples in:\n{}", metrics.body.chars().take(500).collect::<String>());
}
