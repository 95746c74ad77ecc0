//! [`OpsState::check_invariants`]: the consistency rules every reachable state keeps.

use super::{violation, OpsState};
use crate::case::CaseStatus;
use crate::limits::{
    MAX_ATTACHMENTS_PER_CASE, MAX_KEYS_PER_CASE, MAX_TIMELINE_PER_CASE, MAX_UNITS, MAX_UNITS_PER_CASE,
};
use crate::timeline::TimelineAction;
use crate::InvariantViolation;

impl OpsState {
    /// The consistency rules every reachable state keeps (see the crate docs).
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        use CaseStatus as S;
        // Ids are dense and cases are never removed.
        if self.next_case != self.cases.len() as u64 {
            return Err(violation(format!("next case id {} with {} cases", self.next_case, self.cases.len())));
        }
        for (id, rec) in &self.cases {
            let c = &rec.case;
            let bad = |what: &str| Err(violation(format!("case {id}: {what}")));
            if c.id != *id || id.0 >= self.next_case {
                return bad("id out of place");
            }
            if c.version != rec.timeline.len() as u64 || rec.timeline.len() > MAX_TIMELINE_PER_CASE {
                return bad("version differs from the timeline length");
            }
            match rec.timeline.first() {
                Some(e) if e.action == TimelineAction::Open => {}
                _ => return bad("timeline does not start with open"),
            }
            if rec.timeline.last().map(|e| e.to) != Some(c.status) {
                return bad("last event does not end in the case status");
            }
            if c.merged_into.is_some() != (c.status == S::Merged) {
                return bad("merged_into without merged status or the reverse");
            }
            if let Some(t) = c.merged_into {
                if t == *id || !self.cases.contains_key(&t) {
                    return bad("merged into itself or an unknown case");
                }
            }
            if c.disposition.is_some() != matches!(c.status, S::Resolved | S::Closed | S::Rejected) {
                return bad("disposition does not match status");
            }
            if c.resolved_at.is_some() != matches!(c.status, S::Resolved | S::Closed) {
                return bad("resolved_at does not match status");
            }
            if c.closed_at.is_some() != (c.status == S::Closed) {
                return bad("closed_at does not match status");
            }
            let needs_ack = matches!(c.status, S::Acknowledged | S::InProgress | S::Resolved | S::Closed);
            if (c.status == S::New && c.acknowledged_at.is_some()) || (needs_ack && c.acknowledged_at.is_none()) {
                return bad("acknowledged_at does not match status");
            }
            if c.escalation > 2 {
                return bad("escalation above 2");
            }
            if c.keys.len() > MAX_KEYS_PER_CASE
                || c.attachments.len() > MAX_ATTACHMENTS_PER_CASE
                || c.units.len() > MAX_UNITS_PER_CASE
            {
                return bad("a per-case bound is exceeded");
            }
            if c.status.is_open() != self.open.contains(id) {
                return bad("open index disagrees");
            }
            if c.status.is_open() && c.keys.iter().any(|k| self.open_keys.get(k) != Some(id)) {
                return bad("an episode key of an open case is not indexed to it");
            }
        }
        for (k, id) in &self.open_keys {
            let ok = self.cases.get(id).is_some_and(|r| r.case.status.is_open() && r.case.keys.contains(k));
            if !ok {
                return Err(violation(format!("episode key {k} indexed to case {id} which is not open with it")));
            }
        }
        if self.open.iter().any(|id| !self.cases.contains_key(id)) {
            return Err(violation("open index names an unknown case".into()));
        }
        if self.units.len() > MAX_UNITS {
            return Err(violation("too many units".into()));
        }
        for (id, u) in &self.units {
            if u.spec.id != *id {
                return Err(violation(format!("unit {id}: id out of place")));
            }
            if u.status.is_committed() != u.case.is_some() {
                return Err(violation(format!("unit {id}: committed without a case or the reverse")));
            }
            if let Some(case) = u.case {
                if !self.cases.get(&case).is_some_and(|r| r.case.units.contains(id)) {
                    return Err(violation(format!("unit {id}: its case {case} does not list it")));
                }
            }
        }
        if self.tracked_expected() != self.tracked {
            return Err(violation("tracked-entity index disagrees".into()));
        }
        Ok(())
    }
}
