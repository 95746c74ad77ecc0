//! The operations state and the single place it changes: [`OpsState::apply`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use twin_core::geodesy::distance_m;
use twin_core::{ActorId, AgencyId, BBox, Position, Timestamp};

use crate::case::{Attachment, Case, CaseAction, CaseId, CaseStatus, Priority};
use crate::command::{check_unit_spec, CaseCommand, Command, OpenCase};
use crate::limits::*;
use crate::timeline::{event_hash, genesis, verify_chain, ChainError, Hash, TimelineAction, TimelineEvent};
use crate::unit::{Unit, UnitId, UnitSpec, UnitStatus};
use crate::{DecodeError, InvariantViolation, OpsError, Settings};

/// A case and its audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub case: Case,
    pub timeline: Vec<TimelineEvent>,
}

/// Who is told about an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The lead of the owning agency.
    AgencyLead(AgencyId),
    /// The city's leaders (operations centre leadership).
    Leaders,
}

/// What an accepted command changed, for notifications and live feeds (not logged: the command is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum OpsEvent {
    Configured {
        units: usize,
        retired: Vec<UnitId>,
    },
    CaseOpened {
        case: CaseId,
        agency: AgencyId,
        priority: Priority,
    },
    /// The episode repeated; attached to the open case.
    CaseRepeated {
        case: CaseId,
        agency: AgencyId,
        repeats: u64,
    },
    CaseChanged {
        case: CaseId,
        agency: AgencyId,
        action: TimelineAction,
        from: CaseStatus,
        to: CaseStatus,
        /// Set on a transfer.
        previous_agency: Option<AgencyId>,
    },
    /// Level 1: acknowledgement late (tell the agency's lead); level 2: resolution late (and the leaders).
    Escalated {
        case: CaseId,
        agency: AgencyId,
        level: u8,
        notify: Vec<Audience>,
    },
    UnitDispatched {
        unit: UnitId,
        case: CaseId,
        agency: AgencyId,
    },
    UnitStatusChanged {
        unit: UnitId,
        from: UnitStatus,
        to: UnitStatus,
        case: Option<CaseId>,
    },
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

#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: u16,
    settings: &'a Settings,
    next_case: u64,
    cases: Vec<&'a CaseRecord>,
    units: Vec<&'a Unit>,
}

#[derive(Deserialize)]
struct SnapshotIn {
    format: u16,
    settings: Settings,
    next_case: u64,
    cases: Vec<CaseRecord>,
    units: Vec<Unit>,
}

