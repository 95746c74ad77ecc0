//! Alerts raised outside the rule engine: numbered from the rule alerts' counter, kept in the same
//! ring, resolved against the model, and refused when invalid.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod store_common;

use proptest::prelude::*;
use store_common::*;
use twin_core::rules::{MAX_ALERT_DETAIL, MAX_ALERT_MESSAGE, MAX_ALERT_NAME};
use twin_core::store::LogRecord;
use twin_core::{
    AlertId, AlertSubject, EntityId, EntityKind, Error, Observation, Position, PropertyValue, RaiseAlert, RuleKind,
    Severity, Timestamp,
};

fn bus_at(lon: f64, lat: f64, t: i64) -> Observation {
    let mut o = Observation::new(EntityKind::Bus, "43B-001", Timestamp(T0 + t)).at(lon, lat);
    o.source = "test".into();
    o
}

fn feed_stale(t: i64) -> RaiseAlert {
    let subject = AlertSubject::Feed { name: "ais:tcp:4001".into(), kind: EntityKind::Vessel };
    let mut a = RaiseAlert::new(Timestamp(T0 + t), RuleKind::FeedStale, "feed_stale", Severity::Moderate, subject, "");
    a.message = "feed ais:tcp:4001 is stale: silent for 60 s".into();
    a.detail.insert("silent_s".into(), PropertyValue::Int(60));
    a
}

#[test]
fn rule_raised_rule_alerts_get_consecutive_ids_in_one_ring() {
    let mut twin = fresh_twin();
    // Outside the "centre" fence, then well inside it: a geofence_enter alert.
    twin.apply_batch(&[bus_at(108.10, 16.06, 0)]);
    let enter = twin.apply_batch(&[bus_at(108.22, 16.06, 1_000)]).alerts;
    let raised = twin.raise_alert(&feed_stale(2_000));
    let exit = twin.apply_batch(&[bus_at(108.10, 16.06, 3_000)]).alerts;
    assert!(raised.rejected.is_empty() && raised.changes.is_empty(), "{raised:?}");
    let kinds: Vec<_> = [&enter, &raised.alerts, &exit].iter().flat_map(|v| v.iter().map(|a| a.rule_kind)).collect();
    assert_eq!(kinds, [RuleKind::GeofenceEnter, RuleKind::FeedStale, RuleKind::GeofenceExit]);
    let ids: Vec<_> = [&enter, &raised.alerts, &exit].iter().flat_map(|v| v.iter().map(|a| a.id)).collect();
    assert_eq!(ids, [AlertId(0), AlertId(1), AlertId(2)]);
    // Twin::alerts lists every source, in id order, exactly as handed out.
    let ring: Vec<_> = twin.alerts().iter().cloned().collect();
    assert_eq!(ring, [enter, raised.alerts, exit].concat());
    twin.check_invariants().unwrap();

    let feed = &ring[1];
    assert_eq!((feed.entity, feed.entity_kind, feed.external_id.as_str()), (None, EntityKind::Vessel, "ais:tcp:4001"));
    assert_eq!(feed.rule, "feed_stale");
    assert_eq!(feed.detail.get("silent_s"), Some(&PropertyValue::Int(60)));
    assert_eq!(feed.position, None);
}

#[test]
fn subjects_resolve_against_the_model() {
    let mut twin = fresh_twin();
    twin.apply_batch(&[bus_at(108.10, 16.06, 0)]);
    let id = twin.id_of(EntityKind::Bus, "43B-001").unwrap();
    let key = |ext: &str| AlertSubject::Key { kind: EntityKind::Bus, external_id: ext.into() };
    let raise = |subject| {
        RaiseAlert::new(Timestamp(T0), RuleKind::CameraStoppedVehicle, "cam-1", Severity::Minor, subject, "m")
    };

    // By key, live: the entity's id, kind and position.
    let a = twin.raise_alert(&raise(key("43B-001"))).alerts.pop().unwrap();
    assert_eq!((a.entity, a.external_id.as_str()), (Some(id), "43B-001"));
    assert_eq!(a.position, Some(Position::new(108.10, 16.06)));
    // A position in the record wins over the entity's.
    let mut r = raise(AlertSubject::Entity(id));
    r.position = Some(Position::new(108.2, 16.0));
    let a = twin.raise_alert(&r).alerts.pop().unwrap();
    assert_eq!((a.entity, a.position), (Some(id), Some(Position::new(108.2, 16.0))));
    // By key, not live: no id, the key kept.
    let a = twin.raise_alert(&raise(key("43B-999"))).alerts.pop().unwrap();
    assert_eq!((a.entity, a.entity_kind, a.external_id.as_str(), a.position), (None, EntityKind::Bus, "43B-999", None));
    // By id, not live: refused, and no id is used up.
    let refused = twin.raise_alert(&raise(AlertSubject::Entity(EntityId(77))));
    assert!(refused.alerts.is_empty());
    assert!(matches!(refused.rejected[..], [(0, Error::InvalidAlert { field: "entity", .. })]));
    let next = twin.raise_alert(&raise(key("43B-001"))).alerts.pop().unwrap();
    assert_eq!(next.id, AlertId(3));
    assert_eq!(twin.alerts().len(), 4);
    twin.check_invariants().unwrap();
}

