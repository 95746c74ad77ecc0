//! Simulated city buses shuttling on real roads: each route is the fastest road-graph path between
//! two far-apart junctions of the main (strongly connected) component and back.

use twin_core::geodesy::distance_m;
use twin_core::{EntityKind, Observation, Position, PropertyValue, Timestamp};
use twin_layers::roads::{Metric, NodeId, RoadGraph};

use super::track::{Rng, Track};

pub const SOURCE: &str = "demo:buses";

/// Routes shorter than this (one way) are rejected: a bus should cross the district.
const MIN_ROUTE_SPAN_M: f64 = 1_500.0;

#[derive(Debug, Clone)]
pub struct BusRoute {
    pub name: String,
    /// Out and back, a closed loop.
    pub track: Track,
}

#[derive(Debug, Clone)]
struct Bus {
    plate: String,
    route: usize,
    /// Where on the loop the bus was at time 0.
    offset_m: f64,
    speed_mps: f64,
}

/// A fleet whose positions are a pure function of time: `distance = offset + speed × t`.
#[derive(Debug, Clone)]
pub struct BusFleet {
    routes: Vec<BusRoute>,
    buses: Vec<Bus>,
}

/// Nodes of the main component touching an arterial road (primary / secondary / tertiary).
fn arterial_nodes(graph: &RoadGraph, main: &[NodeId]) -> Vec<NodeId> {
    let mut in_main = vec![false; graph.node_count()];
    main.iter().for_each(|n| in_main[n.0 as usize] = true);
    let mut out: Vec<NodeId> = graph
        .edges()
        .filter(|(_, e)| matches!(e.class.trim_end_matches("_link"), "trunk" | "primary" | "secondary" | "tertiary"))
        .flat_map(|(_, e)| [e.from, e.to])
        .filter(|n| in_main[n.0 as usize])
        .collect();
    out.sort();
    out.dedup();
    out
}

fn street_name(graph: &RoadGraph, edges: &[twin_layers::roads::EdgeId]) -> String {
    edges.iter().find_map(|e| graph.edge(*e).name.clone()).unwrap_or_else(|| "unnamed road".to_owned())
}

impl BusFleet {
    /// `count` buses on `ceil(count / 2)` routes; empty if the graph has no usable routes.
    pub fn new(graph: &RoadGraph, count: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let main = graph.largest_component();
        let mut ends = arterial_nodes(graph, &main);
        if ends.len() < 2 {
            ends = main;
        }
        let pos = |n: NodeId| {
            let c = graph.node(n);
            Position::new(c.x, c.y)
        };
        let want = count.div_ceil(2);
        let mut routes = Vec::new();
        let mut attempts = 0;
        while routes.len() < want && attempts < want * 20 && ends.len() >= 2 {
            attempts += 1;
            let a = ends[rng.below(ends.len())];
            // The farthest of a few random candidates, so routes spread over the network.
            let b = (0..8)
                .map(|_| ends[rng.below(ends.len())])
                .max_by(|x, y| distance_m(pos(a), pos(*x)).total_cmp(&distance_m(pos(a), pos(*y))));
            let Some(b) = b.filter(|b| distance_m(pos(a), pos(*b)) >= MIN_ROUTE_SPAN_M) else { continue };
            let (Some(out), Some(back)) =
                (graph.shortest_path(a, b, Metric::Time), graph.shortest_path(b, a, Metric::Time))
            else {
                continue;
            };
            let mut pts = graph.route_polyline(&out).0;
            pts.extend(graph.route_polyline(&back).0.into_iter().skip(1));
            let Some(track) = Track::new(pts) else { continue };
            let name = format!(
                "Tuyến {:02}: {} – {}",
                routes.len() + 1,
                street_name(graph, &out.edges),
                street_name(graph, &back.edges)
            );
            routes.push(BusRoute { name, track });
        }
        let buses = (0..if routes.is_empty() { 0 } else { count })
            .map(|i| {
                let route = i % routes.len();
                let lap = routes[route].track.length_m();
                let on_route = i / routes.len();
                Bus {
                    // The index in the last digits keeps plates unique.
                    plate: format!("43B-{:03}.{:02}", 100 + rng.below(900), i % 100),
                    route,
                    offset_m: lap * (on_route as f64 * 0.5 + rng.range(0.0, 0.2)),
                    // 20–32 km/h: an urban bus average including stops.
                    speed_mps: rng.range(5.5, 9.0),
                }
            })
            .collect();
        Self { routes, buses }
    }

    pub fn routes(&self) -> &[BusRoute] {
        &self.routes
    }

    pub fn len(&self) -> usize {
        self.buses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buses.is_empty()
    }

    /// One observation per bus at `now`.
    pub fn step(&self, now: Timestamp) -> Vec<Observation> {
        let t_s = now.as_millis() as f64 / 1000.0;
        self.buses
            .iter()
            .map(|b| {
                let route = &self.routes[b.route];
                let (p, heading) = route.track.at_looped(b.offset_m + b.speed_mps * t_s);
                let mut o = Observation::new(EntityKind::Bus, b.plate.clone(), now).at(p.lon, p.lat);
                o.source = SOURCE.to_owned();
                o.heading = Some(heading);
                o.speed = Some(b.speed_mps);
                o.status = Some("in_service".to_owned());
                o.properties.insert("simulated".into(), PropertyValue::Bool(true));
                o.properties.insert("route".into(), PropertyValue::Text(route.name.clone()));
                o.properties.insert("route_id".into(), PropertyValue::Text(format!("DN{:02}", b.route + 1)));
                o.properties.insert("operator".into(), PropertyValue::Text("Demo bus operator".into()));
                o
            })
            .collect()
    }
}
