//! Evaluates a [`RuleSet`] as entities change and as time passes.
//!
//! Runtime state is keyed by rule index internally and by rule id in [`RuleState`], so a snapshot
//! survives rules being added, removed or reordered.

use super::geofence::GeofenceRules;
use super::stale::StaleRules;
use super::threshold::ThresholdRules;
use super::{validate, Alert, RuleSet, RuleState};
use crate::{Entity, EntityId, Error, Timestamp};

/// Rules plus their runtime state. The model owns one and calls it on every change.
#[derive(Debug, Clone, Default)]
pub struct RuleEngine {
    rules: RuleSet,
    geofences: GeofenceRules,
    thresholds: ThresholdRules,
    stale: StaleRules,
}

impl RuleEngine {
    /// Checks the rules (valid polygons, finite thresholds, unique ids) and starts with empty state.
    pub fn new(rules: RuleSet) -> Result<Self, Error> {
        validate::check(&rules)?;
        Ok(Self {
            geofences: GeofenceRules::new(&rules.geofences),
            thresholds: ThresholdRules::new(&rules.thresholds),
            stale: StaleRules::new(&rules.stale),
            rules,
        })
    }

    /// Resumes from a snapshot's state; state of rules that no longer exist is dropped.
    pub fn with_state(rules: RuleSet, state: RuleState) -> Result<Self, Error> {
        let mut engine = Self::new(rules)?;
        engine.geofences.restore(&engine.rules.geofences, &state.inside);
        engine.thresholds.restore(&engine.rules.thresholds, &state.holding);
        engine.stale.restore(&engine.rules.stale, &state.stale);
        Ok(engine)
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules, keeping the state of rules whose id survives. On error nothing changes.
    pub fn set_rules(&mut self, rules: RuleSet) -> Result<(), Error> {
        *self = Self::with_state(rules, self.state())?;
        Ok(())
    }

    /// The runtime state, every list sorted, so equal engines give equal states.
    pub fn state(&self) -> RuleState {
        RuleState {
            inside: self.geofences.state(&self.rules.geofences),
            holding: self.thresholds.state(&self.rules.thresholds),
            stale: self.stale.state(&self.rules.stale),
        }
    }

    /// `entity` was just created or updated by an observation at `now`. Alerts get `AlertId(0)`;
    /// the model numbers them.
    pub fn on_update(&mut self, entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
        self.stale.on_update(entity);
        self.geofences.on_update(&self.rules.geofences, entity, now, out);
        self.thresholds.on_update(&self.rules.thresholds, entity, now, out);
    }

    /// `id` left the model; forget its state.
    pub fn on_remove(&mut self, id: EntityId) {
        self.geofences.on_remove(id);
        self.thresholds.on_remove(id, self.rules.thresholds.len());
        self.stale.on_remove(id, self.rules.stale.len());
    }

    /// Time passed: stale entities and thresholds whose duration elapsed without a new observation.
    /// Alerts come in the order of `entities` (the model passes them in id order).
    pub fn on_tick<'a>(&mut self, now: Timestamp, entities: impl Iterator<Item = &'a Entity>, out: &mut Vec<Alert>) {
        let due = if self.thresholds.has_episodes() {
            self.thresholds.due(&self.rules.thresholds, now)
        } else {
            Default::default()
        };
        if due.is_empty() && self.stale.is_empty() {
            return;
        }
        for entity in entities {
            if let Some(rules) = due.get(&entity.id) {
                self.thresholds.fire(&self.rules.thresholds, entity, rules, now, out);
            }
            self.stale.on_tick(&self.rules.stale, entity, now, out);
        }
    }
}
