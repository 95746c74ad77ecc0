//! A routable network: directed links with BPR (or linear) costs and turn rules.
//!
//! Built from the OSM road graph of twin-layers. Capacity per lane by highway class (vehicles per
//! hour per lane, urban signalised arterials, after HCM-style saturation flows reduced for signals
//! and mixed motorbike traffic):
//!
//! | class | veh/h/lane | default lanes per direction |
//! |---|---|---|
//! | motorway | 2000 | 2 |
//! | trunk | 1800 | 2 |
//! | primary | 1600 | 2 |
//! | secondary | 1400 | 1 |
//! | tertiary | 1200 | 1 |
//! | unclassified, road | 900 | 1 |
//! | residential | 700 | 1 |
//! | service, living_street, other | 500 | 1 |
//! | `*_link` | as its class × 0.8 | 1 |
//!
//! Lanes come from the OSM `lanes` tag (split evenly over the directions of a two-way road), free-
//! flow speed from `maxspeed` or the class default (see the road graph).

use twin_layers::normalize::{oneway_of, Oneway};
use twin_layers::roads::{EdgeId, RoadGraph};
use twin_layers::Layer;

use super::error::TrafficError;

/// Link performance function: travel time (s) as a function of flow (veh/h).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinkCost {
    /// BPR: `t = t0 (1 + alpha (v/c)^beta)`.
    Bpr { t0_s: f64, capacity_veh_h: f64, alpha: f64, beta: f64 },
    /// `t = a + b v` (textbook instances such as Braess's network).
    Linear { a: f64, b: f64 },
}

impl LinkCost {
    /// The standard BPR function (alpha 0.15, beta 4).
    pub fn bpr(t0_s: f64, capacity_veh_h: f64) -> Self {
        Self::Bpr { t0_s, capacity_veh_h, alpha: 0.15, beta: 4.0 }
    }

    #[inline]
    pub fn time(&self, v: f64) -> f64 {
        match *self {
            Self::Bpr { t0_s, capacity_veh_h, alpha, beta } => {
                let x = v / capacity_veh_h;
                let p = if beta == 4.0 { (x * x) * (x * x) } else { x.powf(beta) };
                t0_s * (1.0 + alpha * p)
            }
            Self::Linear { a, b } => a + b * v,
        }
    }

    /// d t / d v.
    #[inline]
    pub fn derivative(&self, v: f64) -> f64 {
        match *self {
            Self::Bpr { t0_s, capacity_veh_h, alpha, beta } => {
                let x = v / capacity_veh_h;
                let p = if beta == 4.0 { x * x * x } else { x.powf(beta - 1.0) };
                t0_s * alpha * beta * p / capacity_veh_h
            }
            Self::Linear { b, .. } => b,
        }
    }

    /// ∫₀^v t(x) dx: the Beckmann objective term.
    pub fn integral(&self, v: f64) -> f64 {
        match *self {
            Self::Bpr { t0_s, capacity_veh_h, alpha, beta } => {
                t0_s * (v + alpha * capacity_veh_h * (v / capacity_veh_h).powf(beta + 1.0) / (beta + 1.0))
            }
            Self::Linear { a, b } => a * v + 0.5 * b * v * v,
        }
    }

    /// Free-flow time (s).
    pub fn free_time(&self) -> f64 {
        self.time(0.0)
    }
}

/// A directed link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub from: u32,
    pub to: u32,
    pub cost: LinkCost,
    pub length_m: f64,
    pub lanes: u32,
    /// Capacity (veh/h) of all lanes together.
    pub capacity_veh_h: f64,
    /// Free-flow speed (km/h).
    pub speed_kmh: f64,
    /// Compass bearings (degrees) of the first and last piece, for turn classification.
    pub bearing_in: Option<f64>,
    pub bearing_out: Option<f64>,
    /// The road-graph edge this link models, if any.
    pub edge: Option<EdgeId>,
}

/// Which turns are allowed and what they cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnRules {
    /// No U-turns except at dead ends (where turning back is the only way on).
    pub ban_u_turns: bool,
    /// Extra seconds for a left turn (traffic drives on the right: crossing the opposing flow).
    pub left_turn_s: f64,
    pub right_turn_s: f64,
}

impl Default for TurnRules {
    fn default() -> Self {
        Self { ban_u_turns: true, left_turn_s: 10.0, right_turn_s: 2.0 }
    }
}

/// A directed network of links between numbered nodes.
#[derive(Debug, Clone)]
pub struct Network {
    node_count: usize,
    links: Vec<Link>,
    out_links: Vec<Vec<u32>>,
    in_links: Vec<Vec<u32>>,
    pub turns: TurnRules,
    /// Links that carry no traffic (closures).
    closed: Vec<bool>,
}

/// Capacity per lane (veh/h) and default lanes per direction for a highway class.
pub fn class_capacity(class: &str) -> (f64, u32) {
    let link = class.ends_with("_link");
    let (cap, lanes) = match class.trim_end_matches("_link") {
        "motorway" => (2000.0, 2),
        "trunk" => (1800.0, 2),
        "primary" => (1600.0, 2),
        "secondary" => (1400.0, 1),
        "tertiary" => (1200.0, 1),
        "unclassified" | "road" => (900.0, 1),
        "residential" => (700.0, 1),
        _ => (500.0, 1),
    };
    if link {
        (cap * 0.8, 1)
    } else {
        (cap, lanes)
    }
}

fn bearing_deg(a: geo::Coord<f64>, b: geo::Coord<f64>) -> Option<f64> {
    let kx = a.y.to_radians().cos();
    let (dx, dy) = ((b.x - a.x) * kx, b.y - a.y);
    (dx != 0.0 || dy != 0.0).then(|| dx.atan2(dy).to_degrees().rem_euclid(360.0))
}

