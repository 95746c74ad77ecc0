//! The GTFS-realtime poller against a real HTTP server on loopback serving the real Bull Runner
//! feed with an ETag and Last-Modified.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::TestServer;
use twin_core::EntityKind;
use twin_feeds::gtfs_rt_poll::{agent, poll_once, PollConfig, PollError, PollOutcome, PollStats, Validators};

const FEED: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../twin-ingest/tests/data/gtfs/usf_bullrunner_vehicle_positions.pb");
const ETAG: &str = "\"bullrunner-1\"";
const LAST_MODIFIED: &str = "Wed, 13 Sep 2017 14:52:55 GMT";

#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    conditional: AtomicUsize,
}

/// Serves the feed at `/vp.pb` (304 when the client's ETag matches), 500 at `/broken`, garbage at `/junk`.
async fn feed_server(seen: Arc<Seen>) -> String {
    let bytes = std::fs::read(FEED).unwrap();
    let s2 = seen.clone();
    let app = Router::new()
        .route(
            "/vp.pb",
            get(move |headers: HeaderMap| {
                let bytes = bytes.clone();
                let seen = s2.clone();
                async move {
                    seen.requests.fetch_add(1, Ordering::SeqCst);
                    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(ETAG) {
                        seen.conditional.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    ([(header::ETAG, ETAG), (header::LAST_MODIFIED, LAST_MODIFIED)], bytes).into_response()
                }
            }),
        )
        .route("/broken", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/junk", get(|| async { b"<html>not a feed</html>".to_vec() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_conditionally_and_ingests_the_buses() {
    let seen = Arc::new(Seen::default());
    let base = feed_server(seen.clone()).await;
    let s = TestServer::start();
    let cfg = PollConfig { url: format!("{base}/vp.pb"), ..PollConfig::default() };
    let agent = agent(&cfg);
    let stats = PollStats::default();
    let mut v = Validators::default();

    let first = poll_once(&agent, &cfg, &mut v, &s.state.ingest, &stats).await.unwrap();
    assert_eq!(first, PollOutcome::Ingested { accepted: 10, skipped: 0 });
    assert_eq!(v.etag.as_deref(), Some(ETAG));
    assert_eq!(v.last_modified.as_deref(), Some(LAST_MODIFIED));
    {
        let twin = s.state.twin.read();
        let bus = twin.id_of(EntityKind::Bus, "1536").and_then(|id| twin.get(id)).unwrap();
        let p = bus.position.unwrap();
        assert!((p.lat - 28.066221).abs() < 1e-9 && (p.lon + 82.417694).abs() < 1e-9);
        assert_eq!(bus.source, "gtfs-rt");
        assert_eq!(twin.entities().filter(|e| e.kind == EntityKind::Bus).count(), 10);
    }

    let second = poll_once(&agent, &cfg, &mut v, &s.state.ingest, &stats).await.unwrap();
    assert_eq!(second, PollOutcome::NotModified);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    assert_eq!(seen.conditional.load(Ordering::SeqCst), 1, "the second request carried If-None-Match");
    assert_eq!(stats.fetched.load(Ordering::SeqCst), 1);
    assert_eq!(stats.not_modified.load(Ordering::SeqCst), 1);
    assert_eq!(stats.observations.load(Ordering::SeqCst), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_garbage_are_errors() {
    let base = feed_server(Arc::new(Seen::default())).await;
    let s = TestServer::start();
    let stats = PollStats::default();
    let mut v = Validators::default();
    let cfg = PollConfig { url: format!("{base}/broken"), ..PollConfig::default() };
    let err = poll_once(&agent(&cfg), &cfg, &mut v, &s.state.ingest, &stats).await.unwrap_err();
    assert!(matches!(err, PollError::Status(500)), "{err}");
    let cfg = PollConfig { url: format!("{base}/junk"), ..PollConfig::default() };
    let err = poll_once(&agent(&cfg), &cfg, &mut v, &s.state.ingest, &stats).await.unwrap_err();
    assert!(matches!(err, PollError::Decode(_)), "{err}");
    // Nothing listens on port 9 of loopback (discard): a connection error.
    let cfg = PollConfig { url: "http://127.0.0.1:9/vp.pb".into(), ..PollConfig::default() };
    let err = poll_once(&agent(&cfg), &cfg, &mut v, &s.state.ingest, &stats).await.unwrap_err();
    assert!(matches!(err, PollError::Http(_)), "{err}");
    assert_eq!(v, Validators::default(), "no validators remembered from failures");
    assert_eq!(s.state.twin.read().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_poller_keeps_the_buses_fresh() {
    let seen = Arc::new(Seen::default());
    let base = feed_server(seen.clone()).await;
    let s = TestServer::start();
    let cfg = PollConfig {
        url: format!("{base}/vp.pb"),
        interval: std::time::Duration::from_millis(20),
        ..PollConfig::default()
    };
    let health = s.state.feeds.registry.clone();
    let (task, stats) = twin_feeds::gtfs_rt_poll::spawn(cfg, s.state.ingest.clone(), Some(health.clone()));
    // Wait (bounded) for a few polls; the assertion is on what happened, not on how fast.
    for _ in 0..500 {
        if stats.not_modified.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
    assert_eq!(stats.fetched.load(Ordering::SeqCst), 1, "the unchanged feed is fetched once");
    assert!(stats.not_modified.load(Ordering::SeqCst) >= 2);
    assert_eq!(stats.errors.load(Ordering::SeqCst), 0);
    assert_eq!(s.state.twin.read().len(), 10);
    let status = health.snapshot(i64::MAX / 2);
    let feed = status.iter().find(|f| f.source == "gtfs-rt").unwrap();
    assert_eq!(feed.accepted, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_feeds_are_counted_as_rejected() {
    let base = feed_server(Arc::new(Seen::default())).await;
    let s = TestServer::start();
    let cfg = PollConfig {
        url: format!("{base}/junk"),
        source: "gtfs-rt:junk".into(),
        interval: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(20),
        ..PollConfig::default()
    };
    let health = s.state.feeds.registry.clone();
    let (task, stats) = twin_feeds::gtfs_rt_poll::spawn(cfg, s.state.ingest.clone(), Some(health.clone()));
    for _ in 0..500 {
        if stats.errors.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
    let status = health.snapshot(i64::MAX / 2);
    let feed = status.iter().find(|f| f.source == "gtfs-rt:junk").unwrap();
    assert!(feed.rejected.get("malformed_protobuf").copied().unwrap_or(0) >= 2, "{feed:?}");
    assert_eq!(feed.accepted, 0);
}
