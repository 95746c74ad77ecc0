//! Identity and access end to end, against the real binary: the leak matrix (for each channel the
//! `transport` account never receives a police unit or a report contact, and `police` does), the
//! refusal to listen beyond loopback unprotected, and hostile clients (slow request heads, huge
//! WebSocket messages, forged Host headers) that must not hurt the server.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twin_tests::auth::{add_user, sign_in, ticket};
use twin_tests::live::{SseStream, WsSubscriber};
use twin_tests::server::{binary_path, workspace_root};
use twin_tests::{temp_dir, write_config, Client, Server};

const BBOX: [f64; 4] = [107.9, 15.9, 108.4, 16.2];
const UNIT: &str = "CA-HC-01";

/// A city with the Đà Nẵng demo's agencies and grants, the harness admin, and two operators.
fn city() -> (tempfile::TempDir, Server, String, String) {
    let dir = temp_dir("e2e-access-");
    let config = write_config(dir.path(), "Đà Nẵng", BBOX, twin_auth::DANANG_DEMO_TOML);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for agency in ["police", "transport"] {
        add_user(&binary_path(), &data, agency, &["--role", "operator", "--agency", agency], "operator-password");
    }
    let server = Server::serve(&config, &data, &[]);
    let police = sign_in(server.base_url(), "police", "operator-password").unwrap();
    let transport = sign_in(server.base_url(), "transport", "operator-password").unwrap();
    (dir, server, police, transport)
}

fn seed(server: &Server, client: &Client) {
    let now = chrono::Utc::now().to_rfc3339();
    client.ingest_all(
        server.base_url(),
        &[
            json!({"kind": "police_unit", "id": UNIT, "time": now, "lon": 108.2210, "lat": 16.0610}),
            json!({"kind": "bus", "id": "43B-100", "time": now, "lon": 108.2211, "lat": 16.0611}),
        ],
    );
}

