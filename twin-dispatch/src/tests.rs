use geo::{Coord, Geometry, LineString};
use proptest::prelude::*;
use serde_json::json;
use twin_core::geodesy::distance_m;
use twin_core::{AgencyId, EntityKind, Position};
use twin_layers::roads::{EdgeId, RoadGraph};
use twin_layers::{Feature, Layer};

use crate::synthetic::{grid_layer, GRID_STEP_DEG};
use crate::*;

fn road(coords: &[(f64, f64)], tags: serde_json::Value) -> Feature {
    let line = LineString(coords.iter().map(|&(x, y)| Coord { x, y }).collect());
    Feature { geometry: Geometry::LineString(line), properties: tags.as_object().cloned().unwrap() }
}

fn dispatcher(features: Vec<Feature>) -> Dispatcher {
    Dispatcher::new(RoadGraph::from_layer(&Layer { name: "roads".into(), features })).unwrap()
}

/// One straight east-west road along the equator from lon 0 to lon 0.01 (1.113 km), 36 km/h
/// (10 m/s), with an inner vertex at 0.005.
fn straight(oneway: bool) -> Dispatcher {
    let mut tags = json!({"highway": "residential", "maxspeed": "36"});
    if oneway {
        tags["oneway"] = json!("yes");
    }
    dispatcher(vec![road(&[(0.0, 0.0), (0.005, 0.0), (0.01, 0.0)], tags)])
}

fn unit(id: &str, lon: f64, lat: f64) -> Candidate<String> {
    Candidate {
        id: id.into(),
        position: Position::new(lon, lat),
        kind: EntityKind::Ambulance,
        agency: Some(AgencyId("health".into())),
    }
}

const M_PER_DEG: f64 = 111_195.08;

#[test]
fn partial_edges_on_both_ends_count() {
    let d = straight(false);
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    // Case at 0.003 (334 m), units at 0.008 and 0.001, both a little off the road.
    let units = [unit("east", 0.008, 0.0001), unit("west", 0.001, -0.0001)];
    let r = d.recommend(Position::new(0.003, 0.0002), &units, |_| true, 5, &costs, &mut buf).unwrap();
    assert_eq!(r.best.len(), 2);
    assert_eq!(r.best[0].id, "west");
    let west_m = 0.002 * M_PER_DEG;
    let east_m = 0.005 * M_PER_DEG;
    assert!((r.best[0].road_m - west_m).abs() < 0.5, "{}", r.best[0].road_m);
    assert!((r.best[0].eta_s - west_m / 10.0).abs() < 0.05, "{}", r.best[0].eta_s);
    assert!((r.best[1].eta_s - east_m / 10.0).abs() < 0.05, "{}", r.best[1].eta_s);
    // The route runs from the unit's road point to the case's, through the inner vertex.
    let east = &r.best[1].route;
    assert_eq!(east.first(), Some(&[0.008, 0.0]));
    assert_eq!(east.last(), Some(&[0.003, 0.0]));
    assert!(east.contains(&[0.005, 0.0]));
    assert_eq!(r.snapped, [0.003, 0.0]);
    assert!((r.snap_offset_m - 0.0002 * M_PER_DEG).abs() < 0.5);
    assert!((r.best[1].crow_m - distance_m(Position::new(0.008, 0.0001), Position::new(0.003, 0.0002))).abs() < 1e-9);
    assert!(r.skipped.is_empty());
}

