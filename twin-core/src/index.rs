//! The two indexes the model keeps consistent: per-kind R-trees of positions and an H3 cell index.
//!
//! The index knows positions and kinds only; the model tells it about every insert, move and
//! removal. The model keeps each entity's H3 cell (returned by `insert`) and hands it back, so a
//! move or removal decrements exactly the cell that was incremented.

use std::collections::HashMap;
use std::ops::ControlFlow;

use h3o::{CellIndex, LatLng, Resolution};
use rstar::primitives::GeomWithData;
use rstar::{RStarInsertionStrategy, RTree, RTreeParams, AABB};

use crate::error::InvariantError;
use crate::geodesy::LonLatRect;
use crate::{EntityId, EntityKind, KindCounts, KindFilter, Position};

/// An R-tree entry: `[lon, lat]` and the entity it belongs to.
pub(crate) type IndexedPoint = GeomWithData<[f64; 2], EntityId>;

/// H3 cell of a position at `res`; `None` only for non-finite coordinates, which validation refuses.
pub(crate) fn cell_at(p: Position, res: Resolution) -> Option<CellIndex> {
    LatLng::new(p.lat, p.lon).ok().map(|ll| ll.to_cell(res))
}

/// Wider nodes than rstar's default (6): range queries then read fewer, longer runs of memory,
/// which matters because large trees are memory-latency bound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NodeParams;

impl RTreeParams for NodeParams {
    const MIN_SIZE: usize = 12;
    const MAX_SIZE: usize = 32;
    const REINSERTION_COUNT: usize = 10;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

pub(crate) type PointTree = RTree<IndexedPoint, NodeParams>;

#[derive(Clone)]
pub(crate) struct SpatialIndex {
    resolution: Resolution,
    /// One tree per kind (indexed by `EntityKind::index`) so kind filters prune whole trees.
    trees: Vec<PointTree>,
    /// Occupied cells at `resolution` with their per-kind counts; empty cells are removed.
    cells: HashMap<CellIndex, KindCounts>,
}

impl SpatialIndex {
    pub(crate) fn new(resolution: Resolution) -> Self {
        Self {
            resolution,
            trees: (0..EntityKind::COUNT).map(|_| PointTree::new_with_params()).collect(),
            cells: HashMap::new(),
        }
    }

    /// Builds both indexes at once (bulk-loaded R-trees are faster to build and to query) from
    /// positioned entities and the cells their owner recorded for them.
    pub(crate) fn bulk(
        resolution: Resolution,
        items: impl Iterator<Item = (EntityId, EntityKind, Position, Option<CellIndex>)>,
    ) -> Self {
        let mut per_kind: Vec<Vec<IndexedPoint>> = vec![Vec::new(); EntityKind::COUNT];
        let mut index = Self::new(resolution);
        for (id, kind, pos, cell) in items {
            per_kind[kind.index()].push(GeomWithData::new([pos.lon, pos.lat], id));
            index.count(cell, kind);
        }
        index.trees = per_kind.into_iter().map(PointTree::bulk_load_with_params).collect();
        index
    }

    /// Indexes a position; returns the cell it was counted in, which the caller keeps and hands
    /// back on `remove` and `relocate`.
    pub(crate) fn insert(&mut self, id: EntityId, kind: EntityKind, pos: Position) -> Option<CellIndex> {
        self.trees[kind.index()].insert(GeomWithData::new([pos.lon, pos.lat], id));
        let cell = cell_at(pos, self.resolution);
        self.count(cell, kind);
        cell
    }

    pub(crate) fn remove(&mut self, id: EntityId, kind: EntityKind, pos: Position, cell: Option<CellIndex>) {
        let removed = self.trees[kind.index()].remove(&GeomWithData::new([pos.lon, pos.lat], id));
        debug_assert!(removed.is_some(), "entity {id} was not in the R-tree");
        self.uncount(cell, kind);
    }

    /// Moves an indexed position; `cell` is updated to the new one.
    pub(crate) fn relocate(
        &mut self,
        id: EntityId,
        kind: EntityKind,
        old: Position,
        new: Position,
        cell: &mut Option<CellIndex>,
    ) {
        if old == new {
            return;
        }
        let tree = &mut self.trees[kind.index()];
        let removed = tree.remove(&GeomWithData::new([old.lon, old.lat], id));
        debug_assert!(removed.is_some(), "entity {id} was not in the R-tree");
        tree.insert(GeomWithData::new([new.lon, new.lat], id));
        let new_cell = cell_at(new, self.resolution);
        if *cell != new_cell {
            self.uncount(*cell, kind);
            self.count(new_cell, kind);
            *cell = new_cell;
        }
    }

    fn count(&mut self, cell: Option<CellIndex>, kind: EntityKind) {
        if let Some(c) = cell {
            self.cells.entry(c).or_default().0[kind.index()] += 1;
        }
    }

    fn uncount(&mut self, cell: Option<CellIndex>, kind: EntityKind) {
        let Some(cell) = cell else { return };
        if let Some(counts) = self.cells.get_mut(&cell) {
            let c = &mut counts.0[kind.index()];
            *c = c.saturating_sub(1);
            if counts.total() == 0 {
                self.cells.remove(&cell);
            }
        }
    }

