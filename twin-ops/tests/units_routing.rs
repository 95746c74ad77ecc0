//! Units, routing from TOML config, episodes, visibility, the public status, per-case bounds, and
//! the hash chain against an independently computed SHA-256.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod common;

use common::*;
use twin_core::{Position, Severity};
use twin_ops::limits::*;
use twin_ops::timeline::{event_hash, genesis, verify_chain};
use twin_ops::{
    Attachment, AttachmentKind, CaseAction, CaseId, CaseQuery, CaseStatus, Command, Incoming, OpsConfig, OpsError,
    OpsEvent, OpsState, Priority, PublicStatus, RoutingTable, Source, TimelineAction, UnitId, UnitKind, UnitStatus,
};

const CONFIG: &str = r#"
[ops]
reopen_window = "2d"
transfer_ack_within = "10m"
arrival_radius_m = 100

[[routing]]
rule = "flood-level-high"
agency = "environment"
priority = "high"
ack_within = "15m"
resolve_within = "4h"

[[routing]]
category = "pothole"
communes = ["20194"]
agency = "transport-hai-chau"
ack_within = "1d"
resolve_within = "7d"

[[routing]]
category = "pothole"
agency = "transport"
priority = "low"
ack_within = "1d"
resolve_within = "1h30m"

[[routing]]
alarm_code = "fire"
agency = "fire"
priority = "urgent"
ack_within = "1m"
resolve_within = "2h"
case_category = "building_fire"

[[units]]
id = "amb-01"
agency = "health"
kind = "ambulance"
capabilities = ["als"]
home = { lon = 108.2102, lat = 16.0592 }
tracked_entity = "veh-amb-01"

[[units]]
id = "ft-01"
agency = "fire"
kind = "fire_truck"
home = { lon = 108.2200, lat = 16.0700 }
tracked_entity = "veh-ft-01"
"#;

fn config() -> OpsConfig {
    toml::from_str(CONFIG).unwrap()
}

fn configured() -> (OpsState, RoutingTable) {
    let cfg = config();
    let mut s = OpsState::default();
    let cmd = s.configure_command(&cfg.ops, &cfg.units).expect("differs from the empty state");
    s.apply(t(T0), &sys(), &cmd).unwrap();
    assert_eq!(s.configure_command(&cfg.ops, &cfg.units), None, "nothing to log once applied");
    (s, RoutingTable::new(cfg.routing).unwrap())
}

#[test]
fn config_sections_parse() {
    let cfg = config();
    assert_eq!(cfg.ops.reopen_window.as_millis(), 2 * 86_400_000);
    assert_eq!(cfg.ops.transfer_ack_within.as_millis(), 10 * MIN);
    assert_eq!(cfg.ops.arrival_radius_m, 100.0);
    assert_eq!(cfg.routing[2].resolve_within.as_millis(), 90 * MIN);
    assert_eq!(cfg.routing[1].priority, Priority::Normal, "default priority");
    assert_eq!(cfg.units[0].kind, UnitKind::Ambulance);
    assert_eq!(cfg.units[1].home, Position::new(108.22, 16.07));
    for bad in ["ack_within = \"15\"", "ack_within = \"m\"", "ack_within = \"0s\"", "ack_within = \"400d\""] {
        let text = format!("category = \"x\"\nagency = \"a\"\nresolve_within = \"1h\"\n{bad}");
        assert!(toml::from_str::<twin_ops::RoutingRule>(&text).is_err(), "{bad}");
    }
    let no_match =
        toml::from_str::<twin_ops::RoutingRule>("agency = \"a\"\nack_within = \"1m\"\nresolve_within = \"1h\"")
            .unwrap();
    assert!(matches!(RoutingTable::new(vec![no_match]), Err(OpsError::Invalid { field: "routing", .. })));
}

