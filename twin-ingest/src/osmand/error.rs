//! Why an OsmAnd request could not be turned into an observation.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum OsmandError {
    /// A required parameter (`id`, `lat`, `lon`) is absent or empty.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// A parameter that must be a number is not one (or is not finite).
    #[error("parameter {field} is not a number: {value:?}")]
    BadNumber { field: &'static str, value: String },
    /// Latitude/longitude outside WGS84 ranges.
    #[error("({lat}, {lon}) is not a WGS84 position")]
    BadPosition { lat: f64, lon: f64 },
    /// A timestamp that is neither Unix seconds, Unix milliseconds nor ISO 8601.
    #[error("bad timestamp {0:?}")]
    BadTimestamp(String),
    /// A malformed query string escape or JSON body.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The device is not in the registry and the registry rejects unknown devices.
    #[error("unknown device {0:?}")]
    UnknownDevice(String),
}

impl OsmandError {
    /// A short stable name for counters and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            OsmandError::Missing(_) => "missing_field",
            OsmandError::BadNumber { .. } => "bad_number",
            OsmandError::BadPosition { .. } => "bad_position",
            OsmandError::BadTimestamp(_) => "bad_timestamp",
            OsmandError::Malformed(_) => "malformed",
            OsmandError::UnknownDevice(_) => "unknown_device",
        }
    }
}
