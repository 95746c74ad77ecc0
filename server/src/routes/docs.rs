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
