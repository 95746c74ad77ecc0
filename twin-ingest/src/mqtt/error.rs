use thiserror::Error;

/// Why a message was refused. [`MqttError::reason`] is the short label counted per feed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MqttError {
    #[error("topic {0:?} does not match the pattern")]
    TopicMismatch(String),
    #[error("unknown sensor kind {0:?} in the topic")]
    UnknownKind(String),
    #[error("payload is not JSON: {0}")]
    Json(String),
    #[error("payload is not a JSON object")]
    NotAnObject,
    #[error("payload has no numeric \"value\"")]
    MissingValue,
    #[error("value is not finite")]
    NonFinite,
    #[error("unknown quantity {0:?}")]
    UnknownQuantity(String),
    #[error("unit {unit:?} is not accepted for {quantity}")]
    BadUnit { quantity: &'static str, unit: String },
    #[error("{quantity} = {value} is out of range")]
    OutOfRange { quantity: &'static str, value: f64 },
    #[error("bad time: {0}")]
    BadTime(String),
    #[error("bad position: lat {lat:?}, lon {lon:?}")]
    BadPosition { lat: Option<f64>, lon: Option<f64> },
    #[error("sensor id is empty or longer than 128 bytes")]
    BadSensorId,
    #[error("no kind for sensor {0:?}: not in the topic, the registry or the quantity")]
    NoKind(String),
}

impl MqttError {
    /// Short, stable label for counters (`rejected{reason=…}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TopicMismatch(_) => "topic_mismatch",
            Self::UnknownKind(_) => "unknown_kind",
            Self::Json(_) => "bad_json",
            Self::NotAnObject => "not_an_object",
            Self::MissingValue => "missing_value",
            Self::NonFinite => "non_finite",
            Self::UnknownQuantity(_) => "unknown_quantity",
            Self::BadUnit { .. } => "bad_unit",
            Self::OutOfRange { .. } => "out_of_range",
            Self::BadTime(_) => "bad_time",
            Self::BadPosition { .. } => "bad_position",
            Self::BadSensorId => "bad_sensor_id",
            Self::NoKind(_) => "no_kind",
        }
    }
}
