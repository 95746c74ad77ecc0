//! Shared helpers: a server core over a temp data dir, requests through `oneshot`.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use citytwin::boot::{self, Running, ServerOptions};
use citytwin::state::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use twin_core::{EntityKind, Observation, Timestamp};
use twin_layers::{Layer, ReferenceLayers};

pub struct TestServer {
    pub running: Option<Running>,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// An admin's access token: `app()` sends it unless a request carries its own.
    pub token: String,
}

/// The test admin, added to every test server's data dir.
pub const ADMIN: &str = "test-admin";
pub const ADMIN_PASSWORD: &str = "test-admin-password";

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(f: impl FnOnce(&mut ServerOptions)) -> Self {
        Self::start_full(f, ReferenceLayers::default())
    }

    pub fn start_full(f: impl FnOnce(&mut ServerOptions), layers: ReferenceLayers) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut users = twin_auth::UserStore::new();
        users.add_user(ADMIN, twin_auth::Role::Admin, None, ADMIN_PASSWORD, &mut rand::rngs::OsRng).unwrap();
        users.save(&dir.path().join(twin_auth::service::USERS_FILE)).unwrap();
        let mut opts = ServerOptions::new(dir.path());
        f(&mut opts);
        let running = boot::start(opts, Arc::new(layers)).unwrap();
        let state = running.state.clone();
        let token = sign_in(&state, ADMIN, ADMIN_PASSWORD);
        Self { running: Some(running), state, dir, token }
    }

    /// Adds a person to the data dir and signs them in; the access token.
    pub fn add_user(&self, name: &str, role: twin_auth::Role, agency: Option<&str>) -> String {
        let path = self.dir.path().join(twin_auth::service::USERS_FILE);
        let mut users = twin_auth::UserStore::load(&path).unwrap();
        let agency = agency.map(|a| twin_core::AgencyId(a.into()));
        users.add_user(name, role, agency, "a-long-password", &mut rand::rngs::OsRng).unwrap();
        users.save(&path).unwrap();
        // The server rereads the file when its modification time moves.
        let f = std::fs::File::options().append(true).open(&path).unwrap();
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
        self.state.auth.access.reload_if_changed().unwrap();
        sign_in(&self.state, name, "a-long-password")
    }

    /// The runtime core under the state (what feeds and connectors start from).
    pub fn core(&self) -> twin_runtime::Core {
        axum::extract::FromRef::from_ref(&self.state)
    }

    /// The router, signed in as the test admin (a request's own `authorization` header wins).
    pub fn app(&self) -> Router {
        let bearer = format!("Bearer {}", self.token);
        citytwin::app::app(self.state.clone()).layer(axum::middleware::map_request(move |mut req: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                if !req.headers().contains_key("authorization") {
                    req.headers_mut().insert("authorization", bearer.parse().unwrap());
                }
                req
            }
        }))
    }

    /// The router as an anonymous caller sees it.
    pub fn app_anonymous(&self) -> Router {
        citytwin::app::app(self.state.clone())
    }

    /// Submits through the ingest handle (as a feed would) and waits until durable.
    pub async fn submit(&self, batch: Vec<Observation>) {
        let n = batch.len();
        let res = self.state.ingest.submit("test", batch).await.unwrap();
        assert_eq!(res.accepted, n, "rejected: {:?}", res.rejected);
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        send(self.app(), Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, uri: &str, content_type: &str, body: impl Into<Body>) -> (StatusCode, String, Value) {
        let req = Request::post(uri).header("content-type", content_type).body(body.into()).unwrap();
        send(self.app(), req).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown();
        }
    }
}

/// A password sign-in through the server's access service (what `POST /auth/token` does).
pub fn sign_in(state: &AppState, name: &str, password: &str) -> String {
    let req = twin_auth::TokenRequest::Password { username: name.into(), password: password.into() };
    let local = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    state.auth.access.token(&req, local, twin_runtime::clock::now()).unwrap().access_token
}

/// (status, content type, JSON body or Null)
pub async fn send(app: Router, req: Request<Body>) -> (StatusCode, String, Value) {
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ct, json)
}

pub fn obs(kind: EntityKind, id: &str, t_ms: i64, lon: f64, lat: f64) -> Observation {
    Observation::new(kind, id, Timestamp::from_millis(t_ms)).at(lon, lat)
}

/// 2026-11-23T08:00:00Z
pub const T0: i64 = 1_795_420_800_000;

/// Great-circle distance (haversine on the IUGG mean sphere), written independently of the model.
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let r = 6_371_008.8_f64;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().atan2((1.0 - a).sqrt())
}

/// External ids of a FeatureCollection, sorted.
pub fn external_ids(fc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["external_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

pub fn assert_problem(status: StatusCode, ct: &str, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "body: {body}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["status"].as_u64(), Some(u64::from(expected.as_u16())));
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(), "{body}");
}

/// The Hải Châu roads, buildings and emergency POIs from `data/osm`, the scenario tests' city.
pub fn city_layers() -> ReferenceLayers {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/osm");
    let load = |name: &str, file: &str| Layer::from_geojson_file(name, &dir.join(file)).unwrap();
    ReferenceLayers {
        layers: vec![
            load("roads", "danang_haichau_roads.geojson"),
            load("buildings", "danang_haichau_buildings.geojson"),
            load("pois", "danang_haichau_poi_emergency.geojson"),
        ],
    }
}

/// A GET with extra headers (Host is `tiles.example:8080`); status, headers and raw body bytes.
pub async fn fetch(s: &TestServer, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header("host", "tiles.example:8080");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = s.app().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (status, h) = (res.status(), res.headers().clone());
    (status, h, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// A response header as text ("" when absent).
pub fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// Posts a scenario job and returns its id.
pub async fn start_job(srv: &TestServer, body: Value) -> u64 {
    let (status, _, res) = srv.post("/api/scenarios", "application/json", body.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{res}");
    res["id"].as_u64().unwrap()
}

/// Polls a scenario job every 20 ms, at most `polls` times, until it leaves `running` (the solver
/// runs on the blocking pool).
/// Polls a scenario job until it ends (done, failed, cancelled). A job still running at the
/// deadline fails the test with its last state, in seconds rather than at the harness's limit.
pub async fn wait_job(srv: &TestServer, id: u64, within: std::time::Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (status, _, job) = srv.get(&format!("/api/scenarios/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        if job["status"] != "running" {
            return job;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("scenario {id} still running after {within:?}: {job}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Polls every 50 ms until `f` holds (connectors run on their own tasks); panics after 30 s.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
