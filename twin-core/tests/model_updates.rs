//! How observations become entity state: creation, merging, late data, tracks, expiry, removal,
//! snapshots and query argument checks.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use h3o::Resolution;
use twin_core::{
    BBox, Change, EntityKind, Error, KindFilter, Observation, Position, PropertyValue, Timestamp, Twin, TwinConfig,
    TwinParts,
};

fn obs(kind: EntityKind, id: &str, t: i64) -> Observation {
    Observation::new(kind, id, Timestamp(t))
}

#[test]
fn first_sight_creates_then_updates_merge() {
    let mut twin = Twin::new(TwinConfig::default());
    let mut a = obs(EntityKind::Bus, "43B-123.45", 1_000).at(108.21, 16.06);
    a.heading = Some(90.0);
    a.speed = Some(8.3);
    a.source = "gps".into();
    a.properties.insert("route".into(), PropertyValue::Text("R1".into()));
    a.properties.insert("load".into(), PropertyValue::Int(10));
    let first = twin.apply_batch(&[a]);
    let id = twin.id_of(EntityKind::Bus, "43B-123.45").unwrap();
    assert_eq!(first.changes, vec![Change::Upserted(id)]);

    let mut b = obs(EntityKind::Bus, "43B-123.45", 6_000);
    b.properties.insert("load".into(), PropertyValue::Int(25));
    b.status = Some("in_service".into());
    b.source = "gtfs-rt".into();
    twin.apply_batch(&[b]);

    let e = twin.get(id).unwrap();
    assert_eq!(e.position, Some(Position::new(108.21, 16.06)), "no position in the update keeps the old one");
    assert_eq!((e.heading, e.speed), (Some(90.0), Some(8.3)));
    assert_eq!(e.status.as_deref(), Some("in_service"));
    assert_eq!(e.properties.get("route"), Some(&PropertyValue::Text("R1".into())));
    assert_eq!(e.properties.get("load"), Some(&PropertyValue::Int(25)));
    assert_eq!((e.last_seen, e.source.as_str()), (Timestamp(6_000), "gtfs-rt"));
    assert_eq!(e.mean_interval_ms, 5_000.0);
    assert_eq!(e.track.len(), 1);
    assert_eq!(twin.len(), 1);
    twin.check_invariants().unwrap();
}

#[test]
fn same_external_id_of_another_kind_is_another_entity() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[obs(EntityKind::Bus, "7", 0).at(108.2, 16.0), obs(EntityKind::Vessel, "7", 0).at(108.3, 16.1)]);
    assert_eq!(twin.len(), 2);
    assert_ne!(twin.id_of(EntityKind::Bus, "7"), twin.id_of(EntityKind::Vessel, "7"));
    assert_eq!(twin.counts().get(EntityKind::Bus), 1);
    assert_eq!(twin.in_bbox(BBox::WORLD, KindFilter::only(EntityKind::Vessel)).len(), 1);
}

#[test]
fn a_vessel_found_to_be_fishing_stays_one_entity() {
    let mut twin = Twin::new(TwinConfig::default());
    // Position report first (kind unknown, filed as a vessel), then static data: ship type 30.
    twin.apply_batch(&[obs(EntityKind::Vessel, "574001230", 1_000).at(108.25, 16.12)]);
    let id = twin.id_of(EntityKind::Vessel, "574001230").unwrap();
    let mut fishing = obs(EntityKind::FishingBoat, "574001230", 2_000);
    fishing.properties.insert("shipname".into(), PropertyValue::Text("QNa 90123 TS".into()));
    let applied = twin.apply_batch(&[fishing]);

    assert_eq!(applied.changes, vec![Change::Upserted(id)], "same entity, same id");
    assert_eq!(twin.len(), 1);
    assert_eq!(twin.id_of(EntityKind::Vessel, "574001230"), None);
    assert_eq!(twin.id_of(EntityKind::FishingBoat, "574001230"), Some(id));
    let e = twin.get(id).unwrap();
    assert_eq!(e.kind, EntityKind::FishingBoat);
    assert_eq!(e.position, Some(Position::new(108.25, 16.12)), "position kept across the change");
    assert_eq!(e.name(), "QNa 90123 TS");
    assert_eq!((twin.counts().get(EntityKind::Vessel), twin.counts().get(EntityKind::FishingBoat)), (0, 1));
    assert_eq!(twin.in_bbox(BBox::WORLD, KindFilter::only(EntityKind::Vessel)).len(), 0);
    assert_eq!(twin.in_bbox(BBox::WORLD, KindFilter::only(EntityKind::FishingBoat)).len(), 1);
    twin.check_invariants().unwrap();

    // A position report filed as a plain vessel (a decoder restarted without the static data)
    // updates the fishing boat instead of demoting it.
    twin.apply_batch(&[obs(EntityKind::Vessel, "574001230", 3_000).at(108.26, 16.13)]);
    assert_eq!(twin.len(), 1);
    let e = twin.get(id).unwrap();
    assert_eq!(e.kind, EntityKind::FishingBoat);
    assert_eq!(e.position, Some(Position::new(108.26, 16.13)));
    assert_eq!(twin.nearest(Position::new(108.26, 16.13), 1, KindFilter::only(EntityKind::FishingBoat)).len(), 1);
    twin.check_invariants().unwrap();
}

