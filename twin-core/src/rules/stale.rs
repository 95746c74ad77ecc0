//! Entities silent for much longer than they usually report.
//!
//! The limit is `max(factor × mean interval, min_silence_ms)` and only applies once the entity has
//! a mean interval (two observations seen). One alert per silence; seeing the entity again ends it.

use std::collections::{HashMap, HashSet};

use super::describe::{alert, duration, subject};
use super::{by_kind, for_kind, Alert, RuleKind, StaleRule};
use crate::{Entity, EntityId, Timestamp};

#[derive(Debug, Clone, Default)]
pub(crate) struct StaleRules {
    by_kind: Vec<Vec<u32>>,
    /// (entity, rule index) already reported and not seen since.
    reported: HashSet<(EntityId, u32)>,
}

impl StaleRules {
    pub(crate) fn new(rules: &[StaleRule]) -> Self {
        Self { by_kind: by_kind(rules, |r| r.kinds), reported: HashSet::new() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_kind.iter().all(Vec::is_empty)
    }

    /// The entity reported: its silence, if any, is over.
    pub(crate) fn on_update(&mut self, entity: &Entity) {
        if self.reported.is_empty() {
            return;
        }
        for &r in for_kind(&self.by_kind, entity.kind) {
            self.reported.remove(&(entity.id, r));
        }
    }

    pub(crate) fn on_tick(&mut self, rules: &[StaleRule], entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
        let mean = entity.mean_interval_ms;
        if !(mean.is_finite() && mean > 0.0) {
            return;
        }
        let silence = now.as_millis().saturating_sub(entity.last_seen.as_millis());
        for &r in for_kind(&self.by_kind, entity.kind) {
            let Some(rule) = rules.get(r as usize) else { continue };
            let limit = (rule.factor * mean).max(rule.min_silence_ms as f64);
            if silence as f64 > limit && self.reported.insert((entity.id, r)) {
                let msg = format!(
                    "{} silent for {} (usually reports every {}; rule {})",
                    subject(entity),
                    duration(silence),
                    duration(mean.round() as i64),
                    rule.id
                );
                out.push(alert(entity, now, &rule.id, RuleKind::Stale, rule.severity, msg));
            }
        }
    }

    pub(crate) fn on_remove(&mut self, id: EntityId, rule_count: usize) {
        for r in 0..rule_count as u32 {
            self.reported.remove(&(id, r));
        }
    }

    /// (entity, rule id) pairs reported and not seen since, sorted.
    pub(crate) fn state(&self, rules: &[StaleRule]) -> Vec<(EntityId, String)> {
        let mut v: Vec<_> =
            self.reported.iter().filter_map(|&(id, r)| Some((id, rules.get(r as usize)?.id.clone()))).collect();
        v.sort();
        v
    }

    /// Restores reported pairs; those naming unknown rules are dropped.
    pub(crate) fn restore(&mut self, rules: &[StaleRule], pairs: &[(EntityId, String)]) {
        let by_id: HashMap<&str, u32> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i as u32)).collect();
        self.reported = pairs.iter().filter_map(|(id, rule)| Some((*id, *by_id.get(rule.as_str())?))).collect();
    }
}
