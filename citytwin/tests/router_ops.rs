//! Health, stats, alerts, layers, metrics, OpenAPI and the SSE stream.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use twin_core::rules::{Geofence, RuleSet, Severity};
use twin_core::{EntityKind, KindFilter};
use twin_layers::{Feature, Layer, ReferenceLayers};

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> geo::MultiPolygon<f64> {
    geo::MultiPolygon(vec![geo::Polygon::new(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)].into(), vec![])])
}

#[tokio::test]
async fn health_stats_and_index() {
    let s = TestServer::start();
    s.submit(vec![
        obs(EntityKind::Bus, "a", T0, 108.2, 16.0),
        obs(EntityKind::Bus, "b", T0, 108.3, 16.1),
        obs(EntityKind::RainGauge, "r", T0, 108.1, 16.0),
    ])
    .await;
    let (st, _, h) = s.get("/healthz").await;
    assert_eq!((st, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (st, _, stats) = s.get("/api/stats").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(stats["total"], 3);
    assert_eq!(stats["counts"], json!({"bus": 2, "rain_gauge": 1}));
    assert!(stats["log_seq"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn geofence_entry_appears_in_alerts() {
    let rules = RuleSet {
        geofences: vec![Geofence {
            id: "port".into(),
            name: "Port".into(),
            area: square(108.20, 16.10, 108.25, 16.15),
            kinds: KindFilter::only(EntityKind::Vessel),
            hysteresis_m: 0.0,
            alert_on_enter: true,
            alert_on_exit: true,
            severity: Severity::Severe,
        }],
        ..RuleSet::default()
    };
    let s = TestServer::start_with(|o| o.runtime.rules = rules);
    s.submit(vec![obs(EntityKind::Vessel, "v1", T0, 108.30, 16.20)]).await;
    s.submit(vec![obs(EntityKind::Vessel, "v1", T0 + 10_000, 108.22, 16.12)]).await;
    let (st, _, body) = s.get("/api/alerts?limit=10").await;
    assert_eq!(st, StatusCode::OK);
    let alerts = body["alerts"].as_array().unwrap();
    let enter = alerts.iter().find(|a| a["rule_kind"] == "geofence_enter").expect("an enter alert");
    assert_eq!((enter["rule"].as_str(), enter["external_id"].as_str()), (Some("port"), Some("v1")));
    assert_eq!((enter["severity"].as_str(), enter["entity_kind"].as_str()), (Some("severe"), Some("vessel")));
    assert_eq!(enter["time"], "2026-11-23T08:00:10.000Z");
}

#[tokio::test]
async fn reference_layers_are_listed_and_served() {
    let mut props = serde_json::Map::new();
    props.insert("name".into(), json!("Bạch Đằng"));
    let roads = Layer {
        name: "roads".into(),
        features: vec![Feature {
            geometry: geo::Geometry::LineString(vec![(108.22, 16.07), (108.224, 16.06)].into()),
            properties: props,
        }],
    };
    let s = TestServer::start_full(|_| {}, ReferenceLayers { layers: vec![roads] });
    let (st, _, list) = s.get("/api/layers").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["layers"], json!([{"name": "roads", "features": 1}]));
    let (st, _, fc) = s.get("/api/layers/roads").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(fc["features"][0]["properties"]["name"], "Bạch Đằng");
    let (st, ct, body) = s.get("/api/layers/rivers").await;
    assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
}

/// Parses the Prometheus text format: `name{labels} value` → value.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line}"));
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
        let name = key.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad name in {line}");
        out.insert(key.to_owned(), v);
    }
    out
}

#[tokio::test]
async fn metrics_parse_and_count_ingests() {
    let s = TestServer::start();
    let body = r#"[{"kind":"bus","id":"a"},{"kind":"bus","id":"b"},{"kind":"car","id":"c"}]"#;
    let (st, _, _) = s.post("/ingest/observations", "application/json", body).await;
    assert_eq!(st, StatusCode::OK);
    let _ = s.get("/api/entities").await;
    let res = s.app().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let m = parse_metrics(&text);
    assert_eq!(m["citytwin_ingest_accepted_total{source=\"http\"}"], 2.0);
    assert_eq!(m["citytwin_ingest_rejected_total{source=\"http\"}"], 1.0);
    assert_eq!(m["citytwin_entities{kind=\"bus\"}"], 2.0);
    assert!(m["citytwin_log_append_seconds_count"] >= 1.0);
    assert_eq!(m["citytwin_http_requests_total{method=\"GET\",route=\"/api/entities\",status=\"200\"}"], 1.0);
    assert_eq!(m["citytwin_http_requests_total{method=\"POST\",route=\"/ingest/observations\",status=\"200\"}"], 1.0);
}

#[tokio::test]
async fn openapi_document_lists_the_paths() {
    let s = TestServer::start();
    let (st, _, doc) = s.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/healthz",
        "/api/entities",
        "/api/entities/{id}",
        "/api/entities/{id}/track",
        "/api/nearest",
        "/api/within",
        "/api/h3",
        "/api/alerts",
        "/api/stats",
        "/api/layers",
        "/api/layers/{name}",
        "/ingest/observations",
        "/ws",
        "/events",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(paths["/ingest/observations"]["post"]["responses"]["503"].is_object());
}

/// Reads SSE frames until one with `event: name` arrives; returns its data as JSON.
async fn next_event(body: &mut Body, name: &str, buf: &mut String) -> Value {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let event = frame.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim);
            let data: String = frame.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            if event == Some(name) {
                return serde_json::from_str(&data).unwrap();
            }
            continue;
        }
        let frame = body.frame().await.expect("stream ended").unwrap();
        if let Ok(data) = frame.into_data() {
            buf.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
}

#[tokio::test]
async fn sse_sends_snapshot_then_filtered_deltas() {
    let s = TestServer::start();
    s.submit(vec![obs(EntityKind::Bus, "in", T0, 108.22, 16.06), obs(EntityKind::Bus, "out", T0, 109.5, 17.0)]).await;
    let req = Request::get("/events?bbox=108,16,108.5,16.2&kind=bus").body(Body::empty()).unwrap();
    let res = s.app().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = res.into_body();
    let mut buf = String::new();
    let snap = next_event(&mut body, "snapshot", &mut buf).await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(external_ids(&json!({"features": snap["features"]})), ["in"]);
    // A vessel (other kind) and a bus outside the box are filtered; the bus inside arrives as a delta.
    s.submit(vec![
        obs(EntityKind::Vessel, "v", T0 + 1, 108.25, 16.1),
        obs(EntityKind::Bus, "new", T0 + 1, 108.3, 16.1),
    ])
    .await;
    // A commit acknowledged just before the snapshot may still be broadcast after it; such a repeat
    // carries the state the snapshot already showed ("in"), so it is allowed here.
    let mut seen = std::collections::BTreeSet::new();
    while !seen.contains("new") {
        let delta = next_event(&mut body, "delta", &mut buf).await;
        seen.extend(external_ids(&json!({"features": delta["upserts"]})));
    }
    seen.remove("in");
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["new"]);
    // Leaving the box is a remove.
    let id = s.state.twin.read().id_of(EntityKind::Bus, "in").unwrap();
    s.submit(vec![obs(EntityKind::Bus, "in", T0 + 2, 110.0, 16.06)]).await;
    let delta = next_event(&mut body, "delta", &mut buf).await;
    assert_eq!(delta["removes"], json!([id.0]));
    assert!(delta["seq"].as_u64().unwrap() > 0);
}
