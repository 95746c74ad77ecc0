//! MQTT sensor payloads: topics, units, time forms, registry positions, VN_AQI and malformed input.
#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;
use twin_core::{EntityKind, Position, PropertyValue, Timestamp};
use twin_ingest::mqtt::{
    decode, vn_aqi, MqttError, SensorConfig, SensorRegistry, TopicPattern, TopicPatternError, VnAqiCategory,
};

const NOW: Timestamp = Timestamp::from_millis(1_764_000_000_000);

fn registry() -> SensorRegistry {
    SensorRegistry::new([SensorConfig {
        id: "flood-07".into(),
        kind: EntityKind::FloodSensor,
        lon: 108.2243,
        lat: 16.061,
        name: Some("Bạch Đằng 07".into()),
    }])
}

fn dec(topic: &str, payload: &str) -> Result<twin_core::Observation, MqttError> {
    decode(topic, payload.as_bytes(), &TopicPattern::default(), &registry(), NOW)
}

fn float(o: &twin_core::Observation, key: &str) -> f64 {
    o.properties.get(key).and_then(PropertyValue::as_f64).unwrap_or_else(|| panic!("no {key} in {o:?}"))
}

#[test]
fn water_depth_in_centimetres_with_rfc3339_time_and_registry_position() {
    let o = dec(
        "city/flood/flood-07",
        r#"{"value": 42, "unit": "cm", "time": "2026-11-24T10:00:00+07:00", "battery": 87}"#,
    )
    .unwrap();
    assert_eq!(o.kind, EntityKind::FloodSensor);
    assert_eq!(o.external_id, "flood-07");
    assert!((float(&o, "water_depth_m") - 0.42).abs() < 1e-12);
    // 10:00 at UTC+7 is 03:00 UTC.
    let expected = chrono::DateTime::parse_from_rfc3339("2026-11-24T03:00:00Z").unwrap().timestamp_millis();
    assert_eq!(o.time.as_millis(), expected);
    assert_eq!(o.position, Some(Position::new(108.2243, 16.061)));
    assert_eq!(o.properties.get("battery"), Some(&PropertyValue::Int(87)));
    assert_eq!(o.properties.get("name"), Some(&PropertyValue::Text("Bạch Đằng 07".into())));
}