    pub(crate) fn resolution(&self) -> Resolution {
        self.resolution
    }

    pub(crate) fn tree(&self, kind: EntityKind) -> &PointTree {
        &self.trees[kind.index()]
    }

    pub(crate) fn cells(&self) -> &HashMap<CellIndex, KindCounts> {
        &self.cells
    }

    /// Calls `f` for every indexed point of a kind in `kinds` inside `rect` (edges inclusive).
    pub(crate) fn for_each_in(&self, rect: &LonLatRect, kinds: KindFilter, mut f: impl FnMut(&IndexedPoint)) {
        let env = AABB::from_corners(rect.min, rect.max);
        for kind in kinds.kinds() {
            // Internal iteration: recursive, no explicit node stack, measurably faster.
            let _ = self.trees[kind.index()].locate_in_envelope_int(&env, |p| {
                f(p);
                ControlFlow::<()>::Continue(())
            });
        }
    }
}

/// Recomputes both indexes from `(entity, recorded cell)` pairs and compares them with what was
/// maintained incrementally.
pub(crate) fn check<'a>(
    index: &SpatialIndex,
    entries: impl Iterator<Item = (&'a crate::Entity, Option<CellIndex>)>,
) -> Result<(), InvariantError> {
    let mut cells: HashMap<CellIndex, KindCounts> = HashMap::new();
    let mut positioned = 0usize;
    for (e, recorded) in entries {
        match e.position {
            Some(p) => {
                positioned += 1;
                if !index.tree(e.kind).contains(&GeomWithData::new([p.lon, p.lat], e.id)) {
                    return Err(InvariantError::NotInTree(e.id));
                }
                let cell = cell_at(p, index.resolution);
                if recorded != cell {
                    return Err(InvariantError::StaleCell(e.id));
                }
                if let Some(c) = cell {
                    cells.entry(c).or_default().0[e.kind.index()] += 1;
                }
            }
            None if recorded.is_some() => return Err(InvariantError::CellWithoutPosition(e.id)),
            None => {}
        }
    }
    let tree_points: usize = index.trees.iter().map(PointTree::size).sum();
    if tree_points != positioned {
        return Err(InvariantError::TreeSize { tree_points, positioned });
    }
    if cells != index.cells {
        return Err(InvariantError::CellCounts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RES: Resolution = Resolution::Nine;

    fn count_in(index: &SpatialIndex, p: Position, kind: EntityKind) -> u32 {
        cell_at(p, RES).and_then(|c| index.cells().get(&c)).map_or(0, |k| k.get(kind))
    }

    #[test]
    fn moving_between_cells_moves_the_count_and_frees_empty_cells() {
        let mut index = SpatialIndex::new(RES);
        let (a, b) = (Position::new(108.20, 16.05), Position::new(108.25, 16.10));
        let mut cell0 = index.insert(EntityId(0), EntityKind::Bus, a);
        let cell1 = index.insert(EntityId(1), EntityKind::Bus, a);
        assert_eq!(count_in(&index, a, EntityKind::Bus), 2);
        index.relocate(EntityId(0), EntityKind::Bus, a, b, &mut cell0);
        assert_eq!((count_in(&index, a, EntityKind::Bus), count_in(&index, b, EntityKind::Bus)), (1, 1));
        assert_eq!(cell0, cell_at(b, RES));
        index.remove(EntityId(1), EntityKind::Bus, a, cell1);
        assert_eq!(index.cells().len(), 1, "the emptied cell is dropped");
        assert_eq!(index.tree(EntityKind::Bus).size(), 1);
    }

    #[test]
    fn bulk_build_equals_incremental_build() {
        let points: Vec<(EntityId, EntityKind, Position)> = (0..500u32)
            .map(|i| {
                let kind = if i % 3 == 0 { EntityKind::Vessel } else { EntityKind::Bus };
                let p = Position::new(108.1 + f64::from(i % 25) * 0.01, 15.95 + f64::from(i / 25) * 0.01);
                (EntityId(u64::from(i)), kind, p)
            })
            .collect();
        let bulk = SpatialIndex::bulk(RES, points.iter().map(|&(id, kind, p)| (id, kind, p, cell_at(p, RES))));
        let mut incremental = SpatialIndex::new(RES);
        points.iter().for_each(|&(id, kind, p)| {
            incremental.insert(id, kind, p);
        });
        assert_eq!(bulk.cells(), incremental.cells());
        // Corners computed like the points so the closed rectangle holds exactly 6 × 6 of them.
        let (lon, lat) = (|i: f64| 108.1 + i * 0.01, |j: f64| 15.95 + j * 0.01);
        let rect = LonLatRect { min: [lon(5.0), lat(5.0)], max: [lon(10.0), lat(10.0)] };
        let collect = |index: &SpatialIndex| {
            let mut ids = Vec::new();
            index.for_each_in(&rect, KindFilter::ALL, |p| ids.push(p.data));
            ids.sort();
            ids
        };
        assert_eq!(collect(&bulk).len(), 36);
        assert_eq!(collect(&bulk), collect(&incremental));
    }
}
