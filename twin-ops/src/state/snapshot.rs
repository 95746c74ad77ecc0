//! Snapshot and restore: the whole state as versioned JSON, read back under bounds and checks.

use serde::{Deserialize, Serialize};

use super::{violation, CaseRecord, OpsState};
use crate::command::check_unit_spec;
use crate::limits::{MAX_CASES, MAX_SNAPSHOT_BYTES, MAX_UNITS};
use crate::unit::Unit;
use crate::{DecodeError, OpsError, Settings};

#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: u16,
    settings: &'a Settings,
    next_case: u64,
    cases: Vec<&'a CaseRecord>,
    units: Vec<&'a Unit>,
}

#[derive(Deserialize)]
struct SnapshotIn {
    format: u16,
    settings: Settings,
    next_case: u64,
    cases: Vec<CaseRecord>,
    units: Vec<Unit>,
}

const SNAPSHOT_FORMAT: u16 = 1;

impl OpsState {
    /// The whole state as bytes (JSON, with a format number).
    pub fn snapshot(&self) -> Vec<u8> {
        let out = SnapshotOut {
            format: SNAPSHOT_FORMAT,
            settings: &self.settings,
            next_case: self.next_case,
            cases: self.cases.values().collect(),
            units: self.units.values().collect(),
        };
        serde_json::to_vec(&out).unwrap_or_default()
    }

    /// Reads a [`OpsState::snapshot`] back. Bounded by [`MAX_SNAPSHOT_BYTES`] and the model's limits;
    /// refuses snapshots whose invariants or hash chains do not hold.
    pub fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::restore_bounded(bytes, MAX_SNAPSHOT_BYTES)
    }

    /// [`OpsState::restore`] with a smaller size bound (at most [`MAX_SNAPSHOT_BYTES`]).
    pub fn restore_bounded(bytes: &[u8], max_bytes: usize) -> Result<Self, DecodeError> {
        let limit = max_bytes.min(MAX_SNAPSHOT_BYTES);
        if bytes.len() > limit {
            return Err(DecodeError::TooLarge { len: bytes.len(), limit });
        }
        let snap: SnapshotIn = serde_json::from_slice(bytes)?;
        if snap.format != SNAPSHOT_FORMAT {
            return Err(DecodeError::UnsupportedVersion { what: "ops snapshot", version: snap.format });
        }
        snap.settings.validate()?;
        if snap.cases.len() > MAX_CASES {
            return Err(OpsError::TooMany { what: "cases", limit: MAX_CASES }.into());
        }
        if snap.units.len() > MAX_UNITS {
            return Err(OpsError::TooMany { what: "units", limit: MAX_UNITS }.into());
        }
        let mut state = Self { settings: snap.settings, next_case: snap.next_case, ..Self::default() };
        for rec in snap.cases {
            let id = rec.case.id;
            if state.cases.insert(id, rec).is_some() {
                return Err(violation(format!("case {id} appears twice")).into());
            }
        }
        for unit in snap.units {
            check_unit_spec(&unit.spec)?;
            let id = unit.spec.id.clone();
            if state.units.insert(id.clone(), unit).is_some() {
                return Err(violation(format!("unit {id} appears twice")).into());
            }
        }
        state.rebuild_tracked();
        if state.tracked.len() != state.units.values().filter(|u| u.spec.tracked_entity.is_some()).count() {
            return Err(violation("two units track one entity".into()).into());
        }
        state.open = state.cases.values().filter(|r| r.case.status.is_open()).map(|r| r.case.id).collect();
        for id in &state.open {
            if let Some(r) = state.cases.get(id) {
                for k in &r.case.keys {
                    if state.open_keys.insert(k.clone(), *id).is_some() {
                        return Err(violation(format!("episode key {k} held by two open cases")).into());
                    }
                }
            }
        }
        state.check_invariants()?;
        state.verify_chain().map_err(|e| violation(e.to_string()))?;
        Ok(state)
    }
}
