//! Executing the unit commands (configure, dispatch, status) and deriving unit commands from
//! configuration and tracked positions.

use std::collections::{BTreeMap, BTreeSet};

use twin_core::geodesy::distance_m;
use twin_core::{ActorId, Position, Timestamp};

use super::{push_event, OpsEvent, OpsState};
use crate::case::CaseId;
use crate::command::Command;
use crate::timeline::TimelineAction;
use crate::unit::{Unit, UnitId, UnitSpec, UnitStatus};
use crate::Settings;

impl OpsState {
    pub(super) fn configure(&mut self, at: Timestamp, settings: &Settings, specs: &[UnitSpec]) -> Vec<OpsEvent> {
        self.settings = settings.clone();
        let wanted: BTreeSet<&UnitId> = specs.iter().map(|s| &s.id).collect();
        let mut retired = Vec::new();
        for (id, unit) in &mut self.units {
            if !wanted.contains(id) && !unit.retired {
                unit.retired = true;
                retired.push(id.clone());
            }
        }
        for spec in specs {
            match self.units.get_mut(&spec.id) {
                Some(unit) => {
                    unit.spec = spec.clone();
                    unit.retired = false;
                }
                None => {
                    let unit = Unit {
                        spec: spec.clone(),
                        status: UnitStatus::Available,
                        case: None,
                        since: at,
                        retired: false,
                    };
                    self.units.insert(spec.id.clone(), unit);
                }
            }
        }
        self.rebuild_tracked();
        vec![OpsEvent::Configured { units: specs.len(), retired }]
    }

    pub(super) fn dispatch(&mut self, at: Timestamp, actor: &ActorId, unit: &UnitId, case: CaseId) -> Vec<OpsEvent> {
        let (Some(u), Some(rec)) = (self.units.get_mut(unit), self.cases.get_mut(&case)) else { return Vec::new() };
        let from = u.status;
        u.status = UnitStatus::Dispatched;
        u.case = Some(case);
        u.since = at;
        if !rec.case.units.contains(unit) {
            rec.case.units.push(unit.clone());
        }
        let status = rec.case.status;
        push_event(rec, at, actor, TimelineAction::Dispatch, Some(status), Some(format!("unit {unit}")));
        vec![
            OpsEvent::UnitDispatched { unit: unit.clone(), case, agency: rec.case.agency.clone() },
            OpsEvent::UnitStatusChanged { unit: unit.clone(), from, to: UnitStatus::Dispatched, case: Some(case) },
        ]
    }

    pub(super) fn unit_status(&mut self, at: Timestamp, unit: &UnitId, to: UnitStatus) -> Vec<OpsEvent> {
        let Some(u) = self.units.get_mut(unit) else { return Vec::new() };
        let from = u.status;
        let case = u.case;
        u.status = to;
        u.since = at;
        if !to.is_committed() {
            u.case = None;
        }
        vec![OpsEvent::UnitStatusChanged { unit: unit.clone(), from, to, case }]
    }

    pub(super) fn rebuild_tracked(&mut self) {
        self.tracked = self.tracked_expected();
    }

    // ---- derived commands ----

    /// The [`Command::Configure`] to log at start-up when the configured settings or units differ
    /// from the state's (`None` when they match).
    pub fn configure_command(&self, settings: &Settings, units: &[UnitSpec]) -> Option<Command> {
        let mut wanted: Vec<&UnitSpec> = units.iter().collect();
        wanted.sort_by(|a, b| a.id.cmp(&b.id));
        let current: Vec<&UnitSpec> = self.units.values().filter(|u| !u.retired).map(|u| &u.spec).collect();
        (self.settings != *settings || wanted != current)
            .then(|| Command::Configure { settings: settings.clone(), units: units.to_vec() })
    }

    /// The command to log when a tracked vehicle reports `position`: a dispatched or en-route unit
    /// within the arrival radius of its case's location is now on scene. Pure; the server calls it
    /// for each committed position of a tracked entity.
    pub fn on_unit_position(&self, entity_external_id: &str, position: Position) -> Option<Command> {
        let id = self.tracked.get(entity_external_id)?;
        let unit = self.units.get(id)?;
        if !matches!(unit.status, UnitStatus::Dispatched | UnitStatus::EnRoute) || !position.is_valid() {
            return None;
        }
        let target = self.cases.get(&unit.case?)?.case.location?;
        (distance_m(target, position) <= self.settings.arrival_radius_m).then(|| Command::UnitStatus {
            unit: id.clone(),
            to: UnitStatus::OnScene,
            note: Some("arrived: position within the arrival radius".into()),
        })
    }

    pub(super) fn tracked_expected(&self) -> BTreeMap<String, UnitId> {
        self.units.values().filter_map(|u| u.spec.tracked_entity.clone().map(|t| (t, u.spec.id.clone()))).collect()
    }
}
