//! OsmAnd / Traccar Client payloads: query strings and JSON bodies as the apps send them,
//! bad coordinates, missing ids, seconds vs milliseconds, the device registry.
#![allow(clippy::unwrap_used)] // tests may unwrap

use twin_core::{EntityKind, PropertyValue, Timestamp};
use twin_ingest::osmand::{parse_json, parse_query, Device, DeviceRegistry, OsmandError, UnknownDevices, KNOTS_TO_MPS};

/// A request as the Traccar Client Android app sends it (speed in knots, battery in %).
const TRACCAR_QUERY: &str =
    "id=352093081284961&timestamp=1700000000&lat=16.0678&lon=108.2208&speed=10.5&bearing=87.3&altitude=12.0&accuracy=4.5&batt=76.0";

/// The JSON body of the newer Traccar Client (background-geolocation plugin format).
const TRACCAR_JSON: &str = r#"{
  "location": {
    "event": "motionchange",
    "is_moving": true,
    "uuid": "e2b3d2a2-6c1f-4b7e-9a1a-3c1b2a9f0d11",
    "timestamp": "2023-11-14T22:13:20.500Z",
    "odometer": 1523.4,
    "coords": {"latitude": 16.0544, "longitude": 108.2022, "accuracy": 6.1, "speed": 8.25,
               "speed_accuracy": 0.5, "heading": 271.5, "heading_accuracy": 10, "altitude": 7.3,
               "altitude_accuracy": 3.2},
    "activity": {"type": "in_vehicle", "confidence": 100},
    "battery": {"is_charging": false, "level": 0.82},
    "extras": {}
  },
  "device_id": "amb-07"
}"#;

fn registry() -> DeviceRegistry {
    DeviceRegistry::new(
        [
            Device {
                id: "amb-07".into(),
                kind: EntityKind::Ambulance,
                agency: Some("115 Đà Nẵng".into()),
                call_sign: Some("CC-07".into()),
            },
            Device {
                id: "352093081284961".into(),
                kind: EntityKind::FireTruck,
                agency: Some("PCCC Hải Châu".into()),
                call_sign: None,
            },
        ],
        UnknownDevices::Reject,
    )
}

#[test]
fn traccar_query_string() {
    let fix = parse_query(TRACCAR_QUERY).unwrap();
    assert_eq!(fix.device_id, "352093081284961");
    assert_eq!(fix.time, Some(Timestamp::from_millis(1_700_000_000_000)));
    let p = fix.position.unwrap();
    assert_eq!((p.lat, p.lon), (16.0678, 108.2208));
    assert!((fix.speed_mps.unwrap() - 10.5 * 1852.0 / 3600.0).abs() < 1e-12, "speed is in knots");
    assert_eq!(fix.heading, Some(87.3));
    assert_eq!(fix.altitude_m, Some(12.0));
    assert_eq!(fix.accuracy_m, Some(4.5));
    assert_eq!(fix.battery_percent, Some(76.0));

    let obs = registry().to_observation(&fix, Timestamp::from_millis(5), "osmand").unwrap();
    assert_eq!(obs.kind, EntityKind::FireTruck);
    assert_eq!(obs.external_id, "352093081284961");
    assert_eq!(obs.time, Timestamp::from_millis(1_700_000_000_000));
    assert_eq!(obs.properties.get("agency"), Some(&PropertyValue::Text("PCCC Hải Châu".into())));
    assert_eq!(obs.properties.get("battery_percent"), Some(&PropertyValue::Float(76.0)));
    obs.validate().unwrap();
}

#[test]
fn traccar_json_body() {
    let fixes = parse_json(TRACCAR_JSON.as_bytes()).unwrap();
    assert_eq!(fixes.len(), 1);
    let fix = &fixes[0];
    assert_eq!(fix.device_id, "amb-07");
    assert_eq!(fix.time, Some(Timestamp::from_millis(1_700_000_000_500)));
    assert_eq!(fix.speed_mps, Some(8.25), "JSON speed is already m/s");
    assert_eq!(fix.heading, Some(271.5));
    assert!((fix.battery_percent.unwrap() - 82.0).abs() < 1e-9);
    assert_eq!(fix.charging, Some(false));
    assert_eq!(fix.moving, Some(true));
    assert_eq!(fix.odometer_m, Some(1523.4));
    let obs = registry().to_observation(fix, Timestamp::from_millis(0), "osmand").unwrap();
    assert_eq!(obs.kind, EntityKind::Ambulance);
    assert_eq!(obs.properties.get("call_sign"), Some(&PropertyValue::Text("CC-07".into())));
}

