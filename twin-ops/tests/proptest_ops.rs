//! Random command sequences: every reachable state keeps the invariants, refused commands change
//! nothing, and replaying the logged commands (from scratch, or from a snapshot plus the tail)
//! rebuilds the same cases, units and hash chains.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod common;

use common::*;
use proptest::prelude::*;
use twin_core::Position;
use twin_ops::{
    ActionKind, Attachment, AttachmentKind, CaseAction, CaseId, Command, OpsState, UnitId, UnitKind, UnitStatus,
};

#[derive(Debug, Clone)]
enum Op {
    Open { key: u8, agency: u8 },
    Act { case: u8, action: u8, transfer: bool, stale: bool },
    Tick,
    Dispatch { unit: u8, case: u8, other: bool },
    UnitTo { unit: u8, to: u8 },
    Position { unit: u8, near: bool },
    Attach { case: u8, reference: u8 },
    Reconfigure { drop_last: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..6, 0u8..2).prop_map(|(key, agency)| Op::Open { key, agency }),
        8 => (0u8..6, 0u8..16, any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(case, action, transfer, stale)| Op::Act { case, action, transfer, stale }),
        2 => Just(Op::Tick),
        2 => (0u8..3, 0u8..8, any::<bool>()).prop_map(|(unit, case, other)| Op::Dispatch { unit, case, other }),
        2 => (0u8..3, 0u8..8).prop_map(|(unit, to)| Op::UnitTo { unit, to }),
        1 => (0u8..3, any::<bool>()).prop_map(|(unit, near)| Op::Position { unit, near }),
        1 => (0u8..8, 0u8..4).prop_map(|(case, reference)| Op::Attach { case, reference }),
        1 => any::<bool>().prop_map(|drop_last| Op::Reconfigure { drop_last }),
    ]
}

const AGENCIES: [&str; 2] = ["fire", "police"];

fn units(drop_last: bool) -> Vec<twin_ops::UnitSpec> {
    let mut u = vec![
        unit_spec("fire-1", "fire", UnitKind::FireTruck, "veh-f1"),
        unit_spec("fire-2", "fire", UnitKind::FireTruck, "veh-f2"),
        unit_spec("pol-1", "police", UnitKind::PoliceUnit, "veh-p1"),
    ];
    if drop_last {
        u.pop();
    }
    u
}

fn unit_id(i: u8) -> UnitId {
    UnitId(["fire-1", "fire-2", "pol-1"][usize::from(i % 3)].into())
}

fn command_for(s: &OpsState, op: &Op, at: twin_core::Timestamp) -> Option<Command> {
    let case = |c: u8| CaseId(u64::from(c));
    let version = |c: u8| s.case(case(c), None).map_or(0, |c| c.version);
    Some(match op {
        Op::Open { key, agency: a } => open(&format!("alert:r:{key}"), AGENCIES[usize::from(*a)]),
        Op::Act { case: c, action, transfer, stale } => {
            // Mostly the case's forward action (so sequences get deep), sometimes any allowed one,
            // sometimes anything at all (mostly refused).
            let allowed = s.case(case(*c), None).map(|x| x.allowed_actions(at, s.settings())).unwrap_or_default();
            let kind = match (*action, allowed.first()) {
                (0..=7, Some(_)) => {
                    use ActionKind::*;
                    let forward = [Start, Resolve, Acknowledge, Assign, Close, Reopen];
                    forward.into_iter().find(|k| allowed.contains(k)).unwrap_or(allowed[0])
                }
                (8..=11, Some(_)) => allowed[usize::from(*action) % allowed.len()],
                _ => ActionKind::ALL[usize::from(*action) % ActionKind::ALL.len()],
            };
            let a = match kind {
                ActionKind::Acknowledge => CaseAction::Acknowledge { note: None },
                ActionKind::Assign => CaseAction::Assign {
                    agency: transfer.then(|| agency(AGENCIES[usize::from(*c) % 2])),
                    assignee: Some(user("x")),
                    ack_within_ms: None,
                    note: None,
                },
                ActionKind::Start => CaseAction::Start { note: Some("on the way".into()) },
                ActionKind::Resolve => CaseAction::Resolve { disposition: "done".into() },
                ActionKind::Close => CaseAction::Close { note: None },
                ActionKind::Reopen => CaseAction::Reopen { reason: "again".into() },
                ActionKind::Reject => CaseAction::Reject { reason: "noise".into() },
                ActionKind::Merge => CaseAction::Merge { into: case((*c + 1) % 8) },
            };
            act(case(*c), Some(version(*c) + u64::from(*stale)), a)
        }
        Op::Tick => return None, // built by the caller with the current time
        Op::Dispatch { unit, case: c, other } => Command::Dispatch {
            unit: unit_id(*unit),
            case: case(*c),
            expected_version: None,
            allow_other_agency: *other,
        },
        Op::UnitTo { unit, to } => Command::UnitStatus {
            unit: unit_id(*unit),
            to: UnitStatus::ALL[usize::from(*to) % UnitStatus::ALL.len()],
            note: None,
        },
        Op::Position { unit, near } => {
            let p = if *near { Position::new(108.2209, 16.0679) } else { Position::new(108.3, 16.1) };
            let tracked = ["veh-f1", "veh-f2", "veh-p1"][usize::from(*unit % 3)];
            return s.on_unit_position(tracked, p);
        }
        Op::Attach { case: c, reference } => Command::Attach {
            case: case(*c),
            expected_version: None,
            attachments: vec![Attachment {
                kind: AttachmentKind::ReportPhoto,
                reference: format!("photo-{reference}"),
            }],
        },
        Op::Reconfigure { drop_last } => Command::Configure { settings: settings(), units: units(*drop_last) },
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replay_and_snapshot_rebuild_the_same_state(
        ops in prop::collection::vec((op(), 0i64..20 * MIN), 1..160),
        cut in 0usize..160,
    ) {
        let mut s = OpsState::default();
        let mut log = Log::default();
        let mut at = T0;
        log.run(&mut s, t(at), &sys(), &Command::Configure { settings: settings(), units: units(false) }).unwrap();
        let mut snapshot = None;
        for (i, (op, advance)) in ops.iter().enumerate() {
            at += advance;
            if i == cut.min(ops.len() - 1) {
                snapshot = Some((s.snapshot(), log.records.len()));
            }
            let cmd = match op {
                Op::Tick => Some(Command::Tick(t(at))),
                _ => command_for(&s, op, t(at)),
            };
            if let Some(cmd) = cmd {
                let actor = if matches!(cmd, Command::Tick(_)) { sys() } else { user("op") };
                // Accepted or refused, `Log::run` asserts a refusal changed nothing.
                let _ = log.run(&mut s, t(at), &actor, &cmd);
            }
            if let Err(e) = s.check_invariants() {
                return Err(TestCaseError::fail(format!("after {op:?}: {e}")));
            }
        }
        prop_assert!(s.verify_chain().is_ok());

        let replayed = log.replay();
        prop_assert_eq!(&replayed, &s);

        let (bytes, from) = snapshot.unwrap();
        let restored = OpsState::restore(&bytes).unwrap();
        prop_assert_eq!(log.replay_onto(restored, from), s.clone());

        let again = OpsState::restore(&s.snapshot()).unwrap();
        prop_assert_eq!(again, s);
    }
}