#[test]
fn routing_first_match_and_episodes() {
    let (mut s, table) = configured();
    let mut alert =
        Incoming::rule_alert("flood-level-high", "threshold_above", "sensor-7", Severity::Severe, "water 1.2 m");
    alert.location = Some(Position::new(108.2208, 16.0678));
    let Some(Command::OpenCase(o)) = table.route(&alert) else { panic!("routed") };
    assert_eq!(
        (o.agency.as_str(), o.priority, o.ack_within_ms, o.resolve_within_ms),
        ("environment", Priority::High, 15 * MIN, 4 * HOUR)
    );
    assert_eq!(
        (o.key.as_str(), o.category.as_str(), o.source),
        ("alert:flood-level-high:sensor-7", "threshold_above", Source::RuleAlert)
    );

    let cmd = table.route(&alert).unwrap();
    assert!(matches!(s.apply(t(T0), &sys(), &cmd).unwrap()[..], [OpsEvent::CaseOpened { case: CaseId(0), .. }]));
    // The same episode repeats onto the open case; another entity opens its own.
    assert!(matches!(
        s.apply(t(T0 + 1), &sys(), &cmd).unwrap()[..],
        [OpsEvent::CaseRepeated { case: CaseId(0), repeats: 1, .. }]
    ));
    let other = Incoming::rule_alert("flood-level-high", "threshold_above", "sensor-8", Severity::Severe, "x");
    assert!(matches!(
        s.apply(t(T0 + 2), &sys(), &table.route(&other).unwrap()).unwrap()[..],
        [OpsEvent::CaseOpened { case: CaseId(1), .. }]
    ));

    // Ward-specific rule first, then the city-wide one; no rule, no case.
    let mut report = Incoming::citizen_report("r-1", "pothole", "hole on Bạch Đằng");
    report.commune = Some("20194".into());
    assert!(matches!(table.route(&report), Some(Command::OpenCase(o)) if o.agency.as_str() == "transport-hai-chau"));
    report.commune = Some("20200".into());
    assert!(
        matches!(table.route(&report), Some(Command::OpenCase(o)) if o.agency.as_str() == "transport" && o.key == "report:r-1")
    );
    assert!(table.route(&Incoming::citizen_report("r-2", "noise", "karaoke")).is_none());
    let alarm = Incoming::fire_alarm("panel-3", "fire", "smoke floor 4");
    assert!(
        matches!(table.route(&alarm), Some(Command::OpenCase(o)) if o.category == "building_fire" && o.priority == Priority::Urgent)
    );
}

#[test]
fn a_closed_episode_opens_a_new_case_and_a_reopened_case_does_not_steal_it() {
    let mut s = OpsState::default();
    s.apply(t(T0), &sys(), &Command::Configure { settings: settings(), units: vec![] }).unwrap();
    s.apply(t(T0), &sys(), &open("alert:k", "fire")).unwrap();
    let steps = [
        CaseAction::Acknowledge { note: None },
        CaseAction::Assign { agency: None, assignee: None, ack_within_ms: None, note: None },
        CaseAction::Start { note: None },
        CaseAction::Resolve { disposition: "ok".into() },
    ];
    for a in steps {
        s.apply(t(T0 + 1), &user("an"), &act(CaseId(0), None, a)).unwrap();
    }
    assert!(matches!(
        s.apply(t(T0 + 2), &sys(), &open("alert:k", "fire")).unwrap()[..],
        [OpsEvent::CaseOpened { case: CaseId(1), .. }]
    ));
    s.apply(t(T0 + 3), &user("an"), &act(CaseId(0), None, CaseAction::Reopen { reason: "back".into() })).unwrap();
    assert!(s.case(CaseId(0), None).unwrap().keys.is_empty());
    assert!(matches!(
        s.apply(t(T0 + 4), &sys(), &open("alert:k", "fire")).unwrap()[..],
        [OpsEvent::CaseRepeated { case: CaseId(1), .. }]
    ));
    s.check_invariants().unwrap();
}

