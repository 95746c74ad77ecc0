//! AIS messages to model observations: units, kinds, static data merged per MMSI.

use twin_core::{EntityKind, PropertyValue, Timestamp};
use twin_ingest::ais::{decode_text, to_observation, AisMessage, VesselRegistry};

mod common;
use common::{BitWriter, Type1};

fn decode(text: &str) -> Vec<AisMessage> {
    decode_text(text).into_iter().map(|r| r.expect("decodes").message).collect()
}

const KNOT: f64 = 1852.0 / 3600.0;

#[test]
fn class_a_position_becomes_a_vessel_in_si_units() {
    // gpsd sample.aivdm, first type 1: 12.3 kn, heading 215, course 224.
    let msgs = decode("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A");
    let obs = to_observation(&msgs[0], Timestamp::from_millis(1_000)).expect("observation");
    assert_eq!(obs.kind, EntityKind::Vessel);
    assert_eq!(obs.external_id, "371798000");
    assert_eq!(obs.time, Timestamp::from_millis(1_000));
    let p = obs.position.expect("position");
    assert!((p.lon - -123.395383333).abs() < 1e-6 && (p.lat - 48.381633333).abs() < 1e-6);
    assert!((obs.speed.expect("speed") - 12.3 * KNOT).abs() < 1e-9);
    assert_eq!(obs.heading, Some(215.0));
    assert_eq!(obs.properties.get("course"), Some(&PropertyValue::Float(224.0)));
    assert_eq!(obs.status.as_deref(), Some("under_way_using_engine"));
    assert_eq!(obs.properties.get("ais_class").and_then(PropertyValue::as_str), Some("A"));
    obs.validate().expect("valid observation");
}

#[test]
fn not_available_fields_stay_empty() {
    // From the MarineTraffic sample (pyais): every motion field "not available".
    let msgs = decode("!AIVDM,1,1,,A,13cc3o?P?w<tSF0l4Q@>4?wv0PRr,0*0F");
    let AisMessage::Position(p) = &msgs[0] else { panic!("position expected") };
    assert_eq!((p.lon, p.lat, p.speed, p.course, p.heading), (None, None, None, None, None));
    let obs = to_observation(&msgs[0], Timestamp::from_millis(0)).expect("observation");
    assert!(obs.position.is_none() && obs.speed.is_none() && obs.heading.is_none());
    assert_eq!(obs.status.as_deref(), Some("not_defined"));
    obs.validate().expect("valid");
    // An encoded report with every "not available" code.
    let na = Type1 {
        mmsi: 247120860,
        status: 15,
        turn: -128,
        speed_tenths: 1023,
        accuracy: false,
        lon_e4min: 181 * 600_000,
        lat_e4min: 91 * 600_000,
        course_tenths: 3600,
        heading: 511,
        second: 63,
    };
    let msgs = decode(&na.encode());
    let AisMessage::Position(p) = &msgs[0] else { panic!("position expected") };
    assert_eq!((p.lon, p.lat, p.speed, p.course, p.heading, p.turn), (None, None, None, None, None, None));
    let obs = to_observation(&msgs[0], Timestamp::from_millis(0)).expect("observation");
    assert_eq!((obs.position, obs.speed, obs.heading), (None, None, None));
    obs.validate().expect("valid");
}