/// A citizen report routed to transport (a traffic jam) with the reporter's phone number.
fn file_report(server: &Server, client: &Client) -> String {
    let boundary = "e2e-boundary";
    let mut body = String::new();
    for (k, v) in [
        ("channel", "hotline_1022"),
        ("category", "traffic_jam"),
        ("description", "Ùn tắc cầu Rồng"),
        ("lon", "108.2274"),
        ("lat", "16.0612"),
        ("reporter_contact", "0905 000 111"),
    ] {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let reply = client
        .post(&server.url("/api/reports"), &format!("multipart/form-data; boundary={boundary}"), body.as_bytes())
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["properties"]["external_id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = 2f64.powi(z as i32);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    (x, y)
}

fn ogr_count(server: &Server, token: &str, collection: &str) -> Option<usize> {
    let out = Command::new("ogrinfo")
        .env("GDAL_HTTP_HEADERS", format!("Authorization: Bearer {token}"))
        .args(["-ro", "-so", &format!("OAPIF:{}", server.url("/ogc")), collection])
        .output()
        .expect("ogrinfo (gdal-bin) must be installed");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    report.lines().find_map(|l| l.strip_prefix("Feature Count:")).and_then(|n| n.trim().parse().ok())
}

#[test]
fn leak_matrix_police_units_and_report_contacts() {
    let (_dir, server, police, transport) = city();
    let admin = Client::default();
    seed(&server, &admin);
    let report = file_report(&server, &admin);
    let unit_id = admin.get_json(&server.url("/api/entities?kind=police_unit"))["features"][0]["id"].as_u64().unwrap();

    for (who, token, sees_unit, sees_contact) in
        [("police", &police, true, false), ("transport", &transport, false, true)]
    {
        let c = admin.with_token(token);
        // REST: list, one, nearest, H3.
        let list = c.get_json(&server.url("/api/entities"));
        assert_eq!(ids(&list).contains(&UNIT.to_owned()), sees_unit, "{who} list");
        assert!(ids(&list).contains(&"43B-100".to_owned()), "{who} sees buses");
        let one = c.get(&server.url(&format!("/api/entities/{unit_id}"))).unwrap();
        assert_eq!(one.status, if sees_unit { 200 } else { 404 }, "{who} one");
        let near = c.get_json(&server.url("/api/nearest?lon=108.221&lat=16.061&k=10"));
        assert_eq!(ids(&near).contains(&UNIT.to_owned()), sees_unit, "{who} nearest");
        let h3 = c.get_json(&server.url("/api/h3?bbox=108.0,15.9,108.4,16.2&res=7"));
        assert_eq!(h3.to_string().contains("police_unit"), sees_unit, "{who} h3");
        // OGC API Features through GDAL, with the bearer header as QGIS and GDAL send it.
        let counted = ogr_count(&server, token, "police_unit");
        assert_eq!(counted.is_some_and(|n| n > 0), sees_unit, "{who} ogrinfo police_unit: {counted:?}");
        assert!(ogr_count(&server, token, "bus").is_some_and(|n| n > 0), "{who} ogrinfo bus");
        // MVT: the police layer is in the tile or not (layer names are plain strings in MVT).
        let (x, y) = tile_of(108.2210, 16.0610, 16);
        let (status, _, tile) = c.get_bytes(&server.url(&format!("/tiles/live/16/{x}/{y}.mvt"))).unwrap();
        assert_eq!(status, 200, "{who} tile");
        let has = |name: &[u8]| tile.windows(name.len()).any(|w| w == name);
        assert_eq!(has(b"police_unit"), sees_unit, "{who} tile layers");
        assert!(has(b"bus"), "{who} tile has buses");
        // WebSocket (ticket) and SSE (ticket): snapshots are clipped to the grants.
        let ws = format!("{}?ticket={}", server.ws_url(), ticket(server.base_url(), token));
        let mut sub = WsSubscriber::connect(&ws, BBOX, &["police_unit", "bus"]);
        let (snapshot, _) = sub.wait_for(Duration::from_secs(30), |m| m["type"] == "snapshot");
        assert_eq!(snapshot.to_string().contains(UNIT), sees_unit, "{who} ws snapshot");
        assert!(snapshot.to_string().contains("43B-100"), "{who} ws snapshot has buses");
        let sse = SseStream::open(&format!("{}?ticket={}", server.url("/events"), ticket(server.base_url(), token)));
        let first = sse.wait_for_data_containing("snapshot", Duration::from_secs(30));
        assert_eq!(first.contains(UNIT), sees_unit, "{who} sse snapshot");
        // The report's private record: the contact only for the agency it is routed to.
        let r = c.get_json(&server.url(&format!("/api/reports/{report}")));
        assert_eq!(r["reporter_contact"] == "0905 000 111", sees_contact, "{who} report: {r}");
        assert!(!c.get(&server.url("/api/entities?kind=citizen_report")).unwrap().body.contains("0905"), "{who}");
    }
    // A ticket works once.
    let t = ticket(server.base_url(), &police);
    let _first = SseStream::open(&format!("{}?ticket={t}", server.url("/events")));
    let again = Client::default().anonymous().get(&format!("{}?ticket={t}", server.url("/events"))).unwrap();
    assert_eq!(again.status, 401);
    // Nothing without a token but the public routes.
    let anon = Client::default().anonymous();
    assert_eq!(anon.get(&server.url("/api/entities")).unwrap().status, 401);
    assert_eq!(anon.get_bytes(&server.url("/tiles/live/16/0/0.mvt")).unwrap().0, 401);
    assert_eq!(anon.get(&server.url("/healthz")).unwrap().status, 200);
}

#[test]
fn no_unprotected_server_beyond_loopback() {
    let dir = temp_dir("e2e-exposed-");
    let config = write_config(dir.path(), "x", BBOX, "");
    let out = Command::new(binary_path())
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "0.0.0.0:0"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no admin account"), "{err}");

    let out = Command::new(binary_path())
        .args(["demo", "--no-cameras", "--data-dir"])
        .arg(dir.path().join("demo"))
        .args(["--listen", "0.0.0.0:0"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("well-known password"), "{err}");
}

/// Still answering after a hostile client.
fn healthy(server: &Server) {
    let reply = Client::new(Duration::from_secs(30)).get(&server.url("/healthz")).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn hostile_clients_do_not_hurt_the_server() {
    let dir = temp_dir("e2e-hostile-");
    let config = write_config(dir.path(), "x", BBOX, "");
    let server = Server::serve(&config, &dir.path().join("data"), &["--header-timeout-s", "1"]);

    // Slowloris: a request head that never ends is cut off after the header timeout.
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(started.elapsed() < Duration::from_secs(15), "the slow connection was not closed");
    healthy(&server);

    // A WebSocket message far over the limit closes that session, nothing else.
    let mut sub = WsSubscriber::connect(&server.ws_url(), BBOX, &[]);
    let closed = sub.send_raw(&"x".repeat(1 << 20));
    assert!(closed, "a 1 MiB client message must end the session");
    healthy(&server);

    // Links come from the configured address, not from a forged Host header.
    let tj = Client::default().get_with(&server.url("/tiles/live.json"), &[("host", "evil.example")]).unwrap();
    assert_eq!(tj.status, 200, "{}", tj.body);
    assert!(!tj.body.contains("evil.example"), "{}", tj.body);
    let ogc = Client::default().get_with(&server.url("/ogc"), &[("host", "evil.example")]).unwrap();
    assert!(!ogc.body.contains("evil.example"), "{}", ogc.body);

    // Security headers on every answer.
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let resp = agent.get(&server.url("/")).call().unwrap();
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}
