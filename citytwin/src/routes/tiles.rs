//! Vector tiles, terrain tiles, TileJSON and MapLibre styles.
//!
//! Empty vector tiles are answered `204 No Content` (with ETag and Cache-Control), as MapLibre, QGIS
//! and GDAL treat that as a tile with nothing in it. Tiles are gzip-encoded when the client accepts
//! gzip. Live layers are cached briefly by clients (`max-age=2`) and revalidated with the ETag, which
//! changes exactly when the tile's version changes; reference layers and terrain for an hour.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use twin_tiles::style::style;
use twin_tiles::tilejson::{external_tilejson, terrain_tilejson, tilejson, TileJsonContext};
use twin_tiles::{TileCoord, TileError, TileLayer};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;
use twin_auth::{Action, Resource};
use twin_runtime::tile_service::{ExternalLayer, Rendered};

const MVT: &str = "application/vnd.mapbox-vector-tile";

/// A cached tile handed to the response body without copying.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}
// Tiles depend on the caller's grants: private to the browser, varying with the token.
const LIVE_CACHE: &str = "private, max-age=2, must-revalidate";
const STATIC_CACHE: &str = "private, max-age=3600";
const ATTRIBUTION: &str = "© OpenStreetMap contributors; SRTM: NASA/USGS";

fn tile_problem(e: TileError) -> Problem {
    match e {
        TileError::UnknownLayer(_) | TileError::UnknownStyle(_) => Problem::not_found(e.to_string()),
        TileError::ZoomOutOfRange { .. } | TileError::TileOutOfRange { .. } => {
            Problem::bad_param("z/x/y", e.to_string())
        }
        other => {
            tracing::error!(error = %other, "tile rendering failed");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "tile-error", other.to_string())
        }
    }
}

/// Parses `z`, `x` and `y.ext` into a validated tile at most at zoom `max_zoom`.
pub(crate) fn parse_tile(z: &str, x: &str, file: &str, ext: &str, max_zoom: u8) -> Result<TileCoord, Problem> {
    let y = file.strip_suffix(ext).ok_or_else(|| Problem::not_found(format!("tiles here end in {ext}")))?;
    let num = |name: &str, v: &str| {
        v.parse::<u32>().map_err(|_| Problem::bad_param(name, format!("{v:?} is not a tile {name}")))
    };
    let (z, x, y) = (num("z", z)?, num("x", x)?, num("y", y)?);
    let z = u8::try_from(z).map_err(|_| Problem::bad_param("z", format!("zoom {z} is out of range")))?;
    TileCoord::with_max_zoom(z, x, y, max_zoom).map_err(tile_problem)
}

/// Does the client take gzip (`Accept-Encoding: gzip` without `q=0`)?
pub(crate) fn accepts_gzip(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let q_zero =
            parts.any(|p| p.replace(' ', "").starts_with("q=0") && !p.contains(|c: char| ('1'..='9').contains(&c)));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

pub(crate) fn matches_etag(h: &HeaderMap, etag: &str) -> bool {
    h.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}

/// The configured public address (for URLs inside TileJSON and styles), never the request's
/// `Host`: a forged header must not point clients elsewhere.
pub fn base_url(st: &AppState) -> &str {
    &st.public_url
}

pub(crate) struct CacheControl(HeaderValue);

impl From<&'static str> for CacheControl {
    fn from(s: &'static str) -> Self {
        CacheControl(HeaderValue::from_static(s))
    }
}

impl From<HeaderValue> for CacheControl {
    fn from(v: HeaderValue) -> Self {
        CacheControl(v)
    }
}

