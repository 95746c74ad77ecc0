//! Ingest → query → live updates → restart, against the real binary on a free port.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use twin_tests::live::{delta_upsert_external_ids, SseStream, WsSubscriber};
use twin_tests::obs::{self, attr_str, bbox_param, features, haversine_m, now_ms, observation, point, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_test_config, Client, Server};

const WAIT: Duration = Duration::from_secs(60);

/// (kind, external id, lon, lat) of the fixture fleet around the Hàn river.
const FLEET: &[(&str, &str, f64, f64)] = &[
    ("bus", "e2e-bus-1", 108.2210, 16.0610),
    ("bus", "e2e-bus-2", 108.2305, 16.0702),
    ("bus", "e2e-bus-3", 108.1502, 16.0405),
    ("ambulance", "e2e-amb-1", 108.2120, 16.0520),
    ("ambulance", "e2e-amb-2", 108.2480, 16.0810),
    ("vessel", "e2e-ves-1", 108.2300, 16.1250),
];

fn fleet_observations(t0: i64) -> Vec<Value> {
    FLEET.iter().enumerate().map(|(i, (k, id, lon, lat))| observation(k, id, t0 + i as i64, *lon, *lat)).collect()
}

fn ids_of(collection: &Value) -> BTreeSet<String> {
    features(collection).iter().filter_map(|f| attr_str(f, "external_id").map(str::to_owned)).collect()
}

fn inside(b: [f64; 4], lon: f64, lat: f64) -> bool {
    lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}

/// Fleet ids sorted by reference distance from `from` (optionally of one kind).
fn brute_force_nearest(from: (f64, f64), kind: Option<&str>) -> Vec<(&'static str, f64)> {
    let mut all: Vec<(&str, f64)> = FLEET
        .iter()
        .filter(|(k, ..)| kind.is_none_or(|want| want == *k))
        .map(|(_, id, lon, lat)| (*id, haversine_m(from, (*lon, *lat))))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    all
}

/// A distance the server attached to a nearest-result feature, if any.
fn served_distance(f: &Value) -> Option<f64> {
    ["distance_m", "distance"].iter().find_map(|k| obs::attr(f, k).and_then(Value::as_f64))
}

fn check_nearest(client: &Client, server: &Server, from: (f64, f64), k: usize, kind: Option<&str>) {
    let mut url = format!("/api/nearest?lon={}&lat={}&k={k}", from.0, from.1);
    if let Some(kind) = kind {
        url.push_str(&format!("&kind={kind}"));
    }
    let got = client.get_json(&server.url(&url));
    let want = brute_force_nearest(from, kind);
    let got_ids: Vec<&str> = features(&got).iter().filter_map(|f| attr_str(f, "external_id")).collect();
    let want_ids: Vec<&str> = want.iter().take(k).map(|(id, _)| *id).collect();
    assert_eq!(got_ids, want_ids, "nearest {url}: {got}");
    for (f, (_, d_ref)) in features(&got).iter().zip(&want) {
        if let Some(d) = served_distance(f) {
            // Geodesic (ellipsoid) vs great circle: within 0.5 % plus a metre.
            assert!((d - d_ref).abs() <= d_ref * 0.005 + 1.0, "distance {d} vs reference {d_ref} in {f}");
        }
    }
}

