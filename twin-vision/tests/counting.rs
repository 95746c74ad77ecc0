//! Counting lines, zones, speeds and alerts on synthetic tracks.
#![allow(clippy::unwrap_used)]

use twin_vision::counting::*;

const CAR: u32 = 2;
const MOTO: u32 = 3;

#[test]
fn directed_line_counts_each_track_once_per_class() {
    // Horizontal line across the road; traffic moving down the image crosses it forwards.
    let mut line = LineCounter::new((0.0, 300.0), (100.0, 300.0));
    let mut counted = 0;
    // Track 1 (car) crosses, jitters back and forth over the line, crosses again.
    for (i, y) in [280.0, 295.0, 305.0, 298.0, 310.0, 330.0].iter().enumerate() {
        counted += line.observe(1, CAR, (50.0, *y), i as i64 * 100) as u32;
    }
    // Track 2 (motorcycle) crosses in the same minute; track 3 goes the other way.
    for (i, y) in [250.0, 290.0, 320.0].iter().enumerate() {
        counted += line.observe(2, MOTO, (60.0, *y), 1_000 + i as i64 * 100) as u32;
        counted += line.observe(3, CAR, (40.0, 600.0 - *y), 1_000 + i as i64 * 100) as u32;
    }
    // Track 4 passes beside the segment's end: no crossing.
    for (i, y) in [280.0, 320.0].iter().enumerate() {
        counted += line.observe(4, CAR, (150.0, *y), 61_000 + i as i64 * 100) as u32;
    }
    // Track 5 crosses in the next minute.
    for (i, y) in [280.0, 320.0].iter().enumerate() {
        counted += line.observe(5, CAR, (20.0, *y), 61_000 + i as i64 * 100) as u32;
    }
    assert_eq!(counted, 3);
    let c: Vec<_> = line.counts().iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(c, vec![((0, CAR), 1), ((0, MOTO), 1), ((1, CAR), 1)]);
}

fn square(id: &str, kind: ZoneKind) -> Zone {
    Zone { id: id.into(), kind, polygon: vec![(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)] }
}

fn pt(track: u64, class: u32, x: f64, speed: Option<f64>, still_s: f64) -> TrackPoint {
    TrackPoint { track, class, pixel: (x, 50.0), speed, still_s }
}

#[test]
fn occupancy_counts_classes_inside_only() {
    let z = square("z", ZoneKind::Occupancy);
    let pts = [
        pt(1, CAR, 10.0, None, 0.0),
        pt(2, CAR, 20.0, None, 0.0),
        pt(3, 0, 30.0, None, 0.0),
        pt(4, CAR, 150.0, None, 0.0),
    ];
    let occ = occupancy(&z, &pts);
    assert_eq!(occ.get(&CAR), Some(&2));
    assert_eq!(occ.get(&0), Some(&1));
}

#[test]
fn speed_from_positions() {
    let mut s = SpeedEstimator::default();
    assert_eq!(s.observe(1, 0, 0.0, 0.0), None);
    // 10 m/s east, sampled at 5 fps.
    let mut v = None;
    for i in 1..=10 {
        v = s.observe(1, i * 200, i as f64 * 2.0, 0.0);
    }
    assert!((v.unwrap() - 10.0).abs() < 1e-9);
}

#[test]
fn level_of_service_and_congestion_index() {
    assert_eq!(level_of_service(13.0, 14.0), 'A');
    assert_eq!(level_of_service(7.5, 14.0), 'C');
    assert_eq!(level_of_service(1.0, 14.0), 'F');
    assert_eq!(congestion_index(14.0, 14.0), 0.0);
    assert_eq!(congestion_index(0.0, 14.0), 1.0);
    assert!((congestion_index(7.0, 14.0) - 0.5).abs() < 1e-12);
}

#[test]
fn alert_conditions() {
    let zones = [square("queue", ZoneKind::Occupancy)];
    let rules = AlertRules { jam_vehicles: 3, ..AlertRules::default() };
    let slow: Vec<_> = (0..4).map(|i| pt(i, MOTO, 10.0 + i as f64, Some(0.5), 0.0)).collect();
    assert_eq!(
        alerts(&zones, &slow, &rules),
        vec![Alert::Queue { zone: "queue".into(), vehicles: 4, mean_speed: 0.5 }]
    );
    let fast: Vec<_> = (0..4).map(|i| pt(i, MOTO, 10.0 + i as f64, Some(8.0), 0.0)).collect();
    assert!(alerts(&zones, &fast, &rules).is_empty());

    let zones = [
        square("kerb", ZoneKind::NoStopping),
        Zone {
            polygon: vec![(200.0, 0.0), (300.0, 0.0), (300.0, 100.0), (200.0, 100.0)],
            ..square("rail", ZoneKind::Restricted)
        },
    ];
    let pts = [
        pt(1, CAR, 50.0, Some(0.0), 45.0), // parked too long
        pt(2, CAR, 60.0, Some(0.0), 10.0), // just stopped
        pt(3, 0, 50.0, Some(0.0), 100.0),  // a person standing at the kerb is fine
        pt(4, 0, 250.0, Some(1.0), 0.0),   // a person on the tracks
        pt(5, CAR, 250.0, Some(1.0), 0.0), // a car in the restricted zone is not a person alert
    ];
    assert_eq!(
        alerts(&zones, &pts, &rules),
        vec![
            Alert::StoppedVehicle { zone: "kerb".into(), track: 1, still_s: 45.0 },
            Alert::PersonInRestrictedZone { zone: "rail".into(), track: 4 },
        ]
    );
}

#[test]
fn line_config_reads_from_pairs_and_drives_a_counter() {
    let cfg: LineConfig = serde_json::from_str(r#"{"id": "north", "from": [768, 216], "to": [0, 216]}"#).unwrap();
    assert_eq!(cfg, LineConfig { id: "north".into(), from: (768.0, 216.0), to: (0.0, 216.0) });
    // From right to left: a track moving up the image (y decreasing) crosses it forwards.
    let mut line = LineCounter::new(cfg.from, cfg.to);
    assert!(!line.observe(1, CAR, (300.0, 260.0), 0));
    assert!(line.observe(1, CAR, (300.0, 180.0), 500));
    assert!(serde_json::from_str::<LineConfig>(r#"{"id": "x", "from": [0, 0]}"#).is_err(), "`to` is required");
}
