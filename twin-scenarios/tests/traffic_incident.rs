//! The cell transmission model on the real Hải Châu network, loaded by the peak-hour user
//! equilibrium: steady state without an incident, conservation, and a closure whose queue spills
//! back over the junction upstream and clears after reopening.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::sync::atomic::AtomicBool;

use twin_layers::roads::RoadGraph;
use twin_layers::Layer;
use twin_scenarios::traffic::{
    assign, network_ctm, run_incident, Assignment, AssignmentConfig, Demand, DemandConfig, IncidentConfig, Network,
    TurnRules,
};

fn layer(name: &str, file: &str) -> Layer {
    Layer::from_geojson_file(name, &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)).unwrap()
}

fn loaded() -> (Network, Assignment) {
    let roads = layer("roads", "danang_haichau_roads.geojson");
    let buildings = layer("buildings", "danang_haichau_buildings.geojson");
    let graph = RoadGraph::from_layer(&roads);
    let net = Network::from_road_graph(&graph, Some(&roads), TurnRules::default());
    let demand = Demand::generate(&graph, &net, Some(&buildings), &DemandConfig::default());
    let eq = assign(&net, &demand.ods, &AssignmentConfig::default(), |_| {}, &AtomicBool::new(false)).unwrap();
    (net, eq)
}

#[test]
fn equilibrium_turns_add_up_to_link_flows() {
    let (net, eq) = loaded();
    for l in 0..net.link_count() {
        let out: f64 = eq.turn_flows.range((l as u32, 0)..=(l as u32, u32::MAX)).map(|(_, f)| f).sum::<f64>();
        let flow = eq.link_flows[l];
        assert!((out + eq.exit_flows[l] - flow).abs() <= 1e-6 * flow.max(1.0), "link {l}: {out} + exit vs {flow}");
    }
}

#[test]
fn without_an_incident_the_network_carries_the_equilibrium_flows() {
    let (net, eq) = loaded();
    let mut ctm = network_ctm(&net, &eq, &IncidentConfig::default()).unwrap();
    for _ in 0..600 {
        ctm.step();
    }
    let entered = ctm.entered;
    for _ in 0..1200 {
        ctm.step();
    }
    // Conservation: what entered is on the links or has left.
    assert!((ctm.entered - ctm.exited - ctm.vehicles()).abs() < 1e-6 * ctm.entered, "not conserved");
    // A static equilibrium with BPR costs may load a link beyond its capacity; where that link is
    // where trips start, their queue outside grows by the excess. Everywhere else trips get in.
    let over: Vec<usize> = (0..net.link_count())
        .filter(|&l| eq.entry_flows[l] > 0.0 && eq.link_flows[l] > net.link(l as u32).capacity_veh_h)
        .collect();
    for l in 0..net.link_count() {
        assert!(ctm.origin_queue(l) < 1.0 || over.contains(&l), "link {l} queues at its origin");
    }
    let excess: f64 = over.iter().map(|&l| eq.link_flows[l] - net.link(l as u32).capacity_veh_h).sum::<f64>() / 3600.0;
    let demand: f64 = eq.entry_flows.iter().sum::<f64>() / 3600.0;
    let rate = (ctm.entered - entered) / 1200.0;
    assert!((rate - (demand - excess)).abs() <= 0.01 * demand, "entry {rate} veh/s, demand {demand}, excess {excess}");
}

#[test]
fn closure_spills_back_over_the_junction_and_queues_shrink_after_reopening() {
    let (net, eq) = loaded();
    // The busiest link of the equilibrium, closed for 10 minutes.
    let closed = (0..net.link_count()).max_by(|a, b| eq.link_flows[*a].total_cmp(&eq.link_flows[*b])).unwrap() as u32;
    let cfg = IncidentConfig { warmup_s: 600.0, incident_s: 600.0, recovery_s: 1200.0, ..IncidentConfig::default() };
    let res = run_incident(&net, &eq, &[closed], &cfg, |_| {}, &AtomicBool::new(false)).unwrap();
    let from = net.link(closed).from;
    // Links feeding the closed link that carry traffic into it fill up to their whole length.
    let feeders: Vec<u32> = net
        .in_links(from)
        .iter()
        .copied()
        .filter(|l| eq.turn_flows.get(&(*l, closed)).is_some_and(|f| *f > 0.0))
        .collect();
    assert!(!feeders.is_empty());
    let filled =
        res.queued_links.iter().filter(|q| feeders.contains(&q.link) && q.max_queue_m >= 0.9 * q.length_m).count();
    assert!(filled >= 1, "no feeder of link {closed} filled: {:?}", res.queued_links);
    // And beyond them: links that do not touch the closed link queue as well.
    let beyond = res.queued_links.iter().filter(|q| !q.incident && !feeders.contains(&q.link)).count();
    assert!(beyond >= 1, "queue stopped at the first junction");
    assert_eq!(res.spillback_links, res.queued_links.iter().filter(|q| !q.incident).count());
    assert!(res.extra_vehicle_hours > 0.0);
    // The queue grows while the road is closed and a little after (its back moves upstream until
    // the recovery wave catches up), then the queues on the links shrink clearly. (The trips held
    // at their origins by the spill-back drain much more slowly: the streets around run close to
    // capacity, so extra vehicles are not asserted to fall within these 20 minutes.)
    let reopen = cfg.warmup_s + cfg.incident_s;
    assert!(res.max_queue_at_s > cfg.warmup_s && res.max_queue_at_s < reopen + cfg.recovery_s / 2.0);
    let at_reopen = res.timeline.iter().find(|s| s.t_s >= reopen).unwrap();
    let last = res.timeline.last().unwrap();
    assert!(last.vehicles < at_reopen.vehicles, "{last:?} vs {at_reopen:?}");
    let extra_queue = |s: &twin_scenarios::traffic::IncidentSample| s.queue_km - s.baseline_queue_km;
    let peak = res.timeline.iter().map(extra_queue).fold(0.0, f64::max);
    assert!(extra_queue(last) < 0.9 * peak, "{last:?}, peak extra queue {peak} km");
    // Before the incident both runs are the same model.
    let before = res.timeline.iter().rfind(|s| s.t_s <= cfg.warmup_s).unwrap();
    assert_eq!(before.queue_km, before.baseline_queue_km);
    assert!((res.entered_veh - res.exited_veh - last.vehicles).abs() < 1e-6 * res.entered_veh);
}
