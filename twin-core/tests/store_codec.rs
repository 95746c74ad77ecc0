//! The binary codec: every value round-trips, and no input bytes make the decoder panic.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use std::collections::VecDeque;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use twin_core::rules::RuleState;
use twin_core::store::{
    decode_parts, decode_record, decode_snapshot, encode_parts, encode_record, encode_snapshot, encoded_len,
    CodecError, ExtensionSection, ExtensionSections, LogRecord, SnapshotContents, SnapshotDecodeError, StreamName,
    UNATTRIBUTED,
};
use twin_core::{
    ActorId, Alert, AlertId, AlertSubject, Entity, EntityId, EntityKind, Observation, Position, Properties,
    PropertyValue, RaiseAlert, RuleKind, Severity, Timestamp, TrackPoint, TwinParts,
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

fn actor() -> impl Strategy<Value = ActorId> {
    prop_oneof![Just(ActorId::system()), text().prop_map(ActorId)]
}

fn stream() -> impl Strategy<Value = StreamName> {
    "[a-z][a-z0-9_.-]{0,31}".prop_map(|s| StreamName::new(s).unwrap())
}

fn subject() -> impl Strategy<Value = AlertSubject> {
    prop_oneof![
        any::<u64>().prop_map(|id| AlertSubject::Entity(EntityId(id))),
        (kind(), text()).prop_map(|(kind, external_id)| AlertSubject::Key { kind, external_id }),
        (text(), kind()).prop_map(|(name, kind)| AlertSubject::Feed { name, kind }),
    ]
}

prop_compose! {
    fn raise()(time in any::<i64>(), kind in rule_kind(), rule in text(), severity in severity(),
        subject in subject(), message in text(), detail in properties(),
        position in prop::option::of(position())) -> RaiseAlert {
        RaiseAlert { time: Timestamp(time), kind, rule, severity, subject, message, detail, position }
    }
}

fn record() -> impl Strategy<Value = LogRecord> {
    prop_oneof![
        (actor(), vec(observation(), 0..6)).prop_map(|(actor, batch)| LogRecord::Observations { actor, batch }),
        any::<i64>().prop_map(|t| LogRecord::Tick(Timestamp(t))),
        (actor(), any::<u64>()).prop_map(|(actor, id)| LogRecord::Remove { actor, id: EntityId(id) }),
        (actor(), raise()).prop_map(|(actor, alert)| LogRecord::RaiseAlert { actor, alert }),
        (actor(), stream(), any::<u16>(), vec(any::<u8>(), 0..64))
            .prop_map(|(actor, stream, version, payload)| LogRecord::Extension { actor, stream, version, payload }),
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
    prop::sample::select(RuleKind::ALL.to_vec())
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(vec![Severity::Minor, Severity::Moderate, Severity::Severe, Severity::Extreme])
}

prop_compose! {
    fn alert()(id in any::<u64>(), time in any::<i64>(), entity in prop::option::of(any::<u64>()),
        entity_kind in kind(), external_id in text(), rule in text(), rule_kind in rule_kind(),
        severity in severity(), message in text(), position in prop::option::of(position()),
        detail in properties()) -> Alert {
        Alert { id: AlertId(id), time: Timestamp(time), entity: entity.map(EntityId), entity_kind, external_id, rule,
            rule_kind, severity, message, position, detail }
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

fn sections() -> impl Strategy<Value = ExtensionSections> {
    btree_map(stream(), (any::<u16>(), vec(any::<u8>(), 0..32)), 0..4)
        .prop_map(|m| m.into_iter().map(|(k, (version, payload))| (k, ExtensionSection { version, payload })).collect())
}

/// A snapshot file around `body` (everything after the seq), with a correct CRC so that decoding
/// reaches the contents.
fn snapshot_file(seq: u64, body: &[u8]) -> Vec<u8> {
    let mut data = b"CTWINSNP".to_vec();
    data.extend_from_slice(&2u32.to_le_bytes());
    data.extend_from_slice(&seq.to_le_bytes());
    data.extend_from_slice(body);
    let crc = crc32fast::hash(&data);
    data.extend_from_slice(&crc.to_le_bytes());
    data
}

fn encoded_parts(parts: &TwinParts) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_parts(&mut buf, parts);
    buf
}

proptest! {
    #[test]
    fn observations_round_trip(obs in observation(), seq in any::<u64>()) {
        let record = LogRecord::Observations { actor: ActorId::system(), batch: vec![obs] };
        prop_assert_eq!(decode_record(&encode_record(seq, &record)).unwrap(), (seq, record));
    }

    #[test]
    fn records_round_trip(record in record(), seq in any::<u64>()) {
        prop_assert_eq!(decode_record(&encode_record(seq, &record)).unwrap(), (seq, record));
    }

    /// The writer's size check counts exactly what the encoder writes.
    #[test]
    fn encoded_len_is_exact(record in record(), seq in any::<u64>()) {
        prop_assert_eq!(encoded_len(&record), encode_record(seq, &record).len());
    }

    #[test]
    fn parts_round_trip(parts in parts()) {
        prop_assert_eq!(decode_parts(&encoded_parts(&parts)).unwrap(), parts);
    }

    #[test]
    fn snapshots_round_trip(parts in parts(), sections in sections(), seq in any::<u64>()) {
        let want = SnapshotContents { seq, parts, sections };
        let bytes = encode_snapshot(seq, &want.parts, &want.sections);
        prop_assert_eq!(decode_snapshot(&bytes).unwrap(), want);
    }

    /// Damaged contents behind a valid CRC: an error or a value, never a panic; cut short, an error.
    #[test]
    fn damaged_snapshot_contents_never_panic(parts in parts(), sections in sections(),
        cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let bytes = encode_snapshot(1, &parts, &sections);
        let body = &bytes[20..bytes.len() - 4];
        let n = cut.index(body.len());
        prop_assert!(decode_snapshot(&snapshot_file(1, &body[..n])).is_err() || n == body.len());
        let mut changed = body.to_vec();
        let i = flip.index(changed.len());
        changed[i] ^= xor;
        let _ = decode_snapshot(&snapshot_file(1, &changed));
    }

    #[test]
    fn random_snapshot_contents_never_panic(body in vec(any::<u8>(), 0..512)) {
        let _ = decode_snapshot(&snapshot_file(1, &body));
    }

    /// NaN compares unequal to itself, so check that re-encoding gives the very same bytes.
    #[test]
    fn any_float_bits_round_trip(bits in any::<u64>(), seq in any::<u64>()) {
        let mut obs = Observation::new(EntityKind::Drone, "d", Timestamp(0));
        obs.speed = Some(f64::from_bits(bits));
        let bytes = encode_record(seq, &LogRecord::Observations { actor: ActorId::system(), batch: vec![obs] });
        let (_, back) = decode_record(&bytes).unwrap();
        prop_assert_eq!(encode_record(seq, &back), bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = decode_record(&bytes);
        let _ = decode_parts(&bytes);
        let _ = decode_snapshot(&bytes);
    }

    /// Any tag byte followed by random bytes: every record kind's decoder meets garbage.
    #[test]
    fn random_bodies_of_every_tag_never_panic(tag in 0u8..8, body in vec(any::<u8>(), 0..256)) {
        let mut bytes = 1u64.to_le_bytes().to_vec();
        bytes.push(tag);
        bytes.extend_from_slice(&body);
        let _ = decode_record(&bytes);
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

fn unattributed() -> ActorId {
    ActorId(UNATTRIBUTED.into())
}

/// The layout is documented (little-endian seq, tag, then the body), so a hand-built payload
/// must decode: this pins the format independently of the encoder. Tags 0 and 2 are what logs
/// written before actors were recorded hold; they decode with the `unattributed` actor.
#[test]
fn hand_built_payload_decodes() {
    let mut bytes = 42u64.to_le_bytes().to_vec();
    bytes.push(2); // Remove, before attribution
    bytes.extend_from_slice(&7u64.to_le_bytes());
    assert_eq!(decode_record(&bytes).unwrap(), (42, LogRecord::Remove { actor: unattributed(), id: EntityId(7) }));

    let mut bytes = 3u64.to_le_bytes().to_vec();
    bytes.push(0); // Observations, before attribution
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
    let old = LogRecord::Observations { actor: unattributed(), batch: vec![expected.clone()] };
    assert_eq!(decode_record(&bytes).unwrap(), (3, old));

    // The same batch with an actor: tag 3, the actor, then the tag-0 body.
    let mut attributed = 3u64.to_le_bytes().to_vec();
    attributed.push(3);
    attributed.extend_from_slice(&13u32.to_le_bytes());
    attributed.extend_from_slice(b"device:amb-01");
    attributed.extend_from_slice(&bytes[9..]);
    let new = LogRecord::Observations { actor: ActorId("device:amb-01".into()), batch: vec![expected] };
    assert_eq!(decode_record(&attributed).unwrap(), (3, new.clone()));
    assert_eq!(encode_record(3, &new), attributed);
}

fn str_bytes(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Tags 4, 5 and 6 built by hand from the layout table in `store/records.rs`.
#[test]
fn hand_built_new_records_decode() {
    let mut bytes = 5u64.to_le_bytes().to_vec();
    bytes.push(4); // Remove
    str_bytes(&mut bytes, "user:lan");
    bytes.extend_from_slice(&9u64.to_le_bytes());
    let remove = LogRecord::Remove { actor: ActorId("user:lan".into()), id: EntityId(9) };
    assert_eq!(decode_record(&bytes).unwrap(), (5, remove));

    let mut bytes = 6u64.to_le_bytes().to_vec();
    bytes.push(5); // RaiseAlert
    str_bytes(&mut bytes, "system");
    bytes.extend_from_slice(&1_000i64.to_le_bytes());
    bytes.push(6); // camera_queue
    bytes.push(2); // severe
    str_bytes(&mut bytes, "cam-07");
    bytes.push(1); // subject by key
    bytes.push(EntityKind::Camera.index() as u8);
    str_bytes(&mut bytes, "cam-07");
    str_bytes(&mut bytes, "queue of 9 vehicles");
    bytes.extend_from_slice(&1u32.to_le_bytes()); // one detail entry
    str_bytes(&mut bytes, "vehicles");
    bytes.push(1); // Int
    bytes.extend_from_slice(&9i64.to_le_bytes());
    bytes.push(0); // no position
    let subject = AlertSubject::Key { kind: EntityKind::Camera, external_id: "cam-07".into() };
    let mut alert = RaiseAlert::new(
        Timestamp(1_000),
        RuleKind::CameraQueue,
        "cam-07",
        Severity::Severe,
        subject,
        "queue of 9 vehicles",
    );
    alert.detail.insert("vehicles".into(), PropertyValue::Int(9));
    assert_eq!(decode_record(&bytes).unwrap(), (6, LogRecord::RaiseAlert { actor: ActorId::system(), alert }));

    let mut bytes = 7u64.to_le_bytes().to_vec();
    bytes.push(6); // Extension
    str_bytes(&mut bytes, "user:op");
    str_bytes(&mut bytes, "cases");
    bytes.extend_from_slice(&3u16.to_le_bytes());
    bytes.extend_from_slice(&2u32.to_le_bytes());
    bytes.extend_from_slice(&[0xca, 0xfe]);
    let ext = LogRecord::Extension {
        actor: ActorId("user:op".into()),
        stream: StreamName::new("cases").unwrap(),
        version: 3,
        payload: vec![0xca, 0xfe],
    };
    assert_eq!(decode_record(&bytes).unwrap(), (7, ext));

    // An invalid stream name on disk is refused, never passed on.
    let at = 8 + 1 + 4 + 7;
    bytes[at + 4] = b'C';
    assert_eq!(decode_record(&bytes), Err(CodecError::Invalid { what: "stream name", at }));
}

/// A huge payload length in an extension record is refused before anything is allocated.
#[test]
fn extension_payload_length_is_checked_against_the_data() {
    let mut bytes = 7u64.to_le_bytes().to_vec();
    bytes.push(6);
    str_bytes(&mut bytes, "a");
    str_bytes(&mut bytes, "cases");
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&[0; 16]);
    assert!(matches!(decode_record(&bytes), Err(CodecError::Count { what: "byte", .. })));
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

#[test]
fn snapshot_headers_and_sections_are_checked() {
    let sections: ExtensionSections =
        [(StreamName::new("cases").unwrap(), ExtensionSection { version: 1, payload: vec![1, 2, 3] })].into();
    let good = encode_snapshot(4, &TwinParts::default(), &sections);
    assert_eq!(decode_snapshot(&good).unwrap().sections, sections);
    assert_eq!(decode_snapshot(&good[..10]), Err(SnapshotDecodeError::TooShort(10)));
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(decode_snapshot(&bad), Err(SnapshotDecodeError::Magic));
    let mut bad = good.clone();
    bad[8] = 3;
    assert_eq!(decode_snapshot(&bad), Err(SnapshotDecodeError::Version(3)));
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(decode_snapshot(&bad), Err(SnapshotDecodeError::Crc));

    // The same stream twice is refused: sections are keyed by stream.
    let body = &good[20..good.len() - 4];
    let sections_at = body.len() - (4 + 4 + 5 + 2 + 4 + 3);
    let mut twice = body[..sections_at].to_vec();
    twice.extend_from_slice(&2u32.to_le_bytes());
    for _ in 0..2 {
        twice.extend_from_slice(&body[sections_at + 4..]);
    }
    let err = decode_snapshot(&snapshot_file(4, &twice)).unwrap_err();
    assert!(matches!(err, SnapshotDecodeError::Contents(CodecError::Invalid { .. })), "{err}");
    // A section count that cannot fit is refused before allocating.
    let mut huge = body[..sections_at].to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let err = decode_snapshot(&snapshot_file(4, &huge)).unwrap_err();
    assert!(matches!(err, SnapshotDecodeError::Contents(CodecError::Count { .. })), "{err}");
}
