//! The city model: entity state, both indexes and the rules, changed only through `apply_batch`,
//! `remove` and `tick` so that replaying the durable log rebuilds exactly the same model.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use crate::error::InvariantError;
use crate::index::{cell_at, SpatialIndex};
use crate::rules::{Alert, AlertId, AlertSubject, RaiseAlert, RuleEngine, RuleSet, RuleState};
use crate::slots::IdTable;
use crate::{Entity, EntityId, EntityKind, Error, KindCounts, Observation, Timestamp, TrackPoint};

/// Weight of the newest interval in `Entity::mean_interval_ms` (exponential smoothing).
const INTERVAL_ALPHA: f64 = 0.2;

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
    /// Boxed so the far more common `Upserted` stays small in large change lists.
    Removed(Box<Entity>),
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
///
/// Invariants (checked by [`Twin::check_invariants`]): every live entity with a position is in the
/// R-tree of its kind exactly once at that position and counted once in the H3 cell of that
/// position; nothing else is indexed; `(kind, external_id)` maps to exactly the live entities;
/// `counts` equals a tally of live entities; tracks are in time order within their bounds.
#[derive(Clone)]
pub struct Twin {
    config: TwinConfig,
    engine: RuleEngine,
    /// By id; ids are dense and never reused, and the table frees memory as old ids die out.
    entities: IdTable<Slot>,
    counts: KindCounts,
    /// Per kind: external id → entity id (per kind so lookups borrow a `&str`).
    keys: Vec<HashMap<String, EntityId>>,
    index: SpatialIndex,
    alerts: VecDeque<Alert>,
    next_alert_id: u64,
    /// Reused buffer for alerts fresh from the rule engine.
    fresh: Vec<Alert>,
}

/// One live entity and what the model keeps beside it.
#[derive(Debug, Clone)]
struct Slot {
    /// Boxed so a page of slots stays small and a slot moves cheaply.
    entity: Box<Entity>,
    /// The instant after which the entity expires (`last_seen` + its kind's expiry), `i64::MAX`
    /// for kinds that never expire: `tick` compares this instead of looking into every entity.
    deadline: i64,
    /// The H3 cell the entity is counted in (see `SpatialIndex::insert`).
    cell: Option<h3o::CellIndex>,
}

impl fmt::Debug for Twin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twin")
            .field("config", &self.config)
            .field("entities", &self.entities.len())
            .field("next_id", &self.entities.next_id())
            .field("alerts", &self.alerts.len())
            .finish_non_exhaustive()
    }
}

impl Twin {
    pub fn new(config: TwinConfig) -> Self {
        Self::build(config, RuleEngine::default())
    }

    /// A model with rules; fails when the rules are invalid.
    pub fn with_rules(config: TwinConfig, rules: RuleSet) -> Result<Self, Error> {
        Ok(Self::build(config, RuleEngine::new(rules)?))
    }

    fn build(config: TwinConfig, engine: RuleEngine) -> Self {
        Self {
            index: SpatialIndex::new(config.h3_resolution),
            config,
            engine,
            entities: IdTable::default(),
            counts: KindCounts::default(),
            keys: (0..EntityKind::COUNT).map(|_| HashMap::new()).collect(),
            alerts: VecDeque::new(),
            next_alert_id: 0,
            fresh: Vec::new(),
        }
    }

