//! Counts and fields against pyais 3.3.1 decodes of the MarineTraffic sample
//! (tests/data/ais/pyais, MIT): 778 messages decode, 100 empty-payload sentences are rejected.

use serde_json::Value;
use twin_ingest::ais::{decode_text, AisError, AisMessage};

fn read(name: &str) -> String {
    let path = format!("{}/tests/data/ais/pyais/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn close(a: Option<f64>, b: &Value, tol: f64) -> bool {
    match (a, b.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() <= tol,
        _ => false,
    }
}

#[test]
fn marine_traffic_sample_counts_and_fields_match_pyais() {
    let golden: Vec<Value> =
        read("pyais_nmea_data_sample.decoded.jsonl").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let gold_ok: Vec<&Value> = golden.iter().filter_map(|g| g.get("decoded")).collect();
    let gold_err = golden.iter().filter(|g| g.get("error").is_some()).count();
    assert_eq!((gold_ok.len(), gold_err), (778, 100), "golden file itself");

    let results = decode_text(&read("nmea_data_sample.txt"));
    let ours: Vec<AisMessage> = results.iter().filter_map(|r| r.as_ref().ok()).map(|d| d.message.clone()).collect();
    let errors: Vec<AisError> = results.iter().filter_map(|r| r.as_ref().err()).map(|e| e.error).collect();
    let truncated = errors.iter().filter(|e| matches!(e, AisError::TruncatedPayload { bits: 0, .. })).count();
    // pyais silently drops the 20 first fragments whose second fragment never comes; we report them.
    let orphans = errors.iter().filter(|e| matches!(e, AisError::OrphanFragments { have: 1, total: 2, .. })).count();
    assert_eq!(ours.len(), gold_ok.len(), "decoded messages");
    assert_eq!(truncated, gold_err, "rejected empty payloads");
    assert_eq!(orphans, 20, "orphaned first fragments");
    assert_eq!(errors.len(), truncated + orphans, "no other rejections: {errors:?}");

    let mut checked_positions = 0;
    for (i, (m, g)) in ours.iter().zip(&gold_ok).enumerate() {
        assert_eq!(Some(u64::from(m.msg_type())), g["msg_type"].as_u64(), "message {i}");
        assert_eq!(Some(u64::from(m.mmsi())), g["mmsi"].as_u64(), "message {i}");
        // pyais rounds positions to 6 decimals and reports "not available" as the raw code.
        let na = |lon: Option<f64>, lat: Option<f64>| (Some(lon.unwrap_or(181.0)), Some(lat.unwrap_or(91.0)));
        match m {
            AisMessage::Position(p) => {
                let (lon, lat) = na(p.lon, p.lat);
                assert!(close(lon, &g["lon"], 1e-6) && close(lat, &g["lat"], 1e-6), "message {i}: {p:?} vs {g}");
                assert!(close(Some(p.speed.unwrap_or(102.3)), &g["speed"], 1e-9), "message {i} speed");
                assert!(close(Some(p.course.unwrap_or(360.0)), &g["course"], 1e-9), "message {i} course");
                assert_eq!(Some(u64::from(p.heading.unwrap_or(511))), g["heading"].as_u64(), "message {i}");
                assert_eq!(Some(u64::from(p.status)), g["status"].as_u64(), "message {i}");
                assert_eq!(Some(u64::from(p.second)), g["second"].as_u64(), "message {i}");
                assert_eq!(Some(u64::from(p.radio)), g["radio"].as_u64(), "message {i}");
                checked_positions += 1;
            }
            AisMessage::ClassBPosition(p) => {
                let (lon, lat) = na(p.lon, p.lat);
                assert!(close(lon, &g["lon"], 1e-6) && close(lat, &g["lat"], 1e-6), "message {i}");
                assert!(close(Some(p.speed.unwrap_or(102.3)), &g["speed"], 1e-9), "message {i} speed");
                assert_eq!(Some(p.cs), g["cs"].as_bool(), "message {i}");
                checked_positions += 1;
            }
            AisMessage::BaseStation(b) => {
                assert_eq!(Some(u64::from(b.time.year)), g["year"].as_u64(), "message {i}");
                assert_eq!(Some(u64::from(b.time.second)), g["second"].as_u64(), "message {i}");
                assert!(close(na(b.lon, b.lat).0, &g["lon"], 1e-6), "message {i}");
            }
            AisMessage::StaticDataA(a) => assert_eq!(Some(a.shipname.as_str()), g["shipname"].as_str()),
            AisMessage::StaticDataB(b) => {
                assert_eq!(Some(b.callsign.as_str()), g["callsign"].as_str());
                assert_eq!(Some(u64::from(b.shiptype)), g["ship_type"].as_u64());
                assert_eq!(Some(u64::from(b.dimensions.to_bow)), g["to_bow"].as_u64());
            }
            _ => {}
        }
    }
    assert!(checked_positions > 700, "checked {checked_positions} position reports");
}

/// pyais's own test: a file with comments and blank lines yields exactly 6 messages.
#[test]
fn comments_and_blank_lines_are_skipped() {
    let results = decode_text(&read("messages.ais"));
    assert_eq!(results.len(), 6);
    assert!(results.iter().all(Result::is_ok));
}

/// A robustness file with other NMEA sentences, garbage, tag blocks and Gatehouse wrappers: the
/// AIS sentences decode, everything else is rejected with a reason, nothing panics.
#[test]
fn mixed_content_decodes_ais_and_rejects_the_rest() {
    let results = decode_text(&read("mixed.txt"));
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let not_ais = results.iter().filter(|r| matches!(r, Err(e) if e.error == AisError::NotAis)).count();
    // $GPGGA, $GPRTE, $GPR00, foobar, $IIMWV, IamNotAnAisMessage1111, 2 x $PGHP.
    assert_eq!(not_ais, 8);
    // Tagged multi-sentence type 5 from station b003669710 comes through with its receiver time.
    let tagged = ok.iter().find(|d| d.station.as_deref() == Some("b003669710")).expect("tagged message");
    assert_eq!(tagged.message.msg_type(), 5);
    assert_eq!(tagged.receiver_time_ms, Some(1_428_621_738_000));
    assert!(ok.len() >= 10, "{} decoded", ok.len());
}
