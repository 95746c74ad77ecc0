//! Live entity layers: one point layer per entity kind at high zoom, H3 hexagons with counts per kind
//! at low zoom (entities would be an unreadable — and huge — cloud of points there).

use std::collections::BTreeMap;

use twin_core::{BBox, Entity, EntityKind, KindFilter, PropertyValue, Timestamp, Twin};

use crate::coord::TileCoord;
use crate::mvt::clip::{clip_ring, ClipRect};
use crate::mvt::{LayerBuilder, MvtValue, TileGeometry, Val, EXTENT};
use crate::TileError;

/// Name of the aggregated layer at low zoom.
pub const HEXAGON_LAYER: &str = "hexagons";

/// How live tiles are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveOptions {
    pub extent: u32,
    /// Buffer around the tile in tile units (points near the edge appear in both tiles).
    pub buffer: u32,
    /// At this zoom and below, entities are aggregated into H3 hexagons.
    pub hexagon_max_zoom: u8,
    /// An entity is stale when silent longer than `max(stale_factor × its mean interval, stale_min_ms)`.
    pub stale_factor: f64,
    pub stale_min_ms: i64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self { extent: EXTENT, buffer: 64, hexagon_max_zoom: 11, stale_factor: 3.0, stale_min_ms: 300_000 }
    }
}

/// The H3 resolution drawn at a zoom: hexagons stay about 15–25 px wide on a 256 px tile
/// (each resolution is √7 ≈ 2.65× finer, each zoom 2×), capped at the model's index resolution.
pub fn hexagon_resolution(z: u8, index_res: h3o::Resolution) -> h3o::Resolution {
    let r = (f64::from(z) * 0.72 - 0.2).round().clamp(0.0, 15.0) as u8;
    let r = r.min(u8::from(index_res));
    h3o::Resolution::try_from(r).unwrap_or(index_res)
}

/// Is this entity stale at `now`?
pub fn is_stale(e: &Entity, now: Timestamp, opts: &LiveOptions) -> bool {
    let silence = now.as_millis().saturating_sub(e.last_seen.as_millis());
    let limit = (opts.stale_factor * e.mean_interval_ms).max(opts.stale_min_ms as f64);
    silence as f64 > limit
}

/// The live layers of one tile for the kinds in `kinds`.
/// Which live entities a tile shows: a caller's grants (the server implements it over its
/// policy). Hexagons aggregate, so they count only the kinds shown in full.
pub trait EntityFilter: Sync {
    /// Kinds of which some entities are shown.
    fn kinds(&self) -> KindFilter;
    /// Kinds whose every entity is shown.
    fn whole_kinds(&self) -> KindFilter;
    fn shows(&self, e: &Entity) -> bool;
}

/// Shows every entity.
pub struct ShowAll;

impl EntityFilter for ShowAll {
    fn kinds(&self) -> KindFilter {
        KindFilter::ALL
    }
    fn whole_kinds(&self) -> KindFilter {
        KindFilter::ALL
    }
    fn shows(&self, _: &Entity) -> bool {
        true
    }
}

fn both(a: KindFilter, b: KindFilter) -> KindFilter {
    a.kinds().filter(|k| b.contains(*k)).collect()
}

pub fn live_layers(
    twin: &Twin,
    tile: TileCoord,
    kinds: KindFilter,
    now: Timestamp,
    opts: &LiveOptions,
    filter: &dyn EntityFilter,
) -> Result<Vec<LayerBuilder>, TileError> {
    if tile.z() <= opts.hexagon_max_zoom {
        return Ok(hexagon_layer(twin, tile, both(kinds, filter.whole_kinds()), opts)?.into_iter().collect());
    }
    let kinds = both(kinds, filter.kinds());
    let whole = filter.whole_kinds();
    let b = tile.buffered_bounds(opts.buffer, opts.extent);
    let bbox = to_bbox(b.west, b.south, b.east, b.north)?;
    let rect = ClipRect::buffered(opts.extent, opts.buffer);
    let mut layers: BTreeMap<EntityKind, LayerBuilder> = BTreeMap::new();
    let mut attrs: Vec<(&'static str, Val<'_>)> = Vec::with_capacity(10);
    let hits = twin.in_bbox(bbox, kinds);
    let per_layer = hits.len() / kinds.kinds().count().max(1);
    for e in hits {
        let Some(p) = e.position else { continue };
        if !whole.contains(e.kind) && !filter.shows(e) {
            continue;
        }
        let (px, py) = tile.project(p.lon, p.lat, opts.extent);
        if !rect.contains((px, py)) {
            continue;
        }
        let layer = layers
            .entry(e.kind)
            .or_insert_with(|| LayerBuilder::with_capacity(e.kind.as_str(), opts.extent, per_layer));
        entity_attributes(e, now, opts, &mut attrs);
        layer.add_point(Some(e.id.0), (px.round() as i32, py.round() as i32), &attrs);
    }
    Ok(layers.into_values().collect())
}

