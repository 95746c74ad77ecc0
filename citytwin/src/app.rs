//! The router: every route, the fallback and the middleware, built by one function.

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::http_metrics::track_http;
use crate::problem::{method_not_allowed, not_found_fallback, Problem};
use crate::routes::{self, entities, fonts, history, ingest, layers, live, ops, osmand, tiles, viewer};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "CityTwin API", description = "Live city model: entities, queries, ingest, live deltas."),
    modifiers(&BearerSecurity),
    security(("bearer" = [])),
    paths(
        crate::auth::token,
        crate::auth::ticket,
        crate::auth::me,
        routes::audit::audit,
        ops::healthz,
        ops::stats,
        ops::alerts,
        routes::feeds::list,
        routes::feeds::published_gtfs_rt,
        ops::metrics,
        openapi,
        entities::list,
        entities::one,
        entities::track,
        entities::nearest,
        entities::within,
        entities::h3,
        ingest::observations,
        osmand::osmand,
        routes::reports::create,
        routes::reports::update,
        routes::reports::one,
        routes::reports::media,
        layers::list,
        layers::one,
        live::ws,
        live::events,
        tiles::tile,
        tiles::tilejson_doc,
        tiles::style_doc,
        fonts::glyphs,
        history::history,
        history::series,
        viewer::viewer_config,
        viewer::wall_layout,
        routes::scenarios::create,
        routes::scenarios::list,
        routes::scenarios::one,
        routes::scenarios::cancel,
        routes::scenarios::layer,
        routes::scenarios::congestion,
        routes::scenarios::tiles::congestion_tile,
        routes::scenarios::tiles::congestion_tilejson,
        routes::scenarios::tiles::result_tile,
        routes::scenarios::tiles::result_tilejson,
        routes::ogc::landing,
        routes::ogc::api,
        routes::ogc::conformance,
        routes::ogc::collections,
        routes::ogc::collection,
        routes::ogc::queryables_doc,
        routes::ogc::items,
        routes::ogc::item,
    ),
    components(schemas(
        Problem,
        crate::auth::TokenBody,
        crate::auth::TicketBody,
        crate::auth::Me,
        ingest::IngestResponse,
        crate::problem::RejectedItem,
        osmand::OsmandResponse,
        routes::reports::ReportCreated,
        routes::reports::ReportPhoto,
        routes::reports::StatusUpdate,
        routes::reports::StatusUpdated,
        ops::Stats,
        routes::docs::Feature,
        routes::docs::FeatureCollection,
        routes::docs::Alert,
        routes::docs::AlertList
    ))
)]
pub struct ApiDoc;

/// Every route takes `Authorization: Bearer <access token>` unless its operation says otherwise
/// (`security: [{}]` on the public ones).
struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token from POST /auth/token"))
            .build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        let key =
            utoipa::openapi::security::ApiKeyValue::with_description("key", "A tracker's secret (OsmAnd / Traccar)");
        components
            .add_security_scheme("osmand_key", SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Query(key)));
    }
}

/// The whole OpenAPI document: [`ApiDoc`] plus the documents of modules that own their routes.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    #[allow(unused_mut)] // only merged into with the `cameras` feature
    let mut doc = ApiDoc::openapi();
    #[cfg(feature = "cameras")]
    doc.merge(routes::cameras::CamerasApi::openapi());
    unique_operation_ids(&mut doc);
    doc
}

/// OpenAPI wants every operation id unique; handlers are named per module (`list`, `one`), so the
/// id is made from the method and the path instead (`get_api_entities_id`), stable across renames.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace(['.', '-'], "_"))
            .collect::<Vec<_>>()
            .join("_");
        let ops = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                op.operation_id = Some(format!("{method}_{slug}"));
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", security(()), responses((status = 200, description = "OpenAPI 3 document")))]
pub async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(api_doc())
}

pub fn app(state: AppState) -> Router {
    let body_limit = state.body_limit;
    let auth = state.auth.clone();
    Router::new()
        .route("/auth/token", post(crate::auth::token))
        .route("/auth/ticket", post(crate::auth::ticket))
        .route("/auth/me", get(crate::auth::me))
        .route("/api/audit", get(routes::audit::audit))
        .route("/", get(viewer::index))
        .route("/wall", get(viewer::wall))
        .route("/assets/{*path}", get(viewer::assets))
        .route("/fonts/{fontstack}/{file}", get(fonts::glyphs))
        .route("/healthz", get(ops::healthz))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(ops::metrics))
        .route("/api/stats", get(ops::stats))
        .route("/api/alerts", get(ops::alerts))
        .route("/api/feeds", get(routes::feeds::list))
        .route("/demo/gtfs-rt/{file}", get(routes::feeds::published_gtfs_rt))
        .route("/api/entities", get(entities::list))
        .route("/api/entities/{id}", get(entities::one))
        .route("/api/entities/{id}/track", get(entities::track))
        .route("/api/nearest", get(entities::nearest))
        .route("/api/within", post(entities::within))
        .route("/api/h3", get(entities::h3))
        .route("/api/history", get(history::history))
        .route("/api/entities/{id}/series", get(history::series))
        .route("/api/viewer", get(viewer::viewer_config))
        .route("/api/viewer/walls/{name}", get(viewer::wall_layout))
        .route("/api/layers", get(layers::list))
        .route("/api/layers/{name}", get(layers::one))
        .route("/ingest/observations", post(ingest::observations))
        .route("/ingest/osmand", get(osmand::osmand).post(osmand::osmand))
        // Up to five 10 MiB photos: a larger limit than the other routes.
        .route("/api/reports", post(routes::reports::create).layer(DefaultBodyLimit::max(routes::reports::BODY_LIMIT)))
        .route("/api/reports/{id}", get(routes::reports::one).patch(routes::reports::update))
        .route("/media/{file}", get(routes::reports::media))
        .route("/ws", get(live::ws))
        .route("/events", get(live::events))
        .route("/tiles/{layer}/{z}/{x}/{file}", get(tiles::tile))
        .route("/tiles/{file}", get(tiles::tilejson_doc))
        .route("/styles/{file}", get(tiles::style_doc))
        .route("/ogc", get(routes::ogc::landing))
        .route("/ogc/api", get(routes::ogc::api))
        .route("/ogc/conformance", get(routes::ogc::conformance))
        .route("/ogc/collections", get(routes::ogc::collections))
        .route("/ogc/collections/{id}", get(routes::ogc::collection))
        .route("/ogc/collections/{id}/queryables", get(routes::ogc::queryables_doc))
        .route("/ogc/collections/{id}/items", get(routes::ogc::items))
        .route("/ogc/collections/{id}/items/{fid}", get(routes::ogc::item))
        // Routes owned by their modules: scenarios and congestion, cameras.
        .merge(routes::scenarios::router())
        .merge(cameras_router())
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(auth, crate::auth::authenticate))
        .layer(middleware::from_fn_with_state(state.feeds.clone(), crate::http_feeds::http_feed_layer))
        .layer(middleware::from_fn_with_state(state.metrics.clone(), track_http))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(crate::auth::security_headers))
        .with_state(state)
}

#[cfg(feature = "cameras")]
fn cameras_router() -> Router<AppState> {
    routes::cameras::router()
}

/// Without the `cameras` feature (a build without burn) there are no camera routes.
#[cfg(not(feature = "cameras"))]
fn cameras_router() -> Router<AppState> {
    Router::new()
}
