//! The OsmAnd tracking protocol, as spoken by the Traccar Client app and many GPS trackers.
//!
//! Two forms reach `/ingest/osmand`:
//! - query string or form body: `id=&lat=&lon=&timestamp=&speed=&bearing=&altitude=&accuracy=&batt=`
//!   (`deviceid` for `id`, `heading` for `bearing`, `location=lat,lon` for `lat`/`lon` are accepted).
//!   **`speed` is in knots**, as in OsmAnd and Traccar (Traccar Client converts m/s to knots).
//! - the JSON body of newer Traccar Client versions: `{"device_id": "...", "location": {"timestamp":
//!   ISO 8601, "coords": {"latitude", "longitude", "speed" (m/s), "heading", "altitude",
//!   "accuracy"}, "battery": {"level": 0..1, "is_charging"}, "is_moving", "odometer"}}`, where
//!   `location` may also be an array of such objects. Negative speed/heading mean "unknown".
//!
//! Other parameters are kept as attributes, as Traccar does (`status=en_route&task=incident`):
//! `status` becomes the entity's status, the rest its properties (see [`Fix::attributes`]).
//!
//! Timestamps may be Unix seconds, Unix milliseconds or ISO 8601 ([`parse_timestamp`]); a fix
//! without one gets the receive time. [`DeviceRegistry`] maps device ids to an entity kind and
//! properties (agency, call sign); unknown devices are rejected unless the registry says otherwise.

mod error;
mod json;
mod query;
mod registry;
mod time;

pub use error::OsmandError;
pub use json::parse_json;
pub use query::{parse_query, percent_decode};
pub use registry::{Device, DeviceRegistry, UnknownDevices};
pub use time::{parse_timestamp, SECONDS_LIMIT};

use twin_core::{Position, Timestamp};

/// Metres per second in one knot.
pub const KNOTS_TO_MPS: f64 = 1852.0 / 3600.0;
/// Source name used for OsmAnd observations unless the caller sets another.
pub const SOURCE: &str = "osmand";

/// One position report from a tracker, in SI units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fix {
    pub device_id: String,
    pub time: Option<Timestamp>,
    pub position: Option<Position>,
    pub speed_mps: Option<f64>,
    /// Degrees clockwise from true north, `[0, 360)`.
    pub heading: Option<f64>,
    pub altitude_m: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// 0–100.
    pub battery_percent: Option<f64>,
    pub charging: Option<bool>,
    pub moving: Option<bool>,
    pub odometer_m: Option<f64>,
    /// Parameters the protocol does not define, kept as Traccar keeps them (at most
    /// [`MAX_ATTRIBUTES`], names of `[A-Za-z0-9_]`, values typed as bool, integer, number or text).
    /// `status` becomes the entity's status, the others its properties.
    pub attributes: Vec<(String, twin_core::PropertyValue)>,
}

/// Most extra parameters kept per report; further ones are ignored.
pub const MAX_ATTRIBUTES: usize = 16;
/// Longest extra parameter name and value kept (longer ones are ignored).
const MAX_ATTRIBUTE_NAME: usize = 32;
const MAX_ATTRIBUTE_VALUE: usize = 256;

/// An extra parameter as a typed property, or None when it is not kept.
fn attribute(name: &str, value: &str) -> Option<(String, twin_core::PropertyValue)> {
    use twin_core::PropertyValue;
    let name_ok = !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !name_ok || value.len() > MAX_ATTRIBUTE_VALUE {
        return None;
    }
    let v = match value {
        "true" => PropertyValue::Bool(true),
        "false" => PropertyValue::Bool(false),
        _ => match (value.parse::<i64>(), value.parse::<f64>()) {
            (Ok(i), _) => PropertyValue::Int(i),
            (_, Ok(f)) if f.is_finite() => PropertyValue::Float(f),
            _ => PropertyValue::Text(value.to_owned()),
        },
    };
    Some((name.to_owned(), v))
}

impl Fix {
    /// Checks a position read from `lat`/`lon` and stores it.
    fn set_position(&mut self, lat: f64, lon: f64) -> Result<(), OsmandError> {
        let p = Position::new(lon, lat);
        if !p.is_valid() {
            return Err(OsmandError::BadPosition { lat, lon });
        }
        self.position = Some(p);
        Ok(())
    }
}

/// A heading in `[0, 360)`; negative (unknown) or non-finite values give `None`.
fn normalise_heading(h: f64) -> Option<f64> {
    (h.is_finite() && h >= 0.0).then(|| h % 360.0)
}

/// A speed in m/s; negative (unknown) or non-finite values give `None`.
fn non_negative(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}
