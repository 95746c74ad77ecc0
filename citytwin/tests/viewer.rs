//! Viewer support routes: glyph PBFs for labels (Vietnamese ranges), the history window for replay,
//! the viewer config, and the pages.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use prost::Message;
use tower::ServiceExt;
use twin_core::EntityKind;
use twin_tiles::fonts::proto::Glyphs;

async fn bytes(s: &TestServer, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let res = s.app().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, ct, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn glyph_ranges_cover_vietnamese() {
    let s = TestServer::start();
    let (status, ct, body) = bytes(&s, "/fonts/Noto%20Sans%20Regular/7680-7935.pbf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/x-protobuf"));
    let glyphs = Glyphs::decode(body.as_slice()).unwrap();
    assert_eq!(glyphs.stacks.len(), 1);
    assert_eq!(glyphs.stacks[0].name, "Noto Sans Regular");
    assert_eq!(glyphs.stacks[0].range, "7680-7935");
    // ệ (U+1EC7), as in "Việt Nam".
    let e = glyphs.stacks[0].glyphs.iter().find(|g| g.id == 0x1EC7).expect("glyph U+1EC7");
    assert!(e.width > 0 && e.height > e.width && e.advance > 0);
    assert_eq!(e.bitmap.as_ref().unwrap().len(), ((e.width + 6) * (e.height + 6)) as usize);
    // Its dot below and circumflex reach below the baseline and above the x-height.
    assert!(e.top > -24 && e.top < 0, "top {}", e.top);

    // Combining marks and Latin-1 ranges; MapLibre's comma-joined stacks use the first font we have.
    for range in ["0-255", "768-1023"] {
        let (status, _, body) = bytes(&s, &format!("/fonts/Open%20Sans,Noto%20Sans%20Bold/{range}.pbf")).await;
        assert_eq!(status, StatusCode::OK, "{range}");
        let g = Glyphs::decode(body.as_slice()).unwrap();
        assert_eq!(g.stacks[0].name, "Noto Sans Bold");
        assert!(!g.stacks[0].glyphs.is_empty());
    }
    assert_eq!(bytes(&s, "/fonts/Arial/0-255.pbf").await.0, StatusCode::NOT_FOUND);
    assert_eq!(bytes(&s, "/fonts/Noto%20Sans%20Regular/1-256.pbf").await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn history_returns_tracks_in_the_window() {
    let s = TestServer::start();
    let now = chrono::Utc::now().timestamp_millis();
    s.submit(vec![
        obs(EntityKind::Bus, "b1", now - 60_000, 108.20, 16.05),
        obs(EntityKind::Bus, "b1", now - 30_000, 108.21, 16.06),
        obs(EntityKind::Vessel, "v1", now - 20_000, 108.25, 16.12),
    ])
    .await;
    let (status, _, v) = s.get("/api/history?kind=bus").await;
    assert_eq!(status, StatusCode::OK);
    let list = v["entities"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kind"], "bus");
    assert_eq!(list[0]["t"].as_array().unwrap().len(), 2);
    assert_eq!(list[0]["c"][1][0].as_f64(), Some(108.21));

    let from = chrono::DateTime::from_timestamp_millis(now - 45_000).unwrap().to_rfc3339();
    let (_, _, v) = s.get(&format!("/api/history?from={}", from.replace('+', "%2B"))).await;
    let total: usize = v["entities"].as_array().unwrap().iter().map(|e| e["t"].as_array().unwrap().len()).sum();
    assert_eq!(total, 2, "{v}");
    assert_eq!(s.get("/api/history?from=yesterday").await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn viewer_config_and_pages() {
    let s = TestServer::start();
    let (status, _, v) = s.get("/api/viewer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["terrain"], false);
    assert_eq!(v["bbox"].as_array().unwrap().len(), 4);
    let (status, ct, body) = bytes(&s, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.unwrap().starts_with("text/html"));
    assert!(String::from_utf8(body).unwrap().contains("<body"));
    assert_eq!(bytes(&s, "/assets/no-such-file.js").await.0, StatusCode::NOT_FOUND);
}
