//! Rules evaluated as the model changes: geofences (enter/exit with hysteresis), sensor thresholds
//! held for a duration, and stale entities. Rules produce [`Alert`]s.
//!
//! - Geofence: an entity becomes inside once it is inside the area and at least `hysteresis_m`
//!   metres from its boundary, and outside once it is outside and at least that far away; closer
//!   to the boundary its state stands. Metres come from a local equirectangular projection around
//!   the entity (see `fence_shape`), accurate at city scale. Fences are found through an R-tree of
//!   their bounds grown by the band, so thousands of fences cost one lookup per update.
//! - Threshold: one alert per episode once `property` has been above/below `threshold` for
//!   `duration_ms` (checked on updates and on ticks); the episode ends when it stops holding.
//! - Stale: one alert per silence longer than `max(factor × mean interval, min_silence_ms)`, once
//!   the entity has a mean interval; it ends when the entity is seen again.
//!
//! Validation ([`RuleEngine::new`]) refuses duplicate or empty ids, empty or invalid polygons,
//! non-WGS84 coordinates, non-finite thresholds, negative durations or bands and factors ≤ 1.
//!
//! Alerts raised outside the rule engine (stale feeds, camera analytics, fire alarms) come in as
//! [`RaiseAlert`]s through the log; the model numbers them from the same counter as rule alerts.

mod describe;
mod engine;
mod fence_shape;
mod geofence;
mod raise;
mod stale;
mod threshold;
mod validate;

pub use engine::RuleEngine;
pub use raise::{AlertSubject, RaiseAlert, MAX_ALERT_DETAIL, MAX_ALERT_MESSAGE, MAX_ALERT_NAME};

use serde::{Deserialize, Serialize};

use crate::{EntityId, EntityKind, KindFilter, Position, Properties, Timestamp};

/// Sequential alert number, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(pub u64);

/// Severity, after CAP 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Moderate,
    Severe,
    Extreme,
}

/// What fired: a rule of the engine, or a monitor outside it (see [`RuleKind::is_raised`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    GeofenceEnter,
    GeofenceExit,
    ThresholdAbove,
    ThresholdBelow,
    /// An entity silent for longer than usual (the stale rule).
    Stale,
    /// A feed silent for longer than usual (the feed-health monitor).
    FeedStale,
    /// A camera saw a queue in one of its zones.
    CameraQueue,
    /// A camera saw a vehicle stopped where it should not stop.
    CameraStoppedVehicle,
    /// A camera saw a person in a restricted zone.
    CameraRestrictedZone,
    /// A fire alarm panel or detector went off.
    FireAlarm,
}

impl RuleKind {
    pub const ALL: &'static [RuleKind] = &[
        RuleKind::GeofenceEnter,
        RuleKind::GeofenceExit,
        RuleKind::ThresholdAbove,
        RuleKind::ThresholdBelow,
        RuleKind::Stale,
        RuleKind::FeedStale,
        RuleKind::CameraQueue,
        RuleKind::CameraStoppedVehicle,
        RuleKind::CameraRestrictedZone,
        RuleKind::FireAlarm,
    ];

    /// The snake_case name used in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleKind::GeofenceEnter => "geofence_enter",
            RuleKind::GeofenceExit => "geofence_exit",
            RuleKind::ThresholdAbove => "threshold_above",
            RuleKind::ThresholdBelow => "threshold_below",
            RuleKind::Stale => "stale",
            RuleKind::FeedStale => "feed_stale",
            RuleKind::CameraQueue => "camera_queue",
            RuleKind::CameraStoppedVehicle => "camera_stopped_vehicle",
            RuleKind::CameraRestrictedZone => "camera_restricted_zone",
            RuleKind::FireAlarm => "fire_alarm",
        }
    }

    /// Kinds that monitors outside the rule engine raise with [`RaiseAlert`]; the engine never
    /// produces them.
    pub const fn is_raised(self) -> bool {
        matches!(
            self,
            RuleKind::FeedStale
                | RuleKind::CameraQueue
                | RuleKind::CameraStoppedVehicle
                | RuleKind::CameraRestrictedZone
                | RuleKind::FireAlarm
        )
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert: raised by a rule about one entity, or by a monitor (a feed, a camera, an alarm
/// panel) through a [`RaiseAlert`] log record. Both kinds share one id sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub time: Timestamp,
    /// The entity concerned; `None` for an alert about something that is not an entity (a feed)
    /// or about an entity the model does not hold.
    pub entity: Option<EntityId>,
    /// The entity's kind; for a feed, the kind of entity it reports (so clients can filter).
    pub entity_kind: EntityKind,
    /// The entity's external id; for a feed, the feed's name.
    pub external_id: String,
    /// Id of the rule that fired (from the city config), or of the monitor that raised it.
    pub rule: String,
    pub rule_kind: RuleKind,
    pub severity: Severity,
    pub message: String,
    pub position: Option<Position>,
    /// Structured facts behind a raised alert (zone, vehicle count, silence in seconds …).
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub detail: Properties,
}

/// A polygon that raises an alert when matching entities enter or leave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Geofence {
    pub id: String,
    pub name: String,
    pub area: geo::MultiPolygon<f64>,
    pub kinds: KindFilter,
    /// An entity counts as inside once it is this many metres inside the boundary, and as outside
    /// once it is this many metres outside, so GPS jitter along the edge does not flap.
    pub hysteresis_m: f64,
    pub alert_on_enter: bool,
    pub alert_on_exit: bool,
    pub severity: Severity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Above,
    Below,
}

/// A numeric property above/below a threshold for at least `duration_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdRule {
    pub id: String,
    pub name: String,
    pub kinds: KindFilter,
    pub property: String,
    pub comparison: Comparison,
    pub threshold: f64,
    pub duration_ms: i64,
    pub severity: Severity,
}

/// An entity silent for longer than `factor` × its usual interval (and at least `min_silence_ms`).
#[derive(Debug, Clone, PartialEq)]
pub struct StaleRule {
    pub id: String,
    pub kinds: KindFilter,
    pub factor: f64,
    pub min_silence_ms: i64,
    pub severity: Severity,
}

/// All rules of a city.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    pub geofences: Vec<Geofence>,
    pub thresholds: Vec<ThresholdRule>,
    pub stale: Vec<StaleRule>,
}

/// Runtime state of the rules, kept in snapshots so a restart neither repeats nor forgets alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleState {
    /// (entity, geofence id) pairs currently inside.
    pub inside: Vec<(EntityId, String)>,
    /// (entity, threshold rule id, since when the condition holds, alert already raised).
    pub holding: Vec<(EntityId, String, Timestamp, bool)>,
    /// (entity, stale rule id) pairs already reported stale and not seen since.
    pub stale: Vec<(EntityId, String)>,
}

/// Rule indices per entity kind (indexed by `EntityKind::index`), so an update only visits the
/// rules that can apply to it.
fn by_kind<T>(rules: &[T], kinds: impl Fn(&T) -> KindFilter) -> Vec<Vec<u32>> {
    EntityKind::ALL
        .iter()
        .map(|k| (0..rules.len()).filter(|&i| kinds(&rules[i]).contains(*k)).map(|i| i as u32).collect())
        .collect()
}

fn for_kind(by_kind: &[Vec<u32>], kind: EntityKind) -> &[u32] {
    by_kind.get(kind.index()).map_or(&[][..], Vec::as_slice)
}