    /// Rebuilds a model from snapshot parts; indexes are recomputed. Refuses parts whose ids are
    /// duplicated or not below `next_id`, whose (kind, external id) keys repeat, or whose positions
    /// are not WGS84.
    pub fn from_parts(config: TwinConfig, rules: RuleSet, parts: TwinParts) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidParts(reason);
        let mut twin = Self::build(config, RuleEngine::with_state(rules, parts.rule_state)?);
        twin.entities.reserve_ids(parts.next_id);
        let res = twin.config.h3_resolution;
        let mut per_kind = [0usize; EntityKind::COUNT];
        parts.entities.iter().for_each(|e| per_kind[e.kind.index()] += 1);
        twin.keys.iter_mut().zip(per_kind).for_each(|(keys, n)| keys.reserve(n));
        for e in parts.entities {
            if e.id.0 >= parts.next_id {
                return Err(invalid(format!("entity id {} is not below next_id {}", e.id, parts.next_id)));
            }
            if e.position.is_some_and(|p| !p.is_valid()) {
                return Err(invalid(format!("entity {} has an invalid position", e.id)));
            }
            if twin.keys[e.kind.index()].insert(e.external_id.clone(), e.id).is_some() {
                return Err(invalid(format!("{} `{}` appears twice", e.kind, e.external_id)));
            }
            twin.counts.0[e.kind.index()] += 1;
            let (id, kind) = (e.id, e.kind);
            let slot = Slot {
                deadline: deadline(&twin.config, e.kind, e.last_seen),
                cell: e.position.and_then(|p| cell_at(p, res)),
                entity: Box::new(e),
            };
            if twin.entities.put(id.0, slot).is_err() {
                return Err(invalid(format!("entity id {id} appears twice ({kind})")));
            }
        }
        let positioned = twin
            .entities
            .iter()
            .filter_map(|(_, s)| s.entity.position.map(|p| (s.entity.id, s.entity.kind, p, s.cell)));
        let index = SpatialIndex::bulk(res, positioned);
        twin.index = index;
        let max_alert = parts.alerts.iter().map(|a| a.id.0.saturating_add(1)).max().unwrap_or(0);
        twin.next_alert_id = parts.next_alert_id.max(max_alert);
        let skip = parts.alerts.len().saturating_sub(twin.config.alert_capacity);
        twin.alerts = parts.alerts.into_iter().skip(skip).collect();
        Ok(twin)
    }

    /// Copies out what a snapshot needs.
    pub fn to_parts(&self) -> TwinParts {
        TwinParts {
            entities: self.entities().cloned().collect(),
            next_id: self.entities.next_id(),
            alerts: self.alerts.iter().cloned().collect(),
            next_alert_id: self.next_alert_id,
            rule_state: self.engine.state(),
        }
    }

    pub fn config(&self) -> &TwinConfig {
        &self.config
    }

    pub fn rules(&self) -> &RuleSet {
        self.engine.rules()
    }

    /// Replaces the rules (geofences, thresholds, stale detection); runtime state of rules that keep
    /// their id is kept. Invalid rules are refused and the old ones stay.
    pub fn set_rules(&mut self, rules: RuleSet) -> Result<(), Error> {
        self.engine.set_rules(rules)
    }

    /// Applies observations in order. Invalid ones are refused and reported; the others apply.
    ///
    /// An observation for a known entity whose time is older than the entity's `last_seen` is late:
    /// its position (if any) is inserted into the track in time order and nothing else changes, so
    /// the latest state never moves backwards and no rule runs. It is still reported as `Upserted`.
    pub fn apply_batch(&mut self, batch: &[Observation]) -> Applied {
        let mut out = Applied { changes: Vec::with_capacity(batch.len()), ..Applied::default() };
        for (i, obs) in batch.iter().enumerate() {
            if let Err(e) = obs.validate() {
                out.rejected.push((i, e));
                continue;
            }
            let id = match self.keys[obs.kind.index()].get(obs.external_id.as_str()) {
                Some(&id) => self.update(id, obs),
                None => match self.sibling_of(obs) {
                    Some(id) => {
                        // A generic report (a plain vessel) never undoes what static data said.
                        if !obs.kind.is_generic_in_id_space() {
                            self.reclassify(id, obs.kind);
                        }
                        self.update(id, obs)
                    }
                    None => self.create(obs),
                },
            };
            out.changes.push(Change::Upserted(id));
            self.number_alerts(&mut out.alerts);
        }
        out
    }

    /// A live entity with the observation's external id under another kind of the same id space
    /// (see [`EntityKind::id_space`]): the same vessel, now known to be a fishing boat.
    fn sibling_of(&self, obs: &Observation) -> Option<EntityId> {
        let space = obs.kind.id_space()?;
        EntityKind::ALL
            .iter()
            .filter(|k| **k != obs.kind && k.id_space() == Some(space))
            .find_map(|k| self.keys[k.index()].get(obs.external_id.as_str()).copied())
    }

    /// Moves an entity to another kind, keeping its id, track and properties.
    fn reclassify(&mut self, id: EntityId, to: EntityKind) {
        let Some(Slot { entity: e, cell, .. }) = self.entities.get_mut(id.0) else {
            debug_assert!(false, "key map points at missing entity {id}");
            return;
        };
        let from = e.kind;
        if let Some(p) = e.position {
            self.index.remove(id, from, p, *cell);
            *cell = self.index.insert(id, to, p);
        }
        self.keys[from.index()].remove(e.external_id.as_str());
        self.keys[to.index()].insert(e.external_id.clone(), id);
        self.counts.0[from.index()] -= 1;
        self.counts.0[to.index()] += 1;
        e.kind = to;
    }

    fn create(&mut self, obs: &Observation) -> EntityId {
        let id = EntityId(self.entities.next_id());
        let cell = obs.position.and_then(|p| self.index.insert(id, obs.kind, p));
        let mut entity = Entity {
            id,
            kind: obs.kind,
            external_id: obs.external_id.clone(),
            source: obs.source.clone(),
            last_seen: obs.time,
            position: obs.position,
            heading: obs.heading,
            speed: obs.speed,
            status: obs.status.clone(),
            properties: obs.properties.clone(),
            track: VecDeque::new(),
            mean_interval_ms: 0.0,
        };
        if let Some(p) = track_point(obs) {
            entity.record_track(p, self.config.track_capacity, self.config.track_max_age_ms);
        }
        self.keys[obs.kind.index()].insert(obs.external_id.clone(), id);
        self.counts.0[obs.kind.index()] += 1;
        self.engine.on_update(&entity, obs.time, &mut self.fresh);
        let deadline = deadline(&self.config, obs.kind, obs.time);
        let pushed = self.entities.push(Slot { entity: Box::new(entity), deadline, cell });
        debug_assert_eq!(pushed, id.0);
        id
    }

    fn update(&mut self, id: EntityId, obs: &Observation) -> EntityId {
        let Some(Slot { entity: e, deadline: due, cell }) = self.entities.get_mut(id.0) else {
            debug_assert!(false, "key map points at missing entity {id}");
            return id;
        };
        let (cap, max_age) = (self.config.track_capacity, self.config.track_max_age_ms);
        let point = track_point(obs);
        if obs.time < e.last_seen {
            if let Some(p) = point {
                e.record_track(p, cap, max_age);
            }
            return id;
        }
        let old = e.position;
        e.merge_latest(obs, INTERVAL_ALPHA);
        *due = deadline(&self.config, e.kind, e.last_seen);
        if let Some(p) = point {
            e.record_track(p, cap, max_age);
            match old {
                Some(o) => self.index.relocate(id, e.kind, o, p.position, cell),
                None => *cell = self.index.insert(id, e.kind, p.position),
            }
        }
        self.engine.on_update(e, obs.time, &mut self.fresh);
        id
    }

    /// Gives fresh alerts their ids, keeps them in the ring and hands them out.
    fn number_alerts(&mut self, out: &mut Vec<Alert>) {
        for mut alert in self.fresh.drain(..) {
            alert.id = AlertId(self.next_alert_id);
            self.next_alert_id += 1;
            if self.config.alert_capacity > 0 {
                if self.alerts.len() >= self.config.alert_capacity {
                    self.alerts.pop_front();
                }
                self.alerts.push_back(alert.clone());
            }
            out.push(alert);
        }
    }

    /// An alert from outside the rule engine (a stale feed, a camera, an alarm panel): numbered from
    /// the same counter as rule alerts, kept in the same ring and returned in `Applied::alerts`.
    /// An invalid one (see [`RaiseAlert::validate`]), or one about an entity id the model does not
    /// hold, is refused as `rejected[0]` and changes nothing.
    pub fn raise_alert(&mut self, raise: &RaiseAlert) -> Applied {
        let mut out = Applied::default();
        if let Err(e) = raise.validate() {
            out.rejected.push((0, e));
            return out;
        }
        let live = match &raise.subject {
            AlertSubject::Entity(id) => match self.get(*id) {
                Some(e) => Some(e),
                None => {
                    let reason = format!("entity {id} is not in the model");
                    out.rejected.push((0, Error::InvalidAlert { field: "entity", reason }));
                    return out;
                }
            },
            AlertSubject::Key { kind, external_id } => self.id_of(*kind, external_id).and_then(|id| self.get(id)),
            AlertSubject::Feed { .. } => None,
        };
        let alert = raise.to_alert(live.map(|e| (e.id, e.kind, e.external_id.as_str(), e.position)));
        self.fresh.push(alert);
        self.number_alerts(&mut out.alerts);
        out
    }

    /// Deletes an entity (operator action). Returns its last state.
    pub fn remove(&mut self, id: EntityId) -> Option<Entity> {
        let e = self.take(id)?;
        self.engine.on_remove(id);
        Some(e)
    }

    fn take(&mut self, id: EntityId) -> Option<Entity> {
        let Slot { entity: e, cell, .. } = self.entities.take(id.0)?;
        if let Some(p) = e.position {
            self.index.remove(id, e.kind, p, cell);
        }
        self.keys[e.kind.index()].remove(e.external_id.as_str());
        self.counts.0[e.kind.index()] -= 1;
        Some(*e)
    }

    /// Time passes: expires entities per `TwinConfig::expiry_ms` (silent for strictly longer than
    /// the expiry) and evaluates time-based rules (stale entities, threshold durations).
    /// Deterministic in `now`, so the log records ticks.
    pub fn tick(&mut self, now: Timestamp) -> Applied {
        let mut out = Applied::default();
        if self.config.expiry_ms.iter().any(Option::is_some) {
            let now_ms = now.as_millis();
            let expired: Vec<EntityId> =
                self.entities.iter().filter(|(_, s)| now_ms > s.deadline).map(|(id, _)| EntityId(id)).collect();
            for id in expired {
                if let Some(e) = self.take(id) {
                    self.engine.on_remove(id);
                    out.changes.push(Change::Removed(Box::new(e)));
                }
            }
        }
        let live = self.entities.iter().map(|(_, s)| &*s.entity);
        self.engine.on_tick(now, live, &mut self.fresh);
        self.number_alerts(&mut out.alerts);
        out
    }

    pub fn get(&self, id: EntityId) -> Option<&Entity> {
        self.entities.get(id.0).map(|s| &*s.entity)
    }

    pub fn id_of(&self, kind: EntityKind, external_id: &str) -> Option<EntityId> {
        self.keys[kind.index()].get(external_id).copied()
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All entities in id order.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> + '_ {
        self.entities.iter().map(|(_, s)| &*s.entity)
    }

    /// Live entities per kind.
    pub fn counts(&self) -> KindCounts {
        self.counts
    }

    /// The most recent alerts, oldest first (bounded by `TwinConfig::alert_capacity`).
    pub fn alerts(&self) -> &VecDeque<Alert> {
        &self.alerts
    }

    pub(crate) fn index(&self) -> &SpatialIndex {
        &self.index
    }

    /// Checks every invariant of the model against a recomputation from the entities. Slow (a full
    /// scan); for tests.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        crate::index::check(self.index(), self.entities.iter().map(|(_, s)| (&*s.entity, s.cell)))?;
        let mut tally = KindCounts::default();
        for (id, s) in self.entities.iter() {
            let e = &s.entity;
            tally.0[e.kind.index()] += 1;
            if e.id.0 != id || self.keys[e.kind.index()].get(&e.external_id) != Some(&e.id) {
                return Err(InvariantError::Misfiled { entity: e.id, slot: id });
            }
            if s.deadline != deadline(&self.config, e.kind, e.last_seen) {
                return Err(InvariantError::StaleDeadline(e.id));
            }
        }
        let keys: usize = self.keys.iter().map(HashMap::len).sum();
        if tally != self.counts || keys != self.len() || tally.total() != self.len() as u64 {
            return Err(InvariantError::Counts {
                counts: Box::new(self.counts),
                keys,
                live: self.len(),
                tally: Box::new(tally),
            });
        }
        if let Some(e) = self.entities().find(|e| !e.track_is_consistent(self.config.track_capacity)) {
            return Err(InvariantError::Track(e.id));
        }
        let ids_rise = self.alerts.iter().zip(self.alerts.iter().skip(1)).all(|(a, b)| a.id < b.id);
        if !ids_rise || self.alerts.len() > self.config.alert_capacity {
            return Err(InvariantError::AlertRing);
        }
        if self.alerts.back().is_some_and(|a| a.id.0 >= self.next_alert_id) {
            return Err(InvariantError::AlertId);
        }
        Ok(())
    }
}

/// When an entity of `kind` last seen at `last_seen` expires: silent for strictly longer than
/// the expiry means `now > last_seen + expiry`.
fn deadline(config: &TwinConfig, kind: EntityKind, last_seen: Timestamp) -> i64 {
    config.expiry_ms[kind.index()].map_or(i64::MAX, |ms| last_seen.as_millis().saturating_add(ms))
}

fn track_point(obs: &Observation) -> Option<TrackPoint> {
    obs.position.map(|position| TrackPoint { time: obs.time, position, heading: obs.heading, speed: obs.speed })
}
