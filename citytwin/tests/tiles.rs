//! Tile routes: MVT with gzip, ETag/304 and dirty-tile versions, errors as problem+json, TileJSON,
//! styles, terrain PNGs, and tile subscriptions over a real WebSocket.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::PathBuf;

use axum::http::StatusCode;
use common::*;
use futures_util::{SinkExt, StreamExt};
use geozero::mvt::{Message as _, Tile};
use serde_json::Value;
use twin_core::EntityKind;
use twin_layers::{LayerPaths, ReferenceLayers};
use twin_tiles::TileCoord;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn layers() -> ReferenceLayers {
    let paths = LayerPaths {
        roads: Some("osm/danang_haichau_roads.geojson".into()),
        water: Some("osm/danang_haichau_water.geojson".into()),
        ..Default::default()
    };
    ReferenceLayers::load(&paths, &data_dir()).unwrap()
}

const BUS: (f64, f64) = (108.2208, 16.0678);

fn bus_tile() -> TileCoord {
    TileCoord::containing(BUS.0, BUS.1, 14).unwrap()
}

fn uri(layer: &str, t: TileCoord) -> String {
    format!("/tiles/{layer}/{}/{}/{}.mvt", t.z(), t.x(), t.y())
}

#[tokio::test]
async fn live_tiles_are_gzipped_versioned_and_revalidated() {
    let s = TestServer::start_full(|_| {}, layers());
    // Versions then change only with the model, not with the clock, so the test is deterministic.
    s.state.tiles.set_stale_epoch_ms(i64::MAX);
    s.submit(vec![obs(EntityKind::Bus, "43B-001", T0, BUS.0, BUS.1)]).await;
    let u = uri("live", bus_tile());
    let (st, h, body) = fetch(&s, &u, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "application/vnd.mapbox-vector-tile");
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert!(header(&h, "cache-control").contains("max-age"));
    let etag = header(&h, "etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut raw).unwrap();
    let tile = Tile::decode(&raw[..]).unwrap();
    assert_eq!(tile.layers.len(), 1);
    assert_eq!(tile.layers[0].name, "bus");
    assert_eq!(tile.layers[0].features.len(), 1);

    // Without gzip: the same tile uncompressed, under its own ETag.
    let (st, h, plain) = fetch(&s, &u, &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h.get("content-encoding").is_none());
    assert_eq!(plain, raw);
    assert_ne!(header(&h, "etag"), etag);

    let (st, _, body) = fetch(&s, &u, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]).await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // A change elsewhere leaves this tile's ETag alone; moving the bus inside the tile changes it.
    s.submit(vec![obs(EntityKind::Vessel, "v", T0, 108.30, 16.20)]).await;
    let (st, _, _) = fetch(&s, &u, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]).await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
    s.submit(vec![obs(EntityKind::Bus, "43B-001", T0 + 1000, BUS.0 + 0.001, BUS.1)]).await;
    let (st, h, _) = fetch(&s, &u, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(header(&h, "etag"), etag);

    // Nothing there: 204 with an ETag.
    let far = TileCoord::containing(100.0, 10.0, 14).unwrap();
    let (st, h, body) = fetch(&s, &uri("live", far), &[]).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(body.is_empty() && !header(&h, "etag").is_empty());
}

