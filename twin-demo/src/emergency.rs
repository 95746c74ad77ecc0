//! Simulated ambulances, fire trucks and police patrols on the road graph.
//!
//! Ambulances and fire trucks are based at a station and repeat a mission cycle: standby at base
//! (available) → drive to a random incident (en_route) → work there (on_scene) → drive back
//! (available, task "returning"). Police units patrol an area instead of returning: a short stop
//! (available) → drive to a random junction of the area (patrolling), or now and then to an
//! incident there (en_route, then on_scene) → the next stop from where they are.

use std::collections::VecDeque;

use twin_core::{BBox, EntityKind, Observation, Position, PropertyValue, Timestamp};
use twin_layers::roads::{Metric, NodeId, RoadGraph};

use super::track::{Rng, Track};

pub const SOURCE: &str = "demo:emergency";
/// Source of the police patrols (a fleet of their own: not reported as trackers).
pub const POLICE_SOURCE: &str = "demo:police";
/// One patrol leg in this many is an incident response instead.
const POLICE_INCIDENT_EVERY: usize = 4;

/// Where a unit is based.
#[derive(Debug, Clone)]
pub struct Base {
    pub name: String,
    pub position: Position,
    /// True when the location is not a mapped station (e.g. no fire-station POI in the extract).
    pub assumed: bool,
}

#[derive(Debug, Clone)]
enum Leg {
    Wait { until_ms: i64, at: Position, status: &'static str, task: &'static str },
    Drive { track: Track, start_ms: i64, speed_mps: f64, status: &'static str, task: &'static str },
}

impl Leg {
    fn end_ms(&self) -> i64 {
        match self {
            Leg::Wait { until_ms, .. } => *until_ms,
            Leg::Drive { track, start_ms, speed_mps, .. } => start_ms + (track.length_m() / speed_mps * 1000.0) as i64,
        }
    }
}

#[derive(Debug, Clone)]
struct Unit {
    kind: EntityKind,
    call_sign: String,
    agency: String,
    base_name: String,
    base_assumed: bool,
    base: NodeId,
    /// Where the next mission starts (the base, for units that return to it).
    at: NodeId,
    legs: VecDeque<Leg>,
    rng: Rng,
}

/// Parameters per kind of unit: speeds in m/s, durations in seconds.
struct Profile {
    en_route_mps: f64,
    return_mps: f64,
    standby_s: (f64, f64),
    on_scene_s: (f64, f64),
}

fn profile(kind: EntityKind) -> Profile {
    match kind {
        EntityKind::FireTruck => {
            Profile { en_route_mps: 11.0, return_mps: 8.0, standby_s: (20.0, 60.0), on_scene_s: (120.0, 240.0) }
        }
        // return_mps: the patrol speed (patrols do not return).
        EntityKind::PoliceUnit => {
            Profile { en_route_mps: 12.0, return_mps: 7.0, standby_s: (10.0, 40.0), on_scene_s: (60.0, 180.0) }
        }
        _ => Profile { en_route_mps: 13.0, return_mps: 9.0, standby_s: (15.0, 45.0), on_scene_s: (45.0, 120.0) },
    }
}

/// The emergency fleet. Stateful (missions are planned as time passes) but free of I/O.
#[derive(Debug, Clone)]
pub struct EmergencyFleet {
    graph: std::sync::Arc<RoadGraph>,
    /// Where incidents (and patrol legs) lead: junctions of the main component.
    targets: Vec<NodeId>,
    /// Patrol instead of returning to base (the police fleet).
    patrol: bool,
    source: &'static str,
    units: Vec<Unit>,
}

impl EmergencyFleet {
    /// `ambulances` spread over `hospitals`, `fire_trucks` over `fire_stations`, all snapped to the
    /// nearest junction of the graph's main component. Missions start at `start`.
    pub fn new(
        graph: std::sync::Arc<RoadGraph>,
        hospitals: &[Base],
        ambulances: usize,
        fire_stations: &[Base],
        fire_trucks: usize,
        seed: u64,
        start: Timestamp,
    ) -> Self {
        let main = graph.largest_component();
        let plans = [
            (EntityKind::Ambulance, hospitals, ambulances, "115"),
            (EntityKind::FireTruck, fire_stations, fire_trucks, "114"),
        ];
        let mut fleet = Self { graph, targets: Vec::new(), patrol: false, source: SOURCE, units: Vec::new() };
        fleet.add_units(&plans, &main, seed);
        fleet.targets = main;
        fleet.start(start);
        fleet
    }

    /// `count` police units spread over `stations`, patrolling the junctions of the main component
    /// inside `area` (the whole component if none is there). Missions start at `start`.
    pub fn police(
        graph: std::sync::Arc<RoadGraph>,
        stations: &[Base],
        count: usize,
        area: BBox,
        seed: u64,
        start: Timestamp,
    ) -> Self {
        let main = graph.largest_component();
        let inside: Vec<NodeId> = main
            .iter()
            .copied()
            .filter(|n| {
                let c = graph.node(*n);
                area.contains(Position::new(c.x, c.y))
            })
            .collect();
        let targets = if inside.is_empty() { main } else { inside };
        let mut fleet = Self { graph, targets: Vec::new(), patrol: true, source: POLICE_SOURCE, units: Vec::new() };
        fleet.add_units(&[(EntityKind::PoliceUnit, stations, count, "113")], &targets, seed);
        fleet.targets = targets;
        fleet.start(start);
        fleet
    }

