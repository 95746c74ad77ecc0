//! The demo wired to a real server core (durable log, writer, model) in a temporary directory.

use std::sync::Arc;
use std::time::Duration;

use twin_core::{EntityKind, Position};
use twin_layers::ReferenceLayers;

use super::{run, DemoContext};
use crate::boot::{start, ServerOptions};
use crate::config::LoadedConfig;

fn positions(state: &crate::state::AppState) -> std::collections::HashMap<String, Position> {
    let twin = state.twin.read();
    twin.entities().filter_map(|e| e.position.map(|p| (format!("{}/{}", e.kind, e.external_id), p))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_the_model_with_moving_entities_inside_the_city() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/danang.toml");
    let cfg = LoadedConfig::load(&path).unwrap();
    let layers = Arc::new(ReferenceLayers::load(&cfg.raw.layers, &cfg.base_dir).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::new(dir.path());
    opts.city_bbox = cfg.bbox;
    opts.rules = cfg.rules.clone();
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
