//! OsmAnd extra parameters: kept as typed attributes (as Traccar keeps them), `status` as the
//! entity's status, bounded in number and size, never overriding the registry.
#![allow(clippy::unwrap_used)] // tests may unwrap

use twin_core::{EntityKind, PropertyValue, Timestamp};
use twin_ingest::osmand::{parse_query, Device, DeviceRegistry, UnknownDevices, MAX_ATTRIBUTES};

fn registry() -> DeviceRegistry {
    DeviceRegistry::new(
        [Device {
            id: "115-01".into(),
            kind: EntityKind::Ambulance,
            agency: Some("Cấp cứu 115".into()),
            call_sign: Some("115-01".into()),
        }],
        UnknownDevices::Reject,
    )
}

#[test]
fn extra_parameters_become_typed_attributes_and_status() {
    // What the demo's trackers send: percent-encoded UTF-8 text, booleans, numbers.
    let q = "id=115-01&lat=16.05&lon=108.21&timestamp=1700000000123&status=en_route&task=incident\
             &base=B%E1%BB%87nh+vi%E1%BB%87n+C17&base_assumed=false&simulated=true&hdop=0.9&sat=7";
    let fix = parse_query(q).unwrap();
    assert_eq!(fix.time, Some(Timestamp::from_millis(1_700_000_000_123)), "milliseconds stay milliseconds");
    let get = |k: &str| fix.attributes.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("status"), Some(PropertyValue::Text("en_route".into())));
    assert_eq!(get("base"), Some(PropertyValue::Text("Bệnh viện C17".into())));
    assert_eq!(get("base_assumed"), Some(PropertyValue::Bool(false)));
    assert_eq!(get("simulated"), Some(PropertyValue::Bool(true)));
    assert_eq!(get("hdop"), Some(PropertyValue::Float(0.9)));
    assert_eq!(get("sat"), Some(PropertyValue::Int(7)));
    // The protocol's own parameters are not attributes.
    assert!(get("lat").is_none() && get("id").is_none() && get("timestamp").is_none());

    let obs = registry().to_observation(&fix, Timestamp::from_millis(0), "osmand").unwrap();
    assert_eq!(obs.status.as_deref(), Some("en_route"));
    assert!(!obs.properties.contains_key("status"));
    assert_eq!(obs.properties.get("task"), Some(&PropertyValue::Text("incident".into())));
    assert_eq!(obs.properties.get("simulated"), Some(&PropertyValue::Bool(true)));
    assert_eq!(obs.properties.get("base"), Some(&PropertyValue::Text("Bệnh viện C17".into())));
}

#[test]
fn the_registry_and_protocol_fields_win_over_attributes() {
    let fix = parse_query("id=115-01&lat=16&lon=108&agency=forged&call_sign=X&altitude_m=99&altitude=5").unwrap();
    let obs = registry().to_observation(&fix, Timestamp::from_millis(0), "osmand").unwrap();
    assert_eq!(obs.properties.get("agency"), Some(&PropertyValue::Text("Cấp cứu 115".into())));
    assert_eq!(obs.properties.get("call_sign"), Some(&PropertyValue::Text("115-01".into())));
    assert_eq!(obs.properties.get("altitude_m"), Some(&PropertyValue::Float(5.0)));
}

#[test]
fn attributes_are_bounded_and_odd_names_ignored() {
    let mut q = String::from("id=115-01&lat=16&lon=108");
    for i in 0..40 {
        q.push_str(&format!("&extra{i}={i}"));
    }
    // Names outside [A-Za-z0-9_], overlong names and values are not kept.
    q.push_str("&bad%20name=1&na.me=2&");
    q.push_str(&format!("{}=1&long={}", "n".repeat(33), "v".repeat(257)));
    let fix = parse_query(&q).unwrap();
    assert_eq!(fix.attributes.len(), MAX_ATTRIBUTES);
    assert!(fix.attributes.iter().all(|(k, _)| k.starts_with("extra")), "{:?}", fix.attributes);

    let fix = parse_query("id=a&lat=1&lon=2&bad%20name=1&na.me=2&long=short&dup=1&dup=2").unwrap();
    let names: Vec<&str> = fix.attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["long", "dup"], "the first of a repeated parameter wins");
    assert_eq!(fix.attributes[1].1, PropertyValue::Int(1));
}

#[test]
fn malformed_escapes_in_attributes_are_errors() {
    let err = parse_query("id=a&lat=1&lon=2&note=%E1%BB").unwrap_err();
    assert_eq!(err.reason(), "malformed");
    let err = parse_query("id=a&lat=1&lon=2&note=%zz").unwrap_err();
    assert_eq!(err.reason(), "malformed");
}