    /// `count` units of each kind spread over its bases, snapped to the nearest of `nodes`.
    fn add_units(&mut self, plans: &[(EntityKind, &[Base], usize, &str)], nodes: &[NodeId], seed: u64) {
        let mut rng = Rng::new(seed);
        for &(kind, bases, count, prefix) in plans {
            if bases.is_empty() {
                continue;
            }
            for i in 0..count {
                let base = &bases[i % bases.len()];
                let Some(node) = self.graph.nearest_node(base.position, Some(nodes)) else { continue };
                let agency = match kind {
                    EntityKind::FireTruck => "Cảnh sát PCCC&CNCH – Công an TP. Đà Nẵng".to_owned(),
                    EntityKind::PoliceUnit => format!("Công an TP. Đà Nẵng – {}", base.name),
                    _ => format!("Cấp cứu 115 – {}", base.name),
                };
                self.units.push(Unit {
                    kind,
                    // 115 / 114 / 113 are Vietnam's ambulance, fire and police numbers.
                    call_sign: format!("{prefix}-{:02}", i + 1),
                    agency,
                    base_name: base.name.clone(),
                    base_assumed: base.assumed,
                    base: node,
                    at: node,
                    legs: VecDeque::new(),
                    rng: Rng::new(rng.next_u64()),
                });
            }
        }
    }

    fn start(&mut self, start: Timestamp) {
        for i in 0..self.units.len() {
            self.plan_mission(i, start.as_millis());
        }
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn count(&self, kind: EntityKind) -> usize {
        self.units.iter().filter(|u| u.kind == kind).count()
    }

    fn node_pos(&self, n: NodeId) -> Position {
        let c = self.graph.node(n);
        Position::new(c.x, c.y)
    }

    fn track(&self, from: NodeId, to: NodeId) -> Option<Track> {
        let route = self.graph.shortest_path(from, to, Metric::Time)?;
        Track::new(self.graph.route_polyline(&route).0)
    }

    /// Appends the next mission's legs starting at `t_ms`: standby → en_route → on_scene → return
    /// for units with a base, stop → patrol (or en_route → on_scene) for patrols.
    fn plan_mission(&mut self, i: usize, t_ms: i64) {
        let p = profile(self.units[i].kind);
        let (from, base) = (self.units[i].at, self.units[i].base);
        let from_pos = self.node_pos(from);
        let u = &mut self.units[i];
        let standby = (u.rng.range(p.standby_s.0, p.standby_s.1) * 1000.0) as i64;
        let on_scene = (u.rng.range(p.on_scene_s.0, p.on_scene_s.1) * 1000.0) as i64;
        let target = self.targets[u.rng.below(self.targets.len())];
        let incident = !self.patrol || u.rng.below(POLICE_INCIDENT_EVERY) == 0;
        let stop = if self.patrol { "stop" } else { "standby" };
        let mut t = t_ms + standby;
        u.legs.push_back(Leg::Wait { until_ms: t, at: from_pos, status: "available", task: stop });
        // None: the target is where the unit stands (or unreachable); it just stops again.
        let Some(out) = self.track(from, target) else { return };
        let back = if self.patrol {
            None
        } else {
            let Some(back) = self.track(target, base) else { return };
            Some(back)
        };
        let scene = self.node_pos(target);
        let u = &mut self.units[i];
        let go = if incident {
            Leg::Drive { track: out, start_ms: t, speed_mps: p.en_route_mps, status: "en_route", task: "incident" }
        } else {
            Leg::Drive { track: out, start_ms: t, speed_mps: p.return_mps, status: "patrolling", task: "patrol" }
        };
        t = go.end_ms();
        u.legs.push_back(go);
        if self.patrol {
            u.at = target;
        }
        if incident {
            t += on_scene;
            u.legs.push_back(Leg::Wait { until_ms: t, at: scene, status: "on_scene", task: "incident" });
        }
        if let Some(back) = back {
            u.legs.push_back(Leg::Drive {
                track: back,
                start_ms: t,
                speed_mps: p.return_mps,
                status: "available",
                task: "returning",
            });
        }
    }

    /// One observation per unit at `now` (which should not go backwards).
    pub fn step(&mut self, now: Timestamp) -> Vec<Observation> {
        let t = now.as_millis();
        let mut out = Vec::with_capacity(self.units.len());
        for i in 0..self.units.len() {
            while self.units[i].legs.front().is_none_or(|l| l.end_ms() <= t) {
                let end = self.units[i].legs.pop_front().map_or(t, |l| l.end_ms());
                if self.units[i].legs.is_empty() {
                    self.plan_mission(i, end);
                }
            }
            let u = &self.units[i];
            let Some(leg) = u.legs.front() else { continue };
            let (p, heading, speed, status, task) = match leg {
                Leg::Wait { at, status, task, .. } => (*at, None, 0.0, *status, *task),
                Leg::Drive { track, start_ms, speed_mps, status, task } => {
                    let (p, h) = track.at((t - start_ms) as f64 / 1000.0 * speed_mps);
                    (p, Some(h), *speed_mps, *status, *task)
                }
            };
            let mut o = Observation::new(u.kind, u.call_sign.clone(), now).at(p.lon, p.lat);
            o.source = self.source.to_owned();
            o.heading = heading;
            o.speed = Some(speed);
            o.status = Some(status.to_owned());
            let props = [
                ("simulated", PropertyValue::Bool(true)),
                ("call_sign", PropertyValue::Text(u.call_sign.clone())),
                ("agency", PropertyValue::Text(u.agency.clone())),
                ("base", PropertyValue::Text(u.base_name.clone())),
                ("base_assumed", PropertyValue::Bool(u.base_assumed)),
                ("task", PropertyValue::Text(task.to_owned())),
            ];
            o.properties.extend(props.into_iter().map(|(k, v)| (k.to_owned(), v)));
            out.push(o);
        }
        out
    }
}
