//! Feed health and the network connectors' config: `[feeds]`, `[mqtt]`, `[[ais]]`, `[[sensors]]`.
//!
//! ```toml
//! [feeds]                                  # all optional
//! stale_factor = 5.0                       # stale after 5 × the feed's usual interval (default 5)
//! http_rate_limit = 200                    # requests/s per HTTP ingest route, then 429 (default none)
//!
//! [mqtt]                                   # MQTT sensors (twin_ingest::mqtt documents the payload)
//! url = "mqtt://127.0.0.1:1883"            # external broker; without `url` an embedded broker starts
//! embedded_port = 1883                     # embedded broker's port (default 1883; a free one if taken)
//! topic = "city/{kind}/{sensor_id}"        # (default)
//! client_id = "citytwin"                   # persistent session name (default "citytwin-ingest")
//! rate_limit = 500                         # messages/s; above it the connector slows down (default none)
//!
//! [[ais]]                                  # one per AIS feed: exactly one of tcp / udp / file
//! tcp = "127.0.0.1:10110"                  # NMEA over TCP (aggregator), reconnects with backoff
//! # udp = "0.0.0.0:10110"                  # NMEA datagrams
//! # file = "ais/gpsd-sample.nmea"          # replay, relative to the config file
//! speed = 10.0                             # replay speed-up (default 1)
//! repeat = true                            # replay again at the end (default false)
//! source = "ais:port"                      # feed name (default "ais:tcp:ADDR" / "ais:udp:ADDR" / "replay:ais:FILE")
//! rate_limit = 2000                        # lines/s (default none)
//!
//! [[sensors]]                              # fixed sensors: position and kind by id
//! id = "flood-bach-dang-03"
//! kind = "flood_sensor"
//! lon = 108.2243
//! lat = 16.0610
//! ```

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use serde_json::{json, Value};
use twin_core::Observation;
use twin_ingest::connectors::ais::{self as ais_conn, LineFeed, Replay, Timing};
use twin_ingest::connectors::mqtt::{self as mqtt_conn, MqttConfig};
use twin_ingest::connectors::{now_ms, ObservationSink, SinkError, SinkOutcome};
use twin_ingest::health::{FeedRegistry, FeedStatus, TokenBucket};
use twin_ingest::mqtt::{SensorConfig, SensorRegistry, TopicPattern};

use crate::state::AppState;
use crate::writer::{IngestHandle, SubmitError};

/// `[feeds]` of the city config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsSection {
    pub stale_factor: f64,
    pub http_rate_limit: Option<f64>,
}

impl Default for FeedsSection {
    fn default() -> Self {
        Self { stale_factor: 5.0, http_rate_limit: None }
    }
}

/// `[mqtt]` of the city config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSection {
    pub url: Option<String>,
    pub embedded_port: Option<u16>,
    pub topic: Option<String>,
    pub client_id: Option<String>,
    pub rate_limit: Option<f64>,
}

/// One `[[ais]]` of the city config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AisSection {
    pub tcp: Option<String>,
    pub udp: Option<String>,
    pub file: Option<PathBuf>,
    #[serde(default = "one")]
    pub speed: f64,
    #[serde(default)]
    pub repeat: bool,
    pub source: Option<String>,
    pub rate_limit: Option<f64>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("ais[{0}]: give exactly one of tcp, udp, file")]
    AisEndpoint(usize),
    #[error("ais[{index}] udp {addr}: {source}")]
    Udp { index: usize, addr: String, source: std::io::Error },
    #[error("mqtt.topic: {0}")]
    Topic(String),
    #[error("mqtt.url: {0}")]
    Url(#[from] mqtt_conn::MqttUrlError),
    #[error("embedded MQTT broker: {0}")]
    Broker(String),
}

/// The server's feed health: counters per source, HTTP rate limits, stale-feed alerts.
pub struct Feeds {
    pub registry: Arc<FeedRegistry>,
    http_rate: RwLock<Option<f64>>,
    http_buckets: Mutex<HashMap<String, TokenBucket>>,
    /// Recent `feed_stale` alerts, newest last.
    alerts: Mutex<VecDeque<Value>>,
}

const MAX_ALERTS: usize = 256;

impl Default for Feeds {
    fn default() -> Self {
        Self::new(&FeedsSection::default())
    }
}