#[test]
fn invalid_observations_are_refused_and_change_nothing() {
    let mut twin = Twin::new(TwinConfig::default());
    let mut bad_speed = obs(EntityKind::Bus, "b", 0).at(108.2, 16.0);
    bad_speed.speed = Some(-1.0);
    let batch = [
        obs(EntityKind::Bus, "a", 0).at(200.0, 16.0),
        obs(EntityKind::Bus, "", 0),
        bad_speed,
        obs(EntityKind::Bus, "ok", 0),
    ];
    let applied = twin.apply_batch(&batch);
    let refused: Vec<usize> = applied.rejected.iter().map(|(i, _)| *i).collect();
    assert_eq!(refused, vec![0, 1, 2]);
    assert_eq!(applied.changes.len(), 1);
    assert_eq!(twin.len(), 1);
    twin.check_invariants().unwrap();
}

#[test]
fn late_observations_only_extend_the_track() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[
        obs(EntityKind::Vessel, "m", 10_000).at(108.25, 16.10),
        obs(EntityKind::Vessel, "m", 30_000).at(108.26, 16.11),
    ]);
    let mut late = obs(EntityKind::Vessel, "m", 20_000).at(108.0, 15.0);
    late.speed = Some(3.0);
    late.properties.insert("late".into(), PropertyValue::Bool(true));
    twin.apply_batch(&[late]);
    let e = twin.entities().next().unwrap();
    assert_eq!(e.position, Some(Position::new(108.26, 16.11)));
    assert_eq!((e.last_seen, e.speed), (Timestamp(30_000), None));
    assert!(e.properties.is_empty());
    let times: Vec<i64> = e.track.iter().map(|p| p.time.0).collect();
    assert_eq!(times, vec![10_000, 20_000, 30_000]);
    assert!(twin.in_bbox(BBox::new(107.9, 14.9, 108.1, 15.1).unwrap(), KindFilter::ALL).is_empty());
    twin.check_invariants().unwrap();
}

#[test]
fn tracks_are_bounded_by_count_and_age() {
    let config = TwinConfig { track_capacity: 3, track_max_age_ms: 25_000, ..TwinConfig::default() };
    let mut twin = Twin::new(config);
    for t in 0..5 {
        twin.apply_batch(&[obs(EntityKind::Bus, "b", t * 1_000).at(108.2 + t as f64 * 1e-3, 16.0)]);
    }
    let times: Vec<i64> = twin.entities().next().unwrap().track.iter().map(|p| p.time.0).collect();
    assert_eq!(times, vec![2_000, 3_000, 4_000]);
    twin.apply_batch(&[obs(EntityKind::Bus, "b", 28_000).at(108.3, 16.0)]);
    let times: Vec<i64> = twin.entities().next().unwrap().track.iter().map(|p| p.time.0).collect();
    assert_eq!(times, vec![3_000, 4_000, 28_000]);
    twin.apply_batch(&[obs(EntityKind::Bus, "b", 30_000).at(108.3, 16.0)]);
    let times: Vec<i64> = twin.entities().next().unwrap().track.iter().map(|p| p.time.0).collect();
    assert_eq!(times, vec![28_000, 30_000], "points older than 25 s before the newest are dropped");
}

#[test]
fn mean_interval_is_smoothed() {
    let mut twin = Twin::new(TwinConfig::default());
    for t in [0, 10_000, 20_000, 40_000] {
        twin.apply_batch(&[obs(EntityKind::FloodSensor, "s", t)]);
    }
    // 10 s, then 10 s (unchanged), then 20 s: 10 + 0.2 × (20 − 10) = 12 s.
    assert!((twin.entities().next().unwrap().mean_interval_ms - 12_000.0).abs() < 1e-9);
}

