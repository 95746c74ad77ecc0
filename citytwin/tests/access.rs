//! Identity and access through the router: the token endpoint, 401/403/404 on every channel the
//! router serves, the grants of the Đà Nẵng demo (police units and report contacts), the audit
//! trail and the security headers.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use twin_auth::Role;
use twin_core::{EntityKind, PropertyValue};

const LON: f64 = 108.2200;
const LAT: f64 = 16.0600;

async fn token_request(s: &TestServer, form: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = Request::post("/auth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    let res = s.app_anonymous().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn as_token(s: &TestServer, token: &str, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (st, _, v) = send(s.app_anonymous(), req.body(body).unwrap()).await;
    (st, v)
}

#[tokio::test]
async fn token_endpoint_speaks_rfc_6749() {
    let s = TestServer::start();
    let (st, h, v) =
        token_request(&s, &format!("grant_type=password&username={ADMIN}&password={ADMIN_PASSWORD}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(v["access_token"].as_str().unwrap().split('.').count(), 3, "a compact JWS");
    assert_eq!(h["cache-control"], "no-store");

    // The refresh token rotates: it works once.
    let refresh = v["refresh_token"].as_str().unwrap().to_owned();
    let (st, _, again) = token_request(&s, &format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    let (st, _, spent) = token_request(&s, &format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!((st, spent["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    for (form, status, error) in [
        (format!("grant_type=password&username={ADMIN}&password=wrong-password"), 400, "invalid_grant"),
        ("grant_type=password&username=nobody&password=whatever-it-is".to_owned(), 400, "invalid_grant"),
        ("grant_type=implicit".to_owned(), 400, "unsupported_grant_type"),
        ("username=x&password=y".to_owned(), 400, "invalid_request"),
        ("grant_type=password&grant_type=password&username=x&password=y".to_owned(), 400, "invalid_request"),
        ("grant_type=client_credentials&client_id=ghost&client_secret=nope".to_owned(), 401, "invalid_client"),
    ] {
        let (st, _, v) = token_request(&s, &form).await;
        assert_eq!((st.as_u16(), v["error"].as_str()), (status, Some(error)), "{form}: {v}");
    }
}

#[tokio::test]
async fn logins_are_rate_limited_per_account() {
    let s = TestServer::start();
    let mut limited = None;
    for _ in 0..10 {
        let (st, h, v) = token_request(&s, &format!("grant_type=password&username={ADMIN}&password=not-the-one")).await;
        if st == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((h, v));
            break;
        }
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
    let (h, v) = limited.expect("ten wrong passwords in a row must be slowed down");
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(v["error"], "slow_down");
}

#[tokio::test]
async fn missing_or_bad_tokens_get_401_with_a_bearer_challenge() {
    let s = TestServer::start();
    let (st, _, _) = send(s.app_anonymous(), Request::get("/api/entities").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let res = s.app_anonymous().oneshot(Request::get("/api/stats").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"citytwin\"");
    let bad = Request::get("/api/stats").header("authorization", "Bearer abc.def.ghi").body(Body::empty()).unwrap();
    let res = s.app_anonymous().oneshot(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    // Public routes stay public.
    for uri in ["/healthz", "/openapi.json", "/ogc", "/ogc/conformance"] {
        let (st, _, _) = send(s.app_anonymous(), Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
    }
}

/// Every operation of the OpenAPI document that does not declare itself public answers 401
/// without a token: generated from the document, so a new route cannot forget it.
#[tokio::test]
async fn every_protected_route_in_the_openapi_document_needs_a_token() {
    let s = TestServer::start();
    let doc = serde_json::to_value(citytwin::app::api_doc()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if public {
                continue;
            }
            // Path parameters get a plausible value; the 401 must come before any lookup.
            let uri: String = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        if seg.contains('.') {
                            "1.json"
                        } else {
                            "1"
                        }
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let uri = uri.replace("{y}.mvt", "1.mvt").replace("{name}.json", "x.json");
            let req = Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(Body::empty()).unwrap();
            let res = s.app_anonymous().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {uri} answered without a token");
            assert!(res.headers().contains_key("www-authenticate"), "{method} {uri}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} protected operations found");
    assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
}

/// The Đà Nẵng demo's grants: police units for police and leaders, everything else for every
/// signed-in account; devices only ingest.
async fn fleet(s: &TestServer) {
    let mut unit = obs(EntityKind::PoliceUnit, "CA-01", twin_runtime::clock::now().as_millis(), LON, LAT);
    unit.properties.insert("callsign".into(), PropertyValue::Text("CA-01".into()));
    let bus = obs(EntityKind::Bus, "43B-001", twin_runtime::clock::now().as_millis(), LON + 0.0001, LAT);
    s.submit(vec![unit, bus]).await;
}

fn ids(fc: &Value) -> Vec<String> {
    external_ids(fc)
}

#[tokio::test]
async fn police_units_reach_only_police_and_leaders_on_every_rest_channel() {
    let s = TestServer::start();
    fleet(&s).await;
    let police = s.add_user("police", Role::Operator, Some("police"));
    let transport = s.add_user("transport", Role::Operator, Some("transport"));
    let leader = s.add_user("leader", Role::Leader, None);
    let unit_id = s.state.twin.read().id_of(EntityKind::PoliceUnit, "CA-01").unwrap().0;

    for (who, token, sees) in [("police", &police, true), ("leader", &leader, true), ("transport", &transport, false)] {
        let (st, list) = as_token(&s, token, "GET", "/api/entities", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(ids(&list).contains(&"CA-01".to_owned()), sees, "{who} list: {list}");
        assert!(ids(&list).contains(&"43B-001".to_owned()), "{who} sees buses");

        let (st, _) = as_token(&s, token, "GET", &format!("/api/entities/{unit_id}"), None).await;
        assert_eq!(st, if sees { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{who} one");
        let (st, _) = as_token(&s, token, "GET", &format!("/api/entities/{unit_id}/track"), None).await;
        assert_eq!(st, if sees { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{who} track");

        let (_, near) = as_token(&s, token, "GET", &format!("/api/nearest?lon={LON}&lat={LAT}&k=5"), None).await;
        assert_eq!(ids(&near).contains(&"CA-01".to_owned()), sees, "{who} nearest: {near}");

        let square = json!({"type": "Polygon", "coordinates": [[[108.2, 16.05], [108.25, 16.05], [108.25, 16.07], [108.2, 16.07], [108.2, 16.05]]]});
        let (_, within) = as_token(&s, token, "POST", "/api/within", Some(square)).await;
        assert_eq!(ids(&within).contains(&"CA-01".to_owned()), sees, "{who} within: {within}");

        let (_, h3) = as_token(&s, token, "GET", "/api/h3?bbox=108.0,15.9,108.4,16.2&res=7", None).await;
        let police_units: u64 =
            h3["features"].as_array().unwrap().iter().filter_map(|f| f["properties"]["police_unit"].as_u64()).sum();
        assert_eq!(police_units > 0, sees, "{who} h3: {h3}");

        let (_, stats) = as_token(&s, token, "GET", "/api/stats", None).await;
        assert_eq!(stats["counts"].get("police_unit").is_some(), sees, "{who} stats: {stats}");

        let (_, ogc) = as_token(&s, token, "GET", "/ogc/collections/police_unit/items", None).await;
        assert_eq!(ogc["features"].as_array().is_some_and(|f| !f.is_empty()), sees, "{who} ogc: {ogc}");
        let (_, cols) = as_token(&s, token, "GET", "/ogc/collections", None).await;
        let listed = cols["collections"].as_array().unwrap().iter().any(|c| c["id"] == "police_unit");
        assert_eq!(listed, sees, "{who} collections");
    }
}

#[tokio::test]
async fn roles_bound_what_an_account_may_do() {
    let s = TestServer::start();
    let transport = s.add_user("transport", Role::Operator, Some("transport"));
    let leader = s.add_user("leader", Role::Leader, None);
    let analyst = s.add_user("analyst", Role::Analyst, None);
    // Metrics and the audit trail: leaders, not operators.
    assert_eq!(as_token(&s, &transport, "GET", "/metrics", None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(as_token(&s, &leader, "GET", "/metrics", None).await.0, StatusCode::OK);
    assert_eq!(as_token(&s, &transport, "GET", "/api/audit", None).await.0, StatusCode::FORBIDDEN);
    // Nobody but a granted source writes into the log.
    let o = json!([{"kind": "bus", "id": "43B-9", "lon": LON, "lat": LAT}]);
    assert_eq!(as_token(&s, &analyst, "POST", "/ingest/observations", Some(o.clone())).await.0, StatusCode::FORBIDDEN);
    assert_eq!(as_token(&s, &transport, "POST", "/ingest/observations", Some(o)).await.0, StatusCode::FORBIDDEN);
    // Camera frames and evidence: not for transport (404: no camera exists for them).
    for uri in ["/api/cameras/cam-1/snapshot.jpg", "/api/cameras/cam-1/evidence"] {
        let (st, _) = as_token(&s, &transport, "GET", uri, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn devices_only_ingest_into_their_sources_and_the_log_names_them() {
    let s = TestServer::start();
    let path = s.dir.path().join(twin_auth::service::USERS_FILE);
    let mut users = twin_auth::UserStore::load(&path).unwrap();
    let secret =
        users.add_client("feed-1", Role::Device, None, vec!["observations".into()], &mut rand::rngs::OsRng).unwrap();
    users.save(&path).unwrap();
    let f = std::fs::File::options().append(true).open(&path).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    s.state.auth.access.reload_if_changed().unwrap();
    let (st, _, v) =
        token_request(&s, &format!("grant_type=client_credentials&client_id=feed-1&client_secret={secret}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.get("refresh_token").is_none(), "clients get no refresh token");
    let device = v["access_token"].as_str().unwrap().to_owned();

    let o = json!([{"kind": "bus", "id": "43B-7", "lon": LON, "lat": LAT}]);
    let (st, body) = as_token(&s, &device, "POST", "/ingest/observations", Some(o)).await;
    assert_eq!((st, body["accepted"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    // Reads are not a device's business.
    assert_eq!(as_token(&s, &device, "GET", "/api/entities", None).await.0, StatusCode::FORBIDDEN);

    // The audit trail names the device.
    let (st, _, audit) = send(s.app(), Request::get("/api/audit?from_seq=0").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{audit}");
    let actors: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["actor"].as_str()).collect();
    assert!(actors.contains(&"device:feed-1"), "{audit}");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let s = TestServer::start();
    let res = s.app_anonymous().oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(h["x-frame-options"], "DENY");
}

#[tokio::test]
async fn tiles_are_private_and_cached_per_visibility_class() {
    let s = TestServer::start();
    fleet(&s).await;
    let police = s.add_user("police", Role::Operator, Some("police"));
    let transport = s.add_user("transport", Role::Operator, Some("transport"));
    // z16 tile over the unit.
    let n = 2f64.powi(16);
    let x = ((LON + 180.0) / 360.0 * n) as u32;
    let lat = LAT.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    let uri = format!("/tiles/live/16/{x}/{y}.mvt");
    let get = |token: String| {
        let req = Request::get(&uri).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
        s.app_anonymous().oneshot(req)
    };
    let police_res = get(police).await.unwrap();
    assert_eq!(police_res.status(), StatusCode::OK);
    assert!(police_res.headers()["cache-control"].to_str().unwrap().starts_with("private"));
    assert!(police_res.headers()["vary"].to_str().unwrap().contains("authorization"));
    let police_etag = police_res.headers()["etag"].clone();
    let police_tile = police_res.into_body().collect().await.unwrap().to_bytes();
    let transport_res = get(transport).await.unwrap();
    assert_ne!(transport_res.headers()["etag"], police_etag, "one cache entry per visibility class");
    let transport_tile = transport_res.into_body().collect().await.unwrap().to_bytes();
    // Layer names sit in the tile as plain strings.
    let has = |tile: &[u8], name: &[u8]| tile.windows(name.len()).any(|w| w == name);
    assert!(has(&police_tile, b"police_unit") && has(&police_tile, b"bus"));
    assert!(!has(&transport_tile, b"police_unit") && has(&transport_tile, b"bus"));
}

fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "citytwin-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_report_contact_reaches_only_the_agency_it_is_routed_to() {
    let s = TestServer::start();
    let (ct, body) = multipart(&[
        ("channel", "app"),
        ("category", "traffic_jam"),
        ("description", "Kẹt xe trên đường Bạch Đằng"),
        ("lon", "108.2240"),
        ("lat", "16.0680"),
        ("reporter_contact", "0905 123 456"),
    ]);
    let (st, _, created) = s.post("/api/reports", &ct, body).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let police = s.add_user("police", Role::Operator, Some("police"));
    let transport = s.add_user("transport", Role::Operator, Some("transport"));
    let leader = s.add_user("leader", Role::Leader, None);
    for (who, token, sees) in [("transport", &transport, true), ("leader", &leader, true), ("police", &police, false)] {
        let (st, v) = as_token(&s, token, "GET", &format!("/api/reports/{id}"), None).await;
        assert_eq!(st, StatusCode::OK, "{who}: {v}");
        assert_eq!(v["agency_id"], "transport");
        assert_eq!(v.get("reporter_contact").is_some(), sees, "{who}: {v}");
        if sees {
            assert_eq!(v["reporter_contact"], "0905 123 456");
        }
    }
    // Only the routed agency's operators change its status.
    let ack = json!({"status": "acknowledged"});
    assert_eq!(
        as_token(&s, &police, "PATCH", &format!("/api/reports/{id}"), Some(ack.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(as_token(&s, &transport, "PATCH", &format!("/api/reports/{id}"), Some(ack)).await.0, StatusCode::OK);
    // Anonymous callers cannot file or change reports.
    let (ct, body) = multipart(&[
        ("channel", "app"),
        ("category", "other"),
        ("description", "x"),
        ("lon", "108.2"),
        ("lat", "16.0"),
    ]);
    let req = Request::post("/api/reports").header("content-type", ct).body(Body::from(body)).unwrap();
    assert_eq!(send(s.app_anonymous(), req).await.0, StatusCode::UNAUTHORIZED);
}
