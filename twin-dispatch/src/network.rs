//! The routable network a dispatcher searches: compact forward and reverse adjacency, each edge's
//! twin (the other direction of a two-way road) and a segment index for snapping points to edges.

use std::sync::atomic::{AtomicU64, Ordering};

use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;
use twin_core::geodesy::distance_m;
use twin_core::Position;
use twin_layers::roads::{EdgeId, RoadGraph};

use crate::costs::EdgeCosts;
use crate::DispatchError;

/// No edge / no node.
pub(crate) const NONE: u32 = u32::MAX;

/// Speeds outside this range are rejected for live overrides and clamped for mapped speeds: a
/// crawl slower than 1 km/h is a closure, and nothing in a city drives faster than 200 km/h.
pub const MIN_SPEED_KMH: f64 = 1.0;
pub const MAX_SPEED_KMH: f64 = 200.0;

/// How far a point may lie from the road network and still be snapped to it, by default.
pub const DEFAULT_MAX_SNAP_M: f64 = 1_000.0;

/// How many indexed segments a snap looks at before giving up on finding an open one (closures can
/// make the nearest roads unusable; the look is bounded so a city-wide closure cannot cost a scan).
const SNAP_CANDIDATES: usize = 256;

/// One step of an adjacency list: the edge and the node at its other end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arc {
    pub edge: u32,
    pub node: u32,
}

/// A point on a directed edge: which segment of its geometry, how far along that segment (0..=1)
/// and how far along the whole edge in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgePoint {
    pub edge: EdgeId,
    pub segment: usize,
    pub t: f64,
    pub along_m: f64,
}

/// Where a position meets the road network: the nearest point on the nearest open edge, on each
/// direction of that road that is open (one for a one-way street, two for a two-way one).
#[derive(Debug, Clone, PartialEq)]
pub struct Snap {
    /// The snapped point, lon/lat.
    pub point: Position,
    /// Great-circle metres from the given position to the snapped point.
    pub offset_m: f64,
    /// One or two directed edges through the point.
    pub on: Vec<EdgePoint>,
}

type SegmentRef = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// An equirectangular frame in metres around the network's centre: exact enough at city scale to
/// find the nearest segment, and cheap.
#[derive(Debug, Clone, Copy)]
struct LocalFrame {
    lon0: f64,
    kx: f64,
    ky: f64,
}

impl LocalFrame {
    fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        [(lon - self.lon0) * self.kx, lat * self.ky]
    }
}

static NEXT_DISPATCHER_ID: AtomicU64 = AtomicU64::new(1);

/// The searchable road network. Built once from a [`RoadGraph`]; shared read-only by queries.
#[derive(Debug)]
pub struct Dispatcher {
    pub(crate) id: u64,
    pub(crate) graph: RoadGraph,
    pub(crate) out_start: Vec<u32>,
    pub(crate) out_arcs: Vec<Arc>,
    pub(crate) in_start: Vec<u32>,
    pub(crate) in_arcs: Vec<Arc>,
    pub(crate) from: Vec<u32>,
    pub(crate) to: Vec<u32>,
    pub(crate) length_m: Vec<f64>,
    pub(crate) base_kmh: Vec<f64>,
    pub(crate) twin: Vec<u32>,
    /// Cumulative great-circle metres at each vertex of each edge's geometry, flattened.
    cum_start: Vec<u32>,
    cum_m: Vec<f64>,
    index: RTree<SegmentRef>,
    frame: LocalFrame,
    pub(crate) max_snap_m: f64,
}

