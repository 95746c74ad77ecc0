//! Every (state, action) pair against the lifecycle in the issue: allowed actions succeed with exactly
//! one timeline event and the expected status; the rest are refused naming the allowed actions and
//! change nothing.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod common;

use common::*;
use twin_core::Timestamp;
use twin_ops::{ActionKind, CaseAction, CaseId, CaseStatus, Command, OpsError, OpsState};

/// The fixtures: a case (id 1) in each reachable situation, next to an open case 0 to merge into.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fixture {
    New,
    Acknowledged,
    Assigned,
    /// Transferred to another agency, not yet acknowledged there.
    AssignedAwaiting,
    InProgress,
    Resolved,
    /// Resolved longer ago than the reopen window.
    ResolvedLate,
    Closed,
    Rejected,
    Merged,
}

const ALL: [Fixture; 10] = [
    Fixture::New,
    Fixture::Acknowledged,
    Fixture::Assigned,
    Fixture::AssignedAwaiting,
    Fixture::InProgress,
    Fixture::Resolved,
    Fixture::ResolvedLate,
    Fixture::Closed,
    Fixture::Rejected,
    Fixture::Merged,
];

/// Written out from the lifecycle, not from the crate's table.
fn expected_allowed(f: Fixture) -> Vec<ActionKind> {
    use ActionKind::*;
    match f {
        Fixture::New => vec![Acknowledge, Reject, Merge],
        Fixture::Acknowledged => vec![Assign, Reject, Merge],
        Fixture::Assigned => vec![Assign, Start, Reject, Merge],
        Fixture::AssignedAwaiting => vec![Acknowledge, Assign, Start, Reject, Merge],
        Fixture::InProgress => vec![Resolve, Reject, Merge],
        Fixture::Resolved => vec![Close, Reopen],
        Fixture::ResolvedLate => vec![Close],
        Fixture::Closed | Fixture::Rejected | Fixture::Merged => vec![],
    }
}

fn expected_status(f: Fixture, a: ActionKind) -> CaseStatus {
    match a {
        ActionKind::Acknowledge if f == Fixture::AssignedAwaiting => CaseStatus::Assigned,
        ActionKind::Acknowledge => CaseStatus::Acknowledged,
        ActionKind::Assign => CaseStatus::Assigned,
        ActionKind::Start | ActionKind::Reopen => CaseStatus::InProgress,
        ActionKind::Resolve => CaseStatus::Resolved,
        ActionKind::Close => CaseStatus::Closed,
        ActionKind::Reject => CaseStatus::Rejected,
        ActionKind::Merge => CaseStatus::Merged,
    }
}

fn action(a: ActionKind) -> CaseAction {
    match a {
        ActionKind::Acknowledge => CaseAction::Acknowledge { note: None },
        ActionKind::Assign => {
            CaseAction::Assign { agency: None, assignee: Some(user("bao")), ack_within_ms: None, note: None }
        }
        ActionKind::Start => CaseAction::Start { note: None },
        ActionKind::Resolve => CaseAction::Resolve { disposition: "pumped out".into() },
        ActionKind::Close => CaseAction::Close { note: None },
        ActionKind::Reopen => CaseAction::Reopen { reason: "water back".into() },
        ActionKind::Reject => CaseAction::Reject { reason: "duplicate".into() },
        ActionKind::Merge => CaseAction::Merge { into: CaseId(0) },
    }
}

