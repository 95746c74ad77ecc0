//! GTFS-realtime: golden decodes against the official bindings, observations, malformed input.
#![allow(clippy::unwrap_used)] // tests may unwrap

use prost::Message;
use serde_json::Value;
use twin_core::{EntityKind, PropertyValue, Timestamp};
use twin_ingest::gtfs_rt::proto::{
    trip_update::{StopTimeEvent, StopTimeUpdate},
    FeedEntity, FeedHeader, FeedMessage, TripDescriptor, TripUpdate, VehicleDescriptor,
};
use twin_ingest::gtfs_rt::{decode_feed, feed_to_json, to_observations, GtfsRtError, ObservationOptions};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gtfs");
const FEEDS: &[&str] = &["usf_bullrunner_vehicle_positions", "gtfsrt_bindings_vehicle_position"];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

fn golden(name: &str) -> Value {
    serde_json::from_slice(&read(&format!("golden/{name}.decoded.json"))).unwrap()
}

#[test]
fn every_field_matches_the_official_bindings() {
    for name in FEEDS {
        let feed = decode_feed(&read(&format!("{name}.pb"))).unwrap();
        assert_eq!(feed_to_json(&feed), golden(name), "{name}");
    }
}

#[test]
fn vehicle_positions_become_buses() {
    let feed = decode_feed(&read("usf_bullrunner_vehicle_positions.pb")).unwrap();
    let out = to_observations(&feed, &ObservationOptions::default());
    let expected = golden("usf_bullrunner_vehicle_positions");
    let entities = expected["entity"].as_array().unwrap();
    assert_eq!(out.observations.len(), entities.len());
    assert_eq!(out.skipped, 0);
    let header_ms = expected["header"]["timestamp"].as_str().unwrap().parse::<i64>().unwrap() * 1000;
    for (obs, e) in out.observations.iter().zip(entities) {
        let v = &e["vehicle"];
        assert_eq!(obs.kind, EntityKind::Bus);
        assert_eq!(obs.source, "gtfs-rt");
        assert_eq!(obs.external_id, v["vehicle"]["id"].as_str().unwrap());
        assert_eq!(obs.time, Timestamp::from_millis(header_ms));
        let p = obs.position.unwrap();
        assert_eq!(p.lat, v["position"]["latitude"].as_f64().unwrap());
        assert_eq!(p.lon, v["position"]["longitude"].as_f64().unwrap());
        assert_eq!(obs.heading, v["position"]["bearing"].as_f64());
        assert_eq!(
            obs.properties.get("route_id"),
            Some(&PropertyValue::Text(v["trip"]["route_id"].as_str().unwrap().to_owned()))
        );
        let occupancy = v["occupancy_status"].as_str().unwrap().to_ascii_lowercase();
        assert_eq!(obs.properties.get("occupancy"), Some(&PropertyValue::Text(occupancy)));
        obs.validate().unwrap();
    }
}

fn trip_update_feed(vehicle: Option<&str>, trip_delay: Option<i32>) -> FeedMessage {
    let stop = StopTimeUpdate {
        stop_sequence: Some(4),
        stop_id: Some("222".into()),
        arrival: Some(StopTimeEvent { delay: Some(90), ..Default::default() }),
        ..Default::default()
    };
    FeedMessage {
        header: FeedHeader {
            gtfs_realtime_version: "2.0".into(),
            timestamp: Some(1_700_000_000),
            ..Default::default()
        },
        entity: vec![FeedEntity {
            id: "tu1".into(),
            trip_update: Some(TripUpdate {
                trip: TripDescriptor { trip_id: Some("T9".into()), route_id: Some("C".into()), ..Default::default() },
                vehicle: vehicle.map(|v| VehicleDescriptor {
                    id: Some(v.into()),
                    label: Some("Bus 12".into()),
                    ..Default::default()
                }),
                stop_time_update: vec![stop],
                timestamp: Some(1_700_000_030),
                delay: trip_delay,
            }),
            ..Default::default()
        }],
    }
}

