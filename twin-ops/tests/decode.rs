//! Logged payloads and snapshots from outside: malformed, oversized or out-of-bounds input errors,
//! never panics; every limit has a test.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

mod common;

use common::*;
use proptest::prelude::*;
use twin_core::Position;
use twin_ops::limits::*;
use twin_ops::{
    decode, encode, Attachment, AttachmentKind, CaseAction, CaseId, Command, DecodeError, OpsError, OpsState,
    RoutingRule, RoutingTable, UnitKind, VERSION,
};

fn open_with(f: impl FnOnce(&mut twin_ops::OpenCase)) -> Command {
    let Command::OpenCase(mut o) = open("alert:x", "fire") else { unreachable!() };
    f(&mut o);
    Command::OpenCase(o)
}

#[test]
fn round_trip_of_each_command_kind() {
    let cmds = vec![
        Command::Configure { settings: settings(), units: vec![unit_spec("a-1", "health", UnitKind::Ambulance, "v1")] },
        open("alert:x", "fire"),
        act(CaseId(3), Some(2), CaseAction::Merge { into: CaseId(1) }),
        act(
            CaseId(3),
            None,
            CaseAction::Assign {
                agency: Some(agency("police")),
                assignee: None,
                ack_within_ms: Some(60_000),
                note: None,
            },
        ),
        Command::Attach {
            case: CaseId(1),
            expected_version: Some(4),
            attachments: vec![Attachment { kind: AttachmentKind::CameraEvidence, reference: "cam-7/123".into() }],
        },
        Command::Dispatch {
            unit: twin_ops::UnitId("a-1".into()),
            case: CaseId(1),
            expected_version: None,
            allow_other_agency: true,
        },
        Command::UnitStatus { unit: twin_ops::UnitId("a-1".into()), to: twin_ops::UnitStatus::EnRoute, note: None },
        Command::Tick(t(T0)),
    ];
    for c in cmds {
        assert_eq!(decode(VERSION, &encode(&c)).unwrap(), c);
    }
}

