//! Property tests: after any random sequence of operations every query answers what a brute-force
//! scan of all entities answers, the model agrees with a tiny reference of what it should hold, and
//! its internal invariants hold.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use std::collections::{BTreeMap, HashMap};

use geo::{Intersects, LineString, MultiPolygon, Polygon};
use h3o::{LatLng, Resolution};
use proptest::prelude::*;
use twin_core::geodesy::distance_m;
use twin_core::{BBox, Entity, EntityId, EntityKind, KindFilter, Observation, Position, Timestamp, Twin, TwinConfig};

const KINDS: [EntityKind; 3] = [EntityKind::Bus, EntityKind::Vessel, EntityKind::FloodSensor];
const EXPIRY_MS: i64 = 120_000;

#[derive(Debug, Clone)]
enum Op {
    /// One batch; external ids come from a pool small enough for frequent updates and large enough
    /// (up to 160 per kind) that the R-trees split into several levels.
    Upsert(Vec<(usize, u8, i64, Option<Position>)>),
    Remove(usize),
    Tick(i64),
}

/// Positions: mostly a Da Nang-sized box (some snapped to a grid so they land on polygon edges and
/// bbox edges), plus anywhere on Earth, the antimeridian, the poles and the exact extremes.
fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        4 => (108.1..108.35f64, 15.95..16.15f64).prop_map(|(lon, lat)| Position::new(lon, lat)),
        2 => (0..=10u8, 0..=8u8).prop_map(|(i, j)| Position::new(108.1 + f64::from(i) * 0.025, 15.95 + f64::from(j) * 0.025)),
        1 => (-180.0..=180.0f64, -90.0..=90.0f64).prop_map(|(lon, lat)| Position::new(lon, lat)),
        1 => (prop_oneof![179.0..=180.0f64, -180.0..=-179.0f64], -60.0..60.0f64).prop_map(|(lon, lat)| Position::new(lon, lat)),
        1 => (-180.0..=180.0f64, prop_oneof![89.0..=90.0f64, -90.0..=-89.0f64]).prop_map(|(lon, lat)| Position::new(lon, lat)),
        1 => (prop_oneof![Just(-180.0), Just(180.0), Just(0.0)], prop_oneof![Just(-90.0), Just(90.0), Just(0.0)])
            .prop_map(|(lon, lat)| Position::new(lon, lat)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => proptest::collection::vec(
            (0..KINDS.len(), 0..160u8, -20_000..20_000i64, proptest::option::weighted(0.85, position())),
            1..40,
        )
        .prop_map(Op::Upsert),
        1 => (0..200usize).prop_map(Op::Remove),
        1 => (0..150_000i64).prop_map(Op::Tick),
    ]
}

fn config() -> TwinConfig {
    let c = TwinConfig { track_capacity: 4, track_max_age_ms: 60_000, ..TwinConfig::default() };
    c.with_expiry(EntityKind::Bus, Some(EXPIRY_MS))
}

/// Applies the operations to a model and to a reference map of (kind, external id) → (last seen,
/// position); checks the invariants after every step.
fn run(ops: &[Op]) -> Twin {
    let mut twin = Twin::new(config());
    let mut reference: HashMap<(EntityKind, String), (Timestamp, Option<Position>)> = HashMap::new();
    let mut clock = 1_000_000i64;
    for op in ops {
        match op {
            Op::Upsert(batch) => {
                let observations: Vec<Observation> = batch
                    .iter()
                    .map(|(kind, ext, dt, pos)| {
                        let mut obs = Observation::new(KINDS[*kind], format!("x{ext}"), Timestamp(clock + dt));
                        obs.position = *pos;
                        obs
                    })
                    .collect();
                let applied = twin.apply_batch(&observations);
                assert!(applied.rejected.is_empty());
                assert_eq!(applied.changes.len(), observations.len());
                for obs in observations {
                    let entry = reference.entry((obs.kind, obs.external_id)).or_insert((obs.time, None));
                    if obs.time >= entry.0 {
                        entry.0 = obs.time;
                        entry.1 = obs.position.or(entry.1);
                    }
                }
            }
            Op::Remove(i) => {
                let victim = twin.entities().nth(*i).map(|e| (e.id, e.kind, e.external_id.clone()));
                if let Some((id, kind, ext)) = victim {
                    assert_eq!(twin.remove(id).map(|e| e.id), Some(id));
                    reference.remove(&(kind, ext));
                    assert!(twin.get(id).is_none());
                }
            }
            Op::Tick(advance) => {
                clock += advance;
                twin.tick(Timestamp(clock));
                reference.retain(|(kind, _), (seen, _)| *kind != EntityKind::Bus || clock - seen.0 <= EXPIRY_MS);
            }
        }
        twin.check_invariants().unwrap();
    }
    assert_eq!(twin.len(), reference.len());
    for ((kind, ext), (seen, pos)) in &reference {
        let e = twin.get(twin.id_of(*kind, ext).unwrap()).unwrap();
        assert_eq!((e.last_seen, e.position), (*seen, *pos), "{kind} {ext}");
    }
    twin
}