/// The attributes of an entity feature into `out` (absent values are left out, as MVT has no null).
pub fn entity_attributes<'a>(
    e: &'a Entity,
    now: Timestamp,
    opts: &LiveOptions,
    out: &mut Vec<(&'static str, Val<'a>)>,
) {
    out.clear();
    out.push(("id", Val::Uint(e.id.0)));
    out.push(("kind", Val::Str(e.kind.as_str())));
    out.push(("external_id", Val::Str(&e.external_id)));
    out.push(("name", Val::Str(e.name())));
    if let Some(agency) = e.properties.get("agency").and_then(PropertyValue::as_str) {
        out.push(("agency", Val::Str(agency)));
    }
    if let Some(s) = &e.status {
        out.push(("status", Val::Str(s)));
    }
    if let Some(s) = e.speed {
        out.push(("speed", Val::Double(s)));
    }
    if let Some(h) = e.heading {
        out.push(("heading", Val::Double(h)));
    }
    out.push(("last_seen", Val::Int(e.last_seen.as_millis().div_euclid(1000))));
    out.push(("stale", Val::Bool(is_stale(e, now, opts))));
}

fn to_bbox(w: f64, s: f64, e: f64, n: f64) -> Result<BBox, TileError> {
    BBox::new(w.max(-180.0), s.max(-90.0), e.min(180.0), n.min(90.0))
        .map_err(|_| TileError::InvalidPosition { lon: w, lat: s })
}

/// H3 cells counted over the tile (plus a margin of about one cell so hexagons straddling the edge
/// are drawn by both tiles), clipped to the buffered tile.
fn hexagon_layer(
    twin: &Twin,
    tile: TileCoord,
    kinds: KindFilter,
    opts: &LiveOptions,
) -> Result<Option<LayerBuilder>, TileError> {
    let res = hexagon_resolution(tile.z(), twin.config().h3_resolution);
    let b = tile.bounds();
    let margin_lat = 2.5 * res.edge_length_km() / 111.0;
    let mid_lat = ((b.north + b.south) / 2.0).to_radians().cos().max(0.05);
    let margin_lon = margin_lat / mid_lat;
    let bbox = to_bbox(b.west - margin_lon, b.south - margin_lat, b.east + margin_lon, b.north + margin_lat)?;
    let cells = twin.h3_counts(bbox, res, kinds).map_err(|e| TileError::H3(e.to_string()))?;
    let rect = ClipRect::buffered(opts.extent, opts.buffer);
    let mut layer = LayerBuilder::new(HEXAGON_LAYER, opts.extent);
    let mut ring: Vec<(f64, f64)> = Vec::with_capacity(7);
    for c in cells {
        ring.clear();
        ring.extend(c.cell.boundary().iter().map(|ll| tile.project(ll.lng(), ll.lat(), opts.extent)));
        let clipped = clip_ring(&rect, &ring);
        let pts: Vec<(i32, i32)> = clipped.iter().map(|p| (p.0.round() as i32, p.1.round() as i32)).collect();
        let mut attrs: Vec<(&str, MvtValue)> = Vec::with_capacity(3 + EntityKind::COUNT);
        attrs.push(("h3", c.cell.to_string().into()));
        attrs.push(("resolution", MvtValue::Uint(u64::from(u8::from(res)))));
        attrs.push(("total", MvtValue::Uint(c.counts.total())));
        for (k, n) in c.counts.iter() {
            attrs.push((k.as_str(), MvtValue::Uint(u64::from(n))));
        }
        layer.add_feature(Some(u64::from(c.cell)), &TileGeometry::Polygons(vec![vec![pts]]), &attrs);
    }
    Ok((!layer.is_empty()).then_some(layer))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_zoom() {
        let idx = h3o::Resolution::Nine;
        assert_eq!(u8::from(hexagon_resolution(10, idx)), 7);
        assert_eq!(u8::from(hexagon_resolution(0, idx)), 0);
        assert_eq!(u8::from(hexagon_resolution(20, idx)), 9);
        let mut last = 0;
        for z in 0..=24 {
            let r = u8::from(hexagon_resolution(z, idx));
            assert!(r >= last);
            last = r;
        }
    }
}
