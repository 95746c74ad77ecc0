//! Routing: which agency owns an incoming alert or report, at what priority and with which deadlines.
//!
//! Rules are tried in order; the first whose criteria all hold wins (put specific rules first).
//! Each rule names at least one of `rule`, `alert_kind`, `category`, `camera_kind`, `alarm_code`, and
//! may narrow by `communes` and `district`:
//!
//! ```toml
//! [[routing]]
//! rule = "flood-level-high"        # a twin-core rule id (its alerts)
//! agency = "environment"
//! priority = "high"
//! ack_within = "15m"
//! resolve_within = "4h"
//!
//! [[routing]]
//! category = "pothole"             # a citizen report category
//! communes = ["20194", "20197"]    # ward codes; absent = anywhere
//! agency = "transport"
//! priority = "normal"
//! ack_within = "1d"
//! resolve_within = "7d"
//!
//! [[routing]]
//! alarm_code = "fire"
//! agency = "fire"
//! priority = "urgent"
//! ack_within = "1m"
//! resolve_within = "2h"
//! case_category = "fire"           # the case's category (default: the incoming one)
//! ```
//!
//! [`RoutingTable::route`] turns an [`Incoming`] into a [`Command::OpenCase`]; applying it opens a
//! case, or records a repeat on the open case with the same episode key.

use serde::{Deserialize, Serialize};
use twin_core::{AgencyId, Position, Severity};

use crate::case::{Attachment, Priority, Source};
use crate::command::{check_text, OpenCase};
use crate::config::DurationSpec;
use crate::limits::{MAX_ID_LEN, MAX_ROUTING_RULES};
use crate::{Command, OpsError};

/// One `[[routing]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// A twin-core alert rule id.
    #[serde(default)]
    pub rule: Option<String>,
    /// A twin-core alert kind (`geofence_enter`, `threshold_above`, `stale` …).
    #[serde(default)]
    pub alert_kind: Option<String>,
    /// A citizen report category.
    #[serde(default)]
    pub category: Option<String>,
    /// A camera analytics alert kind.
    #[serde(default)]
    pub camera_kind: Option<String>,
    /// A fire alarm panel code.
    #[serde(default)]
    pub alarm_code: Option<String>,
    /// Only these ward codes (empty: any).
    #[serde(default)]
    pub communes: Vec<String>,
    #[serde(default)]
    pub district: Option<String>,
    pub agency: AgencyId,
    #[serde(default = "default_priority")]
    pub priority: Priority,
    pub ack_within: DurationSpec,
    pub resolve_within: DurationSpec,
    /// The case category; the incoming category, alert kind or code when absent.
    #[serde(default)]
    pub case_category: Option<String>,
}

const fn default_priority() -> Priority {
    Priority::Normal
}

/// An alert or report to route, filled by the server from a `twin_core::Alert`, a citizen report,
/// a camera alert or a fire alarm. Build it with the constructors so the episode key is right.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub source: Source,
    /// The episode key (see [`OpenCase::key`]).
    pub key: String,
    pub rule: Option<String>,
    pub alert_kind: Option<String>,
    pub category: Option<String>,
    pub camera_kind: Option<String>,
    pub alarm_code: Option<String>,
    pub commune: Option<String>,
    pub district: Option<String>,
    pub severity: Severity,
    pub title: String,
    pub location: Option<Position>,
    pub attachments: Vec<Attachment>,
}

impl Incoming {
    fn base(source: Source, key: String, severity: Severity, title: String) -> Self {
        Self {
            source,
            key,
            rule: None,
            alert_kind: None,
            category: None,
            camera_kind: None,
            alarm_code: None,
            commune: None,
            district: None,
            severity,
            title,
            location: None,
            attachments: Vec::new(),
        }
    }

    /// A twin-core rule alert; one episode per (rule, entity).
    pub fn rule_alert(rule: &str, alert_kind: &str, entity_external_id: &str, severity: Severity, title: &str) -> Self {
        let mut i = Self::base(Source::RuleAlert, format!("alert:{rule}:{entity_external_id}"), severity, title.into());
        i.rule = Some(rule.into());
        i.alert_kind = Some(alert_kind.into());
        i
    }