fn positioned(twin: &Twin, kinds: KindFilter) -> impl Iterator<Item = (&Entity, Position)> {
    twin.entities().filter(move |e| kinds.contains(e.kind)).filter_map(|e| e.position.map(|p| (e, p)))
}

fn ids(v: &[&Entity]) -> Vec<EntityId> {
    v.iter().map(|e| e.id).collect()
}

fn brute_radius(twin: &Twin, c: Position, r: f64, kinds: KindFilter) -> Vec<(EntityId, f64)> {
    let mut v: Vec<(EntityId, f64)> =
        positioned(twin, kinds).map(|(e, p)| (e.id, distance_m(c, p))).filter(|(_, d)| *d <= r).collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    v
}

fn brute_h3(twin: &Twin, bbox: BBox, res: Resolution, kinds: KindFilter) -> BTreeMap<h3o::CellIndex, [u32; 15]> {
    let mut out: BTreeMap<h3o::CellIndex, [u32; 15]> = BTreeMap::new();
    for (e, p) in positioned(twin, kinds) {
        let cell = LatLng::new(p.lat, p.lon).unwrap().to_cell(Resolution::Nine).parent(res).unwrap();
        let c = LatLng::from(cell);
        if bbox.contains(Position::new(c.lng(), c.lat())) {
            out.entry(cell).or_default()[e.kind.index()] += 1;
        }
    }
    out
}

fn kind_filter() -> impl Strategy<Value = KindFilter> {
    prop_oneof![
        Just(KindFilter::ALL),
        proptest::sample::subsequence(KINDS.to_vec(), 0..=KINDS.len()).prop_map(|ks| ks.into_iter().collect()),
    ]
}

fn bbox() -> impl Strategy<Value = BBox> {
    prop_oneof![
        Just(BBox::WORLD),
        (108.1..108.35f64, 15.95..16.15f64, 0.0..0.2f64, 0.0..0.2f64).prop_map(|(x, y, w, h)| BBox::new(
            x,
            y,
            (x + w).min(180.0),
            (y + h).min(90.0)
        )
        .unwrap()),
        (0..=10u8, 0..=8u8, 0..=4u8, 0..=4u8).prop_map(|(i, j, w, h)| {
            let (x, y) = (108.1 + f64::from(i) * 0.025, 15.95 + f64::from(j) * 0.025);
            BBox::new(x, y, x + f64::from(w) * 0.025, y + f64::from(h) * 0.025).unwrap()
        }),
        (-180.0..180.0f64, -90.0..90.0f64, 0.0..90.0f64, 0.0..45.0f64).prop_map(|(x, y, w, h)| BBox::new(
            x,
            y,
            (x + w).min(180.0),
            (y + h).min(90.0)
        )
        .unwrap()),
    ]
}

fn polygon() -> impl Strategy<Value = MultiPolygon<f64>> {
    // Vertices on the same grid as snapped positions so boundary cases occur; optionally a hole.
    let grid = (0..=10u8, 0..=8u8).prop_map(|(i, j)| (108.1 + f64::from(i) * 0.025, 15.95 + f64::from(j) * 0.025));
    (proptest::collection::vec(grid, 3..7), any::<bool>()).prop_map(|(pts, hole)| {
        let ring = LineString::from(pts);
        let interiors = if hole {
            vec![LineString::from(vec![(108.2, 16.0), (108.225, 16.0), (108.225, 16.025), (108.2, 16.025)])]
        } else {
            vec![]
        };
        MultiPolygon(vec![Polygon::new(ring, interiors)])
    })
}

fn center() -> impl Strategy<Value = Position> {
    prop_oneof![3 => position(), 1 => (0..=10u8, 0..=8u8).prop_map(|(i, j)| Position::new(108.1 + f64::from(i) * 0.025, 15.95 + f64::from(j) * 0.025))]
}

fn radius() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        1.0..100.0f64,
        100.0..20_000.0f64,
        Just(2_775.0),
        20_000.0..3_000_000.0f64,
        Just(2.0e7),
        Just(f64::INFINITY)
    ]
}