#[test]
fn the_payload_format_is_plain_json() {
    // Written by hand: the log format is a contract with the server and other readers.
    let text = br#"{"case":{"case":4,"expected_version":7,"action":"resolve","disposition":"towed"}}"#;
    assert_eq!(decode(1, text).unwrap(), act(CaseId(4), Some(7), CaseAction::Resolve { disposition: "towed".into() }));
    assert_eq!(decode(1, br#"{"tick":1780000000000}"#).unwrap(), Command::Tick(t(1_780_000_000_000)));
}

#[test]
fn malformed_payloads_error() {
    let deep = "[".repeat(60_000);
    let bad: Vec<&[u8]> = vec![
        b"",
        b"{",
        b"null",
        b"[]",
        b"\xff\xfe",
        br#"{"tick":"soon"}"#,
        br#"{"case":{"case":-1,"action":"close"}}"#,
        br#"{"case":{"case":1,"action":"explode"}}"#,
        br#"{"open_case":{}}"#,
        br#"{"unknown":1}"#,
        deep.as_bytes(),
    ];
    for b in bad {
        assert!(
            matches!(decode(VERSION, b), Err(DecodeError::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(&b[..b.len().min(40)])
        );
    }
    assert!(matches!(decode(2, b"{\"tick\":1}"), Err(DecodeError::UnsupportedVersion { version: 2, .. })));
}

#[test]
fn oversized_payload_is_refused_before_parsing() {
    let mut big = br#"{"tick":1}"#.to_vec();
    big.resize(MAX_PAYLOAD_BYTES + 1, b' ');
    assert!(
        matches!(decode(VERSION, &big), Err(DecodeError::TooLarge { len, limit }) if len == MAX_PAYLOAD_BYTES + 1 && limit == MAX_PAYLOAD_BYTES)
    );
    big.truncate(MAX_PAYLOAD_BYTES);
    assert_eq!(decode(VERSION, &big).unwrap(), Command::Tick(t(1)));
}

fn refused(cmd: &Command) -> OpsError {
    let via_decode = decode(VERSION, &encode(cmd));
    let Err(DecodeError::Invalid(e)) = via_decode else { panic!("decode accepted {cmd:?}: {via_decode:?}") };
    let mut s = OpsState::default();
    assert_eq!(s.apply(t(T0), &sys(), cmd).unwrap_err(), e, "apply and decode agree");
    e
}

#[test]
fn field_limits() {
    let long_id = "k".repeat(MAX_ID_LEN + 1);
    let long_text = "t".repeat(MAX_TEXT_LEN + 1);
    assert!(matches!(refused(&open_with(|o| o.key = long_id.clone())), OpsError::Invalid { field: "key", .. }));
    assert!(matches!(refused(&open_with(|o| o.key = " ".into())), OpsError::Invalid { field: "key", .. }));
    assert!(matches!(refused(&open_with(|o| o.title = long_text.clone())), OpsError::Invalid { field: "title", .. }));
    assert!(matches!(refused(&open_with(|o| o.agency = agency(""))), OpsError::Invalid { field: "agency", .. }));
    assert!(matches!(
        refused(&open_with(|o| o.commune = Some("20 194".into()))),
        OpsError::Invalid { field: "commune", .. }
    ));
    assert!(matches!(
        refused(&open_with(|o| o.commune = Some("1".repeat(MAX_COMMUNE_LEN + 1)))),
        OpsError::Invalid { field: "commune", .. }
    ));
    assert!(matches!(
        refused(&open_with(|o| o.location = Some(Position::new(181.0, 0.0)))),
        OpsError::Invalid { field: "location", .. }
    ));
    for ms in [0, -5, MAX_DURATION_MS + 1] {
        assert!(matches!(
            refused(&open_with(|o| o.ack_within_ms = ms)),
            OpsError::Invalid { field: "ack_within_ms", .. }
        ));
    }
    let ring = |n: usize| (0..n).map(|i| Position::new(108.0 + i as f64 * 1e-4, 16.0)).collect::<Vec<_>>();
    assert!(matches!(refused(&open_with(|o| o.area = Some(ring(2)))), OpsError::Invalid { field: "area", .. }));
    assert!(matches!(
        refused(&open_with(|o| o.area = Some(ring(MAX_AREA_VERTICES + 1)))),
        OpsError::Invalid { field: "area", .. }
    ));
    let photo = |i: usize| Attachment { kind: AttachmentKind::ReportPhoto, reference: format!("p{i}") };
    assert!(matches!(
        refused(&open_with(|o| o.attachments = (0..=MAX_ATTACHMENTS_PER_COMMAND).map(photo).collect())),
        OpsError::TooMany { limit: MAX_ATTACHMENTS_PER_COMMAND, .. }
    ));
    let reason = act(CaseId(0), None, CaseAction::Reject { reason: long_text.clone() });
    assert!(matches!(refused(&reason), OpsError::Invalid { field: "reason", .. }));
    let mut spec = unit_spec("u", "fire", UnitKind::FireTruck, "v");
    spec.capabilities = (0..=MAX_CAPABILITIES).map(|i| format!("c{i}")).collect();
    let many_caps = Command::Configure { settings: settings(), units: vec![spec] };
    assert!(matches!(refused(&many_caps), OpsError::TooMany { limit: MAX_CAPABILITIES, .. }));
}

#[test]
fn too_many_units_and_routing_rules() {
    let specs: Vec<_> =
        (0..=MAX_UNITS).map(|i| unit_spec(&format!("u{i}"), "fire", UnitKind::FireTruck, &format!("v{i}"))).collect();
    let cmd = Command::Configure { settings: settings(), units: specs };
    let mut s = OpsState::default();
    assert!(matches!(s.apply(t(T0), &sys(), &cmd), Err(OpsError::TooMany { limit: MAX_UNITS, .. })));
    assert_eq!(s, OpsState::default());

    let rule: RoutingRule = toml::from_str(
        r#"category = "pothole"
        agency = "transport"
        ack_within = "1h"
        resolve_within = "2d""#,
    )
    .unwrap();
    assert!(RoutingTable::new(vec![rule.clone(); MAX_ROUTING_RULES]).is_ok());
    assert!(matches!(
        RoutingTable::new(vec![rule; MAX_ROUTING_RULES + 1]),
        Err(OpsError::TooMany { limit: MAX_ROUTING_RULES, .. })
    ));
}

#[test]
fn snapshot_decode_is_bounded_and_checked() {
    let mut s = OpsState::default();
    s.apply(t(T0), &sys(), &open("alert:a", "fire")).unwrap();
    s.apply(t(T0 + 1), &user("an"), &act(CaseId(0), Some(1), CaseAction::Acknowledge { note: Some("ok".into()) }))
        .unwrap();
    let bytes = s.snapshot();
    assert_eq!(OpsState::restore(&bytes).unwrap(), s);
    assert!(matches!(OpsState::restore_bounded(&bytes, bytes.len() - 1), Err(DecodeError::TooLarge { .. })));
    for bad in [&b""[..], b"{}", b"[", b"{\"format\":1}", &bytes[..bytes.len() / 2]] {
        assert!(matches!(OpsState::restore(bad), Err(DecodeError::Malformed(_))));
    }
    let text = String::from_utf8(bytes.clone()).unwrap();
    let future = text.replacen("\"format\":1", "\"format\":9", 1);
    assert!(matches!(OpsState::restore(future.as_bytes()), Err(DecodeError::UnsupportedVersion { version: 9, .. })));
    // Editing the audit trail breaks the chain; editing the status breaks the invariants.
    let forged = text.replacen("\"note\":\"ok\"", "\"note\":\"ko\"", 1);
    assert_ne!(forged, text);
    assert!(matches!(OpsState::restore(forged.as_bytes()), Err(DecodeError::Inconsistent(_))));
    let forged = text.replacen("\"status\":\"acknowledged\"", "\"status\":\"closed\"", 1);
    assert_ne!(forged, text);
    assert!(matches!(OpsState::restore(forged.as_bytes()), Err(DecodeError::Inconsistent(_))));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), version in 0u16..3) {
        if let Ok(cmd) = decode(version, &bytes) {
            // Whatever decodes is within bounds and applies or is refused without panicking.
            prop_assert!(cmd.validate().is_ok());
            let mut s = OpsState::default();
            let _ = s.apply(t(T0), &sys(), &cmd);
        }
        let _ = OpsState::restore(&bytes);
    }

    #[test]
    fn json_shaped_garbage_never_panics(
        parts in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"case\"", "\"open_case\"", "\"tick\"", "\"action\"", "\"merge\"",
            "\"into\"", "1", "-1", "1e400", "null", "true", "\"x\"", "\"configure\"", "\"units\"", "\"settings\"",
        ]), 0..64),
    ) {
        let text = parts.concat();
        let _ = decode(VERSION, text.as_bytes());
        let _ = OpsState::restore(text.as_bytes());
    }
}