pub(crate) fn with_headers(mut res: Response, etag: &str, cache: impl Into<CacheControl>) -> Response {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, cache.into().0);
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding, authorization"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// A vector tile of a live kind, `live` (all kinds; H3 hexagons at zoom ≤ 11), a reference layer
/// or `basemap` (all reference layers); or a Terrarium PNG at `/tiles/terrain/{z}/{x}/{y}.png`.
#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}.mvt", tag = "tiles",
    params(("layer" = String, Path), ("z" = u8, Path), ("x" = u32, Path), ("y" = u32, Path)),
    responses(
        (status = 200, content_type = "application/vnd.mapbox-vector-tile", description = "MVT 2.1 tile"),
        (status = 204, description = "nothing in this tile"),
        (status = 304, description = "unchanged since the ETag in If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn tile(
    State(st): State<AppState>,
    caller: Caller,
    Path((layer, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if layer == "terrain" {
        return terrain(st, &z, &x, &file, &headers).await;
    }
    let layer = match TileLayer::parse(&layer, &st.tiles.renderer.reference) {
        Ok(l) => l,
        Err(e) => match st.tiles.external(&layer) {
            Some(ext) => {
                caller.check(Action::Read, &Resource::Layer(ext.name()), "tile layer")?;
                return external(st, ext, &z, &x, &file, &headers).await;
            }
            None => return Err(tile_problem(e)),
        },
    };
    check_layer(&st, &caller, &layer)?;
    let view = caller.tile_view();
    let tile = parse_tile(&z, &x, &file, ".mvt", st.tiles.max_zoom())?;
    let gz = accepts_gzip(&headers);
    let cache = if layer.is_live() { LIVE_CACHE } else { STATIC_CACHE };
    // The version is read before the model so a concurrent change can only make this answer stale.
    let version = st.tiles.current_version(&layer, tile, &st.twin);
    let etag = st.tiles.etag(&view.key(&layer), tile, version, gz);
    if matches_etag(&headers, &etag) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, cache));
    }
    // Cache hits are answered here; drawing (and gzip) runs on the blocking pool.
    let rendered = match st.tiles.cached(&layer, tile, version, gz, &view) {
        Some(r) => r,
        None => {
            let (svc, twin) = (st.tiles.clone(), st.twin.clone());
            tokio::task::spawn_blocking(move || svc.tile(&layer, tile, version, &twin, gz, &view))
                .await
                .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "tile-error", e.to_string()))?
                .map_err(tile_problem)?
        }
    };
    Ok(mvt_response(rendered, &etag, cache))
}

/// Reference layers need a read grant (the basemap: of every one); live layers are filtered
/// per entity instead.
fn check_layer(st: &AppState, caller: &Caller, layer: &TileLayer) -> Result<(), Problem> {
    match layer {
        TileLayer::Reference(name) => caller.check(Action::Read, &Resource::Layer(name), "tile layer"),
        TileLayer::Basemap => st
            .tiles
            .renderer
            .reference
            .layers
            .iter()
            .try_for_each(|l| caller.check(Action::Read, &Resource::Layer(&l.name), "tile layer")),
        TileLayer::Live | TileLayer::Kind(_) => Ok(()),
    }
}

/// A rendered vector tile as served: 204 when empty, else the MVT body (gzip-encoded if it was).
pub(crate) fn mvt_response(rendered: Rendered, etag: &str, cache: impl Into<CacheControl>) -> Response {
    if rendered.bytes.is_empty() {
        return with_headers(StatusCode::NO_CONTENT.into_response(), etag, cache);
    }
    let body = Bytes::from_owner(SharedBytes(rendered.bytes));
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, MVT)], body).into_response();
    if rendered.gzipped {
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    with_headers(res, etag, cache)
}

/// A tile of a layer drawn elsewhere (PostGIS): cached for the layer's cache time.
async fn external(
    st: AppState,
    layer: Arc<dyn ExternalLayer>,
    z: &str,
    x: &str,
    file: &str,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let tile = parse_tile(z, x, file, ".mvt", twin_tiles::coord::MAX_ZOOM)?;
    let gz = accepts_gzip(headers);
    let version = st.tiles.external_version(layer.as_ref());
    let etag = st.tiles.etag(layer.name(), tile, version, gz);
    let cache = match layer.cache_ms() / 1000 {
        s if s > 0 => {
            HeaderValue::from_str(&format!("public, max-age={s}")).unwrap_or(HeaderValue::from_static("no-cache"))
        }
        _ => HeaderValue::from_static("no-cache"),
    };
    if matches_etag(headers, &etag) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, cache));
    }
    let rendered = st.tiles.external_tile(&layer, tile, version, gz).await.map_err(|e| {
        tracing::error!(layer = layer.name(), error = %e, "external tile failed");
        Problem::new(StatusCode::BAD_GATEWAY, "tile-source-error", format!("tile source of {}: {e}", layer.name()))
    })?;
    Ok(mvt_response(rendered, &etag, cache))
}

