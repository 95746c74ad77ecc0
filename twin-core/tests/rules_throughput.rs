//! Throughput of rule evaluation with 10,000 geofences (ignored by default; prints figures, asserts
//! only on alert counts). Run:
//! `cargo test --release -p twin-core --test rules_throughput -- --ignored --nocapture`

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use std::time::Instant;

use geo::{MultiPolygon, Polygon};
use rules_support::*;
use twin_core::rules::{Geofence, RuleSet};
use twin_core::{EntityKind, Observation, Position, RuleEngine, Timestamp, Twin, TwinConfig};

const FENCES_PER_SIDE: usize = 100;
const SPACING_M: f64 = 300.0;
const ENTITIES: u64 = 100_000;
const ROUNDS: usize = 5;

/// A 64-gon of radius `r_m` around `c` (enough vertices that the segment index is used).
fn circle(c: Position, r_m: f64) -> MultiPolygon<f64> {
    let ring: Vec<(f64, f64)> = (0..64)
        .map(|i| {
            let a = i as f64 / 64.0 * std::f64::consts::TAU;
            let p = offset(c, r_m * a.cos(), r_m * a.sin());
            (p.lon, p.lat)
        })
        .collect();
    MultiPolygon::new(vec![Polygon::new(ring.into(), vec![])])
}

/// 10,000 circular fences of 100 m radius on a 300 m grid (a 30 km square over Da Nang).
fn fences() -> Vec<Geofence> {
    let sw = offset(ORIGIN, -15_000.0, -15_000.0);
    let mut v = Vec::with_capacity(FENCES_PER_SIDE * FENCES_PER_SIDE);
    for i in 0..FENCES_PER_SIDE {
        for j in 0..FENCES_PER_SIDE {
            let c = offset(sw, i as f64 * SPACING_M, j as f64 * SPACING_M);
            v.push(fence(&format!("zone-{i}-{j}"), &format!("Zone {i}/{j}"), circle(c, 100.0), 10.0));
        }
    }
    v
}

/// `ROUNDS` rounds of one observation per entity, each moving up to ±50 m from a random start.
fn observations() -> Vec<Vec<Observation>> {
    let mut rng = Rng::new(2026);
    let mut pos: Vec<Position> =
        (0..ENTITIES).map(|_| offset(ORIGIN, rng.signed_unit() * 15_000.0, rng.signed_unit() * 15_000.0)).collect();
    (0..ROUNDS)
        .map(|round| {
            pos.iter_mut()
                .enumerate()
                .map(|(i, p)| {
                    *p = offset(*p, rng.signed_unit() * 50.0, rng.signed_unit() * 50.0);
                    let t = Timestamp((round as i64 + 1) * 10_000 + i as i64 % 1000);
                    Observation::new(EntityKind::Bus, format!("bus-{i}"), t).at(p.lon, p.lat)
                })
                .collect()
        })
        .collect()
}

/// Applies every round in batches of 1,000; returns (observations per second, alerts).
fn ingest(mut twin: Twin, rounds: &[Vec<Observation>]) -> (f64, usize) {
    let start = Instant::now();
    let mut alerts = 0;
    let mut n = 0;
    for round in rounds {
        for batch in round.chunks(1000) {
            let applied = twin.apply_batch(batch);
            alerts += applied.alerts.len();
            n += batch.len();
        }
    }
    (n as f64 / start.elapsed().as_secs_f64(), alerts)
}

#[test]
#[ignore = "throughput figures; run with --release --ignored --nocapture"]
fn ingest_with_ten_thousand_geofences() {
    let fences = fences();
    let start = Instant::now();
    let rules = RuleSet { geofences: fences, ..RuleSet::default() };
    let engine = RuleEngine::new(rules.clone()).unwrap();
    println!("built {} fences in {:.0} ms", rules.geofences.len(), start.elapsed().as_secs_f64() * 1e3);
    let rounds = observations();

    // The engine alone: one on_update per observation, entity state built by hand.
    let mut engine = engine;
    let mut e = bus(0);
    let mut out = Vec::new();
    let start = Instant::now();
    for round in &rounds {
        for (i, obs) in round.iter().enumerate() {
            e.id = twin_core::EntityId(i as u64);
            e.position = obs.position;
            engine.on_update(&e, obs.time, &mut out);
        }
    }
    let n = (ENTITIES as usize * ROUNDS) as f64;
    println!(
        "RuleEngine::on_update, 10k fences: {:.0} updates/s, {} alerts",
        n / start.elapsed().as_secs_f64(),
        out.len()
    );
    assert!(!out.is_empty(), "the workload must cross fences");

    let (without, none) = ingest(Twin::new(TwinConfig::default()), &rounds);
    let (with, alerts) = ingest(Twin::with_rules(TwinConfig::default(), rules).unwrap(), &rounds);
    assert_eq!(none, 0);
    assert_eq!(alerts, out.len(), "the model raises what the engine raises");
    println!("Twin::apply_batch without rules: {without:.0} obs/s");
    println!("Twin::apply_batch with 10k geofences: {with:.0} obs/s ({:.2}× slower)", without / with);
}