#[test]
fn payload_position_wins_and_epoch_seconds_and_millis_agree() {
    let a = dec("city/rain_gauge/g1", r#"{"value": 12.5, "time": 1764000000, "lat": 16.06, "lon": 108.21}"#).unwrap();
    let b =
        dec("city/rain/g1", r#"{"value": 12.5, "unit": "mm/h", "time": 1764000000000, "lat": 16.06, "lon": 108.21}"#)
            .unwrap();
    assert_eq!(a.time, b.time);
    assert_eq!(a.time.as_millis(), 1_764_000_000_000);
    assert_eq!(a.kind, EntityKind::RainGauge);
    assert_eq!(a.position, Some(Position::new(108.21, 16.06)));
    assert_eq!(float(&a, "rain_mm_h"), 12.5);
}

#[test]
fn missing_time_is_the_receive_time_and_missing_position_stays_empty() {
    let o = dec("city/air/aq-3", r#"{"value": 37.5}"#).unwrap();
    assert_eq!(o.time, NOW);
    assert_eq!(o.position, None);
}

#[test]
fn pm25_carries_the_vietnamese_aqi() {
    let o = dec("city/air_quality_station/aq-1", r#"{"value": 80, "unit": "µg/m³", "quantity": "pm25"}"#).unwrap();
    assert_eq!(float(&o, "pm25_ugm3"), 80.0);
    assert_eq!(o.properties.get("vn_aqi"), Some(&PropertyValue::Int(150)));
    assert_eq!(o.properties.get("vn_aqi_category"), Some(&PropertyValue::Text("Kém (poor)".into())));
}

/// Breakpoints of Decision 1459/QĐ-TCMT (2019), table for 1-hour PM2.5: concentration → index.
#[test]
fn vn_aqi_matches_the_decision_table_breakpoints() {
    let table =
        [(0.0, 0), (25.0, 50), (50.0, 100), (80.0, 150), (150.0, 200), (250.0, 300), (350.0, 400), (500.0, 500)];
    for (c, i) in table {
        assert_eq!(vn_aqi(c).0, i, "PM2.5 {c}");
    }
    assert_eq!(vn_aqi(37.5).0, 75);
    assert_eq!(vn_aqi(900.0), (500, VnAqiCategory::Hazardous));
    assert_eq!(vn_aqi(51.0).1, VnAqiCategory::Poor);
    assert_eq!(vn_aqi(f64::NAN).0, 0);
}

#[test]
fn water_quality_quantities() {
    let o = dec("city/water/wq-1", r#"{"value": 7.2, "quantity": "ph"}"#).unwrap();
    assert_eq!(o.kind, EntityKind::WaterQualityStation);
    assert_eq!(float(&o, "ph"), 7.2);
    let o = dec("city/water_quality_station/wq-1", r#"{"value": 64}"#).unwrap();
    assert_eq!(float(&o, "wqi"), 64.0);
}

#[test]
fn a_pattern_without_kind_takes_it_from_the_registry_or_the_quantity() {
    let p = TopicPattern::parse("danang/sensors/{sensor_id}/state").unwrap();
    assert_eq!(p.subscription(), "danang/sensors/+/state");
    let reg = registry();
    let o = decode("danang/sensors/flood-07/state", br#"{"value": 0.1}"#, &p, &reg, NOW).unwrap();
    assert_eq!(o.kind, EntityKind::FloodSensor);
    let o = decode("danang/sensors/x9/state", br#"{"value": 3, "quantity": "rain_rate"}"#, &p, &reg, NOW).unwrap();
    assert_eq!(o.kind, EntityKind::RainGauge);
    let e = decode("danang/sensors/x9/state", br#"{"value": 3}"#, &p, &reg, NOW).unwrap_err();
    assert_eq!(e.reason(), "no_kind");
}

#[test]
fn patterns_must_be_well_formed() {
    assert_eq!(TopicPattern::parse("city/{kind}"), Err(TopicPatternError::Placeholders("city/{kind}".into())));
    assert!(TopicPattern::parse("city/{sensor_id}/{sensor_id}").is_err());
    let e = TopicPattern::parse("city/#/{sensor_id}").unwrap_err();
    assert_eq!(e.to_string(), "topic pattern \"city/#/{sensor_id}\": wildcards only as whole levels");
    let p = TopicPattern::default();
    assert_eq!(p.subscription(), "city/+/+");
    assert_eq!(p.topic_for(EntityKind::RainGauge, "g1"), "city/rain_gauge/g1");
}

#[test]
fn malformed_messages_give_typed_errors() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("city/flood/a/extra", br#"{"value":1}"#, "topic_mismatch"),
        ("other/flood/a", br#"{"value":1}"#, "topic_mismatch"),
        ("city/flood", br#"{"value":1}"#, "topic_mismatch"),
        ("city/submarine/a", br#"{"value":1}"#, "unknown_kind"),
        ("city/flood/", br#"{"value":1}"#, "bad_sensor_id"),
        ("city/flood/a", b"{\"value\":", "bad_json"),
        ("city/flood/a", b"\xff\xfe", "bad_json"),
        ("city/flood/a", b"[1,2]", "not_an_object"),
        ("city/flood/a", br#"{"valeur":1}"#, "missing_value"),
        ("city/flood/a", br#"{"value":"1"}"#, "missing_value"),
        ("city/flood/a", br#"{"value":1,"unit":"ft"}"#, "bad_unit"),
        ("city/flood/a", br#"{"value":1,"unit":3}"#, "bad_unit"),
        ("city/flood/a", br#"{"value":1e300,"unit":"m"}"#, "out_of_range"),
        ("city/air/a", br#"{"value":-4}"#, "out_of_range"),
        ("city/flood/a", br#"{"value":1,"quantity":"radiation"}"#, "unknown_quantity"),
        ("city/flood/a", br#"{"value":1,"time":"yesterday"}"#, "bad_time"),
        ("city/flood/a", br#"{"value":1,"time":-5}"#, "bad_time"),
        ("city/flood/a", br#"{"value":1,"time":true}"#, "bad_time"),
        ("city/flood/a", br#"{"value":1,"lat":95,"lon":108}"#, "bad_position"),
        ("city/flood/a", br#"{"value":1,"lat":16}"#, "bad_position"),
        ("city/flood/a", br#"{"value":1,"lat":"16","lon":108}"#, "bad_position"),
        ("city/bus/a", br#"{"value":1}"#, "unknown_quantity"),
    ];
    for (topic, payload, reason) in cases {
        let e = decode(topic, payload, &TopicPattern::default(), &registry(), NOW).unwrap_err();
        assert_eq!(e.reason(), *reason, "{topic} {:?}: {e}", String::from_utf8_lossy(payload));
    }
}

#[test]
fn nested_extras_are_skipped_not_fatal() {
    let o = dec("city/flood/a", r#"{"value": 0.2, "meta": {"fw": "1.2"}, "tags": [1], "site": "Cầu Rồng"}"#).unwrap();
    assert!(!o.properties.contains_key("meta"));
    assert!(!o.properties.contains_key("tags"));
    assert_eq!(o.properties.get("site"), Some(&PropertyValue::Text("Cầu Rồng".into())));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(topic in "\\PC{0,40}", payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&topic, &payload, &TopicPattern::default(), &registry(), NOW);
    }

    #[test]
    fn never_panics_on_json_like_payloads(value in any::<f64>(), unit in "[a-zµ/³0-9]{0,6}", time in any::<i64>(),
                                          lat in any::<f64>(), lon in any::<f64>(), kind in "flood|rain|air|water|bus") {
        let payload = format!(r#"{{"value": {value:e}, "unit": "{unit}", "time": {time}, "lat": {lat:e}, "lon": {lon:e}}}"#);
        if let Ok(o) = decode(&format!("city/{kind}/s1"), payload.as_bytes(), &TopicPattern::default(), &registry(), NOW) {
            prop_assert!(o.validate().is_ok() || o.position.is_none());
        }
    }

    #[test]
    fn vn_aqi_is_monotonic(a in 0.0f64..600.0, b in 0.0f64..600.0) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(vn_aqi(lo).0 <= vn_aqi(hi).0);
    }
}
