//! `GET /api/cameras/{id}/evidence[/{file}]` over a camera whose evidence folder holds saved
//! alerts: listing newest first, the JPEG and its sidecar, and names that are not ours refused.

#![cfg(feature = "cameras")]
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestServer;
use http_body_util::BodyExt;
use tower::ServiceExt;
use twin_cameras::config::{validate, CameraSection};
use twin_cameras::evidence::{Capture, EvidenceStore};
use twin_cameras::pipeline::{RaisedAlert, TrackOut};
use twin_cameras::CameraEntry;
use twin_core::Timestamp;
use twin_vision::{Detection, Frame};

fn camera(id: &str) -> CameraSection {
    toml::from_str(&format!(
        "id = \"{id}\"\nposition = [108.2, 16.0]\nsnapshot = \"http://127.0.0.1:9/s.jpg\"\nimage_size = [64, 36]\n\
         control_points = [{{ px = 0, py = 0, lon = 108.2, lat = 16.0001 }}, {{ px = 64, py = 0, lon = 108.2001, lat = 16.0001 }},\
         {{ px = 64, py = 36, lon = 108.2001, lat = 16.0 }}, {{ px = 0, py = 36, lon = 108.2, lat = 16.0 }}]"
    ))
    .unwrap()
}

fn capture(at_ms: i64, kind: &'static str) -> Capture {
    Capture {
        frame: Frame::filled(64, 36, [30, 120, 200]),
        detections: vec![Detection { class: 2, score: 0.7, bbox: [2.0, 2.0, 20.0, 12.0] }],
        tracks: vec![TrackOut {
            track: 3,
            class: 2,
            score: 0.7,
            bbox: [2.0, 2.0, 20.0, 12.0],
            lonlat: None,
            speed_ms: None,
            heading: None,
        }],
        raised: vec![RaisedAlert { kind, detail: format!("{kind} here"), alert_id: None }],
        time: Timestamp::from_millis(at_ms),
    }
}

async fn get_bytes(s: &TestServer, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let res = s.app().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn evidence_is_listed_newest_first_and_served_by_our_names_only() {
    let s = TestServer::start();
    let data = s.dir.path().to_path_buf();
    let spec = validate(&camera("cam-e"), Path::new("/")).unwrap();
    let store = Arc::new(EvidenceStore::new(&data, "cam-e", 10, None));
    s.state.cameras.add(Arc::new(CameraEntry::new(spec).with_evidence(store.clone())));
    let quiet = validate(&camera("cam-q"), Path::new("/")).unwrap();
    s.state
        .cameras
        .add(Arc::new(CameraEntry::new(quiet).with_evidence(Arc::new(EvidenceStore::new(&data, "cam-q", 10, None)))));
    // 2026-03-01T08:30:00Z, then a minute later.
    store.save(capture(1_772_353_800_000, "stopped_vehicle")).unwrap();
    store.save(capture(1_772_353_860_000, "person_restricted")).unwrap();

    let (status, _, v) = s.get("/api/cameras/cam-e/evidence").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["camera"], "cam-e");
    let list = v["evidence"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{v}");
    assert_eq!(list[0]["file"], "20260301T083100Z-person_restricted.jpg");
    assert_eq!(list[0]["alert"], "person_restricted");
    assert_eq!(list[0]["time"], "2026-03-01T08:31:00Z");
    assert_eq!(list[1]["alert"], "stopped_vehicle");

    let url = list[1]["url"].as_str().unwrap();
    assert_eq!(url, "/api/cameras/cam-e/evidence/20260301T083000Z-stopped_vehicle.jpg");
    let (status, ct, jpeg) = get_bytes(&s, url).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
    let (status, ct, side) = s.get(list[1]["sidecar_url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(side["alert"], "stopped_vehicle");
    assert_eq!(side["detail"], "stopped_vehicle here");
    assert_eq!(side["detections"][0]["track_id"], 3);

    // A camera without evidence lists none; unknown cameras and files are 404.
    let (status, _, v) = s.get("/api/cameras/cam-q/evidence").await;
    assert_eq!((status, v["evidence"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    for uri in ["/api/cameras/nope/evidence", "/api/cameras/cam-e/evidence/20260301T090000Z-queue.jpg"] {
        let (status, ct, v) = s.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {v}");
        assert!(ct.starts_with("application/problem+json"), "{uri}: {ct}");
    }
    // Another camera's file is not reachable through this one.
    let (status, _, _) = s.get("/api/cameras/cam-q/evidence/20260301T083000Z-stopped_vehicle.jpg").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Names that are not ours never become paths.
    std::fs::write(data.join("evidence/cam-e/notes.txt"), b"private").unwrap();
    std::fs::write(data.join("secret.json"), b"{}").unwrap();
    for bad in [
        "notes.txt",
        "..%2F..%2Fsecret.json",
        "..%2Fcam-q%2F20260301T083000Z-stopped_vehicle.jpg",
        "20260301T083000Z-stopped_vehicle.jpg%00",
        "20260301T083000Z-stopped_vehicle.JPG",
        "%2E%2E",
    ] {
        let uri = format!("/api/cameras/cam-e/evidence/{bad}");
        let (status, ct, v) = s.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert!(ct.starts_with("application/problem+json"), "{bad}: {ct}");
        assert_eq!(v["field"], "file", "{bad}: {v}");
    }
    // The listing shows our files only.
    let (_, _, v) = s.get("/api/cameras/cam-e/evidence").await;
    assert_eq!(v["evidence"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_evidence_routes_are_in_the_openapi_document() {
    let s = TestServer::start();
    let (_, _, doc) = s.get("/openapi.json").await;
    for path in ["/api/cameras/{id}/evidence", "/api/cameras/{id}/evidence/{file}"] {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} missing");
        assert_eq!(op["tags"][0], "cameras");
    }
}
