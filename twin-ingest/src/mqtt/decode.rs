//! JSON payload → [`Observation`].

use serde_json::{Map, Value};
use twin_core::{EntityKind, Observation, Position, PropertyValue, Timestamp};

use super::{vn_aqi, MqttError, SensorRegistry, TopicPattern};

/// A measured quantity with its canonical unit and property name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    WaterDepth,
    RainRate,
    Pm25,
    Pm10,
    Wqi,
    Ph,
    DissolvedOxygen,
    Turbidity,
}

impl Quantity {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "water_depth" | "water_level" => Self::WaterDepth,
            "rain_rate" | "rainfall" => Self::RainRate,
            "pm25" | "pm2_5" => Self::Pm25,
            "pm10" => Self::Pm10,
            "wqi" => Self::Wqi,
            "ph" => Self::Ph,
            "dissolved_oxygen" | "do" => Self::DissolvedOxygen,
            "turbidity" => Self::Turbidity,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::WaterDepth => "water_depth",
            Self::RainRate => "rain_rate",
            Self::Pm25 => "pm25",
            Self::Pm10 => "pm10",
            Self::Wqi => "wqi",
            Self::Ph => "ph",
            Self::DissolvedOxygen => "dissolved_oxygen",
            Self::Turbidity => "turbidity",
        }
    }

    /// The property the canonical value is stored under.
    pub fn property(self) -> &'static str {
        match self {
            Self::WaterDepth => "water_depth_m",
            Self::RainRate => "rain_mm_h",
            Self::Pm25 => "pm25_ugm3",
            Self::Pm10 => "pm10_ugm3",
            Self::Wqi => "wqi",
            Self::Ph => "ph",
            Self::DissolvedOxygen => "do_mgl",
            Self::Turbidity => "turbidity_ntu",
        }
    }

    /// The quantity a kind measures when the payload does not say.
    pub fn default_for(kind: EntityKind) -> Option<Self> {
        match kind {
            EntityKind::FloodSensor => Some(Self::WaterDepth),
            EntityKind::RainGauge => Some(Self::RainRate),
            EntityKind::AirQualityStation => Some(Self::Pm25),
            EntityKind::WaterQualityStation => Some(Self::Wqi),
            _ => None,
        }
    }

    fn kind(self) -> EntityKind {
        match self {
            Self::WaterDepth => EntityKind::FloodSensor,
            Self::RainRate => EntityKind::RainGauge,
            Self::Pm25 | Self::Pm10 => EntityKind::AirQualityStation,
            Self::Wqi | Self::Ph | Self::DissolvedOxygen | Self::Turbidity => EntityKind::WaterQualityStation,
        }
    }

    /// Divisor to the canonical unit (dividing keeps 35 cm at exactly 0.35 m), or None when the
    /// unit is not accepted.
    fn unit_factor(self, unit: &str) -> Option<f64> {
        let u = unit.trim().to_ascii_lowercase();
        match (self, u.as_str()) {
            (Self::WaterDepth, "m" | "") => Some(1.0),
            (Self::WaterDepth, "cm") => Some(100.0),
            (Self::WaterDepth, "mm") => Some(1000.0),
            (Self::RainRate, "mm/h" | "mm/hr" | "") => Some(1.0),
            (Self::Pm25 | Self::Pm10, "ug/m3" | "µg/m³" | "µg/m3" | "μg/m³" | "μg/m3" | "") => Some(1.0),
            (Self::Wqi | Self::Ph, "") => Some(1.0),
            (Self::DissolvedOxygen, "mg/l" | "") => Some(1.0),
            (Self::Turbidity, "ntu" | "") => Some(1.0),
            _ => None,
        }
    }

    /// Physically plausible range of the canonical value (wider than any real reading).
    fn range(self) -> (f64, f64) {
        match self {
            Self::WaterDepth => (-1.0, 50.0),
            Self::RainRate => (0.0, 2000.0),
            Self::Pm25 | Self::Pm10 => (0.0, 5000.0),
            Self::Wqi => (0.0, 100.0),
            Self::Ph => (0.0, 14.0),
            Self::DissolvedOxygen => (0.0, 50.0),
            Self::Turbidity => (0.0, 100_000.0),
        }
    }
}

/// Keys with a meaning of their own: not copied into the properties.
const RESERVED: &[&str] = &["value", "unit", "time", "lat", "lon", "quantity", "kind"];

