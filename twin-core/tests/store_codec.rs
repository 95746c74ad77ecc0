//! The binary codec: every value round-trips, and no input bytes make the decoder panic.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use std::collections::VecDeque;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use twin_core::rules::RuleState;
use twin_core::store::{decode_parts, decode_record, encode_parts, encode_record, LogRecord};
use twin_core::{
    Alert, AlertId, Entity, EntityId, EntityKind, Observation, Position, Properties, PropertyValue, RuleKind, Severity,
    Timestamp, TrackPoint, TwinParts,
};

/// Floats other than NaN, so that `PartialEq` is a fair round-trip check.
fn float() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO | prop::num::f64::INFINITE
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9_.:-]{1,12}", "\\PC{0,16}"]
}

fn kind() -> impl Strategy<Value = EntityKind> {
    (0..EntityKind::COUNT).prop_map(|i| EntityKind::from_index(i).unwrap())
}

fn position() -> impl Strategy<Value = Position> {
    (float(), float()).prop_map(|(lon, lat)| Position { lon, lat })
}

fn properties() -> impl Strategy<Value = Properties> {
    let value = prop_oneof![
        any::<bool>().prop_map(PropertyValue::Bool),
        any::<i64>().prop_map(PropertyValue::Int),
        float().prop_map(PropertyValue::Float),
        text().prop_map(PropertyValue::Text),
    ];
    btree_map(text(), value, 0..5)
}

prop_compose! {
    fn observation()(
        source in text(), kind in kind(), external_id in text(), time in any::<i64>(),
        position in prop::option::of(position()), heading in prop::option::of(float()),
        speed in prop::option::of(float()), status in prop::option::of(text()), properties in properties(),
    ) -> Observation {
        Observation { source, kind, external_id, time: Timestamp(time), position, heading, speed, status, properties }
    }
}

fn record() -> impl Strategy<Value = LogRecord> {
    prop_oneof![
        vec(observation(), 0..6).prop_map(LogRecord::Observations),
        any::<i64>().prop_map(|t| LogRecord::Tick(Timestamp(t))),
        any::<u64>().prop_map(|id| LogRecord::Remove(EntityId(id))),
    ]
}

prop_compose! {
    fn track_point()(time in any::<i64>(), position in position(), heading in prop::option::of(float()),
        speed in prop::option::of(float())) -> TrackPoint {
        TrackPoint { time: Timestamp(time), position, heading, speed }
    }
}

prop_compose! {
    fn entity()(obs in observation(), id in any::<u64>(), track in vec(track_point(), 0..5),
        mean_interval_ms in float()) -> Entity {
        Entity {
            id: EntityId(id), kind: obs.kind, external_id: obs.external_id, source: obs.source,
            last_seen: obs.time, position: obs.position, heading: obs.heading, speed: obs.speed,
            status: obs.status, properties: obs.properties, track: VecDeque::from(track), mean_interval_ms,
        }
    }
}

fn rule_kind() -> impl Strategy<Value = RuleKind> {
    prop::sample::select(vec![
        RuleKind::GeofenceEnter,
        RuleKind::GeofenceExit,
        RuleKind::ThresholdAbove,
        RuleKind::ThresholdBelow,
        RuleKind::Stale,
    ])
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(vec![Severity::Minor, Severity::Moderate, Severity::Severe, Severity::Extreme])
}

prop_compose! {
    fn alert()(id in any::<u64>(), time in any::<i64>(), entity in any::<u64>(), entity_kind in kind(),
        external_id in text(), rule in text(), rule_kind in rule_kind(), severity in severity(),
        message in text(), position in prop::option::of(position())) -> Alert {
        Alert { id: AlertId(id), time: Timestamp(time), entity: EntityId(entity), entity_kind, external_id, rule,
            rule_kind, severity, message, position }
    }
}

prop_compose! {
    fn rule_state()(
        inside in vec((any::<u64>(), text()), 0..4),
        holding in vec((any::<u64>(), text(), any::<i64>(), any::<bool>()), 0..4),
        stale in vec((any::<u64>(), text()), 0..4),
    ) -> RuleState {
        RuleState {
            inside: inside.into_iter().map(|(e, r)| (EntityId(e), r)).collect(),
            holding: holding.into_iter().map(|(e, r, t, b)| (EntityId(e), r, Timestamp(t), b)).collect(),
            stale: stale.into_iter().map(|(e, r)| (EntityId(e), r)).collect(),
        }
    }
}

prop_compose! {
    fn parts()(entities in vec(entity(), 0..6), next_id in any::<u64>(), alerts in vec(alert(), 0..4),
        next_alert_id in any::<u64>(), rule_state in rule_state()) -> TwinParts {
        TwinParts { entities, next_id, alerts, next_alert_id, rule_state }
    }
}

fn encoded_parts(parts: &TwinParts) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_parts(&mut buf, parts);
    buf
}

