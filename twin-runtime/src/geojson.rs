//! GeoJSON in and out: entities as Features, alerts as JSON, polygons parsed from request bodies.

use crate::clock::rfc3339;
use geo::{LineString, MultiPolygon, Polygon};
use serde_json::{json, Map, Value};
use twin_core::{Alert, Entity, EntityId, EntityKind, Position, Properties, PropertyValue, Timestamp};

fn property_json(v: &PropertyValue) -> Value {
    match v {
        PropertyValue::Bool(b) => Value::Bool(*b),
        PropertyValue::Int(i) => Value::from(*i),
        PropertyValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        PropertyValue::Text(s) => Value::String(s.clone()),
    }
}

fn point(p: Option<Position>) -> Value {
    match p {
        Some(p) => json!({"type": "Point", "coordinates": [p.lon, p.lat]}),
        None => Value::Null,
    }
}

/// The fields every entity feature carries; free-form properties first so they cannot shadow them.
fn entity_properties(
    id: EntityId,
    kind: EntityKind,
    external_id: &str,
    source: &str,
    name: &str,
    e: (Timestamp, Option<f64>, Option<f64>, Option<&str>),
    props: &Properties,
) -> Map<String, Value> {
    let mut m: Map<String, Value> = props.iter().map(|(k, v)| (k.clone(), property_json(v))).collect();
    let (time, heading, speed, status) = e;
    m.insert("id".into(), Value::from(id.0));
    m.insert("kind".into(), Value::from(kind.as_str()));
    m.insert("external_id".into(), Value::from(external_id));
    m.insert("name".into(), Value::from(name));
    m.insert("source".into(), Value::from(source));
    m.insert("time".into(), Value::from(rfc3339(time)));
    m.insert("heading".into(), heading.map_or(Value::Null, Value::from));
    m.insert("speed".into(), speed.map_or(Value::Null, Value::from));
    m.insert("status".into(), status.map_or(Value::Null, Value::from));
    m
}

/// A GeoJSON Feature for an entity (geometry null when it has no position).
pub fn entity_feature(e: &Entity) -> Value {
    let props = entity_properties(
        e.id,
        e.kind,
        &e.external_id,
        &e.source,
        e.name(),
        (e.last_seen, e.heading, e.speed, e.status.as_deref()),
        &e.properties,
    );
    json!({"type": "Feature", "id": e.id.0, "geometry": point(e.position), "properties": props})
}

/// Like [`entity_feature`] with a `distance_m` property.
pub fn entity_feature_with_distance(e: &Entity, distance_m: f64) -> Value {
    let mut f = entity_feature(e);
    if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("distance_m".into(), serde_json::Number::from_f64(distance_m).map_or(Value::Null, Value::Number));
    }
    f
}

pub fn feature_collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "numberReturned": features.len(), "features": features})
}

/// An alert as JSON with its time in RFC 3339. Every source (rules, stale feeds, cameras) has
/// the same shape; a feed alert also names its `source` (the feed), and a raised alert its facts
/// in `detail`.
pub fn alert_json(a: &Alert) -> Value {
    let mut v = json!({
        "id": a.id.0,
        "time": rfc3339(a.time),
        "entity": a.entity.map(|e| e.0),
        "entity_kind": a.entity_kind.as_str(),
        "external_id": a.external_id,
        "rule": a.rule,
        "rule_kind": a.rule_kind,
        "severity": a.severity,
        "message": a.message,
        "position": a.position.map(|p| [p.lon, p.lat]),
    });
    if a.rule_kind == twin_core::RuleKind::FeedStale {
        v["source"] = json!(a.external_id);
    }
    if !a.detail.is_empty() {
        v["detail"] = Value::Object(a.detail.iter().map(|(k, p)| (k.clone(), property_json(p))).collect());
    }
    v
}

/// Builds a polygon from one ring of [lon, lat] pairs (closed automatically).
pub fn ring_to_multipolygon(ring: &[[f64; 2]]) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let coords: Vec<Value> = ring.iter().map(|[x, y]| json!([x, y])).collect();
    bounded(MultiPolygon(vec![polygon_from_rings(&Value::Array(vec![Value::Array(coords)]))?]))
}

/// Most vertices an area from a request may have (all rings and parts together): a point-in-polygon
/// test per entity costs one pass over them, so this bounds the CPU a polygon filter can take.
pub const MAX_AREA_VERTICES: usize = 10_000;

/// Why a GeoJSON area was refused; the message names what is wrong for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GeoJsonError(pub String);