impl Network {
    /// An empty network over `node_count` nodes.
    pub fn new(node_count: usize, turns: TurnRules) -> Self {
        Self {
            node_count,
            links: Vec::new(),
            out_links: vec![Vec::new(); node_count],
            in_links: vec![Vec::new(); node_count],
            turns,
            closed: Vec::new(),
        }
    }

    /// Adds a link and returns its index.
    pub fn add_link(&mut self, link: Link) -> Result<u32, TrafficError> {
        let n = self.node_count as u32;
        if link.from >= n || link.to >= n {
            return Err(TrafficError::InvalidNetwork(format!("link {}→{} outside {n} nodes", link.from, link.to)));
        }
        let t0 = link.cost.free_time();
        if t0.is_nan() || t0 < 0.0 {
            return Err(TrafficError::InvalidNetwork("negative or NaN free-flow time".into()));
        }
        let id = self.links.len() as u32;
        self.out_links[link.from as usize].push(id);
        self.in_links[link.to as usize].push(id);
        self.links.push(link);
        self.closed.push(false);
        Ok(id)
    }

    /// A simple link with a cost function and no geometry (test networks, textbook instances).
    pub fn add_simple(&mut self, from: u32, to: u32, cost: LinkCost) -> Result<u32, TrafficError> {
        let capacity_veh_h = match cost {
            LinkCost::Bpr { capacity_veh_h, .. } => capacity_veh_h,
            LinkCost::Linear { .. } => f64::INFINITY,
        };
        self.add_link(Link {
            from,
            to,
            cost,
            length_m: 0.0,
            lanes: 1,
            capacity_veh_h,
            speed_kmh: 0.0,
            bearing_in: None,
            bearing_out: None,
            edge: None,
        })
    }

    /// One link per road-graph edge, nodes numbered as in the graph. `roads` is the layer the
    /// graph was built from (for `lanes`); without it the class defaults apply.
    pub fn from_road_graph(graph: &RoadGraph, roads: Option<&Layer>, turns: TurnRules) -> Self {
        let mut net = Self::new(graph.node_count(), turns);
        for (id, e) in graph.edges() {
            let (per_lane, default_lanes) = class_capacity(&e.class);
            let props = roads.and_then(|l| l.features.get(e.feature)).map(|f| &f.properties);
            let two_way = props.is_some_and(|p| oneway_of(p) == Oneway::No);
            let tagged = props
                .and_then(|p| p.get("lanes"))
                .and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.split(';').next()?.trim().parse().ok())))
                .filter(|l| *l >= 1.0 && *l <= 12.0);
            let lanes = match tagged {
                Some(l) if two_way => ((l / 2.0).floor() as u32).max(1),
                Some(l) => l as u32,
                None => default_lanes,
            };
            let capacity = per_lane * lanes as f64;
            let speed = if e.speed_kmh > 0.0 { e.speed_kmh } else { 30.0 };
            let t0 = e.length_m.max(1.0) / (speed / 3.6);
            let g = &e.geometry;
            let (bearing_in, bearing_out) = if g.len() >= 2 {
                (bearing_deg(g[0], g[1]), bearing_deg(g[g.len() - 2], g[g.len() - 1]))
            } else {
                (None, None)
            };
            // Nodes come from the same graph, so the link is always in range.
            let _ = net.add_link(Link {
                from: e.from.0,
                to: e.to.0,
                cost: LinkCost::bpr(t0, capacity),
                length_m: e.length_m,
                lanes,
                capacity_veh_h: capacity,
                speed_kmh: speed,
                bearing_in,
                bearing_out,
                edge: Some(id),
            });
        }
        net
    }

    pub fn node_count(&self) -> usize {
        self.node_count
    }
    pub fn link_count(&self) -> usize {
        self.links.len()
    }
    pub fn link(&self, l: u32) -> &Link {
        &self.links[l as usize]
    }
    pub fn links(&self) -> &[Link] {
        &self.links
    }
    pub fn out_links(&self, node: u32) -> &[u32] {
        &self.out_links[node as usize]
    }
    pub fn in_links(&self, node: u32) -> &[u32] {
        &self.in_links[node as usize]
    }
    pub fn is_closed(&self, l: u32) -> bool {
        self.closed[l as usize]
    }

    /// Closes (or reopens) a link: closed links are never used by any path.
    pub fn set_closed(&mut self, l: u32, closed: bool) {
        if let Some(c) = self.closed.get_mut(l as usize) {
            *c = closed;
        }
    }

    /// Extra time (s) for moving from link `a` into link `b`, or `None` when the turn is banned.
    #[inline]
    pub fn turn_cost(&self, a: u32, b: u32) -> Option<f64> {
        let (la, lb) = (&self.links[a as usize], &self.links[b as usize]);
        let u_turn = lb.to == la.from && lb.from == la.to;
        if u_turn && self.turns.ban_u_turns {
            // Allowed only where nothing else leaves the node.
            let others = self.out_links[la.to as usize].iter().any(|&o| o != b && !self.closed[o as usize]);
            return if others { None } else { Some(0.0) };
        }
        match (la.bearing_out, lb.bearing_in) {
            (Some(x), Some(y)) => {
                // Signed change of heading in (-180, 180]; negative is a left turn.
                let d = (y - x + 540.0).rem_euclid(360.0) - 180.0;
                Some(if d < -30.0 {
                    self.turns.left_turn_s
                } else if d > 30.0 {
                    self.turns.right_turn_s
                } else {
                    0.0
                })
            }
            _ => Some(0.0),
        }
    }
}