#[test]
fn units_dispatch_arrive_and_return() {
    let (mut s, _) = configured();
    let mut o = open("alarm:p:fire", "fire");
    if let Command::OpenCase(x) = &mut o {
        x.location = Some(Position::new(108.2208, 16.0678));
    }
    s.apply(t(T0), &sys(), &o).unwrap();
    let ft = UnitId("ft-01".into());
    let amb = UnitId("amb-01".into());
    let case = CaseId(0);

    // Illegal transitions name the allowed ones.
    let err = s
        .apply(t(T0), &sys(), &Command::UnitStatus { unit: ft.clone(), to: UnitStatus::OnScene, note: None })
        .unwrap_err();
    assert_eq!(
        err,
        OpsError::IllegalUnitTransition {
            unit: ft.clone(),
            from: UnitStatus::Available,
            to: UnitStatus::OnScene,
            allowed: vec![UnitStatus::OutOfService]
        }
    );
    // Another agency's unit needs the explicit flag.
    let dispatch = |unit: &UnitId, allow: bool| Command::Dispatch {
        unit: unit.clone(),
        case,
        expected_version: None,
        allow_other_agency: allow,
    };
    assert!(matches!(s.apply(t(T0), &sys(), &dispatch(&amb, false)), Err(OpsError::UnitAgencyMismatch { .. })));
    s.apply(t(T0 + 1), &user("an"), &dispatch(&ft, false)).unwrap();
    assert!(matches!(
        s.apply(t(T0 + 1), &sys(), &dispatch(&ft, false)),
        Err(OpsError::UnitUnavailable { status: UnitStatus::Dispatched, .. })
    ));
    assert_eq!(s.timeline(case, None).unwrap().last().unwrap().action, TimelineAction::Dispatch);
    assert_eq!(s.case(case, None).unwrap().units, vec![ft.clone()]);

    // 0.001° of latitude is about 111 m: outside a 100 m radius; 0.0008° (about 89 m) inside.
    assert_eq!(s.on_unit_position("veh-ft-01", Position::new(108.2208, 16.0688)), None);
    assert_eq!(s.on_unit_position("veh-unknown", Position::new(108.2208, 16.0678)), None);
    let arrive = s.on_unit_position("veh-ft-01", Position::new(108.2208, 16.0686)).expect("inside the radius");
    assert_eq!(
        arrive,
        Command::UnitStatus {
            unit: ft.clone(),
            to: UnitStatus::OnScene,
            note: Some("arrived: position within the arrival radius".into())
        }
    );
    s.apply(t(T0 + 2), &sys(), &arrive).unwrap();
    assert_eq!(s.on_unit_position("veh-ft-01", Position::new(108.2208, 16.0678)), None, "already on scene");

    for to in [UnitStatus::Returning, UnitStatus::Available] {
        s.apply(t(T0 + 3), &sys(), &Command::UnitStatus { unit: ft.clone(), to, note: None }).unwrap();
    }
    let u = s.unit(&ft, None).unwrap();
    assert_eq!((u.status, u.case, u.since), (UnitStatus::Available, None, t(T0 + 3)));

    // Mutual aid: the ambulance with the flag, through transport to hospital.
    s.apply(t(T0 + 4), &sys(), &dispatch(&amb, true)).unwrap();
    for to in [
        UnitStatus::EnRoute,
        UnitStatus::OnScene,
        UnitStatus::Transporting,
        UnitStatus::AtHospital,
        UnitStatus::Returning,
        UnitStatus::Available,
        UnitStatus::OutOfService,
    ] {
        s.apply(t(T0 + 5), &sys(), &Command::UnitStatus { unit: amb.clone(), to, note: None }).unwrap();
    }
    assert!(matches!(
        s.apply(t(T0 + 6), &sys(), &dispatch(&amb, true)),
        Err(OpsError::UnitUnavailable { status: UnitStatus::OutOfService, .. })
    ));
    s.check_invariants().unwrap();

    // Dropping a unit from the config retires it: it can no longer be dispatched.
    let cfg = config();
    let fewer = vec![cfg.units[0].clone()];
    let cmd = s.configure_command(&cfg.ops, &fewer).unwrap();
    assert!(
        matches!(&s.apply(t(T0 + 7), &sys(), &cmd).unwrap()[..], [OpsEvent::Configured { retired, .. }] if *retired == vec![ft.clone()])
    );
    assert!(matches!(
        s.apply(t(T0 + 8), &sys(), &dispatch(&ft, false)),
        Err(OpsError::UnitUnavailable { retired: true, .. })
    ));
}

#[test]
fn another_agency_case_is_not_found() {
    let mut s = OpsState::default();
    s.apply(t(T0), &sys(), &open("alert:a", "fire")).unwrap();
    s.apply(t(T0), &sys(), &open("alert:b", "police")).unwrap();
    let fire = agency("fire");
    assert!(s.case(CaseId(0), Some(&fire)).is_some());
    assert!(s.case(CaseId(1), Some(&fire)).is_none());
    assert!(s.timeline(CaseId(1), Some(&fire)).is_none());
    assert!(s.case(CaseId(1), None).is_some(), "the operations centre sees all");
    let q = CaseQuery::default();
    assert_eq!(s.cases(&q, Some(&fire)).map(|c| c.id).collect::<Vec<_>>(), vec![CaseId(0)]);
    assert_eq!(s.cases(&q, None).count(), 2);
    let by_agency = CaseQuery { agency: Some(agency("police")), ..CaseQuery::default() };
    assert_eq!(s.cases(&by_agency, None).map(|c| c.id).collect::<Vec<_>>(), vec![CaseId(1)]);
    assert_eq!(s.cases(&by_agency, Some(&fire)).count(), 0);
    let bbox = |a, b, c, d| CaseQuery { bbox: Some(twin_core::BBox::new(a, b, c, d).unwrap()), ..CaseQuery::default() };
    assert_eq!(s.cases(&bbox(108.2, 16.0, 108.3, 16.1), None).count(), 2);
    assert_eq!(s.cases(&bbox(108.0, 15.0, 108.1, 15.1), None).count(), 0);
    let statuses = CaseQuery { statuses: vec![CaseStatus::Acknowledged], ..CaseQuery::default() };
    assert_eq!(s.cases(&statuses, None).count(), 0);
}

