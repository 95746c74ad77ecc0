//! Geofence enter/exit, hysteresis against GPS jitter, kind filters and many fences.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use rules_support::*;
use twin_core::rules::{RuleKind, RuleSet};
use twin_core::{Alert, EntityKind, KindFilter, RuleEngine};

fn engine_with(fences: Vec<twin_core::rules::Geofence>) -> RuleEngine {
    RuleEngine::new(RuleSet { geofences: fences, ..RuleSet::default() }).unwrap()
}

/// Feeds positions (metres east of the fence's west edge, on its middle row) one per second.
fn walk(engine: &mut RuleEngine, east_of_edge_m: impl IntoIterator<Item = f64>, t0: i64) -> Vec<Alert> {
    let edge = offset(ORIGIN, -500.0, 0.0);
    let mut out = Vec::new();
    let mut e = bus(1);
    for (i, x) in east_of_edge_m.into_iter().enumerate() {
        let t = t0 + i as i64 * 1000;
        e = moved(e, offset(edge, x, 0.0), t);
        engine.on_update(&e, twin_core::Timestamp(t), &mut out);
    }
    out
}

fn kinds(alerts: &[Alert]) -> Vec<RuleKind> {
    alerts.iter().map(|a| a.rule_kind).collect()
}

#[test]
fn enter_and_exit_raise_one_alert_each_with_readable_message() {
    let mut engine = engine_with(vec![fence("flood-hc", "Flood zone Hải Châu", square_area(ORIGIN, 500.0), 10.0)]);
    let alerts = walk(&mut engine, [-200.0, -50.0, 50.0, 200.0, 300.0, 50.0, -50.0, -200.0], 0);
    assert_eq!(kinds(&alerts), vec![RuleKind::GeofenceEnter, RuleKind::GeofenceExit]);
    let enter = &alerts[0];
    assert_eq!(enter.message, "bus 43B-001 entered Flood zone Hải Châu");
    assert_eq!(enter.rule, "flood-hc");
    assert_eq!(enter.external_id, "43B-001");
    assert_eq!(enter.time.as_millis(), 2000);
    assert_eq!(enter.position, Some(offset(offset(ORIGIN, -500.0, 0.0), 50.0, 0.0)));
    assert_eq!(alerts[1].message, "bus 43B-001 left Flood zone Hải Châu");
    assert_eq!(alerts[1].time.as_millis(), 6000);
    assert_eq!(engine.state().inside, vec![]);
}

#[test]
fn jitter_across_the_edge_does_not_flap() {
    let mut rng = Rng::new(0xDA_4A46);
    let mut x = 0.0f64;
    let jitter: Vec<f64> = (0..5000)
        .map(|_| {
            x = (x + rng.signed_unit() * 2.0).clamp(-5.0, 5.0);
            x
        })
        .collect();
    let crossings = jitter.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    assert!(crossings > 50, "the walk must really cross the edge ({crossings} crossings)");

    // Starting well inside, then jittering on the edge: stays inside, no alert.
    let mut engine = engine_with(vec![fence("f", "Fence", square_area(ORIGIN, 500.0), 10.0)]);
    let alerts = walk(&mut engine, std::iter::once(30.0).chain(jitter.iter().copied()), 0);
    assert_eq!(kinds(&alerts), vec![RuleKind::GeofenceEnter]);
    assert_eq!(engine.state().inside.len(), 1);

    // Starting outside: stays outside.
    let mut engine = engine_with(vec![fence("f", "Fence", square_area(ORIGIN, 500.0), 10.0)]);
    let alerts = walk(&mut engine, std::iter::once(-30.0).chain(jitter.iter().copied()), 0);
    assert_eq!(alerts, vec![]);

    // Without hysteresis the same walk flaps on every crossing: the band is what prevents it.
    let mut engine = engine_with(vec![fence("f", "Fence", square_area(ORIGIN, 500.0), 0.0)]);
    let alerts = walk(&mut engine, jitter.iter().copied(), 0);
    assert!(alerts.len() >= crossings, "{} alerts for {crossings} crossings", alerts.len());
}

#[test]
fn a_real_crossing_with_jitter_gives_exactly_one_enter_and_one_exit() {
    let mut rng = Rng::new(7);
    // 200 m outside to 200 m inside and back, 1 m per step, ±5 m of GPS noise on every fix.
    let track: Vec<f64> = (-200..=200).chain((-200..200).rev()).map(|x| x as f64 + rng.signed_unit() * 5.0).collect();
    let mut engine = engine_with(vec![fence("f", "Fence", square_area(ORIGIN, 500.0), 10.0)]);
    let alerts = walk(&mut engine, track.iter().copied(), 0);
    assert_eq!(kinds(&alerts), vec![RuleKind::GeofenceEnter, RuleKind::GeofenceExit]);
    // The enter happens once the fix is ≥ 10 m inside, i.e. within the true path's 5..15 m.
    let enter_step = (alerts[0].time.as_millis() / 1000) as usize;
    let true_x = enter_step as f64 - 200.0;
    assert!((5.0..=15.0).contains(&true_x), "entered at true x = {true_x}");
}