#[test]
fn one_way_street_leaves_the_unit_ahead_unreachable() {
    let d = straight(true);
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let units = [unit("behind", 0.001, 0.0), unit("ahead", 0.004, 0.0)];
    let r = d.recommend(Position::new(0.003, 0.0), &units, |_| true, 5, &costs, &mut buf).unwrap();
    assert_eq!(r.best.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["behind"]);
    assert!((r.best[0].eta_s - 0.002 * M_PER_DEG / 10.0).abs() < 0.05);
    assert_eq!(r.skipped, vec![Skipped { id: "ahead".into(), reason: SkipReason::Unreachable }]);
    // The ambulance "ahead" drives forward to the end of the road: a forward search.
    let dests = [Destination { id: "end".to_string(), position: Position::new(0.01, 0.0) }];
    let f = d.nearest_destinations(Position::new(0.004, 0.0), &dests, 1, &costs, &mut buf).unwrap();
    assert!((f.best[0].eta_s - 0.006 * M_PER_DEG / 10.0).abs() < 0.05);
    let back = [Destination { id: "start".to_string(), position: Position::new(0.0, 0.0) }];
    let f = d.nearest_destinations(Position::new(0.004, 0.0), &back, 1, &costs, &mut buf).unwrap();
    assert!(f.best.is_empty());
    assert_eq!(f.skipped[0].reason, SkipReason::Unreachable);
}

fn small_grid() -> Dispatcher {
    Dispatcher::new(RoadGraph::from_layer(&grid_layer(12, 12, (108.0, 16.0)))).unwrap()
}

fn grid_pos(c: f64, r: f64) -> Position {
    Position::new(108.0 + c * GRID_STEP_DEG, 16.0 + r * GRID_STEP_DEG)
}

#[test]
fn closing_the_best_route_reroutes_and_slower_speed_costs_time() {
    let d = small_grid();
    let mut buf = SearchBuffers::new();
    let units = [Candidate { position: grid_pos(2.0, 0.0), ..unit("u", 0.0, 0.0) }];
    let case = grid_pos(7.5, 0.0);
    let free = d.free_flow();
    let base = d.recommend(case, &units, |_| true, 1, &free, &mut buf).unwrap().best.remove(0);
    // Along the primary row 0 at 50 km/h: 5.5 steps.
    let steps_m = 5.5 * distance_m(grid_pos(0.0, 0.0), grid_pos(1.0, 0.0));
    assert!((base.road_m - steps_m).abs() < 1.0, "{} vs {steps_m}", base.road_m);
    assert!((base.eta_s - steps_m / (50.0 / 3.6)).abs() < 0.1);

    // Close the middle of the route (both directions): the unit detours, later.
    let mid = grid_pos(4.5, 0.0);
    let snap = d.snap(mid, &free).unwrap().unwrap();
    let mut closed = d.free_flow();
    for p in &snap.on {
        closed.close(p.edge).unwrap();
    }
    assert_eq!(closed.closed_count(), 2);
    let detour = d.recommend(case, &units, |_| true, 1, &closed, &mut buf).unwrap().best.remove(0);
    assert!(detour.eta_s > base.eta_s + 10.0, "{} vs {}", detour.eta_s, base.eta_s);
    assert!(detour.road_m > base.road_m + 150.0);
    // It leaves the arterial around the closed block and comes back.
    assert!(detour.route.iter().any(|c| c[1] > 16.0 + GRID_STEP_DEG / 2.0));
    assert!(!base.route.iter().any(|c| c[1] > 16.0));

    // A measured 10 km/h on the same edge: slower than free flow, faster than the detour or not,
    // but never the free-flow time.
    let mut slow = d.free_flow();
    for p in &snap.on {
        slow.set_speed(p.edge, 10.0).unwrap();
    }
    assert_eq!(slow.override_count(), 2);
    let slowed = d.recommend(case, &units, |_| true, 1, &slow, &mut buf).unwrap().best.remove(0);
    assert!(slowed.eta_s > base.eta_s + 1.0);
    assert!(slowed.eta_s <= detour.eta_s + 1e-9);
    // Reopening and clearing give back the free-flow answer exactly.
    for p in &snap.on {
        closed.reopen(p.edge).unwrap();
        slow.clear_speed(p.edge).unwrap();
    }
    assert_eq!((closed.closed_count(), slow.override_count()), (0, 0));
    assert_eq!(d.recommend(case, &units, |_| true, 1, &closed, &mut buf).unwrap().best[0], base);
    assert_eq!(d.recommend(case, &units, |_| true, 1, &slow, &mut buf).unwrap().best[0], base);
}

