//! Rules driven through the model: observations and ticks in, numbered alerts out, and a snapshot
//! taken mid-episode resumes with the same future alerts.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use rules_support::*;
use twin_core::rules::{Comparison, RuleKind, RuleSet, Severity, StaleRule, ThresholdRule};
use twin_core::{Alert, EntityKind, KindFilter, Observation, PropertyValue, Timestamp, Twin, TwinConfig};

fn rules() -> RuleSet {
    let mut basin = fence("port-basin", "Tiên Sa port basin", square_area(ORIGIN, 400.0), 30.0);
    basin.kinds = KindFilter::only(EntityKind::Vessel).with(EntityKind::FishingBoat);
    RuleSet {
        geofences: vec![basin],
        thresholds: vec![ThresholdRule {
            id: "flood-depth".into(),
            name: "Street flooding deeper than 0.3 m".into(),
            kinds: KindFilter::only(EntityKind::FloodSensor),
            property: "water_depth_m".into(),
            comparison: Comparison::Above,
            threshold: 0.3,
            duration_ms: 60_000,
            severity: Severity::Severe,
        }],
        stale: vec![StaleRule {
            id: "vehicle-silent".into(),
            kinds: KindFilter::only(EntityKind::Vessel),
            factor: 5.0,
            min_silence_ms: 30_000,
            severity: Severity::Minor,
        }],
    }
}

enum Step {
    Obs(Observation),
    Tick(i64),
}

/// A vessel sailing into the basin every 2 s then going quiet; a flood sensor rising every 10 s.
fn steps() -> Vec<Step> {
    let mut v = Vec::new();
    for s in 0..200i64 {
        let t = s * 1000;
        if s % 2 == 0 && s < 120 {
            let p = offset(ORIGIN, -1000.0 + s as f64 * 10.0, 0.0);
            v.push(Step::Obs(Observation::new(EntityKind::Vessel, "574001234", Timestamp(t)).at(p.lon, p.lat)));
        }
        if s % 10 == 0 {
            let mut o = Observation::new(EntityKind::FloodSensor, "FS-HC-03", Timestamp(t)).at(108.215, 16.05);
            let depth = if s < 50 { 0.1 } else { 0.45 };
            o.properties.insert("water_depth_m".into(), PropertyValue::Float(depth));
            v.push(Step::Obs(o));
        }
        if s % 5 == 4 {
            v.push(Step::Tick(t));
        }
    }
    v
}

fn run(twin: &mut Twin, steps: &[Step]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for step in steps {
        let applied = match step {
            Step::Obs(o) => twin.apply_batch(std::slice::from_ref(o)),
            Step::Tick(t) => twin.tick(Timestamp(*t)),
        };
        assert!(applied.rejected.is_empty());
        alerts.extend(applied.alerts);
    }
    alerts
}

#[test]
fn the_model_raises_numbered_alerts_from_every_rule() {
    let mut twin = Twin::with_rules(TwinConfig::default(), rules()).unwrap();
    let alerts = run(&mut twin, &steps());
    let seen: Vec<(&str, RuleKind)> = alerts.iter().map(|a| (a.rule.as_str(), a.rule_kind)).collect();
    assert_eq!(
        seen,
        vec![
            ("port-basin", RuleKind::GeofenceEnter),
            ("flood-depth", RuleKind::ThresholdAbove),
            ("vehicle-silent", RuleKind::Stale),
        ]
    );
    let ids: Vec<u64> = alerts.iter().map(|a| a.id.0).collect();
    assert_eq!(ids, vec![0, 1, 2]);
    assert_eq!(alerts[0].message, "vessel 574001234 entered Tiên Sa port basin");
    // The sensor rose at 50 s and the rule needs 60 s: its observation at 110 s completes them.
    assert_eq!(alerts[1].time, Timestamp(110_000));
    assert_eq!(twin.alerts().len(), 3);
}

#[test]
fn a_snapshot_mid_episode_resumes_with_the_same_alerts() {
    let steps = steps();
    for cut in (1..8).map(|i| i * steps.len() / 8) {
        let mut whole = Twin::with_rules(TwinConfig::default(), rules()).unwrap();
        run(&mut whole, &steps[..cut]);
        let mut resumed = Twin::from_parts(TwinConfig::default(), rules(), whole.to_parts()).unwrap();
        assert_eq!(run(&mut resumed, &steps[cut..]), run(&mut whole, &steps[cut..]), "cut at step {cut}");
    }
}
