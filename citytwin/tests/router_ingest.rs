//! `POST /ingest/observations`: formats, partial acceptance, and every error path.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use twin_core::EntityKind;

#[tokio::test]
async fn json_array_is_durable_and_queryable() {
    let s = TestServer::start();
    let body = r#"[
        {"kind": "bus", "id": "43B-123.45", "time": "2026-11-23T08:00:00Z", "lon": 108.21, "lat": 16.06,
         "heading": 90, "speed": 8.3, "status": "in_service", "properties": {"route": "R1", "load": 0.5, "ac": true, "x": null}},
        {"kind": "vessel", "id": "574001234", "lon": 108.25, "lat": 16.12}
    ]"#;
    let (st, _, res) = s.post("/ingest/observations", "application/json", body).await;
    assert_eq!(st, StatusCode::OK, "{res}");
    assert_eq!(res["accepted"], 2);
    assert_eq!(res["rejected"].as_array().unwrap().len(), 0);
    let (_, _, fc) = s.get("/api/entities?kind=bus").await;
    let p = &fc["features"][0]["properties"];
    assert_eq!(p["external_id"], "43B-123.45");
    assert_eq!((p["heading"].as_f64(), p["speed"].as_f64()), (Some(90.0), Some(8.3)));
    assert_eq!(p["status"], "in_service");
    assert_eq!((&p["route"], &p["load"], &p["ac"]), (&"R1".into(), &0.5.into(), &true.into()));
    assert!(p.get("x").is_none(), "null properties are dropped");
    assert_eq!(p["source"], "http");
    // Acknowledged means in the log: a fresh store on the same directory recovers it.
    let dir = s.dir.path().to_path_buf();
    let mut s = s;
    if let Some(r) = s.running.take() {
        r.shutdown();
    }
    let again = citytwin::boot::start(citytwin::boot::ServerOptions::new(&dir), Default::default()).unwrap();
    assert!(again.state.twin.read().id_of(EntityKind::Vessel, "574001234").is_some());
    again.shutdown();
}

#[tokio::test]
async fn single_object_and_ndjson() {
    let s = TestServer::start();
    let (st, _, res) = s
        .post("/ingest/observations", "application/json", r#"{"kind":"drone","id":"D1","lon":108.2,"lat":16.0}"#)
        .await;
    assert_eq!((st, res["accepted"].as_u64()), (StatusCode::OK, Some(1)));
    let nd = "{\"kind\":\"bus\",\"id\":\"a\",\"lon\":108.2,\"lat\":16.0}\n{\"kind\":\"bus\",\"id\":\"b\",\"lon\":108.3,\"lat\":16.1}\n";
    let (st, _, res) = s.post("/ingest/observations", "application/x-ndjson", nd).await;
    assert_eq!((st, res["accepted"].as_u64()), (StatusCode::OK, Some(2)));
    // Detected without the content type.
    let (st, _, res) = s.post("/ingest/observations", "text/plain", nd.replace("\"a\"", "\"c\"")).await;
    assert_eq!((st, res["accepted"].as_u64()), (StatusCode::OK, Some(2)));
    assert_eq!(s.state.twin.read().len(), 4);
}

#[tokio::test]
async fn ndjson_with_a_bad_line_three_names_line_three() {
    let s = TestServer::start();
    let nd = "{\"kind\":\"bus\",\"id\":\"a\"}\n{\"kind\":\"bus\",\"id\":\"b\"}\n{\"kind\":\"bus\",\"id\":\"c\",}\n{\"kind\":\"bus\",\"id\":\"d\"}\n";
    let (st, ct, body) = s.post("/ingest/observations", "application/x-ndjson", nd).await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["line"], 3);
    assert!(body["detail"].as_str().unwrap().contains("line 3"), "{body}");
    assert_eq!(s.state.twin.read().len(), 0, "a malformed body applies nothing");
}

#[tokio::test]
async fn malformed_json_names_the_byte_offset() {
    let s = TestServer::start();
    let (st, ct, body) = s.post("/ingest/observations", "application/json", r#"[{"kind":"bus","id":"a"},]"#).await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["offset"], 25);
    assert_eq!(body["field"], "body");
}

#[tokio::test]
async fn partially_valid_batch_is_accepted_with_rejections_listed() {
    let s = TestServer::start();
    let body = r#"[{"kind":"bus","id":"ok","lon":108.2,"lat":16.0},
                   {"kind":"car","id":"x"},
                   {"kind":"bus","id":"y","lon":108.2,"lat":99},
                   {"kind":"bus","id":"z","properties":{"nested":{"a":1}}}]"#;
    let (st, _, res) = s.post("/ingest/observations", "application/json", body).await;
    assert_eq!(st, StatusCode::OK, "{res}");
    assert_eq!(res["accepted"], 1);
    let rejected: Vec<(u64, String)> = res["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["field"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(rejected, [(1, "kind".into()), (2, "lat".into()), (3, "properties.nested".into())]);
    assert_eq!(s.state.twin.read().len(), 1);
}

#[tokio::test]
async fn all_invalid_is_422_naming_field_and_line() {
    let s = TestServer::start();
    let nd = "{\"kind\":\"bus\",\"id\":\"a\",\"lon\":200,\"lat\":16}\n{\"kind\":\"bus\"}\n";
    let (st, ct, body) = s.post("/ingest/observations", "application/x-ndjson", nd).await;
    assert_problem(st, &ct, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((body["field"].as_str(), body["line"].as_u64()), (Some("lon"), Some(1)));
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!((rejected[1]["line"].as_u64(), rejected[1]["field"].as_str()), (Some(2), Some("id")));
    let (st, ct, body) =
        s.post("/ingest/observations", "application/json", r#"[{"kind":"bus","id":"a","speed":-1}]"#).await;
    assert_problem(st, &ct, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((body["field"].as_str(), body["index"].as_u64()), (Some("speed"), Some(0)));
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let s = TestServer::start_with(|o| o.body_limit = 1024);
    let big = format!("[{}]", vec![r#"{"kind":"bus","id":"a"}"#; 100].join(","));
    let (st, ct, body) = s.post("/ingest/observations", "application/json", big).await;
    assert_problem(st, &ct, &body, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(s.state.twin.read().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)] // holding the lock is the point: it parks the writer
async fn full_queue_is_503_with_retry_after() {
    let s = TestServer::start_with(|o| {
        o.runtime.writer.queue_capacity = 1;
        o.runtime.writer.tick_interval = Duration::from_secs(3600);
    });
    // Holding the model's write lock parks the writer after its next append, so the queue fills.
    let guard = s.state.twin.write();
    let seq0 = s.state.log_seq();
    let submit = |i: usize| {
        let h = s.state.ingest.clone();
        tokio::spawn(async move { h.submit("t", vec![obs(EntityKind::Bus, &format!("q{i}"), T0, 108.2, 16.0)]).await })
    };
    // The first batch is appended, then the writer waits for the lock; the second fills the queue.
    let first = submit(0);
    while s.state.log_seq() == seq0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = submit(1);
    while s.state.queue_depth() < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let req = axum::http::Request::post("/ingest/observations")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"kind":"bus","id":"late"}"#))
        .unwrap();
    let res = tower::ServiceExt::oneshot(s.app(), req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    drop(guard);
    for p in [first, second] {
        assert_eq!(p.await.unwrap().unwrap().accepted, 1);
    }
}
