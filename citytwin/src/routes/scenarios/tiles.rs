//! Live congestion and scenario results as tiles.
//!
//! - `/tiles/congestion/{z}/{x}/{y}.mvt` and `/tiles/congestion.json`: road segments with a
//!   congestion index from the current vehicle speeds (layer `congestion`).
//! - `/api/scenarios/{id}/tiles/{name}/{z}/{x}/{y}.png`: water depth of a flood run (`depth` at the
//!   end, `max_depth` over the run) as 256-pixel PNGs, coloured by depth class, transparent when dry.
//! - `/api/scenarios/{id}/tiles/{name}/{z}/{x}/{y}.mvt`: result layers as vector tiles (`flooded`:
//!   flooded area per depth class; `closed_roads`, `flooded_roads`, `traffic_flows`, …).
//! - `/api/scenarios/{id}/tiles/{name}.json`: their TileJSON 3.0.
//!
//! Like the other tiles: ETag (process nonce + content version), `Cache-Control`, gzip for MVT when
//! accepted, 204 for an empty vector tile. A raster tile outside the flood grid is a transparent PNG.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use twin_core::EntityKind;
use twin_tiles::coord::MAX_LAT;
use twin_tiles::mvt::encode_tile;
use twin_tiles::raster::{depth_rgba, encode_png, tile_pixels, TILE_PX};
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::TileCoord;

use crate::problem::Problem;
use crate::routes::tiles::{self, accepts_gzip, base_url, matches_etag, parse_tile, with_headers};
use crate::state::AppState;
use twin_runtime::tile_service::Rendered;
use twin_scenarios::jobs::{CongestionSnapshot, GeoRaster, SpeedSample};

/// Congestion follows the live model: short client caching, revalidated by ETag.
const LIVE_CACHE: &str = "public, max-age=2, must-revalidate";
/// Results never change, but job ids restart with the process: a minute, then revalidate.
const RESULT_CACHE: &str = "public, max-age=60, must-revalidate";
const ATTRIBUTION: &str = "© OpenStreetMap contributors; SRTM: NASA/USGS";
/// The depth tile of a flood raster: the nearest cell to each pixel centre, coloured by depth; a
/// transparent PNG where the grid is dry or absent.
pub fn depth_png(r: &GeoRaster, tile: TileCoord) -> Result<Vec<u8>, twin_tiles::TileError> {
    let sample = |lon: f64, lat: f64| {
        let (x, y) = r.geo.to_grid(lon, lat);
        r.grid.cell_at(x, y).and_then(|(row, col)| r.grid.get(row, col))
    };
    encode_png(tile_pixels(tile, sample, depth_rgba).as_deref())
}

/// An MVT of a one-layer index (zero bytes when nothing falls in the tile).
fn vector_tile(st: &AppState, index: &ReferenceIndex, tile: TileCoord) -> Vec<u8> {
    let r = &st.tiles.renderer;
    let eps = if tile.z() >= r.full_detail_zoom { 0.0 } else { r.simplify };
    let layers: Vec<_> = index.layers.iter().map(|l| l.render(tile, r.live.extent, r.live.buffer, eps)).collect();
    encode_tile(&layers)
}

fn internal(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "scenario tile rendering failed");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "tile-error", e.to_string())
}

/// Renders an MVT on the blocking pool unless the ETag matches (304); gzip when accepted.
async fn render_mvt(
    render: impl FnOnce() -> Vec<u8> + Send + 'static,
    etag_of: impl Fn(bool) -> String,
    headers: &HeaderMap,
    cache: &'static str,
) -> Result<Response, Problem> {
    let gz = accepts_gzip(headers);
    let etag = etag_of(gz);
    if matches_etag(headers, &etag) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, cache));
    }
    let rendered = tokio::task::spawn_blocking(move || {
        let raw = render();
        let gzipped = gz && !raw.is_empty();
        Rendered { bytes: Arc::new(if gzipped { twin_tiles::compress::gzip(&raw) } else { raw }), gzipped }
    })
    .await
    .map_err(internal)?;
    Ok(tiles::mvt_response(rendered, &etag, cache))
}

