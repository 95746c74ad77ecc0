//! A directed road graph built from a roads layer.
//!
//! Nodes sit at coordinates shared by two or more drivable ways (exact equality of OSM vertices, which
//! is how OSM expresses connectivity) and at way ends; every way is split at each such vertex into
//! edges that keep their vertex geometry. One-way ways give one edge, others one per direction.

mod path;
mod scc;

use std::collections::HashMap;

use geo::{Coord, Geometry};
use twin_core::geodesy::distance_m;
use twin_core::Position;

use crate::normalize::{default_speed_kmh, is_drivable, oneway_of, parse_maxspeed, text, Oneway};
use crate::Layer;

pub use path::{Metric, Route};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeId(pub u32);

/// A directed edge: travel from `from` to `to` along `geometry` (which starts at `from`).
#[derive(Debug, Clone)]
pub struct RoadEdge {
    pub from: NodeId,
    pub to: NodeId,
    pub length_m: f64,
    /// OSM highway class (`primary`, `residential`, …).
    pub class: String,
    pub name: Option<String>,
    /// Free-flow speed: the mapped `maxspeed`, else a default by class.
    pub speed_kmh: f64,
    pub geometry: Vec<Coord<f64>>,
    /// Index of the source feature in the roads layer.
    pub feature: usize,
}

impl RoadEdge {
    /// Free-flow travel time in seconds.
    pub fn time_s(&self) -> f64 {
        self.length_m / (self.speed_kmh / 3.6)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RoadGraph {
    nodes: Vec<Coord<f64>>,
    edges: Vec<RoadEdge>,
    outgoing: Vec<Vec<EdgeId>>,
}

fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

fn polyline_length_m(pts: &[Coord<f64>]) -> f64 {
    pts.windows(2).map(|w| distance_m(Position::new(w[0].x, w[0].y), Position::new(w[1].x, w[1].y))).sum()
}

impl RoadGraph {
    /// Builds the graph from the drivable LineString / MultiLineString features of a roads layer.
    pub fn from_layer(roads: &Layer) -> Self {
        let mut lines: Vec<(usize, &[Coord<f64>])> = Vec::new();
        for (i, f) in roads.features.iter().enumerate() {
            let class = text(&f.properties, "class").or_else(|| text(&f.properties, "highway"));
            if !class.as_deref().is_some_and(is_drivable) {
                continue;
            }
            match &f.geometry {
                Geometry::LineString(l) => lines.push((i, &l.0)),
                Geometry::MultiLineString(m) => lines.extend(m.0.iter().map(|l| (i, l.0.as_slice()))),
                _ => {}
            }
        }
        // A vertex is a node if it ends a way or is used more than once.
        let mut uses: HashMap<(u64, u64), u32> = HashMap::new();
        for (_, pts) in &lines {
            for (j, c) in pts.iter().enumerate() {
                let extra = if j == 0 || j + 1 == pts.len() { 2 } else { 1 };
                *uses.entry(key(*c)).or_default() += extra;
            }
        }
        let mut g = RoadGraph::default();
        let mut node_of: HashMap<(u64, u64), NodeId> = HashMap::new();
        for (fi, pts) in lines {
            let props = &roads.features[fi].properties;
            let class = text(props, "class").or_else(|| text(props, "highway")).unwrap_or_default();
            let name = text(props, "name");
            let speed_kmh = props
                .get("maxspeed")
                .and_then(serde_json::Value::as_f64)
                .or_else(|| text(props, "maxspeed").and_then(|m| parse_maxspeed(&m)))
                .unwrap_or_else(|| default_speed_kmh(&class));
            let oneway = match props.get("oneway").and_then(serde_json::Value::as_str) {
                Some("yes") => Oneway::Forward,
                Some("-1") => Oneway::Reverse,
                Some("no") => Oneway::No,
                _ => oneway_of(props),
            };
            let mut start = 0;
            for j in 1..pts.len() {
                if uses.get(&key(pts[j])).copied().unwrap_or(0) < 2 {
                    continue;
                }
                let piece = &pts[start..=j];
                start = j;
                let a = g.node_at(&mut node_of, piece[0]);
                let b = g.node_at(&mut node_of, pts[j]);
                if a == b && piece.len() < 3 {
                    continue; // a repeated vertex, not a road
                }
                let length_m = polyline_length_m(piece);
                let mut edge = |from, to, geometry: Vec<Coord<f64>>| {
                    let id = EdgeId(g.edges.len() as u32);
                    g.edges.push(RoadEdge {
                        from,
                        to,
                        length_m,
                        class: class.clone(),
                        name: name.clone(),
                        speed_kmh,
                        geometry,
                        feature: fi,
                    });
                    g.outgoing[from.0 as usize].push(id);
                };
                if oneway != Oneway::Reverse {
                    edge(a, b, piece.to_vec());
                }
                if oneway != Oneway::Forward {
                    edge(b, a, piece.iter().rev().copied().collect());
                }
            }
        }
        g
    }

    fn node_at(&mut self, node_of: &mut HashMap<(u64, u64), NodeId>, c: Coord<f64>) -> NodeId {
        *node_of.entry(key(c)).or_insert_with(|| {
            self.nodes.push(c);
            self.outgoing.push(Vec::new());
            NodeId(self.nodes.len() as u32 - 1)
        })
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
    pub fn node(&self, n: NodeId) -> Coord<f64> {
        self.nodes[n.0 as usize]
    }
    pub fn edge(&self, e: EdgeId) -> &RoadEdge {
        &self.edges[e.0 as usize]
    }
    pub fn edges(&self) -> impl Iterator<Item = (EdgeId, &RoadEdge)> {
        self.edges.iter().enumerate().map(|(i, e)| (EdgeId(i as u32), e))
    }
    pub fn outgoing(&self, n: NodeId) -> &[EdgeId] {
        &self.outgoing[n.0 as usize]
    }

    /// The node closest to `p` among `candidates`, or among all nodes with `None`. Distances are
    /// compared in a local equirectangular frame (exact enough at city scale, and cheap). A linear
    /// scan: city road graphs have thousands of nodes and this runs at set-up time.
    pub fn nearest_node(&self, p: Position, candidates: Option<&[NodeId]>) -> Option<NodeId> {
        let kx = p.lat.to_radians().cos();
        let d2 = |n: NodeId| {
            let c = self.node(n);
            let (dx, dy) = ((c.x - p.lon) * kx, c.y - p.lat);
            dx * dx + dy * dy
        };
        let best = |it: &mut dyn Iterator<Item = NodeId>| it.min_by(|a, b| d2(*a).total_cmp(&d2(*b)));
        match candidates {
            Some(c) => best(&mut c.iter().copied()),
            None => best(&mut (0..self.nodes.len() as u32).map(NodeId)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests;
