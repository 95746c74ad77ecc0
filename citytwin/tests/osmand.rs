//! `/ingest/osmand` through the router: the query, form and JSON forms Traccar Client sends, the
//! device registry, bad reports.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_problem, send, TestServer};
use twin_core::{EntityKind, PropertyValue};
use twin_feeds::connectors::{device_registry, TrackersSection};
use twin_ingest::osmand::Device;

fn server(unknown: Option<&str>) -> TestServer {
    let devices = [
        Device {
            id: "amb-07".into(),
            kind: EntityKind::Ambulance,
            agency: Some("Trung tâm Cấp cứu 115".into()),
            call_sign: Some("CC-07".into()),
        },
        Device { id: "ft-2".into(), kind: EntityKind::FireTruck, agency: None, call_sign: None },
    ];
    let trackers = TrackersSection { unknown_devices: unknown.map(str::to_owned) };
    let registry = std::sync::Arc::new(device_registry(&devices, &trackers).unwrap());
    TestServer::start_with(|o| o.devices = registry)
}

fn entity(s: &TestServer, kind: EntityKind, id: &str) -> Option<twin_core::Entity> {
    let twin = s.state.twin.read();
    twin.id_of(kind, id).and_then(|i| twin.get(i)).cloned()
}

#[tokio::test]
async fn get_query_string_updates_the_registered_vehicle() {
    let s = server(None);
    let q = "/ingest/osmand?id=amb-07&timestamp=1795420800&lat=16.0678&lon=108.2208&speed=20&bearing=90&altitude=5&accuracy=3&batt=64";
    let (status, _, body) = s.get(q).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 1);
    let e = entity(&s, EntityKind::Ambulance, "amb-07").unwrap();
    let p = e.position.unwrap();
    assert_eq!((p.lon, p.lat), (108.2208, 16.0678));
    assert_eq!(e.last_seen.as_millis(), 1_795_420_800_000);
    assert!((e.speed.unwrap() - 20.0 * 1852.0 / 3600.0).abs() < 1e-9, "knots to m/s");
    assert_eq!(e.heading, Some(90.0));
    assert_eq!(e.source, "osmand");
    assert_eq!(e.properties.get("call_sign"), Some(&PropertyValue::Text("CC-07".into())));
    assert_eq!(e.properties.get("battery_percent"), Some(&PropertyValue::Float(64.0)));
}

#[tokio::test]
async fn post_form_and_json_bodies() {
    let s = server(None);
    let (status, _, body) = s
        .post(
            "/ingest/osmand",
            "application/x-www-form-urlencoded",
            "id=ft-2&lat=16.05&lon=108.21&timestamp=1795420800000",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = entity(&s, EntityKind::FireTruck, "ft-2").unwrap();
    assert_eq!(e.last_seen.as_millis(), 1_795_420_800_000, "milliseconds read as such");

    let json = r#"{"device_id":"amb-07","location":{"timestamp":"2026-11-23T08:00:05Z","coords":{"latitude":16.06,"longitude":108.22,"speed":12.5,"heading":180},"battery":{"level":0.5,"is_charging":true}}}"#;
    let (status, _, body) = s.post("/ingest/osmand", "application/json", json).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = entity(&s, EntityKind::Ambulance, "amb-07").unwrap();
    assert_eq!(e.speed, Some(12.5));
    assert_eq!(e.last_seen.as_millis(), 1_795_420_805_000);
    assert_eq!(e.properties.get("charging"), Some(&PropertyValue::Bool(true)));
    // POST with the parameters in the query string and an empty body, as OsmAnd does.
    let req = Request::post("/ingest/osmand?id=ft-2&lat=16.07&lon=108.23").body(Body::empty()).unwrap();
    let (status, _, _) = send(s.app(), req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(entity(&s, EntityKind::FireTruck, "ft-2").unwrap().position.unwrap().lat, 16.07);
}

#[tokio::test]
async fn unknown_devices_are_refused_unless_accepted() {
    let s = server(None);
    let (status, ct, body) = s.get("/ingest/osmand?id=stranger&lat=16&lon=108").await;
    assert_problem(status, &ct, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["field"], "id");
    assert_eq!(s.state.twin.read().len(), 0);

    let open = server(Some("police_unit"));
    let (status, _, _) = open.get("/ingest/osmand?id=stranger&lat=16&lon=108").await;
    assert_eq!(status, StatusCode::OK);
    assert!(entity(&open, EntityKind::PoliceUnit, "stranger").is_some());
}

#[tokio::test]
async fn bad_reports_are_400_and_change_nothing() {
    let s = server(None);
    for (q, field) in [
        ("lat=16&lon=108", "id"),
        ("id=amb-07&lat=91&lon=108", "lat/lon"),
        ("id=amb-07&lat=16&lon=east", "lon"),
        ("id=amb-07&lon=108", "lat"),
        ("id=amb-07&lat=16&lon=108&timestamp=tomorrow", "timestamp"),
    ] {
        let (status, ct, body) = s.get(&format!("/ingest/osmand?{q}")).await;
        assert_problem(status, &ct, &body, StatusCode::BAD_REQUEST);
        assert_eq!(body["field"], field, "{q}");
    }
    let (status, ct, body) = s.post("/ingest/osmand", "application/json", "{\"device_id\": ").await;
    assert_problem(status, &ct, &body, StatusCode::BAD_REQUEST);
    assert_eq!(s.state.twin.read().len(), 0);
}

#[test]
fn registry_config_errors() {
    let d = Device { id: "a".into(), kind: EntityKind::Ambulance, agency: None, call_sign: None };
    assert!(device_registry(&[d.clone(), d.clone()], &TrackersSection::default()).is_err());
    let bad = TrackersSection { unknown_devices: Some("spaceship".into()) };
    assert!(device_registry(&[d], &bad).is_err());
}