#[test]
fn trip_updates_carry_route_trip_and_delay() {
    let bytes = trip_update_feed(Some("1536"), None).encode_to_vec();
    let out = to_observations(&decode_feed(&bytes).unwrap(), &ObservationOptions::default());
    assert_eq!(out.observations.len(), 1);
    let obs = &out.observations[0];
    assert_eq!(obs.external_id, "1536");
    assert_eq!(obs.time, Timestamp::from_millis(1_700_000_030_000));
    assert!(obs.position.is_none());
    let p = &obs.properties;
    assert_eq!(p.get("delay_s"), Some(&PropertyValue::Int(90)), "stop-level delay when the trip has none");
    assert_eq!(p.get("trip_id"), Some(&PropertyValue::Text("T9".into())));
    assert_eq!(p.get("route_id"), Some(&PropertyValue::Text("C".into())));
    assert_eq!(p.get("vehicle_label"), Some(&PropertyValue::Text("Bus 12".into())));
    assert_eq!(p.get("next_stop_id"), Some(&PropertyValue::Text("222".into())));

    let bytes = trip_update_feed(Some("1536"), Some(-30)).encode_to_vec();
    let out = to_observations(&decode_feed(&bytes).unwrap(), &ObservationOptions::default());
    assert_eq!(out.observations[0].properties.get("delay_s"), Some(&PropertyValue::Int(-30)));

    let bytes = trip_update_feed(None, Some(10)).encode_to_vec();
    let out = to_observations(&decode_feed(&bytes).unwrap(), &ObservationOptions::default());
    assert!(out.observations.is_empty());
    assert_eq!(out.skipped, 1);
}

#[test]
fn deleted_entities_are_skipped() {
    let mut feed = decode_feed(&read("usf_bullrunner_vehicle_positions.pb")).unwrap();
    feed.entity[0].is_deleted = Some(true);
    let out = to_observations(&decode_feed(&feed.encode_to_vec()).unwrap(), &ObservationOptions::default());
    assert_eq!(out.observations.len(), feed.entity.len() - 1);
    assert_eq!(out.skipped, 1);
}

#[test]
fn malformed_protobuf_is_a_typed_error() {
    let good = read("usf_bullrunner_vehicle_positions.pb");
    // Cut inside a length-delimited entity.
    assert!(matches!(decode_feed(&good[..good.len() / 2]), Err(GtfsRtError::Protobuf(_))));
    // Field 1 (header) declared as a varint: wrong wire type.
    assert!(matches!(decode_feed(&[0x08, 0x01]), Err(GtfsRtError::Protobuf(_))));
    // A length prefix far beyond the buffer.
    assert!(matches!(decode_feed(&[0x0a, 0xff, 0xff, 0x03]), Err(GtfsRtError::Protobuf(_))));
    // Text is not a feed.
    assert!(decode_feed(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A").is_err());
    // Empty input decodes to a message without its required header.
    assert_eq!(decode_feed(&[]), Err(GtfsRtError::MissingField("header.gtfs_realtime_version")));
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        if let Ok(feed) = decode_feed(&bytes) {
            let out = to_observations(&feed, &ObservationOptions::default());
            for o in &out.observations {
                proptest::prop_assert!(o.validate().is_ok());
            }
            let _ = feed_to_json(&feed);
        }
    }

    #[test]
    fn mutated_real_feed_never_panics(flips in proptest::collection::vec((0usize..415, proptest::num::u8::ANY), 1..8)) {
        let mut bytes = read("usf_bullrunner_vehicle_positions.pb");
        for (i, b) in flips {
            let n = bytes.len();
            bytes[i % n] = b;
        }
        if let Ok(feed) = decode_feed(&bytes) {
            for o in to_observations(&feed, &ObservationOptions::default()).observations {
                proptest::prop_assert!(o.validate().is_ok());
            }
        }
    }
}
