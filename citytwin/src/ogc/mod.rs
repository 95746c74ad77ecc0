//! OGC API – Features over the reference layers and the live entities: which collections exist,
//! their metadata, and the selection of items for a query. HTTP glue is in `routes::ogc`.

pub mod html;
pub mod query;

use std::collections::BTreeMap;

use geo::{BoundingRect, Coord, Geometry, Intersects, Point, Rect};
use serde_json::{json, Map, Value};
use twin_core::{BBox, Entity, EntityKind, Twin};
use twin_layers::cql2::Cql2Feature;
use twin_layers::{write_geometry, Layer, ReferenceLayers};

use query::ItemsQuery;
use twin_runtime::clock::rfc3339;
use twin_runtime::geojson::entity_feature;

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GREGORIAN: &str = "http://www.opengis.net/def/uri/ISO-8601/0/Gregorian";

/// The conformance classes this implementation meets.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

/// Where a collection's features come from.
pub enum Source<'a> {
    Layer(&'a Layer),
    Live(EntityKind),
}

impl<'a> Source<'a> {
    pub fn find(layers: &'a ReferenceLayers, id: &str) -> Option<Self> {
        layers.get(id).map(Source::Layer).or_else(|| id.parse::<EntityKind>().ok().map(Source::Live))
    }

    pub fn all(layers: &'a ReferenceLayers) -> Vec<Self> {
        let refs = layers.layers.iter().map(Source::Layer);
        refs.chain(EntityKind::ALL.iter().map(|k| Source::Live(*k))).collect()
    }

    pub fn id(&self) -> &str {
        match self {
            Source::Layer(l) => &l.name,
            Source::Live(k) => k.as_str(),
        }
    }
}

/// A page of items and how many matched in all.
#[derive(Default)]
pub struct Page {
    pub features: Vec<Value>,
    pub matched: usize,
}

/// A live entity as the filter sees it: its GeoJSON properties and its point.
struct LiveFeature {
    properties: Map<String, Value>,
    geometry: Option<Geometry<f64>>,
}

impl Cql2Feature for LiveFeature {
    fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        self.geometry.as_ref()
    }
}

fn rect(b: &BBox) -> Rect<f64> {
    Rect::new(Coord { x: b.min_lon, y: b.min_lat }, Coord { x: b.max_lon, y: b.max_lat })
}

pub fn layer_feature(layer: &Layer, index: usize) -> Option<Value> {
    let f = layer.features.get(index)?;
    Some(json!({"type": "Feature", "id": index, "geometry": write_geometry(&f.geometry), "properties": f.properties}))
}

pub fn select_layer(layer: &Layer, q: &ItemsQuery) -> Page {
    let bbox = q.bbox.as_ref().map(rect);
    let hits = layer.features.iter().enumerate().filter(|(_, f)| {
        bbox.is_none_or(|r| f.geometry.intersects(&r)) && q.filter.as_ref().is_none_or(|e| e.matches(*f))
    });
    let mut matched = 0;
    let mut features = Vec::new();
    for (i, _) in hits {
        if matched >= q.offset && features.len() < q.limit {
            features.extend(layer_feature(layer, i));
        }
        matched += 1;
    }
    Page { features, matched }
}

/// The entities of `kind` a query can match by time and bbox, copied without their tracks: all a
/// reader takes under the model's read lock (the CQL2 filter runs after it is released).
pub fn live_candidates(twin: &Twin, kind: EntityKind, q: &ItemsQuery) -> Vec<Entity> {
    twin.entities()
        .filter(|e| e.kind == kind)
        .filter(|e| q.datetime.is_none_or(|r| r.contains(e.last_seen)))
        .filter(|e| q.bbox.is_none_or(|b| e.position.is_some_and(|p| b.contains(p))))
        .map(twin_runtime::live::without_track)
        .collect()
}

