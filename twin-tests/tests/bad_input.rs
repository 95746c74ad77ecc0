//! Bad ingest bodies over the wire: RFC 9457 problem+json naming the line or field, 413 over the
//! body limit, and nothing from a refused request applied.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use serde_json::{json, Value};
use twin_tests::obs::{features, now_ms, observation, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_test_config, Client, Server};

const NDJSON: &str = "application/x-ndjson";

fn present(client: &Client, server: &Server, external_id: &str) -> bool {
    let all = client.get_json(&server.url("/api/entities?kind=bus"));
    features(&all).iter().any(|f| twin_tests::obs::attr_str(f, "external_id") == Some(external_id))
}

#[test]
fn refused_items_and_bodies_are_named_and_not_applied() {
    let dir = temp_dir("e2e-bad-");
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let server = Server::serve(&config, &dir.path().join("data"), &["--body-limit", "8192"]);
    let client = Client::default();
    let url = server.url("/ingest/observations");
    let t = now_ms();

    // Line 2 has an impossible latitude: only that item is refused, by line.
    let mut bad_lat = observation("bus", "bad-2", t, 108.2, 16.0);
    bad_lat["lat"] = json!(95.0);
    let lines = [observation("bus", "ok-1", t, 108.21, 16.05), bad_lat, observation("bus", "ok-3", t, 108.22, 16.06)];
    let reply = client.post(&url, NDJSON, twin_tests::obs::ndjson(&lines).as_bytes()).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["accepted"], 2, "{v}");
    let rejected = v["rejected"].as_array().cloned().unwrap_or_default();
    assert_eq!(rejected.len(), 1, "{v}");
    assert_eq!(rejected[0]["line"], 2, "the refused item should be named by its line: {v}");
    assert!(present(&client, &server, "ok-1") && present(&client, &server, "ok-3"));
    assert!(!present(&client, &server, "bad-2"));

    // A syntax error on line 3 refuses the whole body: 400 problem+json naming the line.
    let body = format!(
        "{}\n{}\n{{\"kind\": \"bus\", \"id\":\n",
        observation("bus", "syn-1", t, 108.2, 16.0),
        observation("bus", "syn-2", t, 108.2, 16.0)
    );
    let reply = client.post(&url, NDJSON, body.as_bytes()).unwrap();
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/problem+json"), "{}", reply.content_type);
    let p = reply.json();
    assert_eq!(p["status"], 400, "{p}");
    assert_eq!(p["line"], 3, "the problem should name line 3: {p}");
    assert!(!present(&client, &server, "syn-1"), "nothing of a refused body may be applied");

    // Every item invalid: 422 naming the field.
    let reply =
        client.post(&url, NDJSON, b"{\"kind\":\"spaceship\",\"id\":\"x\",\"lon\":108.2,\"lat\":16.0}\n").unwrap();
    assert_eq!(reply.status, 422, "{}", reply.body);
    let p: Value = reply.json();
    assert_eq!(p["field"], "kind", "{p}");

    // Over the body limit: 413, nothing applied.
    let big: Vec<Value> = (0..100).map(|i| observation("bus", &format!("big-{i}"), t, 108.2, 16.0)).collect();
    let body = twin_tests::obs::ndjson(&big);
    assert!(body.len() > 8192);
    let reply = client.post(&url, NDJSON, body.as_bytes()).unwrap();
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(!present(&client, &server, "big-0"));
}
