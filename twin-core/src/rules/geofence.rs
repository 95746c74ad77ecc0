//! Geofence enter/exit with a hysteresis band in metres.
//!
//! Each fence's bounds, grown by its band, go into an R-tree, so a point far from every fence costs
//! one tree lookup whatever the number of fences. An entity is only ever moved between states when
//! it is clearly on one side ([`Side::Inside`] / [`Side::Outside`]); in the band its state stands.

use std::collections::HashMap;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use super::describe::{alert, rule_name, subject};
use super::fence_shape::{FenceShape, Side};
use super::{Alert, Geofence, RuleKind};
use crate::{Entity, EntityId, Timestamp};

type FenceBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Prepared fences and which entity is inside which fence (by index into the fence list).
#[derive(Debug, Clone, Default)]
pub(crate) struct GeofenceRules {
    shapes: Vec<FenceShape>,
    index: RTree<FenceBox>,
    /// Sorted fence indices per entity; entities inside nothing have no entry.
    inside: HashMap<EntityId, Vec<u32>>,
    /// Reused per update to avoid an allocation per observation.
    scratch: Vec<u32>,
}

impl GeofenceRules {
    /// `fences` must have been validated.
    pub(crate) fn new(fences: &[Geofence]) -> Self {
        let shapes: Vec<FenceShape> = fences.iter().map(|f| FenceShape::new(&f.area)).collect();
        let boxes = shapes
            .iter()
            .zip(fences)
            .enumerate()
            .map(|(i, (shape, fence))| {
                let env = shape.search_envelope(fence.hysteresis_m);
                GeomWithData::new(Rectangle::from_aabb(env), i as u32)
            })
            .collect();
        Self { shapes, index: RTree::bulk_load(boxes), inside: HashMap::new(), scratch: Vec::new() }
    }

    pub(crate) fn on_update(&mut self, fences: &[Geofence], entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
        let Some(p) = entity.position else { return };
        if self.shapes.is_empty() {
            return;
        }
        let mut candidates = std::mem::take(&mut self.scratch);
        candidates.clear();
        candidates.extend(self.index.locate_all_at_point(&[p.lon, p.lat]).map(|b| b.data));
        // Fences it is inside but has moved far from must be evaluated too: that is an exit.
        let current = self.inside.remove(&entity.id).unwrap_or_default();
        candidates.extend_from_slice(&current);
        candidates.sort_unstable();
        candidates.dedup();

        let mut now_inside = current;
        for &i in &candidates {
            let Some(fence) = fences.get(i as usize) else { continue };
            let was_inside = now_inside.binary_search(&i);
            if !fence.kinds.contains(entity.kind) {
                // Only after a rule change: the fence no longer watches this kind; forget quietly.
                if let Ok(pos) = was_inside {
                    now_inside.remove(pos);
                }
                continue;
            }
            match (self.shapes[i as usize].classify(p, fence.hysteresis_m), was_inside) {
                (Side::Inside, Err(pos)) => {
                    now_inside.insert(pos, i);
                    if fence.alert_on_enter {
                        let msg = format!("{} entered {}", subject(entity), rule_name(&fence.name, &fence.id));
                        out.push(alert(entity, now, &fence.id, RuleKind::GeofenceEnter, fence.severity, msg));
                    }
                }
                (Side::Outside, Ok(pos)) => {
                    now_inside.remove(pos);
                    if fence.alert_on_exit {
                        let msg = format!("{} left {}", subject(entity), rule_name(&fence.name, &fence.id));
                        out.push(alert(entity, now, &fence.id, RuleKind::GeofenceExit, fence.severity, msg));
                    }
                }
                _ => {}
            }
        }
        if !now_inside.is_empty() {
            self.inside.insert(entity.id, now_inside);
        }
        self.scratch = candidates;
    }

    pub(crate) fn on_remove(&mut self, id: EntityId) {
        self.inside.remove(&id);
    }

    /// (entity, fence id) pairs currently inside, sorted.
    pub(crate) fn state(&self, fences: &[Geofence]) -> Vec<(EntityId, String)> {
        let mut pairs: Vec<(EntityId, String)> = self
            .inside
            .iter()
            .flat_map(|(id, idx)| idx.iter().filter_map(|&i| Some((*id, fences.get(i as usize)?.id.clone()))))
            .collect();
        pairs.sort();
        pairs
    }

    /// Restores inside-pairs; pairs naming unknown fences are dropped.
    pub(crate) fn restore(&mut self, fences: &[Geofence], pairs: &[(EntityId, String)]) {
        let by_id: HashMap<&str, u32> = fences.iter().enumerate().map(|(i, f)| (f.id.as_str(), i as u32)).collect();
        self.inside.clear();
        for (entity, fence_id) in pairs {
            if let Some(&i) = by_id.get(fence_id.as_str()) {
                let list = self.inside.entry(*entity).or_default();
                if let Err(pos) = list.binary_search(&i) {
                    list.insert(pos, i);
                }
            }
        }
    }
}
