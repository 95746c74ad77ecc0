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

mod describe;
mod engine;
mod fence_shape;
mod geofence;
mod stale;
mod threshold;
mod validate;

pub use engine::RuleEngine;

use serde::{Deserialize, Serialize};

use crate::{EntityId, EntityKind, KindFilter, Position, Timestamp};

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

/// What fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    GeofenceEnter,
    GeofenceExit,
    ThresholdAbove,
    ThresholdBelow,
    Stale,
}

/// An alert raised by a rule about one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub time: Timestamp,
    pub entity: EntityId,
    pub entity_kind: EntityKind,
    pub external_id: String,
    /// Id of the rule that fired (from the city config).
    pub rule: String,
    pub rule_kind: RuleKind,
    pub severity: Severity,
    pub message: String,
    pub position: Option<Position>,
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
