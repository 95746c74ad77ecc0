//! Feeds: AIS over TCP and UDP into the model (real gpsd capture), garbage counted without blocking
//! other feeds, `/api/feeds`, HTTP rate limits, the embedded MQTT broker, the demo's encoders.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{eventually, send, TestServer};
use serde_json::Value;
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp};
use twin_feeds::feeds::{self, AisSection, MqttSection};
use twin_feeds::mqtt::Publisher;
use twin_ingest::ais::{AisMessage, Decoder};
use twin_ingest::mqtt::{decode, SensorRegistry, TopicPattern};

const SENTENCE: &str = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
const GPSD_SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../twin-ingest/tests/data/ais/gpsd/sample.aivdm");
/// MMSIs of type 1–3 reports in gpsd's own decode of the sample (sample.aivdm.js.chk).
const GPSD_MMSIS: [&str; 4] = ["371798000", "440348000", "356302000", "563808000"];

fn no_devices() -> std::sync::Arc<dyn twin_feeds::broker::BrokerAuth> {
    std::sync::Arc::new(twin_feeds::broker::NoDevices)
}

fn ais_tcp(addr: &str, source: &str) -> AisSection {
    AisSection {
        tcp: Some(addr.into()),
        udp: None,
        file: None,
        speed: 1.0,
        repeat: false,
        source: Some(source.into()),
        rate_limit: None,
    }
}

fn has_vessel(s: &TestServer, mmsi: &str) -> bool {
    let twin = s.state.twin.read();
    [EntityKind::Vessel, EntityKind::FishingBoat].iter().any(|k| twin.id_of(*k, mmsi).is_some())
}

/// Serves `text` to the first client on a loopback port, then keeps the connection open.
fn serve_once(text: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.write_all(text.as_bytes());
            std::thread::sleep(Duration::from_secs(30));
        }
    });
    addr
}

