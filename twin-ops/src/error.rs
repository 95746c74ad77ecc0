//! What can go wrong. Each variant maps to one HTTP answer in the server (see the variant docs).

use twin_core::AgencyId;

use crate::case::{ActionKind, CaseId, CaseStatus};
use crate::unit::{UnitId, UnitStatus};

/// Why a command was refused. A refused command changes nothing and is not logged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpsError {
    /// 404.
    #[error("case {0} not found")]
    CaseNotFound(CaseId),
    /// 404.
    #[error("unit {0} not found")]
    UnitNotFound(UnitId),
    /// 412: the client's If-Match no longer holds.
    #[error("case {case} is at version {actual}, not {expected}")]
    VersionMismatch { case: CaseId, expected: u64, actual: u64 },
    /// 409, with `allowed` in the body.
    #[error("cannot {action} case {case} while it is {status}; allowed: {}", list(allowed))]
    IllegalAction { case: CaseId, status: CaseStatus, action: ActionKind, allowed: Vec<ActionKind> },
    /// 409, with `allowed` in the body.
    #[error("unit {unit} cannot go from {from} to {to}; allowed: {}", list(allowed))]
    IllegalUnitTransition { unit: UnitId, from: UnitStatus, to: UnitStatus, allowed: Vec<UnitStatus> },
    /// 409: dispatch needs an available unit that is still configured.
    #[error("unit {unit} is {status}{}, not available", if *retired { " (retired)" } else { "" })]
    UnitUnavailable { unit: UnitId, status: UnitStatus, retired: bool },
    /// 409: a unit of another agency needs `allow_other_agency`.
    #[error("unit {unit} belongs to {unit_agency}, case {case} to {case_agency}")]
    UnitAgencyMismatch { unit: UnitId, unit_agency: AgencyId, case: CaseId, case_agency: AgencyId },
    /// 409: dispatch, merge targets and attachments need an open case.
    #[error("case {case} is {status}, not open")]
    CaseNotOpen { case: CaseId, status: CaseStatus },
    /// 422.
    #[error("a case cannot be merged into itself ({0})")]
    MergeIntoSelf(CaseId),
    /// 409: the case's audit trail reached its bound.
    #[error("case {0} has reached its timeline limit")]
    TimelineFull(CaseId),
    /// 503: the model reached a configured bound.
    #[error("too many {what} (limit {limit})")]
    TooMany { what: &'static str, limit: usize },
    /// 422: a field is out of its bounds or malformed.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: &'static str },
}

/// A broken invariant found by [`crate::OpsState::check_invariants`]: a bug, or a damaged snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated: {0}")]
pub struct InvariantViolation(pub String);

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Why a logged payload or a snapshot could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion { what: &'static str, version: u16 },
    #[error("payload of {len} bytes exceeds the limit of {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("malformed payload: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("payload out of bounds: {0}")]
    Invalid(#[from] OpsError),
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(#[from] InvariantViolation),
}