#[test]
fn a_case_on_a_closed_road_snaps_to_the_nearest_open_one() {
    let d = small_grid();
    let free = d.free_flow();
    let p = grid_pos(3.5, 4.0);
    let s = d.snap(p, &free).unwrap().unwrap();
    let mut closed = d.free_flow();
    for e in &s.on {
        closed.close(e.edge).unwrap();
    }
    let s2 = d.snap(p, &closed).unwrap().unwrap();
    assert!(s2.on.iter().all(|e| !closed.is_closed(e.edge)));
    assert!(s2.offset_m > 40.0, "moved to a parallel street {}", s2.offset_m);
}

#[test]
fn filtered_units_are_never_proposed() {
    let d = small_grid();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let case = grid_pos(5.0, 5.0);
    let mut units = vec![
        Candidate { kind: EntityKind::FireTruck, ..unit("fire-next-door", 5.1, 5.0) },
        Candidate { agency: Some(AgencyId("private".into())), ..unit("other-agency", 5.0, 5.1) },
        Candidate { agency: None, ..unit("no-agency", 5.0, 4.9) },
    ];
    for (i, c) in [(1.0, 1.0), (9.0, 9.0), (2.0, 8.0)].iter().enumerate() {
        units.push(Candidate { position: grid_pos(c.0, c.1), ..unit(&format!("amb-{i}"), 0.0, 0.0) });
    }
    let health = AgencyId("health".into());
    let accept = |c: &Candidate<String>| c.kind == EntityKind::Ambulance && c.agency.as_ref() == Some(&health);
    let r = d.recommend(case, &units, accept, 50, &costs, &mut buf).unwrap();
    let ids: Vec<&str> = r.best.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.starts_with("amb-")), "{ids:?}");
    assert!(r.skipped.is_empty(), "filtered units are not even reported");
    // Sorted by ETA.
    assert!(r.best.windows(2).all(|w| w[0].eta_s <= w[1].eta_s));
}