impl From<&str> for GeoJsonError {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for GeoJsonError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

fn count_vertices(area: &MultiPolygon<f64>) -> usize {
    area.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum()
}

fn bounded(area: MultiPolygon<f64>) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let n = count_vertices(&area);
    if n > MAX_AREA_VERTICES {
        return Err(format!("the area has {n} vertices; at most {MAX_AREA_VERTICES} are accepted").into());
    }
    Ok(area)
}

fn position(v: &Value) -> Result<(f64, f64), GeoJsonError> {
    let arr = v.as_array().ok_or("a position must be an array [lon, lat]")?;
    let lon = arr.first().and_then(Value::as_f64).ok_or("a position needs a numeric lon")?;
    let lat = arr.get(1).and_then(Value::as_f64).ok_or("a position needs a numeric lat")?;
    if !Position::new(lon, lat).is_valid() {
        return Err(format!("[{lon}, {lat}] is not a WGS84 position").into());
    }
    Ok((lon, lat))
}

fn polygon_from_rings(rings: &Value) -> Result<Polygon<f64>, GeoJsonError> {
    let rings = rings.as_array().ok_or("polygon coordinates must be an array of rings")?;
    let mut parsed = Vec::with_capacity(rings.len());
    for ring in rings {
        let pts = ring.as_array().ok_or("a ring must be an array of positions")?;
        let line: Vec<(f64, f64)> = pts.iter().map(position).collect::<Result<_, _>>()?;
        if line.len() < 3 {
            return Err("a ring needs at least 3 positions".into());
        }
        // LineString::from + Polygon::new close the ring if needed.
        parsed.push(LineString::from(line));
    }
    let mut it = parsed.into_iter();
    let exterior = it.next().ok_or("a polygon needs an exterior ring")?;
    Ok(Polygon::new(exterior, it.collect()))
}

/// A Polygon or MultiPolygon geometry, or a Feature holding one.
pub fn parse_area(v: &Value) -> Result<MultiPolygon<f64>, GeoJsonError> {
    bounded(parse_area_any(v)?)
}

fn parse_area_any(v: &Value) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let ty = v.get("type").and_then(Value::as_str).ok_or("missing GeoJSON `type`")?;
    match ty {
        "Feature" => parse_area_any(v.get("geometry").ok_or("the Feature has no geometry")?),
        "Polygon" => Ok(MultiPolygon(vec![polygon_from_rings(v.get("coordinates").ok_or("missing coordinates")?)?])),
        "MultiPolygon" => {
            let polys = v.get("coordinates").and_then(Value::as_array).ok_or("missing coordinates")?;
            Ok(MultiPolygon(polys.iter().map(polygon_from_rings).collect::<Result<_, _>>()?))
        }
        other => Err(format!("expected a Polygon, MultiPolygon or Feature, got `{other}`").into()),
    }
}

/// Every polygon of a geometry, Feature or FeatureCollection (for geofence files).
pub fn collect_polygons(v: &Value) -> Result<MultiPolygon<f64>, GeoJsonError> {
    if v.get("type").and_then(Value::as_str) == Some("FeatureCollection") {
        let feats = v.get("features").and_then(Value::as_array).ok_or("FeatureCollection without features")?;
        let mut all = Vec::new();
        for f in feats {
            all.extend(parse_area_any(f)?.0);
        }
        if all.is_empty() {
            return Err("no polygon in the FeatureCollection".into());
        }
        return bounded(MultiPolygon(all));
    }
    parse_area(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn areas_over_the_vertex_cap_are_refused() {
        let ring = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    json!([108.2 + 0.01 * a.cos(), 16.05 + 0.01 * a.sin()])
                })
                .collect()
        };
        // The ring is closed by one more vertex: n positions give n + 1 vertices.
        let ok = json!({"type": "Polygon", "coordinates": [ring(MAX_AREA_VERTICES - 1)]});
        assert!(parse_area(&ok).is_ok());
        let big = json!({"type": "Polygon", "coordinates": [ring(MAX_AREA_VERTICES + 1)]});
        let err = parse_area(&big).unwrap_err();
        assert!(err.0.contains("vertices"), "{err}");
        let parts = json!({"type": "MultiPolygon", "coordinates": [[ring(6_000)], [ring(6_000)]]});
        assert!(parse_area(&parts).is_err(), "the cap counts every part");
    }

    #[test]
    fn parses_feature_polygon_and_rejects_bad_positions() {
        let f = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
            "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}});
        assert_eq!(parse_area(&f).unwrap().0.len(), 1);
        let bad = json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 95.0], [1.0, 1.0]]]});
        assert!(parse_area(&bad).unwrap_err().0.contains("95"));
        assert!(parse_area(&json!({"type": "Point"})).unwrap_err().0.contains("Point"));
    }
}