/// Decodes one message. `now` stands in for a missing `time`. The observation's `source` is left
/// empty for the connector to fill.
pub fn decode(
    topic: &str,
    payload: &[u8],
    pattern: &TopicPattern,
    sensors: &SensorRegistry,
    now: Timestamp,
) -> Result<Observation, MqttError> {
    let m = pattern.matches(topic)?;
    let value: Value = serde_json::from_slice(payload).map_err(|e| MqttError::Json(e.to_string()))?;
    let Value::Object(obj) = value else { return Err(MqttError::NotAnObject) };
    let registered = sensors.get(m.sensor_id);

    let quantity = match obj.get("quantity") {
        Some(Value::String(q)) => {
            Some(Quantity::parse(q).ok_or_else(|| MqttError::UnknownQuantity(q.chars().take(64).collect()))?)
        }
        Some(_) => return Err(MqttError::UnknownQuantity("(not text)".into())),
        None => None,
    };
    let kind = m
        .kind
        .or(registered.map(|s| s.kind))
        .or(quantity.map(Quantity::kind))
        .ok_or_else(|| MqttError::NoKind(m.sensor_id.to_owned()))?;
    let quantity = quantity
        .or_else(|| Quantity::default_for(kind))
        .ok_or_else(|| MqttError::UnknownQuantity(format!("(none given for {kind})")))?;

    let raw = obj.get("value").and_then(Value::as_f64).ok_or(MqttError::MissingValue)?;
    if !raw.is_finite() {
        return Err(MqttError::NonFinite);
    }
    let unit = match obj.get("unit") {
        Some(Value::String(u)) => u.as_str(),
        Some(Value::Null) | None => "",
        Some(_) => return Err(MqttError::BadUnit { quantity: quantity.name(), unit: "(not text)".into() }),
    };
    let factor = quantity
        .unit_factor(unit)
        .ok_or_else(|| MqttError::BadUnit { quantity: quantity.name(), unit: unit.chars().take(32).collect() })?;
    let value = raw / factor;
    let (lo, hi) = quantity.range();
    if !(lo..=hi).contains(&value) {
        return Err(MqttError::OutOfRange { quantity: quantity.name(), value });
    }

    let time = match obj.get("time") {
        None | Some(Value::Null) => now,
        Some(t) => parse_time(t)?,
    };
    let position = position(&obj)?.or_else(|| sensors.position(m.sensor_id));

    let mut o = Observation::new(kind, m.sensor_id, time);
    o.position = position;
    o.properties.insert(quantity.property().to_owned(), PropertyValue::Float(value));
    if quantity == Quantity::Pm25 {
        let (aqi, category) = vn_aqi(value);
        o.properties.insert("vn_aqi".into(), PropertyValue::Int(i64::from(aqi)));
        o.properties.insert("vn_aqi_category".into(), PropertyValue::Text(category.label().into()));
    }
    if let Some(name) = registered.and_then(|s| s.name.clone()) {
        o.properties.insert("name".into(), PropertyValue::Text(name));
    }
    for (k, v) in obj.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())) {
        let pv = match v {
            Value::Bool(b) => PropertyValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PropertyValue::Int(i),
                None => match n.as_f64() {
                    Some(f) if f.is_finite() => PropertyValue::Float(f),
                    _ => continue,
                },
            },
            Value::String(s) => PropertyValue::Text(s.clone()),
            // Properties are flat by design: nested values have no place to go.
            Value::Null | Value::Array(_) | Value::Object(_) => continue,
        };
        o.properties.entry(k.clone()).or_insert(pv);
    }
    Ok(o)
}

fn parse_time(t: &Value) -> Result<Timestamp, MqttError> {
    match t {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| Timestamp::from_millis(d.timestamp_millis()))
            .map_err(|e| MqttError::BadTime(format!("{:?}: {e}", s.chars().take(64).collect::<String>()))),
        Value::Number(n) => {
            let f =
                n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).ok_or_else(|| MqttError::BadTime(n.to_string()))?;
            // Epoch seconds until year 5138; anything larger is milliseconds.
            let ms = if f < 1e11 { f * 1000.0 } else { f };
            if ms > 1e14 {
                return Err(MqttError::BadTime(n.to_string()));
            }
            Ok(Timestamp::from_millis(ms.round() as i64))
        }
        _ => Err(MqttError::BadTime("neither text nor a number".into())),
    }
}

fn position(obj: &Map<String, Value>) -> Result<Option<Position>, MqttError> {
    let lat = obj.get("lat").filter(|v| !v.is_null());
    let lon = obj.get("lon").filter(|v| !v.is_null());
    match (lat, lon) {
        (None, None) => Ok(None),
        (lat, lon) => {
            let (la, lo) = (lat.and_then(Value::as_f64), lon.and_then(Value::as_f64));
            match (la, lo) {
                (Some(la), Some(lo))
                    if la.is_finite()
                        && lo.is_finite()
                        && (-90.0..=90.0).contains(&la)
                        && (-180.0..=180.0).contains(&lo) =>
                {
                    Ok(Some(Position::new(lo, la)))
                }
                _ => Err(MqttError::BadPosition { lat: la, lon: lo }),
            }
        }
    }
}
