//! Invalid rules are refused with an error naming the rule.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use geo::{polygon, MultiPolygon};
use rules_support::*;
use twin_core::rules::{Comparison, RuleSet, Severity, StaleRule, ThresholdRule};
use twin_core::{EntityKind, Error, KindFilter, RuleEngine};

fn threshold(id: &str) -> ThresholdRule {
    ThresholdRule {
        id: id.into(),
        name: "PM2.5 high".into(),
        kinds: KindFilter::only(EntityKind::AirQualityStation),
        property: "pm25".into(),
        comparison: Comparison::Above,
        threshold: 55.4,
        duration_ms: 3_600_000,
        severity: Severity::Moderate,
    }
}

fn stale(id: &str) -> StaleRule {
    StaleRule { id: id.into(), kinds: KindFilter::ALL, factor: 3.0, min_silence_ms: 60_000, severity: Severity::Minor }
}

fn valid() -> RuleSet {
    RuleSet {
        geofences: vec![fence("port", "Tiên Sa port", square_area(ORIGIN, 400.0), 15.0)],
        thresholds: vec![threshold("pm25-high")],
        stale: vec![stale("silent")],
    }
}

/// The rule id named by the error, if it is an `InvalidRule`.
fn refused(rules: RuleSet) -> Option<String> {
    match RuleEngine::new(rules) {
        Err(Error::InvalidRule { rule, reason }) => {
            assert!(!reason.is_empty());
            Some(rule)
        }
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => None,
    }
}

#[test]
fn a_valid_set_is_accepted() {
    assert_eq!(refused(valid()), None);
    assert_eq!(refused(RuleSet::default()), None);
}

#[test]
fn duplicate_and_empty_ids_are_refused() {
    let mut r = valid();
    r.stale[0].id = "port".into();
    assert_eq!(refused(r), Some("port".into()));
    let mut r = valid();
    r.thresholds.push(threshold("pm25-high"));
    assert_eq!(refused(r), Some("pm25-high".into()));
    let mut r = valid();
    r.thresholds[0].id = " ".into();
    assert_eq!(refused(r), Some(" ".into()));
}

#[test]
fn bad_geofences_are_refused() {
    let mut r = valid();
    r.geofences[0].area = MultiPolygon::new(vec![]);
    assert_eq!(refused(r), Some("port".into()));

    // A bow tie crosses itself.
    let mut r = valid();
    r.geofences[0].area = MultiPolygon::new(vec![polygon![
        (x: 108.20, y: 16.05), (x: 108.21, y: 16.06), (x: 108.21, y: 16.05), (x: 108.20, y: 16.06)
    ]]);
    assert_eq!(refused(r), Some("port".into()));

    // Two points do not make an area.
    let mut r = valid();
    r.geofences[0].area = MultiPolygon::new(vec![polygon![(x: 108.20, y: 16.05), (x: 108.21, y: 16.06)]]);
    assert_eq!(refused(r), Some("port".into()));

    // Projected metres instead of degrees.
    let mut r = valid();
    r.geofences[0].area = MultiPolygon::new(vec![
        polygon![(x: 0.0, y: 0.0), (x: 500.0, y: 0.0), (x: 500.0, y: 500.0), (x: 0.0, y: 500.0)],
    ]);
    assert_eq!(refused(r), Some("port".into()));

    let mut r = valid();
    r.geofences[0].area = MultiPolygon::new(vec![polygon![
        (x: 108.20, y: 16.05), (x: f64::NAN, y: 16.05), (x: 108.21, y: 16.06)
    ]]);
    assert_eq!(refused(r), Some("port".into()));

    for h in [-1.0, f64::NAN, f64::INFINITY] {
        let mut r = valid();
        r.geofences[0].hysteresis_m = h;
        assert_eq!(refused(r), Some("port".into()), "hysteresis {h}");
    }
}

#[test]
fn bad_thresholds_are_refused() {
    for t in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut r = valid();
        r.thresholds[0].threshold = t;
        assert_eq!(refused(r), Some("pm25-high".into()), "threshold {t}");
    }
    let mut r = valid();
    r.thresholds[0].duration_ms = -1;
    assert_eq!(refused(r), Some("pm25-high".into()));
    let mut r = valid();
    r.thresholds[0].property = String::new();
    assert_eq!(refused(r), Some("pm25-high".into()));
}

#[test]
fn bad_stale_rules_are_refused() {
    for f in [1.0, 0.5, -2.0, f64::NAN, f64::INFINITY] {
        let mut r = valid();
        r.stale[0].factor = f;
        assert_eq!(refused(r), Some("silent".into()), "factor {f}");
    }
    let mut r = valid();
    r.stale[0].min_silence_ms = -5;
    assert_eq!(refused(r), Some("silent".into()));
    let mut r = valid();
    r.stale[0].factor = 1.0001;
    assert_eq!(refused(r), None);
}

#[test]
fn the_error_message_names_the_rule() {
    let mut r = valid();
    r.stale[0].factor = 1.0;
    let msg = RuleEngine::new(r).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("`silent`") && msg.contains("factor"), "{msg}");
}
