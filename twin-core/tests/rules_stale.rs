//! Stale rule: silent longer than max(factor × usual interval, minimum silence).

#![allow(clippy::unwrap_used)] // tests may unwrap

mod rules_support;

use rules_support::*;
use twin_core::rules::{RuleKind, RuleSet, Severity, StaleRule};
use twin_core::{Alert, Entity, EntityKind, KindFilter, RuleEngine, Timestamp};

fn stale_rule(factor: f64, min_silence_ms: i64) -> StaleRule {
    StaleRule {
        id: "bus-silent".into(),
        kinds: KindFilter::only(EntityKind::Bus),
        factor,
        min_silence_ms,
        severity: Severity::Minor,
    }
}

fn engine(rule: StaleRule) -> RuleEngine {
    RuleEngine::new(RuleSet { stale: vec![rule], ..RuleSet::default() }).unwrap()
}

/// A bus last seen at `t` that usually reports every `interval_ms`.
fn bus_seen(t: i64, interval_ms: f64) -> Entity {
    let mut e = moved(bus(3), ORIGIN, t);
    e.mean_interval_ms = interval_ms;
    e
}

fn tick(engine: &mut RuleEngine, entities: &[Entity], t: i64) -> Vec<Alert> {
    let mut out = Vec::new();
    engine.on_tick(Timestamp(t), entities.iter(), &mut out);
    out
}

#[test]
fn silent_longer_than_factor_times_interval_alerts_once_per_silence() {
    let mut e = engine(stale_rule(3.0, 0));
    let b = bus_seen(100_000, 10_000.0);
    let mut out = Vec::new();
    e.on_update(&b, Timestamp(100_000), &mut out);
    assert!(tick(&mut e, std::slice::from_ref(&b), 130_000).is_empty(), "exactly 3× is not longer than 3×");
    let alerts = tick(&mut e, std::slice::from_ref(&b), 131_000);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!((a.rule.as_str(), a.rule_kind, a.time), ("bus-silent", RuleKind::Stale, Timestamp(131_000)));
    assert_eq!(a.message, "bus 43B-003 silent for 31 s (usually reports every 10 s; rule bus-silent)");
    assert_eq!(a.position, Some(ORIGIN));
    assert!(tick(&mut e, std::slice::from_ref(&b), 500_000).is_empty(), "same silence");
    assert_eq!(e.state().stale, vec![(b.id, "bus-silent".to_owned())]);

    // Seen again: the silence is over, and a new one alerts again.
    let b2 = bus_seen(600_000, 10_000.0);
    e.on_update(&b2, Timestamp(600_000), &mut out);
    assert!(out.is_empty());
    assert_eq!(e.state().stale, vec![]);
    assert!(tick(&mut e, std::slice::from_ref(&b2), 620_000).is_empty());
    assert_eq!(tick(&mut e, &[b2], 640_000).len(), 1);
}

#[test]
fn minimum_silence_wins_over_a_short_interval() {
    let mut e = engine(stale_rule(3.0, 120_000));
    let b = bus_seen(0, 1_000.0);
    assert!(tick(&mut e, std::slice::from_ref(&b), 60_000).is_empty());
    assert!(tick(&mut e, std::slice::from_ref(&b), 120_000).is_empty());
    assert_eq!(tick(&mut e, &[b], 120_001).len(), 1);
}

#[test]
fn no_interval_yet_means_never_stale_and_other_kinds_are_ignored() {
    let mut e = engine(stale_rule(2.0, 0));
    let fresh = bus_seen(0, 0.0);
    assert!(tick(&mut e, &[fresh], 10_000_000).is_empty());
    let mut boat = entity(8, EntityKind::FishingBoat, "QNg-90123");
    boat.mean_interval_ms = 1000.0;
    assert!(tick(&mut e, &[boat], 10_000_000).is_empty());
}

#[test]
fn each_entity_is_judged_on_its_own_interval() {
    let mut e = engine(stale_rule(5.0, 0));
    let mut fast = bus_seen(0, 1_000.0);
    fast.id = twin_core::EntityId(1);
    let mut slow = bus_seen(0, 60_000.0);
    slow.id = twin_core::EntityId(2);
    let alerts = tick(&mut e, &[fast.clone(), slow.clone()], 10_000);
    assert_eq!(alerts.iter().map(|a| a.entity).collect::<Vec<_>>(), vec![Some(fast.id)]);
    let alerts = tick(&mut e, &[fast, slow.clone()], 300_001);
    assert_eq!(alerts.iter().map(|a| a.entity).collect::<Vec<_>>(), vec![Some(slow.id)]);
    e.on_remove(slow.id);
    assert_eq!(e.state().stale.len(), 1);
}