#[test]
fn first_sight_inside_enters_only_by_the_margin() {
    let area = square_area(ORIGIN, 500.0);
    let mut engine = engine_with(vec![fence("f", "Fence", area.clone(), 10.0)]);
    // First fix 5 m inside: in the band, so not inside yet.
    assert_eq!(walk(&mut engine, [5.0], 0), vec![]);
    assert_eq!(engine.state().inside, vec![]);

    let mut quiet = fence("f", "Fence", area, 10.0);
    quiet.alert_on_enter = false;
    let mut engine = engine_with(vec![quiet]);
    assert_eq!(walk(&mut engine, [20.0], 0), vec![]);
    assert_eq!(engine.state().inside.len(), 1, "inside without an enter alert");
    assert_eq!(kinds(&walk(&mut engine, [-20.0], 1000)), vec![RuleKind::GeofenceExit]);
}

#[test]
fn kind_filter_and_missing_position_are_respected() {
    let mut f = fence("f", "Fence", square_area(ORIGIN, 500.0), 10.0);
    f.kinds = KindFilter::only(EntityKind::Ambulance);
    let mut engine = engine_with(vec![f]);
    let mut out = Vec::new();
    engine.on_update(&moved(bus(1), ORIGIN, 0), twin_core::Timestamp(0), &mut out);
    let amb = moved(entity(2, EntityKind::Ambulance, "AMB-1"), ORIGIN, 0);
    engine.on_update(&amb, twin_core::Timestamp(0), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].message, "ambulance AMB-1 entered Fence");
    // An update without a position keeps the state.
    let mut blind = amb.clone();
    blind.position = None;
    engine.on_update(&blind, twin_core::Timestamp(1000), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(engine.state().inside.len(), 1);
    engine.on_remove(amb.id);
    assert_eq!(engine.state().inside, vec![]);
}

#[test]
fn leaving_far_in_one_jump_exits_and_overlapping_fences_fire_in_order() {
    let mut engine = engine_with(vec![
        fence("big", "Big", square_area(ORIGIN, 2000.0), 10.0),
        fence("small", "Small", square_area(ORIGIN, 100.0), 10.0),
    ]);
    let mut out = Vec::new();
    engine.on_update(&moved(bus(1), ORIGIN, 0), twin_core::Timestamp(0), &mut out);
    let rules: Vec<&str> = out.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(rules, ["big", "small"]);
    out.clear();
    // 50 km away: far outside every fence's search box, still both exits.
    engine.on_update(&moved(bus(1), offset(ORIGIN, 50_000.0, 0.0), 1000), twin_core::Timestamp(1000), &mut out);
    assert_eq!(kinds(&out), vec![RuleKind::GeofenceExit, RuleKind::GeofenceExit]);
}

#[test]
fn many_fences_match_a_brute_force_check() {
    use geo::Contains;
    // A 40 × 40 grid of 100 m squares 300 m apart, hysteresis 0 so geo's containment is the oracle.
    let mut fences = Vec::new();
    for i in 0..40 {
        for j in 0..40 {
            let c = offset(ORIGIN, i as f64 * 300.0, j as f64 * 300.0);
            fences.push(fence(&format!("g{i}-{j}"), "Cell", square_area(c, 50.0), 0.0));
        }
    }
    let mut engine = engine_with(fences.clone());
    let mut rng = Rng::new(99);
    let mut out = Vec::new();
    for n in 0..3000u64 {
        let p = offset(ORIGIN, (rng.signed_unit() + 1.0) * 6000.0, (rng.signed_unit() + 1.0) * 6000.0);
        let e = moved(bus(n % 7), p, n as i64);
        engine.on_update(&e, twin_core::Timestamp(n as i64), &mut out);
        let expected: Vec<String> =
            fences.iter().filter(|f| f.area.contains(&geo::Point::from(p))).map(|f| f.id.clone()).collect();
        let got: Vec<String> =
            engine.state().inside.into_iter().filter(|(id, _)| *id == e.id).map(|(_, f)| f).collect();
        let mut expected = expected;
        expected.sort();
        assert_eq!(got, expected, "at {p:?}");
    }
}
