//! MQTT sensor connector (rumqttc): QoS 1, persistent session, manual acks after the batch is durable.
//!
//! Guarantee: a message is acknowledged to the broker only after the sink resolved it (accepted
//! or refused as invalid), so a crash or disconnect before that makes the broker deliver it again.
//! While the sink is full the event loop is not polled: the broker keeps the messages.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::task::JoinHandle;
use twin_core::Timestamp;

use super::{now_ms, submit_with_backpressure, ObservationSink, Pacer};
use crate::health::FeedRegistry;
use crate::mqtt::{decode, SensorRegistry, TopicPattern};

/// Connection settings and decoding context of one MQTT feed.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    /// `mqtt://host:port`, `tcp://host:port` or `host:port` (port 1883 by default).
    pub url: String,
    /// Stable id: the broker keeps the session (subscriptions, unacked messages) under it.
    pub client_id: String,
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

fn options(cfg: &MqttConfig) -> Result<MqttOptions, MqttUrlError> {
    let (host, port) = parse_url(&cfg.url)?;
    let mut opts = MqttOptions::new(cfg.client_id.clone(), host, port);
    opts.set_clean_session(false);
    opts.set_manual_acks(true);
    opts.set_keep_alive(cfg.keep_alive.max(Duration::from_secs(5)));
    Ok(opts)
}

/// Starts the connector; it runs until the sink closes.
pub fn spawn<S: ObservationSink>(
    cfg: MqttConfig,
    sink: S,
    health: Arc<FeedRegistry>,
) -> Result<JoinHandle<()>, MqttUrlError> {
    let opts = options(&cfg)?;
    health.register(&cfg.source, "mqtt", now_ms());
    // Small request queue: subscriptions and acks only.
    let (client, eventloop) = AsyncClient::new(opts, 64);
    Ok(tokio::spawn(run(cfg, client, eventloop, sink, health)))
}

async fn run<S: ObservationSink>(
    cfg: MqttConfig,
    client: AsyncClient,
    mut eventloop: EventLoop,
    sink: S,
    health: Arc<FeedRegistry>,
) {
    let filter = cfg.pattern.subscription();
    let pacer = Pacer::new(cfg.rate_limit);
    let mut reconnect_pause = Duration::from_millis(200);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                reconnect_pause = Duration::from_millis(200);
                health.connection(&cfg.source, true, None);
                tracing::info!(url = %cfg.url, session_present = ack.session_present, %filter, "MQTT connected");
                // Every (re)connect: the broker may have lost the session.
                if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                    tracing::warn!(error = %e, "MQTT subscribe could not be queued");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                pacer.admit(&health, &cfg.source).await;
                let now = now_ms();
                health.received(&cfg.source, now);
                match decode(&p.topic, &p.payload, &cfg.pattern, &cfg.sensors, Timestamp::from_millis(now)) {
                    Ok(obs) => {
                        if let Err(e) = submit_with_backpressure(&sink, &health, &cfg.source, vec![obs]).await {
                            // Not acked: the broker redelivers to the next run.
                            tracing::error!(error = %e, "ingest closed; MQTT connector stops");
                            return;
                        }
                    }
                    Err(e) => {
                        health.rejected(&cfg.source, e.reason(), 1);
                        tracing::debug!(topic = %p.topic, error = %e, "MQTT message refused");
                    }
                }
                // Acked only now: durable, or refused for good (garbage is not redelivered forever).
                if let Err(e) = client.try_ack(&p) {
                    tracing::warn!(error = %e, "MQTT ack could not be queued");
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

/// A small publishing client (used by the demo's simulated sensors): QoS 1, its own event loop.
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
}

impl Publisher {
    pub fn connect(url: &str, client_id: &str) -> Result<(Self, JoinHandle<()>), MqttUrlError> {
        let (host, port) = parse_url(url)?;
        let mut opts = MqttOptions::new(client_id, host, port);
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
