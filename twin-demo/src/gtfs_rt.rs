//! The demo's buses through GTFS-realtime: every tick the simulated fleet becomes a
//! `VehiclePositions` FeedMessage that the server publishes at `/demo/gtfs-rt/vehicle-positions.pb`,
//! and the GTFS-realtime poll connector reads it back over HTTP (conditional requests, decode,
//! ingest queue) like any agency's feed. A real capture is republished the same way as a
//! labelled replay.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use twin_core::{BBox, Observation, PropertyValue, Timestamp};
use twin_ingest::gtfs_rt::proto::{
    feed_header, FeedEntity, FeedHeader, FeedMessage, Position as RtPosition, TripDescriptor, VehicleDescriptor,
    VehiclePosition,
};

use twin_feeds::gtfs_rt_poll::{self, PollConfig};
use twin_feeds::Feeds;
use twin_runtime::writer::IngestHandle;

/// File name of the simulated buses' feed under `/demo/gtfs-rt/`.
pub const BUS_FEED_FILE: &str = "vehicle-positions.pb";
/// Feed (source) name of the simulated buses as the poller reads them.
pub const BUS_SOURCE: &str = "demo:gtfs-rt";
/// File name of the replayed capture under `/demo/gtfs-rt/`.
pub const REPLAY_FILE: &str = "replay-usf-bullrunner.pb";
/// Feed (source) name of the replayed capture.
pub const REPLAY_SOURCE: &str = "replay:gtfs-rt-usf-bullrunner";
/// What `replay_of` says on the replayed buses.
pub const REPLAY_LABEL: &str =
    "USF Bull Runner GTFS-realtime VehiclePositions capture (Tampa, FL, 2017-09-13), real location";
const CONTENT_TYPE: &str = "application/x-protobuf";
/// A replay cycle: the capture is republished (new ETag and Last-Modified) this often.
const REPLAY_EVERY: Duration = Duration::from_secs(10);

fn text(o: &Observation, key: &str) -> Option<String> {
    o.properties.get(key).and_then(PropertyValue::as_str).map(str::to_owned)
}

/// The FeedMessage (GTFS-realtime 2.0, full dataset) for bus observations taken at `now`.
pub fn bus_feed(buses: &[Observation], now: Timestamp) -> FeedMessage {
    let secs = u64::try_from(now.as_millis().div_euclid(1000)).unwrap_or(0);
    let entity = buses
        .iter()
        .filter_map(|o| {
            let p = o.position?;
            let route_id = text(o, "route_id");
            let trip_id = route_id.as_ref().map(|r| format!("{r}-{}", o.external_id));
            Some(FeedEntity {
                id: o.external_id.clone(),
                vehicle: Some(VehiclePosition {
                    trip: Some(TripDescriptor { route_id, trip_id, ..Default::default() }),
                    vehicle: Some(VehicleDescriptor {
                        id: Some(o.external_id.clone()),
                        label: text(o, "route"),
                        license_plate: Some(o.external_id.clone()),
                    }),
                    // The format has f32 degrees: about a metre at Đà Nẵng's longitudes.
                    position: Some(RtPosition {
                        latitude: p.lat as f32,
                        longitude: p.lon as f32,
                        bearing: o.heading.map(|h| h as f32),
                        speed: o.speed.map(|s| s as f32),
                        ..Default::default()
                    }),
                    timestamp: Some(u64::try_from(o.time.as_millis().div_euclid(1000)).unwrap_or(secs)),
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
        .collect();
    FeedMessage {
        header: FeedHeader {
            gtfs_realtime_version: "2.0".into(),
            incrementality: Some(feed_header::Incrementality::FullDataset as i32),
            timestamp: Some(secs),
            ..Default::default()
        },
        entity,
    }
}

/// Where the demo's HTTP feeds go: the server's own address and its feed registry.
#[derive(Clone)]
pub struct HttpTransport {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub feeds: Arc<Feeds>,
    /// The device account the simulated trackers report as (Basic auth, as a Traccar client can).
    pub tracker_login: Option<twin_feeds::mqtt::Credentials>,
}

impl HttpTransport {
    pub fn feed_url(&self, file: &str) -> String {
        format!("{}/demo/gtfs-rt/{file}", self.base_url)
    }
}

/// Publishes the simulated buses every `period` and polls them back through the connector.
pub fn spawn_buses<F>(period: Duration, http: HttpTransport, ingest: IngestHandle, bbox: BBox, mut step: F)
where
    F: FnMut(Timestamp) -> Vec<Observation> + Send + 'static,
{
    let feeds = http.feeds.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            // Whole seconds: GTFS-realtime times have no finer resolution.
            let now = Timestamp::from_millis(super::now().as_millis().div_euclid(1000) * 1000);
            let mut buses = step(now);
            buses.retain(|o| o.position.is_some_and(|p| bbox.contains(p)));
            let body = bus_feed(&buses, now).encode_to_vec();
            feeds.publish(BUS_FEED_FILE, body, now.as_millis() / 1000, 0, CONTENT_TYPE);
        }
    });
    let cfg = PollConfig {
        url: http.feed_url(BUS_FEED_FILE),
        source: BUS_SOURCE.into(),
        interval: period,
        max_backoff: Duration::from_secs(10).max(period),
        labels: vec![
            ("simulated".into(), PropertyValue::Bool(true)),
            ("operator".into(), PropertyValue::Text("Demo bus operator".into())),
        ],
        ..PollConfig::default()
    };
    tracing::info!(url = %cfg.url, "demo buses published as GTFS-realtime and polled back");
    gtfs_rt_poll::spawn(cfg, ingest, Some(http.feeds.registry.clone()));
}

/// Republishes a real GTFS-realtime capture every replay cycle and polls it as the labelled
/// source [`REPLAY_SOURCE`], timed at arrival. A missing or undecodable file only logs a warning.
pub fn spawn_replay(path: PathBuf, http: HttpTransport, ingest: IngestHandle) {
    let body = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "GTFS-realtime capture for the demo replay not readable");
            return;
        }
    };
    if let Err(e) = twin_ingest::gtfs_rt::decode_feed(&body) {
        tracing::warn!(path = %path.display(), error = %e, "GTFS-realtime capture for the demo replay does not decode");
        return;
    }
    let feeds = http.feeds.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REPLAY_EVERY);
        let mut cycle = 0u64;
        loop {
            tick.tick().await;
            // The bytes stay the capture's; each cycle is a new publication of them.
            feeds.publish(REPLAY_FILE, body.clone(), super::now().as_millis() / 1000, cycle, CONTENT_TYPE);
            cycle += 1;
        }
    });
    let cfg = PollConfig {
        url: http.feed_url(REPLAY_FILE),
        source: REPLAY_SOURCE.into(),
        interval: REPLAY_EVERY / 2,
        max_backoff: Duration::from_secs(60),
        labels: vec![("replay_of".into(), PropertyValue::Text(REPLAY_LABEL.into()))],
        retime: true,
        ..PollConfig::default()
    };
    tracing::info!(url = %cfg.url, path = %path.display(), "replaying a real GTFS-realtime capture");
    gtfs_rt_poll::spawn(cfg, ingest, Some(http.feeds.registry.clone()));
}