#[test]
fn invalid_raised_alerts_are_refused_at_every_limit() {
    let ok = feed_stale(0);
    let mut cases: Vec<(&str, RaiseAlert)> = Vec::new();
    let mut a = ok.clone();
    a.rule = String::new();
    cases.push(("rule", a));
    let mut a = ok.clone();
    a.rule = "r".repeat(MAX_ALERT_NAME + 1);
    cases.push(("rule", a));
    let mut a = ok.clone();
    a.subject = AlertSubject::Feed { name: String::new(), kind: EntityKind::Vessel };
    cases.push(("feed", a));
    let mut a = ok.clone();
    a.subject = AlertSubject::Key { kind: EntityKind::Bus, external_id: "x".repeat(MAX_ALERT_NAME + 1) };
    cases.push(("external_id", a));
    let mut a = ok.clone();
    a.message = "m".repeat(MAX_ALERT_MESSAGE + 1);
    cases.push(("message", a));
    let mut a = ok.clone();
    a.position = Some(Position::new(200.0, 0.0));
    cases.push(("position", a));
    let mut a = ok.clone();
    a.detail = (0..=MAX_ALERT_DETAIL).map(|i| (format!("k{i}"), PropertyValue::Int(0))).collect();
    cases.push(("detail", a));
    let mut a = ok.clone();
    a.detail.insert("speed".into(), PropertyValue::Float(f64::NAN));
    cases.push(("detail", a));
    let mut a = ok.clone();
    a.detail.insert("note".into(), PropertyValue::Text("t".repeat(MAX_ALERT_MESSAGE + 1)));
    cases.push(("detail", a));

    let mut twin = fresh_twin();
    for (field, alert) in &cases {
        let out = twin.raise_alert(alert);
        match &out.rejected[..] {
            [(0, Error::InvalidAlert { field: f, .. })] => assert_eq!(f, field),
            other => panic!("{field}: expected a refusal, got {other:?}"),
        }
        assert!(out.alerts.is_empty());
    }
    assert!(twin.alerts().is_empty());
    // At the limits exactly, accepted.
    let mut a = ok.clone();
    a.rule = "r".repeat(MAX_ALERT_NAME);
    a.message = "m".repeat(MAX_ALERT_MESSAGE);
    a.detail = (0..MAX_ALERT_DETAIL).map(|i| (format!("k{i}"), PropertyValue::Int(0))).collect();
    assert_eq!(twin.raise_alert(&a).alerts[0].id, AlertId(0));
}

#[test]
fn alert_json_keeps_its_shape() {
    let mut twin = fresh_twin();
    twin.apply_batch(&[bus_at(108.10, 16.06, 0)]);
    let rule_alert = twin.apply_batch(&[bus_at(108.22, 16.06, 1_000)]).alerts.pop().unwrap();
    let v = serde_json::to_value(&rule_alert).unwrap();
    // A rule alert serialises exactly as before: the same keys, the entity as a number.
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let want =
        ["entity", "entity_kind", "external_id", "id", "message", "position", "rule", "rule_kind", "severity", "time"];
    assert_eq!(keys, want);
    assert_eq!(v["entity"], serde_json::json!(0));
    assert_eq!(v["rule_kind"], "geofence_enter");
    // JSON written before `detail` existed still reads.
    let back: twin_core::Alert = serde_json::from_value(v).unwrap();
    assert_eq!(back, rule_alert);

    let raised = twin.raise_alert(&feed_stale(2_000)).alerts.pop().unwrap();
    let v = serde_json::to_value(&raised).unwrap();
    assert_eq!(v["rule_kind"], "feed_stale");
    assert_eq!(v["entity"], serde_json::Value::Null);
    assert_eq!(v["detail"]["silent_s"], 60);
    assert_eq!(serde_json::from_value::<twin_core::Alert>(v).unwrap(), raised);
    let names: Vec<_> = RuleKind::ALL.iter().map(|k| serde_json::to_value(k).unwrap()).collect();
    let want = [
        "geofence_enter",
        "geofence_exit",
        "threshold_above",
        "threshold_below",
        "stale",
        "feed_stale",
        "camera_queue",
        "camera_stopped_vehicle",
        "camera_restricted_zone",
        "fire_alarm",
    ];
    assert_eq!(names, want.map(serde_json::Value::from));
    assert!(RuleKind::ALL.iter().all(|k| k.as_str() == serde_json::to_value(k).unwrap()));
    assert_eq!(RuleKind::ALL.iter().filter(|k| k.is_raised()).count(), 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any interleaving of observations, ticks, removals, raised alerts and extension records: ids
    /// rise by one with every alert handed out, whatever raised it, and the model stays consistent.
    #[test]
    fn one_dense_id_sequence_for_every_source(seed in any::<u64>(), n in 1usize..120) {
        let mut twin = fresh_twin();
        let mut handed = Vec::new();
        for record in workload(seed, n) {
            let applied = twin.apply_record(&record);
            if !matches!(record, LogRecord::RaiseAlert { .. }) {
                prop_assert!(applied.alerts.iter().all(|a| !a.rule_kind.is_raised()));
            }
            if matches!(record, LogRecord::Extension { .. }) {
                prop_assert_eq!(&applied, &twin_core::Applied::default());
            }
            handed.extend(applied.alerts.into_iter().map(|a| a.id.0));
        }
        prop_assert_eq!(handed, (0..twin.alerts().len() as u64).collect::<Vec<_>>());
        twin.check_invariants().map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
