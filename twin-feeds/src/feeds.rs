//! Feed health and the network connectors' config: `[feeds]`, `[mqtt]`, `[[ais]]`, `[[sensors]]`.
//!
//! ```toml
//! [feeds]                                  # all optional
//! stale_factor = 5.0                       # stale after 5 × the feed's usual interval (default 5)
//! http_rate_limit = 200                    # requests/s per HTTP ingest route, then 429 (default none)
//!
//! [mqtt]                                   # MQTT sensors (twin_ingest::mqtt documents the payload)
//! url = "mqtt://127.0.0.1:1883"            # external broker; without `url` an embedded broker starts
//!                                          # (it admits device accounts and the server's own clients only)
//! username = "citytwin"                    # login at the external broker (default: anonymous)
//! password_env = "CITYTWIN_MQTT_PASSWORD"  # its password from this variable, or `password = "…"`
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;

use twin_core::rules::{AlertSubject, RaiseAlert, RuleKind, Severity};
use twin_core::{ActorId, EntityKind, Position, PropertyValue, Timestamp, Twin};
use twin_ingest::health::{FeedRegistry, FeedStatus, TokenBucket};
use twin_ingest::mqtt::{SensorConfig, SensorRegistry, TopicPattern};
use twin_runtime::metrics::escape_label;
use twin_runtime::Core;

use crate::ais::{self as ais_conn, LineFeed, Replay, Timing};
use crate::broker::BrokerAuth;
use crate::mqtt::{self as mqtt_conn, Credentials, MqttConfig};
use crate::sink::now_ms;

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
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSection {
    pub url: Option<String>,
    /// Login at the external broker (`url`); the embedded broker has its own.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Environment variable holding the password (keeps it out of the config file).
    pub password_env: Option<String>,
    pub embedded_port: Option<u16>,
    pub topic: Option<String>,
    pub client_id: Option<String>,
    pub rate_limit: Option<f64>,
}