#[test]
fn ingest_query_and_restart_keep_everything() {
    let dir = temp_dir("e2e-query-");
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let data = dir.path().join("data");
    let client = Client::default();
    let mut server = Server::serve(&config, &data, &[]);

    client.ingest_all(server.base_url(), &fleet_observations(now_ms()));

    // bbox: exactly the fixture entities inside it.
    let b = [108.20, 16.05, 108.235, 16.075];
    let got = client.get_json(&server.url(&format!("/api/entities?bbox={}", bbox_param(b))));
    let want: BTreeSet<String> =
        FLEET.iter().filter(|(_, _, lon, lat)| inside(b, *lon, *lat)).map(|(_, id, ..)| (*id).to_owned()).collect();
    assert_eq!(ids_of(&got), want, "bbox query: {got}");
    for f in features(&got) {
        for key in ["id", "kind", "external_id", "time"] {
            assert!(obs::attr(f, key).is_some(), "feature lacks `{key}`: {f}");
        }
    }

    // kind filter, and kind + bbox together.
    let amb = client.get_json(&server.url("/api/entities?kind=ambulance"));
    assert_eq!(ids_of(&amb), BTreeSet::from(["e2e-amb-1".to_owned(), "e2e-amb-2".to_owned()]));
    let bus_in_b = client.get_json(&server.url(&format!("/api/entities?kind=bus&bbox={}", bbox_param(b))));
    assert_eq!(ids_of(&bus_in_b), BTreeSet::from(["e2e-bus-1".to_owned(), "e2e-bus-2".to_owned()]));
    let limited = client.get_json(&server.url("/api/entities?kind=bus&limit=2"));
    assert_eq!(features(&limited).len(), 2, "limit=2: {limited}");

    // One entity by id: same kind, external id and position as ingested.
    let f = obs::find_external(&amb, "e2e-amb-1").cloned().unwrap_or_else(|| panic!("e2e-amb-1 missing: {amb}"));
    let id = obs::entity_id(&f).unwrap_or_else(|| panic!("no id in {f}"));
    let one = client.get_json(&server.url(&format!("/api/entities/{id}")));
    assert_eq!(attr_str(&one, "external_id"), Some("e2e-amb-1"), "{one}");
    assert_eq!(attr_str(&one, "kind"), Some("ambulance"), "{one}");
    assert_eq!(point(&one), Some((108.2120, 16.0520)), "{one}");
    let missing = client.get(&server.url("/api/entities/999999999")).unwrap();
    assert_eq!(missing.status, 404, "unknown id: {}", missing.body);

    // k nearest, with and without a kind filter, against a brute-force reference.
    check_nearest(&client, &server, (108.2200, 16.0600), 3, None);
    check_nearest(&client, &server, (108.2200, 16.0600), 2, Some("bus"));
    check_nearest(&client, &server, (108.2400, 16.1100), 1, Some("vessel"));

    // A move replaces the position.
    client.ingest_all(server.base_url(), &[observation("bus", "e2e-bus-3", now_ms() + 1_000, 108.2255, 16.0655)]);
    let moved = client.get_json(&server.url("/api/entities?kind=bus"));
    let bus3 = obs::find_external(&moved, "e2e-bus-3").unwrap_or_else(|| panic!("bus 3 missing: {moved}"));
    assert_eq!(point(bus3), Some((108.2255, 16.0655)));

    let before = client.get_json(&server.url("/api/entities"));
    assert_eq!(features(&before).len(), FLEET.len(), "{before}");

    // Restart on the same data dir: same entities, same ids, same positions.
    server.stop(Duration::from_secs(30));
    let server = Server::serve(&config, &data, &[]);
    let after = client.get_json(&server.url("/api/entities"));
    let key = |c: &Value| -> BTreeSet<String> {
        features(c)
            .iter()
            .map(|f| format!("{:?} {:?} {:?}", obs::entity_id(f), attr_str(f, "external_id"), point(f)))
            .collect()
    };
    assert_eq!(key(&after), key(&before), "state after restart differs");
}

#[test]
fn websocket_gets_deltas_inside_its_subscription_only() {
    let dir = temp_dir("e2e-ws-");
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();
    client.ingest_all(server.base_url(), &[observation("bus", "ws-before", now_ms(), 108.221, 16.061)]);

    let viewport = [108.20, 16.05, 108.25, 16.08];
    let mut ws = WsSubscriber::connect(&server.ws_url(), viewport, &["bus"]);
    let (snapshot, _) = ws.wait_for(WAIT, |m| m["type"] == "snapshot");
    assert!(snapshot.to_string().contains("ws-before"), "the snapshot should hold the bus already there: {snapshot}");

    // Outside the viewport, and inside but of another kind, are posted before the one that must arrive:
    // the single writer applies them first, so they would show up no later than it.
    let t = now_ms() + 1_000;
    client.ingest_all(
        server.base_url(),
        &[
            observation("bus", "ws-outside", t, 108.300, 16.100),
            observation("ambulance", "ws-other-kind", t, 108.222, 16.062),
        ],
    );
    client.ingest_all(server.base_url(), &[observation("bus", "ws-inside", t + 1, 108.223, 16.063)]);

    let (delta, earlier) =
        ws.wait_for(WAIT, |m| m["type"] == "delta" && delta_upsert_external_ids(m).iter().any(|id| id == "ws-inside"));
    let upserts = delta["upserts"].as_array().cloned().unwrap_or_default();
    let f = upserts.iter().find(|f| attr_str(f, "external_id") == Some("ws-inside")).cloned().unwrap_or_default();
    assert_eq!(point(&f), Some((108.223, 16.063)), "{delta}");
    for msg in earlier.iter().chain([&delta]) {
        let ids = delta_upsert_external_ids(msg);
        assert!(
            !ids.iter().any(|id| id == "ws-outside" || id == "ws-other-kind"),
            "unsubscribed entity delivered: {msg}"
        );
    }
}

#[test]
fn sse_stream_carries_new_observations() {
    let dir = temp_dir("e2e-sse-");
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();

    let events = SseStream::open(&server.url("/events"));
    client.ingest_all(server.base_url(), &[observation("fire_truck", "sse-ft-1", now_ms(), 108.215, 16.055)]);
    let data = events.wait_for_data_containing("sse-ft-1", WAIT);
    let v: Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data}"));
    assert!(v.to_string().contains("fire_truck"), "{v}");
}