/// One page of copied entities: filtered by CQL2, in id order.
pub fn select_entities(mut entities: Vec<Entity>, q: &ItemsQuery) -> Page {
    // Stable order so that offsets page through the same sequence.
    entities.sort_by_key(|e| e.id);
    let mut matched = 0;
    let mut features = Vec::new();
    for e in &entities {
        let feature = entity_feature(e);
        if let Some(filter) = &q.filter {
            let view = LiveFeature {
                properties: feature.get("properties").and_then(Value::as_object).cloned().unwrap_or_default(),
                geometry: e.position.map(|p| Geometry::Point(Point::new(p.lon, p.lat))),
            };
            if !filter.matches(&view) {
                continue;
            }
        }
        if matched >= q.offset && features.len() < q.limit {
            features.push(feature);
        }
        matched += 1;
    }
    Page { features, matched }
}

/// Spatial (and for live kinds temporal) extent of a collection.
pub fn extent(src: &Source<'_>, twin: &Twin, city: &BBox) -> Value {
    let city_box = [city.min_lon, city.min_lat, city.max_lon, city.max_lat];
    match src {
        Source::Layer(l) => {
            let r = l.features.iter().filter_map(|f| f.geometry.bounding_rect()).reduce(|a, b| {
                Rect::new(
                    Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            });
            let bbox = r.map_or(city_box, |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
            json!({"spatial": {"bbox": [bbox], "crs": CRS84}})
        }
        Source::Live(kind) => {
            let mut bbox: Option<[f64; 4]> = None;
            let mut times: Option<(i64, i64)> = None;
            for e in twin.entities().filter(|e| e.kind == *kind) {
                let t = e.last_seen.as_millis();
                times = Some(times.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
                if let Some(p) = e.position {
                    let b = bbox.get_or_insert([p.lon, p.lat, p.lon, p.lat]);
                    *b = [b[0].min(p.lon), b[1].min(p.lat), b[2].max(p.lon), b[3].max(p.lat)];
                }
            }
            let interval = match times {
                Some((a, b)) => json!([[rfc3339(twin_core::Timestamp(a)), rfc3339(twin_core::Timestamp(b))]]),
                None => json!([[null, null]]),
            };
            json!({
                "spatial": {"bbox": [bbox.unwrap_or(city_box)], "crs": CRS84},
                "temporal": {"interval": interval, "trs": GREGORIAN},
            })
        }
    }
}

pub fn title(src: &Source<'_>) -> (String, String) {
    match src {
        Source::Layer(l) => {
            (format!("Reference layer: {}", l.name), format!("{} features of the {} layer", l.features.len(), l.name))
        }
        Source::Live(k) => {
            (format!("Live: {k}"), format!("Latest state of every {k} entity; time is when it was last seen"))
        }
    }
}

/// JSON Schema of the properties a filter may name.
pub fn queryables(src: &Source<'_>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    out.insert("geometry".to_owned(), json!({"format": "geometry-any", "x-ogc-role": "primary-geometry"}));
    match src {
        Source::Layer(l) => {
            for f in &l.features {
                for (k, v) in &f.properties {
                    let t = match v {
                        Value::String(_) => "string",
                        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                        Value::Number(_) => "number",
                        Value::Bool(_) => "boolean",
                        _ => continue,
                    };
                    let entry = out.entry(k.clone()).or_insert_with(|| json!({"type": t}));
                    // A property that is integer here and fractional there is a number.
                    if entry["type"] == "integer" && t == "number" {
                        *entry = json!({"type": "number"});
                    }
                }
            }
        }
        Source::Live(_) => {
            for (k, t) in [
                ("id", "integer"),
                ("kind", "string"),
                ("external_id", "string"),
                ("name", "string"),
                ("source", "string"),
                ("heading", "number"),
                ("speed", "number"),
                ("status", "string"),
            ] {
                out.insert(k.to_owned(), json!({"type": t}));
            }
            out.insert("time".to_owned(), json!({"type": "string", "format": "date-time"}));
        }
    }
    out
}
