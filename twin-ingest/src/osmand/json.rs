//! The JSON body form sent by newer Traccar Client versions.

use serde::Deserialize;
use serde_json::Value;

use super::{non_negative, normalise_heading, parse_timestamp, Fix, OsmandError};

#[derive(Deserialize)]
struct Body {
    device_id: Option<Value>,
    location: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Location {
    timestamp: Option<Value>,
    coords: Option<Coords>,
    battery: Option<Battery>,
    is_moving: Option<bool>,
    odometer: Option<f64>,
}

#[derive(Deserialize, Default)]
struct Coords {
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// m/s in this form.
    speed: Option<f64>,
    heading: Option<f64>,
    altitude: Option<f64>,
    accuracy: Option<f64>,
}

#[derive(Deserialize, Default)]
struct Battery {
    /// 0..1
    level: Option<f64>,
    is_charging: Option<bool>,
}

/// Parses a JSON body into its fixes (one, or several when `location` is an array).
pub fn parse_json(body: &[u8]) -> Result<Vec<Fix>, OsmandError> {
    let body: Body = serde_json::from_slice(body).map_err(|e| OsmandError::Malformed(e.to_string()))?;
    let device_id = match body.device_id {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(OsmandError::Missing("device_id")),
    };
    let locations = match body.location {
        Some(Value::Array(items)) => items,
        Some(v @ Value::Object(_)) => vec![v],
        _ => return Err(OsmandError::Missing("location")),
    };
    locations
        .into_iter()
        .map(|v| {
            let loc: Location = serde_json::from_value(v).map_err(|e| OsmandError::Malformed(e.to_string()))?;
            to_fix(device_id.clone(), loc)
        })
        .collect()
}

fn to_fix(device_id: String, loc: Location) -> Result<Fix, OsmandError> {
    let mut fix = Fix { device_id, ..Fix::default() };
    fix.time = match loc.timestamp {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_timestamp(&s)?),
        Some(Value::Number(n)) => Some(parse_timestamp(&n.to_string())?),
        Some(other) => return Err(OsmandError::BadTimestamp(other.to_string())),
    };
    let c = loc.coords.unwrap_or_default();
    let lat = c.latitude.ok_or(OsmandError::Missing("coords.latitude"))?;
    let lon = c.longitude.ok_or(OsmandError::Missing("coords.longitude"))?;
    fix.set_position(lat, lon)?;
    fix.speed_mps = c.speed.and_then(non_negative);
    fix.heading = c.heading.and_then(normalise_heading);
    fix.altitude_m = c.altitude.filter(|a| a.is_finite());
    fix.accuracy_m = c.accuracy.and_then(non_negative);
    if let Some(b) = loc.battery {
        fix.battery_percent = b.level.filter(|l| l.is_finite() && *l >= 0.0).map(|l| (l * 100.0).min(100.0));
        fix.charging = b.is_charging;
    }
    fix.moving = loc.is_moving;
    fix.odometer_m = loc.odometer.and_then(non_negative);
    Ok(fix)
}
