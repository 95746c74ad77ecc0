//! Dispatch on the shipped OSM roads of central Hải Châu, Đà Nẵng, checked against an independent
//! Dijkstra (petgraph) over the same edges.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use petgraph::algo::dijkstra;
use petgraph::graph::{DiGraph, NodeIndex};
use rand::{rngs::StdRng, Rng, SeedableRng};
use twin_core::geodesy::distance_m;
use twin_core::{AgencyId, EntityKind, Position};
use twin_dispatch::{hospitals, Candidate, Dispatcher, EdgeCosts, SearchBuffers, SkipReason, Snap};
use twin_layers::roads::{EdgeId, RoadGraph};
use twin_layers::Layer;

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/osm").join(file)
}

fn danang() -> &'static Dispatcher {
    static D: OnceLock<Dispatcher> = OnceLock::new();
    D.get_or_init(|| {
        let roads = Layer::from_geojson_file("roads", &data("danang_haichau_roads.geojson")).unwrap();
        Dispatcher::new(RoadGraph::from_layer(&roads)).unwrap()
    })
}

/// A random place near a road (the extract leaves blocks without mapped streets): a random point
/// of a random edge, moved up to about 40 m.
fn random_pos(rng: &mut StdRng) -> Position {
    let d = danang();
    let e = EdgeId(rng.gen_range(0..d.graph().edge_count() as u32));
    let p = along(d, e, rng.gen_range(0.0..1.0));
    Position::new(p.lon + rng.gen_range(-0.0004..0.0004), p.lat + rng.gen_range(-0.0004..0.0004))
}

fn ambulance(id: String, p: Position) -> Candidate<String> {
    Candidate { id, position: p, kind: EntityKind::Ambulance, agency: Some(AgencyId("health".into())) }
}

/// Independent reference: petgraph's Dijkstra over every open edge, with the units and the target
/// joined by their partial edges. Edge times come from `time` (the road graph's own, or live ones).
struct Reference {
    g: DiGraph<(), f64>,
    target: NodeIndex,
}

impl Reference {
    fn new(d: &Dispatcher, time: &dyn Fn(EdgeId) -> Option<f64>, target: &Snap) -> Self {
        let rg = d.graph();
        let mut g = DiGraph::<(), f64>::with_capacity(rg.node_count() + 1, rg.edge_count() + 2);
        for _ in 0..=rg.node_count() {
            g.add_node(());
        }
        let node = |n: u32| NodeIndex::new(n as usize);
        for (id, e) in rg.edges() {
            if let Some(t) = time(id) {
                g.add_edge(node(e.from.0), node(e.to.0), t);
            }
        }
        let target_ix = NodeIndex::new(rg.node_count());
        for p in &target.on {
            let e = rg.edge(p.edge);
            if let Some(t) = time(p.edge) {
                g.add_edge(node(e.from.0), target_ix, p.along_m / e.length_m * t);
            }
        }
        Self { g, target: target_ix }
    }

    /// Seconds from `from` to the target, `None` if it cannot get there.
    fn eta(&self, d: &Dispatcher, time: &dyn Fn(EdgeId) -> Option<f64>, from: &Snap, target: &Snap) -> Option<f64> {
        let rg = d.graph();
        let mut g = self.g.clone();
        let src = g.add_node(());
        for p in &from.on {
            let e = rg.edge(p.edge);
            let Some(t) = time(p.edge) else { continue };
            g.add_edge(src, NodeIndex::new(e.to.0 as usize), (1.0 - p.along_m / e.length_m) * t);
            for q in target.on.iter().filter(|q| q.edge == p.edge && p.along_m <= q.along_m) {
                g.add_edge(src, self.target, (q.along_m - p.along_m) / e.length_m * t);
            }
        }
        dijkstra(&g, src, Some(self.target), |e| *e.weight()).get(&self.target).copied()
    }
}

fn free_time(d: &Dispatcher) -> impl Fn(EdgeId) -> Option<f64> + '_ {
    |e| Some(d.graph().edge(e).time_s())
}

fn polyline_m(route: &[[f64; 2]]) -> f64 {
    route.windows(2).map(|w| distance_m(Position::new(w[0][0], w[0][1]), Position::new(w[1][0], w[1][1]))).sum()
}

