//! The operations state and the single place it changes: [`OpsState::apply`].

mod cases;
mod check;
mod events;
mod invariants;
mod query;
mod snapshot;
mod units;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use twin_core::{ActorId, AgencyId, BBox, Timestamp};

use crate::case::{Attachment, Case, CaseId, CaseStatus};
use crate::command::Command;
use crate::limits::MAX_ATTACHMENTS_PER_CASE;
use crate::timeline::{event_hash, genesis, Hash, TimelineAction, TimelineEvent};
use crate::unit::{Unit, UnitId};
use crate::{InvariantViolation, OpsError, Settings};

pub use events::{Audience, OpsEvent};

/// A case and its audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub case: Case,
    pub timeline: Vec<TimelineEvent>,
}

/// Filters for listing cases. Empty `statuses` means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseQuery {
    pub statuses: Vec<CaseStatus>,
    pub agency: Option<AgencyId>,
    /// Cases whose location (or area) falls in the box; cases without geometry are left out.
    pub bbox: Option<BBox>,
}

/// All cases and units. Change it only with [`OpsState::apply`]; replaying the accepted commands
/// with the same times and actors from [`OpsState::default`] (or from a [`OpsState::restore`]d
/// snapshot plus the commands after it) gives an equal state, hash chains included.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpsState {
    settings: Settings,
    cases: BTreeMap<CaseId, CaseRecord>,
    units: BTreeMap<UnitId, Unit>,
    next_case: u64,
    // Derived, rebuilt on restore.
    open: BTreeSet<CaseId>,
    open_keys: BTreeMap<String, CaseId>,
    tracked: BTreeMap<String, UnitId>,
}

fn push_event(
    rec: &mut CaseRecord,
    at: Timestamp,
    actor: &ActorId,
    action: TimelineAction,
    from: Option<CaseStatus>,
    note: Option<String>,
) {
    let prev_hash = rec.timeline.last().map_or_else(|| genesis(rec.case.id), |e| e.hash);
    let mut e = TimelineEvent {
        seq: rec.timeline.len() as u64 + 1,
        at,
        actor: actor.clone(),
        agency: rec.case.agency.clone(),
        action,
        from,
        to: rec.case.status,
        note,
        prev_hash,
        hash: Hash([0; 32]),
    };
    e.hash = event_hash(rec.case.id, &e);
    rec.timeline.push(e);
    rec.case.version += 1;
}

/// Adds references not already there, up to the per-case bound.
fn add_attachments(to: &mut Vec<Attachment>, new: &[Attachment]) -> usize {
    let mut added = 0;
    for a in new {
        if to.len() >= MAX_ATTACHMENTS_PER_CASE {
            break;
        }
        if !to.contains(a) {
            to.push(a.clone());
            added += 1;
        }
    }
    added
}

fn join_note(first: String, note: Option<&String>) -> String {
    match note {
        Some(n) if !n.is_empty() => format!("{first}: {n}"),
        _ => first,
    }
}

fn violation(what: String) -> InvariantViolation {
    InvariantViolation(what)
}

impl OpsState {
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Applies `cmd` at `at` on behalf of `actor`. On error nothing changed.
    pub fn apply(&mut self, at: Timestamp, actor: &ActorId, cmd: &Command) -> Result<Vec<OpsEvent>, OpsError> {
        self.check(at, actor, cmd)?;
        Ok(match cmd {
            Command::Configure { settings, units } => self.configure(at, settings, units),
            Command::OpenCase(open) => self.open_case(at, actor, open),
            Command::Case(c) => self.case_action(at, actor, c),
            Command::Attach { case, attachments, .. } => self.attach(at, actor, *case, attachments),
            Command::Dispatch { unit, case, .. } => self.dispatch(at, actor, unit, *case),
            Command::UnitStatus { unit, to, .. } => self.unit_status(at, unit, *to),
            Command::Tick(now) => self.tick(*now, actor),
        })
    }
}
