//! The demo's feeds through the real protocols: vessels as AIVDM sentences into the AIS connector
//! code, sensors as MQTT messages to the broker the server's MQTT connector reads (buses and
//! emergency units: `gtfs_rt.rs`, `osmand.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use twin_core::{EntityKind, Observation, PropertyValue, Timestamp};
use twin_feeds::ais::{LineFeed, Timing};
use twin_feeds::mqtt::{Credentials, Publisher};
use twin_feeds::sink::{ObservationSink, SinkError, SinkOutcome};
use twin_ingest::ais::encode::{self, Identity, Motion};
use twin_ingest::health::FeedRegistry;
use twin_ingest::mqtt::TopicPattern;

use twin_feeds::Feeds;
use twin_runtime::writer::IngestHandle;

/// Feed name of the simulated AIS receiver.
pub const AIS_SOURCE: &str = "demo:ais";
const KNOT_MPS: f64 = 1852.0 / 3600.0;
/// Static reports (types 5 / 24) go out every this many position rounds, as real ships repeat them.
const STATIC_EVERY: u64 = 30;

/// Where the demo's sensors publish.
#[derive(Clone, Debug)]
pub struct MqttTransport {
    pub url: String,
    pub pattern: TopicPattern,
    /// Login at the broker: a device account, or the server's own (None: anonymous).
    pub login: Option<Credentials>,
}

/// Which protocols the demo uses; the default sends everything straight to the ingest queue.
#[derive(Clone, Default)]
pub struct Transports {
    /// Broker and topic pattern for the sensors.
    pub mqtt: Option<MqttTransport>,
    /// Feed health for the in-process AIS receiver (vessels go over AIVDM when set).
    pub ais_health: Option<Arc<FeedRegistry>>,
    /// The server's own HTTP address: buses go out as a published GTFS-realtime feed polled back,
    /// emergency units as OsmAnd requests, and the GTFS-realtime capture is replayed.
    pub http: Option<super::gtfs_rt::HttpTransport>,
}

impl Transports {
    pub fn new(started: &twin_feeds::feeds::Started, feeds: &Arc<Feeds>) -> Self {
        Self {
            mqtt: started.mqtt_url.clone().zip(started.topic.clone()).map(|(url, pattern)| MqttTransport {
                url,
                pattern,
                login: started.mqtt_login.clone(),
            }),
            ais_health: Some(feeds.registry.clone()),
            http: None,
        }
    }

    /// The sensors log in to the broker as `login` (e.g. a device account) instead of with the
    /// server's own login.
    pub fn mqtt_login(mut self, login: Credentials) -> Self {
        if let Some(m) = &mut self.mqtt {
            m.login = Some(login);
        }
        self
    }

    /// Sends the HTTP feeds to the server listening on `addr` (a wildcard address is reached on
    /// loopback).
    pub fn over_http(mut self, addr: std::net::SocketAddr, feeds: &Arc<Feeds>) -> Self {
        let ip = match addr.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        let base_url = format!("http://{}", std::net::SocketAddr::new(ip, addr.port()));
        self.http = Some(super::gtfs_rt::HttpTransport { base_url, feeds: feeds.clone(), tracker_login: None });
        self
    }

    /// The simulated trackers report as this device account (call after [`Self::over_http`]).
    pub fn tracker_login(mut self, login: Credentials) -> Self {
        if let Some(h) = &mut self.http {
            h.tracker_login = Some(login);
        }
        self
    }
}

/// Adds a label the protocol cannot carry (simulated, replayed) to what a demo receiver decodes.
#[derive(Clone)]
struct Labelled {
    ingest: IngestHandle,
    key: &'static str,
    value: PropertyValue,
}

impl ObservationSink for Labelled {
    async fn submit(&self, source: &str, mut batch: Vec<Observation>) -> Result<SinkOutcome, SinkError> {
        for o in &mut batch {
            o.properties.insert(self.key.into(), self.value.clone());
        }
        ObservationSink::submit(&self.ingest, source, batch).await
    }
}

fn ship_type_code(o: &Observation) -> u8 {
    match o.properties.get("ship_type").and_then(PropertyValue::as_str) {
        Some("fishing") => 30,
        Some("tug") => 52,
        Some("passenger") => 60,
        Some("cargo" | "container") => 70,
        Some("tanker") => 80,
        _ if o.kind == EntityKind::FishingBoat => 30,
        _ => 90,
    }
}

/// AIVDM lines for one simulated vessel observation: class A ships send types 1 (+5), fishing
/// boats class B types 18 (+24 A/B).
pub fn vessel_sentences(o: &Observation, with_static: bool, seq: u8) -> Vec<String> {
    let Ok(mmsi) = o.external_id.parse::<u32>() else { return Vec::new() };
    let Some(p) = o.position else { return Vec::new() };
    let second = ((o.time.as_millis() / 1000) % 60) as u8;
    let class_b = o.kind == EntityKind::FishingBoat;
    let m = Motion {
        mmsi,
        lon: p.lon,
        lat: p.lat,
        speed_kn: o.speed.map(|s| s / KNOT_MPS),
        course: o.heading,
        heading: o.heading.map(|h| (h.round() as u16) % 360),
        second,
        status: if class_b { 7 } else { 0 },
    };
    let mut out = Vec::new();
    let mut put = |w: encode::BitWriter, seq: u8| {
        let (payload, fill) = w.armor();
        out.extend(encode::sentences(&payload, fill, 'A', seq));
    };
    // Static data goes first (part B, with the ship type, before part A) so the receiver knows a
    // fishing boat is one before its first position report, and never files it as a plain vessel.
    if with_static {
        let text = |k: &str| o.properties.get(k).and_then(PropertyValue::as_str).unwrap_or("").to_owned();
        let id = Identity {
            mmsi,
            shipname: text("shipname"),
            ship_type: ship_type_code(o),
            destination: if class_b { String::new() } else { "VNDAD".into() },
            dims: if class_b { [10, 5, 2, 2] } else { [120, 30, 12, 12] },
            ..Identity::default()
        };
        if class_b {
            put(encode::static_b_data(&id), 0);
            put(encode::static_b_name(&id), 0);
        } else {
            put(encode::static_voyage(&id), seq);
        }
    }
    put(if class_b { encode::position_b(&m) } else { encode::position_a(&m) }, 0);
    out
}

