//! A small GeoJSON (RFC 7946) reader and writer between `serde_json` values and `geo` geometries.
//!
//! Only what reference layers need: the seven geometry types, Features and FeatureCollections.
//! Errors carry a short reason; the loader adds the file and feature index.

use geo::{Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::{json, Map, Value};

/// Why a GeoJSON document or geometry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoJsonError {
    #[error("missing \"type\" member")]
    MissingType,
    #[error("\"features\" is not an array")]
    FeaturesNotArray,
    #[error("expected a FeatureCollection or Feature, found \"{0}\"")]
    UnexpectedType(String),
    #[error("not a Feature (\"type\" must be \"Feature\")")]
    NotAFeature,
    #[error("\"properties\" is not an object")]
    PropertiesNotObject,
    #[error("geometry has no \"type\"")]
    GeometryWithoutType,
    #[error("\"geometries\" is not an array")]
    GeometriesNotArray,
    #[error("{0} has no \"coordinates\"")]
    NoCoordinates(String),
    #[error("unknown geometry type \"{0}\"")]
    UnknownGeometry(String),
    #[error("expected an array of coordinates, found {0}")]
    NotAnArray(String),
    #[error("invalid position {0}")]
    InvalidPosition(String),
    #[error("a line needs at least 2 positions, found {0}")]
    ShortLine(usize),
    #[error("a polygon ring needs at least 4 positions and must be closed")]
    BadRing,
    #[error("a polygon needs an exterior ring")]
    NoExterior,
}

/// A feature as read from a file: `None` geometry is legal GeoJSON (`"geometry": null`).
pub(crate) struct RawFeature {
    pub geometry: Option<Geometry<f64>>,
    pub properties: Map<String, Value>,
}

/// Reads the features of a FeatureCollection (or of a single Feature). On failure returns the index
/// of the offending feature (if any) and the reason.
pub(crate) fn read_features(doc: &Value) -> Result<Vec<RawFeature>, (Option<usize>, GeoJsonError)> {
    let kind = doc.get("type").and_then(Value::as_str).ok_or((None, GeoJsonError::MissingType))?;
    match kind {
        "FeatureCollection" => {
            let features =
                doc.get("features").and_then(Value::as_array).ok_or((None, GeoJsonError::FeaturesNotArray))?;
            features.iter().enumerate().map(|(i, f)| read_feature(f).map_err(|e| (Some(i), e))).collect()
        }
        "Feature" => Ok(vec![read_feature(doc).map_err(|e| (Some(0), e))?]),
        other => Err((None, GeoJsonError::UnexpectedType(short_str(other)))),
    }
}

fn read_feature(f: &Value) -> Result<RawFeature, GeoJsonError> {
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(GeoJsonError::NotAFeature);
    }
    let geometry = match f.get("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => Some(read_geometry(g)?),
    };
    let properties = match f.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(GeoJsonError::PropertiesNotObject),
    };
    Ok(RawFeature { geometry, properties })
}

/// Parses one GeoJSON geometry object.
pub fn read_geometry(g: &Value) -> Result<Geometry<f64>, GeoJsonError> {
    let kind = g.get("type").and_then(Value::as_str).ok_or(GeoJsonError::GeometryWithoutType)?;
    if kind == "GeometryCollection" {
        let parts = g.get("geometries").and_then(Value::as_array).ok_or(GeoJsonError::GeometriesNotArray)?;
        let geoms = parts.iter().map(read_geometry).collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(GeometryCollection(geoms)));
    }
    let c = g.get("coordinates").ok_or_else(|| GeoJsonError::NoCoordinates(short_str(kind)))?;
    Ok(match kind {
        "Point" => Geometry::Point(Point(coord(c)?)),
        "MultiPoint" => {
            Geometry::MultiPoint(MultiPoint(array(c)?.iter().map(|p| coord(p).map(Point)).collect::<Result<_, _>>()?))
        }
        "LineString" => Geometry::LineString(line(c)?),
        "MultiLineString" => {
            Geometry::MultiLineString(MultiLineString(array(c)?.iter().map(line).collect::<Result<_, _>>()?))
        }
        "Polygon" => Geometry::Polygon(polygon(c)?),
        "MultiPolygon" => {
            Geometry::MultiPolygon(MultiPolygon(array(c)?.iter().map(polygon).collect::<Result<_, _>>()?))
        }
        other => return Err(GeoJsonError::UnknownGeometry(short_str(other))),
    })
}

fn array(v: &Value) -> Result<&Vec<Value>, GeoJsonError> {
    v.as_array().ok_or_else(|| GeoJsonError::NotAnArray(short(v)))
}