/// Speed samples of buses and emergency vehicles, each vehicle's track oldest first and then its
/// latest state (the moving average runs in that order). Copied under the read lock only.
pub fn speed_samples(st: &AppState) -> Vec<SpeedSample> {
    let twin = st.twin.read();
    twin.entities()
        .filter(|e| {
            matches!(e.kind, EntityKind::Bus | EntityKind::Ambulance | EntityKind::FireTruck | EntityKind::PoliceUnit)
        })
        .flat_map(|e| {
            let track = e.track.iter().filter_map(|t| Some((t.position.lon, t.position.lat, t.speed?, t.heading)));
            let now = e.position.zip(e.speed).map(|(p, v)| (p.lon, p.lat, v, e.heading));
            track.chain(now).collect::<Vec<_>>()
        })
        .collect()
}

/// The congestion of the current speeds (computed on the blocking pool when the samples changed).
pub async fn congestion_snapshot(st: &AppState) -> Result<Arc<CongestionSnapshot>, Problem> {
    if st.layers.get("roads").is_none() {
        return Err(Problem::not_found("no `roads` layer"));
    }
    let samples = speed_samples(st);
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || st2.scenarios.congestion.snapshot(&st2.layers, &samples))
        .await
        .map_err(internal)?
        .ok_or_else(|| Problem::not_found("no `roads` layer"))
}

/// Congestion vector tile: road segments with `congestion` (0 free flow … 1 standstill),
/// `speed_ratio`, `samples`, `free_flow_kmh`, `edge`, `name`, `class`.
#[utoipa::path(get, path = "/tiles/congestion/{z}/{x}/{y}.mvt", tag = "tiles",
    params(("z" = u8, Path), ("x" = u32, Path), ("y" = u32, Path)),
    responses(
        (status = 200, content_type = "application/vnd.mapbox-vector-tile", description = "MVT 2.1 tile, layer `congestion`"),
        (status = 204, description = "no observed segment in this tile"),
        (status = 304, description = "unchanged since the ETag in If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn congestion_tile(
    State(st): State<AppState>,
    Path((z, x, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let tile = parse_tile(&z, &x, &file, ".mvt", twin_tiles::coord::MAX_ZOOM)?;
    let snap = congestion_snapshot(&st).await?;
    let (svc, version) = (st.tiles.clone(), snap.version);
    let etag_of = move |gz| svc.etag("congestion", tile, version, gz);
    let st2 = st.clone();
    render_mvt(move || vector_tile(&st2, &snap.index, tile), etag_of, &headers, LIVE_CACHE).await
}

fn vector_layer(id: &str, description: &str, fields: Value, maxzoom: u8) -> Value {
    json!({"id": id, "description": description, "minzoom": 0, "maxzoom": maxzoom, "fields": fields})
}

fn tilejson_doc(name: &str, tiles_url: String, bounds: [f64; 4], maxzoom: u8, extra: Map<String, Value>) -> Value {
    let [w, s, e, n] = bounds;
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": 0,
        "maxzoom": maxzoom,
        "bounds": [w, s.max(-MAX_LAT), e, n.min(MAX_LAT)],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 13.min(maxzoom)],
        "attribution": ATTRIBUTION,
    });
    if let Some(o) = doc.as_object_mut() {
        o.extend(extra);
    }
    doc
}