#[test]
fn stops_after_k_units() {
    let d = small_grid();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let units: Vec<_> =
        (0..11).map(|i| Candidate { position: grid_pos(i as f64, 0.0), ..unit(&i.to_string(), 0.0, 0.0) }).collect();
    let all = d.recommend(grid_pos(0.0, 0.0), &units, |_| true, 11, &costs, &mut buf).unwrap();
    let all_nodes = buf.last_settled_nodes();
    let two = d.recommend(grid_pos(0.0, 0.0), &units, |_| true, 2, &costs, &mut buf).unwrap();
    assert_eq!(two.best, all.best[..2].to_vec());
    assert!(buf.last_settled_nodes() < all_nodes / 4, "{} of {all_nodes}", buf.last_settled_nodes());
    assert!(two.skipped.is_empty(), "an early stop reports nobody as unreachable");
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let d = small_grid();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let units = [Candidate { position: grid_pos(1.0, 1.0), ..unit("a", 0.0, 0.0) }];
    let case = grid_pos(5.0, 5.0);
    let rec = |case: Position, k: usize, buf: &mut SearchBuffers| d.recommend(case, &units, |_| true, k, &costs, buf);
    assert!(matches!(rec(Position::new(f64::NAN, 16.0), 1, &mut buf), Err(DispatchError::InvalidPosition { .. })));
    assert!(matches!(
        rec(Position::new(108.0, f64::INFINITY), 1, &mut buf),
        Err(DispatchError::InvalidPosition { .. })
    ));
    assert!(matches!(rec(Position::new(200.0, 16.0), 1, &mut buf), Err(DispatchError::InvalidPosition { .. })));
    assert_eq!(rec(case, 0, &mut buf), Err(DispatchError::ZeroK));
    assert_eq!(rec(case, MAX_K + 1, &mut buf), Err(DispatchError::TooManyRequested { k: MAX_K + 1, max: MAX_K }));
    assert_eq!(rec(case, usize::MAX, &mut buf), Err(DispatchError::TooManyRequested { k: usize::MAX, max: MAX_K }));
    assert_eq!(rec(case, MAX_K, &mut buf).unwrap().best.len(), 1);
    assert_eq!(
        rec(Position::new(109.0, 17.0), 1, &mut buf),
        Err(DispatchError::OffNetwork { max_snap_m: DEFAULT_MAX_SNAP_M })
    );

    let many = vec![units[0].clone(); MAX_CANDIDATES + 1];
    assert!(matches!(
        d.recommend(case, &many, |_| true, 1, &costs, &mut buf),
        Err(DispatchError::TooManyCandidates { .. })
    ));
    // A unit with a broken fix or far from any road is skipped, the case still answered.
    let odd = [unit("nan", f64::NAN, 16.0), unit("far", 100.0, 10.0), units[0].clone()];
    let r = d.recommend(case, &odd, |_| true, 3, &costs, &mut buf).unwrap();
    assert_eq!(r.best.len(), 1);
    assert_eq!(
        r.skipped,
        vec![
            Skipped { id: "nan".into(), reason: SkipReason::InvalidPosition },
            Skipped { id: "far".into(), reason: SkipReason::OffNetwork }
        ]
    );

    let mut c = d.free_flow();
    for kmh in [f64::NAN, f64::INFINITY, -5.0, 0.0, 0.5, 201.0] {
        assert!(matches!(c.set_speed(EdgeId(0), kmh), Err(DispatchError::BadSpeed { .. })), "{kmh}");
    }
    assert_eq!(c.set_speed(EdgeId(u32::MAX - 3), 30.0), Err(DispatchError::UnknownEdge(u32::MAX - 3)));
    assert_eq!(c.close(EdgeId(u32::MAX)), Err(DispatchError::UnknownEdge(u32::MAX)));
    assert_eq!(c.override_count(), 0);

    // Costs of another network are refused, even of the same size.
    let other = small_grid();
    assert_eq!(d.recommend(case, &units, |_| true, 1, &other.free_flow(), &mut buf), Err(DispatchError::CostsMismatch));
    for m in [0.0, -1.0, f64::NAN, 1e9] {
        assert!(matches!(small_grid().with_max_snap_m(m), Err(DispatchError::BadSnapDistance(_))));
    }
    // An empty network answers "off network", not a panic.
    let empty = Dispatcher::new(RoadGraph::default()).unwrap();
    assert!(matches!(
        empty.recommend(case, &units, |_| true, 1, &empty.free_flow(), &mut buf),
        Err(DispatchError::OffNetwork { .. })
    ));
}

#[test]
fn json_has_no_infinities() {
    let d = straight(true);
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let units = [unit("behind", 0.001, 0.0), unit("ahead", 0.004, 0.0), unit("nan", f64::NAN, 0.0)];
    let r = d.recommend(Position::new(0.003, 0.0), &units, |_| true, 5, &costs, &mut buf).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["best"].as_array().unwrap().len(), 1);
    assert!(v["best"][0]["eta_s"].as_f64().unwrap().is_finite());
    // Skipped while snapping first, then unreachable by the search.
    assert_eq!(v["skipped"][0], json!({"id": "nan", "reason": "invalid_position"}));
    assert_eq!(v["skipped"][1], json!({"id": "ahead", "reason": "unreachable"}));
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("null") && !text.to_lowercase().contains("inf"), "{text}");
}

#[test]
fn reused_buffers_give_the_same_answers_across_generations() {
    let d = small_grid();
    let costs = d.free_flow();
    let units: Vec<_> = (0..6)
        .map(|i| Candidate { position: grid_pos(i as f64 * 2.0, 11.0 - i as f64), ..unit(&i.to_string(), 0.0, 0.0) })
        .collect();
    let mut shared = SearchBuffers::new();
    shared.set_generation_for_test(u32::MAX - 2);
    for i in 0..8 {
        let case = grid_pos(i as f64 * 1.3, 10.0 - i as f64);
        let fresh = d.recommend(case, &units, |_| true, 3, &costs, &mut SearchBuffers::new()).unwrap();
        let reused = d.recommend(case, &units, |_| true, 3, &costs, &mut shared).unwrap();
        assert_eq!(fresh, reused, "case {i}");
    }
}

