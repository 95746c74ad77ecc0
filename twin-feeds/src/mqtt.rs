//! MQTT sensor connector (rumqttc): QoS 1, persistent session, manual acks after the batch is durable.
//!
//! Guarantee: a message is acknowledged to the broker only after the sink resolved it (accepted
//! or refused as invalid), so a crash or disconnect before that makes the broker deliver it again.
//! Messages that arrive together are submitted as one batch (one log append, one fsync), not one
//! batch each. While the sink is full the event loop is not polled: the broker keeps the messages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::task::JoinHandle;
use twin_core::Timestamp;

use crate::sink::{now_ms, submit_with_backpressure, ObservationSink, Pacer};
use twin_ingest::health::FeedRegistry;
use twin_ingest::mqtt::{decode, SensorRegistry, TopicPattern};

/// A broker login: MQTT user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Logs and panics must not carry the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// Connection settings and decoding context of one MQTT feed.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    /// `mqtt://host:port`, `tcp://host:port` or `host:port` (port 1883 by default).
    pub url: String,
    /// Stable id: the broker keeps the session (subscriptions, unacked messages) under it.
    pub client_id: String,
    /// Login at the broker (None: anonymous).
    pub login: Option<Credentials>,
    pub pattern: TopicPattern,
    pub sensors: Arc<SensorRegistry>,
    /// Feed name in health counters and on observations.
    pub source: String,
    pub keep_alive: Duration,
    /// Messages per second before the connector slows down (None: no limit).
    pub rate_limit: Option<f64>,
}

impl MqttConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            client_id: "citytwin-ingest".into(),
            login: None,
            pattern: TopicPattern::default(),
            sensors: Arc::new(SensorRegistry::default()),
            source: "mqtt".into(),
            keep_alive: Duration::from_secs(30),
            rate_limit: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MqttUrlError {
    #[error("MQTT url {0:?}: expected mqtt://host:port")]
    Invalid(String),
}

/// `mqtt://host:port` → (host, port).
pub fn parse_url(url: &str) -> Result<(String, u16), MqttUrlError> {
    let rest = url.strip_prefix("mqtt://").or_else(|| url.strip_prefix("tcp://")).unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| MqttUrlError::Invalid(url.to_owned()))?),
        None => (rest, 1883),
    };
    if host.is_empty() || host.contains('/') {
        return Err(MqttUrlError::Invalid(url.to_owned()));
    }
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

/// Client options for `url`, logged in as `login` when given.
fn client_options(url: &str, client_id: &str, login: Option<&Credentials>) -> Result<MqttOptions, MqttUrlError> {
    let (host, port) = parse_url(url)?;
    let mut opts = MqttOptions::new(client_id, host, port);
    if let Some(l) = login {
        opts.set_credentials(l.username.clone(), l.password.clone());
    }
    Ok(opts)
}

fn options(cfg: &MqttConfig) -> Result<MqttOptions, MqttUrlError> {
    let mut opts = client_options(&cfg.url, &cfg.client_id, cfg.login.as_ref())?;
    opts.set_clean_session(false);
    opts.set_manual_acks(true);
    opts.set_keep_alive(cfg.keep_alive.max(Duration::from_secs(5)));
    Ok(opts)
}

/// Most messages decoded and submitted as one ingest batch.
pub const MAX_BATCH: usize = 256;
/// Client request queue: subscriptions and acks. Outstanding acks are bounded by the broker's
/// in-flight window for QoS 1, so this never fills while the connector waits on a batch.
const REQUEST_QUEUE: usize = 1024;

/// A received message and the connection it came on (its packet id means nothing on another).
struct Received {
    publish: rumqttc::Publish,
    connection: u64,
}