/// Runs the vessel simulator through the AIS decoder and connector path.
pub fn spawn_vessels_over_ais<F>(period: Duration, ingest: IngestHandle, health: Arc<FeedRegistry>, mut step: F)
where
    F: FnMut(Timestamp) -> Vec<Observation> + Send + 'static,
{
    let simulated = Labelled { ingest, key: "simulated", value: PropertyValue::Bool(true) };
    tokio::spawn(async move {
        let mut feed = LineFeed::new(AIS_SOURCE, "ais-sim", simulated, health, Timing::Receiver);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut round = 0u64;
        loop {
            tick.tick().await;
            let batch = step(super::now());
            let with_static = round.is_multiple_of(STATIC_EVERY);
            let lines: Vec<String> =
                batch.iter().enumerate().flat_map(|(i, o)| vessel_sentences(o, with_static, (i % 10) as u8)).collect();
            round += 1;
            if feed.push_lines(&lines).await.is_err() {
                tracing::warn!("ingest closed: demo AIS feed ends");
                return;
            }
        }
    });
}

/// The MQTT message a sensor observation becomes: the documented payload with its extras.
pub fn sensor_payload(o: &Observation) -> Option<Value> {
    let (quantity, key, unit) = match o.kind {
        EntityKind::FloodSensor => ("water_depth", "water_depth_m", "m"),
        EntityKind::RainGauge => ("rain_rate", "rain_mm_h", "mm/h"),
        EntityKind::AirQualityStation => ("pm25", "pm25_ugm3", "ug/m3"),
        EntityKind::WaterQualityStation => ("wqi", "wqi", ""),
        _ => return None,
    };
    let value = o.properties.get(key)?.as_f64()?;
    let mut m = Map::new();
    m.insert("value".into(), json!(value));
    m.insert("unit".into(), json!(unit));
    m.insert("quantity".into(), json!(quantity));
    m.insert("time".into(), json!(o.time.as_millis()));
    if let Some(p) = o.position {
        m.insert("lat".into(), json!(p.lat));
        m.insert("lon".into(), json!(p.lon));
    }
    for (k, v) in &o.properties {
        // The receiver computes the AQI itself.
        if k == key || k == "vn_aqi" || k == "vn_aqi_category" {
            continue;
        }
        m.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
    Some(Value::Object(m))
}

/// Runs the sensor simulator as an MQTT publisher.
pub fn spawn_sensors_over_mqtt<F>(period: Duration, mqtt: MqttTransport, mut step: F)
where
    F: FnMut(Timestamp) -> Vec<Observation> + Send + 'static,
{
    tokio::spawn(async move {
        let MqttTransport { url, pattern, login } = mqtt;
        let publisher = match Publisher::connect_as(&url, "citytwin-demo-sensors", login.as_ref()) {
            Ok((p, _task)) => p,
            Err(e) => {
                tracing::error!(error = %e, "demo sensors cannot reach the MQTT broker");
                return;
            }
        };
        tracing::info!(%url, user = login.as_ref().map(|l| l.username.as_str()), "demo sensors publish over MQTT");
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            for o in step(super::now()) {
                let Some(payload) = sensor_payload(&o) else { continue };
                let topic = pattern.topic_for(o.kind, &o.external_id);
                if let Err(e) = publisher.publish(&topic, payload.to_string().into_bytes()).await {
                    tracing::warn!(error = %e, "demo sensor publish failed");
                    return;
                }
            }
        }
    });
}

/// Feed name of the replayed real capture.
pub const AIS_REPLAY_SOURCE: &str = "replay:ais-gpsd-sample";

/// Replays a real AIS capture, looping, one line per second where it has no receiver times.
pub fn spawn_ais_replay(path: std::path::PathBuf, ingest: IngestHandle, health: Arc<FeedRegistry>) {
    if !path.is_file() {
        tracing::warn!(path = %path.display(), "AIS capture for the demo replay not found");
        return;
    }
    let label = PropertyValue::Text("gpsd test capture ais-nmea-type6-fid55 (2018), real location".into());
    let sink = Labelled { ingest, key: "replay_of", value: label };
    let feed = LineFeed::new(AIS_REPLAY_SOURCE, "ais-replay", sink, health, Timing::Arrival);
    let replay = twin_feeds::ais::Replay { path, speed: 1.0, uniform_interval: Duration::from_secs(1), repeat: true };
    twin_feeds::ais::spawn_replay(replay, feed);
}
