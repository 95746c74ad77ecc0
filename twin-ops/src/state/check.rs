//! [`OpsState::check`]: whether `apply` would accept a command, without changing anything.

use std::collections::BTreeSet;

use twin_core::{ActorId, Timestamp};

use super::{CaseRecord, OpsState};
use crate::case::{CaseAction, CaseId};
use crate::command::{CaseCommand, Command};
use crate::limits::{MAX_ATTACHMENTS_PER_CASE, MAX_CASES, MAX_UNITS, MAX_UNITS_PER_CASE, USER_TIMELINE_LIMIT};
use crate::unit::UnitStatus;
use crate::OpsError;

impl OpsState {
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
}
