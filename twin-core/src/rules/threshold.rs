//! Numeric property above/below a threshold for at least a duration.
//!
//! An episode starts at the first observation where the condition holds and ends at the first one
//! where it does not (a missing or non-numeric property counts as "does not hold"). Each episode
//! raises at most one alert, on an update or on a tick, once it has lasted `duration_ms`.

use std::collections::HashMap;

use super::describe::{alert, duration, number, rule_name, subject};
use super::{by_kind, for_kind, Alert, Comparison, RuleKind, ThresholdRule};
use crate::{Entity, EntityId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Episode {
    since: Timestamp,
    alerted: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ThresholdRules {
    /// Rule indices per entity kind.
    by_kind: Vec<Vec<u32>>,
    /// Open episodes by (entity, rule index).
    episodes: HashMap<(EntityId, u32), Episode>,
}

impl ThresholdRules {
    pub(crate) fn new(rules: &[ThresholdRule]) -> Self {
        Self { by_kind: by_kind(rules, |r| r.kinds), episodes: HashMap::new() }
    }

    pub(crate) fn on_update(&mut self, rules: &[ThresholdRule], entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
        for &r in for_kind(&self.by_kind, entity.kind) {
            let Some(rule) = rules.get(r as usize) else { continue };
            let key = (entity.id, r);
            if holds(rule, entity).is_none() {
                self.episodes.remove(&key);
                continue;
            }
            let ep = self.episodes.entry(key).or_insert(Episode { since: now, alerted: false });
            fire_if_due(rule, ep, entity, now, out);
        }
    }

    /// Episodes that reached their duration but have not alerted yet, by entity (rule indices sorted).
    pub(crate) fn due(&self, rules: &[ThresholdRule], now: Timestamp) -> HashMap<EntityId, Vec<u32>> {
        let mut due: HashMap<EntityId, Vec<u32>> = HashMap::new();
        for (&(id, r), ep) in &self.episodes {
            let Some(rule) = rules.get(r as usize) else { continue };
            if !ep.alerted && now.as_millis().saturating_sub(ep.since.as_millis()) >= rule.duration_ms {
                due.entry(id).or_default().push(r);
            }
        }
        for list in due.values_mut() {
            list.sort_unstable();
        }
        due
    }

    /// Fires the due episodes of `entity` (from [`Self::due`]). An episode whose rule no longer
    /// applies (the rules were replaced since it began) is dropped instead.
    pub(crate) fn fire(
        &mut self,
        rules: &[ThresholdRule],
        entity: &Entity,
        due: &[u32],
        now: Timestamp,
        out: &mut Vec<Alert>,
    ) {
        for &r in due {
            let Some(rule) = rules.get(r as usize) else { continue };
            let key = (entity.id, r);
            if !rule.kinds.contains(entity.kind) || holds(rule, entity).is_none() {
                self.episodes.remove(&key);
            } else if let Some(ep) = self.episodes.get_mut(&key) {
                fire_if_due(rule, ep, entity, now, out);
            }
        }
    }

    pub(crate) fn on_remove(&mut self, id: EntityId, rule_count: usize) {
        for r in 0..rule_count as u32 {
            self.episodes.remove(&(id, r));
        }
    }

    /// (entity, rule id, since, alerted), sorted.
    pub(crate) fn state(&self, rules: &[ThresholdRule]) -> Vec<(EntityId, String, Timestamp, bool)> {
        let mut v: Vec<_> = self
            .episodes
            .iter()
            .filter_map(|(&(id, r), ep)| Some((id, rules.get(r as usize)?.id.clone(), ep.since, ep.alerted)))
            .collect();
        v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        v
    }

    /// Restores open episodes; those naming unknown rules are dropped.
    pub(crate) fn restore(&mut self, rules: &[ThresholdRule], state: &[(EntityId, String, Timestamp, bool)]) {
        let by_id: HashMap<&str, u32> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i as u32)).collect();
        self.episodes = state
            .iter()
            .filter_map(|(id, rule, since, alerted)| {
                Some(((*id, *by_id.get(rule.as_str())?), Episode { since: *since, alerted: *alerted }))
            })
            .collect();
    }

    /// True when some episode is open (ticks can skip the work otherwise).
    pub(crate) fn has_episodes(&self) -> bool {
        !self.episodes.is_empty()
    }
}

/// The property's value when the rule's condition holds for it.
fn holds(rule: &ThresholdRule, entity: &Entity) -> Option<f64> {
    let v = entity.properties.get(&rule.property)?.as_f64()?;
    let ok = match rule.comparison {
        Comparison::Above => v > rule.threshold,
        Comparison::Below => v < rule.threshold,
    };
    ok.then_some(v)
}

fn fire_if_due(rule: &ThresholdRule, ep: &mut Episode, entity: &Entity, now: Timestamp, out: &mut Vec<Alert>) {
    let held = now.as_millis().saturating_sub(ep.since.as_millis());
    if ep.alerted || held < rule.duration_ms {
        return;
    }
    ep.alerted = true;
    let (word, kind) = match rule.comparison {
        Comparison::Above => ("above", RuleKind::ThresholdAbove),
        Comparison::Below => ("below", RuleKind::ThresholdBelow),
    };
    let value = holds(rule, entity).map_or_else(|| "?".to_owned(), number);
    let span = if rule.duration_ms > 0 { format!(" for {}", duration(held)) } else { String::new() };
    let msg = format!(
        "{}: {} {value} {word} {}{span} ({})",
        subject(entity),
        rule.property,
        number(rule.threshold),
        rule_name(&rule.name, &rule.id)
    );
    out.push(alert(entity, now, &rule.id, kind, rule.severity, msg));
}
