//! Commands: the only way the operations state changes. The server logs each accepted command as a
//! `LogRecord::Extension { stream: "ops", version, payload }` with [`encode`]; replay feeds the
//! payloads back through [`decode`] and [`crate::OpsState::apply`].

use serde::{Deserialize, Serialize};
use twin_core::{AgencyId, Position, Severity, Timestamp};

use crate::case::{Attachment, CaseAction, CaseId, Priority, Source};
use crate::limits::*;
use crate::unit::{UnitId, UnitSpec, UnitStatus};
use crate::{DecodeError, OpsError, Settings};

/// The extension stream name for the log.
pub const STREAM: &str = "ops";
/// The payload format [`encode`] writes.
pub const VERSION: u16 = 1;

/// Open a case, or, when an open case already holds `key`, record a repeat on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenCase {
    pub source: Source,
    /// Episode key: `alert:<rule>:<entity>`, `report:<id>`, `camera:<camera>:<kind>`, `alarm:<panel>:<code>`.
    pub key: String,
    pub category: String,
    pub title: String,
    pub severity: Severity,
    pub priority: Priority,
    pub agency: AgencyId,
    #[serde(default)]
    pub commune: Option<String>,
    #[serde(default)]
    pub location: Option<Position>,
    #[serde(default)]
    pub area: Option<Vec<Position>>,
    pub ack_within_ms: i64,
    pub resolve_within_ms: i64,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// An action on one case, guarded by the version the client last saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseCommand {
    pub case: CaseId,
    /// If-Match: refused with [`OpsError::VersionMismatch`] unless the case is at this version.
    /// `None` only for the server's own commands.
    #[serde(default)]
    pub expected_version: Option<u64>,
    #[serde(flatten)]
    pub action: CaseAction,
}

/// Everything that changes the operations state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// The `[ops]` settings and the `[[units]]` list in force from now on (see
    /// [`crate::OpsState::configure_command`]). Units missing from the list are retired.
    Configure {
        settings: Settings,
        units: Vec<UnitSpec>,
    },
    OpenCase(OpenCase),
    Case(CaseCommand),
    /// Add evidence references to an open case.
    Attach {
        case: CaseId,
        #[serde(default)]
        expected_version: Option<u64>,
        attachments: Vec<Attachment>,
    },
    /// Commit an available unit to an open case.
    Dispatch {
        unit: UnitId,
        case: CaseId,
        #[serde(default)]
        expected_version: Option<u64>,
        /// A unit of another agency than the case's (mutual aid), explicitly.
        #[serde(default)]
        allow_other_agency: bool,
    },
    /// Move a unit along its status machine.
    UnitStatus {
        unit: UnitId,
        to: UnitStatus,
        #[serde(default)]
        note: Option<String>,
    },
    /// Check deadlines as of this time (the server logs one periodically). Escalations happen only
    /// here, stamped with this time, so a replay neither loses nor repeats one.
    Tick(Timestamp),
}

/// The log payload of `cmd` (JSON). Infallible: these types serialise without maps or custom
/// serialisers that could fail.
pub fn encode(cmd: &Command) -> Vec<u8> {
    serde_json::to_vec(cmd).unwrap_or_default()
}

/// Reads a logged payload back. Bounded: refuses payloads over [`MAX_PAYLOAD_BYTES`] before parsing
/// and commands whose fields exceed the limits after.
pub fn decode(version: u16, payload: &[u8]) -> Result<Command, DecodeError> {
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion { what: "ops command", version });
    }
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(DecodeError::TooLarge { len: payload.len(), limit: MAX_PAYLOAD_BYTES });
    }
    let cmd: Command = serde_json::from_slice(payload)?;
    cmd.validate()?;
    Ok(cmd)
}

pub(crate) fn check_text(field: &'static str, s: &str, max: usize, required: bool) -> Result<(), OpsError> {
    if s.len() > max {
        return Err(OpsError::Invalid { field, reason: "too long" });
    }
    if required && s.trim().is_empty() {
        return Err(OpsError::Invalid { field, reason: "must not be empty" });
    }
    Ok(())
}

fn check_opt(field: &'static str, s: Option<&str>, max: usize) -> Result<(), OpsError> {
    s.map_or(Ok(()), |s| check_text(field, s, max, false))
}

fn check_within(field: &'static str, ms: i64) -> Result<(), OpsError> {
    if ms <= 0 || ms > MAX_DURATION_MS {
        return Err(OpsError::Invalid { field, reason: "must be positive and at most 366 days" });
    }
    Ok(())
}

fn check_position(field: &'static str, p: &Position) -> Result<(), OpsError> {
    if !p.is_valid() {
        return Err(OpsError::Invalid { field, reason: "not a WGS84 lon/lat" });
    }
    Ok(())
}