/// Builds the fixture; returns the state and the time to act at.
fn build(f: Fixture) -> (OpsState, Timestamp) {
    let mut s = OpsState::default();
    let a = user("an");
    let mut at = T0;
    let mut step = |s: &mut OpsState, cmd: Command| {
        at += MIN;
        s.apply(t(at), &a, &cmd).unwrap();
    };
    step(&mut s, Command::Configure { settings: settings(), units: vec![] });
    step(&mut s, open("alert:other", "fire"));
    step(&mut s, open("alert:subject", "fire"));
    let id = CaseId(1);
    let v = |s: &OpsState| s.case(id, None).unwrap().version;
    let go = |f2: Fixture| ALL.iter().position(|x| *x == f).unwrap() >= ALL.iter().position(|x| *x == f2).unwrap();
    let chain = [
        (Fixture::Acknowledged, ActionKind::Acknowledge),
        (Fixture::Assigned, ActionKind::Assign),
        (Fixture::InProgress, ActionKind::Start),
        (Fixture::Resolved, ActionKind::Resolve),
    ];
    match f {
        Fixture::Rejected => step(&mut s, act(id, Some(1), action(ActionKind::Reject))),
        Fixture::Merged => step(&mut s, act(id, Some(1), action(ActionKind::Merge))),
        Fixture::AssignedAwaiting => {
            step(&mut s, act(id, Some(1), action(ActionKind::Acknowledge)));
            let transfer =
                CaseAction::Assign { agency: Some(agency("police")), assignee: None, ack_within_ms: None, note: None };
            step(&mut s, act(id, Some(2), transfer));
        }
        _ => {
            for (stage, a) in chain {
                // ResolvedLate and Closed pass through Resolved too.
                if go(stage) && !(stage == Fixture::Assigned && f == Fixture::AssignedAwaiting) {
                    let ver = v(&s);
                    step(&mut s, act(id, Some(ver), action(a)));
                }
            }
            if f == Fixture::Closed {
                let ver = v(&s);
                step(&mut s, act(id, Some(ver), action(ActionKind::Close)));
            }
        }
    }
    if f == Fixture::ResolvedLate {
        at += HOUR + 1; // one millisecond past the one-hour window
    }
    assert_eq!(s.case(id, None).unwrap().status, status_of(f), "fixture {f:?}");
    (s, t(at + MIN))
}

fn status_of(f: Fixture) -> CaseStatus {
    match f {
        Fixture::New => CaseStatus::New,
        Fixture::Acknowledged => CaseStatus::Acknowledged,
        Fixture::Assigned | Fixture::AssignedAwaiting => CaseStatus::Assigned,
        Fixture::InProgress => CaseStatus::InProgress,
        Fixture::Resolved | Fixture::ResolvedLate => CaseStatus::Resolved,
        Fixture::Closed => CaseStatus::Closed,
        Fixture::Rejected => CaseStatus::Rejected,
        Fixture::Merged => CaseStatus::Merged,
    }
}

#[test]
fn every_state_action_pair() {
    let id = CaseId(1);
    let mut allowed_seen = 0;
    for f in ALL {
        let (state, at) = build(f);
        let allowed = expected_allowed(f);
        for &a in ActionKind::ALL {
            let mut s = state.clone();
            let before = s.case(id, None).unwrap().clone();
            let len = s.timeline(id, None).unwrap().len();
            let result = s.apply(at, &user("chi"), &act(id, Some(before.version), action(a)));
            if allowed.contains(&a) {
                allowed_seen += 1;
                assert!(result.is_ok(), "{f:?} {a}: {result:?}");
                let after = s.case(id, None).unwrap();
                assert_eq!(after.status, expected_status(f, a), "{f:?} {a}");
                assert_eq!(after.version, before.version + 1, "{f:?} {a}");
                let tl = s.timeline(id, None).unwrap();
                assert_eq!(tl.len(), len + 1, "{f:?} {a}: exactly one event");
                assert_eq!(tl[len].to, after.status);
                assert_eq!(tl[len].from, Some(before.status));
                s.check_invariants().unwrap();
                s.verify_chain().unwrap();
            } else {
                match result {
                    Err(OpsError::IllegalAction { case, status, action, allowed: named }) => {
                        assert_eq!((case, status, action), (id, before.status, a));
                        assert_eq!(named, allowed, "{f:?} {a}: the allowed actions");
                    }
                    other => panic!("{f:?} {a}: expected IllegalAction, got {other:?}"),
                }
                assert_eq!(s, state, "{f:?} {a}: a refused action changed the state");
            }
        }
    }
    // 3 + 3 + 4 + 5 + 3 + 2 + 1 allowed pairs.
    assert_eq!(allowed_seen, 21);
}

#[test]
fn stale_version_is_a_precondition_failure_before_anything_else() {
    let (state, at) = build(Fixture::Acknowledged);
    let id = CaseId(1);
    let v = state.case(id, None).unwrap().version;
    for a in [ActionKind::Assign, ActionKind::Close] {
        let mut s = state.clone();
        let err = s.apply(at, &user("chi"), &act(id, Some(v - 1), action(a))).unwrap_err();
        assert_eq!(err, OpsError::VersionMismatch { case: id, expected: v - 1, actual: v });
        assert_eq!(s, state);
    }
    let mut s = state.clone();
    assert_eq!(
        s.apply(at, &user("chi"), &act(CaseId(9), None, action(ActionKind::Close))),
        Err(OpsError::CaseNotFound(CaseId(9)))
    );
}

