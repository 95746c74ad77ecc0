//! Alerts raised outside the rule engine: the feed-health monitor, camera analytics, alarm panels.
//! They reach the model as a log record, so they are numbered, kept and replayed like rule alerts.

use super::{Alert, AlertId, RuleKind, Severity};
use crate::{EntityId, EntityKind, Error, Position, Properties, PropertyValue, Timestamp};

/// Longest message, in bytes.
pub const MAX_ALERT_MESSAGE: usize = 4096;
/// Longest rule name, external id, feed name or detail key, in bytes.
pub const MAX_ALERT_NAME: usize = 256;
/// Most entries in an alert's detail.
pub const MAX_ALERT_DETAIL: usize = 64;

/// What a raised alert is about.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertSubject {
    /// A live entity by id. Refused when the model does not hold it at that point of the log; use
    /// [`AlertSubject::Key`] when the entity may have gone.
    Entity(EntityId),
    /// An entity by its key; the alert names the entity if the model holds it, and still stands
    /// (without an id) if it does not.
    Key { kind: EntityKind, external_id: String },
    /// A feed, by name: no entity. `kind` is the kind of entity the feed reports, so that clients
    /// can filter and place the alert like the others (`Incident` when unknown).
    Feed { name: String, kind: EntityKind },
}

/// An alert raised by a monitor outside the rule engine. Applied through
/// [`crate::Twin::raise_alert`] (or a `LogRecord::RaiseAlert`), it gets the next [`AlertId`].
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseAlert {
    pub time: Timestamp,
    pub kind: RuleKind,
    /// The monitor or configured rule that raised it (`feed_stale`, a camera id …).
    pub rule: String,
    pub severity: Severity,
    pub subject: AlertSubject,
    pub message: String,
    /// Structured facts: zone, vehicle count, seconds of silence …
    pub detail: Properties,
    /// Where; without it, an alert about a live entity takes the entity's position.
    pub position: Option<Position>,
}

impl RaiseAlert {
    /// An alert with an empty detail and no position; fill the other fields directly.
    pub fn new(
        time: Timestamp,
        kind: RuleKind,
        rule: impl Into<String>,
        severity: Severity,
        subject: AlertSubject,
        message: impl Into<String>,
    ) -> Self {
        Self {
            time,
            kind,
            rule: rule.into(),
            severity,
            subject,
            message: message.into(),
            detail: Properties::new(),
            position: None,
        }
    }

    /// Checks what does not depend on the model: names and texts within their limits, a valid
    /// position, finite numbers. The model also refuses an `Entity` subject it does not hold.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field, reason: String| Err(Error::InvalidAlert { field, reason });
        let name = |field, s: &str| {
            if s.is_empty() || s.len() > MAX_ALERT_NAME {
                return bad(field, format!("must be 1 to {MAX_ALERT_NAME} bytes, not {}", s.len()));
            }
            Ok(())
        };
        name("rule", &self.rule)?;
        match &self.subject {
            AlertSubject::Entity(_) => {}
            AlertSubject::Key { external_id, .. } => name("external_id", external_id)?,
            AlertSubject::Feed { name: feed, .. } => name("feed", feed)?,
        }
        if self.message.len() > MAX_ALERT_MESSAGE {
            return bad("message", format!("{} bytes exceed {MAX_ALERT_MESSAGE}", self.message.len()));
        }
        if let Some(p) = self.position.filter(|p| !p.is_valid()) {
            return bad("position", format!("({}, {}) is not a WGS84 position", p.lon, p.lat));
        }
        if self.detail.len() > MAX_ALERT_DETAIL {
            return bad("detail", format!("{} entries exceed {MAX_ALERT_DETAIL}", self.detail.len()));
        }
        for (k, v) in &self.detail {
            name("detail", k)?;
            match v {
                PropertyValue::Float(f) if !f.is_finite() => return bad("detail", format!("{k} is not finite")),
                PropertyValue::Text(t) if t.len() > MAX_ALERT_MESSAGE => {
                    return bad("detail", format!("{k}: {} bytes exceed {MAX_ALERT_MESSAGE}", t.len()))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The alert this raises, unnumbered, given how the model resolves the subject: the live
    /// entity's id, kind, external id and position, if any.
    pub(crate) fn to_alert(&self, live: Option<(EntityId, EntityKind, &str, Option<Position>)>) -> Alert {
        let (entity, entity_kind, external_id, at) = match (live, &self.subject) {
            (Some((id, kind, ext, at)), _) => (Some(id), kind, ext.to_owned(), at),
            (None, AlertSubject::Key { kind, external_id }) => (None, *kind, external_id.clone(), None),
            (None, AlertSubject::Feed { name, kind }) => (None, *kind, name.clone(), None),
            // Refused by the model before this point; kept total so no input can panic.
            (None, AlertSubject::Entity(id)) => (Some(*id), EntityKind::Incident, String::new(), None),
        };
        Alert {
            id: AlertId(0),
            time: self.time,
            entity,
            entity_kind,
            external_id,
            rule: self.rule.clone(),
            rule_kind: self.kind,
            severity: self.severity,
            message: self.message.clone(),
            position: self.position.or(at),
            detail: self.detail.clone(),
        }
    }
}
