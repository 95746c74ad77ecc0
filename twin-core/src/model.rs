//! The city model: entity state, both indexes and the rules, changed only through `apply_batch`,
//! `remove` and `tick` so that replaying the durable log rebuilds exactly the same model.

use std::collections::VecDeque;

use crate::query::{BBox, CellCount};
use crate::rules::{Alert, RuleSet, RuleState};
use crate::{Entity, EntityId, EntityKind, Error, KindFilter, Observation, Position, Timestamp};

/// Tunables of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinConfig {
    /// Resolution of the H3 cell index; aggregation queries accept any resolution ≤ this one.
    pub h3_resolution: h3o::Resolution,
    /// Track points kept per entity (oldest dropped first).
    pub track_capacity: usize,
    /// Track points older than this (relative to the entity's newest) are dropped.
    pub track_max_age_ms: i64,
    /// Per kind (indexed by `EntityKind::index`): remove entities not seen for this long. `None` keeps them.
    pub expiry_ms: [Option<i64>; EntityKind::COUNT],
    /// How many alerts the model keeps for `alerts()`.
    pub alert_capacity: usize,
}

impl Default for TwinConfig {
    fn default() -> Self {
        Self {
            h3_resolution: h3o::Resolution::Nine,
            track_capacity: 256,
            track_max_age_ms: 2 * 3600 * 1000,
            expiry_ms: [None; EntityKind::COUNT],
            alert_capacity: 10_000,
        }
    }
}

impl TwinConfig {
    pub fn with_expiry(mut self, kind: EntityKind, ms: Option<i64>) -> Self {
        self.expiry_ms[kind.index()] = ms;
        self
    }
}

/// What one operation did to one entity.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Created or updated; read the new state with `Twin::get`.
    Upserted(EntityId),
    /// Removed (expired or deleted); carries the last state so tiles and live clients can react.
    Removed(Entity),
}

/// Result of applying a batch or a tick.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// In application order; an entity may appear more than once.
    pub changes: Vec<Change>,
    pub alerts: Vec<Alert>,
    /// Observations refused, by index in the batch. Refused observations change nothing.
    pub rejected: Vec<(usize, Error)>,
}

/// Everything a snapshot must hold to rebuild a `Twin` (indexes are rebuilt, not stored).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TwinParts {
    pub entities: Vec<Entity>,
    pub next_id: u64,
    pub alerts: Vec<Alert>,
    pub next_alert_id: u64,
    pub rule_state: RuleState,
}

/// The in-memory city model.
#[derive(Debug, Clone)]
pub struct Twin {
    config: TwinConfig,
    rules: RuleSet,
    // Implementation fields are private; see ARCHITECTURE.md for the invariants.
    alerts: VecDeque<Alert>,
}

impl Twin {
    pub fn new(config: TwinConfig) -> Self {
        let _ = config;
        todo!()
    }

    /// Rebuilds a model from snapshot parts; indexes are recomputed.
    pub fn from_parts(config: TwinConfig, rules: RuleSet, parts: TwinParts) -> Result<Self, Error> {
        let _ = (config, rules, parts);
        todo!()
    }

    /// Copies out what a snapshot needs.
    pub fn to_parts(&self) -> TwinParts {
        todo!()
    }

    pub fn config(&self) -> &TwinConfig {
        &self.config
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules (geofences, thresholds, stale detection); runtime state of rules that keep
    /// their id is kept.
    pub fn set_rules(&mut self, rules: RuleSet) {
        let _ = rules;
        todo!()
    }

    /// Applies observations in order. Invalid ones are refused and reported; the others apply.
    pub fn apply_batch(&mut self, batch: &[Observation]) -> Applied {
        let _ = batch;
        todo!()
    }

    /// Deletes an entity (operator action). Returns its last state.
    pub fn remove(&mut self, id: EntityId) -> Option<Entity> {
        let _ = id;
        todo!()
    }

    /// Time passes: expires entities per `TwinConfig::expiry_ms` and evaluates time-based rules
    /// (stale entities, threshold durations). Deterministic in `now`, so the log records ticks.
    pub fn tick(&mut self, now: Timestamp) -> Applied {
        let _ = now;
        todo!()
    }

    pub fn get(&self, id: EntityId) -> Option<&Entity> {
        let _ = id;
        todo!()
    }

    pub fn id_of(&self, kind: EntityKind, external_id: &str) -> Option<EntityId> {
        let _ = (kind, external_id);
        todo!()
    }

    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All entities in id order.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> + '_ {
        std::iter::empty()
    }

    /// Live entities per kind.
    pub fn counts(&self) -> crate::KindCounts {
        todo!()
    }

    /// Entities with a position inside `bbox` (edges inclusive), in id order.
    pub fn in_bbox(&self, bbox: BBox, kinds: KindFilter) -> Vec<&Entity> {
        let _ = (bbox, kinds);
        todo!()
    }

    /// Entities within `radius_m` metres (great-circle, [`crate::geodesy::distance_m`]) of `center`,
    /// nearest first (ties by id), with their distance.
    pub fn within_radius(&self, center: Position, radius_m: f64, kinds: KindFilter) -> Vec<(&Entity, f64)> {
        let _ = (center, radius_m, kinds);
        todo!()
    }

    /// The `k` entities nearest to `center` by great-circle distance, nearest first (ties by id).
    pub fn nearest(&self, center: Position, k: usize, kinds: KindFilter) -> Vec<(&Entity, f64)> {
        let _ = (center, k, kinds);
        todo!()
    }

    /// Entities whose position lies inside or on the boundary of `area`, in id order.
    pub fn within_polygon(&self, area: &geo::MultiPolygon<f64>, kinds: KindFilter) -> Vec<&Entity> {
        let _ = (area, kinds);
        todo!()
    }

    /// Counts per kind aggregated to H3 cells at `resolution` (≤ the index resolution): every cell
    /// whose centroid lies in `bbox`, with all matching entities whose position falls in the cell.
    /// Cells with no matching entity are omitted. Sorted by cell index.
    pub fn h3_counts(&self, bbox: BBox, resolution: h3o::Resolution, kinds: KindFilter) -> Result<Vec<CellCount>, Error> {
        let _ = (bbox, resolution, kinds);
        todo!()
    }

    /// The most recent alerts, oldest first (bounded by `TwinConfig::alert_capacity`).
    pub fn alerts(&self) -> &VecDeque<Alert> {
        &self.alerts
    }
}