#[test]
fn public_status_and_expected_datetime() {
    let mut s = OpsState::default();
    s.apply(t(T0), &sys(), &open("report:r-9", "transport")).unwrap();
    let c = s.case(CaseId(0), None).unwrap();
    assert_eq!((c.public_status(), c.expected_datetime()), (PublicStatus::Open, Some(t(T0 + 4 * HOUR))));
    s.apply(t(T0 + 1), &sys(), &act(CaseId(0), None, CaseAction::Reject { reason: "not ours".into() })).unwrap();
    let c = s.case(CaseId(0), None).unwrap();
    assert_eq!((c.public_status(), c.expected_datetime()), (PublicStatus::Closed, None));
}

#[test]
fn hash_chain_matches_an_independent_sha256() {
    // Expected values computed outside Rust (Python hashlib) from the encoding in the module docs.
    assert_eq!(genesis(CaseId(0)).to_string(), "ec558aafd0b07bf7d33c342b81dd6ed70f1cf4f76989181bcfc9d0ac74a37846");
    assert_eq!(genesis(CaseId(7)).to_string(), "1f46792de9d90c12895c118de1673148a61a633352d4b95a9b98da78fe2e1a53");
    let mut s = OpsState::default();
    s.apply(t(1000), &sys(), &open("alert:a", "fire")).unwrap();
    s.apply(t(2000), &user("an"), &act(CaseId(0), None, CaseAction::Acknowledge { note: Some("on it".into()) }))
        .unwrap();
    let tl = s.timeline(CaseId(0), None).unwrap();
    assert_eq!(tl[0].hash.to_string(), "7829680e775e05b17f03994fc05c7a5fef4105bc92147493f143c16d6212d50d");
    assert_eq!(tl[1].hash.to_string(), "fb8c0ebaac63f291a18c1ea70c90597b14d6a292b7a9e16b550071dea37c7baf");
    assert_eq!(event_hash(CaseId(0), &tl[1]), tl[1].hash);

    let mut edited = tl.to_vec();
    edited[0].actor = user("mallory");
    assert!(matches!(verify_chain(CaseId(0), &edited), Err(twin_ops::ChainError::Hash { seq: 1, .. })));
    let mut dropped = tl.to_vec();
    dropped.remove(0);
    assert!(verify_chain(CaseId(0), &dropped).is_err());
    assert!(matches!(verify_chain(CaseId(1), tl), Err(twin_ops::ChainError::Link { seq: 1, .. })), "bound to its case");
}