const SNAPSHOT_FORMAT: u16 = 1;

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

    /// Validates `cmd` against the current state without changing it: `Ok` exactly when
    /// [`OpsState::apply`] would accept it. The server checks, logs, then applies.
    pub fn check(&self, at: Timestamp, actor: &ActorId, cmd: &Command) -> Result<(), OpsError> {
        let _ = actor; // Permissions are the server's; the model only records the actor.
        cmd.validate()?;
        match cmd {
            Command::Configure { units, .. } => {
                let mut ids = BTreeSet::new();
                let mut tracked = BTreeSet::new();
                for u in units {
                    if !ids.insert(&u.id) {
                        return Err(OpsError::Invalid { field: "units", reason: "duplicate unit id" });
                    }
                    if let Some(t) = &u.tracked_entity {
                        if !tracked.insert(t) {
                            return Err(OpsError::Invalid { field: "units", reason: "two units track one entity" });
                        }
                    }
                }
                // Retired units stay known, so the total is bounded too.
                let total = ids.len() + self.units.keys().filter(|k| !ids.contains(k)).count();
                if total > MAX_UNITS {
                    return Err(OpsError::TooMany { what: "units (configured and retired)", limit: MAX_UNITS });
                }
                Ok(())
            }
            Command::OpenCase(open) => {
                if !self.open_keys.contains_key(&open.key) && self.cases.len() >= MAX_CASES {
                    return Err(OpsError::TooMany { what: "cases", limit: MAX_CASES });
                }
                Ok(())
            }
            Command::Case(c) => self.check_case(at, c),
            Command::Attach { case, expected_version, attachments } => {
                let rec = self.case_for_write(*case, *expected_version)?;
                if !rec.case.status.is_open() {
                    return Err(OpsError::CaseNotOpen { case: *case, status: rec.case.status });
                }
                let new = attachments.iter().filter(|a| !rec.case.attachments.contains(a)).count();
                if rec.case.attachments.len() + new > MAX_ATTACHMENTS_PER_CASE {
                    return Err(OpsError::TooMany { what: "attachments on a case", limit: MAX_ATTACHMENTS_PER_CASE });
                }
                Ok(())
            }
            Command::Dispatch { unit, case, expected_version, allow_other_agency } => {
                let u = self.units.get(unit).ok_or_else(|| OpsError::UnitNotFound(unit.clone()))?;
                let rec = self.case_for_write(*case, *expected_version)?;
                if u.status != UnitStatus::Available || u.retired {
                    return Err(OpsError::UnitUnavailable { unit: unit.clone(), status: u.status, retired: u.retired });
                }
                if !rec.case.status.is_open() {
                    return Err(OpsError::CaseNotOpen { case: *case, status: rec.case.status });
                }
                if u.spec.agency != rec.case.agency && !allow_other_agency {
                    return Err(OpsError::UnitAgencyMismatch {
                        unit: unit.clone(),
                        unit_agency: u.spec.agency.clone(),
                        case: *case,
                        case_agency: rec.case.agency.clone(),
                    });
                }
                if rec.case.units.len() >= MAX_UNITS_PER_CASE && !rec.case.units.contains(unit) {
                    return Err(OpsError::TooMany { what: "units on a case", limit: MAX_UNITS_PER_CASE });
                }
                Ok(())
            }
            Command::UnitStatus { unit, to, .. } => {
                let u = self.units.get(unit).ok_or_else(|| OpsError::UnitNotFound(unit.clone()))?;
                let allowed = u.status.allowed_next();
                if !allowed.contains(to) {
                    return Err(OpsError::IllegalUnitTransition {
                        unit: unit.clone(),
                        from: u.status,
                        to: *to,
                        allowed: allowed.to_vec(),
                    });
                }
                Ok(())
            }
            Command::Tick(_) => Ok(()),
        }
    }

    /// The case, if the version matches and its timeline has room for a person's action.
    fn case_for_write(&self, id: CaseId, expected: Option<u64>) -> Result<&CaseRecord, OpsError> {
        let rec = self.cases.get(&id).ok_or(OpsError::CaseNotFound(id))?;
        if let Some(expected) = expected {
            if expected != rec.case.version {
                return Err(OpsError::VersionMismatch { case: id, expected, actual: rec.case.version });
            }
        }
        if rec.timeline.len() >= USER_TIMELINE_LIMIT {
            return Err(OpsError::TimelineFull(id));
        }
        Ok(rec)
    }

    fn check_case(&self, at: Timestamp, c: &CaseCommand) -> Result<(), OpsError> {
        let rec = self.case_for_write(c.case, c.expected_version)?;
        let allowed = rec.case.allowed_actions(at, &self.settings);
        let action = c.action.kind();
        if !allowed.contains(&action) {
            return Err(OpsError::IllegalAction { case: c.case, status: rec.case.status, action, allowed });
        }
        if let CaseAction::Merge { into } = &c.action {
            if *into == c.case {
                return Err(OpsError::MergeIntoSelf(c.case));
            }
            let target = self.case_for_write(*into, None)?;
            if !target.case.status.is_open() {
                return Err(OpsError::CaseNotOpen { case: *into, status: target.case.status });
            }
        }
        Ok(())
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

    // ---- execution: every check already passed ----

    fn configure(&mut self, at: Timestamp, settings: &Settings, specs: &[UnitSpec]) -> Vec<OpsEvent> {
        self.settings = settings.clone();
        let wanted: BTreeSet<&UnitId> = specs.iter().map(|s| &s.id).collect();
        let mut retired = Vec::new();
        for (id, unit) in &mut self.units {
            if !wanted.contains(id) && !unit.retired {
                unit.retired = true;
                retired.push(id.clone());
            }
        }
        for spec in specs {
            match self.units.get_mut(&spec.id) {
                Some(unit) => {
                    unit.spec = spec.clone();
                    unit.retired = false;
                }
                None => {
                    let unit = Unit {
                        spec: spec.clone(),
                        status: UnitStatus::Available,
                        case: None,
                        since: at,
                        retired: false,
                    };
                    self.units.insert(spec.id.clone(), unit);
                }
            }
        }
        self.rebuild_tracked();
        vec![OpsEvent::Configured { units: specs.len(), retired }]
    }

    fn open_case(&mut self, at: Timestamp, actor: &ActorId, o: &OpenCase) -> Vec<OpsEvent> {
        if let Some(&id) = self.open_keys.get(&o.key) {
            let Some(rec) = self.cases.get_mut(&id) else { return Vec::new() };
            rec.case.repeats = rec.case.repeats.saturating_add(1);
            // A flapping source must not grow the audit trail without bound: later repeats only count.
            if rec.case.repeats <= MAX_LOGGED_REPEATS {
                add_attachments(&mut rec.case.attachments, &o.attachments);
                let status = rec.case.status;
                push_event(rec, at, actor, TimelineAction::Repeat, Some(status), Some(o.title.clone()));
            }
            return vec![OpsEvent::CaseRepeated {
                case: id,
                agency: rec.case.agency.clone(),
                repeats: rec.case.repeats,
            }];
        }
        let id = CaseId(self.next_case);
        self.next_case += 1;
        let mut attachments = Vec::new();
        add_attachments(&mut attachments, &o.attachments);
        let case = Case {
            id,
            source: o.source,
            category: o.category.clone(),
            title: o.title.clone(),
            severity: o.severity,
            priority: o.priority,
            status: CaseStatus::New,
            agency: o.agency.clone(),
            assignee: None,
            commune: o.commune.clone(),
            location: o.location,
            area: o.area.clone(),
            opened_at: at,
            ack_due: at.plus_millis(o.ack_within_ms),
            resolve_due: at.plus_millis(o.resolve_within_ms),
            acknowledged_at: None,
            resolved_at: None,
            closed_at: None,
            escalation: 0,
            disposition: None,
            merged_into: None,
            keys: vec![o.key.clone()],
            attachments,
            repeats: 0,
            units: Vec::new(),
            version: 0,
        };
        let mut rec = CaseRecord { case, timeline: Vec::new() };
        push_event(&mut rec, at, actor, TimelineAction::Open, None, None);
        self.cases.insert(id, rec);
        self.open.insert(id);
        self.open_keys.insert(o.key.clone(), id);
        vec![OpsEvent::CaseOpened { case: id, agency: o.agency.clone(), priority: o.priority }]
    }

    /// The case left the open states: its episode keys no longer attach repeats.
    fn leave_open(&mut self, id: CaseId) {
        self.open.remove(&id);
        if let Some(rec) = self.cases.get(&id) {
            for k in &rec.case.keys {
                if self.open_keys.get(k) == Some(&id) {
                    self.open_keys.remove(k);
                }
            }
        }
    }

    /// The case is open again: it takes back the keys no newer open case holds (and forgets the rest).
    fn enter_open(&mut self, id: CaseId) {
        self.open.insert(id);
        if let Some(rec) = self.cases.get_mut(&id) {
            rec.case.keys.retain(|k| !self.open_keys.contains_key(k));
            for k in &rec.case.keys {
                self.open_keys.insert(k.clone(), id);
            }
        }
    }

    fn case_action(&mut self, at: Timestamp, actor: &ActorId, c: &CaseCommand) -> Vec<OpsEvent> {
        let transfer_ack = self.settings.transfer_ack_within.as_millis();
        let Some(rec) = self.cases.get_mut(&c.case) else { return Vec::new() };
        let from = rec.case.status;
        let mut previous_agency = None;
        let (action, note) = match &c.action {
            CaseAction::Acknowledge { note } => {
                if from == CaseStatus::New {
                    rec.case.status = CaseStatus::Acknowledged;
                }
                rec.case.acknowledged_at = Some(at);
                (TimelineAction::Acknowledge, note.clone())
            }
            CaseAction::Assign { agency, assignee, ack_within_ms, note } => {
                rec.case.status = CaseStatus::Assigned;
                rec.case.assignee = assignee.clone();
                match agency.as_ref().filter(|a| **a != rec.case.agency) {
                    Some(to) => {
                        let prev = std::mem::replace(&mut rec.case.agency, to.clone());
                        rec.case.acknowledged_at = None;
                        rec.case.ack_due = at.plus_millis(ack_within_ms.unwrap_or(transfer_ack));
                        // The new agency gets a fresh acknowledgement deadline; a late resolution stays late.
                        if rec.case.escalation == 1 {
                            rec.case.escalation = 0;
                        }
                        let text = join_note(format!("transfer from {prev}"), note.as_ref());
                        previous_agency = Some(prev);
                        (TimelineAction::Transfer, Some(text))
                    }
                    None => (TimelineAction::Assign, note.clone()),
                }
            }
            CaseAction::Start { note } => {
                rec.case.status = CaseStatus::InProgress;
                // Starting work acknowledges a transferred case.
                rec.case.acknowledged_at.get_or_insert(at);
                (TimelineAction::Start, note.clone())
            }
            CaseAction::Resolve { disposition } => {
                rec.case.status = CaseStatus::Resolved;
                rec.case.resolved_at = Some(at);
                rec.case.disposition = Some(disposition.clone());
                (TimelineAction::Resolve, Some(disposition.clone()))
            }
            CaseAction::Close { note } => {
                rec.case.status = CaseStatus::Closed;
                rec.case.closed_at = Some(at);
                (TimelineAction::Close, note.clone())
            }
            CaseAction::Reopen { reason } => {
                rec.case.status = CaseStatus::InProgress;
                rec.case.resolved_at = None;
                rec.case.disposition = None;
                (TimelineAction::Reopen, Some(reason.clone()))
            }
            CaseAction::Reject { reason } => {
                rec.case.status = CaseStatus::Rejected;
                rec.case.disposition = Some(reason.clone());
                (TimelineAction::Reject, Some(reason.clone()))
            }
            CaseAction::Merge { into } => {
                rec.case.status = CaseStatus::Merged;
                rec.case.merged_into = Some(*into);
                (TimelineAction::Merge, Some(format!("into {into}")))
            }
        };
        push_event(rec, at, actor, action, Some(from), note);
        let to = rec.case.status;
        let agency = rec.case.agency.clone();
        let mut events = vec![OpsEvent::CaseChanged { case: c.case, agency, action, from, to, previous_agency }];
        match (from.is_open(), to.is_open()) {
            (true, false) => self.leave_open(c.case),
            (false, true) => self.enter_open(c.case),
            _ => {}
        }
        if let CaseAction::Merge { into } = &c.action {
            events.extend(self.absorb(at, actor, c.case, *into));
        }
        events
    }

    /// The surviving case of a merge takes the merged case's episode keys and attachments.
    fn absorb(&mut self, at: Timestamp, actor: &ActorId, merged: CaseId, into: CaseId) -> Option<OpsEvent> {
        let (keys, attachments) = {
            let m = self.cases.get(&merged)?;
            (m.case.keys.clone(), m.case.attachments.clone())
        };
        let rec = self.cases.get_mut(&into)?;
        for k in keys {
            if rec.case.keys.len() < MAX_KEYS_PER_CASE
                && !rec.case.keys.contains(&k)
                && !self.open_keys.contains_key(&k)
            {
                self.open_keys.insert(k.clone(), into);
                rec.case.keys.push(k);
            }
        }
        add_attachments(&mut rec.case.attachments, &attachments);
        let status = rec.case.status;
        push_event(rec, at, actor, TimelineAction::Absorb, Some(status), Some(format!("merged {merged}")));
        Some(OpsEvent::CaseChanged {
            case: into,
            agency: rec.case.agency.clone(),
            action: TimelineAction::Absorb,
            from: status,
            to: status,
            previous_agency: None,
        })
    }

    fn attach(&mut self, at: Timestamp, actor: &ActorId, id: CaseId, attachments: &[Attachment]) -> Vec<OpsEvent> {
        let Some(rec) = self.cases.get_mut(&id) else { return Vec::new() };
        let added = add_attachments(&mut rec.case.attachments, attachments);
        let status = rec.case.status;
        let refs: Vec<&str> = attachments.iter().map(|a| a.reference.as_str()).collect();
        let note = format!("{added} new: {}", refs.join(", "));
        push_event(rec, at, actor, TimelineAction::Attach, Some(status), Some(note));
        vec![OpsEvent::CaseChanged {
            case: id,
            agency: rec.case.agency.clone(),
            action: TimelineAction::Attach,
            from: status,
            to: status,
            previous_agency: None,
        }]
    }

    fn dispatch(&mut self, at: Timestamp, actor: &ActorId, unit: &UnitId, case: CaseId) -> Vec<OpsEvent> {
        let (Some(u), Some(rec)) = (self.units.get_mut(unit), self.cases.get_mut(&case)) else { return Vec::new() };
        let from = u.status;
        u.status = UnitStatus::Dispatched;
        u.case = Some(case);
        u.since = at;
        if !rec.case.units.contains(unit) {
            rec.case.units.push(unit.clone());
        }
        let status = rec.case.status;
        push_event(rec, at, actor, TimelineAction::Dispatch, Some(status), Some(format!("unit {unit}")));
        vec![
            OpsEvent::UnitDispatched { unit: unit.clone(), case, agency: rec.case.agency.clone() },
            OpsEvent::UnitStatusChanged { unit: unit.clone(), from, to: UnitStatus::Dispatched, case: Some(case) },
        ]
    }

    fn unit_status(&mut self, at: Timestamp, unit: &UnitId, to: UnitStatus) -> Vec<OpsEvent> {
        let Some(u) = self.units.get_mut(unit) else { return Vec::new() };
        let from = u.status;
        let case = u.case;
        u.status = to;
        u.since = at;
        if !to.is_committed() {
            u.case = None;
        }
        vec![OpsEvent::UnitStatusChanged { unit: unit.clone(), from, to, case }]
    }

    /// Escalates every open case whose deadline is at or before `now`, once per level.
    fn tick(&mut self, now: Timestamp, actor: &ActorId) -> Vec<OpsEvent> {
        let mut events = Vec::new();
        for id in &self.open {
            let Some(rec) = self.cases.get_mut(id) else { continue };
            let status = rec.case.status;
            let agency = rec.case.agency.clone();
            if rec.case.escalation < 1 && rec.case.acknowledged_at.is_none() && now >= rec.case.ack_due {
                rec.case.escalation = 1;
                let note = Some("acknowledgement deadline passed".to_owned());
                push_event(rec, now, actor, TimelineAction::Escalate, Some(status), note);
                let notify = vec![Audience::AgencyLead(agency.clone())];
                events.push(OpsEvent::Escalated { case: *id, agency: agency.clone(), level: 1, notify });
            }
            if rec.case.escalation < 2 && now >= rec.case.resolve_due {
                rec.case.escalation = 2;
                let note = Some("resolution deadline passed".to_owned());
                push_event(rec, now, actor, TimelineAction::Escalate, Some(status), note);
                let notify = vec![Audience::AgencyLead(agency.clone()), Audience::Leaders];
                events.push(OpsEvent::Escalated { case: *id, agency, level: 2, notify });
            }
        }
        events
    }

    fn rebuild_tracked(&mut self) {
        self.tracked = self.tracked_expected();
    }

    // ---- derived commands ----

    /// The [`Command::Configure`] to log at start-up when the configured settings or units differ
    /// from the state's (`None` when they match).
    pub fn configure_command(&self, settings: &Settings, units: &[UnitSpec]) -> Option<Command> {
        let mut wanted: Vec<&UnitSpec> = units.iter().collect();
        wanted.sort_by(|a, b| a.id.cmp(&b.id));
        let current: Vec<&UnitSpec> = self.units.values().filter(|u| !u.retired).map(|u| &u.spec).collect();
        (self.settings != *settings || wanted != current)
            .then(|| Command::Configure { settings: settings.clone(), units: units.to_vec() })
    }

    /// The command to log when a tracked vehicle reports `position`: a dispatched or en-route unit
    /// within the arrival radius of its case's location is now on scene. Pure; the server calls it
    /// for each committed position of a tracked entity.
    pub fn on_unit_position(&self, entity_external_id: &str, position: Position) -> Option<Command> {
        let id = self.tracked.get(entity_external_id)?;
        let unit = self.units.get(id)?;
        if !matches!(unit.status, UnitStatus::Dispatched | UnitStatus::EnRoute) || !position.is_valid() {
            return None;
        }
        let target = self.cases.get(&unit.case?)?.case.location?;
        (distance_m(target, position) <= self.settings.arrival_radius_m).then(|| Command::UnitStatus {
            unit: id.clone(),
            to: UnitStatus::OnScene,
            note: Some("arrived: position within the arrival radius".into()),
        })
    }

    // ---- queries: `viewer` None sees everything (operations centre); Some(agency) only its own ----

    fn visible(case: &Case, viewer: Option<&AgencyId>) -> bool {
        viewer.is_none_or(|a| *a == case.agency)
    }

    pub fn case(&self, id: CaseId, viewer: Option<&AgencyId>) -> Option<&Case> {
        self.cases.get(&id).map(|r| &r.case).filter(|c| Self::visible(c, viewer))
    }

    pub fn timeline(&self, id: CaseId, viewer: Option<&AgencyId>) -> Option<&[TimelineEvent]> {
        self.cases.get(&id).filter(|r| Self::visible(&r.case, viewer)).map(|r| r.timeline.as_slice())
    }

    /// Cases matching `query` that `viewer` may see, by id.
    pub fn cases<'a>(
        &'a self,
        query: &'a CaseQuery,
        viewer: Option<&'a AgencyId>,
    ) -> impl Iterator<Item = &'a Case> + 'a {
        self.cases.values().map(|r| &r.case).filter(move |c| {
            Self::visible(c, viewer)
                && (query.statuses.is_empty() || query.statuses.contains(&c.status))
                && query.agency.as_ref().is_none_or(|a| *a == c.agency)
                && query.bbox.as_ref().is_none_or(|b| in_bbox(c, b))
        })
    }

    /// Open cases (new … in_progress) that `viewer` may see.
    pub fn open_cases<'a>(&'a self, viewer: Option<&'a AgencyId>) -> impl Iterator<Item = &'a Case> + 'a {
        self.open.iter().filter_map(move |id| self.case(*id, viewer))
    }

    pub fn unit(&self, id: &UnitId, viewer: Option<&AgencyId>) -> Option<&Unit> {
        self.units.get(id).filter(|u| viewer.is_none_or(|a| *a == u.spec.agency))
    }

    pub fn units<'a>(&'a self, viewer: Option<&'a AgencyId>) -> impl Iterator<Item = &'a Unit> + 'a {
        self.units.values().filter(move |u| viewer.is_none_or(|a| *a == u.spec.agency))
    }

    /// Every case's hash chain.
    pub fn verify_chain(&self) -> Result<(), ChainError> {
        self.cases.iter().try_for_each(|(id, r)| verify_chain(*id, &r.timeline))
    }

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

    fn tracked_expected(&self) -> BTreeMap<String, UnitId> {
        self.units.values().filter_map(|u| u.spec.tracked_entity.clone().map(|t| (t, u.spec.id.clone()))).collect()
    }

    // ---- snapshot ----

    /// The whole state as bytes (JSON, with a format number).
    pub fn snapshot(&self) -> Vec<u8> {
        let out = SnapshotOut {
            format: SNAPSHOT_FORMAT,
            settings: &self.settings,
            next_case: self.next_case,
            cases: self.cases.values().collect(),
            units: self.units.values().collect(),
        };
        serde_json::to_vec(&out).unwrap_or_default()
    }

    /// Reads a [`OpsState::snapshot`] back. Bounded by [`MAX_SNAPSHOT_BYTES`] and the model's limits;
    /// refuses snapshots whose invariants or hash chains do not hold.
    pub fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::restore_bounded(bytes, MAX_SNAPSHOT_BYTES)
    }

    /// [`OpsState::restore`] with a smaller size bound (at most [`MAX_SNAPSHOT_BYTES`]).
    pub fn restore_bounded(bytes: &[u8], max_bytes: usize) -> Result<Self, DecodeError> {
        let limit = max_bytes.min(MAX_SNAPSHOT_BYTES);
        if bytes.len() > limit {
            return Err(DecodeError::TooLarge { len: bytes.len(), limit });
        }
        let snap: SnapshotIn = serde_json::from_slice(bytes)?;
        if snap.format != SNAPSHOT_FORMAT {
            return Err(DecodeError::UnsupportedVersion { what: "ops snapshot", version: snap.format });
        }
        snap.settings.validate()?;
        if snap.cases.len() > MAX_CASES {
            return Err(OpsError::TooMany { what: "cases", limit: MAX_CASES }.into());
        }
        if snap.units.len() > MAX_UNITS {
            return Err(OpsError::TooMany { what: "units", limit: MAX_UNITS }.into());
        }
        let mut state = Self { settings: snap.settings, next_case: snap.next_case, ..Self::default() };
        for rec in snap.cases {
            let id = rec.case.id;
            if state.cases.insert(id, rec).is_some() {
                return Err(violation(format!("case {id} appears twice")).into());
            }
        }
        for unit in snap.units {
            check_unit_spec(&unit.spec)?;
            let id = unit.spec.id.clone();
            if state.units.insert(id.clone(), unit).is_some() {
                return Err(violation(format!("unit {id} appears twice")).into());
            }
        }
        state.rebuild_tracked();
        if state.tracked.len() != state.units.values().filter(|u| u.spec.tracked_entity.is_some()).count() {
            return Err(violation("two units track one entity".into()).into());
        }
        state.open = state.cases.values().filter(|r| r.case.status.is_open()).map(|r| r.case.id).collect();
        for id in &state.open {
            if let Some(r) = state.cases.get(id) {
                for k in &r.case.keys {
                    if state.open_keys.insert(k.clone(), *id).is_some() {
                        return Err(violation(format!("episode key {k} held by two open cases")).into());
                    }
                }
            }
        }
        state.check_invariants()?;
        state.verify_chain().map_err(|e| violation(e.to_string()))?;
        Ok(state)
    }
}

fn in_bbox(c: &Case, b: &BBox) -> bool {
    let inside = |p: &Position| p.lon >= b.min_lon && p.lon <= b.max_lon && p.lat >= b.min_lat && p.lat <= b.max_lat;
    if c.location.as_ref().is_some_and(inside) {
        return true;
    }
    let Some(ring) = &c.area else { return false };
    // Envelope overlap: cheap and never misses a case whose area reaches into the box.
    let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in ring {
        lo_x = lo_x.min(p.lon);
        lo_y = lo_y.min(p.lat);
        hi_x = hi_x.max(p.lon);
        hi_y = hi_y.max(p.lat);
    }
    lo_x <= b.max_lon && hi_x >= b.min_lon && lo_y <= b.max_lat && hi_y >= b.min_lat
}
