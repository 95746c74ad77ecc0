//! Shared test helpers: a command log the way the server keeps one, and fixtures.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message
#![allow(dead_code)]

use twin_core::{ActorId, AgencyId, Position, Severity, Timestamp};
use twin_ops::{
    decode, encode, CaseAction, CaseCommand, CaseId, Command, OpenCase, OpsError, OpsEvent, OpsState, Priority,
    Settings, Source, UnitId, UnitKind, UnitSpec, VERSION,
};

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;
pub const T0: i64 = 1_780_000_000_000;

pub fn t(ms: i64) -> Timestamp {
    Timestamp(ms)
}

pub fn sys() -> ActorId {
    ActorId::system()
}

pub fn user(name: &str) -> ActorId {
    ActorId(format!("user:{name}"))
}

pub fn agency(name: &str) -> AgencyId {
    AgencyId(name.into())
}

pub fn open(key: &str, agency_id: &str) -> Command {
    Command::OpenCase(OpenCase {
        source: Source::RuleAlert,
        key: key.into(),
        category: "flood".into(),
        title: format!("alert {key}"),
        severity: Severity::Severe,
        priority: Priority::High,
        agency: agency(agency_id),
        commune: Some("20194".into()),
        location: Some(Position::new(108.2208, 16.0678)),
        area: None,
        ack_within_ms: 15 * MIN,
        resolve_within_ms: 4 * HOUR,
        attachments: Vec::new(),
    })
}

pub fn act(case: CaseId, version: Option<u64>, action: CaseAction) -> Command {
    Command::Case(CaseCommand { case, expected_version: version, action })
}

pub fn unit_spec(id: &str, agency_id: &str, kind: UnitKind, tracked: &str) -> UnitSpec {
    UnitSpec {
        id: UnitId(id.into()),
        agency: agency(agency_id),
        kind,
        capabilities: vec!["basic".into()],
        home: Position::new(108.21, 16.06),
        tracked_entity: Some(tracked.into()),
    }
}

/// Settings with a one-hour reopen window and 150 m arrival radius.
pub fn settings() -> Settings {
    Settings { reopen_window: twin_ops::DurationSpec::parse("1h").unwrap(), ..Settings::default() }
}

/// The accepted commands, encoded as the server logs them.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub records: Vec<(Timestamp, ActorId, u16, Vec<u8>)>,
}

impl Log {
    /// Check, log, apply — the server's order. Refused commands are not logged and must change nothing.
    pub fn run(
        &mut self,
        state: &mut OpsState,
        at: Timestamp,
        actor: &ActorId,
        cmd: &Command,
    ) -> Result<Vec<OpsEvent>, OpsError> {
        let before = state.clone();
        match state.check(at, actor, cmd) {
            Ok(()) => {
                self.records.push((at, actor.clone(), VERSION, encode(cmd)));
                let events = state.apply(at, actor, cmd).expect("apply accepts what check accepted");
                Ok(events)
            }
            Err(e) => {
                let again = state.apply(at, actor, cmd);
                assert_eq!(again.as_ref().err(), Some(&e), "apply and check disagree");
                assert_eq!(*state, before, "a refused command changed the state");
                Err(e)
            }
        }
    }

    /// Replays `records[from..]` onto `state` through the codec.
    pub fn replay_onto(&self, mut state: OpsState, from: usize) -> OpsState {
        for (at, actor, version, payload) in &self.records[from..] {
            let cmd = decode(*version, payload).expect("logged payload decodes");
            state.apply(*at, actor, &cmd).expect("logged command applies on replay");
        }
        state
    }

    pub fn replay(&self) -> OpsState {
        self.replay_onto(OpsState::default(), 0)
    }
}
