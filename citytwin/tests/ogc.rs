//! OGC API – Features routes through the router: metadata, paging, bbox, datetime, CQL2 filters,
//! HTML output and errors. Expected counts come from reading the GeoJSON file directly.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_problem, obs, send, TestServer, T0};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use twin_core::EntityKind;
use twin_layers::{LayerPaths, ReferenceLayers};

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn server() -> TestServer {
    let paths = LayerPaths { roads: Some("osm/danang_haichau_roads.geojson".into()), ..Default::default() };
    let layers = ReferenceLayers::load(&paths, &data_dir()).unwrap();
    TestServer::start_full(|_| {}, layers)
}

/// The raw roads file's features that have a geometry.
fn raw_roads() -> Vec<Value> {
    let text = std::fs::read_to_string(data_dir().join("osm/danang_haichau_roads.geojson")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["features"].as_array().unwrap().iter().filter(|f| !f["geometry"].is_null()).cloned().collect()
}

fn q(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Path and query of an absolute link, to send it through the router again.
fn local(href: &str) -> String {
    href[href.find("/ogc").unwrap()..].to_owned()
}

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"].as_array().unwrap().iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

#[tokio::test]
async fn landing_conformance_and_collections() {
    let s = server();
    let (st, ct, doc) = s.get("/ogc").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/json");
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(link(&doc, rel).is_some(), "landing lacks {rel}: {doc}");
    }
    assert!(link(&doc, "service-desc").unwrap().ends_with("/ogc/api"));
    let (st, _, api) = s.get("/ogc/api").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(api["openapi"], "3.0.3");
    let params = api["paths"]["/collections/{collectionId}/items"]["get"]["parameters"].as_array().unwrap();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(limit["schema"]["maximum"], 10_000);
    let (_, _, conf) = s.get("/ogc/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"));

    s.submit(vec![
        obs(EntityKind::Bus, "b1", T0, 108.21, 16.06),
        obs(EntityKind::Bus, "b2", T0 + 60_000, 108.23, 16.07),
    ])
    .await;
    let (_, _, cols) = s.get("/ogc/collections").await;
    let cols = cols["collections"].as_array().unwrap();
    assert_eq!(cols.len(), 1 + EntityKind::ALL.len());
    let roads = cols.iter().find(|c| c["id"] == "roads").unwrap();
    assert_eq!(roads["itemType"], "feature");
    let bbox = roads["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    let raw = raw_roads();
    let min_lon = raw
        .iter()
        .flat_map(|f| f["geometry"]["coordinates"].as_array().unwrap().clone())
        .filter_map(|c| c[0].as_f64())
        .fold(f64::INFINITY, f64::min);
    assert!((bbox[0].as_f64().unwrap() - min_lon).abs() < 1e-9, "{bbox:?} vs {min_lon}");
    let (st, _, bus) = s.get("/ogc/collections/bus").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(bus["extent"]["spatial"]["bbox"][0], serde_json::json!([108.21, 16.06, 108.23, 16.07]));
    assert_eq!(bus["extent"]["temporal"]["interval"][0][0], "2026-11-23T08:00:00.000Z");
    assert_eq!(bus["extent"]["temporal"]["interval"][0][1], "2026-11-23T08:01:00.000Z");
    let (st, _, qs) = s.get("/ogc/collections/roads/queryables").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(qs["properties"]["class"]["type"], "string");
    assert_eq!(qs["properties"]["lanes"]["type"], "integer");
    let listed = qs["queryables"].as_array().unwrap();
    assert!(listed.iter().any(|q| q["id"] == "class" && q["type"] == "string"));
}

#[tokio::test]
async fn paging_walks_every_road_once() {
    let s = server();
    let total = raw_roads().len();
    let (st, ct, first) = s.get("/ogc/collections/roads/items").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/geo+json");
    assert_eq!(first["numberReturned"], 10);
    assert_eq!(first["numberMatched"].as_u64().unwrap() as usize, total);
    assert!(first["timeStamp"].is_string());
    assert!(link(&first, "prev").is_none());
    let mut seen = std::collections::BTreeSet::new();
    let mut uri = "/ogc/collections/roads/items?limit=400".to_owned();
    let mut pages = 0;
    loop {
        let (_, _, page) = s.get(&uri).await;
        for f in page["features"].as_array().unwrap() {
            assert!(seen.insert(f["id"].as_u64().unwrap()), "feature repeated");
        }
        pages += 1;
        match link(&page, "next") {
            Some(next) => uri = local(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(400));
    let (_, _, p2) = s.get("/ogc/collections/roads/items?limit=5&offset=5").await;
    assert!(local(link(&p2, "prev").unwrap()).contains("offset=0"));
    let (_, _, big) = s.get("/ogc/collections/roads/items?limit=99999").await;
    assert_eq!(big["numberReturned"].as_u64().unwrap() as usize, total.min(10_000));
    let (st, ct, body) = s.get("/ogc/collections/roads/items?limit=0").await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cql2_filters_match_the_raw_file() {
    let s = server();
    let raw = raw_roads();
    let count = |pred: &dyn Fn(&Value) -> bool| raw.iter().filter(|f| pred(&f["properties"])).count();
    let cases: Vec<(&str, usize)> = vec![
        ("class = 'primary'", count(&|p| p["highway"] == "primary")),
        (
            "class IN ('secondary','tertiary') AND name IS NOT NULL",
            count(&|p| (p["highway"] == "secondary" || p["highway"] == "tertiary") && p["name"].is_string()),
        ),
        ("name LIKE '%Lê%'", count(&|p| p["name"].as_str().is_some_and(|n| n.contains("Lê")))),
        (
            "\"surface\" = 'asphalt' OR NOT class <> 'footway'",
            count(&|p| p["surface"] == "asphalt" || p["highway"] == "footway"),
        ),
    ];
    for (filter, want) in cases {
        assert!(want > 0, "{filter} selects nothing in the raw file");
        let uri = format!("/ogc/collections/roads/items?filter-lang=cql2-text&limit=1&filter={}", q(filter));
        let (st, _, page) = s.get(&uri).await;
        assert_eq!(st, StatusCode::OK, "{filter}: {page}");
        assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, want, "{filter}");
        // The next link keeps the filter.
        assert!(link(&page, "next").is_none_or(|n| n.contains("filter=")));
    }
    let (st, ct, body) = s.get(&format!("/ogc/collections/roads/items?filter={}", q("class = 'primary' AND"))).await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["offset"], 21);
    assert_eq!(body["field"], "filter");
    assert!(body["detail"].as_str().unwrap().contains("offset 21"));
    // `cql-text`, the drafts' name for the same encoding, is accepted.
    let (st, _, page) =
        s.get(&format!("/ogc/collections/roads/items?filter-lang=cql-text&filter={}", q("class = 'primary'"))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        page["numberMatched"].as_u64().unwrap() as usize,
        raw.iter().filter(|f| f["properties"]["highway"] == "primary").count()
    );
    let (st, ct, body) = s.get("/ogc/collections/roads/items?filter=a%3D1&filter-lang=cql2-json").await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn spatial_filter_and_bbox_agree() {
    let s = server();
    let b = "108.215,16.055,108.225,16.065";
    let (_, _, by_bbox) = s.get(&format!("/ogc/collections/roads/items?limit=10000&bbox={b}")).await;
    let filter = "S_INTERSECTS(geometry, BBOX(108.215, 16.055, 108.225, 16.065))";
    let (_, _, by_filter) = s.get(&format!("/ogc/collections/roads/items?limit=10000&filter={}", q(filter))).await;
    let ids =
        |d: &Value| d["features"].as_array().unwrap().iter().map(|f| f["id"].as_u64().unwrap()).collect::<Vec<_>>();
    assert!(!ids(&by_bbox).is_empty());
    assert_eq!(ids(&by_bbox), ids(&by_filter));
    // Every road with a vertex in the box is there.
    let inside = raw_roads()
        .iter()
        .filter(|f| {
            f["geometry"]["coordinates"].as_array().unwrap().iter().any(|c| {
                let (x, y) = (c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0));
                (108.215..=108.225).contains(&x) && (16.055..=16.065).contains(&y)
            })
        })
        .count();
    assert!(ids(&by_bbox).len() >= inside && inside > 0);
}

#[tokio::test]
async fn live_items_by_datetime_bbox_and_filter() {
    let s = server();
    let mut a = obs(EntityKind::Ambulance, "a1", T0, 108.20, 16.05);
    a.speed = Some(12.0);
    let mut b = obs(EntityKind::Ambulance, "a2", T0 + 600_000, 108.22, 16.07);
    b.speed = Some(3.0);
    let c = obs(EntityKind::Ambulance, "a3", T0 + 1_200_000, 108.30, 16.10);
    let bus = obs(EntityKind::Bus, "bus-1", T0, 108.20, 16.05);
    s.submit(vec![a, b, c, bus]).await;
    let ext = |d: &Value| common::external_ids(d);
    let (_, _, all) = s.get("/ogc/collections/ambulance/items").await;
    assert_eq!(ext(&all), ["a1", "a2", "a3"]);
    let (_, _, d) = s.get("/ogc/collections/ambulance/items?datetime=../2026-11-23T08:10:00Z").await;
    assert_eq!(ext(&d), ["a1", "a2"]);
    let (_, _, d) = s.get("/ogc/collections/ambulance/items?datetime=2026-11-23T08:10:00Z/..").await;
    assert_eq!(ext(&d), ["a2", "a3"]);
    let (_, _, d) = s.get("/ogc/collections/ambulance/items?datetime=2026-11-23T08:00:00Z").await;
    assert_eq!(ext(&d), ["a1"]);
    let (_, _, d) = s.get("/ogc/collections/ambulance/items?bbox=108.19,16.04,108.25,16.08").await;
    assert_eq!(ext(&d), ["a1", "a2"]);
    let (_, _, d) = s.get(&format!("/ogc/collections/ambulance/items?filter={}", q("speed > 5"))).await;
    assert_eq!(ext(&d), ["a1"]);
    let f = "time >= TIMESTAMP('2026-11-23T08:05:00Z') AND S_INTERSECTS(geometry, POLYGON((108.21 16.06, 108.4 16.06, 108.4 16.2, 108.21 16.2, 108.21 16.06)))";
    let (_, _, d) = s.get(&format!("/ogc/collections/ambulance/items?filter={}", q(f))).await;
    assert_eq!(ext(&d), ["a2", "a3"]);
    let (st, ct, body) = s.get("/ogc/collections/ambulance/items?datetime=soon").await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);

    let id = all["features"][0]["id"].as_u64().unwrap();
    let (st, ct, one) = s.get(&format!("/ogc/collections/ambulance/items/{id}")).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/geo+json"));
    assert_eq!(one["properties"]["external_id"], "a1");
    // The same id under another kind is not found.
    let (st, ct, body) = s.get(&format!("/ogc/collections/bus/items/{id}")).await;
    assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn single_items_and_not_found() {
    let s = server();
    let raw = raw_roads();
    let (st, _, f) = s.get("/ogc/collections/roads/items/3").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(f["properties"]["@id"], raw[3]["properties"]["@id"]);
    for uri in [
        "/ogc/collections/rivers",
        "/ogc/collections/rivers/items",
        "/ogc/collections/roads/items/999999",
        "/ogc/collections/roads/items/x",
    ] {
        let (st, ct, body) = s.get(uri).await;
        assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn html_by_parameter_and_accept_header() {
    let s = server();
    let fetch = |uri: &str, accept: &str| {
        let req = Request::get(uri).header("accept", accept).body(Body::empty()).unwrap();
        let app = s.app();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (ct, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let (ct, body) = fetch("/ogc/collections/roads/items?f=html&limit=3", "*/*").await;
    assert!(ct.starts_with("text/html"));
    assert_eq!(body.matches("?f=html\">").count(), 3, "three item rows: {body}");
    let (ct, body) = fetch("/ogc/collections", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert!(ct.starts_with("text/html") && body.contains("roads") && body.contains("ambulance"));
    let (ct, _) = fetch("/ogc", "application/json").await;
    assert_eq!(ct, "application/json");
    let (st, ct, body) = send(s.app(), Request::get("/ogc?f=xml").body(Body::empty()).unwrap()).await;
    assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
}
