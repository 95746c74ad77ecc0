//! What an accepted command changed, reported to notifications and live feeds.

use serde::{Deserialize, Serialize};
use twin_core::AgencyId;

use crate::case::{CaseId, CaseStatus, Priority};
use crate::timeline::TimelineAction;
use crate::unit::{UnitId, UnitStatus};

/// Who is told about an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The lead of the owning agency.
    AgencyLead(AgencyId),
    /// The city's leaders (operations centre leadership).
    Leaders,
}

/// What an accepted command changed, for notifications and live feeds (not logged: the command is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum OpsEvent {
    Configured {
        units: usize,
        retired: Vec<UnitId>,
    },
    CaseOpened {
        case: CaseId,
        agency: AgencyId,
        priority: Priority,
    },
    /// The episode repeated; attached to the open case.
    CaseRepeated {
        case: CaseId,
        agency: AgencyId,
        repeats: u64,
    },
    CaseChanged {
        case: CaseId,
        agency: AgencyId,
        action: TimelineAction,
        from: CaseStatus,
        to: CaseStatus,
        /// Set on a transfer.
        previous_agency: Option<AgencyId>,
    },
    /// Level 1: acknowledgement late (tell the agency's lead); level 2: resolution late (and the leaders).
    Escalated {
        case: CaseId,
        agency: AgencyId,
        level: u8,
        notify: Vec<Audience>,
    },
    UnitDispatched {
        unit: UnitId,
        case: CaseId,
        agency: AgencyId,
    },
    UnitStatusChanged {
        unit: UnitId,
        from: UnitStatus,
        to: UnitStatus,
        case: Option<CaseId>,
    },
}