#[test]
fn tick_expires_silent_entities_of_kinds_with_expiry() {
    let config = TwinConfig::default().with_expiry(EntityKind::Detection, Some(5_000));
    let mut twin = Twin::new(config);
    twin.apply_batch(&[
        obs(EntityKind::Detection, "d1", 0).at(108.2, 16.0),
        obs(EntityKind::Detection, "d2", 4_000).at(108.2, 16.0),
        obs(EntityKind::Camera, "c", 0).at(108.2, 16.0),
    ]);
    let applied = twin.tick(Timestamp(5_000));
    assert!(applied.changes.is_empty(), "silent for exactly the expiry is kept");
    let applied = twin.tick(Timestamp(5_001));
    let removed: Vec<&str> = applied
        .changes
        .iter()
        .map(|c| match c {
            Change::Removed(e) => e.external_id.as_str(),
            Change::Upserted(_) => panic!("tick upserted"),
        })
        .collect();
    assert_eq!(removed, vec!["d1"]);
    assert_eq!(twin.len(), 2);
    assert_eq!(twin.within_radius(Position::new(108.2, 16.0), 1.0, KindFilter::ALL).len(), 2);
    assert_eq!(twin.h3_counts(BBox::WORLD, Resolution::Nine, KindFilter::ALL).unwrap()[0].counts.total(), 2);
    twin.check_invariants().unwrap();
    // Seen again after expiry: a new entity with a new id.
    let old = twin.id_of(EntityKind::Detection, "d2");
    twin.tick(Timestamp(100_000));
    twin.apply_batch(&[obs(EntityKind::Detection, "d2", 100_000)]);
    assert!(twin.id_of(EntityKind::Detection, "d2") > old);
}

#[test]
fn remove_clears_every_index() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[
        obs(EntityKind::Ambulance, "a1", 0).at(108.2, 16.0),
        obs(EntityKind::Ambulance, "a2", 0).at(108.2, 16.0),
    ]);
    let id = twin.id_of(EntityKind::Ambulance, "a1").unwrap();
    assert_eq!(twin.remove(id).map(|e| e.external_id), Some("a1".to_owned()));
    assert!(twin.remove(id).is_none());
    assert_eq!(twin.id_of(EntityKind::Ambulance, "a1"), None);
    let near: Vec<&str> = twin
        .nearest(Position::new(108.2, 16.0), 5, KindFilter::ALL)
        .iter()
        .map(|(e, _)| e.external_id.as_str())
        .collect();
    assert_eq!(near, vec!["a2"]);
    twin.check_invariants().unwrap();
}

#[test]
fn radius_and_nearest_use_metres_on_the_sphere() {
    let mut twin = Twin::new(TwinConfig::default());
    // 0.01° of longitude at 60° N is about 556 m, at the equator about 1112 m.
    twin.apply_batch(&[
        obs(EntityKind::Drone, "north", 0).at(10.01, 60.0),
        obs(EntityKind::Drone, "equator", 0).at(10.01, 0.0),
    ]);
    let near_north = twin.within_radius(Position::new(10.0, 60.0), 600.0, KindFilter::ALL);
    assert_eq!(near_north.len(), 1);
    assert!((near_north[0].1 - 556.0).abs() < 2.0, "{}", near_north[0].1);
    assert!(twin.within_radius(Position::new(10.0, 0.0), 600.0, KindFilter::ALL).is_empty());
    let k = twin.nearest(Position::new(10.0, 0.0), 1, KindFilter::ALL);
    assert_eq!(k[0].0.external_id, "equator");
}

#[test]
fn queries_across_the_antimeridian_and_poles() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[
        obs(EntityKind::Vessel, "east", 0).at(179.9995, -17.0),
        obs(EntityKind::Vessel, "pole", 0).at(-120.0, 89.9999),
    ]);
    let west_of_line = twin.within_radius(Position::new(-179.9995, -17.0), 200.0, KindFilter::ALL);
    assert_eq!(west_of_line.len(), 1);
    let k = twin.nearest(Position::new(-179.9995, -17.0), 1, KindFilter::ALL);
    assert_eq!(k[0].0.external_id, "east");
    let across_pole = twin.within_radius(Position::new(60.0, 89.9999), 50.0, KindFilter::ALL);
    assert_eq!(across_pole.len(), 1);
}

#[test]
fn h3_resolution_finer_than_the_index_is_refused() {
    let twin = Twin::new(TwinConfig { h3_resolution: Resolution::Seven, ..TwinConfig::default() });
    let err = twin.h3_counts(BBox::WORLD, Resolution::Eight, KindFilter::ALL).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery { field: "res", .. }));
    assert!(twin.h3_counts(BBox::WORLD, Resolution::Seven, KindFilter::ALL).unwrap().is_empty());
}

