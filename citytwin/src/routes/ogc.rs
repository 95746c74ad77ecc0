//! OGC API – Features at `/ogc`: landing page, conformance, collections, queryables, items (with
//! `bbox`, `datetime`, paging and CQL2-text `filter`) and single items, as JSON/GeoJSON or HTML.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::ogc::query::{with_page, ItemsQuery, DEFAULT_LIMIT, MAX_LIMIT};
use crate::ogc::{
    extent, html, layer_feature, live_candidates, queryables, select_entities, select_layer, title, Source,
    CONFORMANCE, CRS84,
};
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::off_workers;
use crate::state::AppState;
use twin_auth::{Action, Resource};
use twin_runtime::clock::{now, rfc3339};
use twin_runtime::geojson::entity_feature;

const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";

/// JSON unless `f=html` or the Accept header prefers HTML (as browsers do).
fn wants_html(p: &Params, headers: &HeaderMap) -> Result<bool, Problem> {
    match p.get("f").map(str::trim) {
        Some("json") => Ok(false),
        Some("html") => Ok(true),
        Some(other) => Err(Problem::bad_param("f", format!("`f` must be json or html, got `{other}`"))),
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
            Ok(match (accept.find("text/html"), accept.find("json")) {
                (Some(h), Some(j)) => h < j,
                (Some(_), None) => true,
                _ => false,
            })
        }
    }
}

/// `<public url>/ogc`: links are built from the configured address, never from `Host`.
fn base(st: &AppState) -> String {
    format!("{}/ogc", st.public_url)
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

fn respond(doc: Value, content_type: &'static str) -> Response {
    let mut res = axum::Json(doc).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn html_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn find<'a>(st: &'a AppState, caller: &Caller, id: &str) -> Result<Source<'a>, Problem> {
    Source::find(&st.layers, id)
        .filter(|s| visible(caller, s))
        .ok_or_else(|| Problem::not_found(format!("no collection `{id}`")))
}

/// A collection the caller may read (some) features of.
fn visible(caller: &Caller, src: &Source<'_>) -> bool {
    match src {
        Source::Layer(l) => caller.check(Action::Read, &Resource::Layer(&l.name), "").is_ok(),
        Source::Live(kind) => caller.principal().entity_kinds().contains(*kind),
    }
}

/// Landing page.
#[utoipa::path(get, path = "/ogc", tag = "ogc", security(()), params(("f" = Option<String>, Query)),
    responses((status = 200, description = "Landing page with links to conformance and collections")))]
pub async fn landing(State(st): State<AppState>, headers: HeaderMap, p: Params) -> Result<Response, Problem> {
    let b = base(&st);
    let host = b.trim_end_matches("/ogc");
    let doc = json!({
        "title": format!("CityTwin {}", st.city_name),
        "description": "Reference layers and live entities as OGC API – Features",
        "links": [
            link(format!("{b}?f=json"), "self", JSON, "This document"),
            link(format!("{b}?f=html"), "alternate", "text/html", "This document as HTML"),
            link(format!("{b}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "This API's definition"),
            link(format!("{host}/openapi.json"), "related", "application/vnd.oai.openapi+json;version=3.1", "The whole CityTwin API"),
            link(format!("{b}/conformance"), "conformance", JSON, "Conformance classes"),
            link(format!("{b}/collections"), "data", JSON, "Collections"),
        ],
    });
    if wants_html(&p, &headers)? {
        let body =
            format!("<p>{}</p>{}", html::escape(doc["description"].as_str().unwrap_or_default()), html::links(&doc));
        return Ok(html_response(html::page(doc["title"].as_str().unwrap_or("CityTwin"), &body)));
    }
    Ok(respond(doc, JSON))
}

/// An OpenAPI 3.0 description of the `/ogc` resources alone, with paths relative to `/ogc` as OGC
/// clients expect (GDAL reads the `limit` maximum and the `filter-lang` values from it).
#[utoipa::path(get, path = "/ogc/api", tag = "ogc", security(()), responses((status = 200, description = "OpenAPI 3.0 document")))]
pub async fn api(State(st): State<AppState>) -> Response {
    let b = base(&st);
    let q = |name: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "schema": schema});
    let id = json!({"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string"}});
    let ok = |d: &str| json!({"200": {"description": d}});
    let items_params = json!([
        id,
        q("limit", json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})),
        q("offset", json!({"type": "integer", "minimum": 0})),
        q("bbox", json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4})),
        q("datetime", json!({"type": "string"})),
        q("filter", json!({"type": "string"})),
        q("filter-lang", json!({"type": "string", "enum": ["cql2-text", "cql-text"], "default": "cql2-text"})),
        q("f", json!({"type": "string", "enum": ["json", "html"]})),
    ]);
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "CityTwin OGC API - Features", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": b}],
        "paths": {
            "/": {"get": {"operationId": "landing", "responses": ok("Landing page")}},
            "/conformance": {"get": {"operationId": "conformance", "responses": ok("Conformance classes")}},
            "/collections": {"get": {"operationId": "collections", "responses": ok("Collections")}},
            "/collections/{collectionId}": {"get": {"operationId": "collection", "parameters": [id], "responses": ok("Collection")}},
            "/collections/{collectionId}/queryables": {"get": {"operationId": "queryables", "parameters": [id], "responses": ok("Queryables")}},
            "/collections/{collectionId}/items": {"get": {"operationId": "items", "parameters": items_params, "responses": ok("Features")}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"operationId": "item", "parameters": [id,
                {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": ok("Feature")}},
        },
    });
    respond(doc, "application/vnd.oai.openapi+json;version=3.0")
}

