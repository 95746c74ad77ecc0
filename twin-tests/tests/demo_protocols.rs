//! `citytwin demo` end to end through the real protocols: the simulated buses are a GTFS-realtime
//! feed served by the server (conditional requests answered with 304) and read back by its poll
//! connector; ambulances and fire trucks arrive as OsmAnd requests from registered devices; the
//! real GTFS-realtime and AIS captures are replayed as their own labelled sources.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use twin_tests::obs::{attr, attr_str, features, point};
use twin_tests::server::binary_path;
use twin_tests::{temp_dir, Client, Server};

const FEED: &str = "/demo/gtfs-rt/vehicle-positions.pb";

fn feed<'a>(feeds: &'a Value, source: &str) -> Option<&'a Value> {
    feeds["feeds"].as_array()?.iter().find(|f| f["source"] == source)
}

fn accepted(feeds: &Value, source: &str) -> u64 {
    feed(feeds, source).and_then(|f| f["accepted"].as_u64()).unwrap_or(0)
}

#[test]
fn demo_fleets_arrive_through_gtfs_rt_and_osmand() {
    let dir = temp_dir("e2e-demo-protocols-");
    let data = dir.path().join("data");
    let server = Server::start(&["demo".to_owned(), "--data-dir".to_owned(), data.display().to_string()]);
    let client = Client::default();

    // Every feed of the demo delivers.
    let feeds = client
        .poll_json(&server.url("/api/feeds"), Duration::from_secs(120), |v| {
            accepted(v, "demo:gtfs-rt") >= 60
                && accepted(v, "http:/ingest/osmand") >= 9
                && accepted(v, "replay:gtfs-rt-usf-bullrunner") >= 10
                && accepted(v, "replay:ais-gpsd-sample") > 0
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let bus_feed = feed(&feeds, "demo:gtfs-rt").unwrap();
    assert_eq!(bus_feed["protocol"], "gtfs-rt");
    assert_eq!(bus_feed["connected"], true);
    assert_eq!(feed(&feeds, "http:/ingest/osmand").unwrap()["rejected_total"], 0, "{feeds}");

    // The published feed: a real FeedMessage with validators, and 304 for a client that has it.
    let url = server.url(FEED);
    let mut saw_304 = false;
    let mut body = Vec::new();
    for _ in 0..20 {
        let resp = ureq::get(&url).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("content-type").as_deref(), Some("application/x-protobuf"));
        let etag = header("etag").expect("an ETag");
        let modified = header("last-modified").expect("a Last-Modified");
        body = resp.into_body().read_to_vec().unwrap();
        let agent = ureq::Agent::new_with_config(ureq::Agent::config_builder().http_status_as_error(false).build());
        let again = agent.get(&url).header("If-None-Match", &etag).call().unwrap();
        let since = agent.get(&url).header("If-Modified-Since", &modified).call().unwrap();
        // The feed changes every second: a new version in between is a 200, so try again.
        if again.status().as_u16() == 304 && since.status().as_u16() == 304 {
            saw_304 = true;
            break;
        }
    }
    assert!(saw_304, "no 304 for a conditional request repeating the validators");

    // The bytes decode with the CLI decoder to the buses, in Đà Nẵng.
    let file = dir.path().join("vp.pb");
    std::fs::write(&file, &body).unwrap();
    let out = Command::new(binary_path()).args(["decode", "gtfs-rt"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("43B-") && text.contains("DN01"), "{}", &text[..text.len().min(2000)]);

    // Entities: buses from the poller, units from the trackers, the replay at its real location.
    let all = client.get_json(&server.url("/api/entities?limit=100000"));
    let by_source =
        |s: &str| -> Vec<&Value> { features(&all).iter().filter(|f| attr_str(f, "source") == Some(s)).collect() };
    let buses = by_source("demo:gtfs-rt");
    assert_eq!(buses.len(), 60);
    assert!(buses
        .iter()
        .all(|b| attr(b, "simulated") == Some(&Value::Bool(true)) && attr_str(b, "kind") == Some("bus")));
    let units = by_source("osmand");
    assert_eq!(units.len(), 9, "6 ambulances and 3 fire trucks");
    for u in &units {
        assert_eq!(attr(u, "simulated"), Some(&Value::Bool(true)), "{u}");
        assert!(attr_str(u, "agency").is_some_and(|a| a.contains("115") || a.contains("PCCC")), "{u}");
        assert!(attr_str(u, "status").is_some(), "{u}");
    }
    let replay = by_source("replay:gtfs-rt-usf-bullrunner");
    assert_eq!(replay.len(), 10);
    for r in &replay {
        assert!(attr_str(r, "replay_of").is_some_and(|s| s.contains("Bull Runner")), "{r}");
        assert!(attr(r, "simulated").is_none(), "a replay is real data: {r}");
        let (lon, lat) = point(r).unwrap();
        assert!((-82.5..-82.3).contains(&lon) && (27.9..28.2).contains(&lat), "not at its real place: {r}");
    }
}