#[test]
fn merge_needs_another_open_case() {
    let (state, at) = build(Fixture::New);
    let mut s = state.clone();
    let into_self = act(CaseId(1), None, CaseAction::Merge { into: CaseId(1) });
    assert_eq!(s.apply(at, &sys(), &into_self), Err(OpsError::MergeIntoSelf(CaseId(1))));
    // Case 0 rejected: no longer a valid survivor.
    s.apply(at, &sys(), &act(CaseId(0), None, CaseAction::Reject { reason: "noise".into() })).unwrap();
    let before = s.clone();
    let err = s.apply(at, &sys(), &act(CaseId(1), None, CaseAction::Merge { into: CaseId(0) })).unwrap_err();
    assert_eq!(err, OpsError::CaseNotOpen { case: CaseId(0), status: CaseStatus::Rejected });
    assert_eq!(s, before);
    let err = s.apply(at, &sys(), &act(CaseId(1), None, CaseAction::Merge { into: CaseId(5) })).unwrap_err();
    assert_eq!(err, OpsError::CaseNotFound(CaseId(5)));
}

#[test]
fn merge_moves_the_episode_to_the_survivor() {
    let (mut s, at) = build(Fixture::InProgress);
    s.apply(at, &sys(), &act(CaseId(1), None, CaseAction::Merge { into: CaseId(0) })).unwrap();
    let survivor = s.case(CaseId(0), None).unwrap();
    assert_eq!(survivor.keys, vec!["alert:other".to_string(), "alert:subject".to_string()]);
    assert_eq!(s.timeline(CaseId(0), None).unwrap().last().unwrap().action, twin_ops::TimelineAction::Absorb);
    // A repeat of the merged case's episode now lands on the survivor.
    let events = s.apply(at, &sys(), &open("alert:subject", "fire")).unwrap();
    assert!(matches!(events[..], [twin_ops::OpsEvent::CaseRepeated { case: CaseId(0), repeats: 1, .. }]), "{events:?}");
    assert_eq!(s.case(CaseId(1), None).unwrap().merged_into, Some(CaseId(0)));
    s.check_invariants().unwrap();
}

#[test]
fn transfer_changes_the_agency_and_resets_the_acknowledgement() {
    let (s, at) = build(Fixture::AssignedAwaiting);
    let c = s.case(CaseId(1), None).unwrap();
    assert_eq!(c.agency, agency("police"));
    assert_eq!(c.acknowledged_at, None);
    // Transferred one minute before `at`, with the default 15-minute transfer deadline.
    assert_eq!(c.ack_due, t(at.0 - MIN + 15 * MIN));
    let last = s.timeline(CaseId(1), None).unwrap().last().unwrap();
    assert_eq!(last.action, twin_ops::TimelineAction::Transfer);
    assert_eq!(last.agency, agency("police"));
    assert_eq!(last.note.as_deref(), Some("transfer from fire"));
    // Starting work counts as acknowledgement by the new agency.
    let mut s2 = s.clone();
    s2.apply(at, &user("dung"), &act(CaseId(1), None, action(ActionKind::Start))).unwrap();
    assert_eq!(s2.case(CaseId(1), None).unwrap().acknowledged_at, Some(at));
}

#[test]
fn reopen_window_edge() {
    let (s, _) = build(Fixture::Resolved);
    let resolved_at = s.case(CaseId(1), None).unwrap().resolved_at.unwrap();
    let reopen = act(CaseId(1), None, action(ActionKind::Reopen));
    let mut inside = s.clone();
    inside.apply(t(resolved_at.0 + HOUR), &sys(), &reopen).unwrap();
    assert_eq!(inside.case(CaseId(1), None).unwrap().status, CaseStatus::InProgress);
    assert_eq!(inside.case(CaseId(1), None).unwrap().disposition, None);
    let mut outside = s.clone();
    let err = outside.apply(t(resolved_at.0 + HOUR + 1), &sys(), &reopen).unwrap_err();
    assert!(matches!(err, OpsError::IllegalAction { ref allowed, .. } if *allowed == vec![ActionKind::Close]), "{err}");
}