impl Feeds {
    pub fn new(cfg: &FeedsSection) -> Self {
        Self {
            registry: Arc::new(FeedRegistry::new(cfg.stale_factor.max(1.0), 1000.0)),
            http_rate: RwLock::new(cfg.http_rate_limit.filter(|r| *r > 0.0)),
            http_buckets: Mutex::new(HashMap::new()),
            alerts: Mutex::new(VecDeque::new()),
        }
    }

    /// Applies `[feeds]`.
    pub fn configure(&self, cfg: &FeedsSection) {
        self.registry.set_stale_factor(cfg.stale_factor);
        self.set_http_rate_limit(cfg.http_rate_limit);
    }

    /// Sets the HTTP ingest rate limit (requests/s per route); None lifts it.
    pub fn set_http_rate_limit(&self, rate: Option<f64>) {
        *self.http_rate.write() = rate.filter(|r| *r > 0.0);
        self.http_buckets.lock().clear();
    }

    /// Ok, or the milliseconds to wait before retrying.
    fn admit_http(&self, source: &str, now: i64) -> Result<(), u64> {
        let Some(rate) = *self.http_rate.read() else { return Ok(()) };
        let mut buckets = self.http_buckets.lock();
        let bucket = buckets.entry(source.to_owned()).or_insert_with(|| TokenBucket::new(rate, rate.max(1.0)));
        bucket.try_take(now)
    }

    pub fn snapshot(&self) -> Vec<FeedStatus> {
        self.registry.snapshot(now_ms())
    }

    pub fn alerts(&self) -> Vec<Value> {
        self.alerts.lock().iter().cloned().collect()
    }

    /// Raises one `feed_stale` alert per feed that fell silent since the last check.
    pub fn check_stale(&self, now: i64) -> Vec<String> {
        let stale = self.registry.newly_stale(now);
        let mut alerts = self.alerts.lock();
        for source in &stale {
            tracing::warn!(%source, "feed is stale");
            if alerts.len() >= MAX_ALERTS {
                alerts.pop_front();
            }
            alerts.push_back(json!({"type": "feed_stale", "source": source, "time_ms": now}));
        }
        stale
    }
}

/// HTTP ingest routes are feeds too: counted per route and rate limited (429 + Retry-After).
pub async fn http_feed_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The matched route, not the raw path: unknown paths must not grow the feed table.
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let Some(route) = route.filter(|r| r.starts_with("/ingest/")) else {
        return next.run(req).await;
    };
    let source = format!("http:{route}");
    let now = now_ms();
    state.feeds.registry.register(&source, "http", now);
    state.feeds.registry.received(&source, now);
    if let Err(wait_ms) = state.feeds.admit_http(&source, now) {
        state.feeds.registry.throttled(&source);
        state.feeds.registry.rejected(&source, "rate_limited", 1);
        let secs = wait_ms.div_ceil(1000).clamp(1, 3600);
        let problem = crate::problem::Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("{source} is over its rate limit; retry in {secs} s"),
        );
        let mut res = problem.into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let res = next.run(req).await;
    let status = res.status();
    if status.is_success() {
        state.feeds.registry.accepted(&source, 1);
    } else {
        state.feeds.registry.rejected(&source, &format!("http_{}", status.as_u16()), 1);
    }
    res
}

impl ObservationSink for IngestHandle {
    async fn submit(&self, source: &str, batch: Vec<Observation>) -> Result<SinkOutcome, SinkError> {
        match IngestHandle::submit(self, source, batch).await {
            Ok(a) => Ok(SinkOutcome { accepted: a.accepted, rejected: a.rejected }),
            Err(SubmitError::QueueFull) => Err(SinkError::Full),
            Err(SubmitError::Unavailable(m)) => Err(SinkError::Closed(m)),
        }
    }
}

/// What the connectors' start-up gave: tasks, and the MQTT url in use (the embedded broker's, if any).
#[derive(Default)]
pub struct Started {
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    pub mqtt_url: Option<String>,
    pub topic: Option<TopicPattern>,
    pub udp_addrs: Vec<std::net::SocketAddr>,
}