fn csr(n: usize, arcs: impl Iterator<Item = (u32, Arc)>) -> (Vec<u32>, Vec<Arc>) {
    let mut pairs: Vec<(u32, Arc)> = arcs.collect();
    pairs.sort_by_key(|(k, a)| (*k, a.edge));
    let mut start = vec![0u32; n + 1];
    for (k, _) in &pairs {
        start[*k as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    (start, pairs.into_iter().map(|(_, a)| a).collect())
}

fn pos(c: geo::Coord<f64>) -> Position {
    Position::new(c.x, c.y)
}

impl Dispatcher {
    /// Indexes `graph`. Fails only for graphs too large for 32-bit ids.
    pub fn new(graph: RoadGraph) -> Result<Self, DispatchError> {
        let (n, m) = (graph.node_count(), graph.edge_count());
        if n >= NONE as usize || m >= NONE as usize {
            return Err(DispatchError::NetworkTooLarge { nodes: n, edges: m });
        }
        let mut from = Vec::with_capacity(m);
        let mut to = Vec::with_capacity(m);
        let mut length_m = Vec::with_capacity(m);
        let mut base_kmh = Vec::with_capacity(m);
        let mut cum_start = Vec::with_capacity(m + 1);
        let mut cum_m = Vec::new();
        let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (180.0f64, -180.0f64, 90.0f64, -90.0f64);
        for (_, e) in graph.edges() {
            from.push(e.from.0);
            to.push(e.to.0);
            // A mapped speed of 0 or 1000 is a tagging error, not a closure or a motorway.
            let kmh = if e.speed_kmh.is_finite() { e.speed_kmh.clamp(MIN_SPEED_KMH, MAX_SPEED_KMH) } else { 30.0 };
            base_kmh.push(kmh);
            cum_start.push(cum_m.len() as u32);
            let mut acc = 0.0;
            for (i, c) in e.geometry.iter().enumerate() {
                if i > 0 {
                    acc += distance_m(pos(e.geometry[i - 1]), pos(*c));
                }
                cum_m.push(acc);
                min_lon = min_lon.min(c.x);
                max_lon = max_lon.max(c.x);
                min_lat = min_lat.min(c.y);
                max_lat = max_lat.max(c.y);
            }
            // The graph's length is the same sum; keep ours so partial edges add up exactly.
            length_m.push(if acc.is_finite() { acc } else { 0.0 });
        }
        cum_start.push(cum_m.len() as u32);
        let (out_start, out_arcs) = csr(n, (0..m).map(|i| (from[i], Arc { edge: i as u32, node: to[i] })));
        let (in_start, in_arcs) = csr(n, (0..m).map(|i| (to[i], Arc { edge: i as u32, node: from[i] })));
        let twin = find_twins(&graph, &out_start, &out_arcs);

        let lat0 = if min_lat <= max_lat { (min_lat + max_lat) / 2.0 } else { 0.0 };
        let lon0 = if min_lon <= max_lon { (min_lon + max_lon) / 2.0 } else { 0.0 };
        let ky = twin_core::geodesy::EARTH_RADIUS_M.to_radians(); // metres per degree of latitude
        let frame = LocalFrame { lon0, kx: ky * lat0.to_radians().cos(), ky };
        // One direction of each two-way road is enough to find the road; the twin comes with it.
        let mut segs = Vec::new();
        for (i, e) in graph.edges() {
            let i = i.0 as usize;
            if twin[i] != NONE && (twin[i] as usize) < i {
                continue;
            }
            for (s, w) in e.geometry.windows(2).enumerate() {
                let line = Line::new(frame.project(w[0].x, w[0].y), frame.project(w[1].x, w[1].y));
                segs.push(GeomWithData::new(line, (i as u32, s as u32)));
            }
        }
        Ok(Self {
            id: NEXT_DISPATCHER_ID.fetch_add(1, Ordering::Relaxed),
            graph,
            out_start,
            out_arcs,
            in_start,
            in_arcs,
            from,
            to,
            length_m,
            base_kmh,
            twin,
            cum_start,
            cum_m,
            index: RTree::bulk_load(segs),
            frame,
            max_snap_m: DEFAULT_MAX_SNAP_M,
        })
    }

    /// Sets how far from the roads a case or unit may be and still be snapped (metres, 1 to 50 000).
    pub fn with_max_snap_m(mut self, metres: f64) -> Result<Self, DispatchError> {
        if !(1.0..=50_000.0).contains(&metres) {
            return Err(DispatchError::BadSnapDistance(metres));
        }
        self.max_snap_m = metres;
        Ok(self)
    }

    pub fn graph(&self) -> &RoadGraph {
        &self.graph
    }

    /// The other direction of a two-way road, if the road is two-way.
    pub fn twin(&self, e: EdgeId) -> Option<EdgeId> {
        self.twin.get(e.0 as usize).copied().filter(|t| *t != NONE).map(EdgeId)
    }

    /// Free-flow costs: the mapped speeds, nothing closed.
    pub fn free_flow(&self) -> EdgeCosts {
        EdgeCosts::new(self)
    }

    pub(crate) fn node_count(&self) -> usize {
        self.out_start.len() - 1
    }

    pub(crate) fn out_arcs(&self, v: u32) -> &[Arc] {
        let v = v as usize;
        &self.out_arcs[self.out_start[v] as usize..self.out_start[v + 1] as usize]
    }

    pub(crate) fn in_arcs(&self, v: u32) -> &[Arc] {
        let v = v as usize;
        &self.in_arcs[self.in_start[v] as usize..self.in_start[v + 1] as usize]
    }

    /// Cumulative metres at the vertices of edge `e`.
    pub(crate) fn cum(&self, e: u32) -> &[f64] {
        let e = e as usize;
        &self.cum_m[self.cum_start[e] as usize..self.cum_start[e + 1] as usize]
    }

    /// The point at `segment`, `t` of edge `e`.
    pub(crate) fn point_on(&self, e: u32, segment: usize, t: f64) -> [f64; 2] {
        let g = &self.graph.edge(EdgeId(e)).geometry;
        match (g.get(segment), g.get(segment + 1)) {
            (Some(a), Some(b)) => [a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t],
            (Some(a), None) => [a.x, a.y],
            _ => [f64::NAN, f64::NAN],
        }
    }

    /// The same place on the twin edge (whose geometry is this one's, reversed).
    fn on_twin(&self, p: &EdgePoint, twin: u32) -> EdgePoint {
        let nseg = self.graph.edge(EdgeId(twin)).geometry.len().saturating_sub(1);
        let len = self.length_m[twin as usize];
        EdgePoint {
            edge: EdgeId(twin),
            segment: nseg.saturating_sub(1).saturating_sub(p.segment),
            t: 1.0 - p.t,
            along_m: (len - p.along_m).clamp(0.0, len),
        }
    }

    /// Snaps `p` to the nearest point of the nearest edge that `costs` leaves open, within the
    /// network's snap distance. `Ok(None)`: no open road near enough.
    pub fn snap(&self, p: Position, costs: &EdgeCosts) -> Result<Option<Snap>, DispatchError> {
        if !p.is_valid() {
            return Err(DispatchError::InvalidPosition { lon: p.lon, lat: p.lat });
        }
        costs.check(self)?;
        let q = self.frame.project(p.lon, p.lat);
        // The frame's metres are approximate; allow a margin before the exact check below.
        let limit2 = (self.max_snap_m * 1.5 + 10.0).powi(2);
        for (seg, d2) in self.index.nearest_neighbor_iter_with_distance_2(&q).take(SNAP_CANDIDATES) {
            if d2 > limit2 {
                break;
            }
            let (e, s) = seg.data;
            let twin = self.twin[e as usize];
            let open_e = costs.is_open(e);
            let open_t = twin != NONE && costs.is_open(twin);
            if !open_e && !open_t {
                continue;
            }
            let [a, b] = [seg.geom().from, seg.geom().to];
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let l2 = dx * dx + dy * dy;
            let t = if l2 > 0.0 { (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
            let cum = self.cum(e);
            let (c0, c1) =
                (cum.get(s as usize).copied().unwrap_or(0.0), cum.get(s as usize + 1).copied().unwrap_or(0.0));
            let here = EdgePoint { edge: EdgeId(e), segment: s as usize, t, along_m: c0 + (c1 - c0) * t };
            let [lon, lat] = self.point_on(e, s as usize, t);
            let point = Position::new(lon, lat);
            let offset_m = distance_m(p, point);
            if offset_m > self.max_snap_m {
                return Ok(None);
            }
            let mut on = Vec::with_capacity(2);
            if open_e {
                on.push(here);
            }
            if open_t {
                on.push(self.on_twin(&here, twin));
            }
            return Ok(Some(Snap { point, offset_m, on }));
        }
        Ok(None)
    }
}

/// Pairs each edge with the opposite edge of the same two-way road: same end nodes, same source
/// feature, reversed geometry.
fn find_twins(graph: &RoadGraph, out_start: &[u32], out_arcs: &[Arc]) -> Vec<u32> {
    let m = graph.edge_count();
    let mut twin = vec![NONE; m];
    for (id, e) in graph.edges() {
        let i = id.0 as usize;
        if twin[i] != NONE {
            continue;
        }
        let v = e.to.0 as usize;
        let back = &out_arcs[out_start[v] as usize..out_start[v + 1] as usize];
        for arc in back {
            let j = arc.edge as usize;
            if j == i || arc.node != e.from.0 || twin[j] != NONE {
                continue;
            }
            let f = graph.edge(EdgeId(arc.edge));
            if f.feature == e.feature && f.geometry.iter().rev().eq(e.geometry.iter()) {
                twin[i] = arc.edge;
                twin[j] = i as u32;
                break;
            }
        }
    }
    twin
}
