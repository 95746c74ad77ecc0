//! Deadlines on logged ticks, with explicit times: nothing one millisecond early, exactly one
//! escalation at the deadline, none added by later ticks, by replay or by a snapshot restore.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod common;

use common::*;
use twin_ops::{Audience, CaseAction, CaseId, Command, OpsEvent, OpsState, TimelineAction};

fn escalations(s: &OpsState, id: CaseId) -> Vec<(i64, String)> {
    s.timeline(id, None)
        .unwrap()
        .iter()
        .filter(|e| e.action == TimelineAction::Escalate)
        .map(|e| (e.at.0, e.note.clone().unwrap_or_default()))
        .collect()
}

fn opened() -> (OpsState, Log) {
    let mut s = OpsState::default();
    let mut log = Log::default();
    log.run(&mut s, t(T0), &sys(), &Command::Configure { settings: settings(), units: vec![] }).unwrap();
    log.run(&mut s, t(T0), &sys(), &open("alert:flood:s1", "environment")).unwrap();
    (s, log)
}

#[test]
fn acknowledgement_deadline_exactly_once() {
    let (mut s, mut log) = opened();
    let id = CaseId(0);
    let due = T0 + 15 * MIN;
    assert_eq!(s.case(id, None).unwrap().ack_due, t(due));

    let events = log.run(&mut s, t(due - 1), &sys(), &Command::Tick(t(due - 1))).unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(s.case(id, None).unwrap().escalation, 0);

    let events = log.run(&mut s, t(due), &sys(), &Command::Tick(t(due))).unwrap();
    assert_eq!(
        events,
        vec![OpsEvent::Escalated {
            case: id,
            agency: agency("environment"),
            level: 1,
            notify: vec![Audience::AgencyLead(agency("environment"))],
        }]
    );
    assert_eq!(s.case(id, None).unwrap().escalation, 1);

    for later in [due, due + 1, due + 10 * MIN] {
        let events = log.run(&mut s, t(later), &sys(), &Command::Tick(t(later))).unwrap();
        assert!(events.is_empty(), "tick at {later}: {events:?}");
    }
    assert_eq!(escalations(&s, id), vec![(due, "acknowledgement deadline passed".into())]);

    // Replay from scratch, and from a snapshot taken after the escalation plus the tail.
    let replayed = log.replay();
    assert_eq!(replayed, s);
    assert_eq!(escalations(&replayed, id).len(), 1);
    let mut restored = OpsState::restore(&s.snapshot()).unwrap();
    assert_eq!(restored, s);
    let events = restored.apply(t(due + 11 * MIN), &sys(), &Command::Tick(t(due + 11 * MIN))).unwrap();
    assert!(events.is_empty());
}

#[test]
fn resolution_deadline_escalates_to_level_two_once() {
    let (mut s, mut log) = opened();
    let id = CaseId(0);
    log.run(&mut s, t(T0 + MIN), &user("an"), &act(id, Some(1), CaseAction::Acknowledge { note: None })).unwrap();
    let ack_due = T0 + 15 * MIN;
    assert!(
        log.run(&mut s, t(ack_due), &sys(), &Command::Tick(t(ack_due))).unwrap().is_empty(),
        "acknowledged in time"
    );

    let due = T0 + 4 * HOUR;
    assert!(log.run(&mut s, t(due - 1), &sys(), &Command::Tick(t(due - 1))).unwrap().is_empty());
    let events = log.run(&mut s, t(due), &sys(), &Command::Tick(t(due))).unwrap();
    assert_eq!(
        events,
        vec![OpsEvent::Escalated {
            case: id,
            agency: agency("environment"),
            level: 2,
            notify: vec![Audience::AgencyLead(agency("environment")), Audience::Leaders],
        }]
    );
    assert!(log.run(&mut s, t(due + HOUR), &sys(), &Command::Tick(t(due + HOUR))).unwrap().is_empty());
    assert_eq!(escalations(&s, id), vec![(due, "resolution deadline passed".into())]);
    assert_eq!(log.replay(), s);
}

#[test]
fn a_late_first_tick_crosses_both_deadlines_in_order() {
    let (mut s, mut log) = opened();
    let at = T0 + 5 * HOUR;
    let events = log.run(&mut s, t(at), &sys(), &Command::Tick(t(at))).unwrap();
    let levels: Vec<u8> =
        events.iter().map(|e| if let OpsEvent::Escalated { level, .. } = e { *level } else { 0 }).collect();
    assert_eq!(levels, vec![1, 2]);
    assert_eq!(s.case(CaseId(0), None).unwrap().escalation, 2);
    assert_eq!(escalations(&s, CaseId(0)).len(), 2);
}

#[test]
fn resolved_cases_do_not_escalate() {
    let (mut s, mut log) = opened();
    let id = CaseId(0);
    let steps = [
        CaseAction::Acknowledge { note: None },
        CaseAction::Assign { agency: None, assignee: Some(user("bao")), ack_within_ms: None, note: None },
        CaseAction::Start { note: None },
        CaseAction::Resolve { disposition: "drained".into() },
    ];
    for (i, a) in steps.into_iter().enumerate() {
        log.run(&mut s, t(T0 + MIN * (i as i64 + 1)), &user("an"), &act(id, None, a)).unwrap();
    }
    let at = T0 + 10 * HOUR;
    assert!(log.run(&mut s, t(at), &sys(), &Command::Tick(t(at))).unwrap().is_empty());
    assert_eq!(s.case(id, None).unwrap().escalation, 0);
}

#[test]
fn transfer_gives_the_new_agency_its_own_acknowledgement_deadline() {
    let (mut s, mut log) = opened();
    let id = CaseId(0);
    let due = T0 + 15 * MIN;
    log.run(&mut s, t(due), &sys(), &Command::Tick(t(due))).unwrap();
    assert_eq!(s.case(id, None).unwrap().escalation, 1);
    log.run(&mut s, t(due + MIN), &user("an"), &act(id, None, CaseAction::Acknowledge { note: None })).unwrap();
    let at = due + 2 * MIN;
    let transfer = CaseAction::Assign {
        agency: Some(agency("transport")),
        assignee: None,
        ack_within_ms: Some(10 * MIN),
        note: Some("road closure needed".into()),
    };
    let events = log.run(&mut s, t(at), &user("an"), &act(id, None, transfer)).unwrap();
    assert!(
        matches!(&events[0], OpsEvent::CaseChanged { previous_agency: Some(p), .. } if *p == agency("environment"))
    );
    let c = s.case(id, None).unwrap();
    assert_eq!((c.escalation, c.ack_due, c.acknowledged_at), (0, t(at + 10 * MIN), None));

    assert!(log.run(&mut s, t(at + 10 * MIN - 1), &sys(), &Command::Tick(t(at + 10 * MIN - 1))).unwrap().is_empty());
    let events = log.run(&mut s, t(at + 10 * MIN), &sys(), &Command::Tick(t(at + 10 * MIN))).unwrap();
    assert_eq!(
        events,
        vec![OpsEvent::Escalated {
            case: id,
            agency: agency("transport"),
            level: 1,
            notify: vec![Audience::AgencyLead(agency("transport"))],
        }]
    );
    assert_eq!(escalations(&s, id).len(), 2);
    assert_eq!(log.replay(), s);
}