/// Starts the connector; it runs until the sink closes.
///
/// Two tasks: one polls the MQTT event loop and forwards messages over a small bounded channel,
/// the other takes every message already waiting (up to [`MAX_BATCH`]), decodes them, submits
/// them as one batch and acks each once the batch is resolved. While the sink is full the batch
/// task waits, the channel fills, the polling task stops reading and the broker holds the rest.
pub fn spawn<S: ObservationSink>(
    cfg: MqttConfig,
    sink: S,
    health: Arc<FeedRegistry>,
) -> Result<JoinHandle<()>, MqttUrlError> {
    let opts = options(&cfg)?;
    health.register(&cfg.source, "mqtt", now_ms());
    let (client, eventloop) = AsyncClient::new(opts, REQUEST_QUEUE);
    let (tx, rx) = tokio::sync::mpsc::channel(MAX_BATCH);
    let connection = Arc::new(AtomicU64::new(0));
    let reader =
        tokio::spawn(read_loop(cfg.clone(), client.clone(), eventloop, tx, health.clone(), connection.clone()));
    Ok(tokio::spawn(async move {
        // Stops reading when this task ends or is aborted (unacked messages stay with the broker).
        let _reader = AbortOnDrop(reader);
        batch_loop(cfg, client, rx, sink, health, connection).await;
    }))
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn read_loop(
    cfg: MqttConfig,
    client: AsyncClient,
    mut eventloop: EventLoop,
    tx: tokio::sync::mpsc::Sender<Received>,
    health: Arc<FeedRegistry>,
    connection: Arc<AtomicU64>,
) {
    let filter = cfg.pattern.subscription();
    let pacer = Pacer::new(cfg.rate_limit);
    let mut reconnect_pause = Duration::from_millis(200);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                connection.fetch_add(1, Ordering::SeqCst);
                reconnect_pause = Duration::from_millis(200);
                health.connection(&cfg.source, true, None);
                tracing::info!(url = %cfg.url, session_present = ack.session_present, %filter, "MQTT connected");
                // Every (re)connect: the broker may have lost the session.
                if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                    tracing::warn!(error = %e, "MQTT subscribe could not be queued");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                pacer.admit(&health, &cfg.source).await;
                let received = Received { publish, connection: connection.load(Ordering::SeqCst) };
                // Waits while the batch task is busy: backpressure reaches the broker.
                if tx.send(received).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                health.connection(&cfg.source, false, Some(e.to_string()));
                tracing::warn!(url = %cfg.url, error = %e, pause_ms = reconnect_pause.as_millis() as u64, "MQTT connection lost; reconnecting");
                tokio::time::sleep(reconnect_pause).await;
                reconnect_pause = (reconnect_pause * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn batch_loop<S: ObservationSink>(
    cfg: MqttConfig,
    client: AsyncClient,
    mut rx: tokio::sync::mpsc::Receiver<Received>,
    sink: S,
    health: Arc<FeedRegistry>,
    connection: Arc<AtomicU64>,
) {
    let mut messages = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        messages.push(first);
        while messages.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => messages.push(m),
                Err(_) => break,
            }
        }
        let now = now_ms();
        let mut batch = Vec::with_capacity(messages.len());
        for m in &messages {
            health.received(&cfg.source, now);
            let p = &m.publish;
            match decode(&p.topic, &p.payload, &cfg.pattern, &cfg.sensors, Timestamp::from_millis(now)) {
                Ok(obs) => batch.push(obs),
                Err(e) => {
                    health.rejected(&cfg.source, e.reason(), 1);
                    tracing::debug!(topic = %p.topic, error = %e, "MQTT message refused");
                }
            }
        }
        if let Err(e) = submit_with_backpressure(&sink, &health, &cfg.source, batch).await {
            // Not acked: the broker redelivers to the next run.
            tracing::error!(error = %e, "ingest closed; MQTT connector stops");
            return;
        }
        // Acked only now: durable, or refused for good (garbage is not redelivered forever).
        // Messages of an earlier connection are not acked: their packet ids may name other
        // messages now, and the broker redelivers them anyway.
        let current = connection.load(Ordering::SeqCst);
        for m in messages.drain(..) {
            if m.connection != current {
                continue;
            }
            if let Err(e) = client.ack(&m.publish).await {
                tracing::warn!(error = %e, "MQTT ack could not be queued");
            }
        }
    }
}

/// A small publishing client (used by the demo's simulated sensors): QoS 1, its own event loop.
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
}

impl Publisher {
    /// Connects anonymously.
    pub fn connect(url: &str, client_id: &str) -> Result<(Self, JoinHandle<()>), MqttUrlError> {
        Self::connect_as(url, client_id, None)
    }

    /// Connects logged in as `login` (None: anonymously).
    pub fn connect_as(
        url: &str,
        client_id: &str,
        login: Option<&Credentials>,
    ) -> Result<(Self, JoinHandle<()>), MqttUrlError> {
        let mut opts = client_options(url, client_id, login)?;
        opts.set_keep_alive(Duration::from_secs(30));
        let (client, mut eventloop) = AsyncClient::new(opts, 1024);
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = eventloop.poll().await {
                    tracing::warn!(error = %e, "MQTT publisher connection lost; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        });
        Ok((Self { client }, task))
    }

    /// Queues one QoS 1 message (waits while the client's queue is full).
    pub async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), rumqttc::ClientError> {
        self.client.publish(topic, QoS::AtLeastOnce, false, payload).await
    }
}
