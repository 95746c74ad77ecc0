//! One Dijkstra over travel time between a root point and many target points, both snapped onto
//! edges, that stops once the k cheapest targets are settled.
//!
//! Slots `0..n` are road nodes, `n..n+T` the targets: a target is a node of the search reached from
//! the road node(s) at the end of its partial edge, so it is settled in cost order like any node and
//! the k-th settled target ends the search. Buffers are generation-stamped: starting a query bumps a
//! counter instead of clearing arrays the size of the network.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::costs::EdgeCosts;
use crate::network::{Dispatcher, EdgePoint, Snap, NONE};

/// Marks a node whose cost came from the root point, not over an edge.
const SEED: u32 = u32::MAX - 1;

/// Which way vehicles drive relative to the root point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Targets drive to the root (units to a case): the search runs on the reversed graph.
    ToRoot,
    /// The root drives to the targets (an ambulance to hospitals).
    FromRoot,
}

#[derive(Debug, Clone, Copy)]
struct Item {
    cost: f64,
    slot: u32,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Reversed: BinaryHeap pops its greatest, we want the cheapest.
    fn cmp(&self, other: &Self) -> Ordering {
        other.cost.total_cmp(&self.cost).then_with(|| other.slot.cmp(&self.slot))
    }
}

/// How a target joins the graph: at `node` (or directly on the root's edge when `node` is NONE)
/// over the partial edge at `point`.
#[derive(Debug, Clone, Copy)]
struct Attach {
    target: u32,
    node: u32,
    point: EdgePoint,
    /// The root's point on the same edge, for direct attachments.
    root_point: Option<EdgePoint>,
    partial_s: f64,
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct Seed {
    node: u32,
    point: EdgePoint,
    cost: f64,
}

/// A stretch of a route in travel order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Piece {
    /// Part of an edge, between two points on it.
    Partial { from: EdgePoint, to_segment: usize, to_t: f64, to_along_m: f64 },
    /// A whole edge.
    Full(u32),
}

/// A settled target: its index in the caller's target list, travel seconds, and its attachment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settled {
    pub target: u32,
    pub cost: f64,
    attach: u32,
}

/// What one search runs on: the network, its costs, the direction and the root point.
#[derive(Clone, Copy)]
pub(crate) struct Query<'a> {
    pub net: &'a Dispatcher,
    pub costs: &'a EdgeCosts,
    pub dir: Direction,
    pub root: &'a Snap,
}

/// Reusable search state. One per worker thread; a query allocates nothing per settled node.
#[derive(Debug, Default)]
pub struct SearchBuffers {
    dist: Vec<f64>,
    stamp: Vec<u32>,
    pred: Vec<u32>,
    head: Vec<u32>,
    head_stamp: Vec<u32>,
    generation: u32,
    heap: BinaryHeap<Item>,
    attach: Vec<Attach>,
    seeds: Vec<Seed>,
    /// How many nodes and targets the last query settled (for benchmarks and tests).
    settled_nodes: usize,
}

