//! Evaluates a [`RuleSet`] as entities change and as time passes.
//! STUB: API contract only; the implementation is being written.

use super::{Alert, RuleSet, RuleState};
use crate::{Entity, EntityId, Error, Timestamp};

/// Rules plus their runtime state. The model owns one and calls it on every change.
#[derive(Debug, Clone, Default)]
pub struct RuleEngine {
    rules: RuleSet,
}

impl RuleEngine {
    /// Checks the rules (valid polygons, finite thresholds, unique ids) and starts with empty state.
    pub fn new(rules: RuleSet) -> Result<Self, Error> {
        Ok(Self { rules })
    }

    /// Resumes from a snapshot's state; state of rules that no longer exist is dropped.
    pub fn with_state(rules: RuleSet, state: RuleState) -> Result<Self, Error> {
        let _ = state;
        Self::new(rules)
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules, keeping the state of rules whose id survives.
    pub fn set_rules(&mut self, rules: RuleSet) -> Result<(), Error> {
        self.rules = rules;
        Ok(())
    }

    pub fn state(&self) -> RuleState {
        RuleState::default()
    }

    /// `entity` was just created or updated by an observation at `now`. Alerts get `AlertId(0)`;
    /// the model numbers them.
    pub fn on_update(&mut self, entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
        let _ = (entity, now, out);
    }

    /// `id` left the model; forget its state.
    pub fn on_remove(&mut self, id: EntityId) {
        let _ = id;
    }

    /// Time passed: stale entities and thresholds whose duration elapsed without a new observation.
    pub fn on_tick<'a>(&mut self, now: Timestamp, entities: impl Iterator<Item = &'a Entity>, out: &mut Vec<Alert>) {
        let _ = (now, entities, out);
    }
}
