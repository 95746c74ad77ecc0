//! Shortest paths (Dijkstra) on the road graph and routes as polylines.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{Coord, LineString};

use super::{EdgeId, NodeId, RoadGraph};

/// What a shortest path minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Metres.
    Length,
    /// Free-flow seconds.
    Time,
}

/// A path through the graph: the edges in travel order.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub from: NodeId,
    pub to: NodeId,
    pub edges: Vec<EdgeId>,
    pub length_m: f64,
    pub time_s: f64,
}

struct Item {
    cost: f64,
    node: NodeId,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cost.total_cmp(&other.cost) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Reversed: BinaryHeap is a max-heap and we pop the cheapest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.cost.total_cmp(&self.cost).then_with(|| other.node.cmp(&self.node))
    }
}

impl RoadGraph {
    /// The cheapest path from `from` to `to` by `metric`, or `None` if `to` is unreachable.
    pub fn shortest_path(&self, from: NodeId, to: NodeId, metric: Metric) -> Option<Route> {
        let n = self.node_count();
        if from.0 as usize >= n || to.0 as usize >= n {
            return None;
        }
        let mut best = vec![f64::INFINITY; n];
        let mut via: Vec<Option<EdgeId>> = vec![None; n];
        let mut heap = BinaryHeap::new();
        best[from.0 as usize] = 0.0;
        heap.push(Item { cost: 0.0, node: from });
        while let Some(Item { cost, node }) = heap.pop() {
            if node == to {
                break;
            }
            if cost > best[node.0 as usize] {
                continue;
            }
            for &e in self.outgoing(node) {
                let edge = self.edge(e);
                let step = match metric {
                    Metric::Length => edge.length_m,
                    Metric::Time => edge.time_s(),
                };
                let next = cost + step;
                if next < best[edge.to.0 as usize] {
                    best[edge.to.0 as usize] = next;
                    via[edge.to.0 as usize] = Some(e);
                    heap.push(Item { cost: next, node: edge.to });
                }
            }
        }
        if !best[to.0 as usize].is_finite() {
            return None;
        }
        let mut edges = Vec::new();
        let mut at = to;
        while at != from {
            let e = via[at.0 as usize]?;
            edges.push(e);
            at = self.edge(e).from;
        }
        edges.reverse();
        let length_m = edges.iter().map(|e| self.edge(*e).length_m).sum();
        let time_s = edges.iter().map(|e| self.edge(*e).time_s()).sum();
        Some(Route { from, to, edges, length_m, time_s })
    }

    /// The route's geometry: the edges' vertices joined without repeating shared nodes. A route of
    /// no edges is the single node's position.
    pub fn route_polyline(&self, route: &Route) -> LineString<f64> {
        let mut pts: Vec<Coord<f64>> = vec![self.node(route.from)];
        for e in &route.edges {
            pts.extend(self.edge(*e).geometry.iter().skip(1).copied());
        }
        LineString(pts)
    }
}