fn frac(p: &EdgePoint, len: f64) -> f64 {
    if len > 0.0 {
        (p.along_m / len).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl SearchBuffers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Road nodes settled by the last query.
    pub fn last_settled_nodes(&self) -> usize {
        self.settled_nodes
    }

    #[cfg(test)]
    pub(crate) fn set_generation_for_test(&mut self, g: u32) {
        self.generation = g;
    }

    fn begin(&mut self, nodes: usize, slots: usize) {
        if self.dist.len() < slots {
            self.dist.resize(slots, f64::INFINITY);
            self.stamp.resize(slots, 0);
            self.pred.resize(slots, NONE);
        }
        if self.head.len() < nodes {
            self.head.resize(nodes, NONE);
            self.head_stamp.resize(nodes, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 2^32 queries stamps could alias: clear once and start over.
            self.stamp.fill(0);
            self.head_stamp.fill(0);
            self.generation = 1;
        }
        self.heap.clear();
        self.attach.clear();
        self.seeds.clear();
        self.settled_nodes = 0;
    }

    #[inline]
    fn dist(&self, slot: u32) -> f64 {
        let s = slot as usize;
        if self.stamp[s] == self.generation {
            self.dist[s]
        } else {
            f64::INFINITY
        }
    }

    #[inline]
    fn relax(&mut self, slot: u32, cost: f64, pred: u32) {
        if cost < self.dist(slot) {
            let s = slot as usize;
            self.dist[s] = cost;
            self.stamp[s] = self.generation;
            self.pred[s] = pred;
            self.heap.push(Item { cost, slot });
        }
    }

    fn attach_to(&mut self, a: Attach) {
        let idx = self.attach.len() as u32;
        let mut a = a;
        if a.node != NONE {
            let v = a.node as usize;
            a.next = if self.head_stamp[v] == self.generation { self.head[v] } else { NONE };
            self.head[v] = idx;
            self.head_stamp[v] = self.generation;
        }
        self.attach.push(a);
    }

    /// Runs the search. `targets` are `(target index, snap)` with indices below `target_count`.
    /// Returns the settled targets in cost order (at most `k`) and whether the search ran out of
    /// graph (then every target not settled is unreachable).
    pub(crate) fn run<'s>(
        &mut self,
        query: &Query<'_>,
        targets: impl Iterator<Item = (u32, &'s Snap)>,
        target_count: usize,
        k: usize,
        out: &mut Vec<Settled>,
    ) -> bool {
        let Query { net, costs, dir, root } = *query;
        out.clear();
        let n = net.node_count();
        self.begin(n, n + target_count);
        // Seeds: where the root's edges meet the graph.
        for p in &root.on {
            let e = p.edge.0;
            let t = costs.raw(e);
            if !t.is_finite() {
                continue;
            }
            let f = frac(p, net.length_m[e as usize]);
            let (node, cost) = match dir {
                Direction::ToRoot => (net.from[e as usize], f * t),
                Direction::FromRoot => (net.to[e as usize], (1.0 - f) * t),
            };
            self.seeds.push(Seed { node, point: *p, cost });
            self.relax(node, cost, SEED);
        }
        // Targets: attached at the far end of their partial edge, or directly along the root's edge.
        let mut attached = 0usize;
        for (ti, snap) in targets {
            if ti as usize >= target_count {
                continue;
            }
            let before = self.attach.len();
            let slot = (n + ti as usize) as u32;
            for p in &snap.on {
                let e = p.edge.0;
                let t = costs.raw(e);
                if !t.is_finite() {
                    continue;
                }
                let f = frac(p, net.length_m[e as usize]);
                let (node, partial_s) = match dir {
                    Direction::ToRoot => (net.to[e as usize], (1.0 - f) * t),
                    Direction::FromRoot => (net.from[e as usize], f * t),
                };
                self.attach_to(Attach { target: ti, node, point: *p, root_point: None, partial_s, next: NONE });
                for r in root.on.iter().filter(|r| r.edge == p.edge) {
                    // Same directed edge: drive straight along it if the order is right.
                    let (first, second) = match dir {
                        Direction::ToRoot => (p, r),
                        Direction::FromRoot => (r, p),
                    };
                    if first.along_m <= second.along_m {
                        let len = net.length_m[e as usize];
                        let direct = (frac(second, len) - frac(first, len)).max(0.0) * t;
                        let idx = self.attach.len() as u32;
                        self.attach_to(Attach {
                            target: ti,
                            node: NONE,
                            point: *p,
                            root_point: Some(*r),
                            partial_s: direct,
                            next: NONE,
                        });
                        self.relax(slot, direct, idx);
                    }
                }
            }
            if self.attach.len() > before {
                attached += 1;
            }
        }
        // Once every target that touches an open road is settled there is nothing left to find:
        // stopping then keeps "3 units, k = 5" from sweeping the whole city.
        let wanted = k.min(attached);
        if wanted == 0 {
            return true;
        }
        while let Some(Item { cost, slot }) = self.heap.pop() {
            if cost > self.dist(slot) {
                continue;
            }
            if slot as usize >= n {
                out.push(Settled { target: slot - n as u32, cost, attach: self.pred[slot as usize] });
                if out.len() >= wanted {
                    // Stopped early only if more reachable targets may remain.
                    return wanted == attached;
                }
                continue;
            }
            self.settled_nodes += 1;
            let v = slot as usize;
            if self.head_stamp[v] == self.generation {
                let mut a = self.head[v];
                while a != NONE {
                    let at = self.attach[a as usize];
                    self.relax((n + at.target as usize) as u32, cost + at.partial_s, a);
                    a = at.next;
                }
            }
            let arcs = match dir {
                Direction::ToRoot => net.in_arcs(slot),
                Direction::FromRoot => net.out_arcs(slot),
            };
            for arc in arcs {
                let t = costs.raw(arc.edge);
                if t.is_finite() {
                    self.relax(arc.node, cost + t, arc.edge);
                }
            }
        }
        true
    }

    /// The route of a settled target, in travel order (from the driving end to the other).
    pub(crate) fn route(&self, net: &Dispatcher, dir: Direction, s: &Settled) -> Vec<Piece> {
        let Some(at) = self.attach.get(s.attach as usize).copied() else {
            return Vec::new();
        };
        if let Some(r) = at.root_point {
            let (from, to) = match dir {
                Direction::ToRoot => (at.point, r),
                Direction::FromRoot => (r, at.point),
            };
            return vec![Piece::Partial { from, to_segment: to.segment, to_t: to.t, to_along_m: to.along_m }];
        }
        let end_of = |p: &EdgePoint| {
            let nseg = net.cum(p.edge.0).len().saturating_sub(1);
            (nseg.saturating_sub(1), 1.0, net.length_m[p.edge.0 as usize])
        };
        let start_of = |p: &EdgePoint| EdgePoint { segment: 0, t: 0.0, along_m: 0.0, ..*p };
        // Whole edges from the target's node back to a seed, following predecessors.
        let mut edges = Vec::new();
        let mut v = at.node;
        let mut seed_node = NONE;
        for _ in 0..=net.node_count() {
            let Some(&p) = self.pred.get(v as usize) else { break };
            if p == SEED || p == NONE {
                seed_node = v;
                break;
            }
            edges.push(p);
            v = match dir {
                Direction::ToRoot => net.to[p as usize],
                Direction::FromRoot => net.from[p as usize],
            };
        }
        let seed = self
            .seeds
            .iter()
            .filter(|sd| sd.node == seed_node)
            .min_by(|a, b| a.cost.total_cmp(&b.cost))
            .map(|sd| sd.point);
        let mut pieces = Vec::with_capacity(edges.len() + 2);
        match dir {
            Direction::ToRoot => {
                let (seg, t, along) = end_of(&at.point);
                pieces.push(Piece::Partial { from: at.point, to_segment: seg, to_t: t, to_along_m: along });
                pieces.extend(edges.iter().map(|e| Piece::Full(*e)));
                if let Some(r) = seed {
                    pieces.push(Piece::Partial {
                        from: start_of(&r),
                        to_segment: r.segment,
                        to_t: r.t,
                        to_along_m: r.along_m,
                    });
                }
            }
            Direction::FromRoot => {
                if let Some(r) = seed {
                    let (seg, t, along) = end_of(&r);
                    pieces.push(Piece::Partial { from: r, to_segment: seg, to_t: t, to_along_m: along });
                }
                pieces.extend(edges.iter().rev().map(|e| Piece::Full(*e)));
                let p = at.point;
                pieces.push(Piece::Partial {
                    from: start_of(&p),
                    to_segment: p.segment,
                    to_t: p.t,
                    to_along_m: p.along_m,
                });
            }
        }
        pieces
    }
}
