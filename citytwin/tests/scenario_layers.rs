//! Scenario results and live congestion as layers: the congestion vector tile from posted bus
//! speeds, flood depth PNG tiles and flooded-area vector tiles with their TileJSON, and an
//! incident (closure) on the real road network through the API.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{city_layers, fetch, header, start_job, wait_job, TestServer, T0};
use geozero::mvt::{tile, Message as _, Tile};
use serde_json::{json, Value};
use twin_tiles::terrain::Dem;
use twin_tiles::TileCoord;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut raw).unwrap();
    raw
}

/// Attributes of an MVT feature as JSON values.
fn attributes(layer: &tile::Layer, f: &tile::Feature) -> serde_json::Map<String, Value> {
    f.tags
        .chunks(2)
        .map(|kv| {
            let v = &layer.values[kv[1] as usize];
            let value = if let Some(s) = &v.string_value {
                json!(s)
            } else if let Some(d) = v.double_value {
                json!(d)
            } else if let Some(x) = v.float_value {
                json!(x)
            } else if let Some(x) = v.uint_value {
                json!(x)
            } else if let Some(x) = v.int_value {
                json!(x)
            } else if let Some(x) = v.sint_value {
                json!(x)
            } else {
                json!(v.bool_value)
            };
            (layer.keys[kv[0] as usize].clone(), value)
        })
        .collect()
}

fn tile_uri(prefix: &str, t: TileCoord, ext: &str) -> String {
    format!("{prefix}/{}/{}/{}.{ext}", t.z(), t.x(), t.y())
}

