//! Threshold rules: held for a duration (via updates and via ticks), reset, zero duration.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use rules_support::*;
use twin_core::rules::{Comparison, RuleKind, RuleSet, Severity, ThresholdRule};
use twin_core::{Alert, Entity, EntityKind, KindFilter, PropertyValue, RuleEngine, Timestamp};

const MIN: i64 = 60_000;

fn high_water(duration_ms: i64) -> ThresholdRule {
    ThresholdRule {
        id: "water-high".into(),
        name: "High water".into(),
        kinds: KindFilter::only(EntityKind::FloodSensor),
        property: "water_level_cm".into(),
        comparison: Comparison::Above,
        threshold: 30.0,
        duration_ms,
        severity: Severity::Severe,
    }
}

fn engine(rules: Vec<ThresholdRule>) -> RuleEngine {
    RuleEngine::new(RuleSet { thresholds: rules, ..RuleSet::default() }).unwrap()
}

fn sensor() -> Entity {
    entity(5, EntityKind::FloodSensor, "FS-01")
}

/// Applies (time, level) observations to the sensor, returning every alert.
fn feed(engine: &mut RuleEngine, sensor: &mut Entity, points: &[(i64, f64)]) -> Vec<Alert> {
    let mut out = Vec::new();
    for &(t, v) in points {
        *sensor = with_value(sensor.clone(), "water_level_cm", PropertyValue::Float(v), t);
        engine.on_update(sensor, Timestamp(t), &mut out);
    }
    out
}

fn tick(engine: &mut RuleEngine, sensor: &Entity, t: i64) -> Vec<Alert> {
    let mut out = Vec::new();
    engine.on_tick(Timestamp(t), std::iter::once(sensor), &mut out);
    out
}

#[test]
fn held_for_the_duration_via_updates_alerts_once() {
    let mut e = engine(vec![high_water(10 * MIN)]);
    let mut s = sensor();
    let alerts =
        feed(&mut e, &mut s, &[(0, 35.0), (5 * MIN, 40.0), (9 * MIN, 41.0), (10 * MIN, 42.5), (15 * MIN, 45.0)]);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.time, Timestamp(10 * MIN));
    assert_eq!(a.rule, "water-high");
    assert_eq!(a.rule_kind, RuleKind::ThresholdAbove);
    assert_eq!(a.severity, Severity::Severe);
    assert_eq!(a.message, "flood sensor FS-01: water_level_cm 42.5 above 30 for 10 min (High water)");
    assert_eq!(e.state().holding, vec![(s.id, "water-high".to_owned(), Timestamp(0), true)]);
}

#[test]
fn held_for_the_duration_via_ticks_alerts_once() {
    let mut e = engine(vec![high_water(10 * MIN)]);
    let mut s = sensor();
    assert!(feed(&mut e, &mut s, &[(0, 35.0)]).is_empty());
    assert!(tick(&mut e, &s, 5 * MIN).is_empty());
    assert!(tick(&mut e, &s, 10 * MIN - 1).is_empty());
    let alerts = tick(&mut e, &s, 10 * MIN + 500);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].time, Timestamp(10 * MIN + 500));
    assert!(tick(&mut e, &s, 20 * MIN).is_empty(), "one alert per episode");
    assert!(feed(&mut e, &mut s, &[(21 * MIN, 50.0)]).is_empty());
}

#[test]
fn dropping_below_resets_and_the_next_episode_alerts_again() {
    let mut e = engine(vec![high_water(10 * MIN)]);
    let mut s = sensor();
    // Above for 8 min, back to normal, above again: the clock restarts.
    assert!(feed(&mut e, &mut s, &[(0, 35.0), (8 * MIN, 29.0), (9 * MIN, 31.0)]).is_empty());
    assert!(tick(&mut e, &s, 18 * MIN).is_empty());
    assert_eq!(tick(&mut e, &s, 19 * MIN).len(), 1);
    // End the episode; a later one alerts again.
    assert!(feed(&mut e, &mut s, &[(20 * MIN, 10.0)]).is_empty());
    assert_eq!(e.state().holding, vec![]);
    assert!(feed(&mut e, &mut s, &[(30 * MIN, 33.0)]).is_empty());
    assert_eq!(feed(&mut e, &mut s, &[(40 * MIN, 34.0)]).len(), 1);
}

#[test]
fn equal_to_the_threshold_does_not_hold() {
    let mut e = engine(vec![high_water(0)]);
    let mut s = sensor();
    assert!(feed(&mut e, &mut s, &[(0, 30.0)]).is_empty());
    assert_eq!(feed(&mut e, &mut s, &[(1000, 30.01)]).len(), 1);
}

#[test]
fn zero_duration_alerts_on_the_first_holding_observation() {
    let mut e = engine(vec![high_water(0)]);
    let mut s = sensor();
    let alerts = feed(&mut e, &mut s, &[(0, 12.0), (1000, 31.0), (2000, 32.0)]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].time, Timestamp(1000));
    assert_eq!(alerts[0].message, "flood sensor FS-01: water_level_cm 31 above 30 (High water)");
}

#[test]
fn below_rules_read_integer_properties_and_missing_values_reset() {
    let rule = ThresholdRule {
        id: "pm-low-battery".into(),
        name: String::new(),
        kinds: KindFilter::only(EntityKind::AirQualityStation),
        property: "battery_pct".into(),
        comparison: Comparison::Below,
        threshold: 15.0,
        duration_ms: 0,
        severity: Severity::Minor,
    };
    let mut e = engine(vec![rule]);
    let mut out = Vec::new();
    let st = with_value(entity(9, EntityKind::AirQualityStation, "AQ-7"), "battery_pct", PropertyValue::Int(12), 0);
    e.on_update(&st, Timestamp(0), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule_kind, RuleKind::ThresholdBelow);
    assert_eq!(out[0].message, "air quality station AQ-7: battery_pct 12 below 15 (pm-low-battery)");
    // The property disappears or turns into text: the episode ends.
    let mut gone = st.clone();
    gone.properties.insert("battery_pct".into(), PropertyValue::Text("n/a".into()));
    e.on_update(&gone, Timestamp(1000), &mut out);
    assert_eq!(e.state().holding, vec![]);
    e.on_update(&st, Timestamp(2000), &mut out);
    assert_eq!(out.len(), 2);
    // Other kinds are not looked at.
    let flood = with_value(sensor(), "battery_pct", PropertyValue::Int(1), 0);
    e.on_update(&flood, Timestamp(3000), &mut out);
    assert_eq!(out.len(), 2);
}

#[test]
fn removing_an_entity_forgets_its_episode() {
    let mut e = engine(vec![high_water(10 * MIN)]);
    let mut s = sensor();
    feed(&mut e, &mut s, &[(0, 35.0)]);
    e.on_remove(s.id);
    assert_eq!(e.state().holding, vec![]);
    assert!(tick(&mut e, &s, 20 * MIN).is_empty());
}
