//! Cases: one incident handled by one owning agency, with deadlines and a lifecycle.
//!
//! ```text
//! new ──acknowledge──▶ acknowledged ──assign──▶ assigned ──start──▶ in_progress ──resolve──▶ resolved ──close──▶ closed
//!                                               │   ▲                    ▲                       │
//!                                               └───┘ assign (transfer)  └──────── reopen ───────┘ (within the window)
//! any open state (new, acknowledged, assigned, in_progress) ──reject──▶ rejected
//!                                                          ──merge───▶ merged (into another open case)
//! ```
//!
//! A transfer (`assign` to another agency) resets the acknowledgement deadline: the receiving agency
//! acknowledges with `acknowledge` (or implicitly with `start`) while the case stays `assigned`.

use std::fmt;

use serde::{Deserialize, Serialize};
use twin_core::{ActorId, AgencyId, Position, Severity, Timestamp};

use crate::unit::UnitId;
use crate::Settings;

/// Dense case number assigned by the model in log order; replay assigns the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub u64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case name used in the API, the log and the hash chain.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum! {
    /// Where a case came from.
    Source {
        RuleAlert => "rule_alert",
        Camera => "camera",
        CitizenReport => "citizen_report",
        FireAlarm => "fire_alarm",
        Manual => "manual",
    }
}

named_enum! {
    /// Handling priority, lowest first.
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
}

named_enum! {
    /// Where a case is in its lifecycle.
    CaseStatus {
        New => "new",
        Acknowledged => "acknowledged",
        Assigned => "assigned",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
        Rejected => "rejected",
        Merged => "merged",
    }
}

impl CaseStatus {
    /// Still being handled: can be rejected, merged, dispatched to, and escalates.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Acknowledged | Self::Assigned | Self::InProgress)
    }
}

named_enum! {
    /// The actions a person takes on a case (the `action` of a [`CaseAction`]).
    ActionKind {
        Acknowledge => "acknowledge",
        Assign => "assign",
        Start => "start",
        Resolve => "resolve",
        Close => "close",
        Reopen => "reopen",
        Reject => "reject",
        Merge => "merge",
    }
}

/// One action on a case, with what it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum CaseAction {
    Acknowledge {
        #[serde(default)]
        note: Option<String>,
    },
    /// Within the owning agency (set `assignee`), or a transfer when `agency` names another agency.
    Assign {
        #[serde(default)]
        agency: Option<AgencyId>,
        #[serde(default)]
        assignee: Option<ActorId>,
        /// Acknowledgement deadline for the receiving agency of a transfer; the configured
        /// `transfer_ack_within` when absent.
        #[serde(default)]
        ack_within_ms: Option<i64>,
        #[serde(default)]
        note: Option<String>,
    },
    Start {
        #[serde(default)]
        note: Option<String>,
    },
    Resolve {
        disposition: String,
    },
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Reject {
        reason: String,
    },
    Merge {
        into: CaseId,
    },
}

impl CaseAction {
    pub const fn kind(&self) -> ActionKind {
        match self {
            Self::Acknowledge { .. } => ActionKind::Acknowledge,
            Self::Assign { .. } => ActionKind::Assign,
            Self::Start { .. } => ActionKind::Start,
            Self::Resolve { .. } => ActionKind::Resolve,
            Self::Close { .. } => ActionKind::Close,
            Self::Reopen { .. } => ActionKind::Reopen,
            Self::Reject { .. } => ActionKind::Reject,
            Self::Merge { .. } => ActionKind::Merge,
        }
    }
}

named_enum! {
    /// What an attachment refers to. The bytes live elsewhere (report store, camera evidence).
    AttachmentKind {
        ReportPhoto => "report_photo",
        CameraEvidence => "camera_evidence",
        Alert => "alert",
        Other => "other",
    }
}

/// A reference to evidence kept outside the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub reference: String,
}

/// Open311's two public states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Open,
    Closed,
}

/// One case. Reporter contact details are deliberately not here: the server keeps them apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub source: Source,
    pub category: String,
    pub title: String,
    pub severity: Severity,
    pub priority: Priority,
    pub status: CaseStatus,
    /// The agency responsible now (changes on transfer).
    pub agency: AgencyId,
    pub assignee: Option<ActorId>,
    /// Ward/commune code (Đà Nẵng's 2025 wards have official numeric codes).
    pub commune: Option<String>,
    pub location: Option<Position>,
    /// Optional outer ring of an area (first vertex not repeated).
    pub area: Option<Vec<Position>>,
    pub opened_at: Timestamp,
    pub ack_due: Timestamp,
    pub resolve_due: Timestamp,
    /// When the owning agency acknowledged; cleared by a transfer.
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// 0 on time, 1 acknowledgement late, 2 resolution late.
    pub escalation: u8,
    /// Resolution note or rejection reason.
    pub disposition: Option<String>,
    pub merged_into: Option<CaseId>,
    /// Episode keys (rule + entity, report id …): a repeat of any of them attaches here while open.
    pub keys: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// How many times the episode repeated after the case opened.
    pub repeats: u64,
    /// Units dispatched to the case, in order.
    pub units: Vec<UnitId>,
    /// Bumped by every change that adds to the timeline (If-Match / ETag).
    pub version: u64,
}

impl Case {
    /// Open311 `status`: open while being handled, closed once resolved, closed, rejected or merged.
    pub const fn public_status(&self) -> PublicStatus {
        if self.status.is_open() {
            PublicStatus::Open
        } else {
            PublicStatus::Closed
        }
    }

    /// Open311 `expected_datetime`: the resolution deadline while the case is open.
    pub fn expected_datetime(&self) -> Option<Timestamp> {
        self.status.is_open().then_some(self.resolve_due)
    }

    /// The owning agency has not acknowledged yet (new, or transferred and not yet taken up).
    pub fn awaiting_ack(&self) -> bool {
        self.acknowledged_at.is_none() && self.status.is_open()
    }

    /// The actions allowed now, in [`ActionKind::ALL`] order. `reopen` depends on `at` (the window).
    pub fn allowed_actions(&self, at: Timestamp, settings: &Settings) -> Vec<ActionKind> {
        use ActionKind as A;
        match self.status {
            CaseStatus::New => vec![A::Acknowledge, A::Reject, A::Merge],
            CaseStatus::Acknowledged => vec![A::Assign, A::Reject, A::Merge],
            CaseStatus::Assigned if self.acknowledged_at.is_none() => {
                vec![A::Acknowledge, A::Assign, A::Start, A::Reject, A::Merge]
            }
            CaseStatus::Assigned => vec![A::Assign, A::Start, A::Reject, A::Merge],
            CaseStatus::InProgress => vec![A::Resolve, A::Reject, A::Merge],
            CaseStatus::Resolved => {
                let resolved = self.resolved_at.unwrap_or(Timestamp(i64::MIN));
                if at.as_millis().saturating_sub(resolved.as_millis()) <= settings.reopen_window.as_millis() {
                    vec![A::Close, A::Reopen]
                } else {
                    vec![A::Close]
                }
            }
            CaseStatus::Closed | CaseStatus::Rejected | CaseStatus::Merged => Vec::new(),
        }
    }
}
