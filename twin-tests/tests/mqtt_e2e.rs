//! MQTT sensors end to end against the real Mosquitto on 127.0.0.1:1883: a real client
//! (`mosquitto_pub`) publishes, the entity shows up through the REST API with the decoded values.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use twin_tests::obs::{attr, attr_str, features, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_config, Client, Server};

const BROKER: &str = "127.0.0.1:1883";

fn publish(port: u16, topic: &str, payload: &str) {
    let out = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-t", topic, "-m", payload])
        .output()
        .expect("mosquitto_pub is installed");
    assert!(out.status.success(), "mosquitto_pub: {}", String::from_utf8_lossy(&out.stderr));
}

fn sensor<'a>(all: &'a Value, id: &str) -> Option<&'a Value> {
    features(all).iter().find(|f| attr_str(f, "external_id") == Some(id))
}

#[test]
fn published_sensor_readings_update_entities_through_the_real_broker() {
    if TcpStream::connect(BROKER).is_err() {
        panic!("Mosquitto must listen on {BROKER} for this test");
    }
    let dir = temp_dir("e2e-mqtt-");
    // A topic root of our own so parallel runs and other clients do not mix.
    let root = format!("citytwin-e2e-{}", std::process::id());
    let extra = format!(
        "[mqtt]\nurl = \"mqtt://{BROKER}\"\ntopic = \"{root}/{{kind}}/{{sensor_id}}\"\nclient_id = \"{root}\"\n\n\
         [[sensors]]\nid = \"rain-hc\"\nkind = \"rain_gauge\"\nlon = 108.216\nlat = 16.06\nname = \"Hải Châu\"\n"
    );
    let config = write_config(dir.path(), "E2E MQTT", DA_NANG_BBOX, &extra);
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();
    let feeds_url = server.url("/api/feeds");
    client
        .poll_json(&feeds_url, Duration::from_secs(60), |v| {
            v["feeds"].as_array().is_some_and(|a| a.iter().any(|f| f["source"] == "mqtt" && f["connected"] == true))
        })
        .unwrap();

    // Flood depth in cm with its own position; rain from the registry position; PM2.5 with AQI;
    // then garbage, which must be counted and not stop the next message.
    publish(1883, &format!("{root}/flood/fs-e2e"), r#"{"value": 27, "unit": "cm", "lat": 16.061, "lon": 108.2243}"#);
    publish(1883, &format!("{root}/rain/rain-hc"), r#"{"value": 12.5, "time": "2026-11-24T10:00:00+07:00"}"#);
    publish(1883, &format!("{root}/flood/fs-bad"), "{not json");
    publish(1883, &format!("{root}/air/aq-e2e"), r#"{"value": 80, "lat": 16.07, "lon": 108.223}"#);

    let entities = server.url("/api/entities");
    let all = client
        .poll_json(&entities, Duration::from_secs(60), |v| {
            ["fs-e2e", "rain-hc", "aq-e2e"].iter().all(|id| sensor(v, id).is_some())
        })
        .unwrap();
    let fs = sensor(&all, "fs-e2e").unwrap();
    assert_eq!(attr(fs, "kind").and_then(Value::as_str), Some("flood_sensor"));
    assert!((attr(fs, "water_depth_m").unwrap().as_f64().unwrap() - 0.27).abs() < 1e-9, "{fs}");
    assert_eq!(attr_str(fs, "source"), Some("mqtt"));
    let rain = sensor(&all, "rain-hc").unwrap();
    assert_eq!(attr(rain, "rain_mm_h").unwrap().as_f64(), Some(12.5));
    let coords = &rain["geometry"]["coordinates"];
    assert!((coords[0].as_f64().unwrap() - 108.216).abs() < 1e-9 && (coords[1].as_f64().unwrap() - 16.06).abs() < 1e-9);
    let aq = sensor(&all, "aq-e2e").unwrap();
    assert_eq!(attr(aq, "vn_aqi").unwrap().as_i64(), Some(150));
    assert_eq!(attr_str(aq, "vn_aqi_category"), Some("Kém (poor)"));

    let feeds = client.get_json(&feeds_url);
    let mqtt = feeds["feeds"].as_array().unwrap().iter().find(|f| f["source"] == "mqtt").unwrap();
    assert_eq!(mqtt["received"], 4, "{mqtt}");
    assert_eq!(mqtt["accepted"], 3, "{mqtt}");
    assert_eq!(mqtt["rejected"]["bad_json"], 1, "{mqtt}");
    let metrics = client.get(&server.url("/metrics")).unwrap().body;
    assert!(metrics.contains("citytwin_feed_rejected_total{source=\"mqtt\",reason=\"bad_json\"} 1"), "{metrics}");
}
