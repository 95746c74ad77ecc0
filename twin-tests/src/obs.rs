//! Observation bodies in the ingest wire format, and readers for the GeoJSON the server returns.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Value};

/// Da Nang's bounding box (min lon, min lat, max lon, max lat).
pub const DA_NANG_BBOX: [f64; 4] = [107.9, 15.8, 108.5, 16.3];

/// Mean Earth radius (IUGG) used for the reference great-circle distance.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Wall-clock now in ms. Tests stamp observations with recent times so no expiry rule drops them.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-23T08:00:00.000Z`.
pub fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// One observation as the ingest endpoint takes it.
pub fn observation(kind: &str, id: &str, time_ms: i64, lon: f64, lat: f64) -> Value {
    json!({
        "kind": kind,
        "id": id,
        "time": rfc3339(time_ms),
        "lon": lon,
        "lat": lat,
        "heading": 90.0,
        "speed": 5.0,
        "properties": {},
    })
}

/// NDJSON: one compact JSON value per line.
pub fn ndjson(lines: &[Value]) -> String {
    let mut out = String::with_capacity(lines.len() * 160);
    for v in lines {
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// `minx,miny,maxx,maxy` for query strings.
pub fn bbox_param(b: [f64; 4]) -> String {
    format!("{},{},{},{}", b[0], b[1], b[2], b[3])
}

/// Features of a FeatureCollection (empty if there are none).
pub fn features(collection: &Value) -> &[Value] {
    collection["features"].as_array().map_or(&[], Vec::as_slice)
}

/// A feature attribute: from `properties` first, else from the feature itself (`id` may be either).
pub fn attr<'a>(feature: &'a Value, key: &str) -> Option<&'a Value> {
    feature["properties"].get(key).filter(|v| !v.is_null()).or_else(|| feature.get(key).filter(|v| !v.is_null()))
}

pub fn attr_str<'a>(feature: &'a Value, key: &str) -> Option<&'a str> {
    attr(feature, key).and_then(Value::as_str)
}

/// The entity id as text, whether served as a number or a string.
pub fn entity_id(feature: &Value) -> Option<String> {
    attr(feature, "id").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `[lon, lat]` of a Point feature.
pub fn point(feature: &Value) -> Option<(f64, f64)> {
    let c = feature["geometry"]["coordinates"].as_array()?;
    Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?))
}

/// The feature with this external id, if any.
pub fn find_external<'a>(collection: &'a Value, external_id: &str) -> Option<&'a Value> {
    features(collection).iter().find(|f| attr_str(f, "external_id") == Some(external_id))
}

/// Great-circle distance in metres (haversine), an independent reference for the server's
/// geodesic distances (they agree to ~0.5 %).
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        // 2026-11-23T08:00:00Z is 1 795 420 800 s after the epoch.
        assert_eq!(rfc3339(1_795_420_800_000), "2026-11-23T08:00:00.000Z");
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = haversine_m((108.2, 16.0), (108.2, 17.0));
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn reads_attributes_from_properties_or_feature() {
        let f = json!({"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[108.2,16.05]},
                       "properties":{"kind":"bus","external_id":"b1"}});
        assert_eq!(entity_id(&f).as_deref(), Some("7"));
        assert_eq!(attr_str(&f, "kind"), Some("bus"));
        assert_eq!(point(&f), Some((108.2, 16.05)));
    }
}
