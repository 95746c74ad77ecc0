//! Feeds the server publishes (`/demo/gtfs-rt/{file}`): validators and conditional requests;
//! stale-feed alerts merged into `/api/alerts` and sent to live sessions.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use citytwin::routes::feeds::http_date;
use common::TestServer;
use http_body_util::BodyExt;
use tower::ServiceExt;
use twin_core::{EntityKind, Observation, Timestamp};
use twin_feeds::feeds::{raise_alerts, FEED_STALE_RULE};
use twin_runtime::live::LiveEvent;

const FEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/gtfs/usf_bullrunner_vehicle_positions.pb");

async fn get(
    s: &TestServer,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let res = s.app().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn published_feed_answers_conditional_requests() {
    let s = TestServer::start();
    let bytes = std::fs::read(FEED).unwrap();
    let t = 1_505_314_375;
    s.state.feeds.publish("vp.pb", bytes.clone(), t, 0, "application/x-protobuf");

    let (status, h, body) = get(&s, "/demo/gtfs-rt/vp.pb", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, bytes, "served byte for byte");
    assert_eq!(h[header::CONTENT_TYPE], "application/x-protobuf");
    assert_eq!(h[header::LAST_MODIFIED], "Wed, 13 Sep 2017 14:52:55 GMT");
    assert_eq!(h[header::LAST_MODIFIED], http_date(t).as_str());
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    // Matching validators: 304 with the validators and no body.
    let (status, h, body) = get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(h[header::ETAG], etag.as_str());
    let list = format!("\"other\", W/{etag}");
    assert_eq!(get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_NONE_MATCH, &list)]).await.0, StatusCode::NOT_MODIFIED);
    let since = http_date(t);
    assert_eq!(
        get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_MODIFIED_SINCE, &since)]).await.0,
        StatusCode::NOT_MODIFIED
    );
    // An older copy, another ETag, or a date that is no date: the feed.
    let older = http_date(t - 1);
    assert_eq!(get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_MODIFIED_SINCE, &older)]).await.0, StatusCode::OK);
    assert_eq!(get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_NONE_MATCH, "\"x\"")]).await.0, StatusCode::OK);
    assert_eq!(get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_MODIFIED_SINCE, "yesterday")]).await.0, StatusCode::OK);
    // If-None-Match decides when both are sent.
    let both = [(header::IF_NONE_MATCH, "\"x\""), (header::IF_MODIFIED_SINCE, since.as_str())];
    assert_eq!(get(&s, "/demo/gtfs-rt/vp.pb", &both).await.0, StatusCode::OK);

    // The same bytes republished (a replay's next cycle) are a new version.
    s.state.feeds.publish("vp.pb", bytes.clone(), t + 10, 1, "application/x-protobuf");
    let (status, h, _) = get(&s, "/demo/gtfs-rt/vp.pb", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(h[header::ETAG], etag.as_str());

    let (status, ct, body) = s.get("/demo/gtfs-rt/nope.pb").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ct, "application/problem+json");
    assert!(body["detail"].as_str().unwrap().contains("nope.pb"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_feed_alerts_join_the_model_alerts_and_reach_live_sessions() {
    let s = TestServer::start();
    let now = twin_feeds::sink::now_ms();
    // A feed that delivered one bus, then fell silent.
    let mut o = Observation::new(EntityKind::Bus, "b-1", Timestamp::from_millis(now)).at(108.2, 16.05);
    o.source = "gtfs-rt:test".into();
    s.state.ingest.submit("gtfs-rt:test", vec![o]).await.unwrap();
    let reg = &s.state.feeds.registry;
    reg.register("gtfs-rt:test", "gtfs-rt", now - 60_000);
    // Six messages a second apart: five intervals, enough to learn the feed's rhythm.
    for i in 0..6 {
        reg.received("gtfs-rt:test", now - 60_000 + i * 1_000);
    }

    let mut live = s.state.hub.subscribe();
    let alerts = s.state.feeds.check_stale_in(now, Some(&s.state.twin));
    assert_eq!(alerts.len(), 1);
    assert!(s.state.feeds.check_stale_in(now + 1000, Some(&s.state.twin)).is_empty(), "once per silence");
    // A rule alert first, so the stale-feed alert must take the next id of the same sequence.
    let before = s.state.twin.read().alerts().back().map(|a| a.id.0);
    let raised = alerts[0].clone();
    assert_eq!(raised.position.map(|p| (p.lon, p.lat)), Some((108.2, 16.05)), "where the feed last reported");
    raise_alerts(&s.core(), alerts).await;
    let a = s.state.twin.read().alerts().back().cloned().unwrap();
    assert_eq!(
        (a.rule.as_str(), a.external_id.as_str(), a.entity_kind, a.rule_kind),
        (FEED_STALE_RULE, "gtfs-rt:test", EntityKind::Bus, twin_core::RuleKind::FeedStale)
    );
    assert_eq!(a.id.0, before.map_or(0, |b| b + 1), "one id sequence for every alert source");
    // The bus's own delta may still be on its way to the hub: skip deltas, the alert must follow.
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let ev = live.recv().await.unwrap();
            if !matches!(&*ev, LiveEvent::Delta { .. }) {
                return ev;
            }
        }
    })
    .await
    .expect("an alert on the live hub");
    match &*event {
        LiveEvent::Alert { kind, alert, .. } => {
            assert_eq!(*kind, EntityKind::Bus);
            assert_eq!(alert["rule"], FEED_STALE_RULE);
            assert_eq!(alert["id"], a.id.0);
        }
        other => panic!("expected an alert, got {other:?}"),
    }

    let (status, _, body) = s.get("/api/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let list = body["alerts"].as_array().unwrap();
    let found = list.iter().find(|v| v["rule"] == FEED_STALE_RULE).unwrap();
    assert_eq!((found["id"].as_u64(), &found["source"]), (Some(a.id.0), &serde_json::json!("gtfs-rt:test")));
    let (_, _, stats) = s.get("/api/stats").await;
    assert!(stats["alerts"].as_u64().unwrap() >= 1);
    let (_, _, feeds) = s.get("/api/feeds").await;
    assert!(feeds["alerts"].as_array().unwrap().iter().any(|v| v["source"] == "gtfs-rt:test"), "{feeds}");
}