proptest! {
    #[test]
    fn any_positions_never_panic(
        case in (any::<f64>(), any::<f64>()),
        near in (0.0f64..11.0, 0.0f64..11.0),
        units in proptest::collection::vec((any::<f64>(), any::<f64>()), 0..6),
        k in 0usize..60,
    ) {
        let d = small_grid();
        let costs = d.free_flow();
        let mut buf = SearchBuffers::new();
        let mut cands: Vec<_> = units.iter().map(|(x, y)| unit("u", *x, *y)).collect();
        cands.push(Candidate { position: grid_pos(near.0, near.1), ..unit("near", 0.0, 0.0) });
        for root in [Position::new(case.0, case.1), grid_pos(near.1, near.0)] {
            if let Ok(r) = d.recommend(root, &cands, |_| true, k, &costs, &mut buf) {
                prop_assert!(r.best.len() <= k);
                for u in &r.best {
                    prop_assert!(u.eta_s.is_finite() && u.eta_s >= 0.0);
                    prop_assert!(u.road_m.is_finite() && u.crow_m.is_finite());
                    prop_assert!(!u.route.is_empty());
                }
            }
        }
    }
}

#[test]
fn snapping_looks_at_a_bounded_number_of_closed_roads() {
    // 12 × 12 junctions: 264 road pieces. With every road closed but the far corner's, a point
    // beside that road still snaps to it, and a point at the other corner gives up (the look is
    // bounded) instead of scanning the whole city.
    let d = small_grid().with_max_snap_m(5_000.0).unwrap();
    let free = d.free_flow();
    let corner = d.snap(grid_pos(10.5, 11.0), &free).unwrap().unwrap();
    let mut costs = d.free_flow();
    for (e, _) in d.graph().edges() {
        if !corner.on.iter().any(|p| p.edge == e) {
            costs.close(e).unwrap();
        }
    }
    assert_eq!(costs.closed_count(), d.graph().edge_count() - corner.on.len());
    let near = d.snap(grid_pos(10.5, 10.8), &costs).unwrap().unwrap();
    assert_eq!(
        near.on.iter().map(|p| p.edge).collect::<Vec<_>>(),
        corner.on.iter().map(|p| p.edge).collect::<Vec<_>>()
    );
    assert!(d.snap(grid_pos(0.0, 0.0), &costs).unwrap().is_none());
    // Nearer than the bound, the same closed city still answers.
    assert!(d.snap(grid_pos(9.0, 11.0), &costs).unwrap().is_some());
}

#[test]
fn fewer_units_than_k_does_not_sweep_the_city() {
    let d = Dispatcher::new(RoadGraph::from_layer(&grid_layer(60, 60, (108.0, 16.0)))).unwrap();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let units = [Candidate { position: grid_pos(1.0, 1.0), ..unit("a", 0.0, 0.0) }];
    let r = d.recommend(grid_pos(0.0, 0.0), &units, |_| true, 5, &costs, &mut buf).unwrap();
    assert_eq!(r.best.len(), 1);
    assert!(r.skipped.is_empty());
    assert!(buf.last_settled_nodes() < 100, "{} of 3600 junctions", buf.last_settled_nodes());
    // No candidates at all: no search.
    let none: [Candidate<String>; 0] = [];
    let r = d.recommend(grid_pos(0.0, 0.0), &none, |_| true, 5, &costs, &mut buf).unwrap();
    assert!(r.best.is_empty() && r.skipped.is_empty());
    assert_eq!(buf.last_settled_nodes(), 0);
}
