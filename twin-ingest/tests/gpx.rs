//! GPX: the real tracks against gpxpy's summaries, malformed documents, replay.
#![allow(clippy::unwrap_used)] // tests may unwrap

use serde_json::Value;
use twin_core::{EntityKind, Position, Timestamp};
use twin_ingest::gpx::{haversine_m, parse, replay, GpxError, ReplayOptions};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gps");
const TRACKS: &[&str] = &["around-visnjan-with-car", "korita-zbevnica"];

fn golden(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(format!("{DATA}/golden/{name}.summary.json")).unwrap()).unwrap()
}

fn gpx_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}.gpx")).unwrap()
}

fn iso_ms(v: &Value) -> Option<i64> {
    v.as_str().map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis())
}

#[test]
fn summaries_match_gpxpy() {
    for name in TRACKS {
        let g = golden(name);
        let gpx = parse(&gpx_bytes(name)).unwrap();
        assert_eq!(gpx.version.as_deref(), g["version"].as_str(), "{name}");
        assert_eq!(gpx.creator.as_deref(), g["creator"].as_str(), "{name}");
        assert_eq!(gpx.tracks.len() as u64, g["n_tracks"].as_u64().unwrap(), "{name}");
        assert_eq!(gpx.segment_count() as u64, g["n_segments"].as_u64().unwrap(), "{name}");
        assert_eq!(gpx.point_count() as u64, g["n_track_points"].as_u64().unwrap(), "{name}");
        assert_eq!(gpx.waypoints as u64, g["n_waypoints"].as_u64().unwrap(), "{name}");
        assert_eq!(gpx.routes as u64, g["n_routes"].as_u64().unwrap(), "{name}");

        let b = gpx.bounds().unwrap();
        let gb = &g["bounds"];
        assert_eq!(b.min_lat, gb["min_lat"].as_f64().unwrap(), "{name}");
        assert_eq!(b.max_lat, gb["max_lat"].as_f64().unwrap(), "{name}");
        assert_eq!(b.min_lon, gb["min_lon"].as_f64().unwrap(), "{name}");
        assert_eq!(b.max_lon, gb["max_lon"].as_f64().unwrap(), "{name}");

        let (start, end) = gpx.time_bounds().unwrap();
        assert_eq!(Some(start.as_millis()), iso_ms(&g["start_time"]), "{name}");
        assert_eq!(Some(end.as_millis()), iso_ms(&g["end_time"]), "{name}");
        assert_eq!(gpx.duration_s(), g["duration_s"].as_f64(), "{name}");

        // gpxpy measures short steps on a flat projection with its own metres per degree, we on
        // the IUGG mean sphere: the two differ by about 0.11 % on these tracks.
        for (ours, key) in [(gpx.length_2d(), "length_2d_m"), (gpx.length_3d(), "length_3d_m")] {
            let theirs = g[key].as_f64().unwrap();
            assert!((ours - theirs).abs() / theirs < 2e-3, "{name} {key}: {ours} vs {theirs}");
        }

        let first = gpx.points().next().unwrap();
        let gp = &g["first_point"];
        assert_eq!(first.lat, gp["lat"].as_f64().unwrap());
        assert_eq!(first.lon, gp["lon"].as_f64().unwrap());
        assert_eq!(first.ele, gp["ele"].as_f64());
        assert_eq!(first.time.map(Timestamp::as_millis), iso_ms(&gp["time"]));
    }
}

#[test]
fn malformed_documents_are_typed_errors() {
    assert!(matches!(parse(b"<gpx><trk><trkseg></trk></gpx>"), Err(GpxError::Xml { .. })));
    assert!(matches!(parse(b"<kml></kml>"), Err(GpxError::NotGpx(_))));
    assert!(matches!(parse(b""), Err(GpxError::NotGpx(_))));
    let bad_lat = br#"<gpx><trk><trkseg><trkpt lat="95" lon="10"/></trkseg></trk></gpx>"#;
    assert!(matches!(parse(bad_lat), Err(GpxError::BadValue { field: "lat", .. })));
    let no_lon = br#"<gpx><trk><trkseg><trkpt lat="15"></trkpt></trkseg></trk></gpx>"#;
    assert!(matches!(parse(no_lon), Err(GpxError::BadValue { field: "lon", .. })));
    let bad_time = br#"<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>noon</time></trkpt></trkseg></trk></gpx>"#;
    assert!(matches!(parse(bad_time), Err(GpxError::BadValue { field: "time", index: 0, .. })));
}

#[test]
fn replay_moves_the_track_and_compresses_time() {
    let gpx = parse(&gpx_bytes("around-visnjan-with-car")).unwrap();
    let points: Vec<_> = gpx.points().copied().collect();
    let start_at = Position::new(108.2208, 16.0678);
    let opts = ReplayOptions {
        kind: EntityKind::Ambulance,
        external_id: "amb-1".into(),
        start_time: Timestamp::from_millis(1_000_000),
        speedup: 4.0,
        start_at: Some(start_at),
        ..ReplayOptions::default()
    };
    let steps = replay(&points, &opts);
    assert_eq!(steps.len(), points.len());
    assert_eq!(steps[0].offset_ms, 0);
    assert_eq!(steps[0].observation.position, Some(start_at));
    let recorded_ms = gpx.duration_s().unwrap() * 1000.0;
    assert_eq!(steps.last().unwrap().offset_ms, (recorded_ms / 4.0).round() as i64);
    assert!(steps.windows(2).all(|w| w[0].offset_ms <= w[1].offset_ms));
    for (s, p) in steps.iter().zip(&points) {
        let o = &s.observation;
        assert_eq!(o.kind, EntityKind::Ambulance);
        assert_eq!(o.time, Timestamp::from_millis(1_000_000 + s.offset_ms));
        let q = o.position.unwrap();
        assert!((q.lon - start_at.lon - (p.lon - points[0].lon)).abs() < 1e-9);
        assert!((q.lat - start_at.lat - (p.lat - points[0].lat)).abs() < 1e-9);
        o.validate().unwrap();
    }
    // A step's speed is its recorded distance over its replayed duration.
    let (a, b) = (&steps[1], &steps[2]);
    let d = haversine_m(&points[1], &points[2]);
    let dt = (b.offset_ms - a.offset_ms) as f64 / 1000.0;
    assert!((b.observation.speed.unwrap() - d / dt).abs() < 1e-9);
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn mutated_track_never_panics(cut in 0usize..12231, flip in proptest::num::u8::ANY, at in 0usize..12231) {
        let mut bytes = gpx_bytes("around-visnjan-with-car");
        let n = bytes.len();
        bytes[at % n] = flip;
        bytes.truncate(cut % n);
        if let Ok(gpx) = parse(&bytes) {
            let points: Vec<_> = gpx.points().copied().collect();
            for s in replay(&points, &ReplayOptions::default()) {
                proptest::prop_assert!(s.observation.validate().is_ok());
            }
        }
    }
}