/// Conformance classes.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", security(()), params(("f" = Option<String>, Query)),
    responses((status = 200, description = "{conformsTo: [...]}")))]
pub async fn conformance(headers: HeaderMap, p: Params) -> Result<Response, Problem> {
    let doc = json!({ "conformsTo": CONFORMANCE });
    if wants_html(&p, &headers)? {
        let items: String = CONFORMANCE.iter().map(|c| format!("<li>{}</li>", html::escape(c))).collect();
        return Ok(html_response(html::page("Conformance", &format!("<ul>{items}</ul>"))));
    }
    Ok(respond(doc, JSON))
}

fn collection_doc(st: &AppState, src: &Source<'_>, b: &str) -> Value {
    let id = src.id();
    let (title, description) = title(src);
    let ext = extent(src, &st.twin.read(), &st.city_bbox);
    json!({
        "id": id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": ext,
        "links": [
            link(format!("{b}/collections/{id}"), "self", JSON, "This collection"),
            link(format!("{b}/collections/{id}/items"), "items", GEOJSON, "Items"),
            link(format!("{b}/collections/{id}/items?f=html"), "items", "text/html", "Items as HTML"),
            // The short relation name is the one of the Part 3 drafts that older clients look for.
            link(format!("{b}/collections/{id}/queryables"), "queryables", "application/schema+json", "Queryables"),
            link(format!("{b}/collections/{id}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", "Queryables"),
        ],
    })
}

/// Every reference layer and every live entity kind.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", params(("f" = Option<String>, Query)),
    responses((status = 200, description = "{collections: [...], links}")))]