#[test]
fn etas_match_an_independent_dijkstra_on_random_pairs() {
    let d = danang();
    let costs = d.free_flow();
    let time = free_time(d);
    let mut rng = StdRng::seed_from_u64(7);
    let mut buf = SearchBuffers::new();
    let (mut compared, mut unreachable) = (0, 0);
    for case_no in 0..40 {
        let case = random_pos(&mut rng);
        let units: Vec<_> = (0..15).map(|i| ambulance(format!("u{i}"), random_pos(&mut rng))).collect();
        let r = d.recommend(case, &units, |_| true, 15, &costs, &mut buf).unwrap();
        let case_snap = d.snap(case, &costs).unwrap().unwrap();
        let reference = Reference::new(d, &time, &case_snap);
        for u in &units {
            let snap = d.snap(u.position, &costs).unwrap().unwrap();
            let expected = reference.eta(d, &time, &snap, &case_snap);
            let got = r.best.iter().find(|b| b.id == u.id);
            match (expected, got) {
                (Some(e), Some(g)) => {
                    assert!((g.eta_s - e).abs() < 1.0, "case {case_no} {}: {} vs reference {e}", u.id, g.eta_s);
                    assert!((g.eta_s - e).abs() < 1e-6, "rounding only: {} vs {e}", g.eta_s);
                    // The route is drawn as driven: from the unit's road point to the case's.
                    assert_eq!(g.route.first(), Some(&[snap.point.lon, snap.point.lat]));
                    assert_eq!(g.route.last(), Some(&r.snapped));
                    assert!((polyline_m(&g.route) - g.road_m).abs() < 1.0, "{} vs {}", polyline_m(&g.route), g.road_m);
                    assert!(g.road_m + 1.0 >= distance_m(snap.point, case_snap.point));
                    compared += 1;
                }
                (None, None) => {
                    assert!(r.skipped.iter().any(|s| s.id == u.id && s.reason == SkipReason::Unreachable));
                    unreachable += 1;
                }
                (e, g) => panic!("case {case_no} {}: reference {e:?}, dispatcher {:?}", u.id, g.map(|g| g.eta_s)),
            }
        }
        assert!(r.best.windows(2).all(|w| w[0].eta_s <= w[1].eta_s));
    }
    assert!(compared >= 400, "{compared} compared, {unreachable} unreachable");
}

/// A point `frac` of the way along an edge's geometry.
fn along(d: &Dispatcher, e: EdgeId, frac: f64) -> Position {
    let g = &d.graph().edge(e).geometry;
    let pts: Vec<Position> = g.iter().map(|c| Position::new(c.x, c.y)).collect();
    let total: f64 = pts.windows(2).map(|w| distance_m(w[0], w[1])).sum();
    let mut left = total * frac;
    for w in pts.windows(2) {
        let l = distance_m(w[0], w[1]);
        if left <= l {
            let t = if l > 0.0 { left / l } else { 0.0 };
            return Position::new(w[0].lon + (w[1].lon - w[0].lon) * t, w[0].lat + (w[1].lat - w[0].lat) * t);
        }
        left -= l;
    }
    pts[pts.len() - 1]
}

