//! Traffic runs: the equilibrium assignment, incidents (cell transmission) and flood-closed roads.

use crate::coupling::layers as result_layers;
use crate::coupling::{edge_max_depth, flood_to_traffic, CouplingConfig, Station, TrafficInputs};
use crate::traffic::{
    assign, run_incident, AssignmentConfig, Demand, DemandConfig, IncidentConfig, Network, TurnRules,
};
use serde_json::{json, Value};
use twin_layers::roads::RoadGraph;
use twin_layers::ReferenceLayers;

use super::{flood, CityInputs, Job, JobError, ScenarioKind, ScenarioRequest};

/// Hospitals and fire stations of the `pois` layer.
pub fn stations(layers: &ReferenceLayers) -> Vec<Station> {
    let Some(pois) = layers.get("pois") else { return Vec::new() };
    pois.features
        .iter()
        .filter_map(|f| {
            let p = &f.properties;
            let kind = ["amenity", "emergency"].iter().find_map(|k| p.get(*k).and_then(Value::as_str))?;
            if !matches!(kind, "hospital" | "fire_station" | "ambulance_station") {
                return None;
            }
            use geo::Centroid;
            let c = f.geometry.centroid()?;
            let name = p.get("name").and_then(Value::as_str).unwrap_or(kind).to_string();
            Some(Station { name, kind: kind.to_string(), lon: c.x(), lat: c.y() })
        })
        .collect()
}

/// Network links modelling the road-graph edges `edges`.
fn links_of_edges(net: &Network, edges: &[u32]) -> Vec<u32> {
    let edges: std::collections::HashSet<u32> = edges.iter().copied().collect();
    (0..net.link_count() as u32).filter(|l| net.link(*l).edge.is_some_and(|x| edges.contains(&x.0))).collect()
}

fn traffic_model(req: &ScenarioRequest, layers: &ReferenceLayers) -> Result<(RoadGraph, Network, Demand), JobError> {
    let roads = layers.get("roads").ok_or_else(|| JobError::Invalid("no `roads` layer".into()))?;
    let graph = RoadGraph::from_layer(roads);
    let mut net = Network::from_road_graph(&graph, Some(roads), TurnRules::default());
    let cfg = DemandConfig { peak_hour_trips: req.peak_hour_trips.unwrap_or(12_000.0), ..DemandConfig::default() };
    let demand = Demand::generate(&graph, &net, layers.get("buildings"), &cfg);
    // An incident's edges are open in the equilibrium that loads the network.
    if req.kind != ScenarioKind::Incident {
        for l in links_of_edges(&net, &req.closed_edges) {
            net.set_closed(l, true);
        }
    }
    Ok((graph, net, demand))
}

pub(super) fn run_traffic(
    req: &ScenarioRequest,
    inputs: &CityInputs,
    job: &Job,
    assignment: &AssignmentConfig,
) -> Result<(), JobError> {
    job.update(|s| s.stage = "assignment".into());
    let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
    let res = assign(
        &net,
        &demand.ods,
        assignment,
        |p| job.update(|s| s.percent = (p.iteration as f64).min(99.0)),
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    let summary = crate::coupling::TrafficSummary::of(&res, &demand.ods);
    let flows = result_layers::link_flows(&graph, &net, &res.link_flows, &res.link_times);
    job.update(|s| {
        s.summary = Some(json!({"traffic": summary, "zones": demand.zones.len(), "od_pairs": demand.ods.len()}));
        s.publish("traffic_flows", flows, true);
    });
    Ok(())
}

pub(super) fn run_flood_traffic(
    req: &ScenarioRequest,
    inputs: &CityInputs,
    job: &Job,
    assignment: AssignmentConfig,
) -> Result<(), JobError> {
    let flood = flood::run_flood(req, inputs, job, 0.7)?;
    job.update(|s| s.stage = "traffic".into());
    let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
    let depths = match flood.geo {
        Some(g) => edge_max_depth(&graph, &flood.depth, &|lon, lat| g.to_grid(lon, lat)),
        None => edge_max_depth(&graph, &flood.depth, &|x, y| (x, y)),
    };
    let cfg = CouplingConfig {
        depth_threshold_m: req.depth_threshold_m.unwrap_or(0.3),
        assignment,
        ..CouplingConfig::default()
    };
    let stations = stations(&inputs.layers);
    let res = flood_to_traffic(
        TrafficInputs { graph: &graph, net: &net, ods: &demand.ods },
        &depths,
        &stations,
        &cfg,
        |f| job.update(|s| s.percent = 70.0 + 30.0 * f),
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    let mut flooded_net = net.clone();
    for c in &res.closed {
        flooded_net.set_closed(c.link, true);
    }
    let closed = result_layers::closed_roads(&graph, &res.closed);
    let flooded = result_layers::flooded_roads(&graph, &depths, 0.1);
    let flows = result_layers::link_flows(&graph, &flooded_net, &res.link_flows_after, &res.link_times_after);
    job.update(|s| {
        let flood_summary = s.summary.take().unwrap_or(Value::Null);
        s.summary = Some(json!({
            "flood": flood_summary["flood"], "flood_inputs": flood_summary["flood_inputs"], "coupling": res,
        }));
        s.publish("closed_roads", closed, true);
        s.publish("flooded_roads", flooded, true);
        s.publish("traffic_flows", flows, true);
    });
    Ok(())
}

pub(super) fn run_incident_job(
    req: &ScenarioRequest,
    inputs: &CityInputs,
    job: &Job,
    assignment: &AssignmentConfig,
) -> Result<(), JobError> {
    job.update(|s| s.stage = "assignment".into());
    let (graph, net, demand) = traffic_model(req, &inputs.layers)?;
    let links = links_of_edges(&net, &req.closed_edges);
    if links.is_empty() {
        return Err(JobError::Invalid(format!("no road edge among {:?}", req.closed_edges)));
    }
    let eq = assign(
        &net,
        &demand.ods,
        assignment,
        |p| job.update(|s| s.percent = (p.iteration as f64).min(20.0)),
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    // Phases and capacity factor are in range: checked with the request.
    let cfg = IncidentConfig {
        warmup_s: req.warmup_minutes.unwrap_or(15.0) * 60.0,
        incident_s: req.incident_minutes.unwrap_or(20.0) * 60.0,
        recovery_s: req.recovery_minutes.unwrap_or(30.0) * 60.0,
        capacity_factor: req.capacity_factor.unwrap_or(0.0),
        ..IncidentConfig::default()
    };
    job.update(|s| s.stage = "cell transmission".into());
    let started = std::time::Instant::now();
    let res = run_incident(
        &net,
        &eq,
        &links,
        &cfg,
        |f| {
            job.update(|s| {
                s.percent = 20.0 + 80.0 * f;
                s.simulated_s = f * (cfg.warmup_s + cfg.incident_s + cfg.recovery_s);
            })
        },
        &job.cancel,
    )
    .map_err(JobError::engine)?;
    tracing::info!(
        job = job.id,
        secs = started.elapsed().as_secs_f64(),
        queued = res.queued_links.len(),
        "incident run"
    );
    let summary = crate::coupling::TrafficSummary::of(&eq, &demand.ods);
    let queues = result_layers::incident_queues(&graph, &net, &res.queued_links);
    job.update(|s| {
        s.cells_per_s = res.cell_updates_per_s;
        s.summary = Some(json!({"traffic": summary, "incident_links": links, "incident": res}));
        s.publish("incident_queues", queues, true);
    });
    Ok(())
}