pub async fn collections(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, Problem> {
    let b = base(&st);
    let list: Vec<Value> =
        Source::all(&st.layers).iter().filter(|s| visible(&caller, s)).map(|s| collection_doc(&st, s, &b)).collect();
    let doc = json!({
        "collections": list,
        "links": [link(format!("{b}/collections"), "self", JSON, "Collections")],
    });
    if wants_html(&p, &headers)? {
        return Ok(html_response(html::page("Collections", &html::collections(&doc))));
    }
    Ok(respond(doc, JSON))
}

/// One collection's metadata.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}", tag = "ogc",
    params(("collectionId" = String, Path), ("f" = Option<String>, Query)),
    responses((status = 200, description = "Collection"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn collection(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, Problem> {
    let src = find(&st, &caller, &id)?;
    let doc = collection_doc(&st, &src, &base(&st));
    if wants_html(&p, &headers)? {
        let body =
            format!("<p>{}</p>{}", html::escape(doc["description"].as_str().unwrap_or_default()), html::links(&doc));
        return Ok(html_response(html::page(doc["title"].as_str().unwrap_or(&id), &body)));
    }
    Ok(respond(doc, JSON))
}

/// The properties a filter may name, as JSON Schema.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/queryables", tag = "ogc",
    params(("collectionId" = String, Path)),
    responses((status = 200, description = "JSON Schema"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn queryables_doc(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let src = find(&st, &caller, &id)?;
    let props = queryables(&src);
    let list: Vec<Value> = props
        .iter()
        .map(|(k, v)| json!({"id": k, "type": v.get("type").cloned().unwrap_or(json!("geometry"))}))
        .collect();
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}/collections/{id}/queryables", base(&st)),
        "type": "object",
        "title": id,
        "properties": props,
        // The list form of the Part 3 drafts, still read by GDAL 3.6.
        "queryables": list,
    });
    // Clients of the Part 3 drafts (GDAL 3.6) accept only application/json here.
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(respond(doc, if accept.contains("application/schema+json") { "application/schema+json" } else { JSON }))
}

/// Features of a collection.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items", tag = "ogc",
    params(("collectionId" = String, Path), ("bbox" = Option<String>, Query), ("datetime" = Option<String>, Query),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 10000), ("offset" = Option<usize>, Query),
        ("filter" = Option<String>, Query), ("filter-lang" = Option<String>, Query), ("f" = Option<String>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn items(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, Problem> {
    let live_kind = match find(&st, &caller, &id)? {
        Source::Layer(_) => None,
        Source::Live(kind) => Some(kind),
    };
    let html_out = wants_html(&p, &headers)?;
    let q = ItemsQuery::from_params(&p)?;
    // CQL2 filters and polygons cost CPU per feature: evaluated off the async workers, and for live
    // kinds after the read lock is released.
    let (layers, twin, layer_id) = (st.layers.clone(), st.twin.clone(), id.clone());
    let (page, q) = off_workers(move || {
        let page = match live_kind {
            Some(kind) => {
                let mut copied = live_candidates(&twin.read(), kind, &q);
                if !caller.principal().reads_every(kind) {
                    copied = copied.iter().filter_map(|e| caller.view(e)).collect();
                }
                select_entities(copied, &q)
            }
            None => layers.get(&layer_id).map(|l| select_layer(l, &q)).unwrap_or_default(),
        };
        (page, q)
    })
    .await?;
    let items_url = format!("{}/collections/{id}/items", base(&st));
    let returned = page.features.len();
    let mut links = vec![
        link(format!("{items_url}?{}", with_page(&p, q.offset, q.limit)), "self", GEOJSON, "This page"),
        link(format!("{}/collections/{id}", base(&st)), "collection", JSON, "The collection"),
    ];
    if q.offset + returned < page.matched {
        let next = with_page(&p, q.offset + returned, q.limit);
        links.push(link(format!("{items_url}?{next}"), "next", GEOJSON, "Next page"));
    }
    if q.offset > 0 {
        let prev = with_page(&p, q.offset.saturating_sub(q.limit), q.limit);
        links.push(link(format!("{items_url}?{prev}"), "prev", GEOJSON, "Previous page"));
    }
    let doc = json!({
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": returned,
        "timeStamp": rfc3339(now()),
        "links": links,
        "features": page.features,
    });
    if html_out {
        let body = format!("{}{}", html::links(&doc), html::features(&doc, &items_url));
        return Ok(html_response(html::page(&format!("{id}: items"), &body)));
    }
    Ok(respond(doc, GEOJSON))
}

/// One feature by id (the index in a reference layer, the entity id for live kinds).
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items/{featureId}", tag = "ogc",
    params(("collectionId" = String, Path), ("featureId" = String, Path), ("f" = Option<String>, Query)),
    responses((status = 200, description = "GeoJSON Feature"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn item(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, Problem> {
    let src = find(&st, &caller, &id)?;
    let missing = || Problem::not_found(format!("no feature `{fid}` in collection `{id}`"));
    let n: u64 = fid.trim().parse().map_err(|_| missing())?;
    let mut feature = match &src {
        Source::Layer(l) => usize::try_from(n).ok().and_then(|i| layer_feature(l, i)).ok_or_else(missing)?,
        Source::Live(kind) => {
            let twin = st.twin.read();
            let e = twin.get(twin_core::EntityId(n)).filter(|e| e.kind == *kind).ok_or_else(missing)?;
            entity_feature(&caller.view(e).ok_or_else(missing)?)
        }
    };
    let b = base(&st);
    feature["links"] = json!([
        link(format!("{b}/collections/{id}/items/{fid}"), "self", GEOJSON, "This feature"),
        link(format!("{b}/collections/{id}"), "collection", JSON, "The collection"),
    ]);
    if wants_html(&p, &headers)? {
        return Ok(html_response(html::page(&format!("{id} {fid}"), &html::feature(&feature))));
    }
    Ok(respond(feature, GEOJSON))
}