proptest! {
    #[test]
    fn observations_round_trip(obs in observation(), seq in any::<u64>()) {
        let record = LogRecord::Observations(vec![obs]);
        prop_assert_eq!(decode_record(&encode_record(seq, &record)).unwrap(), (seq, record));
    }

    #[test]
    fn records_round_trip(record in record(), seq in any::<u64>()) {
        prop_assert_eq!(decode_record(&encode_record(seq, &record)).unwrap(), (seq, record));
    }

    #[test]
    fn parts_round_trip(parts in parts()) {
        prop_assert_eq!(decode_parts(&encoded_parts(&parts)).unwrap(), parts);
    }

    /// NaN compares unequal to itself, so check that re-encoding gives the very same bytes.
    #[test]
    fn any_float_bits_round_trip(bits in any::<u64>(), seq in any::<u64>()) {
        let mut obs = Observation::new(EntityKind::Drone, "d", Timestamp(0));
        obs.speed = Some(f64::from_bits(bits));
        let bytes = encode_record(seq, &LogRecord::Observations(vec![obs]));
        let (_, back) = decode_record(&bytes).unwrap();
        prop_assert_eq!(encode_record(seq, &back), bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = decode_record(&bytes);
        let _ = decode_parts(&bytes);
    }

    /// Damaged valid encodings (truncated, or with one byte changed) are rejected or decode to
    /// something; they never panic, and a truncated one is never accepted.
    #[test]
    fn damaged_encodings_never_panic(record in record(), parts in parts(), cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(), xor in 1u8..=255) {
        for bytes in [encode_record(9, &record), encoded_parts(&parts)] {
            let n = cut.index(bytes.len());
            prop_assert!(decode_record(&bytes[..n]).is_err() || n == bytes.len());
            prop_assert!(decode_parts(&bytes[..n]).is_err() || n == bytes.len());
            let mut changed = bytes.clone();
            let i = flip.index(changed.len());
            changed[i] ^= xor;
            let _ = decode_record(&changed);
            let _ = decode_parts(&changed);
        }
    }
}

#[test]
fn trailing_bytes_and_unknown_tags_are_errors() {
    let mut bytes = encode_record(1, &LogRecord::Tick(Timestamp(5)));
    bytes.push(0);
    assert!(decode_record(&bytes).is_err());
    let mut bytes = encode_record(1, &LogRecord::Tick(Timestamp(5)));
    bytes[8] = 99;
    assert!(decode_record(&bytes).is_err());
}

/// The layout is documented (little-endian seq, tag, then the body), so a hand-built payload
/// must decode: this pins the format independently of the encoder.
#[test]
fn hand_built_payload_decodes() {
    let mut bytes = 42u64.to_le_bytes().to_vec();
    bytes.push(2); // Remove
    bytes.extend_from_slice(&7u64.to_le_bytes());
    assert_eq!(decode_record(&bytes).unwrap(), (42, LogRecord::Remove(EntityId(7))));

    let mut bytes = 3u64.to_le_bytes().to_vec();
    bytes.push(0); // Observations
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&4u32.to_le_bytes());
    bytes.extend_from_slice(b"http");
    bytes.push(EntityKind::Bus.index() as u8);
    bytes.extend_from_slice(&2u32.to_le_bytes());
    bytes.extend_from_slice(b"b1");
    bytes.extend_from_slice(&1000i64.to_le_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&108.2f64.to_le_bytes());
    bytes.extend_from_slice(&16.05f64.to_le_bytes());
    bytes.extend_from_slice(&[0, 0, 0]); // no heading, speed, status
    bytes.extend_from_slice(&0u32.to_le_bytes()); // no properties
    let mut expected = Observation::new(EntityKind::Bus, "b1", Timestamp(1000)).at(108.2, 16.05);
    expected.source = "http".into();
    assert_eq!(decode_record(&bytes).unwrap(), (3, LogRecord::Observations(vec![expected])));
}

/// Large snapshots are split into chunks decoded in parallel: order and contents must survive.
#[test]
fn many_entities_round_trip_across_chunks() {
    let entities: Vec<Entity> = (0..100_003u64)
        .map(|i| {
            let obs = Observation::new(
                EntityKind::from_index(i as usize % EntityKind::COUNT).unwrap(),
                format!("e{i}"),
                Timestamp(i as i64),
            );
            Entity {
                id: EntityId(i),
                kind: obs.kind,
                external_id: obs.external_id,
                source: "s".into(),
                last_seen: obs.time,
                position: Some(Position { lon: i as f64 * 1e-3, lat: 1.0 }),
                heading: None,
                speed: Some(1.5),
                status: None,
                properties: Properties::new(),
                track: VecDeque::new(),
                mean_interval_ms: 0.0,
            }
        })
        .collect();
    let parts = TwinParts { entities, next_id: 100_003, ..TwinParts::default() };
    let bytes = encoded_parts(&parts);
    assert_eq!(decode_parts(&bytes).unwrap(), parts);
    // Damage inside a later chunk is still found.
    let mut bad = bytes.clone();
    let at = bad.len() * 3 / 4;
    bad.truncate(at);
    assert!(decode_parts(&bad).is_err());
}
