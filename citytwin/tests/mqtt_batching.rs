//! The MQTT connector against the real Mosquitto on 127.0.0.1:1883: messages that wait together
//! go to the sink as one batch, a full sink slows the connector down without losing anything, and
//! messages are acked only once their batch is resolved (QoS 1: a connector that stops before
//! that gets them again on the same persistent session).
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::eventually;
use parking_lot::Mutex;
use tokio::sync::Notify;
use twin_core::Observation;
use twin_feeds::mqtt::{spawn, MqttConfig, Publisher};
use twin_feeds::sink::{ObservationSink, SinkError, SinkOutcome};
use twin_ingest::health::FeedRegistry;
use twin_ingest::mqtt::TopicPattern;

const BROKER: &str = "mqtt://127.0.0.1:1883";

/// Records every batch; holds the first one until released; answers `Full` the first `full` times
/// after that; `Closed` for every batch when `closed`.
#[derive(Clone, Default)]
struct Recorder {
    batches: Arc<Mutex<Vec<Vec<String>>>>,
    calls: Arc<AtomicUsize>,
    release: Arc<Notify>,
    hold_first: bool,
    full: usize,
    closed: bool,
}

impl ObservationSink for Recorder {
    async fn submit(&self, _source: &str, batch: Vec<Observation>) -> Result<SinkOutcome, SinkError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.closed {
            return Err(SinkError::Closed("test".into()));
        }
        if call == 0 && self.hold_first {
            self.release.notified().await;
        }
        if (1..=self.full).contains(&call) {
            return Err(SinkError::Full);
        }
        let ids: Vec<String> = batch.iter().map(|o| o.external_id.clone()).collect();
        let n = ids.len();
        self.batches.lock().push(ids);
        Ok(SinkOutcome { accepted: n, rejected: Vec::new() })
    }
}

impl Recorder {
    fn received(&self) -> Vec<String> {
        let mut all: Vec<String> = self.batches.lock().iter().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}

fn config(root: &str, client_id: &str) -> MqttConfig {
    let mut cfg = MqttConfig::new(BROKER);
    cfg.client_id = client_id.to_owned();
    cfg.pattern = TopicPattern::parse(&format!("{root}/{{kind}}/{{sensor_id}}")).unwrap();
    cfg
}

fn payload(i: usize) -> Vec<u8> {
    format!("{{\"value\": {}, \"unit\": \"m\", \"lon\": 108.2, \"lat\": 16.05}}", i as f64 / 100.0).into_bytes()
}

async fn connected(health: &FeedRegistry) {
    eventually("the connector to connect", || health.snapshot(0).iter().any(|f| f.connected == Some(true))).await;
    // The subscription follows the ConnAck.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn require_broker() {
    if TcpStream::connect("127.0.0.1:1883").is_err() {
        panic!("Mosquitto must listen on 127.0.0.1:1883 for this test");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_messages_are_submitted_as_one_batch_and_nothing_is_lost_when_the_sink_is_full() {
    require_broker();
    let root = format!("citytwin-batch-{}", std::process::id());
    let sink = Recorder { hold_first: true, full: 3, ..Recorder::default() };
    let health = Arc::new(FeedRegistry::default());
    let task = spawn(config(&root, &format!("{root}-in")), sink.clone(), health.clone()).unwrap();
    connected(&health).await;

    let (publisher, _pub_task) = Publisher::connect(BROKER, &format!("{root}-out")).unwrap();
    let n = 200;
    for i in 0..n {
        publisher.publish(&format!("{root}/flood_sensor/s{i:03}"), payload(i)).await.unwrap();
    }
    // While the first batch is held, the rest waits in the connector and at the broker.
    eventually("the first batch", || sink.calls.load(Ordering::SeqCst) >= 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sink.release.notify_one();

    eventually("every message", || sink.received().len() == n).await;
    let batches = sink.batches.lock().clone();
    let largest = batches.iter().map(Vec::len).max().unwrap();
    assert!(largest > 1, "messages were submitted one batch each: {batches:?}");
    assert!(batches.len() < n, "{} batches for {n} messages", batches.len());
    let f = &health.snapshot(0)[0];
    assert_eq!(f.received as usize, n);
    assert_eq!(f.accepted as usize, n);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_acked_only_after_their_batch_is_resolved() {
    require_broker();
    let root = format!("citytwin-ack-{}", std::process::id());
    let client_id = format!("{root}-in");
    // First run: the sink is closed, so nothing is acked and the connector stops.
    let closed = Recorder { closed: true, ..Recorder::default() };
    let health = Arc::new(FeedRegistry::default());
    let task = spawn(config(&root, &client_id), closed.clone(), health.clone()).unwrap();
    connected(&health).await;
    let (publisher, _pub_task) = Publisher::connect(BROKER, &format!("{root}-out")).unwrap();
    let n = 30;
    for i in 0..n {
        publisher.publish(&format!("{root}/flood_sensor/s{i:03}"), payload(i)).await.unwrap();
    }
    eventually("the closed sink to be tried", || closed.calls.load(Ordering::SeqCst) >= 1).await;
    eventually("the connector to stop", || task.is_finished()).await;
    // Give the broker the disconnect before the same session connects again.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Second run, same persistent session: every message comes again, then is acked.
    let sink = Recorder::default();
    let health = Arc::new(FeedRegistry::default());
    let task = spawn(config(&root, &client_id), sink.clone(), health.clone()).unwrap();
    eventually("the redelivered messages", || sink.received().len() == n).await;
    // The acks follow the batch; let them reach the broker before this connector goes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    task.abort();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Third run: all were acked, so nothing comes again. A sentinel published now arrives after
    // anything the session still held (the broker sends stored messages first), so once it is
    // in, the run has seen every redelivery there would be.
    let after = Recorder::default();
    let health = Arc::new(FeedRegistry::default());
    let task = spawn(config(&root, &client_id), after.clone(), health.clone()).unwrap();
    connected(&health).await;
    publisher.publish(&format!("{root}/flood_sensor/sentinel"), payload(0)).await.unwrap();
    eventually("the sentinel", || after.received().iter().any(|id| id == "sentinel")).await;
    assert_eq!(after.received(), ["sentinel"], "acked messages were delivered again");
    task.abort();
}