fn coord(v: &Value) -> Result<Coord<f64>, GeoJsonError> {
    let a = array(v)?;
    let num = |i: usize| a.get(i).and_then(Value::as_f64).filter(|f| f.is_finite());
    match (num(0), num(1)) {
        (Some(x), Some(y)) if a.len() <= 3 => Ok(Coord { x, y }),
        _ => Err(GeoJsonError::InvalidPosition(short(v))),
    }
}

fn line(v: &Value) -> Result<LineString<f64>, GeoJsonError> {
    let pts = array(v)?.iter().map(coord).collect::<Result<Vec<_>, _>>()?;
    if pts.len() < 2 {
        return Err(GeoJsonError::ShortLine(pts.len()));
    }
    Ok(LineString(pts))
}

fn polygon(v: &Value) -> Result<Polygon<f64>, GeoJsonError> {
    let mut rings = array(v)?.iter().map(|r| {
        let ring = line(r)?;
        if ring.0.len() < 4 || ring.0.first() != ring.0.last() {
            return Err(GeoJsonError::BadRing);
        }
        Ok(ring)
    });
    let exterior = rings.next().ok_or(GeoJsonError::NoExterior)??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn short(v: &Value) -> String {
    short_str(&v.to_string())
}

/// Caps echoed input so an error message stays small whatever the document holds.
fn short_str(s: &str) -> String {
    if s.len() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Writes a geometry as a GeoJSON geometry object.
pub fn write_geometry(g: &Geometry<f64>) -> Value {
    fn pos(c: &Coord<f64>) -> Value {
        json!([c.x, c.y])
    }
    fn line(l: &LineString<f64>) -> Value {
        Value::Array(l.0.iter().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> Value {
        Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(line).collect())
    }
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pos(&p.0)}),
        Geometry::MultiPoint(m) => {
            json!({"type": "MultiPoint", "coordinates": m.0.iter().map(|p| pos(&p.0)).collect::<Vec<_>>()})
        }
        Geometry::LineString(l) => json!({"type": "LineString", "coordinates": line(l)}),
        Geometry::MultiLineString(m) => {
            json!({"type": "MultiLineString", "coordinates": m.0.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
        Geometry::MultiPolygon(m) => {
            json!({"type": "MultiPolygon", "coordinates": m.0.iter().map(poly).collect::<Vec<_>>()})
        }
        Geometry::GeometryCollection(c) => {
            json!({"type": "GeometryCollection", "geometries": c.0.iter().map(write_geometry).collect::<Vec<_>>()})
        }
        // Types GeoJSON lacks are written as the polygon they denote.
        Geometry::Line(l) => json!({"type": "LineString", "coordinates": [pos(&l.start), pos(&l.end)]}),
        Geometry::Rect(r) => write_geometry(&Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => write_geometry(&Geometry::Polygon(t.to_polygon())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_geometry_type() {
        let docs = [
            json!({"type": "Point", "coordinates": [108.2, 16.0]}),
            json!({"type": "MultiPoint", "coordinates": [[108.2, 16.0], [108.3, 16.1]]}),
            json!({"type": "LineString", "coordinates": [[108.2, 16.0], [108.3, 16.1]]}),
            json!({"type": "MultiLineString", "coordinates": [[[108.2, 16.0], [108.3, 16.1]]]}),
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}),
            json!({"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]]}),
        ];
        for d in docs {
            let g = read_geometry(&d).unwrap();
            assert_eq!(write_geometry(&g), d);
        }
    }

    #[test]
    fn rejects_bad_geometries_with_a_reason() {
        let open_ring = json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]]]});
        assert!(read_geometry(&open_ring).unwrap_err().to_string().contains("closed"));
        let text = json!({"type": "Point", "coordinates": ["a", 1]});
        assert!(read_geometry(&text).unwrap_err().to_string().contains("invalid position"));
        let one = json!({"type": "LineString", "coordinates": [[1.0, 2.0]]});
        assert!(read_geometry(&one).unwrap_err().to_string().contains("at least 2"));
        let odd = json!({"type": "Circle", "coordinates": [1.0, 2.0]});
        assert!(read_geometry(&odd).unwrap_err().to_string().contains("Circle"));
    }

    #[test]
    fn reports_the_index_of_a_bad_feature() {
        let doc = json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1.0]}},
        ]});
        let Err((idx, _)) = read_features(&doc) else { panic!("must fail") };
        assert_eq!(idx, Some(1));
    }
}
