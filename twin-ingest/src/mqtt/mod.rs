//! Sensor readings over MQTT: topic pattern, JSON payload, sensor registry and VN_AQI.
//!
//! Everything here is pure (no I/O): the connector in `crate::connectors::mqtt` feeds it.
//!
//! # Topic
//! Default pattern `city/{kind}/{sensor_id}` (configurable; `{kind}` is optional in a pattern,
//! `+` matches any one level). `{kind}` is an entity kind name (`flood_sensor`, `rain_gauge`,
//! `air_quality_station`, `water_quality_station`) or a short alias (`flood`, `rain`, `air`, `aq`,
//! `water`). A pattern without `{kind}` takes the kind from the sensor registry or the quantity.
//!
//! # Payload (UTF-8 JSON object)
//! ```json
//! {"value": 0.42, "unit": "m", "time": "2026-11-24T03:00:00+07:00",
//!  "quantity": "water_depth", "lat": 16.06, "lon": 108.22, "battery": 87}
//! ```
//! - `value` (number, required) in `unit` (optional; the quantity's default unit when absent).
//! - `quantity` (optional; default by kind: flood → `water_depth`, rain → `rain_rate`,
//!   air → `pm25`, water quality → `wqi`). Known quantities and their stored property:
//!
//! | quantity | units accepted | property |
//! |---|---|---|
//! | `water_depth` | `m` (default), `cm`, `mm` | `water_depth_m` |
//! | `rain_rate` | `mm/h` (default), `mm/hr` | `rain_mm_h` |
//! | `pm25` | `ug/m3` (default), `µg/m³`, `µg/m3` | `pm25_ugm3` + `vn_aqi` + `vn_aqi_category` |
//! | `pm10` | `ug/m3` (default), `µg/m³`, `µg/m3` | `pm10_ugm3` |
//! | `wqi` | `` (index 0–100) | `wqi` (Vietnamese water-quality index) |
//! | `ph` | `` | `ph` |
//! | `dissolved_oxygen` | `mg/l` (default) | `do_mgl` |
//! | `turbidity` | `ntu` (default) | `turbidity_ntu` |
//!
//! - `time`: RFC 3339 text, or epoch seconds / milliseconds (a number above 10^11 is milliseconds);
//!   absent → the time the message was received.
//! - `lat` / `lon` (optional, WGS84 degrees): else the position from the `[[sensors]]` registry.
//! - Any other key with a scalar value (number, text, bool) is kept as a property; nested values
//!   are skipped.

mod aqi;
mod decode;
mod error;
mod registry;
mod topic;

pub use aqi::{vn_aqi, VnAqiCategory};
pub use decode::{decode, Quantity};
pub use error::MqttError;
pub use registry::{SensorConfig, SensorRegistry};
pub use topic::{TopicMatch, TopicPattern, TopicPatternError, DEFAULT_PATTERN};