/// Starts the MQTT connector (`mqtt`; an embedded broker when it has no `url`), the `[[ais]]`
/// connectors and the stale-feed monitor. Call inside a runtime.
pub async fn start(
    state: &AppState,
    mqtt: Option<&MqttSection>,
    ais: &[AisSection],
    sensors: &[SensorConfig],
    base_dir: &Path,
) -> Result<Started, FeedError> {
    let mut started = Started::default();
    if let Some(m) = mqtt {
        let pattern = match &m.topic {
            Some(t) => TopicPattern::parse(t).map_err(FeedError::Topic)?,
            None => TopicPattern::default(),
        };
        let url = match &m.url {
            Some(u) => u.clone(),
            None => {
                let addr = crate::broker::start(m.embedded_port.unwrap_or(1883)).map_err(FeedError::Broker)?;
                format!("mqtt://{addr}")
            }
        };
        let mut cfg = MqttConfig::new(url.clone());
        cfg.pattern = pattern.clone();
        cfg.sensors = Arc::new(SensorRegistry::new(sensors.iter().cloned()));
        cfg.rate_limit = m.rate_limit;
        if let Some(id) = &m.client_id {
            cfg.client_id = id.clone();
        }
        tracing::info!(%url, topic = %pattern.subscription(), "MQTT sensors connector");
        started.tasks.push(mqtt_conn::spawn(cfg, state.ingest.clone(), state.feeds.registry.clone())?);
        started.mqtt_url = Some(url);
        started.topic = Some(pattern);
    }
    for (i, a) in ais.iter().enumerate() {
        let health = state.feeds.registry.clone();
        let sink = state.ingest.clone();
        match (&a.tcp, &a.udp, &a.file) {
            (Some(addr), None, None) => {
                let source = a.source.clone().unwrap_or_else(|| format!("ais:tcp:{addr}"));
                let feed =
                    LineFeed::new(source, "ais-tcp", sink, health, Timing::Receiver).with_rate_limit(a.rate_limit);
                started.tasks.push(ais_conn::spawn_tcp(addr.clone(), feed));
            }
            (None, Some(addr), None) => {
                let source = a.source.clone().unwrap_or_else(|| format!("ais:udp:{addr}"));
                let feed =
                    LineFeed::new(source, "ais-udp", sink, health, Timing::Receiver).with_rate_limit(a.rate_limit);
                let (local, task) = ais_conn::spawn_udp(addr, feed).await.map_err(|source| FeedError::Udp {
                    index: i,
                    addr: addr.clone(),
                    source,
                })?;
                tracing::info!(%local, "AIS UDP listener");
                started.udp_addrs.push(local);
                started.tasks.push(task);
            }
            (None, None, Some(file)) => {
                let path = base_dir.join(file);
                let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let source = a.source.clone().unwrap_or_else(|| format!("replay:ais:{name}"));
                // An old capture replayed is shown as if live: arrival time, not the capture's.
                let feed =
                    LineFeed::new(source, "ais-replay", sink, health, Timing::Arrival).with_rate_limit(a.rate_limit);
                let replay =
                    Replay { path, speed: a.speed, uniform_interval: Duration::from_secs(1), repeat: a.repeat };
                started.tasks.push(ais_conn::spawn_replay(replay, feed));
            }
            _ => return Err(FeedError::AisEndpoint(i)),
        }
    }
    let feeds = state.feeds.clone();
    started.tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            feeds.check_stale(now_ms());
        }
    }));
    Ok(started)
}

/// Feed counters in the Prometheus text format (appended to `/metrics`).
pub fn render_metrics(feeds: &Feeds) -> String {
    use std::fmt::Write;
    let snap = feeds.snapshot();
    let mut s = String::new();
    let esc = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let _ = writeln!(s, "# HELP citytwin_feed_received_total Messages received, by feed.");
    let _ = writeln!(s, "# TYPE citytwin_feed_received_total counter");
    for f in &snap {
        let _ = writeln!(s, "citytwin_feed_received_total{{source=\"{}\"}} {}", esc(&f.source), f.received);
    }
    let _ = writeln!(s, "# HELP citytwin_feed_rejected_total Messages refused, by feed and reason.");
    let _ = writeln!(s, "# TYPE citytwin_feed_rejected_total counter");
    for f in &snap {
        for (reason, n) in &f.rejected {
            let _ = writeln!(
                s,
                "citytwin_feed_rejected_total{{source=\"{}\",reason=\"{}\"}} {n}",
                esc(&f.source),
                esc(reason)
            );
        }
    }
    let _ = writeln!(s, "# HELP citytwin_feed_stale Whether a feed is silent for longer than usual.");
    let _ = writeln!(s, "# TYPE citytwin_feed_stale gauge");
    for f in &snap {
        let _ = writeln!(s, "citytwin_feed_stale{{source=\"{}\"}} {}", esc(&f.source), u8::from(f.stale));
    }
    s
}