/// Compass bearing (degrees) from a to b in a local planar frame.
fn bearing(a: geo::Coord<f64>, b: geo::Coord<f64>) -> f64 {
    let kx = a.y.to_radians().cos();
    ((b.x - a.x) * kx).atan2(b.y - a.y).to_degrees().rem_euclid(360.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn congestion_tile_from_posted_bus_speeds() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    let layers = city_layers();
    // Phan Thanh, a residential street: a bus crawls along it at 2 m/s, three reports 10 s apart,
    // each in the middle of a segment (never on a junction) with the segment's heading.
    let road = layers
        .get("roads")
        .unwrap()
        .features
        .iter()
        .find(|f| f.properties.get("@id") == Some(&json!(35950850)))
        .unwrap();
    let geo::Geometry::LineString(line) = &road.geometry else { panic!("not a line") };
    let mid = line.0.len() / 2;
    let (a, b) = (line.0[mid - 1], line.0[mid]);
    let reports: Vec<Value> = (0..3)
        .map(|i| {
            let f = (f64::from(i) + 1.0) / 4.0;
            let time = chrono::DateTime::from_timestamp_millis(T0 + i64::from(i) * 10_000).unwrap().to_rfc3339();
            json!({"kind": "bus", "id": "43B-777.01", "time": time, "lon": a.x + f * (b.x - a.x),
                   "lat": a.y + f * (b.y - a.y), "speed": 2.0, "heading": bearing(a, b)})
        })
        .collect();
    let (status, _, res) = srv.post("/ingest/observations", "application/json", json!(reports).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["accepted"], 3);

    let (c_lon, c_lat) = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let t = TileCoord::containing(c_lon, c_lat, 16).unwrap();
    let uri = tile_uri("/tiles/congestion", t, "mvt");
    let (status, h, body) = fetch(&srv, &uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "application/vnd.mapbox-vector-tile");
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert!(header(&h, "cache-control").contains("max-age"));
    let etag = header(&h, "etag").to_owned();
    let tile = Tile::decode(&gunzip(&body)[..]).unwrap();
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "congestion");
    assert_eq!(layer.features.len(), 1, "one observed segment");
    let props = attributes(layer, &layer.features[0]);
    assert_eq!(props["name"], "Đường Phan Thanh");
    let free = props["free_flow_kmh"].as_f64().unwrap();
    // Every sample says 7.2 km/h, so the smoothed ratio is exactly that over the free-flow speed.
    let ratio = 2.0 * 3.6 / free;
    assert!((props["speed_ratio"].as_f64().unwrap() - ratio).abs() < 1e-12, "{props:?}");
    assert!((props["congestion"].as_f64().unwrap() - (1.0 - ratio)).abs() < 1e-12, "{props:?}");
    assert!(props["samples"].as_u64().unwrap() >= 3, "{props:?}");
    // The tile agrees with the GeoJSON resource.
    let (_, _, fc) = srv.get("/api/traffic/congestion").await;
    assert_eq!(fc["features"][0]["properties"]["edge"], props["edge"]);

    // Revalidation: unchanged → 304; a new report changes the ETag and the index.
    let (status, _, _) = fetch(&srv, &uri, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let time = chrono::DateTime::from_timestamp_millis(T0 + 30_000).unwrap().to_rfc3339();
    let faster = json!({"kind": "bus", "id": "43B-777.01", "time": time, "lon": c_lon, "lat": c_lat,
                        "speed": 5.0, "heading": bearing(a, b)});
    let (status, _, _) = srv.post("/ingest/observations", "application/json", faster.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, h, body) = fetch(&srv, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(header(&h, "etag"), etag);
    let tile = Tile::decode(&body[..]).unwrap();
    let props = attributes(&tile.layers[0], &tile.layers[0].features[0]);
    assert!(props["congestion"].as_f64().unwrap() < 1.0 - ratio);

    // Nowhere near a bus: nothing to draw.
    let far = TileCoord::containing(108.30, 16.00, 16).unwrap();
    let (status, _, _) = fetch(&srv, &tile_uri("/tiles/congestion", far, "mvt"), &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, _, body) = fetch(&srv, "/tiles/congestion.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tj: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], "http://localhost/tiles/congestion/{z}/{x}/{y}.mvt");
    let vl = &tj["vector_layers"][0];
    assert_eq!(vl["id"], "congestion");
    for f in ["congestion", "speed_ratio", "samples"] {
        assert_eq!(vl["fields"][f], "Number");
    }
    // Bad tile addresses are problems.
    let (status, _, _) = fetch(&srv, "/tiles/congestion/3/9/1.mvt", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// RGBA of pixel (x, y) of a 256 × 256 PNG.
fn pixel(png_bytes: &[u8], x: usize, y: usize) -> [u8; 4] {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (256, 256));
    assert_eq!(info.color_type, png::ColorType::Rgba);
    let k = (y * 256 + x) * 4;
    [buf[k], buf[k + 1], buf[k + 2], buf[k + 3]]
}

/// Pixel of (lon, lat) inside tile `t`.
fn pixel_of(t: TileCoord, lon: f64, lat: f64) -> (usize, usize) {
    let (x, y) = t.project(lon, lat, 256);
    assert!((0.0..256.0).contains(&x) && (0.0..256.0).contains(&y));
    (x as usize, y as usize)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_depth_and_flooded_area_tiles() {
    let srv = TestServer::start();
    // A 60 × 60 DEM at 1″ (≈ 30 m): a plateau at 10 m with a 20 × 20-cell pit at 0 m, holding a
    // lake at 5 m from the start. No rain: the plateau stays dry, the pit stays 5 m deep.
    let (west, north, d) = (108.20, 16.07, 1.0 / 3600.0);
    let data: Vec<f32> = (0..60 * 60)
        .map(|i| {
            let (r, c) = (i / 60, i % 60);
            if (20..40).contains(&r) && (20..40).contains(&c) {
                0.0
            } else {
                10.0
            }
        })
        .collect();
    srv.state.tiles.set_dem(Dem::from_grid(60, 60, west, north, d, d, data));
    let body = json!({"kind": "flood", "rain_mm_h": 0.0, "hours": 0.05, "boundary": "closed", "initial_level": 5.0});
    let id = start_job(&srv, body).await;
    let job = wait_job(&srv, id, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "done", "{job}");
    let tiles = job["tiles"].as_array().unwrap();
    let link = |name: &str| tiles.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name}: {job}")).clone();
    let depth = link("depth");
    assert_eq!(depth["type"], "raster");
    assert_eq!(depth["tiles"], format!("/api/scenarios/{id}/tiles/depth/{{z}}/{{x}}/{{y}}.png"));
    assert_eq!(link("max_depth")["type"], "raster");
    let flooded = link("flooded");
    assert_eq!(flooded["type"], "vector");

    let pit = (west + 30.0 * d, north - 30.0 * d);
    let plateau = (west + 5.0 * d, north - 5.0 * d);
    let t = TileCoord::containing(pit.0, pit.1, 15).unwrap();
    for name in ["depth", "max_depth"] {
        // Each point in the tile that holds it (they may fall in neighbouring tiles).
        for (point, wet) in [(pit, true), (plateau, false)] {
            let tp = TileCoord::containing(point.0, point.1, 15).unwrap();
            let uri = tile_uri(&format!("/api/scenarios/{id}/tiles/{name}"), tp, "png");
            let (status, h, png_bytes) = fetch(&srv, &uri, &[]).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(header(&h, "content-type"), "image/png");
            assert!(!header(&h, "etag").is_empty());
            let (px, py) = pixel_of(tp, point.0, point.1);
            let rgba = pixel(&png_bytes, px, py);
            if wet {
                // 5 m deep: the darkest, most opaque class.
                assert_eq!(rgba, [8, 48, 107, 235], "{name}");
            } else {
                assert_eq!(rgba[3], 0, "{name}: the dry plateau is transparent");
            }
        }
    }
    // Far from the grid: a transparent tile, not an error.
    let far = TileCoord::containing(108.5, 16.3, 15).unwrap();
    let (status, _, png_bytes) =
        fetch(&srv, &tile_uri(&format!("/api/scenarios/{id}/tiles/depth"), far, "png"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pixel(&png_bytes, 128, 128)[3], 0);

    // Flooded area per depth class as vector tiles: the pit is in every class.
    let (status, _, body) = fetch(&srv, &tile_uri(&format!("/api/scenarios/{id}/tiles/flooded"), t, "mvt"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tile = Tile::decode(&body[..]).unwrap();
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "flooded");
    let mut classes: Vec<(f64, u64)> = layer
        .features
        .iter()
        .map(|f| {
            let p = attributes(layer, f);
            (p["min_depth_m"].as_f64().unwrap(), p["cells"].as_u64().unwrap())
        })
        .collect();
    classes.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(classes, vec![(0.1, 400), (0.3, 400), (0.5, 400), (1.0, 400)]);
    assert!(layer.features.iter().all(|f| f.r#type == Some(3)), "polygons");

    let (status, _, body) = fetch(&srv, &format!("/api/scenarios/{id}/tiles/flooded.json"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tj: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(tj["vector_layers"][0]["id"], "flooded");
    assert_eq!(tj["tiles"][0], format!("http://localhost/api/scenarios/{id}/tiles/flooded/{{z}}/{{x}}/{{y}}.mvt"));
    let b = tj["bounds"].as_array().unwrap();
    assert!(b[0].as_f64().unwrap() <= pit.0 && pit.0 <= b[2].as_f64().unwrap());
    let (status, _, body) = fetch(&srv, &format!("/api/scenarios/{id}/tiles/depth.json"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tj: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(tj["type"], "raster");
    let b = tj["bounds"].as_array().unwrap();
    assert!((b[0].as_f64().unwrap() - west).abs() < 1e-9 && (b[3].as_f64().unwrap() - north).abs() < 1e-9, "{tj}");

    // Unknown layers and ids are 404 problems.
    let (status, _, _) = fetch(&srv, &tile_uri(&format!("/api/scenarios/{id}/tiles/nope"), t, "mvt"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(&srv, &tile_uri("/api/scenarios/999/tiles/depth", t, "png"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closure_on_the_city_network_spills_back_and_drains() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    // The busiest road of the peak-hour equilibrium.
    let id = start_job(&srv, json!({"kind": "traffic"})).await;
    assert_eq!(wait_job(&srv, id, Duration::from_secs(120)).await["status"], "done");
    let (_, _, flows) = srv.get(&format!("/api/scenarios/{id}/layers/traffic_flows")).await;
    let busiest = flows["features"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            let f = |x: &Value| x["properties"]["flow_veh_h"].as_f64().unwrap();
            f(a).total_cmp(&f(b))
        })
        .unwrap()["properties"]
        .clone();
    let edge = busiest["edge"].as_u64().unwrap();

    let body = json!({"kind": "incident", "closed_edges": [edge], "warmup_minutes": 10.0,
                      "incident_minutes": 10.0, "recovery_minutes": 15.0});
    let id = start_job(&srv, body).await;
    let job = wait_job(&srv, id, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "done", "{job}");
    let inc = &job["summary"]["incident"];
    let queued = inc["queued_links"].as_array().unwrap();
    // The closed road itself fills up …
    assert!(queued.iter().any(|q| q["incident"] == true), "{inc}");
    // … and the queue spills over the junction onto links upstream, some of them to their full length.
    assert!(inc["spillback_links"].as_u64().unwrap() >= 1, "{inc}");
    let full = queued
        .iter()
        .filter(|q| {
            q["incident"] == false && q["max_queue_m"].as_f64().unwrap() >= 0.9 * q["length_m"].as_f64().unwrap()
        })
        .count();
    assert!(full >= 1, "no upstream link filled: {inc}");
    assert!(inc["extra_vehicle_hours"].as_f64().unwrap() > 0.0);
    // After reopening the queues on the links shrink from their peak.
    let timeline = inc["timeline"].as_array().unwrap();
    let extra_queue = |s: &Value| s["queue_km"].as_f64().unwrap() - s["baseline_queue_km"].as_f64().unwrap();
    let peak = timeline.iter().map(extra_queue).fold(0.0, f64::max);
    assert!(peak > 0.0 && extra_queue(timeline.last().unwrap()) < peak, "{inc}");
    assert!(job["cells_per_s"].as_f64().unwrap() > 0.0);
    let (status, _, fc) = srv.get(&format!("/api/scenarios/{id}/layers/incident_queues")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!fc["features"].as_array().unwrap().is_empty());
    // No closed edge: a problem before any job starts.
    let (status, _, _) = srv.post("/api/scenarios", "application/json", r#"{"kind": "incident"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