#[derive(Debug, Clone)]
struct Queries {
    bboxes: Vec<(BBox, KindFilter)>,
    circles: Vec<(Position, f64, KindFilter)>,
    knn: Vec<(Position, usize, KindFilter)>,
    polygons: Vec<(MultiPolygon<f64>, KindFilter)>,
}

fn queries() -> impl Strategy<Value = Queries> {
    (
        proptest::collection::vec((bbox(), kind_filter()), 4),
        proptest::collection::vec((center(), radius(), kind_filter()), 4),
        proptest::collection::vec((center(), 0..12usize, kind_filter()), 4),
        proptest::collection::vec((polygon(), kind_filter()), 3),
    )
        .prop_map(|(bboxes, circles, knn, polygons)| Queries { bboxes, circles, knn, polygons })
}

/// Every query against a brute-force scan of the entities.
fn check_queries(twin: &Twin, q: &Queries) {
    for (b, kinds) in &q.bboxes {
        let expected: Vec<EntityId> =
            positioned(twin, *kinds).filter(|(_, p)| b.contains(*p)).map(|(e, _)| e.id).collect();
        assert_eq!(ids(&twin.in_bbox(*b, *kinds)), expected, "bbox {b:?}");
        for res in [Resolution::Zero, Resolution::Four, Resolution::Seven, Resolution::Nine] {
            let got: BTreeMap<h3o::CellIndex, [u32; 15]> =
                twin.h3_counts(*b, res, *kinds).unwrap().into_iter().map(|c| (c.cell, c.counts.0)).collect();
            assert_eq!(got, brute_h3(twin, *b, res, *kinds), "h3 {res} in {b:?}");
        }
        assert!(twin.h3_counts(*b, Resolution::Ten, *kinds).is_err());
    }
    for (c, r, kinds) in &q.circles {
        let got: Vec<(EntityId, f64)> =
            twin.within_radius(*c, *r, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
        assert_eq!(got, brute_radius(twin, *c, *r, *kinds), "radius {r} around {c:?}");
    }
    for (c, k, kinds) in &q.knn {
        let got: Vec<(EntityId, f64)> = twin.nearest(*c, *k, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
        let mut expected = brute_radius(twin, *c, f64::INFINITY, *kinds);
        expected.truncate(*k);
        let dists = |v: &[(EntityId, f64)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
        // Distances must match exactly; among equal distances any entity is a right answer.
        assert_eq!(dists(&got), dists(&expected), "{k} nearest to {c:?}");
        for (id, d) in &got {
            assert_eq!(distance_m(*c, twin.get(*id).unwrap().position.unwrap()), *d);
        }
    }
    for (area, kinds) in &q.polygons {
        let expected: Vec<EntityId> = positioned(twin, *kinds)
            .filter(|(_, p)| area.intersects(&geo::Point::new(p.lon, p.lat)))
            .map(|(e, _)| e.id)
            .collect();
        assert_eq!(ids(&twin.within_polygon(area, *kinds)), expected);
    }
    let mut counts = [0u32; 15];
    twin.entities().for_each(|e| counts[e.kind.index()] += 1);
    assert_eq!(twin.counts().0, counts);
    assert_eq!(twin.len() as u64, twin.counts().total());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn queries_match_a_brute_force_scan(ops in proptest::collection::vec(op(), 0..40), q in queries()) {
        let twin = run(&ops);
        check_queries(&twin, &q);
    }

    #[test]
    fn a_model_rebuilt_from_its_parts_answers_the_same(ops in proptest::collection::vec(op(), 0..40), q in queries()) {
        let twin = run(&ops);
        let rebuilt = Twin::from_parts(twin.config().clone(), twin.rules().clone(), twin.to_parts()).unwrap();
        rebuilt.check_invariants().unwrap();
        prop_assert_eq!(rebuilt.to_parts(), twin.to_parts());
        check_queries(&rebuilt, &q);
        for (b, kinds) in &q.bboxes {
            prop_assert_eq!(ids(&rebuilt.in_bbox(*b, *kinds)), ids(&twin.in_bbox(*b, *kinds)));
            prop_assert_eq!(rebuilt.h3_counts(*b, Resolution::Six, *kinds), twin.h3_counts(*b, Resolution::Six, *kinds));
        }
        for (c, k, kinds) in &q.knn {
            let a: Vec<_> = rebuilt.nearest(*c, *k, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
            let b: Vec<_> = twin.nearest(*c, *k, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
            prop_assert_eq!(a, b);
        }
        for (c, r, kinds) in &q.circles {
            let a: Vec<_> = rebuilt.within_radius(*c, *r, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
            let b: Vec<_> = twin.within_radius(*c, *r, *kinds).into_iter().map(|(e, d)| (e.id, d)).collect();
            prop_assert_eq!(a, b);
        }
    }
}
