//! Rule state: snapshot round-trip, resuming mid-episode, replacing rules.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use rules_support::*;
use twin_core::rules::{Comparison, RuleSet, RuleState, Severity, StaleRule, ThresholdRule};
use twin_core::{Alert, Entity, EntityId, EntityKind, KindFilter, PropertyValue, RuleEngine, Timestamp};

fn rules() -> RuleSet {
    RuleSet {
        geofences: vec![
            fence("zone-a", "Zone A", square_area(ORIGIN, 300.0), 10.0),
            fence("zone-b", "Zone B", square_area(offset(ORIGIN, 400.0, 0.0), 150.0), 10.0),
        ],
        thresholds: vec![ThresholdRule {
            id: "water-high".into(),
            name: "High water".into(),
            kinds: KindFilter::only(EntityKind::FloodSensor),
            property: "level".into(),
            comparison: Comparison::Above,
            threshold: 30.0,
            duration_ms: 25_000,
            severity: Severity::Severe,
        }],
        stale: vec![StaleRule {
            id: "silent".into(),
            kinds: KindFilter::ALL,
            factor: 4.0,
            min_silence_ms: 0,
            severity: Severity::Minor,
        }],
    }
}

#[derive(Clone)]
enum Event {
    Update(Box<Entity>),
    Tick(i64),
}

/// A bus wandering east across both zones with GPS noise and a radio gap, a flood sensor rising
/// and falling, ticks every 3 s.
fn scenario() -> Vec<Event> {
    let mut rng = Rng::new(42);
    let mut bus_e = bus(1);
    let mut sensor = entity(2, EntityKind::FloodSensor, "FS-9");
    let mut events = Vec::new();
    for s in 0..240i64 {
        let t = s * 1000;
        let in_gap = (100..130).contains(&s);
        if !in_gap {
            let x = -400.0 + s as f64 * 5.0 + rng.signed_unit() * 5.0;
            bus_e = moved(bus_e, offset(ORIGIN, x, rng.signed_unit() * 5.0), t);
            bus_e.mean_interval_ms = if s == 0 { 0.0 } else { 1000.0 };
            events.push(Event::Update(Box::new(bus_e.clone())));
        }
        if s % 10 == 0 {
            let level = 20.0 + 15.0 * ((s as f64) / 40.0).sin() + rng.signed_unit();
            sensor = with_value(sensor, "level", PropertyValue::Float(level), t);
            sensor.mean_interval_ms = if s == 0 { 0.0 } else { 10_000.0 };
            events.push(Event::Update(Box::new(sensor.clone())));
        }
        if s % 3 == 2 {
            events.push(Event::Tick(t + 500));
        }
    }
    events
}

/// Runs `events` on `engine`, keeping the latest state of each entity for ticks.
fn run(engine: &mut RuleEngine, latest: &mut Vec<Entity>, events: &[Event]) -> Vec<Alert> {
    let mut out = Vec::new();
    for ev in events {
        match ev {
            Event::Update(e) => {
                match latest.iter_mut().find(|x| x.id == e.id) {
                    Some(slot) => *slot = (**e).clone(),
                    None => latest.push((**e).clone()),
                }
                latest.sort_by_key(|x| x.id);
                engine.on_update(e, e.last_seen, &mut out);
            }
            Event::Tick(t) => engine.on_tick(Timestamp(*t), latest.iter(), &mut out),
        }
    }
    out
}

#[test]
fn scenario_exercises_every_rule() {
    let mut engine = RuleEngine::new(rules()).unwrap();
    let alerts = run(&mut engine, &mut Vec::new(), &scenario());
    for rule in ["zone-a", "zone-b", "water-high", "silent"] {
        assert!(alerts.iter().any(|a| a.rule == rule), "no alert from {rule}");
    }
}

#[test]
fn resuming_from_state_at_any_point_gives_the_same_future_alerts() {
    let events = scenario();
    let mut whole = RuleEngine::new(rules()).unwrap();
    let mut latest = Vec::new();
    let mut prefix_alerts = Vec::new();
    let mut states = Vec::new();
    // Record the state after every event while running the uninterrupted engine.
    for ev in &events {
        prefix_alerts.push(run(&mut whole, &mut latest, std::slice::from_ref(ev)));
        states.push((whole.state(), latest.clone()));
    }
    for k in (0..events.len()).step_by(7) {
        let (state, mut latest) = states[k].clone();
        let mut resumed = RuleEngine::with_state(rules(), state).unwrap();
        let got = run(&mut resumed, &mut latest, &events[k + 1..]);
        let expected: Vec<Alert> = prefix_alerts[k + 1..].concat();
        assert_eq!(got, expected, "resumed after event {k}");
    }
}