#[test]
fn fishing_boat_kind_and_static_data_follow_the_mmsi() {
    let mut reg = VesselRegistry::default();
    // Real type 5 from a base station (!BS talker), gpsd ais-nmea-type6-fid55.log: shiptype 30.
    let t5 = decode(
        "!BSVDM,2,1,4,B,53mr2H42D;CdheER220P5DL4MEB222222222220N50N=251<RAQRDj2CQp1l,0*0C
!BSVDM,2,2,4,B,SmCQ8888880,2*16",
    );
    let stat = reg.observe(&t5[0], Timestamp::from_millis(0)).expect("static observation");
    assert_eq!(stat.kind, EntityKind::FishingBoat);
    assert!(stat.position.is_none());
    // A later position report from the same vessel.
    let pos = Type1 {
        mmsi: 257852000,
        status: 7,
        turn: 0,
        speed_tenths: 85,
        accuracy: true,
        lon_e4min: (108.25 * 600_000.0) as i32,
        lat_e4min: (16.08 * 600_000.0) as i32,
        course_tenths: 1234,
        heading: 511,
        second: 10,
    };
    let msg = &decode(&pos.encode())[0];
    let obs = reg.observe(msg, Timestamp::from_millis(60_000)).expect("observation");
    assert_eq!(obs.kind, EntityKind::FishingBoat);
    assert_eq!(obs.external_id, "257852000");
    let text = |k: &str| obs.properties.get(k).and_then(PropertyValue::as_str).map(str::to_owned);
    assert_eq!(text("shipname").as_deref(), Some("HAUGAGUT"));
    assert_eq!(text("callsign").as_deref(), Some("LKUX"));
    assert_eq!(text("destination").as_deref(), Some("FISHING GROUND"));
    assert_eq!(obs.properties.get("shiptype"), Some(&PropertyValue::Int(30)));
    assert_eq!(obs.properties.get("length_m"), Some(&PropertyValue::Int(70)));
    assert_eq!(obs.properties.get("beam_m"), Some(&PropertyValue::Int(15)));
    assert_eq!(obs.status.as_deref(), Some("engaged_in_fishing"));
    // No true heading: the course stands in.
    assert_eq!(obs.heading, Some(123.4));
    assert!((obs.speed.expect("speed") - 8.5 * KNOT).abs() < 1e-9);
    obs.validate().expect("valid");
    // Without the registry the same report is just a Vessel.
    assert_eq!(to_observation(msg, Timestamp::from_millis(0)).map(|o| o.kind), Some(EntityKind::Vessel));
}

#[test]
fn class_b_static_parts_merge() {
    let mut reg = VesselRegistry::default();
    // gpsd sample.aivdm: 24A + 24B for 271041815 (PROGUY, passenger, TC6163).
    for m in decode(
        "!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D
!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40",
    ) {
        reg.observe(&m, Timestamp::from_millis(0));
    }
    let known = reg.get(271041815).expect("remembered");
    assert_eq!(known.shipname.as_deref(), Some("PROGUY"));
    assert_eq!(known.callsign.as_deref(), Some("TC6163"));
    assert_eq!(known.shiptype, Some(60));
    assert_eq!(known.kind(), EntityKind::Vessel);
    // An encoded class B position for it.
    let mut w = BitWriter::default();
    w.put(18, 6).put(0, 2).put(271041815, 30).put(0, 8).put(52, 10).put(1, 1);
    w.put((108.22 * 600_000.0) as i64, 28).put((16.07 * 600_000.0) as i64, 27);
    w.put(900, 12).put(91, 9).put(5, 6).put(0, 2).put(1, 1).put(0, 7).put(0, 20);
    let msg = &decode(&w.sentence())[0];
    let obs = reg.observe(msg, Timestamp::from_millis(1)).expect("observation");
    assert_eq!(obs.properties.get("shipname").and_then(PropertyValue::as_str), Some("PROGUY"));
    assert_eq!(obs.properties.get("ais_class").and_then(PropertyValue::as_str), Some("B"));
    assert_eq!(obs.heading, Some(91.0));
    assert_eq!(obs.properties.get("length_m"), Some(&PropertyValue::Int(15)));
}

#[test]
fn base_stations_and_aids_to_navigation_are_not_vessels() {
    let msgs = decode(
        "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D
!AIVDM,1,1,,B,KC5E2b@U19PFdLbMuc5=ROv62<7m,0*16",
    );
    assert!(to_observation(&msgs[0], Timestamp::from_millis(0)).is_none());
    // Type 27 long-range report: whole knots.
    let obs = to_observation(&msgs[1], Timestamp::from_millis(0)).expect("observation");
    assert_eq!(obs.properties.get("long_range"), Some(&PropertyValue::Bool(true)));
    assert!((obs.speed.expect("speed") - 57.0 * KNOT).abs() < 1e-9);
    let p = obs.position.expect("position");
    assert!((p.lon - 137.0233).abs() < 1e-3 && (p.lat - 4.84).abs() < 1e-3);
}
