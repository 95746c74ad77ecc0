//! Property tests: arbitrary input never panics; encoded fields decode back exactly.

use proptest::prelude::*;
use twin_core::Timestamp;
use twin_ingest::ais::{to_gpsd_json, to_observation, AisMessage, Decoder};

mod common;
use common::{with_checksum, Type1};

fn feed(decoder: &mut Decoder, line: &str, now: i64) {
    if let Some(Ok(d)) = decoder.push(line, Timestamp::from_millis(now)) {
        // Every downstream conversion must cope with whatever decoded.
        let _ = to_gpsd_json(&d.message);
        if let Some(obs) = to_observation(&d.message, Timestamp::from_millis(now)) {
            obs.validate().expect("observations from decoded messages are valid");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut d = Decoder::default();
        for (i, line) in String::from_utf8_lossy(&bytes).split('\n').enumerate() {
            feed(&mut d, line, i as i64);
        }
        let _ = d.finish();
    }

    /// Well-formed sentences (valid checksum) around arbitrary payloads reach the bit decoder.
    #[test]
    fn random_payloads_never_panic(
        payload in "[0-W`-w]{0,200}",
        fill in 0u8..8,
        total in 1u8..4,
        number in 1u8..4,
        seq in proptest::option::of(0u8..10),
    ) {
        let seq = seq.map(|s| s.to_string()).unwrap_or_default();
        let line = with_checksum(&format!("AIVDM,{total},{number},{seq},A,{payload},{fill}"));
        let mut d = Decoder::new(1_000);
        feed(&mut d, &line, 0);
        feed(&mut d, &line, 2_000);
        let _ = d.finish();
    }

    #[test]
    fn type1_fields_round_trip(
        mmsi in 0u32..(1 << 30),
        status in 0u8..16,
        turn in any::<i8>(),
        speed in 0u16..1024,
        accuracy in any::<bool>(),
        lon in -108_000_000i32..=108_600_000,
        lat in -54_000_000i32..=54_600_000,
        course in 0u16..4096,
        heading in 0u16..512,
        second in 0u8..64,
    ) {
        let t = Type1 { mmsi, status, turn, speed_tenths: speed, accuracy, lon_e4min: lon, lat_e4min: lat,
            course_tenths: course, heading, second };
        let mut d = Decoder::default();
        let got = d.push(&t.encode(), Timestamp::from_millis(0));
        let Some(Ok(decoded)) = got else { panic!("{got:?}") };
        let AisMessage::Position(p) = decoded.message else { panic!("not a position") };
        prop_assert_eq!(p.header.mmsi, mmsi);
        prop_assert_eq!(p.status, status);
        prop_assert_eq!(p.turn, (turn != -128).then_some(turn));
        prop_assert_eq!(p.speed, (speed != 1023).then(|| f64::from(speed) / 10.0));
        prop_assert_eq!(p.accuracy, accuracy);
        prop_assert_eq!(p.lon, (lon != 108_600_000).then(|| f64::from(lon) / 600_000.0));
        prop_assert_eq!(p.lat, (lat != 54_600_000).then(|| f64::from(lat) / 600_000.0));
        prop_assert_eq!(p.course, (course != 3600).then(|| f64::from(course) / 10.0));
        prop_assert_eq!(p.heading, (heading != 511).then_some(heading));
        prop_assert_eq!(p.second, second);
    }
}