pub(crate) fn check_attachments(list: &[Attachment]) -> Result<(), OpsError> {
    if list.len() > MAX_ATTACHMENTS_PER_COMMAND {
        return Err(OpsError::TooMany { what: "attachments in one command", limit: MAX_ATTACHMENTS_PER_COMMAND });
    }
    list.iter().try_for_each(|a| check_text("attachment", &a.reference, MAX_ID_LEN, true))
}

fn check_commune(code: &str) -> Result<(), OpsError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_COMMUNE_LEN
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(OpsError::Invalid { field: "commune", reason: "expected a ward code (letters, digits, - or _)" })
    }
}

pub(crate) fn check_unit_spec(u: &UnitSpec) -> Result<(), OpsError> {
    check_text("unit id", &u.id.0, MAX_ID_LEN, true)?;
    check_text("unit agency", u.agency.as_str(), MAX_ID_LEN, true)?;
    check_position("unit home", &u.home)?;
    check_opt("tracked_entity", u.tracked_entity.as_deref(), MAX_ID_LEN)?;
    if u.capabilities.len() > MAX_CAPABILITIES {
        return Err(OpsError::TooMany { what: "unit capabilities", limit: MAX_CAPABILITIES });
    }
    u.capabilities.iter().try_for_each(|c| check_text("capability", c, MAX_ID_LEN, true))
}

impl OpenCase {
    fn validate(&self) -> Result<(), OpsError> {
        check_text("key", &self.key, MAX_ID_LEN, true)?;
        check_text("category", &self.category, MAX_ID_LEN, true)?;
        check_text("title", &self.title, MAX_TEXT_LEN, false)?;
        check_text("agency", self.agency.as_str(), MAX_ID_LEN, true)?;
        if let Some(c) = &self.commune {
            check_commune(c)?;
        }
        if let Some(p) = &self.location {
            check_position("location", p)?;
        }
        if let Some(ring) = &self.area {
            if ring.len() < 3 || ring.len() > MAX_AREA_VERTICES {
                return Err(OpsError::Invalid { field: "area", reason: "a ring needs 3 to 1024 vertices" });
            }
            ring.iter().try_for_each(|p| check_position("area", p))?;
        }
        check_within("ack_within_ms", self.ack_within_ms)?;
        check_within("resolve_within_ms", self.resolve_within_ms)?;
        check_attachments(&self.attachments)
    }
}

impl CaseAction {
    fn validate(&self) -> Result<(), OpsError> {
        match self {
            Self::Acknowledge { note } | Self::Start { note } | Self::Close { note } => {
                check_opt("note", note.as_deref(), MAX_TEXT_LEN)
            }
            Self::Assign { agency, assignee, ack_within_ms, note } => {
                if let Some(a) = agency {
                    check_text("agency", a.as_str(), MAX_ID_LEN, true)?;
                }
                if let Some(a) = assignee {
                    check_text("assignee", a.as_str(), MAX_ID_LEN, true)?;
                }
                if let Some(ms) = ack_within_ms {
                    check_within("ack_within_ms", *ms)?;
                }
                check_opt("note", note.as_deref(), MAX_TEXT_LEN)
            }
            Self::Resolve { disposition } => check_text("disposition", disposition, MAX_TEXT_LEN, true),
            Self::Reopen { reason } | Self::Reject { reason } => check_text("reason", reason, MAX_TEXT_LEN, true),
            Self::Merge { .. } => Ok(()),
        }
    }
}

impl Command {
    /// Field bounds, independent of the state (run by [`decode`] and by `apply`).
    pub fn validate(&self) -> Result<(), OpsError> {
        match self {
            Self::Configure { settings, units } => {
                settings.validate()?;
                if units.len() > MAX_UNITS {
                    return Err(OpsError::TooMany { what: "units", limit: MAX_UNITS });
                }
                units.iter().try_for_each(check_unit_spec)
            }
            Self::OpenCase(open) => open.validate(),
            Self::Case(c) => c.action.validate(),
            Self::Attach { attachments, .. } => {
                if attachments.is_empty() {
                    return Err(OpsError::Invalid { field: "attachments", reason: "must not be empty" });
                }
                check_attachments(attachments)
            }
            Self::Dispatch { unit, .. } => check_text("unit", &unit.0, MAX_ID_LEN, true),
            Self::UnitStatus { unit, note, .. } => {
                check_text("unit", &unit.0, MAX_ID_LEN, true)?;
                check_opt("note", note.as_deref(), MAX_TEXT_LEN)
            }
            Self::Tick(_) => Ok(()),
        }
    }
}