async fn terrain(st: AppState, z: &str, x: &str, file: &str, headers: &HeaderMap) -> Result<Response, Problem> {
    let tile = parse_tile(z, x, file, ".png", st.tiles.max_zoom())?;
    if st.tiles.dem().is_none() {
        return Err(Problem::not_found("no DEM is configured ([tiles] dem in the city config)"));
    }
    let etag = st.tiles.terrain_etag(tile);
    if matches_etag(headers, &etag) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, STATIC_CACHE));
    }
    let svc = st.tiles.clone();
    let png = tokio::task::spawn_blocking(move || svc.terrain(tile))
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "tile-error", e.to_string()))?
        .map_err(tile_problem)?
        .ok_or_else(|| Problem::not_found("no DEM is configured"))?;
    let res =
        (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], Bytes::from_owner(SharedBytes(png))).into_response();
    Ok(with_headers(res, &etag, STATIC_CACHE))
}

fn context<'a>(st: &AppState, base: &'a str) -> TileJsonContext<'a> {
    let b = st.city_bbox;
    let lat = twin_tiles::coord::MAX_LAT;
    TileJsonContext {
        base_url: base,
        bounds: [b.min_lon, b.min_lat.max(-lat), b.max_lon, b.max_lat.min(lat)],
        minzoom: 0,
        maxzoom: st.tiles.max_zoom(),
        attribution: ATTRIBUTION,
    }
}

/// TileJSON 3.0.0 of a tile layer (`live`, a kind, a reference layer, `basemap`, or `terrain`).
#[utoipa::path(get, path = "/tiles/{layer}.json", tag = "tiles", params(("layer" = String, Path)),
    responses((status = 200, description = "TileJSON 3.0.0"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn tilejson_doc(State(st): State<AppState>, Path(file): Path<String>) -> Result<Response, Problem> {
    let name = file.strip_suffix(".json").ok_or_else(|| Problem::not_found(format!("no tile resource {file}")))?;
    let base = base_url(&st).to_owned();
    let mut ctx = context(&st, &base);
    let doc = if name == "terrain" {
        let dem = st.tiles.dem().ok_or_else(|| Problem::not_found("no DEM is configured"))?;
        let [w, s, e, n] = dem.bounds();
        ctx.bounds = [w, s, e, n];
        ctx.maxzoom = 14;
        terrain_tilejson(&ctx)
    } else {
        match TileLayer::parse(name, &st.tiles.renderer.reference) {
            Ok(layer) => tilejson(&layer, &st.tiles.renderer, &ctx),
            Err(e) => {
                let ext = st.tiles.external(name).ok_or_else(|| tile_problem(e))?;
                (ctx.minzoom, ctx.maxzoom) = ext.zoom_range();
                external_tilejson(ext.name(), ext.fields(), &ctx)
            }
        }
    };
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(res)
}

/// MapLibre style: `operations` (dark) or `planning` (light), on our own sources only.
#[utoipa::path(get, path = "/styles/{name}.json", tag = "tiles", params(("name" = String, Path)),
    responses((status = 200, description = "MapLibre style v8"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn style_doc(State(st): State<AppState>, Path(file): Path<String>) -> Result<Response, Problem> {
    let name = file.strip_suffix(".json").ok_or_else(|| Problem::not_found(format!("no style {file}")))?;
    let b = st.city_bbox;
    let center = [(b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0];
    let doc = style(name, base_url(&st), &st.city_name, center).map_err(tile_problem)?;
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(res)
}