fn feed<'a>(body: &'a Value, source: &str) -> &'a Value {
    body["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == source)
        .unwrap_or_else(|| panic!("{source} in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ais_tcp_feed_fills_the_model_and_garbage_neither_stops_it_nor_other_feeds() {
    let s = TestServer::start();
    let sample = std::fs::read_to_string(GPSD_SAMPLE).unwrap();
    // Garbage between real lines: bad checksum, junk, binary-ish text.
    let mut mixed = String::new();
    for (i, line) in sample.lines().enumerate() {
        mixed.push_str(line);
        mixed.push('\n');
        if i % 50 == 0 {
            mixed.push_str("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*00\nhello\n\u{1}\u{2}garbage\n");
        }
    }
    let garbage: String = (0..5000).map(|i| format!("$GARBAGE,{i}*ZZ\n")).collect();
    let good = serve_once(mixed);
    let bad = serve_once(garbage);
    let sections = [ais_tcp(&bad, "ais:bad"), ais_tcp(&good, "ais:good")];
    let _started =
        feeds::start(&s.core(), &s.state.feeds, None, no_devices(), &sections, &[], std::path::Path::new("."))
            .await
            .unwrap();

    eventually("gpsd vessels in the model", || GPSD_MMSIS.iter().all(|m| has_vessel(&s, m))).await;
    eventually("all garbage counted", || {
        s.state.feeds.snapshot().iter().any(|f| f.source == "ais:bad" && f.rejected_total == 5000)
    })
    .await;

    let (status, _, body) = s.get("/api/feeds").await;
    assert_eq!(status, StatusCode::OK);
    let good = feed(&body, "ais:good");
    assert_eq!(good["protocol"], "ais-tcp");
    assert_eq!(good["connected"], true);
    assert!(good["accepted"].as_u64().unwrap() >= 4, "{good}");
    assert!(good["rejected"]["bad_checksum"].as_u64().unwrap() >= 1, "{good}");
    assert!(good["rejected"]["not_ais"].as_u64().unwrap() >= 1, "{good}");
    let bad = feed(&body, "ais:bad");
    assert_eq!(bad["received"], 5000);
    assert_eq!(bad["accepted"], 0);
    // Observations carry the feed name.
    let twin = s.state.twin.read();
    let id = twin.id_of(EntityKind::Vessel, "371798000").unwrap();
    assert_eq!(twin.get(id).unwrap().source, "ais:good");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ais_udp_datagrams_are_decoded() {
    let s = TestServer::start();
    let sections = [AisSection {
        tcp: None,
        udp: Some("127.0.0.1:0".into()),
        file: None,
        speed: 1.0,
        repeat: false,
        source: None,
        rate_limit: None,
    }];
    let started =
        feeds::start(&s.core(), &s.state.feeds, None, no_devices(), &sections, &[], std::path::Path::new("."))
            .await
            .unwrap();
    let addr = started.udp_addrs[0];
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\nnot nmea\r\n", addr).unwrap();
    eventually("vessel from UDP", || has_vessel(&s, "371798000")).await;
    let snap = s.state.feeds.snapshot();
    let f = snap.iter().find(|f| f.source.starts_with("ais:udp:")).unwrap();
    assert_eq!(f.received, 2);
    assert_eq!(f.rejected_total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ais_file_replay_reaches_the_model() {
    let s = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.nmea");
    // No tag-block times: uniform pacing, sped up.
    std::fs::write(
        &path,
        "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n",
    )
    .unwrap();
    let sections = [AisSection {
        tcp: None,
        udp: None,
        file: Some(path),
        speed: 20.0,
        repeat: false,
        source: None,
        rate_limit: None,
    }];
    let _st = feeds::start(&s.core(), &s.state.feeds, None, no_devices(), &sections, &[], std::path::Path::new("."))
        .await
        .unwrap();
    eventually("replayed vessel", || has_vessel(&s, "371798000")).await;
    eventually("both lines", || {
        s.state.feeds.snapshot().iter().any(|f| f.source == "replay:ais:cap" && f.received == 2)
    })
    .await;
}

#[test]
fn replay_schedule_follows_tag_block_times_scaled() {
    use twin_feeds::ais::schedule;
    let tagged = |tag: &str| format!("\\{tag}*{:02X}\\{SENTENCE}", twin_ingest::ais::encode::checksum(tag));
    let plain = SENTENCE.to_owned();
    let owned = [tagged("c:1000,s:r1"), plain.clone(), tagged("c:1010"), tagged("c:1005")];
    let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
    // Seconds in `c:` → 10 s apart, at 10× → 1 s; a clock going back does not reorder.
    let due = schedule(&lines, 10.0, Duration::from_secs(1));
    assert_eq!(due, vec![0, 0, 1000, 1000], "a line without a time keeps the previous one");
    let no_tags = schedule(&[SENTENCE, SENTENCE, SENTENCE], 4.0, Duration::from_secs(1));
    assert_eq!(no_tags, vec![0, 250, 500]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_ingest_is_rate_limited_with_retry_after() {
    let s = TestServer::start();
    s.state.feeds.set_http_rate_limit(Some(0.5));
    let body = r#"{"kind":"bus","id":"b1","time":"2026-11-24T03:00:00Z","lon":108.2,"lat":16.05}"#;
    let req = || {
        Request::post("/ingest/observations").header("content-type", "application/json").body(Body::from(body)).unwrap()
    };
    let (first, _, _) = send(s.app(), req()).await;
    assert_ne!(first, StatusCode::TOO_MANY_REQUESTS);
    let res = tower::ServiceExt::oneshot(s.app(), req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    let (_, _, feeds) = s.get("/api/feeds").await;
    let f = feed(&feeds, "http:/ingest/observations");
    assert_eq!(f["received"], 2);
    assert_eq!(f["rejected"]["rate_limited"], 1);
    assert_eq!(f["throttled"], 1);
    // Unknown paths are not feeds; other routes are not limited.
    assert_eq!(s.post("/ingest/nothing-here", "application/json", "{}").await.0, StatusCode::NOT_FOUND);
    let (_, _, feeds) = s.get("/api/feeds").await;
    assert!(feeds["feeds"].as_array().unwrap().iter().all(|f| f["source"] != "http:/ingest/nothing-here"));
    for _ in 0..3 {
        assert_eq!(s.get("/api/stats").await.0, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_carries_sensor_messages_into_the_model() {
    let s = TestServer::start();
    let mqtt = MqttSection {
        url: None,
        embedded_port: Some(0),
        client_id: Some("citytwin-test-embedded".into()),
        ..Default::default()
    };
    let started =
        feeds::start(&s.core(), &s.state.feeds, Some(&mqtt), no_devices(), &[], &[], std::path::Path::new("."))
            .await
            .unwrap();
    let url = started.mqtt_url.clone().unwrap();
    let (publisher, _task) = Publisher::connect_as(&url, "test-sensor-pub", started.mqtt_login.as_ref()).unwrap();
    let payloads = [
        ("city/flood/fs-1", r#"{"value": 35, "unit": "cm", "lat": 16.06, "lon": 108.22}"#),
        ("city/air/aq-1", r#"{"value": 55.0, "lat": 16.07, "lon": 108.22}"#),
        ("city/flood/fs-2", "not json"),
    ];
    // The connector may subscribe after the first publishes: repeat until both arrive.
    let mut found = false;
    for _ in 0..100 {
        for (t, p) in payloads {
            publisher.publish(t, p.as_bytes().to_vec()).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let twin = s.state.twin.read();
        let fs = twin.id_of(EntityKind::FloodSensor, "fs-1").and_then(|i| twin.get(i)).cloned();
        let aq = twin.id_of(EntityKind::AirQualityStation, "aq-1").and_then(|i| twin.get(i)).cloned();
        if let (Some(fs), Some(aq)) = (fs, aq) {
            let depth = fs.properties.get("water_depth_m").and_then(PropertyValue::as_f64).unwrap();
            assert!((depth - 0.35).abs() < 1e-12, "{depth}");
            assert_eq!(aq.properties.get("vn_aqi"), Some(&PropertyValue::Int(108)));
            found = true;
            break;
        }
    }
    assert!(found, "sensor entities never arrived over the embedded broker");
    eventually("garbage counted", || {
        s.state.feeds.snapshot().iter().any(|f| f.source == "mqtt" && f.rejected.contains_key("bad_json"))
    })
    .await;
}

#[test]
fn demo_vessel_sentences_decode_back_to_the_simulated_vessels() {
    let mut ship =
        Observation::new(EntityKind::Vessel, "574100000", Timestamp::from_millis(1_764_000_042_000)).at(108.25, 16.12);
    ship.speed = Some(6.0);
    ship.heading = Some(91.0);
    ship.properties.insert("shipname".into(), PropertyValue::Text("HAI VAN STAR".into()));
    ship.properties.insert("ship_type".into(), PropertyValue::Text("cargo".into()));
    let mut boat = Observation::new(EntityKind::FishingBoat, "574600733", ship.time).at(108.3, 16.2);
    boat.properties.insert("shipname".into(), PropertyValue::Text("ĐNa-90123-TS".into()));
    boat.properties.insert("ship_type".into(), PropertyValue::Text("fishing".into()));
    let mut decoder = Decoder::default();
    let mut registry = twin_ingest::ais::VesselRegistry::default();
    let mut out = Vec::new();
    for o in [&ship, &boat] {
        for line in twin_demo::transport::vessel_sentences(o, true, 1) {
            if let Some(d) = decoder.push(&line, ship.time) {
                let d = d.unwrap();
                assert!(!matches!(d.message, AisMessage::Unsupported(_)));
                out.extend(registry.observe(&d.message, ship.time));
            }
        }
    }
    let last_ship = out.iter().rev().find(|o| o.external_id == "574100000" && o.position.is_some()).unwrap();
    assert_eq!(last_ship.kind, EntityKind::Vessel);
    let p = last_ship.position.unwrap();
    assert!((p.lon - 108.25).abs() < 1e-5 && (p.lat - 16.12).abs() < 1e-5);
    let knots = last_ship.speed.unwrap() / (1852.0 / 3600.0);
    assert!((knots - 6.0 / (1852.0 / 3600.0)).abs() < 0.06, "{knots}");
    let last_boat = out.iter().rev().find(|o| o.external_id == "574600733").unwrap();
    assert_eq!(last_boat.kind, EntityKind::FishingBoat);
    // Static data precedes the first position, so the boat never appears as a plain vessel.
    assert!(out.iter().filter(|o| o.external_id == "574600733").all(|o| o.kind == EntityKind::FishingBoat));
}

#[test]
fn demo_sensor_payloads_decode_to_the_same_values() {
    let mut o = Observation::new(EntityKind::AirQualityStation, "aq-hc-1", Timestamp::from_millis(1_764_000_000_000))
        .at(108.223, 16.07);
    o.properties.insert("pm25_ugm3".into(), PropertyValue::Float(42.5));
    o.properties.insert("simulated".into(), PropertyValue::Bool(true));
    o.properties.insert("replay_of".into(), PropertyValue::Text("US Embassy Hanoi hourly PM2.5 (AirNow)".into()));
    let payload = twin_demo::transport::sensor_payload(&o).unwrap().to_string();
    let pattern = TopicPattern::default();
    let topic = pattern.topic_for(o.kind, &o.external_id);
    let back =
        decode(&topic, payload.as_bytes(), &pattern, &SensorRegistry::default(), Timestamp::from_millis(0)).unwrap();
    assert_eq!(back.kind, o.kind);
    assert_eq!(back.external_id, o.external_id);
    assert_eq!(back.time, o.time);
    assert_eq!(back.position, o.position);
    assert_eq!(back.properties.get("pm25_ugm3"), Some(&PropertyValue::Float(42.5)));
    assert_eq!(back.properties.get("simulated"), Some(&PropertyValue::Bool(true)));
    assert_eq!(back.properties.get("vn_aqi"), Some(&PropertyValue::Int(i64::from(twin_ingest::mqtt::vn_aqi(42.5).0))));
}