#[test]
fn per_case_bounds() {
    let mut s = OpsState::default();
    // Repeats beyond the logged bound only count.
    s.apply(t(T0), &sys(), &open("alert:flap", "fire")).unwrap();
    for i in 0..(MAX_LOGGED_REPEATS + 50) {
        s.apply(t(T0 + i as i64), &sys(), &open("alert:flap", "fire")).unwrap();
    }
    let c = s.case(CaseId(0), None).unwrap();
    assert_eq!(c.repeats, MAX_LOGGED_REPEATS + 50);
    assert_eq!(s.timeline(CaseId(0), None).unwrap().len() as u64, 1 + MAX_LOGGED_REPEATS);

    // Attachments per case.
    let attach = |from: usize, n: usize| Command::Attach {
        case: CaseId(0),
        expected_version: None,
        attachments: (from..from + n)
            .map(|i| Attachment { kind: AttachmentKind::ReportPhoto, reference: format!("p{i}") })
            .collect(),
    };
    for k in 0..4 {
        s.apply(t(T0), &user("an"), &attach(k * 16, 16)).unwrap();
    }
    assert_eq!(s.case(CaseId(0), None).unwrap().attachments.len(), MAX_ATTACHMENTS_PER_CASE);
    assert!(matches!(
        s.apply(t(T0), &user("an"), &attach(100, 1)),
        Err(OpsError::TooMany { limit: MAX_ATTACHMENTS_PER_CASE, .. })
    ));

    // People's actions stop at the timeline bound (re-attaching known references still logs).
    while s.timeline(CaseId(0), None).unwrap().len() < USER_TIMELINE_LIMIT {
        s.apply(t(T0), &user("an"), &attach(0, 1)).unwrap();
    }
    assert_eq!(s.apply(t(T0), &user("an"), &attach(0, 1)), Err(OpsError::TimelineFull(CaseId(0))));
    let ack = act(CaseId(0), None, CaseAction::Acknowledge { note: None });
    assert_eq!(s.apply(t(T0), &user("an"), &ack), Err(OpsError::TimelineFull(CaseId(0))));
    // The system's escalations still land.
    s.apply(t(T0 + 5 * HOUR), &sys(), &Command::Tick(t(T0 + 5 * HOUR))).unwrap();
    assert_eq!(s.timeline(CaseId(0), None).unwrap().len(), USER_TIMELINE_LIMIT + 2);
    s.check_invariants().unwrap();

    // Episode keys on a survivor of many merges.
    let mut s = OpsState::default();
    s.apply(t(T0), &sys(), &open("alert:survivor", "fire")).unwrap();
    for i in 1..=(MAX_KEYS_PER_CASE as u64 + 5) {
        s.apply(t(T0), &sys(), &open(&format!("alert:m{i}"), "fire")).unwrap();
        s.apply(t(T0), &sys(), &act(CaseId(i), None, CaseAction::Merge { into: CaseId(0) })).unwrap();
    }
    assert_eq!(s.case(CaseId(0), None).unwrap().keys.len(), MAX_KEYS_PER_CASE);
    s.check_invariants().unwrap();

    // Units per case.
    let specs: Vec<_> = (0..=MAX_UNITS_PER_CASE)
        .map(|i| unit_spec(&format!("u{i}"), "fire", UnitKind::FireTruck, &format!("v{i}")))
        .collect();
    s.apply(t(T0), &sys(), &Command::Configure { settings: settings(), units: specs }).unwrap();
    for i in 0..MAX_UNITS_PER_CASE {
        let d = Command::Dispatch {
            unit: UnitId(format!("u{i}")),
            case: CaseId(0),
            expected_version: None,
            allow_other_agency: false,
        };
        s.apply(t(T0), &sys(), &d).unwrap();
    }
    let d = Command::Dispatch {
        unit: UnitId(format!("u{MAX_UNITS_PER_CASE}")),
        case: CaseId(0),
        expected_version: None,
        allow_other_agency: false,
    };
    assert!(matches!(s.apply(t(T0), &sys(), &d), Err(OpsError::TooMany { limit: MAX_UNITS_PER_CASE, .. })));
}

#[test]
fn closed_cases_take_no_attachments_or_units() {
    let (mut s, _) = configured();
    s.apply(t(T0), &sys(), &open("alarm:p:fire", "fire")).unwrap();
    s.apply(t(T0), &sys(), &act(CaseId(0), None, CaseAction::Reject { reason: "test alarm".into() })).unwrap();
    let before = s.clone();
    let attach = Command::Attach {
        case: CaseId(0),
        expected_version: None,
        attachments: vec![Attachment { kind: AttachmentKind::Alert, reference: "42".into() }],
    };
    let closed = OpsError::CaseNotOpen { case: CaseId(0), status: CaseStatus::Rejected };
    assert_eq!(s.apply(t(T0), &sys(), &attach), Err(closed.clone()));
    let dispatch = Command::Dispatch {
        unit: UnitId("ft-01".into()),
        case: CaseId(0),
        expected_version: None,
        allow_other_agency: false,
    };
    assert_eq!(s.apply(t(T0), &sys(), &dispatch), Err(closed));
    let stale = Command::Attach {
        case: CaseId(0),
        expected_version: Some(1),
        attachments: vec![Attachment { kind: AttachmentKind::Alert, reference: "42".into() }],
    };
    assert!(matches!(s.apply(t(T0), &sys(), &stale), Err(OpsError::VersionMismatch { expected: 1, actual: 2, .. })));
    assert_eq!(s, before);
}