#[tokio::test]
async fn reference_and_low_zoom_tiles() {
    let s = TestServer::start_full(|_| {}, layers());
    s.submit((0..50).map(|i| obs(EntityKind::Bus, &format!("b{i}"), T0, 108.21 + i as f64 * 1e-3, 16.06)).collect())
        .await;
    let t = TileCoord::containing(108.2208, 16.0678, 15).unwrap();
    let (st, h, body) = fetch(&s, &uri("roads", t), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(header(&h, "cache-control").contains("3600"));
    let tile = Tile::decode(&body[..]).unwrap();
    assert_eq!(tile.layers[0].name, "roads");
    assert!(!tile.layers[0].features.is_empty());
    let (_, _, body) = fetch(&s, &uri("basemap", t), &[]).await;
    let names: Vec<String> = Tile::decode(&body[..]).unwrap().layers.into_iter().map(|l| l.name).collect();
    assert!(names.contains(&"roads".to_owned()));
    // Zoom 10: hexagons whose totals add up to the 50 buses.
    let t10 = TileCoord::containing(108.23, 16.06, 10).unwrap();
    let (st, _, body) = fetch(&s, &uri("bus", t10), &[]).await;
    assert_eq!(st, StatusCode::OK);
    let tile = Tile::decode(&body[..]).unwrap();
    assert_eq!(tile.layers[0].name, "hexagons");
    let l = &tile.layers[0];
    let total_key = l.keys.iter().position(|k| k == "total").unwrap() as u32;
    let sum: u64 = l
        .features
        .iter()
        .map(|f| {
            let v = f.tags.chunks(2).find(|kv| kv[0] == total_key).unwrap()[1];
            l.values[v as usize].uint_value.unwrap()
        })
        .sum();
    assert_eq!(sum, 50);
}

#[tokio::test]
async fn bad_tiles_and_unknown_layers_are_problems() {
    let s = TestServer::start();
    for bad in ["/tiles/live/25/0/0.mvt", "/tiles/live/3/8/0.mvt", "/tiles/live/3/0/8.mvt", "/tiles/live/a/0/0.mvt"] {
        let (st, ct, body) = s.get(bad).await;
        assert_problem(st, &ct, &body, StatusCode::BAD_REQUEST);
    }
    for missing in ["/tiles/nope/1/0/0.mvt", "/tiles/nope.json", "/styles/satellite.json", "/tiles/terrain/1/0/0.png"] {
        let (st, ct, body) = s.get(missing).await;
        assert_problem(st, &ct, &body, StatusCode::NOT_FOUND);
    }
}

async fn json(s: &TestServer, u: &str) -> Value {
    let (st, h, body) = fetch(s, u, &[]).await;
    assert_eq!(st, StatusCode::OK, "{u}");
    assert!(header(&h, "content-type").starts_with("application/json"));
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
/// Links come from the configured public URL (`http://localhost` in tests), never from the `Host`
/// header the request carried (`tiles.example:8080`, see `common::fetch`).
async fn tilejson_and_styles_point_at_the_public_url_not_the_host_header() {
    let s = TestServer::start_full(|_| {}, layers());
    let live = json(&s, "/tiles/live.json").await;
    assert_eq!(live["tilejson"], "3.0.0");
    assert_eq!(live["tiles"][0], "http://localhost/tiles/live/{z}/{x}/{y}.mvt");
    let ids: Vec<&str> = live["vector_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"bus") && ids.contains(&"hexagons") && ids.contains(&"vessel"));
    assert_eq!(live["vector_layers"][1]["fields"]["stale"], "Boolean");
    let roads = json(&s, "/tiles/roads.json").await;
    assert_eq!(roads["vector_layers"].as_array().unwrap().len(), 1);
    assert!(roads["vector_layers"][0]["fields"].as_object().unwrap().contains_key("name"));
    let basemap = json(&s, "/tiles/basemap.json").await;
    assert_eq!(basemap["vector_layers"].as_array().unwrap().len(), 2);
    for name in ["operations", "planning"] {
        let st = json(&s, &format!("/styles/{name}.json")).await;
        assert_eq!(st["version"], 8);
        assert_eq!(st["sources"]["basemap"]["url"], "http://localhost/tiles/basemap.json");
        assert_eq!(st["glyphs"], "http://localhost/fonts/{fontstack}/{range}.pbf");
    }
}

#[tokio::test]
async fn terrain_tiles_are_terrarium_pngs() {
    let s = TestServer::start();
    let section: twin_runtime::tile_service::TilesSection =
        toml::from_str("dem = \"dem/danang_srtm_gl1_30m.tif\"").unwrap();
    s.state.tiles.load_dem(&section, &data_dir()).unwrap();
    let tj = json(&s, "/tiles/terrain.json").await;
    assert_eq!(tj["encoding"], "terrarium");
    // Bà Nà hills area is high ground; the tile must show it.
    let t = TileCoord::containing(108.10, 16.05, 12).unwrap();
    let (st, h, body) = fetch(&s, &format!("/tiles/terrain/12/{}/{}.png", t.x(), t.y()), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    let mut reader = png::Decoder::new(std::io::Cursor::new(body)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).unwrap();
    let elevations: Vec<f64> =
        buf.chunks(3).map(|p| f64::from(p[0]) * 256.0 + f64::from(p[1]) + f64::from(p[2]) / 256.0 - 32768.0).collect();
    let max = elevations.iter().cloned().fold(f64::MIN, f64::max);
    let min = elevations.iter().cloned().fold(f64::MAX, f64::min);
    assert!(min >= -25.0 - 1e-9 && max <= 686.0 + 1e-9, "{min}..{max}");
    assert!(max > 100.0, "hills expected, max {max}");
}

#[tokio::test]
async fn websocket_tile_subscribers_hear_exactly_their_changed_tiles() {
    let s = TestServer::start();
    s.submit(vec![obs(EntityKind::Bus, "43B-001", T0, BUS.0, BUS.1)]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = s.app();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.unwrap();
    let here = bus_tile();
    let far = TileCoord::containing(100.0, 10.0, 14).unwrap();
    let parent = here.parent().unwrap();
    let msg = format!(
        r#"{{"type":"subscribe_tiles","layer":"live","tiles":[[{},{},{}],[{},{},{}],[{},{},{}]]}}"#,
        here.z(),
        here.x(),
        here.y(),
        far.z(),
        far.x(),
        far.y(),
        parent.z(),
        parent.x(),
        parent.y()
    );
    ws.send(tokio_tungstenite::tungstenite::Message::Text(msg.into())).await.unwrap();
    // Give the subscription a moment to be registered before the change is committed.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.submit(vec![obs(EntityKind::Bus, "43B-001", T0 + 1000, BUS.0 + 0.0005, BUS.1)]).await;
    let got = loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
        let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        if v["type"] == "tiles_changed" {
            break v;
        }
    };
    assert_eq!(got["layer"], "live");
    let mut tiles: Vec<(u64, u64, u64, u64)> = got["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t[0].as_u64().unwrap(), t[1].as_u64().unwrap(), t[2].as_u64().unwrap(), t[3].as_u64().unwrap()))
        .collect();
    tiles.sort();
    let v_here = s.state.tiles.tracked_version(here);
    let v_parent = s.state.tiles.tracked_version(parent);
    let mut expected = vec![
        (u64::from(parent.z()), u64::from(parent.x()), u64::from(parent.y()), v_parent),
        (u64::from(here.z()), u64::from(here.x()), u64::from(here.y()), v_here),
    ];
    expected.sort();
    assert_eq!(tiles, expected);
    // A bad subscription is answered with an error message.
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"type":"subscribe_tiles","layer":"live","tiles":[[3,9,0]]}"#.into(),
    ))
    .await
    .unwrap();
    let m = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
    let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "error");
}