#[test]
fn from_parts_refuses_inconsistent_snapshots() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[obs(EntityKind::Bus, "a", 0).at(108.2, 16.0), obs(EntityKind::Bus, "b", 0)]);
    let good = twin.to_parts();
    let rebuild = |parts: TwinParts| Twin::from_parts(TwinConfig::default(), Default::default(), parts);
    assert_eq!(rebuild(good.clone()).unwrap().to_parts(), good);

    let mut dup = good.clone();
    dup.entities[1].id = dup.entities[0].id;
    assert!(matches!(rebuild(dup), Err(Error::InvalidParts(_))));
    let mut beyond = good.clone();
    beyond.next_id = 1;
    assert!(matches!(rebuild(beyond), Err(Error::InvalidParts(_))));
    let mut same_key = good.clone();
    same_key.entities[1].external_id = "a".into();
    assert!(matches!(rebuild(same_key), Err(Error::InvalidParts(_))));
    let mut bad_pos = good;
    bad_pos.entities[0].position = Some(Position::new(f64::NAN, 0.0));
    assert!(matches!(rebuild(bad_pos), Err(Error::InvalidParts(_))));
}

#[test]
fn ids_continue_after_a_rebuild() {
    let mut twin = Twin::new(TwinConfig::default());
    twin.apply_batch(&[obs(EntityKind::Bus, "a", 0), obs(EntityKind::Bus, "b", 0)]);
    let b = twin.id_of(EntityKind::Bus, "b").unwrap();
    twin.remove(b);
    let mut rebuilt = Twin::from_parts(TwinConfig::default(), Default::default(), twin.to_parts()).unwrap();
    rebuilt.apply_batch(&[obs(EntityKind::Bus, "c", 0)]);
    assert!(rebuilt.id_of(EntityKind::Bus, "c").unwrap() > b, "ids are never reused");
}

#[test]
fn the_model_can_be_shared_between_threads() {
    // Readers query a shared model while one writer applies batches.
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Twin>();
}

#[test]
fn alerts_are_numbered_kept_in_a_bounded_ring_and_survive_a_rebuild() {
    use geo::{polygon, MultiPolygon};
    use twin_core::rules::Geofence;
    use twin_core::{AlertId, RuleSet, Severity};

    let fence = Geofence {
        id: "port".into(),
        name: "Port".into(),
        area: MultiPolygon(vec![
            polygon![(x: 108.2, y: 16.0), (x: 108.3, y: 16.0), (x: 108.3, y: 16.1), (x: 108.2, y: 16.1)],
        ]),
        kinds: KindFilter::ALL,
        hysteresis_m: 0.0,
        alert_on_enter: true,
        alert_on_exit: false,
        severity: Severity::Minor,
    };
    let rules = RuleSet { geofences: vec![fence], ..RuleSet::default() };
    let config = TwinConfig { alert_capacity: 2, ..TwinConfig::default() };
    let mut twin = Twin::with_rules(config.clone(), rules.clone()).unwrap();
    let outside: Vec<Observation> =
        ["a", "b", "c"].iter().map(|id| obs(EntityKind::Vessel, id, 0).at(108.0, 15.9)).collect();
    assert!(twin.apply_batch(&outside).alerts.is_empty());
    let inside: Vec<Observation> =
        ["a", "b", "c"].iter().map(|id| obs(EntityKind::Vessel, id, 1_000).at(108.25, 16.05)).collect();
    let applied = twin.apply_batch(&inside);
    let ids: Vec<AlertId> = applied.alerts.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![AlertId(0), AlertId(1), AlertId(2)]);
    let kept: Vec<AlertId> = twin.alerts().iter().map(|a| a.id).collect();
    assert_eq!(kept, vec![AlertId(1), AlertId(2)], "the ring keeps the newest alert_capacity alerts");
    twin.check_invariants().unwrap();

    let mut rebuilt = Twin::from_parts(config, rules, twin.to_parts()).unwrap();
    assert_eq!(rebuilt.alerts(), twin.alerts());
    let more =
        [obs(EntityKind::Vessel, "a", 2_000).at(108.26, 16.05), obs(EntityKind::Vessel, "d", 2_000).at(108.0, 15.9)];
    assert!(rebuilt.apply_batch(&more).alerts.is_empty(), "rule state survived: no repeated enter");
    let applied = rebuilt.apply_batch(&[obs(EntityKind::Vessel, "d", 3_000).at(108.25, 16.05)]);
    assert_eq!(applied.alerts.iter().map(|a| a.id).collect::<Vec<_>>(), vec![AlertId(3)]);
}