#[test]
fn state_round_trips_exactly() {
    let events = scenario();
    let mut engine = RuleEngine::new(rules()).unwrap();
    let mut latest = Vec::new();
    let mut nonempty = 0;
    for chunk in events.chunks(13) {
        run(&mut engine, &mut latest, chunk);
        let state = engine.state();
        let again = RuleEngine::with_state(rules(), state.clone()).unwrap().state();
        assert_eq!(again, state);
        if !state.inside.is_empty() && !state.holding.is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty > 0, "the round trip must be tried on non-trivial state");
}

#[test]
fn state_is_sorted_and_drops_unknown_rules() {
    let state = RuleState {
        inside: vec![(EntityId(9), "zone-b".into()), (EntityId(3), "gone".into()), (EntityId(3), "zone-a".into())],
        holding: vec![
            (EntityId(2), "water-high".into(), Timestamp(5), false),
            (EntityId(2), "gone".into(), Timestamp(1), true),
        ],
        stale: vec![(EntityId(4), "silent".into()), (EntityId(1), "silent".into())],
    };
    let engine = RuleEngine::with_state(rules(), state).unwrap();
    let s = engine.state();
    assert_eq!(s.inside, vec![(EntityId(3), "zone-a".to_owned()), (EntityId(9), "zone-b".to_owned())]);
    assert_eq!(s.holding, vec![(EntityId(2), "water-high".to_owned(), Timestamp(5), false)]);
    assert_eq!(s.stale, vec![(EntityId(1), "silent".to_owned()), (EntityId(4), "silent".to_owned())]);
}

#[test]
fn set_rules_keeps_state_of_surviving_ids_and_rejects_bad_rules_without_change() {
    let mut engine = RuleEngine::new(rules()).unwrap();
    let mut out = Vec::new();
    engine.on_update(&moved(bus(1), ORIGIN, 0), Timestamp(0), &mut out);
    assert_eq!(engine.state().inside, vec![(EntityId(1), "zone-a".to_owned())]);

    // Reorder the fences and drop the threshold: zone-a's state survives the reindexing.
    let mut next = rules();
    next.geofences.reverse();
    next.thresholds.clear();
    engine.set_rules(next.clone()).unwrap();
    assert_eq!(engine.state().inside, vec![(EntityId(1), "zone-a".to_owned())]);
    out.clear();
    engine.on_update(&moved(bus(1), offset(ORIGIN, 5000.0, 0.0), 1000), Timestamp(1000), &mut out);
    assert_eq!(out.len(), 1, "exit from the surviving fence");
    assert_eq!(out[0].rule, "zone-a");

    let mut bad = next.clone();
    bad.stale[0].factor = 0.5;
    assert!(engine.set_rules(bad).is_err());
    assert_eq!(engine.rules(), &next);
}

#[test]
fn state_of_rules_that_no_longer_apply_never_fires() {
    let mut engine = RuleEngine::new(rules()).unwrap();
    let mut out = Vec::new();
    let sensor = with_value(entity(2, EntityKind::FloodSensor, "FS-9"), "level", PropertyValue::Float(40.0), 0);
    engine.on_update(&sensor, Timestamp(0), &mut out);
    let bus_in = moved(bus(1), ORIGIN, 0);
    engine.on_update(&bus_in, Timestamp(0), &mut out);
    assert_eq!(out.len(), 1, "bus entered zone-a");
    assert_eq!(engine.state().holding.len(), 1);

    // Same ids, but the threshold now watches rain gauges and zone-a only vessels.
    let mut next = rules();
    next.thresholds[0].kinds = KindFilter::only(EntityKind::RainGauge);
    next.geofences[0].kinds = KindFilter::only(EntityKind::Vessel);
    engine.set_rules(next).unwrap();
    out.clear();
    engine.on_tick(Timestamp(60_000), [&bus_in, &sensor].into_iter(), &mut out);
    engine.on_update(&moved(bus(1), offset(ORIGIN, 5000.0, 0.0), 1000), Timestamp(1000), &mut out);
    assert_eq!(out, vec![]);
    assert_eq!(engine.state().holding, vec![]);
    assert_eq!(engine.state().inside, vec![]);
}
