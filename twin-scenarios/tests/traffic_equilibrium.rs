//! User equilibrium against textbook solutions: two BPR routes solved from the equal-cost
//! condition, and Braess's paradox.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::sync::atomic::AtomicBool;

use twin_scenarios::traffic::{assign, AssignmentConfig, LinkCost, Network, OdPair, TurnRules};

fn no_turns() -> TurnRules {
    TurnRules { ban_u_turns: false, left_turn_s: 0.0, right_turn_s: 0.0 }
}

fn tight() -> AssignmentConfig {
    AssignmentConfig { target_gap: 1e-10, max_iterations: 200 }
}

#[test]
fn two_bpr_routes_have_equal_costs() {
    let (r1, r2) = (LinkCost::bpr(600.0, 1000.0), LinkCost::bpr(900.0, 2000.0));
    let demand = 3000.0;
    // Analytic condition t1(x) = t2(D − x): monotone in x, solved by bisection to machine precision.
    let (mut lo, mut hi) = (0.0_f64, demand);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if r1.time(mid) > r2.time(demand - mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let x1 = 0.5 * (lo + hi);
    let mut net = Network::new(2, no_turns());
    let a = net.add_simple(0, 1, r1).unwrap();
    let b = net.add_simple(0, 1, r2).unwrap();
    let ods = [OdPair { origin: 0, dest: 1, demand }];
    let res = assign(&net, &ods, &tight(), |_| {}, &AtomicBool::new(false)).unwrap();
    let (f1, f2) = (res.link_flows[a as usize], res.link_flows[b as usize]);
    assert!((f1 - x1).abs() / x1 <= 1e-4, "route 1 flow {f1}, analytic {x1}");
    assert!((f2 - (demand - x1)).abs() / (demand - x1) <= 1e-4, "route 2 flow {f2}");
    let (c1, c2) = (res.link_times[a as usize], res.link_times[b as usize]);
    assert!((c1 - c2).abs() / c1 <= 1e-4, "costs {c1} and {c2} differ");
    assert!((f1 + f2 - demand).abs() < 1e-9 * demand);
    assert!(res.relative_gap <= 1e-4);
}

/// Braess's network with 6000 travellers from S to E: S→A and B→E cost v/150 (minutes),
/// A→E and S→B cost 45; the added link A→B is free.
fn braess(with_bridge: bool) -> (Network, Vec<OdPair>) {
    let (s, a, b, e) = (0, 1, 2, 3);
    let mut net = Network::new(4, no_turns());
    net.add_simple(s, a, LinkCost::Linear { a: 0.0, b: 1.0 / 150.0 }).unwrap();
    net.add_simple(a, e, LinkCost::Linear { a: 45.0, b: 0.0 }).unwrap();
    net.add_simple(s, b, LinkCost::Linear { a: 45.0, b: 0.0 }).unwrap();
    net.add_simple(b, e, LinkCost::Linear { a: 0.0, b: 1.0 / 150.0 }).unwrap();
    if with_bridge {
        net.add_simple(a, b, LinkCost::Linear { a: 0.0, b: 0.0 }).unwrap();
    }
    (net, vec![OdPair { origin: s, dest: e, demand: 6000.0 }])
}

#[test]
fn braess_paradox_raises_travel_time_from_65_to_80() {
    let cancel = AtomicBool::new(false);
    let (net, ods) = braess(false);
    let before = assign(&net, &ods, &tight(), |_| {}, &cancel).unwrap();
    assert!((before.od_costs[0] - 65.0).abs() < 1e-6, "without the link: {}", before.od_costs[0]);
    assert!((before.link_flows[0] - 3000.0).abs() < 1e-3);
    let (net, ods) = braess(true);
    let after = assign(&net, &ods, &tight(), |_| {}, &cancel).unwrap();
    assert!((after.od_costs[0] - 80.0).abs() < 1e-6, "with the link: {}", after.od_costs[0]);
    // Everyone takes S→A→B→E.
    assert!((after.link_flows[4] - 6000.0).abs() < 1e-3);
    // Average experienced time equals the equilibrium cost at equilibrium.
    let avg = after.total_travel_time_veh_h * 3600.0 / 6000.0;
    assert!((avg - 80.0).abs() < 1e-6);
}

#[test]
fn cancelled_assignment_stops() {
    let (net, ods) = braess(true);
    let err = assign(&net, &ods, &tight(), |_| {}, &AtomicBool::new(true));
    assert!(err.is_err());
}

#[test]
fn u_turns_are_banned_at_through_nodes() {
    // 0 ⇄ 1 ⇄ 2 with a side road 1 → 3 → 0: going 0 → 1 → 0 by U-turn is banned, so 0→…→0 is
    // impossible and 1 → 0 must not be reached through 1 → 2 → 1 … it is direct.
    let mut net = Network::new(4, TurnRules { ban_u_turns: true, left_turn_s: 0.0, right_turn_s: 0.0 });
    let c = LinkCost::Linear { a: 1.0, b: 0.0 };
    let l01 = net.add_simple(0, 1, c).unwrap();
    let l10 = net.add_simple(1, 0, c).unwrap();
    let l12 = net.add_simple(1, 2, c).unwrap();
    let l21 = net.add_simple(2, 1, c).unwrap();
    assert_eq!(net.turn_cost(l01, l10), None, "U-turn at a through node");
    // Node 2 is a dead end: turning back is the only way on.
    assert_eq!(net.turn_cost(l12, l21), Some(0.0));
}
