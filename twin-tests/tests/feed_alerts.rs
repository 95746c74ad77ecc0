//! Stale feeds raise alerts like the model's rules do: on `/ws`, in `/api/alerts` and in
//! `/api/feeds`; citizen reports are a feed of their own in `/api/feeds`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use serde_json::Value;
use twin_tests::live::WsSubscriber;
use twin_tests::obs::{now_ms, observation, DA_NANG_BBOX};
use twin_tests::{temp_dir, write_config, Client, Server};

fn is_feed_alert(v: &Value, source: &str) -> bool {
    v["rule"] == "feed_stale" && v["external_id"] == source
}

#[test]
fn a_silent_feed_raises_an_alert_on_ws_and_in_the_alert_list() {
    let dir = temp_dir("e2e-feed-alerts-");
    // Stale after one usual interval (at least a second) of silence.
    let config = write_config(dir.path(), "E2E feed alerts", DA_NANG_BBOX, "[feeds]\nstale_factor = 1.0\n");
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();
    let ws_url = format!("ws://{}/ws", server.addr());
    let mut ws = WsSubscriber::connect(&ws_url, DA_NANG_BBOX, &["bus"]);

    // A feed that reports often enough for its interval to be learned, then falls silent.
    for i in 0..7 {
        let obs = observation("bus", "feed-alert-bus", now_ms(), 108.2 + f64::from(i) * 1e-4, 16.06);
        client.ingest_all(server.base_url(), &[obs]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let source = "http:/ingest/observations";
    let (msg, _) = ws.wait_for(Duration::from_secs(60), |m| m["type"] == "alert" && is_feed_alert(&m["alert"], source));
    let alert = &msg["alert"];
    // Placed and typed by what the feed reported: a bus in Đà Nẵng.
    assert_eq!(alert["entity_kind"], "bus", "{alert}");
    assert_eq!(alert["rule_kind"], "feed_stale", "{alert}");
    assert!(alert["position"].as_array().is_some_and(|p| p.len() == 2), "{alert}");
    assert!(alert["message"].as_str().is_some_and(|m| m.contains(source)), "{alert}");

    let listed = client.get_json(&server.url("/api/alerts"));
    let found = listed["alerts"].as_array().unwrap().iter().find(|a| is_feed_alert(a, source)).cloned();
    let found = found.unwrap_or_else(|| panic!("no feed_stale alert in /api/alerts: {listed}"));
    assert_eq!(found["id"], alert["id"], "the same alert on /ws and in /api/alerts");
    assert_eq!(found["source"], source);

    let feeds = client.get_json(&server.url("/api/feeds"));
    let f = feeds["feeds"].as_array().unwrap().iter().find(|f| f["source"] == source).unwrap();
    assert_eq!(f["stale"], true, "{f}");
    assert!(feeds["alerts"].as_array().unwrap().iter().any(|a| is_feed_alert(a, source)), "{feeds}");
}

/// Rule alerts and stale-feed alerts share one id sequence in the log: after `kill -9` and a
/// restart every alert listed before is listed again with the same id, kind, entity and time.
#[test]
fn rule_and_feed_alerts_survive_kill_9_with_their_ids() {
    let dir = temp_dir("e2e-alerts-crash-");
    let fence = "[feeds]\nstale_factor = 1.0\n\n[[geofences]]\nid = \"centre\"\nname = \"Centre\"\n\
                 polygon = [[108.19, 16.04], [108.23, 16.04], [108.23, 16.08], [108.19, 16.08]]\n";
    let config = write_config(dir.path(), "E2E alert crash", DA_NANG_BBOX, fence);
    let data = dir.path().join("data");
    let mut server = Server::serve(&config, &data, &[]);
    let client = Client::default();
    // A bus reporting from outside the fence, then inside it (a rule alert), then silent (a feed alert).
    for i in 0..7 {
        let lon = if i < 3 { 108.15 } else { 108.21 };
        client.ingest_all(server.base_url(), &[observation("bus", "crash-bus", now_ms(), lon, 16.06)]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let source = "http:/ingest/observations";
    let before = client
        .poll_json(&server.url("/api/alerts"), Duration::from_secs(60), |v| {
            let list = v["alerts"].as_array();
            list.is_some_and(|l| l.iter().any(|a| is_feed_alert(a, source)) && l.iter().any(|a| a["rule"] == "centre"))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let before = before["alerts"].as_array().unwrap().clone();
    let ids: Vec<u64> = before.iter().map(|a| a["id"].as_u64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "one id per alert across sources: {ids:?}");

    server.kill9();
    let server = Server::serve(&config, &data, &[]);
    let after = client.get_json(&server.url("/api/alerts"));
    let after = after["alerts"].as_array().unwrap();
    for a in &before {
        let same = after.iter().find(|b| b["id"] == a["id"]).unwrap_or_else(|| panic!("lost {a}"));
        for field in ["rule", "rule_kind", "entity", "entity_kind", "external_id", "time"] {
            assert_eq!(same[field], a[field], "{field}: {same} vs {a}");
        }
    }
}

#[test]
fn citizen_reports_are_counted_as_a_feed() {
    let dir = temp_dir("e2e-reports-feed-");
    let config = write_config(dir.path(), "E2E reports feed", DA_NANG_BBOX, "");
    let server = Server::serve(&config, &dir.path().join("data"), &[]);
    let client = Client::default();
    let boundary = "citytwin-test-boundary";
    let part = |name: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let ok = [
        part("channel", "hotline_1022"),
        part("category", "flooding"),
        part("description", "Ngập sâu 30 cm trên đường Bạch Đằng"),
        part("lon", "108.2243"),
        part("lat", "16.0610"),
    ]
    .concat()
        + &format!("--{boundary}--\r\n");
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = client.post(&server.url("/api/reports"), &content_type, ok.as_bytes()).unwrap();
    assert!(reply.is_success(), "{} {}", reply.status, reply.body);
    // No location at all: refused, and counted as refused.
    let bad = [part("channel", "web"), part("category", "fire"), part("description", "khói")].concat()
        + &format!("--{boundary}--\r\n");
    let reply = client.post(&server.url("/api/reports"), &content_type, bad.as_bytes()).unwrap();
    assert!((400..500).contains(&reply.status), "{} {}", reply.status, reply.body);

    let feeds = client.get_json(&server.url("/api/feeds"));
    let f = feeds["feeds"].as_array().unwrap().iter().find(|f| f["source"] == "reports");
    let f = f.unwrap_or_else(|| panic!("no reports feed in {feeds}"));
    assert_eq!((f["received"].as_u64(), f["accepted"].as_u64()), (Some(2), Some(1)), "{f}");
    assert_eq!(f["rejected_total"], 1, "{f}");
    assert_eq!(f["protocol"], "http-multipart");
}
