//! Response units (ambulances, fire trucks, police units …) and their status machine.
//!
//! ```text
//! available ──dispatch──▶ dispatched ──▶ en_route ──▶ on_scene ──▶ returning ──▶ available
//!     │  ▲                    │  └────────────────────▲  │  └──▶ transporting ──▶ at_hospital ──┘
//!     ▼  │                    └──▶ returning (stood down)  (dispatched and en_route may be stood down too)
//! out_of_service
//! ```
//!
//! `dispatched` is reached only through [`crate::Command::Dispatch`], which ties the unit to a case.

use std::fmt;

use serde::{Deserialize, Serialize};
use twin_core::{AgencyId, Position, Timestamp};

use crate::case::{named_enum, CaseId};

/// A unit's configured id (`amb-01`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitId(pub String);

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

named_enum! {
    /// What a unit is.
    UnitKind {
        Ambulance => "ambulance",
        FireTruck => "fire_truck",
        PoliceUnit => "police_unit",
        Rescue => "rescue",
        Hazmat => "hazmat",
        TrafficPolice => "traffic_police",
        Utility => "utility",
        Other => "other",
    }
}

named_enum! {
    /// Where a unit is in its duty cycle.
    UnitStatus {
        Available => "available",
        Dispatched => "dispatched",
        EnRoute => "en_route",
        OnScene => "on_scene",
        Transporting => "transporting",
        AtHospital => "at_hospital",
        Returning => "returning",
        OutOfService => "out_of_service",
    }
}

impl UnitStatus {
    /// Statuses [`crate::Command::UnitStatus`] may move to from here (dispatch is its own command).
    pub const fn allowed_next(self) -> &'static [UnitStatus] {
        use UnitStatus as S;
        match self {
            S::Available => &[S::OutOfService],
            S::Dispatched => &[S::EnRoute, S::OnScene, S::Returning],
            S::EnRoute => &[S::OnScene, S::Returning],
            S::OnScene => &[S::Transporting, S::Returning],
            S::Transporting => &[S::AtHospital],
            S::AtHospital => &[S::Returning],
            S::Returning => &[S::Available],
            S::OutOfService => &[S::Available],
        }
    }

    /// Tied to a case (dispatched until back to available).
    pub const fn is_committed(self) -> bool {
        !matches!(self, Self::Available | Self::OutOfService)
    }
}

/// One `[[units]]` entry.
///
/// ```toml
/// [[units]]
/// id = "amb-01"
/// agency = "health"
/// kind = "ambulance"
/// capabilities = ["als"]
/// home = { lon = 108.2102, lat = 16.0592 }
/// tracked_entity = "amb-01"   # external id of the vehicle entity whose positions it reports
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    pub id: UnitId,
    pub agency: AgencyId,
    pub kind: UnitKind,
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub home: Position,
    #[serde(default)]
    pub tracked_entity: Option<String>,
}

/// A unit and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub spec: UnitSpec,
    pub status: UnitStatus,
    /// The case it is committed to while dispatched.
    pub case: Option<CaseId>,
    /// When the status last changed.
    pub since: Timestamp,
    /// No longer in the configuration: cannot be dispatched, finishes its current duty.
    pub retired: bool,
}