#[test]
fn json_batches_and_unknown_speed() {
    let body = r#"{"device_id": 42, "location": [
        {"timestamp": 1700000000, "coords": {"latitude": 16.0, "longitude": 108.0, "speed": -1, "heading": -1}},
        {"timestamp": "1700000001000", "coords": {"latitude": 16.1, "longitude": 108.1}}]}"#;
    let fixes = parse_json(body.as_bytes()).unwrap();
    assert_eq!(fixes.len(), 2);
    assert_eq!(fixes[0].device_id, "42");
    assert_eq!(fixes[0].speed_mps, None);
    assert_eq!(fixes[0].heading, None);
    assert_eq!(fixes[1].time, Some(Timestamp::from_millis(1_700_000_001_000)));
}

#[test]
fn seconds_and_milliseconds_give_the_same_time() {
    let s = parse_query("id=a&lat=16&lon=108&timestamp=1700000000").unwrap();
    let ms = parse_query("id=a&lat=16&lon=108&timestamp=1700000000000").unwrap();
    let iso = parse_query("id=a&lat=16&lon=108&timestamp=2023-11-14T22%3A13%3A20Z").unwrap();
    let local = parse_query("id=a&lat=16&lon=108&timestamp=2023-11-15T05:13:20%2B07:00").unwrap();
    assert_eq!(s.time, ms.time);
    assert_eq!(s.time, iso.time);
    assert_eq!(s.time, local.time);
    let none = parse_query("id=a&lat=16&lon=108").unwrap();
    assert_eq!(none.time, None);
    let obs = registry().to_observation(&none, Timestamp::from_millis(77), "x");
    assert!(matches!(obs, Err(OsmandError::UnknownDevice(_))));
}

#[test]
fn bad_and_missing_fields() {
    let cases: &[(&str, OsmandError)] = &[
        ("lat=16&lon=108", OsmandError::Missing("id")),
        ("id=&lat=16&lon=108", OsmandError::Missing("id")),
        ("id=a&lon=108", OsmandError::Missing("lat")),
        ("id=a&lat=16", OsmandError::Missing("lon")),
        ("id=a&lat=95&lon=108", OsmandError::BadPosition { lat: 95.0, lon: 108.0 }),
        ("id=a&lat=16&lon=-181", OsmandError::BadPosition { lat: 16.0, lon: -181.0 }),
        ("id=a&lat=abc&lon=108", OsmandError::BadNumber { field: "lat", value: "abc".into() }),
        ("id=a&lat=NaN&lon=108", OsmandError::BadNumber { field: "lat", value: "NaN".into() }),
        ("id=a&lat=16&lon=108&timestamp=soon", OsmandError::BadTimestamp("soon".into())),
    ];
    for (q, expected) in cases {
        assert_eq!(&parse_query(q).unwrap_err(), expected, "{q}");
    }
    assert!(matches!(parse_query("id=%zz&lat=1&lon=1"), Err(OsmandError::Malformed(_))));
    assert!(matches!(parse_json(b"{"), Err(OsmandError::Malformed(_))));
    assert_eq!(parse_json(br#"{"location": {}}"#).unwrap_err(), OsmandError::Missing("device_id"));
    assert_eq!(
        parse_json(br#"{"device_id": "a", "location": {"coords": {"latitude": 1}}}"#).unwrap_err(),
        OsmandError::Missing("coords.longitude")
    );
}

#[test]
fn aliases_and_unknown_devices_accepted_by_choice() {
    let fix = parse_query("deviceid=x%201&location=16.05%2C108.2&heading=370&speed=1").unwrap();
    assert_eq!(fix.device_id, "x 1");
    assert_eq!(fix.heading, Some(10.0));
    assert!((fix.speed_mps.unwrap() - KNOTS_TO_MPS).abs() < 1e-12);
    let open = DeviceRegistry::new([], UnknownDevices::AcceptAs(EntityKind::PoliceUnit));
    let obs = open.to_observation(&fix, Timestamp::from_millis(9), "osmand").unwrap();
    assert_eq!(obs.kind, EntityKind::PoliceUnit);
    assert_eq!(obs.time, Timestamp::from_millis(9));
}

proptest::proptest! {
    #[test]
    fn random_queries_never_panic(q in "[a-z=&%0-9.+-]{0,80}") {
        if let Ok(fix) = parse_query(&q) {
            let open = DeviceRegistry::new([], UnknownDevices::AcceptAs(EntityKind::PoliceUnit));
            let obs = open.to_observation(&fix, Timestamp::from_millis(0), "p").unwrap();
            proptest::prop_assert!(obs.validate().is_ok());
        }
    }

    #[test]
    fn random_json_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = parse_json(&bytes);
    }
}
