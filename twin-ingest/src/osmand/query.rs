//! The query-string (and form body) form: `id=..&lat=..&lon=..`.

use super::{
    attribute, non_negative, normalise_heading, parse_timestamp, Fix, OsmandError, KNOTS_TO_MPS, MAX_ATTRIBUTES,
};

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
pub fn percent_decode(s: &str) -> Result<String, OsmandError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = byte else {
                    return Err(OsmandError::Malformed(format!("bad % escape at byte {i}")));
                };
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| OsmandError::Malformed("query is not UTF-8".into()))
}

fn number(field: &'static str, value: &str) -> Result<f64, OsmandError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| OsmandError::BadNumber { field, value: value.to_owned() })
}

/// Parses a query string (without the leading `?`) or a form body. Unknown parameters become
/// [`Fix::attributes`]; empty optional parameters count as absent.
pub fn parse_query(query: &str) -> Result<Fix, OsmandError> {
    let mut fix = Fix::default();
    let (mut lat, mut lon) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(k)?, percent_decode(v)?);
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "id" | "deviceid" => fix.device_id = value.to_owned(),
            "lat" => lat = Some(number("lat", value)?),
            "lon" => lon = Some(number("lon", value)?),
            "location" => {
                let (a, b) =
                    value.split_once(',').ok_or(OsmandError::BadNumber { field: "location", value: value.into() })?;
                lat = Some(number("location", a)?);
                lon = Some(number("location", b)?);
            }
            "timestamp" => fix.time = Some(parse_timestamp(value)?),
            "speed" => fix.speed_mps = non_negative(number("speed", value)? * KNOTS_TO_MPS),
            "bearing" | "heading" => fix.heading = normalise_heading(number("bearing", value)?),
            "altitude" => fix.altitude_m = Some(number("altitude", value)?),
            "accuracy" => fix.accuracy_m = non_negative(number("accuracy", value)?),
            "batt" | "battery" => fix.battery_percent = Some(number("batt", value)?.clamp(0.0, 100.0)),
            "charge" => fix.charging = Some(matches!(value, "true" | "1")),
            "odometer" => fix.odometer_m = non_negative(number("odometer", value)?),
            _ => {
                if fix.attributes.len() < MAX_ATTRIBUTES && !fix.attributes.iter().any(|(k, _)| *k == key) {
                    fix.attributes.extend(attribute(&key, value));
                }
            }
        }
    }
    if fix.device_id.is_empty() {
        return Err(OsmandError::Missing("id"));
    }
    match (lat, lon) {
        (Some(lat), Some(lon)) => fix.set_position(lat, lon)?,
        (None, _) => return Err(OsmandError::Missing("lat")),
        (_, None) => return Err(OsmandError::Missing("lon")),
    }
    Ok(fix)
}
