//! Schema-only types for the OpenAPI document (the handlers build these as JSON directly).

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A GeoJSON Feature. Entity features carry `id`, `kind`, `external_id`, `name`, `source`, `time`
/// (RFC 3339), `heading`, `speed`, `status` and the entity's free-form properties.
#[derive(ToSchema, Serialize)]
pub struct Feature {
    #[schema(example = "Feature")]
    r#type: String,
    id: u64,
    /// Point (entities), LineString (tracks) or Polygon (H3 cells); null without a position.
    #[schema(value_type = Object)]
    geometry: (),
    #[schema(value_type = Object)]
    properties: (),
}

/// A GeoJSON FeatureCollection.
#[derive(ToSchema, Serialize)]
pub struct FeatureCollection {
    #[schema(example = "FeatureCollection")]
    r#type: String,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    features: Vec<Feature>,
}

/// An alert of any source — a rule of the model, the feed-health monitor, a camera — numbered in
/// one sequence by the durable log.
#[derive(ToSchema, Serialize)]
pub struct Alert {
    id: u64,
    /// RFC 3339, milliseconds.
    time: String,
    /// The entity concerned; null for a feed or an entity the model no longer holds.
    entity: Option<u64>,
    /// The entity's kind; for a feed, the kind of entity it reports.
    entity_kind: String,
    /// The entity's external id; for a feed, the feed's name.
    external_id: String,
    /// The configured rule or the monitor that raised it.
    rule: String,
    /// geofence_enter, geofence_exit, threshold_above, threshold_below, stale, feed_stale,
    /// camera_queue, camera_stopped_vehicle, camera_restricted_zone, fire_alarm
    rule_kind: String,
    /// minor, moderate, severe, extreme (CAP 1.2)
    severity: String,
    message: String,
    /// `[lon, lat]`
    position: Option<[f64; 2]>,
    /// The feed of a `feed_stale` alert.
    source: Option<String>,
    /// Structured facts of a raised alert.
    #[schema(value_type = Option<Object>)]
    detail: Option<()>,
}

/// `GET /api/alerts`: the most recent alerts, newest first.
#[derive(ToSchema, Serialize)]
pub struct AlertList {
    alerts: Vec<Alert>,
}
