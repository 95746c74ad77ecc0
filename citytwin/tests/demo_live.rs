#![allow(clippy::unwrap_used)] // tests may unwrap

//! The demo wired to a real server core (durable log, writer, model) in a temporary directory.

use std::sync::Arc;
use std::time::Duration;

use twin_core::{EntityKind, Position};
use twin_layers::ReferenceLayers;

use axum::extract::FromRef;
use citytwin::boot::{start, ServerOptions};
use citytwin::config::LoadedConfig;
use citytwin::state::AppState;
use twin_demo::transport::Transports;
use twin_demo::{gtfs_rt, run, run_with, DemoContext};
use twin_feeds::connectors::{self, device_registry};
use twin_runtime::Core;

fn positions(state: &AppState) -> std::collections::HashMap<String, Position> {
    let twin = state.twin.read();
    twin.entities().filter_map(|e| e.position.map(|p| (format!("{}/{}", e.kind, e.external_id), p))).collect()
}

/// The shipped Đà Nẵng config, its reference layers and an empty data folder.
fn danang() -> (LoadedConfig, Arc<ReferenceLayers>, tempfile::TempDir) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/danang.toml");
    let cfg = LoadedConfig::load(&path).unwrap();
    let layers = Arc::new(ReferenceLayers::load(&cfg.raw.layers, &cfg.base_dir).unwrap());
    (cfg, layers, tempfile::tempdir().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_the_model_with_moving_entities_inside_the_city() {
    let (cfg, layers, dir) = danang();
    let mut opts = ServerOptions::new(dir.path());
    opts.city_bbox = cfg.bbox;
    opts.runtime.rules = cfg.rules.clone();
    let running = start(opts, layers.clone()).unwrap();
    let state = running.state.clone();
    let ctx = DemoContext { ingest: state.ingest.clone(), layers, base_dir: cfg.base_dir.clone(), city_bbox: cfg.bbox };
    run(cfg.raw.demo.clone(), ctx).await;

    // Wait (bounded) until every feed has reported at least once.
    let mut first = positions(&state);
    for _ in 0..300 {
        if first.len() >= 90 && state.twin.read().counts().get(EntityKind::AirQualityStation) >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        first = positions(&state);
    }
    let counts = state.twin.read().counts();
    assert!(first.len() >= 90, "only {} entities: {counts:?}", first.len());
    for (kind, min) in [
        (EntityKind::Bus, 20),
        (EntityKind::Ambulance, 5),
        (EntityKind::FireTruck, 3),
        (EntityKind::FloodSensor, 20),
        (EntityKind::RainGauge, 5),
        (EntityKind::AirQualityStation, 10),
    ] {
        assert!(counts.get(kind) >= min, "{kind}: {}", counts.get(kind));
    }
    assert!(counts.get(EntityKind::Vessel) + counts.get(EntityKind::FishingBoat) >= 30);
    assert!(first.values().all(|p| cfg.bbox.contains(*p)));

    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = positions(&state);
    let moved = first.iter().filter(|(k, p)| later.get(*k).is_some_and(|q| q != *p)).count();
    // Buses and vessels (90 in the shipped config) always move; sensors never do; emergency units
    // may be standing by.
    assert!(moved >= 90, "only {moved} entities moved in 5 s");
    tokio::task::spawn_blocking(move || running.shutdown()).await.unwrap();
}

/// The demo through its real protocols against a real HTTP listener: buses published as
/// GTFS-realtime and polled back, emergency units as OsmAnd requests checked against the
/// `[[devices]]` registry, the real GTFS-realtime capture replayed as its own labelled source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_feeds_reach_the_model_through_gtfs_rt_and_osmand() {
    use twin_core::PropertyValue;

    let (cfg, layers, dir) = danang();
    let mut opts = ServerOptions::new(dir.path());
    opts.city_bbox = cfg.bbox;
    opts.devices = Arc::new(device_registry(&cfg.raw.devices, &cfg.raw.trackers).unwrap());
    let running = start(opts, layers.clone()).unwrap();
    let state = running.state.clone();
    let core = Core::from_ref(&state);
    let _tasks = connectors::start(&core, &state.feeds, cfg.raw.gtfs.as_ref(), &cfg.raw.gpx_replay, &cfg.base_dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = citytwin::app::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut demo = cfg.raw.demo.clone();
    // Sensors and vessels are not under test here.
    (demo.flood_sensors, demo.rain_gauges, demo.air_quality_stations, demo.vessels, demo.fishing_boats) =
        (0, 0, 0, 0, 0);
    demo.ais_replay = None;
    // The trackers report as a device account granted the OsmAnd source.
    let users_path = dir.path().join(twin_auth::service::USERS_FILE);
    let mut users = twin_auth::UserStore::load(&users_path).unwrap();
    let secret = users
        .add_client("demo-trackers", twin_auth::Role::Device, None, vec!["osmand".into()], &mut rand::rngs::OsRng)
        .unwrap();
    users.save(&users_path).unwrap();
    state.auth.access.reload_if_changed().unwrap();
    let login = twin_feeds::mqtt::Credentials { username: "demo-trackers".into(), password: secret };
    let transports = Transports { ais_health: Some(state.feeds.registry.clone()), ..Default::default() }
        .over_http(addr, &state.feeds)
        .tracker_login(login);
    let ctx = DemoContext { ingest: state.ingest.clone(), layers, base_dir: cfg.base_dir.clone(), city_bbox: cfg.bbox };
    run_with(demo.clone(), ctx, transports).await;

    let count = |kind: EntityKind, source: &str| {
        state.twin.read().entities().filter(|e| e.kind == kind && e.source == source).count()
    };
    let replay = gtfs_rt::REPLAY_SOURCE;
    for _ in 0..600 {
        if count(EntityKind::Bus, gtfs_rt::BUS_SOURCE) >= demo.buses
            && count(EntityKind::Ambulance, "osmand") >= demo.ambulances
            && count(EntityKind::FireTruck, "osmand") >= demo.fire_trucks
            && count(EntityKind::Bus, replay) >= 10
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(EntityKind::Bus, gtfs_rt::BUS_SOURCE), demo.buses);
    assert_eq!(count(EntityKind::Ambulance, "osmand"), demo.ambulances);
    assert_eq!(count(EntityKind::FireTruck, "osmand"), demo.fire_trucks);
    assert_eq!(count(EntityKind::Bus, replay), 10, "the Bull Runner capture has 10 vehicles");
    {
        let twin = state.twin.read();
        let text =
            |e: &twin_core::Entity, k: &str| e.properties.get(k).and_then(PropertyValue::as_str).map(str::to_owned);
        for e in twin.entities() {
            let simulated = e.properties.get("simulated") == Some(&PropertyValue::Bool(true));
            match e.source.as_str() {
                "osmand" => {
                    assert!(simulated, "{e:?}");
                    assert!(matches!(e.status.as_deref(), Some("available" | "en_route" | "on_scene")), "{e:?}");
                    assert!(text(e, "agency").is_some() && text(e, "task").is_some() && text(e, "base").is_some());
                    assert_eq!(text(e, "call_sign").as_deref(), Some(e.external_id.as_str()));
                }
                s if s == gtfs_rt::BUS_SOURCE => {
                    assert!(simulated && text(e, "route_id").is_some_and(|r| r.starts_with("DN")), "{e:?}");
                    assert!(e.position.is_some_and(|p| cfg.bbox.contains(p)));
                }
                s if s == replay => {
                    assert!(!simulated && text(e, "replay_of").is_some(), "{e:?}");
                    // At its real location (Tampa, FL), not moved to Đà Nẵng.
                    let p = e.position.unwrap();
                    assert!((-82.5..-82.3).contains(&p.lon) && (27.9..28.2).contains(&p.lat), "{p:?}");
                }
                _ => {}
            }
        }
    }
    let feeds = state.feeds.snapshot();
    let feed = |s: &str| feeds.iter().find(|f| f.source == s).unwrap_or_else(|| panic!("{s} not in {feeds:?}")).clone();
    let bus_feed = feed(gtfs_rt::BUS_SOURCE);
    assert_eq!((bus_feed.protocol.as_str(), bus_feed.connected), ("gtfs-rt", Some(true)));
    assert!(bus_feed.accepted >= demo.buses as u64 && bus_feed.rejected_total == 0, "{bus_feed:?}");
    let trackers = feed("http:/ingest/osmand");
    assert!(trackers.accepted >= (demo.ambulances + demo.fire_trucks) as u64, "{trackers:?}");
    assert_eq!(trackers.rejected_total, 0, "every demo unit is a registered device: {trackers:?}");
    assert!(feed(replay).accepted >= 10);
    tokio::task::spawn_blocking(move || running.shutdown()).await.unwrap();
}