#[test]
fn crow_flies_nearest_is_not_road_nearest_against_a_one_way_street() {
    let d = danang();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let time = free_time(d);
    // Every long one-way block: a case at its middle, unit "ahead" a quarter further on (it
    // would have to drive round the block), unit "behind" 40 % back (it drives straight there).
    let mut checked = 0;
    for (id, e) in d.graph().edges() {
        if d.twin(id).is_some() || e.length_m < 150.0 {
            continue;
        }
        let case = along(d, id, 0.5);
        let ahead = along(d, id, 0.75);
        let behind = along(d, id, 0.1);
        let units = vec![ambulance("ahead".into(), ahead), ambulance("behind".into(), behind)];
        let case_snap = d.snap(case, &costs).unwrap().unwrap();
        // Only where the points snap to this street (not to a crossing one).
        let on_this = |s: &Snap| s.on.len() == 1 && s.on[0].edge == id;
        let (sa, sb) = (d.snap(ahead, &costs).unwrap().unwrap(), d.snap(behind, &costs).unwrap().unwrap());
        if !on_this(&case_snap) || !on_this(&sa) || !on_this(&sb) {
            continue;
        }
        let crow = |p: Position| distance_m(p, case);
        if crow(ahead) >= crow(behind) {
            continue; // a street that bends back on itself
        }
        let r = d.recommend(case, &units, |_| true, 2, &costs, &mut buf).unwrap();
        assert_eq!(r.best[0].id, "behind", "{:?} on {:?}", r.best, e.name);
        let behind_eta = r.best[0].eta_s;
        assert!((behind_eta - 0.4 * e.time_s()).abs() < 0.01 * e.time_s(), "straight down the street");
        // "ahead" goes round the block (or cannot come at all).
        let reference = Reference::new(d, &time, &case_snap);
        match r.best.get(1) {
            Some(a) => {
                assert_eq!(a.id, "ahead");
                assert!(a.eta_s > behind_eta);
                assert!(a.road_m > 2.0 * crow(ahead), "a detour, not the 25 % back");
                let expected = reference.eta(d, &time, &sa, &case_snap).unwrap();
                assert!((a.eta_s - expected).abs() < 1.0);
            }
            None => {
                assert_eq!(r.skipped[0].reason, SkipReason::Unreachable);
                assert!(reference.eta(d, &time, &sa, &case_snap).is_none());
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} long one-way blocks");
}

/// Đường Bạch Đằng, the river-front street along the Hàn, is one-way (northbound) here. A unit 55 m
/// up the street from the case is nearest as the crow flies but must drive round the block; the
/// one 88 m down the street drives straight there.
#[test]
fn bach_dang_one_way_fixture() {
    let d = danang();
    let costs = d.free_flow();
    let mut buf = SearchBuffers::new();
    let case = Position::new(108.2237177, 16.0564038);
    let up = ambulance("up-the-street".into(), Position::new(108.2237578, 16.0568963));
    let down = ambulance("down-the-street".into(), Position::new(108.2236580, 16.0556157));
    let case_snap = d.snap(case, &costs).unwrap().unwrap();
    let street = d.graph().edge(case_snap.on[0].edge);
    assert_eq!(street.name.as_deref(), Some("Đường Bạch Đằng"));
    assert_eq!(case_snap.on.len(), 1, "one-way");
    assert!((distance_m(up.position, case) - 54.9).abs() < 1.0);
    assert!((distance_m(down.position, case) - 87.9).abs() < 1.0);

    let r = d.recommend(case, &[up.clone(), down.clone()], |_| true, 2, &costs, &mut buf).unwrap();
    let ids: Vec<&str> = r.best.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["down-the-street", "up-the-street"]);
    let (first, second) = (&r.best[0], &r.best[1]);
    assert!((first.road_m - 87.9).abs() < 1.0 && first.eta_s < 7.0, "{first:?}");
    assert!(second.road_m > 500.0 && second.eta_s > 50.0, "round the block: {second:?}");
    assert!(first.crow_m > second.crow_m);
    let time = free_time(d);
    let reference = Reference::new(d, &time, &case_snap);
    for (got, unit) in [(first, &down), (second, &up)] {
        let s = d.snap(unit.position, &costs).unwrap().unwrap();
        let expected = reference.eta(d, &time, &s, &case_snap).unwrap();
        assert!((got.eta_s - expected).abs() < 1.0, "{} vs {expected}", got.eta_s);
    }
}

#[test]
fn closures_and_live_speeds_on_the_real_network() {
    let d = danang();
    let mut rng = StdRng::seed_from_u64(11);
    let mut buf = SearchBuffers::new();
    let free = d.free_flow();
    let mut raised = 0;
    for _ in 0..20 {
        let case = random_pos(&mut rng);
        let unit = vec![ambulance("a".into(), random_pos(&mut rng))];
        let Some(base) = d.recommend(case, &unit, |_| true, 1, &free, &mut buf).unwrap().best.pop() else {
            continue;
        };
        if base.road_m < 300.0 {
            continue;
        }
        // The edge under the route's middle vertex, both directions.
        let mid = base.route[base.route.len() / 2];
        let mid_snap = d.snap(Position::new(mid[0], mid[1]), &free).unwrap().unwrap();
        let mut closed = d.free_flow();
        let mut slow = d.free_flow();
        for p in &mid_snap.on {
            closed.close(p.edge).unwrap();
            slow.set_speed(p.edge, 5.0).unwrap();
        }
        let check = |costs: &EdgeCosts, buf: &mut SearchBuffers| {
            let r = d.recommend(case, &unit, |_| true, 1, costs, buf).unwrap();
            let time = |e: EdgeId| costs.time_s(e);
            let cs = d.snap(case, costs).unwrap().unwrap();
            let us = d.snap(unit[0].position, costs).unwrap().unwrap();
            let expected = Reference::new(d, &time, &cs).eta(d, &time, &us, &cs);
            let got = r.best.first().map(|b| b.eta_s);
            match (got, expected) {
                (Some(g), Some(e)) => assert!((g - e).abs() < 1e-6, "{g} vs reference {e}"),
                (None, None) => {}
                other => panic!("dispatcher and reference disagree: {other:?}"),
            }
            got
        };
        let closed_eta = check(&closed, &mut buf);
        let slow_eta = check(&slow, &mut buf).unwrap();
        assert!(closed_eta.is_none_or(|t| t >= base.eta_s - 1e-9));
        assert!(slow_eta >= base.eta_s - 1e-9);
        assert!(slow_eta <= closed_eta.unwrap_or(f64::INFINITY) + 1e-9);
        if closed_eta.is_none_or(|t| t > base.eta_s + 1.0) && slow_eta > base.eta_s + 1.0 {
            raised += 1;
        }
    }
    assert!(raised >= 5, "only {raised} routes got slower");
}

#[test]
fn nearest_hospital_by_eta_matches_the_reference() {
    let d = danang();
    let pois = Layer::from_geojson_file("pois", &data("danang_haichau_poi_emergency.geojson")).unwrap();
    let all = hospitals(&pois, false);
    assert!(all.len() >= 6, "{}", all.len());
    assert!(all.iter().any(|h| h.id == "Hoan My General Hospital"));
    assert!(hospitals(&pois, true).is_empty(), "the extract tags no emergency departments");
    let costs = d.free_flow();
    let time = free_time(d);
    let snaps: Vec<Snap> = all.iter().map(|h| d.snap(h.position, &costs).unwrap().unwrap()).collect();
    let refs: Vec<Reference> = snaps.iter().map(|s| Reference::new(d, &time, s)).collect();
    let mut rng = StdRng::seed_from_u64(3);
    let mut buf = SearchBuffers::new();
    let mut not_crow_nearest = 0;
    for _ in 0..25 {
        let amb = random_pos(&mut rng);
        let r = d.nearest_destinations(amb, &all, 3, &costs, &mut buf).unwrap();
        let from = d.snap(amb, &costs).unwrap().unwrap();
        let mut expected: Vec<(f64, &str)> = refs
            .iter()
            .zip(&snaps)
            .zip(&all)
            .filter_map(|((rf, s), h)| rf.eta(d, &time, &from, s).map(|t| (t, h.id.as_str())))
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(r.best.len(), expected.len().min(3));
        for (got, (t, id)) in r.best.iter().zip(&expected) {
            assert!((got.eta_s - t).abs() < 1.0, "{} {} vs {id} {t}", got.id, got.eta_s);
        }
        let first = &r.best[0];
        assert_eq!(first.route.first(), Some(&r.snapped), "driven from the ambulance");
        let crow_first = all.iter().min_by(|a, b| distance_m(amb, a.position).total_cmp(&distance_m(amb, b.position)));
        if crow_first.is_some_and(|h| h.id != first.id) {
            not_crow_nearest += 1;
        }
    }
    assert!(not_crow_nearest >= 1, "the roads change the answer somewhere");
}

#[test]
fn snapping_finds_the_nearest_edge_point() {
    // Brute force over every segment in an equirectangular frame.
    let d = danang();
    let costs = d.free_flow();
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..200 {
        let p = random_pos(&mut rng);
        let s = d.snap(p, &costs).unwrap().unwrap();
        let kx = p.lat.to_radians().cos();
        let mut best = f64::INFINITY;
        for (_, e) in d.graph().edges() {
            for w in e.geometry.windows(2) {
                let (ax, ay) = ((w[0].x - p.lon) * kx, w[0].y - p.lat);
                let (bx, by) = ((w[1].x - p.lon) * kx, w[1].y - p.lat);
                let (dx, dy) = (bx - ax, by - ay);
                let l2 = dx * dx + dy * dy;
                let t = if l2 > 0.0 { (-(ax * dx + ay * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
                let (x, y) = (ax + t * dx, ay + t * dy);
                let q = Position::new(p.lon + x / kx, p.lat + y);
                best = best.min(distance_m(p, q));
            }
        }
        assert!((s.offset_m - best).abs() < 0.5, "{} vs brute force {best}", s.offset_m);
        assert!(!s.on.is_empty() && s.on.len() <= 2);
        for e in &s.on {
            let len = d.graph().edge(e.edge).length_m;
            assert!(e.along_m >= 0.0 && e.along_m <= len + 1e-9);
        }
    }
}
