//! TileJSON 3.0.0 documents for our tile layers.

use serde_json::{json, Map, Value};
use twin_core::EntityKind;

use crate::layer::{TileLayer, TileRenderer};
use crate::live::HEXAGON_LAYER;

/// Where and what the city is, for `bounds` and `center`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileJsonContext<'a> {
    /// Scheme and authority the client used, e.g. `http://127.0.0.1:8080`.
    pub base_url: &'a str,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub minzoom: u8,
    pub maxzoom: u8,
    pub attribution: &'a str,
}

/// Attributes of a live entity feature and their TileJSON types.
pub const ENTITY_FIELDS: &[(&str, &str)] = &[
    ("id", "Number"),
    ("kind", "String"),
    ("external_id", "String"),
    ("name", "String"),
    ("agency", "String"),
    ("status", "String"),
    ("speed", "Number"),
    ("heading", "Number"),
    ("last_seen", "Number"),
    ("stale", "Boolean"),
];

fn fields(list: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(list.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>())
}

fn kind_layer(k: EntityKind, renderer: &TileRenderer, ctx: &TileJsonContext<'_>) -> Value {
    json!({
        "id": k.as_str(),
        "description": format!("live {} positions", k.as_str()),
        "minzoom": renderer.live.hexagon_max_zoom.saturating_add(1).max(ctx.minzoom),
        "maxzoom": ctx.maxzoom,
        "fields": fields(ENTITY_FIELDS.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))),
    })
}

fn hexagon_layer(renderer: &TileRenderer, ctx: &TileJsonContext<'_>) -> Value {
    let mut f = vec![
        ("h3".to_owned(), "String".to_owned()),
        ("resolution".to_owned(), "Number".to_owned()),
        ("total".to_owned(), "Number".to_owned()),
    ];
    f.extend(EntityKind::ALL.iter().map(|k| (k.as_str().to_owned(), "Number".to_owned())));
    json!({
        "id": HEXAGON_LAYER,
        "description": "live entities counted per H3 cell, per kind",
        "minzoom": ctx.minzoom,
        "maxzoom": renderer.live.hexagon_max_zoom,
        "fields": fields(f),
    })
}

/// The TileJSON of a layer.
pub fn tilejson(layer: &TileLayer, renderer: &TileRenderer, ctx: &TileJsonContext<'_>) -> Value {
    let vector_layers: Vec<Value> = match layer {
        TileLayer::Live => std::iter::once(hexagon_layer(renderer, ctx))
            .chain(EntityKind::ALL.iter().map(|k| kind_layer(*k, renderer, ctx)))
            .collect(),
        TileLayer::Kind(k) => vec![hexagon_layer(renderer, ctx), kind_layer(*k, renderer, ctx)],
        TileLayer::Reference(_) | TileLayer::Basemap => renderer
            .reference
            .layers
            .iter()
            .filter(|l| matches!(layer, TileLayer::Basemap) || l.name == layer.name())
            .map(|l| {
                json!({
                    "id": l.name,
                    "minzoom": l.minzoom.max(ctx.minzoom),
                    "maxzoom": ctx.maxzoom,
                    "fields": fields(l.fields.iter().map(|(a, b)| (a.clone(), (*b).to_owned()))),
                })
            })
            .collect(),
    };
    let [w, s, e, n] = ctx.bounds;
    let center_zoom = if layer.is_live() { 12 } else { 13 }.clamp(ctx.minzoom, ctx.maxzoom);
    json!({
        "tilejson": "3.0.0",
        "name": layer.name(),
        "scheme": "xyz",
        "tiles": [format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", ctx.base_url, layer.name())],
        "minzoom": ctx.minzoom,
        "maxzoom": ctx.maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, center_zoom],
        "attribution": ctx.attribution,
        "vector_layers": vector_layers,
    })
}

/// TileJSON of the terrain raster-dem source (Terrarium encoding).
pub fn terrain_tilejson(ctx: &TileJsonContext<'_>) -> Value {
    let [w, s, e, n] = ctx.bounds;
    json!({
        "tilejson": "3.0.0",
        "name": "terrain",
        "scheme": "xyz",
        "type": "raster-dem",
        "encoding": "terrarium",
        "tileSize": 256,
        "tiles": [format!("{}/tiles/terrain/{{z}}/{{x}}/{{y}}.png", ctx.base_url)],
        "minzoom": ctx.minzoom,
        "maxzoom": ctx.maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 11],
        "attribution": ctx.attribution,
    })
}

/// TileJSON of a vector layer drawn outside the renderer (a PostGIS table or view): one vector
/// layer named `name` with the given `(attribute, type)` fields.
pub fn external_tilejson(name: &str, fields_of: &[(String, String)], ctx: &TileJsonContext<'_>) -> Value {
    let [w, s, e, n] = ctx.bounds;
    json!({
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", ctx.base_url, name)],
        "minzoom": ctx.minzoom,
        "maxzoom": ctx.maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 13u8.clamp(ctx.minzoom, ctx.maxzoom)],
        "attribution": ctx.attribution,
        "vector_layers": [{
            "id": name,
            "minzoom": ctx.minzoom,
            "maxzoom": ctx.maxzoom,
            "fields": fields(fields_of.iter().cloned()),
        }],
    })
}