    /// A citizen report; one episode per report id. Never pass the reporter's contact here.
    pub fn citizen_report(report_id: &str, category: &str, title: &str) -> Self {
        let mut i = Self::base(Source::CitizenReport, format!("report:{report_id}"), Severity::Moderate, title.into());
        i.category = Some(category.into());
        i
    }

    /// A camera analytics alert; one episode per (camera, kind).
    pub fn camera(camera_id: &str, kind: &str, severity: Severity, title: &str) -> Self {
        let mut i = Self::base(Source::Camera, format!("camera:{camera_id}:{kind}"), severity, title.into());
        i.camera_kind = Some(kind.into());
        i
    }

    /// A fire alarm; one episode per (panel, code).
    pub fn fire_alarm(panel_id: &str, code: &str, title: &str) -> Self {
        let mut i = Self::base(Source::FireAlarm, format!("alarm:{panel_id}:{code}"), Severity::Severe, title.into());
        i.alarm_code = Some(code.into());
        i
    }
}

/// Validated routing rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutingTable {
    rules: Vec<RoutingRule>,
}

fn same(want: Option<&String>, have: Option<&String>) -> bool {
    want.is_none_or(|w| have == Some(w))
}

impl RoutingTable {
    pub fn new(rules: Vec<RoutingRule>) -> Result<Self, OpsError> {
        if rules.len() > MAX_ROUTING_RULES {
            return Err(OpsError::TooMany { what: "routing rules", limit: MAX_ROUTING_RULES });
        }
        for r in &rules {
            let keys = [&r.rule, &r.alert_kind, &r.category, &r.camera_kind, &r.alarm_code];
            if keys.iter().all(|k| k.is_none()) {
                return Err(OpsError::Invalid {
                    field: "routing",
                    reason: "a rule needs one of rule, alert_kind, category, camera_kind, alarm_code",
                });
            }
            check_text("routing agency", r.agency.as_str(), MAX_ID_LEN, true)?;
            if let Some(c) = &r.case_category {
                check_text("case_category", c, MAX_ID_LEN, true)?;
            }
        }
        Ok(Self { rules })
    }

    pub fn rules(&self) -> &[RoutingRule] {
        &self.rules
    }

    /// The first matching rule.
    pub fn matching(&self, i: &Incoming) -> Option<&RoutingRule> {
        self.rules.iter().find(|r| {
            same(r.rule.as_ref(), i.rule.as_ref())
                && same(r.alert_kind.as_ref(), i.alert_kind.as_ref())
                && same(r.category.as_ref(), i.category.as_ref())
                && same(r.camera_kind.as_ref(), i.camera_kind.as_ref())
                && same(r.alarm_code.as_ref(), i.alarm_code.as_ref())
                && same(r.district.as_ref(), i.district.as_ref())
                && (r.communes.is_empty() || i.commune.as_ref().is_some_and(|c| r.communes.contains(c)))
        })
    }

    /// The command that opens (or repeats) the case for `incoming`; `None` when no rule matches.
    /// The command is checked by `apply` like any other (over-long fields are refused there).
    pub fn route(&self, incoming: &Incoming) -> Option<Command> {
        let rule = self.matching(incoming)?;
        let category = rule
            .case_category
            .clone()
            .or_else(|| incoming.category.clone())
            .or_else(|| incoming.alert_kind.clone())
            .or_else(|| incoming.camera_kind.clone())
            .or_else(|| incoming.alarm_code.clone())
            .unwrap_or_else(|| incoming.source.as_str().to_owned());
        Some(Command::OpenCase(OpenCase {
            source: incoming.source,
            key: incoming.key.clone(),
            category,
            title: incoming.title.clone(),
            severity: incoming.severity,
            priority: rule.priority,
            agency: rule.agency.clone(),
            commune: incoming.commune.clone(),
            location: incoming.location,
            area: None,
            ack_within_ms: rule.ack_within.as_millis(),
            resolve_within_ms: rule.resolve_within.as_millis(),
            attachments: incoming.attachments.clone(),
        }))
    }
}