fn json_response(doc: Value) -> Response {
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// TileJSON 3.0.0 of the congestion layer.
#[utoipa::path(get, path = "/tiles/congestion.json", tag = "tiles",
    responses((status = 200, description = "TileJSON 3.0.0"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn congestion_tilejson(State(st): State<AppState>) -> Result<Response, Problem> {
    if st.layers.get("roads").is_none() {
        return Err(Problem::not_found("no `roads` layer"));
    }
    let b = st.city_bbox;
    let maxzoom = st.tiles.max_zoom();
    let fields = json!({
        "edge": "Number", "name": "String", "class": "String", "congestion": "Number",
        "speed_ratio": "Number", "free_flow_kmh": "Number", "samples": "Number",
    });
    let layer = vector_layer(
        "congestion",
        "road segments with a congestion index (0 free flow … 1 standstill) from live vehicle speeds",
        fields,
        maxzoom,
    );
    let mut extra = Map::new();
    extra.insert("vector_layers".into(), json!([layer]));
    let url = format!("{}/tiles/congestion/{{z}}/{{x}}/{{y}}.mvt", base_url(&st));
    Ok(json_response(tilejson_doc("congestion", url, [b.min_lon, b.min_lat, b.max_lon, b.max_lat], maxzoom, extra)))
}

fn job_of(st: &AppState, caller: &crate::auth::Caller, id: &str) -> Result<Arc<twin_scenarios::jobs::Job>, Problem> {
    super::visible_job(st, caller, id, twin_auth::Action::Read)
}

/// A tile of a scenario result: a depth raster (`.png`) or a result layer (`.mvt`).
#[utoipa::path(get, path = "/api/scenarios/{id}/tiles/{name}/{z}/{x}/{y}", tag = "scenarios",
    params(("id" = u64, Path), ("name" = String, Path, description = "`depth`, `max_depth` (PNG); `flooded`, `closed_roads`, `flooded_roads`, `flooded_buildings`, `traffic_flows` (MVT)"),
        ("z" = u8, Path), ("x" = u32, Path), ("y" = String, Path, description = "row with `.png` or `.mvt`")),
    responses(
        (status = 200, description = "PNG (depth) or MVT 2.1 tile"),
        (status = 204, description = "nothing in this vector tile"),
        (status = 304, description = "unchanged since the ETag in If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn result_tile(
    State(st): State<AppState>,
    caller: crate::auth::Caller,
    Path((id, name, z, x, file)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let job = job_of(&st, &caller, &id)?;
    let (raster, vector) = {
        let s = job.state.lock();
        (s.rasters.get(&name).cloned(), s.vector_tiles.get(&name).cloned())
    };
    let tag = format!("scenario-{}-{name}", job.id);
    if let Some(r) = raster {
        let tile = parse_tile(&z, &x, &file, ".png", twin_tiles::coord::MAX_ZOOM)?;
        let etag = st.tiles.etag(&tag, tile, 0, false);
        if matches_etag(&headers, &etag) {
            return Ok(with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, RESULT_CACHE));
        }
        let png =
            tokio::task::spawn_blocking(move || depth_png(&r, tile)).await.map_err(internal)?.map_err(internal)?;
        let res = (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], Bytes::from(png)).into_response();
        return Ok(with_headers(res, &etag, RESULT_CACHE));
    }
    let Some(index) = vector else {
        return Err(Problem::not_found(format!("scenario {id} has no tile layer `{name}` (yet)")));
    };
    let tile = parse_tile(&z, &x, &file, ".mvt", twin_tiles::coord::MAX_ZOOM)?;
    let svc = st.tiles.clone();
    let etag_of = move |gz| svc.etag(&tag, tile, 0, gz);
    let st2 = st.clone();
    render_mvt(move || vector_tile(&st2, &index, tile), etag_of, &headers, RESULT_CACHE).await
}

/// TileJSON 3.0.0 of a scenario result layer (`{name}.json`).
#[utoipa::path(get, path = "/api/scenarios/{id}/tiles/{name}.json", tag = "scenarios",
    params(("id" = u64, Path), ("name" = String, Path)),
    responses((status = 200, description = "TileJSON 3.0.0"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn result_tilejson(
    State(st): State<AppState>,
    caller: crate::auth::Caller,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let job = job_of(&st, &caller, &id)?;
    let name = file.strip_suffix(".json").ok_or_else(|| Problem::not_found(format!("no tile resource {file}")))?;
    let (raster, vector) = {
        let s = job.state.lock();
        (s.rasters.get(name).cloned(), s.vector_tiles.get(name).cloned())
    };
    let base = format!("{}/api/scenarios/{}/tiles/{name}", base_url(&st), job.id);
    let maxzoom = st.tiles.max_zoom();
    let mut extra = Map::new();
    let doc = if let Some(r) = raster {
        let (w, s) = r.geo.to_lonlat(r.grid.xll, r.grid.yll);
        let cs = r.grid.cellsize;
        let (e, n) = r.geo.to_lonlat(r.grid.xll + r.grid.ncols as f64 * cs, r.grid.yll + r.grid.nrows as f64 * cs);
        extra.insert("type".into(), json!("raster"));
        extra.insert("tileSize".into(), json!(TILE_PX));
        extra.insert(
            "description".into(),
            json!("water depth (m) by class: ≥0.01, ≥0.1, ≥0.3, ≥0.5, ≥1 m; transparent when dry"),
        );
        tilejson_doc(name, format!("{base}/{{z}}/{{x}}/{{y}}.png"), [w, s, e, n], maxzoom, extra)
    } else if let Some(index) = vector {
        let layers: Vec<Value> = index
            .layers
            .iter()
            .map(|l| {
                let fields = Value::Object(l.fields.iter().map(|(k, t)| (k.clone(), json!(t))).collect());
                vector_layer(&l.name, &format!("scenario {} result `{name}`", job.id), fields, maxzoom)
            })
            .collect();
        let bounds = index.layers.iter().find_map(|l| l.bounds()).unwrap_or_else(|| {
            let b = st.city_bbox;
            [b.min_lon, b.min_lat, b.max_lon, b.max_lat]
        });
        extra.insert("vector_layers".into(), json!(layers));
        tilejson_doc(name, format!("{base}/{{z}}/{{x}}/{{y}}.mvt"), bounds, maxzoom, extra)
    } else {
        return Err(Problem::not_found(format!("scenario {id} has no tile layer `{name}` (yet)")));
    };
    Ok(json_response(doc))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use twin_scenarios::flood::Grid;
    use twin_scenarios::jobs::GeoRef;

    #[test]
    fn depth_tiles_sample_the_cell_under_each_pixel() {
        // 2 × 2 cells of 0.01° (≈1 km) from (108.0, 16.0); only the north-east cell is wet.
        let cs = 1000.0;
        let grid = Grid { ncols: 2, nrows: 2, xll: 0.0, yll: 0.0, cellsize: cs, data: vec![0.0, 0.7, 0.0, 0.0] };
        let geo = GeoRef { west: 108.0, south: 16.0, dx_deg: 0.01, dy_deg: 0.01, cellsize: cs };
        let r = GeoRaster { grid, geo };
        let wet = |tile: TileCoord| {
            let sample = |lon: f64, lat: f64| {
                let (x, y) = r.geo.to_grid(lon, lat);
                r.grid.cell_at(x, y).and_then(|(row, col)| r.grid.get(row, col))
            };
            tile_pixels(tile, sample, depth_rgba)
        };
        let ne = TileCoord::containing(108.015, 16.015, 16).unwrap();
        let sw = TileCoord::containing(108.005, 16.005, 16).unwrap();
        let far = TileCoord::containing(109.0, 17.0, 16).unwrap();
        assert_eq!(&wet(ne).unwrap()[..4], &depth_rgba(0.7));
        assert!(wet(sw).is_none());
        assert!(wet(far).is_none());
        assert_eq!(&depth_png(&r, far).unwrap()[1..4], b"PNG");
    }
}
