//! Offline export of reference layers: every tile of the chosen layers over an area and zoom range.

use serde_json::json;

use crate::coord::{tile_range, LonLatBounds, TileCoord};
use crate::mvt::encode_tile;
use crate::pmtiles::{ArchiveInfo, TILE_TYPE_MVT};
use crate::{TileError, TileRenderer};

#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Reference layer names; all layers when empty.
    pub layers: Vec<String>,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
}

/// The tiles covering the bounds at every zoom of the range.
pub fn covering_tiles(opts: &ExportOptions) -> Result<Vec<TileCoord>, TileError> {
    let [west, south, east, north] = opts.bounds;
    let mut out = Vec::new();
    for z in opts.minzoom..=opts.maxzoom {
        let (nw, se) = tile_range(LonLatBounds { west, south, east, north }, z)?;
        for x in nw.x()..=se.x() {
            for y in nw.y()..=se.y() {
                out.push(TileCoord::new(z, x, y)?);
            }
        }
    }
    Ok(out)
}

/// Checks the layer names against the renderer.
pub fn check_layers(renderer: &TileRenderer, opts: &ExportOptions) -> Result<(), TileError> {
    match opts.layers.iter().find(|n| renderer.reference.layer(n).is_none()) {
        Some(n) => Err(TileError::UnknownLayer(n.clone())),
        None => Ok(()),
    }
}

/// Draws one tile of the chosen layers (zero bytes when empty).
pub fn export_tile(renderer: &TileRenderer, opts: &ExportOptions, tile: TileCoord) -> Vec<u8> {
    let eps = if tile.z() >= renderer.full_detail_zoom { 0.0 } else { renderer.simplify };
    let layers: Vec<_> = renderer
        .reference
        .layers
        .iter()
        .filter(|l| opts.layers.is_empty() || opts.layers.contains(&l.name))
        .map(|l| l.render(tile, renderer.live.extent, renderer.live.buffer, eps))
        .collect();
    encode_tile(&layers)
}

/// Header fields and metadata (with `vector_layers`) of the archive.
pub fn archive_info(renderer: &TileRenderer, opts: &ExportOptions, name: &str, attribution: &str) -> ArchiveInfo {
    let vector_layers: Vec<_> = renderer
        .reference
        .layers
        .iter()
        .filter(|l| opts.layers.is_empty() || opts.layers.contains(&l.name))
        .map(|l| {
            let fields: serde_json::Map<String, serde_json::Value> =
                l.fields.iter().map(|(k, t)| (k.clone(), json!(t))).collect();
            json!({"id": l.name, "fields": fields, "minzoom": l.minzoom.max(opts.minzoom), "maxzoom": opts.maxzoom})
        })
        .collect();
    let [w, s, e, n] = opts.bounds;
    ArchiveInfo {
        tile_type: TILE_TYPE_MVT,
        minzoom: opts.minzoom,
        maxzoom: opts.maxzoom,
        bounds: opts.bounds,
        center: [(w + e) / 2.0, (s + n) / 2.0],
        center_zoom: opts.minzoom.max(opts.maxzoom.saturating_sub(2)),
        metadata: json!({
            "name": name,
            "format": "pbf",
            "type": "baselayer",
            "attribution": attribution,
            "vector_layers": vector_layers,
        }),
    }
}