impl std::fmt::Debug for MqttSection {
    // A logged config must not carry the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSection")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_env", &self.password_env)
            .field("embedded_port", &self.embedded_port)
            .field("topic", &self.topic)
            .field("client_id", &self.client_id)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl MqttSection {
    /// The configured login at the external broker, with its password read from `password_env`
    /// when given that way. None: anonymous.
    pub fn login(&self) -> Result<Option<Credentials>, FeedError> {
        let Some(username) = &self.username else {
            if self.password.is_some() || self.password_env.is_some() {
                return Err(FeedError::Login("mqtt.password: needs mqtt.username"));
            }
            return Ok(None);
        };
        if self.url.is_none() {
            return Err(FeedError::Login(
                "mqtt.username: only for an external broker (mqtt.url); the embedded broker makes its own",
            ));
        }
        if username.is_empty() {
            return Err(FeedError::Login("mqtt.username: empty"));
        }
        let password = match (&self.password, &self.password_env) {
            (Some(_), Some(_)) => return Err(FeedError::Login("mqtt.password, mqtt.password_env: give one, not both")),
            (Some(p), None) => p.clone(),
            (None, Some(var)) => {
                std::env::var(var).map_err(|e| FeedError::PasswordEnv { var: var.clone(), source: e })?
            }
            // MQTT allows a user name without a password.
            (None, None) => String::new(),
        };
        Ok(Some(Credentials { username: username.clone(), password }))
    }
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
    Topic(#[from] twin_ingest::mqtt::TopicPatternError),
    #[error("mqtt.url: {0}")]
    Url(#[from] mqtt_conn::MqttUrlError),
    #[error("{0}")]
    Login(&'static str),
    #[error("mqtt.password_env: environment variable {var}: {source}")]
    PasswordEnv { var: String, source: std::env::VarError },
    #[error("embedded MQTT broker: {0}")]
    Broker(#[from] crate::broker::BrokerError),
}

/// The server's feed health: counters per source, HTTP rate limits, stale-feed alerts, and the
/// feeds the server publishes itself (the demo's GTFS-realtime feeds).
pub struct Feeds {
    pub registry: Arc<FeedRegistry>,
    http_rate: RwLock<Option<f64>>,
    http_buckets: Mutex<HashMap<String, TokenBucket>>,
    published: RwLock<HashMap<String, Published>>,
}

/// How often the monitor looks for feeds that fell silent.
const STALE_CHECK_EVERY: Duration = Duration::from_secs(5);
/// Rule name of stale-feed alerts.
pub const FEED_STALE_RULE: &str = "feed_stale";

/// Source name of the observations OsmAnd trackers send (`/ingest/osmand`).
pub const OSMAND_SOURCE: &str = "osmand";
/// Source name of citizen-report observations.
pub const REPORTS_SOURCE: &str = "citizen_reports";
/// Feed name of citizen reports (`POST /api/reports`) in `/api/feeds`.
pub const REPORTS_FEED: &str = "reports";

/// One version of a feed the server publishes over HTTP (`GET /demo/gtfs-rt/{file}`).
#[derive(Debug, Clone)]
pub struct Published {
    pub body: bytes::Bytes,
    /// Strong validator, quoted.
    pub etag: String,
    /// Unix seconds (HTTP dates have no finer resolution).
    pub modified_s: i64,
    pub content_type: &'static str,
}

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
            published: RwLock::new(HashMap::new()),
        }
    }

    /// Publishes a new version of feed `name`. The ETag covers the body and `edition`, so a
    /// republished identical body (a replay's next cycle) is a new version to pollers.
    pub fn publish(&self, name: &str, body: Vec<u8>, modified_s: i64, edition: u64, content_type: &'static str) {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        body.hash(&mut h);
        edition.hash(&mut h);
        let etag = format!("\"{:016x}\"", h.finish());
        let version = Published { body: body.into(), etag, modified_s, content_type };
        self.published.write().insert(name.to_owned(), version);
    }

    /// The current version of a published feed.
    pub fn published(&self, name: &str) -> Option<Published> {
        self.published.read().get(name).cloned()
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
    pub fn admit_http(&self, source: &str, now: i64) -> Result<(), u64> {
        let Some(rate) = *self.http_rate.read() else { return Ok(()) };
        let mut buckets = self.http_buckets.lock();
        let bucket = buckets.entry(source.to_owned()).or_insert_with(|| TokenBucket::new(rate, rate.max(1.0)));
        bucket.try_take(now)
    }

    pub fn snapshot(&self) -> Vec<FeedStatus> {
        self.registry.snapshot(now_ms())
    }

    /// The feeds that fell silent since the last check (each silence once).
    pub fn check_stale(&self, now: i64) -> Vec<String> {
        self.check_stale_in(now, None)
            .into_iter()
            .filter_map(|a| match a.subject {
                AlertSubject::Feed { name, .. } => Some(name),
                _ => None,
            })
            .collect()
    }

    /// Like [`Feeds::check_stale`], returning the alerts to log. With the model, each alert carries
    /// the kind and last position of the entities the feed reported (so map clients can place and
    /// filter it); without, or for a feed that reported none, it is an `incident` with no position.
    pub fn check_stale_in(&self, now: i64, twin: Option<&RwLock<Twin>>) -> Vec<RaiseAlert> {
        let stale = self.registry.newly_stale(now);
        if stale.is_empty() {
            return Vec::new();
        }
        let snapshot = self.registry.snapshot(now);
        let mut out = Vec::with_capacity(stale.len());
        for source in stale {
            let (kind, position) =
                twin.map(|t| feed_footprint(&t.read(), &source)).unwrap_or((EntityKind::Incident, None));
            let status = snapshot.iter().find(|f| f.source == source);
            let silent_s = status.and_then(|f| f.last_message_ms).map(|l| (now - l).max(0) / 1000);
            let usual = status.and_then(|f| f.usual_interval_s);
            let message = match (silent_s, usual) {
                (Some(s), Some(u)) => format!("feed {source} is stale: silent for {s} s (usually every {u:.1} s)"),
                (Some(s), None) => format!("feed {source} is stale: silent for {s} s"),
                _ => format!("feed {source} is stale"),
            };
            tracing::warn!(%source, "feed is stale");
            let subject = AlertSubject::Feed { name: source, kind };
            let mut alert = RaiseAlert::new(
                Timestamp::from_millis(now),
                RuleKind::FeedStale,
                FEED_STALE_RULE,
                Severity::Moderate,
                subject,
                message,
            );
            alert.position = position;
            if let Some(s) = silent_s {
                alert.detail.insert("silent_s".into(), PropertyValue::Int(s));
            }
            if let Some(u) = usual {
                alert.detail.insert("usual_interval_s".into(), PropertyValue::Float(u));
            }
            out.push(alert);
        }
        out
    }
}

/// The most common kind among the entities `source` reported, and the position of the one it
/// reported last.
fn feed_footprint(twin: &Twin, source: &str) -> (EntityKind, Option<Position>) {
    // HTTP feeds are named by route; their observations by the route's source name.
    let source = match source {
        "http:/ingest/observations" => "http",
        "http:/ingest/osmand" => OSMAND_SOURCE,
        REPORTS_FEED => REPORTS_SOURCE,
        other => other,
    };
    let mut counts = [0usize; EntityKind::COUNT];
    let mut latest: Option<(Timestamp, Option<Position>)> = None;
    for e in twin.entities().filter(|e| e.source == source) {
        counts[e.kind.index()] += 1;
        if latest.is_none_or(|(t, _)| e.last_seen > t) {
            latest = Some((e.last_seen, e.position));
        }
    }
    let kind = (0..EntityKind::COUNT)
        .filter(|i| counts[*i] > 0)
        .max_by_key(|i| counts[*i])
        .and_then(EntityKind::from_index)
        .unwrap_or(EntityKind::Incident);
    (kind, latest.and_then(|(_, p)| p))
}

/// Logs stale-feed alerts through the writer: the model numbers them with the rule alerts and
/// the live hub publishes them. A full queue is retried by the next check (the silence is still
/// there); a stopped writer ends the monitor's work for this round.
pub async fn raise_alerts(core: &Core, alerts: Vec<RaiseAlert>) {
    for alert in alerts {
        if let Err(e) = core.ingest.raise_alert(ActorId::system(), alert).await {
            tracing::warn!(error = %e, "stale-feed alert not logged");
        }
    }
}

/// What the connectors' start-up gave: tasks, and the MQTT url in use (the embedded broker's, if any).
#[derive(Default)]
pub struct Started {
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    pub mqtt_url: Option<String>,
    /// The login the server's own MQTT clients use there: the embedded broker's internal
    /// credential, or the configured one of an external broker.
    pub mqtt_login: Option<Credentials>,
    pub topic: Option<TopicPattern>,
    pub udp_addrs: Vec<std::net::SocketAddr>,
}

/// Starts the MQTT connector (`mqtt`; an embedded broker when it has no `url`, admitting the
/// devices `broker_auth` accepts), the `[[ais]]` connectors and the stale-feed monitor. Call
/// inside a runtime.
pub async fn start(
    core: &Core,
    feeds: &Arc<Feeds>,
    mqtt: Option<&MqttSection>,
    broker_auth: Arc<dyn BrokerAuth>,
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
        let login = m.login()?;
        let (url, login) = match &m.url {
            Some(u) => (u.clone(), login),
            None => {
                let broker = crate::broker::start(m.embedded_port.unwrap_or(1883), broker_auth)?;
                (format!("mqtt://{}", broker.addr), Some(broker.internal))
            }
        };
        let mut cfg = MqttConfig::new(url.clone());
        cfg.login = login.clone();
        cfg.pattern = pattern.clone();
        cfg.sensors = Arc::new(SensorRegistry::new(sensors.iter().cloned()));
        cfg.rate_limit = m.rate_limit;
        if let Some(id) = &m.client_id {
            cfg.client_id = id.clone();
        }
        tracing::info!(%url, topic = %pattern.subscription(), "MQTT sensors connector");
        started.tasks.push(mqtt_conn::spawn(cfg, core.ingest.clone(), feeds.registry.clone())?);
        started.mqtt_url = Some(url);
        started.mqtt_login = login;
        started.topic = Some(pattern);
    }
    for (i, a) in ais.iter().enumerate() {
        let health = feeds.registry.clone();
        let sink = core.ingest.clone();
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
    let (monitor, feeds) = (core.clone(), feeds.clone());
    started.tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(STALE_CHECK_EVERY);
        loop {
            tick.tick().await;
            let alerts = feeds.check_stale_in(now_ms(), Some(&monitor.twin));
            raise_alerts(&monitor, alerts).await;
        }
    }));
    Ok(started)
}

/// Feed counters in the Prometheus text format (appended to `/metrics`).
pub fn render_metrics(feeds: &Feeds) -> String {
    use std::fmt::Write;
    let snap = feeds.snapshot();
    let mut s = String::new();
    let esc = escape_label;
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
