//! A real GPX track replayed through the ingest queue, moved to Da Nang and sped up.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use common::TestServer;
use twin_core::{EntityKind, Position, Timestamp};
use twin_feeds::gpx_replay::{drive, run, GpxReplaySection};
use twin_ingest::gpx::{parse, replay, ReplayOptions};

const GPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../twin-ingest/tests/data/gps");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_point_arrives_and_the_vehicle_ends_where_the_track_ends() {
    let s = TestServer::start();
    let gpx = parse(&std::fs::read(format!("{GPS}/around-visnjan-with-car.gpx")).unwrap()).unwrap();
    let points: Vec<_> = gpx.points().copied().collect();
    let start_at = Position::new(108.2208, 16.0678);
    let opts = ReplayOptions {
        kind: EntityKind::Ambulance,
        external_id: "amb-gpx".into(),
        source: "gpx:amb-gpx".into(),
        start_time: Timestamp::from_millis(1_795_420_800_000),
        // 514 recorded seconds in about half a second.
        speedup: 1000.0,
        start_at: Some(start_at),
        ..ReplayOptions::default()
    };
    let steps = replay(&points, &opts);
    let accepted = drive(&steps, &s.state.ingest, &s.state.feeds.registry, "gpx:amb-gpx").await.unwrap();
    assert_eq!(accepted, points.len());
    let twin = s.state.twin.read();
    let e = twin.id_of(EntityKind::Ambulance, "amb-gpx").and_then(|id| twin.get(id)).unwrap();
    let (first, last) = (points[0], points[points.len() - 1]);
    let p = e.position.unwrap();
    assert!((p.lon - (start_at.lon + last.lon - first.lon)).abs() < 1e-9);
    assert!((p.lat - (start_at.lat + last.lat - first.lat)).abs() < 1e-9);
    assert_eq!(e.last_seen, steps.last().unwrap().observation.time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_replay_runs_once_without_repeat() {
    let s = TestServer::start();
    let section = GpxReplaySection {
        gpx: "around-visnjan-with-car.gpx".into(),
        kind: EntityKind::PoliceUnit,
        id: "pu-1".into(),
        speedup: 2000.0,
        start_at: None,
        repeat: false,
    };
    run(section, GPS.into(), s.state.ingest.clone(), s.state.feeds.registry.clone()).await.unwrap();
    assert!(s.state.twin.read().id_of(EntityKind::PoliceUnit, "pu-1").is_some());

    let missing = GpxReplaySection {
        gpx: "nope.gpx".into(),
        kind: EntityKind::PoliceUnit,
        id: "x".into(),
        speedup: 1.0,
        start_at: None,
        repeat: false,
    };
    assert!(run(missing, GPS.into(), s.state.ingest.clone(), s.state.feeds.registry.clone()).await.is_err());
}
