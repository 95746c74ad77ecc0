//! The queries: the k best units for a case, the nearest destinations for a unit.

use serde::Serialize;
use twin_core::geodesy::distance_m;
use twin_core::{AgencyId, EntityKind, Position};
use twin_layers::roads::EdgeId;

use crate::costs::EdgeCosts;
use crate::network::{Dispatcher, Snap};
use crate::search::{Direction, Piece, Query, SearchBuffers, Settled};
use crate::DispatchError;

/// The most units (or destinations) one answer may list.
pub const MAX_K: usize = 50;
/// The most candidates one query may weigh: a city's whole fleet, with room to spare.
pub const MAX_CANDIDATES: usize = 100_000;

/// A unit that could be sent. The caller has already left out units that are not in service.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<I> {
    pub id: I,
    pub position: Position,
    pub kind: EntityKind,
    pub agency: Option<AgencyId>,
}

/// A place a unit may drive to (a hospital with an emergency department, a depot).
#[derive(Debug, Clone, PartialEq)]
pub struct Destination<I> {
    pub id: I,
    pub position: Position,
}

/// One ranked unit or destination. `eta_s` and `road_m` cover the drive between the two snapped
/// points; `crow_m` is the great-circle distance between the given positions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation<I> {
    pub id: I,
    pub eta_s: f64,
    pub road_m: f64,
    pub crow_m: f64,
    /// The drive in travel order as `[lon, lat]` (a GeoJSON LineString's coordinates).
    pub route: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Not a finite lon/lat.
    InvalidPosition,
    /// No open road within the snap distance.
    OffNetwork,
    /// No open route at all (one-way streets, closures): reported only when the search covered
    /// everything reachable, so an unlisted unit is otherwise simply not among the k best.
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped<I> {
    pub id: I,
    pub reason: SkipReason,
}

/// The answer of a query: the best first. Serialises without infinities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking<I> {
    pub best: Vec<Recommendation<I>>,
    pub skipped: Vec<Skipped<I>>,
    /// Where the case (or the driving unit) meets the road network.
    pub snapped: [f64; 2],
    pub snap_offset_m: f64,
}

impl Dispatcher {
    /// The `k` units that reach `case` soonest, over the road network under `costs`: one search of
    /// the reversed graph from the case, stopped when the k-th unit is settled. Only candidates
    /// that `accept` (kind, agency) are considered.
    pub fn recommend<I: Clone>(
        &self,
        case: Position,
        candidates: &[Candidate<I>],
        accept: impl Fn(&Candidate<I>) -> bool,
        k: usize,
        costs: &EdgeCosts,
        buffers: &mut SearchBuffers,
    ) -> Result<Ranking<I>, DispatchError> {
        check_counts(k, candidates.len())?;
        let items: Vec<(&I, Position)> = candidates.iter().filter(|c| accept(c)).map(|c| (&c.id, c.position)).collect();
        self.rank(Direction::ToRoot, case, &items, k, costs, buffers)
    }

    /// The `k` destinations a unit at `from` reaches soonest (e.g. hospitals with an emergency
    /// department for an ambulance): one forward search from the unit.
    pub fn nearest_destinations<I: Clone>(
        &self,
        from: Position,
        destinations: &[Destination<I>],
        k: usize,
        costs: &EdgeCosts,
        buffers: &mut SearchBuffers,
    ) -> Result<Ranking<I>, DispatchError> {
        check_counts(k, destinations.len())?;
        let items: Vec<(&I, Position)> = destinations.iter().map(|d| (&d.id, d.position)).collect();
        self.rank(Direction::FromRoot, from, &items, k, costs, buffers)
    }

    fn rank<I: Clone>(
        &self,
        dir: Direction,
        root: Position,
        items: &[(&I, Position)],
        k: usize,
        costs: &EdgeCosts,
        buffers: &mut SearchBuffers,
    ) -> Result<Ranking<I>, DispatchError> {
        let root_snap = self.snap(root, costs)?.ok_or(DispatchError::OffNetwork { max_snap_m: self.max_snap_m })?;
        let mut skipped = Vec::new();
        let mut snaps: Vec<Option<Snap>> = Vec::with_capacity(items.len());
        for (id, p) in items {
            let snap = match self.snap(*p, costs) {
                Ok(Some(s)) => Some(s),
                Ok(None) => {
                    skipped.push(Skipped { id: (*id).clone(), reason: SkipReason::OffNetwork });
                    None
                }
                Err(DispatchError::InvalidPosition { .. }) => {
                    skipped.push(Skipped { id: (*id).clone(), reason: SkipReason::InvalidPosition });
                    None
                }
                Err(e) => return Err(e),
            };
            snaps.push(snap);
        }
        let targets = snaps.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)));
        let mut settled: Vec<Settled> = Vec::with_capacity(k.min(items.len()));
        let query = Query { net: self, costs, dir, root: &root_snap };
        let exhausted = buffers.run(&query, targets, items.len(), k, &mut settled);
        let mut best = Vec::with_capacity(settled.len());
        let mut done = vec![false; items.len()];
        for s in &settled {
            let Some((id, p)) = items.get(s.target as usize) else { continue };
            done[s.target as usize] = true;
            let pieces = buffers.route(self, dir, s);
            let (route, road_m) = self.geometry(&pieces);
            best.push(Recommendation { id: (*id).clone(), eta_s: s.cost, road_m, crow_m: distance_m(*p, root), route });
        }
        if exhausted {
            for (i, snap) in snaps.iter().enumerate() {
                if snap.is_some() && !done[i] {
                    skipped.push(Skipped { id: items[i].0.clone(), reason: SkipReason::Unreachable });
                }
            }
        }
        Ok(Ranking {
            best,
            skipped,
            snapped: [root_snap.point.lon, root_snap.point.lat],
            snap_offset_m: root_snap.offset_m,
        })
    }

    /// Coordinates and metres of a route.
    fn geometry(&self, pieces: &[Piece]) -> (Vec<[f64; 2]>, f64) {
        let mut pts: Vec<[f64; 2]> = Vec::new();
        let push = |p: [f64; 2], pts: &mut Vec<[f64; 2]>| {
            if pts.last() != Some(&p) {
                pts.push(p);
            }
        };
        let mut metres = 0.0;
        for piece in pieces {
            match *piece {
                Piece::Partial { from, to_segment, to_t, to_along_m } => {
                    let e = from.edge.0;
                    metres += (to_along_m - from.along_m).max(0.0);
                    push(self.point_on(e, from.segment, from.t), &mut pts);
                    let g = &self.graph.edge(from.edge).geometry;
                    for v in g.iter().take(to_segment + 1).skip(from.segment + 1) {
                        push([v.x, v.y], &mut pts);
                    }
                    push(self.point_on(e, to_segment, to_t), &mut pts);
                }
                Piece::Full(e) => {
                    metres += self.length_m[e as usize];
                    for v in &self.graph.edge(EdgeId(e)).geometry {
                        push([v.x, v.y], &mut pts);
                    }
                }
            }
        }
        (pts, metres)
    }
}

fn check_counts(k: usize, candidates: usize) -> Result<(), DispatchError> {
    if k == 0 {
        return Err(DispatchError::ZeroK);
    }
    if k > MAX_K {
        return Err(DispatchError::TooManyRequested { k, max: MAX_K });
    }
    if candidates > MAX_CANDIDATES {
        return Err(DispatchError::TooManyCandidates { count: candidates, max: MAX_CANDIDATES });
    }
    Ok(())
}
