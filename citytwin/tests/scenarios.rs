//! Scenario jobs over HTTP: flood on an inline grid, traffic on the Hải Châu roads, flood →
//! traffic on a synthetic DEM, cancellation, errors, and live congestion.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_problem, city_layers, send, start_job, wait_job, TestServer};
use serde_json::json;
use twin_core::{EntityKind, Observation, Timestamp};
use twin_tiles::terrain::Dem;

/// An n × n flat grid at 10 m with `cellsize` metres.
fn flat_asc(n: usize, cellsize: f64) -> String {
    let row = vec!["10"; n].join(" ");
    format!("ncols {n}\nnrows {n}\nxllcorner 0\nyllcorner 0\ncellsize {cellsize}\n{}", vec![row; n].join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_job_reports_progress_summary_and_depth_layers() {
    let srv = TestServer::start();
    let body =
        json!({"kind": "flood", "dem_asc": flat_asc(10, 5.0), "rain_mm_h": 300.0, "hours": 1.0, "boundary": "closed"});
    let id = start_job(&srv, body).await;
    let job = wait_job(&srv, id, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["percent"], 100.0);
    let flood = &job["summary"]["flood"];
    // 300 mm/h for an hour on 10 × 10 cells of 25 m².
    let rain = 0.3 * 100.0 * 25.0;
    assert!((flood["rain_volume_m3"].as_f64().unwrap() - rain).abs() < 1e-9 * rain, "{flood}");
    assert!(flood["volume_error_rel"].as_f64().unwrap() <= 1e-9);
    assert!(job["simulated_s"].as_f64().unwrap() >= 3600.0 - 1e-6);
    assert!(job["cells_per_s"].as_f64().unwrap() > 0.0);
    let href = job["layers"].as_array().unwrap().iter().find(|l| l["name"] == "flood_depth_classes").unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, fc) = srv.get(&href).await;
    assert_eq!(status, StatusCode::OK);
    let classes = fc["features"].as_array().unwrap();
    let cells = |min: f64| {
        classes.iter().find(|f| f["properties"]["min_depth_m"] == min).unwrap()["properties"]["cells"].as_u64().unwrap()
    };
    // A flat closed basin holds 0.3 m everywhere: at least 0.1 m, but not 0.5 m.
    assert_eq!(cells(0.1), 100);
    assert_eq!(cells(0.5), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cancels_a_running_job() {
    let srv = TestServer::start();
    let id = start_job(&srv, json!({"kind": "flood", "dem_asc": flat_asc(300, 1.0), "rain_mm_h": 50.0, "hours": 72.0}))
        .await;
    let req = Request::delete(format!("/api/scenarios/{id}")).body(Body::empty()).unwrap();
    let (status, _, _) = send(srv.app(), req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let job = wait_job(&srv, id, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(job["simulated_s"].as_f64().unwrap() < 72.0 * 3600.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_unknown_jobs_are_problems() {
    let srv = TestServer::start();
    let (status, ct, body) = srv.post("/api/scenarios", "application/json", r#"{"kind": "earthquake"}"#).await;
    assert_problem(status, &ct, &body, StatusCode::BAD_REQUEST);
    // No city DEM and no inline grid.
    let (status, ct, body) = srv.post("/api/scenarios", "application/json", r#"{"kind": "flood"}"#).await;
    assert_problem(status, &ct, &body, StatusCode::BAD_REQUEST);
    let (status, ct, body) = srv.get("/api/scenarios/999").await;
    assert_problem(status, &ct, &body, StatusCode::NOT_FOUND);
    let (status, ct, body) = srv.get("/api/scenarios/abc").await;
    assert_problem(status, &ct, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_job_reaches_equilibrium_on_the_city_roads() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    let id = start_job(&srv, json!({"kind": "traffic"})).await;
    let job = wait_job(&srv, id, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "done", "{job}");
    let t = &job["summary"]["traffic"];
    assert!(t["relative_gap"].as_f64().unwrap() <= 1e-4, "{t}");
    assert!(t["mean_od_time_s"].as_f64().unwrap() > 0.0);
    let (status, _, fc) = srv.get(&format!("/api/scenarios/{id}/layers/traffic_flows")).await;
    assert_eq!(status, StatusCode::OK);
    let features = fc["features"].as_array().unwrap();
    assert!(features.iter().any(|f| f["properties"]["flow_veh_h"].as_f64().unwrap() > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_closes_streets_in_the_traffic_model() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    // A synthetic DEM over Hải Châu at 3″: a bowl 20 m deep whose bottom sits under the centre.
    let (west, north, d) = (108.19, 16.09, 3.0 / 3600.0);
    let (w, h) = (((108.24 - west) / d) as usize, ((north - 16.03) / d) as usize);
    let (cx, cy) = (108.215, 16.06);
    let mut data = Vec::new();
    for r in 0..h {
        for c in 0..w {
            let (lon, lat) = (west + (c as f64 + 0.5) * d, north - (r as f64 + 0.5) * d);
            let dist = ((lon - cx).powi(2) + (lat - cy).powi(2)).sqrt();
            data.push((20.0 * dist / 0.03).min(20.0) as f32);
        }
    }
    srv.state.tiles.set_dem(Dem::from_grid(w, h, west, north, d, d, data));
    let body = json!({"kind": "flood_traffic", "rain_mm_h": 150.0, "hours": 1.0, "boundary": "closed"});
    let id = start_job(&srv, body).await;
    let job = wait_job(&srv, id, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "done", "{job}");
    let coupling = &job["summary"]["coupling"];
    let closed = coupling["closed"].as_array().unwrap();
    assert!(!closed.is_empty(), "nothing closed: {coupling}");
    assert!(closed.iter().all(|c| c["depth_m"].as_f64().unwrap() > 0.3));
    assert!(coupling["after"]["relative_gap"].as_f64().unwrap() <= 1e-4);
    // Hospitals from the POI layer, each with reach before and after.
    let stations = coupling["stations"].as_array().unwrap();
    assert!(!stations.is_empty());
    let (status, _, fc) = srv.get(&format!("/api/scenarios/{id}/layers/closed_roads")).await;
    assert_eq!(status, StatusCode::OK);
    let n_edges = closed.iter().filter(|c| c["edge"].is_u64()).count();
    assert_eq!(fc["features"].as_array().unwrap().len(), n_edges);
    let (status, _, fc) = srv.get(&format!("/api/scenarios/{id}/layers/flooded_roads")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fc["features"].as_array().unwrap().len() >= n_edges / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn congestion_from_bus_speeds() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    // A bus crawling at 2 m/s on Phan Thanh (a 40 km/h residential street), sampled at a vertex.
    let roads = city_layers();
    let road = roads
        .get("roads")
        .unwrap()
        .features
        .iter()
        .find(|f| f.properties.get("@id") == Some(&json!(35950850)))
        .unwrap();
    let geo::Geometry::LineString(line) = &road.geometry else { panic!("not a line") };
    let p = line.0[line.0.len() / 2];
    let mut o = Observation::new(EntityKind::Bus, "bus-1", Timestamp::from_millis(common::T0)).at(p.x, p.y);
    o.speed = Some(2.0);
    srv.submit(vec![o]).await;
    let (status, _, fc) = srv.get("/api/traffic/congestion").await;
    assert_eq!(status, StatusCode::OK);
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "{fc}");
    let props = &features[0]["properties"];
    let expected = 1.0 - 2.0 * 3.6 / props["free_flow_kmh"].as_f64().unwrap();
    assert!((props["congestion"].as_f64().unwrap() - expected).abs() < 1e-12);
    assert_eq!(props["name"], "Đường Phan Thanh");
}

/// The planners' question on the real terrain: 150 mm in 3 hours over Hải Châu (SRTM DEM cut to
/// the road network), flooded streets closed in the traffic model. Slow in a debug build: run
/// with `cargo test -p citytwin --test scenarios -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes in a debug build"]
async fn three_hour_rain_on_da_nang_closes_streets() {
    let srv = TestServer::start_full(|_| {}, city_layers());
    let dem = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/dem/danang_srtm_gl1_30m.tif");
    srv.state.tiles.set_dem(Dem::read_geotiff(&dem).unwrap());
    let body = json!({"kind": "flood_traffic", "rain_mm_h": 50.0, "hours": 3.0, "boundary": "open"});
    let id = start_job(&srv, body).await;
    let job = wait_job(&srv, id, Duration::from_secs(180)).await;
    assert_eq!(job["status"], "done", "{job}");
    let flood = &job["summary"]["flood"];
    assert!(flood["volume_error_rel"].as_f64().unwrap() <= 1e-9, "{flood}");
    let coupling = &job["summary"]["coupling"];
    eprintln!("{}", serde_json::to_string_pretty(&job["summary"]).unwrap());
    assert!(coupling["after"]["relative_gap"].as_f64().unwrap() <= 1e-4);
    for c in coupling["closed"].as_array().unwrap() {
        assert!(c["depth_m"].as_f64().unwrap() > 0.3);
    }
}
