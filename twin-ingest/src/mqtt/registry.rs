//! `[[sensors]]` of the city config: where fixed sensors stand and what they are.

use std::collections::HashMap;

use serde::Deserialize;
use twin_core::{EntityKind, Position};

/// One `[[sensors]]` entry.
///
/// ```toml
/// [[sensors]]
/// id = "flood-bach-dang-03"
/// kind = "flood_sensor"
/// lon = 108.2243
/// lat = 16.0610
/// name = "Bạch Đằng 03"        # optional
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    pub id: String,
    pub kind: EntityKind,
    pub lon: f64,
    pub lat: f64,
    #[serde(default)]
    pub name: Option<String>,
}

/// Sensor id → config, for messages that carry no position or kind.
#[derive(Debug, Clone, Default)]
pub struct SensorRegistry {
    by_id: HashMap<String, SensorConfig>,
}

impl SensorRegistry {
    pub fn new(sensors: impl IntoIterator<Item = SensorConfig>) -> Self {
        Self { by_id: sensors.into_iter().map(|s| (s.id.clone(), s)).collect() }
    }

    pub fn get(&self, id: &str) -> Option<&SensorConfig> {
        self.by_id.get(id)
    }

    pub fn position(&self, id: &str) -> Option<Position> {
        self.get(id).map(|s| Position::new(s.lon, s.lat))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
