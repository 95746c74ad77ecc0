//! Executing the case commands (open, actions, merge, attach) and the deadline tick; every
//! check has already passed.

use twin_core::{ActorId, Timestamp};

use super::{add_attachments, join_note, push_event, Audience, CaseRecord, OpsEvent, OpsState};
use crate::case::{Attachment, Case, CaseAction, CaseId, CaseStatus};
use crate::command::{CaseCommand, OpenCase};
use crate::limits::{MAX_KEYS_PER_CASE, MAX_LOGGED_REPEATS};
use crate::timeline::TimelineAction;

impl OpsState {
    pub(super) fn open_case(&mut self, at: Timestamp, actor: &ActorId, o: &OpenCase) -> Vec<OpsEvent> {
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

    pub(super) fn case_action(&mut self, at: Timestamp, actor: &ActorId, c: &CaseCommand) -> Vec<OpsEvent> {
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

    pub(super) fn attach(
        &mut self,
        at: Timestamp,
        actor: &ActorId,
        id: CaseId,
        attachments: &[Attachment],
    ) -> Vec<OpsEvent> {
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

    /// Escalates every open case whose deadline is at or before `now`, once per level.
    pub(super) fn tick(&mut self, now: Timestamp, actor: &ActorId) -> Vec<OpsEvent> {
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
}
