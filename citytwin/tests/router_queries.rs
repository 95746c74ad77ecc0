//! Query endpoints against a model with known entities.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use twin_core::EntityKind;

/// (kind, external id, lon, lat)
const FLEET: &[(EntityKind, &str, f64, f64)] = &[
    (EntityKind::Bus, "43B-001", 108.2200, 16.0600),
    (EntityKind::Bus, "43B-002", 108.2300, 16.0700),
    (EntityKind::Vessel, "574000001", 108.2500, 16.1000),
    (EntityKind::Ambulance, "AMB-1", 108.2050, 16.0450),
    (EntityKind::FloodSensor, "FS-9", 108.1500, 16.0300),
];

async fn fleet() -> TestServer {
    let s = TestServer::start();
    s.submit(FLEET.iter().map(|(k, id, lon, lat)| obs(*k, id, T0, *lon, *lat)).collect()).await;
    s
}

#[tokio::test]
async fn lists_entities_with_bbox_kind_and_limit() {
    let s = fleet().await;
    let (st, _, all) = s.get("/api/entities").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all["type"], "FeatureCollection");
    assert_eq!(external_ids(&all).len(), FLEET.len());
    let f = all["features"].as_array().unwrap().iter().find(|f| f["properties"]["external_id"] == "43B-001").unwrap();
    assert_eq!(f["geometry"], json!({"type": "Point", "coordinates": [108.22, 16.06]}));
    assert_eq!(f["properties"]["kind"], "bus");
    assert_eq!(f["properties"]["time"], "2026-11-23T08:00:00.000Z");
    assert_eq!(f["properties"]["source"], "test");
    assert_eq!(f["id"], f["properties"]["id"]);

    let (_, _, buses) = s.get("/api/entities?kind=bus").await;
    assert_eq!(external_ids(&buses), ["43B-001", "43B-002"]);
    let (_, _, boxed) = s.get("/api/entities?bbox=108.2,16.04,108.235,16.075").await;
    assert_eq!(external_ids(&boxed), ["43B-001", "43B-002", "AMB-1"]);
    let (_, _, both) = s.get("/api/entities?bbox=108.2,16.04,108.3,16.2&kind=vessel,ambulance").await;
    assert_eq!(external_ids(&both), ["574000001", "AMB-1"]);
    let (_, _, two) = s.get("/api/entities?limit=2").await;
    assert_eq!(two["features"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let s = fleet().await;
    for (uri, field) in [
        ("/api/entities?bbox=1,2,3", "bbox"),
        ("/api/entities?bbox=10,10,5,5", "bbox"),
        ("/api/entities?kind=bus,car", "kind"),
        ("/api/entities?limit=-3", "limit"),
        ("/api/nearest?lat=16", "lon"),
        ("/api/nearest?lon=108&lat=95", "lat"),
        ("/api/nearest?lon=108&lat=16&k=many", "k"),
        ("/api/h3?res=12", "res"),
        ("/api/entities/abc", "id"),
        ("/api/entities/1/track?from=yesterday", "from"),
    ] {
        let (st, ct, body) = s.get(uri).await;
        assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
        assert_eq!(body["field"], field, "{uri}: {body}");
    }
}

#[tokio::test]
async fn one_entity_and_not_found() {
    let s = fleet().await;
    let id = s.state.twin.read().id_of(EntityKind::Vessel, "574000001").unwrap();
    let (st, _, f) = s.get(&format!("/api/entities/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(f["properties"]["external_id"], "574000001");
    assert_eq!(f["properties"]["kind"], "vessel");
    let (st, ct, body) = s.get("/api/entities/987654321").await;
    assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
    let (st, ct, body) = s.get("/api/no/such/route").await;
    assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["instance"], "/api/no/such/route");
    let (st, ct, body) = s.post("/api/entities", "application/json", "{}").await;
    assert_problem(st, &ct, &body, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn track_is_a_linestring_with_times() {
    let s = TestServer::start();
    for i in 0..4 {
        s.submit(vec![obs(EntityKind::Bus, "T1", T0 + i * 60_000, 108.20 + i as f64 * 0.001, 16.05)]).await;
    }
    let id = s.state.twin.read().id_of(EntityKind::Bus, "T1").unwrap();
    let (st, _, all) = s.get(&format!("/api/entities/{id}/track")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all["geometry"]["type"], "LineString");
    assert_eq!(all["geometry"]["coordinates"].as_array().unwrap().len(), 4);
    let uri = format!("/api/entities/{id}/track?from=2026-11-23T08:01:00Z&to=2026-11-23T08:02:00Z");
    let (_, _, part) = s.get(&uri).await;
    // The positions as submitted (108.20 + i × 0.001); compared within 1e-9° because whether the
    // JSON reader rounds the last digit depends on serde_json's `float_roundtrip` feature, which
    // other crates of a workspace build switch on.
    let coords: Vec<[f64; 2]> = serde_json::from_value(part["geometry"]["coordinates"].clone()).unwrap();
    assert_eq!(coords.len(), 2, "{part}");
    for (c, i) in coords.iter().zip(1..) {
        assert!((c[0] - (108.20 + f64::from(i) * 0.001)).abs() < 1e-9 && (c[1] - 16.05).abs() < 1e-9, "{part}");
    }
    assert_eq!(part["properties"]["times"], json!(["2026-11-23T08:01:00.000Z", "2026-11-23T08:02:00.000Z"]));
}

#[tokio::test]
async fn nearest_matches_a_brute_force_scan() {
    let s = fleet().await;
    let (lon, lat) = (108.2210, 16.0620);
    let (st, _, fc) = s.get(&format!("/api/nearest?lon={lon}&lat={lat}&k=3")).await;
    assert_eq!(st, StatusCode::OK);
    let mut expected: Vec<(f64, &str)> =
        FLEET.iter().map(|(_, id, x, y)| (haversine_m(lon, lat, *x, *y), *id)).collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let got = fc["features"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    for (f, (d, id)) in got.iter().zip(&expected) {
        assert_eq!(f["properties"]["external_id"], *id);
        let dist = f["properties"]["distance_m"].as_f64().unwrap();
        assert!((dist - d).abs() < 1e-3, "{id}: {dist} vs {d}");
    }
    let (_, _, vessels) = s.get(&format!("/api/nearest?lon={lon}&lat={lat}&k=3&kind=vessel")).await;
    assert_eq!(external_ids(&vessels), ["574000001"]);
}

#[tokio::test]
async fn within_a_polygon() {
    let s = fleet().await;
    let poly = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
        "coordinates": [[[108.21, 16.05], [108.24, 16.05], [108.24, 16.08], [108.21, 16.08], [108.21, 16.05]]]}});
    let (st, _, fc) = s.post("/api/within", "application/geo+json", poly.to_string()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(external_ids(&fc), ["43B-001", "43B-002"]);
    let (_, _, none) = s.post("/api/within?kind=vessel", "application/json", poly.to_string()).await;
    assert_eq!(external_ids(&none), Vec::<String>::new());
    let (st, ct, body) = s.post("/api/within", "application/json", r#"{"type":"Point","coordinates":[1,2]}"#).await;
    assert_problem(st, &ct, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "geometry");
    let (st, ct, body) = s.post("/api/within", "application/json", "{not json").await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn h3_counts_match_cells_computed_directly() {
    let s = fleet().await;
    let res = h3o::Resolution::Seven;
    let (st, _, fc) = s.get("/api/h3?res=7&bbox=107.9,15.9,108.4,16.3").await;
    assert_eq!(st, StatusCode::OK);
    let mut expected: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (k, _, lon, lat) in FLEET {
        let cell = h3o::LatLng::new(*lat, *lon).unwrap().to_cell(res).to_string();
        *expected.entry(cell).or_default().entry(k.as_str().to_owned()).or_default() += 1;
    }
    let mut got: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for f in fc["features"].as_array().unwrap() {
        let p = f["properties"].as_object().unwrap();
        let mut counts = BTreeMap::new();
        for (k, v) in p {
            if k != "h3" && k != "total" {
                counts.insert(k.clone(), v.as_u64().unwrap());
            }
        }
        assert_eq!(p["total"].as_u64().unwrap(), counts.values().sum::<u64>());
        assert_eq!(f["geometry"]["type"], "Polygon");
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.first(), ring.last(), "ring is closed");
        got.insert(p["h3"].as_str().unwrap().to_owned(), counts);
    }
    assert_eq!(got, expected);
    let (_, _, buses) = s.get("/api/h3?res=7&bbox=107.9,15.9,108.4,16.3&kind=bus").await;
    let total: u64 =
        buses["features"].as_array().unwrap().iter().map(|f| f["properties"]["total"].as_u64().unwrap()).sum();
    assert_eq!(total, 2);
}
